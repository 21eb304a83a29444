"""Ring buffers and the projections that write into them (per-synapse delays).

Every (post population, receptor) that receives through a projection with per-synapse delays
has a ring buffer of ``max delay + 1`` rows of one value per neuron; all of them live in one
flat array ``ring_flat``, located by the rows of ``rtab`` (offset, rows, neurons).  In step n
the neuron loop reads and clears row ``n % rows``; a spike through a synapse with delay d adds
its weight to row ``(n + d) % rows`` (computed without a division, and with a prefetch of a later
synapse's ring value when the rings are larger than the cache).

All those projections share one set of synapse arrays in CSR order (``gp_ptr``, ``gp_tgt``,
``gp_w``, ``gp_d``; one row of ``gp_tab`` per projection: presynaptic slot, offset of its row
pointers, ring) and one loop, so the kernel's source and argument list do not grow with the
number of projections (a network such as PD14 has 64; one loop and four arrays each made the
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


def take(values, order):
    """``values[order]``; ``order`` None means the synapses are already in CSR order."""
    return values if order is None else values[order]


def csr_rows(pre, n_pre):
    """CSR layout of synapses with presynaptic indices ``pre``: the permutation that lists them by
    presynaptic neuron (stable; None if they already are) and the ``n_pre + 1`` row pointers."""
    order = None if len(pre) < 2 or bool(np.all(pre[1:] >= pre[:-1])) else np.argsort(pre, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=n_pre))]).astype(np.int64)
    return order, ptr


def _share(proj, tgt, d):
    """Let the BuiltProjection's target and delay arrays be views of the kernel's copies (same
    values, same order), so a large network does not hold its connectivity twice."""
    if proj.post_idx.dtype == tgt.dtype:
        if proj.post_local is proj.post_idx:
            proj.post_local = tgt
        proj.post_idx = tgt
    if proj.delay_steps.dtype == d.dtype:
        proj.delay_steps = d


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
    n_syn = [len(p.pre_idx) for p in projections]
    total = int(sum(n_syn))
    tgt = np.empty(total, dtype=np.int32)
    w = np.empty(total, dtype=kb.dtype)
    d = np.empty(total, dtype=np.int16)
    ptrs, tab, start, ptr_start = [], np.empty((len(js), 3), dtype=np.int64), 0, 0
    for row, (j, proj, n) in enumerate(zip(js, projections, n_syn)):
        n_pre = built.populations[proj.pre].size
        order, ptr = csr_rows(proj.pre_idx, n_pre)
        ptrs.append(start + ptr)
        tgt[start:start + n] = take(proj.post_idx, order)
        w[start:start + n] = take(proj.weights, order)
        d[start:start + n] = take(proj.delay_steps, order)
        if order is None:
            _share(proj, tgt[start:start + n], d[start:start + n])
        tab[row] = (slot[proj.pre], ptr_start, rings[(proj.post, proj.receptor)])
        kb.meta["projections"][j] = {"weights": "gp_w", "order": order, "slice": (start, start + n)}
        start, ptr_start = start + n, ptr_start + n_pre + 1
    kb.arg("gp_tab", tab)
    kb.arg("gp_ptr", np.concatenate(ptrs).astype(np.int64))
    kb.arg("gp_tgt", tgt)
    kb.arg("gp_w", w)
    kb.arg("gp_d", d)
    for k in pres:
        kb.emit(2, f"gpn[{slot[k]}] = n_spk{k}")
        kb.emit(2, f"for q_ in range(n_spk{k}):")
        kb.emit(3, f"gps[gps_off[{slot[k]}] + q_] = spk{k}[q_]")
    kb.emit(2, "for jj_ in range(gp_tab.shape[0]):")
    kb.emit(3, "kp_ = gp_tab[jj_, 0]")
    kb.emit(3, "so_ = gps_off[kp_]")
    kb.emit(3, "p0_ = gp_tab[jj_, 1]")
    kb.emit(3, "rk_ = gp_tab[jj_, 2]")
    kb.emit(3, "ro_ = rtab[rk_, 0]")
    kb.emit(3, "rl_ = rtab[rk_, 1]")
    kb.emit(3, "rs_ = rtab[rk_, 2]")
    kb.emit(3, "now_ = step % rl_")
    kb.emit(3, "for q_ in range(gpn[kp_]):")
    kb.emit(4, "src_ = gps[so_ + q_]")
    kb.emit(4, "end_ = gp_ptr[p0_ + src_ + 1]")
    kb.emit(4, "for q2_ in range(gp_ptr[p0_ + src_], end_):")
    if kb.args["ring_flat"].nbytes >= PREFETCH_MIN_RING_BYTES:
        kb.emit(5, f"qk_ = min(q2_ + {PREFETCH_AHEAD}, end_ - 1)")
        kb.emit(5, "hk_ = now_ + gp_d[qk_]")
        kb.emit(5, "hk_ = hk_ - rl_ if hk_ >= rl_ else hk_")
        kb.emit(5, "prefetch(ring_flat, ro_ + hk_ * rs_ + gp_tgt[qk_])")
    # (now + d) % rows without a division: 0 <= now < rows and 1 <= d < rows
    kb.emit(5, "h_ = now_ + gp_d[q2_]")
    kb.emit(5, "h_ = h_ - rl_ if h_ >= rl_ else h_")
    kb.emit(5, "ring_flat[ro_ + h_ * rs_ + gp_tgt[q2_]] += gp_w[q2_]")
