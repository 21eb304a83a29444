"""The parts of a network file: values, cells, structures, sources, connectors, synapses.

:mod:`neurosim.io` puts whole networks together from these.  Each
``_<kind>_out(obj, where)`` turns one object into JSON-ready data and refuses
(with a :class:`~neurosim.ValidationError`) what the format cannot hold; each
``_<kind>_in(data, where)`` checks the data, looks class names up in the
whitelists below and builds the object through its validating constructor.
``where`` names the place in the file for error messages.
"""
import ast
import math
import numbers

import numpy as np

from .connectors import (AllToAllConnector, ArrayConnector, DistanceDependentProbabilityConnector,
                         FixedNumberPostConnector, FixedNumberPreConnector, FixedProbabilityConnector,
                         FixedTotalNumberConnector, FromListConnector, OneToOneConnector)
from .errors import ValidationError
from .neurons import (EIF_cond_exp_isfa_ista, IF_cond_exp, IF_curr_alpha, IF_curr_delta, IF_curr_exp,
                      Izhikevich, NeuronModel)
from .random import RandomDistribution
from .sources import DCSource, SpikeSourceArray, SpikeSourcePoisson, StepCurrentSource
from .space import Grid2D, Grid3D, Line, RandomStructure
from .synapses import (AdditiveWeightDependence, MultiplicativeWeightDependence, PfisterSpikeTripletRule,
                       SpikePairRule, StaticSynapse, STDPMechanism, SynapseModel, TsodyksMarkramSynapse,
                       Vogels2011Rule)
from .units import is_quantity, to_canonical

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
