"""The parts of a network file: values, cells, structures, sources, connectors, synapses.

:mod:`neurosim.io` puts whole networks together from these.  Each
``<kind>_out(obj, where)`` turns one object into JSON-ready data and refuses
(with a :class:`~neurosim.ValidationError`) what the format cannot hold; each
``<kind>_in(data, where)`` checks the data, looks class names up in the
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

FILE_OBJECT = "network file"


# ----------------------------------------------------------------------------- values
def _encode_float(x):
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def decode_float(x, where):
    if x in ("inf", "-inf"):
        return float(x)
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValidationError(FILE_OBJECT, where, f"must be a number (got {x!r})")
    return float(x)


def encode_value(value, obj="value"):
    """A parameter value as JSON: number, list of numbers, or {distribution, parameters}."""
    if isinstance(value, RandomDistribution):
        return {"distribution": value.distribution,
                "parameters": {k: _encode_float(v) for k, v in value.parameters.items()}}
    if isinstance(value, np.ndarray) or isinstance(value, (list, tuple)):
        arr = np.asarray(value, dtype=float)
        if arr.ndim != 1:
            raise ValidationError(FILE_OBJECT, obj, f"cannot store an array of shape {arr.shape}")
        return arr.tolist()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValidationError(FILE_OBJECT, obj, f"cannot store {value!r} (type {type(value).__name__})")
    return float(value)


def decode_value(data, where="value"):
    """Inverse of :func:`encode_value`: float, float64 array or RandomDistribution."""
    if isinstance(data, dict):
        check_keys(data, where, required=("distribution", "parameters"))
        params = data["parameters"]
        if not isinstance(params, dict):
            raise ValidationError(FILE_OBJECT, f"{where}.parameters", f"must be an object (got {params!r})")
        name = data["distribution"]
        if not isinstance(name, str):
            raise ValidationError(FILE_OBJECT, f"{where}.distribution", f"must be a name (got {name!r})")
        return RandomDistribution(name, **{str(k): decode_float(v, f"{where}.parameters.{k}")
                                           for k, v in params.items()})
    if isinstance(data, list):
        return np.array([decode_float(x, where) for x in data], dtype=float)
    return decode_float(data, where)


def check_keys(data, where, required=(), optional=()):
    """Check that ``data`` is an object with the required keys and no unknown ones."""
    if not isinstance(data, dict):
        raise ValidationError(FILE_OBJECT, where, f"must be an object (got {type(data).__name__})")
    unknown = sorted(set(data) - set(required) - set(optional))
    if unknown:
        raise ValidationError(FILE_OBJECT, where, f"unknown key {unknown[0]!r}; valid keys: "
                              f"{', '.join(sorted(set(required) | set(optional)))}")
    missing = [k for k in required if k not in data]
    if missing:
        raise ValidationError(FILE_OBJECT, where, f"missing key {missing[0]!r}")
    return data


def _mapping(data, where):
    """An object with string keys (any names: the constructor it goes to checks them)."""
    if not isinstance(data, dict):
        raise ValidationError(FILE_OBJECT, where, f"must be an object (got {type(data).__name__})")
    return data


def indices_out(idx):
    return None if idx is None else [int(i) for i in np.asarray(idx)]


def indices_in(data, where):
    if data is None:
        return None
    if not isinstance(data, list) or not data or \
            any(isinstance(i, bool) or not isinstance(i, int) for i in data):
        raise ValidationError(FILE_OBJECT, where, "indices must be null or a non-empty list of integers")
    return np.array(data, dtype=np.int64)


def _name(data, where, table, kind):
    name = data.get("type")
    if not isinstance(name, str) or name not in table:
        raise ValidationError(FILE_OBJECT, f"{where}.type", f"unknown {kind} {name!r}; allowed: "
                              f"{', '.join(sorted(table))}")
    return table[name]


def decode_string(data, where, allow_none=False):
    if data is None and allow_none:
        return None
    if not isinstance(data, str):
        raise ValidationError(FILE_OBJECT, where, f"must be a string (got {data!r})")
    return data


# ----------------------------------------------------------------------------- cells
def _statements_text(stmts):
    return "; ".join(f"{target} {op} {ast.unparse(tree)}" for target, op, tree in stmts)


def cell_out(cell, where):
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
    raise ValidationError(FILE_OBJECT, where, f"cannot save cell type {type(cell).__name__}; files hold "
                          f"NeuronModel, {', '.join(STANDARD_CELLS)} and {', '.join(SPIKE_SOURCES)}")


_MODEL_KEYS = ("name", "equations", "threshold", "reset", "refractory", "parameters", "units",
               "initial", "receptors", "current_input", "method")


def cell_in(data, where):
    if not isinstance(data, dict):
        raise ValidationError(FILE_OBJECT, where, f"must be an object (got {type(data).__name__})")
    name = data.get("type")
    if name == "NeuronModel":
        check_keys(data, where, required=("type", "equations"), optional=_MODEL_KEYS)
        params = _mapping(data.get("parameters", {}), f"{where}.parameters")
        initial = _mapping(data.get("initial", {}), f"{where}.initial")
        receptors = _mapping(data.get("receptors", {}), f"{where}.receptors")
        units = _mapping(data.get("units", {}), f"{where}.units")
        refractory = data.get("refractory", 0.0)
        if not isinstance(refractory, str):
            refractory = decode_float(refractory, f"{where}.refractory")
        return NeuronModel(
            decode_string(data["equations"], f"{where}.equations"),
            threshold=decode_string(data.get("threshold"), f"{where}.threshold", allow_none=True),
            reset=decode_string(data.get("reset", ""), f"{where}.reset"),
            refractory=refractory,
            parameters={k: decode_value(v, f"{where}.parameters.{k}") for k, v in params.items()},
            initial={k: decode_value(v, f"{where}.initial.{k}") for k, v in initial.items()},
            receptors={k: decode_string(v, f"{where}.receptors.{k}") for k, v in receptors.items()},
            current_input=decode_string(data.get("current_input"), f"{where}.current_input", allow_none=True),
            method=decode_string(data.get("method", "auto"), f"{where}.method"),
            units={k: decode_string(v, f"{where}.units.{k}") for k, v in units.items()},
            name=decode_string(data.get("name", "NeuronModel"), f"{where}.name"))
    if name == "SpikeSourceArray":
        check_keys(data, where, required=("type", "spike_times"), optional=("per_neuron",))
        per_neuron = data.get("per_neuron", False)
        times = data["spike_times"]
        if not isinstance(per_neuron, bool) or not isinstance(times, list):
            raise ValidationError(FILE_OBJECT, where, "needs spike_times (a list) and per_neuron (true/false)")
        if per_neuron:
            if any(not isinstance(t, list) for t in times):
                raise ValidationError(FILE_OBJECT, f"{where}.spike_times", "per_neuron: one list per neuron")
            return SpikeSourceArray([[decode_float(x, f"{where}.spike_times") for x in t] for t in times])
        return SpikeSourceArray([decode_float(x, f"{where}.spike_times") for x in times])
    table = {**STANDARD_CELLS, "SpikeSourcePoisson": SpikeSourcePoisson,
             "NeuronModel": NeuronModel, "SpikeSourceArray": SpikeSourceArray}
    cls = _name(data, where, table, "cell type")
    check_keys(data, where, required=("type",), optional=("parameters",))
    params = _mapping(data.get("parameters", {}), f"{where}.parameters")
    return cls(**{str(k): decode_value(v, f"{where}.parameters.{k}") for k, v in params.items()})


# ----------------------------------------------------------------------------- other parts
def structure_out(structure, where):
    if structure is None:
        return None
    if STRUCTURES.get(type(structure).__name__) is not type(structure):
        raise ValidationError(FILE_OBJECT, where, f"cannot save structure {type(structure).__name__}")
    params = {}
    for k in structure._params:
        v = getattr(structure, k)
        params[k] = list(v) if isinstance(v, tuple) else v
    return {"type": type(structure).__name__, "parameters": params}


def structure_in(data, where):
    if data is None:
        return None
    check_keys(data, where, required=("type", "parameters"))
    cls = _name(data, where, STRUCTURES, "structure")
    params = check_keys(data["parameters"], f"{where}.parameters", optional=cls._params)
    return cls(**params)


def source_out(source, where):
    if type(source) is DCSource:
        return {"type": "DCSource", "amplitude": source.amplitude, "start": source.start, "stop": source.stop}
    if type(source) is StepCurrentSource:
        return {"type": "StepCurrentSource", "times": source.times.tolist(),
                "amplitudes": source.amplitudes.tolist()}
    raise ValidationError(FILE_OBJECT, where, f"cannot save current source {type(source).__name__}; "
                          f"files hold {', '.join(CURRENT_SOURCES)}")


def source_in(data, where):
    if not isinstance(data, dict):
        raise ValidationError(FILE_OBJECT, where, f"must be an object (got {type(data).__name__})")
    cls = _name(data, where, CURRENT_SOURCES, "current source")
    if cls is DCSource:
        check_keys(data, where, required=("type", "amplitude"), optional=("start", "stop"))
        stop = data.get("stop")
        return DCSource(decode_float(data["amplitude"], f"{where}.amplitude"),
                        decode_float(data.get("start", 0.0), f"{where}.start"),
                        None if stop is None else decode_float(stop, f"{where}.stop"))
    check_keys(data, where, required=("type", "times", "amplitudes"))
    return StepCurrentSource(decode_value(data["times"], f"{where}.times"),
                             decode_value(data["amplitudes"], f"{where}.amplitudes"))


def connector_out(conn, where):
    name = type(conn).__name__
    if CONNECTORS.get(name) is not type(conn):
        raise ValidationError(FILE_OBJECT, where, f"cannot save connector {name}; files hold "
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


def connector_in(data, where):
    check_keys(data, where, required=("type",), optional=("parameters",))
    cls = _name(data, where, CONNECTORS, "connector")
    params = data.get("parameters", {})
    if cls is FromListConnector:
        allowed = ("conn_list", "column_names")
    elif cls is ArrayConnector:
        allowed = ("array",)
    else:
        allowed = cls._params
    check_keys(params, f"{where}.parameters", optional=allowed)
    if cls is FromListConnector:
        rows = params.get("conn_list", [])
        if not isinstance(rows, list) or any(not isinstance(r, list) for r in rows):
            raise ValidationError(FILE_OBJECT, f"{where}.conn_list", "must be a list of rows")
        rows = [[decode_float(x, f"{where}.conn_list") for x in r] for r in rows]
        names = params.get("column_names")
        if names is not None and (not isinstance(names, list) or
                                  any(not isinstance(n, str) for n in names)):
            raise ValidationError(FILE_OBJECT, f"{where}.column_names", "must be a list of names")
        if not rows:
            rows = np.zeros((0, 2 + len(names or ())))
        return FromListConnector(rows, column_names=names)
    if cls is ArrayConnector:
        arr = params.get("array")
        if not isinstance(arr, list) or any(not isinstance(r, list) or
                                            any(not isinstance(x, (bool, int)) for x in r) for r in arr):
            raise ValidationError(FILE_OBJECT, f"{where}.array", "must be a list of rows of true/false")
        return ArrayConnector(arr)
    for k, v in params.items():
        if isinstance(v, (dict, str)) and not (k == "d_expression" and isinstance(v, str)):
            raise ValidationError(FILE_OBJECT, f"{where}.parameters.{k}", f"unexpected value {v!r}")
    return cls(**params)


def synapse_out(syn, post_cell, where):
    name = type(syn).__name__
    if SYNAPSES.get(name) is not type(syn):
        raise ValidationError(FILE_OBJECT, where, f"cannot save synapse type {name}; files hold "
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
                raise ValidationError(FILE_OBJECT, where, f"cannot save {type(part).__name__}")
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
    check_keys(data, where, required=("type",), optional=("parameters",))
    cls = _name(data, where, table, kind)
    params = _mapping(data.get("parameters", {}), f"{where}.parameters")
    return cls(**{str(k): (v if k == "pairing" else decode_float(v, f"{where}.parameters.{k}"))
                  for k, v in params.items()})


def synapse_in(data, where):
    if not isinstance(data, dict):
        raise ValidationError(FILE_OBJECT, where, f"must be an object (got {type(data).__name__})")
    cls = _name(data, where, SYNAPSES, "synapse type")
    check_keys(data, where, required=("type",), optional=("weight", "delay") + _SYNAPSE_KEYS[cls])
    delay = data.get("delay")
    common = dict(weight=decode_value(data.get("weight", 0.0), f"{where}.weight"),
                  delay=None if delay is None else decode_value(delay, f"{where}.delay"))
    if cls is StaticSynapse:
        return StaticSynapse(**common)
    fraction = decode_float(data.get("dendritic_delay_fraction", 1.0), f"{where}.dendritic_delay_fraction")
    if cls is STDPMechanism:
        check_keys(data, where, required=("timing_dependence", "weight_dependence"),
              optional=("type", "weight", "delay", "dendritic_delay_fraction"))
        return STDPMechanism(
            _part_in(data["timing_dependence"], f"{where}.timing_dependence", TIMING_RULES, "timing dependence"),
            _part_in(data["weight_dependence"], f"{where}.weight_dependence", WEIGHT_DEPENDENCES,
                     "weight dependence"),
            dendritic_delay_fraction=fraction, **common)
    params = _mapping(data.get("parameters", {}), f"{where}.parameters")
    params = {str(k): decode_float(v, f"{where}.parameters.{k}") for k, v in params.items()}
    if cls is TsodyksMarkramSynapse:
        return TsodyksMarkramSynapse(**params, **common)
    initial = _mapping(data.get("initial", {}), f"{where}.initial")
    return SynapseModel(
        equations=decode_string(data.get("equations", ""), f"{where}.equations"),
        on_pre=decode_string(data.get("on_pre", ""), f"{where}.on_pre"),
        on_post=decode_string(data.get("on_post", ""), f"{where}.on_post"),
        parameters=params,
        initial={k: decode_value(v, f"{where}.initial.{k}") for k, v in initial.items()},
        dendritic_delay_fraction=fraction,
        name=decode_string(data.get("name", "SynapseModel"), f"{where}.name"), **common)
