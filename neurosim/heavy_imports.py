"""The large libraries neurosim loads only when needed (numba's compiler, neo), loaded cheaply.

Importing numba and filling its compiler registries creates a few hundred thousand Python
objects; neo and quantities add more.  With the cyclic garbage collector running, each
collection triggered meanwhile walks the growing heap again, so these libraries are loaded
with the collector paused.  Compiling a kernel (numba's type inference and lowering make many
short-lived objects) also runs with it paused.

At interpreter exit the collector walks all of them again (about 0.3 s with numba loaded), so
once these libraries are loaded an exit handler freezes what is alive (``gc.freeze()``): the
final collections then skip it.  Nothing is frozen earlier, as that would keep the user's
dropped objects alive (a Brian2 network dropped later would never be collected).  At exit it
only means reference cycles still alive are not finalized, which Python does not promise
anyway.  Start-up figures: docs/performance.md.
"""
import atexit
import contextlib
import functools
import gc
import importlib.util
import sys


@contextlib.contextmanager
def collector_paused():
    """Run the block with the cyclic garbage collector off, then restore it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@functools.cache
def freeze_at_exit():
    """Register (once per process) the exit handler that spares the final collections the
    loaded libraries."""
    atexit.register(gc.freeze)


def load_numba_compiler():
    """Import numba and fill its typing/lowering registries (what loading or compiling any
    kernel needs first), with the collector paused."""
    freeze_at_exit()
    if "numba.np.arraymath" in sys.modules:     # registries already filled in this process
        return
    _defer_f2py()
    with collector_paused():
        from numba.core.registry import cpu_target
        cpu_target.typing_context.refresh()
        cpu_target.target_context.refresh()


def _defer_f2py():
    """Make ``numpy.f2py`` a lazily executed module unless it is already imported.

    Filling numba's registries checks for BLAS by importing scipy.linalg, whose array-API shim
    copies every attribute of numpy, which imports numpy.f2py (and its Fortran parser): 0.13 to
    0.25 s of a cold start for a module nothing here uses.  With Python's own ``LazyLoader``
    the module object exists but runs its code at its first attribute access, so
    ``numpy.f2py`` still works as usual for whoever uses it."""
    if "numpy.f2py" in sys.modules:
        return
    import numpy
    spec = importlib.util.find_spec("numpy.f2py")
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["numpy.f2py"] = module
    spec.loader.exec_module(module)
    numpy.f2py = module


def load_neo():
    """Import neo (and with it quantities), with the collector paused."""
    freeze_at_exit()
    if "neo.core.spiketrainlist" in sys.modules:
        return
    with collector_paused():
        import neo.core.spiketrainlist  # noqa: F401
