"""CUBA-4000 on neurosim (numba) and Brian2, in one invocation, one subprocess per engine.

    python benchmarks/cuba.py                      # 10 s of biological time, all engines
    python benchmarks/cuba.py --duration 1000      # 1 s
    python benchmarks/cuba.py --engines neurosim-numba-1,brian2-cpp-1
    python benchmarks/cuba.py --cold               # empty compile caches
    python benchmarks/cuba.py --quick              # CI smoke run (200 ms, untimed)

The network is Brian2's ``examples/CUBA.py`` (see VARIANT below).  Each engine
runs in a fresh interpreter (the script re-invokes itself with ``--engine``), so
start-up cost, compile caches and peak memory are per engine.  The child prints
one line ``BENCH_RESULT {json}``; the parent collects them and prints a table
with run-only ratios against neurosim-numba on 1 thread.

Times (seconds, wall clock):
  import   importing neurosim or brian2
  build    constructing the network (plus code generation for Brian2)
  compile  compiling kernels (neurosim: ns.compile, which also instantiates the
           connectivity; Brian2 cpp_standalone: make; Brian2 runtime: the
           warm-up run, which generates and compiles or loads the Cython code)
  run      the simulation loop only (neurosim: sim.run(duration); Brian2:
           Brian2's own loop timer, device._last_run_time)
  total    the whole child script, imports included
Peak RSS is the child's own maximum resident set size; for cpp_standalone the
simulation runs in a separate binary, reported as "child RSS" (that maximum also
covers the compiler processes, so it is an upper bound for the binary).
"""

import os
import sys
import time

_T0 = time.perf_counter()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run from anywhere
import harness  # benchmarks/harness.py: one subprocess per engine, the table

VARIANT = (
    "Brian2 examples/CUBA.py variant: 4000 LIF (3200 exc / 800 inh), Bernoulli p=0.02 "
    "(autapses allowed), we=+1.62 mV, wi=-9 mV (neurosim/PyNN units: 0.0162 nA / -0.09 nA "
    "into cm=0.2 nF), El=-49 mV, Vt=-50 mV, Vr=-60 mV, tau_m=20 ms, refractory 5 ms, "
    "taue=5 ms, taui=10 ms, exact integration, dt=0.1 ms, v uniform in [Vr, Vt], no "
    "external drive, SpikeMonitor on all neurons. Brian2 applies spikes with no delay "
    "(same step); neurosim uses its minimum delay of one step (0.1 ms)."
)

N_EXC, N_INH = 3200, 800
N_TOTAL = N_EXC + N_INH
SEED = 1

ENGINES = dict(harness.NEUROSIM_BRIAN2_ENGINES)
QUICK_ENGINES = ["neurosim-numba-1", "brian2-cython"]
REFERENCE = "neurosim-numba-1"


# --------------------------------------------------------------------------- engines

def run_neurosim(duration, threads, cache_dir):
    def make_network():
        from neurosim.models.benchmark_networks import cuba_network
        return cuba_network(N_TOTAL, 0.02, seed=SEED)
    return harness.run_neurosim(make_network, duration, threads, cache_dir)


def _brian2_network(b2):
    """Brian2's examples/CUBA.py, with an explicit Network instead of magic."""
    ms, mV = b2.ms, b2.mV
    namespace = {"taum": 20 * ms, "taue": 5 * ms, "taui": 10 * ms,
                 "Vt": -50 * mV, "Vr": -60 * mV, "El": -49 * mV,
                 "we": (60 * 0.27 / 10) * mV, "wi": (-20 * 4.5 / 10) * mV}
    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    P = b2.NeuronGroup(N_TOTAL, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms,
                       method="exact", namespace=namespace)
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV
    Ce = b2.Synapses(P, P, on_pre="ge += we", namespace=namespace)
    Ci = b2.Synapses(P, P, on_pre="gi += wi", namespace=namespace)
    Ce.connect("i<3200", p=0.02)
    Ci.connect("i>=3200", p=0.02)
    s_mon = b2.SpikeMonitor(P)
    net = b2.Network(P, Ce, Ci, s_mon)
    return net, s_mon, Ce, Ci


def run_engine(engine, duration, cache_dir):
    if engine == "neurosim-numba-1":
        return run_neurosim(duration, 1, cache_dir)
    if engine == "neurosim-numba-2":
        return run_neurosim(duration, 2, cache_dir)
    if engine == "brian2-cpp-1":
        return harness.run_brian2_cpp(_brian2_network, duration, 1, "cuba", SEED)
    if engine == "brian2-cpp-2":
        return harness.run_brian2_cpp(_brian2_network, duration, 2, "cuba", SEED)
    return harness.run_brian2_cython(_brian2_network, duration, cache_dir, SEED)


def _engine_env(engine):
    if engine.startswith("brian2-cpp"):
        return {"OMP_NUM_THREADS": engine.rsplit("-", 1)[1]}
    return {}


BENCH = harness.Bench(
    name="cuba", description=__doc__.splitlines()[0], variant=VARIANT, engines=ENGINES,
    quick_engines=QUICK_ENGINES, reference=REFERENCE, n_neurons=N_TOTAL, seed=SEED,
    child=run_engine, script=__file__, t0=_T0, env=_engine_env)


def main(argv=None):
    return harness.main(BENCH, argv)


if __name__ == "__main__":
    sys.exit(main())
