"""Capability profiles of the PyNN backends and the check that ``compile`` runs first.

A :class:`Target` describes what one PyNN simulator can run (cell types,
sources, currents, synapse types, STDP rules, timestep, delay range, neurons
per core, weight precision).  :func:`check_network` (on the description) and
:func:`check_built` (on the built arrays: delays, weight signs, initial
values) refuse anything else with ``UnsupportedFeatureError(backend, feature,
hint)`` *before* any PyNN call.  ``profile(target)`` renders the same facts as
the ``PROFILE`` dict that ``neurosim info`` and the README matrix show.
"""
import math
from dataclasses import dataclass, field

import numpy as np

from neurosim.errors import UnsupportedFeatureError
from neurosim.neurons import StandardCellType
from neurosim.sources import SpikeSource
from neurosim.synapses import (STDPMechanism, SynapseModel, TsodyksMarkramSynapse)

from .translations import CELLS

EQUATION_HINT = "run equation-defined models with backend='numba' or backend='brian2'"


@dataclass
class Target:
    """What one PyNN backend supports (data, rendered into PROFILE and checked by compile)."""
    name: str                                   # neurosim backend name ("nest")
    description: str
    pynn_module: str                            # "pyNN.nest"
    cells: tuple                                # neurosim standard cell names
    sources: tuple = ("SpikeSourcePoisson", "SpikeSourceArray")
    currents: tuple = ("DCSource", "StepCurrentSource")
    synapses: tuple = ("StaticSynapse",)
    timing: tuple = ()                          # keys of translations.TIMING
    weight_dependences: tuple = ()
    record: dict = field(default_factory=dict)  # cell -> {neurosim var: (PyNN var, factor)}; default CELLS
    initial: dict = field(default_factory=dict)  # cell -> {neurosim var: (PyNN name, factor)}; default CELLS
    stdp_w_min_zero: bool = False               # NEST: w_min must be 0
    stdp_dendritic_fraction: tuple = None       # allowed dendritic_delay_fraction values (None: any)
    allowed_dt: tuple = None                    # None: any dt; else the allowed values in ms
    dt_text: str = "any (as the simulator allows)"
    delay_text: str = ""
    neurons_per_core: str = "no limit (memory bound)"
    weight_precision: str = "float64"
    spike_time_offset: str = ""
    alternatives: str = "numba or brian2"
    extra: dict = field(default_factory=dict)   # more PROFILE rows
    hints: dict = field(default_factory=dict)   # refusal hints by feature (not in PROFILE)

    def record_map(self, cell_name):
        return self.record.get(cell_name, CELLS[cell_name].record)

    def initial_map(self, cell_name):
        return self.initial.get(cell_name, CELLS[cell_name].initial)


def profile(target):
    """The PROFILE dict of a target (``neurosim info``, README support matrix)."""
    plastic = []
    for key in target.timing:
        rule, pairing = key
        plastic.append(rule + (f" ({pairing})" if pairing else ""))
    out = {
        "name": target.name,
        "description": target.description,
        "cell_types": ", ".join(target.cells),
        "sources": ", ".join(target.sources + target.currents),
        "synapse_types": ", ".join(target.synapses),
        "plasticity": (", ".join(plastic) + "; " + " / ".join(
            w.replace("WeightDependence", "").lower() for w in target.weight_dependences)
            if plastic else "none"),
        "equation_defined_models": False,
        "timestep_ms": target.dt_text,
        "delay_range_steps": target.delay_text,
        "neurons_per_core": target.neurons_per_core,
        "weight_precision": target.weight_precision,
        "spike_times": target.spike_time_offset,
    }
    out.update(target.extra)
    return out


def _refuse(target, feature, hint):
    raise UnsupportedFeatureError(target.name, feature, hint)


def check_network(network, target, stdp_extra=None, native=None):
    """Refuse description features the target lacks (no build, no PyNN call).

    ``native(model)``: True for models to let through unchecked (numba's numerics='spinnaker'
    runs models already written in sPyNNaker's arithmetic)."""
    dt = network.dt
    if target.allowed_dt is not None and not any(abs(dt - a) < 1e-9 for a in target.allowed_dt):
        _refuse(target, f"timestep dt = {dt:g} ms (Network.dt)",
                f"{target.name} runs at dt = {' or '.join(f'{a:g}' for a in target.allowed_dt)} ms "
                f"({target.dt_text}); build the network with Network(dt=1.0) or use {target.alternatives}")
    for pop in network.populations:
        cell, obj = pop.celltype, pop._obj()
        if native is not None and native(cell):
            continue
        if isinstance(cell, SpikeSource):
            if cell.name not in target.sources:
                _refuse(target, f"{cell.name} in {obj}", f"supported sources: {', '.join(target.sources)}; "
                        f"use {target.alternatives}")
        elif not isinstance(cell, StandardCellType):
            _refuse(target, f"equation-defined NeuronModel '{cell.name}' in {obj}",
                    f"{target.name} runs only PyNN standard cells ({', '.join(target.cells)}); {EQUATION_HINT}")
        elif cell.name not in target.cells:
            _refuse(target, f"cell type {cell.name} in {obj}",
                    f"{target.name} supports {', '.join(target.cells)}; use {target.alternatives}")
        for source, _ in pop._injections:
            name = type(source).__name__
            if name not in target.currents:
                _refuse(target, f"current source {name} injected into {obj}",
                        f"supported: {', '.join(target.currents) or 'none'}; use {target.alternatives}")
        for var, (_, interval) in pop._record.items():
            if var == "spikes":
                continue
            if isinstance(cell, SpikeSource):
                continue
            allowed = target.record_map(cell.name)
            if var not in allowed:
                _refuse(target, f"recording '{var}' of {cell.name} in {obj}",
                        f"{target.name} records {', '.join(['spikes'] + list(allowed))} of {cell.name}; "
                        f"record '{var}' with backend='numba' or backend='brian2'")
        intervals = {round(dt if iv is None else iv, 9) for v, (_, iv) in pop._record.items() if v != "spikes"}
        if len(intervals) > 1:
            _refuse(target, f"different sampling intervals for the variables of {obj}",
                    "PyNN keeps one sampling interval per population; record them with one interval")
    for proj in network.projections:
        if native is None or not native(proj.synapse_type):
            check_synapse(proj, target, stdp_extra)


def check_synapse(proj, target, stdp_extra=None):
    syn, obj = proj.synapse_type, proj._obj()
    name = type(syn).__name__
    if isinstance(syn, TsodyksMarkramSynapse):
        if "TsodyksMarkramSynapse" not in target.synapses:
            _refuse(target, f"TsodyksMarkramSynapse in {obj}", target.hints.get(
                "TsodyksMarkramSynapse", "use nest, numba or brian2"))
        return
    if isinstance(syn, STDPMechanism):
        if "STDPMechanism" not in target.synapses:
            _refuse(target, f"STDPMechanism in {obj}", f"use {target.alternatives}")
        timing, wd = syn.timing_dependence, syn.weight_dependence
        key = (type(timing).__name__, getattr(timing, "pairing", None))
        if key not in target.timing:
            rules = ", ".join(r + (f" (pairing='{p}')" if p else "") for r, p in target.timing)
            _refuse(target, f"{key[0]}" + (f" with pairing='{key[1]}'" if key[1] else "") + f" in {obj}",
                    f"{target.name} supports the timing rules {rules}; use {target.alternatives}")
        wd_name = type(wd).__name__
        if wd_name not in target.weight_dependences:
            _refuse(target, f"{wd_name} in {obj}", f"{target.name} supports "
                    f"{', '.join(target.weight_dependences)}; use {target.alternatives}")
        if target.stdp_w_min_zero and wd.parameters["w_min"] != 0.0:
            _refuse(target, f"w_min = {wd.parameters['w_min']:g} in the weight dependence of {obj}",
                    "NEST's stdp_synapse fixes w_min = 0; set w_min=0.0 or use numba or brian2")
        allowed = target.stdp_dendritic_fraction
        if allowed is not None and syn.dendritic_delay_fraction not in allowed:
            _refuse(target, f"dendritic_delay_fraction = {syn.dendritic_delay_fraction:g} in {obj}",
                    f"{target.name} needs dendritic_delay_fraction in {{{', '.join(f'{a:g}' for a in allowed)}}}; "
                    f"set it, or use numba or brian2")
        if stdp_extra is not None:
            stdp_extra(proj, target)
        return
    if isinstance(syn, SynapseModel):
        _refuse(target, f"equation-defined SynapseModel '{syn.name}' in {obj}",
                f"{target.name} runs StaticSynapse, STDPMechanism and TsodyksMarkramSynapse only; "
                "run custom synapse models with backend='numba' or backend='brian2'")
    if name not in target.synapses:
        _refuse(target, f"synapse type {name} in {obj}", f"{target.name} supports "
                f"{', '.join(target.synapses)}; use {target.alternatives}")


def check_built(built, network, target, max_delay_steps=None, native=None):
    """Refuse what the built arrays show: weight signs, delay range, initial values."""
    dt = built.dt
    for k, pop in enumerate(built.populations):
        if pop.kind != "neuron" or (native is not None and native(pop.celltype)):
            continue
        initial = target.initial_map(pop.celltype.name)
        obj = f"Population '{pop.label}'"
        for var, values in pop.initial.items():
            if var in initial:
                continue
            if np.any(np.asarray(values) != 0.0):
                _refuse(target, f"a non-zero initial value of '{var}' in {obj}",
                        f"{target.name} starts {var} at 0; use numba or brian2 to start from another state")
    for proj in built.projections:
        post = built.populations[proj.post]
        cell = post.celltype
        obj = f"Projection '{proj.label}'"
        w = proj.weights
        if len(w):
            if proj.receptor == "excitatory" and w.min() < 0:
                _refuse(target, f"negative weights (min {w.min():g} {cell.weight_unit}) on the excitatory "
                        f"receptor in {obj}",
                        "PyNN takes the sign of a synapse from its receptor_type: send negative weights "
                        "through receptor_type='inhibitory', or use numba or brian2")
            if proj.receptor == "inhibitory" and not cell.conductance_based and w.max() > 0:
                _refuse(target, f"positive weights (max {w.max():g} {cell.weight_unit}) on the inhibitory "
                        f"receptor of current-based {cell.name} in {obj}",
                        "PyNN needs weights <= 0 on inhibitory current synapses; make them negative, "
                        "or use numba or brian2")
        if max_delay_steps is not None and len(proj.delay_steps):
            limit, why = max_delay_steps(built, proj)
            d = int(proj.delay_steps.max())
            if d > limit:
                _refuse(target, f"delay {d * dt:g} ms ({d} steps) in {obj}",
                        f"{why}; at dt = {dt:g} ms that is {limit * dt:g} ms; shorten the delays or use "
                        f"the nest backend")


def spinnaker_max_delay_steps(neurons_per_core, n_synapse_types=2, ring_buffer_bits=14, extension_slots=8):
    """sPyNNaker 7.4.1's delay limit for a post population (population_vertex.py, delay_support_adder.py).

    The ring buffer of a core has 2**14 entries shared by atom, synapse-type and
    delay bits, so the native range is ``slots = 2**(14 - bits(atoms per core) -
    bits(synapse types))`` ticks; a DelayExtensionVertex adds ``MAX_SLOTS = 8``
    times that, so the longest delay is ``9 * slots`` ticks (288 for 256 neurons
    per core and two receptor types).
    """
    def n_bits(n):
        return 0 if n == 0 else (1 if n == 1 else int(math.ceil(math.log2(n))))
    slots = 2 ** (ring_buffer_bits - n_bits(neurons_per_core) - n_bits(n_synapse_types))
    return slots * (1 + extension_slots), slots
