"""What the astrocyte experiments share: running one network description on several
backends, the numba-vs-brian2 agreement measure, and writing metrics.json."""
import json
import os
import time

import numpy as np

#: numba runs in float64 for the comparisons (brian2 computes in float64)
BACKEND_OPTIONS = {"numba": {"numerics": "float64", "quiet": True}, "brian2": {}}


def run(build, duration_ms, backend="numba"):
    """Build the network with ``build()``, compile it on ``backend`` and run it.

    Returns (results, wall seconds of compile + run)."""
    import neurosim as ns
    t0 = time.perf_counter()
    sim = ns.compile(build(), backend=backend, **BACKEND_OPTIONS.get(backend, {}))
    results = sim.run(duration_ms)
    return results, time.perf_counter() - t0


def max_relative_error(ours, reference):
    """max |ours - reference| / max |reference| (0 when both are all zero)."""
    ours, reference = np.asarray(ours, float), np.asarray(reference, float)
    scale = np.max(np.abs(reference))
    diff = np.max(np.abs(ours - reference))
    return float(diff / scale) if scale > 0 else float(diff)


def compare_backends(build, duration_ms, variables, reference_results=None, backend="numba", other="brian2"):
    """Run ``build`` on ``other`` and compare the traces ``variables`` = [(label, var), ...]
    with ``reference_results`` (the ``backend`` run).  Returns a dict with the maximum
    relative error per 'label.var', the wall times, or the reason no comparison was made
    (the other backend refused the network)."""
    from neurosim.errors import UnsupportedFeatureError
    out = {"backends": [backend, other]}
    if reference_results is None:
        reference_results, out[f"{backend}_s"] = run(build, duration_ms, backend)
    try:
        theirs, out[f"{other}_s"] = run(build, duration_ms, other)
    except UnsupportedFeatureError as err:
        out["not_compared"] = str(err)
        return out
    errors = {}
    for label, var in variables:
        errors[f"{label}.{var}"] = max_relative_error(reference_results.trace(label, var).values,
                                                      theirs.trace(label, var).values)
    out["max_relative_error"] = errors
    out["worst"] = max(errors.values())
    out["within_1_percent"] = bool(out["worst"] <= 0.01)
    return out


def write_metrics(out_dir, metrics):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2, sort_keys=True)
    return metrics


def figure(out_dir, name, fig):
    os.makedirs(out_dir, exist_ok=True)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, name), dpi=100)
    import matplotlib.pyplot as plt
    plt.close(fig)


def axes(rows, cols=1, height=1.6, width=7.0):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt.subplots(rows, cols, figsize=(width, height * rows), squeeze=False)
