"""Connectors: exact structure, statistics, determinism, validation."""
import math
import time

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from neurosim.connectors import (
    AllToAllConnector, ArrayConnector, Connections, DistanceDependentProbabilityConnector,
    FixedNumberPostConnector, FixedNumberPreConnector, FixedProbabilityConnector,
    FixedTotalNumberConnector, FromListConnector, OneToOneConnector)
from neurosim.errors import ValidationError
from neurosim.space import Line


def rng(seed=1):
    return np.random.default_rng(seed)


def check_sorted(c, n_pre, n_post, strict=True):
    assert isinstance(c, Connections)
    assert c.pre.dtype == np.int64 and c.post.dtype == np.int64
    assert c.pre.shape == c.post.shape
    if c.pre.size:
        assert c.pre.min() >= 0 and c.pre.max() < n_pre
        assert c.post.min() >= 0 and c.post.max() < n_post
        key = c.pre * n_post + c.post
        diff = np.diff(key)
        assert np.all(diff > 0) if strict else np.all(diff >= 0)


def pairs(c):
    return list(zip(c.pre.tolist(), c.post.tolist()))


# --- deterministic rules --------------------------------------------------------

def test_all_to_all():
    c = AllToAllConnector().connect(3, 4, None)
    check_sorted(c, 3, 4)
    assert pairs(c) == [(i, j) for i in range(3) for j in range(4)]
    assert c.weights is None and c.delays is None


def test_all_to_all_self_connections():
    c = AllToAllConnector(allow_self_connections=False).connect(4, 4, None, same_population=True)
    assert pairs(c) == [(i, j) for i in range(4) for j in range(4) if i != j]
    # different populations of equal size keep i -> i
    c = AllToAllConnector(allow_self_connections=False).connect(4, 4, None)
    assert len(c.pre) == 16


def test_one_to_one():
    c = OneToOneConnector().connect(5, 5, None)
    check_sorted(c, 5, 5)
    assert pairs(c) == [(i, i) for i in range(5)]
    with pytest.raises(ValidationError, match=r"Projection 'a->b' \(OneToOneConnector\).*5.*6"):
        OneToOneConnector().connect(5, 6, None, label="Projection 'a->b'")


# --- FixedProbabilityConnector --------------------------------------------------

def test_fixed_probability_count_within_binomial_bounds():
    n_pre, n_post, p = 4000, 4000, 0.02
    c = FixedProbabilityConnector(p).connect(n_pre, n_post, rng())
    check_sorted(c, n_pre, n_post)
    n = n_pre * n_post
    assert abs(c.pre.size - n * p) <= 5 * math.sqrt(n * p * (1 - p))
    # each row is Binomial(n_post, p): check mean and variance of the row counts
    rows = np.bincount(c.pre, minlength=n_pre)
    var = n_post * p * (1 - p)
    assert abs(rows.mean() - n_post * p) <= 5 * math.sqrt(var / n_pre)
    assert abs(rows.var() - var) <= 5 * var * math.sqrt(2 / n_pre)
    # no dependence on position: first vs second half of the targets
    half = np.mean(c.post < n_post // 2)
    assert abs(half - 0.5) <= 5 * math.sqrt(0.25 / c.pre.size)


def test_fixed_probability_is_fast():
    conn = FixedProbabilityConnector(0.02)
    conn.connect(4000, 4000, rng())
    start = time.perf_counter()
    conn.connect(4000, 4000, rng(2))
    assert time.perf_counter() - start < 0.5  # typically ~0.02 s; generous for busy CI


def test_fixed_probability_same_seed_same_connections():
    conn = FixedProbabilityConnector(0.1)
    a, b = conn.connect(300, 200, rng(5)), conn.connect(300, 200, rng(5))
    assert np.array_equal(a.pre, b.pre) and np.array_equal(a.post, b.post)
    c = conn.connect(300, 200, rng(6))
    assert not (a.pre.size == c.pre.size and np.array_equal(a.post, c.post))


def test_fixed_probability_edge_cases_and_self_exclusion():
    assert FixedProbabilityConnector(0.0).connect(50, 50, rng()).pre.size == 0
    assert FixedProbabilityConnector(1.0).connect(7, 9, rng()).pre.size == 63
    c = FixedProbabilityConnector(1.0, allow_self_connections=False).connect(
        6, 6, rng(), same_population=True)
    assert c.pre.size == 30 and not np.any(c.pre == c.post)
    c = FixedProbabilityConnector(0.5, allow_self_connections=False).connect(
        500, 500, rng(), same_population=True)
    check_sorted(c, 500, 500)
    assert not np.any(c.pre == c.post)
    n = 500 * 499
    assert abs(c.pre.size - n / 2) <= 5 * math.sqrt(n / 4)
    assert FixedProbabilityConnector(0.3).connect(0, 10, rng()).pre.size == 0
    # tiny p: geometric gaps saturate at int64 max and must not overflow
    for p in (5e-324, 1e-300, 1e-17):
        assert FixedProbabilityConnector(p).connect(10 ** 6, 10 ** 6, rng()).pre.size <= 1


@settings(max_examples=40, deadline=None)
@given(n_pre=st.integers(0, 40), n_post=st.integers(0, 40), p=st.floats(0, 1),
       allow=st.booleans(), seed=st.integers(0, 2 ** 32 - 1))
def test_fixed_probability_invariants(n_pre, n_post, p, allow, seed):
    same = n_pre == n_post
    c = FixedProbabilityConnector(p, allow_self_connections=allow).connect(
        n_pre, n_post, rng(seed), same_population=same)
    check_sorted(c, n_pre, n_post)
    if same and not allow:
        assert not np.any(c.pre == c.post)


# --- fixed-number rules ---------------------------------------------------------

@pytest.mark.parametrize("n", [3, 40, 150, 199, 200])  # sparse, dense and complete rules
def test_fixed_number_pre_exact_counts(n):
    n_pre, n_post = 200, 300
    c = FixedNumberPreConnector(n).connect(n_pre, n_post, rng())
    check_sorted(c, n_pre, n_post)
    assert np.all(np.bincount(c.post, minlength=n_post) == n)
    # each presynaptic neuron is chosen by each post with probability n/n_pre
    per_pre = np.bincount(c.pre, minlength=n_pre)
    q = n / n_pre
    assert np.all(np.abs(per_pre - n_post * q) <= 6 * math.sqrt(n_post * q * (1 - q)) + 1e-9)


@pytest.mark.parametrize("n", [2, 60, 100])
def test_fixed_number_post_exact_counts(n):
    c = FixedNumberPostConnector(n).connect(300, 100, rng())
    check_sorted(c, 300, 100)
    assert np.all(np.bincount(c.pre, minlength=300) == n)


@pytest.mark.parametrize("cls", [FixedNumberPreConnector, FixedNumberPostConnector])
def test_fixed_number_self_exclusion(cls):
    c = cls(9, allow_self_connections=False).connect(10, 10, rng(), same_population=True)
    check_sorted(c, 10, 10)
    assert c.pre.size == 90 and not np.any(c.pre == c.post)
    c = cls(3, allow_self_connections=False).connect(1000, 1000, rng(), same_population=True)
    assert c.pre.size == 3000 and not np.any(c.pre == c.post)
    with pytest.raises(ValidationError, match=r"\.n: cannot choose 10 distinct .* from 9 neurons "
                                              r"\(self-connections excluded\)"):
        cls(10, allow_self_connections=False).connect(10, 10, rng(), same_population=True)


def test_fixed_number_sparse_rule_gives_uniform_subsets():
    # 2 of 20 uses the sparse rule; every one of the 190 pairs should be equally likely
    rows = 190 * 500
    c = FixedNumberPostConnector(2).connect(rows, 20, rng(3))
    post = c.post.reshape(rows, 2)
    assert np.all(post[:, 0] < post[:, 1])
    code = post[:, 0] * 20 + post[:, 1]
    counts = np.bincount(code, minlength=400)[np.triu(np.ones((20, 20), bool), 1).ravel()]
    assert counts.size == 190
    chi2 = np.sum((counts - 500.0) ** 2 / 500.0)
    assert abs(chi2 - 189) <= 6 * math.sqrt(2 * 189)


def test_fixed_number_with_replacement_and_size_errors():
    c = FixedNumberPreConnector(15, with_replacement=True).connect(10, 4, rng())
    check_sorted(c, 10, 4, strict=False)
    assert np.all(np.bincount(c.post, minlength=4) == 15)
    with pytest.raises(ValidationError) as info:
        FixedNumberPreConnector(15).connect(10, 4, rng(), label="Projection 'x'")
    msg = str(info.value)
    assert "Projection 'x' (FixedNumberPreConnector).n" in msg and "15" in msg and "10" in msg
    assert "with_replacement=True" in msg
    assert FixedNumberPreConnector(0).connect(10, 4, rng()).pre.size == 0


def test_fixed_number_same_seed_same_connections():
    conn = FixedNumberPreConnector(20)
    a, b = conn.connect(500, 300, rng(9)), conn.connect(500, 300, rng(9))
    assert np.array_equal(a.pre, b.pre) and np.array_equal(a.post, b.post)


def test_fixed_total_number():
    c = FixedTotalNumberConnector(500, with_replacement=False).connect(30, 40, rng())
    check_sorted(c, 30, 40)
    assert c.pre.size == 500
    c = FixedTotalNumberConnector(90, allow_self_connections=False, with_replacement=False).connect(
        10, 10, rng(), same_population=True)
    assert c.pre.size == 90 and not np.any(c.pre == c.post)
    with pytest.raises(ValidationError, match=r"\.n: cannot make 91 distinct connections among 90"):
        FixedTotalNumberConnector(91, allow_self_connections=False, with_replacement=False).connect(
            10, 10, rng(), same_population=True)


# --- FromListConnector ----------------------------------------------------------

def test_from_list_columns_and_sorting():
    c = FromListConnector([(2, 0), (0, 1), (0, 0)]).connect(3, 2, None)
    assert pairs(c) == [(0, 0), (0, 1), (2, 0)] and c.weights is None and c.delays is None
    c = FromListConnector([(1, 0, 0.5), (0, 1, 0.25)]).connect(2, 2, None)
    assert pairs(c) == [(0, 1), (1, 0)] and np.array_equal(c.weights, [0.25, 0.5]) and c.delays is None
    c = FromListConnector([(1, 0, 0.5, 2.0), (0, 1, 0.25, 1.5)]).connect(2, 2, None)
    assert np.array_equal(c.weights, [0.25, 0.5]) and np.array_equal(c.delays, [1.5, 2.0])
    c = FromListConnector([(1, 0, 2.0), (0, 1, 1.5)], column_names=["delay"]).connect(2, 2, None)
    assert c.weights is None and np.array_equal(c.delays, [1.5, 2.0])
    c = FromListConnector(np.array([(0.0, 1.0, 0.1, 1.0)]), column_names=("weight", "delay")).connect(1, 2, None)
    assert c.pre.dtype == np.int64 and pairs(c) == [(0, 1)]
    assert FromListConnector([]).connect(3, 3, None).pre.size == 0


@pytest.mark.parametrize("conn_list,n_pre,n_post,needles", [
    ([(0, 0), (5, 1)], 5, 3, ["row 1", "pre index 5", "0..4"]),
    ([(0, 0), (1, 1), (2, 3)], 5, 3, ["row 2", "post index 3", "0..2"]),
    ([(0, 0)], 0, 3, ["row 0", "pre index 0", "empty"]),
])
def test_from_list_bounds_at_connect_time(conn_list, n_pre, n_post, needles):
    conn = FromListConnector(conn_list)  # sizes are unknown here
    with pytest.raises(ValidationError) as info:
        conn.connect(n_pre, n_post, None, label="Projection 'in->out'")
    msg = str(info.value)
    assert "Projection 'in->out' (FromListConnector).conn_list" in msg
    for needle in needles:
        assert needle in msg


@pytest.mark.parametrize("args,kwargs,needles", [
    (([(0, 0), (-1, 2)],), {}, ["FromListConnector.conn_list", "row 1", "pre index -1", ">= 0"]),
    (([(0, 1.5)],), {}, ["row 0", "post index 1.5", "integer"]),
    (([(0, 1, 2, 3, 4)],), {}, ["2, 3 or 4 columns", "(1, 5)"]),
    (([(0,), (1,)],), {}, ["2, 3 or 4 columns", "(2, 1)"]),
    (([(0, 1), (1, 2, 3)],), {}, ["conn_list", "same length"]),
    (([(0, 1, float("nan"))],), {}, ["row 0", "nan", "not finite"]),
    (([(0, 1, 0.5, 0.0)],), {}, ["row 0", "delay must be > 0", "0"]),
    (([(0, 1, 0.5)],), {"column_names": ["tau"]}, ["column_names", "'tau'", "weight, delay"]),
    (([(0, 1, 0.5)],), {"column_names": ["weight", "delay"]}, ["column_names", "2 names for 1"]),
])
def test_from_list_construction_errors(args, kwargs, needles):
    with pytest.raises(ValidationError) as info:
        FromListConnector(*args, **kwargs)
    for needle in needles:
        assert needle in str(info.value)


# --- ArrayConnector -------------------------------------------------------------

def test_array_connector():
    m = np.array([[True, False, True], [False, False, True]])
    c = ArrayConnector(m).connect(2, 3, None)
    check_sorted(c, 2, 3)
    assert pairs(c) == [(0, 0), (0, 2), (1, 2)]
    assert pairs(ArrayConnector([[0, 1], [1, 0]]).connect(2, 2, None)) == [(0, 1), (1, 0)]
    with pytest.raises(ValidationError, match=r"\(ArrayConnector\)\.array: shape must be "
                                              r"\(n_pre, n_post\) = \(3, 2\) \(got \(2, 3\)\)"):
        ArrayConnector(m).connect(3, 2, None)
    with pytest.raises(ValidationError, match="ArrayConnector.array: must be 2-D"):
        ArrayConnector([1, 0, 1])
    with pytest.raises(ValidationError, match="ArrayConnector.array: must hold booleans"):
        ArrayConnector([[0.5, 1.0]])


# --- DistanceDependentProbabilityConnector --------------------------------------

def test_distance_dependent_threshold_on_a_line():
    pos = Line(dx=1.0).generate_positions(20)
    c = DistanceDependentProbabilityConnector("d < 3").connect(
        20, 20, rng(), pre_positions=pos, post_positions=pos)
    check_sorted(c, 20, 20)
    assert pairs(c) == [(i, j) for i in range(20) for j in range(20) if abs(i - j) < 3]
    c = DistanceDependentProbabilityConnector("d < 3", allow_self_connections=False).connect(
        20, 20, rng(), same_population=True, pre_positions=pos, post_positions=pos)
    assert pairs(c) == [(i, j) for i in range(20) for j in range(20) if 0 < abs(i - j) < 3]


def test_distance_dependent_statistics_match_expression():
    n = 400
    pos = Line(dx=2.0).generate_positions(n)
    c = DistanceDependentProbabilityConnector("exp(-d/10)").connect(
        n, n, rng(4), pre_positions=pos, post_positions=pos)
    check_sorted(c, n, n)
    d = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :]) * 2.0
    p = np.exp(-d / 10.0)  # the expression by hand
    assert abs(c.pre.size - p.sum()) <= 5 * math.sqrt(np.sum(p * (1 - p)))
    # per distance: pairs at distance 10 um connect with probability exp(-1)
    dist = np.abs(c.pre - c.post) * 2.0
    n10 = np.sum(d == 10.0)
    q = math.exp(-1)
    assert abs(np.sum(dist == 10.0) - n10 * q) <= 5 * math.sqrt(n10 * q * (1 - q))
    assert np.all(np.isin(np.arange(n), c.pre[c.pre == c.post]))  # d = 0 -> p = 1


def test_distance_dependent_probability_clipping_and_periodic():
    conn = DistanceDependentProbabilityConnector("2 - d")
    assert np.array_equal(conn.probabilities([0.0, 1.5, 5.0]), [1.0, 0.5, 0.0])
    pos = Line().generate_positions(10)
    c = DistanceDependentProbabilityConnector("d < 1.5", periodic_boundaries=(10.0, None, None)).connect(
        10, 10, rng(), pre_positions=pos, post_positions=pos)
    assert (0, 9) in pairs(c) and (9, 0) in pairs(c) and (0, 5) not in pairs(c)


def test_distance_dependent_errors():
    with pytest.raises(ValidationError, match=r"DistanceDependentProbabilityConnector\.d_expression: "
                                              r"may only use the distance 'd' \(got x"):
        DistanceDependentProbabilityConnector("exp(-x/10)")
    with pytest.raises(ValidationError, match="d_expression"):
        DistanceDependentProbabilityConnector("__import__('os').system('true')")
    conn = DistanceDependentProbabilityConnector("exp(-d)")
    with pytest.raises(ValidationError, match=r"\.pre_positions: needs neuron positions"):
        conn.connect(3, 3, rng())
    pos = Line().generate_positions(3)
    with pytest.raises(ValidationError, match=r"\.post_positions: must have shape \(4, 3\)"):
        conn.connect(3, 4, rng(), pre_positions=pos, post_positions=pos)
    with pytest.raises(ValidationError, match="is NaN at d = 0"):
        DistanceDependentProbabilityConnector("d / d").connect(
            3, 3, rng(), pre_positions=pos, post_positions=pos)


# --- construction validation and descriptions -----------------------------------

@pytest.mark.parametrize("make,message", [
    (lambda: FixedProbabilityConnector(1.5), "FixedProbabilityConnector.p_connect: must be in [0, 1] (got 1.5)"),
    (lambda: FixedProbabilityConnector(-0.1), "FixedProbabilityConnector.p_connect: must be in [0, 1] (got -0.1)"),
    (lambda: FixedProbabilityConnector(float("nan")), "FixedProbabilityConnector.p_connect: must be in [0, 1] (got nan)"),
    (lambda: FixedProbabilityConnector("0.1"), "FixedProbabilityConnector.p_connect: must be in [0, 1] (got '0.1')"),
    (lambda: FixedNumberPreConnector(-1), "FixedNumberPreConnector.n: must be an integer >= 0 (got -1)"),
    (lambda: FixedNumberPostConnector(2.5), "FixedNumberPostConnector.n: must be an integer >= 0 (got 2.5)"),
    (lambda: AllToAllConnector(allow_self_connections="no"),
     "AllToAllConnector.allow_self_connections: must be True or False (got 'no')"),
])
def test_construction_messages(make, message):
    with pytest.raises(ValidationError) as info:
        make()
    assert str(info.value) == message


def test_connect_argument_checks():
    with pytest.raises(ValidationError, match=r"Projection \(FixedProbabilityConnector\)\.rng"):
        FixedProbabilityConnector(0.1).connect(3, 3, None)
    with pytest.raises(ValidationError, match=r"same_population.*3 != 4"):
        AllToAllConnector().connect(3, 4, None, same_population=True)
    with pytest.raises(ValidationError, match=r"n_pre: must be an integer >= 0 \(got -2\)"):
        AllToAllConnector().connect(-2, 4, None)


def test_repr_and_describe():
    assert repr(FixedProbabilityConnector(0.1)) == \
        "FixedProbabilityConnector(p_connect=0.1, allow_self_connections=True)"
    assert "probability" in FixedProbabilityConnector(0.1).describe()
    assert repr(FromListConnector([(0, 1, 0.5)])) == \
        "FromListConnector(<1 connections>, column_names=('weight',))"
    assert "exp(-d/10)" in repr(DistanceDependentProbabilityConnector("exp(-d/10)"))
    for conn in (AllToAllConnector(), OneToOneConnector(), FixedNumberPreConnector(2),
                 ArrayConnector([[True]])):
        assert type(conn).__name__ in conn.describe()
