"""NIR (Neuromorphic Intermediate Representation) export and import (``pip install neurosim[nir]``).

Units of the graphs written and read here: times (``tau*``, ``delay``) in seconds, as NIR
specifies; voltages in mV, resistances ``r`` in MOhm, currents in nA.  Weights of the
Linear/Affine nodes are then in nA*s: a spike through weight W steps a CubaLIF's synaptic
current by ``w_in*W/tau_syn`` nA, a LIF's or LI's v by ``r*W/tau`` mV and an IF's v by ``r*W`` mV.
NIR has no time step: neurosim's shortest delay (one step, ``dt``) is NIR delay 0, so a
neurosim delay ``d`` ms is a Delay node of ``(d - dt)/1000`` s.

``to_nir(network)`` exports IF_curr_exp populations as CubaLIF (or, with two different
synaptic time constants, two LI nodes -- the synaptic currents, r = 1, v_leak = 0 -- summed
into one LIF), IF_curr_delta as LIF, SpikeSourceArray as Input, each projection as a Linear
over the whole populations (preceded by a Delay when delays exceed one step), and one Output
per neuron population.  Refractory periods and initial values are not part of NIR: they are
dropped with a warning.  Refused with UnsupportedFeatureError: other cell types, ``i_offset``,
plastic synapses, Poisson sources, delays that differ between the synapses of one
presynaptic neuron.

``from_nir(graph, dt, inputs)`` builds a Network from CubaLIF, LIF, IF, LI, Linear, Affine,
Delay, Input and Output nodes (a graph or a file written by ``nir.write``).  CubaLIF becomes
IF_curr_exp; LIF driven by spikes becomes IF_curr_delta; LIF fed by one or two LI nodes
becomes IF_curr_exp with the LI time constants; IF and LI read-outs become small
equation-defined models (``NIR_IF``, ``NIR_LI``).  Affine biases become constant currents
(exactly, including the CubaLIF synaptic filter's rise from zero).  NIR states start at
v = v_leak (IF: 0), synaptic currents at 0.
"""
import warnings

import numpy as np

from neurosim.errors import UnsupportedFeatureError, ValidationError

_SPIKING = ("CubaLIF", "LIF", "IF")
_TRANSFORMS = ("Linear", "Affine", "Delay")


def _nir():
    try:
        import nir
    except ImportError as exc:
        raise UnsupportedFeatureError("NIR", "this installation (the nir package is not installed)",
                                      "pip install 'neurosim[nir]'") from exc
    return nir


# --------------------------------------------------------------------------- export

def to_nir(network):
    """Return a ``nir.NIRGraph`` of ``network`` (see the module docstring for the mapping)."""
    from neurosim.build import build
    from neurosim.network import Network
    nir = _nir()
    if not isinstance(network, Network):
        raise ValidationError("to_nir", "network", f"must be a neurosim Network (got {network!r})")
    built = build(network)
    dt = built.dt
    nodes, edges, targets = {}, [], {}
    for pop in built.populations:
        receptors = {p.receptor for p in built.projections if built.populations[p.post] is pop}
        _export_population(nir, pop, receptors, nodes, edges, targets)
    for k, proj in enumerate(built.projections):
        _export_projection(nir, k, proj, built, dt, nodes, edges, targets)
    metadata = {"generator": "neurosim", "dt_ms": dt,
                "units": "tau and delay in s, v in mV, r in MOhm, current in nA, weights in nA*s"}
    # NIR's type inference starts from Input nodes; a self-sustained network has none
    has_input = any(type(node).__name__ == "Input" for node in nodes.values())
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=has_input)


def _full(pop, name):
    return np.broadcast_to(np.asarray(pop.params[name], dtype=float), (pop.size,)).copy()


def _export_population(nir, pop, receptors, nodes, edges, targets):
    kind = type(pop.celltype).__name__
    obj = f"Population '{pop.label}'"
    if pop.kind == "array":
        nodes[pop.label] = nir.Input(input_type=np.array([pop.size]))
        return
    if pop.kind != "neuron" or kind not in ("IF_curr_exp", "IF_curr_delta"):
        raise UnsupportedFeatureError("NIR", f"{obj}: {kind if pop.kind == 'neuron' else 'SpikeSourcePoisson'}",
                                      "NIR export covers IF_curr_exp, IF_curr_delta and SpikeSourceArray")
    if np.any(_full(pop, "i_offset") != 0):
        raise UnsupportedFeatureError("NIR", f"{obj}: i_offset != 0 (NIR neurons have no constant input)",
                                      "set i_offset=0 or drive the population with a spike source")
    if np.any(np.asarray(pop.refractory_steps) > 0):
        warnings.warn(f"{obj}: NIR has no refractory period; tau_refrac is dropped", stacklevel=4)
    if not np.allclose(pop.initial.get("v", _full(pop, "v_rest")), _full(pop, "v_rest")):
        warnings.warn(f"{obj}: NIR has no initial state; imported graphs start at v = v_rest", stacklevel=4)
    tau_m, cm = _full(pop, "tau_m"), _full(pop, "cm")
    common = dict(r=tau_m / cm, v_leak=_full(pop, "v_rest"), v_threshold=_full(pop, "v_thresh"),
                  v_reset=_full(pop, "v_reset"))
    nodes[f"output.{pop.label}"] = nir.Output(output_type=np.array([pop.size]))
    edges.append((pop.label, f"output.{pop.label}"))
    if kind == "IF_curr_delta":   # v jumps by w mV = r*W/tau  ->  W = w*tau/r = w*cm/1000
        nodes[pop.label] = nir.LIF(tau=tau_m / 1000.0, **common)
        targets[(pop.label, "excitatory")] = targets[(pop.label, "inhibitory")] = (pop.label, cm / 1000.0)
        return
    tau_e, tau_i = _full(pop, "tau_syn_E"), _full(pop, "tau_syn_I")
    single = receptors <= {"excitatory"} or receptors <= {"inhibitory"} or np.array_equal(tau_e, tau_i)
    if single:   # isyn jumps by w nA = W/tau_syn (w_in = 1)  ->  W = w*tau_syn
        tau_syn = tau_i if receptors == {"inhibitory"} else tau_e
        nodes[pop.label] = nir.CubaLIF(tau_syn=tau_syn / 1000.0, tau_mem=tau_m / 1000.0, w_in=1.0, **common)
        for receptor in ("excitatory", "inhibitory"):
            targets[(pop.label, receptor)] = (pop.label, tau_syn / 1000.0)
        return
    nodes[pop.label] = nir.LIF(tau=tau_m / 1000.0, **common)
    for receptor, tau in (("excitatory", tau_e), ("inhibitory", tau_i)):
        name = f"{pop.label}.{receptor}_current"
        nodes[name] = nir.LI(tau=tau / 1000.0, r=np.ones(pop.size), v_leak=np.zeros(pop.size))
        edges.append((name, pop.label))
        targets[(pop.label, receptor)] = (name, tau / 1000.0)


def _export_projection(nir, k, proj, built, dt, nodes, edges, targets):
    pre, post = built.populations[proj.pre], built.populations[proj.post]
    obj = f"Projection '{proj.label}'"
    if proj.synapse is not None:
        raise UnsupportedFeatureError("NIR", f"{obj}: plastic synapses ({type(proj.synapse).__name__})",
                                      "NIR graphs hold fixed weights; export a static copy of the network")
    target, scale = targets[(post.label, proj.receptor)]
    weights = np.zeros((post.size, pre.size))
    np.add.at(weights, (proj.post_idx, proj.pre_idx), proj.weights * scale[proj.post_idx])
    name = f"projection{k}.{proj.label}"
    delays = np.zeros(pre.size)
    extra = (proj.delay_steps - 1) * dt / 1000.0
    delays[proj.pre_idx] = extra
    if not np.allclose(delays[proj.pre_idx], extra, rtol=0, atol=1e-12):
        raise UnsupportedFeatureError("NIR", f"{obj}: different delays on the synapses of one presynaptic "
                                      "neuron", "NIR's Delay node delays a neuron's output: give each "
                                      "presynaptic neuron one delay")
    nodes[name] = nir.Linear(weight=weights)
    source = pre.label
    if np.any(delays > 0):
        nodes[name + ".delay"] = nir.Delay(delay=delays)
        edges.append((source, name + ".delay"))
        source = name + ".delay"
    edges.append((source, name))
    edges.append((name, target))


# --------------------------------------------------------------------------- import

def from_nir(graph, dt=0.1, inputs=None, seed=None, label="nir"):
    """Build a neurosim Network from a NIR graph (or the path of a NIR file).

    dt: time step in ms.  inputs: ``{input node name: spike times}`` in ms, one sequence per
    element of the input (missing inputs never spike).  Every spiking population records
    spikes; LI read-outs record ``v``.  See the module docstring for the mapping.
    """
    import os

    import neurosim as ns
    nir = _nir()
    if isinstance(graph, (str, os.PathLike)):
        graph = nir.read(graph, type_check=False)   # shapes are checked here, path by path
    if not isinstance(graph, nir.NIRGraph):
        raise ValidationError("from_nir", "graph", f"must be a nir.NIRGraph or a NIR file (got {graph!r})")
    inputs = dict(inputs or {})
    nodes, preds, succs = graph.nodes, {n: [] for n in graph.nodes}, {n: [] for n in graph.nodes}
    for src, dst in graph.edges:
        preds[dst].append(src)
        succs[src].append(dst)
    for name, node in nodes.items():
        kind = type(node).__name__
        if kind not in _SPIKING + _TRANSFORMS + ("LI", "Input", "Output"):
            raise UnsupportedFeatureError("NIR", f"node '{name}' of type {kind}", "from_nir reads CubaLIF, "
                                          "LIF, IF, LI, Linear, Affine, Delay, Input and Output nodes")
    unknown = set(inputs) - {n for n, node in nodes.items() if type(node).__name__ == "Input"}
    if unknown:
        raise ValidationError("from_nir", "inputs", f"no Input node named {sorted(unknown)[0]!r}")
    filters = {n for n, node in nodes.items() if type(node).__name__ == "LI" and succs[n]
               and all(type(nodes[s]).__name__ == "LIF" for s in succs[n])}
    net = ns.Network(dt=dt, seed=seed, label=label)
    pops, receptor_of, offsets = {}, {}, {}
    for name, node in nodes.items():
        kind = type(node).__name__
        if kind == "Input":
            size = int(np.prod(node.input_type["input"]))
            pops[name] = net.add(ns.Population(size, ns.SpikeSourceArray(inputs.get(name, [[]] * size)),
                                               label=name))
        elif kind in _SPIKING or (kind == "LI" and name not in filters):
            fed_by = [p for p in preds[name] if p in filters]
            cell, receptor_of[name] = _cell_for(name, node, [nodes[p] for p in fed_by], fed_by)
            pops[name] = net.add(ns.Population(node.v_threshold.size if kind != "LI" else node.tau.size,
                                               cell, label=name))
            pops[name].record("v" if kind == "LI" else "spikes")
            offsets[name] = {}
    for name in list(pops):
        if name in receptor_of:
            for src in preds[name]:
                if src in filters:
                    for filter_src in preds[src]:
                        _import_path(ns, net, nodes, preds, pops, filter_src, src, name,
                                     receptor_of[name][src], dt, offsets[name])
                elif None not in receptor_of[name]:
                    raise UnsupportedFeatureError("NIR", f"LIF node '{name}' fed both by LI nodes and by "
                                                  f"'{src}'", "feed it through LI nodes only, or use CubaLIF")
                else:
                    _import_path(ns, net, nodes, preds, pops, src, name, name, receptor_of[name][None], dt,
                                 offsets[name])
    for name, offset in offsets.items():   # Affine biases: constant currents, see _cell_for
        _apply_bias(pops[name], nodes[name], offset)
    return net


def _cell_for(name, node, filters, filter_names):
    """(neurosim cell, {filter name or None: (receptor, spike factor, bias factor)}) for a NIR
    neuron node: a NIR weight W becomes the neurosim weight W*spike factor (nA or mV), an
    Affine bias b the constant current b*bias factor (nA)."""
    import neurosim as ns
    kind = type(node).__name__
    obj = f"NIR node '{name}' ({kind})"
    if kind == "CubaLIF":
        tau_ms = node.tau_mem * 1000.0
        cell = ns.IF_curr_exp(cm=tau_ms / node.r, tau_m=tau_ms, tau_syn_E=node.tau_syn * 1000.0,
                              tau_syn_I=node.tau_syn * 1000.0, v_rest=node.v_leak, v_reset=node.v_reset,
                              v_thresh=node.v_threshold, tau_refrac=0.0)
        return cell, {None: ("excitatory", node.w_in / node.tau_syn, node.w_in)}
    if kind == "IF":
        model = ns.NeuronModel("dv/dt = i_bias/c : mV", threshold="v > v_threshold", reset="v = v_reset",
                               parameters=dict(c=1000.0 / node.r, i_bias=0.0, v_threshold=node.v_threshold,
                                               v_reset=node.v_reset),
                               receptors={"excitatory": "v += weight"}, name="NIR_IF")
        return model, {None: ("excitatory", node.r, 1.0)}
    if kind == "LI":
        model = ns.NeuronModel("dv/dt = (v_leak - v)/tau + i_bias/c : mV",
                               parameters=dict(tau=node.tau * 1000.0, c=node.tau * 1000.0 / node.r,
                                               v_leak=node.v_leak, i_bias=0.0),
                               initial=dict(v=node.v_leak), receptors={"excitatory": "v += weight"},
                               name="NIR_LI")
        return model, {None: ("excitatory", node.r / node.tau, 1.0)}
    tau_ms = node.tau * 1000.0   # LIF
    common = dict(cm=tau_ms / node.r, tau_m=tau_ms, v_rest=node.v_leak, v_reset=node.v_reset,
                  v_thresh=node.v_threshold, tau_refrac=0.0)
    if not filters:
        return ns.IF_curr_delta(**common), {None: ("excitatory", node.r / node.tau, 1.0)}
    if len(filters) > 2:
        raise UnsupportedFeatureError("NIR", f"{obj}: fed by {len(filters)} LI nodes",
                                      "at most two (IF_curr_exp has two synaptic currents)")
    for f, fname in zip(filters, filter_names):
        if np.any(f.v_leak != 0) or f.tau.size != node.tau.size:
            raise UnsupportedFeatureError("NIR", f"{obj}: LI node '{fname}' as a synaptic current needs "
                                          "v_leak = 0 and the LIF's size", "use a CubaLIF node")
    taus = [f.tau * 1000.0 for f in filters] * (3 - len(filters))
    cell = ns.IF_curr_exp(tau_syn_E=taus[0], tau_syn_I=taus[1], **common)
    receptors = {fname: (rec, f.r / f.tau, f.r) for fname, f, rec in zip(filter_names, filters,
                                                                    ("excitatory", "inhibitory"))}
    return cell, receptors


def _chain(nodes, preds, src, dst_name):
    """Walk back from the edge src -> dst through Linear/Affine/Delay nodes to a population."""
    chain = []
    while type(nodes[src]).__name__ in _TRANSFORMS:
        chain.insert(0, nodes[src])
        if len(preds[src]) != 1:
            raise UnsupportedFeatureError("NIR", f"node '{src}' has {len(preds[src])} inputs on the way "
                                          f"to '{dst_name}'", "transforms between populations take one input")
        src = preds[src][0]
    return src, chain


def _import_path(ns, net, nodes, preds, pops, src, via, target, receptor_factor, dt, offset):
    """One projection for the path src -> [Delay] -> [Linear|Affine] -> [Delay] -> via."""
    source, chain = _chain(nodes, preds, src, via)
    if source not in pops or type(nodes[source]).__name__ == "LI":
        raise UnsupportedFeatureError("NIR", f"the input of '{via}' from '{source}'",
                                      "inputs must come from Input or spiking (CubaLIF, LIF, IF) nodes")
    n_pre, n_post = pops[source].size, pops[target].size
    weight, bias = None, np.zeros(n_post)
    d_pre, d_post = np.zeros(n_pre), np.zeros(n_post)
    for node in chain:
        kind = type(node).__name__
        if kind == "Delay":
            if weight is None:
                d_pre = d_pre + node.delay
            else:
                d_post = d_post + node.delay
        elif weight is not None:
            raise UnsupportedFeatureError("NIR", f"two weight nodes between '{source}' and '{via}'",
                                          "merge them into one Linear node")
        else:
            weight = np.asarray(node.weight, dtype=float)
            if kind == "Affine":
                bias = np.broadcast_to(node.bias, (n_post,)).astype(float)
    if weight is None:
        weight = np.eye(n_post, n_pre) if n_pre == n_post else None
    if weight is None or weight.shape != (n_post, n_pre):
        raise ValidationError(f"NIR path '{source}' -> '{via}'", "weight", f"must have shape ({n_post}, "
                              f"{n_pre}) (got {None if weight is None else weight.shape})")
    receptor, factor, bias_factor = receptor_factor
    offset[receptor] = offset.get(receptor, 0.0) + bias_factor * bias
    post, pre = np.nonzero(weight)
    if not pre.size:
        return
    w = weight[post, pre] * np.broadcast_to(factor, (n_post,))[post]
    delay_ms = dt + 1000.0 * (d_pre[pre] + d_post[post])
    steps = np.round(delay_ms / dt)
    if not np.allclose(steps * dt, delay_ms, rtol=0, atol=1e-6 * dt):
        warnings.warn(f"NIR delays into '{via}' rounded to multiples of dt = {dt} ms", stacklevel=3)
    conn = np.column_stack([pre, post, w, steps * dt])
    cell = pops[target].celltype
    for rec, rows in _by_receptor(cell, receptor, conn):
        net.add(ns.Projection(pops[source], pops[target], ns.FromListConnector(rows),
                              ns.StaticSynapse(), receptor_type=rec, label=f"{source}->{via}:{rec}"))


def _by_receptor(cell, receptor, conn):
    """Positive weights excitatory, negative inhibitory where both receptors share a time constant."""
    same = "tau_syn_I" in cell.parameters and np.array_equal(cell.parameters["tau_syn_E"],
                                                              cell.parameters["tau_syn_I"])
    if receptor != "excitatory" or not (same or type(cell).__name__ == "IF_curr_delta"):
        return [(receptor, conn)]
    parts = [("excitatory", conn[conn[:, 2] > 0]), ("inhibitory", conn[conn[:, 2] < 0])]
    return [(rec, rows) for rec, rows in parts if len(rows)]


def _apply_bias(pop, node, offset):
    """Affine biases as constant currents (nA).  Into a synaptic current that starts at 0 (CubaLIF,
    LI filters) the bias b gives i_offset = b plus an initial current of -b in that synaptic
    variable, which then rises to b with the synaptic time constant exactly as in NIR."""
    if not any(np.any(b != 0) for b in offset.values()):
        return
    total = sum(offset.values())
    kind = type(node).__name__
    if kind in ("IF", "LI"):
        pop.set(i_bias=total)
        return
    pop.set(i_offset=total)
    if type(pop.celltype).__name__ == "IF_curr_exp":
        for receptor, var in (("excitatory", "isyn_exc"), ("inhibitory", "isyn_inh")):
            if receptor in offset:
                pop.initialize(**{var: -np.broadcast_to(offset[receptor], (pop.size,))})
