"""What ``neurosim run`` asks of the simulations an experiment creates.

The command line runs an experiment inside ``experiment_output(out_dir, quiet)``.
While it is active, every ``neurosim.compile`` writes the network it compiles to
``out_dir/network.json`` (``network_2.json``, ... for further networks, so the
output folder holds every model the numbers came from) and, with ``quiet``,
tells the backend to print nothing.  The state lives in a context variable,
not in module globals: it ends with the ``with`` block and does not leak into
other threads.
"""
import contextlib
import contextvars
import os
import warnings

from neurosim.errors import NeurosimError

_ACTIVE = contextvars.ContextVar("neurosim_experiment_output", default=None)


class ExperimentOutput:
    """Where an experiment's network files go, and whether backends stay quiet."""

    def __init__(self, out_dir, quiet=False):
        self.out_dir = os.fspath(out_dir)
        self.quiet = bool(quiet)
        self.network_files = []

    def network_compiled(self, network):
        """Save ``network`` as the next network file; a network that cannot be saved gives a
        warning naming the reason (the experiment itself goes on)."""
        from neurosim.io import save_network
        n = len(self.network_files) + 1
        path = os.path.join(self.out_dir, "network.json" if n == 1 else f"network_{n}.json")
        os.makedirs(self.out_dir, exist_ok=True)
        try:
            save_network(network, path)
        except NeurosimError as exc:
            warnings.warn(f"network {n} of this experiment was not saved: {exc}", stacklevel=3)
            return None
        self.network_files.append(path)
        return path


@contextlib.contextmanager
def experiment_output(out_dir, quiet=False):
    """Within the block, compiled networks are saved into ``out_dir`` (see module docstring)."""
    output = ExperimentOutput(out_dir, quiet)
    token = _ACTIVE.set(output)
    try:
        yield output
    finally:
        _ACTIVE.reset(token)


def active():
    """The ExperimentOutput of the enclosing ``experiment_output`` block, or None."""
    return _ACTIVE.get()
