"""Sparse distributed CA3 autoassociative memory: a Willshaw net recalled by spiking neurons.

``N`` excitatory CA3 units with recurrent binary synapses store ``M`` random patterns of ``K``
active units (K-of-N).  Learning is Willshaw's clipped Hebbian rule applied to the weights
(not STDP): the synapse i -> j (i != j) is potentiated (weight ``w_exc``) if units i and j are
active together in at least one stored pattern, and absent otherwise.  The fraction of
potentiated synapses is then p1 = 1 - (1 - K^2/N^2)^M in Willshaw's approximation; for
i != j the exact expectation is 1 - (1 - K(K-1)/(N(N-1)))^M (:func:`willshaw_p1`,
:func:`exact_p1`).

Recall is simulated on the numba backend (dt = 1 ms) with :func:`coincidence_cell` units, which
sum the delta-synapse input (mV) of one step and fire on reaching 10 mV above rest.  A cue
(a subset of a stored pattern, e.g. half its units, optionally with wrong units added) fires the
cue units once through one-to-one input from a ``SpikeSourceArray``.  Their spikes reach every
unit through the learned synapses: unit j gets s_j x ``w_exc`` where s_j is the number of
firing units with a potentiated synapse onto j.  The Willshaw threshold "s_j >= c - tolerance"
(c: number of units that fired in this wave) is made by feedback inhibition from a pool of
``n_inhibitory`` interneurons coded like a thermometer: every CA3 unit excites interneuron k
(k = 1, 2, ...) with weight 10 mV / (k + tolerance + 0.5), so interneuron k fires iff at least
k + tolerance + 1 CA3 units fired in the same step, and each firing interneuron inhibits every
CA3 unit by ``w_exc``.  The excitatory delay (2 ms) equals the two inhibitory hops (1 + 1 ms;
a unit fires in the step its input arrives), so both arrive in the same step and unit j
fires iff ``w_exc`` (s_j - (c - tolerance - 1)) >= 10 mV, i.e. s_j >= c - tolerance (for
``w_exc`` in [10, 20) mV).  With a subset cue every pattern unit has s_j = c, so recall never
misses a unit; a unit outside the pattern fires spuriously with probability about p1^c, and the
Willshaw estimate of spurious units per recall is (N - K) p1^c ((N - K) p1^K for a full cue).
Each CA3 unit fires at most once per recall (it ignores input for ``HOLD_MS`` = 10 ms after a
spike).  The recalled units would excite the rest in turn (a third wave, with its own
threshold) and, once the thermometer pool saturates (more than ``n_inhibitory`` + tolerance + 1
units in one wave), activity spreads and carries over into the next recall.  A gate, one spike
source standing for the periodic (theta) inhibition that closes a retrieval cycle, therefore
inhibits every CA3 unit in each step from the third wave until the next cue (``gate=True``):
the recalled pattern is the cue plus the second wave, Willshaw's one-step retrieval, which is
what the formulas above predict.  ``gate=False`` leaves the network free-running.

Units: ms, mV (delta-synapse weights and potentials).
"""
import math

import numpy as np

#: the cells' resting potential and threshold (mV); a unit fires when the input of one step
#: (1 ms) lifts v by THRESHOLD_MV
V_REST, V_THRESH = -65.0, -55.0
THRESHOLD_MV = V_THRESH - V_REST
#: CA3 units fire at most once per recall: they ignore input for HOLD_MS after a spike
HOLD_MS = 10.0
#: delays (ms): recurrent excitation = CA3 -> interneuron + interneuron -> CA3
DELAY_EXC, DELAY_TO_INH, DELAY_FROM_INH = 2.0, 1.0, 1.0
INPUT_WEIGHT_MV = 100.0
#: inhibition of the gate that ends a recall (mV per step; more than any excitation)
GATE_WEIGHT_MV = 1e6


def coincidence_cell(hold_ms=HOLD_MS, dt=1.0):
    """A unit that sums the input of one step: v (mV) relaxes to V_REST within a step (Euler map
    v <- V_REST), a delta-synapse weight w (mV) adds w, it fires if v >= V_THRESH and it has not
    fired in the last ``hold_ms`` ms (hold counter h, in steps).  Unlike a refractory
    IF_curr_delta, input arriving during the hold is lost (neurosim holds v while refractory,
    so input would fire the cell when the refractory period ends)."""
    import neurosim as ns
    eqs = """
        dv/dt = (v_rest - v)/step : mV
        dh/dt = (max(h - 1.0, 0.0) - h)/step : 1
    """
    return ns.NeuronModel(eqs, threshold="(v if h < 0.5 else v_rest) >= v_thresh", reset="v = v_rest; h = n_hold",
                          refractory=0.0, method="euler", name="CoincidenceUnit",
                          parameters=dict(v_rest=V_REST, v_thresh=V_THRESH, step=dt,
                                          n_hold=float(int(round(hold_ms / dt)))),
                          initial=dict(v=V_REST, h=0.0),
                          receptors={"excitatory": "v += weight", "inhibitory": "v += weight"})


def willshaw_p1(n, k, m):
    """Willshaw's fraction of potentiated synapses after m K-of-N patterns: 1 - (1 - K^2/N^2)^M."""
    return 1.0 - (1.0 - (k / n) ** 2) ** m


def exact_p1(n, k, m):
    """Expected fraction of potentiated synapses i != j: 1 - (1 - K(K-1)/(N(N-1)))^M."""
    return 1.0 - (1.0 - k * (k - 1) / (n * (n - 1))) ** m


def predicted_spurious(n, k, m, cue_size=None):
    """Willshaw estimate of spurious units per recall, (N - K) p1^c (c: cue size, default K)."""
    c = k if cue_size is None else cue_size
    return (n - k) * willshaw_p1(n, k, m) ** c


def predicted_capacity(n, k, cue_size=None, perfect_fraction=0.9):
    """Largest M at which a fraction ``perfect_fraction`` of recalls has no spurious unit, if
    spurious units are Poisson with mean (N - K) p1^c: (N - K) p1^c <= -ln(perfect_fraction)."""
    c = k if cue_size is None else cue_size
    p1_max = (-math.log(perfect_fraction) / (n - k)) ** (1.0 / c)
    return int(math.floor(math.log(1.0 - p1_max) / math.log(1.0 - (k / n) ** 2)))


def random_patterns(n, k, m, seed=0):
    """``m`` random patterns of ``k`` distinct units out of ``n``: an (m, k) int array, rows sorted."""
    _check_sizes(n, k)
    if int(m) != m or m < 0:
        raise ValueError(f"number of patterns m must be an integer >= 0 (got {m!r})")
    rng = np.random.default_rng(seed)
    out = np.empty((int(m), int(k)), dtype=np.int64)
    chunk = max(1, 4_000_000 // n)
    for start in range(0, int(m), chunk):          # k smallest of n uniform numbers per row
        keys = rng.random((min(chunk, int(m) - start), n))
        out[start:start + len(keys)] = np.sort(np.argpartition(keys, k - 1, axis=1)[:, :k], axis=1)
    return out


def clipped_hebbian(patterns, n):
    """Willshaw's rule: the potentiated synapses (pre, post), i != j, of the stored patterns,
    as two int arrays sorted by (pre, post)."""
    patterns = np.asarray(patterns, dtype=np.int64)
    if patterns.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if patterns.ndim != 2 or patterns.min() < 0 or patterns.max() >= n:
        raise ValueError(f"patterns must be an (M, K) array of unit indices in 0..{n - 1}")
    k = patterns.shape[1]
    pre = np.repeat(patterns, k, axis=1).ravel()
    post = np.tile(patterns, (1, k)).ravel()
    keys = np.unique(pre[pre != post] * n + post[pre != post])
    return keys // n, keys % n


def _check_sizes(n, k):
    if int(n) != n or n < 2:
        raise ValueError(f"n_units must be an integer >= 2 (got {n!r})")
    if int(k) != k or not 1 <= k <= n:
        raise ValueError(f"k_active must be an integer in 1..n_units = {n} (got {k!r})")


class SparseCA3:
    """Willshaw autoassociative CA3 memory with spiking recall (module docstring).

    Parameters
    ----------
    n_units, k_active : int
        N excitatory units; K active units per pattern.
    w_exc : float
        Weight of a potentiated synapse and of each interneuron's inhibition (mV, 10 to < 20).
    tolerance : int
        Units of the cue that may be wrong: threshold s_j >= c - tolerance.
    n_inhibitory : int or None
        Interneurons of the threshold pool (default 2 K); the threshold stops growing when more
        than n_inhibitory + tolerance + 1 units fire in one step.
    recall_interval_ms : float
        Time between successive recalls of one run (ms).
    gate : bool
        Silence CA3 from the third wave of each recall to the next cue (module docstring).
    """

    def __init__(self, n_units, k_active, w_exc=10.5, tolerance=0, n_inhibitory=None, recall_interval_ms=25.0,
                 gate=True):
        _check_sizes(n_units, k_active)
        if not THRESHOLD_MV <= w_exc < 2 * THRESHOLD_MV:
            raise ValueError(f"w_exc must be in [{THRESHOLD_MV}, {2 * THRESHOLD_MV}) mV (got {w_exc})")
        if int(tolerance) != tolerance or tolerance < 0:
            raise ValueError(f"tolerance must be an integer >= 0 (got {tolerance!r})")
        n_inh = 2 * int(k_active) if n_inhibitory is None else n_inhibitory
        if int(n_inh) != n_inh or n_inh < 1:
            raise ValueError(f"n_inhibitory must be an integer >= 1 (got {n_inhibitory!r})")
        if recall_interval_ms < 15.0:
            raise ValueError(f"recall_interval_ms must be >= 15 ms (refractory period + waves; got {recall_interval_ms})")
        self.n, self.k, self.w_exc, self.tolerance = int(n_units), int(k_active), float(w_exc), int(tolerance)
        self.n_inhibitory, self.recall_interval_ms, self.gate = int(n_inh), float(recall_interval_ms), bool(gate)
        self.patterns = np.zeros((0, self.k), dtype=np.int64)
        self.pre = self.post = np.zeros(0, np.int64)

    # ------------------------------------------------------------------ learning
    def store(self, patterns):
        """Store K-of-N ``patterns`` ((M, K) unit indices) with the clipped Hebbian rule (added to
        what is stored already).  Returns the measured p1."""
        patterns = np.asarray(patterns, dtype=np.int64).reshape(-1, self.k) if np.size(patterns) else \
            np.zeros((0, self.k), np.int64)
        for row in patterns:
            if len(set(row.tolist())) != self.k:
                raise ValueError(f"each pattern needs {self.k} distinct units (got {sorted(row.tolist())})")
        self.patterns = np.vstack([self.patterns, patterns])
        self.pre, self.post = clipped_hebbian(self.patterns, self.n)
        return self.p1

    @property
    def n_synapses(self):
        """Number of potentiated synapses."""
        return int(len(self.pre))

    @property
    def p1(self):
        """Measured fraction of potentiated synapses among the N(N-1) possible (i != j)."""
        return self.n_synapses / (self.n * (self.n - 1))

    # -------------------------------------------------------------------- recall
    def make_cue(self, pattern_index, fraction=0.5, n_wrong=0, seed=0):
        """A cue for stored pattern ``pattern_index``: round(fraction K) of its units (at least 1)
        plus ``n_wrong`` units outside it; sorted unit indices."""
        if not 0 <= pattern_index < len(self.patterns):
            raise ValueError(f"pattern_index must be in 0..{len(self.patterns) - 1} (got {pattern_index})")
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1] (got {fraction})")
        rng = np.random.default_rng(seed)
        pattern = self.patterns[pattern_index]
        right = rng.choice(pattern, size=max(1, int(round(fraction * self.k))), replace=False)
        others = np.setdiff1d(np.arange(self.n), pattern)
        if not 0 <= n_wrong <= len(others):
            raise ValueError(f"n_wrong must be in 0..{len(others)} (got {n_wrong})")
        wrong = rng.choice(others, size=int(n_wrong), replace=False)
        return np.sort(np.concatenate([right, wrong]))

    def cue_times(self, n_cues):
        """Time (ms) at which cue r fires its units."""
        return [1.0 + r * self.recall_interval_ms for r in range(n_cues)]

    def build(self, cues):
        """The Network (dt = 1 ms) that recalls from each cue (list of unit-index lists) in turn."""
        import neurosim as ns
        trains = [[] for _ in range(self.n)]
        for t, cue in zip(self.cue_times(len(cues)), cues):
            cue = [int(i) for i in cue]
            if not cue or min(cue) < 0 or max(cue) >= self.n:
                raise ValueError(f"a cue must list at least one unit in 0..{self.n - 1} (got {cue})")
            for i in set(cue):
                trains[i].append(t)
        net = ns.Network(dt=1.0, seed=0, label=f"SparseCA3({self.n}, {self.k})")
        source = net.add(ns.Population(self.n, ns.SpikeSourceArray(trains), label="cue"))
        ca3 = net.add(ns.Population(self.n, coincidence_cell(HOLD_MS), label="CA3"))
        inh = net.add(ns.Population(self.n_inhibitory, coincidence_cell(0.0), label="inhibitory"))
        ca3.record("spikes")
        inh.record("spikes")
        net.add(ns.Projection(source, ca3, ns.OneToOneConnector(),
                              ns.StaticSynapse(weight=INPUT_WEIGHT_MV, delay=1.0), label="cue->CA3"))
        if self.n_synapses:
            conns = np.column_stack([self.pre, self.post]).astype(float)
            net.add(ns.Projection(ca3, ca3, ns.FromListConnector(conns),
                                  ns.StaticSynapse(weight=self.w_exc, delay=DELAY_EXC), label="CA3 recurrent (Willshaw)"))
        k = np.arange(1, self.n_inhibitory + 1)
        w_in = THRESHOLD_MV / (k + self.tolerance + 0.5)
        rows = np.column_stack([np.repeat(np.arange(self.n), self.n_inhibitory), np.tile(k - 1, self.n),
                                np.tile(w_in, self.n)])
        net.add(ns.Projection(ca3, inh, ns.FromListConnector(rows, column_names=["weight"]),
                              ns.StaticSynapse(delay=DELAY_TO_INH), label="CA3->inhibitory (thermometer)"))
        if self.gate:
            gate_times = [t + x for t in self.cue_times(len(cues))
                          for x in np.arange(1.0 + 2 * DELAY_EXC - 1.0, self.recall_interval_ms - 1.0)]
            gate = net.add(ns.Population(1, ns.SpikeSourceArray(gate_times), label="gate"))
            net.add(ns.Projection(gate, ca3, ns.AllToAllConnector(),
                                  ns.StaticSynapse(weight=-GATE_WEIGHT_MV, delay=1.0), receptor_type="inhibitory",
                                  label="gate->CA3"))
        net.add(ns.Projection(inh, ca3, ns.AllToAllConnector(),
                              ns.StaticSynapse(weight=-self.w_exc, delay=DELAY_FROM_INH), receptor_type="inhibitory",
                              label="inhibitory->CA3"))
        return net

    def recall(self, cues, backend="numba", **backend_options):
        """Simulate one recall per cue; returns (recalled unit sets, neurosim Results)."""
        import neurosim as ns
        backend_options.setdefault("quiet", True)
        sim = ns.compile(self.build(cues), backend=backend, **backend_options)
        results = sim.run(self.cue_times(len(cues))[-1] + self.recall_interval_ms)
        return self.decode(results, len(cues)), results

    def decode(self, results, n_cues):
        """Units of CA3 that fired in each recall window [t_r, t_r + recall_interval_ms)."""
        times, ids = results.spikes("CA3")
        out = []
        for t in self.cue_times(n_cues):
            sel = (times >= t) & (times < t + self.recall_interval_ms)
            out.append(set(int(i) for i in ids[sel]))
        return out

    def score(self, recalled, pattern_indices):
        """Per recall: dict(missing, spurious, perfect) against the stored patterns."""
        out = []
        for got, p in zip(recalled, pattern_indices):
            target = set(int(i) for i in self.patterns[p])
            out.append(dict(missing=len(target - got), spurious=len(got - target), perfect=got == target))
        return out
