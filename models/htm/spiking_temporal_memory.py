"""Spiking HTM temporal memory: minicolumns of spiking cells on the numba backend.

Each HTM time step is one *window* of ``WINDOW`` = 13 ms of spiking simulation (dt = 1 ms).
The network is built once, with fixed pool sizes: a population ``cells`` and a population
``units`` of counters (the segment units, then the inhibition units):

* ``cells`` (columns x cellsPerColumn): ``dv/dt = ff * 1/ms``; ``ff`` is 1 in the cells of
  the active columns (the feedforward input of this step, written before the window).  A cell
  fires when ``v > 7.5`` if it is depolarised (``dep > 0.5``, i.e. predicted), else when
  ``v > 10.5``, and never while ``inh > 0.5``.  So predicted cells fire at 8 ms, unpredicted
  ones at 11 ms, each at most once per window (reset ``v = -1000``);
* inhibition (one unit per column, delay 1 ms each way): fires on the first spike of its
  column's cells and silences the others (``inh += 1``) before 11 ms.  A column with a
  predicted cell therefore activates only its predicted cells; a column without one
  **bursts** (all cells fire at 11 ms, the inhibition arrives too late; it arrives at 13 ms,
  still inside the window, so it never reaches into the next one);
* segments (cells x maxSegmentsPerCell units; units ``cell * maxSegmentsPerCell`` to
  ``(cell + 1) * maxSegmentsPerCell - 1`` hold the distal segments of ``cell``, a segment
  keeping its unit while it lives): a coincidence detector that counts the spikes arriving
  through its *connected* synapses (weight 1, permanence >= connectedPermanence; all other
  cell -> unit weights are 0) and fires when the count reaches ``activationThreshold``.  The
  cells' spikes reach the segments 6 ms later, i.e. at 0 ms (predicted) or 3 ms (bursting) of
  the *next* window, so the segments read the previous step's active cells;
* a segment spike reaches its cell 1 ms later (``dep += 1``): the cell is depolarised
  (subthreshold) before the feedforward input of that window makes it fire.

At each window start the fast state (``v``, ``dep``, ``inh`` and the segment / inhibition
counters) is set back to 0 with ``Simulation.set``, the window boundary acting as a global
reset; the spikes still in flight (cells -> segments) carry the sequence context across it.

**Spikes:** which cells are active (read from the ``cells`` spikes of the window), which
segments are active (spikes of the segment units), prediction, column inhibition and bursting.
**Bookkeeping** (the reference :class:`~.temporal_memory.TemporalMemory`, whose numba code and
data structures are reused): winner-cell choice in bursting columns, matching segments
(potential synapses are not in the network), permanence learning, growth and segment
creation/removal, the random generator.  After each learning step the connected synapses are
written into the ``cells -> segments`` weights with ``set_weights`` (only when they changed).
The active segments and active cells read from the spikes replace the reference's own before
it learns, and :attr:`mismatches` counts the steps on which the two would have differed.

``getPredictiveCells`` is the reference's dendritic pass over the spiking active cells; in the
network the same prediction appears as the segment spikes early in the next window.
"""
import numpy as np
from numba import njit

from .temporal_memory import TemporalMemory, _activate_dendrites

__all__ = ["SpikingTemporalMemory", "WINDOW"]

DT = 1.0                 # ms
WINDOW = 13.0            # ms of simulation per HTM time step
RAMP = 1.0               # 1/ms: feedforward ramp of v
PREDICTED_THRESHOLD = 7.5    # a depolarised cell fires at 8 ms
BURST_THRESHOLD = 10.5       # any cell of an active column fires at 11 ms unless inhibited
CELL_TO_SEGMENT_DELAY = 6.0  # ms: spikes at 8 / 11 ms land at 1 / 4 ms (steps 0 / 3) next window
_SILENCED = -1000.0


@njit(cache=True)
def _connected_pairs(cell_nseg, cell_segs, seg_hi, syn_pre, syn_perm, connected, per_cell, unit_seg,
                     seg_unit):
    """Give every live segment a unit among its cell's ``per_cell`` (a segment keeps its unit
    while it lives, so creating or removing another segment does not move it); return the flat
    indices ``pre * n_units + unit`` of the connected synapses, sorted."""
    n_units = unit_seg.size
    count = 0
    for cell in range(cell_nseg.size):
        first = cell * per_cell
        nseg = cell_nseg[cell]
        for u in range(first, first + per_cell):        # free the units of dead segments
            s = unit_seg[u]
            if s >= 0:
                alive = False
                for j in range(nseg):
                    if cell_segs[cell, j] == s:
                        alive = True
                if not alive:
                    unit_seg[u] = -1
        for j in range(nseg):
            seg = cell_segs[cell, j]
            u = seg_unit[seg]
            if u < first or u >= first + per_cell or unit_seg[u] != seg:
                u = first
                while unit_seg[u] >= 0:
                    u += 1
                unit_seg[u] = seg
                seg_unit[seg] = u
            for slot in range(seg_hi[seg]):
                if syn_pre[seg, slot] >= 0 and syn_perm[seg, slot] >= connected:
                    count += 1
    out = np.empty(count, np.int64)
    k = 0
    for cell in range(cell_nseg.size):
        for j in range(cell_nseg[cell]):
            seg = cell_segs[cell, j]
            unit = seg_unit[seg]
            for slot in range(seg_hi[seg]):
                pre = syn_pre[seg, slot]
                if pre >= 0 and syn_perm[seg, slot] >= connected:
                    out[k] = pre * n_units + unit
                    k += 1
    return np.sort(out)


def _network(n_columns, per_column, per_cell, threshold, seed):
    import neurosim as ns
    n_cells = n_columns * per_column
    net = ns.Network(dt=DT, seed=seed)
    cell = ns.NeuronModel(
        "dv/dt = ff*ramp : 1\ndep : 1\ninh : 1\nff : 1",
        threshold="(v > th_burst or (dep > 0.5 and v > th_pred)) and inh < 0.5",
        reset=f"v = {_SILENCED}", parameters=dict(ramp=RAMP, th_pred=PREDICTED_THRESHOLD, th_burst=BURST_THRESHOLD),
        receptors={"dendrite": "dep += weight", "inhibitory": "inh += weight"}, name="HTMCell")
    counter = ns.NeuronModel("dn/dt = 0 : 1", threshold="n > theta - 0.5", reset=f"n = {_SILENCED}",
                             parameters=dict(theta=1.0), receptors={"excitatory": "n += weight"},
                             name="CoincidenceDetector")
    cells = net.add(ns.Population(n_cells, cell, label="cells"))
    n_units = n_cells * per_cell
    # one population of counters: the segment units, then one inhibition unit per column
    units = net.add(ns.Population(n_units + n_columns, counter, label="units"))
    units.set(theta=np.r_[np.full(n_units, float(threshold)), np.ones(n_columns)])
    segments, inhibition = units[:n_units], units[n_units:]
    for pop in (cells, units):
        pop.record("spikes")
    ids = np.arange(n_cells)
    unit_ids = np.arange(n_units)
    one = ns.StaticSynapse(weight=1.0, delay=DT)
    net.add(ns.Projection(cells, segments, ns.AllToAllConnector(),
                          ns.StaticSynapse(weight=0.0, delay=CELL_TO_SEGMENT_DELAY),
                          receptor_type="excitatory", label="distal"))
    net.add(ns.Projection(segments, cells, ns.FromListConnector(np.c_[unit_ids, unit_ids // per_cell]), one,
                          receptor_type="dendrite", label="depolarise"))
    net.add(ns.Projection(cells, inhibition, ns.FromListConnector(np.c_[ids, ids // per_column]), one,
                          receptor_type="excitatory", label="to_inhibition"))
    net.add(ns.Projection(inhibition, cells, ns.FromListConnector(np.c_[ids // per_column, ids]), one,
                          receptor_type="inhibitory", label="column_inhibition"))
    return net


class SpikingTemporalMemory:
    """Temporal memory whose activation runs as spiking neurons (see the module docstring).

    Parameters are the reference :class:`TemporalMemory`'s (htm.core names); the segment pool
    is ``cellsPerColumn x maxSegmentsPerCell`` units per column, so keep ``maxSegmentsPerCell``
    small (default 4).  ``threads``: numba threads of the simulation."""

    def __init__(self, columns=256, cellsPerColumn=4, maxSegmentsPerCell=4, threads=1, **params):
        import neurosim as ns
        self.tm = TemporalMemory(columns=columns, cellsPerColumn=cellsPerColumn,
                                 maxSegmentsPerCell=maxSegmentsPerCell, **params)
        tm = self.tm
        self.columns, self.cellsPerColumn = tm.columns, tm.cellsPerColumn
        self.numberOfCells = tm.numberOfCells
        self.maxSegmentsPerCell = tm.maxSegmentsPerCell
        self.n_units = self.numberOfCells * self.maxSegmentsPerCell
        self.network = _network(self.columns, self.cellsPerColumn, self.maxSegmentsPerCell,
                                tm.activationThreshold, tm.seed)
        self.sim = ns.compile(self.network, backend="numba", threads=threads, quiet=True)
        self._pairs = np.zeros(0, np.int64)       # connected synapses now in the network
        built = self.sim.built
        proj = built.projections[built.projection_index("distal")]
        flat = proj.pre_local * self.n_units + proj.post_local       # connection order
        # None: the connections are in row-major (cell, unit) order already, no gather needed
        self._flat_order = None if np.array_equal(flat, np.arange(flat.size)) else flat
        self._unit_seg = np.full(self.n_units, -1, np.int64)       # unit -> segment id
        self._seg_unit = np.full(len(self.tm._seg_cell), -1, np.int64)   # segment id -> unit
        self.mismatches = 0            # steps where spikes and bookkeeping disagreed
        self.weight_updates = 0
        self.steps = 0
        self.anomaly = 0.0
        self._active_cells = np.zeros(0, np.int64)
        self._active_segments = np.zeros(0, np.int64)

    # ----------------------------------------------------------------- spiking window
    def _window(self, column_mask):
        """Run one window with the given active-column mask; return (active cells, predicted
        active cells, spiking segment units) read from the spikes of this window."""
        sim = self.sim
        ff = np.repeat(column_mask.astype(float), self.cellsPerColumn)
        sim.set("cells", v=0.0, dep=0.0, inh=0.0, ff=ff)
        sim.set("units", n=0.0)
        results = sim.run(WINDOW)
        times, cells = results.spikes("cells", segment=-1)
        _, units = results.spikes("units", segment=-1)
        units = units[units < self.n_units]
        early = times - (sim.t - WINDOW) < BURST_THRESHOLD / RAMP      # fired before the burst time
        self.steps += 1
        return np.unique(cells), np.unique(cells[early]), np.unique(units)

    def _sync_weights(self):
        """Write the reference's connected synapses into the cells -> segments weights (one
        ``set_weights`` call, only when the set of connected synapses changed)."""
        tm = self.tm
        if len(self._seg_unit) < len(tm._seg_cell):     # the reference grew its segment store
            self._seg_unit = np.r_[self._seg_unit, np.full(len(tm._seg_cell) - len(self._seg_unit), -1)]
        pairs = _connected_pairs(tm._cell_nseg, tm._cell_segs, tm._seg_hi, tm._syn_pre, tm._syn_perm,
                                 np.float32(tm.connectedPermanence), self.maxSegmentsPerCell, self._unit_seg,
                                 self._seg_unit)
        if not np.array_equal(pairs, self._pairs):
            weights = np.zeros(self.numberOfCells * self.n_units)
            weights[pairs] = 1.0
            if self._flat_order is not None:
                weights = weights[self._flat_order]
            self.sim.set_weights("distal", weights)       # one value per connection
            self._pairs = pairs
            self.weight_updates += 1

    # ----------------------------------------------------------------- HTM step
    def compute(self, activeColumns, learn=True):
        """One HTM time step on the active column indices; returns the active cells (read
        from the spikes)."""
        tm = self.tm
        cols = np.unique(np.asarray(activeColumns, dtype=np.int64))
        if cols.size and (cols[0] < 0 or cols[-1] >= self.columns):
            raise ValueError("active column index out of range")
        mask = np.zeros(self.columns, bool)
        mask[cols] = True
        active_cells, early_cells, units = self._window(mask)
        segs = self._unit_seg[units]
        if np.any(segs < 0):
            raise RuntimeError("an empty segment unit fired")
        self._active_segments = np.sort(segs)
        predicted = np.unique(early_cells // self.cellsPerColumn)      # columns that did not burst
        self.anomaly = (cols.size - predicted.size) / cols.size if cols.size else 0.0
        # the spiking active segments replace the reference's before it learns
        touched = tm._touched[:tm._n_touched]
        spiking_segs = self._active_segments.astype(np.int32)
        same_segments = np.array_equal(np.sort(tm._active_segs), spiking_segs)
        tm._seg_conn[touched] = 0
        tm._seg_conn[spiking_segs] = tm.activationThreshold
        extra = np.setdiff1d(spiking_segs, touched)
        if extra.size:
            tm._touched[tm._n_touched:tm._n_touched + extra.size] = extra
            tm._n_touched += extra.size
        tm._active_segs = spiking_segs
        reference_cells = tm.compute(cols, learn=learn)
        spiking_cells = active_cells.astype(np.int32)
        if not (same_segments and np.array_equal(np.sort(reference_cells), spiking_cells)):
            self.mismatches += 1
            tm._active_cells = spiking_cells
            tm._active_segs, tm._matching_segs, tm._n_touched = _activate_dendrites(
                spiking_cells, tm.activationThreshold, tm.minThreshold, np.float32(tm.connectedPermanence),
                tm._state(), tm._seg_conn, tm._seg_pot, tm._touched, tm._n_touched)
        if learn:
            self._sync_weights()
        self._active_cells = active_cells
        return active_cells

    def reset(self):
        """Forget the context: one silent window flushes the spikes in flight, then the
        reference state is reset."""
        self._window(np.zeros(self.columns, bool))
        self.tm.reset()
        self._active_cells = np.zeros(0, np.int64)
        self._active_segments = np.zeros(0, np.int64)
        self.anomaly = 0.0

    # ----------------------------------------------------------------- read-outs
    def getActiveCells(self):
        return np.array(self._active_cells, dtype=np.int64)

    def getActiveSegmentsFromSpikes(self):
        """Reference segment ids of the segment units that fired in the last window."""
        return np.array(self._active_segments, dtype=np.int64)

    def getWinnerCells(self):
        return self.tm.getWinnerCells()

    def getPredictiveCells(self):
        return self.tm.getPredictiveCells()

    def getPredictiveColumns(self):
        return self.tm.getPredictiveColumns()

    def numSegments(self, cell=None):
        return self.tm.numSegments(cell)

    def numSynapses(self):
        return self.tm.numSynapses()
