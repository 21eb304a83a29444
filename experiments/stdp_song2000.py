"""Song, Miller & Abbott 2000: additive STDP drives the weights to a bimodal distribution.

One conductance-based LIF (tau_m 10 ms, E_L -74 mV, threshold -54 mV, reset -60 mV,
E_e 0 mV, tau_e 5 ms) receives 1000 Poisson inputs at 15 Hz through additive pair
STDP (tau 20 ms, A+ = 0.01, A- = 1.05 A+, weights in [0, g_max], initial uniform)
— the parameters of Brian2's examples/synapses/STDP.py.  Conductances there are in
units of the leak conductance; here g_leak = cm / tau_m = 0.02 uS, so g_max = 0.01
g_leak = 2e-4 uS.  Expected after 100 s: most weights within 10 % of 0 or of g_max.

The Brian2 example as written drives the cell with ``ge * (Ee - vr)``, a fixed driving force
of 60 mV (a current synapse), where Song et al. and the reference notes use ``ge * (Ee - v)``;
``BRIAN2_EXAMPLE_AS_WRITTEN`` is that variant (IF_curr_exp, w_max = g_max * 60 mV).
"""
import json
import os
import time

import numpy as np

DESCRIPTION = "Song, Miller & Abbott 2000: additive STDP gives a bimodal weight distribution"

N_INPUTS, RATE_HZ = 1000, 15.0
CM, TAU_M = 0.2, 10.0
G_LEAK = CM / TAU_M                 # uS
G_MAX = 0.01 * G_LEAK               # uS
A_PLUS, RATIO, TAU = 0.01, 1.05, 20.0
CELL = dict(cm=CM, tau_m=TAU_M, v_rest=-74.0, v_thresh=-54.0, v_reset=-60.0, tau_refrac=0.0,
            e_rev_E=0.0, tau_syn_E=5.0)


# Song, Miller & Abbott's own set-up (their Methods): tau_m 20 ms, E_L -70 mV, 1000 excitatory
# inputs (g_max 0.015 g_leak) and 200 fixed inhibitory ones (0.05 g_leak, E_I -70 mV, 10 Hz),
# tau_e = tau_i = 5 ms, A+ = 0.005, A- = 1.05 A+; smaller steps, so it needs far longer than 100 s
BRIAN2_EXAMPLE = dict(rate_hz=RATE_HZ, tau_m=TAU_M, v_rest=-74.0, g_max_leak=0.01, a_plus=A_PLUS, n_inh=0)
FIXED_DRIVE_MV = CELL["e_rev_E"] - CELL["v_reset"]      # the example's ge * (Ee - vr): 60 mV
BRIAN2_EXAMPLE_AS_WRITTEN = dict(BRIAN2_EXAMPLE, fixed_drive_mv=FIXED_DRIVE_MV)
SONG = dict(rate_hz=10.0, tau_m=20.0, v_rest=-70.0, g_max_leak=0.015, a_plus=0.005, n_inh=200,
            inh_rate_hz=10.0, g_inh_leak=0.05)


def g_max_of(setup):
    """g_max (uS) of a set-up: its g_max in units of the leak conductance cm / tau_m."""
    return setup["g_max_leak"] * CM / setup["tau_m"]


def w_max_of(setup):
    """Largest weight of the plastic projection: g_max (uS), or g_max * fixed drive (nA)."""
    return g_max_of(setup) * setup.get("fixed_drive_mv", 1.0)


def build_network(seed=1, record_every=None, setup=BRIAN2_EXAMPLE):
    """The network of ``setup`` (Brian2's example by default, ``BRIAN2_EXAMPLE_AS_WRITTEN`` or
    ``SONG``) and its plastic projection (weights recorded every ``record_every`` ms)."""
    import neurosim as ns
    w_max = w_max_of(setup)
    net = ns.Network(dt=0.1, seed=seed)
    inputs = net.add(ns.Population(N_INPUTS, ns.SpikeSourcePoisson(rate=setup["rate_hz"]), label="inputs"))
    cell = dict(CELL, tau_m=setup["tau_m"], v_rest=setup["v_rest"])
    if setup["n_inh"]:
        inh = net.add(ns.Population(setup["n_inh"], ns.SpikeSourcePoisson(rate=setup["inh_rate_hz"]),
                                    label="inhibitory"))
        cell.update(e_rev_I=-70.0, tau_syn_I=5.0)
    if "fixed_drive_mv" in setup:
        cell.pop("e_rev_E")
        neuron = net.add(ns.Population(1, ns.IF_curr_exp(**cell), label="neuron"))
    else:
        neuron = net.add(ns.Population(1, ns.IF_cond_exp(**cell), label="neuron"))
    neuron.record("spikes")
    rule = ns.SpikePairRule(tau_plus=TAU, tau_minus=TAU, A_plus=setup["a_plus"], A_minus=RATIO * setup["a_plus"])
    stdp = ns.STDPMechanism(rule, ns.AdditiveWeightDependence(0.0, w_max),
                            weight=ns.RandomDistribution("uniform", low=0.0, high=w_max), delay=0.1)
    proj = net.add(ns.Projection(inputs, neuron, ns.AllToAllConnector(), stdp, label="inputs->neuron"))
    if setup["n_inh"]:
        g_inh = setup["g_inh_leak"] * CM / setup["tau_m"]
        net.add(ns.Projection(inh, neuron, ns.AllToAllConnector(), ns.StaticSynapse(weight=g_inh, delay=0.1),
                              receptor_type="inhibitory"))
    if record_every:
        proj.record("weight", sampling_interval=record_every)
    return net, proj


def run_setup(setup, duration_ms, seed=1, backend="numba"):
    """Bimodality of the final weights, output rate (Hz) and run time (s) of one set-up."""
    out = run_neurosim(duration_ms, seed, backend, setup=setup)
    return {"duration_ms": duration_ms, **bimodality(out["weights"]), "output_rate_hz": out["rate_hz"],
            "run_s": out["run_s"]}


def run_neurosim(duration_ms, seed=1, backend="numba", record_every=None, setup=BRIAN2_EXAMPLE):
    """Final weights / w_max, output rate (Hz) and wall times."""
    import neurosim as ns
    t0 = time.perf_counter()
    net, proj = build_network(seed, record_every, setup)
    sim = ns.compile(net, backend=backend)
    t1 = time.perf_counter()
    results = sim.run(duration_ms)
    t2 = time.perf_counter()
    weights = sim.get_weights(proj, format="list")[:, 2] / w_max_of(setup)
    rate = len(results.spikes("neuron")[0]) / (duration_ms / 1000.0)
    return {"weights": weights, "rate_hz": rate, "compile_s": t1 - t0, "run_s": t2 - t1, "results": results}


def run_brian2(duration_ms, seed=1, device="runtime", build_dir=None, as_written=False):
    """The same experiment written directly in Brian2 (its examples/synapses/STDP.py): with a
    conductance synapse, ``ge * (Ee - v)``, or ``as_written`` with the example's ``ge * (Ee - vr)``."""
    import brian2 as b2
    if device == "cpp_standalone":
        b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    b2.seed(seed)
    taum, Ee, vt, vr, El, taue = 10 * b2.ms, 0 * b2.mV, -54 * b2.mV, -60 * b2.mV, -74 * b2.mV, 5 * b2.ms
    gmax, taupre, taupost = 0.01, TAU * b2.ms, TAU * b2.ms
    dApre = A_PLUS * gmax
    dApost = -dApre * RATIO
    eqs = f"dv/dt = (ge * (Ee-{'vr' if as_written else 'v'}) + El - v) / taum : volt\ndge/dt = -ge / taue : 1"
    inputs = b2.PoissonGroup(N_INPUTS, rates=RATE_HZ * b2.Hz, dt=0.1 * b2.ms)
    neuron = b2.NeuronGroup(1, eqs, threshold="v>vt", reset="v = vr", method="exact" if as_written else "euler",
                            dt=0.1 * b2.ms)
    neuron.v = vr
    syn = b2.Synapses(inputs, neuron,
                      """w : 1
                         dApre/dt = -Apre / taupre : 1 (event-driven)
                         dApost/dt = -Apost / taupost : 1 (event-driven)""",
                      on_pre="""ge += w
                                Apre += dApre
                                w = clip(w + Apost, 0, gmax)""",
                      on_post="""Apost += dApost
                                 w = clip(w + Apre, 0, gmax)""", dt=0.1 * b2.ms)
    syn.connect()
    syn.w = "rand() * gmax"
    spikes = b2.SpikeMonitor(neuron)
    net = b2.Network(inputs, neuron, syn, spikes)
    t0 = time.perf_counter()
    net.run(duration_ms * b2.ms, namespace=dict(taum=taum, Ee=Ee, vt=vt, vr=vr, El=El, taue=taue, gmax=gmax,
                                                taupre=taupre, taupost=taupost, dApre=dApre, dApost=dApost))
    if device == "cpp_standalone":
        b2.device.build(directory=build_dir, compile=True, run=True)
    wall = time.perf_counter() - t0
    out = {"weights": np.asarray(syn.w[:]) / gmax, "rate_hz": spikes.num_spikes / (duration_ms / 1000.0),
           "run_s": getattr(b2.device, "_last_run_time", None) or wall, "wall_s": wall}
    if device == "cpp_standalone":
        b2.device.reinit()
        b2.device.activate()
        b2.set_device("runtime")
    return out


def bimodality(weights):
    """Fractions of weights (in units of g_max) within 10 % of 0 and of g_max."""
    near0 = float(np.mean(weights <= 0.1))
    near_max = float(np.mean(weights >= 0.9))
    return {"fraction_near_0": near0, "fraction_near_gmax": near_max, "fraction_bimodal": near0 + near_max}


def run(out_dir, backend="numba", quick=False):
    """100 s (20 s with quick); writes metrics.json, weight_histogram.png and weights_over_time.png.
    Also in the metrics: ``song_original``, Song et al.'s own set-up after 3000 s (300 s with
    quick), and ``brian2_example_as_written`` (fixed driving force) after the same duration."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(out_dir, exist_ok=True)
    duration = 20000.0 if quick else 100000.0
    out = run_neurosim(duration, backend=backend, record_every=1000.0)
    metrics = {"experiment": "stdp-song2000", "backend": backend, "duration_ms": duration,
               "output_rate_hz": out["rate_hz"], **bimodality(out["weights"]),
               "compile_s": out["compile_s"], "run_s": out["run_s"],
               "criterion": "bimodal when > 80 % of weights lie within 10 % of 0 or g_max (Song et al. 2000 Fig. 1)",
               "song_original": run_setup(SONG, 300000.0 if quick else 3000000.0, backend=backend),
               "brian2_example_as_written": run_setup(BRIAN2_EXAMPLE_AS_WRITTEN, duration, backend=backend)}
    with open(os.path.join(out_dir, "metrics.json"), "w") as handle:
        json.dump(metrics, handle, indent=2)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.hist(out["weights"], bins=20, range=(0, 1), color="0.3")
    ax.set_xlabel("w / g_max")
    ax.set_ylabel("synapses")
    ax.set_title(f"after {duration / 1000:g} s of additive STDP")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "weight_histogram.png"), dpi=120)
    plt.close(fig)
    times, values = out["results"].weights("inputs->neuron")
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(times / 1000.0, np.mean(values / G_MAX >= 0.9, axis=1), label="near g_max")
    ax.plot(times / 1000.0, np.mean(values / G_MAX <= 0.1, axis=1), label="near 0")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("fraction of synapses")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "weights_over_time.png"), dpi=120)
    plt.close(fig)
    return metrics
