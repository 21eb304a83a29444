"""From description to concrete arrays, the same for every backend.

``build(network)`` draws every random value (seeded per object through
``Network.rng``), checks every index and value, and returns plain arrays:
per population the parameters, initial values, recording and current
injection; per projection the connections with weights and delays.  Backends
start from this, so all of them simulate the same network for one seed.
"""
import math
from dataclasses import dataclass, field

import numpy as np

from .errors import ValidationError
from .random import resolve_values, value_range
from .sources import SpikeSourceArray, SpikeSourcePoisson
from .synapses import SynapseModel

DEFAULT_MAX_DELAY_STEPS = 2**15 - 1


@dataclass
class BuiltPopulation:
    label: str
    size: int
    celltype: object
    kind: str                                   # 'neuron', 'poisson' or 'array'
    params: dict = field(default_factory=dict)  # name -> float or float64 array (size,)
    initial: dict = field(default_factory=dict)  # variable -> float64 array (size,)
    refractory_steps: object = 0                # int or int64 array
    record_spikes: object = None                # None: not recorded, else bool mask (size,)
    record: dict = field(default_factory=dict)  # variable -> (int64 indices, interval in steps)
    injection: tuple = None                     # (steps, indices, deltas) sorted by step, or None
    source_events: tuple = None                 # SpikeSourceArray: (steps, indices) sorted by step


@dataclass
class BuiltProjection:
    label: str
    pre: int                 # population index in the network
    post: int
    receptor: str
    _pre_idx: np.ndarray     # int64, indices in the presynaptic parent population (see pre_idx)
    _post_idx: np.ndarray    # indices in the postsynaptic parent population + post_shift (see post_idx)
    weights: np.ndarray      # float64, canonical unit of the receptor
    delay_steps: np.ndarray  # int64, >= 1
    _pre_local: np.ndarray = None  # int64, indices within the projection's presynaptic view
    _post_local: np.ndarray = None
    synapse: object = None         # the SynapseModel of a plastic projection, None when static
    syn_initial: dict = field(default_factory=dict)  # variable -> float64 array, one per synapse
    dendritic_steps: int = 0       # postsynaptic spikes reach plastic synapses this many steps late
    record_every: int = 0          # record the weights every this many steps (0: not recorded)
    n_pre: int = 0                 # sizes of the projection's endpoints (views)
    n_post: int = 0
    pre_rows: np.ndarray = None    # row pointers (parent size + 1) once the indices are dropped
    post_shift: int = 0            # _post_idx holds the postsynaptic indices + post_shift (share_targets)

    @property
    def n_synapses(self):
        return len(self._post_idx)

    @property
    def one_delay(self):
        """True if every synapse has the same delay (or there is none)."""
        return len(self.delay_steps) == 0 or bool(np.all(self.delay_steps == self.delay_steps[0]))

    @property
    def pre_idx(self):
        """Presynaptic index (in the parent population) of each synapse.  Once a backend holds
        the synapses in presynaptic order it may keep only the row pointers
        (:meth:`keep_rows_only`); the indices are then made on each access."""
        if self._pre_idx is None:
            return np.repeat(np.arange(len(self.pre_rows) - 1, dtype=np.int32), np.diff(self.pre_rows))
        return self._pre_idx

    @property
    def pre_local(self):
        """Presynaptic index within the projection's presynaptic view (see pre_idx)."""
        return self.pre_idx if self._pre_local is None else self._pre_local

    @property
    def post_idx(self):
        """Postsynaptic index (in the parent population) of each synapse.  A backend may hold
        them in its own array, shifted (:meth:`share_targets`); they are then made on each access."""
        return self._post_idx - self.post_shift if self.post_shift else self._post_idx

    @property
    def post_local(self):
        """Postsynaptic index within the projection's postsynaptic view (see post_idx)."""
        return self.post_idx if self._post_local is None else self._post_local

    def share_targets(self, targets, shift=0):
        """Hold the postsynaptic indices as ``targets - shift``: ``targets`` is a backend's array
        of the same synapses in the same order (a fused population's kernel indices when
        ``shift`` is its offset), so the network does not hold them twice."""
        if self._post_local is self._post_idx:      # projection onto a whole population
            self._post_local = None
        self._post_idx, self.post_shift = targets, int(shift)

    def keep_rows_only(self, rows):
        """Drop the stored presynaptic indices (4-8 bytes per synapse) for ``rows``, the
        ``n + 1`` row pointers of synapses listed by presynaptic neuron (which they must be)."""
        if self._pre_local is self._pre_idx:        # projection from a whole population
            self._pre_local = None
        self._pre_idx, self.pre_rows = None, rows

    def weights_as(self, weights, format="array"):
        """``weights`` (one per connection) as ``get_weights`` returns them: 'array' (n_pre, n_post)
        with NaN where there is no synapse (the last of several synapses between a pair wins),
        or 'list' rows (pre, post, w); indices within the projection's endpoints."""
        if format == "list":
            return np.column_stack([self.pre_local, self.post_local, weights])
        if format != "array":
            raise ValidationError("Simulation", "get_weights", f"format must be 'array' or 'list' (got {format!r})")
        out = np.full((self.n_pre, self.n_post), np.nan)
        out[self.pre_local, self.post_local] = weights
        return out

    def weights_from(self, values):
        """One float64 weight per connection from what a user passes to ``set_weights``:
        a number, an (n_pre, n_post) array or one value per connection.  Raises
        ValidationError for anything else (strings, complex, wrong shapes, NaN/inf)."""
        obj = f"Projection '{self.label}'"
        n = self.n_synapses
        allowed = (f"a number, an array of shape ({self.n_pre}, {self.n_post}) or one value per "
                   f"connection ({n})")
        try:
            arr = np.asarray(values)
            if arr.dtype.kind not in "biufO":   # strings, complex, dates...
                raise TypeError(arr.dtype)
            arr = arr.astype(float)             # object arrays: big ints pass, None/dicts do not
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValidationError(obj, "weights", f"must be {allowed} (got {str(values)[:80]!r})") from exc
        if arr.ndim == 0:
            w = np.full(n, float(arr))
        elif arr.shape == (self.n_pre, self.n_post):
            w = arr[self.pre_local, self.post_local]
        elif arr.shape == (n,):
            w = arr.copy()
        else:
            raise ValidationError(obj, "weights", f"must be {allowed}; got shape {arr.shape}")
        if not np.all(np.isfinite(w)):
            raise ValidationError(obj, "weights", "must be finite where a synapse exists")
        return w


@dataclass
class BuiltNetwork:
    dt: float
    seed: int
    populations: list
    projections: list

    def steps_of(self, duration):
        """Whole time steps in ``duration`` ms (what run() advances by), or ValidationError."""
        if isinstance(duration, bool) or not isinstance(duration, (int, float, np.integer, np.floating)) \
                or not np.isfinite(duration) or duration <= 0:
            raise ValidationError("Simulation", "run", f"duration must be a number > 0 ms (got {duration!r})")
        n_steps = int(round(duration / self.dt))
        if n_steps < 1:
            raise ValidationError("Simulation", "run", f"duration {duration} ms is shorter than dt = {self.dt} ms")
        return n_steps

    def describe_populations(self):
        """``{label: {'size', 'cell_type', 'units'}}``, what a Results object is made with."""
        out = {}
        for pop in self.populations:
            cell = pop.celltype
            units = {v: cell.variable_unit(v) for v in cell.recordable} if pop.kind == "neuron" else {}
            out[pop.label] = {"size": pop.size, "cell_type": cell.name, "units": units}
        return out

    def population_index(self, population):
        """Index of a population given as its label or as a Population (by its label)."""
        label = population if isinstance(population, str) else getattr(population, "label", None)
        for k, pop in enumerate(self.populations):
            if pop.label == label:
                return k
        raise ValidationError("Network", "population", f"no population {label!r}; populations: "
                              f"{', '.join(p.label for p in self.populations)}")

    def projection_index(self, projection):
        """Index of a projection given as a Projection or its label."""
        label = projection if isinstance(projection, str) else getattr(projection, "label", None)
        for j, proj in enumerate(self.projections):
            if proj.label == label:
                return j
        raise ValidationError("Simulation", "projection", f"no projection {label!r}; projections: "
                              f"{', '.join(p.label for p in self.projections) or 'none'}")


def _resolve(value, size, idx, rng, obj, attr, unit=None, base=None):
    """Resolve value for all neurons (idx None) or a subset, on top of ``base``."""
    n = size if idx is None else len(idx)
    values = resolve_values(value, n, rng, obj, attr, unit)
    if idx is None:
        return values
    out = np.array(base, dtype=float) if base is not None else np.zeros(size)
    out[idx] = values
    return out


def _homogeneous(arr):
    return float(arr[0]) if len(arr) and np.all(arr == arr[0]) else arr


def build_population(net, k, pop):
    cell, obj, dt = pop.celltype, pop._obj(), net.dt
    kind = "poisson" if isinstance(cell, SpikeSourcePoisson) else (
        "array" if isinstance(cell, SpikeSourceArray) else "neuron")
    out = BuiltPopulation(pop.label, pop.size, cell, kind)
    prng, irng = net.rng("parameters", k), net.rng("initial", k)
    if kind != "array":
        arrays = {}
        for name, value in cell.parameters.items():
            arrays[name] = _resolve(value, pop.size, None, prng, obj, name)
        for name, value, idx in pop._params:
            arrays[name] = _resolve(value, pop.size, idx, prng, obj, name, base=arrays[name])
        out.params = {name: _homogeneous(arr) for name, arr in arrays.items()}
    if kind == "neuron":
        _build_neuron_state(pop, out, irng, dt)
    elif kind == "poisson":
        rate = np.broadcast_to(out.params["rate"], (pop.size,))
        if np.any(rate < 0):
            raise ValidationError(obj, "rate", f"must be >= 0 Hz (got {rate.min()})")
        if np.any(rate * dt * 1e-3 > 1):
            raise ValidationError(obj, "rate", f"rate * dt exceeds one spike per step "
                                  f"(max rate at dt={dt} ms is {1e3 / dt:g} Hz)")
    else:
        steps, idx = [], []
        for i, times in enumerate(cell.times_for(pop.size)):
            s = np.round(np.asarray(times) / dt).astype(np.int64)
            if len(s) and s[0] < 1:
                raise ValidationError(obj, "spike_times", f"neuron {i} has a spike at {times[0]} ms; "
                                      f"spike times must be >= dt = {dt} ms")
            steps.append(np.unique(s) - 1)  # emitted at the end of the step before
            idx.append(np.full(len(steps[-1]), i, dtype=np.int64))
        steps = np.concatenate(steps) if steps else np.zeros(0, np.int64)
        idx = np.concatenate(idx) if idx else np.zeros(0, np.int64)
        order = np.lexsort((idx, steps))
        out.source_events = (steps[order], idx[order])
    for var, (indices, interval) in pop._record.items():
        if var == "spikes":
            mask = np.zeros(pop.size, dtype=bool)
            mask[slice(None) if indices is None else indices] = True
            out.record_spikes = mask
            continue
        every = 1 if interval is None else int(round(interval / dt))
        if interval is not None and (every < 1 or abs(every * dt - interval) > 1e-6 * max(1.0, interval)):
            raise ValidationError(obj, "sampling_interval", f"must be a multiple of dt = {dt} ms "
                                  f"(got {interval})")
        out.record[var] = (np.arange(pop.size, dtype=np.int64) if indices is None else indices, every)
    return out


def _build_neuron_state(pop, out, rng, dt):
    cell, obj = pop.celltype, pop._obj()
    initial = {}
    for var in cell.recordable:
        value = cell.initial.get(var, 0.0)
        if isinstance(value, str):
            value = out.params[value]
        initial[var] = _resolve(value, pop.size, None, rng, obj, var)
    for var, value, idx in pop._initial:
        initial[var] = _resolve(value, pop.size, idx, rng, obj, var, base=initial[var])
    out.initial = initial
    ref = cell.refractory
    ref_ms = out.params[ref] if isinstance(ref, str) else ref
    steps = np.round(np.asarray(ref_ms) / dt).astype(np.int64)
    out.refractory_steps = int(steps) if steps.ndim == 0 else (int(steps[0]) if np.all(steps == steps[0]) else steps)
    if pop._injections:
        steps, idx, deltas = [], [], []
        for source, indices in pop._injections:
            targets = np.arange(pop.size) if indices is None else indices
            previous = 0.0
            for step, amplitude in source.schedule(dt):
                steps.append(np.full(len(targets), step))
                idx.append(targets)
                deltas.append(np.full(len(targets), amplitude - previous))
                previous = amplitude
        steps, idx, deltas = (np.concatenate(a) for a in (steps, idx, deltas))
        order = np.argsort(steps, kind="stable")
        out.injection = (steps[order].astype(np.int64), idx[order].astype(np.int64), deltas[order])


def build_projection(net, k, proj, populations, weight_dtype=np.float64):
    obj, dt = proj._obj(), net.dt
    pre_pop, post_pop = proj.presynaptic_population, proj.postsynaptic_population
    rng = net.rng("connectivity", k)
    same = pre_pop is post_pop and np.array_equal(_indices(proj.pre), _indices(proj.post))
    conns = proj.connector.connect(proj.pre.size, proj.post.size, rng, same_population=same,
                                   pre_positions=proj.pre.positions, post_positions=proj.post.positions,
                                   label=obj)
    n = len(conns.pre)
    if n and (conns.pre.min() < 0 or conns.pre.max() >= proj.pre.size or
              conns.post.min() < 0 or conns.post.max() >= proj.post.size):
        raise ValidationError(obj, "connector", "produced an index out of range")  # connectors check first
    cell = post_pop.celltype
    wrng = net.rng("weights", k)
    syn = proj.synapse_type
    weights = conns.weights if conns.weights is not None else resolve_values(
        syn.weight, n, wrng, obj, "weight", cell.weight_unit)
    delay = dt if syn.delay is None else syn.delay
    delays = conns.delays if conns.delays is not None else resolve_values(delay, n, wrng, obj, "delay", "ms")
    # checks through min / max (NaN propagates), not through temporary arrays of n values
    (w_min, w_max), (d_min, d_max) = value_range(weights), value_range(delays)
    if not all(math.isfinite(v) for v in (w_min, w_max, d_min, d_max)):
        raise ValidationError(obj, "weight", "weights and delays must be finite")
    if cell.conductance_based and w_min < 0:
        raise ValidationError(obj, "weight", f"conductance-based {cell.name} needs weights >= 0 uS; "
                              f"inhibition comes from receptor_type='inhibitory' (got {w_min})")
    if d_min < dt - 1e-9:
        raise ValidationError(obj, "delay", f"must be >= dt = {dt} ms (got {d_min})")
    # in place where the delays were drawn here (a connector's own delays stay untouched)
    delay_steps = np.divide(delays, dt, out=delays if conns.delays is None else None)
    np.rint(delay_steps, out=delay_steps)
    if np.rint(d_max / dt) > DEFAULT_MAX_DELAY_STEPS:      # = delay_steps.max(): rint is monotonic
        raise ValidationError(obj, "delay", f"at most {DEFAULT_MAX_DELAY_STEPS * dt:g} ms at dt = {dt} ms "
                              f"(got {d_max})")
    delay_steps = delay_steps.astype(np.int16)    # DEFAULT_MAX_DELAY_STEPS fits
    syn_initial, dendritic = {}, 0
    if isinstance(syn, SynapseModel):
        for var in syn.equations.variables:
            syn_initial[var] = resolve_values(syn.initial.get(var, 0.0), n, wrng, obj, var)
        # one value for one delay (numba refuses per-synapse delays on plastic projections;
        # brian2 rounds fraction * delay per synapse in the same way)
        dendritic = int(round(syn.dendritic_delay_fraction * (delay_steps[0] if n else 1)))
    del delays
    # synapses sorted by presynaptic neuron (stable: the connector's order within a neuron),
    # the order every backend's CSR table needs; the random draws above are made first, so
    # each synapse keeps its weight and delay
    pre_local, post_local = conns.pre, conns.post
    if n > 1 and np.any(pre_local[1:] < pre_local[:-1]):
        order = np.argsort(pre_local, kind="stable")
        pre_local, post_local = pre_local[order], post_local[order]
        weights, delay_steps = weights[order], delay_steps[order]
        syn_initial = {var: values[order] for var, values in syn_initial.items()}
        del order
    pre_local, post_local = _compact(pre_local, proj.pre.size), _compact(post_local, proj.post.size)
    pre_idx = pre_local if not hasattr(proj.pre, "indices") else _compact(proj.pre.indices[pre_local], pre_pop.size)
    post_idx = post_local if not hasattr(proj.post, "indices") else _compact(proj.post.indices[post_local],
                                                                             post_pop.size)
    weights = _shared_if_uniform(np.asarray(weights, weight_dtype))
    delay_steps = _shared_if_uniform(delay_steps)
    pre_k = populations.index(pre_pop)
    post_k = populations.index(post_pop)
    return BuiltProjection(proj.label, pre_k, post_k, proj.receptor_type, pre_idx, post_idx, weights,
                           delay_steps, pre_local, post_local,
                           syn if isinstance(syn, SynapseModel) else None, syn_initial, dendritic,
                           _record_steps(proj, dt), proj.pre.size, proj.post.size)


def _compact(indices, size):
    """Neuron indices as int32 where the population allows it (half the memory of int64)."""
    return indices.astype(np.int32 if size < 2**31 else np.int64, copy=False)


def _shared_if_uniform(values):
    """One value repeated for every synapse as a read-only zero-stride view (no memory per
    synapse); other arrays unchanged."""
    if len(values) > 1 and values[0] == values[-1] and np.all(values == values[0]):
        return np.broadcast_to(values[:1].copy(), values.shape)   # the copy frees the full array
    return values


def _record_steps(proj, dt):
    interval = proj._record_weights
    if interval is None:
        return 0
    every = max(1, int(round(interval / dt)))
    if interval and abs(every * dt - interval) > 1e-6 * max(1.0, interval):
        raise ValidationError(proj._obj(), "sampling_interval", f"must be a multiple of dt = {dt} ms "
                              f"(got {interval})")
    return every


def _indices(cells):
    return cells.indices if hasattr(cells, "indices") else np.arange(cells.size, dtype=np.int64)


def build(net, weight_dtype=np.float64):
    """Resolve a Network into a :class:`BuiltNetwork` (all random draws happen here).

    ``weight_dtype``: how weights are kept; a backend that runs with float32 weights asks
    for float32 so a large network never holds them in float64 (4 bytes less per synapse at the
    build's peak; the values are the ones the backend would have rounded them to)."""
    if not net.populations:
        raise ValidationError("Network", "populations", "is empty; add populations with net.add(...)")
    from .resources import guard_network  # refuse what cannot fit before a connector allocates
    guard_network(net)
    pops = [build_population(net, k, p) for k, p in enumerate(net.populations)]
    projs = [build_projection(net, k, p, net.populations, weight_dtype) for k, p in enumerate(net.projections)]
    return BuiltNetwork(net.dt, net.seed, pops, projs)

