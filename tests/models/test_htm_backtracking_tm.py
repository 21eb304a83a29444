"""NuPIC's backtracking temporal memory (the NAB ``numenta`` detector's TM): learning a sequence,
start cells, segment limits, and the anomaly after a surprise."""
import numpy as np

from neurosim.models.htm.backtracking_tm import NUPIC_CPP_TM_PARAMS, BacktrackingTM


def patterns(n, columns=256, active=40, seed=0):
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(columns, active, replace=False)) for _ in range(n)]


def test_learns_a_repeating_sequence_and_flags_a_surprise():
    tm = BacktrackingTM(columns=256, cellsPerColumn=8, capacity=500)   # small pool: it must grow
    seq = patterns(6)
    anomaly = [tm.compute(p) for _ in range(25) for p in seq]
    assert np.mean(anomaly[:6]) == 1.0                     # nothing predicted at first
    assert np.mean(anomaly[-60:]) == 0.0                   # the sequence is learned
    cells = tm.getActiveCells()
    assert len(cells) == 40 and len(np.unique(cells // 8)) == 40    # one cell per column
    assert set(tm.getPredictedColumns()) >= set(seq[0])    # the next element is predicted
    assert tm.compute(patterns(1, seed=99)[0]) > 0.7      # an unseen input is an anomaly
    c = tm._c
    live = c.seg_cell[:c.hw][c.seg_cell[:c.hw] >= 0]
    assert np.all(live % 8 != 0)                           # start cells never grow segments
    assert c.seg_nsyn[:c.hw].max() <= 32 and np.bincount(live).max() <= 128
    assert tm.numSynapses() == int((c.syn_pre[:c.hw][c.seg_cell[:c.hw] >= 0] >= 0).sum())


def test_high_order_sequences_share_a_middle():
    """A B C D and X B C Y: after learning, D follows A B C and Y follows X B C."""
    tm = BacktrackingTM(columns=256, cellsPerColumn=8)
    a, b, c, d, x, y, noise = patterns(7, seed=3)
    for rep in range(40):
        for p in ([a, b, c, d] if rep % 2 == 0 else [x, b, c, y]) + [noise]:
            tm.compute(p)
    for first, last in ((a, d), (x, y)):
        for p in (first, b, c):
            tm.compute(p)
        predicted = set(tm.getPredictedColumns())
        assert len(predicted & set(last)) >= 36
        assert tm.compute(last) <= 0.1
        tm.compute(noise)


def test_nab_parameters():
    assert NUPIC_CPP_TM_PARAMS["activationThreshold"] == 13 and NUPIC_CPP_TM_PARAMS["pamLength"] == 3
    assert NUPIC_CPP_TM_PARAMS["maxSynapsesPerSegment"] == 32 and NUPIC_CPP_TM_PARAMS["newSynapseCount"] == 20
