"""The description layer: Network, Population, PopulationView, Projection.

These objects are plain, validated data.  Nothing here runs a simulation;
``neurosim.compile(network, backend=...)`` turns a Network into a Simulation.
"""
import numbers

import numpy as np

from .connectors import Connector
from .errors import ValidationError
from .neurons import NeuronModel, StandardCellType, check_value
from .random import RandomDistribution
from .sources import CurrentSource, SpikeSource
from .space import Structure
from .synapses import StaticSynapse, SynapseModel, SynapseType
from .units import to_canonical

MAX_NEURONS = 2**31 - 1


def _one_number(value, obj, attr):
    if not isinstance(value, float):
        raise ValidationError(obj, attr, f"must be one number (got {value!r})")
    return value


def _check_size(size):
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral):
        raise ValidationError("Population", "size", f"must be a positive integer (got {size!r})")
    if not 0 < size <= MAX_NEURONS:
        raise ValidationError("Population", "size", f"must be between 1 and {MAX_NEURONS} (got {size})")
    return int(size)


class _Cells:
    """What Population and PopulationView share: recording, initial values, parameters, injection."""

    def _target(self):
        """(parent population, parent indices or None for all)."""
        raise TypeError

    def record(self, variables, sampling_interval=None, indices=None):
        """Record 'spikes' and/or state variables (sampling_interval in ms, default dt)."""
        pop, idx = self._target()
        if isinstance(variables, str):
            variables = [variables]
        if not isinstance(variables, (list, tuple)) or not all(isinstance(v, str) for v in variables):
            raise ValidationError(pop._obj(), "record", f"takes a variable name or a list of them, such as "
                                  f"['spikes', 'v'] (got {variables!r})")
        if indices is not None:
            idx = pop._normalise_indices(indices if idx is None else idx[np.asarray(indices)])
        if sampling_interval is not None:
            sampling_interval = _one_number(check_value(sampling_interval, pop._obj(), "sampling_interval",
                                                        "ms"), pop._obj(), "sampling_interval")
            if sampling_interval <= 0:
                raise ValidationError(pop._obj(), "sampling_interval", f"must be > 0 ms (got {sampling_interval})")
        for var in variables:
            if var != "spikes" and var not in pop.celltype.recordable:
                allowed = ", ".join(["spikes"] + list(pop.celltype.recordable))
                raise ValidationError(pop._obj(), "record", f"unknown variable {var!r}; recordable: {allowed}")
            old = pop._record.get(var)
            if old is None:
                merged = idx
            elif old[0] is None or idx is None:
                merged = None
            else:
                merged = np.union1d(old[0], idx)
            pop._record[var] = (merged, sampling_interval if sampling_interval is not None
                                else (old[1] if old else None))
        return self

    def initialize(self, **values):
        """Initial values of state variables: number, array or RandomDistribution."""
        pop, idx = self._target()
        for var, value in values.items():
            if var not in pop.celltype.recordable:
                raise ValidationError(pop._obj(), "initialize", f"unknown variable {var!r}; variables: "
                                      f"{', '.join(pop.celltype.recordable) or 'none (spike source)'}")
            unit = pop.celltype.variable_unit(var)
            pop._initial.append((var, check_value(value, pop._obj(), var, unit), idx))
        return self

    def set(self, **parameters):
        """Override cell parameters for these neurons (number, array or RandomDistribution)."""
        pop, idx = self._target()
        cell = pop.celltype
        for name, value in parameters.items():
            if name not in cell.parameters or isinstance(cell, SpikeSource) and name == "spike_times":
                raise ValidationError(pop._obj(), name, f"unknown parameter; parameters: "
                                      f"{', '.join(sorted(cell.parameters))}")
            unit = getattr(cell, "UNITS", {}).get(name) or (cell.param_units.get(name) if
                                                             hasattr(cell, "param_units") else None)
            value = check_value(value, pop._obj(), name, unit)
            if isinstance(cell, StandardCellType) and not isinstance(value, RandomDistribution):
                arr = np.atleast_1d(value)
                if name in cell.POSITIVE and np.any(arr <= 0):
                    raise ValidationError(pop._obj(), name, f"must be > 0 (got {arr[arr <= 0][0]})")
                if name in cell.NON_NEGATIVE and np.any(arr < 0):
                    raise ValidationError(pop._obj(), name, f"must be >= 0 (got {arr[arr < 0][0]})")
            pop._params.append((name, value, idx))
        return self

    def inject(self, source):
        """Inject a current source (DCSource, StepCurrentSource) into these neurons."""
        pop, idx = self._target()
        if not isinstance(source, CurrentSource):
            raise ValidationError(pop._obj(), "inject", f"needs a current source (got {source!r})")
        if getattr(pop.celltype, "current_input", None) is None:
            raise ValidationError(pop._obj(), "inject", f"{pop.celltype.name} has no current input; "
                                  "give the NeuronModel current_input='<variable in nA>'")
        pop._injections.append((source, idx))
        return self


class Population(_Cells):
    """A group of neurons of one cell type.

    ``Population(3200, IF_curr_exp(tau_m=20.0), label='exc')``; also PyNN's
    ``Population(n, IF_curr_exp, cellparams={...})``.
    """

    def __init__(self, size, cellclass, cellparams=None, structure=None, initial_values=None, label=None):
        self.size = _check_size(size)
        for name, given in (("cellparams", cellparams), ("initial_values", initial_values)):
            if given is not None and not (isinstance(given, dict) and all(isinstance(k, str) for k in given)):
                raise ValidationError("Population", name, f"must be a dict of names to values (got {given!r})")
        if isinstance(cellclass, type) and issubclass(cellclass, (StandardCellType, SpikeSource)):
            cellclass = cellclass(**(cellparams or {}))
        elif cellparams:
            raise ValidationError("Population", "cellparams", "only applies when cellclass is a class")
        if not isinstance(cellclass, (NeuronModel, SpikeSource)):
            raise ValidationError("Population", "cellclass", f"must be a neuron model or spike source "
                                  f"(got {cellclass!r})")
        if label is not None and (not isinstance(label, str) or not label.strip()):
            raise ValidationError("Population", "label", f"must be a non-empty string (got {label!r})")
        if structure is not None and not isinstance(structure, Structure):
            raise ValidationError("Population", "structure", f"must be a neurosim.space structure "
                                  f"(got {structure!r})")
        self.celltype = cellclass
        self.label = label
        self.structure = structure
        self.network = None
        self._initial, self._params, self._injections, self._record = [], [], [], {}
        if initial_values:
            self.initialize(**initial_values)

    def _obj(self):
        return f"Population '{self.label}'" if self.label else "Population"

    def _target(self):
        return self, None

    def _normalise_indices(self, indices):
        if isinstance(indices, slice):
            r = range(self.size)[indices]  # O(1): no array of the whole population
            return np.arange(r.start, r.stop, r.step, dtype=np.int64)
        arr = np.asarray(indices)
        if arr.dtype == bool:
            if arr.shape != (self.size,):
                raise ValidationError(self._obj(), "indices", f"boolean mask must have {self.size} "
                                      f"entries (got {arr.shape})")
            return np.nonzero(arr)[0].astype(np.int64)
        arr = np.atleast_1d(arr)
        if arr.dtype.kind not in "iu":
            raise ValidationError(self._obj(), "indices", f"must be integers (got dtype {arr.dtype})")
        arr = arr.astype(np.int64)
        bad = (arr < 0) | (arr >= self.size)
        if np.any(bad):
            raise ValidationError(self._obj(), "indices", f"index {arr[bad][0]} out of range "
                                  f"0..{self.size - 1}")
        return np.unique(arr)

    def __getitem__(self, item):
        if isinstance(item, numbers.Integral):
            item = [item]
        return PopulationView(self, self._normalise_indices(item))

    def __len__(self):
        return self.size

    @property
    def positions(self):
        """(n, 3) positions in µm from the structure (None without one)."""
        if self.structure is None:
            return None
        rng = self.network.rng("positions", self.network.populations.index(self)) if self.network else None
        return self.structure.generate_positions(self.size, rng)

    def __repr__(self):
        return f"Population({self.size}, {self.celltype.name}, label={self.label!r})"


class PopulationView(_Cells):
    """A subset of a population (``pop[10:20]``), usable wherever a population is."""

    def __init__(self, parent, indices):
        self.parent = parent
        self.indices = indices
        if len(indices) == 0:
            raise ValidationError(parent._obj(), "view", "selects no neuron")

    @property
    def size(self):
        return len(self.indices)

    @property
    def celltype(self):
        return self.parent.celltype

    @property
    def label(self):
        return f"{self.parent.label}[{len(self.indices)} neurons]"

    def _obj(self):
        return f"PopulationView of '{self.parent.label}'"

    def _target(self):
        return self.parent, self.indices

    def __getitem__(self, item):
        if isinstance(item, numbers.Integral):
            item = [item]
        local = np.arange(self.size)[item] if isinstance(item, slice) else np.asarray(item)
        if local.dtype.kind in "iu" and np.any((local < 0) | (local >= self.size)):
            raise ValidationError(self._obj(), "indices", f"index out of range 0..{self.size - 1}")
        return PopulationView(self.parent, np.unique(self.indices[local]))

    def __len__(self):
        return self.size

    @property
    def positions(self):
        pos = self.parent.positions
        return None if pos is None else pos[self.indices]

    def __repr__(self):
        return f"PopulationView({self.parent.label!r}, {self.size} neurons)"


class Projection:
    """Synapses from one population (or view) onto another.

    ``Projection(pre, post, FixedProbabilityConnector(0.02),
    StaticSynapse(weight=0.0162, delay=0.1), receptor_type='excitatory')``
    """

    def __init__(self, presynaptic, postsynaptic, connector, synapse_type=None,
                 receptor_type="excitatory", label=None):
        for name, cells in (("presynaptic", presynaptic), ("postsynaptic", postsynaptic)):
            if not isinstance(cells, (Population, PopulationView)):
                raise ValidationError("Projection", name, f"must be a Population or PopulationView (got {cells!r})")
        if not isinstance(connector, Connector):
            raise ValidationError("Projection", "connector", f"must be a connector such as "
                                  f"FixedProbabilityConnector (got {connector!r})")
        synapse_type = StaticSynapse() if synapse_type is None else synapse_type
        if not isinstance(synapse_type, SynapseType):
            raise ValidationError("Projection", "synapse_type", f"must be a synapse type such as "
                                  f"StaticSynapse or STDPMechanism (got {synapse_type!r})")
        self.pre, self.post = presynaptic, postsynaptic
        self.label = label or f"{presynaptic.label}->{postsynaptic.label}"
        post_cell = postsynaptic.celltype
        if isinstance(post_cell, SpikeSource):
            raise ValidationError(f"Projection '{self.label}'", "postsynaptic",
                                  f"is a spike source ({post_cell.name}); it cannot receive synapses")
        if receptor_type not in post_cell.receptors:
            raise ValidationError(f"Projection '{self.label}'", "receptor_type", f"unknown receptor "
                                  f"{receptor_type!r} of {post_cell.name}; valid: "
                                  f"{', '.join(post_cell.receptors) or 'none (declare receptors=...)'}")
        if isinstance(synapse_type, SynapseModel):
            for side, cells in synapse_type.neuron_references().items():
                cell = (presynaptic if side == "pre" else postsynaptic).celltype
                missing = cells - set(getattr(cell, "recordable", []))
                if missing:
                    raise ValidationError(f"Projection '{self.label}'", "synapse_type",
                                          f"reads {', '.join(n + '_' + side for n in sorted(missing))} but the "
                                          f"{side}synaptic {cell.name} has variables "
                                          f"{', '.join(getattr(cell, 'recordable', [])) or 'none'}")
        self.connector, self.synapse_type, self.receptor_type = connector, synapse_type, receptor_type
        self.network = None
        self._record_weights = None   # sampling interval in ms (0: every step) when recorded

    def record(self, variables="weight", sampling_interval=None):
        """Record this projection's weights every ``sampling_interval`` ms (default: every step)."""
        if variables not in ("weight", ["weight"], ("weight",)):
            raise ValidationError(self._obj(), "record", f"only 'weight' can be recorded on a "
                                  f"projection (got {variables!r})")
        if sampling_interval is not None:
            sampling_interval = _one_number(check_value(sampling_interval, self._obj(), "sampling_interval",
                                                        "ms"), self._obj(), "sampling_interval")
            if sampling_interval <= 0:
                raise ValidationError(self._obj(), "sampling_interval", f"must be > 0 ms (got {sampling_interval})")
        self._record_weights = sampling_interval if sampling_interval is not None else 0.0
        return self

    @property
    def presynaptic_population(self):
        return self.pre.parent if isinstance(self.pre, PopulationView) else self.pre

    @property
    def postsynaptic_population(self):
        return self.post.parent if isinstance(self.post, PopulationView) else self.post

    def _obj(self):
        return f"Projection '{self.label}'"

    def __repr__(self):
        return f"Projection({self.label!r}, {self.connector!r}, {self.synapse_type!r})"


class Network:
    """Everything that is simulated together: populations, projections, dt and seed.

    dt in ms.  ``seed`` (int) drives every random choice; None draws one and
    stores it in ``network.seed`` so the run can be repeated.
    """

    def __init__(self, dt=0.1, seed=None, label="network"):
        dt = to_canonical(dt, "ms", "Network", "dt")
        if isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not -np.inf < dt < np.inf or dt <= 0:
            raise ValidationError("Network", "dt", f"must be a number > 0 ms (got {dt!r})")
        if dt < 1e-4 or dt > 10:
            raise ValidationError("Network", "dt", f"must be between 0.0001 and 10 ms (got {dt})")
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValidationError("Network", "seed", f"must be an integer >= 0 (got {seed!r})")
        self.dt, self.seed, self.label = float(dt), int(seed), label
        self.populations, self.projections = [], []

    _STREAMS = {"connectivity": 1, "initial": 2, "parameters": 3, "poisson": 4, "positions": 5, "weights": 6}

    def rng(self, stream, index):
        """The numpy Generator for one random stream of one object (deterministic in seed)."""
        seq = np.random.SeedSequence(self.seed, spawn_key=(self._STREAMS[stream], index))
        return np.random.default_rng(seq)

    def add(self, obj):
        """Add a Population or Projection (or a list of them); returns what was added."""
        if isinstance(obj, (list, tuple)):
            return [self.add(o) for o in obj]
        if isinstance(obj, Population):
            if obj.network is not None:
                raise ValidationError(obj._obj(), "network", "already belongs to a network")
            if obj.label is None:
                obj.label = f"population{len(self.populations)}"
            if any(p.label == obj.label for p in self.populations):
                raise ValidationError(obj._obj(), "label", "is already used in this network")
            obj.network = self
            self.populations.append(obj)
        elif isinstance(obj, Projection):
            for end in (obj.presynaptic_population, obj.postsynaptic_population):
                if end.network is not self:
                    raise ValidationError(obj._obj(), "populations", f"{end._obj()} is not in this "
                                          "network; add it with net.add(population) first")
            if obj.network is not None:
                raise ValidationError(obj._obj(), "network", "already belongs to a network")
            if any(p.label == obj.label for p in self.projections):
                obj.label = f"{obj.label}#{len(self.projections)}"
            delay = obj.synapse_type.delay
            if isinstance(delay, (float, np.ndarray)) and np.any(np.asarray(delay) < self.dt - 1e-9):
                raise ValidationError(obj._obj(), "delay", f"must be >= dt = {self.dt} ms "
                                      f"(got {np.min(delay)})")
            obj.network = self
            self.projections.append(obj)
        else:
            raise ValidationError("Network", "add", f"takes a Population or Projection (got {obj!r})")
        return obj

    def save(self, path):
        """Write this network as a versioned JSON model file (see docs/file_format.md)."""
        from .io import save_network
        return save_network(self, path)

    def population(self, label):
        for pop in self.populations:
            if pop.label == label:
                return pop
        raise ValidationError("Network", "population", f"no population {label!r}; populations: "
                              f"{', '.join(p.label for p in self.populations)}")

    def __repr__(self):
        return (f"Network(dt={self.dt}, seed={self.seed}, {len(self.populations)} populations, "
                f"{len(self.projections)} projections)")
