"""Fused populations (numba backend): the same results as separate ones, bit for bit.

The oracle is the same network compiled with ``fuse=False`` (every population and projection
with its own arrays and loops, as validated against Brian2 and NEST elsewhere)."""
import re

import numpy as np
import pytest

import neurosim as ns
from neurosim.backends.numba import fusion
from neurosim.build import build
from neurosim.errors import SimulationDivergedError


def mixed_network():
    """Two identical populations (fused), one with tau_m per neuron (other code: not fused), a Poisson
    source, DC injection, per-neuron parameters, traces, one-delay and per-synapse-delay
    projections in an order where some may merge and some may not."""
    net = ns.Network(dt=0.1, seed=3)
    cell = ns.IF_curr_exp(tau_m=15.0, tau_refrac=2.0, v_thresh=-52.0)
    a = net.add(ns.Population(120, cell, label="a"))
    b = net.add(ns.Population(80, ns.IF_curr_exp(tau_m=15.0, tau_refrac=2.0, v_thresh=-52.0), label="b"))
    c = net.add(ns.Population(60, ns.IF_curr_exp(tau_m=ns.RandomDistribution("uniform", low=20.0, high=30.0),
                                                 tau_refrac=2.0, v_thresh=-52.0), label="c"))
    src = net.add(ns.Population(100, ns.SpikeSourcePoisson(rate=40.0), label="src"))
    for pop in (a, b, c):
        pop.initialize(v=ns.RandomDistribution("uniform", low=-65.0, high=-52.0))
        pop.set(i_offset=ns.RandomDistribution("uniform", low=0.0, high=0.4))
        pop.record("spikes")
    a.record("v", indices=[0, 5, 119], sampling_interval=0.5)
    b.record(["v", "isyn_exc"], sampling_interval=0.5)
    ns.DCSource(amplitude=0.3, start=20.0, stop=60.0).inject_into(b[10:30])
    exc, inh = dict(receptor_type="excitatory"), dict(receptor_type="inhibitory")
    conn = ns.FixedProbabilityConnector(0.1)
    net.add(ns.Projection(src, a, conn, ns.StaticSynapse(weight=0.25, delay=1.0), label="src_a", **exc))
    net.add(ns.Projection(a, a, conn, ns.StaticSynapse(weight=0.05, delay=0.5), label="a_a", **exc))
    net.add(ns.Projection(b, a, conn, ns.StaticSynapse(weight=-0.2, delay=0.5), label="b_a", **inh))
    net.add(ns.Projection(src, b, conn, ns.StaticSynapse(weight=0.25, delay=1.0), label="src_b", **exc))
    net.add(ns.Projection(b, b, conn, ns.StaticSynapse(weight=-0.2, delay=0.5), label="b_b", **inh))
    net.add(ns.Projection(a, b, conn, ns.StaticSynapse(weight=0.04, delay=1.0), label="a_b_slow", **exc))
    net.add(ns.Projection(b, b, conn, ns.StaticSynapse(weight=0.03, delay=0.5), label="b_b_exc", **exc))
    net.add(ns.Projection(a, c, conn, ns.StaticSynapse(
        weight=0.05, delay=ns.RandomDistribution("uniform", low=0.5, high=3.0)), label="a_c", **exc))
    net.add(ns.Projection(c, b, conn, ns.StaticSynapse(
        weight=-0.1, delay=ns.RandomDistribution("uniform", low=0.5, high=3.0)), label="c_b", **inh))
    net.add(ns.Projection(a[0:60], b[::2], ns.FixedProbabilityConnector(0.3),
                          ns.StaticSynapse(weight=0.02, delay=0.5), label="view", **exc))
    return net


def plastic_network():
    net = ns.Network(dt=0.1, seed=5)
    src = net.add(ns.Population(150, ns.SpikeSourcePoisson(rate=25.0), label="src"))
    e1 = net.add(ns.Population(40, ns.IF_cond_exp(tau_refrac=2.0), label="e1"))
    e2 = net.add(ns.Population(30, ns.IF_cond_exp(tau_refrac=2.0), label="e2"))
    for pop in (e1, e2):
        pop.record("spikes")
    stdp = ns.STDPMechanism(ns.SpikePairRule(A_plus=0.01, A_minus=0.012), ns.AdditiveWeightDependence(0.0, 0.02),
                            weight=ns.RandomDistribution("uniform", low=0.0, high=0.02), delay=1.0)
    net.add(ns.Projection(src, e1, ns.FixedProbabilityConnector(0.3), stdp, label="src_e1"))
    net.add(ns.Projection(e1, e2, ns.FixedProbabilityConnector(0.3), stdp, label="e1_e2"))
    net.add(ns.Projection(src, e2, ns.FixedProbabilityConnector(0.3), ns.StaticSynapse(weight=0.01, delay=1.0),
                          label="src_e2"))
    net.add(ns.Projection(e2, e1, ns.FixedProbabilityConnector(0.2), ns.StaticSynapse(weight=0.01, delay=1.0),
                          label="e2_e1", receptor_type="inhibitory"))
    return net


def compile_both(make, **options):
    fused, separate = ns.compile(make(), fuse=True, **options), ns.compile(make(), fuse=False, **options)
    return fused, separate


def assert_same_results(fused, separate, net):
    for pop in net.populations:
        f, s = fused.results.spikes(pop.label), separate.results.spikes(pop.label)
        assert np.array_equal(f[0], s[0]) and np.array_equal(f[1], s[1]), pop.label
        if pop.label != "src":
            assert np.array_equal(fused.get(pop.label, "v"), separate.get(pop.label, "v")), pop.label
    for proj in net.projections:
        assert np.array_equal(fused.get_weights(proj.label, format="list"),
                              separate.get_weights(proj.label, format="list")), proj.label


def run_both(make, duration, **options):
    """Run the network of ``make`` fused and separate; check they agree; return both and it."""
    fused, separate = compile_both(make, **options)
    for sim in (fused, separate):
        sim.run(duration)
    net = make()
    assert_same_results(fused, separate, net)
    return fused, separate, net


def assert_same_trace(fused, separate, label, var):
    f, s = fused.results.trace(label, var), separate.results.trace(label, var)
    assert all(np.array_equal(x, y) for x, y in zip(f, s)), (label, var)


def neuron_loops(sim):
    """Neuron update loops in the kernel source (``for i in range(s<k>_<var>.shape[0])``)."""
    return sum(bool(re.match(r"\s*for i in p?range\(s\d+_", line)) for line in open(sim.kernel_path))


@pytest.mark.parametrize("numerics", ["float32", "float64"])
def test_fused_populations_give_bit_identical_spikes_state_traces_and_weights(numerics):
    fused, separate, _ = run_both(mixed_network, 150.0, numerics=numerics)
    assert len(fused.results.spikes("a")[0]) > 100 and len(fused.results.spikes("b")[0]) > 50
    for label, var in (("a", "v"), ("b", "v"), ("b", "isyn_exc")):
        assert_same_trace(fused, separate, label, var)
    assert fused.results.trace("a", "v")[2].tolist() == [0, 5, 119]
    # a and b share one neuron loop; c (tau_m per neuron) keeps its own
    assert (neuron_loops(fused), neuron_loops(separate)) == (2, 3)


def test_plastic_projections_between_fused_populations():
    fused, _, _ = run_both(plastic_network, 300.0)
    assert neuron_loops(fused) == 1
    assert not np.array_equal(fused.get_weights("e1_e2", format="list"),
                              ns.compile(plastic_network()).get_weights("e1_e2", format="list")), "no learning"


def test_set_get_and_weights_of_merged_projections_address_each_projection():
    fused, separate = compile_both(mixed_network)
    for sim in (fused, separate):
        sim.set_weights("b_b", -0.11)                # merged with b_a in the fused kernel
        sim.set("b", v=-53.0)
        sim.run(80.0)
    assert_same_results(fused, separate, mixed_network())
    weights = fused.get_weights("b_b", format="list")[:, 2]
    assert np.allclose(weights, -0.11) and len(weights) > 100
    assert np.allclose(fused.get_weights("b_a", format="list")[:, 2], -0.2)
    layout = fusion.fuse(build(mixed_network()))
    assert layout.place == {0: (0, 0), 1: (0, 120), 2: (2, 0)}
    merged = {j: lead for j, (lead, _) in layout.positions.items()}
    # src_a + src_b and b_a + b_b merge; b_b_exc may not join a_a: a_b_slow, delivered in
    # between, also adds to b's isyn_exc, and moving b_b_exc ahead would change their order
    assert merged == {0: 0, 3: 0, 2: 2, 4: 2}


def test_fusion_needs_the_same_code():
    def network(tau_b, record_every_b):
        net = ns.Network(dt=0.1)
        a = net.add(ns.Population(10, ns.IF_curr_exp(), label="a"))
        b = net.add(ns.Population(10, ns.IF_curr_exp(tau_m=tau_b), label="b"))
        a.record("v", sampling_interval=1.0)
        b.record("v", sampling_interval=record_every_b)
        return build(net)
    assert fusion.fuse(network(20.0, 1.0)).place[1] == (0, 10)
    assert fusion.fuse(network(21.0, 1.0)).place[1] == (0, 10)      # another value: per-neuron constants
    per_neuron = ns.RandomDistribution("uniform", low=19.0, high=21.0)
    assert fusion.fuse(network(per_neuron, 1.0)).place[1] == (1, 0)  # tau_m per neuron: other code
    assert fusion.fuse(network(20.0, 2.0)).place[1] == (1, 0)      # another sampling interval
    assert fusion.fuse(network(20.0, 1.0), enabled=False).place[1] == (1, 0)


def values_network():
    """Populations of one cell type with other single values (tau_m and the DC drive enter the
    exact propagator, v_reset the reset, tau_refrac the countdown), and an rk4 model whose
    populations differ in a parameter of their equations; one-delay and per-synapse delays."""
    net = ns.Network(dt=0.1, seed=11)
    lif = [net.add(ns.Population(n, ns.IF_curr_exp(tau_m=tau, i_offset=dc, v_reset=reset, tau_refrac=ref),
                                 label=f"lif{m}"))
           for m, (n, tau, dc, reset, ref) in enumerate(((90, 10.0, 1.8, -65.0, 2.0), (60, 15.0, 1.3, -62.0, 2.0),
                                                         (50, 10.0, 2.2, -65.0, 3.0)))]
    izh = ns.NeuronModel("""
        dv/dt = (0.04*v**2 + 5*v + 140 - u + I)/ms_ : mV
        du/dt = a*(b*v - u)/ms_ : mV
        I : mV
    """, threshold="v >= 30", reset="v = -65; u += d", method="rk4",
        parameters=dict(a=0.02, b=0.2, d=8.0, ms_=1.0), initial=dict(v=-65.0, u=-13.0, I=0.0),
        receptors={"excitatory": "v += weight"})
    fast = ns.NeuronModel(izh.equations.source, threshold="v >= 30", reset="v = -65; u += d", method="rk4",
                          parameters=dict(a=0.1, b=0.2, d=2.0, ms_=1.0), initial=dict(v=-65.0, u=-13.0, I=0.0),
                          receptors={"excitatory": "v += weight"})
    rs = net.add(ns.Population(40, izh, label="rs"))
    fs = net.add(ns.Population(30, fast, label="fs"))
    for pop in (*lif, rs, fs):
        pop.record("spikes")
    for pop in (rs, fs):
        pop.initialize(I=ns.RandomDistribution("uniform", low=4.0, high=12.0))
    for pop in lif:
        pop.initialize(v=ns.RandomDistribution("uniform", low=-65.0, high=-50.0))
    lif[1].record("v", sampling_interval=1.0)
    lif[2].record("v", sampling_interval=1.0)
    conn = ns.FixedProbabilityConnector(0.1)
    for pre in lif:
        for post in lif:
            net.add(ns.Projection(pre, post, conn, ns.StaticSynapse(weight=0.05, delay=1.0)))
    net.add(ns.Projection(lif[0], rs, conn, ns.StaticSynapse(
        weight=2.0, delay=ns.RandomDistribution("uniform", low=0.5, high=2.0))))
    net.add(ns.Projection(lif[1], fs, conn, ns.StaticSynapse(weight=2.0, delay=0.5)))
    net.add(ns.Projection(rs, lif[2], conn, ns.StaticSynapse(weight=0.3, delay=0.7), receptor_type="inhibitory"))
    return net


@pytest.mark.parametrize("numerics", ["float32", "float64"])
def test_populations_with_other_single_values_fuse_bit_identically(numerics):
    fused, separate, net = run_both(values_network, 120.0, numerics=numerics)
    assert all(len(fused.results.spikes(p.label)[0]) > 20 for p in net.populations)
    for label in ("lif1", "lif2"):
        assert_same_trace(fused, separate, label, "v")
    assert (neuron_loops(fused), neuron_loops(separate)) == (2, 5)
    source = open(fused.kernel_path).read()
    assert "C0_0[i]" in source and "p0_v_reset[i]" in source and "refsteps0[i]" in source


def test_divergence_in_a_fused_population_names_it_and_its_neuron():
    model = ns.NeuronModel("dv/dt = v / tau : mV", threshold=None, parameters=dict(tau=1.0), initial=dict(v=0.0))
    net = ns.Network(dt=0.1)
    net.add(ns.Population(5, model, label="quiet"))
    net.add(ns.Population(5, model, label="loud"))
    sim = ns.compile(net)
    sim.set("loud", v=np.array([0.0, 0.0, 0.0, 1e30, 0.0]))
    with pytest.raises(SimulationDivergedError, match=r"Population 'loud'.*\(neuron 3\)"):
        sim.run(100.0)


def test_fuse_option_is_checked():
    with pytest.raises(ns.ValidationError, match="fuse: must be True or False"):
        ns.compile(mixed_network(), fuse="yes")


def test_checkpoint_keeps_the_layout_it_was_written_with(tmp_path):
    whole = ns.compile(mixed_network())                      # fused
    whole.run(100.0)
    first = ns.compile(mixed_network(), fuse=False)
    first.run(40.0)
    restored = ns.restore(first.checkpoint(tmp_path / "state"))   # arrays of the unfused kernel
    later = restored.run(60.0)
    for label in ("a", "b", "c"):
        before = first.results.spikes(label)
        times = np.concatenate([before[0], later.spikes(label)[0]])
        ids = np.concatenate([before[1], later.spikes(label)[1]])
        reference = whole.results.spikes(label)
        assert np.array_equal(times, reference[0]) and np.array_equal(ids, reference[1]), label
