"""NIR export/import: round trips give the same spikes; imported graphs follow the closed-form
solutions of NIR's own node equations (the nir package documents them)."""
import math
import warnings

import nir   # a declared test dependency (neurosim[test]): a missing package fails loudly
import numpy as np
import pytest

import neurosim as ns

DT = 0.1


def _run(net, duration):
    return ns.compile(net, numerics="float64", quiet=True).run(duration)


def _same_spikes(net_a, net_b, labels, duration):
    ra, rb = _run(net_a, duration), _run(net_b, duration)
    counts = []
    for label in labels:
        (ta, ia), (tb, ib) = ra.spikes(label), rb.spikes(label)
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_array_equal(ia, ib)
        counts.append(len(ta))
    return counts


def test_cuba_with_two_synaptic_time_constants_round_trips_through_a_file(tmp_path):
    net = ns.Network(dt=DT, seed=1)
    cell = ns.IF_curr_exp(cm=0.2, tau_m=20.0, v_rest=-49.0, v_thresh=-50.0, v_reset=-60.0, tau_refrac=0.0,
                          tau_syn_E=5.0, tau_syn_I=10.0)
    exc = net.add(ns.Population(160, cell, label="exc"))
    inh = net.add(ns.Population(40, cell, label="inh"))
    for pre, w, rtype in ((exc, 0.04, "excitatory"), (inh, -0.2, "inhibitory")):
        for post in (exc, inh):
            net.add(ns.Projection(pre, post, ns.FixedProbabilityConnector(0.2),
                                  ns.StaticSynapse(weight=w, delay=DT), receptor_type=rtype))
    for pop in (exc, inh):
        pop.record("spikes")
    graph = ns.to_nir(net)
    kinds = {name: type(node).__name__ for name, node in graph.nodes.items()}
    assert kinds["exc"] == "LIF" and kinds["exc.inhibitory_current"] == "LI"   # two taus: LI + LIF
    nir.write(tmp_path / "cuba.nir", graph)
    back = ns.from_nir(tmp_path / "cuba.nir", dt=DT)
    counts = _same_spikes(net, back, ["exc", "inh"], 300.0)
    assert min(counts) > 20   # the network is active, so equality means something


def test_delays_inputs_delta_cells_and_cuba_lif_round_trip():
    net = ns.Network(dt=DT, seed=2)
    rng = np.random.default_rng(0)
    trains = [np.sort(rng.uniform(0, 200, 15)).round(1) for _ in range(30)]
    src = net.add(ns.Population(30, ns.SpikeSourceArray(trains), label="src"))
    a = net.add(ns.Population(20, ns.IF_curr_exp(tau_syn_E=3.0, tau_syn_I=3.0, tau_refrac=0.0), label="a"))
    b = net.add(ns.Population(10, ns.IF_curr_delta(tau_refrac=0.0), label="b"))
    delays = np.repeat(np.arange(1, 31) * 0.3, 20).reshape(30, 20)   # one delay per presynaptic neuron
    conn = [(i, j, 0.9, delays[i, j]) for i in range(30) for j in range(20) if (i + j) % 3]
    net.add(ns.Projection(src, a, ns.FromListConnector(conn), ns.StaticSynapse()))
    net.add(ns.Projection(a, b, ns.AllToAllConnector(), ns.StaticSynapse(weight=4.0, delay=1.5)))
    net.add(ns.Projection(b, a, ns.AllToAllConnector(), ns.StaticSynapse(weight=-0.5, delay=0.2),
                          receptor_type="inhibitory"))
    a.record("spikes")
    b.record("spikes")
    graph = ns.to_nir(net)
    kinds = {name: type(node).__name__ for name, node in graph.nodes.items()}
    assert kinds["a"] == "CubaLIF" and kinds["b"] == "LIF" and kinds["src"] == "Input"
    assert sum(k == "Delay" for k in kinds.values()) == 3   # every projection has delays beyond one step
    back = ns.from_nir(graph, dt=DT, inputs={"src": trains})
    counts = _same_spikes(net, back, ["a", "b"], 250.0)
    assert min(counts) > 5


def _single(node, size=1):
    """Input -> Linear -> node -> Output."""
    return nir.NIRGraph(nodes={"in": nir.Input(input_type=np.array([1])),
                               "w": nir.Linear(weight=np.full((size, 1), 2e-3)),
                               "cell": node, "out": nir.Output(output_type=np.array([size]))},
                        edges=[("in", "w"), ("w", "cell"), ("cell", "out")])


def test_cuba_lif_psp_matches_the_closed_form():
    tau_syn, tau_mem, r, w_in, v_leak = 0.005, 0.02, 50.0, 1.5, -65.0
    node = nir.CubaLIF(tau_syn=np.array([tau_syn]), tau_mem=np.array([tau_mem]), r=np.array([r]),
                       v_leak=np.array([v_leak]), v_threshold=np.array([0.0]), v_reset=np.array([-70.0]),
                       w_in=np.array([w_in]))
    net = ns.from_nir(_single(node), dt=DT, inputs={"in": [[10.0]]})
    net.population("cell").record("v")
    tr = ns.compile(net, numerics="float64", quiet=True).run(80.0).trace("cell", "v")
    t = (tr.times - 10.0 - DT) / 1000.0                    # NIR delay 0 = one neurosim step
    jump = w_in * 2e-3 / tau_syn                           # nA
    u = np.where(t >= 0, r * jump * tau_syn / (tau_syn - tau_mem)
                 * (np.exp(-np.clip(t, 0, None) / tau_syn) - np.exp(-np.clip(t, 0, None) / tau_mem)), 0.0)
    np.testing.assert_allclose(tr.values[:, 0] - v_leak, u, atol=1e-9 * r * jump)
    assert u.max() > 1.0   # a visible PSP (mV)


def test_lif_and_if_driven_by_a_bias_fire_at_the_analytic_times():
    tau, r, b, v_leak, theta, v_reset = 0.01, 10.0, 2.0, 0.0, 15.0, 0.0
    nodes = {"in": nir.Input(input_type=np.array([1])),
             "drive": nir.Affine(weight=np.zeros((1, 1)), bias=np.array([b])),
             "lif": nir.LIF(tau=np.array([tau]), r=np.array([r]), v_leak=np.array([v_leak]),
                            v_threshold=np.array([theta]), v_reset=np.array([v_reset])),
             "drive2": nir.Affine(weight=np.zeros((1, 1)), bias=np.array([100 * b])),
             "if": nir.IF(r=np.array([r]), v_threshold=np.array([theta]), v_reset=np.array([0.0]))}
    edges = [("in", "drive"), ("drive", "lif"), ("in", "drive2"), ("drive2", "if")]
    net = ns.from_nir(nir.NIRGraph(nodes=nodes, edges=edges), dt=0.01)
    res = ns.compile(net, numerics="float64", quiet=True).run(100.0)
    period_lif = -tau * math.log(1 - (theta - v_leak) / (r * b)) * 1000.0    # ms, v from 0 to theta
    period_if = theta / (r * 100 * b) * 1000.0                                # dv/dt = r*b (per s)
    for label, period in (("lif", period_lif), ("if", period_if)):
        times = res.spikes(label)[0]
        assert len(times) >= 3
        # spikes fall on the 0.01 ms grid: the first and every interval within one step of the period
        assert abs(times[0] - period) <= 0.01 + 1e-9
        np.testing.assert_allclose(np.diff(times), period, atol=0.01 + 1e-9)


def test_cuba_lif_bias_rises_through_the_synaptic_filter():
    tau_syn, tau_mem, r, w_in, b = 0.01, 0.02, 20.0, 0.5, 1.2
    nodes = {"in": nir.Input(input_type=np.array([1])),
             "drive": nir.Affine(weight=np.zeros((1, 1)), bias=np.array([b])),
             "cell": nir.CubaLIF(tau_syn=np.array([tau_syn]), tau_mem=np.array([tau_mem]), r=np.array([r]),
                                 v_leak=np.array([0.0]), v_threshold=np.array([100.0]),
                                 v_reset=np.array([0.0]), w_in=np.array([w_in]))}
    net = ns.from_nir(nir.NIRGraph(nodes=nodes, edges=[("in", "drive"), ("drive", "cell")]), dt=DT)
    net.population("cell").record("v")
    tr = ns.compile(net, numerics="float64", quiet=True).run(100.0).trace("cell", "v")
    t = tr.times / 1000.0
    u = r * w_in * b * ((1 - np.exp(-t / tau_mem))
                        - tau_syn / (tau_syn - tau_mem) * (np.exp(-t / tau_syn) - np.exp(-t / tau_mem)))
    np.testing.assert_allclose(tr.values[:, 0], u, atol=1e-9)
    assert u[-1] > 0.9 * r * w_in * b


def test_li_readout_decays_from_the_jump():
    tau, r, v_leak = 0.03, 4.0, -1.0
    graph = _single(nir.LI(tau=np.array([tau]), r=np.array([r]), v_leak=np.array([v_leak])))
    net = ns.from_nir(graph, dt=DT, inputs={"in": [[5.0]]})
    tr = ns.compile(net, numerics="float64", quiet=True).run(60.0).trace("cell", "v")
    t = (tr.times - 5.0 - DT) / 1000.0
    expected = v_leak + np.where(t >= 0, r * 2e-3 / tau * np.exp(-np.clip(t, 0, None) / tau), 0.0)
    np.testing.assert_allclose(tr.values[:, 0], expected, atol=1e-12)


def test_export_refusals_and_warnings():
    def net_with(cell, synapse=None, source=None):
        net = ns.Network(dt=DT, seed=1)
        pre = net.add(ns.Population(2, source or ns.SpikeSourceArray([[1.0]] * 2), label="pre"))
        post = net.add(ns.Population(2, cell, label="post"))
        net.add(ns.Projection(pre, post, ns.AllToAllConnector(), synapse or ns.StaticSynapse(0.01, 1.0)))
        return net
    with pytest.raises(ns.UnsupportedFeatureError, match="IF_cond_exp"):
        ns.to_nir(net_with(ns.IF_cond_exp()))
    with pytest.raises(ns.UnsupportedFeatureError, match="SpikeSourcePoisson"):
        ns.to_nir(net_with(ns.IF_curr_exp(tau_refrac=0.0), source=ns.SpikeSourcePoisson(rate=5.0)))
    with pytest.raises(ns.UnsupportedFeatureError, match="i_offset"):
        ns.to_nir(net_with(ns.IF_curr_exp(i_offset=0.1, tau_refrac=0.0)))
    stdp = ns.STDPMechanism(ns.SpikePairRule(), ns.AdditiveWeightDependence(0.0, 0.1), weight=0.01, delay=1.0)
    with pytest.raises(ns.UnsupportedFeatureError, match="plastic"):
        ns.to_nir(net_with(ns.IF_curr_exp(tau_refrac=0.0), synapse=stdp))
    with pytest.warns(UserWarning, match="refractory"):
        ns.to_nir(net_with(ns.IF_curr_exp(tau_refrac=2.0)))
    net = ns.Network(dt=DT, seed=1)
    pre = net.add(ns.Population(1, ns.SpikeSourceArray([[1.0]]), label="pre"))
    post = net.add(ns.Population(2, ns.IF_curr_exp(tau_refrac=0.0), label="post"))
    net.add(ns.Projection(pre, post, ns.FromListConnector([(0, 0, 0.1, 1.0), (0, 1, 0.1, 2.0)]),
                          ns.StaticSynapse()))
    with pytest.raises(ns.UnsupportedFeatureError, match="different delays"):
        ns.to_nir(net)


def test_import_refusals():
    cell = nir.LIF(tau=np.array([0.01]), r=np.array([1.0]), v_leak=np.array([0.0]),
                   v_threshold=np.array([1.0]), v_reset=np.array([0.0]))
    with pytest.raises(ns.UnsupportedFeatureError, match="Threshold"):
        ns.from_nir(nir.NIRGraph(nodes={"in": nir.Input(input_type=np.array([1])),
                                        "th": nir.Threshold(threshold=np.array([1.0]))},
                                 edges=[("in", "th")]))
    with pytest.raises(ns.ValidationError, match="no Input node"):
        ns.from_nir(_single(cell), inputs={"nope": [[1.0]]})
    bad = nir.NIRGraph(nodes={"in": nir.Input(input_type=np.array([3])), "w": nir.Linear(weight=np.ones((1, 2))),
                              "cell": cell}, edges=[("in", "w"), ("w", "cell")], type_check=False)
    with pytest.raises(ns.ValidationError, match="shape"):
        ns.from_nir(bad)
    with pytest.raises(ns.ValidationError, match="NIRGraph"):
        ns.from_nir({"nodes": {}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ns.from_nir(_single(cell), inputs={"in": [[1.0]]})   # a clean graph imports without warnings
