"""Ring buffers and the projections that write into them (per-synapse delays).

Every (post population, receptor) that receives through a projection with per-synapse delays
has a ring buffer of ``max delay + 1`` rows of one value per neuron; all of them live in one
flat array ``ring_flat``, located by the rows of ``rtab`` (offset, rows, neurons).  In step n
the neuron loop reads and clears row ``n % rows``; a spike through a synapse with delay d adds
its weight to row ``(n + d) % rows`` (computed without a division, and with a prefetch of a later
synapse's ring value when the rings are larger than the cache).

All those projections share one set of synapse arrays in CSR order (``gp_ptr``, ``gp_tgt``,
``gp_w``, ``gp_d``; one row of ``gp_tab`` per projection: presynaptic slot, offset of its row
pointers, ring, and the range [lo, hi) of presynaptic neurons that have synapses, the only ones
given row pointers: a projection from part of a population, or from one population of a fused
group, then keeps its row pointers small) and one loop, so the kernel's source and argument
list do not grow with the number of projections (a network such as PD14 has 64; one loop and four arrays each made the
first compile take over a minute).  The loop visits projections in network order, then spikes,
then synapses, so every ring value is summed in the same order as by one loop per projection.
"""
import numpy as np

# Rings larger than this (bytes) mostly miss the cache: the loop then asks for the ring value of
# the synapse PREFETCH_AHEAD places further on before it adds this one, so several misses overlap.
# Measured on PD14 (one thread, 2-core EPYC VM, 512 KiB L2 per core): a 7.9 MB ring (scale 0.25)
# took 8-10 instead of 14 core-ns per event, 15.7 MB (scale 0.5) 9-13 instead of 14-20; a 1.6 MB
# ring (scale 0.05) was slower with it (7.5 instead of 4.5-5.5).
PREFETCH_MIN_RING_BYTES = 4 * 2**20
PREFETCH_AHEAD = 32
# with several threads, the rings are split between them when there is this much to do per step
PARALLEL_MIN_SYNAPSES = 10**7


def take(values, order):
    """``values[order]``; ``order`` None means the synapses are already in CSR order."""
    return values if order is None else values[order]


def csr_rows(pre, n_pre):
    """CSR layout of synapses with presynaptic indices ``pre``: the permutation that lists them by
    presynaptic neuron (stable; None if they already are) and the ``n_pre + 1`` row pointers."""
    order = None if len(pre) < 2 or bool(np.all(pre[1:] >= pre[:-1])) else np.argsort(pre, kind="stable")
    if order is None:   # sorted: binary search, where bincount would copy int32 indices to int64
        return None, np.append(np.searchsorted(pre, np.arange(n_pre, dtype=pre.dtype)), len(pre)).astype(np.int64)
    ptr = np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=n_pre))]).astype(np.int64)
    return order, ptr


def used_rows(ptr):
    """The range [lo, hi) of rows (presynaptic neurons) of CSR row pointers ``ptr`` that have
    synapses; a kernel keeps row pointers for those only (``ptr[lo:hi + 1]``)."""
    used = np.flatnonzero(ptr[1:] != ptr[:-1])
    return (int(used[0]), int(used[-1]) + 1) if len(used) else (0, 0)


def share(proj, ptr, tgt, d=None, w=None, shift=0):
    """Let the BuiltProjection's target, delay and weight arrays be views of the kernel's copies
    (same synapses, same order), and keep its presynaptic indices as the row pointers ``ptr``
    only, so a large network does not hold its connectivity twice.  ``tgt`` holds the targets
    + ``shift`` (fusion.py: a population placed at an offset).
    Weights become the kernel's (float32 unless numerics="float64"), the values it runs with."""
    proj.keep_rows_only(ptr)
    if proj.post_idx.dtype == tgt.dtype:
        proj.share_targets(tgt, shift)
    if d is not None and proj.delay_steps.dtype == d.dtype:
        proj.delay_steps = d
    if w is not None and proj.weights.strides[0] != 0:      # uniform weights are stored once
        proj.weights = w


def allocate(kb, lengths):
    """One flat ring array for ``lengths`` ({(post, receptor): rows}); returns {key: ring number}."""
    keys = sorted(lengths)
    sizes = [kb.built.populations[post].size for post, _ in keys]
    rows = [lengths[key] for key in keys]
    extent = np.multiply(rows, sizes, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(extent)[:-1]]).astype(np.int64)
    kb.arg("ring_flat", np.zeros(int(extent.sum()), dtype=kb.dtype))
    kb.arg("rtab", np.column_stack([offsets, rows, sizes]).astype(np.int64).reshape(len(keys), 3))
    return {key: n for n, key in enumerate(keys)}


def read_row(kb, ring, receptor):
    """Emit ``in_<receptor>_``: this step's row of ring ``ring`` (a view the neuron loop clears)."""
    kb.emit(2, f"ro_ = rtab[{ring}, 0] + (step % rtab[{ring}, 1]) * rtab[{ring}, 2]")
    kb.emit(2, f"in_{receptor}_ = ring_flat[ro_:ro_ + rtab[{ring}, 2]]")


def propagate(kb, js, rings):
    """Emit the one loop that pushes this step's spikes through projections ``js`` (indices of
    static projections with per-synapse delays, in network order) into ``rings``."""
    built = kb.built
    projections = [built.projections[j] for j in js]
    pres = sorted({p.pre for p in projections})
    slot = {k: n for n, k in enumerate(pres)}
    sizes = [built.populations[k].size for k in pres]
    kb.arg("gps", np.zeros(max(sum(sizes), 1), dtype=np.int32))     # this step's spikes, by slot
    kb.arg("gps_off", np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64))
    kb.arg("gpn", np.zeros(len(pres), dtype=np.int64))
    n_syn = [p.n_synapses for p in projections]
    total = int(sum(n_syn))
    tgt = np.empty(total, dtype=np.int32)
    w = np.empty(total, dtype=kb.dtype)
    d = np.empty(total, dtype=np.int16)
    ptrs, tab, start, ptr_start = [], np.empty((len(js), 5), dtype=np.int64), 0, 0
    for row, (j, proj, n) in enumerate(zip(js, projections, n_syn)):
        n_pre = built.populations[proj.pre].size
        order, ptr = csr_rows(proj.pre_idx, n_pre)
        lo, hi = used_rows(ptr)
        ptrs.append(start + ptr[lo:hi + 1])
        tgt[start:start + n] = take(proj.post_idx, order)
        w[start:start + n] = take(proj.weights, order)
        d[start:start + n] = take(proj.delay_steps, order)
        if order is None:
            share(proj, ptr, tgt[start:start + n], d[start:start + n], w[start:start + n])
        tab[row] = (slot[proj.pre], ptr_start, rings[(proj.post, proj.receptor)], lo, hi)
        kb.meta["projections"][j] = {"weights": "gp_w", "order": order, "slice": (start, start + n)}
        start, ptr_start = start + n, ptr_start + hi - lo + 1
    groups = _ring_groups(tab[:, 2], np.asarray(n_syn), kb.threads)
    rows = np.concatenate(groups).astype(np.int64)          # each group in network order
    kb.arg("gp_tab", tab[rows])
    kb.arg("gp_group", np.concatenate([[0], np.cumsum([len(g) for g in groups])]).astype(np.int64))
    kb.arg("gp_ptr", np.concatenate(ptrs).astype(np.int64))
    kb.arg("gp_tgt", tgt)
    kb.arg("gp_w", w)
    kb.arg("gp_d", d)
    for k in pres:
        kb.emit(2, f"gpn[{slot[k]}] = n_spk{k}")
        kb.emit(2, f"for q_ in range(n_spk{k}):")
        kb.emit(3, f"gps[gps_off[{slot[k]}] + q_] = spk{k}[q_]")
    # one group of rings per thread: rings are disjoint, so the threads never write the same value
    # and every ring value is still summed in network order (same spikes for any thread count)
    loop = "prange" if kb.parallel and total >= PARALLEL_MIN_SYNAPSES else "range"
    kb.uses_prange |= loop == "prange"
    kb.emit(2, f"for gg_ in {loop}(gp_group.shape[0] - 1):")
    kb.emit(3, "for gj_ in range(gp_group[gg_], gp_group[gg_ + 1]):")
    body = [(0, "gkp_ = gp_tab[gj_, 0]"),
            (0, "gso_ = gps_off[gkp_]"),
            (0, "grk_ = gp_tab[gj_, 2]"),
            (0, "glo_ = gp_tab[gj_, 3]"),
            (0, "ghi_ = gp_tab[gj_, 4]"),
            (0, "gp0_ = gp_tab[gj_, 1] - glo_"),
            (0, "gro_ = rtab[grk_, 0]"),
            (0, "grl_ = rtab[grk_, 1]"),
            (0, "grs_ = rtab[grk_, 2]"),
            (0, "gnow_ = step % grl_"),
            (0, "for gq_ in range(gpn[gkp_]):"),
            (1, "gsrc_ = gps[gso_ + gq_]"),
            (1, "if gsrc_ < glo_ or gsrc_ >= ghi_:"),
            (2, "continue"),
            (1, "gend_ = gp_ptr[gp0_ + gsrc_ + 1]"),
            (1, "for gq2_ in range(gp_ptr[gp0_ + gsrc_], gend_):")]
    if kb.args["ring_flat"].nbytes >= PREFETCH_MIN_RING_BYTES:
        body += [(2, f"gqk_ = min(gq2_ + {PREFETCH_AHEAD}, gend_ - 1)"),
                 (2, "ghk_ = gnow_ + gp_d[gqk_]"),
                 (2, "ghk_ = ghk_ - grl_ if ghk_ >= grl_ else ghk_"),
                 (2, "prefetch(ring_flat, gro_ + ghk_ * grs_ + gp_tgt[gqk_])")]
    # (now + d) % rows without a division: 0 <= now < rows and 1 <= d < rows
    body += [(2, "gh_ = gnow_ + gp_d[gq2_]"),
             (2, "gh_ = gh_ - grl_ if gh_ >= grl_ else gh_"),
             (2, "ring_flat[gro_ + gh_ * grs_ + gp_tgt[gq2_]] += gp_w[gq2_]")]
    for depth, line in body:
        kb.emit(4 + depth, line)


def _ring_groups(ring_of_row, n_syn, n_groups):
    """Rows of the projection table split into at most ``n_groups`` groups, whole rings to a group,
    balanced by synapse count (largest ring first to the lightest group)."""
    rings = np.unique(ring_of_row)
    load = {r: int(n_syn[ring_of_row == r].sum()) for r in rings}
    group_of, totals = {}, [0] * max(1, min(n_groups, len(rings)))
    for r in sorted(rings, key=lambda r: -load[r]):
        g = int(np.argmin(totals))
        group_of[r], totals[g] = g, totals[g] + load[r]
    return [np.flatnonzero([group_of[r] == g for r in ring_of_row]) for g in range(len(totals))]
