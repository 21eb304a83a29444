"""Song et al. 2000 STDP network: neurosim-numba vs Brian2, one invocation, one subprocess per engine.

1 conductance LIF, 1000 Poisson inputs at 15 Hz, additive pair STDP on all 1000 synapses,
dt 0.1 ms (the parameters of Brian2's examples/synapses/STDP.py; see
experiments/stdp_song2000.py).  Prints run-only time (simulation loop), whole-child
time, output rate and the bimodality of the final weights so both runs can be seen to
simulate the same thing.  Brian2's published figure for this example is 0.125 s per
biological second with cpp_standalone (loop only).

    python benchmarks/stdp.py                 # 100 s of biological time
    python benchmarks/stdp.py --quick         # smoke run (untimed)
    python benchmarks/stdp.py --json out.json # also keep the raw results
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time

ENGINES = {"neurosim-numba": "neurosim, numba backend, 1 thread",
           "brian2-cpp": "Brian2 cpp_standalone, 1 thread",
           "brian2-cython": "Brian2 runtime, Cython"}


def child(engine, duration):
    from neurosim.experiments.stdp_song2000 import bimodality, run_brian2, run_neurosim
    t0 = time.perf_counter()
    if engine == "neurosim-numba":
        out = run_neurosim(duration)
    else:
        out = run_brian2(duration, device="cpp_standalone" if engine == "brian2-cpp" else "runtime",
                         build_dir=tempfile.mkdtemp(prefix="b2stdp_"))
    row = {"engine": engine, "run_s": out["run_s"], "total_s": time.perf_counter() - t0,
           "rate_hz": out["rate_hz"], **bimodality(out["weights"])}
    print(json.dumps(row))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=100000.0, help="biological time in ms")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--quick", action="store_true", help="2 s, numba and Brian2 Cython only")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:
        child(args.engine, args.duration)
        return 0
    duration = 2000.0 if args.quick else args.duration
    engines = ["neurosim-numba", "brian2-cython"] if args.quick else args.engines.split(",")
    print(f"Song et al. 2000 STDP network (Brian2 examples/synapses/STDP.py parameters), {duration:g} ms, dt 0.1 ms")
    rows, failed = [], False
    for engine in engines:
        if engine not in ENGINES:
            parser.error(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
        proc = subprocess.run([sys.executable, __file__, "--engine", engine, "--duration", str(duration)],
                              capture_output=True, text=True)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode or not lines:
            print(f"{engine}: FAILED\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
            failed = True
            continue
        rows.append(json.loads(lines[-1]))
    ref = next((r["run_s"] for r in rows if r["engine"] == "neurosim-numba"), None)
    print(f"{'engine':<16}{'run s':>9}{'total s':>9}{'rate Hz':>9}{'near 0':>8}{'near max':>9}{'run/ref':>9}")
    for r in rows:
        ratio = r["run_s"] / ref if ref else float("nan")
        print(f"{r['engine']:<16}{r['run_s']:>9.3f}{r['total_s']:>9.2f}{r['rate_hz']:>9.2f}"
              f"{r['fraction_near_0']:>8.3f}{r['fraction_near_gmax']:>9.3f}{ratio:>9.2f}")
    print("run/ref = run-only time / neurosim-numba run-only time (>1: slower than neurosim)")
    if args.quick:
        print("(--quick is a smoke run: the times are not meant for comparison)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"duration_ms": duration, "results": rows}, f, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
