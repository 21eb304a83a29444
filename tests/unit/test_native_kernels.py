"""Serial kernels saved as machine code (backends/numba/native.py) run exactly what numba runs.

Each case runs a child process on its own empty cache: numba's own dispatcher
(``NEUROSIM_NATIVE_KERNELS=0``), then a cold native run (numba compiles, the object is saved
and the run switches to it), then a warm one (loaded without importing numba).  The recorded
spikes, the sampled membrane traces and the plastic weights must be identical, bit for bit.
The network uses every kind of kernel argument: float32/float64 and integer scalars, 64-bit
RNG keys, 1-d and 2-d arrays of several dtypes, boolean masks.
"""
import json
import os
import subprocess
import sys

import pytest

CHILD = r"""
import hashlib, json, sys
import numpy as np
import neurosim as ns

net = ns.Network(dt=0.1, seed=11)
src = net.add(ns.Population(60, ns.SpikeSourcePoisson(rate=40.0), label="poisson"))
arr = net.add(ns.Population(2, ns.SpikeSourceArray(spike_times=[[2.0, 9.0, 30.0], [4.5]]), label="array"))
cells = net.add(ns.Population(25, ns.IF_cond_exp(tau_refrac=2.0), label="cells"))
adex = net.add(ns.Population(5, ns.EIF_cond_exp_isfa_ista(), label="adex"))
cells.initialize(v=ns.RandomDistribution("uniform", (-65.0, -55.0)))
cells[:10].inject(ns.DCSource(amplitude=0.4, start=5.0, stop=40.0))
adex.inject(ns.StepCurrentSource(times=[0.0, 20.0], amplitudes=[0.9, 0.0]))
stdp = ns.STDPMechanism(ns.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
                        ns.AdditiveWeightDependence(0.0, 0.05), weight=0.02, delay=1.0)
plastic = net.add(ns.Projection(src, cells, ns.FixedProbabilityConnector(0.3), stdp))
net.add(ns.Projection(arr, cells, ns.AllToAllConnector(), ns.StaticSynapse(weight=0.05, delay=0.5)))
net.add(ns.Projection(cells, adex, ns.FixedProbabilityConnector(0.5),
                      ns.StaticSynapse(weight=ns.RandomDistribution("uniform", (0.001, 0.01)),
                                       delay=ns.RandomDistribution("uniform", (0.5, 2.0)))))
for pop in (src, cells, adex):
    pop.record("spikes")
cells.record("v", sampling_interval=0.5, indices=[0, 3, 7])
adex.record("w_adapt")
sim = ns.compile(net, numerics=sys.argv[1], threads=int(sys.argv[2]), quiet=True)
sim.run(30.0)
sim.run(25.0)
digest = {}
for label in ("poisson", "cells", "adex"):
    t, i = sim.results.spikes(label)
    digest[label] = [int(t.size), hashlib.sha256(t.tobytes() + i.tobytes()).hexdigest()]
for label, var in (("cells", "v"), ("adex", "w_adapt")):
    digest[label + "." + var] = hashlib.sha256(np.asarray(sim.results.trace(label, var)[1]).tobytes()).hexdigest()
digest["weights"] = hashlib.sha256(np.nan_to_num(sim.get_weights(plastic), nan=-1.0).tobytes()).hexdigest()
digest["numba imported"] = "numba" in sys.modules
print(json.dumps(digest))
"""


def child(cache, numerics, native=True, threads=1):
    env = dict(os.environ, NEUROSIM_CACHE_DIR=str(cache / "neurosim"), NUMBA_CACHE_DIR=str(cache / "numba"),
               NEUROSIM_NATIVE_KERNELS="1" if native else "0", NUMBA_NUM_THREADS="2")
    out = subprocess.run([sys.executable, "-c", CHILD, numerics, str(threads)], env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("numerics", ["float32", "float64"])
def test_saved_kernel_runs_exactly_what_numba_runs(tmp_path, numerics):
    reference = child(tmp_path / "numba", numerics, native=False)
    cold = child(tmp_path / "native", numerics)
    saved = sorted(p.suffix for p in (tmp_path / "native" / "neurosim" / "kernels").iterdir())
    assert saved.count(".o") == 1 and saved.count(".json") == 1, saved
    warm = child(tmp_path / "native", numerics)
    assert reference.pop("numba imported") and cold.pop("numba imported")
    assert warm.pop("numba imported") is False, "a warm start with a saved kernel imported numba"
    assert reference["cells"][0] > 0 and reference["adex"][0] > 0, reference
    assert cold == reference
    assert warm == reference
    # two threads on a network this small run the same serial kernel, still without numba
    warm_two_threads = child(tmp_path / "native", numerics, threads=2)
    assert warm_two_threads.pop("numba imported") is False, "threads=2 on a serial kernel imported numba"
    assert warm_two_threads == reference


def small_network():
    import neurosim as ns
    net = ns.Network(dt=0.1, seed=2)
    src = net.add(ns.Population(40, ns.SpikeSourcePoisson(rate=50.0), label="src"))
    cells = net.add(ns.Population(20, ns.IF_curr_exp(), label="cells"))
    net.add(ns.Projection(src, cells, ns.FixedProbabilityConnector(0.5), ns.StaticSynapse(weight=0.5, delay=1.0)))
    cells.record("spikes")
    return net


def test_one_saved_specialisation_per_argument_types_and_damaged_or_foreign_ones_are_not_loaded(tmp_path, monkeypatch):
    import numpy as np
    import neurosim as ns
    from neurosim.backends.numba import native
    monkeypatch.setenv("NEUROSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(native, "_ENGINES", {})
    sim = ns.compile(small_network(), quiet=True)
    spikes = sim.run(50.0).spikes("cells")
    assert spikes[0].size > 0
    args = [np.int64(0), np.int64(0), 0.1, np.int64(1)] + [sim._args[n] for n in sim._call_names]
    saved = native.load(sim.kernel_path, args)
    assert isinstance(saved, native.NativeKernel)

    # a specialisation checks what it is given instead of reading the wrong memory ...
    float_array = next(i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype == np.float32)
    other = list(args)
    other[float_array] = args[float_array].astype(np.float64)
    with pytest.raises(TypeError, match="expected a C-contiguous 1-d <f4 array"):
        saved(*other)
    with pytest.raises(TypeError, match="arguments"):
        saved(*args[:-1])
    # ... and the kernel, like numba's dispatcher, compiles and saves one for the new types
    assert sim._kernel(*other) == (0, 0, 0)
    assert len(list(tmp_path.glob("kernels/*.o"))) == 2
    assert isinstance(native.load(sim.kernel_path, other), native.NativeKernel)

    # another machine / numba setting: a different key, nothing to load
    native.machine_key.cache_clear()
    monkeypatch.setenv("NUMBA_OPT", "1")
    assert native.load(sim.kernel_path, args) is None
    monkeypatch.delenv("NUMBA_OPT")
    native.machine_key.cache_clear()

    # a damaged object (checksum) is not linked; compiling again saves a good one
    for obj in tmp_path.glob("kernels/*.o"):
        obj.write_bytes(obj.read_bytes()[:-100])
    monkeypatch.setattr(native, "_ENGINES", {})
    assert native.load(sim.kernel_path, args) is None
    again = ns.compile(small_network(), quiet=True)
    t, i = again.run(50.0).spikes("cells")
    assert np.array_equal(t, spikes[0]) and np.array_equal(i, spikes[1])
    assert isinstance(native.load(sim.kernel_path, args), native.NativeKernel)


@pytest.mark.parametrize("setting", [None, "3"])
def test_thread_count_is_checked_like_numba_without_importing_it(setting):
    """threads=2 on a serial kernel needs no numba: the limit is found by numba's own rule
    (NUMBA_NUM_THREADS, else the CPUs this process may use) and agrees with numba's once loaded."""
    script = ("import sys\n"
              "from neurosim.backends.numba import _max_threads\n"
              "before = _max_threads()\n"
              "print(before, 'numba' in sys.modules)\n"
              "import numba\n"
              "print(numba.config.NUMBA_NUM_THREADS, _max_threads())\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_NUM_THREADS"}
    if setting is not None:
        env["NUMBA_NUM_THREADS"] = setting
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    (before, imported), (numba_says, after) = (line.split() for line in out.stdout.splitlines())
    assert imported == "False"
    assert before == numba_says == after
    if setting is not None:
        assert before == setting
