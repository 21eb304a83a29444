"""numba's threads and NEST in one process.

NEST's wheel brings its own libgomp; numba's OpenMP threading layer loads the system one.
With both initialised, NEST's ResetKernel segfaulted (a NEST run, a numba run with
threads=2, then a second NEST run).  The numba backend therefore runs prange kernels on
numba's 'workqueue' threads.  The check runs in a subprocess so that a regression fails this
test instead of killing the test session."""
import subprocess
import sys

SCRIPT = """
import numba
import neurosim as ns
from neurosim.models.benchmark_networks import cuba_network
for k in range(2):
    with ns.compile(cuba_network(n_neurons=200, p_connect=0.4), backend="nest") as sim:
        sim.run(10.0)
    ns.compile(cuba_network(n_neurons=30000, p_connect=0.0005), threads=2, quiet=True).run(2.0)
print("layer", numba.threading_layer())
"""


def test_nest_after_numba_threads_in_one_process():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-3000:]}"
    assert "layer workqueue" in done.stdout
