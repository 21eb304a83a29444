"""A learned temporal memory exported with frozen weights as standard PyNN cells
(neurosim.models.htm.pynn_export): the decoded active and predicted cells against the reference
temporal memory run with learn=False (an independent implementation), on numba and nest; the
network maps on the SpiNNaker virtual board.  Nothing is skipped: a backend that cannot be
imported fails."""
import warnings

import numpy as np
import pytest

from neurosim.models.htm import pynn_export as X
from neurosim.models.htm.spiking_temporal_memory import SpikingTemporalMemory
from neurosim.models.htm.temporal_memory import TemporalMemory

COLS, ACTIVE, CPC = 128, 10, 4
PARAMS = dict(columns=COLS, cellsPerColumn=CPC, maxSegmentsPerCell=4, activationThreshold=8,
              minThreshold=6, maxNewSynapseCount=12, predictedSegmentDecrement=0.02, seed=5)


def _reference(tm, steps):
    """The reference TM on the test sequence, frozen: active cells, predicted cells, anomaly."""
    tm.reset()
    active, predicted, anomaly = [], [], []
    for cols in steps:
        active.append(np.sort(tm.compute(cols, learn=False)).astype(np.int64))
        predicted.append(tm.getPredictiveCells())
        anomaly.append(tm.anomaly)
    tm.reset()
    return dict(active=active, predicted=predicted, anomaly=anomaly)


def _same(a, b):
    return [bool(np.array_equal(x, y)) for x, y in zip(a, b)]


@pytest.fixture(scope="module")
def learned():
    """A reference TM after 30 passes over three high-order sequences (C is followed by D or A
    depending on the context) with a random pattern after each; a 21-step test sequence with
    the learned contexts, a random pattern and two empty steps (resets)."""
    tm = TemporalMemory(**PARAMS)
    rng = np.random.default_rng(1)
    code = {c: np.sort(rng.choice(COLS, ACTIVE, replace=False)) for c in "ABCDEFXYZ"}
    for _ in range(30):
        for seq in ("ABCDE", "XBCDY", "ZFCA"):
            for ch in seq:
                tm.compute(code[ch])
            tm.compute(rng.choice(COLS, ACTIVE, replace=False))
            tm.reset()
    noise = rng.choice(COLS, ACTIVE, replace=False)
    steps = ([code[c] for c in "ABCDE"] + [[]] + [code[c] for c in "XBCDY"] + [noise]
             + [code[c] for c in "ZFCAB"] + [[]] + [code[c] for c in "BCD"])
    return tm, steps, _reference(tm, steps)


@pytest.fixture(scope="module")
def numba_run(learned):
    tm, steps, _ = learned
    return X.run(tm, steps, backend="numba")


def test_numba_reproduces_the_reference_tm(learned, numba_run):
    tm, steps, ref = learned
    out = numba_run
    n = len(steps)
    assert n == 21
    assert _same(out["active"], ref["active"]) == [True] * n
    assert _same(out["predicted"], ref["predicted"]) == [True] * n
    assert np.allclose(out["anomaly"], ref["anomaly"])
    assert out["off_time"] == 0                      # every spike at its scheme time
    # not trivial: predicted steps (one cell per column), bursting steps, predictions in
    # columns that do not become active, predictions cleared by the empty steps
    assert sum(a == 0.0 for a in ref["anomaly"]) >= 10 and sum(a == 1.0 for a in ref["anomaly"]) >= 4
    predicted_steps = [t for t in range(1, n) if ref["anomaly"][t] == 0.0 and len(steps[t])]
    # a predicted column fires only its predicted cells (the others are silenced)
    assert all(np.isin(ref["active"][t], ref["predicted"][t - 1]).all() for t in predicted_steps)
    assert sum(len(ref["active"][t]) == ACTIVE for t in predicted_steps) >= 8
    assert max(len(ref["active"][t]) for t in predicted_steps) == 2 * ACTIVE    # two contexts predicted
    wrong = [np.setdiff1d(ref["predicted"][t] // CPC, steps[t + 1]).size for t in range(n - 1)]
    assert sum(wrong) > 0
    assert len(ref["predicted"][5]) == 0 and len(ref["active"][5]) == 0
    assert sum(len(p) for p in ref["predicted"]) > 150
    fz = X.FrozenTM(tm)
    assert fz.segment_cell.size > 100 and fz.K >= 2 and fz.dropped > 0


@pytest.mark.pynn
@pytest.mark.nest
def test_nest_decodes_the_same_as_numba(learned, numba_run):
    tm, steps, ref = learned
    out = X.run(tm, steps, backend="nest")
    for key in ("active", "predicted", "segments"):
        assert _same(out[key], numba_run[key]) == [True] * len(steps), key
    assert _same(out["predicted"], ref["predicted"]) == [True] * len(steps)
    assert out["off_time"] == 0


@pytest.mark.pynn
@pytest.mark.spinnaker
def test_maps_on_the_spinnaker_virtual_board(learned, tmp_path):
    tm, steps, _ = learned
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = X.run(tm, steps, backend="spinnaker", run_dir=str(tmp_path))
    info = out["info"]
    print("spinnaker virtual board (SpiNN-5):", info["cores"])
    # 128 columns x 4 cells = 512 cells: 2 cores; the segments, columns and input fit in one each
    assert info["cores"]["populations"] == {"input": 1, "cells": 2, "segments": 1, "columns": 1}
    assert info["cores"]["delay_extensions"] == 0
    assert all(q["rounded_to_zero"] == 0 and q["saturated"] == 0 and q["max_relative_error"] == 0
               for q in info["weight_quantisation"].values())
    assert any("virtual board" in str(w.message) for w in caught)
    assert all(len(a) == 0 for a in out["active"])          # mapped, not run


def test_export_of_the_spiking_tm_gives_its_spikes():
    """The spiking TM's learned state, exported: the same active cells as the spiking TM's own
    cell spikes (learn=False) and its predictions, on numba."""
    params = dict(PARAMS, columns=64)
    stm = SpikingTemporalMemory(**params)
    rng = np.random.default_rng(3)
    code = {c: np.sort(rng.choice(64, 8, replace=False)) for c in "ABCDXY"}
    for _ in range(12):
        for seq in ("ABCD", "XBCY"):
            for ch in seq:
                stm.compute(code[ch])
            stm.reset()
    steps = [code[c] for c in "ABCD"] + [[]] + [code[c] for c in "XBCY"]
    active, predicted = [], []
    for cols in steps:
        active.append(np.sort(stm.compute(cols, learn=False)))
        predicted.append(stm.getPredictiveCells())
    assert stm.mismatches == 0
    out = X.run(stm, steps, backend="numba")
    assert _same(out["active"], active) == [True] * len(steps)
    assert _same(out["predicted"], predicted) == [True] * len(steps)
    assert sum(len(p) for p in predicted) >= 40          # sequences were learned


def test_bad_input(learned):
    tm, steps, _ = learned
    with pytest.raises(TypeError, match="TemporalMemory"):
        X.frozen_network(object(), steps)
    with pytest.raises(ValueError, match="out of range"):
        X.frozen_network(tm, [[0, COLS]])
    with pytest.raises(ValueError, match="integer column indices"):
        X.frozen_network(tm, [[0.5, 2]])
    with pytest.raises(ValueError, match="integer column indices"):
        X.frozen_network(tm, [3, 4])
    with pytest.raises(ValueError, match="at least one step"):
        X.frozen_network(tm, [])
    for window in (3, 4.5):
        with pytest.raises(ValueError, match="window"):
            X.frozen_network(tm, steps, window=window)
    with pytest.raises(ValueError, match="nothing learned"):
        X.frozen_network(TemporalMemory(columns=16, cellsPerColumn=2), [[1]])
    with pytest.raises(ValueError, match="pynn-brian2"):
        X.run(tm, steps, backend="pynn-brian2")
    _, decode = X.frozen_network(tm, steps, window=7)     # other windows work
    assert decode.duration == 22 * 7
    assert X.run(tm, steps[:6], window=7)["predicted"][2].size > 0
