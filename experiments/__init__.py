"""Runnable experiments that reproduce published results (``neurosim run NAME``).

Each experiment is a module listed in :data:`EXPERIMENTS`.  It defines a
one-line ``DESCRIPTION`` and ``run(out_dir, backend="numba", quick=False)``,
which writes ``metrics.json`` and its figures into ``out_dir`` and returns the
metrics as a dict.
"""

import importlib

from neurosim.errors import ValidationError

#: experiment name -> module that implements it
EXPERIMENTS = {
    "ca3-cam": "neurosim.experiments.ca3_cam",
    "ca3-capacity": "neurosim.experiments.ca3_capacity",
    "ca3-stress": "neurosim.experiments.ca3_stress",
    "cuba": "neurosim.experiments.cuba",
    "stdp-song2000": "neurosim.experiments.stdp_song2000",
    "stdp-assemblies": "neurosim.experiments.stdp_assemblies",
    "stdp-digits": "neurosim.experiments.stdp_digits",
    "htm-nyc-taxi": "neurosim.experiments.htm_nyc_taxi",
    "htm-nab": "neurosim.experiments.htm_nab",
    "htm-sequences": "neurosim.experiments.htm_sequences",
    "astro-single": "neurosim.experiments.astro_single",
    "astro-synapse": "neurosim.experiments.astro_synapse",
    "astro-ring": "neurosim.experiments.astro_ring",
    "astro-network": "neurosim.experiments.astro_network",
    "astro-memory": "neurosim.experiments.astro_memory",
}


def _check_name(name):
    if name not in EXPERIMENTS:
        valid = ", ".join(sorted(EXPERIMENTS))
        raise ValidationError("experiments", "name",
                              f"unknown experiment {name!r}; valid names: {valid}")


def get_experiment(name):
    """Return the module of experiment ``name`` (one of :data:`EXPERIMENTS`)."""
    _check_name(name)
    return importlib.import_module(EXPERIMENTS[name])


def list_experiments():
    """Return ``[(name, description), ...]`` for every registered experiment."""
    items = []
    for name in sorted(EXPERIMENTS):
        module = get_experiment(name)
        text = getattr(module, "DESCRIPTION", "").strip().splitlines()
        items.append((name, text[0] if text else ""))
    return items
