"""A pattern held for seconds by astrocytes: stimulate, wait, read out.

N_UNITS astrocyte-modulated units (:class:`~neurosim.models.astrocyte_units.AstrocyteUnits`,
one astrocyte per unit, the astrocyte sensing the glutamate of the unit's input synapses).

* Phase 1 (10 s): the input synapses of the pattern units (half of them, chosen at random)
  fire at 20 Hz, the others are silent.  Their glutamate drives the pattern units'
  astrocytes (O_beta 0.5 µM/s, O_delta 0.2 µM/s as in Fig. 2 — with example 3's 0.6 µM/s
  resting astrocytes oscillate by themselves within ~30 s —, no exogenous drive) to release
  gliotransmitter, which activates presynaptic receptors (Gamma_S, decay time 2 min).
* Phase 2 (delay, 30 s; quick 2 s): no input.
* Phase 3 (readout, 2 s): every unit gets the same kind of fresh test input (Poisson, 2 Hz
  per synapse: at low rates depression is weak and U_0 sets the release); the astrocytes
  do not sense it.

Run once per coupling rule, and once without astrocytes (same network, same spikes in,
plain TM synapses):

* 'release' — release-increasing gliotransmission (alpha = 1, the option named in Stimberg
  et al. example 6: U_0 = (1 - Gamma_S) U_0* + Gamma_S): the pattern units' synapses
  release more at readout;
* 'excitability' — the pattern units' threshold is lower by dV_th Gamma_S (DV_TH mV);
* 'sic' — a slow inward current after each release (50 pA, decay 0.5 s): it acts during the
  stimulus only, so it is expected to hold nothing over the delay.

Reported per rule: readout rates of pattern and other units, the pattern recalled from the
readout (the N/2 units with the highest rates): fraction of units classified correctly
(0.5 = chance), and the pattern units' rate during the stimulus.  ``with_astrocytes`` /
``without_astrocytes`` repeat the 'release' and no-astrocyte entries.
A designed demonstration, not a published benchmark.
"""
import numpy as np

from . import astro_common as common

DESCRIPTION = "Astrocyte working memory: a stimulated pattern read out seconds later, per coupling rule vs without"

DT = 0.5
N_UNITS, K_INPUTS = 40, 20
W_TEST = 0.01                   # uS per input synapse (x r_S)
TEST_HZ = 2.0                   # readout input per synapse: low, where depression is weak
RHO_C_Y_T = 0.005 * 500000.0    # µM per unit of released resources (divided over the K_INPUTS synapses)
DV_TH = 5.0                     # mV, threshold shift of the 'excitability' rule at Gamma_S = 1
RULES = ("release", "excitability", "sic")


def build_network(stim_ms=10000.0, delay_ms=2000.0, readout_ms=2000.0, rule="release", seed=1):
    """The network for one coupling ``rule`` (None: without astrocytes); returns (net, pattern)."""
    import neurosim as ns
    from neurosim.models.astrocyte_units import AstrocyteUnits
    rng = np.random.default_rng(seed)
    pattern = np.zeros(N_UNITS, bool)
    pattern[rng.choice(N_UNITS, N_UNITS // 2, replace=False)] = True
    net = ns.Network(dt=DT, seed=seed)
    # the inputs first, so that every rule and the control get the same input spikes
    rates = np.repeat(np.where(pattern, 20.0, 0.0), K_INPUTS)
    stim = net.add(ns.Population(N_UNITS * K_INPUTS, ns.SpikeSourcePoisson(rate=rates, start=0.0, duration=stim_ms),
                                 label="stimulus"))
    test = net.add(ns.Population(N_UNITS * K_INPUTS, ns.SpikeSourcePoisson(rate=TEST_HZ, start=stim_ms + delay_ms,
                                                                           duration=readout_ms), label="test"))
    units = AstrocyteUnits(net, N_UNITS, rule=rule or "release", astrocytes=rule is not None, alpha=1.0,
                           neuron={"dV_th": DV_TH} if rule == "excitability" else None,
                           astrocyte_parameters=dict(F_ex=0.0, O_beta=0.5, O_delta=0.2))
    units.record("spikes")
    wiring = ns.FromListConnector([(k, k // K_INPUTS) for k in range(N_UNITS * K_INPUTS)])
    units.connect(stim, wiring, W_TEST, delay=DT, glutamate=RHO_C_Y_T)
    units.connect(test, wiring, W_TEST, delay=DT, sensed=False)
    if units.astrocytes is not None:
        units.astrocytes.record(["Gamma_S", "n_release"], sampling_interval=100.0)
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
               "inputs_per_unit": K_INPUTS, "stimulus_ms": stim_ms, "delay_ms": delay_ms, "readout_ms": readout_ms,
               "dV_th_mV": DV_TH, "by_rule": {}}
    fig, ax = common.axes(1, height=3.0)
    for rule in (None,) + RULES:
        key = rule or "without_astrocytes"
        net, pattern = build_network(stim_ms, delay_ms, readout_ms, rule)
        results, wall = common.run(lambda: net, duration, backend)
        times, ids = results.spikes("units")
        window = times > stim_ms + delay_ms
        rates = np.bincount(ids[window], minlength=N_UNITS) / (readout_ms / 1000.0)
        during = np.bincount(ids[times <= stim_ms], minlength=N_UNITS) / (stim_ms / 1000.0)
        part = {"readout_rate_pattern_hz": float(rates[pattern].mean()),
                "readout_rate_other_hz": float(rates[~pattern].mean()),
                "recall_fraction_correct": recall(rates, pattern),
                "stimulus_rate_pattern_hz": float(during[pattern].mean()), "wall_s": wall}
        if rule is not None:
            gamma = results.trace("units_astrocytes", "Gamma_S")
            k = int(np.searchsorted(gamma.times, stim_ms + delay_ms))
            part["gamma_s_at_readout_pattern"] = float(gamma.values[k, pattern].mean())
            part["gamma_s_at_readout_other"] = float(gamma.values[k, ~pattern].mean())
            released = results.trace("units_astrocytes", "n_release").values[-1]
            part["astrocytes_that_released"] = int(np.sum(released > 0))
        metrics["by_rule"][key] = part
        ax[0, 0].plot(np.arange(N_UNITS), rates, "x" if rule is None else "o", label=key.replace("_", " "))
    metrics["without_astrocytes"] = metrics["by_rule"]["without_astrocytes"]
    metrics["with_astrocytes"] = metrics["by_rule"]["release"]
    ax[0, 0].set(xlabel="unit", ylabel="readout rate (Hz)", title="pattern units: " +
                 ", ".join(str(i) for i in np.nonzero(pattern)[0][:8]) + ", ...")
    ax[0, 0].legend(fontsize=7)
    common.figure(out_dir, "readout.png", fig)
    return common.write_metrics(out_dir, metrics)
