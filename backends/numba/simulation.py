"""The numba Simulation: owns the kernel's arrays and runs it chunk by chunk."""
import os
import signal
import sys
import threading

import numpy as np

from neurosim.errors import SimulationDivergedError, UnsupportedFeatureError, ValidationError
from neurosim.heavy_imports import collector_paused
from neurosim.random import resolve_values
from neurosim.results import Results

from .codegen import uniform_weight


def choose_threading_layer():
    """Pick numba's threading layer before its threads start (later calls change nothing).

    The kernels enter a parallel loop every time step.  numba's OpenMP layer starts one in about
    1.5 us; its own 'workqueue' layer took about 135 us on this project's VM, more than a step's
    work.  But OpenMP loads the system libgomp while NEST's wheel brings its own: with NEST
    initialised first, NEST's next ResetKernel segfaulted (a NEST run, a numba run with
    threads=2, a second NEST run); numba first and NEST after works.  So numba's default order
    (tbb, omp, workqueue) unless NEST is already loaded, then 'workqueue'.  A layer the user
    chose (NUMBA_THREADING_LAYER, or another value in numba.config) is left alone."""
    import numba
    if "NUMBA_THREADING_LAYER" in os.environ or numba.config.THREADING_LAYER not in ("default", "workqueue"):
        return
    if _started_layer() is None:            # once started, the layer is fixed for this process
        numba.config.THREADING_LAYER = "workqueue" if "nest" in sys.modules else "default"


def _started_layer():
    """The threading layer numba's threads run on, or None before they start."""
    import numba
    try:
        return numba.threading_layer()
    except ValueError:
        return None


_FORKED = [False]      # set in a child created by fork()
os.register_at_fork(after_in_child=lambda: _FORKED.__setitem__(0, True))


def check_threads_usable():
    """GNU OpenMP cannot run in a child forked after its threads started: numba then terminates
    the child ("fork() called from a process already using GNU OpenMP").  Refuse before that."""
    if _FORKED[0] and _started_layer() == "omp":
        raise UnsupportedFeatureError(
            "numba", "threads > 1 in a process forked after numba's OpenMP threads started",
            "use threads=1 in forked workers, start them with multiprocessing's 'spawn' method, or "
            "set NUMBA_THREADING_LAYER=workqueue before the first run")


CHUNK_STEPS = 2000           # steps per kernel call: progress, Ctrl-C and buffer drains happen between
PROGRESS_DELAY_S = 2.0         # a run shorter than this (wall time, s) shows no progress bar
MIN_SPIKE_BUFFER = 1 << 20


class NumbaSimulation:
    """A compiled network.  ``run(ms)`` may be called repeatedly; ``reset()`` restarts."""

    backend = "numba"

    def __init__(self, network, built, layout, kernel, builder, dtype, threads, quiet=False, record_to=None):
        self.network, self.built, self._kernel = network, built, kernel
        self._place, self._members = layout.place, layout.members     # population -> kernel slice
        self._fuse = layout.enabled
        self._dtype, self.threads, self.quiet = dtype, threads, quiet
        self.record_to = record_to
        self.info = {}     # backend facts, e.g. 'weight_quantisation' under numerics='spinnaker'
        self._parallel = builder.uses_prange
        self._arg_names = list(builder.args)
        self._call_names = builder.used_args        # the kernel's parameters after step0..spike_cap
        # the builder's arrays are the initial state; run() works on copies of the ones the
        # kernel changes, the others (connectivity, parameters, static weights) are shared
        self._initial = dict(builder.args)
        self._traces = builder.meta["traces"]
        self._views = builder.meta["views"]
        self._proj_meta = dict(builder.meta["projections"])
        for j, (lead, positions) in layout.positions.items():     # merged projections
            self._proj_meta[j] = {"weights": builder.meta["projections"][lead]["weights"], "positions": positions}
        self._n_ptrs = len(builder.meta["ptr_slots"])
        methods = {p["k"]: p["method"] for p in builder.meta["populations"]}
        self.method = {k: methods[g] for k, (g, _) in self._place.items()}
        self._state_names = [n for n in self._arg_names if n.startswith("s") and n[1].isdigit()]
        # everything the kernel changes between steps (restored when a chunk is replayed)
        self._mutable = self._state_names + [n for n in self._arg_names if n.startswith(("ref", "ring", "ptrs", "hist", "sv", "lu"))
                                             and not n.startswith("refsteps")]
        self._static_weights = list(dict.fromkeys(m["weights"] for m in self._proj_meta.values()
                                                  if not m["weights"].startswith("sv")))
        self._shared = {n for n in self._arg_names if n.startswith(("c", "p", "P", "D", "C", "recspk", "tr", "gp_", "rtab"))
                        and n not in self._mutable and not n.endswith(("_buf", "_n"))}
        caps = [int(p.record_spikes.sum()) if p.record_spikes is not None else 0 for p in built.populations]
        self._spike_cap = max(1, sum(caps))
        self.reset()
        with collector_paused():
            self._call(0)   # compile (or load from numba's cache) now, not in the first run()

    # ----------------------------------------------------------------- state
    def reset(self):
        """Back to t = 0 with the initial state; recorded data start anew."""
        self._args = {k: (v.copy() if isinstance(v, np.ndarray) and k not in self._shared else v)
                      for k, v in self._initial.items()}
        for name, (base, dtype) in self._views.items():   # arrays that alias another one
            self._args[name] = self._args[base].view(dtype)
        self._args["ptrs"] = np.zeros(max(1, self._n_ptrs), dtype=np.int64)
        cap = max(MIN_SPIKE_BUFFER, 4 * self._spike_cap)
        self._args["out_step"] = np.zeros(cap, dtype=np.int64)
        self._args["out_pop"] = np.zeros(cap, dtype=np.int32)
        self._args["out_id"] = np.zeros(cap, dtype=np.int32)
        self._step = 0
        self.results = self._new_results()

    def _new_results(self):
        results = Results(self.built.dt, self.built.describe_populations())
        if self.record_to is not None:
            import os
            import time
            results._stream_to(os.path.join(self.record_to, time.strftime("run_%Y%m%d_%H%M%S_") + f"{id(results):x}"))
        return results

    @property
    def t(self):
        """Current simulation time in ms."""
        return self._step * self.built.dt

    def _pop_index(self, population):
        return self.built.population_index(population)

    def _state(self, k, variable, action):
        """Population k's slice of the kernel array of ``variable`` (a view)."""
        g, offset = self._place.get(k, (k, 0))
        pop = self.built.populations[k]
        if f"s{g}_{variable}" not in self._args:
            raise ValidationError(f"Population '{pop.label}'", action, f"unknown variable {variable!r}; "
                                  f"variables: {', '.join(getattr(pop.celltype, 'recordable', [])) or 'none'}")
        return self._args[f"s{g}_{variable}"][offset:offset + pop.size]

    def get(self, population, variable):
        """Current values of a state variable (float64 copy, one per neuron)."""
        return self._state(self._pop_index(population), variable, "get").astype(np.float64)

    def set(self, population, **values):
        """Set state variables now: number, array (one per neuron) or RandomDistribution."""
        k = self._pop_index(population)
        pop = self.built.populations[k]
        for var, value in values.items():
            state = self._state(k, var, "set")
            rng = self.network.rng("initial", 1000 + k)
            arr = resolve_values(value, pop.size, rng, f"Population '{pop.label}'", var,
                                 pop.celltype.variable_unit(var))
            state[:] = arr.astype(self._dtype)

    # ------------------------------------------------------------ checkpoint
    def checkpoint(self, path):
        """Write everything needed to continue bit-identically: the network file, the
        backend options, the time step reached and every array the kernel changes
        (state, refractory counters, spike histories, ring buffers, plastic synapses).
        One ``.npz`` file, no pickle; ``neurosim.restore(path)`` reads it back."""
        import json
        from neurosim.io import network_to_dict
        meta = {"format": "neurosim-checkpoint", "version": 1, "backend": "numba", "step": self._step,
                "numerics": np.dtype(self._dtype).name, "threads": self.threads, "fuse": self._fuse,
                "network": network_to_dict(self.network)}
        arrays = {f"a_{name}": self._args[name] for name in self._mutable}
        # static weights changed by set_weights() (the network file holds the original ones)
        arrays.update({f"w_{name}": self._args[name] for name in self._static_weights
                       if self._args[name] is not self._initial[name]})
        np.savez_compressed(path, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
        return path if str(path).endswith(".npz") else f"{path}.npz"

    def _restore_arrays(self, step, arrays):
        for name in self._mutable:
            if f"a_{name}" not in arrays or arrays[f"a_{name}"].shape != self._args[name].shape:
                raise ValidationError("checkpoint", name, "is missing or has the wrong shape for this network")
            self._args[name][...] = arrays[f"a_{name}"]
        for name in self._static_weights:
            if f"w_{name}" in arrays:
                if arrays[f"w_{name}"].shape != self._initial[name].shape:
                    raise ValidationError("checkpoint", name, "has the wrong shape for this network")
                self._args[name] = arrays[f"w_{name}"].astype(self._dtype)
                self._note_uniform_weight(name)
        self._step = int(step)
        self.results = self._new_results()

    # --------------------------------------------------------------- weights
    def _weight_array(self, j):
        """The kernel's weights of projection j, in CSR order (a view into a shared array)."""
        meta = self._proj_meta[j]
        start, stop = meta.get("slice", (0, None))
        return self._args[meta["weights"]][start:stop]

    def _weights_in_connection_order(self, j):
        meta = self._proj_meta[j]
        if "positions" in meta:
            return self._args[meta["weights"]][meta["positions"]].astype(float)
        if meta["order"] is None:
            return self._weight_array(j).astype(float)
        out = np.empty(len(meta["order"]))
        out[meta["order"]] = self._weight_array(j)
        return out

    def get_weights(self, projection, format="array"):
        """Current weights: 'array' (n_pre, n_post) with NaN where there is no synapse
        (the last of several synapses between a pair wins), or 'list' rows (pre, post, w);
        indices are within the projection's endpoints."""
        j = self.built.projection_index(projection)
        return self.built.projections[j].weights_as(self._weights_in_connection_order(j), format)

    def set_weights(self, projection, values):
        """Set weights: a number, an (n_pre, n_post) array, or one value per connection."""
        j = self.built.projection_index(projection)
        proj, meta = self.built.projections[j], self._proj_meta[j]
        obj = f"Projection '{proj.label}'"
        w = proj.weights_from(values)
        if self.built.populations[proj.post].celltype.conductance_based and np.any(w < 0):
            raise ValidationError(obj, "weights", f"conductance-based synapses need weights >= 0 (got {w.min()})")
        name = meta["weights"]
        if self._args[name] is self._initial[name]:   # shared with the initial state: copy on write
            self._args[name] = self._args[name].copy()
        if "positions" in meta:
            self._args[name][meta["positions"]] = w.astype(self._dtype)
        else:
            self._weight_array(j)[:] = (w if meta["order"] is None else w[meta["order"]]).astype(self._dtype)
        self._note_uniform_weight(name)

    def _note_uniform_weight(self, name):
        """After static weights ``name`` changed: whether the kernel may use one value for all."""
        base = name[:-len("_w")]           # c{j}_w -> c{j}
        if f"{base}_wsame" in self._args:
            self._args[f"{base}_wsame"], self._args[f"{base}_wval"] = uniform_weight(self._args[name])

    def _steps_to_weight_sample(self):
        steps = [p.record_every - self._step % p.record_every for p in self.built.projections if p.record_every]
        return min(steps) if steps else CHUNK_STEPS

    def _sample_weights(self):
        for j, proj in enumerate(self.built.projections):
            if proj.record_every and self._step % proj.record_every == 0:
                self.results._add_weights(proj.label, self.t, self._weights_in_connection_order(j))

    # ------------------------------------------------------------------- run
    def run(self, duration):
        """Advance by ``duration`` ms; returns the Results of everything since the last reset."""
        dt = self.built.dt
        n_steps = self.built.steps_of(duration)
        if self._parallel:
            import numba
            check_threads_usable()
            choose_threading_layer()
            numba.set_num_threads(self.threads)
        self.results._start_segment(self.t)
        interrupted = {"flag": False}
        previous = self._install_sigint(interrupted)
        bar = self._progress(n_steps)
        try:
            remaining = n_steps
            while remaining > 0 and not interrupted["flag"]:
                done = self._run_chunk(min(remaining, CHUNK_STEPS, self._steps_to_weight_sample()))
                remaining -= done
                self._sample_weights()
                if bar is not None:
                    bar.update(done * dt)
        finally:
            if bar is not None:
                bar.close()
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            self.results._end_segment(self.t)
        if interrupted["flag"]:
            raise KeyboardInterrupt(f"run interrupted at t = {self.t:g} ms; data recorded so far are in "
                                    "sim.results and run() can continue")
        return self.results

    def _install_sigint(self, state):
        if threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum, frame):
            state["flag"] = True
        try:
            return signal.signal(signal.SIGINT, handler)
        except ValueError:
            return None

    def _progress(self, n_steps):
        """A progress bar in simulated ms (its rate reads simulated ms per second), shown on a
        terminal when a run takes longer than PROGRESS_DELAY_S of wall time."""
        if self.quiet or not sys.stderr.isatty():
            return None
        from tqdm import tqdm
        return tqdm(total=round(n_steps * self.built.dt, 6), unit="ms", desc="neurosim", leave=False,
                    delay=PROGRESS_DELAY_S, file=sys.stderr,
                    bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} ms simulated "
                               "[{elapsed}<{remaining}, {rate_fmt}]")

    def _run_chunk(self, n_steps):
        """Run up to n_steps; on NaN/inf, replay the chunk step by step to find where."""
        snapshot = {n: self._args[n].copy() for n in self._mutable}
        step0 = self._step
        done, n_out = self._call(n_steps)
        if self._finite():
            self._collect(step0, done, n_out)
            return done
        for name, value in snapshot.items():
            self._args[name][...] = value
        self._step = step0
        while True:
            step = self._step
            one, n_out = self._call(1)
            self._collect(step, one, n_out)
            if not self._finite():
                self._diverged()

    def _call(self, n_steps):
        a = self._args
        for tr in self._traces:
            a[tr["name"] + "_buf"] = np.zeros((n_steps // tr["every"] + 1, tr["n"]), dtype=self._dtype)
            a[tr["name"] + "_n"][0] = 0
        done, _, n_out = self._kernel(np.int64(self._step), np.int64(n_steps), self.built.dt,
                                      np.int64(self._spike_cap), *[a[n] for n in self._call_names])
        self._step += done
        return done, n_out

    def _finite(self):
        return all(np.isfinite(self._args[n]).all() for n in self._state_names)

    def _collect(self, step0, done, n_out):
        a, dt = self._args, self.built.dt
        if n_out:
            times = (a["out_step"][:n_out] + 1) * dt
            pops = a["out_pop"][:n_out]
            ids = a["out_id"][:n_out]
            for k, pop in enumerate(self.built.populations):
                if pop.record_spikes is not None:
                    g, offset = self._place.get(k, (k, 0))
                    sel = pops == g
                    if len(self._members.get(g, ())) > 1:
                        sel &= (ids >= offset) & (ids < offset + pop.size)
                    self.results._add_spikes(pop.label, times[sel], ids[sel].astype(np.int64) - offset)
        for tr in self._traces:
            n = int(a[tr["name"] + "_n"][0])
            every = tr["every"]
            first = step0 + (-(step0 + 1)) % every      # first step with (step + 1) % every == 0
            times = (first + 1 + every * np.arange(n)) * dt
            values, indices = a[tr["name"] + "_buf"][:n], a[tr["name"] + "_idx"]
            members = self._members.get(tr["k"], [tr["k"]])
            for k in members:
                pop = self.built.populations[k]
                if len(members) == 1:
                    self.results._add_trace(pop.label, tr["var"], times, values, indices)
                elif tr["var"] in pop.record:          # its columns of the fused trace
                    offset = self._place[k][1]
                    cols = (indices >= offset) & (indices < offset + pop.size)
                    self.results._add_trace(pop.label, tr["var"], times, values[:, cols], indices[cols] - offset)

    def _diverged(self):
        for name in self._state_names:
            bad = np.flatnonzero(~np.isfinite(self._args[name]))
            if len(bad):
                g, var = name[1:].split("_", 1)
                k = max((k for k in self._members.get(int(g), [int(g)]) if self._place[k][1] <= bad[0]),
                        key=lambda k: self._place[k][1])
                raise SimulationDivergedError(self.built.populations[k].label, var, self.t,
                                              int(bad[0]) - self._place[k][1])

    def __repr__(self):
        return (f"NumbaSimulation({len(self.built.populations)} populations, t={self.t:g} ms, "
                f"dtype={np.dtype(self._dtype).name}, threads={self.threads})")
