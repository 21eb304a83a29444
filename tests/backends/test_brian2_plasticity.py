"""Equation-defined synapses on brian2 against the numba kernel, run in the same test.

The brian2 backend translates every SynapseModel into Brian2 Synapses code in
numba's step order (backends/brian2/plastic.py), so in float64 the same network
must give the same spikes on both and the same weights up to rounding (Brian2
compiles its Cython with -ffast-math; numba does not).  Inputs are spike trains
drawn here with numpy (Poisson sources draw differently on each backend).
Analytic checks of the rules themselves are in test_plasticity.py (both backends).
"""
import numpy as np
import pytest

import neurosim as ns

WEIGHT_RTOL = 1e-9


def poisson_trains(rng, n, rate_hz, duration_ms, dt=0.1):
    """n Poisson spike trains on the dt grid (ms), at least one step apart."""
    trains = []
    for _ in range(n):
        steps = np.flatnonzero(rng.random(int(duration_ms / dt)) < rate_hz * dt * 1e-3)
        trains.append(list(np.round((steps + 1) * dt, 1)))
    return trains


def song_network(duration=2000.0):
    """Song, Miller & Abbott 2000 in small: 50 excitatory Poisson inputs (15 Hz) onto one
    neuron through additive all-to-all pair STDP with A- slightly larger than A+."""
    net = ns.Network(dt=0.1, seed=3)
    rng = np.random.default_rng(11)
    inputs = net.add(ns.Population(50, ns.SpikeSourceArray(spike_times=poisson_trains(rng, 50, 15.0, duration)),
                                   label="inputs"))
    post = net.add(ns.Population(1, ns.IF_curr_exp(tau_syn_E=5.0, v_thresh=-54.0, v_reset=-60.0,
                                                   tau_refrac=2.0), label="post"))
    post.record(["spikes", "v"])
    stdp = ns.STDPMechanism(ns.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.0105),
                            ns.AdditiveWeightDependence(0.0, 0.6),
                            weight=ns.RandomDistribution("uniform", (0.0, 0.3)), delay=1.0)
    proj = net.add(ns.Projection(inputs, post, ns.AllToAllConnector(), stdp, label="stdp"))
    proj.record("weight", sampling_interval=100.0)
    return net


def mixed_network(duration):
    """Several rules at once: triplet STDP (multiplicative, dendritic delay 1 ms of 2 ms),
    Vogels inhibitory STDP, facilitating Tsodyks-Markram, nearest-pair STDP without
    dendritic delay, and a custom rule reading t and v_post in on_pre and on_post."""
    net = ns.Network(dt=0.1, seed=5)
    rng = np.random.default_rng(7)
    exc = net.add(ns.Population(30, ns.SpikeSourceArray(spike_times=poisson_trains(rng, 30, 20.0, duration)),
                                label="exc"))
    inh = net.add(ns.Population(10, ns.SpikeSourceArray(spike_times=poisson_trains(rng, 10, 20.0, duration)),
                                label="inh"))
    a = net.add(ns.Population(4, ns.IF_cond_exp(tau_refrac=2.0), label="a"))
    b = net.add(ns.Population(3, ns.IF_curr_exp(tau_syn_E=5.0, v_thresh=-54.0, tau_refrac=1.0), label="b"))
    for pop in (a, b):
        pop.record(["spikes", "v"])
    triplet = ns.STDPMechanism(ns.PfisterSpikeTripletRule(A2_plus=5e-3, A3_plus=6.2e-3),
                               ns.MultiplicativeWeightDependence(0.0, 0.03), weight=0.02, delay=2.0,
                               dendritic_delay_fraction=0.5)
    vogels = ns.STDPMechanism(ns.Vogels2011Rule(tau=20.0, eta=1e-3, rho=5.0),
                              ns.AdditiveWeightDependence(0.0, 0.1), weight=0.05, delay=1.0)
    tm = ns.TsodyksMarkramSynapse(U=0.1, tau_rec=200.0, tau_facil=500.0, weight=1.5, delay=1.5)
    nearest = ns.STDPMechanism(ns.SpikePairRule(A_plus=0.02, A_minus=0.02, pairing="nearest"),
                               ns.AdditiveWeightDependence(0.0, 1.0), weight=0.3, delay=1.0,
                               dendritic_delay_fraction=0.0)
    custom = ns.SynapseModel(
        equations="dtr/dt = -tr/tau : 1\nlast : ms",
        on_pre="w = w + eta*(v_post + 65)*exp(-(t - last)/tau); last = t; tr += 1",
        on_post="w = min(max(w - eta*tr*(v_post + 70), 0), 0.5)",
        parameters={"tau": 30.0, "eta": 1e-3}, initial={"last": -1000.0}, weight=0.2, delay=1.0)
    conn = ns.FixedProbabilityConnector(0.6)
    net.add(ns.Projection(exc, a, conn, triplet, label="triplet"))
    net.add(ns.Projection(inh, a, conn, vogels, receptor_type="inhibitory", label="vogels"))
    net.add(ns.Projection(exc[:15], b, conn, tm, label="tm"))
    net.add(ns.Projection(exc[15:], b, conn, nearest, label="nearest"))
    proj = net.add(ns.Projection(exc[5:25], b, conn, custom, label="custom"))
    proj.record("weight", sampling_interval=50.0)
    return net


def run_both(net, pieces, **brian2_options):
    """numba (float64) in one run; brian2 in the given pieces (continuation must not matter)."""
    numba = ns.compile(net, backend="numba", numerics="float64")
    numba.run(sum(pieces))
    brian2 = ns.compile(net, backend="brian2", **brian2_options)
    for piece in pieces:
        brian2.run(piece)
    return numba, brian2


def assert_same_spikes_and_traces(numba, brian2, labels):
    for label in labels:
        (t_n, i_n), (t_b, i_b) = numba.results.spikes(label), brian2.results.spikes(label)
        assert len(t_n) > 10, f"{label} hardly fired: the comparison would say little"
        assert np.array_equal(i_n, i_b) and np.allclose(t_n, t_b, rtol=0, atol=1e-9), label
        v_n, v_b = numba.results.trace(label, "v"), brian2.results.trace(label, "v")
        assert np.allclose(v_n.times, v_b.times) and np.allclose(v_n.values, v_b.values, rtol=0, atol=1e-9)


def assert_same_weights(numba, brian2, label):
    w_n = numba.get_weights(label, format="list")
    w_b = brian2.get_weights(label, format="list")
    assert np.array_equal(w_n[:, :2], w_b[:, :2])
    assert np.allclose(w_b[:, 2], w_n[:, 2], rtol=WEIGHT_RTOL, atol=1e-15), label
    return w_n[:, 2]


@pytest.fixture(scope="module")
def song():
    net = song_network()
    numba, brian2 = run_both(net, [2000.0])     # Cython, the default target
    return net, numba, brian2


def test_song_stdp_same_spikes_and_weights_as_numba(song):
    net, numba, brian2 = song
    assert_same_spikes_and_traces(numba, brian2, ["post"])
    w = assert_same_weights(numba, brian2, "stdp")
    initial = ns.compile(net, backend="numba", numerics="float64").get_weights("stdp", format="list")[:, 2]
    assert np.max(np.abs(w - initial)) > 0.05, "STDP hardly changed the weights: nothing was compared"
    assert np.all((w >= 0.0) & (w <= 0.6))   # AdditiveWeightDependence(0.0, 0.6) clips
    t_n, rec_n = numba.results.weights("stdp")
    t_b, rec_b = brian2.results.weights("stdp")
    assert np.allclose(t_n, np.arange(100.0, 2000.1, 100.0)) and np.allclose(t_b, t_n)
    assert np.allclose(rec_b, rec_n, rtol=WEIGHT_RTOL, atol=1e-15)


@pytest.fixture(scope="module")
def mixed():
    net = mixed_network(1000.0)
    numba, brian2 = run_both(net, [600.0, 400.0], target="numpy")
    return net, numba, brian2


def test_mixed_rules_same_spikes_as_numba(mixed):
    net, numba, brian2 = mixed
    assert_same_spikes_and_traces(numba, brian2, ["a", "b"])


@pytest.mark.parametrize("label", ["triplet", "vogels", "nearest", "custom"])
def test_mixed_rules_same_weights_as_numba(mixed, label):
    net, numba, brian2 = mixed
    w = assert_same_weights(numba, brian2, label)
    initial = ns.compile(net, backend="numba", numerics="float64").get_weights(label, format="list")[:, 2]
    assert np.max(np.abs(w - initial)) > 1e-4, f"{label}: weights hardly changed, nothing was compared"


def test_recorded_weights_across_two_runs(mixed):
    net, numba, brian2 = mixed
    t_n, rec_n = numba.results.weights("custom")
    t_b, rec_b = brian2.results.weights("custom")
    assert np.allclose(t_n, np.arange(50.0, 1000.1, 50.0)) and np.allclose(t_b, t_n)
    assert np.allclose(rec_b, rec_n, rtol=WEIGHT_RTOL, atol=1e-15)


def delay_network(split, duration=1000.0):
    """30 inputs onto one neuron through pair STDP with per-synapse delays 1, 2.5 or 3.5 ms
    and dendritic_delay_fraction 0.5 (postsynaptic spikes reach the synapses 5, 12 or 18
    steps late: halves round to even).  ``split``: one projection per delay value instead
    of one projection, which must behave the same."""
    net = ns.Network(dt=0.1, seed=9)
    rng = np.random.default_rng(5)
    inputs = net.add(ns.Population(30, ns.SpikeSourceArray(spike_times=poisson_trains(rng, 30, 15.0, duration)),
                                   label="inputs"))
    post = net.add(ns.Population(1, ns.IF_curr_exp(tau_syn_E=5.0, v_thresh=-54.0, tau_refrac=2.0), label="post"))
    post.record(["spikes", "v"])
    delays = np.array([1.0, 2.5, 3.5])[np.arange(30) % 3]
    weights = rng.uniform(0.2, 0.5, 30)
    rows = [(i, 0, weights[i], delays[i]) for i in range(30)]
    groups = [[r for r in rows if r[3] == d] for d in (1.0, 2.5, 3.5)] if split else [rows]
    for g, group in enumerate(groups):
        stdp = ns.STDPMechanism(ns.SpikePairRule(A_plus=0.01, A_minus=0.0105), ns.AdditiveWeightDependence(0.0, 0.6),
                                dendritic_delay_fraction=0.5)
        net.add(ns.Projection(inputs, post, ns.FromListConnector(group), stdp, label=f"stdp{g}"))
    return net


def test_per_synapse_delays_equal_one_projection_per_delay_on_numba():
    net = delay_network(split=False)
    brian2 = ns.compile(net, backend="brian2", target="numpy")
    initial = brian2.get_weights("stdp0", format="list")[:, 2]
    brian2.run(1000.0)
    reference = delay_network(split=True)
    numba = ns.compile(reference, backend="numba", numerics="float64")
    numba.run(1000.0)
    assert_same_spikes_and_traces(numba, brian2, ["post"])
    rows = np.vstack([numba.get_weights(f"stdp{g}", format="list") for g in range(3)])
    rows = rows[np.argsort(rows[:, 0])]
    got = brian2.get_weights("stdp0", format="list")
    assert np.array_equal(rows[:, :2], got[:, :2])
    assert np.allclose(got[:, 2], rows[:, 2], rtol=WEIGHT_RTOL, atol=1e-15)
    assert np.max(np.abs(got[:, 2] - initial)) > 0.01


def test_numba_refuses_per_synapse_delays_on_plastic_projections():
    with pytest.raises(ns.UnsupportedFeatureError, match=r"numba.*per-synapse delays on the plastic "
                       r"Projection 'stdp0' \(1 to 3.5 ms\).*brian2"):
        ns.compile(delay_network(split=False, duration=10.0), backend="numba")


def test_names_brian2_reserves_and_neuron_to_neuron_rule_match_numba():
    # synaptic variables named like the presynaptic neurons' v, like Brian2's own i and delay,
    # and 'pre' (Brian2 refuses internal names ending in _pre),
    # a parameter named like a Poisson group's rate, a variable that grows linearly (b = 0),
    # a neuron -> neuron projection whose rule reads v_pre and v_post, delta-synapse delivery
    rule = ns.SynapseModel(
        equations="dv/dt = -v/tau_v : 1\ndi/dt = rate : 1\ndelay : ms\ndpre/dt = -pre/tau_v : 1",
        on_pre="v += 1; w = w + eta*(v_pre + 70)*v - 1e-4*i; delay = t; psp = 0.5*w; pre += 1",
        on_post="w = min(max(w - eta*(v_post + 70)*(t - delay)/100 - 1e-4*pre, 0), 6); i = 0",
        parameters={"tau_v": 15.0, "rate": 0.01, "eta": 1e-3}, weight=3.0, delay=1.5)
    net = ns.Network(dt=0.1, seed=2)
    rng = np.random.default_rng(3)
    drive = net.add(ns.Population(10, ns.SpikeSourceArray(spike_times=poisson_trains(rng, 10, 40.0, 600.0)),
                                  label="drive"))
    a = net.add(ns.Population(5, ns.IF_curr_exp(tau_syn_E=5.0, v_thresh=-55.0, tau_refrac=2.0), label="a"))
    b = net.add(ns.Population(4, ns.IF_curr_delta(v_thresh=-60.0, tau_refrac=1.0), label="b"))
    for pop in (a, b):
        pop.record(["spikes", "v"])
    net.add(ns.Projection(drive, a, ns.FixedProbabilityConnector(0.5), ns.StaticSynapse(weight=0.8, delay=1.0)))
    net.add(ns.Projection(a, b, ns.AllToAllConnector(), rule, label="rule"))
    numba, brian2 = run_both(net, [300.0, 300.0], target="numpy")
    assert_same_spikes_and_traces(numba, brian2, ["a", "b"])
    w = assert_same_weights(numba, brian2, "rule")
    assert np.max(np.abs(w - 3.0)) > 0.01
    # reset() restores weights, synaptic variables, last-event times and spikes in flight
    brian2.reset()
    assert np.all(brian2.get_weights("rule", format="list")[:, 2] == 3.0)
    brian2.run(600.0)
    assert_same_spikes_and_traces(numba, brian2, ["a", "b"])
    assert_same_weights(numba, brian2, "rule")
