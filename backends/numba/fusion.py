"""Populations of one cell type run as one: a shorter kernel, the same spikes.

Most of a first run's time is the kernel's compile, and the kernel has one neuron loop, one
spike scan and one delivery loop per population and projection.  Networks often hold several
populations that differ only in size, connectivity and a few values (the excitatory and
inhibitory cells of the CUBA benchmark are one cell type; the eight populations of the PD14
microcircuit differ only in their DC drive): :func:`fuse` concatenates such populations into
one kernel population (their state arrays end to end) and merges the projections that then
share source, target, receptor and delay into one synapse table.  CUBA's kernel goes from two
neuron loops and four delivery loops to one and two, about half the compile.

Nothing a user sees changes: the simulation maps every population to its slice of the fused
arrays and every projection to its synapses in the merged table, and the spikes are
bit-identical (every neuron does the same arithmetic, and every variable receives its inputs
in the same order: projections are merged only where no projection delivered in between
targets the same population).  Populations are fused when they share the equations, the
integration method, which parameters vary per neuron and the recording intervals.  A parameter
that is one value in each population but not the same in all of them becomes a per-neuron array
of the fused population, and so does every constant the code generator derives from it
(propagator entries, reciprocals), each computed from that population's own value as without
fusion.  Only groups below the size at which neuron loops are split between threads are fused,
in networks up to MAX_SYNAPSES; the network's projections share the kernel's arrays (targets in
a population placed at an offset are read back shifted).  Projections are merged up to
MAX_MERGED_SYNAPSES (merged ones keep a copy of their synapses).
"""
import ast
import dataclasses

import numpy as np

from neurosim.build import BuiltNetwork, BuiltPopulation
from neurosim.neurons import NeuronModel

from .rings import PARALLEL_MIN_SYNAPSES, csr_rows, share

# Fused groups stay serial (below the size at which a neuron loop is split between threads)
MAX_FUSED_NEURONS = 20000
MAX_SYNAPSES = 10**8
MAX_MERGED_SYNAPSES = 2 * 10**6


@dataclasses.dataclass
class FusedPopulation(BuiltPopulation):
    """Populations end to end.  ``params`` holds one float where all of them have the same value,
    else one value per neuron; ``uniform`` names the parameters that are one value within each
    population (the code treats them as constants of the population); ``parts`` the populations
    fused, in order."""
    parts: list = dataclasses.field(default_factory=list)
    uniform: frozenset = frozenset()


@dataclasses.dataclass
class Layout:
    """How the network's populations and projections sit in the kernel."""
    network: BuiltNetwork     # what the kernel is generated from (fused entries are None)
    place: dict               # population k -> (kernel population, offset of its first neuron)
    members: dict             # kernel population -> [population k, ...] fused into it
    positions: dict           # merged projection j -> (kernel projection, kernel index of each connection)
    enabled: bool = True      # fuse() was asked to fuse (a checkpoint is restored the same way)


def fuse(built, enabled=True, threads=1):
    """The kernel :class:`Layout` of ``built``; ``enabled=False`` keeps every object separate.
    With several threads, networks large enough to split their synapse rings between threads
    are not fused: the threads share the work ring by ring, and fused populations have fewer."""
    pops = built.populations
    place = {k: (k, 0) for k, pop in enumerate(pops) if pop.kind == "neuron"}
    n_synapses = sum(p.n_synapses for p in built.projections)
    if n_synapses > MAX_SYNAPSES or (threads > 1 and n_synapses >= PARALLEL_MIN_SYNAPSES):
        enabled = False
    groups = [g for g in (_groups(built) if enabled else []) if len(g) > 1]
    if not groups:
        return Layout(built, place, {k: [k] for k in place}, {}, enabled)
    kernel_pops = list(pops)
    for group in groups:
        offsets = np.concatenate([[0], np.cumsum([pops[k].size for k in group])[:-1]]).tolist()
        kernel_pops[group[0]] = _concatenate([pops[k] for k in group], offsets)
        for k, offset in zip(group, offsets):
            place[k] = (group[0], int(offset))
            if k != group[0]:
                kernel_pops[k] = None
    members = {}
    for k, (g, _) in place.items():
        members.setdefault(g, []).append(k)
    projections = [_remap(proj, place, members) for proj in built.projections]
    if n_synapses <= MAX_MERGED_SYNAPSES:
        projections, positions = _merge(built, projections, kernel_pops)
    else:
        positions = {}
    return Layout(BuiltNetwork(built.dt, built.seed, kernel_pops, projections), place, members, positions, enabled)


# ----------------------------------------------------------------- populations
def _groups(built):
    """Indices of the neuron populations that may run as one, in network order."""
    groups = []          # [cell type key, size so far, [k...]]
    for k, pop in enumerate(built.populations):
        key = _kernel_key(pop.celltype) if pop.kind == "neuron" else None
        if key is None:
            continue
        for group in groups:
            if (group[0] == key and group[1] + pop.size < MAX_FUSED_NEURONS
                    and _same_kernel(built.populations[group[2][0]], pop)):
                group[1] += pop.size
                group[2].append(k)
                break
        else:
            groups.append([key, pop.size, [k]])
    return [members for _, _, members in groups]


def _kernel_key(cell):
    """Everything of a cell type the kernel's code is made from (None: unknown kind, not fused)."""
    if not isinstance(cell, NeuronModel):
        return None
    text = ast.unparse
    return (type(cell), cell.name, cell.equations.source, cell.method, cell.current_input,
            None if cell.threshold is None else text(cell.threshold),
            tuple((target, op, text(tree)) for target, op, tree in cell.reset),
            tuple((r, target, op, text(tree)) for r, (target, op, tree) in sorted(cell.receptors.items())),
            cell.refractory if isinstance(cell.refractory, str) else None)


def _same_kernel(a, b):
    """True if populations a and b of one cell type (same :func:`_kernel_key`) run the same code
    (values may differ)."""
    if set(a.params) != set(b.params):
        return False
    if any(isinstance(value, float) != isinstance(b.params[name], float) for name, value in a.params.items()):
        return False
    if isinstance(a.refractory_steps, int) != isinstance(b.refractory_steps, int):
        return False
    return all(a.record[var][1] == b.record[var][1] for var in set(a.record) & set(b.record))


def _concatenate(pops, offsets):
    """One BuiltPopulation holding ``pops`` end to end (neuron i of pops[m] is offsets[m] + i)."""
    first = pops[0]
    joined = lambda arrays: np.concatenate([np.asarray(a) for a in arrays])   # noqa: E731
    per_neuron = lambda values: np.repeat(values, [p.size for p in pops])     # noqa: E731
    params, uniform = {}, set()
    for name, value in first.params.items():
        if not isinstance(value, float):
            params[name] = joined(p.params[name] for p in pops)
        elif all(p.params[name] == value for p in pops):
            params[name] = value
        else:
            params[name] = per_neuron([p.params[name] for p in pops]).astype(np.float64)
            uniform.add(name)
    refractory = first.refractory_steps
    if not isinstance(refractory, int):
        refractory = joined(p.refractory_steps for p in pops)
    elif any(p.refractory_steps != refractory for p in pops):
        refractory = per_neuron([p.refractory_steps for p in pops]).astype(np.int64)
    fields = {f.name: getattr(first, f.name) for f in dataclasses.fields(BuiltPopulation)}
    out = FusedPopulation(**dict(
        fields, label="+".join(p.label for p in pops), size=sum(p.size for p in pops), params=params,
        initial={var: joined(p.initial[var] for p in pops) for var in first.initial},
        refractory_steps=refractory, record={}, injection=None, record_spikes=None),
        parts=list(pops), uniform=frozenset(uniform))
    if any(p.record_spikes is not None for p in pops):
        out.record_spikes = joined(p.record_spikes if p.record_spikes is not None else np.zeros(p.size, bool)
                                   for p in pops)
    for var in dict.fromkeys(var for p in pops for var in p.record):
        every = next(p.record[var][1] for p in pops if var in p.record)
        out.record[var] = (joined(p.record[var][0] + off for p, off in zip(pops, offsets) if var in p.record),
                           every)
    injected = [(p.injection, off) for p, off in zip(pops, offsets) if p.injection is not None]
    if injected:
        steps = joined(inj[0] for inj, _ in injected)
        order = np.argsort(steps, kind="stable")
        out.injection = (steps[order], joined(inj[1] + off for inj, off in injected)[order],
                         joined(inj[2] for inj, _ in injected)[order])
    return out


# ----------------------------------------------------------------- projections
def _remap(proj, place, members):
    """The projection in kernel indices: itself if neither end was fused, else a copy (arrays
    shared where the indices do not move)."""
    (pre, pre_off), (post, post_off) = place.get(proj.pre, (proj.pre, 0)), place.get(proj.post, (proj.post, 0))
    if len(members.get(pre, ())) < 2 and len(members.get(post, ())) < 2:
        return proj
    pre_idx = proj.pre_idx + pre_off if pre_off else proj.pre_idx
    post_idx = proj.post_idx + post_off if post_off else proj.post_idx
    return dataclasses.replace(proj, pre=pre, post=post, _pre_idx=pre_idx, _post_idx=post_idx,
                               _pre_local=None, _post_local=None, pre_rows=None, post_shift=0)


def share_back(layout, built):
    """After code generation: let the network's own projections use the kernel's arrays where
    the kernel's copy does (as ``rings.share`` does without fusion), so a fused network does
    not hold its synapses twice; targets in a population placed at an offset are the kernel's,
    read back shifted (``BuiltProjection.share_targets``)."""
    for j, (orig, copy) in enumerate(zip(built.projections, layout.network.projections)):
        if copy is None or copy is orig or j in layout.positions or copy.pre_rows is None:
            continue
        _, pre_off = layout.place.get(orig.pre, (orig.pre, 0))
        rows = copy.pre_rows[pre_off:pre_off + built.populations[orig.pre].size + 1]
        post_off = layout.place.get(orig.post, (orig.post, 0))[1]
        share(orig, rows - rows[0], copy.post_idx, copy.delay_steps, copy.weights, shift=post_off)


def _merge(built, projections, kernel_pops):
    """Merge static one-delay projections that share kernel source, target, receptor and delay.

    A projection joins an earlier one only if no projection delivered between the two (in network
    order) targets the same population, and none of them is plastic: every neuron then receives
    its input in the same order as without merging."""
    slots = []               # [key, position, [j...], {original post populations}]
    merged = list(projections)
    for j, proj in enumerate(projections):
        if proj.synapse is not None or not proj.one_delay:
            slots.append([None, j, [j], {built.projections[j].post}])
            continue
        post = built.projections[j].post
        key = (proj.pre, proj.post, proj.receptor, int(proj.delay_steps[0]) if len(proj.delay_steps) else 1)
        target = None
        for s in reversed(slots):
            if s[0] == key and post not in s[3]:
                target = s
                break
            if (s[0] is None and projections[s[1]].synapse is not None) or post in s[3]:
                break            # a plastic projection, or input to the same population, in between
        if target is None:
            slots.append([key, j, [j], {post}])
        else:
            target[2].append(j)
            target[3].add(post)
    positions = {}
    for _, lead, js, _ in slots:
        if len(js) < 2:
            continue
        parts = [projections[j] for j in js]
        pre_idx = np.concatenate([p.pre_idx for p in parts])
        merged[lead] = dataclasses.replace(
            parts[0], label="+".join(p.label for p in parts), _pre_idx=pre_idx,
            _post_idx=np.concatenate([p.post_idx for p in parts]), post_shift=0,
            weights=np.concatenate([np.asarray(p.weights) for p in parts]),
            delay_steps=np.concatenate([p.delay_steps for p in parts]), _pre_local=None, _post_local=None,
            pre_rows=None, record_every=0)
        order, _ = csr_rows(pre_idx, kernel_pops[parts[0].pre].size)
        where = np.arange(len(pre_idx)) if order is None else np.argsort(order)   # connection -> kernel index
        start = 0
        for j, part in zip(js, parts):
            positions[j] = (lead, where[start:start + part.n_synapses])
            start += part.n_synapses
            if j != lead:
                merged[j] = None
    return merged, positions
