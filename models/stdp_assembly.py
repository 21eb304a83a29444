"""STDP cell assemblies: formation by repeated stimulation, maintenance in spontaneous
activity, pattern completion from a partial cue.

After Litwin-Kumar & Doiron 2014 (Nat. Commun. 5:5319) and Zenke et al. 2015 (Nat.
Commun. 6:6922), reduced to what neurosim's standard parts and sPyNNaker/NEST can run:

* E and I populations of conductance-based LIF cells (``IF_cond_exp``; reversal 0 and
  -80 mV, tau_syn 5 / 10 ms), each neuron driven by its own Poisson background source;
* E->E: additive pair STDP (``SpikePairRule``, all pairs, tau 20 ms) with potentiation
  dominance (A_plus * tau_plus > A_minus * tau_minus), so that the mean drift is
  Hebbian in the rates (proportional to r_pre * r_post); uncorrelated potentiation is
  removed by **subtractive synaptic normalisation**: every ``norm_every_ms`` the run
  stops, and each E neuron's incoming E->E weights are shifted by the same amount so
  that their sum returns to its initial value (then clipped to [0, w_max]) — the
  normalisation of Litwin-Kumar & Doiron, applied between run segments with
  ``get_weights`` / ``set_weights`` (every 20 ms in the paper, 50 ms by default here);
* I->E: the inhibitory rule of Vogels et al. 2011 (``Vogels2011Rule``, target rate
  ``rho_hz``), which keeps E rates near rho and balances the potentiated assemblies;
  ``inhibitory_plasticity=False`` makes I->E static (needed on NEST and SpiNNaker, see
  :func:`build_network`);
* protocol (:func:`make_protocol`): warm-up, then ``rounds`` rounds in which each of K
  non-overlapping assemblies is driven in turn by extra Poisson input (a
  ``SpikeSourceArray`` with one train per E neuron, drawn from the network seed), a
  spontaneous phase with background input only, and a recall phase in which a 30 %
  cue of each assembly is driven alone.

Measures (:func:`weight_ratio`, :func:`recall_scores`): the mean E->E weight within
assemblies over the mean weight between different assemblies (time course); its change
over the spontaneous phase (stability); pattern completion = the fraction of the
*non-cued* members of the cued assembly that fire at >= ``recruit_hz`` during the cue;
specificity = the same fraction among the members of the other assemblies; chance =
the same fraction among all E neurons in equally long windows of spontaneous activity.

Units: ms, mV, nF, uS (conductance weights), Hz.
"""
from dataclasses import dataclass, field

import numpy as np

import neurosim as ns

from .params import check_number_fields

STIM_STREAM = 901          # spawn key of the stimulus trains (SeedSequence(seed, (901, 0)))


@dataclass
class AssemblyParams:
    """Sizes, cells, synapses and protocol timing (ms, mV, nF, uS, Hz)."""
    n_exc: int = 400
    n_inh: int = 100
    n_assemblies: int = 4
    assembly_size: int = 80
    p_connect: float = 0.2
    cell: dict = field(default_factory=lambda: dict(cm=0.2, tau_m=20.0, v_rest=-70.0, v_thresh=-50.0,
                                                    v_reset=-60.0, tau_refrac=2.0, tau_syn_E=5.0,
                                                    tau_syn_I=10.0, e_rev_E=0.0, e_rev_I=-80.0))
    bg_rate_exc: float = 1000.0     # Hz, one Poisson source per neuron
    bg_rate_inh: float = 1000.0
    w_bg: float = 0.0007            # uS
    w_ee: float = 0.0015            # initial E->E
    w_ee_max: float = 0.01
    w_ei: float = 0.0015
    w_ie: float = 0.004             # initial I->E
    w_ie_max: float = 0.05
    w_ii: float = 0.002
    delay: float = 1.0              # ms, every projection
    A_plus: float = 0.02            # x w_ee_max per pair (PyNN's additive scaling)
    A_minus: float = 0.01
    tau_stdp: float = 20.0
    eta_ie: float = 3e-4            # uS, Vogels 2011
    rho_hz: float = 10.0
    tau_ie: float = 20.0
    stim_rate: float = 1000.0       # Hz, extra Poisson input to a stimulated neuron
    w_stim: float = 0.002
    warmup_ms: float = 5000.0
    rounds: int = 12
    stim_ms: float = 200.0
    gap_ms: float = 300.0
    spontaneous_ms: float = 30000.0
    cue_fraction: float = 0.3
    cue_ms: float = 100.0
    cue_gap_ms: float = 400.0
    cue_repeats: int = 2
    norm_every_ms: float = 50.0
    recruit_hz: float = 20.0
    dt: float = 0.1

    def __post_init__(self):
        check_number_fields(self, zero_allowed=True, skip=("cell",))
        if not 0.0 < self.cue_fraction <= 1.0:
            raise ns.ValidationError("AssemblyParams", "cue_fraction", f"must be in (0, 1] (got {self.cue_fraction})")
        if self.norm_every_ms < self.dt or self.dt <= 0:
            raise ns.ValidationError("AssemblyParams", "norm_every_ms", f"must be >= dt = {self.dt} ms "
                                     f"(got {self.norm_every_ms})")


def quick_params(**changes):
    """A smaller, shorter variant for tests: 240 E / 60 I, 3 assemblies of 60, 5 s spontaneous
    (31 s simulated, about 5 s on one core with numba)."""
    base = dict(n_exc=240, n_inh=60, n_assemblies=3, assembly_size=60, rounds=12,
                spontaneous_ms=5000.0)
    base.update(changes)
    return AssemblyParams(**base)


def assemblies(params):
    """List of K arrays of E indices (consecutive blocks: assembly k = [k*size, (k+1)*size))."""
    if params.n_assemblies * params.assembly_size > params.n_exc:
        raise ns.ValidationError("AssemblyParams", "assembly_size",
                                 f"{params.n_assemblies} assemblies of {params.assembly_size} do not fit in "
                                 f"n_exc = {params.n_exc} E neurons")
    s = params.assembly_size
    return [np.arange(k * s, (k + 1) * s) for k in range(params.n_assemblies)]


def cue_sets(params, seed):
    """The cued 30 % of each assembly (fixed per seed)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STIM_STREAM, 1)))
    n_cue = int(round(params.cue_fraction * params.assembly_size))
    return [np.sort(rng.choice(members, n_cue, replace=False)) for members in assemblies(params)]


@dataclass
class Protocol:
    """Phase boundaries (ms) and the stimulus windows (t0, t1, E indices, kind, assembly)."""
    phases: dict
    windows: list
    duration: float


def make_protocol(params, seed, imprint=True):
    """Warm-up, imprinting (rounds x assemblies; none with ``imprint=False``), spontaneous,
    recall (cues)."""
    groups, cues = assemblies(params), cue_sets(params, seed)
    t = params.warmup_ms
    phases = {"warmup": (0.0, t)}
    windows = []
    for _ in range(params.rounds if imprint else 0):
        for k, members in enumerate(groups):
            windows.append((t, t + params.stim_ms, members, "imprint", k))
            t += params.stim_ms + params.gap_ms
    phases["imprint"] = (params.warmup_ms, t)
    phases["spontaneous"] = (t, t + params.spontaneous_ms)
    t += params.spontaneous_ms
    start = t
    for _ in range(params.cue_repeats):
        for k, cue in enumerate(cues):
            windows.append((t, t + params.cue_ms, cue, "cue", k))
            t += params.cue_ms + params.cue_gap_ms
    phases["recall"] = (start, t)
    return Protocol(phases, windows, t)


def stimulus_trains(params, protocol, seed):
    """One Poisson spike train (ms) per E neuron: ``stim_rate`` inside its windows (times on a
    0.1 ms grid; two spikes in one 0.1 ms bin count once, about 5 % at 1000 Hz)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STIM_STREAM, 0)))
    trains = [[] for _ in range(params.n_exc)]
    for t0, t1, cells, _, _ in protocol.windows:
        for i in cells:
            n = rng.poisson(params.stim_rate * (t1 - t0) / 1000.0)
            times = np.round(t0 + rng.uniform(0.0, t1 - t0, n), 1)
            trains[i].append(times[times >= t0 + params.dt])
    return [np.unique(np.concatenate(tr)) if tr else np.zeros(0) for tr in trains]


def build_network(params=None, seed=1, ee_plastic=True, inhibitory_plasticity=True, w_ie=None, protocol=None,
                  w_ee=None):
    """The E/I network with background, stimulus source and the four recurrent projections.

    ``ee_plastic=False`` makes E->E static (the control); ``inhibitory_plasticity=False``
    makes I->E static with weight ``w_ie`` (number or one value per connection; default
    ``params.w_ie``); a static E->E takes ``w_ee`` likewise.  The same seed gives the same
    connectivity whatever the synapse types, so learned weights can be loaded back.  NEST runs
    the full model (Vogels2011Rule as NEST's vogels_sprekeler_synapse); sPyNNaker runs one STDP
    model per postsynaptic population, so there one of the two E inputs must be static.
    Returns ``(network, protocol)``.
    """
    params = params or AssemblyParams()
    protocol = protocol or make_protocol(params, seed)
    net = ns.Network(dt=params.dt, seed=seed, label="stdp-assembly")
    exc = net.add(ns.Population(params.n_exc, ns.IF_cond_exp(**params.cell), label="exc"))
    inh = net.add(ns.Population(params.n_inh, ns.IF_cond_exp(**dict(params.cell, tau_m=10.0, cm=0.1)),
                                label="inh"))
    exc.record("spikes")
    inh.record("spikes")
    bg_e = net.add(ns.Population(params.n_exc, ns.SpikeSourcePoisson(rate=params.bg_rate_exc), label="bg_exc"))
    bg_i = net.add(ns.Population(params.n_inh, ns.SpikeSourcePoisson(rate=params.bg_rate_inh), label="bg_inh"))
    stim = net.add(ns.Population(params.n_exc, ns.SpikeSourceArray(stimulus_trains(params, protocol, seed)),
                                 label="stim"))
    d = params.delay
    one = ns.OneToOneConnector()
    net.add(ns.Projection(bg_e, exc, one, ns.StaticSynapse(weight=params.w_bg, delay=d), label="bg->exc"))
    net.add(ns.Projection(bg_i, inh, one, ns.StaticSynapse(weight=params.w_bg, delay=d), label="bg->inh"))
    net.add(ns.Projection(stim, exc, one, ns.StaticSynapse(weight=params.w_stim, delay=d), label="stim->exc"))
    conn = ns.FixedProbabilityConnector(params.p_connect, allow_self_connections=False)
    if ee_plastic:
        ee = ns.STDPMechanism(ns.SpikePairRule(tau_plus=params.tau_stdp, tau_minus=params.tau_stdp,
                                               A_plus=params.A_plus, A_minus=params.A_minus),
                              ns.AdditiveWeightDependence(0.0, params.w_ee_max), weight=params.w_ee, delay=d)
    else:
        ee = ns.StaticSynapse(weight=params.w_ee if w_ee is None else w_ee, delay=d)
    net.add(ns.Projection(exc, exc, conn, ee, label="exc->exc"))
    net.add(ns.Projection(exc, inh, conn, ns.StaticSynapse(weight=params.w_ei, delay=d), label="exc->inh"))
    if inhibitory_plasticity:
        ie = ns.STDPMechanism(ns.Vogels2011Rule(tau=params.tau_ie, eta=params.eta_ie, rho=params.rho_hz),
                              ns.AdditiveWeightDependence(0.0, params.w_ie_max), weight=params.w_ie, delay=d)
    else:
        ie = ns.StaticSynapse(weight=params.w_ie if w_ie is None else w_ie, delay=d)
    net.add(ns.Projection(inh, exc, conn, ie, receptor_type="inhibitory", label="inh->exc"))
    net.add(ns.Projection(inh, inh, conn, ns.StaticSynapse(weight=params.w_ii, delay=d),
                          receptor_type="inhibitory", label="inh->inh"))
    return net, protocol


# ---------------------------------------------------------------------- measures
def block_means(pre, post, w, groups, n):
    """(K, K) mean weight from assembly a (pre) to assembly b (post); NaN where no synapse."""
    label = np.full(n, -1)
    for k, members in enumerate(groups):
        label[members] = k
    a, b = label[pre.astype(int)], label[post.astype(int)]
    keep = (a >= 0) & (b >= 0)
    K = len(groups)
    flat = a[keep] * K + b[keep]
    sums = np.bincount(flat, weights=w[keep], minlength=K * K)
    counts = np.bincount(flat, minlength=K * K)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums / counts).reshape(K, K)


def weight_ratio(pre, post, w, groups, n):
    """Mean E->E weight within assemblies / mean weight between different assemblies
    (connection-weighted means over all pairs of the two kinds)."""
    label = np.full(n, -1)
    for k, members in enumerate(groups):
        label[members] = k
    a, b = label[pre.astype(int)], label[post.astype(int)]
    within = (a >= 0) & (a == b)
    between = (a >= 0) & (b >= 0) & (a != b)
    return float(w[within].mean() / w[between].mean())


def normalise(rows, targets, w_max, iterations=20):
    """Subtractive normalisation: shift each post neuron's incoming weights by one amount so
    that their sum is ``targets[post]``, keeping them in [0, w_max]; weights held at a bound
    take no share of the shift (repeated until the sums match, at most ``iterations``
    times).  ``rows`` = (pre, post, w)."""
    post, w = rows[:, 1].astype(int), rows[:, 2].copy()
    n = len(targets)
    for _ in range(iterations):
        excess = np.bincount(post, weights=w, minlength=n) - targets
        if np.all(np.abs(excess) <= 1e-12 * np.maximum(np.abs(targets), 1e-300)):
            break
        free = np.where(excess[post] > 0, w > 0, w < w_max)
        n_free = np.bincount(post, weights=free.astype(float), minlength=n)
        shift = np.where(n_free > 0, excess / np.maximum(n_free, 1), 0.0)
        w = np.clip(w - shift[post] * free, 0.0, w_max)
    return w


def run_protocol(sim, params, protocol, normalise_ee=True, sample_ms=500.0):
    """Run the whole protocol in segments of ``norm_every_ms``; normalise E->E after each
    (when it is plastic and ``normalise_ee``) and sample the weight ratio every
    ``sample_ms``.  Returns ``{"times", "ratio", "weights_at": {phase end: rows}, "results"}``."""
    groups = assemblies(params)
    rows = sim.get_weights("exc->exc", format="list")
    targets = np.bincount(rows[:, 1].astype(int), weights=rows[:, 2], minlength=params.n_exc)
    plastic = isinstance(sim.network.projections[_proj_index(sim, "exc->exc")].synapse_type, ns.STDPMechanism)
    times, ratios, at = [0.0], [weight_ratio(rows[:, 0], rows[:, 1], rows[:, 2], groups, params.n_exc)], {}
    ends = {}
    for name, (_, t1) in protocol.phases.items():
        ends.setdefault(round(t1, 6), []).append(name)
    step = params.norm_every_ms if (plastic and normalise_ee) else sample_ms
    t, results, next_sample = 0.0, None, sample_ms
    while t < protocol.duration - 1e-9:
        stops = [t + step, next_sample, protocol.duration] + [e for e in ends if e > t + 1e-9]
        t_next = min(stops)
        results = sim.run(t_next - t)
        t = t_next
        rows = sim.get_weights("exc->exc", format="list")
        if plastic and normalise_ee:
            w = normalise(rows, targets, params.w_ee_max)
            sim.set_weights("exc->exc", w)
            rows = np.column_stack([rows[:, :2], w])
        if t >= next_sample - 1e-9:
            times.append(t)
            ratios.append(weight_ratio(rows[:, 0], rows[:, 1], rows[:, 2], groups, params.n_exc))
            next_sample += sample_ms
        for name in ends.get(round(t, 6), []):
            at[name] = rows.copy()
    return {"times": np.array(times), "ratio": np.array(ratios), "weights_at": at, "results": results}


def _proj_index(sim, label):
    for j, proj in enumerate(sim.network.projections):
        if proj.label == label:
            return j
    raise ns.ValidationError("Simulation", "projection", f"no projection {label!r}")


def recall_scores(spike_times, spike_ids, params, protocol, seed):
    """Completion, specificity and chance from E spikes (ms, indices) and the protocol's cues.

    A neuron is recruited in a window when it fires at >= ``recruit_hz`` there.
    Chance: the recruited fraction of all E neurons in windows of the same length in
    the second half of the spontaneous phase.
    """
    groups = assemblies(params)
    n_min = int(np.ceil(params.recruit_hz * params.cue_ms / 1000.0 - 1e-9))

    def recruited(t0, t1):
        sel = (spike_times > t0) & (spike_times <= t1)
        return np.bincount(spike_ids[sel].astype(int), minlength=params.n_exc) >= n_min

    completion, specificity = [], []
    for t0, t1, cue, kind, k in protocol.windows:
        if kind != "cue":
            continue
        rec = recruited(t0, t1)
        rest = np.setdiff1d(groups[k], cue)
        others = np.concatenate([g for j, g in enumerate(groups) if j != k])
        completion.append(rec[rest].mean())
        specificity.append(rec[others].mean())
    s0, s1 = protocol.phases["spontaneous"]
    starts = np.arange(0.5 * (s0 + s1), s1 - params.cue_ms + 1e-9, params.cue_ms)
    chance = float(np.mean([recruited(a, a + params.cue_ms).mean() for a in starts]))
    return {"completion": float(np.mean(completion)), "specificity": float(np.mean(specificity)),
            "chance": chance, "completion_per_cue": [float(c) for c in completion]}


def phase_rates(spike_times, n, protocol):
    """Mean rate (Hz) of a population in each phase."""
    out = {}
    for name, (t0, t1) in protocol.phases.items():
        if t1 <= t0:
            continue
        count = np.count_nonzero((spike_times > t0) & (spike_times <= t1))
        out[name] = float(count / n / ((t1 - t0) / 1000.0))
    return out


def simulate(params=None, seed=1, ee_plastic=True, inhibitory_plasticity=True, w_ie=None, backend="numba",
             normalise_ee=True, w_ee=None, imprint=True, **options):
    """Build, compile, run the protocol and measure.  Returns a dict of measures plus the
    weight-ratio time course, the final E->E rows and the final I->E weights (one per
    connection, in connection order: can be passed back as ``w_ie``).  ``w_ee`` (with
    ``ee_plastic=False``) and ``imprint=False`` run the protocol without imprinting on a
    network with given (e.g. learned) weights."""
    params = params or AssemblyParams()
    protocol = make_protocol(params, seed, imprint)
    net, protocol = build_network(params, seed, ee_plastic, inhibitory_plasticity, w_ie, protocol, w_ee)
    sim = ns.compile(net, backend=backend, **options)
    try:
        out = run_protocol(sim, params, protocol, normalise_ee)
        ie_weights = sim.get_weights("inh->exc", format="list")[:, 2]
    finally:
        if hasattr(sim, "close"):
            sim.close()
    res = out["results"]
    t_e, i_e = res.spikes("exc")
    t_i, _ = res.spikes("inh")
    groups = assemblies(params)
    at = out["weights_at"]

    def ratio_at(phase):
        r = at[phase]
        return weight_ratio(r[:, 0], r[:, 1], r[:, 2], groups, params.n_exc)

    measures = {"ratio_after_imprint": ratio_at("imprint"), "ratio_after_spontaneous": ratio_at("spontaneous"),
                **recall_scores(t_e, i_e, params, protocol, seed),
                "rates_exc_hz": phase_rates(t_e, params.n_exc, protocol),
                "rates_inh_hz": phase_rates(t_i, params.n_inh, protocol)}
    measures["stability"] = measures["ratio_after_spontaneous"] / measures["ratio_after_imprint"]
    final = at["recall"]
    measures["block_means"] = block_means(final[:, 0], final[:, 1], final[:, 2], groups, params.n_exc).tolist()
    return {"measures": measures, "times": out["times"], "ratio": out["ratio"], "final_rows": final,
            "ie_weights": ie_weights, "weights_at": at,
            "spikes": (t_e, i_e), "protocol": protocol, "params": params}

