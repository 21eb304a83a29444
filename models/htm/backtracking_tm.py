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
  ``newSynapseCount``, at most ``maxSynapsesPerSegment``, weakest dropped).  When the learning
  state has been out of sequence for ``pamLength`` steps (or ``maxSeqLength`` is reached) it
  backtracks over the last ``maxLrnBacktrack`` inputs, replaying (and learning) from the
  earliest start that reaches now, or restarts on start cells.

The raw anomaly (as NuPIC's TM region) is the fraction of active columns that had no column
confidence on the previous step.  Randomness: 64-bit xorshift seeded by ``seed``.  Sizes are
counts; permanences are dimensionless in [0, 1].
"""
import numpy as np
from numba import float32, float64, int32, int64, uint8, uint64, boolean
from numba.experimental import jitclass

__all__ = ["BacktrackingTM", "NUPIC_CPP_TM_PARAMS"]

# NuPIC best_single_metric_anomaly_params_cpp.json "tpParams" (the NAB numenta detector) plus the
# BacktrackingTMCPP defaults it leaves alone
NUPIC_CPP_TM_PARAMS = dict(cellsPerColumn=32, activationThreshold=13, minThreshold=10, newSynapseCount=20,
                           initialPerm=0.21, connectedPerm=0.5, permanenceInc=0.1, permanenceDec=0.1,
                           maxSegmentsPerCell=128, maxSynapsesPerSegment=32, pamLength=3, maxInfBacktrack=10,
                           maxLrnBacktrack=5, maxSeqLength=32, seed=1960)

_TIERS = np.array([0, 100, 320, 1000, 3200, 10000, 32000, 100000, 320000], dtype=np.int64)
_ALPHAS = np.array([0.0, 0.0032, 0.0010, 0.00032, 0.00010, 0.000032, 0.000010, 0.0000032, 0.0000010])

_spec = [(name, int64) for name in (
    "ncols", "cpc", "ncells", "S", "maxseg", "act_thr", "min_thr", "new_syn", "pam_len", "max_inf_bt",
    "max_lrn_bt", "max_seq_len", "cap", "hw", "nfree", "ntouched", "n_lrn", "pam", "seq_len", "n_upd",
    "n_ia", "n_ip", "n_ip1", "n_ba", "n_bp", "n_ca", "n_cp", "n_la", "n_la1", "n_lp", "n_lp1",
    "n_ipat", "n_lpat", "n_conf")]
_spec += [("init_perm", float32), ("conn", float32), ("inc", float32), ("dec", float32), ("pmax", float32),
          ("avg_density", float64), ("rng", uint64[:]), ("tiers", int64[:]), ("alphas", float64[:]),
          ("syn_pre", int32[:, :]), ("syn_perm", float32[:, :]), ("seg_nsyn", int32[:]), ("seg_cell", int32[:]),
          ("seg_pos", int32[:]), ("seg_seq", boolean[:]), ("seg_posact", int64[:]), ("seg_dc", float64[:]),
          ("seg_dcit", int64[:]), ("free_ids", int32[:]), ("cell_segs", int32[:, :]), ("cell_nseg", int32[:]),
          ("head", int32[:]), ("nxt", int32[:]), ("prv", int32[:]), ("act_all", int32[:]), ("act_con", int32[:]),
          ("touched", int32[:]), ("mask", uint8[:]), ("mask2", uint8[:]), ("cmask", uint8[:]),
          ("best_act", int32[:]), ("best_cell", int32[:]), ("best_pos", int32[:]), ("best_seg", int32[:]),
          ("ia", int32[:]), ("ip", int32[:]), ("ip1", int32[:]), ("ba", int32[:]), ("bp", int32[:]),
          ("ca", int32[:]), ("cp", int32[:]), ("la", int32[:]), ("la1", int32[:]), ("lp", int32[:]),
          ("lp1", int32[:]), ("conf", uint8[:]), ("cconf", uint8[:]), ("ipat", int32[:, :]), ("ipat_n", int32[:]),
          ("lpat", int32[:, :]), ("lpat_n", int32[:]), ("upd_cell", int32[:]), ("upd_seg", int32[:]),
          ("upd_ts", int64[:]), ("upd_n", int32[:]), ("upd_src", int32[:, :]), ("src", int32[:]), ("n_src", int64),
          ("cand", int32[:])]


@jitclass(_spec)
class _Cells:
    def __init__(self, ncols, cpc, act_thr, min_thr, new_syn, maxseg, maxsyn, init_perm, conn, inc, dec,
                 pam_len, max_inf_bt, max_lrn_bt, max_seq_len, seed, cap):
        self.ncols, self.cpc, self.ncells = ncols, cpc, ncols * cpc
        self.S, self.maxseg = maxsyn, maxseg
        self.act_thr, self.min_thr, self.new_syn = act_thr, min_thr, new_syn
        self.pam_len, self.max_inf_bt, self.max_lrn_bt, self.max_seq_len = pam_len, max_inf_bt, max_lrn_bt, max_seq_len
        self.init_perm, self.conn, self.inc, self.dec, self.pmax = init_perm, conn, inc, dec, 1.0
        self.rng = np.zeros(1, np.uint64)
        self.rng[0] = np.uint64(seed * 2654435761 + 88172645463325252)
        self.tiers, self.alphas = _TIERS.copy(), _ALPHAS.copy()
        self.cap, self.hw, self.nfree, self.ntouched = 0, 0, 0, 0
        self.syn_pre = np.zeros((0, maxsyn), np.int32)
        self.syn_perm = np.zeros((0, maxsyn), np.float32)
        self.seg_nsyn, self.seg_cell, self.seg_pos = np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32)
        self.seg_seq, self.seg_posact = np.zeros(0, np.bool_), np.zeros(0, np.int64)
        self.seg_dc, self.seg_dcit = np.zeros(0), np.zeros(0, np.int64)
        self.free_ids, self.nxt, self.prv = np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32)
        self.act_all, self.act_con, self.touched = np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32)
        self.grow(cap)
        n = self.ncells
        self.cell_segs = np.full((n, maxseg), -1, np.int32)
        self.cell_nseg, self.head = np.zeros(n, np.int32), np.full(n, -1, np.int32)
        self.mask, self.mask2, self.cmask = np.zeros(n, np.uint8), np.zeros(n, np.uint8), np.zeros(ncols, np.uint8)
        self.best_act, self.best_cell = np.zeros(ncols, np.int32), np.zeros(ncols, np.int32)
        self.best_pos, self.best_seg = np.zeros(ncols, np.int32), np.zeros(ncols, np.int32)
        self.ia, self.ip, self.ip1 = np.zeros(n, np.int32), np.zeros(n, np.int32), np.zeros(n, np.int32)
        self.ba, self.bp, self.ca = np.zeros(n, np.int32), np.zeros(n, np.int32), np.zeros(n, np.int32)
        self.cp, self.la, self.la1 = np.zeros(n, np.int32), np.zeros(n, np.int32), np.zeros(n, np.int32)
        self.lp, self.lp1 = np.zeros(n, np.int32), np.zeros(n, np.int32)
        self.n_ia, self.n_ip, self.n_ip1, self.n_ba, self.n_bp, self.n_ca, self.n_cp = 0, 0, 0, 0, 0, 0, 0
        self.n_la, self.n_la1, self.n_lp, self.n_lp1 = 0, 0, 0, 0
        self.conf, self.cconf = np.zeros(ncols, np.uint8), np.zeros(ncols, np.uint8)
        self.n_conf = 0
        self.ipat, self.ipat_n = np.zeros((max_inf_bt + 2, ncols), np.int32), np.zeros(max_inf_bt + 2, np.int32)
        self.lpat, self.lpat_n = np.zeros((max_lrn_bt + 2, ncols), np.int32), np.zeros(max_lrn_bt + 2, np.int32)
        self.n_ipat, self.n_lpat = 0, 0
        self.upd_cell, self.upd_seg, self.upd_ts = np.zeros(ncols, np.int32), np.zeros(ncols, np.int32), np.zeros(ncols, np.int64)
        self.upd_n, self.upd_src = np.zeros(ncols, np.int32), np.zeros((ncols, maxsyn), np.int32)
        self.src, self.cand, self.n_src = np.zeros(maxsyn, np.int32), np.zeros(n, np.int32), 0
        self.n_lrn, self.pam, self.seq_len, self.n_upd, self.avg_density = 0, pam_len, 0, 0, 0.0

    # ---- storage ---------------------------------------------------------------------------
    def grow(self, cap):
        """Enlarge the segment pool to ``cap`` segments (existing ids keep their data)."""
        old, S = self.cap, self.S
        pre = np.full((cap, S), -1, np.int32)
        pre[:old] = self.syn_pre
        perm = np.zeros((cap, S), np.float32)
        perm[:old] = self.syn_perm
        self.syn_pre, self.syn_perm = pre, perm
        a = np.zeros(cap, np.int32)
        a[:old] = self.seg_nsyn
        self.seg_nsyn = a
        a = np.full(cap, -1, np.int32)
        a[:old] = self.seg_cell
        self.seg_cell = a
        a = np.zeros(cap, np.int32)
        a[:old] = self.seg_pos
        self.seg_pos = a
        b = np.zeros(cap, np.bool_)
        b[:old] = self.seg_seq
        self.seg_seq = b
        c = np.zeros(cap, np.int64)
        c[:old] = self.seg_posact
        self.seg_posact = c
        c = np.zeros(cap, np.int64)
        c[:old] = self.seg_dcit
        self.seg_dcit = c
        d = np.zeros(cap)
        d[:old] = self.seg_dc
        self.seg_dc = d
        a = np.zeros(cap, np.int32)
        a[:old] = self.free_ids
        self.free_ids = a
        a = np.full(cap * S, -1, np.int32)
        a[:old * S] = self.nxt
        self.nxt = a
        a = np.full(cap * S, -1, np.int32)
        a[:old * S] = self.prv
        self.prv = a
        self.act_all, self.act_con, self.touched = np.zeros(cap, np.int32), np.zeros(cap, np.int32), np.zeros(cap, np.int32)
        self.ntouched = 0
        self.cap = cap

    def rand_below(self, n):
        x = self.rng[0]
        x ^= x >> np.uint64(12)
        x ^= x << np.uint64(25)
        x ^= x >> np.uint64(27)
        self.rng[0] = x
        return np.int64((x * np.uint64(2685821657736338717)) >> np.uint64(11)) % n

    def add_syn(self, seg, pre, perm):
        slot = 0
        while self.syn_pre[seg, slot] >= 0:
            slot += 1
        self.syn_pre[seg, slot] = pre
        self.syn_perm[seg, slot] = perm
        sid = seg * self.S + slot
        first = self.head[pre]
        self.nxt[sid] = first
        self.prv[sid] = -1
        if first >= 0:
            self.prv[first] = sid
        self.head[pre] = sid
        self.seg_nsyn[seg] += 1

    def remove_syn(self, seg, slot):
        sid = seg * self.S + slot
        pre = self.syn_pre[seg, slot]
        if self.prv[sid] >= 0:
            self.nxt[self.prv[sid]] = self.nxt[sid]
        else:
            self.head[pre] = self.nxt[sid]
        if self.nxt[sid] >= 0:
            self.prv[self.nxt[sid]] = self.prv[sid]
        self.syn_pre[seg, slot] = -1
        self.seg_nsyn[seg] -= 1

    def release(self, seg):
        for slot in range(self.S):
            if self.syn_pre[seg, slot] >= 0:
                self.remove_syn(seg, slot)
        cell = self.seg_cell[seg]
        self.cell_segs[cell, self.seg_pos[seg]] = -1
        self.cell_nseg[cell] -= 1
        self.seg_cell[seg] = -1
        self.free_ids[self.nfree] = seg
        self.nfree += 1
        for u in range(self.n_upd):              # pending updates of a removed segment are void
            if self.upd_seg[u] == seg:
                self.upd_seg[u] = -2

    def new_segment(self, cell, seq):
        if self.nfree > 0:
            self.nfree -= 1
            seg = self.free_ids[self.nfree]
        else:
            seg = self.hw
            self.hw += 1
        pos = 0
        while self.cell_segs[cell, pos] >= 0:
            pos += 1
        self.cell_segs[cell, pos] = seg
        self.cell_nseg[cell] += 1
        self.seg_cell[seg], self.seg_pos[seg], self.seg_seq[seg] = cell, pos, seq
        self.seg_posact[seg] = 1
        self.seg_dc[seg] = 1.0 / self.n_lrn
        self.seg_dcit[seg] = self.n_lrn
        return seg

    def duty_cycle(self, seg, active):
        """Segment duty cycle (NuPIC's tiered moving average), updated to the current iteration."""
        it = self.n_lrn
        if it <= self.tiers[1]:
            dc = self.seg_posact[seg] / it
        else:
            age = it - self.seg_dcit[seg]
            if age == 0 and not active:
                return self.seg_dc[seg]
            alpha = 0.0
            for t in range(len(self.tiers) - 1, 0, -1):
                if it > self.tiers[t]:
                    alpha = self.alphas[t]
                    break
            dc = (1.0 - alpha) ** age * self.seg_dc[seg]
            if active:
                dc += alpha
        self.seg_dc[seg], self.seg_dcit[seg] = dc, it
        return dc

    # ---- dendritic activity ---------------------------------------------------------------
    def propagate(self, cells, n):
        """Active synapse counts (any permanence / connected) of every segment reached by ``cells``."""
        for k in range(self.ntouched):
            seg = self.touched[k]
            self.act_all[seg] = 0
            self.act_con[seg] = 0
        self.ntouched = 0
        S = self.S
        for k in range(n):
            sid = self.head[cells[k]]
            while sid >= 0:
                seg = sid // S
                if self.act_all[seg] == 0:
                    self.touched[self.ntouched] = seg
                    self.ntouched += 1
                self.act_all[seg] += 1
                if self.syn_perm[seg, sid - seg * S] >= self.conn:
                    self.act_con[seg] += 1
                sid = self.nxt[sid]

    def best_matching(self, threshold, only_active_cols):
        """Per column, the segment with most active synapses (>= threshold) after :meth:`propagate`;
        ties go to the higher cell, then the lower segment slot.  Sets best_* and cmask."""
        for k in range(self.ntouched):
            seg = self.touched[k]
            a = self.act_all[seg]
            if a < threshold:
                continue
            cell = self.seg_cell[seg]
            col = cell // self.cpc
            if only_active_cols and self.cmask[col] == 0:
                continue
            if self.cmask[col] < 2:
                self.cmask[col] = 2
                self.best_act[col] = -1
            b = self.best_act[col]
            if a > b or (a == b and (cell > self.best_cell[col] or (cell == self.best_cell[col]
                                                                   and self.seg_pos[seg] < self.best_pos[col]))):
                self.best_act[col], self.best_cell[col] = a, cell
                self.best_pos[col], self.best_seg[col] = self.seg_pos[seg], seg

    # ---- inference ---------------------------------------------------------------------------
    def infer_phase1(self, pat, use_start):
        cols, ncol = self.ipat[pat], self.ipat_n[pat]
        cpc = self.cpc
        self.n_ia = 0
        if use_start:
            for k in range(ncol):
                self.ia[self.n_ia] = cols[k] * cpc
                self.n_ia += 1
            return True
        for k in range(self.n_ip1):
            self.mask[self.ip1[k]] = 1
        npred = 0
        for k in range(ncol):
            c0 = cols[k] * cpc
            start = self.n_ia
            for i in range(c0, c0 + cpc):
                if self.mask[i]:
                    self.ia[self.n_ia] = i
                    self.n_ia += 1
            if self.n_ia > start:
                npred += 1
            else:
                for i in range(c0, c0 + cpc):
                    self.ia[self.n_ia] = i
                    self.n_ia += 1
        for k in range(self.n_ip1):
            self.mask[self.ip1[k]] = 0
        return npred >= 0.5 * ncol

    def infer_phase2(self):
        self.propagate(self.ia, self.n_ia)
        self.conf[:] = 0
        self.n_conf = 0
        self.n_ip = 0
        thr = self.act_thr
        for k in range(self.ntouched):
            seg = self.touched[k]
            if self.act_all[seg] < thr:
                continue
            cell = self.seg_cell[seg]
            col = cell // self.cpc
            if self.conf[col] == 0:
                self.conf[col] = 1
                self.n_conf += 1
            if self.act_con[seg] >= thr and self.mask[cell] == 0:
                self.mask[cell] = 1
                self.ip[self.n_ip] = cell
                self.n_ip += 1
        npred = 0
        for k in range(self.n_ip):
            cell = self.ip[k]
            self.mask[cell] = 0
            col = cell // self.cpc
            if self.cmask[col] == 0:
                self.cmask[col] = 1
                npred += 1
        for k in range(self.n_ip):
            self.cmask[self.ip[k] // self.cpc] = 0
        return npred >= 0.5 * self.avg_density

    def infer_backtrack(self):
        npat = self.n_ipat
        if npat <= 0:
            return
        cur = npat - 1
        self.ba[:self.n_ia] = self.ia[:self.n_ia]
        self.n_ba = self.n_ia
        self.bp[:self.n_ip1] = self.ip1[:self.n_ip1]
        self.n_bp = self.n_ip1
        cand = -1
        nbad = 0
        bad = np.zeros(npat, np.bool_)
        for start in range(npat):
            ok = False
            for off in range(start, npat):
                self.ip1[:self.n_ip] = self.ip[:self.n_ip]
                self.n_ip1 = self.n_ip
                ok = self.infer_phase1(off, off == start)
                if not ok:
                    break
                ok = self.infer_phase2()
                if not ok:
                    break
            if not ok:
                bad[start] = True
                nbad += 1
                continue
            cand = start
            if cand == cur:
                break
            self.ca[:self.n_ia] = self.ia[:self.n_ia]
            self.n_ca = self.n_ia
            self.cp[:self.n_ip] = self.ip[:self.n_ip]
            self.n_cp = self.n_ip
            self.cconf[:] = self.conf
            break
        if cand == -1:
            self.ia[:self.n_ba] = self.ba[:self.n_ba]
            self.n_ia = self.n_ba
            self.infer_phase2()
        elif cand != cur:
            self.ia[:self.n_ca] = self.ca[:self.n_ca]
            self.n_ia = self.n_ca
            self.ip[:self.n_cp] = self.cp[:self.n_cp]
            self.n_ip = self.n_cp
            self.conf[:] = self.cconf
            self.n_conf = 0
            for c in range(self.ncols):
                self.n_conf += self.conf[c]
        drop = 0
        for i in range(npat):
            if bad[i] or (cand != -1 and i <= cand):
                drop += 1
            else:
                break
        self.shift_patterns(True, drop)
        self.ip1[:self.n_bp] = self.bp[:self.n_bp]
        self.n_ip1 = self.n_bp

    def shift_patterns(self, inference, drop):
        pats, ns = (self.ipat, self.ipat_n) if inference else (self.lpat, self.lpat_n)
        n = self.n_ipat if inference else self.n_lpat
        for i in range(drop, n):
            pats[i - drop, :ns[i]] = pats[i, :ns[i]]
            ns[i - drop] = ns[i]
        if inference:
            self.n_ipat = n - drop
        else:
            self.n_lpat = n - drop

    # ---- learning ----------------------------------------------------------------------------
    def compute_update(self, cell, seg, state, nstate):
        """Sources for a segment update: the segment's synapses from ``state`` cells plus new
        ones sampled from ``state`` up to newSynapseCount (into self.src / n_src)."""
        self.n_src = 0
        for k in range(nstate):
            self.mask2[state[k]] = 1
        if seg >= 0:
            for slot in range(self.S):
                p = self.syn_pre[seg, slot]
                if p >= 0 and self.mask2[p]:
                    self.src[self.n_src] = p
                    self.n_src += 1
        for k in range(nstate):
            self.mask2[state[k]] = 0
        add = self.new_syn - self.n_src
        if add > 0:
            if seg >= 0:
                for slot in range(self.S):
                    if self.syn_pre[seg, slot] >= 0:
                        self.mask2[self.syn_pre[seg, slot]] = 1
            nc = 0
            for k in range(nstate):
                if self.mask2[state[k]] == 0:
                    self.cand[nc] = state[k]
                    nc += 1
            if seg >= 0:
                for slot in range(self.S):
                    if self.syn_pre[seg, slot] >= 0:
                        self.mask2[self.syn_pre[seg, slot]] = 0
            take = min(add, nc)
            for j in range(take):                       # partial Fisher-Yates sample
                r = j + self.rand_below(nc - j)
                self.cand[j], self.cand[r] = self.cand[r], self.cand[j]
                self.src[self.n_src] = self.cand[j]
                self.n_src += 1
        self.src[:self.n_src] = np.sort(self.src[:self.n_src])
        return self.n_src > 0

    def adapt(self, cell, seg, src, nsrc):
        """Apply an update: reinforce / create ``seg`` (-1: new sequence segment on ``cell``)."""
        if seg < 0:
            seg = self.new_segment(cell, True)
            for k in range(nsrc):
                self.add_syn(seg, src[k], self.init_perm)
            return
        if self.seg_cell[seg] < 0:
            return
        self.seg_posact[seg] += 1
        self.duty_cycle(seg, True)
        for k in range(nsrc):                            # 1: new source, 2: existing synapse
            self.mask2[src[k]] = 1
        n_active = 0
        for slot in range(self.S):
            p = self.syn_pre[seg, slot]
            if p < 0:
                continue
            if self.mask2[p]:
                self.syn_perm[seg, slot] = min(self.syn_perm[seg, slot] + self.inc, self.pmax)
                self.mask2[p] = 2
                n_active += 1
            else:
                v = self.syn_perm[seg, slot] - self.dec
                self.syn_perm[seg, slot] = v
                if v <= 0:
                    self.remove_syn(seg, slot)
        excess = nsrc - n_active + self.seg_nsyn[seg] - self.S
        for _ in range(excess):                          # free the weakest, inactive ones first
            best, bslot = 1e9, -1
            for slot in range(self.S):
                p = self.syn_pre[seg, slot]
                if p < 0:
                    continue
                key = self.syn_perm[seg, slot] + (self.pmax if self.mask2[p] == 2 else 0.0)
                if bslot < 0 or key < best or (key == best and p < self.syn_pre[seg, bslot]):
                    best, bslot = key, slot
            self.remove_syn(seg, bslot)
        for k in range(nsrc):
            if self.mask2[src[k]] == 1:
                self.add_syn(seg, src[k], self.init_perm)
            self.mask2[src[k]] = 0
        if self.seg_nsyn[seg] == 0:
            self.release(seg)

    def cell_for_new_segment(self, col):
        c0 = col * self.cpc
        nc = 0
        for i in range(c0 + 1, c0 + self.cpc):
            if self.cell_nseg[i] < self.maxseg:
                self.cand[nc] = i
                nc += 1
        if nc > 0:
            return self.cand[self.rand_below(nc)]
        best, bseg = 1.0, -1
        for i in range(c0 + 1, c0 + self.cpc):
            for pos in range(self.maxseg):
                seg = self.cell_segs[i, pos]
                if seg >= 0:
                    dc = self.duty_cycle(seg, False)
                    if dc < best:
                        best, bseg = dc, seg
        if bseg < 0:
            bseg = self.cell_segs[c0 + 1, 0]
        cell = self.seg_cell[bseg]
        self.release(bseg)
        return cell

    def learn_phase1(self, pat, read_only):
        cols, ncol = self.lpat[pat], self.lpat_n[pat]
        cpc = self.cpc
        self.n_la = 0
        for k in range(self.n_lp1):
            self.mask[self.lp1[k]] += 1
        if not read_only:
            self.propagate(self.la1, self.n_la1)
            for k in range(ncol):
                self.cmask[cols[k]] = 1
            self.best_matching(self.min_thr, True)
        unpredicted = 0
        for k in range(ncol):
            c = cols[k]
            c0 = c * cpc
            npc, which = 0, -1
            for i in range(c0, c0 + cpc):
                if self.mask[i]:
                    npc += 1
                    which = i
            if npc == 1:
                self.la[self.n_la] = which
                self.n_la += 1
                continue
            unpredicted += 1
            if read_only:
                continue
            if self.cmask[c] == 2 and self.seg_seq[self.best_seg[c]]:
                cell, seg = self.best_cell[c], self.best_seg[c]
            else:
                cell, seg = self.cell_for_new_segment(c), -1
            self.la[self.n_la] = cell
            self.n_la += 1
            if self.compute_update(cell, seg, self.la1, self.n_la1):
                self.adapt(cell, seg, self.src, self.n_src)
        for k in range(self.n_lp1):
            self.mask[self.lp1[k]] = 0
        if not read_only:
            for k in range(ncol):
                self.cmask[cols[k]] = 0
        return unpredicted < ncol // 2

    def learn_phase2(self, read_only):
        self.propagate(self.la, self.n_la)
        self.best_matching(self.act_thr, False)
        self.n_lp = 0
        for k in range(self.ntouched):
            col = self.seg_cell[self.touched[k]] // self.cpc
            if self.cmask[col] != 2:
                continue
            self.cmask[col] = 0
            cell, seg = self.best_cell[col], self.best_seg[col]
            self.lp[self.n_lp] = cell
            self.n_lp += 1
            if not read_only and self.compute_update(cell, seg, self.la, self.n_la):
                u = self.n_upd
                self.upd_cell[u], self.upd_seg[u], self.upd_ts[u] = cell, seg, self.n_lrn
                self.upd_n[u] = self.n_src
                self.upd_src[u, :self.n_src] = self.src[:self.n_src]
                self.n_upd += 1

    def process_updates(self, pat):
        cols, ncol = self.lpat[pat], self.lpat_n[pat]
        for k in range(ncol):
            self.cmask[cols[k]] = 1
        for u in range(self.n_upd):
            seg = self.upd_seg[u]
            if seg < 0 or self.n_lrn - self.upd_ts[u] > 1:
                continue
            cell = self.upd_cell[u]
            if self.cmask[cell // self.cpc]:
                self.adapt(cell, seg, self.upd_src[u], self.upd_n[u])
        for k in range(ncol):
            self.cmask[cols[k]] = 0
        self.n_upd = 0

    def save_lrn_t1(self):
        self.la1[:self.n_la] = self.la[:self.n_la]
        self.n_la1 = self.n_la
        self.lp1[:self.n_lp] = self.lp[:self.n_lp]
        self.n_lp1 = self.n_lp

    def start_cells(self, pat):
        self.n_la = 0
        for k in range(self.lpat_n[pat]):
            self.la[self.n_la] = self.lpat[pat, k] * self.cpc
            self.n_la += 1

    def learn_backtrack_from(self, start, read_only):
        npat = self.n_lpat
        if not read_only:
            self.n_upd = 0
        ok = True
        for off in range(start, npat):
            self.save_lrn_t1()
            if not read_only:
                self.process_updates(off)
            if off == start:
                self.start_cells(off)
                ok = True
            else:
                ok = self.learn_phase1(off, read_only)
            if not ok or off == npat - 1:
                break
            self.learn_phase2(read_only)
        return ok

    def learn_backtrack(self):
        nprev = self.n_lpat - 1
        if nprev <= 0:
            return 0
        bad = np.zeros(nprev, np.bool_)
        ok, start = False, 0
        for start in range(nprev):
            ok = self.learn_backtrack_from(start, True)
            if ok:
                break
            bad[start] = True
        if not ok:
            self.n_lpat = 0
            return 0
        self.learn_backtrack_from(start, False)
        drop = 0
        for i in range(nprev):
            if bad[i] or i <= start:
                drop += 1
            else:
                break
        self.shift_patterns(False, drop)
        return nprev - start

    # ---- one time step -----------------------------------------------------------------------
    def compute(self, cols, learn):
        """One step on sorted active column indices; returns the raw anomaly score."""
        ncol = len(cols)
        if self.cap - self.hw + self.nfree < 8 * self.ncols:
            self.grow(2 * self.cap)
        hits = 0
        for k in range(ncol):
            hits += self.conf[cols[k]]
        anomaly = 0.0 if ncol == 0 else (ncol - hits) / ncol
        if learn:
            self.n_lrn += 1
            for t in self.tiers:
                if t == self.n_lrn:
                    for seg in range(self.hw):
                        if self.seg_cell[seg] >= 0:
                            self.duty_cycle(seg, False)
        if self.avg_density == 0.0:
            self.avg_density = ncol
        else:
            self.avg_density = 0.99 * self.avg_density + 0.01 * ncol
        # inference
        self.ip1[:self.n_ip] = self.ip[:self.n_ip]
        self.n_ip1 = self.n_ip
        if self.n_ipat > self.max_inf_bt:
            self.shift_patterns(True, 1)
        self.ipat[self.n_ipat, :ncol] = cols
        self.ipat_n[self.n_ipat] = ncol
        self.n_ipat += 1
        if not self.infer_phase1(self.n_ipat - 1, False) or not self.infer_phase2():
            self.infer_backtrack()
        if not learn:
            return anomaly
        # learning
        self.save_lrn_t1()
        if self.n_lpat > self.max_lrn_bt:
            self.shift_patterns(False, 1)
        self.lpat[self.n_lpat, :ncol] = cols
        self.lpat_n[self.n_lpat] = ncol
        self.n_lpat += 1
        cur = self.n_lpat - 1
        self.process_updates(cur)
        if self.pam > 0:
            self.pam -= 1
        self.seq_len += 1
        if self.learn_phase1(cur, False):
            self.pam = self.pam_len
        if self.pam == 0 or (self.max_seq_len != 0 and self.seq_len >= self.max_seq_len):
            back = self.learn_backtrack()
            if back == 0:
                self.n_la = 0
                for k in range(ncol):
                    self.la[self.n_la] = cols[k] * self.cpc
                    self.n_la += 1
                self.n_lpat = 0
            self.pam = self.pam_len
            self.seq_len = back
            self.n_upd = 0
        self.learn_phase2(False)
        return anomaly


class BacktrackingTM:
    """NuPIC's backtracking temporal memory (``BacktrackingTMCPP``) with NAB's parameters by
    default; ``compute(active_columns, learn)`` sets ``anomaly`` (raw anomaly score)."""

    def __init__(self, columns=2048, cellsPerColumn=32, activationThreshold=13, minThreshold=10,
                 newSynapseCount=20, initialPerm=0.21, connectedPerm=0.5, permanenceInc=0.1,
                 permanenceDec=0.1, maxSegmentsPerCell=128, maxSynapsesPerSegment=32, pamLength=3,
                 maxInfBacktrack=10, maxLrnBacktrack=5, maxSeqLength=32, seed=1960, capacity=20000):
        self.numColumns, self.cellsPerColumn = int(columns), int(cellsPerColumn)
        self._c = _Cells(self.numColumns, self.cellsPerColumn, activationThreshold, minThreshold,
                         newSynapseCount, maxSegmentsPerCell, maxSynapsesPerSegment, np.float32(initialPerm),
                         np.float32(connectedPerm), np.float32(permanenceInc), np.float32(permanenceDec),
                         pamLength, maxInfBacktrack, maxLrnBacktrack, maxSeqLength, seed, capacity)
        self.anomaly = 0.0

    def compute(self, activeColumns, learn=True):
        cols = np.unique(np.asarray(activeColumns, dtype=np.int32))
        self.anomaly = float(self._c.compute(cols, bool(learn)))
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
