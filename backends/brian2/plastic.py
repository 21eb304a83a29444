"""Equation-defined synapses (neurosim's ``SynapseModel``) as Brian2 ``Synapses`` code.

The translation follows the numba kernel (``backends/numba/plasticity.py``) step
for step, so that one network gives the same spikes and weights on both:

* every synaptic variable is a plain per-synapse Brian2 variable, not an
  ``(event-driven)`` one: neurosim's analysis (``analyse_event_driven``) gives
  dx/dt = a + b x, and the event code advances x exactly from the synapse's last
  event, ``x = f + (x - f) exp(b (t_ev - lu))`` with f = -a/b (or ``x += a (t_ev - lu)``
  when b = 0), with the same constants as numba (shared constant variables
  ``nsx_<x>_f``, ``nsx_<x>_b``, ``nsx_<x>_a``, so the code depends on the structure only;
  Brian2 refuses names ending in ``_pre``/``_post``, hence the suffix);
* the event time is neurosim's spike stamp, ``t_ev = (step + 1) dt`` in ms: user
  statements read it as ``t``;
* ``on_pre`` runs in the ``synapses`` slot when a presynaptic spike arrives
  (neurosim delay d steps = Brian2 delay (d - 1) dt, as for static synapses: after
  the neurons' integration, before the threshold); it advances the variables, runs
  the user statements and delivers ``psp`` (default ``w``) through the receptor;
* ``on_post`` runs in the ``after_resets`` slot, after every threshold and reset of
  the step (numba: after the spikes are collected), for postsynaptic spikes
  round(dendritic_delay_fraction * d) steps old (Brian2 delay of that many dt on the
  ``post`` pathway; 0 = in the step of the spike);
* neuron variables ``x_pre`` / ``x_post`` become Brian2's ``<x>_pre`` / ``<x>_post``.

Synapses are created in numba's CSR order (sorted by presynaptic, then
postsynaptic index), so receptor sums are added in the same order.
"""
from dataclasses import dataclass, field

import numpy as np

from neurosim import expressions
from neurosim.equations import analyse_event_driven

from . import translate as tr

T_EVENT = "nsx_tev"      # temporary: event time (ms)
DT_MS = "nsx_dtms"       # shared constant: dt (ms)
LAST = "nsx_lu"          # per synapse: time of the last event (ms)
ELAPSED = "nsx_dtau"     # temporary: time since the last event (ms)
PSP = "nsx_psp"          # temporary: the amount delivered to the receptor
# names every Brian2 Synapses object defines or reads itself
SYNAPSE_RESERVED = {"w", "delay", "lastupdate", "i", "j", "N", "N_pre", "N_post", "N_incoming",
                    "N_outgoing", "t", "dt", "xi"}
# variables of the groups (Brian2 refuses a synaptic variable named like a presynaptic one)
GROUP_NAMES = {"N", "i", "t", "dt", "t_in_timesteps", "lastspike", "not_refractory", "_spikespace"}
SOURCE_NAMES = {"rate", "neuron_index", "spike_number", "spike_time", "period", "_lastindex",
                "_period_bins", "_timebins"}


@dataclass
class SynapseCode:
    """Brian2 text of one projection's synapses and the values its variables start with."""
    model: str
    on_pre: str
    on_post: str = ""                              # empty: no post pathway
    shared: dict = field(default_factory=dict)     # Brian2 name -> float (shared constants)
    initial: dict = field(default_factory=dict)    # Brian2 name -> float64 array in connection order


def static_code(proj, post_names, post_cell):
    """A StaticSynapse: ``w`` added through the receptor statement."""
    return SynapseCode("w : 1", tr.on_pre(post_cell, post_names, proj.receptor))


def _neuron_refs(proj, syn, group_names):
    """``<var>_pre`` / ``<var>_post`` -> Brian2 code (``Projection`` has checked that they exist)."""
    refs = syn.neuron_references()
    return {f"{var}_{side}": f"{group_names[k][var]}_{side}"
            for side, k in (("pre", proj.pre), ("post", proj.post)) for var in sorted(refs[side])}


def _advance(syn, names):
    """(lines, shared constants) bringing every synaptic variable to the event time."""
    from neurosim.backends.numba.propagator import evaluate_texts
    plan = analyse_event_driven(syn.equations, list(syn.parameters), syn.name)
    if not plan:
        return [], {}
    lines, shared = [f"{ELAPSED} = {T_EVENT} - {LAST}", f"{LAST} = {T_EVENT}"], {}
    for var, (a_text, b_text) in plan.items():
        a, b = evaluate_texts(a_text, syn.parameters), evaluate_texts(b_text, syn.parameters)
        x = names[var]
        if b == 0.0:
            if a != 0.0:
                shared[f"nsx_{x}_a"] = float(a)
                lines.append(f"{x} = {x} + nsx_{x}_a*{ELAPSED}")
        else:
            shared[f"nsx_{x}_f"], shared[f"nsx_{x}_b"] = float(-a / b), float(b)
            lines.append(f"{x} = nsx_{x}_f + ({x} - nsx_{x}_f)*exp(nsx_{x}_b*{ELAPSED})")
    return lines, shared


def plastic_code(proj, built, group_names):
    """Brian2 text of a projection with a SynapseModel (see the module docstring).

    ``group_names``: population index -> translate.Names of the neuron populations.
    """
    syn = proj.synapse
    post = built.populations[proj.post]
    own = list(syn.equations.variables) + list(syn.parameters)
    taken = set(SYNAPSE_RESERVED) | GROUP_NAMES
    for k in (proj.pre, proj.post):
        taken |= set(group_names[k].to_neurosim) if k in group_names else SOURCE_NAMES
    names = tr.Names(own, reserved=taken)
    mapping = {name: names[name] for name in own}
    mapping.update(w="w", t=T_EVENT, psp=PSP)
    mapping.update(_neuron_refs(proj, syn, group_names))
    advance, shared = _advance(syn, names)
    shared[DT_MS] = float(built.dt)
    for name, value in syn.parameters.items():
        shared[names[name]] = float(value)

    def event_code(statements, tail=()):
        body = [f"{mapping[target]} {op} {tr.expr(tree, mapping)}" for target, op, tree in statements]
        reads_t = any("t" in expressions.names(tree) for _, _, tree in statements)
        clock = [f"{T_EVENT} = (timestep(t, dt) + 1)*{DT_MS}"] if advance or reads_t else []
        return "\n".join(clock + advance + body + list(tail))

    delivers = [] if any(target == "psp" for target, _, _ in syn.on_pre) else [f"{PSP} = w"]
    on_pre = event_code(syn.on_pre, delivers + [tr.on_pre(post.celltype, group_names[proj.post],
                                                          proj.receptor, amount=PSP)])
    on_post = event_code(syn.on_post) if syn.on_post and post.celltype.threshold is not None else ""
    model = ["w : 1"] + [f"{names[v]} : 1" for v in syn.equations.variables]
    if advance:
        model.append(f"{LAST} : 1")
    model += [f"{name} : 1 (shared, constant)" for name in shared]
    initial = {names[v]: np.asarray(values, dtype=float) for v, values in proj.syn_initial.items()}
    return SynapseCode("\n".join(model), on_pre, on_post, shared, initial)


def dendritic_steps(proj):
    """Per synapse: steps after which a postsynaptic spike reaches it (numba's rounding)."""
    # np.round rounds halves to even, as Python's round() in neurosim.build
    return np.round(proj.synapse.dendritic_delay_fraction * proj.delay_steps).astype(np.int64)
