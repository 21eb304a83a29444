"""Memory per synapse of static synapses with one delay per projection, on the numba backend.

    python benchmarks/memory.py                    # 20 000 neurons, 5e7 synapses
    python benchmarks/memory.py --neurons 10000 --synapses 2e7
    python benchmarks/memory.py --neurons 18000 --populations 2   # 2 fused populations, 4 projections
    python benchmarks/memory.py --quick            # CI smoke run (2 000 neurons, 4e5 synapses)

One population of IF_curr_exp neurons, a FixedTotalNumber-like random network drawn with
FixedProbabilityConnector (p = synapses / neurons^2), clipped-normal random weights (so they
cannot be stored once) and one delay.  The process's resident set size is read before
``ns.compile`` and after it (with the built network, the kernel's arrays and the Simulation
alive; numba and its compiler registries are loaded before, a fixed cost).  With
``--populations P`` the neurons form P equal populations joined by P^2 projections, which the
numba backend runs as one fused population if they are together under 20 000 neurons
(``fusion.MAX_FUSED_NEURONS``); "kept" is the increase per synapse, "peak" the highest
increase during compile (ru_maxrss) per synapse.  Target (issue "Performance"): kept <= 10
bytes per synapse (NEST's best is 16, Brian2 ~30).
"""
import argparse
import gc
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (current_rss_bytes, peak_rss_mb)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=20000)
    parser.add_argument("--synapses", type=float, default=5e7, help="expected number of synapses")
    parser.add_argument("--populations", type=int, default=1, help="split the neurons into this many populations")
    parser.add_argument("--quick", action="store_true", help="2 000 neurons, 4e5 synapses")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    if args.populations < 1:
        parser.error(f"--populations must be >= 1 (got {args.populations})")
    if args.quick:
        args.neurons, args.synapses = 2000, 4e5
    import neurosim as ns
    from neurosim.heavy_imports import load_numba_compiler
    load_numba_compiler()   # numba and its registries: a fixed ~0.25 GB, not per synapse
    n = args.neurons
    net = ns.Network(dt=0.1, seed=1)
    sizes = [n // args.populations + (i < n % args.populations) for i in range(args.populations)]
    pops = [net.add(ns.Population(size, ns.IF_curr_exp(), label=f"neurons{i}")) for i, size in enumerate(sizes)]
    weights = ns.RandomDistribution("normal_clipped", mu=0.05, sigma=0.01, low=0.0, high=1.0)
    for pre in pops:
        for post in pops:
            net.add(ns.Projection(pre, post, ns.FixedProbabilityConnector(args.synapses / n**2),
                                  ns.StaticSynapse(weight=weights, delay=1.5), receptor_type="excitatory"))
    gc.collect()
    rss_before = harness.current_rss_bytes()
    maxrss_before = harness.peak_rss_mb() * 2**20
    t0 = time.perf_counter()
    sim = ns.compile(net, backend="numba", quiet=True)
    compile_s = time.perf_counter() - t0
    gc.collect()
    rss_after = harness.current_rss_bytes()
    peak = max(harness.peak_rss_mb() * 2**20, rss_after)
    synapses = int(sum(p.n_synapses for p in sim.built.projections))
    sim.run(10.0)   # the kept arrays are the ones the kernel runs with
    result = {"neurons": n, "populations": args.populations, "synapses": synapses, "compile_s": compile_s,
              "kept_bytes_per_synapse": (rss_after - rss_before) / synapses,
              "peak_bytes_per_synapse": (peak - rss_before) / synapses if peak > maxrss_before else None}
    peak_text = "-" if result["peak_bytes_per_synapse"] is None else f"{result['peak_bytes_per_synapse']:.1f}"
    print(f"static synapses, one delay: {n} neurons in {args.populations} population(s), {synapses} synapses, "
          f"compile {compile_s:.1f} s")
    print(f"  kept {result['kept_bytes_per_synapse']:.1f} B/synapse (target <= 10), "
          f"peak during compile {peak_text} B/synapse")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=1)
    return result


if __name__ == "__main__":
    main()
