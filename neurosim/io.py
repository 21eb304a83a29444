"""Network files (versioned JSON) and Neo input.

``save_network(network, path)`` writes a :class:`~neurosim.Network` as JSON;
``load_network(path)`` reads it back.  A model file is data: loading looks
every class name up in the explicit whitelists below, builds every object
through its validating constructor, and passes equation text to
:class:`~neurosim.NeuronModel`, which parses it with the safe expression
parser.  Nothing is imported, evaluated or unpickled.  Anything unknown (a
key, a class, a distribution) is a :class:`~neurosim.ValidationError`.

The schema is documented in ``docs/file_format.md``.  Units are the
canonical ones (ms, mV, nA, nF, uS, Hz).

``spike_times_from_neo(spiketrains)`` turns Neo SpikeTrains into plain arrays
(ms) for ``SpikeSourceArray(spike_times=...)``.
"""
import ast
import json
import math
import numbers
import os

import numpy as np

from .connectors import (AllToAllConnector, ArrayConnector, DistanceDependentProbabilityConnector,
                         FixedNumberPostConnector, FixedNumberPreConnector, FixedProbabilityConnector,
                         FixedTotalNumberConnector, FromListConnector, OneToOneConnector)
from .errors import ValidationError
from .network import Network, Population, PopulationView, Projection
from .neurons import (EIF_cond_exp_isfa_ista, IF_cond_exp, IF_curr_alpha, IF_curr_delta, IF_curr_exp,
                      Izhikevich, NeuronModel)
from .random import RandomDistribution
from .sources import DCSource, SpikeSourceArray, SpikeSourcePoisson, StepCurrentSource
from .space import Grid2D, Grid3D, Line, RandomStructure
from .synapses import (AdditiveWeightDependence, MultiplicativeWeightDependence, PfisterSpikeTripletRule,
                       SpikePairRule, StaticSynapse, STDPMechanism, SynapseModel, TsodyksMarkramSynapse,
                       Vogels2011Rule)
from .units import is_quantity, to_canonical

FORMAT = "neurosim-network"
VERSION = 1

# The whitelists: the only classes a file can name.
STANDARD_CELLS = {cls.__name__: cls for cls in (
    IF_curr_exp, IF_cond_exp, IF_curr_alpha, IF_curr_delta, Izhikevich, EIF_cond_exp_isfa_ista)}
SPIKE_SOURCES = {"SpikeSourcePoisson": SpikeSourcePoisson, "SpikeSourceArray": SpikeSourceArray}
CURRENT_SOURCES = {"DCSource": DCSource, "StepCurrentSource": StepCurrentSource}
STRUCTURES = {cls.__name__: cls for cls in (Line, Grid2D, Grid3D, RandomStructure)}
CONNECTORS = {cls.__name__: cls for cls in (
    AllToAllConnector, OneToOneConnector, FixedProbabilityConnector, FixedNumberPreConnector,
    FixedNumberPostConnector, FixedTotalNumberConnector, FromListConnector, ArrayConnector,
    DistanceDependentProbabilityConnector)}
SYNAPSES = {cls.__name__: cls for cls in (StaticSynapse, STDPMechanism, TsodyksMarkramSynapse, SynapseModel)}
TIMING_RULES = {cls.__name__: cls for cls in (SpikePairRule, PfisterSpikeTripletRule, Vogels2011Rule)}
WEIGHT_DEPENDENCES = {cls.__name__: cls for cls in (AdditiveWeightDependence, MultiplicativeWeightDependence)}

_OBJ = "network file"


# ----------------------------------------------------------------------------- values
def _encode_float(x):
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _decode_float(x, where):
    if x in ("inf", "-inf"):
        return float(x)
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValidationError(_OBJ, where, f"must be a number (got {x!r})")
    return float(x)


def encode_value(value, obj="value"):
    """A parameter value as JSON: number, list of numbers, or {distribution, parameters}."""
    if isinstance(value, RandomDistribution):
        return {"distribution": value.distribution,
                "parameters": {k: _encode_float(v) for k, v in value.parameters.items()}}
    if isinstance(value, np.ndarray) or isinstance(value, (list, tuple)):
        arr = np.asarray(value, dtype=float)
        if arr.ndim != 1:
            raise ValidationError(_OBJ, obj, f"cannot store an array of shape {arr.shape}")
        return arr.tolist()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValidationError(_OBJ, obj, f"cannot store {value!r} (type {type(value).__name__})")
    return float(value)


def decode_value(data, where="value"):
    """Inverse of :func:`encode_value`: float, float64 array or RandomDistribution."""
    if isinstance(data, dict):
        _keys(data, where, required=("distribution", "parameters"))
        params = data["parameters"]
        if not isinstance(params, dict):
            raise ValidationError(_OBJ, f"{where}.parameters", f"must be an object (got {params!r})")
        name = data["distribution"]
        if not isinstance(name, str):
            raise ValidationError(_OBJ, f"{where}.distribution", f"must be a name (got {name!r})")
        return RandomDistribution(name, **{str(k): _decode_float(v, f"{where}.parameters.{k}")
                                           for k, v in params.items()})
    if isinstance(data, list):
        return np.array([_decode_float(x, where) for x in data], dtype=float)
    return _decode_float(data, where)


def _keys(data, where, required=(), optional=()):
    """Check that ``data`` is an object with the required keys and no unknown ones."""
    if not isinstance(data, dict):
        raise ValidationError(_OBJ, where, f"must be an object (got {type(data).__name__})")
    unknown = sorted(set(data) - set(required) - set(optional))
    if unknown:
        raise ValidationError(_OBJ, where, f"unknown key {unknown[0]!r}; valid keys: "
                              f"{', '.join(sorted(set(required) | set(optional)))}")
    missing = [k for k in required if k not in data]
    if missing:
        raise ValidationError(_OBJ, where, f"missing key {missing[0]!r}")
    return data


def _mapping(data, where):
    """An object with string keys (any names: the constructor it goes to checks them)."""
    if not isinstance(data, dict):
        raise ValidationError(_OBJ, where, f"must be an object (got {type(data).__name__})")
    return data


def _indices_out(idx):
    return None if idx is None else [int(i) for i in np.asarray(idx)]


def _indices_in(data, where):
    if data is None:
        return None
    if not isinstance(data, list) or not data or \
            any(isinstance(i, bool) or not isinstance(i, int) for i in data):
        raise ValidationError(_OBJ, where, "indices must be null or a non-empty list of integers")
    return np.array(data, dtype=np.int64)


def _name(data, where, table, kind):
    name = data.get("type")
    if not isinstance(name, str) or name not in table:
        raise ValidationError(_OBJ, f"{where}.type", f"unknown {kind} {name!r}; allowed: "
                              f"{', '.join(sorted(table))}")
    return table[name]


def _string(data, where, allow_none=False):
    if data is None and allow_none:
        return None
    if not isinstance(data, str):
        raise ValidationError(_OBJ, where, f"must be a string (got {data!r})")
    return data


# ----------------------------------------------------------------------------- cells
def _statements_text(stmts):
    return "; ".join(f"{target} {op} {ast.unparse(tree)}" for target, op, tree in stmts)


def _cell_out(cell, where):
    if type(cell) is SpikeSourceArray:
        trains = [np.asarray(t, dtype=float).tolist() for t in cell.spike_times]
        return {"type": "SpikeSourceArray", "per_neuron": bool(cell.per_neuron),
                "spike_times": trains if cell.per_neuron else trains[0]}
    if type(cell) is SpikeSourcePoisson:
        return {"type": "SpikeSourcePoisson",
                "parameters": {k: encode_value(v, f"{where}.{k}") for k, v in cell.parameters.items()}}
    if STANDARD_CELLS.get(type(cell).__name__) is type(cell):
        return {"type": type(cell).__name__,
                "parameters": {k: encode_value(cell.parameters[k], f"{where}.{k}") for k in cell.DEFAULTS}}
    if type(cell) is NeuronModel:
        return {
            "type": "NeuronModel",
            "name": cell.name,
            "equations": cell.equations.source,
            "threshold": None if cell.threshold is None else ast.unparse(cell.threshold),
            "reset": _statements_text(cell.reset),
            "refractory": cell.refractory if isinstance(cell.refractory, str) else float(cell.refractory),
            "parameters": {k: encode_value(v, f"{where}.{k}") for k, v in cell.parameters.items()},
            "units": {k: u.name for k, u in cell.param_units.items()},
            "initial": {k: encode_value(v, f"{where}.initial.{k}") for k, v in cell.initial.items()},
            "receptors": {r: _statements_text([s]) for r, s in cell.receptors.items()},
            "current_input": cell.current_input,
            "method": cell.method,
        }
    raise ValidationError(_OBJ, where, f"cannot save cell type {type(cell).__name__}; files hold "
                          f"NeuronModel, {', '.join(STANDARD_CELLS)} and {', '.join(SPIKE_SOURCES)}")


_MODEL_KEYS = ("name", "equations", "threshold", "reset", "refractory", "parameters", "units",
               "initial", "receptors", "current_input", "method")


def _cell_in(data, where):
    if not isinstance(data, dict):
        raise ValidationError(_OBJ, where, f"must be an object (got {type(data).__name__})")
    name = data.get("type")
    if name == "NeuronModel":
        _keys(data, where, required=("type", "equations"), optional=_MODEL_KEYS)
        params = _mapping(data.get("parameters", {}), f"{where}.parameters")
        initial = _mapping(data.get("initial", {}), f"{where}.initial")
        receptors = _mapping(data.get("receptors", {}), f"{where}.receptors")
        units = _mapping(data.get("units", {}), f"{where}.units")
        refractory = data.get("refractory", 0.0)
        if not isinstance(refractory, str):
            refractory = _decode_float(refractory, f"{where}.refractory")
        return NeuronModel(
            _string(data["equations"], f"{where}.equations"),
            threshold=_string(data.get("threshold"), f"{where}.threshold", allow_none=True),
            reset=_string(data.get("reset", ""), f"{where}.reset"),
            refractory=refractory,
            parameters={k: decode_value(v, f"{where}.parameters.{k}") for k, v in params.items()},
            initial={k: decode_value(v, f"{where}.initial.{k}") for k, v in initial.items()},
            receptors={k: _string(v, f"{where}.receptors.{k}") for k, v in receptors.items()},
            current_input=_string(data.get("current_input"), f"{where}.current_input", allow_none=True),
            method=_string(data.get("method", "auto"), f"{where}.method"),
            units={k: _string(v, f"{where}.units.{k}") for k, v in units.items()},
            name=_string(data.get("name", "NeuronModel"), f"{where}.name"))
    if name == "SpikeSourceArray":
        _keys(data, where, required=("type", "spike_times"), optional=("per_neuron",))
        per_neuron = data.get("per_neuron", False)
        times = data["spike_times"]
        if not isinstance(per_neuron, bool) or not isinstance(times, list):
            raise ValidationError(_OBJ, where, "needs spike_times (a list) and per_neuron (true/false)")
        if per_neuron:
            if any(not isinstance(t, list) for t in times):
                raise ValidationError(_OBJ, f"{where}.spike_times", "per_neuron: one list per neuron")
            return SpikeSourceArray([[_decode_float(x, f"{where}.spike_times") for x in t] for t in times])
        return SpikeSourceArray([_decode_float(x, f"{where}.spike_times") for x in times])
    table = {**STANDARD_CELLS, "SpikeSourcePoisson": SpikeSourcePoisson,
             "NeuronModel": NeuronModel, "SpikeSourceArray": SpikeSourceArray}
    cls = _name(data, where, table, "cell type")
    _keys(data, where, required=("type",), optional=("parameters",))
    params = _mapping(data.get("parameters", {}), f"{where}.parameters")
    return cls(**{str(k): decode_value(v, f"{where}.parameters.{k}") for k, v in params.items()})


# ----------------------------------------------------------------------------- other parts
def _structure_out(structure, where):
    if structure is None:
        return None
    if STRUCTURES.get(type(structure).__name__) is not type(structure):
        raise ValidationError(_OBJ, where, f"cannot save structure {type(structure).__name__}")
    params = {}
    for k in structure._params:
        v = getattr(structure, k)
        params[k] = list(v) if isinstance(v, tuple) else v
    return {"type": type(structure).__name__, "parameters": params}


def _structure_in(data, where):
    if data is None:
        return None
    _keys(data, where, required=("type", "parameters"))
    cls = _name(data, where, STRUCTURES, "structure")
    params = _keys(data["parameters"], f"{where}.parameters", optional=cls._params)
    return cls(**params)


def _source_out(source, where):
    if type(source) is DCSource:
        return {"type": "DCSource", "amplitude": source.amplitude, "start": source.start, "stop": source.stop}
    if type(source) is StepCurrentSource:
        return {"type": "StepCurrentSource", "times": source.times.tolist(),
                "amplitudes": source.amplitudes.tolist()}
    raise ValidationError(_OBJ, where, f"cannot save current source {type(source).__name__}; "
                          f"files hold {', '.join(CURRENT_SOURCES)}")


def _source_in(data, where):
    if not isinstance(data, dict):
        raise ValidationError(_OBJ, where, f"must be an object (got {type(data).__name__})")
    cls = _name(data, where, CURRENT_SOURCES, "current source")
    if cls is DCSource:
        _keys(data, where, required=("type", "amplitude"), optional=("start", "stop"))
        stop = data.get("stop")
        return DCSource(_decode_float(data["amplitude"], f"{where}.amplitude"),
                        _decode_float(data.get("start", 0.0), f"{where}.start"),
                        None if stop is None else _decode_float(stop, f"{where}.stop"))
    _keys(data, where, required=("type", "times", "amplitudes"))
    return StepCurrentSource(decode_value(data["times"], f"{where}.times"),
                             decode_value(data["amplitudes"], f"{where}.amplitudes"))


def _connector_out(conn, where):
    name = type(conn).__name__
    if CONNECTORS.get(name) is not type(conn):
        raise ValidationError(_OBJ, where, f"cannot save connector {name}; files hold "
                              f"{', '.join(CONNECTORS)}")
    if isinstance(conn, FromListConnector):
        columns = [conn.pre.astype(float), conn.post.astype(float)]
        for col in conn.column_names:
            columns.append(conn.weights if col == "weight" else conn.delays)
        rows = np.column_stack(columns) if conn.pre.size else np.zeros((0, 2 + len(conn.column_names)))
        rows = [[int(r[0]), int(r[1])] + [float(x) for x in r[2:]] for r in rows]
        return {"type": name, "parameters": {"conn_list": rows, "column_names": list(conn.column_names)}}
    if isinstance(conn, ArrayConnector):
        return {"type": name, "parameters": {"array": conn.array.tolist()}}
    params = {}
    for k in conn._params:
        v = getattr(conn, k)
        params[k] = _plain(v)
    return {"type": name, "parameters": params}


def _plain(v):
    """Tuples to lists, numpy scalars to Python, recursively (JSON-ready)."""
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


def _connector_in(data, where):
    _keys(data, where, required=("type",), optional=("parameters",))
    cls = _name(data, where, CONNECTORS, "connector")
    params = data.get("parameters", {})
    if cls is FromListConnector:
        allowed = ("conn_list", "column_names")
    elif cls is ArrayConnector:
        allowed = ("array",)
    else:
        allowed = cls._params
    _keys(params, f"{where}.parameters", optional=allowed)
    if cls is FromListConnector:
        rows = params.get("conn_list", [])
        if not isinstance(rows, list) or any(not isinstance(r, list) for r in rows):
            raise ValidationError(_OBJ, f"{where}.conn_list", "must be a list of rows")
        rows = [[_decode_float(x, f"{where}.conn_list") for x in r] for r in rows]
        names = params.get("column_names")
        if names is not None and (not isinstance(names, list) or
                                  any(not isinstance(n, str) for n in names)):
            raise ValidationError(_OBJ, f"{where}.column_names", "must be a list of names")
        if not rows:
            rows = np.zeros((0, 2 + len(names or ())))
        return FromListConnector(rows, column_names=names)
    if cls is ArrayConnector:
        arr = params.get("array")
        if not isinstance(arr, list) or any(not isinstance(r, list) or
                                            any(not isinstance(x, (bool, int)) for x in r) for r in arr):
            raise ValidationError(_OBJ, f"{where}.array", "must be a list of rows of true/false")
        return ArrayConnector(arr)
    for k, v in params.items():
        if isinstance(v, (dict, str)) and not (k == "d_expression" and isinstance(v, str)):
            raise ValidationError(_OBJ, f"{where}.parameters.{k}", f"unexpected value {v!r}")
    return cls(**params)


def _synapse_out(syn, post_cell, where):
    name = type(syn).__name__
    if SYNAPSES.get(name) is not type(syn):
        raise ValidationError(_OBJ, where, f"cannot save synapse type {name}; files hold "
                              f"{', '.join(SYNAPSES)}")
    weight = syn.weight
    if is_quantity(weight):
        weight = to_canonical(weight, post_cell.weight_unit, where, "weight")
    out = {"type": name, "weight": encode_value(weight, f"{where}.weight"),
           "delay": None if syn.delay is None else encode_value(syn.delay, f"{where}.delay")}
    if isinstance(syn, STDPMechanism):
        timing, wd = syn.timing_dependence, syn.weight_dependence
        for part, table in ((timing, TIMING_RULES), (wd, WEIGHT_DEPENDENCES)):
            if table.get(type(part).__name__) is not type(part):
                raise ValidationError(_OBJ, where, f"cannot save {type(part).__name__}")
        params = dict(timing.parameters)
        if isinstance(timing, SpikePairRule):
            params["pairing"] = timing.pairing
        out["timing_dependence"] = {"type": type(timing).__name__, "parameters": params}
        out["weight_dependence"] = {"type": type(wd).__name__, "parameters": dict(wd.parameters)}
        out["dendritic_delay_fraction"] = syn.dendritic_delay_fraction
    elif isinstance(syn, TsodyksMarkramSynapse):
        out["parameters"] = dict(syn.parameters)
    elif isinstance(syn, SynapseModel):
        out.update({
            "name": syn.name,
            "equations": syn.equations.source,
            "on_pre": _statements_text(syn.on_pre),
            "on_post": _statements_text(syn.on_post),
            "parameters": dict(syn.parameters),
            "initial": {k: encode_value(v, f"{where}.initial.{k}") for k, v in syn.initial.items()},
            "dendritic_delay_fraction": syn.dendritic_delay_fraction,
        })
    return out


_SYNAPSE_KEYS = {
    StaticSynapse: (),
    STDPMechanism: ("timing_dependence", "weight_dependence", "dendritic_delay_fraction"),
    TsodyksMarkramSynapse: ("parameters",),
    SynapseModel: ("name", "equations", "on_pre", "on_post", "parameters", "initial",
                   "dendritic_delay_fraction"),
}


def _part_in(data, where, table, kind):
    _keys(data, where, required=("type",), optional=("parameters",))
    cls = _name(data, where, table, kind)
    params = _mapping(data.get("parameters", {}), f"{where}.parameters")
    return cls(**{str(k): (v if k == "pairing" else _decode_float(v, f"{where}.parameters.{k}"))
                  for k, v in params.items()})


def _synapse_in(data, where):
    if not isinstance(data, dict):
        raise ValidationError(_OBJ, where, f"must be an object (got {type(data).__name__})")
    cls = _name(data, where, SYNAPSES, "synapse type")
    _keys(data, where, required=("type",), optional=("weight", "delay") + _SYNAPSE_KEYS[cls])
    delay = data.get("delay")
    common = dict(weight=decode_value(data.get("weight", 0.0), f"{where}.weight"),
                  delay=None if delay is None else decode_value(delay, f"{where}.delay"))
    if cls is StaticSynapse:
        return StaticSynapse(**common)
    fraction = _decode_float(data.get("dendritic_delay_fraction", 1.0), f"{where}.dendritic_delay_fraction")
    if cls is STDPMechanism:
        _keys(data, where, required=("timing_dependence", "weight_dependence"),
              optional=("type", "weight", "delay", "dendritic_delay_fraction"))
        return STDPMechanism(
            _part_in(data["timing_dependence"], f"{where}.timing_dependence", TIMING_RULES, "timing dependence"),
            _part_in(data["weight_dependence"], f"{where}.weight_dependence", WEIGHT_DEPENDENCES,
                     "weight dependence"),
            dendritic_delay_fraction=fraction, **common)
    params = _mapping(data.get("parameters", {}), f"{where}.parameters")
    params = {str(k): _decode_float(v, f"{where}.parameters.{k}") for k, v in params.items()}
    if cls is TsodyksMarkramSynapse:
        return TsodyksMarkramSynapse(**params, **common)
    initial = _mapping(data.get("initial", {}), f"{where}.initial")
    return SynapseModel(
        equations=_string(data.get("equations", ""), f"{where}.equations"),
        on_pre=_string(data.get("on_pre", ""), f"{where}.on_pre"),
        on_post=_string(data.get("on_post", ""), f"{where}.on_post"),
        parameters=params,
        initial={k: decode_value(v, f"{where}.initial.{k}") for k, v in initial.items()},
        dendritic_delay_fraction=fraction,
        name=_string(data.get("name", "SynapseModel"), f"{where}.name"), **common)


def _cells_out(cells):
    if isinstance(cells, PopulationView):
        return {"population": cells.parent.label, "indices": _indices_out(cells.indices)}
    return {"population": cells.label, "indices": None}


def _cells_in(data, net, where):
    _keys(data, where, required=("population",), optional=("indices",))
    pop = net.population(_string(data["population"], f"{where}.population"))
    idx = _indices_in(data.get("indices"), f"{where}.indices")
    return pop if idx is None else pop[idx]


def _select(pop, idx):
    return pop if idx is None else pop[idx]


# ----------------------------------------------------------------------------- network
def network_to_dict(network):
    """The JSON-ready description of ``network`` (format ``neurosim-network``, version 1)."""
    if not isinstance(network, Network):
        raise ValidationError("save_network", "network", f"must be a neurosim Network (got {network!r})")
    pops = []
    for pop in network.populations:
        where = f"population '{pop.label}'"
        cell = pop.celltype
        pops.append({
            "label": pop.label,
            "size": pop.size,
            "cell": _cell_out(cell, f"{where}.cell"),
            "structure": _structure_out(pop.structure, f"{where}.structure"),
            "initial": [{"variable": var, "value": encode_value(value, f"{where}.initial.{var}"),
                         "indices": _indices_out(idx)} for var, value, idx in pop._initial],
            "parameters": [{"name": name, "value": encode_value(value, f"{where}.parameters.{name}"),
                            "indices": _indices_out(idx)} for name, value, idx in pop._params],
            "record": [{"variable": var, "indices": _indices_out(idx), "sampling_interval": interval}
                       for var, (idx, interval) in pop._record.items()],
            "injections": [{"source": _source_out(source, f"{where}.injections"),
                            "indices": _indices_out(idx)} for source, idx in pop._injections],
        })
    projs = []
    for proj in network.projections:
        where = f"projection '{proj.label}'"
        projs.append({
            "label": proj.label,
            "pre": _cells_out(proj.pre),
            "post": _cells_out(proj.post),
            "connector": _connector_out(proj.connector, f"{where}.connector"),
            "synapse": _synapse_out(proj.synapse_type, proj.post.celltype, f"{where}.synapse"),
            "receptor_type": proj.receptor_type,
            "record_weights": getattr(proj, "_record_weights", None),
        })
    return {"format": FORMAT, "version": VERSION, "label": network.label, "dt": network.dt,
            "seed": network.seed, "populations": pops, "projections": projs}


_POP_KEYS = ("label", "size", "cell", "structure", "initial", "parameters", "record", "injections")
_PROJ_KEYS = ("label", "pre", "post", "connector", "synapse", "receptor_type", "record_weights")


def _list(data, where):
    if not isinstance(data, list):
        raise ValidationError(_OBJ, where, f"must be a list (got {type(data).__name__})")
    return data


def network_from_dict(data):
    """Build a :class:`Network` from :func:`network_to_dict` output (validated on the way)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationError(_OBJ, "format", f"is not a neurosim network file (expected "
                              f"\"format\": \"{FORMAT}\")")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValidationError(_OBJ, "version", f"must be a positive integer (got {version!r})")
    if version > VERSION:
        raise ValidationError(_OBJ, "version", f"file has version {version}; this neurosim reads "
                              f"up to version {VERSION}")
    _keys(data, "network", required=("format", "version", "dt", "seed", "populations"),
          optional=("label", "projections"))
    net = Network(dt=data["dt"], seed=data["seed"], label=data.get("label", "network"))
    for k, pd in enumerate(_list(data["populations"], "populations")):
        where = f"populations[{k}]"
        _keys(pd, where, required=("size", "cell"), optional=_POP_KEYS)
        pop = Population(pd["size"], _cell_in(pd["cell"], f"{where}.cell"),
                         structure=_structure_in(pd.get("structure"), f"{where}.structure"),
                         label=_string(pd.get("label"), f"{where}.label", allow_none=True))
        net.add(pop)
        for j, item in enumerate(_list(pd.get("initial", []), f"{where}.initial")):
            w = f"{where}.initial[{j}]"
            _keys(item, w, required=("variable", "value"), optional=("indices",))
            cells = _select(pop, _indices_in(item.get("indices"), f"{w}.indices"))
            cells.initialize(**{_string(item["variable"], f"{w}.variable"): decode_value(item["value"], w)})
        for j, item in enumerate(_list(pd.get("parameters", []), f"{where}.parameters")):
            w = f"{where}.parameters[{j}]"
            _keys(item, w, required=("name", "value"), optional=("indices",))
            cells = _select(pop, _indices_in(item.get("indices"), f"{w}.indices"))
            cells.set(**{_string(item["name"], f"{w}.name"): decode_value(item["value"], w)})
        for j, item in enumerate(_list(pd.get("record", []), f"{where}.record")):
            w = f"{where}.record[{j}]"
            _keys(item, w, required=("variable",), optional=("indices", "sampling_interval"))
            interval = item.get("sampling_interval")
            pop.record(_string(item["variable"], f"{w}.variable"),
                       sampling_interval=None if interval is None else _decode_float(interval, w),
                       indices=_indices_in(item.get("indices"), f"{w}.indices"))
        for j, item in enumerate(_list(pd.get("injections", []), f"{where}.injections")):
            w = f"{where}.injections[{j}]"
            _keys(item, w, required=("source",), optional=("indices",))
            cells = _select(pop, _indices_in(item.get("indices"), f"{w}.indices"))
            cells.inject(_source_in(item["source"], f"{w}.source"))
    for k, pd in enumerate(_list(data.get("projections", []), "projections")):
        where = f"projections[{k}]"
        _keys(pd, where, required=("pre", "post", "connector"), optional=_PROJ_KEYS)
        synapse = pd.get("synapse")
        proj = net.add(Projection(_cells_in(pd["pre"], net, f"{where}.pre"),
                           _cells_in(pd["post"], net, f"{where}.post"),
                           _connector_in(pd["connector"], f"{where}.connector"),
                           None if synapse is None else _synapse_in(synapse, f"{where}.synapse"),
                           receptor_type=_string(pd.get("receptor_type", "excitatory"),
                                                 f"{where}.receptor_type"),
                           label=_string(pd.get("label"), f"{where}.label", allow_none=True)))
        interval = pd.get("record_weights")
        if interval is not None:
            interval = _decode_float(interval, f"{where}.record_weights")
            proj.record("weight", sampling_interval=interval if interval != 0 else None)
    return net


def save_network(network, path):
    """Write ``network`` to ``path`` as JSON; returns the path."""
    data = network_to_dict(network)
    path = os.fspath(path)
    text = _dumps(data)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return path


def _dumps(obj, indent=0):
    """JSON with objects indented and lists of numbers (or of such lists) on one line."""
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(obj, dict) and obj:
        items = [f"{inner}{json.dumps(k)}: {_dumps(v, indent + 2)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and obj and any(isinstance(x, dict) for x in obj):
        return "[\n" + ",\n".join(inner + _dumps(x, indent + 2) for x in obj) + "\n" + pad + "]"
    return json.dumps(obj, allow_nan=False)


def load_network(path):
    """Read a network written by :func:`save_network`.  Never executes code from the file."""
    path = os.fspath(path)
    with open(path, "r", encoding="utf-8") as fh:
        text = fh.read()
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(_OBJ, "load", f"'{path}' is not valid JSON ({exc})") from None
    try:
        return network_from_dict(data)
    except ValidationError:
        raise
    except (TypeError, KeyError, AttributeError, ValueError) as exc:  # a malformed value
        raise ValidationError(_OBJ, "load", f"'{path}': {type(exc).__name__}: {exc}") from None


def _refuse_constant(name):
    raise ValidationError(_OBJ, "load", f"{name} is not allowed; write infinities as \"inf\"/\"-inf\"")


# ----------------------------------------------------------------------------- Neo
def spike_times_from_neo(spiketrains, population=None):
    """Spike times in ms, one float64 array per train, for ``SpikeSourceArray(spike_times=...)``.

    ``spiketrains``: a list of ``neo.SpikeTrain`` (or a ``neo.Segment``, whose
    ``spiketrains`` are used).  Times are converted from the trains' units
    (s, ms, ...) to ms.  ``population``: keep only trains annotated with that
    ``source_population`` (as ``Results.to_neo()`` writes), in order of
    ``source_index``.  Plain arrays are taken to be in ms.
    """
    trains = getattr(spiketrains, "spiketrains", spiketrains)
    trains = list(trains)
    if population is not None:
        trains = [st for st in trains
                  if getattr(st, "annotations", {}).get("source_population") == population]
        if not trains:
            raise ValidationError("spike_times_from_neo", "population",
                                  f"no spike train has source_population {population!r}")
        trains.sort(key=lambda st: st.annotations.get("source_index", 0))
    out = []
    for k, st in enumerate(trains):
        if is_quantity(st):
            arr = np.asarray(to_canonical(st, "ms", "spike_times_from_neo", f"spiketrains[{k}]"), dtype=float)
        else:
            arr = np.asarray(st, dtype=float)
        out.append(np.sort(arr.ravel()))
    return out


__all__ = ["save_network", "load_network", "network_to_dict", "network_from_dict",
           "spike_times_from_neo", "encode_value", "decode_value", "FORMAT", "VERSION"]
