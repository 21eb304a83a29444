"""The brian2 Simulation: the same surface as the numba one, on Brian2 objects.

``device="runtime"``: objects are created once; ``run(ms)`` may be called
repeatedly (continuation equals one long run) and ``reset()`` restores the
state stored right after construction (``Network.store``/``restore``).

``device="cpp_standalone"``: Brian2 generates a C++ project, compiles and runs
it in one go, so one ``run()`` per compile: the objects are created inside
``run()`` under the standalone device, built in a directory keyed by the
network's structure (make recompiles only what changed, so a second process or
a ``reset()`` followed by ``run()`` reuses the compiled objects) and read back.
A second ``run()`` without ``reset()`` raises ``UnsupportedFeatureError``.
"""
import contextlib
import gc
import hashlib
import os

import numpy as np

from neurosim.cache import cache_dir
from neurosim.errors import SimulationDivergedError, UnsupportedFeatureError, ValidationError
from neurosim.random import resolve_values
from neurosim.results import Results

from . import objects as ob
from . import random_state
from . import translate as tr


class Brian2Simulation:
    """A network on Brian2.  ``run(ms)`` returns the Results accumulated since the last reset."""

    backend = "brian2"

    def __init__(self, network, built, device="runtime", target="cython", threads=1, quiet=False,
                 build_dir=None):
        self.network, self.built = network, built
        self.device, self.target, self.threads, self.quiet = device, target, threads, quiet
        self._seed = ob.seed_for(built)
        self._objects = None
        self.build_dir = None
        if device == "runtime":
            self._objects = ob.create(built, target)
            self._objects.network.store("ns_initial")
            self.method = dict(self._objects.methods)
        else:
            key = hashlib.sha256(f"{ob.structure(built)} threads={threads}".encode()).hexdigest()[:24]
            self.build_dir = build_dir or cache_dir("brian2", f"standalone_{key}")
            # names of their own: Brian2 numbers code objects whose names are taken by live
            # objects (e.g. a runtime simulation's), which would rename the project's files
            self._prefix = f"ns{key[:8]}_"
            self.method = {}
        self.reset()

    # ----------------------------------------------------------------- state
    def reset(self):
        """Back to t = 0 with the initial state; recorded data start anew."""
        self._step = 0
        self._consumed = {}
        self._pending = {}        # cpp_standalone: values set before the run, (k, var) -> array
        self._pending_w = {}      # cpp_standalone: weights set before the run, j -> array
        self._final = None        # cpp_standalone: state after the run
        self._random_state = None  # runtime: this simulation's Brian2 RNG state (None: seed anew)
        if self._objects is not None:
            self._objects.network.restore("ns_initial")
        self.results = Results(self.built.dt, self.built.describe_populations())

    @property
    def t(self):
        """Current simulation time in ms."""
        return self._step * self.built.dt

    @property
    def brian2_network(self):
        """The ``brian2.Network`` (runtime device), for inspection."""
        return None if self._objects is None else self._objects.network

    def _pop_index(self, population):
        return self.built.population_index(population)

    def _check_var(self, k, variable, what):
        pop = self.built.populations[k]
        if pop.kind != "neuron" or variable not in pop.celltype.recordable:
            raise ValidationError(f"Population '{pop.label}'", what, f"unknown variable {variable!r}; "
                                  f"variables: {', '.join(getattr(pop.celltype, 'recordable', [])) or 'none'}")
        return pop

    def get(self, population, variable):
        """Current values of a state variable (float64 copy, one per neuron)."""
        k = self._pop_index(population)
        pop = self._check_var(k, variable, "get")
        if self._objects is not None:
            return self._read(k, variable)
        if self._final is not None:
            return self._final[(k, variable)].copy()
        return np.array(self._pending.get((k, variable), pop.initial[variable]), dtype=np.float64)

    def _read(self, k, variable):
        group = self._objects.groups[k]
        name = self._objects.names[k][variable]
        return np.array(group.variables[name].get_value(), dtype=np.float64)

    def set(self, population, **values):
        """Set state variables now: number, array (one per neuron) or RandomDistribution."""
        k = self._pop_index(population)
        for var, value in values.items():
            pop = self._check_var(k, var, "set")
            rng = self.network.rng("initial", 1000 + k)
            arr = resolve_values(value, pop.size, rng, f"Population '{pop.label}'", var,
                                 pop.celltype.variable_unit(var))
            arr = np.broadcast_to(np.asarray(arr, dtype=np.float64), (pop.size,)).copy()
            if self._objects is not None:
                self._objects.groups[k].variables[self._objects.names[k][var]].set_value(arr)
            else:
                self._refuse_after_standalone_run("set()")
                self._pending[(k, var)] = arr

    # --------------------------------------------------------------- weights
    def _weights(self, j):
        """Current weights of projection j in connection order (float64 copy)."""
        if self._objects is not None and j in self._objects.synapses:
            return self._connection_order(self._objects, j, self._objects.synapses[j].variables["w"].get_value())
        if self._final is not None and ("w", j) in self._final:
            return self._final[("w", j)].copy()
        return np.array(self._pending_w.get(j, self.built.projections[j].weights), dtype=np.float64)

    @staticmethod
    def _connection_order(objs, j, values):
        """Brian2 synapse order (numba's CSR order) -> connection order, along the last axis."""
        values = np.asarray(values, dtype=np.float64)
        out = np.empty_like(values)
        out[..., objs.order[j]] = values
        return out

    def get_weights(self, projection, format="array"):
        """Current weights: 'array' (n_pre, n_post), NaN where there is no synapse, or 'list'
        rows (pre, post, w); indices within the projection's endpoints."""
        j = self.built.projection_index(projection)
        return self.built.projections[j].weights_as(self._weights(j), format)

    def set_weights(self, projection, values):
        """Set weights: a number, an (n_pre, n_post) array, or one value per connection."""
        j = self.built.projection_index(projection)
        proj = self.built.projections[j]
        obj = f"Projection '{proj.label}'"
        w = proj.weights_from(values)
        if self.built.populations[proj.post].celltype.conductance_based and np.any(w < 0):
            raise ValidationError(obj, "weights", f"conductance-based synapses need weights >= 0 (got {w.min()})")
        if self._objects is not None:
            if j in self._objects.synapses:
                self._objects.synapses[j].variables["w"].set_value(w[self._objects.order[j]])
        else:
            self._refuse_after_standalone_run("set_weights()")
            self._pending_w[j] = w

    # ------------------------------------------------------------------- run
    def run(self, duration):
        """Advance by ``duration`` ms; returns the Results of everything since the last reset."""
        dt = self.built.dt
        n_steps = self.built.steps_of(duration)
        if self._objects is None:
            self._refuse_after_standalone_run("a second run()")
        start = self._step
        self.results._start_segment(self.t)
        try:
            if self._objects is not None:
                failure = None
                try:
                    with self._own_random_state():
                        self._objects.network.run(n_steps * dt * 1e-3 * _second(),
                                                  namespace=self._objects.namespace, report=None)
                except Exception as exc:   # Brian2 wraps errors of generated code
                    failure = exc
                self._step = int(round(float(self._objects.network.t_) / (dt * 1e-3)))
                if failure is None:
                    self._carry_last_spikes(self._step - 1)
                self._collect(self._objects, start, self._step, self._read)
                if failure is not None:
                    self._raise_failure(failure)
            else:
                self._run_standalone(n_steps)
        finally:
            self.results._end_segment(self.t)
        self._check_finite()
        self._sample_weights(start)
        return self.results

    @contextlib.contextmanager
    def _own_random_state(self):
        """Run with this simulation's random numbers (Poisson sources): Brian2's runtime RNG is
        numpy's global one plus Brian2's buffers, so swap them in and out.  The spikes then
        depend only on the network's seed, also when simulations interleave their runs, and
        numpy's global generator is left as it was."""
        from brian2.devices.device import get_device
        device = get_device()
        outer = random_state.get_state(device)
        if self._random_state is None:
            device.seed(self._seed)
        else:
            random_state.set_state(device, self._random_state)
        try:
            yield
        finally:
            self._random_state = random_state.get_state(device)
            random_state.set_state(device, outer)

    def _raise_failure(self, exc):
        """Division by zero (or overflow) in generated code means the model diverged."""
        cause, arithmetic = exc, None
        while cause is not None and arithmetic is None:
            if isinstance(cause, (ZeroDivisionError, OverflowError, FloatingPointError)):
                arithmetic = cause
            cause = cause.__cause__ or cause.__context__
        if arithmetic is None:
            raise exc
        owner = getattr(exc, "_brian_objname", "") or ""
        label = next((p.label for k, p in enumerate(self.built.populations)
                      if owner.startswith(f"{self._objects.prefix}p{k}_") or owner == f"{self._objects.prefix}p{k}"),
                     "?")
        raise SimulationDivergedError(label, f"a state variable ({type(arithmetic).__name__} in Brian2's "
                                      "generated code)", self.t) from exc

    def _carry_last_spikes(self, last_step):
        """Put the spikes of the run's last step back into the spike spaces that Brian2's
        thresholder cleared when run() returned, so the next run() delivers them."""
        objs = self._objects
        for k in sorted({p.pre for j, p in enumerate(self.built.projections) if j in objs.synapses}):
            group = objs.groups[k]
            if self.built.populations[k].kind == "array" or tr.LAST_STEP not in group.variables:
                continue   # SpikeGeneratorGroup keeps its spike space; groups without threshold never spike
            ids = np.flatnonzero(group.variables[tr.LAST_STEP].get_value() == last_step)
            space = np.array(group.variables["_spikespace"].get_value())
            space[:len(ids)] = ids
            space[-1] = len(ids)
            group.variables["_spikespace"].set_value(space)

    def _refuse_after_standalone_run(self, what):
        if self._final is not None:
            raise UnsupportedFeatureError(
                "brian2 (cpp_standalone)", f"{what} after the simulation has run",
                "cpp_standalone compiles and runs the whole simulation in one go: call sim.reset() "
                "and run the total duration again (the compiled project is reused), or compile "
                "with device='runtime' for repeated run() calls")

    def _collect(self, objs, start, stop, read):
        """Move what the monitors recorded in steps [start, stop) into Results."""
        dt = self.built.dt
        for k, mon in objs.spike_monitors.items():
            pop = self.built.populations[k]
            n0 = self._consumed.get(("spikes", k), 0)
            ids = np.array(mon.variables["i"].get_value()[n0:], dtype=np.int64)
            steps = ob.steps_of(mon.variables["t"].get_value()[n0:], dt)
            self._consumed[("spikes", k)] = n0 + len(ids)
            keep = pop.record_spikes[ids]
            self.results._add_spikes(pop.label, (steps[keep] + 1) * dt, ids[keep])
        for (k, var), (mon, every, indices) in objs.state_monitors.items():
            pop = self.built.populations[k]
            times, values = self._samples(mon, objs.names[k][var], ("trace", k, var), every, start, stop,
                                          len(indices), lambda: read(k, var)[indices])
            self.results._add_trace(pop.label, var, times, values, indices)
        for j, (mon, every) in objs.weight_monitors.items():
            times, values = self._samples(mon, "w", ("weights", j), every, start, stop, len(objs.order[j]),
                                          lambda: self._weights(j), lambda v: self._connection_order(objs, j, v))
            label = self.built.projections[j].label
            for time, row in zip(times, values):
                self.results._add_weights(label, time, row)

    def _samples(self, mon, name, key, every, start, stop, width, read_now, convert=None):
        """(times, values) of what a StateMonitor recorded in steps [start, stop): Brian2
        samples at the start of steps; neurosim's samples are the states at the ends of
        steps, t in (start, stop] dt: drop the first, add the current state last."""
        dt = self.built.dt
        n0 = self._consumed.get(key, 0)
        steps = ob.steps_of(mon.variables["t"].get_value()[n0:], dt)
        values = np.array(mon.variables[name].get_value()[n0:], dtype=np.float64).reshape(len(steps), width)
        self._consumed[key] = n0 + len(steps)
        if convert is not None:
            values = convert(values)
        keep = steps > start
        steps, values = steps[keep], values[keep]
        if stop % every == 0:
            steps = np.append(steps, stop)
            values = np.vstack([values, np.asarray(read_now(), dtype=np.float64)[None, :]])
        return steps * dt, values

    def _sample_weights(self, start):
        """Recorded weights of projections without synapses (no monitor): empty rows."""
        for j, proj in enumerate(self.built.projections):
            every = getattr(proj, "record_every", 0)
            if every and not self._monitored(j):
                weights = self._weights(j)
                first = (start // every + 1) * every
                for step in range(first, self._step + 1, every):
                    self.results._add_weights(proj.label, step * self.built.dt, weights)

    def _monitored(self, j):
        if self._objects is not None:
            return j in self._objects.weight_monitors
        return bool(self.built.projections[j].n_synapses)   # cpp_standalone: collected after the build

    def _check_finite(self):
        for k, pop in enumerate(self.built.populations):
            if pop.kind != "neuron":
                continue
            for var in pop.celltype.recordable:
                values = self.get(pop.label, var)
                bad = np.flatnonzero(~np.isfinite(values))
                if len(bad):
                    raise SimulationDivergedError(pop.label, var, self._first_bad_time(pop.label, var), int(bad[0]))

    def _first_bad_time(self, label, var):
        try:
            tr = self.results.trace(label, var)
        except Exception:   # not recorded
            return self.t
        bad = np.flatnonzero(~np.all(np.isfinite(tr.values), axis=1))
        return float(tr.times[bad[0]]) if len(bad) else self.t

    # ------------------------------------------------------- cpp_standalone
    def _run_standalone(self, n_steps):
        import brian2 as b2
        from brian2.devices.device import get_device, reset_device, set_device
        with _locked(self.build_dir):
            set_device("cpp_standalone", build_on_run=False, directory=self.build_dir)
            old_threads = b2.prefs.devices.cpp_standalone.openmp_threads
            try:
                b2.prefs.devices.cpp_standalone.openmp_threads = self.threads if self.threads > 1 else 0
                self._build_and_run(n_steps)
            finally:
                b2.prefs.devices.cpp_standalone.openmp_threads = old_threads
                get_device().reinit()
                reset_device()
                # free this build's objects now: Brian2 numbers code objects whose names are
                # still taken, and renamed files would defeat the reuse of the compiled project
                gc.collect()

    def _build_and_run(self, n_steps):
        """Create the objects under the standalone device, build, run and read back."""
        import brian2 as b2
        from brian2.devices.device import get_device
        objs = ob.create(self.built, "standalone", prefix=self._prefix)
        self.method = dict(objs.methods)
        for (k, var), arr in self._pending.items():
            setattr(objs.groups[k], objs.names[k][var], arr)
        for j, w in self._pending_w.items():
            if j in objs.synapses:
                objs.synapses[j].w = w[objs.order[j]]
        b2.seed(self._seed)
        objs.network.run(n_steps * self.built.dt * 1e-3 * b2.second, namespace=objs.namespace, report=None)
        get_device().build(directory=self.build_dir, compile=True, run=True, with_output=not self.quiet)
        final = {}
        for k, pop in enumerate(self.built.populations):
            if pop.kind == "neuron":
                for var in pop.celltype.recordable:
                    values = objs.groups[k].variables[objs.names[k][var]].get_value()
                    final[(k, var)] = np.array(values, dtype=np.float64)
        for j in objs.synapses:
            final[("w", j)] = self._connection_order(objs, j, objs.synapses[j].variables["w"].get_value())
        self._step = n_steps
        self._final = final
        self._collect(objs, 0, n_steps, lambda k, var: final[(k, var)])

    def __repr__(self):
        return (f"Brian2Simulation({len(self.built.populations)} populations, t={self.t:g} ms, "
                f"device={self.device}{', target=' + self.target if self.device == 'runtime' else ''})")


def _second():
    import brian2 as b2
    return b2.second


@contextlib.contextmanager
def _locked(directory):
    """One build at a time per build directory (processes share the cache)."""
    os.makedirs(directory, exist_ok=True)
    try:
        import fcntl
    except ImportError:   # not POSIX: no locking
        yield
        return
    with open(os.path.join(directory, ".neurosim.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
