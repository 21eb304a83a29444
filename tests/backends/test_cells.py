"""Standard cells, sources, views and recording on every backend, against closed forms
or an independent implementation of the published equations."""
import math

import numpy as np
import pytest

import neurosim as ns
from conftest import compile_on


def one_input(backend, cell, weight, record, delay=1.0, t_spike=10.0, duration=60.0, numerics="float64"):
    net = ns.Network(dt=0.01, seed=1)
    src = net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=[t_spike]), label="src"))
    post = net.add(ns.Population(1, cell, label="post"))
    post.record(record)
    net.add(ns.Projection(src, post, ns.OneToOneConnector(), ns.StaticSynapse(weight=weight, delay=delay)))
    options = {"numerics": numerics} if backend == "numba" else {}
    return compile_on(net, backend, **options).run(duration)


@pytest.mark.needs("fine_dt", "current_recording")
def test_alpha_synapse_current_peaks_at_weight_after_tau(backend):
    tau = 2.0
    res = one_input(backend, ns.IF_curr_alpha(tau_syn_E=tau, v_thresh=0.0), 0.7, "isyn_exc")
    tr = res.trace("post", "isyn_exc")
    s = tr.times - 11.0
    closed = np.where(s > 0, 0.7 * np.clip(s, 0, None) / tau * np.exp(1 - np.clip(s, 0, None) / tau), 0.0)
    assert np.max(np.abs(tr.values[:, 0] - closed)) < 1e-6
    assert abs(tr.times[np.argmax(tr.values[:, 0])] - (11.0 + tau)) < 0.011


@pytest.mark.needs("fine_dt")
def test_delta_synapse_jumps_and_decays(backend):
    cell = ns.IF_curr_delta(tau_m=10.0, v_rest=-65.0, v_thresh=-50.0, v_reset=-70.0)
    tr = one_input(backend, cell, 2.5, "v").trace("post", "v")
    s = tr.times - 11.0
    closed = -65.0 + np.where(s >= -1e-9, 2.5 * np.exp(-np.clip(s, 0, None) / 10.0), 0.0)
    assert np.max(np.abs(tr.values[:, 0] - closed)) < 1e-6


@pytest.mark.needs("delta_input_fires_in_its_step")
def test_delta_synapse_input_can_trigger_a_spike_in_the_same_step(backend):
    cell = ns.IF_curr_delta(v_rest=-65.0, v_thresh=-60.0, v_reset=-70.0)
    res = one_input(backend, cell, 10.0, "spikes")
    times, _ = res.spikes("post")
    assert len(times) == 1 and abs(times[0] - 11.0) < 1e-9


def izhikevich_reference(a, b, c, d, i_nA, dt, duration):
    """The published model (Izhikevich 2003), forward Euler, written out independently."""
    v, u, spikes = -70.0, -14.0, []
    for n in range(int(round(duration / dt))):
        dv = 0.04 * v * v + 5 * v + 140 - u + 1000 * i_nA
        du = a * (b * v - u)
        v, u = v + dt * dv, u + dt * du
        if v >= 30:
            spikes.append((n + 1) * dt)
            v, u = c, u + d
    return np.array(spikes)


@pytest.mark.parametrize("params", [dict(a=0.02, b=0.2, c=-65.0, d=8.0),     # regular spiking
                                    dict(a=0.02, b=0.2, c=-50.0, d=2.0),     # chattering
                                    dict(a=0.1, b=0.2, c=-65.0, d=2.0)])     # fast spiking
def test_izhikevich_matches_published_equations(backend, params):
    net = ns.Network(dt=0.1, seed=1)
    pop = net.add(ns.Population(1, ns.Izhikevich(i_offset=0.01, **params), label="izh"))
    pop.record("spikes")
    options = {"numerics": "float64"} if backend == "numba" else {}
    times, _ = compile_on(net, backend, **options).run(300.0).spikes("izh")
    ref = izhikevich_reference(i_nA=0.01, dt=0.1, duration=300.0, **params)
    assert len(ref) > 5
    assert len(times) == len(ref) and np.allclose(times, ref, atol=1e-9)


@pytest.mark.needs("EIF_cond_exp_isfa_ista")
def test_adaptive_exponential_neuron_adapts(backend):
    net = ns.Network(dt=0.1, seed=1)
    pop = net.add(ns.Population(1, ns.EIF_cond_exp_isfa_ista(i_offset=1.0), label="adex"))
    pop.record(["spikes", "w_adapt"])
    res = compile_on(net, backend).run(500.0)
    times, _ = res.spikes("adex")
    isi = np.diff(times)
    assert len(times) > 5 and isi[-1] > 1.5 * isi[0]
    w = res.trace("adex", "w_adapt").values[:, 0]
    assert w.max() > 0.2  # each spike adds b = 0.0805 nA


@pytest.mark.needs("equation_defined_models")
def test_integration_methods_agree_on_conductance_lif(backend):
    out = {}
    for method in ("exponential_euler", "rk2", "rk4", "euler"):
        model = ns.NeuronModel(
            equations="dv/dt = (v_rest - v)/tau_m + (g*(e_rev - v) + i_offset)/cm : mV (unless refractory)\n"
                      "dg/dt = -g/tau_s : uS",
            threshold="v > v_thresh", reset="v = v_reset", refractory=2.0, method=method,
            parameters=dict(v_rest=-65.0, tau_m=20.0, e_rev=0.0, cm=0.2, tau_s=5.0, v_thresh=-50.0,
                            v_reset=-65.0, i_offset=0.5), initial={"v": -65.0},
            receptors={"excitatory": "g += weight"})
        net = ns.Network(dt=0.01, seed=1)
        pop = net.add(ns.Population(1, model, label="n"))
        pop.record("spikes")
        options = {"numerics": "float64"} if backend == "numba" else {}
        out[method] = compile_on(net, backend, **options).run(200.0).spikes("n")[0]
    # constant drive, no input: first spike time has the closed form of the LIF
    r_i = 0.5 * 20.0 / 0.2
    expected = 20.0 * math.log(r_i / (r_i - 15.0))
    for method, times in out.items():
        assert abs(times[0] - expected) < 0.011, method
        assert len(times) == len(out["rk4"]), method


@pytest.mark.needs("current_recording")
def test_views_as_projection_endpoints_and_recording_subsets(backend):
    net = ns.Network(dt=0.1, seed=1)
    src = net.add(ns.Population(20, ns.SpikeSourceArray(spike_times=[[5.0 + k] for k in range(20)]), label="src"))
    post = net.add(ns.Population(30, ns.IF_curr_exp(), label="post"))
    net.add(ns.Projection(src[0:10], post[10:20], ns.OneToOneConnector(), ns.StaticSynapse(weight=1.0, delay=1.0)))
    post[[12, 25]].record("isyn_exc", sampling_interval=0.5)
    src.record("spikes")
    res = compile_on(net, backend).run(40.0)
    tr = res.trace("post", "isyn_exc")
    assert list(tr.indices) == [12, 25]
    assert np.allclose(np.diff(tr.times), 0.5)
    # post 12 gets src 2 (spike 7 ms, delay 1 ms); post 25 is outside the view and gets nothing
    first = tr.times[np.flatnonzero(tr.values[:, 0] > 0)[0]]
    assert abs(first - 8.0) < 1e-9
    assert np.all(tr.values[:, 1] == 0)
    times, ids = res.spikes("src")
    assert len(times) == 20 and np.allclose(times, 5.0 + ids)


@pytest.mark.needs("state_access")
def test_get_and_set_state(backend):
    net = ns.Network(dt=0.1, seed=1)
    net.add(ns.Population(4, ns.IF_curr_exp(v_rest=-65.0), label="p"))
    sim = compile_on(net, backend)
    assert np.allclose(sim.get("p", "v"), -65.0)
    sim.set("p", v=np.array([-60.0, -61.0, -62.0, -63.0]))
    assert np.allclose(sim.get("p", "v"), [-60.0, -61.0, -62.0, -63.0])
    sim.run(100.0)
    relaxed = -65.0 + (np.array([5.0, 4.0, 3.0, 2.0])) * math.exp(-100.0 / 20.0)  # tau_m = 20 ms
    assert np.allclose(sim.get("p", "v"), relaxed, atol=1e-4)


def test_step_current_source(backend):
    net = ns.Network(dt=0.1, seed=1)
    pop = net.add(ns.Population(1, ns.IF_curr_exp(tau_m=10.0, cm=1.0, v_thresh=0.0), label="p"))
    ns.StepCurrentSource(times=[10.0, 50.0], amplitudes=[0.5, 0.0]).inject_into(pop)
    pop.record("v")
    options = {"numerics": "float64"} if backend == "numba" else {}
    tr = compile_on(net, backend, **options).run(100.0).trace("p", "v")
    v = tr.values[:, 0]
    # R I = 5 mV: v(t) = -65 + 5 (1 - exp(-(t - 10)/10)) during the step, then decays
    on = (tr.times > 10.0) & (tr.times <= 50.0)
    assert np.allclose(v[on], -65.0 + 5.0 * (1 - np.exp(-(tr.times[on] - 10.0) / 10.0)), atol=1e-6)
    assert v[tr.times <= 10.0].max() == pytest.approx(-65.0)
