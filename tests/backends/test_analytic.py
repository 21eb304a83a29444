"""Single-neuron behaviour against closed-form answers, on every backend."""
import math

import numpy as np
import pytest
from scipy import integrate

import neurosim as ns
from conftest import compile_on

LIF = dict(cm=0.25, tau_m=10.0, v_rest=-65.0, v_reset=-70.0, v_thresh=-55.0, tau_refrac=2.0,
           tau_syn_E=2.0, tau_syn_I=5.0)


def first_spike_time(i_amp, cm, tau_m, v_rest, v_thresh):
    """LIF from rest under constant current: T = tau_m ln(R I / (R I - (v_thresh - v_rest)))."""
    r_i = i_amp * tau_m / cm
    return tau_m * math.log(r_i / (r_i - (v_thresh - v_rest)))


def _options(backend, numerics):
    return {"numerics": numerics} if backend == "numba" else {}


# float32 state carries ~1e-4 mV of rounding, which can move a crossing that falls
# within ~1e-4 ms of a step boundary by one step; float64 is checked at the finer dt.
@pytest.mark.parametrize("dt,numerics", [(0.1, "float32"), (0.1, "float64"),
                                         pytest.param(0.01, "float64", marks=pytest.mark.needs("fine_dt"))])
@pytest.mark.parametrize("i_amp", [0.3, 0.6, 1.5])
def test_first_spike_time_constant_current(backend, dt, numerics, i_amp):
    net = ns.Network(dt=dt, seed=3)
    pop = net.add(ns.Population(1, ns.IF_curr_exp(i_offset=i_amp, **LIF), label="lif"))
    pop.record("spikes")
    times, _ = compile_on(net, backend, **_options(backend, numerics)).run(100.0).spikes("lif")
    expected = first_spike_time(i_amp, LIF["cm"], LIF["tau_m"], LIF["v_rest"], LIF["v_thresh"])
    assert len(times) > 0
    assert abs(times[0] - expected) < dt
    # regular firing afterwards: reset, refractory, then the same climb from v_reset
    climb = LIF["tau_m"] * math.log((i_amp * LIF["tau_m"] / LIF["cm"] + LIF["v_rest"] - LIF["v_reset"]) /
                                    (i_amp * LIF["tau_m"] / LIF["cm"] + LIF["v_rest"] - LIF["v_thresh"]))
    isi = np.diff(times)
    assert np.all(np.abs(isi - (LIF["tau_refrac"] + climb)) < dt + 1e-9)


@pytest.mark.standalone
def test_dc_source_switches_on_and_off(backend):
    net = ns.Network(dt=0.1, seed=3)
    pop = net.add(ns.Population(1, ns.IF_curr_exp(**LIF), label="lif"))
    ns.DCSource(amplitude=0.6, start=20.0, stop=60.0).inject_into(pop)
    pop.record("spikes")
    times, _ = compile_on(net, backend).run(120.0).spikes("lif")
    expected = 20.0 + first_spike_time(0.6, LIF["cm"], LIF["tau_m"], LIF["v_rest"], LIF["v_thresh"])
    assert abs(times[0] - expected) < 0.1
    assert times[-1] <= 60.0 + 0.1


def _psp_network(backend, cell, weight, delay, dt, numerics):
    net = ns.Network(dt=dt, seed=1)
    src = net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=[10.0]), label="src"))
    post = net.add(ns.Population(1, cell, label="post"))
    post.record(["v"])
    net.add(ns.Projection(src, post, ns.OneToOneConnector(), ns.StaticSynapse(weight=weight, delay=delay)))
    res = compile_on(net, backend, **_options(backend, numerics)).run(80.0)
    return res.trace("post", "v")


@pytest.mark.standalone
@pytest.mark.needs("fine_dt")
def test_psp_peak_current_based(backend):
    tau_m, tau_s, cm, w, delay, dt = 20.0, 5.0, 0.2, 0.5, 1.5, 0.01
    cell = ns.IF_curr_exp(cm=cm, tau_m=tau_m, tau_syn_E=tau_s, v_rest=-65.0, v_thresh=0.0, v_reset=-70.0)
    tr = _psp_network(backend, cell, w, delay, dt, "float64")
    psp = tr.values[:, 0] + 65.0
    t_peak = math.log(tau_m / tau_s) * tau_m * tau_s / (tau_m - tau_s)
    amp = w / cm * tau_m * tau_s / (tau_m - tau_s) * (math.exp(-t_peak / tau_m) - math.exp(-t_peak / tau_s))
    k = np.argmax(psp)
    assert abs(tr.times[k] - (10.0 + delay + t_peak)) <= dt + 1e-9
    assert abs(psp[k] - amp) / amp < 1e-4
    # the whole trace follows the closed form (exact integration)
    s = tr.times - 10.0 - delay
    closed = np.where(s >= 0, w / cm * tau_m * tau_s / (tau_m - tau_s) *
                      (np.exp(-np.clip(s, 0, None) / tau_m) - np.exp(-np.clip(s, 0, None) / tau_s)), 0.0)
    assert np.max(np.abs(psp - closed)) < 1e-6 * amp + 1e-9


@pytest.mark.standalone
@pytest.mark.needs("fine_dt")
def test_psp_peak_conductance_based(backend):
    tau_m, tau_s, cm, w, e_rev, v_rest, dt = 20.0, 5.0, 0.2, 0.01, 0.0, -65.0, 0.01
    cell = ns.IF_cond_exp(cm=cm, tau_m=tau_m, tau_syn_E=tau_s, v_rest=v_rest, v_thresh=0.0,
                          v_reset=-70.0, e_rev_E=e_rev)
    tr = _psp_network(backend, cell, w, 1.0, dt, "float64")
    psp = tr.values[:, 0] - v_rest

    # closed form by the integrating factor: u' = -u/tau_m + g(t)(E - v_rest - u)/cm, g = w e^{-t/tau_s}
    def u(t):
        G = lambda x: w * tau_s / cm * (1 - math.exp(-x / tau_s))
        f = lambda s: math.exp(-(t - s) / tau_m - (G(t) - G(s))) * w * math.exp(-s / tau_s) * (e_rev - v_rest) / cm
        return integrate.quad(f, 0.0, t, epsabs=1e-12)[0]

    grid = np.linspace(0.5, 40, 400)
    ref = np.array([u(t) for t in grid])
    t_peak, amp = grid[np.argmax(ref)], ref.max()
    k = np.argmax(psp)
    assert abs(tr.times[k] - 11.0 - t_peak) < 0.15
    assert abs(psp[k] - amp) / amp < 2e-3


def test_poisson_rate_and_cv(backend):
    rate, n, duration = 20.0, 500, 10000.0
    net = ns.Network(dt=0.1, seed=11)
    pop = net.add(ns.Population(n, ns.SpikeSourcePoisson(rate=rate), label="poisson"))
    pop.record("spikes")
    res = compile_on(net, backend).run(duration)
    expected = rate * n * duration / 1000.0
    count = len(res.spikes("poisson")[0])
    assert abs(count - expected) < 5 * math.sqrt(expected)
    # every source fires at the same rate: per-source counts are Poisson (variance = mean)
    counts = res.spike_counts("poisson")
    assert abs(counts.var() / counts.mean() - 1.0) < 0.2
    # discrete-time Bernoulli process: CV = sqrt(1 - p) with p = rate * dt
    assert abs(res.cv_isi("poisson") - math.sqrt(1 - rate * 1e-4)) < 0.03


@pytest.mark.standalone
def test_refractory_period_respected(backend):
    net = ns.Network(dt=0.1, seed=1)
    pop = net.add(ns.Population(1, ns.IF_curr_exp(i_offset=50.0, **LIF), label="lif"))
    pop.record(["spikes", "v"])
    res = compile_on(net, backend).run(50.0)
    times, _ = res.spikes("lif")
    assert np.all(np.diff(times) >= LIF["tau_refrac"] - 1e-9)
    tr = res.trace("lif", "v")
    for t_spike in times[:-1]:
        held = (tr.times >= t_spike) & (tr.times <= t_spike + LIF["tau_refrac"] + 1e-9)
        assert np.allclose(tr.values[held, 0], LIF["v_reset"])


@pytest.mark.parametrize("delay", [0.1, 1.5, 7.3])
@pytest.mark.standalone
@pytest.mark.needs("current_recording")
def test_delay_exact_to_the_step(backend, delay):
    net = ns.Network(dt=0.1, seed=1)
    src = net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=[10.0]), label="src"))
    post = net.add(ns.Population(1, ns.IF_curr_exp(**LIF), label="post"))
    post.record("isyn_exc")
    net.add(ns.Projection(src, post, ns.AllToAllConnector(), ns.StaticSynapse(weight=1.0, delay=delay)))
    tr = compile_on(net, backend).run(30.0).trace("post", "isyn_exc")
    first = tr.times[np.flatnonzero(tr.values[:, 0] > 0)[0]]
    assert abs(first - (10.0 + delay)) < 1e-9
    assert abs(tr.values[tr.times == first][0, 0] - 1.0) < 1e-6
