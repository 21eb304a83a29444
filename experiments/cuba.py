"""CUBA: Brian2's examples/CUBA.py network (Vogels & Abbott 2005 / Brette et al. 2007 benchmark 2).

4000 current-based LIF neurons (3200 excitatory, 800 inhibitory), Bernoulli
connectivity p = 0.02, exponential synaptic currents, no external drive (the
resting potential -49 mV lies above threshold -50 mV, so cells fire tonically
and the recurrent inhibition keeps the rate low).  Brian2 reports a mean rate
of about 5.6 Hz for this network; the exact value depends on the connectivity
drawn by the seed.

Weights are Brian2's voltage jumps converted to PyNN currents: a jump of
1.62 mV into dv/dt = ge/tau_m equals 0.0162 nA into cm = 0.2 nF
(0.0162 / 0.2 = 1.62 / 20 mV/ms); -9 mV becomes -0.09 nA.
"""

import json
import os
import time

import numpy as np

from neurosim.models.benchmark_networks import cuba_network

DESCRIPTION = ("CUBA-4000 (Brian2 examples/CUBA.py): 3200 exc / 800 inh LIF, p=0.02, "
               "self-sustained activity at ~5.6 Hz")

#: mean rate reported for Brian2's examples/CUBA.py (Hz); depends on the seed
BRIAN2_REFERENCE_RATE_HZ = 5.6


def _finite(value):
    """JSON has no NaN: write None instead."""
    return None if value is None or not np.isfinite(value) else float(value)


def run(out_dir, backend="numba", quick=False):
    """Run CUBA for 1000 ms (200 ms with ``quick``); write metrics.json and figures."""
    import matplotlib.pyplot as plt

    import neurosim as ns
    from neurosim import plotting

    os.makedirs(out_dir, exist_ok=True)
    duration = 200.0 if quick else 1000.0

    t0 = time.perf_counter()
    net = cuba_network()
    t1 = time.perf_counter()
    sim = ns.compile(net, backend=backend)
    t2 = time.perf_counter()
    results = sim.run(duration)
    t3 = time.perf_counter()

    sizes = {label: results.size(label) for label in ("exc", "inh")}
    metrics = {
        "experiment": "cuba",
        "backend": backend,
        "duration_ms": duration,
        "quick": bool(quick),
        "n_neurons": sum(sizes.values()),
        "brian2_reference_rate_hz": BRIAN2_REFERENCE_RATE_HZ,
        "wall_time_s": {"build": t1 - t0, "compile": t2 - t1, "run": t3 - t2},
    }
    total_spikes = 0
    for label, size in sizes.items():
        times, _ids = results.spikes(label)
        n = int(len(times))
        total_spikes += n
        metrics[f"spike_count_{label}"] = n
        metrics[f"mean_rate_{label}_hz"] = n / (size * duration / 1000.0)
        metrics[f"cv_isi_{label}"] = _finite(results.cv_isi(label))
    metrics["spike_count_total"] = total_spikes
    metrics["mean_rate_hz"] = total_spikes / (metrics["n_neurons"] * duration / 1000.0)

    axes = plotting.raster(results)
    fig = axes[0].figure
    fig.suptitle(f"CUBA-4000, {backend} backend, {duration:g} ms")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "raster.png"), dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(len(sizes), 1, sharex=True, figsize=(8, 5))
    for ax, label in zip(axes, sizes):
        plotting.population_rate(results, label, bin_ms=5.0, ax=ax)
    fig.suptitle(f"CUBA-4000 population rates (5 ms bins), {backend} backend")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "population_rate.png"), dpi=120)
    plt.close(fig)

    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    return metrics
