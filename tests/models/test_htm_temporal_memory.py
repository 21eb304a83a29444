"""Reference temporal memory: high-order sequences, bursting, learning rules, limits, seeding."""
import numpy as np
import pytest

from neurosim.models.htm.temporal_memory import TemporalMemory, raw_anomaly_score

COLS, ACTIVE = 2048, 40


def letters(seed=0, names="ABCDXY"):
    rng = np.random.default_rng(seed)
    return {c: np.sort(rng.choice(COLS, ACTIVE, replace=False)) for c in names}


def train(tm, code, seqs, epochs):
    history = []
    for _ in range(epochs):
        for seq in seqs:
            history.append([])
            for ch in seq:
                tm.compute(code[ch], learn=True)
                history[-1].append(tm.anomaly)
            tm.reset()
    return np.array(history)


def test_raw_anomaly_score():
    assert raw_anomaly_score([1, 2, 3, 4], [1, 2]) == 0.5
    assert raw_anomaly_score([1, 2], [1, 2, 7]) == 0.0
    assert raw_anomaly_score([], [1]) == 0.0
    assert raw_anomaly_score([5], []) == 1.0


def test_high_order_sequences():
    """A-B-C-D and X-B-C-Y share B-C: the last element needs the first one's context."""
    code = letters()
    tm = TemporalMemory(columns=COLS, cellsPerColumn=32, predictedSegmentDecrement=0.05, seed=1)
    history = train(tm, code, ["ABCD", "XBCY"], epochs=30)
    assert np.all(history[:2, :].mean() > 0.9)                 # everything new at first
    assert np.all(history[-10:, 1:] == 0.0)                    # then B, C and D / Y predicted
    assert np.all(history[:, 0] == 1.0)                        # first element after a reset
    for seq in ("ABCD", "XBCY"):
        for ch in seq[:-1]:
            tm.compute(code[ch], learn=False)
        assert np.array_equal(tm.getPredictiveColumns(), code[seq[-1]])
        # one cell per column carries the context
        assert len(tm.getPredictiveCells()) == ACTIVE
        tm.reset()
    # C is represented by different cells in the two contexts
    cells = []
    for seq in ("ABC", "XBC"):
        for ch in seq:
            tm.compute(code[ch], learn=False)
        cells.append(tm.getActiveCells())
        tm.reset()
    assert len(cells[0]) == len(cells[1]) == ACTIVE
    assert len(np.intersect1d(cells[0], cells[1])) == 0


def test_bursting_and_predicted_columns():
    code = letters(1, "PQ")
    tm = TemporalMemory(columns=COLS, cellsPerColumn=8, seed=3)
    tm.compute(code["P"])
    assert len(tm.getActiveCells()) == ACTIVE * 8             # unpredicted: whole columns burst
    assert len(tm.getWinnerCells()) == ACTIVE                 # one winner per bursting column
    assert tm.anomaly == 1.0
    tm.compute(code["Q"])
    assert tm.numSegments() == ACTIVE                          # Q's winners grew one segment each
    assert tm.numSynapses() == ACTIVE * 20                     # maxNewSynapseCount to P's winners
    tm.reset()
    for _ in range(3):                                         # 0.21 + 3 x 0.1 >= 0.5: connected
        tm.compute(code["P"])
        tm.compute(code["Q"])
        tm.reset()
    tm.compute(code["P"])
    assert np.array_equal(tm.getPredictiveColumns(), code["Q"])
    tm.compute(code["Q"])
    assert tm.anomaly == 0.0
    active = tm.getActiveCells()
    assert len(active) == ACTIVE                               # only the predicted cells fire
    assert np.array_equal(np.unique(active // 8), code["Q"])


def test_learning_off_changes_nothing_and_reset_clears_context():
    code = letters(2, "PQR")
    tm = TemporalMemory(columns=COLS, cellsPerColumn=4, seed=5)
    train(tm, code, ["PQR"], epochs=5)
    before = tm.segments()
    for ch in "PQRRQP":
        tm.compute(code[ch], learn=False)
    after = tm.segments()
    assert np.array_equal(before[0], after[0])
    assert all(np.array_equal(a, b) for a, b in zip(before[2], after[2]))
    tm.compute(code["P"], learn=False)
    assert len(tm.getPredictiveCells()) > 0
    tm.reset()
    assert len(tm.getPredictiveCells()) == 0 and len(tm.getActiveCells()) == 0


def test_predicted_segment_decrement_removes_wrong_predictions():
    code = letters(3, "PQR")
    for psd, survives in ((0.0, True), (0.1, False)):
        tm = TemporalMemory(columns=COLS, cellsPerColumn=4, predictedSegmentDecrement=psd, seed=7)
        train(tm, code, ["PQ"], epochs=6)
        train(tm, code, ["PR"], epochs=10)                     # P is now followed by R
        tm.compute(code["P"], learn=False)
        pred = tm.getPredictiveColumns()
        assert np.array_equal(np.intersect1d(pred, code["R"]), code["R"])
        assert (len(np.intersect1d(pred, code["Q"])) == ACTIVE) == survives


def test_limits_on_segments_and_synapses():
    rng = np.random.default_rng(4)
    tm = TemporalMemory(columns=64, cellsPerColumn=2, activationThreshold=3, minThreshold=2,
                        maxNewSynapseCount=6, maxSegmentsPerCell=3, maxSynapsesPerSegment=8, seed=9)
    for _ in range(600):
        tm.compute(np.sort(rng.choice(64, 6, replace=False)))
    cells, pre, perm = tm.segments()
    assert max(tm.numSegments(c) for c in range(128)) <= 3
    assert max(len(p) for p in pre) <= 8
    assert all(len(np.unique(p)) == len(p) for p in pre)      # no duplicate synapses
    assert all(np.all((q > 0) & (q <= 1)) for q in perm)
    assert np.bincount(cells, minlength=128).max() <= 3
    assert tm.numSegments() == len(cells) and tm.numSynapses() == sum(len(p) for p in pre)


def test_same_seed_same_run():
    rng = np.random.default_rng(5)
    stream = [np.sort(rng.choice(256, 10, replace=False)) for _ in range(30)] * 4
    runs = []
    for seed in (11, 11, 12):
        tm = TemporalMemory(columns=256, cellsPerColumn=8, activationThreshold=6, minThreshold=4,
                            maxNewSynapseCount=8, seed=seed)
        out = [tm.compute(cols).copy() for cols in stream]
        runs.append((out, tm.segments()))
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][0], runs[1][0]))
    assert np.array_equal(runs[0][1][0], runs[1][1][0])            # same segments on same cells
    assert not np.array_equal(runs[0][1][0], runs[2][1][0])        # other seed, other winners


def test_anomaly_drops_on_a_repeating_stream():
    rng = np.random.default_rng(6)
    patterns = [np.sort(rng.choice(COLS, ACTIVE, replace=False)) for _ in range(12)]
    tm = TemporalMemory(columns=COLS, cellsPerColumn=16, seed=2)
    anomaly = []
    for _ in range(40):                                        # no resets: a continuous stream
        for p in patterns:
            tm.compute(p)
            anomaly.append(tm.anomaly)
    anomaly = np.array(anomaly).reshape(40, 12)
    assert np.all(anomaly[:3] == 1.0)          # 0.21 + 3 x 0.1: three repetitions to connect
    # afterwards at most one element per repetition bursts: without resets the context of the
    # loop's first element keeps changing, and relearning it travels along the loop
    assert np.all((anomaly[5:] > 0).sum(axis=1) <= 1)
    assert anomaly[-10:].mean() <= 1 / 12


def test_invalid_arguments():
    with pytest.raises(ValueError):
        TemporalMemory(columns=0)
    with pytest.raises(ValueError):
        TemporalMemory(columns=16, maxNewSynapseCount=40, maxSynapsesPerSegment=32)
    tm = TemporalMemory(columns=16, cellsPerColumn=2)
    with pytest.raises(ValueError):
        tm.compute([16])
