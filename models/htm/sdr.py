"""Sparse distributed representations (SDRs) and the Ahmad & Hawkins matching formulas.

An SDR here is a sorted 1-D ``numpy`` array of the indices of its active bits
(``int64``); :func:`to_dense` / :func:`to_sparse` convert to and from a boolean
vector.  The probability formulas follow Ahmad & Hawkins (arXiv:1503.07469,
arXiv:1601.00720) and Hawkins & Ahmad 2016 (Front. Neural Circuits): a dendritic
segment with ``s`` synapses onto a population of ``n`` cells of which ``a`` are
active fires when at least ``theta`` of its synapses see active cells.  They are
evaluated with exact integer arithmetic (``math.comb`` and ``fractions.Fraction``);
pass ``exact=True`` to get the :class:`~fractions.Fraction` itself.
"""
from fractions import Fraction
from math import comb

import numpy as np

__all__ = ["n_choose", "overlap_set_size", "p_exact_match", "p_false_match",
           "p_false_match_union", "p_false_negative", "union_density",
           "to_dense", "to_sparse", "overlap", "union", "random_sdr", "add_noise", "sparsity"]


def n_choose(n, k):
    """C(n, k) with the convention C(n, k) = 0 when k < 0 or k > n."""
    n, k = int(n), int(k)
    return comb(n, k) if 0 <= k <= n else 0


def _result(frac, exact):
    return frac if exact else float(frac)


def _check(**values):
    for name, value in values.items():
        if int(value) != value or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def overlap_set_size(n, w_x, b, a=None):
    """|Omega_x(n, w_x, b)| = C(w_x, b) C(n - w_x, a - b): patterns of ``a`` active bits
    (``a = w_x`` when omitted) that share exactly ``b`` bits with a fixed ``w_x``-bit pattern."""
    a = w_x if a is None else a
    _check(n=n, w_x=w_x, b=b, a=a)
    return n_choose(w_x, b) * n_choose(n - w_x, a - b)


def p_exact_match(n, a, exact=False):
    """Probability 1 / C(n, a) that a random a-of-n pattern equals a given one."""
    _check(n=n, a=a)
    return _result(Fraction(1, n_choose(n, a)), exact)


def p_false_match(n, a, s, theta, exact=False):
    """Probability that a random a-of-n pattern activates >= theta of a segment's s synapses.

    P_fp = sum_{b=theta}^{s} C(s, b) C(n - s, a - b) / C(n, a).  With s = a this is the
    false-positive rate of matching a whole stored pattern with threshold theta; with
    s < a the segment subsamples the pattern.
    """
    _check(n=n, a=a, s=s, theta=theta)
    if a > n or s > n:
        raise ValueError(f"need a <= n and s <= n, got n={n}, a={a}, s={s}")
    hits = sum(n_choose(s, b) * n_choose(n - s, a - b) for b in range(int(theta), int(s) + 1))
    return _result(Fraction(hits, n_choose(n, a)), exact)


def union_density(n, w, M, exact=False):
    """Expected fraction of bits on in the union of M random w-of-n patterns: 1 - (1 - w/n)^M."""
    _check(n=n, w=w, M=M)
    return _result(1 - (1 - Fraction(int(w), int(n))) ** int(M), exact)


def p_false_match_union(n, w, M, exact=False):
    """Probability that a random w-of-n pattern lies entirely inside the union of M stored
    w-bit patterns: (1 - (1 - w/n)^M)^w."""
    return _result(union_density(n, w, M, exact=True) ** int(w), exact)


def p_false_negative(a, s, theta, v, exact=False):
    """Probability that a stored a-bit pattern, with v of its bits replaced by noise, no longer
    reaches theta on a segment with s synapses onto that pattern.

    The segment fails when more than s - theta of its s bits are among the v removed ones:
    P_fn = sum_{b=s-theta+1}^{s} C(s, b) C(a - s, v - b) / C(a, v).
    """
    _check(a=a, s=s, theta=theta, v=v)
    if s > a or v > a:
        raise ValueError(f"need s <= a and v <= a, got a={a}, s={s}, v={v}")
    misses = sum(n_choose(s, b) * n_choose(a - s, v - b) for b in range(int(s - theta + 1), int(s) + 1))
    return _result(Fraction(misses, n_choose(a, v)), exact)


# --------------------------------------------------------------------------- SDR helpers
def to_sparse(dense):
    """Indices of the nonzero entries of a 1-D vector, sorted (int64)."""
    return np.flatnonzero(np.asarray(dense)).astype(np.int64)


def to_dense(indices, size):
    """Boolean vector of length ``size`` with ``indices`` set."""
    out = np.zeros(int(size), dtype=bool)
    idx = np.asarray(indices, dtype=np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise ValueError(f"SDR index out of range for size {size}")
    out[idx] = True
    return out


def overlap(x, y):
    """Number of active bits two SDRs (index arrays) share."""
    return int(np.intersect1d(np.asarray(x), np.asarray(y), assume_unique=False).size)


def union(*sdrs):
    """Sorted union of several SDRs (index arrays)."""
    if not sdrs:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate([np.asarray(s, dtype=np.int64).ravel() for s in sdrs]))


def sparsity(x, size):
    """Fraction of active bits."""
    return len(np.unique(np.asarray(x))) / float(size)


def random_sdr(size, active, rng):
    """A random SDR with exactly ``active`` of ``size`` bits on, drawn with ``rng``
    (a ``numpy.random.Generator``)."""
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    if not 0 <= active <= size:
        raise ValueError(f"need 0 <= active <= size, got active={active}, size={size}")
    return np.sort(rng.choice(int(size), size=int(active), replace=False)).astype(np.int64)


def add_noise(x, size, v, rng):
    """Replace ``v`` of the active bits of ``x`` by as many bits that were off (the noise model
    of :func:`p_false_negative`); the number of active bits is kept."""
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    x = np.asarray(x, dtype=np.int64)
    if v > x.size:
        raise ValueError(f"cannot replace {v} of {x.size} active bits")
    keep = rng.choice(x, size=x.size - int(v), replace=False)
    off = np.setdiff1d(np.arange(int(size)), x)
    new = rng.choice(off, size=int(v), replace=False)
    return np.sort(np.concatenate([keep, new])).astype(np.int64)
