"""Potjans & Diesmann (2014) cortical microcircuit on neurosim (numba) and NEST, one subprocess per engine.

    python benchmarks/microcircuit.py                          # scale 0.1, 1500 ms (rates over the last 1000)
    python benchmarks/microcircuit.py --scale 0.5 --duration 1500 --engines neurosim-numba-1
    python benchmarks/microcircuit.py --scale 1 --engines neurosim-numba-2
    python benchmarks/microcircuit.py --quick                  # CI smoke run: scale 0.02, 100 ms
    python benchmarks/microcircuit.py --profile cprofile       # where ns.compile spends its time
    python benchmarks/microcircuit.py --profile tracemalloc    # where ns.compile allocates

The network is models/benchmark_networks.microcircuit_network (see its docstring and
benchmarks/README.md): 8 populations, FixedTotalNumber connectivity from the published
connection probabilities, DC background drive, dt 0.1 ms.  ``--scale`` multiplies the
neuron numbers; ``--k-scale`` the in-degrees (default 1: every neuron keeps the full
model's in-degree, so synapses ~ scale).  ``--k-scale`` < 1 thins the in-degree as the PD14
reference implementation's K_scaling (weights / sqrt(k), the lost mean input added as
DC); with DC drive that DC falls below rheobase for k < ~0.45 and the network goes silent.

Per engine (fresh interpreter each):
  describe  neurosim: building the Network description (no synapses yet)
  compile   neurosim: ns.compile (draws every synapse, builds CSR tables, loads the
            kernel); NEST: Create + Connect + Prepare
  B/syn     peak RSS increase during compile / synapses ("peak"), and the RSS still
            held after it / synapses ("kept")
  run       the simulation loop only (sim.run / nest.Run), all of --duration
  RTF       run / biological time;  ns/event: run x threads / synaptic events
            (spikes x out-degree), i.e. core-ns per event including neuron updates
  rates     per population over (discard, duration] ms against the rates the PD14
            reference implementation states for the full model
A child whose RSS passes --max-rss-gb (default 18) is stopped and reported as failed.
"""
import argparse
import json
import os
import platform
import sys
import threading
import time

_T0 = time.perf_counter()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run from anywhere
import harness  # benchmarks/harness.py

ENGINES = {
    "neurosim-numba-1": "neurosim, numba backend, 1 thread",
    "neurosim-numba-2": "neurosim, numba backend, 2 threads",
    "nest-1": "NEST (PyNEST) iaf_psc_exp, 1 thread",
    "nest-2": "NEST (PyNEST) iaf_psc_exp, 2 threads",
}
DEFAULT_ENGINES = ["neurosim-numba-1", "neurosim-numba-2", "nest-2"]
QUICK_ENGINES = ["neurosim-numba-1"]
REQUIRES = {"nest-1": "nest", "nest-2": "nest"}
GIB = 1024 ** 3

REFERENCE_SOURCE = ("full-scale rates (spikes/s) stated by the PD14 reference implementation, "
                    "INM-6/microcircuit-PD14-model PyNEST/src/microcircuit/parameter_definitions.py "
                    "'full_mean_rates'")


# ----------------------------------------------------------------------------- child

class MemoryGuard(threading.Thread):
    """Samples the RSS every 50 ms; past ``limit`` bytes it stops the process (exit 3)."""

    def __init__(self, limit):
        super().__init__(daemon=True)
        self.limit, self.peak, self.phase = limit, 0, "start"

    def run(self):
        while True:
            rss = harness.current_rss_bytes()
            self.peak = max(self.peak, rss)
            if rss > self.limit:
                print(f"aborted: RSS {rss / GIB:.2f} GiB passed the limit {self.limit / GIB:.1f} GiB "
                      f"during {self.phase}", file=sys.stderr, flush=True)
                os._exit(3)
            time.sleep(0.05)


def _say(guard, phase):
    guard.phase = phase
    print(f"[{time.perf_counter() - _T0:8.1f} s, RSS {harness.current_rss_bytes() / GIB:.2f} GiB] {phase}",
          file=sys.stderr, flush=True)


def _profiled(kind, out_path, func):
    """Run func() under cProfile or tracemalloc; write the report to out_path."""
    if kind == "cprofile":
        import cProfile
        import io
        import pstats
        prof = cProfile.Profile(time.process_time)  # CPU time: steady on a loaded machine
        result = prof.runcall(func)
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)
        with open(out_path, "w") as f:
            f.write("cProfile of ns.compile, process CPU time (seconds)\n")
            f.write(buf.getvalue())
        return result
    if kind == "tracemalloc":
        import tracemalloc
        tracemalloc.start(8)
        result = func()
        current, peak = tracemalloc.get_traced_memory()
        snap = tracemalloc.take_snapshot()
        tracemalloc.stop()
        with open(out_path, "w") as f:
            f.write(f"traced memory after compile: {current / GIB:.3f} GiB, peak during it "
                    f"{peak / GIB:.3f} GiB\n\nstill allocated, by line:\n")
            for stat in snap.statistics("lineno")[:25]:
                f.write(f"{stat.size / 2**20:10.1f} MiB  {stat.count:8d} blocks  {stat.traceback[0]}\n")
            f.write("\nstill allocated, by traceback (top 8):\n")
            for stat in snap.statistics("traceback")[:8]:
                f.write(f"\n{stat.size / 2**20:.1f} MiB\n")
                for line in stat.traceback.format():
                    f.write(line + "\n")
        return result
    return func()


def _synapses_and_outdegrees(sim, args):
    """Synapse count and per-neuron out-degree (for counting synaptic events).

    From the built connectivity when the Simulation still holds it; otherwise the
    model's exact synapse numbers and each population's mean out-degree.
    """
    import numpy as np
    built = sim.built
    try:
        outdeg = {k: np.zeros(p.size, np.int64) for k, p in enumerate(built.populations)}
        synapses = 0
        for proj in built.projections:
            outdeg[proj.pre] += (np.diff(proj.pre_rows) if proj.pre_rows is not None else
                                 np.bincount(proj.pre_idx, minlength=len(outdeg[proj.pre])))
            synapses += proj.n_synapses
        return int(synapses), outdeg
    except (AttributeError, TypeError):
        from neurosim.models.benchmark_networks import microcircuit_parameters
        par = microcircuit_parameters(args.scale, args.k_scale)
        outdeg = {s: np.full(par["sizes"][s], sum(par["synapses"][t][s] for t in range(8)) / par["sizes"][s])
                  for s in range(8)}
        return int(sum(map(sum, par["synapses"]))), outdeg


def run_neurosim(args, threads, guard):
    t_import = time.perf_counter()
    import neurosim as ns
    from neurosim.models.benchmark_networks import PD14_POPULATIONS, microcircuit_network

    import numba  # noqa: F401  (a fixed ~0.2 GB; imported here so B/syn leaves it out)

    t_start = time.perf_counter()
    _say(guard, "describe")
    net = microcircuit_network(args.scale, seed=args.seed, k_scale=args.k_scale)
    t_described = time.perf_counter()
    c_described = time.process_time()
    rss_before = harness.current_rss_bytes()
    maxrss_before = harness.peak_rss_mb() * 2**20
    guard.peak = rss_before
    _say(guard, "compile")
    profile_path = None
    if args.profile:
        profile_path = os.path.abspath(f"microcircuit_{args.profile}_scale{args.scale:g}.txt")
    sim = _profiled(args.profile, profile_path,
                    lambda: ns.compile(net, backend="numba", threads=threads, quiet=True))
    t_compiled = time.perf_counter()
    c_compiled = time.process_time()
    rss_after = harness.current_rss_bytes()
    maxrss_after = harness.peak_rss_mb() * 2**20
    # ru_maxrss is exact; it only tells about compile if it rose during compile
    peak = max(guard.peak, maxrss_after if maxrss_after > maxrss_before else 0)
    synapses, outdeg = _synapses_and_outdegrees(sim, args)
    _say(guard, "run")
    c_run = time.process_time()
    t_run = time.perf_counter()
    results = sim.run(args.duration)
    t_ran = time.perf_counter()
    c_ran = time.process_time()
    _say(guard, "done")
    rates, spikes, events = {}, 0, 0
    for k, label in enumerate(PD14_POPULATIONS):
        times, ids = results.spikes(label)
        spikes += len(times)
        events += int(outdeg[k][ids].sum())
        rates[label] = float(results.mean_rate(label, t_start=args.discard))
    return {
        "import_s": t_start - t_import,
        "describe_s": t_described - t_start,
        "compile_s": t_compiled - t_described,
        "compile_cpu_s": c_compiled - c_described,
        "run_s": t_ran - t_run,
        "run_cpu_s": c_ran - c_run,
        "threads": threads,
        "neurons": int(sum(p.size for p in sim.built.populations)),
        "synapses": synapses,
        "compile_peak_bytes": peak - rss_before,
        "compile_kept_bytes": rss_after - rss_before,
        "spikes": int(spikes),
        "events": events,
        "rates": rates,
        "profile": profile_path,
        "version": getattr(ns, "__version__", "?"),
    }


def run_nest(args, threads, guard):
    t_import = time.perf_counter()
    import nest
    import numpy as np

    from neurosim.models.benchmark_networks import (PD14_DELAY_EXC, PD14_DELAY_INH, PD14_DELAY_REL_SD,
                                                     PD14_NEURON, PD14_POPULATIONS, PD14_V0_MEAN,
                                                     PD14_V0_STD, PD14_WEIGHT_REL_SD,
                                                     microcircuit_parameters)
    t_start = time.perf_counter()
    par = microcircuit_parameters(args.scale, args.k_scale, dc_drive=True)
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.resolution = 0.1
    nest.local_num_threads = threads
    nest.rng_seed = args.seed
    nest.print_time = False
    t_described = time.perf_counter()
    c_described = time.process_time()
    rss_before = harness.current_rss_bytes()
    maxrss_before = harness.peak_rss_mb() * 2**20
    guard.peak = rss_before
    _say(guard, "create + connect")
    pops = []
    for k in range(8):
        pop = nest.Create("iaf_psc_exp", par["sizes"][k], params={
            "C_m": PD14_NEURON["cm"] * 1e3, "tau_m": PD14_NEURON["tau_m"], "E_L": PD14_NEURON["v_rest"],
            "V_th": PD14_NEURON["v_thresh"], "V_reset": PD14_NEURON["v_reset"],
            "t_ref": PD14_NEURON["tau_refrac"], "tau_syn_ex": PD14_NEURON["tau_syn_E"],
            "tau_syn_in": PD14_NEURON["tau_syn_I"], "I_e": par["dc"][k] * 1e3})
        pop.V_m = nest.random.normal(mean=PD14_V0_MEAN[k], std=PD14_V0_STD[k])
        pops.append(pop)
    for t in range(8):
        for s in range(8):
            n = par["synapses"][t][s]
            if n == 0:
                continue
            w = par["weights"][t][s] * 1e3  # pA
            d = PD14_DELAY_EXC if s % 2 == 0 else PD14_DELAY_INH
            lo, hi = (0.0, np.inf) if w > 0 else (-np.inf, 0.0)
            nest.Connect(pops[s], pops[t], {"rule": "fixed_total_number", "N": n},
                         {"synapse_model": "static_synapse",
                          "weight": nest.math.redraw(nest.random.normal(mean=w, std=abs(w) * PD14_WEIGHT_REL_SD),
                                                     min=lo, max=hi),
                          "delay": nest.math.redraw(nest.random.normal(mean=d, std=d * PD14_DELAY_REL_SD),
                                                    min=0.05, max=np.inf)})
    synapses = int(nest.num_connections)
    recorders = nest.Create("spike_recorder", 8)
    for pop, rec in zip(pops, recorders):
        nest.Connect(pop, rec)
    _say(guard, "prepare")
    nest.Prepare()
    t_compiled = time.perf_counter()
    c_compiled = time.process_time()
    rss_after = harness.current_rss_bytes()
    maxrss_after = harness.peak_rss_mb() * 2**20
    peak = max(guard.peak, maxrss_after if maxrss_after > maxrss_before else 0)
    _say(guard, "run")
    c_run = time.process_time()
    t_run = time.perf_counter()
    nest.Run(args.duration)
    t_ran = time.perf_counter()
    c_ran = time.process_time()
    nest.Cleanup()
    _say(guard, "done")
    rates, spikes, events = {}, 0, 0
    window = (args.duration - args.discard) / 1000.0
    for k, (label, rec) in enumerate(zip(PD14_POPULATIONS, recorders)):
        ev = rec.events
        times = np.asarray(ev["times"])
        spikes += len(times)
        rates[label] = float(np.sum(times > args.discard) / (par["sizes"][k] * window))
    # out-degrees from the synapse numbers: events = sum_s spikes_s * (synapses out of s / N_s)
    for s, rec in enumerate(recorders):
        out_total = sum(par["synapses"][t][s] for t in range(8))
        events += int(round(rec.n_events * out_total / par["sizes"][s]))
    return {
        "import_s": t_start - t_import,
        "describe_s": t_described - t_start,
        "compile_s": t_compiled - t_described,
        "compile_cpu_s": c_compiled - c_described,
        "run_s": t_ran - t_run,
        "run_cpu_s": c_ran - c_run,
        "threads": threads,
        "neurons": int(sum(par["sizes"])),
        "synapses": synapses,
        "compile_peak_bytes": peak - rss_before,
        "compile_kept_bytes": rss_after - rss_before,
        "spikes": int(spikes),
        "events": events,
        "events_note": "expected out-degree per population (NEST draws multapses; exact per neuron not read back)",
        "rates": rates,
        "version": nest.__version__,
    }


def child_main(args):
    guard = MemoryGuard(args.max_rss_gb * GIB)
    guard.start()
    threads = int(args.engine.rsplit("-", 1)[1])
    if args.engine.startswith("neurosim"):
        out = run_neurosim(args, threads, guard)
    else:
        out = run_nest(args, threads, guard)
    out.update(engine=args.engine, scale=args.scale, k_scale=args.k_scale, duration_ms=args.duration,
               discard_ms=args.discard, total_s=time.perf_counter() - _T0,
               peak_rss_mb=harness.peak_rss_mb(), sampled_peak_rss_mb=guard.peak / 2**20)
    print(harness.MARKER + json.dumps(out), flush=True)


# ---------------------------------------------------------------------------- parent

def print_tables(results, reference_rates, populations, quick):
    fmt = harness.fmt
    ok = [r for r in results if harness.ran(r)]
    header = (f"{'engine':<17} {'neurons':>7} {'synapses':>11} {'describe':>8} {'compile':>8} "
              f"{'(cpu)':>7} {'B/syn':>6} {'B/syn':>6} {'run':>8} {'(cpu)':>8} {'RTF':>7} "
              f"{'ns/ev':>7} {'(cpu)':>6} {'peak RSS':>8} {'total':>7}")
    units = (f"{'':<17} {'':>7} {'':>11} {'s':>8} {'s':>8} {'s':>7} {'peak':>6} {'kept':>6} {'s':>8} "
             f"{'s':>8} {'':>7} {'':>7} {'':>6} {'MB':>8} {'s':>7}")
    print(header)
    print(units)
    print("-" * len(header))
    for r in results:
        if "skipped" in r:
            print(f"{r['engine']:<17} not run: {r['skipped']}")
            continue
        if "error" in r:
            print(f"{r['engine']:<17} FAILED: {r['error']}")
            continue
        syn = max(r["synapses"], 1)
        rtf = r["run_s"] / (r["duration_ms"] / 1000.0)
        ns_event = r["run_s"] * r["threads"] * 1e9 / r["events"] if r["events"] else None
        ns_cpu = r["run_cpu_s"] * 1e9 / r["events"] if r["events"] else None
        print(f"{r['engine']:<17} {r['neurons']:>7d} {r['synapses']:>11d} {fmt(r['describe_s'], '.2f'):>8} "
              f"{fmt(r['compile_s'], '.2f'):>8} {fmt(r['compile_cpu_s'], '.2f'):>7} "
              f"{fmt(r['compile_peak_bytes'] / syn, '.1f'):>6} {fmt(r['compile_kept_bytes'] / syn, '.1f'):>6} "
              f"{fmt(r['run_s'], '.2f'):>8} {fmt(r['run_cpu_s'], '.2f'):>8} {fmt(rtf, '.2f'):>7} "
              f"{fmt(ns_event, '.1f'):>7} {fmt(ns_cpu, '.1f'):>6} {fmt(r['peak_rss_mb'], '.0f'):>8} "
              f"{fmt(r['total_s'], '.1f'):>7}")
    print("compile: ns.compile (synapses drawn, CSR tables, kernel) or NEST Create+Connect+Prepare; "
          "(cpu): process CPU time, all threads (robust on a loaded machine)")
    print("B/syn peak / kept: RSS increase during compile at its peak / after it, per synapse; "
          "RTF = run / biological time")
    print("ns/ev = run x threads / synaptic events (core-ns per event, neuron updates included); "
          "(cpu) the same from CPU time")
    if not ok:
        return
    print()
    discard = ok[0]["discard_ms"]
    print(f"population rates (spikes/s) over ({discard:g}, {ok[0]['duration_ms']:g}] ms; "
          f"reference: {REFERENCE_SOURCE}")
    head = f"{'population':<10} {'reference':>9}" + "".join(f" {r['engine']:>22}" for r in ok)
    print(head)
    print("-" * len(head))
    for k, label in enumerate(populations):
        line = f"{label:<10} {reference_rates[k]:>9.3f}"
        for r in ok:
            rate = r["rates"][label]
            dev = 100.0 * (rate - reference_rates[k]) / reference_rates[k]
            line += f" {rate:>12.3f} ({dev:+6.1f} %)"
        print(line)
    if quick:
        print("(--quick is a smoke run: scale 0.02 and 100 ms; neither times nor rates are meant "
              "for comparison)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=None,
                        help="neuron numbers relative to the full model (default 0.1; 0.02 with --quick)")
    parser.add_argument("--k-scale", type=float, default=1.0,
                        help="in-degrees relative to the full model (default 1: the full in-degree)")
    parser.add_argument("--duration", type=float, default=None,
                        help="biological time in ms (default 1500; 100 with --quick)")
    parser.add_argument("--discard", type=float, default=None,
                        help="rates are measured after this many ms (default 500, or half the "
                             "duration if that is shorter)")
    parser.add_argument("--engines", default=None,
                        help="comma-separated subset of: " + ", ".join(ENGINES)
                        + f" (default {','.join(DEFAULT_ENGINES)})")
    parser.add_argument("--seed", type=int, default=1,
                        help="network seed (neurosim's Network seed, NEST's rng_seed; default 1)")
    parser.add_argument("--quick", action="store_true",
                        help="CI smoke run: scale 0.02, 100 ms, neurosim-numba-1")
    parser.add_argument("--profile", choices=("cprofile", "tracemalloc"), default=None,
                        help="profile ns.compile; the report goes to microcircuit_<kind>_scale<S>.txt")
    parser.add_argument("--max-rss-gb", type=float, default=18.0,
                        help="stop an engine whose RSS passes this many GiB (default 18)")
    parser.add_argument("--timeout", type=float, default=7200.0,
                        help="seconds allowed per engine (default 7200)")
    parser.add_argument("--json", default=None, help="also write all results to this file")
    parser.add_argument("--engine", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.scale is None:
        args.scale = 0.02 if args.quick else 0.1
    if args.duration is None:
        args.duration = 100.0 if args.quick else 1500.0
    if args.discard is None:
        args.discard = 500.0 if args.duration > 1000.0 else args.duration / 2
    if not 0 < args.scale <= 1 or not 0 < args.k_scale <= 1:
        parser.error("--scale and --k-scale must be in (0, 1]")
    if args.duration <= 0 or not 0 <= args.discard < args.duration:
        parser.error("need --duration > 0 and 0 <= --discard < --duration")

    if args.engine:
        child_main(args)
        return 0

    engines = ([e.strip() for e in args.engines.split(",") if e.strip()] if args.engines
               else (QUICK_ENGINES if args.quick else DEFAULT_ENGINES))
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(unknown)}; valid: {', '.join(ENGINES)}")

    from neurosim.models.benchmark_networks import PD14_POPULATIONS, microcircuit_parameters
    par = microcircuit_parameters(args.scale, args.k_scale)
    n_syn = sum(map(sum, par["synapses"]))
    print(f"Potjans & Diesmann 2014 microcircuit: scale {args.scale:g} ({sum(par['sizes'])} neurons), "
          f"in-degree scale {args.k_scale:g} ({n_syn} synapses expected), DC drive "
          f"(8 Hz x K_ext x 87.8 pA x 0.5 ms{'' if args.k_scale == 1 else ' + in-degree compensation'}), "
          f"IF_curr_exp, FixedTotalNumber connectivity, L4E->L23E weight x2, g = -4, delays "
          f"1.5 / 0.75 ms (rel. sd 0.5), weights rel. sd 0.1")
    print(f"duration {args.duration:g} ms (rates after {args.discard:g} ms), dt 0.1 ms, seed {args.seed}, "
          f"spikes recorded from all neurons")
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"{platform.platform()}")
    print()
    extra = ["--scale", repr(args.scale), "--k-scale", repr(args.k_scale), "--duration", repr(args.duration),
             "--seed", str(args.seed),
             "--discard", repr(args.discard), "--max-rss-gb", repr(args.max_rss_gb)]
    if args.profile:
        extra += ["--profile", args.profile]
    results = []
    for engine in engines:
        module = REQUIRES.get(engine)
        if module and not harness.module_available(module):
            why = f"{module} is not installed (import {module} fails)"
            print(f"not running {engine} ({ENGINES[engine]}): {why}", flush=True)
            results.append({"engine": engine, "skipped": why})
            continue
        print(f"running {engine} ({ENGINES[engine]}) ...", flush=True)
        threads = engine.rsplit("-", 1)[1]
        result = harness.run_child(__file__, engine, extra, args.timeout,
                                   {"OMP_NUM_THREADS": threads} if module else {})
        if "stderr_tail" in result:
            print(result["stderr_tail"], file=sys.stderr)
        if result.get("profile"):
            print(f"  profile of ns.compile written to {result['profile']}")
        results.append(result)
    print()
    print_tables(results, par["reference_rates"], PD14_POPULATIONS, args.quick)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"scale": args.scale, "k_scale": args.k_scale, "duration_ms": args.duration, "seed": args.seed,
                       "discard_ms": args.discard, "reference_rates": par["reference_rates"],
                       "reference_source": REFERENCE_SOURCE, "results": results}, f, indent=2)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
