"""Memory estimates, so a network that cannot fit is refused instead of killed by the OS.

Two estimates, both in bytes and both approximate (they aim to be within a
factor of about 1.5 of the peak, erring high):

* :func:`estimate_network` works from the description alone, before any
  connector draws a connection: expected synapse counts come from the
  connector's rule (``p * n_pre * n_post`` for FixedProbabilityConnector, the
  list length for FromListConnector, ...).  ``build()`` calls it first, so a
  network of 10^11 synapses is refused in milliseconds.
* :func:`estimate_memory` works from a :class:`~neurosim.build.BuiltNetwork`
  (exact array sizes) and adds what the numba backend allocates: state and
  parameter arrays (kept twice: initial copy and working copy, plus a
  snapshot for the divergence check), CSR synapse tables (int32 targets,
  weights, int16 delays when they differ, int64 row pointers), ring buffers or
  spike histories (max delay + 1 rows), the spike output buffer and the trace
  buffers of one chunk (the recorded duration is unknown, so traces are
  counted per chunk of ``CHUNK_STEPS`` steps).

:func:`check_fits` compares an estimate with the memory available now
(``MemAvailable`` in /proc/meminfo, a cgroup limit if lower, else
``os.sysconf``) and raises ``ValidationError("Network", "memory", ...)`` when
it exceeds :data:`FRACTION` of it.
"""
import math
import os

import numpy as np

from .errors import ValidationError

FRACTION = 0.8                 # refuse an estimate above this share of the available memory
CHUNK_STEPS = 2000             # steps per kernel call (as backends/numba/simulation.py)
MIN_SPIKE_BUFFER = 1 << 20     # spike output buffer entries (as backends/numba/simulation.py)
OUT_BYTES_PER_SPIKE = 16       # out_step int64 + out_pop int32 + out_id int32
MAX_DELAY_STEPS = 2**15 - 1    # as neurosim.build.DEFAULT_MAX_DELAY_STEPS
# bytes per synapse kept by build(): pre and post indices (int32; the same arrays serve as
# pre_local / post_local unless the projection is on a view), weights (float64; the numba
# backend builds float32 weights for float32 runs, so this errs high there) and delay steps
# (int16) -- the last two take no memory per synapse when they are uniform
INDEX_BYTES_PER_SYNAPSE = 8
VIEW_BYTES_PER_SYNAPSE = 8     # separate local indices of a projection on a PopulationView
WEIGHT_BYTES_PER_SYNAPSE = 8
DELAY_BYTES_PER_SYNAPSE = 2
# temporaries while one projection is built (connector output 2 x int64, float64 weights,
# delays and rounded delays, the sort by presynaptic neuron and its permuted copies): they
# are freed before the next projection, so only the largest projection counts
TRANSIENT_BYTES_PER_SYNAPSE = 72
COMPILE_TRANSIENT_BYTES_PER_SYNAPSE = 8
KERNEL_COPIES = 2              # per-neuron arrays the simulation keeps twice (initial + working)
CONNECTIVITY_COPIES = 1        # CSR tables and static weights are shared by initial and working state
MUTABLE_COPIES = 3             # state, ring buffers, histories: initial + working + chunk snapshot


def _fmt(nbytes):
    """Human-readable size: '1.5 GiB'."""
    value = float(nbytes)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.3g} {unit}"
        value /= 1024
    return f"{value:.3g} PiB"


format_bytes = _fmt


# ------------------------------------------------------------------ available memory
def _meminfo_available():
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_available():
    """Room left under a cgroup v2 (or v1) memory limit, or None without one."""
    for limit_path, usage_path in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit_path) as handle:
                text = handle.read().strip()
            if text == "max":
                continue
            limit = int(text)
            if limit >= 1 << 60:  # v1 writes a huge number for "no limit"
                continue
            with open(usage_path) as handle:
                usage = int(handle.read().strip())
            return max(limit - usage, 0)
        except (OSError, ValueError):
            continue
    return None


def _sysconf_available():
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
        if pages > 0 and size > 0:
            return pages * size
    except (ValueError, OSError, AttributeError):
        pass
    return None


def available_memory():
    """Bytes of memory available to this process now (None if it cannot be found)."""
    found = [v for v in (_meminfo_available(), _cgroup_available()) if v is not None]
    if not found:
        found = [v for v in (_sysconf_available(),) if v is not None]
    return min(found) if found else None


def check_fits(estimate, label="network", details=None):
    """Raise ``ValidationError('Network', 'memory', ...)`` if ``estimate`` (bytes) exceeds
    :data:`FRACTION` of :func:`available_memory`.

    ``label`` names what was estimated in the message; ``details`` is an
    optional dict ``{part: bytes}`` whose largest entries the message lists.
    Returns the available memory in bytes (None if unknown: then nothing is checked).
    """
    available = available_memory()
    if available is None:
        return None
    if estimate > FRACTION * available:
        parts = ""
        if details:
            top = sorted(details.items(), key=lambda kv: -kv[1])[:3]
            parts = "; largest parts: " + ", ".join(f"{name} {_fmt(b)}" for name, b in top)
        raise ValidationError("Network", "memory", f"{label} needs about {_fmt(estimate)} "
                              f"({estimate:.3g} bytes) but only {_fmt(available)} is available "
                              f"(allowed: at most {FRACTION:.0%} of it, {_fmt(FRACTION * available)})"
                              f"{parts}; make it smaller, record fewer variables or use a machine "
                              "with more memory")
    return available


# ------------------------------------------------------------------ from the description
def _is_scalar(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _delay_upper_ms(value, dt):
    """An upper bound (ms) on the delays a synapse's ``delay`` can produce."""
    from .random import RandomDistribution
    cap = MAX_DELAY_STEPS * dt
    if value is None:
        return dt
    if isinstance(value, RandomDistribution):
        p, d = value.parameters, value.distribution
        if d in ("uniform", "uniform_int"):
            upper = p["high"]
        elif d in ("normal", "normal_clipped", "normal_clipped_to_boundary"):
            upper = p["mu"] + 6 * p["sigma"]
            if "high" in p:
                upper = min(upper, p["high"])
        elif d == "lognormal":
            upper = math.exp(min(p["mu"] + 6 * p["sigma"], 700.0))
        elif d == "exponential":
            upper = 15 * p["beta"]
        elif d == "gamma":
            upper = p["k"] * p["theta"] + 10 * math.sqrt(p["k"]) * p["theta"]
        elif d == "poisson":
            upper = p["lambda_"] + 6 * math.sqrt(p["lambda_"]) + 10
        elif d == "binomial":
            upper = p["n"]
        else:
            upper = cap
        return min(max(upper, dt), cap)
    try:
        upper = float(np.max(np.asarray(value, dtype=float))) if np.size(value) else dt
    except (TypeError, ValueError):
        return dt
    return min(max(upper, dt), cap) if math.isfinite(upper) else cap


def expected_synapses(projection):
    """Expected number of synapses of a Projection, from its connector's rule alone."""
    from . import connectors as c
    conn = projection.connector
    n_pre, n_post = projection.pre.size, projection.post.size
    same = projection.presynaptic_population is projection.postsynaptic_population
    no_self = same and not getattr(conn, "allow_self_connections", True)
    pairs = n_pre * n_post - (min(n_pre, n_post) if no_self else 0)
    if isinstance(conn, c.AllToAllConnector):
        return pairs
    if isinstance(conn, c.OneToOneConnector):
        return min(n_pre, n_post)
    if isinstance(conn, c.FixedProbabilityConnector):
        return conn.p_connect * pairs
    if isinstance(conn, c.FixedNumberPreConnector):
        return conn.n * n_post
    if isinstance(conn, c.FixedNumberPostConnector):
        return conn.n * n_pre
    if isinstance(conn, c.FixedTotalNumberConnector):
        return conn.n
    if isinstance(conn, c.FromListConnector):
        return len(conn.pre)
    if isinstance(conn, c.ArrayConnector):
        return int(np.count_nonzero(conn.array))
    if isinstance(conn, c.DistanceDependentProbabilityConnector):
        return _distance_dependent_mean(projection, conn, pairs)
    return pairs  # an unknown rule: at most every pair


def _distance_dependent_mean(projection, conn, pairs, samples=256):
    """Mean probability over a fixed sample of pairs, times the number of pairs.

    Positions come from the populations' structures; above 10^7 neurons
    (positions alone would be large) every pair counts as an upper bound.
    """
    if projection.pre.size + projection.post.size > 10**7:
        return pairs
    pre_pos, post_pos = projection.pre.positions, projection.post.positions
    if pre_pos is None or post_pos is None or pairs == 0:
        return 0  # connect() refuses it with its own message
    from .space import distances
    rng = np.random.default_rng(0)   # a private stream: the network's streams stay untouched
    i = rng.integers(0, len(pre_pos), samples)
    j = rng.integers(0, len(post_pos), samples)
    try:
        p = float(np.mean(conn.probabilities(distances(pre_pos[i], post_pos[j], conn.periodic_boundaries))))
    except ValidationError:
        return 0  # connect() reports the expression's problem itself
    return p * pairs


def network_breakdown(network, dtype_bytes=4):
    """``{part: bytes}`` of :func:`estimate_network`."""
    dt = network.dt
    parts = {}
    n_recorded = 0
    for pop in network.populations:
        n, cell = pop.size, pop.celltype
        name = f"population '{pop.label}'"
        params = dict(getattr(cell, "parameters", {}) or {})
        if "spike_times" in params:  # SpikeSourceArray: events, not parameters
            trains = cell.spike_times
            events = sum(len(t) for t in trains) * (n if not cell.per_neuron else 1)
            parts[name] = events * 40 + n * 12
        else:
            hetero = sum(1 for v in params.values() if not _is_scalar(v))
            hetero += sum(1 for _, v, _ in pop._params if not _is_scalar(v))
            n_vars = len(getattr(cell, "recordable", []))
            build_bytes = 8 * (len(params) + n_vars)                 # float64 while building
            kernel_bytes = (MUTABLE_COPIES * dtype_bytes * n_vars + KERNEL_COPIES * dtype_bytes * hetero
                            + MUTABLE_COPIES * 4 + KERNEL_COPIES * 8 + 4 + 1)  # ref, refsteps, flags, spk, mask
            parts[name] = n * (build_bytes + kernel_bytes)
        for var, (indices, interval) in pop._record.items():
            count = n if indices is None else len(indices)
            if var == "spikes":
                n_recorded += count
                continue
            every = max(1, int(round((interval or dt) / dt)))
            parts[f"{name} trace {var}"] = 2 * (CHUNK_STEPS // every + 1) * count * dtype_bytes
    ring = {}
    largest = 0.0
    for k, proj in enumerate(network.projections):
        syn = float(expected_synapses(proj))
        largest = max(largest, syn)
        hetero_delay = not _is_scalar(proj.synapse_type.delay) and proj.synapse_type.delay is not None
        hetero_weight = (not _is_scalar(proj.synapse_type.weight)
                         or getattr(proj.connector, "weights", None) is not None)
        on_view = any(hasattr(side, "indices") for side in (proj.pre, proj.post))
        kernel = CONNECTIVITY_COPIES * (4 + dtype_bytes + (2 if hetero_delay else 0))
        per_syn = (INDEX_BYTES_PER_SYNAPSE + (VIEW_BYTES_PER_SYNAPSE if on_view else 0)
                   + (WEIGHT_BYTES_PER_SYNAPSE if hetero_weight else 0)
                   + (DELAY_BYTES_PER_SYNAPSE if hetero_delay else 0) + kernel)
        if getattr(proj.synapse_type, "plastic", False):
            n_vars = len(getattr(getattr(proj.synapse_type, "equations", None), "variables", {}))
            per_syn += _plastic_bytes_per_synapse(n_vars, dtype_bytes)
        parts[f"projection '{proj.label}' ({syn:.3g} synapses)"] = (
            syn * per_syn + (proj.presynaptic_population.size + 1) * 8 * CONNECTIVITY_COPIES)
        delay_ms = _delay_upper_ms(proj.synapse_type.delay, dt)
        conn_delays = getattr(proj.connector, "delays", None)
        if conn_delays is not None and len(conn_delays):
            delay_ms = min(max(float(np.max(conn_delays)), dt), MAX_DELAY_STEPS * dt)
            hetero_delay = True
        rows = int(math.ceil(delay_ms / dt)) + 1
        if hetero_delay:  # ring buffer of values per (post population, receptor)
            key = ("ring", id(proj.postsynaptic_population), proj.receptor_type)
            cost = rows * proj.postsynaptic_population.size * dtype_bytes
        else:             # spike history per presynaptic population
            key = ("hist", id(proj.presynaptic_population))
            cost = rows * (proj.presynaptic_population.size * 4 + 8)
        ring[key] = max(ring.get(key, 0), cost * MUTABLE_COPIES)
    if ring:
        parts["ring buffers and spike histories"] = sum(ring.values())
    if largest:
        parts["temporaries while building the largest projection"] = TRANSIENT_BYTES_PER_SYNAPSE * largest
    parts["spike output buffer"] = max(MIN_SPIKE_BUFFER, 4 * n_recorded) * OUT_BYTES_PER_SPIKE
    return parts


def _plastic_bytes_per_synapse(n_vars, dtype_bytes):
    """Plastic synapses: weight and variables (mutable), last-update time (float64),
    post-sorted synapse index (int64) and source (int32); float64 initial values at build."""
    return (MUTABLE_COPIES * (dtype_bytes * (1 + n_vars) + 8) + KERNEL_COPIES * (8 + 4) + 8 * n_vars)


def estimate_network(network, dtype_bytes=4):
    """Approximate peak bytes to build and run ``network`` (a description), before building it.

    Synapse counts are the connectors' expected values; delays given as
    distributions count with a generous upper bound.  ``dtype_bytes``: 4 for
    float32 state and weights (the default), 8 for float64.
    """
    return int(sum(network_breakdown(network, dtype_bytes).values()))


# ------------------------------------------------------------------ from a built network
def _nbytes(value):
    """Bytes an array holds: nothing for zero-stride (uniform) views."""
    if not isinstance(value, np.ndarray) or 0 in value.strides:
        return 0
    return value.nbytes


def memory_breakdown(built, dtype_bytes=4):
    """``{part: bytes}`` of :func:`estimate_memory`."""
    parts = {}
    n_recorded = 0
    hist, rings = {}, {}
    for proj in built.projections:
        d = proj.delay_steps
        dmax = int(d.max()) if len(d) else 1
        if len(d) == 0 or bool(np.all(d == d[0])):
            hist[proj.pre] = max(hist.get(proj.pre, 1), dmax + 1)
        else:
            key = (proj.post, proj.receptor)
            rings[key] = max(rings.get(key, 1), dmax + 1)
    for k, pop in enumerate(built.populations):
        n = pop.size
        name = f"population '{pop.label}'"
        held = sum(_nbytes(v) for v in pop.params.values()) + sum(_nbytes(v) for v in pop.initial.values())
        held += _nbytes(pop.refractory_steps) + _nbytes(pop.record_spikes)
        for arrays in (pop.injection, pop.source_events):
            held += sum(_nbytes(a) for a in (arrays or ()))
        hetero = sum(1 for v in pop.params.values() if isinstance(v, np.ndarray))
        n_vars = len(pop.initial)
        kernel = (MUTABLE_COPIES * n_vars * dtype_bytes + KERNEL_COPIES * hetero * dtype_bytes) * n
        if pop.kind == "neuron":
            kernel += MUTABLE_COPIES * 4 * n + KERNEL_COPIES * (n + 8)   # refractory counters, flags
        kernel += KERNEL_COPIES * 4 * n                                  # spike list
        if pop.record_spikes is not None:
            n_recorded += int(pop.record_spikes.sum())
        parts[name] = held + kernel
        for var, (indices, every) in pop.record.items():
            parts[f"{name} trace {var}"] = 2 * (CHUNK_STEPS // every + 1) * len(indices) * dtype_bytes
        if k in hist:
            parts[f"{name} spike history"] = MUTABLE_COPIES * hist[k] * (4 * n + 8)
    for (k, receptor), length in rings.items():
        pop = built.populations[k]
        parts[f"population '{pop.label}' ring buffer {receptor}"] = (
            MUTABLE_COPIES * length * pop.size * dtype_bytes)
    for proj in built.projections:
        syn = proj.n_synapses
        arrays = (proj.pre_idx, proj.post_idx, proj.weights, proj.delay_steps,
                  getattr(proj, "pre_local", None), getattr(proj, "post_local", None))
        held = sum(_nbytes(a) for a in {id(a): a for a in arrays}.values())   # shared arrays once
        syn_vars = getattr(proj, "syn_initial", None) or {}
        held += sum(_nbytes(a) for a in syn_vars.values())
        d = proj.delay_steps
        hetero_delay = len(d) > 0 and not bool(np.all(d == d[0]))
        n_pre = built.populations[proj.pre].size
        kernel = CONNECTIVITY_COPIES * (syn * (dtype_bytes + (2 if hetero_delay else 0)) + (n_pre + 1) * 8)
        if proj.post_idx.dtype != np.int32:
            kernel += syn * 4                 # the kernel's int32 copy of the targets
        if getattr(proj, "synapse", None) is not None:
            kernel += syn * (_plastic_bytes_per_synapse(len(syn_vars), dtype_bytes) - 8 * len(syn_vars))
        transient = COMPILE_TRANSIENT_BYTES_PER_SYNAPSE * syn
        parts[f"projection '{proj.label}' ({syn} synapses)"] = held + kernel + transient
    parts["spike output buffer"] = max(MIN_SPIKE_BUFFER, 4 * n_recorded) * OUT_BYTES_PER_SPIKE
    return parts


def estimate_memory(built_network, dtype_bytes=4):
    """Approximate peak bytes of a built network compiled for the numba backend.

    Counts the built arrays themselves and the kernel's arrays (see the module
    docstring); trace buffers for one chunk.  ``dtype_bytes``: 4 (float32) or 8.
    """
    return int(sum(memory_breakdown(built_network, dtype_bytes).values()))


def guard_network(network, dtype_bytes=4):
    """Refuse ``network`` (before building it) if :func:`estimate_network` exceeds the limit."""
    parts = network_breakdown(network, dtype_bytes)
    return check_fits(int(sum(parts.values())), f"Network '{network.label}'", parts)


def guard_built(built, dtype_bytes=4, label="network"):
    """Refuse a built network whose :func:`estimate_memory` exceeds the limit."""
    parts = memory_breakdown(built, dtype_bytes)
    return check_fits(int(sum(parts.values())), f"Network '{label}' (built)", parts)


__all__ = ["estimate_network", "estimate_memory", "network_breakdown", "memory_breakdown",
           "expected_synapses", "available_memory", "check_fits", "guard_network", "guard_built",
           "format_bytes", "FRACTION"]
