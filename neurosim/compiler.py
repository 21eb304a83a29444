"""``neurosim.compile``: the one entry point from description to Simulation."""
from neurosim.errors import ValidationError


def compile(network, backend="numba", **options):
    """Compile ``network`` for ``backend``; returns a Simulation with run(ms), reset(), get/set.

    Options are the backend's own (numba: ``threads``, ``numerics``, ``quiet``).
    """
    from neurosim.backends import get_backend
    from neurosim.network import Network
    if not isinstance(network, Network):
        raise ValidationError("compile", "network", f"must be a neurosim Network (got {network!r})")
    module = get_backend(backend)
    return module.compile(network, **options)
