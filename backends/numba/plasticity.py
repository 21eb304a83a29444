"""Kernel code for plastic (equation-defined) projections.

Per synapse, in CSR order (sorted by presynaptic neuron): the weight
``sv{j}_w``, each synaptic variable ``sv{j}_<var>`` and the time of its last
update ``lu{j}`` (ms).  Synaptic variables follow dx/dt = a + b x, so they are
advanced exactly, and only when an event touches the synapse.

* on_pre runs when a presynaptic spike arrives (t_pre + delay), then the
  synapse delivers ``psp`` (default: the weight) through the receptor;
* on_post runs when a postsynaptic spike reaches the synapse
  (t_post + dendritic_delay_fraction * delay), over a CSC index by
  postsynaptic neuron.

Event times are the spike stamps, (step + 1) * dt.
"""
import numpy as np

from neurosim import expressions
from neurosim.equations import analyse_event_driven

from .propagator import evaluate_texts


def _mapping(kb, j, proj, syn_index, src, tgt):
    """Names in synapse statements -> kernel code."""
    syn = proj.synapse
    pops = kb.built.populations
    mapping = {name: kb.arg(f"sp{j}_{name}", np.float64(value)) for name, value in syn.parameters.items()}
    mapping["w"] = f"sv{j}_w[{syn_index}]"
    mapping["t"] = "t_ev_"
    mapping["psp"] = "psp_"
    for var in syn.equations.variables:
        mapping[var] = f"sv{j}_{var}[{syn_index}]"
    for side, k, index in (("pre", proj.pre, src), ("post", proj.post, tgt)):
        for var in getattr(pops[k].celltype, "recordable", []):
            mapping[f"{var}_{side}"] = f"s{k}_{var}[{index}]"
    return mapping


def _advance(kb, j, proj, indent, syn_index):
    """Bring every synaptic variable from lu{j} to t_ev_ (exact solution of dx/dt = a + b x)."""
    syn = proj.synapse
    plan = analyse_event_driven(syn.equations, list(syn.parameters), syn.name)
    if not plan:
        return
    kb.emit(indent, f"dtau_ = t_ev_ - lu{j}[{syn_index}]")
    kb.emit(indent, f"lu{j}[{syn_index}] = t_ev_")
    for var, (a_text, b_text) in plan.items():
        a, b = evaluate_texts(a_text, syn.parameters), evaluate_texts(b_text, syn.parameters)
        x = f"sv{j}_{var}[{syn_index}]"
        if b == 0.0:
            if a != 0.0:
                kb.emit(indent, f"{x} += {kb.arg(f'ea{j}_{var}', np.float64(a))} * dtau_")
        else:
            fixed = kb.arg(f"ef{j}_{var}", np.float64(-a / b))          # fixed point -a/b
            rate = kb.arg(f"eb{j}_{var}", np.float64(b))
            kb.emit(indent, f"{x} = {fixed} + ({x} - {fixed}) * np.exp({rate} * dtau_)")


def _statements(kb, stmts, mapping, indent):
    for target, op, tree in stmts:
        kb.emit(indent, f"{mapping[target]} {op} {expressions.to_code(tree, mapping)}")


def csr_arrays(kb, j, proj, order):
    """Per-synapse arrays in CSR order (``order`` None: already in it), the CSC index and the
    presynaptic index per synapse."""
    from .rings import take
    syn = proj.synapse
    kb.arg(f"sv{j}_w", np.ascontiguousarray(take(proj.weights, order), dtype=kb.dtype))
    for var in syn.equations.variables:
        kb.arg(f"sv{j}_{var}", np.ascontiguousarray(take(proj.syn_initial[var], order), dtype=kb.dtype))
    kb.arg(f"lu{j}", np.zeros(proj.n_synapses, dtype=np.float64))
    post_sorted = take(proj.post_idx, order)
    n_post = kb.built.populations[proj.post].size
    by_post = np.argsort(post_sorted, kind="stable")
    counts = np.bincount(post_sorted, minlength=n_post)
    kb.arg(f"cp{j}_ptr", np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
    kb.arg(f"cp{j}_syn", by_post.astype(np.int64))
    kb.arg(f"csrc{j}", np.ascontiguousarray(take(proj.pre_idx, order), dtype=np.int32))
    kb.meta["projections"][j] = {"weights": f"sv{j}_w", "order": order}


def deliver_plastic(kb, j, proj, ptr, tgt, receptor_code):
    """on_pre for the presynaptic spikes emitted ``delay`` steps ago, then delivery."""
    syn = proj.synapse
    hist = f"hist{proj.pre}"
    d0 = kb.arg(f"c{j}_d0", np.int64(proj.delay_steps[0] if len(proj.delay_steps) else 1))
    mapping = _mapping(kb, j, proj, "s_", "src_", "i")
    kb.emit(2, f"h_ = (step - {d0}) % {hist}.shape[0]")
    kb.emit(2, "t_ev_ = (step + 1) * dt")
    kb.emit(2, f"for q_ in range(histn{proj.pre}[h_]):")
    kb.emit(3, f"src_ = {hist}[h_, q_]")
    kb.emit(3, f"for s_ in range({ptr}[src_], {ptr}[src_ + 1]):")
    kb.emit(4, f"i = {tgt}[s_]")
    _advance(kb, j, proj, 4, "s_")
    _statements(kb, syn.on_pre, mapping, 4)
    if not any(target == "psp" for target, _, _ in syn.on_pre):
        kb.emit(4, f"psp_ = sv{j}_w[s_]")
    for line in receptor_code("psp_"):
        kb.emit(4, line)


def post_events(kb, j, proj):
    """on_post for the postsynaptic spikes that reach the synapses in this step."""
    syn = proj.synapse
    if not syn.on_post:
        return
    k = proj.post
    if proj.dendritic_steps == 0:
        spikes, count = f"spk{k}", f"n_spk{k}"
    else:
        kb.emit(2, f"hp_ = (step - {proj.dendritic_steps}) % hist{k}.shape[0]")
        spikes, count = f"hist{k}[hp_]", f"histn{k}[hp_]"
    mapping = _mapping(kb, j, proj, "s_", "src_", "i")
    kb.emit(2, "t_ev_ = (step + 1) * dt")
    kb.emit(2, f"for q_ in range({count}):")
    kb.emit(3, f"i = {spikes}[q_]")
    kb.emit(3, f"for r_ in range(cp{j}_ptr[i], cp{j}_ptr[i + 1]):")
    kb.emit(4, f"s_ = cp{j}_syn[r_]")
    kb.emit(4, f"src_ = csrc{j}[s_]")
    _advance(kb, j, proj, 4, "s_")
    _statements(kb, syn.on_post, mapping, 4)

