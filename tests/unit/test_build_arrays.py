"""The array helpers of the build: CSR row pointers, finiteness checks, delays turned into steps."""
import numpy as np
import pytest

import neurosim as ns
from neurosim.backends.numba.rings import csr_rows
from neurosim.build import build
from neurosim.connectors import Connections, Connector, FixedTotalNumberConnector
from neurosim.random import all_finite


def counted_row_pointers(pre, n_pre):
    ptr = [0]
    for i in range(n_pre):
        ptr.append(ptr[-1] + sum(1 for p in pre if p == i))
    return ptr


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("n_pre, n", [(1, 0), (1, 3), (5, 1), (7, 40), (30, 12)])
def test_csr_rows_of_sorted_and_unsorted_indices(dtype, n_pre, n):
    pre = np.random.default_rng(n_pre * 100 + n).integers(0, n_pre, n).astype(dtype)
    order, ptr = csr_rows(pre, n_pre)
    assert ptr.dtype == np.int64 and ptr.tolist() == counted_row_pointers(pre.tolist(), n_pre)
    listed = pre if order is None else pre[order]
    assert np.all(listed[1:] >= listed[:-1])
    if order is not None:       # stable: equal rows keep their order
        for i in range(n_pre):
            rows = order[pre[order] == i]
            assert np.all(rows[1:] > rows[:-1])
    order, ptr = csr_rows(np.sort(pre), n_pre)
    assert order is None and ptr.tolist() == counted_row_pointers(pre.tolist(), n_pre)


@pytest.mark.parametrize("where", [0, 5, 9])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_all_finite_finds_a_bad_value_anywhere(where, bad):
    values = np.linspace(-1.0, 1.0, 10)
    assert all_finite(values)
    values[where] = bad
    assert not all_finite(values)


def test_all_finite_of_empty_and_integer_arrays():
    assert all_finite(np.zeros(0)) and all_finite(np.arange(5)) and all_finite([1.0, 2.0])


class StoredConnector(Connector):
    """A user's connector that hands out its own stored arrays (no copies)."""

    def __init__(self):
        self.pre, self.post = np.array([0, 1, 1]), np.array([1, 0, 1])
        self.weights, self.delays = np.array([0.5, 0.25, 0.25]), np.array([1.26, 2.0, 0.34])

    def _connect(self, n_pre, n_post, rng, same, pre_pos, post_pos, obj):
        return Connections(self.pre, self.post, self.weights, self.delays)


@pytest.mark.parametrize("connector", [StoredConnector(), ns.FromListConnector(
    [(0, 1, 0.5, 1.26), (1, 0, 0.25, 2.0), (1, 1, 0.25, 0.34)])])
def test_delays_from_a_connector_are_left_as_they_are(connector):
    # the build turns delays it drew into steps in place; a connector's own delays must not change
    net = ns.Network(dt=0.1)
    a = net.add(ns.Population(2, ns.IF_curr_exp(), label="a"))
    net.add(ns.Projection(a, a, connector, ns.StaticSynapse(), label="a->a"))
    first = build(net).projections[0].delay_steps.tolist()
    second = build(net).projections[0].delay_steps.tolist()
    assert first == second == [13, 20, 3]       # (0, 1), (1, 0), (1, 1): 1.26, 2.0, 0.34 ms
    assert connector.connect(2, 2, None).delays.tolist() == [1.26, 2.0, 0.34]


def test_drawn_delays_become_steps_rounded_to_nearest():
    net = ns.Network(dt=0.1, seed=4)
    a = net.add(ns.Population(20, ns.IF_curr_exp(), label="a"))
    delay = ns.RandomDistribution("uniform", low=0.1, high=3.0)
    net.add(ns.Projection(a, a, ns.AllToAllConnector(), ns.StaticSynapse(delay=delay), label="a->a"))
    steps = np.asarray(build(net).projections[0].delay_steps)
    drawn = delay.draw(400, net.rng("weights", 0))  # the build draws from this stream, weights first
    assert steps.dtype == np.int16 and steps.tolist() == [int(np.floor(d / 0.1 + 0.5)) for d in drawn]


@pytest.mark.parametrize("drawn", [True, False])
def test_too_long_delay_is_reported_in_ms(drawn):
    net = ns.Network(dt=0.1)
    a = net.add(ns.Population(2, ns.IF_curr_exp(), label="a"))
    if drawn:
        synapse = ns.StaticSynapse(delay=ns.RandomDistribution("uniform", low=4000.0, high=4000.5))
        net.add(ns.Projection(a, a, ns.AllToAllConnector(), synapse, label="a->a"))
    else:
        net.add(ns.Projection(a, a, ns.FromListConnector([(0, 1, 0.1, 1.0), (1, 0, 0.1, 4000.25)]),
                              ns.StaticSynapse(), label="a->a"))
    with pytest.raises(ns.ValidationError, match=r"'a->a'\.delay: at most 3276\.7 ms at dt = 0\.1 ms "
                                                  r"\(got 4000\.[0-9]+\)"):
        build(net)


def test_float32_build_holds_the_weights_a_float32_kernel_runs_with():
    net = ns.Network(dt=0.1, seed=7)
    a = net.add(ns.Population(30, ns.IF_curr_exp(), label="a"))
    weight = ns.RandomDistribution("normal_clipped", mu=0.1, sigma=0.05, low=0.0, high=1.0)
    proj = net.add(ns.Projection(a, a, FixedTotalNumberConnector(200), ns.StaticSynapse(weight=weight),
                                 label="a->a"))
    wide, narrow = build(net).projections[0], build(net, weight_dtype=np.float32).projections[0]
    assert wide.weights.dtype == np.float64 and narrow.weights.dtype == np.float32
    assert np.array_equal(narrow.weights, wide.weights.astype(np.float32))
    assert np.array_equal(narrow.pre_idx, wide.pre_idx) and np.array_equal(narrow.post_idx, wide.post_idx)
    rows = ns.compile(net).get_weights(proj, format="list")       # numerics="float32"
    assert np.array_equal(rows[:, 0], wide.pre_idx) and np.array_equal(rows[:, 1], wide.post_idx)
    assert np.array_equal(rows[:, 2], wide.weights.astype(np.float32))
    assert np.array_equal(ns.compile(net, numerics="float64").get_weights(proj, format="list")[:, 2],
                          wide.weights)
