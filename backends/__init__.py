"""Backends turn a neurosim Network into a runnable Simulation.

Each backend module has ``compile(network, **options)`` and a ``PROFILE``
dict describing what it supports.  ``neurosim info`` and the README's support
matrix are rendered from these profiles.
"""
import importlib

from neurosim.errors import ValidationError

BACKENDS = {"numba": "neurosim.backends.numba", "brian2": "neurosim.backends.brian2",
            "nest": "neurosim.backends.pynn.nest", "pynn-brian2": "neurosim.backends.pynn.brian2",
            "spinnaker": "neurosim.backends.pynn.spinnaker"}


def get_backend(name):
    """The backend module registered under ``name``."""
    if name not in BACKENDS:
        raise ValidationError("compile", "backend", f"unknown backend {name!r}; available: "
                              f"{', '.join(BACKENDS)}")
    return importlib.import_module(BACKENDS[name])


def describe_backends():
    """[{'name', 'installed', 'version', 'capabilities'}] for every registered backend."""
    rows = []
    for name, module_name in BACKENDS.items():
        try:
            module = importlib.import_module(module_name)
            version = module.backend_version() if hasattr(module, "backend_version") else _version(name)
            rows.append({"name": name, "installed": True, "version": version,
                         "capabilities": dict(module.PROFILE)})
        except ImportError as exc:
            rows.append({"name": name, "installed": False, "version": None,
                         "capabilities": {"error": str(exc)}})
    return rows


def _version(name):
    package = {"numba": "numba"}.get(name, name)
    try:
        return importlib.import_module(package).__version__
    except (ImportError, AttributeError):
        return None


def support_matrix_markdown():
    """The backend support matrix as a Markdown table (rendered into the README)."""
    rows = describe_backends()
    keys = []
    for row in rows:
        keys += [k for k in row["capabilities"] if k not in keys and k not in ("name",)]
    lines = ["| capability | " + " | ".join(r["name"] for r in rows) + " |",
             "|---|" + "---|" * len(rows)]
    for key in keys:
        cells = [str(r["capabilities"].get(key, "—")).replace("|", "/") for r in rows]
        lines.append(f"| {key.replace('_', ' ')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
