"""Memory estimates and the resource guard: a network that cannot fit is refused, quickly,
with the estimate and the available memory in the message."""
import time
import tracemalloc

import numpy as np
import pytest

import neurosim as ns
from neurosim import resources
from neurosim.backends import get_backend
from neurosim.build import build
from neurosim.connectors import FixedTotalNumberConnector
from neurosim.models.benchmark_networks import cuba_network

GiB = 1 << 30


def two_populations(n_pre, n_post, connector, synapse=None):
    net = ns.Network(dt=0.1, seed=1, label="big")
    pre = net.add(ns.Population(n_pre, ns.SpikeSourcePoisson(rate=5.0), label="pre"))
    post = net.add(ns.Population(n_post, ns.IF_curr_exp(), label="post"))
    net.add(ns.Projection(pre, post, connector, synapse or ns.StaticSynapse(weight=0.1, delay=1.0)))
    return net


def test_available_memory_is_read_from_the_system():
    available = resources.available_memory()
    assert isinstance(available, int) and available > 16 * (1 << 20)


def test_a_trillion_pair_network_is_refused_before_anything_is_allocated():
    net = two_populations(10**6, 10**6, ns.FixedProbabilityConnector(0.5))
    get_backend("numba")
    import numba  # noqa: F401  (compile imports numba: not part of the refusal)
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(ns.ValidationError) as info:
        ns.compile(net)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert isinstance(info.value, ns.NeurosimError)
    assert (info.value.obj, info.value.attr) == ("Network", "memory")
    text = str(info.value)
    assert "Network 'big'" in text and "TiB" in text and "available" in text
    assert "5e+11 synapses" in text                      # the largest part is named
    estimate = resources.estimate_network(net)
    assert estimate > 5e11 * 48                          # at least the built synapse arrays
    assert f"{estimate:.3g} bytes" in text
    assert elapsed < 1.0, f"refusing took {elapsed:.2f} s"
    assert peak < 50 * (1 << 20), f"{peak / 2**20:.0f} MiB were allocated before refusing"


@pytest.mark.parametrize("connector, expected", [
    (ns.AllToAllConnector(), 1000 * 2000),
    (ns.FixedProbabilityConnector(0.1), 0.1 * 1000 * 2000),
    (ns.FixedNumberPreConnector(7), 7 * 2000),
    (ns.FixedNumberPostConnector(7), 7 * 1000),
    (FixedTotalNumberConnector(12345), 12345),
    (ns.FromListConnector([(0, 1), (2, 3), (4, 5)]), 3),
    (ns.ArrayConnector(np.eye(1000, 2000, dtype=bool)), 1000),
])
def test_expected_synapses_follow_the_connector_rule(connector, expected):
    net = two_populations(1000, 2000, connector)
    assert resources.expected_synapses(net.projections[0]) == pytest.approx(expected)


def test_one_to_one_and_self_connections():
    net = ns.Network()
    pop = net.add(ns.Population(100, ns.IF_curr_exp(), label="p"))
    proj = net.add(ns.Projection(pop, pop, ns.AllToAllConnector(allow_self_connections=False)))
    assert resources.expected_synapses(proj) == 100 * 99
    proj = net.add(ns.Projection(pop, pop, ns.OneToOneConnector()))
    assert resources.expected_synapses(proj) == 100


def test_estimates_agree_with_each_other_and_with_the_built_network():
    net = cuba_network(n_neurons=4000, p_connect=0.02)
    before = resources.estimate_network(net)
    built = build(net)
    after = resources.estimate_memory(built)
    synapses = sum(len(p.pre_idx) for p in built.projections)
    assert synapses == pytest.approx(0.02 * 4000 * 4000, rel=0.02)
    assert 0.5 < before / after < 2.0
    # at least what build() holds, at most a few times it
    held = sum(a.nbytes for p in built.projections for a in (p.pre_idx, p.post_idx, p.weights, p.delay_steps))
    assert held < after < 10 * held + (64 << 20)
    assert resources.estimate_memory(built, dtype_bytes=8) > after


def test_estimate_covers_what_build_and_compile_allocate():
    net = cuba_network(n_neurons=8000, p_connect=0.01)
    estimate = resources.estimate_network(net)
    tracemalloc.start()
    sim = ns.compile(net, quiet=True)
    sim.run(1.0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1.3 * estimate, f"peak {peak / 2**20:.0f} MiB, estimate {estimate / 2**20:.0f} MiB"
    assert estimate < 4 * peak


def test_trace_recording_counts_per_chunk():
    net = ns.Network()
    pop = net.add(ns.Population(10000, ns.IF_curr_exp(), label="p"))
    base = resources.estimate_network(net)
    pop.record("v")
    chunk = 2 * (resources.CHUNK_STEPS + 1) * 10000 * 4
    assert resources.estimate_network(net) - base == pytest.approx(chunk, rel=0.01)


def test_check_fits(monkeypatch):
    monkeypatch.setattr(resources, "available_memory", lambda: 10 * GiB)
    assert resources.check_fits(7 * GiB, "Network 'x'") == 10 * GiB
    with pytest.raises(ns.ValidationError) as info:
        resources.check_fits(9 * GiB, "Network 'x'", {"projection 'a->b'": 8 * GiB, "population 'a'": GiB})
    text = str(info.value)
    assert text.startswith("Network.memory: Network 'x' needs about 9 GiB")
    assert "only 10 GiB is available" in text and "80%" in text and "projection 'a->b' 8 GiB" in text
    monkeypatch.setattr(resources, "available_memory", lambda: None)
    assert resources.check_fits(10**20, "Network 'x'") is None   # unknown: nothing to compare with


def test_build_refuses_what_does_not_fit_and_accepts_what_does(monkeypatch):
    monkeypatch.setattr(resources, "available_memory", lambda: 1 * GiB)
    ok = two_populations(100, 100, ns.AllToAllConnector())
    assert len(build(ok).projections[0].pre_idx) == 100 * 100
    too_big = two_populations(20000, 20000, ns.AllToAllConnector())   # 4e8 synapses
    with pytest.raises(ns.ValidationError, match=r"Network\.memory: Network 'big' needs about .* GiB"):
        build(too_big)
    many_neurons = ns.Network(label="neurons")
    many_neurons.add(ns.Population(2 * 10**9, ns.IF_curr_exp(), label="huge"))
    with pytest.raises(ns.ValidationError, match=r"population 'huge'"):
        build(many_neurons)


def test_delay_distributions_count_their_ring_buffers():
    short = two_populations(10, 1000, ns.AllToAllConnector(),
                            ns.StaticSynapse(0.1, ns.RandomDistribution("uniform", (0.1, 1.0))))
    long = two_populations(10, 1000, ns.AllToAllConnector(),
                           ns.StaticSynapse(0.1, ns.RandomDistribution("uniform", (0.1, 1000.0))))
    assert resources.estimate_network(long) - resources.estimate_network(short) > 3 * 9000 * 1000 * 4 * 0.9


@pytest.mark.parametrize("fuse", [False, True])
def test_compiled_static_projections_keep_row_pointers_not_presynaptic_indices(fuse):
    """After ns.compile the built network keeps, for static one-delay projections in CSR order,
    the row pointers instead of one presynaptic index per synapse, and its targets are the
    kernel's array; the indices it gives back (and get_weights) are those build() made.  Also
    when a and b run as one fused population (b's kernel indices are shifted by 300)."""
    net = ns.Network(dt=0.1, seed=3)
    a = net.add(ns.Population(300, ns.IF_curr_exp(), label="a"))
    b = net.add(ns.Population(200, ns.IF_curr_exp(), label="b"))
    weights = ns.RandomDistribution("uniform", low=0.1, high=0.2)
    ab = net.add(ns.Projection(a, b, ns.FixedProbabilityConnector(0.1), ns.StaticSynapse(weight=weights, delay=1.0)))
    view = net.add(ns.Projection(a[50:150], b[::2], ns.FixedProbabilityConnector(0.2),
                                 ns.StaticSynapse(weight=weights, delay=1.0)))
    reference = build(net)
    sim = ns.compile(net, backend="numba", quiet=True, fuse=fuse)
    kernel_arrays = [arg for arg in sim._args.values() if isinstance(arg, np.ndarray)]
    assert (sim.built.projections[0].post_shift == 300) == fuse
    for proj, ref in zip(sim.built.projections, reference.projections):
        assert proj._pre_idx is None and proj.pre_rows is not None
        assert proj.n_synapses == ref.n_synapses > 0
        assert np.array_equal(proj.pre_idx, ref.pre_idx) and np.array_equal(proj.pre_local, ref.pre_local)
        assert np.array_equal(proj.post_idx, ref.post_idx) and np.array_equal(proj.post_local, ref.post_local)
        assert any(np.shares_memory(proj._post_idx, arg) for arg in kernel_arrays)
    for proj, ref_proj in ((ab, reference.projections[0]), (view, reference.projections[1])):
        got = sim.get_weights(proj, format="list")
        assert np.array_equal(got[:, 0], ref_proj.pre_local) and np.array_equal(got[:, 1], ref_proj.post_local)
        assert np.allclose(got[:, 2], ref_proj.weights, rtol=1e-6)
