"""Compiled kernels of :mod:`.backtracking_tm`: ``numba.njit(cache=True)`` functions, so a process
loads them from ``__pycache__`` instead of compiling them.

Every kernel takes ``c``, the TM's state: a named tuple of numpy arrays (fields
:data:`STATE_FIELDS`) whose ``scalars`` is a one-record structured array of parameters and
counters, bound as ``s = c.scalars[0]`` and used as ``s.name``.  A cell list is an array plus a
count (``c.ia[:s.n_ia]``): ``i`` inference, ``l`` learning, ``b`` backup, ``c`` candidate, then
``a`` active / ``p`` predicted, ``1`` the previous step.  Segments are ids into a pool (rows of
``S`` synapse slots in ``syn_pre`` / ``syn_perm``); a cell's outgoing synapses are linked through
``head`` / ``nxt`` / ``prv`` (synapse id = seg * S + slot), NuPIC's "ghosts" through ``ghead``;
storage and the segment update are in :mod:`.backtracking_synapses`.
"""
import numpy as np
from numba import njit

from .backtracking_synapses import TIERS, adapt, duty_cycle, mark, mark_presynaptic, release

__all__ = ["compute", "STATE_FIELDS"]

# the fields of the state (:class:`.backtracking_tm.CellsState`), here so that a change of layout
# also changes this file and so recompiles the cached kernels
STATE_FIELDS = ("scalars", "rng", "syn_pre", "syn_perm", "syn_lnk", "ghead", "scr", "scrf", "seg_nsyn", "seg_cell", "seg_pos", "seg_seq",
                "seg_posact", "seg_dcit", "seg_dc", "free_ids", "nxt", "prv", "act_all", "act_con",
                "touched", "cell_segs", "cell_nseg", "head", "mask", "mask2", "cmask", "best_act",
                "best_cell", "best_pos", "best_seg", "ia", "ip", "ip1", "ba", "bp", "ca", "cp", "la",
                "la1", "lp", "lp1", "conf", "cconf", "ipat", "ipat_n", "lpat", "lpat_n", "upd_cell",
                "upd_seg", "upd_ts", "upd_n", "upd_src", "src", "cand")

# ---- helpers -------------------------------------------------------------------------------
@njit(cache=True)
def copy_cells(dst, src, n):
    """``dst[:n] = src[:n]``; returns ``n`` (the new count of ``dst``)."""
    dst[:n] = src[:n]
    return n


@njit(cache=True)
def start_cells(c, dst, cols, ncol):
    """Writes the start cells (cell 0) of the ``ncol`` columns ``cols`` into ``dst``; returns ncol."""
    cpc = c.scalars[0].cpc
    for k in range(ncol):
        dst[k] = cols[k] * cpc
    return ncol


@njit(cache=True)
def rand_below(c, n):
    """Integer in [0, n) from the 64-bit xorshift state ``c.rng``."""
    x = c.rng[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    c.rng[0] = x
    return np.int64((x * np.uint64(2685821657736338717)) >> np.uint64(11)) % n


# ---- dendritic activity --------------------------------------------------------------------
@njit(cache=True)
def propagate(c, cells, n, ghost_all, ghost_con):
    """Active synapse counts (any permanence / connected) of every segment reached by ``cells``;
    ghost synapses (:mod:`.backtracking_synapses`) count in ``act_all`` if ``ghost_all`` and in
    ``act_con`` if ``ghost_con``."""
    s = c.scalars[0]
    for k in range(s.ntouched):
        seg = c.touched[k]
        c.act_all[seg] = 0
        c.act_con[seg] = 0
    s.ntouched = 0
    S = s.S
    for k in range(n):
        sid = c.head[cells[k]]
        while sid >= 0:
            seg = sid // S
            if c.act_all[seg] == 0 and c.act_con[seg] == 0:
                c.touched[s.ntouched] = seg
                s.ntouched += 1
            c.act_all[seg] += 1
            if c.syn_perm[seg, sid - seg * S] >= s.conn:
                c.act_con[seg] += 1
            sid = c.nxt[sid]
        if ghost_all or ghost_con:
            sid = c.ghead[cells[k]]
            while sid >= 0:
                seg = sid // S
                con = c.syn_perm[seg, sid - seg * S] >= s.conn
                if ghost_all or (con and ghost_con):
                    if c.act_all[seg] == 0 and c.act_con[seg] == 0:
                        c.touched[s.ntouched] = seg
                        s.ntouched += 1
                    if ghost_all:
                        c.act_all[seg] += 1
                    if con and ghost_con:
                        c.act_con[seg] += 1
                sid = c.nxt[sid]


@njit(cache=True)
def best_matching(c, threshold, only_active_cols):
    """Per column, the segment with most active synapses (>= threshold) after :func:`propagate`;
    ties go to the higher cell, then the lower segment slot.  Sets best_* and cmask."""
    s = c.scalars[0]
    for k in range(s.ntouched):
        seg = c.touched[k]
        a = c.act_all[seg]
        if a < threshold:
            continue
        cell = c.seg_cell[seg]
        col = cell // s.cpc
        if only_active_cols and c.cmask[col] == 0:
            continue
        if c.cmask[col] < 2:
            c.cmask[col] = 2
            c.best_act[col] = -1
        b = c.best_act[col]
        if a > b or (a == b and (cell > c.best_cell[col] or (cell == c.best_cell[col]
                                                               and c.seg_pos[seg] < c.best_pos[col]))):
            c.best_act[col], c.best_cell[col] = a, cell
            c.best_pos[col], c.best_seg[col] = c.seg_pos[seg], seg


# ---- inference -----------------------------------------------------------------------------
@njit(cache=True)
def infer_phase1(c, pat, use_start):
    """Active cells of input ``pat`` (predicted ones, else bursting; ``use_start``: start cells);
    True if at least half its columns were predicted."""
    s = c.scalars[0]
    cols, ncol = c.ipat[pat], c.ipat_n[pat]
    if use_start:
        s.n_ia = start_cells(c, c.ia, cols, ncol)
        return True
    cpc = s.cpc
    s.n_ia = 0
    mark(c.mask, c.ip1, s.n_ip1, 1)
    npred = 0
    for k in range(ncol):
        c0 = cols[k] * cpc
        start = s.n_ia
        for i in range(c0, c0 + cpc):
            if c.mask[i]:
                c.ia[s.n_ia] = i
                s.n_ia += 1
        if s.n_ia > start:
            npred += 1
        else:
            for i in range(c0, c0 + cpc):
                c.ia[s.n_ia] = i
                s.n_ia += 1
    mark(c.mask, c.ip1, s.n_ip1, 0)
    return npred >= 0.5 * ncol


@njit(cache=True)
def infer_phase2(c):
    """Column confidence and predicted cells from the active cells; True if at least half the
    average input density of columns is predicted."""
    s = c.scalars[0]
    propagate(c, c.ia, s.n_ia, False, True)
    c.conf[:] = 0
    s.n_ip = 0
    thr = s.act_thr
    for k in range(s.ntouched):
        seg = c.touched[k]
        if c.act_all[seg] < thr:
            continue
        cell = c.seg_cell[seg]
        c.conf[cell // s.cpc] = 1
        if c.act_con[seg] >= thr and c.mask[cell] == 0:
            c.mask[cell] = 1
            c.ip[s.n_ip] = cell
            s.n_ip += 1
    npred = 0
    for k in range(s.n_ip):
        cell = c.ip[k]
        c.mask[cell] = 0
        col = cell // s.cpc
        if c.cmask[col] == 0:
            c.cmask[col] = 1
            npred += 1
    for k in range(s.n_ip):
        c.cmask[c.ip[k] // s.cpc] = 0
    return npred >= 0.5 * s.avg_density


@njit(cache=True)
def infer_backtrack(c):
    """Replays the stored inputs from start cells, keeping the earliest start that stays in
    sequence up to now (else the current input bursts)."""
    s = c.scalars[0]
    npat = s.n_ipat
    if npat <= 0:
        return
    cur = npat - 1
    s.n_ba = copy_cells(c.ba, c.ia, s.n_ia)
    s.n_bp = copy_cells(c.bp, c.ip1, s.n_ip1)
    cand = -1
    for start in range(npat):
        ok = False
        for off in range(start, npat):
            s.n_ip1 = copy_cells(c.ip1, c.ip, s.n_ip)
            ok = infer_phase1(c, off, off == start)
            if not ok:
                break
            ok = infer_phase2(c)
            if not ok:
                break
        if not ok:
            continue
        cand = start
        if cand == cur:
            break
        s.n_ca = copy_cells(c.ca, c.ia, s.n_ia)
        s.n_cp = copy_cells(c.cp, c.ip, s.n_ip)
        c.cconf[:] = c.conf
        break
    if cand == -1:
        s.n_ia = copy_cells(c.ia, c.ba, s.n_ba)
        infer_phase2(c)
    elif cand != cur:
        s.n_ia = copy_cells(c.ia, c.ca, s.n_ca)
        s.n_ip = copy_cells(c.ip, c.cp, s.n_cp)
        c.conf[:] = c.cconf
    s.n_ipat = shift_history(c.ipat, c.ipat_n, s.n_ipat, npat if cand == -1 else cand + 1)
    s.n_ip1 = copy_cells(c.ip1, c.bp, s.n_bp)


@njit(cache=True)
def shift_history(pats, ns, n, drop):
    """Drops the ``drop`` oldest of the ``n`` stored inputs ``pats[i, :ns[i]]``; returns the count left."""
    for i in range(drop, n):
        pats[i - drop, :ns[i]] = pats[i, :ns[i]]
        ns[i - drop] = ns[i]
    return n - drop


@njit(cache=True)
def push_history(pats, ns, n, max_n, cols):
    """Appends input ``cols`` to ``n`` stored ones (the oldest dropped if n > max_n); returns the count."""
    if n > max_n:
        n = shift_history(pats, ns, n, 1)
    pats[n, :len(cols)] = cols
    ns[n] = len(cols)
    return n + 1


# ---- learning ------------------------------------------------------------------------------
@njit(cache=True)
def compute_update(c, cell, seg, state, nstate):
    """Sources for a segment update: the segment's synapses from ``state`` cells plus new
    ones sampled from ``state`` up to newSynapseCount (into c.src / s.n_src)."""
    s = c.scalars[0]
    s.n_src = 0
    mark(c.mask2, state, nstate, 1)
    if seg >= 0:
        for slot in range(s.S):
            p = c.syn_pre[seg, slot]
            if p >= 0 and c.mask2[p]:
                c.src[s.n_src] = p
                s.n_src += 1
    mark(c.mask2, state, nstate, 0)
    add = s.new_syn - s.n_src
    if add > 0:
        mark_presynaptic(c, seg, 1)
        nc = 0
        for k in range(nstate):
            if c.mask2[state[k]] == 0:
                c.cand[nc] = state[k]
                nc += 1
        mark_presynaptic(c, seg, 0)
        take = min(add, nc)
        for j in range(take):                       # partial Fisher-Yates sample
            r = j + rand_below(c, nc - j)
            c.cand[j], c.cand[r] = c.cand[r], c.cand[j]
            c.src[s.n_src] = c.cand[j]
            s.n_src += 1
    c.src[:s.n_src] = np.sort(c.src[:s.n_src])
    return s.n_src > 0


@njit(cache=True)
def cell_for_new_segment(c, col):
    """A random non-start cell of ``col`` with room for a segment; if none, the cell of the
    column's segment with the lowest duty cycle, which is removed."""
    s = c.scalars[0]
    c0 = col * s.cpc
    nc = 0
    for i in range(c0 + 1, c0 + s.cpc):
        if c.cell_nseg[i] < s.maxseg:
            c.cand[nc] = i
            nc += 1
    if nc > 0:
        return c.cand[rand_below(c, nc)]
    best, bseg = 1.0, -1
    for i in range(c0 + 1, c0 + s.cpc):
        for pos in range(s.maxseg):
            seg = c.cell_segs[i, pos]
            if seg >= 0:
                dc = duty_cycle(c, seg, False)
                if dc < best:
                    best, bseg = dc, seg
    if bseg < 0:
        bseg = c.cell_segs[c0 + 1, 0]
    cell = c.seg_cell[bseg]
    release(c, bseg)
    return cell


@njit(cache=True)
def learn_phase1(c, pat, read_only):
    """Learning cells of input ``pat`` (a column's only predicted cell, else the best matching
    sequence segment's or a new one's, updated at once); True if under half were unpredicted."""
    s = c.scalars[0]
    cols, ncol = c.lpat[pat], c.lpat_n[pat]
    cpc = s.cpc
    s.n_la = 0
    mark(c.mask, c.lp1, s.n_lp1, 1)
    if not read_only:
        propagate(c, c.la1, s.n_la1, True, True)
        mark(c.cmask, cols, ncol, 1)
        best_matching(c, s.min_thr, True)
    unpredicted = 0
    for k in range(ncol):
        col = cols[k]
        c0 = col * cpc
        npc, which = 0, -1
        for i in range(c0, c0 + cpc):
            if c.mask[i]:
                npc += 1
                which = i
        if npc == 1:
            c.la[s.n_la] = which
            s.n_la += 1
            continue
        unpredicted += 1
        if read_only:
            continue
        if c.cmask[col] == 2 and c.seg_seq[c.best_seg[col]]:
            cell, seg = c.best_cell[col], c.best_seg[col]
        else:
            cell, seg = cell_for_new_segment(c, col), -1
        c.la[s.n_la] = cell
        s.n_la += 1
        if compute_update(c, cell, seg, c.la1, s.n_la1):
            adapt(c, cell, seg, c.src, s.n_src)
    mark(c.mask, c.lp1, s.n_lp1, 0)
    if not read_only:
        mark(c.cmask, cols, ncol, 0)
    return unpredicted < ncol // 2


@njit(cache=True)
def learn_phase2(c, read_only):
    """Learning predictions: per column the best segment reached by the learning cells; its
    update is queued (unless ``read_only``) for the next step."""
    s = c.scalars[0]
    propagate(c, c.la, s.n_la, False, False)
    best_matching(c, s.act_thr, False)
    s.n_lp = 0
    for k in range(s.ntouched):
        col = c.seg_cell[c.touched[k]] // s.cpc
        if c.cmask[col] != 2:
            continue
        c.cmask[col] = 0
        cell, seg = c.best_cell[col], c.best_seg[col]
        c.lp[s.n_lp] = cell
        s.n_lp += 1
        if not read_only and compute_update(c, cell, seg, c.la, s.n_la):
            u = s.n_upd
            c.upd_cell[u], c.upd_seg[u], c.upd_ts[u] = cell, seg, s.n_lrn
            c.upd_n[u] = s.n_src
            c.upd_src[u, :s.n_src] = c.src[:s.n_src]
            s.n_upd += 1


@njit(cache=True)
def process_updates(c, pat):
    """Applies (then clears) the updates queued last step whose column is active in input ``pat``."""
    s = c.scalars[0]
    cols, ncol = c.lpat[pat], c.lpat_n[pat]
    mark(c.cmask, cols, ncol, 1)
    for u in range(s.n_upd):
        seg = c.upd_seg[u]
        if seg < 0 or s.n_lrn - c.upd_ts[u] > 1:
            continue
        cell = c.upd_cell[u]
        if c.cmask[cell // s.cpc]:
            adapt(c, cell, seg, c.upd_src[u], c.upd_n[u])
    mark(c.cmask, cols, ncol, 0)
    s.n_upd = 0


@njit(cache=True)
def save_lrn_t1(c):
    """The learning state becomes the previous step's."""
    s = c.scalars[0]
    s.n_la1 = copy_cells(c.la1, c.la, s.n_la)
    s.n_lp1 = copy_cells(c.lp1, c.lp, s.n_lp)


@njit(cache=True)
def learn_backtrack_from(c, start, read_only):
    """Replays the learning history from start cells at input ``start``; True if it stays in
    sequence up to now (``read_only``: test only, else learn on the way)."""
    s = c.scalars[0]
    npat = s.n_lpat
    if not read_only:
        s.n_upd = 0
    ok = True
    for off in range(start, npat):
        save_lrn_t1(c)
        if not read_only:
            process_updates(c, off)
        if off == start:
            s.n_la = start_cells(c, c.la, c.lpat[off], c.lpat_n[off])
        else:
            ok = learn_phase1(c, off, read_only)
        if not ok or off == npat - 1:
            break
        learn_phase2(c, read_only)
    return ok


@njit(cache=True)
def learn_backtrack(c):
    """Learns from the earliest stored input whose replay reaches now; returns how far back
    that is (0: none, the history is cleared)."""
    s = c.scalars[0]
    nprev = s.n_lpat - 1
    if nprev <= 0:
        return 0
    ok, start = False, 0
    for start in range(nprev):
        ok = learn_backtrack_from(c, start, True)
        if ok:
            break
    if not ok:
        s.n_lpat = 0
        return 0
    learn_backtrack_from(c, start, False)
    s.n_lpat = shift_history(c.lpat, c.lpat_n, s.n_lpat, start + 1)
    return nprev - start


# ---- one time step -------------------------------------------------------------------------
@njit(cache=True)
def compute(c, cols, learn):
    """One step on sorted active column indices (int32); returns the raw anomaly score.  The
    caller keeps room in the segment pool (:meth:`.BacktrackingTM.compute`)."""
    s = c.scalars[0]
    ncol = len(cols)
    hits = 0
    for k in range(ncol):
        hits += c.conf[cols[k]]
    anomaly = 0.0 if ncol == 0 else (ncol - hits) / ncol
    if learn:
        s.n_lrn += 1
        for t in TIERS:
            if t == s.n_lrn:
                for seg in range(s.hw):
                    if c.seg_cell[seg] >= 0:
                        duty_cycle(c, seg, False)
    if s.avg_density == 0.0:
        s.avg_density = ncol
    else:
        s.avg_density = 0.99 * s.avg_density + 0.01 * ncol
    # inference
    s.n_ip1 = copy_cells(c.ip1, c.ip, s.n_ip)
    s.n_ipat = push_history(c.ipat, c.ipat_n, s.n_ipat, s.max_inf_bt, cols)
    if not infer_phase1(c, s.n_ipat - 1, False) or not infer_phase2(c):
        infer_backtrack(c)
    if not learn:
        return anomaly
    # learning
    save_lrn_t1(c)
    s.n_lpat = push_history(c.lpat, c.lpat_n, s.n_lpat, s.max_lrn_bt, cols)
    cur = s.n_lpat - 1
    process_updates(c, cur)
    if s.pam > 0:
        s.pam -= 1
    s.seq_len += 1
    if learn_phase1(c, cur, False):
        s.pam = s.pam_len
    if s.pam == 0 or (s.max_seq_len != 0 and s.seq_len >= s.max_seq_len):
        back = learn_backtrack(c)
        if back == 0:
            s.n_la = start_cells(c, c.la, cols, ncol)
            s.n_lpat = 0
        s.pam = s.pam_len
        s.seq_len = back
        s.n_upd = 0
    learn_phase2(c, False)
    return anomaly
