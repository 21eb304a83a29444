"""Spiking temporal memory against the reference (published-algorithm) temporal memory: same
input, same seed -> the same active cells, winner cells and anomaly on every step."""
import numpy as np
import pytest

from neurosim.models.htm.spiking_temporal_memory import WINDOW, SpikingTemporalMemory
from neurosim.models.htm.temporal_memory import TemporalMemory

COLS, ACTIVE = 256, 12
PARAMS = dict(columns=COLS, cellsPerColumn=4, maxSegmentsPerCell=4, activationThreshold=8,
              minThreshold=6, maxNewSynapseCount=12, predictedSegmentDecrement=0.02, seed=5)


@pytest.fixture(scope="module")
def trained():
    """Both memories on three sequences sharing subsequences (high-order: C is followed by D or
    A depending on the context) with a random pattern after each, 25 passes."""
    spiking, reference = SpikingTemporalMemory(**PARAMS), TemporalMemory(**PARAMS)
    rng = np.random.default_rng(1)
    code = {c: np.sort(rng.choice(COLS, ACTIVE, replace=False)) for c in "ABCDEFXYZ"}
    log = {"steps": 0, "cells": 0, "winners": 0, "anomaly": 0, "predicted": 0, "bursting": 0}
    for _ in range(25):
        for seq in ("ABCDE", "XBCDY", "ZFCA"):
            inputs = [code[ch] for ch in seq] + [np.sort(rng.choice(COLS, ACTIVE, replace=False))]
            for cols in inputs:
                a, b = spiking.compute(cols), reference.compute(cols)
                log["steps"] += 1
                log["cells"] += np.array_equal(a, b)
                log["winners"] += np.array_equal(spiking.getWinnerCells(), reference.getWinnerCells())
                log["anomaly"] += spiking.anomaly == reference.anomaly
                log["predicted"] += spiking.anomaly == 0.0
                log["bursting"] += spiking.anomaly == 1.0
            spiking.reset()
            reference.reset()
    return spiking, reference, code, log


def test_same_activity_as_reference(trained):
    spiking, reference, _, log = trained
    n = log["steps"]
    assert n == 25 * 17
    # measured agreement: every step, every cell
    assert log["cells"] == log["winners"] == log["anomaly"] == n
    assert spiking.mismatches == 0
    # the comparison is not trivial: the sequences were learned (fully predicted steps) and
    # the random patterns and first elements burst
    assert log["predicted"] > 0.4 * n and log["bursting"] > 0.2 * n
    assert spiking.numSegments() == reference.numSegments() > 100
    assert spiking.numSynapses() == reference.numSynapses()
    assert spiking.weight_updates > 5


def test_predicted_cells_fire_first_and_inhibit_the_rest(trained):
    spiking, reference, code, _ = trained
    for ch in "XBCD":                              # learned context: D predicted after X-B-C
        cells = spiking.compute(code[ch], learn=False)
        assert np.array_equal(cells, reference.compute(code[ch], learn=False))
    times, ids = spiking.sim.results.spikes("cells", segment=-1)
    t0 = spiking.sim.t - WINDOW
    assert np.all(times - t0 == 8.0)               # only the predicted cells fired, at 8 ms
    assert len(ids) == ACTIVE                      # one cell per column (the context's cell)
    assert np.array_equal(np.unique(ids // 4), code["D"])
    _, units = spiking.sim.results.spikes("units", segment=-1)
    assert len(units) >= ACTIVE                    # the segments that predicted D fired
    spiking.reset()
    reference.reset()
    cells = spiking.compute(code["D"], learn=False)   # no context: every cell of the columns bursts
    times, ids = spiking.sim.results.spikes("cells", segment=-1)
    assert np.all(times - (spiking.sim.t - WINDOW) == 11.0) and len(ids) == 4 * ACTIVE
    assert np.array_equal(cells, reference.compute(code["D"], learn=False))
    spiking.reset()
    reference.reset()


def test_input_checks():
    tm = SpikingTemporalMemory(columns=16, cellsPerColumn=2, maxSegmentsPerCell=2, activationThreshold=2,
                               minThreshold=1, maxNewSynapseCount=3)
    with pytest.raises(ValueError):
        tm.compute([16])
    assert len(tm.compute([])) == 0 and tm.anomaly == 0.0
    assert np.array_equal(tm.compute([1, 3]), [2, 3, 6, 7])   # first step: both columns burst
