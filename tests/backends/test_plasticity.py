"""Plasticity against analytic answers.

Backends listed in PLASTIC_BACKENDS declare synapse models in their capability
profile.  brian2 runs with target="numpy" here: these networks are tiny, and
numpy needs no Cython build per synapse rule (test_brian2_plasticity.py runs Cython).
"""
import math

import numpy as np
import pytest

import neurosim as ns
from conftest import compile_on

PLASTIC_BACKENDS = ["numba", "brian2"]
OPTIONS = {"numba": {"numerics": "float64"}, "brian2": {"target": "numpy"}}


@pytest.fixture(params=PLASTIC_BACKENDS)
def plastic_backend(request):
    return request.param


def pairing_network(pre_times, post_times, synapse, delay=1.0, cell=None, teach_weight=30.0):
    """A plastic synapse from a spike source onto a neuron that fires exactly at post_times.

    The postsynaptic IF_curr_delta is made to fire by a 'teacher' source with a strong
    delta synapse (input and threshold in the same step); the plastic weight is far too
    small to make it fire on its own.
    """
    net = ns.Network(dt=0.1, seed=1)
    pre = net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=list(pre_times)), label="pre"))
    teach = net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=[t - 1.0 for t in post_times]),
                                  label="teach"))
    post = net.add(ns.Population(1, cell or ns.IF_curr_delta(v_thresh=-55.0, v_reset=-70.0, tau_refrac=0.1),
                                 label="post"))
    post.record("spikes")
    proj = net.add(ns.Projection(pre, post, ns.AllToAllConnector(), synapse, label="plastic"))
    net.add(ns.Projection(teach, post, ns.AllToAllConnector(), ns.StaticSynapse(weight=teach_weight, delay=1.0)))
    return net, proj


def run_pair(backend, synapse, pre_times, post_times, duration):
    net, proj = pairing_network(pre_times, post_times, synapse)
    sim = ns.compile(net, backend=backend, **OPTIONS[backend])
    res = sim.run(duration)
    assert np.allclose(res.spikes("post")[0], post_times)   # the protocol did what it should
    return sim.get_weights(proj)[0, 0]


A_PLUS, A_MINUS, TAU_PLUS, TAU_MINUS = 0.01, 0.012, 16.8, 33.7


def backend_cases(name, values, brian2_values):
    """(backend, value) cases: every value on numba, a subset on brian2 (slower per run)."""
    return pytest.mark.parametrize(f"plastic_backend,{name}", [("numba", v) for v in values] +
                                   [("brian2", v) for v in brian2_values])


# brian2: two points here; test_pair_stdp_window_on_the_suite_backends adds four more
@backend_cases("delta_t", [d for d in range(-50, 51, 5) if d != 0], [-50, 5])
@pytest.mark.parametrize("dependence", ["additive", "multiplicative"])
def test_pair_stdp_window(plastic_backend, delta_t, dependence):
    w_min, w_max, w0 = 0.1, 1.0, 0.4
    wd = (ns.AdditiveWeightDependence if dependence == "additive" else ns.MultiplicativeWeightDependence)(w_min, w_max)
    rule = ns.SpikePairRule(tau_plus=TAU_PLUS, tau_minus=TAU_MINUS, A_plus=A_PLUS, A_minus=A_MINUS)
    w = run_pair(plastic_backend, ns.STDPMechanism(rule, wd, weight=w0, delay=1.0), [100.0], [100.0 + delta_t], 300.0)
    if delta_t > 0:
        scale = w_max if dependence == "additive" else (w_max - w0)
        expected = w0 + A_PLUS * scale * math.exp(-delta_t / TAU_PLUS)
    else:
        scale = w_max if dependence == "additive" else (w0 - w_min)
        expected = w0 - A_MINUS * scale * math.exp(delta_t / TAU_MINUS)
    assert w == pytest.approx(expected, rel=1e-9, abs=1e-12)


# PyNN backends accept one dendritic_delay_fraction each (nest and spinnaker 1, pynn-brian2 0)
SUITE_FRACTION = {"numba": 1.0, "brian2": 1.0, "pynn-brian2": 0.0, "spinnaker": 1.0}


@pytest.mark.needs("pair_stdp_window")
@pytest.mark.parametrize("delta_t", [-20.0, -5.0, 5.0, 20.0])
def test_pair_stdp_window_on_the_suite_backends(backend, delta_t):
    # additive pair STDP from one pre/post pair against A w_max exp(-|Δt_syn|/tau), where the
    # synapse sees the pre spike after the whole delay and the post spike after
    # fraction * delay; the post time is the one the backend recorded (pyNN.brian2 fires the
    # delta-driven post neuron one step later than numba).  Tolerance: 1e-9 relative to Δw.
    fraction, delay, w0 = SUITE_FRACTION[backend], 1.0, 0.4
    rule = ns.SpikePairRule(tau_plus=TAU_PLUS, tau_minus=TAU_MINUS, A_plus=A_PLUS, A_minus=A_MINUS)
    stdp = ns.STDPMechanism(rule, ns.AdditiveWeightDependence(0.0, 1.0), weight=w0, delay=delay,
                            dendritic_delay_fraction=fraction)
    net, proj = pairing_network([100.0], [100.0 + delta_t], stdp)
    sim = compile_on(net, backend, **OPTIONS.get(backend, {}))
    t_post = sim.run(300.0).spikes("post")[0]
    w = sim.get_weights(proj)[0, 0]
    getattr(sim, "close", lambda: None)()     # PyNN: one live simulation per process
    assert len(t_post) == 1 and abs(t_post[0] - (100.0 + delta_t)) <= 0.1 + 1e-9
    seen = t_post[0] - 100.0 - (1 - fraction) * delay
    dw = A_PLUS * math.exp(-seen / TAU_PLUS) if seen > 0 else -A_MINUS * math.exp(seen / TAU_MINUS)
    assert w - w0 == pytest.approx(dw, rel=1e-9)


@pytest.mark.parametrize("delta_t,w0,bound", [(5.0, 0.99, 1.0), (-5.0, 0.105, 0.1)])
def test_pair_stdp_clipping(plastic_backend, delta_t, w0, bound):
    rule = ns.SpikePairRule(A_plus=0.5, A_minus=0.5)
    stdp = ns.STDPMechanism(rule, ns.AdditiveWeightDependence(0.1, 1.0), weight=w0, delay=1.0)
    assert run_pair(plastic_backend, stdp, [100.0], [100.0 + delta_t], 300.0) == pytest.approx(bound)


def test_nearest_pairing_counts_only_the_nearest_spike(plastic_backend):
    # two pre spikes before one post spike: all-to-all potentiates twice, nearest once
    rule_all = ns.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.0)
    rule_nn = ns.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.0, pairing="nearest")
    out = []
    for rule in (rule_all, rule_nn):
        stdp = ns.STDPMechanism(rule, ns.AdditiveWeightDependence(0.0, 1.0), weight=0.5, delay=1.0)
        out.append(run_pair(plastic_backend, stdp, [90.0, 100.0], [110.0], 300.0))
    assert out[0] == pytest.approx(0.5 + 0.01 * (math.exp(-20 / 20) + math.exp(-10 / 20)), rel=1e-9)
    assert out[1] == pytest.approx(0.5 + 0.01 * math.exp(-10 / 20), rel=1e-9)


def triplet_prediction(pre, post, p):
    """Pfister & Gerstner 2006 all-to-all triplet model evaluated from its definition:
    each trace is the sum of exponentials over earlier spikes of its side."""
    def trace(times, t, tau, strictly_before):
        earlier = times[times < t] if strictly_before else times[times <= t]
        return np.sum(np.exp(-(t - earlier) / tau))
    dw = 0.0
    for t in pre:   # depression at each pre spike: o1 (A2- + A3- r2(t-))
        dw -= trace(post, t, p["tau_minus"], True) * (p["A2_minus"] + p["A3_minus"] * trace(pre, t, p["tau_x"], True))
    for t in post:  # potentiation at each post spike: r1 (A2+ + A3+ o2(t-))
        dw += trace(pre, t, p["tau_plus"], False) * (p["A2_plus"] + p["A3_plus"] * trace(post, t, p["tau_y"], True))
    return dw


@backend_cases("rate", [1.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0], [50.0])   # brian2: 1.3 s, not 60 s
@pytest.mark.parametrize("delta_t", [10.0, -10.0])
def test_triplet_rule_frequency_dependence(plastic_backend, rate, delta_t):
    # Pfister & Gerstner 2006, visual cortex all-to-all parameters; 60 pairings
    params = dict(tau_plus=16.8, tau_minus=33.7, tau_x=101.0, tau_y=125.0, A2_plus=5e-10, A3_plus=6.2e-3,
                  A2_minus=7e-3, A3_minus=2.3e-4)
    period = 1000.0 / rate
    pre = np.round(50.0 + period * np.arange(60), 1)   # on the 0.1 ms grid
    post = pre + delta_t
    # additive with w_max = 1 (scale 1) and bounds far from the weight: no clipping
    stdp = ns.STDPMechanism(ns.PfisterSpikeTripletRule(**params), ns.AdditiveWeightDependence(-100.0, 1.0),
                            weight=-2.0, delay=1.0)
    w = run_pair(plastic_backend, stdp, pre, post, post[-1] + 100.0)
    assert w + 2.0 == pytest.approx(triplet_prediction(pre, post, params), rel=1e-6, abs=1e-12)


def test_vogels_rule(plastic_backend):
    tau, eta, rho = 20.0, 1e-3, 10.0
    alpha = 2 * rho * tau / 1000.0
    rule = ns.Vogels2011Rule(tau=tau, eta=eta, rho=rho)
    stdp = ns.STDPMechanism(rule, ns.AdditiveWeightDependence(0.0, 1.0), weight=0.5, delay=1.0)
    # pre at 100 (alone: depression by eta*alpha), post at 105: potentiation eta*exp(-5/tau)
    w = run_pair(plastic_backend, stdp, [100.0], [105.0], 300.0)
    assert w == pytest.approx(0.5 - eta * alpha + eta * math.exp(-5.0 / tau), rel=1e-9)


def tm_recursion(n, interval, U, tau_rec, tau_facil):
    """Markram, Wang & Tsodyks 1998: u1 = U, R1 = 1;
    u_{n+1} = U + u_n (1 - U) exp(-Δ/τ_facil), R_{n+1} = 1 + (R_n - u_n R_n - 1) exp(-Δ/τ_rec)."""
    u, R, out = U, 1.0, []
    for _ in range(n):
        out.append(u * R)
        R = 1 + (R - u * R - 1) * math.exp(-interval / tau_rec)
        u = U + u * (1 - U) * (math.exp(-interval / tau_facil) if tau_facil > 0 else 0.0)
    return np.array(out)


@pytest.mark.needs("tsodyks_markram")     # the shared suite's backends (conftest.py)
@pytest.mark.parametrize("U,tau_rec,tau_facil", [(0.5, 800.0, 0.0), (0.03, 130.0, 530.0)])
@pytest.mark.parametrize("cell", ["IF_curr_exp", "IF_cond_exp"])
def test_tsodyks_markram_20hz_train(backend, U, tau_rec, tau_facil, cell):
    n, interval, w, tau_syn, dt = 20, 50.0, 0.5, 3.0, 0.1
    net = ns.Network(dt=dt, seed=1)
    src = net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=list(10.0 + interval * np.arange(n))), label="src"))
    celltype = getattr(ns, cell)(tau_syn_E=tau_syn, v_thresh=100.0 if cell == "IF_curr_exp" else 50.0)
    post = net.add(ns.Population(1, celltype, label="post"))
    var = "isyn_exc" if cell == "IF_curr_exp" else "g_exc"
    post.record(var)
    net.add(ns.Projection(src, post, ns.AllToAllConnector(),
                          ns.TsodyksMarkramSynapse(U=U, tau_rec=tau_rec, tau_facil=tau_facil, weight=w, delay=1.0)))
    tr = ns.compile(net, backend=backend, **OPTIONS.get(backend, {})).run(10.0 + interval * n + 20).trace("post", var)
    x = tr.values[:, 0]
    decay = math.exp(-dt / tau_syn)
    jumps = x[1:] - decay * x[:-1]
    arrivals = np.flatnonzero(jumps > 1e-12) + 1
    assert np.allclose(tr.times[arrivals], 11.0 + interval * np.arange(n))
    assert np.allclose(jumps[arrivals - 1], w * tm_recursion(n, interval, U, tau_rec, tau_facil), rtol=1e-9)


def test_get_set_and_record_weights(plastic_backend):
    net = ns.Network(dt=0.1, seed=4)
    pre = net.add(ns.Population(6, ns.SpikeSourcePoisson(rate=40.0), label="pre"))
    post = net.add(ns.Population(4, ns.IF_curr_exp(), label="post"))
    stdp = ns.STDPMechanism(ns.SpikePairRule(), ns.AdditiveWeightDependence(0.0, 2.0), weight=0.5)
    proj = net.add(ns.Projection(pre[1:5], post, ns.FromListConnector([(0, 1), (2, 3), (3, 0)]), stdp, label="p"))
    proj.record("weight", sampling_interval=10.0)
    sim = ns.compile(net, backend=plastic_backend, **OPTIONS[plastic_backend])
    arr = sim.get_weights(proj)
    assert arr.shape == (4, 4) and np.isnan(arr).sum() == 13 and arr[0, 1] == 0.5
    rows = sim.get_weights("p", format="list")
    assert rows.tolist() == [[0, 1, 0.5], [2, 3, 0.5], [3, 0, 0.5]]
    new = np.full((4, 4), np.nan)
    new[0, 1], new[2, 3], new[3, 0] = 0.1, 0.2, 0.3
    sim.set_weights(proj, new)
    assert np.allclose(sim.get_weights(proj, format="list")[:, 2], [0.1, 0.2, 0.3], atol=1e-7)
    res = sim.run(100.0)
    times, values = res.weights("p")
    assert np.allclose(times, np.arange(10.0, 100.1, 10.0)) and values.shape == (10, 3)
    assert np.allclose(values[-1], sim.get_weights(proj, format="list")[:, 2])
    with pytest.raises(ns.ValidationError, match=r"shape \(4, 4\)"):
        sim.set_weights(proj, np.zeros(7))


@pytest.mark.parametrize("fraction", [0.0, 0.5, 1.0])
def test_dendritic_delay_fraction_shifts_the_timing(plastic_backend, fraction):
    # delay D = 4 ms: the synapse sees pre spikes at t_pre + D and post spikes at t_post + fraction*D,
    # so the pairing it feels is Δt_syn = t_post - t_pre - (1 - fraction) * D
    delay, tau = 4.0, 20.0
    rule = ns.SpikePairRule(tau_plus=tau, tau_minus=tau, A_plus=0.01, A_minus=0.01)
    net, proj = pairing_network([100.0], [110.0], ns.STDPMechanism(
        rule, ns.AdditiveWeightDependence(0.0, 1.0), weight=0.5, delay=delay, dendritic_delay_fraction=fraction))
    sim = ns.compile(net, backend=plastic_backend, **OPTIONS[plastic_backend])
    sim.run(300.0)
    delta = 10.0 - (1 - fraction) * delay
    assert sim.get_weights(proj)[0, 0] == pytest.approx(0.5 + 0.01 * math.exp(-delta / tau), rel=1e-9)


def test_custom_synapse_reads_postsynaptic_voltage(plastic_backend):
    # a voltage-gated rule the library does not ship: each presynaptic spike changes w by
    # eta * (v_post - theta), with v_post the membrane potential when the spike arrives;
    # it delivers nothing (psp = 0), so v relaxes undisturbed
    rule = ns.SynapseModel(on_pre="w = w + eta*(v_post - theta); psp = 0", parameters={"eta": 0.01, "theta": -60.0},
                           weight=0.0, delay=1.0)
    net = ns.Network(dt=0.1, seed=1)
    pre = net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=[20.0, 40.0]), label="pre"))
    post = net.add(ns.Population(1, ns.IF_curr_exp(v_rest=-65.0, v_thresh=0.0), label="post"))
    proj = net.add(ns.Projection(pre, post, ns.AllToAllConnector(), rule))
    sim = ns.compile(net, backend=plastic_backend, **OPTIONS[plastic_backend])
    sim.run(30.0)
    assert sim.get_weights(proj)[0, 0] == pytest.approx(0.01 * (-65.0 + 60.0))
    sim.set("post", v=-50.0)
    sim.run(30.0)
    # v relaxed from -50 towards -65 with tau_m = 20 ms for 11 ms before the second arrival at 41 ms
    v_at_arrival = -65.0 + 15.0 * math.exp(-11.0 / 20.0)
    assert sim.get_weights(proj)[0, 0] == pytest.approx(0.01 * (-5.0) + 0.01 * (v_at_arrival + 60.0), rel=1e-6)


@pytest.mark.nest
@pytest.mark.parametrize("dependence", ["additive", "multiplicative"])
def test_nest_stdp_onto_a_delta_synapse_cell_follows_nests_pair_rule(dependence):
    """NEST's stdp_synapse (Gütig et al. 2003 form) under NEST's own conventions: the post spike
    reaches the synapse one dendritic delay (here the whole 1 ms) late, and potentiation is applied
    at the next presynaptic spike.  pyNN.nest passed w_max to NEST 1000 times too large for cells
    whose weights are in mV (IF_curr_delta): additive steps came out 1000 times too big."""
    w_max, w0, d = 1.0, 0.4, 1.0
    wd = (ns.AdditiveWeightDependence if dependence == "additive" else ns.MultiplicativeWeightDependence)(0.0, w_max)
    rule = ns.SpikePairRule(tau_plus=TAU_PLUS, tau_minus=TAU_MINUS, A_plus=A_PLUS, A_minus=A_MINUS)

    def potentiate(w, dt):
        return min(w + A_PLUS * (w_max if dependence == "additive" else w_max - w) * math.exp(-dt / TAU_PLUS), w_max)

    def depress(w, dt):
        return max(w - A_MINUS * (w_max if dependence == "additive" else w) * math.exp(-dt / TAU_MINUS), 0.0)

    cases = [([100.0], [90.0], depress(w0, 100.0 - (90.0 + d))),
             ([100.0, 250.0], [105.0], depress(potentiate(w0, 105.0 + d - 100.0), 250.0 - (105.0 + d))),
             ([100.0], [110.0], w0)]            # potentiation waits for a presynaptic spike
    for pre, post, expected in cases:
        net, proj = pairing_network(pre, post, ns.STDPMechanism(rule, wd, weight=w0, delay=d))
        with ns.compile(net, backend="nest") as sim:
            res = sim.run(300.0)
            assert np.allclose(res.spikes("post")[0], post)
            assert sim.get_weights(proj)[0, 0] == pytest.approx(expected, rel=1e-9)


def nest_vogels_weight(w, pre_times, post_times, tau, eta, alpha, w_max, d):
    """The weight after NEST's vogels_sprekeler_synapse has seen these spikes (ms): updates are made
    at presynaptic spikes; post spikes reach the synapse d ms late; Vogels et al. 2011: w += eta
    x_pre per post spike, w += eta (x_post - alpha) per pre spike; 0 <= w <= w_max."""
    k_pre, last = 0.0, None
    for t in pre_times:
        if last is not None:
            for s in post_times:
                if last < s + d <= t:
                    w = min(w + eta * k_pre * math.exp(-(s + d - last) / tau), w_max)
        k_post = sum(math.exp(-(t - s - d) / tau) for s in post_times if s + d <= t)
        w = min(w + eta * k_post, w_max)
        w = max(w - eta * alpha, 0.0)
        k_pre = (k_pre * math.exp(-(t - last) / tau) if last is not None else 0.0) + 1.0
        last = t
    return w


@pytest.mark.nest
@pytest.mark.parametrize("cell", ["IF_curr_delta", "IF_cond_exp"])
def test_vogels_rule_runs_on_nest_as_vogels_sprekeler_synapse(cell):
    """pyNN.nest has no Vogels2011Rule; neurosim gives NEST its vogels_sprekeler_synapse with eta
    and w_max in NEST's units (mV for delta cells, nS for conductance cells)."""
    tau, eta, rho, w0, d = 20.0, 0.01, 10.0, 0.4, 1.0
    for pre, post in (([100.0], [90.0]), ([100.0, 250.0], [105.0]), ([100.0, 103.0, 140.0], [101.0, 120.0])):
        rule = ns.STDPMechanism(ns.Vogels2011Rule(tau=tau, eta=eta, rho=rho), ns.AdditiveWeightDependence(0.0, 1.0),
                                weight=w0, delay=d)
        if cell == "IF_cond_exp":       # the teacher's conductance kick fires the cell a step or two late
            net, proj = pairing_network(pre, post, rule, teach_weight=3.0, cell=ns.IF_cond_exp(
                v_thresh=-55.0, v_reset=-70.0, tau_refrac=5.0, tau_syn_E=0.2))
        else:
            net, proj = pairing_network(pre, post, rule)
        with ns.compile(net, backend="nest") as sim:
            fired = list(sim.run(300.0).spikes("post")[0])
            assert len(fired) == len(post) and np.allclose(fired, post, atol=3.0)
            expected = nest_vogels_weight(w0, pre, fired, tau, eta, 2.0 * rho * tau / 1000.0, 1.0, d)
            assert sim.get_weights(proj)[0, 0] == pytest.approx(expected, rel=1e-9)
