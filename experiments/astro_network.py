"""Stimberg et al. Fig. 6 at reduced size: the COBA network with astrocytes.

Example 6 of the paper: N_e 3200 + N_i 800 conductance-based LIF (C_m 198 pF, g_l 9.99 nS,
E_l -60 mV, V_th -50 mV, tau_r 5 ms, E_e 0 / E_i -80 mV, tau_e 5 / tau_i 10 ms), excitatory
p 0.05 (w_e 0.05 nS), inhibitory p 0.2 (w_i 1 nS), every synapse Tsodyks-Markram (U_0* 0.6,
Omega_d 2/s, Omega_f 3.33/s), external current I_ex 100 pA x [1, 1.2, 1, 1] per 2 s, 8 s; one
astrocyte per excitatory neuron (O_beta 0.5, O_delta 1.2 µM/s), gap junctions to the four grid
neighbours (F 0.09 µM/s), alpha = 0.

Reduced here: N_e 800 + N_i 200 with the connection probabilities x 4 (the same 160
excitatory and 160 inhibitory inputs per neuron), 8 s with the paper's stimulus (quick: N_e
200 + N_i 50, 1 s), all populations at dt 0.1 ms (the paper steps astrocytes at 10 ms).

How synapses meet astrocytes.  Excitatory synapses onto excitatory neuron j belong to
astrocyte j (the paper: the astrocyte covering the postsynaptic neuron's position); each is
modelled twice with the same connectivity and the same release: once onto neuron j
(g_e += w_e r_S) and once onto astrocyte j (Y_S += rho_c Y_T r_S / N_incoming, the paper's
average).  Neuron j carries a copy of its astrocyte's Gamma_S (one step late).  Synapses onto
inhibitory neurons are not modulated (in the paper they all map to the central astrocyte).
Without astrocytes: the same network with plain TM synapses.

Reported: excitatory and inhibitory rates per 1 s window, with and without astrocytes, the
astrocytes' gliotransmitter releases and mean Gamma_S.  Spiking networks diverge between
simulators spike by spike, so no numba-vs-brian2 trace comparison is made here.
"""
import numpy as np

from . import astro_common as common

DESCRIPTION = "Stimberg et al. Fig. 6 (reduced): COBA network rates with and without astrocytes"

DT = 0.1
W_E, W_I = 5e-5, 1e-3           # uS (0.05 nS, 1 nS)
P_E, P_I = 0.05, 0.2            # of the full-size network
I_EX = 0.1                      # nA
RHO_C_Y_T = 0.005 * 500000.0    # µM per unit of released resources


def _pairs(rng, n_pre, n_post, p):
    mask = rng.random((n_pre, n_post)) < p
    pre, post = np.nonzero(mask)
    return pre, post


def build_network(n_exc=200, n_inh=50, duration_ms=1000.0, astrocytes=True, seed=1):
    import neurosim as ns
    from neurosim.models.astrocyte import (FIG6, astrocyte, gamma_s_link, ip3_gap_junction, modulated_neuron,
                                           tripartite_synapse)
    scale = 4000.0 / (n_exc + n_inh)          # keep the in-degrees of the full network
    rng = np.random.default_rng(seed)
    net = ns.Network(dt=DT, seed=seed)
    cell = modulated_neuron()
    exc = net.add(ns.Population(n_exc, cell, label="exc"))
    inh = net.add(ns.Population(n_inh, cell, label="inh"))
    for pop, w in ((exc, W_E), (inh, W_I)):
        pop.initialize(v=ns.RandomDistribution("uniform", low=-60.0, high=-50.0))
        pop.record("spikes")
        stimulus = ns.StepCurrentSource(times=np.arange(0.0, duration_ms, 2000.0),
                                        amplitudes=[I_EX * (1.2 if k % 4 == 1 else 1.0)
                                                    for k in range(len(np.arange(0.0, duration_ms, 2000.0)))])
        pop.inject(stimulus)
    pre, post = _pairs(rng, n_exc, n_exc, P_E * scale)
    ee = ns.FromListConnector(list(zip(pre.tolist(), post.tolist())))
    net.add(ns.Projection(exc, exc, ee, tripartite_synapse(W_E, gliotransmission=astrocytes, delay=DT),
                          receptor_type="excitatory", label="exc->exc"))
    for (a, b, w, p, receptor) in ((exc, inh, W_E, P_E, "excitatory"), (inh, exc, W_I, P_I, "inhibitory"),
                                   (inh, inh, W_I, P_I, "inhibitory")):
        i, j = _pairs(rng, a.size, b.size, p * scale)
        net.add(ns.Projection(a, b, ns.FromListConnector(list(zip(i.tolist(), j.tolist()))),
                              tripartite_synapse(w, gliotransmission=False, delay=DT), receptor_type=receptor))
    if astrocytes:
        astro = net.add(ns.Population(n_exc, astrocyte(**FIG6), label="astrocytes"))
        astro.initialize(C=0.01, I=0.01)
        astro.record(["n_release", "Gamma_S", "C", "I"], sampling_interval=100.0)
        incoming = np.bincount(post, minlength=n_exc)
        glutamate = [(a, b, RHO_C_Y_T / incoming[b], DT) for a, b in zip(pre.tolist(), post.tolist())]
        net.add(ns.Projection(exc, astro, ns.FromListConnector(glutamate), tripartite_synapse(1.0, delay=DT),
                              receptor_type="glutamate", label="exc->astrocytes"))
        net.add(ns.Projection(astro, exc, ns.OneToOneConnector(), gamma_s_link(DT),
                              receptor_type="gliotransmitter", label="Gamma_S"))
        side = int(np.ceil(np.sqrt(n_exc)))
        neighbours = [(k, m) for k in range(n_exc) for m in (k - 1, k + 1, k - side, k + side)
                      if 0 <= m < n_exc and (abs(m - k) == side or m // side == k // side)]
        net.add(ns.Projection(astro, astro, ns.FromListConnector(neighbours), ip3_gap_junction(DT, F=0.09),
                              receptor_type="ip3", label="gap junctions"))
    return net


def window_rates(results, label, size, duration_ms, window_ms=1000.0):
    times, _ = results.spikes(label)
    edges = np.arange(0.0, duration_ms + 1e-9, window_ms)
    counts, _ = np.histogram(times, edges)
    return [float(c / size / (window_ms / 1000.0)) for c in counts]


def run(out_dir, backend="numba", quick=False):
    """Writes metrics.json and rates.png into ``out_dir``."""
    n_exc, n_inh, duration = (200, 50, 1000.0) if quick else (800, 200, 8000.0)
    metrics = {"experiment": "astro-network", "backend": backend, "dt_ms": DT, "n_exc": n_exc, "n_inh": n_inh,
               "duration_ms": duration}
    fig, ax = common.axes(1, height=3.0)
    for with_astro in (False, True):
        key = "with_astrocytes" if with_astro else "without_astrocytes"
        results, wall = common.run(lambda: build_network(n_exc, n_inh, duration, with_astro), duration, backend)
        part = {"exc_rate_hz": window_rates(results, "exc", n_exc, duration),
                "inh_rate_hz": window_rates(results, "inh", n_inh, duration), "wall_s": wall}
        if with_astro:
            part["gliotransmitter_releases"] = int(results.trace("astrocytes", "n_release").values[-1].sum())
            part["mean_gamma_s_end"] = float(results.trace("astrocytes", "Gamma_S").values[-1].mean())
            part["astrocyte_ca_max_uM"] = float(results.trace("astrocytes", "C").values.max())
            part["astrocyte_ip3_max_uM"] = float(results.trace("astrocytes", "I").values.max())
        metrics[key] = part
        ax[0, 0].plot(np.arange(len(part["exc_rate_hz"])) + 0.5, part["exc_rate_hz"], "o-", label=f"exc, {key}")
    ax[0, 0].set(xlabel="time (s)", ylabel="rate (Hz)")
    ax[0, 0].legend(fontsize=7)
    common.figure(out_dir, "rates.png", fig)
    metrics["comparison"] = {"not_compared": "spiking network: simulators diverge spike by spike; "
                                             "components are compared in astro-single/astro-synapse/astro-ring"}
    return common.write_metrics(out_dir, metrics)
