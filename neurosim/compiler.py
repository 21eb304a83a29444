"""``neurosim.compile``: the one entry point from description to Simulation."""
from neurosim.errors import ValidationError


def compile(network, backend="numba", **options):
    """Compile ``network`` for ``backend``; returns a Simulation with run(ms), reset(), get/set.

    Options are the backend's own (numba: ``threads``, ``numerics``, ``quiet``, ``record_to``, ``fuse``).
    """
    from neurosim.backends import get_backend
    from neurosim.network import Network
    if not isinstance(network, Network):
        raise ValidationError("compile", "network", f"must be a neurosim Network (got {network!r})")
    from neurosim.run_context import active
    module = get_backend(backend)
    output = active()   # inside `neurosim run`: keep the network file, honour --quiet
    if output is not None:
        if output.quiet:
            options.setdefault("quiet", True)
        output.network_compiled(network)
    return module.compile(network, **options)


def restore(path, quiet=False):
    """Recreate a Simulation from ``sim.checkpoint(path)``; it continues exactly where the
    checkpoint was taken (recorded data start anew from that time)."""
    import json

    import numpy as np

    from neurosim.io import network_from_dict
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            arrays = {k: data[k] for k in data.files if k.startswith(("a_", "w_"))}
    except (OSError, ValueError, KeyError) as exc:
        raise ValidationError("restore", "path", f"{path!r} is not a neurosim checkpoint ({exc})") from None
    if meta.get("format") != "neurosim-checkpoint" or meta.get("version") != 1:
        raise ValidationError("restore", "path", f"{path!r} is not a version-1 neurosim checkpoint")
    network = network_from_dict(meta["network"])
    # checkpoints written before populations were fused have no "fuse" entry: their arrays are unfused
    sim = compile(network, backend=meta["backend"], numerics=meta["numerics"], threads=meta["threads"],
                  quiet=quiet, fuse=bool(meta.get("fuse", False)))
    sim._restore_arrays(meta["step"], arrays)
    return sim
