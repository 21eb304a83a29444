"""Spatial pooler: initialisation as htm.core, sparsity, learning rule, overlap preservation."""
import numpy as np
import pytest

from neurosim.models.htm.sdr import overlap, random_sdr
from neurosim.models.htm.spatial_pooler import SpatialPooler


def make(**kw):
    args = dict(inputDimensions=(400,), columnDimensions=(1024,), potentialRadius=400,
                potentialPct=0.8, localAreaDensity=0, numActiveColumnsPerInhArea=20,
                synPermConnected=0.2, synPermActiveInc=0.003, synPermInactiveDec=0.0005, seed=3)
    args.update(kw)
    return SpatialPooler(**args)


def test_initialisation():
    sp = make()
    assert sp.potential.shape == (1024, 400)
    assert np.all(sp.potential.sum(axis=1) == 320)               # round(0.8 x 400) potential inputs
    assert np.all(sp.permanence[~sp.potential] == 0)
    perm = sp.permanence[sp.potential]
    connected = np.mean(perm >= 0.2)
    assert abs(connected - 0.5) < 0.01                         # initConnectedPct = 0.5
    assert perm.max() < 1.0 and perm.min() >= 0.0
    local = make(potentialRadius=10, potentialPct=0.5)
    assert np.all(local.potential.sum(axis=1) == round(21 * 0.5))
    col = 512                                                   # maps onto input 200
    assert np.all(np.abs(np.flatnonzero(local.potential[col]) - 200) <= 10)
    with pytest.raises(ValueError):
        make(localAreaDensity=0.02)                             # both given


def test_sparsity_and_determinism():
    sp, twin = make(), make()
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = random_sdr(400, 40, rng)
        a = sp.compute(x, learn=True)
        assert len(a) == 20 and np.all(np.diff(a) > 0)
        assert np.array_equal(a, twin.compute(x, learn=True))
    density = make(localAreaDensity=0.04395604395604396, numActiveColumnsPerInhArea=0)
    assert len(density.compute(random_sdr(400, 40, rng))) == 45   # int(0.04396 x 1024)


def test_winners_have_the_largest_overlaps():
    sp = make()
    x = random_sdr(400, 40, np.random.default_rng(1))
    ov = sp.overlaps(x)
    a = sp.compute(x, learn=False)
    losers = np.setdiff1d(np.arange(1024), a)
    assert ov[a].min() >= ov[losers].max()


def test_learning_rule():
    sp = make(synPermActiveInc=0.05, synPermInactiveDec=0.01)
    x = random_sdr(400, 40, np.random.default_rng(2))
    before = sp.permanence.copy()
    a = sp.compute(x, learn=True)
    delta = sp.permanence - before
    on = np.zeros(400, bool)
    on[x] = True
    pot = sp.potential[a]
    d = delta[a]
    inside = np.clip(before[a] + 0.05, 0, 1) - before[a]
    assert np.allclose(d[pot & on[None, :]], inside[pot & on[None, :]], atol=1e-6)
    assert np.all(d[pot & ~on[None, :]] <= 0)
    assert np.all(d[~pot] == 0)
    others = np.setdiff1d(np.arange(1024), a)
    assert np.all(delta[others] == 0)                          # inactive columns do not learn
    assert sp.activeDutyCycles[a].min() == 1.0 and sp.activeDutyCycles[others].max() == 0.0
    frozen = make()
    p0 = frozen.permanence.copy()
    frozen.compute(x, learn=False)
    assert np.array_equal(p0, frozen.permanence)


def test_similar_inputs_similar_columns():
    sp = make()
    rng = np.random.default_rng(3)
    x = random_sdr(400, 40, rng)
    near = np.union1d(x[:36], random_sdr(400, 4, rng))[:40]
    far = random_sdr(400, 40, rng)
    a, b, c = (sp.compute(v, learn=False) for v in (x, near, far))
    assert overlap(a, b) >= 10 and overlap(a, c) <= 5             # chance: 20 x 20 / 1024 = 0.4


def test_learning_stabilises_representations_and_boosting_spreads_use():
    rng = np.random.default_rng(4)
    inputs = [random_sdr(400, 40, rng) for _ in range(10)]
    sp = make(synPermActiveInc=0.05, synPermInactiveDec=0.01)
    first = [sp.compute(x, learn=True) for x in inputs]
    for _ in range(30):
        last = [sp.compute(x, learn=True) for x in inputs]
    again = [sp.compute(x, learn=False) for x in inputs]
    assert all(np.array_equal(a, b) for a, b in zip(last, again))
    assert np.mean([overlap(a, b) for a, b in zip(first, last)]) >= 10
    used = {}
    for strength in (0.0, 5.0):
        sp = make(boostStrength=strength, dutyCyclePeriod=50)
        cols = set()
        for _ in range(20):
            for x in inputs:
                cols.update(sp.compute(x, learn=True).tolist())
        used[strength] = len(cols)
    assert used[5.0] > used[0.0]


# ----------------------------------------------------------------------- local inhibition
def test_inhibition_radius_from_connected_span():
    """htm.core's rule: diameter = mean connected span x columns per input, r = round(max(1,
    (diameter - 1) / 2)); hand-set connections of span 5 and 13 on 8 columns over 16 inputs."""
    sp = SpatialPooler(inputDimensions=(16,), columnDimensions=(8,), potentialRadius=16, potentialPct=1.0,
                       globalInhibition=False, localAreaDensity=0.25, wrapAround=False, seed=1)
    for span, radius in ((5, 1), (13, 3)):
        sp.permanence[:] = 0.0
        for c in range(8):
            start = c % (17 - span)
            sp.permanence[c, [start, start + span - 1]] = 0.5  # connected ends, span inputs wide
        sp._refresh(np.arange(8))
        assert sp.average_connected_span() == span
        assert sp.average_columns_per_input() == 0.5
        assert sp.update_inhibition_radius() == radius      # (span/2 - 1)/2: 0.75 -> 1, 2.75 -> 3
    assert make().inhibitionRadius == 1024                  # global: the largest column dimension


def test_local_inhibition_keeps_a_winner_in_each_region():
    """30 columns, radius 2, density 0.2 -> one winner per 5-column neighbourhood: the local
    maxima win, including a weak region far from the strong one; an equal neighbour that is
    already active counts as bigger; columns below stimulusThreshold never win."""
    sp = SpatialPooler(inputDimensions=(30,), columnDimensions=(30,), potentialRadius=30,
                       globalInhibition=False, localAreaDensity=0.2, stimulusThreshold=1,
                       wrapAround=False, seed=1)
    sp.inhibitionRadius = 2
    overlaps = np.zeros(30)
    overlaps[[5, 6, 7]] = [9, 7, 3]            # strong region
    overlaps[[20, 22]] = [2, 2]                # tie two apart: the first one wins
    overlaps[25] = 1                           # weak, isolated: wins its neighbourhood
    assert sp.inhibit(overlaps).tolist() == [5, 20, 25]
    sp.globalInhibition = True                 # global: the 6 largest overlaps anywhere
    assert sp.inhibit(overlaps).tolist() == [5, 6, 7, 20, 22, 25]
    sp.globalInhibition = False
    sp.inhibitionRadius = 31                   # radius beyond the columns: global, density 0.2
    assert sp.inhibit(overlaps).tolist() == [5, 6, 7, 20, 22, 25]


def test_local_inhibition_with_all_columns_in_range_is_global():
    rng = np.random.default_rng(7)
    local = make(globalInhibition=False, localAreaDensity=0.02, numActiveColumnsPerInhArea=0)
    glob = make(localAreaDensity=0.02, numActiveColumnsPerInhArea=0)
    local.inhibitionRadius = 512               # the box covers all 1024 columns (wrapping)
    assert local._neighbours().shape == (1024, 1023)
    for _ in range(5):
        overlaps = rng.random(1024) * 40       # no ties
        a = local.inhibit(overlaps)
        assert len(a) == 20 and np.array_equal(a, glob.inhibit(overlaps))
    local.numActiveColumnsPerInhArea = 20      # 20 per (2 r + 1) = 1025 -> 1024 columns
    assert np.array_equal(local.inhibit(overlaps), glob.inhibit(overlaps))


def test_local_inhibition_learning_run():
    """A 2-D column sheet with local inhibition: sparse, spread over the sheet, deterministic,
    the radius follows the connected span."""
    args = dict(inputDimensions=(20, 20), columnDimensions=(32, 32), potentialRadius=400, potentialPct=0.5,
                globalInhibition=False, localAreaDensity=0.04, synPermConnected=0.2,
                synPermActiveInc=0.05, synPermInactiveDec=0.01, seed=5)
    sp, twin = SpatialPooler(**args), SpatialPooler(**args)
    assert sp.inhibitionRadius == int(max(1, (sp.average_connected_span() * 1.6 - 1) / 2) + 0.5)
    rng = np.random.default_rng(8)
    counts = []
    for _ in range(60):
        x = random_sdr(400, 40, rng)
        a = sp.compute(x, learn=True)
        assert np.array_equal(a, twin.compute(x, learn=True))
        counts.append(len(a))
    assert 0.02 * 1024 < np.mean(counts) < 0.08 * 1024
    rows = np.unique(a // 32)
    assert rows.size >= 8                                   # winners all over the sheet
    assert sp.iteration == 60 and sp.inhibitionRadius >= 1
