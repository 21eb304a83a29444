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
from .network_codec import (FILE_OBJECT, cell_in, cell_out, check_keys, connector_in, connector_out,
                            decode_float, decode_string, decode_value, encode_value, indices_in,
                            indices_out, source_in, source_out, structure_in, structure_out,
                            synapse_in, synapse_out)
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
        return {"population": cells.parent.label, "indices": indices_out(cells.indices)}
    return {"population": cells.label, "indices": None}


def _cells_in(data, net, where):
    check_keys(data, where, required=("population",), optional=("indices",))
    pop = net.population(decode_string(data["population"], f"{where}.population"))
    idx = indices_in(data.get("indices"), f"{where}.indices")
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
            "cell": cell_out(cell, f"{where}.cell"),
            "structure": structure_out(pop.structure, f"{where}.structure"),
            "initial": [{"variable": var, "value": encode_value(value, f"{where}.initial.{var}"),
                         "indices": indices_out(idx)} for var, value, idx in pop._initial],
            "parameters": [{"name": name, "value": encode_value(value, f"{where}.parameters.{name}"),
                            "indices": indices_out(idx)} for name, value, idx in pop._params],
            "record": [{"variable": var, "indices": indices_out(idx), "sampling_interval": interval}
                       for var, (idx, interval) in pop._record.items()],
            "injections": [{"source": source_out(source, f"{where}.injections"),
                            "indices": indices_out(idx)} for source, idx in pop._injections],
        })
    projs = []
    for proj in network.projections:
        where = f"projection '{proj.label}'"
        projs.append({
            "label": proj.label,
            "pre": _cells_out(proj.pre),
            "post": _cells_out(proj.post),
            "connector": connector_out(proj.connector, f"{where}.connector"),
            "synapse": synapse_out(proj.synapse_type, proj.post.celltype, f"{where}.synapse"),
            "receptor_type": proj.receptor_type,
            "record_weights": getattr(proj, "_record_weights", None),
        })
    return {"format": FORMAT, "version": VERSION, "label": network.label, "dt": network.dt,
            "seed": network.seed, "populations": pops, "projections": projs}


_POP_KEYS = ("label", "size", "cell", "structure", "initial", "parameters", "record", "injections")
_PROJ_KEYS = ("label", "pre", "post", "connector", "synapse", "receptor_type", "record_weights")


def _list(data, where):
    if not isinstance(data, list):
        raise ValidationError(FILE_OBJECT, where, f"must be a list (got {type(data).__name__})")
    return data


def network_from_dict(data):
    """Build a :class:`Network` from :func:`network_to_dict` output (validated on the way)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationError(FILE_OBJECT, "format", f"is not a neurosim network file (expected "
                              f"\"format\": \"{FORMAT}\")")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValidationError(FILE_OBJECT, "version", f"must be a positive integer (got {version!r})")
    if version > VERSION:
        raise ValidationError(FILE_OBJECT, "version", f"file has version {version}; this neurosim reads "
                              f"up to version {VERSION}")
    check_keys(data, "network", required=("format", "version", "dt", "seed", "populations"),
          optional=("label", "projections"))
    net = Network(dt=data["dt"], seed=data["seed"], label=data.get("label", "network"))
    for k, pd in enumerate(_list(data["populations"], "populations")):
        where = f"populations[{k}]"
        check_keys(pd, where, required=("size", "cell"), optional=_POP_KEYS)
        pop = Population(pd["size"], cell_in(pd["cell"], f"{where}.cell"),
                         structure=structure_in(pd.get("structure"), f"{where}.structure"),
                         label=decode_string(pd.get("label"), f"{where}.label", allow_none=True))
        net.add(pop)
        for j, item in enumerate(_list(pd.get("initial", []), f"{where}.initial")):
            w = f"{where}.initial[{j}]"
            check_keys(item, w, required=("variable", "value"), optional=("indices",))
            cells = _select(pop, indices_in(item.get("indices"), f"{w}.indices"))
            cells.initialize(**{decode_string(item["variable"], f"{w}.variable"): decode_value(item["value"], w)})
        for j, item in enumerate(_list(pd.get("parameters", []), f"{where}.parameters")):
            w = f"{where}.parameters[{j}]"
            check_keys(item, w, required=("name", "value"), optional=("indices",))
            cells = _select(pop, indices_in(item.get("indices"), f"{w}.indices"))
            cells.set(**{decode_string(item["name"], f"{w}.name"): decode_value(item["value"], w)})
        for j, item in enumerate(_list(pd.get("record", []), f"{where}.record")):
            w = f"{where}.record[{j}]"
            check_keys(item, w, required=("variable",), optional=("indices", "sampling_interval"))
            interval = item.get("sampling_interval")
            pop.record(decode_string(item["variable"], f"{w}.variable"),
                       sampling_interval=None if interval is None else decode_float(interval, w),
                       indices=indices_in(item.get("indices"), f"{w}.indices"))
        for j, item in enumerate(_list(pd.get("injections", []), f"{where}.injections")):
            w = f"{where}.injections[{j}]"
            check_keys(item, w, required=("source",), optional=("indices",))
            cells = _select(pop, indices_in(item.get("indices"), f"{w}.indices"))
            cells.inject(source_in(item["source"], f"{w}.source"))
    for k, pd in enumerate(_list(data.get("projections", []), "projections")):
        where = f"projections[{k}]"
        check_keys(pd, where, required=("pre", "post", "connector"), optional=_PROJ_KEYS)
        synapse = pd.get("synapse")
        proj = net.add(Projection(_cells_in(pd["pre"], net, f"{where}.pre"),
                           _cells_in(pd["post"], net, f"{where}.post"),
                           connector_in(pd["connector"], f"{where}.connector"),
                           None if synapse is None else synapse_in(synapse, f"{where}.synapse"),
                           receptor_type=decode_string(pd.get("receptor_type", "excitatory"),
                                                 f"{where}.receptor_type"),
                           label=decode_string(pd.get("label"), f"{where}.label", allow_none=True)))
        interval = pd.get("record_weights")
        if interval is not None:
            interval = decode_float(interval, f"{where}.record_weights")
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
        raise ValidationError(FILE_OBJECT, "load", f"'{path}' is not valid JSON ({exc})") from None
    try:
        return network_from_dict(data)
    except ValidationError:
        raise
    except (TypeError, KeyError, AttributeError, ValueError) as exc:  # a malformed value
        raise ValidationError(FILE_OBJECT, "load", f"'{path}': {type(exc).__name__}: {exc}") from None


def _refuse_constant(name):
    raise ValidationError(FILE_OBJECT, "load", f"{name} is not allowed; write infinities as \"inf\"/\"-inf\"")


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
