"""The large libraries neurosim loads only when needed (numba's compiler, neo), loaded cheaply.

Importing numba and filling its compiler registries creates a few hundred thousand Python
objects that live until the interpreter exits; neo and quantities add more.  With the cyclic
garbage collector running, every full collection walks all of them again — during the imports
themselves and, several times, while the interpreter shuts down.  So these libraries are
loaded with the collector paused, and the objects alive afterwards are moved to the
collector's permanent generation (``gc.freeze()``).  Reference counting still frees frozen
objects as usual; only a reference cycle among objects alive at that moment that later
becomes garbage is kept until exit.  Compiling a kernel (numba's type inference and
lowering make many short-lived objects) also runs with the collector paused, without the
freeze.  Measured on the CUBA contract script: see docs/performance.md ("Start-up").
"""
import contextlib
import gc
import sys


@contextlib.contextmanager
def collector_paused(freeze=False):
    """Run the block with the cyclic garbage collector off; then, with ``freeze``, move every
    object alive to the collector's permanent generation; then restore the collector."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()


def load_numba_compiler():
    """Import numba and fill its typing/lowering registries (what loading or compiling any
    kernel needs first), with the collector paused and the result frozen."""
    if "numba.np.arraymath" in sys.modules:     # registries already filled in this process
        return
    with collector_paused(freeze=True):
        from numba.core.registry import cpu_target
        cpu_target.typing_context.refresh()
        cpu_target.target_context.refresh()


def load_neo():
    """Import neo and quantities, with the collector paused and the result frozen."""
    if "neo.core.spiketrainlist" in sys.modules:
        return
    with collector_paused(freeze=True):
        import neo.core.spiketrainlist  # noqa: F401
        import quantities  # noqa: F401
