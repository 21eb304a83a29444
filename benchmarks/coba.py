"""COBA-4000 on neurosim (numba), Brian2 and NEST, in one invocation, one subprocess per engine.

    python benchmarks/coba.py                      # 10 s of biological time, all engines
    python benchmarks/coba.py --duration 1000      # 1 s
    python benchmarks/coba.py --engines neurosim-numba-1,brian2-cpp-1
    python benchmarks/coba.py --cold               # empty compile caches
    python benchmarks/coba.py --quick              # CI smoke run (200 ms, untimed)

The network is the Brian 1 COBA benchmark with a constant 20 mV drive (see VARIANT
below; models/benchmark_networks.coba_network).  The harness, the measured times and
the table are those of cuba.py (benchmarks/harness.py); see benchmarks/README.md.
NEST runs through PyNEST (``iaf_cond_exp``) when ``import nest`` works, otherwise the
table says it was not run.  NEST integrates the conductance LIF with its adaptive
GSL solver (RKF45), not forward Euler, so its spike count differs a little.

Times (seconds, wall clock):
  import   importing neurosim, brian2 or nest
  build    constructing the network (Brian2: plus code generation; NEST: Create +
           Connect, i.e. the synapses too)
  compile  neurosim: ns.compile (connectivity + kernel); cpp_standalone: make;
           Brian2 runtime: a 1 ms warm-up run; NEST: nest.Prepare()
  run      the simulation loop only (neurosim: sim.run(duration); Brian2: its own loop
           timer; NEST: wall time of nest.Run(duration))
  total    the whole child script, imports included
"run cpu s" is the CPU time of the run, all threads (for cpp_standalone: of the whole
binary, so synapse creation is in it); "cpu/ref" divides it by neurosim-numba-1's.  On a
loaded machine CPU time is steadier than the wall clock.
"""
import os
import sys
import time

_T0 = time.perf_counter()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run from anywhere
import harness  # benchmarks/harness.py: one subprocess per engine, the table

VARIANT = (
    "Brian 1 examples/misc/COBA.py variant with a constant 20 mV drive (as the ANNarchy/CCN-2019 "
    "re-benchmark): 4000 LIF (3200 exc / 800 inh), Bernoulli p=0.02 (autapses allowed), "
    "conductance synapses we=6 nS, wi=67 nS (Brian 1: 0.6 / 6.7 x g_leak) with taue=5 ms, "
    "taui=10 ms, Ee=0 mV, Ei=-80 mV; El=-60 mV, Vt=-50 mV, Vr=-60 mV, tau_m=20 ms "
    "(Cm=200 pF, g_L=10 nS), refractory 5 ms, drive 20 mV (I=0.2 nA), forward Euler, "
    "dt=0.1 ms; v = El + (randn*5-5) mV, ge = (randn*1.5+4)*10 nS, gi = (randn*12+20)*10 nS "
    "(conductances clipped at 0); SpikeMonitor on all neurons. neurosim/PyNN: IF_cond_exp "
    "cm=0.2 nF, weights 0.006 / 0.067 uS, i_offset=0.2 nA, delay one step (0.1 ms); Brian2 "
    "applies spikes in the same step; NEST iaf_cond_exp (RKF45 solver), delay 0.1 ms."
)

N_EXC, N_INH = 3200, 800
N_TOTAL = N_EXC + N_INH
SEED = 1

ENGINES = dict(harness.NEUROSIM_BRIAN2_ENGINES,
               **{"nest-1": "NEST (PyNEST) iaf_cond_exp, 1 thread",
                  "nest-2": "NEST (PyNEST) iaf_cond_exp, 2 threads"})
QUICK_ENGINES = ["neurosim-numba-1", "brian2-cython"]
REFERENCE = "neurosim-numba-1"


# --------------------------------------------------------------------------- engines

def run_neurosim(duration, threads, cache_dir):
    def make_network():
        from neurosim.models.benchmark_networks import coba_network
        return coba_network(N_TOTAL, 0.02, seed=SEED)
    return harness.run_neurosim(make_network, duration, threads, cache_dir)


def _brian2_network(b2):
    """The COBA variant in Brian2, physical units, an explicit Network."""
    ms, mV, nS, nA, pF = b2.ms, b2.mV, b2.nS, b2.nA, b2.pF
    namespace = {"Cm": 200 * pF, "gL": 10 * nS, "El": -60 * mV, "Vt": -50 * mV, "Vr": -60 * mV,
                 "Ee": 0 * mV, "Ei": -80 * mV, "taue": 5 * ms, "taui": 10 * ms, "I": 0.2 * nA,
                 "we": 6 * nS, "wi": 67 * nS}
    eqs = """
    dv/dt  = (gL*(El-v) + ge*(Ee-v) + gi*(Ei-v) + I)/Cm : volt (unless refractory)
    dge/dt = -ge/taue : siemens
    dgi/dt = -gi/taui : siemens
    """
    P = b2.NeuronGroup(N_TOTAL, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms,
                       method="euler", namespace=namespace)
    P.v = "El + (randn()*5 - 5)*mV"
    P.ge = "clip((randn()*1.5 + 4)*10*nS, 0*nS, inf*nS)"
    P.gi = "clip((randn()*12 + 20)*10*nS, 0*nS, inf*nS)"
    Ce = b2.Synapses(P, P, on_pre="ge += we", namespace=namespace)
    Ci = b2.Synapses(P, P, on_pre="gi += wi", namespace=namespace)
    Ce.connect(f"i<{N_EXC}", p=0.02)
    Ci.connect(f"i>={N_EXC}", p=0.02)
    s_mon = b2.SpikeMonitor(P)
    net = b2.Network(P, Ce, Ci, s_mon)
    return net, s_mon, Ce, Ci


def run_nest(duration, threads):
    t_import = time.perf_counter()
    import numpy as np
    import nest

    t_start = time.perf_counter()
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.resolution = 0.1
    nest.local_num_threads = threads
    nest.rng_seed = SEED
    nest.print_time = False
    params = {"C_m": 200.0, "g_L": 10.0, "E_L": -60.0, "V_th": -50.0, "V_reset": -60.0, "t_ref": 5.0,
              "E_ex": 0.0, "E_in": -80.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0, "I_e": 200.0}
    exc = nest.Create("iaf_cond_exp", N_EXC, params=params)
    inh = nest.Create("iaf_cond_exp", N_INH, params=params)
    every = exc + inh
    rng = np.random.default_rng(SEED)
    every.set(V_m=list(-60.0 + rng.normal(size=N_TOTAL) * 5.0 - 5.0),
              g_ex=list(np.maximum((rng.normal(size=N_TOTAL) * 1.5 + 4.0) * 10.0, 0.0)),
              g_in=list(np.maximum((rng.normal(size=N_TOTAL) * 12.0 + 20.0) * 10.0, 0.0)))
    conn = {"rule": "pairwise_bernoulli", "p": 0.02, "allow_autapses": True}
    # NEST tells inhibitory conductance input by its negative sign; the jump is |w| nS
    nest.Connect(exc, every, conn, {"synapse_model": "static_synapse", "weight": 6.0, "delay": 0.1})
    nest.Connect(inh, every, conn, {"synapse_model": "static_synapse", "weight": -67.0, "delay": 0.1})
    recorder = nest.Create("spike_recorder")
    nest.Connect(every, recorder)
    t_built = time.perf_counter()
    nest.Prepare()
    t_prepared = time.perf_counter()
    c_run = time.process_time()
    nest.Run(duration)
    t_ran = time.perf_counter()
    c_ran = time.process_time()
    nest.Cleanup()
    return {
        "import_s": t_start - t_import,
        "build_s": t_built - t_start,
        "compile_s": t_prepared - t_built,
        "run_s": t_ran - t_prepared,
        "run_cpu_s": c_ran - c_run,
        "spikes": int(recorder.n_events),
        "synapses": int(nest.num_connections) - N_TOTAL,  # minus the recorder's connections
        "version": nest.__version__,
    }


def run_engine(engine, duration, cache_dir):
    if engine.startswith("neurosim-numba-"):
        return run_neurosim(duration, int(engine.rsplit("-", 1)[1]), cache_dir)
    if engine.startswith("brian2-cpp-"):
        return harness.run_brian2_cpp(_brian2_network, duration, int(engine.rsplit("-", 1)[1]), "coba",
                                      SEED, cpu_time=True)
    if engine == "brian2-cython":
        return harness.run_brian2_cython(_brian2_network, duration, cache_dir, SEED, cpu_time=True)
    return run_nest(duration, int(engine.rsplit("-", 1)[1]))


def _engine_env(engine):
    if engine.startswith(("brian2-cpp", "nest")):
        return {"OMP_NUM_THREADS": engine.rsplit("-", 1)[1]}
    return {}


BENCH = harness.Bench(
    name="coba", description=__doc__.splitlines()[0], variant=VARIANT, engines=ENGINES,
    quick_engines=QUICK_ENGINES, reference=REFERENCE, n_neurons=N_TOTAL, seed=SEED,
    child=run_engine, script=__file__, t0=_T0, env=_engine_env,
    requires={"nest-1": "nest", "nest-2": "nest"}, cpu_columns=True)


def main(argv=None):
    return harness.main(BENCH, argv)


if __name__ == "__main__":
    sys.exit(main())
