"""numba's threads and NEST in one process.

NEST's wheel brings its own libgomp; numba's OpenMP threading layer loads the system one.
With NEST initialised first, NEST's next ResetKernel segfaulted (a NEST run, a numba run with
threads=2, then a second NEST run); with numba's OpenMP threads started first, NEST runs
fine.  The numba backend therefore uses numba's default layer (OpenMP here: about 1.5 us to
start a parallel loop, against about 135 us for 'workqueue' on this VM) unless NEST is already
loaded, and 'workqueue' then.  Both orders run in subprocesses, so that a regression fails a
test instead of killing the test session."""
import subprocess
import sys

PRELUDE = """
import numba
import neurosim as ns
from neurosim.models.benchmark_networks import cuba_network


def nest_run():
    with ns.compile(cuba_network(n_neurons=200, p_connect=0.4), backend="nest") as sim:
        sim.run(10.0)


def numba_run():   # a population above PARALLEL_MIN_NEURONS: the kernel has a parallel loop
    ns.compile(cuba_network(n_neurons=30000, p_connect=0.0005), threads=2, quiet=True).run(2.0)

"""


def run(script):
    done = subprocess.run([sys.executable, "-c", PRELUDE + script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-3000:]}"
    return done.stdout


def test_nest_first_then_numba_threads_in_one_process():
    out = run("for k in range(2):\n    nest_run()\n    numba_run()\nprint('layer', numba.threading_layer())\n")
    assert "layer workqueue" in out


def test_numba_threads_first_then_nest_in_one_process():
    out = run("for k in range(2):\n    numba_run()\n    nest_run()\nprint('layer', numba.threading_layer())\n")
    assert "layer omp" in out
