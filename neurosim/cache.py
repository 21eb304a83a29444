"""The on-disk cache: generated kernels, numba's compiled code, equation analyses.

``NEUROSIM_CACHE_DIR`` overrides the location (default ``~/.cache/neurosim``).
Everything in it is derived data and may be deleted at any time.
"""
import json
import os
import tempfile
from pathlib import Path


def cache_dir(*parts):
    base = os.environ.get("NEUROSIM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "neurosim")
    path = os.path.join(base, *parts)
    os.makedirs(path, exist_ok=True)
    return path


def write_atomic(path, data):
    """Write text or bytes so that concurrent readers never see the file half-written."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as handle:
        handle.write(data)
    os.replace(tmp, path)


def load_json(path):
    """A cached JSON document, or None if missing or unreadable."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None
