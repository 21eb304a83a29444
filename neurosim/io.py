"""Network files (versioned JSON) and Neo input.

``save_network(network, path)`` writes a :class:`~neurosim.Network` as JSON;
``load_network(path)`` reads it back.  A model file is data: loading looks
every class name up in the explicit whitelists of
:mod:`neurosim.network_codec`, builds every object through its validating
constructor, and passes equation text to
:class:`~neurosim.NeuronModel`, which parses it with the safe expression
parser.  Nothing is imported, evaluated or unpickled.  Anything unknown (a
key, a class, a distribution) is a :class:`~neurosim.ValidationError`.

The schema is documented in ``docs/file_format.md``.  Units are the
canonical ones (ms, mV, nA, nF, uS, Hz).

``spike_times_from_neo(spiketrains)`` turns Neo SpikeTrains into plain arrays
(ms) for ``SpikeSourceArray(spike_times=...)``.
"""
import json
import os

import numpy as np

from . import network_codec
from .errors import ValidationError
from .network import Network, Population, PopulationView, Projection
from .network_codec import (_OBJ, _cell_in, _cell_out, _connector_in, _connector_out, _decode_float,
                            _indices_in, _indices_out, _keys, _source_in, _source_out, _string,
                            _structure_in, _structure_out, _synapse_in, _synapse_out, decode_value,
                            encode_value)
from .units import is_quantity, to_canonical

FORMAT = "neurosim-network"
VERSION = 1

# The whitelists (the only classes a file can name), importable from here too.
STANDARD_CELLS = network_codec.STANDARD_CELLS
SPIKE_SOURCES = network_codec.SPIKE_SOURCES
CURRENT_SOURCES = network_codec.CURRENT_SOURCES
STRUCTURES = network_codec.STRUCTURES
CONNECTORS = network_codec.CONNECTORS
SYNAPSES = network_codec.SYNAPSES
TIMING_RULES = network_codec.TIMING_RULES
WEIGHT_DEPENDENCES = network_codec.WEIGHT_DEPENDENCES


# ----------------------------------------------------------------------------- network
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
