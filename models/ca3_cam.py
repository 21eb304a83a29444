"""CA3 spiking content-addressable memory (Casanueva-Morato et al., Neural Networks 178:106474, 2024).

A one-shot hetero-associative memory of ``cue_size`` one-hot cues and ``content_size``-bit
contents: learn a memory (cue + content held for 3 ms), recall it from its cue, recall every
cue whose content shares a bit with a fragment, forget by learning a new content on a used cue.
Network, parameters and operation timing as in the authors' sPyMem ``CA3_content_addressable``
(``../shared/references/models.md`` section 1).  Units: ms, mV, nA, nF.

Two cell/synapse flavours (``neuron=``):

``"spinnaker"`` (default) reproduces the reference SpiNNaker run spike for spike.  sPyNNaker
updates a neuron once per 1 ms tick in this order: add the tick's synaptic input to the
current I (weight x tau_syn/dt (1 - e^{-dt/tau_syn})), V <- V_rest + R(1 - e^{-dt/tau_m}) I
+ e^{-dt/tau_m} (V - V_rest) unless refractory, spike if V >= V_thresh, then I decays.  A
spike sent at tick t with delay d is thus answered at tick t + d.  neurosim's kernel applies
a step's input after the integration, so a PyNN ``IF_curr_exp`` answers one step later on
every hop (d + 1) and paths of different lengths drift apart; that cannot be undone with a
constant offset or delay change (d = 1 would need 0).  :func:`spinnaker_lif` is therefore an
equation-defined cell whose threshold reads the synaptic current, so the kernel re-tests the
threshold right after delivering input ("delta-synapse recheck") and the spike lands in the
step of arrival; its ``euler`` equations with ``dx/dt = (F(x) - x)/step`` are sPyNNaker's
tick map, including the refractory hold.  :func:`spinnaker_stdp` is sPyNNaker's pair STDP as
it acted in that run: pre spikes at their emission tick, post spikes delayed by the synaptic
(dendritic) delay, potentiation and depression applied event by event with clipping, a
depression also when the last post spike arrived in the pre spike's own tick, A scaled by
w_max, and an exponential look-up table of only 2 entries (Δt = 0, 1 ms).  That window was
fitted to the two reference traces: pairs 2 ms or more apart must have (almost) no effect.
Measured on numba (mismatching spikes trace 1 / trace 2, correct operations of 9 / 60):
2-entry LUT 0 / 0 and 9 / 60; untruncated exponential with tau = 3 ms (sPyNNaker 7's 24-entry
LUT) 25 / 189 and 5 / 40; 3 entries 3 / 150; 1 entry 51 / 607; untruncated with tau 0.5 or
0.7 ms also 0 / 0.  ``stdp_lut=None`` gives the untruncated exponential.

Timing convention: the reference (and every time passed to or returned by this module's
``*_spikes``/operation API) counts SpiNNaker ticks from 0.  neurosim stamps a spike found in
step n at (n + 1) dt and a source spike must be >= dt, so all neurosim times are the
reference times + ``TIME_OFFSET_MS`` (1 ms).  With that constant offset every population's
spikes coincide with the reference (trace 1: 90 ms, trace 2: 851 ms, 0 mismatches).

``"pynn"`` is the published network verbatim: PyNN's ``IF_curr_exp`` and ``STDPMechanism``
with the published delays and tau = 3 ms (what sPyNNaker is given; it maps on the SpiNNaker
virtual board).  On numba (and NEST, Brian2) every hop then takes one step more, the
coincidences the circuit relies on (e.g. CueCue inhibition meeting ContCue excitation on
CA3contCond) are lost, and the memory does not work: 489 / 3652 mismatching spikes, 0 / 9 and
14 / 60 operations decoded correctly (fixed answer lags).

``"pynn-phased"`` is the same circuit for simulators that apply a step's input after the
membrane update (numba, NEST, Brian2), built from standard PyNN parts only (IF_curr_exp,
StaticSynapse, STDPMechanism(SpikePairRule, AdditiveWeightDependence), SpikeSourceArray),
dt = 1 ms.  Deviations from the published model, each needed for an exact map:

* every population P fires ``PHASES_MS[P]`` ms later than on SpiNNaker; a projection's delay
  is d - 1 + phase(post) - phase(pre) ms (the extra step per hop taken out; the network has no
  loop except CA3cueContRecall's self-inhibition, which keeps d - 1).  Phases: the smallest
  that keep every delay >= 1 step, input 1 ms (NEST takes no input at t = dt);
* weights and w_max x :func:`k_factor` of the postsynaptic cell (slow 1.0840, fast 1.6733):
  SpiNNaker holds the tick's current constant over the tick, the exact integration lets it
  decay; k = (1 - e^{-h/tau_m})(1 - e^{-h/tau_s})(tau_m - tau_s) / (h (e^{-h/tau_m} - e^{-h/tau_s}))
  makes the membrane map identical;
* STDP ``tau_plus`` = 0.2 ms, ``tau_minus`` = 1.0 ms, all delay axonal
  (``dendritic_delay_fraction=0``): with the phases a SpiNNaker pair time Δt becomes Δt - 1,
  so sPyNNaker's 2-entry window {Δt = 1: potentiate, 0 and -1: depress} becomes
  {0, -1, -2}; a short tau_plus keeps Δt = +1 pairs (SpiNNaker Δt = 2, outside the window)
  at 36 e^{-5} = 0.24 nA (measured on numba: tau_plus / tau_minus 0.2 / 1.0 and 0.2 / 1.2 give
  9 / 9 and 60 / 60, 0.5 / 0.5 gives 8 / 9 and 47 / 60, the published 3 / 3 5 / 9 and 47 / 60);
* pyNN.brian2 counts the spike's own step into tau_refrac: it gets tau_refrac = 2 ms
  (one held step, as numba's and NEST's 1 ms).

Measured (both traces): numba and pyNN.brian2 reproduce every spike of the reference once the
phases are taken off (0 mismatches; 9 / 9 and 60 / 60 answers, equal per operation to numba's
"spinnaker" flavour).  NEST cannot: pyNN.nest's STDP is dendritic only
(``dendritic_delay_fraction=1``), which shifts every pair by 2 x delay; a forgotten bit is then
paired at Δt = 2d - 1 >= +1 (potentiation) instead of 0 (depression) whatever the phases, since
its post spike is caused by that synapse's own earlier pre spike.  With fraction 1 numba and
NEST give identical spikes and answers, 4 / 9 and 29 / 60 equal to the reference (the
memory does not forget).  Also measured on numba: fraction 1 at dt = 0.5 ms, at best 8 / 9 and
44 / 60; every delay shortened by 0.2-0.5 ms at dt = 0.1 ms, 0-1 / 9 and 14-15 / 60.
"""
import json
import math

from neurosim.backends.spinnaker_numerics import spinnaker_lif, spinnaker_stdp  # noqa: F401  (this module's API)

#: neurosim time (ms) = reference SpiNNaker time (ms) + TIME_OFFSET_MS
TIME_OFFSET_MS = 1.0
#: population labels, in the order of the reference spreadsheet
POPULATIONS = ("INcue", "INcont", "CA3cueCueRecall", "CA3contCueRecall", "CA3contCond", "CA3contCondInt",
               "CA3cueContRecall", "CA3contContRecall", "CA3MergeCue", "CA3MergeCont", "OUTcue", "OUTcont")
#: populations with one neuron per cue (the others have one per content bit, CA3contCondInt one)
CUE_POPULATIONS = ("INcue", "CA3cueCueRecall", "CA3cueContRecall", "CA3MergeCue", "OUTcue")
COMMON = dict(tau_refrac=1.0, tau_syn_E=0.3, tau_syn_I=0.3, v_rest=-60.0, v_reset=-60.0, v_thresh=-57.0,
              i_offset=0.0)
SLOW = dict(COMMON, cm=0.27, tau_m=3.0)             # CueCue, ContCue, ContCont, Merge*
FAST = dict(COMMON, cm=0.14, tau_m=0.5)             # CueCont, ContCond, ContCondInt
OUT = dict(SLOW, v_thresh=-57.5)                    # output layer of the test script
STDP = dict(tau_plus=3.0, tau_minus=3.0, A_plus=6.0, A_minus=6.0, w_min=0.0, w_max=6.0)
#: operation timing (ms): learn holds cue + content for LEARN_HOLD ticks; answers appear at
#: t0 + ANSWER_LAG (OUT layer); the paper's minimum spacing is 7 ms after a learn, 6 after a recall
LEARN_HOLD, ANSWER_LAG = 3, {"learn": 5, "recall_cue": 6, "recall_content": 6}
#: cell parameters per population
CELLS = {"CA3cueCueRecall": SLOW, "CA3contCueRecall": SLOW, "CA3contCond": FAST, "CA3contCondInt": FAST,
         "CA3cueContRecall": FAST, "CA3contContRecall": SLOW, "CA3MergeCue": SLOW, "CA3MergeCont": SLOW,
         "OUTcue": OUT, "OUTcont": OUT}
#: static projections: pre, post, connector ("one", "all", "cue_inhibition", "no_self"), weight (nA;
#: negative: inhibitory; "x m": times content_size), delay (ms)
STATIC = (("INcue", "CA3cueCueRecall", "one", 6.0, 1.0), ("INcont", "CA3contCueRecall", "one", 6.0, 1.0),
          ("CA3cueCueRecall", "CA3cueContRecall", "one", 6.0, 2.0),
          ("CA3cueCueRecall", "CA3cueContRecall", "cue_inhibition", "-6 x m", 3.0),
          ("CA3cueCueRecall", "CA3contCond", "all", -6.0, 2.0),
          ("CA3contCueRecall", "CA3contCond", "one", 9.0, 1.0),
          ("CA3contCond", "CA3contContRecall", "one", 6.0, 1.0),
          ("CA3contCueRecall", "CA3contCondInt", "all", 6.0, 1.0),
          ("CA3contCondInt", "CA3contCond", "all", 2.0, 1.0),
          ("CA3cueContRecall", "CA3cueContRecall", "no_self", "-6 x m", 2.0),
          ("CA3cueCueRecall", "CA3MergeCue", "one", 6.0, 3.0), ("CA3cueContRecall", "CA3MergeCue", "one", 6.0, 1.0),
          ("CA3contCueRecall", "CA3MergeCont", "one", 6.0, 3.0), ("CA3contContRecall", "CA3MergeCont", "one", 6.0, 1.0),
          ("CA3MergeCue", "OUTcue", "one", 6.0, 1.0), ("CA3MergeCont", "OUTcont", "one", 6.0, 1.0))
#: plastic projections (all to all, delay 1 ms): key, pre, post
PLASTIC = (("cue->cont", "CA3cueCueRecall", "CA3contCueRecall"),
           ("cont->cue", "CA3contContRecall", "CA3cueContRecall"))
#: "pynn-phased": STDP window (ms) and input phase (ms)
PHASED_STDP = dict(tau_plus=0.2, tau_minus=1.0)
INPUT_PHASE_MS = 1.0


def k_factor(params, dt=1.0):
    """Weight factor that makes exact IF_curr_exp integration (current decaying within the step)
    give sPyNNaker's membrane map (the tick's current held constant), for a cell's parameters."""
    tm, ts = params["tau_m"], params["tau_syn_E"]
    a, c = math.exp(-dt / tm), math.exp(-dt / ts)
    return (1.0 - a) * (1.0 - c) * (tm - ts) / (dt * (a - c))


def phases(input_phase=INPUT_PHASE_MS, dt=1.0):
    """{population: phase (ms)} of "pynn-phased": the smallest phases such that every delay
    d - dt + phase(post) - phase(pre) is >= dt (longest path through the loop-free network)."""
    ph = {"INcue": input_phase, "INcont": input_phase}
    edges = [(a, b, d) for a, b, _, _, d in STATIC if a != b] + [(a, b, 1.0) for _, a, b in PLASTIC]
    for _ in range(len(POPULATIONS)):
        for a, b, d in edges:
            ph[b] = max(ph.get(b, 0.0), ph[a] + 2 * dt - d)
    return {label: ph[label] for label in POPULATIONS}


#: "pynn-phased": neurosim time = reference time + TIME_OFFSET_MS + PHASES_MS[population]
PHASES_MS = phases()


class CA3CAM:
    """The CA3 content-addressable memory.

    Parameters
    ----------
    cue_size, content_size : int
        Number of one-hot cues (memories) and of content bits.
    neuron : "spinnaker", "pynn" or "pynn-phased"
        Cell and STDP flavour (module docstring).
    op_interval_ms : float
        Spacing of the operations scheduled with :meth:`learn` / :meth:`recall_cue` /
        :meth:`recall_content` (ms; the reference testbenches use 10 and 14).
    stdp_lut : int or None
        Entries of the STDP look-up table (``"spinnaker"`` only; 2 reproduces the reference).
    cue_self_inhibition : bool
        True (as published): the CueCue -> CueCont inhibition is the authors'
        ``AllToAllConnector(allow_self_connections=False)``, which between two different
        populations keeps the i -> i synapses; their leftover inhibition breaks recall by content
        from 13 content bits on (``neurosim run ca3-stress``).  False leaves out i -> i ("all to all
        except itself", as the authors' comment says); both reproduce the 10-bit reference traces.
    dendritic_delay_fraction : None, 0.0 or 1.0
        ``"pynn-phased"`` only: STDP delay fraction (None: 1.0 on nest and spinnaker, which take
        nothing else, 0.0 elsewhere; only 0.0 reproduces the reference).
    """

    def __init__(self, cue_size, content_size, neuron="spinnaker", op_interval_ms=10.0, stdp_lut=2,
                 cue_self_inhibition=True, dendritic_delay_fraction=None):
        if int(cue_size) < 1 or int(content_size) < 1:
            raise ValueError(f"cue_size and content_size must be >= 1 (got {cue_size}, {content_size})")
        if neuron not in ("spinnaker", "pynn", "pynn-phased"):
            raise ValueError(f"neuron must be 'spinnaker', 'pynn' or 'pynn-phased' (got {neuron!r})")
        if op_interval_ms < 7:
            raise ValueError(f"op_interval_ms must be >= 7 ms (the paper's minimum after a learn; got {op_interval_ms})")
        self.cue_size, self.content_size, self.neuron = int(cue_size), int(content_size), neuron
        if not isinstance(cue_self_inhibition, bool):
            raise ValueError(f"cue_self_inhibition must be True or False (got {cue_self_inhibition!r})")
        self.op_interval_ms, self.stdp_lut, self.dt = float(op_interval_ms), stdp_lut, 1.0
        self.cue_self_inhibition = cue_self_inhibition
        if dendritic_delay_fraction not in (None, 0.0, 1.0):
            raise ValueError(f"dendritic_delay_fraction must be None, 0.0 or 1.0 (got {dendritic_delay_fraction!r})")
        self.dendritic_delay_fraction = dendritic_delay_fraction
        self.ops = []           # scheduled operations: dicts with "op", "t" (reference ms) and arguments
        self.network = self.projections = None
        self.phases = PHASES_MS if neuron == "pynn-phased" else {label: 0.0 for label in POPULATIONS}
        self.duration_ms = None  # of the last run (reference ms); later spikes of the phased flavour are dropped

    # ------------------------------------------------------------------ network
    def _cell(self, params, backend):
        import neurosim as ns
        if self.neuron == "spinnaker":
            return spinnaker_lif(**params, dt=self.dt)
        if self.neuron == "pynn-phased" and backend == "pynn-brian2":
            params = dict(params, tau_refrac=2.0)   # Brian2 counts the spike's own step (module docstring)
        return ns.IF_curr_exp(**params)

    def _stdp(self, post, delay, backend):
        import neurosim as ns
        if self.neuron == "spinnaker":
            return spinnaker_stdp(**STDP, delay=1.0, lut=self.stdp_lut)
        if self.neuron == "pynn":
            return ns.STDPMechanism(ns.SpikePairRule(STDP["tau_plus"], STDP["tau_minus"], STDP["A_plus"],
                                                     STDP["A_minus"]),
                                    ns.AdditiveWeightDependence(STDP["w_min"], STDP["w_max"]), weight=0.0, delay=1.0)
        fraction = self.dendritic_delay_fraction
        if fraction is None:
            fraction = 1.0 if backend in ("nest", "spinnaker") else 0.0
        timing = ns.SpikePairRule(PHASED_STDP["tau_plus"], PHASED_STDP["tau_minus"], STDP["A_plus"], STDP["A_minus"])
        wd = ns.AdditiveWeightDependence(STDP["w_min"], STDP["w_max"] * k_factor(CELLS[post], self.dt))
        return ns.STDPMechanism(timing, wd, weight=0.0, delay=delay, dendritic_delay_fraction=fraction)

    def build(self, cue_spikes, content_spikes, backend="numba"):
        """The neurosim Network (dt = 1 ms) driven by the given input spikes (reference times, ms).

        ``backend`` matters only for ``"pynn-phased"`` (tau_refrac on pynn-brian2, STDP delay
        fraction on nest / spinnaker; module docstring)."""
        import numpy as np

        import neurosim as ns
        c, m = self.cue_size, self.content_size
        cue_spikes, content_spikes = self._check_input(cue_spikes, c, "cue"), self._check_input(content_spikes, m, "content")
        net = ns.Network(dt=self.dt, seed=0, label=f"CA3CAM({c}, {m})")
        ph = self.phases
        shift = lambda trains, label: [[float(t) + TIME_OFFSET_MS + ph[label] for t in train] for train in trains]
        pops = {"INcue": net.add(ns.Population(c, ns.SpikeSourceArray(shift(cue_spikes, "INcue")), label="INcue")),
                "INcont": net.add(ns.Population(m, ns.SpikeSourceArray(shift(content_spikes, "INcont")),
                                                label="INcont"))}
        for label, params in CELLS.items():
            size = c if label in CUE_POPULATIONS else (1 if label == "CA3contCondInt" else m)
            pops[label] = net.add(ns.Population(size, self._cell(params, backend), label=label))
        for pop in pops.values():
            pop.record("spikes")
        no_self = ns.AllToAllConnector(allow_self_connections=False)
        connectors = {"one": ns.OneToOneConnector(), "all": ns.AllToAllConnector(), "no_self": no_self,
                      "cue_inhibition": (no_self if self.cue_self_inhibition or c == 1
                                         else ns.ArrayConnector(~np.eye(c, dtype=bool)))}
        phased = self.neuron == "pynn-phased"
        # phased: one step less per hop plus the phase difference; weights x k of the post cell
        delay = lambda pre, post, d: d - self.dt + (ph[post] - ph[pre]) if phased else d
        scale = lambda post: k_factor(CELLS[post], self.dt) if phased else 1.0
        for pre, post, conn, w, d in STATIC:
            if conn == "no_self" and pops[pre].size == 1:
                continue
            w = -6.0 * m if w == "-6 x m" else w
            net.add(ns.Projection(pops[pre], pops[post], connectors[conn],
                                  ns.StaticSynapse(weight=w * scale(post), delay=delay(pre, post, d)),
                                  receptor_type="excitatory" if w > 0 else "inhibitory", label=f"{pre}->{post}"))
        self.projections = {
            key: net.add(ns.Projection(pops[pre], pops[post], connectors["all"],
                                       self._stdp(post, delay(pre, post, 1.0), backend), label=f"{pre}->{post} STDP"))
            for key, pre, post in PLASTIC}
        self.network = net
        return net

    @staticmethod
    def _check_input(trains, size, what):
        trains = [list(map(float, train)) for train in trains]
        if len(trains) != size:
            raise ValueError(f"{what} input has {len(trains)} spike trains for {size} neurons")
        for train in trains:
            if any(t < 0 or t != round(t) for t in train):
                raise ValueError(f"{what} input times must be whole ms >= 0 (got {train})")
        return trains

    def run_spike_input(self, cue_spikes, content_spikes, duration_ms, backend="numba", **backend_options):
        """Simulate the testbench input for ``duration_ms`` ms; returns neurosim ``Results``.

        ``cue_spikes[i]`` / ``content_spikes[j]``: spike times (ms, reference convention, whole
        ms from 0) of input cue neuron i / content neuron j.  Result times are neurosim times
        (reference + ``TIME_OFFSET_MS`` + the population's phase); :meth:`spike_trains` converts
        back.  ``"pynn-phased"`` runs ``max(PHASES_MS)`` ms longer, so that the answers of the
        last operation are in.  A PyNN simulation is closed after the run.
        """
        import neurosim as ns
        backend_options.setdefault("quiet", True)
        self.duration_ms = float(duration_ms)
        sim = ns.compile(self.build(cue_spikes, content_spikes, backend=backend), backend=backend, **backend_options)
        try:
            return sim.run(self.duration_ms + max(self.phases.values()))
        finally:
            if hasattr(sim, "close"):
                sim.close()

    # --------------------------------------------------------------- operations
    def _schedule(self, op, **args):
        t = self.ops[-1]["t"] + self.op_interval_ms if self.ops else 0.0
        self.ops.append(dict(op=op, t=t, **args))
        return t

    def learn(self, cue, content_bits):
        """Schedule learning ``content_bits`` (iterable of bit indices) under ``cue``; a used cue
        is overwritten (forgetting).  Returns the start time (ms, reference convention)."""
        bits = sorted({int(b) for b in content_bits})
        self._check_cue(cue)
        self._check_bits(bits)
        return self._schedule("learn", cue=int(cue), bits=bits)

    def recall_cue(self, cue):
        """Schedule a recall by cue (one spike on the cue neuron); returns its start time (ms)."""
        self._check_cue(cue)
        return self._schedule("recall_cue", cue=int(cue))

    def recall_content(self, bits):
        """Schedule a recall by content fragment (one spike per given bit); returns its start time (ms)."""
        bits = sorted({int(b) for b in bits})
        self._check_bits(bits)
        if not bits:
            raise ValueError("recall_content needs at least one bit")
        return self._schedule("recall_content", bits=bits)

    def _check_cue(self, cue):
        if not 0 <= int(cue) < self.cue_size:
            raise ValueError(f"cue must be in 0..{self.cue_size - 1} (got {cue})")

    def _check_bits(self, bits):
        if any(not 0 <= b < self.content_size for b in bits):
            raise ValueError(f"content bits must be in 0..{self.content_size - 1} (got {bits})")

    def spike_input(self):
        """(cue_spikes, content_spikes, duration_ms) of the scheduled operations (reference times)."""
        cue, cont = [[] for _ in range(self.cue_size)], [[] for _ in range(self.content_size)]
        for op in self.ops:
            t = int(op["t"])
            ticks = range(t, t + LEARN_HOLD) if op["op"] == "learn" else [t]
            if "cue" in op:
                cue[op["cue"]].extend(ticks)
            for b in op.get("bits", ()):
                cont[b].extend(ticks)
        duration = (self.ops[-1]["t"] + self.op_interval_ms) if self.ops else self.op_interval_ms
        return cue, cont, duration

    def run(self, backend="numba", **backend_options):
        """Simulate every scheduled operation; returns neurosim ``Results``."""
        cue, cont, duration = self.spike_input()
        return self.run_spike_input(cue, cont, duration, backend=backend, **backend_options)

    def spike_trains(self, results):
        """{population: [spike times per neuron]} in reference time (ms) from neurosim Results
        (this flavour's phases taken off; "pynn-phased": spikes after the run's duration dropped)."""
        return spike_trains(results, self.phases, self.duration_ms if self.neuron == "pynn-phased" else None)

    def decode(self, results, ops=None):
        """Answers per operation (``ops`` default: the scheduled ones), see :func:`decode`."""
        trains = results if isinstance(results, dict) else self.spike_trains(results)
        return decode(trains, self.ops if ops is None else ops, self.cue_size, self.content_size)


# ------------------------------------------------------------------- helpers
def spike_trains(results, phases=None, until_ms=None):
    """{population: [sorted spike times per neuron]} in reference time (ms) from neurosim Results:
    t - TIME_OFFSET_MS - phases[population] (phases in ms, default 0), times >= until_ms dropped."""
    out = {}
    for label in results.labels:
        times, ids = results.spikes(label)
        trains = [[] for _ in range(results.size(label))]
        shift = TIME_OFFSET_MS + (phases or {}).get(label, 0.0)
        for t, i in zip(times, ids):
            t = int(round(t - shift))
            if until_ms is None or t < until_ms:
                trains[int(i)].append(t)
        out[label] = trains
    return out


def load_reference(path):
    """A reference trace JSON -> (trains {population: [times per neuron]}, sim_time_ms).

    Sizes come from the input populations (INcue, INcont); see ../shared/data/README.md."""
    with open(path) as handle:
        data = json.load(handle)
    pops = data["populations"]
    top = lambda labels: max(max((int(k) + 1 for k in pops.get(label, {})), default=0) for label in labels)
    c, m = top(CUE_POPULATIONS), top(set(POPULATIONS) - set(CUE_POPULATIONS) - {"CA3contCondInt"})
    sizes = {label: (c if label in CUE_POPULATIONS else m) for label in POPULATIONS}
    sizes["CA3contCondInt"] = 1
    trains = {label: [sorted(int(t) for t in pops.get(label, {}).get(str(i), [])) for i in range(sizes[label])]
              for label in POPULATIONS}
    return trains, float(data["sim_time_ms"])


def compare_spikes(trains, reference):
    """Per population: number of spikes in one train but not the other (0 = identical)."""
    out = {}
    for label, ref in reference.items():
        got = trains.get(label, [])
        n = max(len(got), len(ref))
        pad = lambda x: list(x) + [[]] * (n - len(x))
        out[label] = int(sum(len(set(a) ^ set(b)) for a, b in zip(pad(got), pad(ref))))
    return out


def ops_from_spike_input(cue_spikes, content_spikes):
    """Infer the operations of a testbench: a burst of LEARN_HOLD consecutive ticks with a cue is a
    learn, a single cue spike a recall by cue, single content spikes a recall by content."""
    active = {}
    for kind, trains in (("cue", cue_spikes), ("bits", content_spikes)):
        for i, train in enumerate(trains):
            for t in train:
                active.setdefault(int(t), {"cue": set(), "bits": set()})[kind].add(i)
    ops, times = [], sorted(active)
    k = 0
    while k < len(times):
        t = times[k]
        burst = [s for s in times[k:k + LEARN_HOLD] if s - t < LEARN_HOLD]
        now = active[t]
        if len(burst) == LEARN_HOLD and now["cue"]:
            ops.append(dict(op="learn", t=float(t), cue=min(now["cue"]), bits=sorted(now["bits"])))
            k += LEARN_HOLD
            continue
        if now["cue"]:
            ops.append(dict(op="recall_cue", t=float(t), cue=min(now["cue"])))
        else:
            ops.append(dict(op="recall_content", t=float(t), bits=sorted(now["bits"])))
        k += 1
    return ops


def expected_answers(ops, cue_size):
    """What an ideal memory answers: recall_cue -> stored bits, recall_content -> every cue whose
    stored content shares a bit with the fragment (OR semantics), learn -> (cue, bits) echoed."""
    memory, out = {}, []
    for op in ops:
        if op["op"] == "learn":
            memory[op["cue"]] = set(op["bits"])
            out.append({"cues": [op["cue"]], "bits": list(op["bits"])})
        elif op["op"] == "recall_cue":
            out.append({"cues": [op["cue"]], "bits": sorted(memory.get(op["cue"], ()))})
        else:
            frag = set(op["bits"])
            out.append({"cues": sorted(c for c in range(cue_size) if memory.get(c, set()) & frag), "bits": None})
    return out


def decode(results, ops, cue_size, content_size):
    """Read the OUT layer: for each operation starting at t0 (reference ms) the answer is the set of
    OUTcue / OUTcont neurons firing at t0 + ANSWER_LAG[op] (learn: t0 + 5, recalls: t0 + 6; the
    cue of a recall by cue is echoed at t0 + 5).  ``results``: neurosim Results or reference trains.
    Returns one dict per operation: op, t, answer, expected, correct."""
    trains = results if isinstance(results, dict) else spike_trains(results)
    at = lambda label, t: sorted(i for i, train in enumerate(trains[label]) if t in train)
    out = []
    for op, exp in zip(ops, expected_answers(ops, cue_size)):
        t0 = int(op["t"])
        lag = ANSWER_LAG[op["op"]]
        if op["op"] == "learn":
            ans = {"cues": at("OUTcue", t0 + lag), "bits": at("OUTcont", t0 + lag)}
        elif op["op"] == "recall_cue":
            ans = {"cues": at("OUTcue", t0 + lag - 1), "bits": at("OUTcont", t0 + lag)}
        else:
            ans = {"cues": at("OUTcue", t0 + lag), "bits": None}
        ok = ans == exp
        out.append(dict(op=op["op"], t=op["t"], args={k: v for k, v in op.items() if k not in ("op", "t")},
                        answer=ans, expected=exp, correct=bool(ok)))
    return out
