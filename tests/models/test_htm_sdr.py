"""SDR formulas against the reference vectors (models.md, recomputed from Ahmad & Hawkins'
notebooks) and the SDR helpers against Monte Carlo / set identities."""
from fractions import Fraction
from math import comb

import numpy as np
import pytest

from neurosim.models.htm import sdr


def close(x, ref, rel=2e-3):
    return abs(x - ref) <= rel * abs(ref)


@pytest.mark.parametrize("w, ref", [(2, 1.909e-6), (5, 1.076e-13), (20, 1.825e-42)])
def test_exact_match(w, ref):
    assert close(sdr.p_exact_match(1024, w), ref)
    assert sdr.p_exact_match(1024, w, exact=True) == Fraction(1, comb(1024, w))


@pytest.mark.parametrize("n, a, s, theta, ref", [
    (1024, 4, 4, 2, 6.855e-5), (1024, 7, 7, 4, 2.671e-8),          # whole-pattern match
    (1024, 8, 4, 2, 3.182e-4),                                      # subsampled segment
    (100000, 2000, 6, 6, 6.353e-11), (100000, 2000, 8, 8, 2.525e-14),
    (100000, 2000, 10, 10, 1.002e-17),                              # Neuron paper Table 1B
    (100000, 2000, 12, 6, 5.294e-8), (100000, 2000, 16, 8, 2.817e-10),
    (100000, 2000, 20, 10, 1.542e-12), (100000, 2000, 24, 12, 8.587e-15),   # Table 1C
    (200000, 2000, 10, 10, 9.78e-21), (200000, 2000, 20, 10, 1.65e-15),
    (400, 8, 4, 2, 2.063e-3), (4000, 400, 4, 2, 5.221e-2),          # same 2 % sparsity
])
def test_false_match(n, a, s, theta, ref):
    assert close(sdr.p_false_match(n, a, s, theta), ref)


@pytest.mark.parametrize("n, w, theta, ref", [(64, 3, 2, 0.04416), (64, 12, 8, 4.231e-4),
                                              (1024, 21, 14, 8.835e-21)])
def test_false_match_of_ten_stored_patterns(n, w, theta, ref):
    assert close(10 * sdr.p_false_match(n, w, w, theta), ref)


@pytest.mark.parametrize("w, M, ref", [(2, 20, 1.470e-3), (20, 20, 1.835e-10), (20, 40, 5.482e-6)])
def test_false_match_union(w, M, ref):
    assert close(sdr.p_false_match_union(1024, w, M), ref)
    exact = sdr.p_false_match_union(1024, w, M, exact=True)
    assert isinstance(exact, Fraction)
    assert exact == (1 - (1 - Fraction(w, 1024)) ** M) ** w


@pytest.mark.parametrize("noise, ref", [(0.2, 3.1e-16), (0.3, 7.9e-10), (0.4, 3.5e-6), (0.5, 7.4e-4)])
def test_false_negative(noise, ref):
    v = round(noise * 128)                       # 26, 38, 51, 64 of the 128 active bits
    assert close(sdr.p_false_negative(128, 30, 8, v), ref, rel=0.02)


def test_exactness_and_limits():
    p = sdr.p_false_match(1024, 8, 4, 2, exact=True)
    assert p.denominator > 1 and p == Fraction(
        sum(comb(4, b) * comb(1020, 8 - b) for b in range(2, 5)), comb(1024, 8))
    assert sdr.p_false_match(100, 10, 5, 0) == 1.0            # threshold 0 always fires
    assert sdr.p_false_match(100, 10, 5, 6) == 0.0            # more than s needed: never
    assert sdr.p_false_negative(50, 10, 3, 0) == 0.0          # no noise, no miss
    assert sdr.p_false_negative(50, 10, 3, 50) == 1.0         # every bit replaced
    # tiny values stay representable as fractions far below float range
    assert sdr.p_exact_match(2048, 400, exact=True) > 0
    with pytest.raises(ValueError):
        sdr.p_false_match(10, 11, 2, 1)
    with pytest.raises(ValueError):
        sdr.p_false_negative(10, 5, 2, 2.5)


def test_false_match_against_monte_carlo():
    rng = np.random.default_rng(0)
    n, a, s, theta, trials = 200, 20, 10, 3, 40000
    # random a-of-n patterns (rows); the segment samples the first s cells
    patterns = np.argsort(rng.random((trials, n)), axis=1)[:, :a]
    hits = np.count_nonzero((patterns < s).sum(axis=1) >= theta)
    p = sdr.p_false_match(n, a, s, theta)
    assert abs(hits / trials - p) < 4 * np.sqrt(p * (1 - p) / trials)
    assert sdr.overlap(sdr.random_sdr(n, a, rng), np.arange(s)) <= s


def test_false_negative_against_monte_carlo():
    rng = np.random.default_rng(1)
    a, s, theta, v, trials = 40, 20, 12, 15, 40000
    # the segment sees pattern bits 0..s-1; noise removes v of the a pattern bits (the bits it
    # adds lie outside the pattern, so the segment never sees them)
    removed = np.argsort(rng.random((trials, a)), axis=1)[:, :v]
    misses = np.count_nonzero(s - (removed < s).sum(axis=1) < theta)
    p = sdr.p_false_negative(a, s, theta, v)
    assert abs(misses / trials - p) < 4 * np.sqrt(p * (1 - p) / trials)


def test_helpers():
    rng = np.random.default_rng(2)
    x = sdr.random_sdr(100, 10, rng)
    assert x.dtype == np.int64 and len(x) == 10 and np.all(np.diff(x) > 0)
    assert np.array_equal(sdr.to_sparse(sdr.to_dense(x, 100)), x)
    y = sdr.random_sdr(100, 10, np.random.default_rng(2))
    assert np.array_equal(x, y)                                 # same seed, same SDR
    z = sdr.random_sdr(100, 10, rng)
    u = sdr.union(x, z)
    assert len(u) == 20 - sdr.overlap(x, z)
    assert sdr.overlap(x, x) == 10 and sdr.sparsity(x, 100) == 0.1
    noisy = sdr.add_noise(x, 100, 3, rng)
    assert len(noisy) == 10 and sdr.overlap(noisy, x) == 7
    assert close(sdr.union_density(1024, 20, 20), 1 - (1 - 20 / 1024) ** 20, rel=1e-12)
    with pytest.raises(ValueError):
        sdr.to_dense([100], 100)
