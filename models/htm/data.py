"""Loaders for the real data the HTM experiments use (NYC taxi, NAB v1.1).

The data live outside the repository, in ``../shared/data`` relative to the project root
(see ``shared/data/README.md``).  :func:`data_root` finds that folder: the ``NEUROSIM_DATA``
environment variable if set, else ``shared/data`` or ``../shared/data`` above the current
directory or above this file.
"""
import csv
import json
import os

import numpy as np

__all__ = ["data_root", "load_nyc_taxi", "nab_root", "nab_files", "load_nab_series",
           "load_nab_windows", "load_nab_profiles", "parse_timestamps"]


def data_root(required=True):
    env = os.environ.get("NEUROSIM_DATA")
    if env:
        return env
    starts = [os.getcwd(), os.path.dirname(os.path.abspath(__file__))]
    for start in starts:
        here = start
        while True:
            for rel in ("shared/data", "../shared/data"):
                cand = os.path.normpath(os.path.join(here, rel))
                if os.path.isdir(os.path.join(cand, "nab")) or os.path.isdir(os.path.join(cand, "nyc_taxi")):
                    return cand
            parent = os.path.dirname(here)
            if parent == here:
                break
            here = parent
    if required:
        raise FileNotFoundError("no shared/data folder found; set NEUROSIM_DATA to the data folder")
    return None


def parse_timestamps(strings):
    """'YYYY-mm-dd HH:MM:SS[.ffffff]' strings -> datetime64[s] array."""
    return np.array([s.strip().replace(" ", "T") for s in strings], dtype="datetime64[us]").astype("datetime64[s]")


def load_nyc_taxi(path=None):
    """The NYC taxi series of Cui et al. 2016: dict of ``timestamp`` (datetime64[s]), ``value``
    (passengers per 30 min), ``timeofday`` (minutes) and ``dayofweek`` (Monday = 0)."""
    path = path or os.path.join(data_root(), "nyc_taxi", "nyc_taxi_2014_2015.csv")
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))[3:]            # names, types, flags
    return {"timestamp": parse_timestamps([r[0] for r in rows]),
            "value": np.array([float(r[1]) for r in rows]),
            "timeofday": np.array([int(r[2]) for r in rows]),
            "dayofweek": np.array([int(r[3]) for r in rows])}


def nab_root(root=None):
    return root or os.path.join(data_root(), "nab")


def nab_files(root=None):
    """Relative paths ``category/series.csv`` of the NAB data files, sorted."""
    base = os.path.join(nab_root(root), "data")
    out = []
    for category in sorted(os.listdir(base)):
        folder = os.path.join(base, category)
        if os.path.isdir(folder):
            out += [f"{category}/{name}" for name in sorted(os.listdir(folder)) if name.endswith(".csv")]
    return out


def load_nab_series(relpath, root=None):
    """(timestamps datetime64[s], values float) of one NAB file."""
    with open(os.path.join(nab_root(root), "data", relpath), newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    return parse_timestamps([r[0] for r in rows]), np.array([float(r[1]) for r in rows])


def load_nab_windows(root=None, name="combined_windows.json"):
    """{relative path: [(start, end) datetime64[s], ...]} from the NAB label file."""
    with open(os.path.join(nab_root(root), "labels", name)) as handle:
        raw = json.load(handle)
    return {rel: [tuple(parse_timestamps(w)) for w in wins] for rel, wins in raw.items()}


def load_nab_profiles(root=None):
    """{profile: {"tpWeight", "fpWeight", "fnWeight", "tnWeight"}} from config/profiles.json."""
    with open(os.path.join(nab_root(root), "config", "profiles.json")) as handle:
        raw = json.load(handle)
    return {name: dict(p["CostMatrix"]) for name, p in raw.items()}
