"""Start-up: the shipped integration plans of the standard cells (neurosim/standard_plans.json)
are what the sympy analysis gives now, and they spare a first run sympy; the exit handler that
freezes the heavy libraries' objects freezes nothing before exit."""
import json
import os
import subprocess
import sys
import textwrap

from neurosim.equations import STANDARD_PLANS
from neurosim.neurons import standard_plans


def test_shipped_plans_equal_a_fresh_analysis():
    with open(STANDARD_PLANS) as handle:
        shipped = json.load(handle)
    fresh = standard_plans()
    assert len(fresh) == 6      # IF_curr_exp, IF_curr_alpha, IF_curr_delta, IF_cond_exp, EIF, Izhikevich
    assert shipped == fresh, ("neurosim/standard_plans.json is stale: run python -c "
                              "'from neurosim.neurons import write_standard_plans; write_standard_plans()'")


def test_first_run_of_standard_cells_needs_no_sympy(tmp_path):
    """Empty caches, a network of every standard cell: compiled and run without importing
    sympy; an equation-defined model not seen before still is analysed (with sympy)."""
    script = textwrap.dedent("""
        import sys
        import neurosim as ns
        net = ns.Network(dt=0.1, seed=1)
        for cell in (ns.IF_curr_exp(), ns.IF_curr_alpha(), ns.IF_curr_delta(), ns.IF_cond_exp(),
                     ns.EIF_cond_exp_isfa_ista(), ns.Izhikevich()):
            net.add(ns.Population(3, cell, label=type(cell).__name__))
        ns.compile(net, backend="numba", quiet=True).run(1.0)
        print("standard", "sympy" in sys.modules)
        custom = ns.NeuronModel("dv/dt = (-v + 2.0*I)/tau : mV\\nI : nA", threshold="v > 1.0",
                                reset="v = 0.0", parameters=dict(tau=10.0), initial=dict(v=0.0, I=0.0))
        net.add(ns.Population(2, custom, label="custom"))
        ns.compile(net, backend="numba", quiet=True).run(1.0)
        print("custom", "sympy" in sys.modules)
    """)
    env = dict(os.environ, NEUROSIM_CACHE_DIR=str(tmp_path / "neurosim"))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["standard", "False", "custom", "True"]


def test_objects_dropped_after_loading_numba_and_neo_are_still_collected():
    """The collector is only paused while the libraries load, and the freeze waits for exit:
    a reference cycle the user drops afterwards is still reclaimed (a frozen one would not be)."""
    import atexit
    import gc
    import weakref
    from neurosim import heavy_imports

    heavy_imports.load_numba_compiler()
    heavy_imports.load_neo()
    assert gc.isenabled()
    registered = atexit._ncallbacks()
    heavy_imports.load_numba_compiler()
    heavy_imports.freeze_at_exit()
    assert atexit._ncallbacks() == registered       # the handler is registered once per process

    class Node:
        pass
    a, b = Node(), Node()
    a.other, b.other = b, a
    alive = weakref.ref(a)
    del a, b
    gc.collect()
    assert alive() is None


def test_numpy_f2py_still_works_after_numba_loads_with_it_deferred():
    """Loading numba's compiler leaves numpy.f2py unexecuted (scipy's shim would otherwise run its
    Fortran parser for nothing) but fully usable at its first use, also as ``numpy.f2py``."""
    script = textwrap.dedent("""
        import sys
        from neurosim import heavy_imports
        heavy_imports.load_numba_compiler()
        print("numpy.f2py.crackfortran" in sys.modules)
        import numpy
        import numpy.f2py
        print(callable(numpy.f2py.run_main), numpy.f2py is sys.modules["numpy.f2py"],
              "numpy.f2py.crackfortran" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "True", "True", "True"]
