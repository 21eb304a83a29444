"""Export a learned temporal memory (weights frozen) as a network of standard PyNN cells.

:func:`frozen_network` takes a :class:`~.temporal_memory.TemporalMemory` after learning (or a
:class:`~.spiking_temporal_memory.SpikingTemporalMemory`, whose learned state is its reference
``.tm``) and a test sequence of active columns, and builds a ``neurosim.Network`` of PyNN
standard parts only: ``IF_curr_delta`` cells (weights in mV), ``StaticSynapse`` with frozen
weights, a ``SpikeSourceArray`` for the feedforward input.  It runs on numba, brian2 and nest
(pyNN.nest) with the reference's predictions, and maps on the SpiNNaker virtual board
(spinnaker); not on pynn-brian2 (see Backends).

**Network.**  dt = 1 ms; every neuron is ``IF_curr_delta`` with v_rest = v_reset = 0 mV,
tau_m = 1 ms, tau_refrac = 1 ms, so a spike of weight w lifts v by w mV in the step it arrives:

* ``input`` (one SpikeSourceArray per column) -> the column's cells, weight +K;
* ``cells`` (columns x cellsPerColumn), threshold 0.5 mV;
* ``segments``: one unit per learned distal segment with >= ``activationThreshold`` connected
  synapses (permanence >= ``connectedPermanence``; the others can never become active and are
  left out), fed by its connected synapses (weight 1 mV each), threshold
  ``activationThreshold`` - 0.5 mV: a coincidence detector over the previous step's active cells;
* ``columns``: one inhibition unit per column, fed by the column's segments (weight 1 mV,
  threshold 0.5 mV: it fires when the column holds a predicted cell) -> the column's cells,
  weight -K;
* each segment -> its cell, weight +1 (the dendritic depolarisation).

K is the largest number of exported segments on one cell.  The feedforward input, the segment
spikes and the column inhibition of a step reach a cell in the same 1 ms step, so its input is
K (active column, no predicted cell: the column **bursts**), k (k >= 1 active segments in an
active column that holds a predicted cell: the predicted cells fire), 0 (the other cells of that
column: silenced) or k - K <= 0 (inactive column): the cell fires iff the reference TM
activates it.

**Timing.**  HTM step t is a window of ``window`` ms (W, default 5) starting at t W; inside it
(times are neurosim spike stamps, ms): segment units at t W + 1 (they read the cell spikes of
step t - 1, delay W - 2), column units at t W + 2 (delay 1), the feedforward source spike at
t W + 2 (delay 1) and the cells at t W + 3 (segment -> cell delay 2, column -> cell delay 1).
The run lasts (steps + 1) W ms; the segment spikes of the last window are the predictions after
the last step.  Every neuron receives input in one step per window only; a subthreshold v decays
by e^(-W/tau_m) = e^(-5) per window, so what is left of a window (at most
(activationThreshold - 1) e^(-W) / (1 - e^(-W)) mV, 0.06 mV at threshold 10) never reaches the
0.5 mV margin: no state is reset between steps and no ``Simulation.set`` is needed (the
spiking TM resets its fast state with ``set``, which sPyNNaker cannot do).  An empty step
(no active column) silences everything and acts as a reset.

**SpiNNaker** (sPyNNaker 7.4.1, virtual board): dt = 1 ms, delays 1 to W - 2 steps (within
the 32-step ring buffer of a 256-neuron core for W <= 34 ms: no delay extension), every projection
has at most one synapse per (pre, post) pair, so a synaptic row (the synapses of one
presynaptic neuron onto one core) holds at most neurons_per_core <= 256 synapses and the
default 256 neurons per core fits; weights 1 and K mV are exact in its 16-bit fixed point.

**Spikes:** active cells (cell spikes of window t), active segments and so the predicted cells
after step t (segment spikes of window t + 1), column inhibition and bursting.  **Bookkeeping**
(Python, outside the run): choosing the exported segments and synapses from the permanences
(frozen: no learning, no winner cells, no matching segments), the input spike times, and
decoding spikes into steps (:class:`Decoder`).  Unlike the spiking TM, where predicted cells
fire first (8 ms) and their spikes inhibit the rest before they fire (11 ms), here every active
cell fires at the same ms and the column inhibition is driven by the column's segment spikes:
the same outcome, with all of a segment's inputs arriving together, so standard LIF cells with
delta synapses count them exactly.

**Backends.**  numba, nest (pyNN.nest, iaf_psc_delta) and neurosim's brian2 add a delta input
in the step it arrives and test the threshold after it, so a hop of delay d takes d steps and
the scheme holds.  On pyNN.brian2 a 1 mV input does not fire a cell with threshold 0.5 mV
(measured): the input is seen one step later, after a step of leak (x e^-1 = 0.37; Brian2's
default schedule adds synaptic input after the threshold test), and the network does not
work there (:func:`run` refuses it).

**Guaranteed** (tests/models/test_htm_pynn_export.py): on numba the decoded active and predicted
cells equal the reference TM's (``compute(..., learn=False)`` after ``reset()``) on every step
of the test sequences; nest decodes the same; the network maps on the SpiNNaker virtual board.
Measured there: 128 columns x 4 cells, 119 exported segments, 21 steps: 21 / 21 equal on numba
and nest, 0 spikes off the scheme, 5 population cores.  By hand, htm.core's size and defaults
(2048 x 32, thresholds 13 / 10, 484 segments): 21 / 21 on numba and nest, 267 population cores.
"""
import numpy as np

__all__ = ["WINDOW_MS", "Decoder", "FrozenTM", "frozen_network", "run"]

DT = 1.0                    # ms
WINDOW_MS = 5.0             # ms per HTM step (default)
MIN_WINDOW_MS = 4.0
SEGMENT_PHASE, COLUMN_PHASE, INPUT_PHASE, CELL_PHASE = 1.0, 2.0, 2.0, 3.0   # ms into a window
CELL = dict(cm=1.0, tau_m=1.0, tau_refrac=1.0, v_rest=0.0, v_reset=0.0, v_thresh=0.5, i_offset=0.0)


class FrozenTM:
    """The connected distal synapses of a learned temporal memory, frozen.

    Attributes: ``columns``, ``cellsPerColumn``, ``threshold`` (activationThreshold),
    ``segment_cell`` (cell of each exported segment), ``synapses`` (rows (presynaptic cell,
    segment)), ``K`` (most exported segments on one cell), ``dropped`` (live segments with fewer
    than ``threshold`` connected synapses, not exported)."""

    def __init__(self, tm):
        from .spiking_temporal_memory import SpikingTemporalMemory
        from .temporal_memory import TemporalMemory
        if isinstance(tm, SpikingTemporalMemory):
            tm = tm.tm
        if not isinstance(tm, TemporalMemory):
            raise TypeError(f"frozen_network needs a TemporalMemory or SpikingTemporalMemory "
                            f"(got {type(tm).__name__})")
        self.columns, self.cellsPerColumn = tm.columns, tm.cellsPerColumn
        self.numberOfCells, self.threshold = tm.numberOfCells, tm.activationThreshold
        connected = float(np.float32(tm.connectedPermanence))     # the reference compares float32
        cells, pres, perms = tm.segments()
        seg_cell, rows = [], []
        for cell, pre, perm in zip(cells, pres, perms):
            pre = np.unique(pre[perm >= connected])
            if pre.size >= self.threshold:
                rows.append(np.c_[pre, np.full(pre.size, len(seg_cell))])
                seg_cell.append(cell)
        self.dropped = len(cells) - len(seg_cell)
        if not seg_cell:
            raise ValueError(f"the temporal memory has no segment with >= activationThreshold = "
                             f"{self.threshold} connected synapses: nothing learned to export")
        self.segment_cell = np.array(seg_cell, np.int64)
        self.synapses = np.concatenate(rows).astype(np.int64)
        self.K = int(np.bincount(self.segment_cell).max())

    def check_inputs(self, inputs):
        """The test sequence as a list of sorted unique column-index arrays (one per step)."""
        if isinstance(inputs, (str, bytes)) or not hasattr(inputs, "__iter__"):
            raise ValueError("inputs must be a sequence of steps, each a sequence of active column indices")
        steps = []
        for t, cols in enumerate(list(inputs)):
            arr = np.asarray(cols)
            if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
                raise ValueError(f"inputs[{t}] must be a 1-d sequence of integer column indices (got {cols!r})")
            arr = np.unique(arr.astype(np.int64))
            if arr.size and (arr[0] < 0 or arr[-1] >= self.columns):
                raise ValueError(f"inputs[{t}]: column index out of range 0..{self.columns - 1}")
            steps.append(arr)
        if not steps:
            raise ValueError("inputs must hold at least one step")
        return steps


class Decoder:
    """Reads spikes back into HTM steps.  ``decoder(results)`` returns a dict:

    ``active`` / ``predicted``: per step, the active cells and the predicted cells after that
    step (cells with an active segment, from the segment spikes of the next window; int64
    arrays); ``predicted_columns``; ``anomaly`` (raw anomaly of each step against the previous
    step's predicted columns); ``off_time``: spikes at times the scheme does not use (0 when the
    timing holds); ``segments``: per step, the exported segment indices that fired."""

    def __init__(self, frozen, steps, window):
        self.frozen, self.steps, self.window = frozen, steps, float(window)
        self.duration = (len(steps) + 1) * self.window

    def _bin(self, results, label, phase, shift):
        times, ids = results.spikes(label)
        rel = (np.asarray(times) - phase) / self.window - shift
        step = np.rint(rel).astype(np.int64)
        ok = (np.abs(rel - step) < 1e-6) & (step >= 0) & (step < len(self.steps))
        out = [np.unique(np.asarray(ids)[ok & (step == t)]).astype(np.int64) for t in range(len(self.steps))]
        return out, int(np.count_nonzero(~ok))

    def __call__(self, results):
        fz = self.frozen
        active, off_cells = self._bin(results, "cells", CELL_PHASE, 0)
        segments, off_segs = self._bin(results, "segments", SEGMENT_PHASE, 1)
        predicted = [np.unique(fz.segment_cell[s]) for s in segments]
        pred_cols = [np.unique(p // fz.cellsPerColumn) for p in predicted]
        anomaly = []
        for t, cols in enumerate(self.steps):
            before = pred_cols[t - 1] if t else np.zeros(0, np.int64)
            anomaly.append(1.0 - np.intersect1d(cols, before).size / cols.size if cols.size else 0.0)
        return dict(active=active, predicted=predicted, predicted_columns=pred_cols, anomaly=anomaly,
                    segments=segments, off_time=off_cells + off_segs)


def frozen_network(tm, inputs, window=WINDOW_MS, seed=0):
    """(network, decoder) for a learned temporal memory and a test sequence (module docstring).

    tm: TemporalMemory or SpikingTemporalMemory (its connected synapses are copied now);
    inputs: per step, the active column indices; an empty step acts as a reset;
    window: ms per step (whole ms, >= 4).  Run the network for ``decoder.duration`` ms from a
    fresh start; it reproduces the reference TM's ``compute(cols, learn=False)`` after
    ``reset()``."""
    import neurosim as ns
    if not (float(window) == int(window) and window >= MIN_WINDOW_MS):
        raise ValueError(f"window must be a whole number of ms >= {MIN_WINDOW_MS:g} (got {window!r})")
    window = float(window)
    fz = FrozenTM(tm)
    steps = fz.check_inputs(inputs)
    n_cols, cpc, n_cells, n_seg = fz.columns, fz.cellsPerColumn, fz.numberOfCells, fz.segment_cell.size
    trains = [[] for _ in range(n_cols)]
    for t, cols in enumerate(steps):
        for c in cols:
            trains[c].append(t * window + INPUT_PHASE)
    net = ns.Network(dt=DT, seed=seed, label=f"frozen TM {n_cols}x{cpc}, {n_seg} segments")
    source = net.add(ns.Population(n_cols, ns.SpikeSourceArray(trains), label="input"))
    cells = net.add(ns.Population(n_cells, ns.IF_curr_delta(**CELL), label="cells"))
    segs = net.add(ns.Population(n_seg, ns.IF_curr_delta(**dict(CELL, v_thresh=fz.threshold - 0.5)),
                                 label="segments"))
    columns = net.add(ns.Population(n_cols, ns.IF_curr_delta(**CELL), label="columns"))
    for pop in (cells, segs, columns):
        pop.record("spikes")
    cell_ids, seg_ids = np.arange(n_cells), np.arange(n_seg)
    col_of_cell = np.c_[cell_ids // cpc, cell_ids]
    seg_col = fz.segment_cell // cpc
    project = lambda pre, post, rows, w, d, label, receptor="excitatory": net.add(ns.Projection(
        pre, post, ns.FromListConnector(rows), ns.StaticSynapse(weight=w, delay=d), receptor_type=receptor,
        label=label))
    project(source, cells, col_of_cell, float(fz.K), CELL_PHASE - INPUT_PHASE, "feedforward")
    project(cells, segs, fz.synapses, 1.0, window - (CELL_PHASE - SEGMENT_PHASE), "distal")
    project(segs, cells, np.c_[seg_ids, fz.segment_cell], 1.0, CELL_PHASE - SEGMENT_PHASE, "depolarise")
    project(segs, columns, np.c_[seg_ids, seg_col], 1.0, COLUMN_PHASE - SEGMENT_PHASE, "to_inhibition")
    project(columns, cells, col_of_cell, -float(fz.K), CELL_PHASE - COLUMN_PHASE, "column_inhibition",
            "inhibitory")
    return net, Decoder(fz, steps, window)


def run(tm, inputs, backend="numba", window=WINDOW_MS, **options):
    """Export, simulate on ``backend`` and decode; returns the decoder's dict plus ``info``
    (the simulation's ``info``) and ``wall_s`` (compile + run + decode, s).  On spinnaker
    ``virtual_board=True`` is the default: it maps and returns no spikes."""
    import time

    import neurosim as ns
    if backend == "pynn-brian2":
        raise ValueError("pynn-brian2 applies a step's delta-synapse input after the threshold test (one "
                         "step later, after one step of leak), which breaks the coincidences this network "
                         "counts on; use numba, brian2 or nest")
    network, decode = frozen_network(tm, inputs, window=window)
    options.setdefault("quiet", True)
    if backend == "spinnaker":
        options.setdefault("virtual_board", True)
    start = time.perf_counter()
    sim = ns.compile(network, backend=backend, **options)
    try:
        results = sim.run(decode.duration)
        out = decode(results)
        out["info"] = dict(getattr(sim, "info", {}) or {})
    finally:
        if hasattr(sim, "close"):
            sim.close()
    out["wall_s"] = time.perf_counter() - start
    return out
