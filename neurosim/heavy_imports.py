"""The large libraries neurosim loads only when needed (numba's compiler, neo), loaded cheaply.

Importing numba and filling its compiler registries creates a few hundred thousand Python
objects; neo and quantities add more.  With the cyclic garbage collector running, each
collection triggered meanwhile walks the growing heap again, so these libraries are loaded
with the collector paused.  Compiling a kernel (numba's type inference and lowering make many
short-lived objects) also runs with it paused.  (Freezing the loaded objects with
``gc.freeze()`` would also spare the collections at exit, ~0.3 s, but it would freeze the
user's objects alive at that moment too: a Brian2 network dropped later would then never be
collected.  So nothing is frozen.)  Start-up figures: docs/performance.md.
"""
import contextlib
import gc
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


def load_numba_compiler():
    """Import numba and fill its typing/lowering registries (what loading or compiling any
    kernel needs first), with the collector paused."""
    if "numba.np.arraymath" in sys.modules:     # registries already filled in this process
        return
    with collector_paused():
        from numba.core.registry import cpu_target
        cpu_target.typing_context.refresh()
        cpu_target.target_context.refresh()


def load_neo():
    """Import neo (and with it quantities), with the collector paused."""
    if "neo.core.spiketrainlist" in sys.modules:
        return
    with collector_paused():
        import neo.core.spiketrainlist  # noqa: F401
