"""HTM anomaly detector for NAB: encoders -> spatial pooler -> temporal memory -> raw anomaly ->
anomaly likelihood, as Numenta's NAB detectors.  Two recipes, both from NuPIC's
``getScalarMetricWithTimeOfDayAnomalyParams``:

* ``"numenta"`` (:data:`NAB_PARAMS`, the default; NAB's ``numenta_detector.py``, 70.1 on the
  scoreboard): ``tmImplementation="cpp"``, i.e. NuPIC's backtracking TM
  (:mod:`.backtracking_tm`) with the ``..._params_cpp.json`` parameters: 32 cells per column,
  activation threshold 13, min threshold 10, 20 new synapses, initial permanence 0.21,
  +0.1 / -0.1, 128 segments x 32 synapses, pamLength 3;
* ``"numentaTM"`` (:data:`NAB_TM_PARAMS`; NAB's ``numentaTM_detector.py``, 64.6; htm.core's
  ``htmcore_detector.py`` follows it): ``tmImplementation="tm_cpp"``, the BAMI temporal memory
  (:mod:`.temporal_memory`) with the parameters below.

Shared by both:

* value: random distributed scalar encoder, 400 bits, 21 active, resolution
  max(0.001, range / 130) where the range is the file's [min, max] padded by 20 % each side;
  ``"numenta"`` uses NuPIC's RDSE (:class:`.encoders.NupicRDSE`, bucket codes grown one
  neighbour at a time, offset = the first value), ``"numentaTM"`` the hashing :class:`.encoders.RDSE`;
* timestamp: time of day, 21 bits, radius 9.49 h;
* spatial pooler: 2048 columns, 40 active, potentialPct 0.8, synPermConnected 0.2,
  increments 0.003 / 0.0005, no boosting, learning throughout;
* temporal memory ("numentaTM"): 32 cells per column, activation threshold 20, min threshold 13, 31 new
  synapses, initial permanence 0.24, +0.04 / -0.008, predicted-segment decrement 0.001,
  128 segments x 128 synapses;
* anomaly likelihood with learningPeriod = probationary period / 2, estimationSamples = the rest,
  re-estimated every 100 records, with NuPIC 0.5.6's one-sided Gaussian tail P(sample > x) (the
  version that produced NAB's published ``numenta`` / ``numentaTM`` results; ``two_sided=True``
  is NuPIC >= 0.6.0); the score is its log-likelihood;
* a value more than 5 % of the range seen so far outside that range scores 1 ("spatial anomaly").

Any temporal memory with ``compute(active_columns, learn)`` and an ``anomaly`` attribute can be
passed in (e.g. a spiking one).
"""
import math

import numpy as np

from .encoders import RDSE, DateEncoder, NupicRDSE, concatenate
from .backtracking_tm import NUPIC_CPP_TM_PARAMS, BacktrackingTM
from .nab import AnomalyLikelihood
from .spatial_pooler import SpatialPooler
from .temporal_memory import TemporalMemory

__all__ = ["NAB_PARAMS", "NAB_TM_PARAMS", "DETECTORS", "HTMAnomalyDetector", "detect_series"]

NAB_TM_PARAMS = {
    "value": {"size": 400, "activeBits": 21, "numBuckets": 130, "minResolution": 0.001, "padding": 0.2, "seed": 42},
    "time": {"timeOfDay": (21, 9.49)},
    "sp": dict(columnDimensions=(2048,), potentialPct=0.8, localAreaDensity=0, numActiveColumnsPerInhArea=40,
               synPermConnected=0.2, synPermActiveInc=0.003, synPermInactiveDec=0.0005, boostStrength=0.0,
               seed=1956),
    "tm": dict(cellsPerColumn=32, activationThreshold=20, minThreshold=13, maxNewSynapseCount=31,
               initialPermanence=0.24, connectedPermanence=0.5, permanenceIncrement=0.04,
               permanenceDecrement=0.008, predictedSegmentDecrement=0.001, maxSegmentsPerCell=128,
               maxSynapsesPerSegment=128, seed=1960),
    "likelihood": {"reestimationPeriod": 100, "two_sided": False},
    "spatial_tolerance": 0.05,
    "tm_impl": "tm",
}
NAB_PARAMS = {**NAB_TM_PARAMS, "value": {**NAB_TM_PARAMS["value"], "encoder": "nupic"},
              "tm": dict(NUPIC_CPP_TM_PARAMS), "tm_impl": "backtracking"}
DETECTORS = {"numenta": NAB_PARAMS, "numentaTM": NAB_TM_PARAMS}


class HTMAnomalyDetector:
    def __init__(self, input_min, input_max, probationary_period, params=None, use_likelihood=True,
                 use_spatial=True, temporal_memory=None):
        p = params or NAB_PARAMS
        vp = p["value"]
        pad = abs(input_max - input_min) * vp["padding"]
        lo, hi = input_min - pad, input_max + pad
        if lo == hi:
            hi = lo + 1
        resolution = max(vp["minResolution"], (hi - lo) / vp["numBuckets"])
        if vp.get("encoder") == "nupic":
            self.value_encoder = NupicRDSE(resolution, w=vp["activeBits"], n=vp["size"], seed=vp["seed"])
        else:
            self.value_encoder = RDSE(vp["size"], activeBits=vp["activeBits"], resolution=resolution, seed=vp["seed"])
        self.time_encoder = DateEncoder(**p["time"])
        self.sizes = [self.value_encoder.size, self.time_encoder.size]
        self.sp = SpatialPooler(inputDimensions=(sum(self.sizes),), potentialRadius=sum(self.sizes), **p["sp"])
        if temporal_memory is not None:
            self.tm = temporal_memory
        elif p.get("tm_impl") == "backtracking":
            self.tm = BacktrackingTM(columns=self.sp.numColumns, **p["tm"])
        else:
            self.tm = TemporalMemory(columns=self.sp.numColumns, **p["tm"])
        self.use_likelihood, self.use_spatial = use_likelihood, use_spatial
        learning = int(math.floor(probationary_period / 2.0))
        self.likelihood = AnomalyLikelihood(learningPeriod=learning,
                                            estimationSamples=int(probationary_period) - learning,
                                            **p["likelihood"])
        self.tolerance = p["spatial_tolerance"]
        self.min_seen = self.max_seen = None

    def handle(self, timestamp, value):
        """Process one record (``timestamp`` a datetime); returns (final score, raw anomaly)."""
        bits = concatenate([self.value_encoder.encode(value), self.time_encoder.encode(timestamp)], self.sizes)
        self.tm.compute(self.sp.compute(bits, learn=True), learn=True)
        raw = float(self.tm.anomaly)
        spatial = False
        if self.use_spatial:
            if self.min_seen is not None and self.min_seen != self.max_seen:
                tol = (self.max_seen - self.min_seen) * self.tolerance
                spatial = value > self.max_seen + tol or value < self.min_seen - tol
            self.max_seen = value if self.max_seen is None else max(self.max_seen, value)
            self.min_seen = value if self.min_seen is None else min(self.min_seen, value)
        score = raw
        if self.use_likelihood:
            score = self.likelihood.computeLogLikelihood(self.likelihood.anomalyProbability(value, raw, timestamp))
        return (1.0 if spatial else score), raw


def detect_series(timestamps, values, probationary_period, **kwargs):
    """Run a fresh detector over a series; returns (final scores, raw anomaly scores)."""
    values = np.asarray(values, dtype=float)
    det = HTMAnomalyDetector(float(values.min()), float(values.max()), probationary_period, **kwargs)
    times = np.asarray(timestamps).astype("datetime64[s]").astype(object)
    scores, raws = np.zeros(len(values)), np.zeros(len(values))
    for i, (t, v) in enumerate(zip(times, values)):
        scores[i], raws[i] = det.handle(t, float(v))
    return scores, raws
