"""What the benchmark scripts share: one fresh subprocess per engine, a JSON line per child,
peak memory, and the comparison table.

A script describes itself with a :class:`Bench` (variant text, engines, the function that
runs one engine in the child) and calls :func:`main`.  The script re-invokes itself with
``--engine NAME``; the child prints one line ``BENCH_RESULT {json}``; the parent collects
the lines and prints a table with run-only ratios against the reference engine.

Child functions take ``(engine, duration_ms, cache_dir)`` and return a dict with at least
``build_s``, ``compile_s``, ``run_s`` and ``spikes`` (``import_s`` optional); the harness
adds ``engine``, ``duration_ms``, ``total_s`` (whole child script), ``peak_rss_mb``,
``child_rss_mb`` and ``mean_rate_hz``.  An engine whose software is not installed is
reported as "not run" (``skipped``), which is not a failure.
"""
import argparse
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

MARKER = "BENCH_RESULT "


def peak_rss_mb(who=resource.RUSAGE_SELF):
    """Peak resident set size in MiB (``ru_maxrss`` is in KiB on Linux, bytes on macOS)."""
    value = resource.getrusage(who).ru_maxrss
    if sys.platform == "darwin":
        value /= 1024.0
    return value / 1024.0


def current_rss_bytes():
    """Resident set size now, in bytes (Linux /proc; falls back to the peak elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return int(peak_rss_mb() * 1024 * 1024)


NEUROSIM_BRIAN2_ENGINES = {
    "neurosim-numba-1": "neurosim, numba backend, 1 thread",
    "neurosim-numba-2": "neurosim, numba backend, 2 threads",
    "brian2-cpp-1": "Brian2 cpp_standalone, 1 thread",
    "brian2-cpp-2": "Brian2 cpp_standalone, 2 OpenMP threads",
    "brian2-cython": "Brian2 runtime, Cython code generation",
}


def run_neurosim(make_network, duration, threads, cache_dir, labels=("exc", "inh")):
    """One neurosim (numba) engine in the child: ``make_network()`` described, compiled with
    ``threads``, run for ``duration`` ms; the dict the table reads."""
    if cache_dir:
        os.environ["NEUROSIM_CACHE_DIR"] = cache_dir
        os.environ["NUMBA_CACHE_DIR"] = os.path.join(cache_dir, "numba")
    t_import = time.perf_counter()
    import neurosim as ns

    t_start = time.perf_counter()
    net = make_network()
    t_built = time.perf_counter()
    sim = ns.compile(net, backend="numba", threads=threads)  # build + kernel compile
    t_compiled = time.perf_counter()
    c_run = time.process_time()
    results = sim.run(duration)
    t_ran = time.perf_counter()
    c_ran = time.process_time()
    return {
        "import_s": t_start - t_import,
        "build_s": t_built - t_start,
        "compile_s": t_compiled - t_built,
        "run_s": t_ran - t_compiled,
        "run_cpu_s": c_ran - c_run,
        "spikes": int(sum(len(results.spikes(label)[0]) for label in labels)),
        "synapses": int(sum(p.n_synapses for p in sim.built.projections)),
        "method": sorted(set(sim.method.values())),
        "version": getattr(ns, "__version__", "?"),
    }


def run_brian2_cpp(build_network, duration, threads, name, seed, cpu_time=False):
    """One Brian2 cpp_standalone engine in the child: ``build_network(b2)`` (returning
    ``net, spike_monitor, *synapses``) run for ``duration`` ms with ``threads`` OpenMP threads,
    built in a temporary directory named after ``name``; the dict the table reads.
    ``cpu_time``: run the binary separately and also report its CPU time (``run_cpu_s``)."""
    t_import = time.perf_counter()
    import brian2 as b2

    t_start = time.perf_counter()
    build_dir = tempfile.mkdtemp(prefix=f"{name}_brian2_cpp_")
    try:
        b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = threads if threads > 1 else 0
        b2.seed(seed)
        net, s_mon, *synapses = build_network(b2)
        net.run(duration * b2.ms)
        t_described = time.perf_counter()
        b2.device.build(directory=build_dir, compile=True, run=not cpu_time, with_output=False)
        t_made = time.perf_counter()
        if cpu_time:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            b2.device.run(directory=build_dir, with_output=False)  # the binary, a child process
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        t_done = time.perf_counter()
        timers = b2.device.timers
        make = (timers["compile"]["make"] or 0.0) + (timers["compile"]["clean"] or 0.0)
        binary = t_done - t_made if cpu_time else (timers["run_binary"] or 0.0)
        codegen = (t_done - t_described) - make - binary
        out = {
            "import_s": t_start - t_import,
            "build_s": (t_described - t_start) + codegen,
            "compile_s": make,
            "run_s": float(b2.device._last_run_time),
        }
        if cpu_time:
            # CPU time of the whole binary (set-up, synapse creation and writing results included)
            out["run_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        out.update({
            "binary_s": binary,
            "spikes": int(s_mon.num_spikes),
            "synapses": int(sum(len(s) for s in synapses)),
            "version": b2.__version__,
        })
        return out
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)


def run_brian2_cython(build_network, duration, cache_dir, seed, cpu_time=False):
    """One Brian2 runtime (Cython) engine in the child: ``build_network(b2)`` (returning
    ``net, spike_monitor, *synapses``), a 1 ms warm-up run, then ``duration`` ms; the dict the
    table reads.  ``cpu_time``: also report the run's CPU time (``run_cpu_s``)."""
    t_import = time.perf_counter()
    import brian2 as b2

    t_start = time.perf_counter()
    b2.prefs.codegen.target = "cython"  # no silent fallback to numpy
    if cache_dir:
        b2.prefs.codegen.runtime.cython.cache_dir = os.path.join(cache_dir, "brian2_cython")
    b2.seed(seed)
    net, s_mon, *synapses = build_network(b2)
    t_built = time.perf_counter()
    # The first run generates and compiles (or loads from the cache) every code
    # object and creates the synapses; a short warm-up run pays that cost.
    warmup_ms = 1.0
    net.run(warmup_ms * b2.ms)
    t_warm = time.perf_counter()
    n_before = int(s_mon.num_spikes)
    c_run = time.process_time()
    net.run(duration * b2.ms)
    t_ran = time.perf_counter()
    c_ran = time.process_time()
    out = {
        "import_s": t_start - t_import,
        "build_s": t_built - t_start,
        "compile_s": t_warm - t_built,
        "run_s": float(b2.device._last_run_time),
        "run_wall_s": t_ran - t_warm,
    }
    if cpu_time:
        out["run_cpu_s"] = c_ran - c_run
    out.update({
        "warmup_ms": warmup_ms,
        "spikes": int(s_mon.num_spikes) - n_before,
        "synapses": int(sum(len(s) for s in synapses)),
        "version": b2.__version__,
    })
    return out


def module_available(name):
    """True when ``import name`` can find the module (without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@dataclass
class Bench:
    name: str                      # "cuba": names temporary directories
    description: str               # argparse description (first docstring line)
    variant: str                   # printed first: which variant of the benchmark this is
    engines: dict                  # engine -> one-line description (table order)
    quick_engines: list
    reference: str                 # ratios are run time / this engine's run time
    n_neurons: int                 # for the mean rate
    seed: int
    child: object                  # child(engine, duration_ms, cache_dir) -> dict
    script: str                    # the script's __file__ (re-invoked per engine)
    t0: float = field(default_factory=time.perf_counter)  # the child script's start
    default_duration: float = 10000.0
    quick_duration: float = 200.0
    default_engines: list = None   # None: all engines
    requires: dict = field(default_factory=dict)  # engine -> module it needs ("nest")
    env: object = None             # env(engine) -> dict of extra environment variables
    cpu_columns: bool = False      # also print run_cpu_s and its ratio (children that report it)


def child_main(bench, engine, duration, cache_dir):
    if engine not in bench.engines:
        raise SystemExit(f"unknown engine {engine!r}; valid: {', '.join(bench.engines)}")
    out = bench.child(engine, duration, cache_dir)
    out["engine"] = engine
    out["duration_ms"] = duration
    out["total_s"] = time.perf_counter() - bench.t0
    out["peak_rss_mb"] = peak_rss_mb(resource.RUSAGE_SELF)
    out["child_rss_mb"] = peak_rss_mb(resource.RUSAGE_CHILDREN)
    out["mean_rate_hz"] = out["spikes"] / (bench.n_neurons * duration / 1000.0)
    print(MARKER + json.dumps(out), flush=True)


def run_child(script, engine, extra_args, timeout, env_extra=None):
    """Run ``script --engine ENGINE extra_args`` in a fresh interpreter; returns its result dict
    (with ``process_s``) or ``{"engine", "error", "stderr_tail"}``."""
    cmd = [sys.executable, os.path.abspath(script), "--engine", engine] + list(extra_args)
    env = dict(os.environ)
    env.update(env_extra or {})
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"engine": engine, "error": f"timed out after {timeout} s"}
    wall = time.perf_counter() - t0
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            result = json.loads(line[len(MARKER):])
            result["process_s"] = wall
            return result
    tail = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["?"])
    return {"engine": engine,
            "error": f"exit code {proc.returncode}: {tail[-1][:200]}",
            "stderr_tail": "\n".join(tail[-15:])}


def run_engine(bench, engine, args, cache_root, repeat=0):
    extra = ["--duration", repr(float(args.duration))]
    if cache_root:              # --cold: empty caches of its own for every run
        cache_dir = os.path.join(cache_root, f"{engine}-{repeat}")
        os.makedirs(cache_dir, exist_ok=True)
        extra += ["--cache-dir", cache_dir]
    env = bench.env(engine) if bench.env else {}
    return run_child(bench.script, engine, extra, args.timeout, env)


def ran(result):
    """Whether an engine's result is a measurement (neither failed nor skipped)."""
    return "error" not in result and "skipped" not in result


def median_run(runs):
    """Of one engine's repeated runs, the one with the median run time (the lower middle one of
    an even number), with every run's time in ``runs_s``; the first failure if one failed."""
    failed = [r for r in runs if not ran(r)]
    if failed:
        return failed[0]
    ordered = sorted(runs, key=lambda r: r["run_s"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["runs_s"] = [r["run_s"] for r in runs]
    return chosen


def fmt(value, spec=".3f"):
    return "-" if value is None else format(value, spec)


def same_thread_ratios(results):
    """(other engine, neurosim engine, run-time ratio) for engines with the same thread count,
    e.g. brian2-cpp-2 against neurosim-numba-2 (names end in -<threads>)."""
    ok = [r for r in results if ran(r) and r["run_s"] > 0]
    ours = {r["engine"].rsplit("-", 1)[-1]: r for r in ok if r["engine"].startswith("neurosim-")}
    return [(r["engine"], ours[n]["engine"], r["run_s"] / ours[n]["run_s"])
            for r in ok if not r["engine"].startswith("neurosim-")
            for n in [r["engine"].rsplit("-", 1)[-1]] if n.isdigit() and n in ours]


def print_table(bench, results, quick):
    ref = next((r for r in results if r["engine"] == bench.reference and ran(r)), None)
    header = (f"{'engine':<18} {'import s':>8} {'build s':>8} {'compile s':>9} {'run s':>8} {'total s':>8} "
              f"{'RSS MB':>7} {'child MB':>8} {'spikes':>8} {'rate Hz':>7} {'run/ref':>8}")
    if bench.cpu_columns:
        header += f" {'run cpu s':>9} {'cpu/ref':>8}"
    print(header)
    print("-" * len(header))
    for r in results:
        if "skipped" in r:
            print(f"{r['engine']:<18} not run: {r['skipped']}")
            continue
        if "error" in r:
            print(f"{r['engine']:<18} FAILED: {r['error']}")
            continue
        ratio = None
        if ref is not None and ref["run_s"] > 0:
            ratio = r["run_s"] / ref["run_s"]
        line = (f"{r['engine']:<18} {fmt(r.get('import_s')):>8} {fmt(r['build_s']):>8} {fmt(r['compile_s']):>9} "
                f"{fmt(r['run_s']):>8} {fmt(r['total_s']):>8} {fmt(r['peak_rss_mb'], '.0f'):>7} "
                f"{fmt(r['child_rss_mb'], '.0f'):>8} {r['spikes']:>8d} "
                f"{fmt(r['mean_rate_hz'], '.2f'):>7} {fmt(ratio, '.2f'):>8}")
        if bench.cpu_columns:
            cpu, cpu_ref = r.get("run_cpu_s"), ref.get("run_cpu_s") if ref else None
            cpu_ratio = cpu / cpu_ref if cpu is not None and cpu_ref else None
            line += f" {fmt(cpu):>9} {fmt(cpu_ratio, '.2f'):>8}"
        print(line)
    if ref is None:
        print(f"(no ratios: the reference engine {bench.reference} did not run)")
    else:
        print(f"run/ref = run-only time / run-only time of {bench.reference} "
              f"(>1: slower than neurosim)")
        if bench.cpu_columns:
            print(f"cpu/ref = run CPU time (all threads) / that of {bench.reference}")
    for other, ours, ratio in same_thread_ratios(results):
        print(f"{other} / {ours} = {ratio:.2f} (run-only, same thread count)")
    repeated = [r for r in results if len(r.get("runs_s", ())) > 1]
    if repeated:
        print(f"each engine ran {len(repeated[0]['runs_s'])} times, interleaved; the table shows the run "
              "with the median run time. All run times (s):")
        for r in repeated:
            print(f"  {r['engine']:<18} " + " ".join(f"{t:.3f}" for t in r["runs_s"]))
    if quick:
        print("(--quick is a smoke run: the times are not meant for comparison)")


def main(bench, argv=None):
    parser = argparse.ArgumentParser(description=bench.description)
    parser.add_argument("--duration", type=float, default=None,
                        help=f"biological time in ms (default {bench.default_duration:g}; "
                             f"{bench.quick_duration:g} with --quick)")
    parser.add_argument("--engines", default=None,
                        help="comma-separated subset of: " + ", ".join(bench.engines))
    parser.add_argument("--quick", action="store_true",
                        help=f"CI smoke run: {bench.quick_duration:g} ms, {' and '.join(bench.quick_engines)}")
    parser.add_argument("--cold", action="store_true",
                        help="start every engine with empty compile caches")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="seconds allowed per engine (default 1800)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="run every engine this many times, interleaved, and report each engine's "
                             "median run (default 5; 1 with --quick): this VM's run times swing by "
                             "tens of per cent between runs, so one run decides nothing")
    parser.add_argument("--json", default=None, help="also write all results to this file")
    parser.add_argument("--engine", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.duration is None:
        args.duration = bench.quick_duration if args.quick else bench.default_duration
    if args.duration <= 0:
        parser.error("--duration must be positive")
    if args.repeats is None:
        args.repeats = 1 if args.quick else 5
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1 (got {args.repeats})")

    if args.engine:
        child_main(bench, args.engine, args.duration, args.cache_dir)
        return 0

    if args.engines:
        engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    else:
        engines = bench.quick_engines if args.quick else (bench.default_engines or list(bench.engines))
    unknown = [e for e in engines if e not in bench.engines]
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(unknown)}; valid: {', '.join(bench.engines)}")

    print(bench.variant)
    print(f"duration {args.duration:g} ms, dt 0.1 ms, seed {bench.seed}, "
          f"{'cold (empty caches)' if args.cold else 'warm caches where they exist'}")
    print(f"python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, {platform.platform()}")
    print()

    cache_root = tempfile.mkdtemp(prefix=f"{bench.name}_bench_cache_") if args.cold else None
    runs = {engine: [] for engine in engines}
    try:
        for repeat in range(args.repeats):
            for engine in engines:
                module = bench.requires.get(engine)
                if module and not module_available(module):
                    why = f"{module} is not installed (import {module} fails)"
                    if repeat == 0:
                        print(f"not running {engine} ({bench.engines[engine]}): {why}", flush=True)
                    runs[engine].append({"engine": engine, "skipped": why})
                    continue
                of = f" [{repeat + 1}/{args.repeats}]" if args.repeats > 1 else ""
                print(f"running {engine} ({bench.engines[engine]}){of} ...", flush=True)
                result = run_engine(bench, engine, args, cache_root, repeat)
                if "stderr_tail" in result:
                    print(result["stderr_tail"], file=sys.stderr)
                runs[engine].append(result)
        results = [median_run(runs[engine]) for engine in engines]
    finally:
        if cache_root:
            shutil.rmtree(cache_root, ignore_errors=True)
    print()
    print_table(bench, results, args.quick)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"variant": bench.variant, "duration_ms": args.duration, "cold": args.cold,
                       "repeats": args.repeats, "results": results}, f, indent=2)
    return 1 if any("error" in r for r in results) else 0
