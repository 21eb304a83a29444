"""numba's threads and NEST in one process.

NEST's wheel brings its own libgomp; numba's OpenMP threading layer loads the system one.
With NEST initialised first, NEST's next ResetKernel segfaulted (a NEST run, a numba run with
threads=2, then a second NEST run); with numba's OpenMP threads started first, NEST runs
fine.  The numba backend therefore uses numba's default layer (OpenMP here: about 1.5 us to
start a parallel loop, against about 135 us for 'workqueue' on this VM) unless NEST is already
loaded, and 'workqueue' then.  GNU OpenMP cannot run in a child forked after its threads
started (numba terminates such a child): the backend refuses threads > 1 there with an error.
All cases run in subprocesses, so that a regression fails a test instead of killing the test
session."""
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


FORK = """
import multiprocessing as mp


def child(threads):
    try:
        numba_run() if threads == 2 else ns.compile(cuba_network(n_neurons=200), quiet=True).run(2.0)
        return "ran"
    except ns.UnsupportedFeatureError as exc:
        return "refused: " + str(exc)


numba_run()
print('layer', numba.threading_layer())
with mp.get_context("fork").Pool(1) as pool:
    print("threads=1:", pool.apply_async(child, (1,)).get(timeout=300))
    print("threads=2:", pool.apply_async(child, (2,)).get(timeout=300))
"""


def test_forked_child_of_an_openmp_process_refuses_threads():
    out = run(FORK)
    assert "layer omp" in out
    assert "threads=1: ran" in out
    assert "threads=2: refused: backend 'numba' does not support threads > 1 in a process forked" in out
