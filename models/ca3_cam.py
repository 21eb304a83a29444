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

``"pynn"`` builds the same network from PyNN's ``IF_curr_exp`` and ``STDPMechanism`` (what a
PyNN backend can be given).  On numba every hop then takes one step more, the coincidences the
circuit relies on (e.g. CueCue inhibition meeting ContCue excitation on CA3contCond) are lost,
and the memory does not work: 489 / 3652 mismatching spikes, 0 / 9 and 14 / 60 operations
decoded correctly (fixed answer lags).
"""
import json

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


class CA3CAM:
    """The CA3 content-addressable memory.

    Parameters
    ----------
    cue_size, content_size : int
        Number of one-hot cues (memories) and of content bits.
    neuron : "spinnaker" or "pynn"
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
    """

    def __init__(self, cue_size, content_size, neuron="spinnaker", op_interval_ms=10.0, stdp_lut=2,
                 cue_self_inhibition=True):
        if int(cue_size) < 1 or int(content_size) < 1:
            raise ValueError(f"cue_size and content_size must be >= 1 (got {cue_size}, {content_size})")
        if neuron not in ("spinnaker", "pynn"):
            raise ValueError(f"neuron must be 'spinnaker' or 'pynn' (got {neuron!r})")
        if op_interval_ms < 7:
            raise ValueError(f"op_interval_ms must be >= 7 ms (the paper's minimum after a learn; got {op_interval_ms})")
        self.cue_size, self.content_size, self.neuron = int(cue_size), int(content_size), neuron
        if not isinstance(cue_self_inhibition, bool):
            raise ValueError(f"cue_self_inhibition must be True or False (got {cue_self_inhibition!r})")
        self.op_interval_ms, self.stdp_lut, self.dt = float(op_interval_ms), stdp_lut, 1.0
        self.cue_self_inhibition = cue_self_inhibition
        self.ops = []           # scheduled operations: dicts with "op", "t" (reference ms) and arguments
        self.network = self.projections = None

    # ------------------------------------------------------------------ network
    def _cell(self, params):
        import neurosim as ns
        return spinnaker_lif(**params, dt=self.dt) if self.neuron == "spinnaker" else ns.IF_curr_exp(**params)

    def _stdp(self):
        import neurosim as ns
        if self.neuron == "spinnaker":
            return spinnaker_stdp(**STDP, delay=1.0, lut=self.stdp_lut)
        return ns.STDPMechanism(ns.SpikePairRule(STDP["tau_plus"], STDP["tau_minus"], STDP["A_plus"], STDP["A_minus"]),
                                ns.AdditiveWeightDependence(STDP["w_min"], STDP["w_max"]), weight=0.0, delay=1.0)

    def build(self, cue_spikes, content_spikes):
        """The neurosim Network (dt = 1 ms) driven by the given input spikes (reference times, ms)."""
        import numpy as np

        import neurosim as ns
        c, m = self.cue_size, self.content_size
        cue_spikes, content_spikes = self._check_input(cue_spikes, c, "cue"), self._check_input(content_spikes, m, "content")
        net = ns.Network(dt=self.dt, seed=0, label=f"CA3CAM({c}, {m})")
        shift = lambda trains: [[float(t) + TIME_OFFSET_MS for t in train] for train in trains]
        pops = {"INcue": net.add(ns.Population(c, ns.SpikeSourceArray(shift(cue_spikes)), label="INcue")),
                "INcont": net.add(ns.Population(m, ns.SpikeSourceArray(shift(content_spikes)), label="INcont"))}
        for label, size, params in (("CA3cueCueRecall", c, SLOW), ("CA3contCueRecall", m, SLOW),
                                    ("CA3contCond", m, FAST), ("CA3contCondInt", 1, FAST),
                                    ("CA3cueContRecall", c, FAST), ("CA3contContRecall", m, SLOW),
                                    ("CA3MergeCue", c, SLOW), ("CA3MergeCont", m, SLOW),
                                    ("OUTcue", c, OUT), ("OUTcont", m, OUT)):
            pops[label] = net.add(ns.Population(size, self._cell(params), label=label))
        for pop in pops.values():
            pop.record("spikes")
        one, allc = ns.OneToOneConnector(), ns.AllToAllConnector()
        no_self = ns.AllToAllConnector(allow_self_connections=False)
        cue_inhibition = no_self if self.cue_self_inhibition or c == 1 else ns.ArrayConnector(~np.eye(c, dtype=bool))
        static = [  # pre, post, connector, weight (nA, negative: inhibitory), delay (ms)
            ("INcue", "CA3cueCueRecall", one, 6.0, 1.0), ("INcont", "CA3contCueRecall", one, 6.0, 1.0),
            ("CA3cueCueRecall", "CA3cueContRecall", one, 6.0, 2.0),
            ("CA3cueCueRecall", "CA3cueContRecall", cue_inhibition, -6.0 * m, 3.0),
            ("CA3cueCueRecall", "CA3contCond", allc, -6.0, 2.0),
            ("CA3contCueRecall", "CA3contCond", one, 9.0, 1.0),
            ("CA3contCond", "CA3contContRecall", one, 6.0, 1.0),
            ("CA3contCueRecall", "CA3contCondInt", allc, 6.0, 1.0),
            ("CA3contCondInt", "CA3contCond", allc, 2.0, 1.0),
            ("CA3cueContRecall", "CA3cueContRecall", no_self, -6.0 * m, 2.0),
            ("CA3cueCueRecall", "CA3MergeCue", one, 6.0, 3.0), ("CA3cueContRecall", "CA3MergeCue", one, 6.0, 1.0),
            ("CA3contCueRecall", "CA3MergeCont", one, 6.0, 3.0), ("CA3contContRecall", "CA3MergeCont", one, 6.0, 1.0),
            ("CA3MergeCue", "OUTcue", one, 6.0, 1.0), ("CA3MergeCont", "OUTcont", one, 6.0, 1.0)]
        for pre, post, conn, w, d in static:
            if conn is no_self and pops[pre].size == 1:
                continue
            net.add(ns.Projection(pops[pre], pops[post], conn, ns.StaticSynapse(weight=w, delay=d),
                                  receptor_type="excitatory" if w > 0 else "inhibitory", label=f"{pre}->{post}"))
        self.projections = {
            "cue->cont": net.add(ns.Projection(pops["CA3cueCueRecall"], pops["CA3contCueRecall"], allc,
                                               self._stdp(), label="CA3cueCueRecall->CA3contCueRecall STDP")),
            "cont->cue": net.add(ns.Projection(pops["CA3contContRecall"], pops["CA3cueContRecall"], allc,
                                               self._stdp(), label="CA3contContRecall->CA3cueContRecall STDP"))}
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
        (reference + ``TIME_OFFSET_MS``); :meth:`spike_trains` converts back.
        """
        import neurosim as ns
        backend_options.setdefault("quiet", True)
        sim = ns.compile(self.build(cue_spikes, content_spikes), backend=backend, **backend_options)
        return sim.run(float(duration_ms))

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
        """{population: [spike times per neuron]} in reference time (ms) from neurosim Results."""
        return spike_trains(results)

    def decode(self, results, ops=None):
        """Answers per operation (``ops`` default: the scheduled ones), see :func:`decode`."""
        return decode(results, self.ops if ops is None else ops, self.cue_size, self.content_size)


# ------------------------------------------------------------------- helpers
def spike_trains(results):
    """{population: [sorted spike times per neuron]} in reference time (ms) from neurosim Results."""
    out = {}
    for label in results.labels:
        times, ids = results.spikes(label)
        trains = [[] for _ in range(results.size(label))]
        for t, i in zip(times, ids):
            trains[int(i)].append(int(round(t - TIME_OFFSET_MS)))
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
