"""Reference (non-spiking) HTM temporal memory: the published algorithm, compiled with numba.

Hawkins & Ahmad 2016 (Front. Neural Circuits 10:23), as implemented by htm.core
(``src/htm/algorithms/TemporalMemory.cpp``, ``Connections.cpp``); parameter names and defaults
are htm.core's.  One :meth:`TemporalMemory.compute` step:

1. *activate cells*: an active column that contains predicted cells (cells with an active
   segment) activates only those, and they become winner cells; an active column without any
   **bursts**: all its cells fire and the winner is the cell of the best matching segment, else a
   previous winner cell in the column, else a least-used cell (random among ties);
2. *learn* (``learn=True``): reinforce the correctly active segments and the best matching
   segment of bursting columns (+``permanenceIncrement`` on synapses from previously active
   cells, -``permanenceDecrement`` on the others; synapses reaching 0 are removed and a segment
   left with fewer than ``minThreshold`` synapses is destroyed), then grow up to
   ``maxNewSynapseCount`` - (active potential synapses) synapses to previous winner cells; a
   bursting column without a matching segment grows a new segment on its winner cell (a cell
   with ``maxSegmentsPerCell`` segments first loses its least useful one, lowest sum of squared
   permanences); matching segments in inactive columns are punished by
   ``predictedSegmentDecrement``;
3. *activate dendrites*: a segment is **active** when at least ``activationThreshold`` of its
   connected synapses (permanence >= ``connectedPermanence``) come from active cells and
   **matching** when at least ``minThreshold`` of all its synapses do; cells with an active
   segment are predicted for the next step.

The raw anomaly score is the fraction of active columns that held no predicted cell.
Randomness (growth, least-used cells) comes from a 64-bit xorshift generator seeded by ``seed``,
so a run is reproducible.  Deliberate differences from htm.core: growth only considers previous
winner cells not already on the segment, and a least-used cell is drawn at random among the
cells with fewest segments (both as in the BAMI pseudocode and NuPIC; htm.core takes the
lowest-index one).
"""
import numpy as np
from numba import njit

__all__ = ["TemporalMemory", "raw_anomaly_score"]

_EPS = 1e-6
# integer / float parameter slots passed to the kernels
_CPC, _ACT, _MINT, _MAXNEW, _MAXSEG, _MAXSYN = range(6)
_INIT, _CONN, _INC, _DEC, _PSD = range(5)
# counters: number of free segment ids, high-water mark, stamp
_NFREE, _HW, _STAMP = range(3)


def raw_anomaly_score(active_columns, predicted_columns):
    """1 - |active & predicted| / |active|; 0 when no column is active."""
    active = np.unique(np.asarray(active_columns))
    if active.size == 0:
        return 0.0
    both = np.intersect1d(active, np.asarray(predicted_columns)).size
    return float(active.size - both) / active.size


@njit(cache=True)
def _rand_below(rng, n):
    x = rng[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    rng[0] = x
    return np.int64((x * np.uint64(2685821657736338717)) >> np.uint64(11)) % n


# Synapses live in fixed slots (segment, slot) so that their id = segment * S + slot stays
# valid; an empty slot has presynaptic cell -1.  Every presynaptic cell heads a doubly linked
# list of the synapses it makes (head / nxt / prv), so the dendritic activity of a step costs
# only the synapses of the active cells.
@njit(cache=True)
def _add_synapse(seg, pre, perm, seg_nsyn, seg_hi, syn_pre, syn_perm, head, nxt, prv):
    S = syn_pre.shape[1]
    slot = 0
    while slot < seg_hi[seg] and syn_pre[seg, slot] >= 0:
        slot += 1
    if slot == seg_hi[seg]:
        seg_hi[seg] += 1
    syn_pre[seg, slot] = pre
    syn_perm[seg, slot] = perm
    sid = seg * S + slot
    first = head[pre]
    nxt[sid] = first
    prv[sid] = -1
    if first >= 0:
        prv[first] = sid
    head[pre] = sid
    seg_nsyn[seg] += 1


@njit(cache=True)
def _remove_synapse(seg, slot, seg_nsyn, seg_hi, syn_pre, head, nxt, prv):
    S = syn_pre.shape[1]
    sid = seg * S + slot
    pre = syn_pre[seg, slot]
    if prv[sid] >= 0:
        nxt[prv[sid]] = nxt[sid]
    else:
        head[pre] = nxt[sid]
    if nxt[sid] >= 0:
        prv[nxt[sid]] = prv[sid]
    syn_pre[seg, slot] = -1
    seg_nsyn[seg] -= 1
    while seg_hi[seg] > 0 and syn_pre[seg, seg_hi[seg] - 1] < 0:
        seg_hi[seg] -= 1


@njit(cache=True)
def _destroy_segment(seg, st, cell_nseg, cell_segs, free, cnt):
    seg_cell, seg_nsyn, seg_hi, syn_pre, syn_perm, head, nxt, prv = st
    for slot in range(seg_hi[seg] - 1, -1, -1):
        if syn_pre[seg, slot] >= 0:
            _remove_synapse(seg, slot, seg_nsyn, seg_hi, syn_pre, head, nxt, prv)
    cell = seg_cell[seg]
    k = cell_nseg[cell]
    j = 0
    while cell_segs[cell, j] != seg:
        j += 1
    for m in range(j, k - 1):
        cell_segs[cell, m] = cell_segs[cell, m + 1]
    cell_nseg[cell] = k - 1
    seg_cell[seg] = -1
    free[cnt[_NFREE]] = seg
    cnt[_NFREE] += 1


@njit(cache=True)
def _adapt(seg, prev_dense, inc, dec, min_syn, st, cell_nseg, cell_segs, free, cnt):
    """Adapt a segment; return False when it was destroyed for having < min_syn synapses."""
    seg_cell, seg_nsyn, seg_hi, syn_pre, syn_perm, head, nxt, prv = st
    for slot in range(seg_hi[seg]):
        pre = syn_pre[seg, slot]
        if pre < 0:
            continue
        p = syn_perm[seg, slot] + (inc if prev_dense[pre] else -dec)
        if p < _EPS:
            _remove_synapse(seg, slot, seg_nsyn, seg_hi, syn_pre, head, nxt, prv)
        else:
            syn_perm[seg, slot] = min(p, 1.0)
    if seg_nsyn[seg] < min_syn:
        _destroy_segment(seg, st, cell_nseg, cell_segs, free, cnt)
        return False
    return True


@njit(cache=True)
def _grow(seg, prev_winners, n_desired, initial, max_syn, st, mark_a, mark_b, cand, cnt, rng):
    seg_cell, seg_nsyn, seg_hi, syn_pre, syn_perm, head, nxt, prv = st
    cnt[_STAMP] += 1
    stamp = cnt[_STAMP]
    for slot in range(seg_hi[seg]):
        if syn_pre[seg, slot] >= 0:
            mark_a[syn_pre[seg, slot]] = stamp
    ncand = 0
    for c in prev_winners:
        mark_b[c] = stamp
        if mark_a[c] != stamp:
            cand[ncand] = c
            ncand += 1
    n_new = min(n_desired, ncand)
    overrun = seg_nsyn[seg] + n_new - max_syn
    while overrun > 0:          # remove the weakest synapses not onto previous winner cells
        best = -1
        for slot in range(seg_hi[seg]):
            pre = syn_pre[seg, slot]
            if pre >= 0 and mark_b[pre] != stamp and (best < 0 or syn_perm[seg, slot] < syn_perm[seg, best]):
                best = slot
        if best < 0:
            break
        _remove_synapse(seg, best, seg_nsyn, seg_hi, syn_pre, head, nxt, prv)
        overrun -= 1
    n_new = min(n_new, max_syn - seg_nsyn[seg])
    for i in range(n_new):      # partial Fisher-Yates draw of n_new candidates
        j = i + _rand_below(rng, ncand - i)
        c = cand[j]
        cand[j] = cand[i]
        cand[i] = c
        _add_synapse(seg, c, initial, seg_nsyn, seg_hi, syn_pre, syn_perm, head, nxt, prv)


@njit(cache=True)
def _create_segment(cell, max_seg, st, seg_conn, seg_pot, cell_nseg, cell_segs, free, cnt):
    seg_cell, seg_nsyn, seg_hi, syn_pre, syn_perm, head, nxt, prv = st
    while cell_nseg[cell] >= max_seg:   # drop the least useful segment (sum of perm^2)
        worst, worst_h = -1, 1e30
        for j in range(cell_nseg[cell]):
            s = cell_segs[cell, j]
            h = 0.0
            for slot in range(seg_hi[s]):
                if syn_pre[s, slot] >= 0:
                    h += syn_perm[s, slot] * syn_perm[s, slot]
            if h < worst_h or (h == worst_h and s < worst):
                worst, worst_h = s, h
        _destroy_segment(worst, st, cell_nseg, cell_segs, free, cnt)
    if cnt[_NFREE] > 0:
        cnt[_NFREE] -= 1
        seg = free[cnt[_NFREE]]
    else:
        seg = cnt[_HW]
        cnt[_HW] += 1
    seg_cell[seg] = cell
    seg_nsyn[seg] = 0
    seg_hi[seg] = 0
    seg_conn[seg] = 0
    seg_pot[seg] = 0
    cell_segs[cell, cell_nseg[cell]] = seg
    cell_nseg[cell] += 1
    return seg


@njit(cache=True)
def _activate_cells(active_cols, col_active, learn, prev_active, prev_winners, ip, fp, st,
                    seg_conn, seg_pot, cell_nseg, cell_segs, free, cnt, rng, matching,
                    prev_dense, mark_a, mark_b, cand):
    seg_cell = st[0]
    cpc, act_thr, min_thr = ip[_CPC], ip[_ACT], ip[_MINT]
    max_new, max_seg, max_syn = ip[_MAXNEW], ip[_MAXSEG], ip[_MAXSYN]
    initial, inc, dec, psd = fp[_INIT], fp[_INC], fp[_DEC], fp[_PSD]
    out_active = np.empty(active_cols.size * cpc, np.int32)
    out_winner = np.empty(active_cols.size * cpc, np.int32)
    na, nw = 0, 0
    for c in prev_active:
        prev_dense[c] = True
    segbuf = np.empty(cpc * max_seg, np.int32)
    for col in active_cols:
        first = col * cpc
        nact = 0
        for cell in range(first, first + cpc):      # active segments of the column
            for j in range(cell_nseg[cell]):
                s = cell_segs[cell, j]
                if seg_conn[s] >= act_thr:
                    segbuf[nact] = s
                    nact += 1
        if nact > 0:                                # predicted column
            last = -1
            for k in range(nact):
                s = segbuf[k]
                cell = seg_cell[s]
                if cell != last:
                    out_active[na] = cell
                    na += 1
                    out_winner[nw] = cell
                    nw += 1
                    last = cell
                if learn:
                    pot = seg_pot[s]
                    if _adapt(s, prev_dense, inc, dec, min_thr, st, cell_nseg, cell_segs, free,
                              cnt) and max_new - pot > 0:
                        _grow(s, prev_winners, max_new - pot, initial, max_syn, st, mark_a,
                              mark_b, cand, cnt, rng)
            continue
        for cell in range(first, first + cpc):      # burst
            out_active[na] = cell
            na += 1
        best, best_pot = -1, -1
        for cell in range(first, first + cpc):
            for j in range(cell_nseg[cell]):
                s = cell_segs[cell, j]
                if seg_pot[s] >= min_thr and seg_pot[s] > best_pot:
                    best, best_pot = s, seg_pot[s]
        if best >= 0:
            winner = seg_cell[best]
        else:
            winner = -1
            for c in prev_winners:
                if c // cpc == col:
                    winner = c
                    break
            if winner < 0:                          # least used cell, random among ties
                fewest, nties = 1 << 30, 0
                for cell in range(first, first + cpc):
                    if cell_nseg[cell] < fewest:
                        fewest, nties = cell_nseg[cell], 1
                    elif cell_nseg[cell] == fewest:
                        nties += 1
                pick = _rand_below(rng, nties)
                for cell in range(first, first + cpc):
                    if cell_nseg[cell] == fewest:
                        if pick == 0:
                            winner = cell
                            break
                        pick -= 1
        out_winner[nw] = winner
        nw += 1
        if learn:
            if best >= 0:
                if _adapt(best, prev_dense, inc, dec, min_thr, st, cell_nseg, cell_segs, free,
                          cnt) and max_new - best_pot > 0:
                    _grow(best, prev_winners, max_new - best_pot, initial, max_syn, st, mark_a,
                          mark_b, cand, cnt, rng)
            else:
                n_exact = min(max_new, prev_winners.size)
                if n_exact > 0:
                    s = _create_segment(winner, max_seg, st, seg_conn, seg_pot, cell_nseg,
                                        cell_segs, free, cnt)
                    _grow(s, prev_winners, n_exact, initial, max_syn, st, mark_a, mark_b, cand,
                          cnt, rng)
    if learn and psd > 0.0:                         # punish matching segments of inactive columns
        for s in matching:
            if seg_cell[s] >= 0 and not col_active[seg_cell[s] // cpc]:
                _adapt(s, prev_dense, -psd, 0.0, min_thr, st, cell_nseg, cell_segs, free, cnt)
    for c in prev_active:
        prev_dense[c] = False
    return out_active[:na], np.sort(out_winner[:nw])


@njit(cache=True)
def _activate_dendrites(active_cells, act_thr, min_thr, connected, st, seg_conn, seg_pot,
                        touched, n_touched):
    """Count active connected / potential synapses of every segment reached by an active cell;
    return the active and matching segments and the number of segments touched."""
    syn_perm, head, nxt = st[4], st[5], st[6]
    S = syn_perm.shape[1]
    for k in range(n_touched):                      # clear the previous step's counts
        seg_conn[touched[k]] = 0
        seg_pot[touched[k]] = 0
    nt = 0
    for cell in active_cells:
        sid = head[cell]
        while sid >= 0:
            seg = sid // S
            if seg_pot[seg] == 0:
                touched[nt] = seg
                nt += 1
            seg_pot[seg] += 1
            if syn_perm[seg, sid - seg * S] >= connected:
                seg_conn[seg] += 1
            sid = nxt[sid]
    active = np.empty(nt, np.int32)
    matching = np.empty(nt, np.int32)
    na, nm = 0, 0
    for k in range(nt):
        s = touched[k]
        if seg_conn[s] >= act_thr:
            active[na] = s
            na += 1
        if seg_pot[s] >= min_thr:
            matching[nm] = s
            nm += 1
    return np.sort(active[:na]), np.sort(matching[:nm]), nt


class TemporalMemory:
    """HTM temporal memory (see the module docstring); ``columns`` is the number of minicolumns
    (``columnDimensions`` is accepted as an alias, flattened)."""

    def __init__(self, columns=2048, cellsPerColumn=32, activationThreshold=13,
                 initialPermanence=0.21, connectedPermanence=0.50, minThreshold=10,
                 maxNewSynapseCount=20, permanenceIncrement=0.10, permanenceDecrement=0.10,
                 predictedSegmentDecrement=0.0, seed=42, maxSegmentsPerCell=255,
                 maxSynapsesPerSegment=255, columnDimensions=None):
        if columnDimensions is not None:
            columns = int(np.prod(columnDimensions))
        if columns <= 0 or cellsPerColumn <= 0:
            raise ValueError("columns and cellsPerColumn must be positive")
        if minThreshold < 0 or activationThreshold <= 0:
            raise ValueError("thresholds must be positive")
        if maxNewSynapseCount > maxSynapsesPerSegment:
            raise ValueError("maxNewSynapseCount exceeds maxSynapsesPerSegment")
        self.columns, self.cellsPerColumn = int(columns), int(cellsPerColumn)
        self.activationThreshold, self.minThreshold = int(activationThreshold), int(minThreshold)
        self.initialPermanence, self.connectedPermanence = float(initialPermanence), float(connectedPermanence)
        self.maxNewSynapseCount = int(maxNewSynapseCount)
        self.permanenceIncrement, self.permanenceDecrement = float(permanenceIncrement), float(permanenceDecrement)
        self.predictedSegmentDecrement = float(predictedSegmentDecrement)
        self.maxSegmentsPerCell, self.maxSynapsesPerSegment = int(maxSegmentsPerCell), int(maxSynapsesPerSegment)
        self.seed = int(seed)
        self.numberOfCells = self.columns * self.cellsPerColumn
        self._ip = np.array([self.cellsPerColumn, self.activationThreshold, self.minThreshold,
                             self.maxNewSynapseCount, self.maxSegmentsPerCell,
                             self.maxSynapsesPerSegment], dtype=np.int64)
        self._fp = np.array([self.initialPermanence, self.connectedPermanence, self.permanenceIncrement,
                             self.permanenceDecrement, self.predictedSegmentDecrement], dtype=np.float64)
        n = self.numberOfCells
        self._rng = np.array([(self.seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) % 2**64 or 1],
                             dtype=np.uint64)
        self._cell_nseg = np.zeros(n, np.int32)
        self._cell_segs = np.zeros((n, self.maxSegmentsPerCell), np.int32)
        self._cnt = np.zeros(3, np.int64)
        self._mark_a = np.zeros(n, np.int64)
        self._mark_b = np.zeros(n, np.int64)
        self._prev_dense = np.zeros(n, np.bool_)
        self._cand = np.zeros(n, np.int32)
        self._alloc(max(1024, 2 * self.columns))
        self.reset()

    def _alloc(self, cap):
        old = getattr(self, "_seg_cell", None)
        S = self.maxSynapsesPerSegment
        grow = [("_seg_cell", np.full(cap, -1, np.int32)), ("_seg_nsyn", np.zeros(cap, np.int32)),
                ("_seg_hi", np.zeros(cap, np.int32)), ("_syn_pre", np.full((cap, S), -1, np.int32)),
                ("_syn_perm", np.zeros((cap, S), np.float32)), ("_nxt", np.full(cap * S, -1, np.int32)),
                ("_prv", np.full(cap * S, -1, np.int32)), ("_seg_conn", np.zeros(cap, np.int32)),
                ("_seg_pot", np.zeros(cap, np.int32)), ("_free", np.zeros(cap, np.int32)),
                ("_touched", np.zeros(cap, np.int32))]
        for name, arr in grow:
            if old is not None:
                prev = getattr(self, name)
                arr[:len(prev)] = prev
            setattr(self, name, arr)
        if old is None:
            self._head = np.full(self.numberOfCells, -1, np.int32)

    def _state(self):
        return (self._seg_cell, self._seg_nsyn, self._seg_hi, self._syn_pre, self._syn_perm,
                self._head, self._nxt, self._prv)

    def reset(self):
        """Forget the current context: no active, winner or predicted cells."""
        self._active_cells = np.zeros(0, np.int32)
        self._winner_cells = np.zeros(0, np.int32)
        self._active_segs = np.zeros(0, np.int32)
        self._matching_segs = np.zeros(0, np.int32)
        self._seg_conn[:] = 0
        self._seg_pot[:] = 0
        self._n_touched = 0
        self.anomaly = 0.0

    def compute(self, activeColumns, learn=True):
        """One time step on the active column indices; returns the active cells."""
        cols = np.unique(np.asarray(activeColumns, dtype=np.int64)).astype(np.int32)
        if cols.size and (cols[0] < 0 or cols[-1] >= self.columns):
            raise ValueError("active column index out of range")
        col_active = np.zeros(self.columns, np.bool_)
        col_active[cols] = True
        predicted = self._seg_cell[self._active_segs] // self.cellsPerColumn
        hits = np.unique(predicted[col_active[predicted]]).size
        self.anomaly = (cols.size - hits) / cols.size if cols.size else 0.0
        self.predicted_active_columns = hits
        if self._cnt[_NFREE] + len(self._seg_cell) - self._cnt[_HW] < cols.size + 1:
            self._alloc(2 * len(self._seg_cell) + cols.size)
        st = self._state()
        self._active_cells, self._winner_cells = _activate_cells(
            cols, col_active, bool(learn), self._active_cells, self._winner_cells, self._ip, self._fp,
            st, self._seg_conn, self._seg_pot, self._cell_nseg, self._cell_segs, self._free,
            self._cnt, self._rng, self._matching_segs, self._prev_dense, self._mark_a,
            self._mark_b, self._cand)
        self._active_segs, self._matching_segs, self._n_touched = _activate_dendrites(
            self._active_cells, self.activationThreshold, self.minThreshold,
            np.float32(self.connectedPermanence), st, self._seg_conn, self._seg_pot,
            self._touched, self._n_touched)
        return self._active_cells

    # ----------------------------------------------------------------- read-outs
    def getActiveCells(self):
        return np.array(self._active_cells, dtype=np.int64)

    def getWinnerCells(self):
        return np.array(self._winner_cells, dtype=np.int64)

    def getPredictiveCells(self):
        """Cells depolarised for the next step (they have an active segment)."""
        return np.unique(self._seg_cell[self._active_segs]).astype(np.int64)

    def getPredictiveColumns(self):
        return np.unique(self._seg_cell[self._active_segs] // self.cellsPerColumn).astype(np.int64)

    def getActiveSegments(self):
        return np.array(self._active_segs, dtype=np.int64)

    def getMatchingSegments(self):
        return np.array(self._matching_segs, dtype=np.int64)

    def columnForCell(self, cell):
        return int(cell) // self.cellsPerColumn

    def cellsForColumn(self, column):
        return np.arange(column * self.cellsPerColumn, (column + 1) * self.cellsPerColumn)

    def numSegments(self, cell=None):
        if cell is not None:
            return int(self._cell_nseg[cell])
        return int(np.count_nonzero(self._seg_cell[:self._cnt[_HW]] >= 0))

    def numSynapses(self):
        return int(self._seg_nsyn[:self._cnt[_HW]].sum())

    def segments(self):
        """All live segments as ``(cells, presynaptic, permanence)``: ``cells[k]`` owns segment k,
        whose synapses are ``presynaptic[k]`` (int array) with permanences ``permanence[k]`` —
        the learned connectivity, for export to the spiking model."""
        live = np.flatnonzero(self._seg_cell[:self._cnt[_HW]] >= 0)
        pre, perm = [], []
        for s in live:
            used = self._syn_pre[s, :self._seg_hi[s]] >= 0
            pre.append(self._syn_pre[s, :self._seg_hi[s]][used].astype(np.int64))
            perm.append(self._syn_perm[s, :self._seg_hi[s]][used].astype(np.float64))
        return self._seg_cell[live].astype(np.int64), pre, perm
