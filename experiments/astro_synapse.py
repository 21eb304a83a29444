"""Stimberg et al. Fig. 3 and 4: gliotransmitter modulation of synaptic release.

Fig. 3 (example 3): one presynaptic spike train (spikes at 0, 50, ..., 200 ms, then every
10 ms from 300 to 400 ms, after a 16.5 s transient) through three Tsodyks-Markram synapses
(U_0* 0.6, Omega_f 3.33/s, Omega_d 2/s): without gliotransmission, and modulated by an
astrocyte driven exogenously towards I_bias = 0.8 µM ("weak") or 1.25 µM ("stronger"), whose
released gliotransmitter (G_A) activates presynaptic receptors Gamma_S and lowers the release
probability (alpha = 0: U_0 = (1 - Gamma_S) U_0*).  This is the open-loop case: the astrocytes
do not see the synapse.  Reported: released resources r_S per spike; numba vs brian2 maximum
relative error of Ca2+ and of the released resources (cumulative r_S), goal <= 1 %.

Fig. 4 (after example 4, rsmean): release vs presynaptic rate.  Poisson trains at several
rates drive synapses without gliotransmission, in an open loop (an astrocyte driven towards
I_bias = 1 µM, blind to the synapse) and in a closed loop (each synapse's glutamate
rho_c Y_T r_S drives its own astrocyte, O_beta 3.2 µM/s, I_bias 0 with the script's
F_ex = 2 µM/s, whose gliotransmitter feeds back on the synapse).  Reported: mean r_S per
spike after a transient (the script averages the held r_S over time instead).  Poisson
spikes differ between backends, so this part runs on one backend only.
"""
import numpy as np

from . import astro_common as common

DESCRIPTION = "Stimberg et al. Fig. 3/4: release without / with open- and closed-loop gliotransmission"

DT = 1.0
TRANSIENT_MS = 16500.0
PATTERN_MS = np.array([0, 50, 100, 150, 200, 300, 310, 320, 330, 340, 350, 360, 370, 380, 390, 400.0])
I_BIAS = (0.0, 0.8, 1.25)                 # astrocyte 0 is not used by synapse 0 (no gliotransmission)
CASES = ("no gliotransmission", "weak (I_bias 0.8 uM)", "stronger (I_bias 1.25 uM)")
RATES_HZ = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
GLUTAMATE_UM = 0.005 * 500000.0           # rho_c * Y_T, µM per unit of released resources


def build_fig3():
    import neurosim as ns
    from neurosim.models.astrocyte import astrocyte, tripartite_synapse
    net = ns.Network(dt=DT, seed=1)
    src = net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=TRANSIENT_MS + PATTERN_MS), label="presynaptic"))
    astro = net.add(ns.Population(3, astrocyte(I_bias=np.array(I_BIAS), O_beta=0.0), label="astrocytes"))
    astro.initialize(I=0.4)
    astro.record(["C", "G_A", "Gamma_S", "released"])
    net.add(ns.Projection(src, astro[0:1], ns.AllToAllConnector(),
                          tripartite_synapse(1.0, gliotransmission=False, delay=DT), receptor_type="released"))
    net.add(ns.Projection(src, astro[1:], ns.AllToAllConnector(), tripartite_synapse(1.0, delay=DT),
                          receptor_type="released"))
    return net


def release_per_spike(released, times_ms, spike_times_ms):
    """r_S of each presynaptic spike: the jump of the cumulative count one step after its arrival."""
    out = []
    for t in spike_times_ms:
        k = int(np.searchsorted(times_ms, t + DT - 1e-9))     # sample at arrival (delay DT)
        out.append(released[k] - released[k - 1])
    return np.array(out)


def build_fig4(rates, n_per_rate, duration_ms, seed=1):
    """Per rate ``n_per_rate`` synapses without gliotransmission, open loop, closed loop."""
    import neurosim as ns
    from neurosim.models.astrocyte import astrocyte, tripartite_synapse
    net = ns.Network(dt=DT, seed=seed)
    per_syn = np.repeat(np.asarray(rates, float), n_per_rate)
    n = len(per_syn)
    src = net.add(ns.Population(3 * n, ns.SpikeSourcePoisson(rate=np.tile(per_syn, 3)), label="presynaptic"))
    src.record("spikes")
    bias = np.concatenate([np.zeros(2 * n), np.ones(n)])        # open loop: I_bias 1 µM
    astro = net.add(ns.Population(3 * n, astrocyte(I_bias=bias), label="astrocytes"))
    astro.record("released", sampling_interval=1000.0)
    one = ns.OneToOneConnector()
    net.add(ns.Projection(src[:n], astro[:n], one, tripartite_synapse(1.0, gliotransmission=False, delay=DT),
                          receptor_type="released"))
    # closed loop: the same synapse twice (identical state): once counting r_S, once as glutamate
    net.add(ns.Projection(src[n:], astro[n:], one, tripartite_synapse(1.0, delay=DT), receptor_type="released"))
    net.add(ns.Projection(src[n:2 * n], astro[n:2 * n], one, tripartite_synapse(GLUTAMATE_UM, delay=DT),
                          receptor_type="glutamate"))
    return net


def fig4(backend, rates, n_per_rate, duration_ms, transient_ms):
    results, wall = common.run(lambda: build_fig4(rates, n_per_rate, duration_ms), duration_ms, backend)
    trace = results.trace("astrocytes", "released")
    start = int(np.searchsorted(trace.times, transient_ms - 1e-9))
    released = trace.values[-1] - trace.values[start]
    times, ids = results.spikes("presynaptic")
    window = (times > transient_ms - DT) & (times <= duration_ms - DT)   # spikes that arrived in the window
    counts = np.bincount(ids[window], minlength=len(released))
    per_spike = released / np.maximum(counts, 1)
    n = len(rates) * n_per_rate
    rows = {}
    for name, part in (("no_gliotransmission", slice(0, n)), ("closed_loop", slice(n, 2 * n)),
                       ("open_loop", slice(2 * n, 3 * n))):
        values = per_spike[part].reshape(len(rates), n_per_rate)
        rows[name] = [float(v) for v in values.mean(axis=1)]
    return {"rates_hz": list(rates), "mean_release_per_spike": rows, "transient_ms": transient_ms,
            "duration_ms": duration_ms, "synapses_per_rate": n_per_rate, "wall_s": wall}


def run(out_dir, backend="numba", quick=False):
    """Writes metrics.json, fig3_release.png and fig4_release_vs_rate.png into ``out_dir``."""
    duration = TRANSIENT_MS + 600.0
    results, wall = common.run(build_fig3, duration, backend)
    other = "brian2" if backend != "brian2" else "numba"
    comparison = common.compare_backends(build_fig3, duration, [("astrocytes", "C"), ("astrocytes", "released")],
                                         results, backend, other)
    released = results.trace("astrocytes", "released")
    per_spike = release_per_spike(released.values, released.times, TRANSIENT_MS + PATTERN_MS)
    fig3 = {case: [float(x) for x in per_spike[:, k]] for k, case in enumerate(CASES)}
    gamma_s = results.trace("astrocytes", "Gamma_S").values
    k0 = int(np.searchsorted(released.times, TRANSIENT_MS))
    f4 = fig4(backend, RATES_HZ[::2] if quick else RATES_HZ, 5 if quick else 20,
              20000.0 if quick else 60000.0, 10000.0 if quick else 20000.0)
    metrics = {"experiment": "astro-synapse", "backend": backend, "dt_ms": DT,
               "fig3": {"release_per_spike": fig3, "total_release": {c: float(sum(v)) for c, v in fig3.items()},
                        "gamma_s_at_stimulus": [float(g) for g in gamma_s[k0]],
                        "ca_max_before_stimulus_uM": [float(x) for x in
                                                      results.trace("astrocytes", "C").values[:k0].max(axis=0)],
                        "wall_s": wall, "comparison": comparison},
               "fig4": f4}
    fig, ax = common.axes(2)
    for k, case in enumerate(CASES):
        ax[0, 0].plot(PATTERN_MS, per_spike[:, k], "o-", label=case)
    ax[0, 0].set(xlabel="time after transient (ms)", ylabel="released r_S")
    ax[0, 0].legend(fontsize=7)
    ax[1, 0].plot(released.times / 1000.0, results.trace("astrocytes", "C").values[:, 1:])
    ax[1, 0].set(xlabel="time (s)", ylabel="C (µM)")
    common.figure(out_dir, "fig3_release.png", fig)
    fig, ax = common.axes(1, height=3.0)
    for name, values in f4["mean_release_per_spike"].items():
        ax[0, 0].semilogx(f4["rates_hz"], values, "o-", label=name.replace("_", " "))
    ax[0, 0].set(xlabel="presynaptic rate (Hz)", ylabel="mean r_S per spike")
    ax[0, 0].legend()
    common.figure(out_dir, "fig4_release_vs_rate.png", fig)
    return common.write_metrics(out_dir, metrics)
