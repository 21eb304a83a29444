"""Segment and synapse storage of the backtracking TM (:mod:`.backtracking_kernels`), and the
segment update (``adapt``), as ``numba.njit(cache=True)`` functions on the TM state ``c``.

A synapse lives in slot ``slot`` of segment ``seg`` (``syn_pre``, ``syn_perm``; ``S`` slots per
segment, at most ``maxsyn`` of them used except as below) and is linked, for forward
propagation, in its presynaptic cell's list ``head`` / ``nxt`` / ``prv`` (synapse id =
seg * S + slot), ``syn_lnk`` = 1.

NuPIC's ``Cells4::adaptSegment`` (nupic.core 0.4.x, the version behind NAB's published
``numenta`` results), with ``nupic_free=1``, is followed as it runs, including a slip: it lists
the positions (in presynaptic order) of the segment's inactive and active synapses, decrements
the inactive ones and removes those at permanence <= 0, increments the active ones, and then, if
the new synapses do not fit in ``maxsyn``, frees the weakest synapses *by the positions listed
before the removal*.  After a removal those positions point one or more synapses further on
(an active synapse can be freed as if inactive), and a position past the new end reads the
segment's old last entries: it frees nothing, so the segment keeps more than ``maxsyn``
synapses, but the cell read there is taken out of forward propagation while its synapse stays
in the segment (a *ghost*, ``syn_lnk`` = 2, kept in a second list ``ghead``).  Ghosts count
where NuPIC reads the segment itself (a segment's connected activity, the best matching segment
of learning phase 1) and not where it propagates (column confidence, learning phase 2).
``nupic_free=0`` frees the weakest inactive synapses (then active ones) of the segment as it is
after the removal.

numba caches a kernel against its own file: a change here must be followed by a change in
:mod:`.backtracking_kernels` (its ``STATE_FIELDS``, say) or a cleared ``__pycache__``.
"""
import numpy as np
from numba import njit

# NuPIC's segment duty cycle: moving-average rate ``_ALPHAS[t]`` once more than ``_TIERS[t]``
# learning iterations have passed
TIERS = np.array([0, 100, 320, 1000, 3200, 10000, 32000, 100000, 320000], dtype=np.int64)
_ALPHAS = np.array([0.0, 0.0032, 0.0010, 0.00032, 0.00010, 0.000032, 0.000010, 0.0000032, 0.0000010])


@njit(cache=True)
def mark(mask, idx, n, value):
    """``mask[idx[:n]] = value``."""
    for k in range(n):
        mask[idx[k]] = value


@njit(cache=True)
def mark_presynaptic(c, seg, value):
    """``mask2`` of the presynaptic cells of ``seg`` (none for seg < 0) set to ``value``."""
    if seg >= 0:
        for slot in range(c.scalars[0].S):
            if c.syn_pre[seg, slot] >= 0:
                c.mask2[c.syn_pre[seg, slot]] = value


@njit(cache=True)
def first_free(row):
    """Index of the first free (negative) entry of ``row``."""
    k = 0
    while row[k] >= 0:
        k += 1
    return k


@njit(cache=True)
def _link(c, heads, pre, sid):
    first = heads[pre]
    c.nxt[sid] = first
    c.prv[sid] = -1
    if first >= 0:
        c.prv[first] = sid
    heads[pre] = sid


@njit(cache=True)
def _unlink(c, heads, pre, sid):
    if c.prv[sid] >= 0:
        c.nxt[c.prv[sid]] = c.nxt[sid]
    else:
        heads[pre] = c.nxt[sid]
    if c.nxt[sid] >= 0:
        c.prv[c.nxt[sid]] = c.prv[sid]


@njit(cache=True)
def add_syn(c, seg, pre, perm):
    """New synapse from cell ``pre`` in the first free slot of ``seg``."""
    slot = first_free(c.syn_pre[seg])
    c.syn_pre[seg, slot] = pre
    c.syn_perm[seg, slot] = perm
    c.syn_lnk[seg, slot] = 1
    _link(c, c.head, pre, seg * c.scalars[0].S + slot)
    c.seg_nsyn[seg] += 1


@njit(cache=True)
def remove_syn(c, seg, slot):
    """Frees synapse ``slot`` of ``seg`` (and unlinks it from its presynaptic cell's list)."""
    pre = c.syn_pre[seg, slot]
    _unlink(c, c.head if c.syn_lnk[seg, slot] == 1 else c.ghead, pre, seg * c.scalars[0].S + slot)
    c.syn_pre[seg, slot] = -1
    c.syn_lnk[seg, slot] = 0
    c.seg_nsyn[seg] -= 1


@njit(cache=True)
def make_ghost(c, seg, pre):
    """NuPIC's erasure of ``pre``'s forward link to ``seg`` when the synapse stays: it moves to
    the ghost list (nothing if ``seg`` has no linked synapse from ``pre``)."""
    S = c.scalars[0].S
    for slot in range(S):
        if c.syn_pre[seg, slot] == pre and c.syn_lnk[seg, slot] == 1:
            sid = seg * S + slot
            _unlink(c, c.head, pre, sid)
            _link(c, c.ghead, pre, sid)
            c.syn_lnk[seg, slot] = 2
            return


@njit(cache=True)
def release(c, seg):
    """Removes segment ``seg`` and its synapses; its id goes back to the pool."""
    s = c.scalars[0]
    for slot in range(s.S):
        if c.syn_pre[seg, slot] >= 0:
            remove_syn(c, seg, slot)
    cell = c.seg_cell[seg]
    c.cell_segs[cell, c.seg_pos[seg]] = -1
    c.cell_nseg[cell] -= 1
    c.seg_cell[seg] = -1
    c.free_ids[s.nfree] = seg
    s.nfree += 1
    for u in range(s.n_upd):              # pending updates of a removed segment are void
        if c.upd_seg[u] == seg:
            c.upd_seg[u] = -2


@njit(cache=True)
def new_segment(c, cell, seq):
    """New empty segment on ``cell`` (``seq``: a sequence segment); returns its id."""
    s = c.scalars[0]
    if s.nfree > 0:
        s.nfree -= 1
        seg = c.free_ids[s.nfree]
    else:
        seg = s.hw
        s.hw += 1
    pos = first_free(c.cell_segs[cell])
    c.cell_segs[cell, pos] = seg
    c.cell_nseg[cell] += 1
    c.seg_cell[seg], c.seg_pos[seg], c.seg_seq[seg] = cell, pos, seq
    c.seg_posact[seg] = 1
    c.seg_dc[seg] = 1.0 / s.n_lrn
    c.seg_dcit[seg] = s.n_lrn
    return seg


@njit(cache=True)
def duty_cycle(c, seg, active):
    """Segment duty cycle (NuPIC's tiered moving average), updated to the current iteration."""
    it = c.scalars[0].n_lrn
    if it <= TIERS[1]:
        dc = c.seg_posact[seg] / it
    else:
        age = it - c.seg_dcit[seg]
        if age == 0 and not active:
            return c.seg_dc[seg]
        alpha = 0.0
        for t in range(len(TIERS) - 1, 0, -1):
            if it > TIERS[t]:
                alpha = _ALPHAS[t]
                break
        dc = (1.0 - alpha) ** age * c.seg_dc[seg]
        if active:
            dc += alpha
    c.seg_dc[seg], c.seg_dcit[seg] = dc, it
    return dc


@njit(cache=True)
def _add_new(c, seg, src, nsrc):
    """Adds the sources still marked 1 in ``mask2`` (new to ``seg``) and clears the marks."""
    s = c.scalars[0]
    for k in range(nsrc):
        if c.mask2[src[k]] == 1:
            if c.seg_nsyn[seg] < s.S:
                add_syn(c, seg, src[k], s.init_perm)
            else:
                s.n_overflow += 1
        c.mask2[src[k]] = 0


@njit(cache=True)
def _adapt_nupic(c, seg, src, nsrc):
    """``Cells4::adaptSegment`` on an existing segment, its stale free-list positions included."""
    s = c.scalars[0]
    pos, pre0, act0, live = c.scr[0], c.scr[1], c.scr[2], c.scr[3]
    cpos, extra = c.scr[4], c.scr[5]
    perm0, ckey = c.scrf[0], c.scrf[1]
    m = 0
    for slot in range(s.S):                          # slots in presynaptic order
        p = c.syn_pre[seg, slot]
        if p < 0:
            continue
        j = m
        while j > 0 and c.syn_pre[seg, pos[j - 1]] > p:
            pos[j] = pos[j - 1]
            j -= 1
        pos[j] = slot
        m += 1
    mark(c.mask2, src, nsrc, 1)                      # 1: new source, 2: existing synapse
    for i in range(m):
        slot = pos[i]
        p = c.syn_pre[seg, slot]
        pre0[i] = p
        if c.mask2[p]:
            c.mask2[p] = 2
            act0[i] = 1
            perm0[i] = c.syn_perm[seg, slot]
        else:
            act0[i] = 0
            v = min(c.syn_perm[seg, slot] - s.dec, s.pmax)
            c.syn_perm[seg, slot] = v
            perm0[i] = v
    size1 = 0
    for i in range(m):                               # decayed synapses go
        slot = pos[i]
        if act0[i] == 0 and c.syn_perm[seg, slot] <= 0:
            remove_syn(c, seg, slot)
        else:
            live[size1] = slot
            size1 += 1
    for i in range(m):
        if act0[i]:
            c.syn_perm[seg, pos[i]] = min(c.syn_perm[seg, pos[i]] + s.inc, s.pmax)
    nnew = 0
    for k in range(nsrc):
        if c.mask2[src[k]] == 1:
            nnew += 1
    nfree = nnew + size1 - s.maxsyn
    if nfree > 0:
        nc = 0
        for wanted in range(2):                      # inactive positions, then (if short) active
            if wanted == 1 and nc >= nfree:
                break
            for i in range(m):
                if act0[i] != wanted:
                    continue
                key = c.syn_perm[seg, live[i]] if i < size1 else perm0[i]
                if wanted == 1:
                    key += s.pmax
                j = nc                               # stable insertion by key
                while j > 0 and ckey[j - 1] > key:
                    ckey[j] = ckey[j - 1]
                    cpos[j] = cpos[j - 1]
                    j -= 1
                ckey[j] = key
                cpos[j] = i
                nc += 1
        nghost = 0
        for k in range(min(nfree, nc)):
            i = cpos[k]
            if i < size1:
                extra[nghost] = -1 - live[i]         # a slot to free
            else:
                extra[nghost] = pre0[i]              # a stale read: that cell's link is erased
            nghost += 1
        for k in range(nghost):
            if extra[k] < 0:
                remove_syn(c, seg, -1 - extra[k])
        for k in range(nghost):
            if extra[k] >= 0:
                make_ghost(c, seg, extra[k])
    _add_new(c, seg, src, nsrc)


@njit(cache=True)
def _adapt_clean(c, seg, src, nsrc):
    """Segment update with the weakest synapses of the updated segment freed (no stale positions)."""
    s = c.scalars[0]
    mark(c.mask2, src, nsrc, 1)                      # 1: new source, 2: existing synapse
    n_active = 0
    for slot in range(s.S):
        p = c.syn_pre[seg, slot]
        if p < 0:
            continue
        if c.mask2[p]:
            c.syn_perm[seg, slot] = min(c.syn_perm[seg, slot] + s.inc, s.pmax)
            c.mask2[p] = 2
            n_active += 1
        else:
            v = c.syn_perm[seg, slot] - s.dec
            c.syn_perm[seg, slot] = v
            if v <= 0:
                remove_syn(c, seg, slot)
    excess = nsrc - n_active + c.seg_nsyn[seg] - s.maxsyn
    for _ in range(excess):                          # free the weakest, inactive ones first
        best, bslot = 1e9, -1
        for slot in range(s.S):
            p = c.syn_pre[seg, slot]
            if p < 0:
                continue
            key = c.syn_perm[seg, slot] + (s.pmax if c.mask2[p] == 2 else 0.0)
            if bslot < 0 or key < best or (key == best and p < c.syn_pre[seg, bslot]):
                best, bslot = key, slot
        remove_syn(c, seg, bslot)
    _add_new(c, seg, src, nsrc)


@njit(cache=True)
def adapt(c, cell, seg, src, nsrc):
    """Apply an update: reinforce ``seg`` (+inc on synapses from ``src``, -dec on the others, new
    synapses from the rest of ``src``) or, for seg = -1, create a sequence segment on ``cell``."""
    s = c.scalars[0]
    if seg < 0:
        seg = new_segment(c, cell, True)
        for k in range(nsrc):
            add_syn(c, seg, src[k], s.init_perm)
        return
    if c.seg_cell[seg] < 0:
        return
    c.seg_posact[seg] += 1
    duty_cycle(c, seg, True)
    if s.nupic_free:
        _adapt_nupic(c, seg, src, nsrc)
    else:
        _adapt_clean(c, seg, src, nsrc)
    if c.seg_nsyn[seg] == 0:
        release(c, seg)
