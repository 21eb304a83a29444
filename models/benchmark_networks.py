"""The standard benchmark networks, described once for the CLI, experiments and benchmarks."""
import math

import numpy as np

import neurosim as ns
from neurosim.connectors import FixedTotalNumberConnector


def cuba_network(n_neurons=4000, p_connect=0.02, seed=1, dt=0.1):
    """Brian2's examples/CUBA.py in PyNN terms: 80 % excitatory, 20 % inhibitory, spikes recorded.

    LIF (cm 0.2 nF, tau_m 20 ms, E_L -49 mV above threshold -50 mV, reset -60 mV,
    refractory 5 ms), current synapses 0.0162 nA (tau 5 ms) / -0.09 nA (tau 10 ms),
    Bernoulli connectivity ``p_connect``, delay one step (0.1 ms at the default dt; ``dt=1.0``
    gives the SpiNNaker-step variant).  Keep ``n_neurons * p_connect`` near 80 inputs per
    neuron to keep its dynamics.
    """
    n_exc = int(round(0.8 * n_neurons))
    net = ns.Network(dt=dt, seed=seed)
    cell = ns.IF_curr_exp(cm=0.2, tau_m=20.0, v_rest=-49.0, v_thresh=-50.0, v_reset=-60.0,
                          tau_refrac=5.0, tau_syn_E=5.0, tau_syn_I=10.0, i_offset=0.0)
    exc = net.add(ns.Population(n_exc, cell, label="exc"))
    inh = net.add(ns.Population(n_neurons - n_exc, cell, label="inh"))
    for pop in (exc, inh):
        pop.initialize(v=ns.RandomDistribution("uniform", low=-60.0, high=-50.0))
        pop.record("spikes")
    for pre, w, rtype in ((exc, 0.0162, "excitatory"), (inh, -0.09, "inhibitory")):
        for post in (exc, inh):
            net.add(ns.Projection(pre, post, ns.FixedProbabilityConnector(p_connect),
                                  ns.StaticSynapse(weight=w, delay=dt), receptor_type=rtype))
    return net


# ----------------------------------------------------------------------------- COBA

COBA_VARIANT = (
    "Brian 1 examples/misc/COBA.py with a constant 20 mV drive (the ANNarchy / CCN 2019 "
    "re-benchmark): 80 % excitatory, 20 % inhibitory, Bernoulli p (autapses allowed), "
    "IF_cond_exp cm 0.2 nF, tau_m 20 ms (g_L 10 nS), E_L -60 mV, threshold -50 mV, reset "
    "-60 mV, refractory 5 ms, E_e 0 mV, E_i -80 mV, tau_e 5 ms, tau_i 10 ms, weights 6 nS / "
    "67 nS (0.006 / 0.067 uS), drive i_offset 0.2 nA (= 20 mV x g_L), forward Euler, "
    "delay one step (0.1 ms); initial v = E_L + (N(0,1)*5 - 5) mV, g_exc = (N(0,1)*1.5 + 4)*10 nS, "
    "g_inh = (N(0,1)*12 + 20)*10 nS, conductances clipped at 0"
)


def coba_network(n_neurons=4000, p_connect=0.02, seed=1, dt=0.1, method="euler"):
    """The Brian 1 COBA benchmark with a constant 20 mV drive, in PyNN terms (see COBA_VARIANT).

    Brian 1's ``examples/misc/COBA.py`` measures conductances in units of the leak
    conductance (we = 0.6, wi = 6.7 with g_L = 10 nS) and shifts v by -60 mV; here they
    are physical: IF_cond_exp with cm = 0.2 nF and tau_m = 20 ms (g_L = 10 nS), weights
    0.006 uS / 0.067 uS, and the 20 mV drive of the ANNarchy re-benchmark
    (hdinkelbach/codes_ccn_2019 ``coba/Brian2_COBA.py``) as i_offset = 20 mV * 10 nS =
    0.2 nA.  Initial values as Brian's COBAHH / COBA: v = E_L + (randn*5 - 5) mV,
    g_exc = (randn*1.5 + 4)*10 nS, g_inh = (randn*12 + 20)*10 nS, conductances clipped
    at 0 (``normal_clipped_to_boundary``).  ``method`` is the integration method;
    'euler' as Brian's COBA ('auto' lets neurosim choose).  Spikes are recorded.
    """
    n_exc = int(round(0.8 * n_neurons))
    net = ns.Network(dt=dt, seed=seed)
    cell = ns.IF_cond_exp(cm=0.2, tau_m=20.0, v_rest=-60.0, v_thresh=-50.0, v_reset=-60.0,
                          tau_refrac=5.0, tau_syn_E=5.0, tau_syn_I=10.0, e_rev_E=0.0, e_rev_I=-80.0,
                          i_offset=0.2)
    cell.method = method  # a documented NeuronModel attribute; read by the backends
    exc = net.add(ns.Population(n_exc, cell, label="exc"))
    inh = net.add(ns.Population(n_neurons - n_exc, cell, label="inh"))
    inf = float("inf")
    for pop in (exc, inh):
        pop.initialize(v=ns.RandomDistribution("normal", mu=-65.0, sigma=5.0),
                       g_exc=ns.RandomDistribution("normal_clipped_to_boundary", mu=0.04, sigma=0.015,
                                                   low=0.0, high=inf),
                       g_inh=ns.RandomDistribution("normal_clipped_to_boundary", mu=0.2, sigma=0.12,
                                                   low=0.0, high=inf))
        pop.record("spikes")
    for pre, w, rtype in ((exc, 0.006, "excitatory"), (inh, 0.067, "inhibitory")):
        for post in (exc, inh):
            net.add(ns.Projection(pre, post, ns.FixedProbabilityConnector(p_connect),
                                  ns.StaticSynapse(weight=w, delay=dt), receptor_type=rtype))
    return net


# ------------------------------------------------------- Potjans & Diesmann 2014 microcircuit
#
# Parameters of the published model (Potjans & Diesmann 2014, Cereb. Cortex 24:785) as the
# INM-6/microcircuit-PD14-model reference implementation gives them
# (PyNEST/src/microcircuit/parameter_definitions.py); see
# /work/shared/references/performance.md section 3.

PD14_POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
PD14_FULL_SIZES = (20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948)
# connection probabilities, first index the target, second the source population
PD14_CONN_PROBS = (
    (0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0),
    (0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0),
    (0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0),
    (0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0),
    (0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0),
    (0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0),
    (0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252),
    (0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443),
)
PD14_K_EXT = (1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100)  # external in-degrees
# population rates (spikes/s) of the full-scale model as the reference implementation
# states them (parameter ``full_mean_rates``; used there to compensate in-degree scaling)
PD14_REFERENCE_RATES = (0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829)
# 'optimized' initial membrane potentials: population-specific mean and sd (mV)
PD14_V0_MEAN = (-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43)
PD14_V0_STD = (5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48)
PD14_NEURON = dict(cm=0.25, tau_m=10.0, v_rest=-65.0, v_thresh=-50.0, v_reset=-65.0,
                   tau_refrac=2.0, tau_syn_E=0.5, tau_syn_I=0.5)
PD14_PSP_MEAN = 0.15       # mV, mean excitatory PSP amplitude
PD14_G = -4.0              # inhibitory / excitatory weight
PD14_WEIGHT_REL_SD = 0.1
PD14_DELAY_EXC, PD14_DELAY_INH, PD14_DELAY_REL_SD = 1.5, 0.75, 0.5  # ms
PD14_BG_RATE = 8.0         # Hz per external input
PD14_POISSON_DELAY = 1.5   # ms (only with dc_drive=False)


def psc_from_psp(psp, cm=PD14_NEURON["cm"], tau_m=PD14_NEURON["tau_m"], tau_syn=PD14_NEURON["tau_syn_E"]):
    """Amplitude (nA) of an exponential current that gives a PSP peaking at ``psp`` mV.

    The membrane response to I(t) = J exp(-t/tau_s) is
    v(t) = J tau_m tau_s / (C (tau_m - tau_s)) (exp(-t/tau_m) - exp(-t/tau_s)), with its peak
    at t* = tau_m tau_s ln(tau_m / tau_s) / (tau_m - tau_s).  0.15 mV -> 0.0878 nA.
    """
    t_peak = tau_m * tau_syn * math.log(tau_m / tau_syn) / (tau_m - tau_syn)
    shape = (tau_m * tau_syn / (cm * (tau_m - tau_syn))) * (math.exp(-t_peak / tau_m)
                                                            - math.exp(-t_peak / tau_syn))
    return psp / shape


def pd14_full_synapse_numbers():
    """8x8 (target, source) total synapse numbers of the full model.

    The number of draws with replacement that leaves each of the N_pre * N_post pairs
    connected with probability p: K = log(1 - p) / log(1 - 1 / (N_pre N_post)).
    """
    out = []
    for t, row in enumerate(PD14_CONN_PROBS):
        pairs = [PD14_FULL_SIZES[t] * PD14_FULL_SIZES[s] for s in range(8)]
        out.append([math.log(1.0 - p) / math.log(1.0 - 1.0 / n) for p, n in zip(row, pairs)])
    return out


def microcircuit_parameters(scale=0.1, k_scale=1.0, dc_drive=True):
    """Derived parameters of :func:`microcircuit_network` (sizes, synapse numbers, weights, DC).

    Returns a dict: ``sizes`` (8 ints), ``synapses`` (8x8 ints, target x source),
    ``weights`` (8x8 mean weights in nA), ``dc`` (8 currents in nA), ``psc`` (the unit
    excitatory weight in nA), ``reference_rates``.
    """
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1] (got {scale})")
    if not 0 < k_scale <= 1:
        raise ValueError(f"k_scale must be in (0, 1] (got {k_scale})")
    psc = psc_from_psp(PD14_PSP_MEAN)
    full_syn = pd14_full_synapse_numbers()
    weights = [[psc * (1.0 if s % 2 == 0 else PD14_G) for s in range(8)] for _ in range(8)]
    weights[0][2] = 2.0 * psc  # L4E -> L23E: twice the mean PSP (Potjans & Diesmann 2014)
    sizes = [int(round(scale * n)) for n in PD14_FULL_SIZES]
    synapses = [[int(round(full_syn[t][s] * scale * k_scale)) for s in range(8)] for t in range(8)]
    ext_weight = psc
    tau_syn = PD14_NEURON["tau_syn_E"]
    # DC equal to the mean of the K_ext Poisson inputs at 8 Hz: rate * K * J * tau_syn
    dc = [PD14_BG_RATE * 1e-3 * k * psc * tau_syn if dc_drive else 0.0 for k in PD14_K_EXT]
    if k_scale != 1.0:
        root = math.sqrt(k_scale)
        for t in range(8):
            # mean recurrent input of the full model, which the thinned in-degree loses
            rec = sum(weights[t][s] * full_syn[t][s] / PD14_FULL_SIZES[t] * PD14_REFERENCE_RATES[s]
                      for s in range(8))
            dc[t] += 1e-3 * tau_syn * (1.0 - root) * rec
            if not dc_drive:
                dc[t] += 1e-3 * tau_syn * (1.0 - root) * ext_weight * PD14_K_EXT[t] * PD14_BG_RATE
        weights = [[w / root for w in row] for row in weights]
        ext_weight /= root
    return {"sizes": sizes, "synapses": synapses, "weights": weights, "dc": dc, "psc": psc,
            "ext_weight": ext_weight, "ext_indegree": [int(round(k * k_scale)) for k in PD14_K_EXT],
            "reference_rates": list(PD14_REFERENCE_RATES), "populations": list(PD14_POPULATIONS)}


def microcircuit_network(scale=0.1, seed=1, dc_drive=True, k_scale=1.0, dt=0.1, record_spikes=True):
    """The Potjans & Diesmann (2014) cortical microcircuit: 8 populations L23E ... L6I.

    Scaling (the reference implementation's N_scaling / K_scaling): ``scale`` multiplies the
    neuron numbers, ``k_scale`` the in-degrees; the synapse count is
    3.0e8 x scale x k_scale.  The default ``k_scale=1`` keeps every neuron's full in-degree
    (about 3 870 recurrent inputs), so the synapse count scales with ``scale`` and no
    compensation is needed; below scale ~0.2 many pairs are then connected more than once
    (FixedTotalNumber draws with replacement).  With ``k_scale < 1`` the weights are divided
    by sqrt(k_scale) and every population gets the mean recurrent input it lost as extra DC,
    tau_syn (1 - sqrt(k_scale)) sum_s J_ts K_ts nu_s, with the full model's in-degrees K_ts
    and the reference rates nu_s, exactly as the reference implementation does.  That sum
    is negative (inhibition dominates), so with DC drive the DC falls below rheobase
    (0.375 nA) in L2/3 for k_scale < ~0.45 and everywhere but L6I at 0.1; with no noise
    source such a network falls silent (the reference implementation warns about it too).

    * Neurons: IF_curr_exp, C 250 pF, tau_m 10 ms, E_L = reset -65 mV, threshold -50 mV,
      refractory 2 ms, tau_syn 0.5 ms (exact integration); ``round(scale * N_full)`` per
      population; initial v normal with the reference implementation's population-specific
      ('optimized') mean and sd.
    * Connectivity: per (target, source) pair of populations a FixedTotalNumberConnector
      (pairs drawn with replacement, autapses and multapses allowed, as NEST's
      fixed_total_number) with round(K_full * scale * k_scale) synapses, where
      K_full = log(1 - p) / log(1 - 1/(N_pre N_post)) is the full model's number for the
      connection probability p.
    * Weights: normal, mean 87.8 pA (a 0.15 mV PSP), g = -4 for inhibitory sources,
      L4E -> L23E twice the mean, relative sd 0.1, redrawn when the sign flips (as NEST's
      ``redraw``).  Delays: normal, mean 1.5 ms (excitatory) / 0.75 ms (inhibitory), relative
      sd 0.5, redrawn below dt (NEST redraws below dt/2 and rounds to the grid, so about 1 %
      of inhibitory delays land on 0.1 ms there and are redrawn here).
    * Drive: ``dc_drive=True`` replaces the K_ext Poisson inputs at 8 Hz by their mean,
      i_offset = 8 Hz * K_ext * 87.8 pA * 0.5 ms (the reference's ``bg_input_type='dc'``).
      ``dc_drive=False`` gives every neuron its own Poisson drive at 8 Hz * K_ext * k_scale
      through a 87.8 pA / sqrt(k_scale) synapse (delay 1.5 ms), split over
      ceil(rate * dt / 0.1) sources per neuron so each source fires in at most 1 step in 10.
    * Spikes of every neuron are recorded unless ``record_spikes=False``.
    """
    par = microcircuit_parameters(scale, k_scale, dc_drive)
    net = ns.Network(dt=dt, seed=seed, label=f"PD14 microcircuit x{scale:g}")
    pops = []
    for k, name in enumerate(PD14_POPULATIONS):
        cell = ns.IF_curr_exp(i_offset=par["dc"][k], **PD14_NEURON)
        pop = net.add(ns.Population(par["sizes"][k], cell, label=name))
        pop.initialize(v=ns.RandomDistribution("normal", mu=PD14_V0_MEAN[k], sigma=PD14_V0_STD[k]))
        if record_spikes:
            pop.record("spikes")
        pops.append(pop)
    inf = float("inf")
    for t, post in enumerate(pops):
        for s, pre in enumerate(pops):
            n = par["synapses"][t][s]
            if n == 0:
                continue
            w = par["weights"][t][s]
            excitatory = s % 2 == 0
            weight = ns.RandomDistribution("normal_clipped", mu=w, sigma=abs(w) * PD14_WEIGHT_REL_SD,
                                           low=0.0 if excitatory else -inf, high=inf if excitatory else 0.0)
            d = PD14_DELAY_EXC if excitatory else PD14_DELAY_INH
            delay = ns.RandomDistribution("normal_clipped", mu=d, sigma=d * PD14_DELAY_REL_SD,
                                          low=dt, high=inf)
            net.add(ns.Projection(pre, post, FixedTotalNumberConnector(n, with_replacement=True),
                                  ns.StaticSynapse(weight=weight, delay=delay),
                                  receptor_type="excitatory" if excitatory else "inhibitory",
                                  label=f"{PD14_POPULATIONS[s]}->{PD14_POPULATIONS[t]}"))
    if not dc_drive:
        for t, post in enumerate(pops):
            rate = PD14_BG_RATE * par["ext_indegree"][t]
            split = max(1, math.ceil(rate * dt * 1e-3 / 0.1))
            size = post.size
            src = net.add(ns.Population(size * split, ns.SpikeSourcePoisson(rate=rate / split),
                                        label=f"bg_{PD14_POPULATIONS[t]}"))
            pairs = np.stack([np.arange(size * split), np.tile(np.arange(size), split)], axis=1)
            net.add(ns.Projection(src, post, ns.FromListConnector(pairs),
                                  ns.StaticSynapse(weight=par["ext_weight"], delay=PD14_POISSON_DELAY),
                                  receptor_type="excitatory", label=f"bg->{PD14_POPULATIONS[t]}"))
    return net
