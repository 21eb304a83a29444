"""A pattern held for seconds by astrocytes: stimulate, wait, read out.

N_UNITS astrocyte-modulated units (``modulated_neuron`` + one astrocyte each, the astrocyte
sensing the glutamate of the unit's input synapses).

* Phase 1 (10 s): the input synapses of the pattern units (half of them, chosen at random)
  fire at 20 Hz, the others are silent.  Their glutamate drives the pattern units'
  astrocytes (O_beta 0.5 µM/s, O_delta 0.2 µM/s as in Fig. 2 — with example 3's 0.6 µM/s
  resting astrocytes oscillate by themselves within ~30 s —, no exogenous drive) to release
  gliotransmitter, which activates presynaptic receptors (Gamma_S, decay time 2 min).
* Phase 2 (delay, 30 s; quick 2 s): no input.
* Phase 3 (readout, 2 s): every unit gets the same kind of fresh test input (Poisson, 2 Hz
  per synapse: at low rates depression is weak and U_0 sets the release).

With release-increasing gliotransmission (alpha = 1, the "release-increasing" option named
in Stimberg et al. example 6: U_0 = (1 - Gamma_S) U_0* + Gamma_S) the pattern units answer
the test input more strongly.

Reported, with and without astrocytes (same network, same spikes in, plain TM synapses):
readout rates of pattern and other units, and the pattern recalled from the readout
(the N/2 units with the highest rates): fraction of units classified correctly (0.5 = chance).
A designed demonstration, not a published benchmark.
"""
import numpy as np

from . import astro_common as common

DESCRIPTION = "Astrocyte working memory: a stimulated pattern read out seconds later, with vs without astrocytes"

DT = 0.5
N_UNITS, K_INPUTS = 40, 20
W_TEST = 0.01                   # uS per input synapse (x r_S)
TEST_HZ = 2.0                   # readout input per synapse: low, where depression is weak
RHO_C_Y_T = 0.005 * 500000.0    # µM per unit of released resources


def build_network(stim_ms=10000.0, delay_ms=2000.0, readout_ms=2000.0, astrocytes=True, seed=1):
    import neurosim as ns
    from neurosim.models.astrocyte import astrocyte, gamma_s_link, modulated_neuron, tripartite_synapse
    rng = np.random.default_rng(seed)
    pattern = np.zeros(N_UNITS, bool)
    pattern[rng.choice(N_UNITS, N_UNITS // 2, replace=False)] = True
    net = ns.Network(dt=DT, seed=seed)
    units = net.add(ns.Population(N_UNITS, modulated_neuron(), label="units"))
    units.record("spikes")
    rates = np.repeat(np.where(pattern, 20.0, 0.0), K_INPUTS)
    stim = net.add(ns.Population(N_UNITS * K_INPUTS, ns.SpikeSourcePoisson(rate=rates, start=0.0, duration=stim_ms),
                                 label="stimulus"))
    test = net.add(ns.Population(N_UNITS * K_INPUTS, ns.SpikeSourcePoisson(rate=TEST_HZ, start=stim_ms + delay_ms,
                                                                           duration=readout_ms), label="test"))
    wiring = [(k, k // K_INPUTS) for k in range(N_UNITS * K_INPUTS)]
    for src in (stim, test):
        net.add(ns.Projection(src, units, ns.FromListConnector(wiring),
                              tripartite_synapse(W_TEST, gliotransmission=astrocytes, alpha=1.0, delay=DT),
                              receptor_type="excitatory"))
    if astrocytes:
        astro = net.add(ns.Population(N_UNITS, astrocyte(F_ex=0.0, O_beta=0.5, O_delta=0.2), label="astrocytes"))
        astro.record(["Gamma_S", "n_release"], sampling_interval=100.0)
        net.add(ns.Projection(stim, astro, ns.FromListConnector(wiring),
                              tripartite_synapse(RHO_C_Y_T / K_INPUTS, alpha=1.0, delay=DT), receptor_type="glutamate"))
        net.add(ns.Projection(astro, units, ns.OneToOneConnector(), gamma_s_link(DT), receptor_type="gliotransmitter"))
    return net, pattern


def recall(rates, pattern):
    """Fraction of units classified correctly when the N/2 highest readout rates are called 'pattern'."""
    order = np.argsort(-rates, kind="stable")
    called = np.zeros(len(rates), bool)
    called[order[: len(rates) // 2]] = True
    return float(np.mean(called == pattern))


def run(out_dir, backend="numba", quick=False):
    """Writes metrics.json and readout.png into ``out_dir``."""
    stim_ms, delay_ms, readout_ms = (10000.0, 2000.0, 2000.0) if quick else (10000.0, 30000.0, 2000.0)
    duration = stim_ms + delay_ms + readout_ms
    metrics = {"experiment": "astro-memory", "backend": backend, "dt_ms": DT, "units": N_UNITS,
               "inputs_per_unit": K_INPUTS, "stimulus_ms": stim_ms, "delay_ms": delay_ms, "readout_ms": readout_ms}
    fig, ax = common.axes(1, height=3.0)
    for with_astro in (False, True):
        key = "with_astrocytes" if with_astro else "without_astrocytes"
        net, pattern = build_network(stim_ms, delay_ms, readout_ms, with_astro)
        results, wall = common.run(lambda: net, duration, backend)
        times, ids = results.spikes("units")
        window = times > stim_ms + delay_ms
        rates = np.bincount(ids[window], minlength=N_UNITS) / (readout_ms / 1000.0)
        part = {"readout_rate_pattern_hz": float(rates[pattern].mean()),
                "readout_rate_other_hz": float(rates[~pattern].mean()),
                "recall_fraction_correct": recall(rates, pattern), "wall_s": wall}
        if with_astro:
            gamma = results.trace("astrocytes", "Gamma_S")
            k = int(np.searchsorted(gamma.times, stim_ms + delay_ms))
            part["gamma_s_at_readout_pattern"] = float(gamma.values[k, pattern].mean())
            part["gamma_s_at_readout_other"] = float(gamma.values[k, ~pattern].mean())
            part["astrocytes_that_released"] = int(np.sum(results.trace("astrocytes", "n_release").values[-1] > 0))
        metrics[key] = part
        ax[0, 0].plot(np.arange(N_UNITS), rates, "o" if with_astro else "x", label=key.replace("_", " "))
    ax[0, 0].set(xlabel="unit", ylabel="readout rate (Hz)", title="pattern units: " +
                 ", ".join(str(i) for i in np.nonzero(pattern)[0][:8]) + ", ...")
    ax[0, 0].legend(fontsize=7)
    common.figure(out_dir, "readout.png", fig)
    return common.write_metrics(out_dir, metrics)
