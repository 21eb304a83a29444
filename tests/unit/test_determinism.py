"""Same seed, same spikes: across processes, thread counts, and run() split into pieces.

What neurosim guarantees on the numba backend, per numeric mode (float32, float64):
the network's ``seed`` fixes every random choice (connectivity, initial values,
Poisson input through a counter-based generator), so two processes with the same
seed produce identical spike trains, ``threads=1`` and ``threads=2`` produce
identical spike trains (each neuron's update is independent; spike collection is serial;
propagation through per-synapse delays is split between threads by ring buffer, each ring
summed in one order), and ``run(30)`` equals ``run(12); run(18)``.  Prefetching ring values
(done for large rings) changes nothing either.  float32
and float64 are different numeric modes and may differ from each other.

The network has a population above the size where the kernel switches to
``prange`` (``PARALLEL_MIN_NEURONS``), and the child lowers the thresholds for parallel
propagation and for prefetching to 0, so ``threads=2`` really runs both parts in parallel.
Each child process prints one JSON line of spike-train digests; the test runs two.
"""
import json
import os
import subprocess
import sys

CHILD = r"""
import hashlib, json, sys
import numpy as np
import neurosim as ns
from neurosim.backends.numba import rings
from neurosim.backends.numba.codegen import PARALLEL_MIN_NEURONS

rings.PARALLEL_MIN_SYNAPSES = 0          # two rings below, one per thread


def network(seed):
    net = ns.Network(dt=0.1, seed=seed)
    src = net.add(ns.Population(500, ns.SpikeSourcePoisson(rate=100.0), label="poisson"))
    exc = net.add(ns.Population(PARALLEL_MIN_NEURONS, ns.IF_curr_exp(tau_m=10.0, v_thresh=-55.0),
                                label="exc"))
    exc.initialize(v=ns.RandomDistribution("uniform", (-65.0, -55.0)))
    net.add(ns.Projection(src, exc, ns.FixedProbabilityConnector(0.04),
                          ns.StaticSynapse(weight=ns.RandomDistribution("uniform", (0.2, 0.6)), delay=1.0)))
    net.add(ns.Projection(exc, exc, ns.FixedNumberPreConnector(5),
                          ns.StaticSynapse(weight=-0.3, delay=ns.RandomDistribution("uniform", (0.5, 2.0))),
                          receptor_type="inhibitory"))
    net.add(ns.Projection(exc, exc, ns.FixedNumberPreConnector(5),
                          ns.StaticSynapse(weight=0.2, delay=ns.RandomDistribution("uniform", (0.5, 3.0)))))
    src.record("spikes")
    exc.record("spikes")
    return net


def digest(sim):
    out = {}
    for label in ("poisson", "exc"):
        times, ids = sim.results.spikes(label)
        h = hashlib.sha256(np.round(times / 0.1).astype(np.int64).tobytes() + ids.astype(np.int64).tobytes())
        out[label] = [int(times.size), h.hexdigest()[:16]]
    return out


report = {}
for numerics in ("float32", "float64"):
    for threads in (1, 2):
        sim = ns.compile(network(seed=7), threads=threads, numerics=numerics, quiet=True)
        source = open(sim.kernel_path).read()
        assert ("in prange(gp_group" in source) == (threads == 2), source
        sim.run(30.0)
        report[f"{numerics}/threads={threads}"] = digest(sim)
sim = ns.compile(network(seed=7), quiet=True)
sim.run(12.0)
sim.run(18.0)
report["float32/two runs"] = digest(sim)
rings.PREFETCH_MIN_RING_BYTES = 0
sim = ns.compile(network(seed=7), quiet=True)
assert "prefetch(" in open(sim.kernel_path).read()
sim.run(30.0)
report["float32/prefetch"] = digest(sim)
sim = ns.compile(network(seed=8), quiet=True)
sim.run(30.0)
report["float32/other seed"] = digest(sim)
print(json.dumps(report), flush=True)
"""


def run_children(n=2):
    """Run ``n`` child processes at the same time; return their reports."""
    env = dict(os.environ, NUMBA_NUM_THREADS="2")   # threads=2 also on a one-core machine
    children = [subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=env) for _ in range(n)]
    reports = []
    for child in children:
        try:
            stdout, stderr = child.communicate(timeout=600)
        finally:
            if child.poll() is None:
                child.kill()
                child.communicate()
        assert child.returncode == 0, stderr[-3000:]
        reports.append(json.loads(stdout.strip().splitlines()[-1]))
    return reports


def test_same_seed_same_spikes_across_processes_threads_and_pieces():
    first, second = run_children(2)
    assert first == second, "two processes with the same seed gave different spikes"
    for numerics in ("float32", "float64"):
        one, two = first[f"{numerics}/threads=1"], first[f"{numerics}/threads=2"]
        assert one == two, f"{numerics}: threads=1 and threads=2 gave different spikes"
        assert one["poisson"][0] > 1000 and one["exc"][0] > 100, f"too few spikes to compare: {one}"
    assert first["float32/two runs"] == first["float32/threads=1"], "run(12)+run(18) differs from run(30)"
    assert first["float32/prefetch"] == first["float32/threads=1"], "prefetching ring values changed the spikes"
    other = first["float32/other seed"]
    assert other["poisson"][1] != first["float32/threads=1"]["poisson"][1], "the seed does not change the input"


KERNEL_NAME = """
import os, neurosim as ns
from neurosim.models.benchmark_networks import coba_network, cuba_network
for net in (coba_network(n_neurons=100), cuba_network(n_neurons=100)):
    sim = ns.compile(net, quiet=True)
    print(os.path.basename(sim.kernel_path))
"""


def test_kernel_source_does_not_depend_on_string_hashing():
    """The kernel cache works across processes only if the generated source is the same in
    every process: nothing in it may follow the (randomised) order of a set of names."""
    names = []
    for hash_seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        done = subprocess.run([sys.executable, "-c", KERNEL_NAME], capture_output=True, text=True, env=env,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        names.append(done.stdout.split())
    assert names[0] == names[1] == names[2], names


def test_kernel_source_does_not_depend_on_parameter_values():
    """Networks of one structure share one kernel (a parameter sweep compiles once): other
    refractory periods, delays, weights and sizes give the same source."""
    import neurosim as ns

    def network(tau_refrac, delay, size):
        net = ns.Network(dt=0.1, seed=1)
        cell = ns.IF_curr_exp(tau_refrac=tau_refrac)
        a = net.add(ns.Population(size, cell, label="a"))
        b = net.add(ns.Population(size // 2, ns.IF_curr_exp(tau_refrac=tau_refrac), label="b"))
        net.add(ns.Projection(a, b, ns.FixedProbabilityConnector(0.3), ns.StaticSynapse(weight=0.1, delay=delay)))
        a.record("spikes")
        return net

    paths = {ns.compile(network(*values), quiet=True).kernel_path
             for values in ((2.0, 0.1, 40), (5.0, 1.5, 64), (0.5, 3.0, 16))}
    assert len(paths) == 1, paths
