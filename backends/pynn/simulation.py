"""The PyNN Simulation: a built neurosim network turned into PyNN calls, with numba's surface.

PyNN keeps its simulator in module-global state (``setup()`` ... ``end()``),
so a process can hold **one live simulation per PyNN module** (``pyNN.nest``,
``pyNN.brian2``, ``pyNN.spiNNaker``).  Compiling a second one while the first
is alive raises :class:`~neurosim.errors.NeurosimError`; ``sim.close()`` (or
``with ns.compile(...) as sim:``) ends the first.  A simulation that was
garbage-collected without ``close()`` is ended when the next one starts.

``reset()`` ends the PyNN simulator and builds the same network again from the
BuiltNetwork (the same connections, weights, delays and initial values), so a
reset replays exactly where the simulator is deterministic for a seed (NEST,
Brian2): PyNN's own ``reset()`` keeps plastic weights and moves random streams on.
"""
import contextlib
import gc
import logging
import os
import warnings
import weakref

import numpy as np

from neurosim.errors import NeurosimError, UnsupportedFeatureError, ValidationError
from neurosim.random import resolve_values
from neurosim.results import Results
from neurosim.synapses import (PfisterSpikeTripletRule, STDPMechanism, TsodyksMarkramSynapse,
                               Vogels2011Rule)

from .translations import (CELLS, CURRENTS, DELAY_FACTOR, RECEPTORS, SOURCES, TIMING, WEIGHT_DEPENDENCE,
                           WEIGHT_FACTOR, translate)

_LIVE = {}   # PyNN module name -> weakref to the live PyNNSimulation
_EPS = 1e-9


def import_pynn(module_name):
    """Import a PyNN simulator module quietly (NEST's banner, pyNN.nest's extension build warnings)."""
    import importlib
    os.environ.setdefault("PYNEST_QUIET", "1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(module_name)
    return module, [str(w.message).splitlines()[0] for w in caught]


def _acquire(sim):
    key = sim.adapter.target.pynn_module
    ref = _LIVE.get(key)
    other = ref() if ref is not None else None
    if other is not None and not other.closed:
        raise NeurosimError(
            f"a '{other.backend}' simulation ({other!r}) is still alive in this process; {key} keeps one "
            f"simulator per process (PyNN's setup()/end()), so call sim.close() on it (or compile inside "
            f"'with ns.compile(...) as sim:') before compiling another")
    if ref is not None and other is None:
        # the previous simulation was garbage-collected without close(): end its simulator now
        with contextlib.suppress(Exception):
            sim.adapter.end(sim.adapter.module)
    _LIVE[key] = weakref.ref(sim)


def _release(sim):
    key = sim.adapter.target.pynn_module
    ref = _LIVE.get(key)
    if ref is not None and ref() is sim:
        del _LIVE[key]


def pair_keys(pre, post, n_post):
    """One int64 key per synapse, pre * n_post + post (int64: int32 indices would overflow)."""
    return np.asarray(pre).astype(np.int64) * n_post + np.asarray(post).astype(np.int64)


def reorder(values, keys_from, keys_to):
    """``values`` listed in the synapse order of ``keys_from``, relisted in that of ``keys_to``
    (the same pairs; stable sorts keep several synapses between one pair in order)."""
    out = np.empty(len(keys_to))
    out[np.argsort(keys_to, kind="stable")] = np.asarray(values)[np.argsort(keys_from, kind="stable")]
    return out


class PyNNSimulation:
    """A network running on a PyNN simulator.  ``run(ms)`` may be called repeatedly."""

    def __init__(self, network, built, adapter):
        self.network, self.built, self.adapter = network, built, adapter
        self.backend = adapter.target.name
        self.closed = False
        self.info = {"backend": self.backend, "pynn_module": adapter.target.pynn_module}
        self._pops, self._projs = [], []
        _acquire(self)
        try:
            self._create()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ build
    def _create(self):
        sim, built, adapter = self.adapter.module, self.built, self.adapter
        self._step = 0
        self.results = Results(built.dt, self.built.describe_populations())
        with adapter.context():
            adapter.setup(sim, built)
            self._pops = [self._population(sim, k, bp) for k, bp in enumerate(built.populations)]
            for k, pop in enumerate(self.network.populations):
                for source, indices in pop._injections:
                    self._inject(sim, self._pops[k], source, indices)
            self._projs = [self._projection(sim, j, bp) for j, bp in enumerate(built.projections)]
            for k, bp in enumerate(built.populations):
                self._record(self._pops[k], bp)
            adapter.after_create(self)

    def _population(self, sim, k, bp):
        adapter, dt = self.adapter, self.built.dt
        if bp.kind == "neuron":
            cmap = CELLS[bp.celltype.name]
            celltype = adapter.celltype(sim, cmap.pynn, translate(bp.params, cmap.params))
            pop = sim.Population(bp.size, celltype, label=bp.label)
            initial = adapter.target.initial_map(bp.celltype.name)
            values = {var: bp.initial[var] for var in initial if var in bp.initial and
                      (var == "v" or np.any(np.asarray(bp.initial[var]) != 0.0))}
            if values:
                pop.initialize(**translate(values, initial))
            return pop
        if bp.kind == "poisson":
            name, table = SOURCES["SpikeSourcePoisson"]
            params = {"rate": bp.params["rate"], "start": bp.params["start"]}
            if bp.params["duration"] < 1e9:
                params["duration"] = bp.params["duration"]
            params = adapter.poisson_window(params, dt)
            return sim.Population(bp.size, adapter.poisson(sim, name, translate(params, table)), label=bp.label)
        name, table = SOURCES["SpikeSourceArray"]
        steps, idx = bp.source_events
        times = (steps + 1) * dt + adapter.input_time_shift(dt)   # the time neurosim stamps
        order = np.argsort(idx, kind="stable")
        bounds = np.searchsorted(idx[order], np.arange(bp.size + 1))
        trains = [np.round(times[order][bounds[i]:bounds[i + 1]], 9) for i in range(bp.size)]
        if all(np.array_equal(t, trains[0]) for t in trains[1:]):
            trains = adapter.spike_train(sim, trains[0])      # one train for every neuron
        else:
            trains = [adapter.spike_train(sim, t) for t in trains]
        celltype = getattr(sim, name)(**translate({"spike_times": trains}, table))
        return sim.Population(bp.size, celltype, label=bp.label)

    def _inject(self, sim, pop, source, indices):
        name = type(source).__name__
        pynn_name, table = CURRENTS[name]
        if name == "DCSource":
            values = {"amplitude": source.amplitude, "start": source.start}
            if source.stop is not None:
                values["stop"] = source.stop
        else:
            values = {"times": [float(t) for t in source.times],          # lists: sPyNNaker wants Sequences
                      "amplitudes": [float(a) for a in source.amplitudes]}
        current = getattr(sim, pynn_name)(**translate(values, table))
        current.inject_into(pop if indices is None else pop[np.asarray(indices, dtype=int)])

    def _projection(self, sim, j, bp):
        if bp.n_synapses == 0:
            return None
        post_cell = self.built.populations[bp.post].celltype
        factor = WEIGHT_FACTOR[post_cell.weight_unit] * self.adapter.weight_factor(bp)
        conns = np.column_stack([bp.pre_idx, bp.post_idx, bp.weights * factor,
                                 bp.delay_steps * self.built.dt * DELAY_FACTOR])
        synapse = self._synapse(sim, j, bp)
        return self.adapter.make_projection(sim, j, bp, self._pops[bp.pre], self._pops[bp.post], conns, synapse)

    def _synapse(self, sim, j, bp):
        syn = self.network.projections[j].synapse_type
        if isinstance(syn, TsodyksMarkramSynapse):
            return self.adapter.tsodyks_markram(sim, syn, bp)
        if isinstance(syn, STDPMechanism):
            timing, wd = syn.timing_dependence, syn.weight_dependence
            native = self.adapter.native_stdp(sim, syn, bp)
            if native is not None:
                return native
            key = (type(timing).__name__, getattr(timing, "pairing", None))
            name, table = TIMING[key]
            wd_name, wd_table = WEIGHT_DEPENDENCE[type(wd).__name__]
            t_params = translate(timing.parameters, table)
            wd_params = translate(wd.parameters, wd_table)
            bound_factor = self.adapter.weight_bound_factor(self._pops[bp.post])
            for bound in ("w_min", "w_max"):
                if bound in wd_params:
                    wd_params[bound] *= bound_factor
            if isinstance(timing, Vogels2011Rule):   # sPyNNaker: alpha and A = eta / w_max (additive x w_max)
                p, w_max = timing.parameters, wd.parameters["w_max"]
                t_params.update(alpha=2.0 * p["rho"] * p["tau"] / 1000.0,
                                A_plus=p["eta"] / w_max, A_minus=p["eta"] / w_max)
            if isinstance(timing, PfisterSpikeTripletRule):
                wd_name = "WeightDependenceAdditiveTriplet"
                wd_params.update(A3_plus=timing.parameters["A3_plus"], A3_minus=timing.parameters["A3_minus"])
            timing_obj = self.adapter.plasticity_class(sim, name)(**t_params)
            wd_obj = self.adapter.plasticity_class(sim, wd_name)(**wd_params)
            return sim.STDPMechanism(timing_dependence=timing_obj, weight_dependence=wd_obj,
                                     dendritic_delay_fraction=syn.dendritic_delay_fraction)
        return sim.StaticSynapse()

    def _record(self, pop, bp):
        dt = self.built.dt
        if bp.record_spikes is not None:
            if bp.record_spikes.all():
                pop.record("spikes")
            else:
                pop[np.flatnonzero(bp.record_spikes)].record("spikes")
        if bp.kind == "neuron":
            rmap = self.adapter.target.record_map(bp.celltype.name)
            for var, (indices, every) in bp.record.items():
                target = pop if len(indices) == bp.size else pop[np.asarray(indices, dtype=int)]
                interval = dt if self.adapter.record_every_step else every * dt
                target.record(rmap[var][0], sampling_interval=interval)

    # ------------------------------------------------------------------ state
    @property
    def t(self):
        """Current simulation time in ms."""
        return self._step * self.built.dt

    def _check_open(self, what):
        if self.closed:
            raise NeurosimError(f"{self!r}.{what}: the simulation is closed; compile the network again")

    def _pop_index(self, population):
        return self.built.population_index(population)

    def _state_name(self, k, variable, what):
        pop = self.built.populations[k]
        obj = f"Population '{pop.label}'"
        if pop.kind != "neuron":
            raise ValidationError(obj, what, f"{pop.celltype.name} has no state variables")
        if variable not in pop.celltype.recordable:
            raise ValidationError(obj, what, f"unknown variable {variable!r}; variables: "
                                  f"{', '.join(pop.celltype.recordable)}")
        table = dict(self.adapter.target.initial_map(pop.celltype.name))
        if what == "get":
            table = {**self.adapter.target.record_map(pop.celltype.name), **table}
        if variable not in table:
            raise UnsupportedFeatureError(self.backend, f"{what} of '{variable}' in {obj}",
                                          f"{self.backend} gives access to "
                                          f"{', '.join(table) or 'no variables'} of {pop.celltype.name}; "
                                          "use numba or brian2 (injected current: DCSource)")
        return table[variable]

    def get(self, population, variable):
        """Current values of a state variable (float64, one per neuron, neurosim units)."""
        self._check_open("get")
        k = self._pop_index(population)
        name, factor = self._state_name(k, variable, "get")
        with self.adapter.context():
            values = self.adapter.read_state(self._pops[k], name)
        return np.asarray(values, dtype=np.float64) / factor

    def set(self, population, **values):
        """Set state variables now: number, array (one per neuron) or RandomDistribution."""
        self._check_open("set")
        k = self._pop_index(population)
        pop = self.built.populations[k]
        for var, value in values.items():
            name, factor = self._state_name(k, var, "set")
            rng = self.network.rng("initial", 1000 + k)
            arr = resolve_values(value, pop.size, rng, f"Population '{pop.label}'", var,
                                 pop.celltype.variable_unit(var))
            with self.adapter.context():
                self.adapter.write_state(self._pops[k], name, np.asarray(arr, float) * factor)

    # --------------------------------------------------------------- weights
    def _weights_in_connection_order(self, j):
        bp = self.built.projections[j]
        proj = self._projs[j]
        if proj is None:
            return np.zeros(0)
        with self.adapter.context():
            rows = self.adapter.read_weights(proj, bp)
        if rows is None:   # the simulator cannot read weights back: the weights it was given
            return bp.weights.copy()
        rows = np.asarray(rows, dtype=float).reshape(-1, 3)
        factor = WEIGHT_FACTOR[self.built.populations[bp.post].celltype.weight_unit]
        n_post = self.built.populations[bp.post].size
        key_built = pair_keys(bp.pre_idx, bp.post_idx, n_post)
        key_pynn = pair_keys(rows[:, 0], rows[:, 1], n_post)
        if len(key_pynn) != len(key_built):
            raise NeurosimError(f"Projection '{bp.label}': {self.backend} reports {len(key_pynn)} synapses, "
                                f"the network has {len(key_built)}")
        return reorder(rows[:, 2] / factor, key_pynn, key_built)

    def get_weights(self, projection, format="array"):
        """Current weights: 'array' (n_pre, n_post) with NaN where there is no synapse, or 'list'
        rows (pre, post, w); indices are within the projection's endpoints."""
        self._check_open("get_weights")
        j = self.built.projection_index(projection)
        return self.built.projections[j].weights_as(self._weights_in_connection_order(j), format)

    def set_weights(self, projection, values):
        """Set weights: a number, an (n_pre, n_post) array, or one value per connection."""
        self._check_open("set_weights")
        j = self.built.projection_index(projection)
        bp = self.built.projections[j]
        obj = f"Projection '{bp.label}'"
        w = bp.weights_from(values)
        cell = self.built.populations[bp.post].celltype
        must_be_positive = bp.receptor == "excitatory" or cell.conductance_based
        if len(w) and must_be_positive and w.min() < 0:
            raise ValidationError(obj, "weights", f"must be >= 0 on this receptor (got {w.min()})")
        if len(w) and not must_be_positive and w.max() > 0:
            raise ValidationError(obj, "weights", f"must be <= 0 on the inhibitory receptor of "
                                  f"{cell.name} (got {w.max()})")
        if self._projs[j] is None:
            return
        with self.adapter.context():
            self.adapter.write_weights(self._projs[j], bp, self.built, w * WEIGHT_FACTOR[cell.weight_unit])

    def _steps_to_weight_sample(self, remaining):
        steps = [p.record_every - self._step % p.record_every for p in self.built.projections if p.record_every]
        return min([remaining] + steps)

    def _sample_weights(self):
        for j, bp in enumerate(self.built.projections):
            if bp.record_every and self._step % bp.record_every == 0:
                self.results._add_weights(bp.label, self.t, self._weights_in_connection_order(j))

    # ------------------------------------------------------------------- run
    def run(self, duration):
        """Advance by ``duration`` ms; returns the Results of everything since the last reset."""
        self._check_open("run")
        dt = self.built.dt
        n_steps = self.built.steps_of(duration)
        t_start = self.t
        self.results._start_segment(t_start)
        try:
            with self.adapter.context():
                remaining = n_steps
                while remaining > 0:
                    chunk = self._steps_to_weight_sample(remaining)
                    self.adapter.run_until(self.adapter.module, round((self._step + chunk) * dt, 9))
                    self._step += chunk
                    remaining -= chunk
                    self._sample_weights()
                self._collect(t_start, self.t)
                self.adapter.after_run(self)
        finally:
            self.results._end_segment(self.t)
        return self.results

    def _collect(self, t0, t1):
        dt, shift = self.built.dt, self.adapter.output_time_shift(self.built.dt)
        on_grid = self.adapter.on_grid
        for k, bp in enumerate(self.built.populations):
            pop = self._pops[k]
            if bp.record_spikes is not None:
                seg = pop.get_data("spikes").segments[-1]
                times, idx = _flat_spikes(seg, pop)
                times = times + shift
                if on_grid:
                    times = np.round(times / dt) * dt
                sel = (times > t0 + _EPS) & (times <= t1 + _EPS)
                self.results._add_spikes(bp.label, times[sel], idx[sel])
            if bp.kind == "neuron" and bp.record:
                rmap = self.adapter.target.record_map(bp.celltype.name)
                back = {pynn: (var, factor) for var, (pynn, factor) in rmap.items()}
                names = [rmap[var][0] for var in bp.record]
                seg = pop.get_data(names).segments[-1]
                for sig in seg.analogsignals:
                    if sig.name not in back:
                        continue
                    var, factor = back[sig.name]
                    steps = np.round(np.asarray(sig.times.rescale("ms").magnitude, float) / dt).astype(np.int64)
                    times = steps * dt
                    sel = (times > t0 + _EPS) & (times <= t1 + _EPS) & (steps % bp.record[var][1] == 0)
                    indices = np.asarray(sig.array_annotations.get("channel_index",
                                                                    np.arange(sig.shape[1])), dtype=np.int64)
                    values = np.asarray(sig.magnitude, float)[sel] / factor
                    self.results._add_trace(bp.label, var, times[sel], values, indices)

    # ----------------------------------------------------------- lifecycle
    def reset(self):
        """Back to t = 0 with the initial state; recorded data start anew.

        The PyNN simulator is ended and the same built network created again, so plastic
        weights, state set with ``set()`` and random streams start over."""
        self._check_open("reset")
        self._teardown()
        self._create()

    def _teardown(self):
        """End the PyNN simulator and drop every reference to its objects (Brian2 reuses the
        names of freed objects, and with them its compiled code)."""
        try:
            with self.adapter.context():
                self.adapter.end(self.adapter.module)
        finally:
            self._pops, self._projs = [], []
            gc.collect()

    def close(self):
        """End the PyNN simulator (``end()``); the next simulation of this PyNN module can start."""
        if self.closed:
            return
        self.closed = True
        try:
            self._teardown()
        finally:
            _release(self)
            self.adapter.cleanup()

    def checkpoint(self, path):
        raise UnsupportedFeatureError(self.backend, "checkpoint()", "PyNN cannot save a simulator's state; "
                                      "checkpoint with backend='numba'")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        state = "closed" if self.closed else f"t={self.t:g} ms"
        return f"PyNNSimulation(backend={self.backend!r}, {len(self.built.populations)} populations, {state})"


def _flat_spikes(segment, pop):
    """(times ms, indices within the population) of a Neo segment's spike trains, without a
    Python object per spike where the SpikeTrainList allows it."""
    trains = segment.spiketrains
    try:
        ids, times = trains.multiplexed
        ids = np.asarray(ids)
        times = np.asarray(times.rescale("ms").magnitude if hasattr(times, "rescale") else times, float)
        if len(ids) == 0:
            return np.zeros(0), np.zeros(0, np.int64)
        return times, np.asarray(pop.id_to_index(ids), dtype=np.int64)
    except (AttributeError, TypeError, ValueError):
        t_parts, i_parts = [np.zeros(0)], [np.zeros(0, np.int64)]
        for st in trains:
            t_parts.append(np.asarray(st.rescale("ms").magnitude, float))
            i_parts.append(np.full(len(st), int(st.annotations["source_index"]), np.int64))
        return np.concatenate(t_parts), np.concatenate(i_parts)


class Adapter:
    """Simulator-specific pieces; the subclasses live next to each backend's PROFILE."""

    target = None
    on_grid = True
    record_every_step = False   # record state every step and keep every n-th sample here

    def __init__(self, options):
        self.options = options
        self.module, self.import_warnings = import_pynn(self.target.pynn_module)
        logging.getLogger("PyNN").setLevel(logging.ERROR)

    # the differences between simulators
    @contextlib.contextmanager
    def context(self):
        yield

    def setup(self, sim, built):
        raise NotImplementedError

    def end(self, sim):
        sim.end()

    def cleanup(self):
        pass

    def run_until(self, sim, t):
        sim.run_until(t)

    def input_time_shift(self, dt):
        """Added to neurosim spike times given to SpikeSourceArray."""
        return 0.0

    def output_time_shift(self, dt):
        """Added to the simulator's spike stamps to give neurosim's (end of the step)."""
        return 0.0

    #: PyNN cell type name -> variables the simulator maps but PyNN's ``recordable`` omits
    EXTRA_RECORDABLE = {}

    def celltype(self, sim, name, params):
        celltype = getattr(sim, name)(**params)
        if name in self.EXTRA_RECORDABLE:
            celltype.recordable = list(celltype.recordable) + list(self.EXTRA_RECORDABLE[name])
        return celltype

    def poisson_window(self, params, dt):
        """Start/duration for the simulator so that spikes are stamped in (start, start + duration]
        as on numba (each step n with start <= n dt < stop may fire; stamp (n + 1) dt)."""
        return params

    def poisson(self, sim, name, params):
        return getattr(sim, name)(**params)

    def spike_train(self, sim, times):
        return sim.Sequence(times)

    def weight_factor(self, bp):
        return 1.0

    def weight_bound_factor(self, pynn_population):
        """Factor for w_min / w_max of a weight dependence onto ``pynn_population``."""
        return 1.0

    def plasticity_class(self, sim, name):
        return getattr(sim, name)

    def tsodyks_markram(self, sim, syn, bp):
        raise NotImplementedError

    def native_stdp(self, sim, syn, bp):
        """A simulator-native synapse type for an STDP rule PyNN does not translate, or None."""
        return None

    def after_create(self, simulation):
        pass

    def after_run(self, simulation):
        pass

    def read_state(self, pop, name):
        raise NotImplementedError

    def write_state(self, pop, name, values):
        pop.initialize(**{name: values})

    def make_projection(self, sim, j, bp, pre, post, conns, synapse):
        """A PyNN Projection from the connection list (pre, post, weight, delay) of the BuiltNetwork."""
        connector = sim.FromListConnector(conns, column_names=["weight", "delay"])
        return sim.Projection(pre, post, connector, synapse, receptor_type=RECEPTORS[bp.receptor],
                              label=bp.label)

    def read_weights(self, proj, bp):
        """Rows (pre index, post index, weight in PyNN units) of a projection, or None."""
        return proj.get("weight", format="list", with_address=True)

    def write_weights(self, proj, bp, built, w):
        pre, post = built.populations[bp.pre], built.populations[bp.post]
        matrix = np.full((pre.size, post.size), np.nan)
        matrix[bp.pre_idx, bp.post_idx] = w
        proj.set(weight=matrix)
