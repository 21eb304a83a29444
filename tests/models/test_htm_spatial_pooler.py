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
    with pytest.raises(NotImplementedError):
        make(globalInhibition=False)


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
