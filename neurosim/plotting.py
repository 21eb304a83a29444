"""Plots of a ``Results``: spike rasters, population rates, state traces.

Every function takes ``ax=`` and returns the Axes it drew into; pyplot is
imported only when a new figure is needed.  Nothing here calls
``plt.show()`` or uses global figure numbers.  Times are in ms.
"""
import numpy as np


def _new_axes(n=1, height=2.0):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(n, 1, sharex=True, squeeze=False,
                             figsize=(8.0, 1.0 + height * n))
    return list(axes[:, 0])


def raster(results, populations=None, ax=None, t_range=None, markersize=1.0):
    """Spike raster, one panel per population (time in ms, neuron index).

    ``populations``: a label, a list of labels, or None for all.
    ``ax`` None: a new figure with stacked panels sharing the time axis;
    returns the list of Axes.  ``ax`` a list: one Axes per population;
    returns that list.  ``ax`` a single Axes: all populations in it, each
    shifted up by the sizes of the ones before; returns that Axes.
    ``t_range``: (t_min, t_max) in ms to show.
    """
    if populations is None:
        labels = results.labels
    elif isinstance(populations, str):
        labels = [populations]
    else:
        labels = list(populations)
    for label in labels:
        results.size(label)  # unknown label -> ValidationError

    single = ax is not None and not isinstance(ax, (list, tuple, np.ndarray))
    if ax is None:
        axes = _new_axes(max(len(labels), 1))
    elif single:
        axes = [ax] * len(labels)
    else:
        axes = list(np.ravel(ax))
        if len(axes) != len(labels):
            raise ValueError(f"raster: got {len(axes)} Axes for {len(labels)} populations")

    offset = 0
    for label, a in zip(labels, axes):
        times, ids = results.spikes(label)
        if t_range is not None:
            keep = (times >= t_range[0]) & (times <= t_range[1])
            times, ids = times[keep], ids[keep]
        shift = offset if single else 0
        a.plot(times, ids + shift, linestyle="none", marker=".",
               markersize=markersize, label=label)
        size = results.size(label)
        offset += size
        a.set_xlabel("time (ms)")
        a.set_ylabel("neuron index")
        if not single:
            a.set_title(label)
            a.set_ylim(-0.5, max(size, 1) - 0.5)
        if t_range is not None:
            a.set_xlim(t_range[0], t_range[1])
    if single:
        ax.set_title(", ".join(labels))
        ax.set_ylim(-0.5, max(offset, 1) - 0.5)
        return ax
    if ax is None and axes:
        axes[0].figure.tight_layout()
    return axes


def population_rate(results, label, bin_ms=5.0, ax=None):
    """Population rate of ``label`` in Hz in bins of ``bin_ms`` ms; returns the Axes."""
    bin_times, rate = results.population_rate(label, bin_ms)
    if ax is None:
        ax = _new_axes(1, height=3.0)[0]
    if bin_times.size:
        t_end = max(stop if stop is not None else start for start, stop in results.segments)
        edges = np.append(bin_times, min(bin_times[-1] + bin_ms, t_end))
        ax.stairs(rate, edges)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("rate (Hz)")
    ax.set_title(label)
    return ax


def traces(results, label, var, ax=None, max_traces=10):
    """Recorded ``var`` of ``label`` for up to ``max_traces`` neurons; returns the Axes."""
    tr = results.trace(label, var)
    if ax is None:
        ax = _new_axes(1, height=3.0)[0]
    n = min(int(max_traces), tr.indices.size)
    for j in range(n):
        ax.plot(tr.times, tr.values[:, j], linewidth=0.8, label=f"neuron {tr.indices[j]}")
    if 0 < n <= 5:
        ax.legend(fontsize="small")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(f"{var} ({tr.unit})")
    ax.set_title(f"{label}: {var}")
    return ax
