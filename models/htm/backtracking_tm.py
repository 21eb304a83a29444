"""Backtracking temporal memory: the TM of NuPIC's NAB ``numenta`` detector (70.1 on NAB v1.1).

NAB's ``numenta`` detector runs NuPIC's OPF model with ``tmImplementation="cpp"``, i.e. the
*backtracking* TM (``BacktrackingTMCPP`` / nupic.core ``Cells4``), not the BAMI temporal memory
of :mod:`.temporal_memory` (that one is NAB's ``numentaTM`` detector, 64.6).  Written here from
the algorithm's description (no code copied):

* cell 0 of every column is a *start cell*; it never grows segments;
* inference: an active column activates its predicted cells, else it bursts; a segment counts
  its active synapses of any permanence; with >= ``activationThreshold`` it gives its column a
  (duty-cycle weighted) *confidence*, and with >= ``activationThreshold`` *connected* active
  synapses it makes its cell predicted.  If fewer than half the active columns were predicted,
  or fewer columns are predicted than half the average input density, the TM *backtracks*:
  it replays the last ``maxInfBacktrack`` inputs starting from start cells at each earlier
  step and keeps the earliest start that stays in sequence up to now;
* learning keeps its own state with one learning cell per column: a column predicted by
  exactly one cell uses it; otherwise the best matching *sequence* segment (>= ``minThreshold``
  active synapses on the previous learning cells) is reinforced at once, or a new segment grows
  on a random non-start cell with room (if none has room, the column's segment with the lowest
  duty cycle is removed).  Predicted segments queue an update applied next step if their column
  turns active (+inc on synapses from active cells, -dec on the others, new synapses up to
  ``newSynapseCount``, at most ``maxSynapsesPerSegment``, weakest dropped; ``nupicFree`` (default)
  drops them as nupic.core's ``Cells4::adaptSegment`` does, by positions listed before the decayed
  synapses were removed, see :mod:`.backtracking_synapses`).  When the learning
  state has been out of sequence for ``pamLength`` steps (or ``maxSeqLength`` is reached) it
  backtracks over the last ``maxLrnBacktrack`` inputs, replaying (and learning) from the
  earliest start that reaches now, or restarts on start cells.

The raw anomaly (as NuPIC's TM region) is the fraction of active columns that had no column
confidence on the previous step.  Randomness: 64-bit xorshift seeded by ``seed``.  Sizes are
counts; permanences are dimensionless in [0, 1].

The state is a :class:`CellsState` of numpy arrays; the algorithm runs in the ``njit(cache=True)``
kernels of :mod:`.backtracking_kernels`, compiled once and then loaded from ``__pycache__``.
"""
from collections import namedtuple

import numpy as np

from . import backtracking_kernels as kernels

__all__ = ["BacktrackingTM", "NUPIC_CPP_TM_PARAMS", "CellsState"]

# NuPIC best_single_metric_anomaly_params_cpp.json "tpParams" (the NAB numenta detector) plus the
# BacktrackingTMCPP defaults it leaves alone
NUPIC_CPP_TM_PARAMS = dict(cellsPerColumn=32, activationThreshold=13, minThreshold=10, newSynapseCount=20,
                           initialPerm=0.21, connectedPerm=0.5, permanenceInc=0.1, permanenceDec=0.1,
                           maxSegmentsPerCell=128, maxSynapsesPerSegment=32, pamLength=3, maxInfBacktrack=10,
                           maxLrnBacktrack=5, maxSeqLength=32, seed=1960)

# parameters and counters, one record (``n_x``: the length of cell list ``x``)
SCALARS = np.dtype(
    [(name, np.int64) for name in (
        "ncols", "cpc", "S", "maxseg", "act_thr", "min_thr", "new_syn", "pam_len", "max_inf_bt", "max_lrn_bt",
        "max_seq_len", "maxsyn", "nupic_free",                            # parameters
        "cap", "hw", "nfree", "ntouched", "n_lrn", "pam", "seq_len", "n_upd", "n_src",
        "n_ia", "n_ip", "n_ip1", "n_ba", "n_bp", "n_ca", "n_cp", "n_la", "n_la1", "n_lp", "n_lp1",
        "n_ipat", "n_lpat", "n_overflow")]
    + [(name, np.float32) for name in ("init_perm", "conn", "inc", "dec", "pmax")]
    + [("avg_density", np.float64)])

# extra synapse slots per segment for NuPIC's segment update (``nupicFree``), which can leave a
# segment with more than maxSynapsesPerSegment synapses (see :mod:`.backtracking_synapses`)
SLACK = 32

# the segment pool: (field, dtype, fill, layout): "slots" a (segment, synapse slot) row per segment,
# "segments" one entry per segment, "synapses" one per synapse id (seg * S + slot)
_POOL = [("syn_pre", np.int32, -1, "slots"), ("syn_perm", np.float32, 0, "slots"), ("syn_lnk", np.uint8, 0, "slots"),
         ("seg_nsyn", np.int32, 0, "segments"), ("seg_cell", np.int32, -1, "segments"),
         ("seg_pos", np.int32, 0, "segments"), ("seg_seq", np.bool_, 0, "segments"),
         ("seg_posact", np.int64, 0, "segments"), ("seg_dcit", np.int64, 0, "segments"),
         ("seg_dc", np.float64, 0, "segments"), ("free_ids", np.int32, 0, "segments"),
         ("nxt", np.int32, -1, "synapses"), ("prv", np.int32, -1, "synapses")]
_SCRATCH = ("act_all", "act_con", "touched")     # per segment, not kept when the pool grows
_CELL_LISTS = ("ia", "ip", "ip1", "ba", "bp", "ca", "cp", "la", "la1", "lp", "lp1")


class CellsState(namedtuple("CellsState", kernels.STATE_FIELDS)):
    """The backtracking TM's arrays (see :mod:`.backtracking_kernels`); the fields of ``scalars``
    also read as attributes (``state.hw``)."""
    __slots__ = ()

    def __getattr__(self, name):
        if name in SCALARS.names:
            return self.scalars[0][name]
        raise AttributeError(name)


def new_state(ncols, cpc, act_thr, min_thr, new_syn, maxseg, maxsyn, init_perm, conn, inc, dec, pam_len,
              max_inf_bt, max_lrn_bt, max_seq_len, seed, cap, nupic_free=True):
    """A fresh TM state with room for ``cap`` segments (``S`` slots per segment: ``maxsyn``, plus
    room for the synapses NuPIC's segment update can leave over ``maxsyn`` with ``nupic_free``)."""
    sc = np.zeros(1, SCALARS)
    slots = maxsyn + (SLACK if nupic_free else 0)
    for name, value in dict(ncols=ncols, cpc=cpc, S=slots, maxsyn=maxsyn, nupic_free=int(bool(nupic_free)),
                            maxseg=maxseg, act_thr=act_thr, min_thr=min_thr,
                            new_syn=new_syn, pam_len=pam_len, max_inf_bt=max_inf_bt, max_lrn_bt=max_lrn_bt,
                            max_seq_len=max_seq_len, pam=pam_len, init_perm=init_perm, conn=conn, inc=inc,
                            dec=dec, pmax=1.0).items():
        sc[0][name] = value
    n, i32 = ncols * cpc, np.int32
    pool = {name: np.full((0, slots) if layout == "slots" else 0, fill, dtype)
            for name, dtype, fill, layout in _POOL}
    state = CellsState(
        scalars=sc, rng=np.array([(int(seed) * 2654435761 + 88172645463325252) % 2 ** 64], np.uint64), **pool,
        **{name: np.zeros(0, i32) for name in _SCRATCH},
        cell_segs=np.full((n, maxseg), -1, i32), cell_nseg=np.zeros(n, i32), head=np.full(n, -1, i32),
        ghead=np.full(n, -1, i32), scr=np.zeros((6, slots), i32), scrf=np.zeros((2, slots), np.float32),
        mask=np.zeros(n, np.uint8), mask2=np.zeros(n, np.uint8), cmask=np.zeros(ncols, np.uint8),
        best_act=np.zeros(ncols, i32), best_cell=np.zeros(ncols, i32), best_pos=np.zeros(ncols, i32),
        best_seg=np.zeros(ncols, i32), **{name: np.zeros(n, i32) for name in _CELL_LISTS},
        conf=np.zeros(ncols, np.uint8), cconf=np.zeros(ncols, np.uint8),
        ipat=np.zeros((max_inf_bt + 2, ncols), i32), ipat_n=np.zeros(max_inf_bt + 2, i32),
        lpat=np.zeros((max_lrn_bt + 2, ncols), i32), lpat_n=np.zeros(max_lrn_bt + 2, i32),
        upd_cell=np.zeros(ncols, i32), upd_seg=np.zeros(ncols, i32), upd_ts=np.zeros(ncols, np.int64),
        upd_n=np.zeros(ncols, i32), upd_src=np.zeros((ncols, slots), i32), src=np.zeros(slots, i32),
        cand=np.zeros(n, i32))
    return grow(state, cap)


def grow(state, cap):
    """``state`` with the segment pool enlarged to ``cap`` segments (existing ids keep their data)."""
    sc = state.scalars[0]
    S = int(sc["S"])
    shapes = {"slots": (cap, S), "segments": cap, "synapses": cap * S}
    new = {}
    for name, dtype, fill, layout in _POOL:
        old = getattr(state, name)
        new[name] = np.full(shapes[layout], fill, dtype)
        new[name][:len(old)] = old
    new.update({name: np.zeros(cap, np.int32) for name in _SCRATCH})
    sc["ntouched"], sc["cap"] = 0, cap
    return state._replace(**new)


class BacktrackingTM:
    """NuPIC's backtracking temporal memory (``BacktrackingTMCPP``) with NAB's parameters by
    default; ``compute(active_columns, learn)`` sets ``anomaly`` (raw anomaly score)."""

    def __init__(self, columns=2048, cellsPerColumn=32, activationThreshold=13, minThreshold=10,
                 newSynapseCount=20, initialPerm=0.21, connectedPerm=0.5, permanenceInc=0.1,
                 permanenceDec=0.1, maxSegmentsPerCell=128, maxSynapsesPerSegment=32, pamLength=3,
                 maxInfBacktrack=10, maxLrnBacktrack=5, maxSeqLength=32, seed=1960, capacity=20000,
                 nupicFree=True):
        self.numColumns, self.cellsPerColumn = int(columns), int(cellsPerColumn)
        self._c = new_state(self.numColumns, self.cellsPerColumn, activationThreshold, minThreshold,
                            newSynapseCount, maxSegmentsPerCell, maxSynapsesPerSegment, np.float32(initialPerm),
                            np.float32(connectedPerm), np.float32(permanenceInc), np.float32(permanenceDec),
                            pamLength, maxInfBacktrack, maxLrnBacktrack, maxSeqLength, seed, int(capacity),
                            bool(nupicFree))
        self.anomaly = 0.0

    def compute(self, activeColumns, learn=True):
        cols = np.unique(np.asarray(activeColumns, dtype=np.int32))
        c = self._c
        if c.cap - c.hw + c.nfree < 8 * c.ncols:       # room for a step's new segments
            self._c = c = grow(c, 2 * int(c.cap))
        self.anomaly = float(kernels.compute(c, cols, bool(learn)))
        return self.anomaly

    def getActiveCells(self):
        return np.sort(self._c.ia[:self._c.n_ia].copy())

    def getPredictiveCells(self):
        return np.sort(self._c.ip[:self._c.n_ip].copy())

    def getPredictedColumns(self):
        """Columns with confidence (the columns the raw anomaly of the next step counts as predicted)."""
        return np.flatnonzero(self._c.conf)

    def numSegments(self):
        return int((self._c.seg_cell[:self._c.hw] >= 0).sum())

    def numSynapses(self):
        return int(self._c.seg_nsyn[:self._c.hw].sum())
