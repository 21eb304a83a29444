"""NuPIC's backtracking temporal memory (the NAB ``numenta`` detector's TM): learning a sequence,
start cells, segment limits, and the anomaly after a surprise."""
import numpy as np

from neurosim.models.htm import backtracking_kernels as kernels
from neurosim.models.htm import backtracking_synapses as synapses
from neurosim.models.htm.backtracking_tm import NUPIC_CPP_TM_PARAMS, SLACK, BacktrackingTM


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
    assert c.seg_nsyn[:c.hw].max() <= 32 + SLACK and np.bincount(live).max() <= 128 and c.n_overflow == 0
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


def _segment_after_update(nupic_free, synapses_before, src):
    """One segment (maxSynapsesPerSegment 4, +-0.1) holding ``synapses_before`` ({cell: permanence}),
    updated with the source cells ``src``; returns ({cell: permanence}, ghost cells, state)."""
    tm = BacktrackingTM(columns=16, cellsPerColumn=8, maxSynapsesPerSegment=4, capacity=64, nupicFree=nupic_free)
    c = tm._c
    c.scalars[0]["n_lrn"] = 1
    seg = synapses.new_segment(c, 9, True)
    for pre, perm in synapses_before.items():
        synapses.add_syn(c, seg, pre, np.float32(perm))
    src = np.array(sorted(src), np.int32)
    synapses.adapt(c, 9, seg, src, len(src))
    out = {int(p): round(float(w), 4) for p, w in zip(c.syn_pre[seg], c.syn_perm[seg]) if p >= 0}
    ghosts = {int(p) for p, k in zip(c.syn_pre[seg], c.syn_lnk[seg]) if p >= 0 and k == 2}
    return out, ghosts, c


def test_segment_update_frees_by_stale_positions_as_nupic():
    """nupic.core 0.4.x ``Cells4::adaptSegment``: positions of inactive / active synapses are
    listed, decayed synapses removed, and the synapses to free are taken *by those positions*.
    Worked by hand from that code (segment of 4 at most, +-0.1, new synapses at 0.21)."""
    # cell 10 decays out; S1 = [20 (0.6), 30 (0.2), 40 (0.5)]; one synapse must go; the inactive
    # positions 0, 2, 3 now read 20 (0.6), 40 (0.5) and, past the end, the old 40 (0.5): 40 goes
    before = {10: 0.01, 20: 0.5, 30: 0.3, 40: 0.6}
    out, ghosts, _ = _segment_after_update(True, before, {20, 50, 60})
    assert out == {20: 0.6, 30: 0.2, 50: 0.21, 60: 0.21} and not ghosts
    out, ghosts, _ = _segment_after_update(False, before, {20, 50, 60})   # the weakest inactive goes
    assert out == {20: 0.6, 40: 0.5, 50: 0.21, 60: 0.21} and not ghosts
    # inactive positions 0, 3: 20 (0.6) and, past the end, 40 (0.15): nothing is freed, 40 stays
    # in the segment (5 synapses) but is cut from forward propagation
    out, ghosts, c = _segment_after_update(True, {10: 0.01, 20: 0.5, 30: 0.6, 40: 0.25}, {20, 30, 50, 60})
    assert out == {20: 0.6, 30: 0.7, 40: 0.15, 50: 0.21, 60: 0.21} and ghosts == {40}
    cells = np.array([20, 30, 40, 50, 60], np.int32)
    kernels.propagate(c, cells, 5, False, False)
    assert c.act_all[0] == 4                               # propagation misses the ghost ...
    kernels.propagate(c, cells, 5, True, True)
    assert c.act_all[0] == 5                               # ... a read of the segment counts it
