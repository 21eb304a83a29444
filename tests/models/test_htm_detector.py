"""The NAB HTM detector on a synthetic periodic series: learning, likelihood, spatial anomalies."""
import math

import numpy as np

from neurosim.models.htm.detector import detect_series


def series(n=1500):
    ts = np.datetime64("2021-03-01T00:00") + np.arange(n) * np.timedelta64(5, "m")
    x = 50 + 20 * np.sin(2 * np.pi * np.arange(n) / 48.0)      # a 4-hour cycle
    return ts, x


def test_detector_learns_a_rhythm():
    ts, x = series()
    scores, raw = detect_series(ts, x, probationary_period=225)
    assert np.all((scores >= 0) & (scores <= 1)) and np.all((raw >= 0) & (raw <= 1))
    assert raw[:10].mean() > 0.9                                # everything is new at first
    assert raw[900:].mean() < 0.1                               # the rhythm has been learned
    assert np.allclose(scores[60:225], math.log(0.5000000001) / -23.02585084720009)  # likelihood 0.5
    assert scores[900:].max() < 0.5                             # no alarm on the learned rhythm


def test_spatial_anomaly_and_switches():
    ts, x = series(n=400)
    x[300] = 500.0                                              # far above anything seen so far
    scores, _ = detect_series(ts, x, probationary_period=60)
    assert scores[300] == 1.0
    plain, raw = detect_series(ts, x, probationary_period=60, use_likelihood=False, use_spatial=False)
    assert np.array_equal(plain, raw)


def test_numenta_tm_recipe():
    """NAB's numentaTM recipe (the BAMI temporal memory) learns the rhythm too."""
    from neurosim.models.htm.detector import NAB_TM_PARAMS
    ts, x = series(n=1000)
    _, raw = detect_series(ts, x, probationary_period=150, params=NAB_TM_PARAMS)
    assert raw[:48].mean() > 0.9 and raw[800:].mean() < 0.1
