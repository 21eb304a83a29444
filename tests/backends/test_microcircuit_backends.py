"""Past one machine: the same scaled PD14 microcircuit Network on NEST with 2 threads and on the
SpiNNaker virtual board (docs/performance.md; benchmarks/microcircuit_backends.py).

Reference for NEST: numba in float64 on the same Network (same synapses, weights, delays and
initial v; both integrate IF_curr_exp exactly), run in this test.  NEST with MPI cannot be
tested here (the pip NEST has no MPI)."""
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import neurosim as ns
from neurosim.errors import UnsupportedFeatureError
from neurosim.models.benchmark_networks import microcircuit_network

pytestmark = [pytest.mark.pynn, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
SCALE, DURATION = 0.02, 500.0


def spikes(backend, **options):
    net = microcircuit_network(scale=SCALE, seed=1)
    sim = ns.compile(net, backend=backend, **options)
    res = sim.run(DURATION)
    out = {pop.label: res.spikes(pop.label) for pop in net.populations}
    getattr(sim, "close", lambda: None)()
    return out, {pop.label: pop.size for pop in net.populations}


def test_pd14_on_nest_with_two_threads_reproduces_numba():
    ref, sizes = spikes("numba", numerics="float64")
    got, _ = spikes("nest", threads=2)
    same, total = 0, 0
    for label, (t_ref, i_ref) in ref.items():
        t_got, i_got = got[label]
        rate_ref, rate_got = (len(t) / sizes[label] / (DURATION / 1000.0) for t in (t_ref, t_got))
        print(f"{label}: numba {rate_ref:.2f} Hz, NEST (2 threads) {rate_got:.2f} Hz")
        assert rate_ref > 0.5
        assert abs(rate_got - rate_ref) <= 0.02 * rate_ref
        a = set(zip(np.round(t_ref, 6), i_ref))
        same += len(a & set(zip(np.round(t_got, 6), i_got)))
        total += max(len(a), len(t_got))
    print(f"spikes identical in time and neuron: {same} of {total}")
    assert same >= 0.99 * total


def test_pd14_maps_on_the_spinnaker_virtual_board_with_fewer_neurons_per_core():
    net = microcircuit_network(scale=SCALE, k_scale=0.1, seed=1)
    # 256 neurons per core: one L23I neuron would need a 290-synapse row onto L23E
    with pytest.raises(UnsupportedFeatureError, match=r"one core of 'L23E'.*lower neurons_per_core"):
        ns.compile(net, backend="spinnaker", virtual_board=True, keep_run_dir=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "spinnaker: virtual board", RuntimeWarning)
        with ns.compile(net, backend="spinnaker", virtual_board=True, keep_run_dir=False,
                        neurons_per_core=128) as sim:
            sim.run(50.0)
            cores = sim.info["cores"]
            quantisation = sim.info["weight_quantisation"]
    print("PD14 x0.02 (k x0.1) on a virtual SpiNN-5:", cores)
    assert all(cores["populations"][pop.label] >= -(-pop.size // 128) for pop in net.populations)
    assert all(q["rounded_to_zero"] == 0 and q["saturated"] == 0 for q in quantisation.values())


def test_the_worked_example_maps_on_the_virtual_board():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "microcircuit_backends.py"), "--backend",
                           "spinnaker", "--scale", "0.02", "--k-scale", "0.1", "--virtual-board",
                           "--neurons-per-core", "128", "--duration", "20", "--discard", "0"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "L6I" in proc.stdout and "SpiNNaker cores" in proc.stdout
