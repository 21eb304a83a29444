"""Plots of a ``Results``: spike rasters, population rates, state traces.

Every function takes ``ax=`` and returns the Axes it drew into; pyplot is
imported only when a new figure is needed.  Nothing here calls
``plt.show()`` or uses global figure numbers.  Times are in ms.
"""
import numpy as np


def _new_axes(n=1, height=2.0, rate_panel=False):
    """n stacked Axes sharing x in a new figure (plus a shorter one for rates)."""
    import matplotlib.pyplot as plt

    ratios = [1.0] * n + ([0.5] if rate_panel else [])
    fig, axes = plt.subplots(len(ratios), 1, sharex=True, squeeze=False,
                             figsize=(8.0, 1.0 + height * sum(ratios)),
                             gridspec_kw={"height_ratios": ratios})
    return list(axes[:, 0])


MAX_MARKERS = 100_000     # above this many spikes in view, raster() draws a binned image
IMAGE_BINS = (1000, 500)  # at most (time bins, neuron bins) of that image


def raster(results, populations=None, ax=None, t_range=None, markersize=1.0, *, neurons=None,
           rate_panel=False, bin_ms=5.0, binned=None, max_markers=MAX_MARKERS, image_bins=IMAGE_BINS):
    """Spike raster, one panel per population (time in ms, neuron index).

    ``populations``: a label, a list of labels, or None for all.
    ``ax`` None: a new figure with stacked panels sharing the time axis;
    returns the list of Axes.  ``ax`` a list: one Axes per population;
    returns that list.  ``ax`` a single Axes: all populations in it, each
    shifted up by the sizes of the ones before; returns that Axes.

    Zoom: ``t_range=(t_min, t_max)`` in ms; ``neurons=(first, stop)`` shows
    neuron indices first <= i < stop of each population.

    Large runs: markers are drawn with ``rasterized=True`` (one image in
    PDF/SVG output).  When more than ``max_markers`` spikes are in view (or
    ``binned=True``) each population is drawn as one 2-D histogram image of
    at most ``image_bins`` = (time bins, neuron bins) instead of one marker
    per spike (grey level: spikes per bin).

    ``rate_panel=True`` adds a population-rate panel (Hz, bins of ``bin_ms``
    ms) under the raster and returns a list: the raster Axes, then the rate
    Axes.  With ``ax`` a list, it may hold one extra Axes for the rate
    panel; otherwise the panel is appended under the (last) given Axes.
    """
    if populations is None:
        labels = results.labels
    elif isinstance(populations, str):
        labels = [populations]
    else:
        labels = list(populations)
    for label in labels:
        results.size(label)  # unknown label -> ValidationError
    t_lo, t_hi = _time_span(results, t_range)
    lo = 0 if neurons is None else int(neurons[0])
    hi = None if neurons is None else int(neurons[1])
    if lo < 0 or (hi is not None and hi <= lo):
        raise ValueError(f"raster: neurons must be (first, stop) with 0 <= first < stop (got {neurons})")

    single = ax is not None and not isinstance(ax, (list, tuple, np.ndarray))
    rate_ax = None
    if ax is None:
        axes = _new_axes(max(len(labels), 1), rate_panel=rate_panel)
        if rate_panel:
            axes, rate_ax = axes[:-1], axes[-1]
    elif single:
        axes = [ax] * len(labels)
    else:
        axes = list(np.ravel(ax))
        if rate_panel and len(axes) == len(labels) + 1:
            axes, rate_ax = axes[:-1], axes[-1]
        if len(axes) != len(labels):
            raise ValueError(f"raster: got {len(axes)} Axes for {len(labels)} populations")

    data = []
    for label in labels:
        times, ids = results.spikes(label)
        size = results.size(label)
        top = size if hi is None else min(hi, size)
        keep = (times >= t_lo) & (times <= t_hi)
        if lo > 0 or top < size:
            keep &= (ids >= lo) & (ids < top)
        data.append((label, times[keep], ids[keep], top))
    if binned is None:
        binned = sum(d[1].size for d in data) > max_markers

    offset = 0
    for (label, times, ids, top), a in zip(data, axes):
        shift = offset - lo if single else 0
        if binned:
            _binned_image(a, times, ids, lo, top, shift, t_lo, t_hi, results.dt, image_bins, label)
        else:
            a.plot(times, ids + shift, linestyle="none", marker=".", markersize=markersize,
                   label=label, rasterized=True)
        offset += top - lo
        a.set_xlabel("time (ms)")
        a.set_ylabel("neuron index")
        if not single:
            a.set_title(label)
            a.set_ylim(lo - 0.5, max(top, lo + 1) - 0.5)
        if t_range is not None or binned:
            a.set_xlim(t_lo, t_hi)
    if single:
        ax.set_title(", ".join(labels))
        ax.set_ylim(-0.5, max(offset, 1) - 0.5)
    if rate_panel:
        if rate_ax is None:
            from mpl_toolkits.axes_grid1 import make_axes_locatable

            rate_ax = make_axes_locatable(axes[-1] if axes else ax).append_axes(
                "bottom", size="40%", pad=0.45, sharex=axes[-1] if axes else ax)
        _rate_panel(rate_ax, results, labels, bin_ms, t_lo, t_hi)
        for a in axes:
            if a is not rate_ax and ax is None:
                a.set_xlabel("")
    if ax is None and axes:
        axes[0].figure.tight_layout()
    if rate_panel:
        return ([ax] if single else axes) + [rate_ax]
    return ax if single else axes


def _time_span(results, t_range):
    """(t_min, t_max) in ms: the given range, or the recorded segments."""
    if t_range is not None:
        t_lo, t_hi = float(t_range[0]), float(t_range[1])
        if not t_hi > t_lo:
            raise ValueError(f"raster: t_range must be (t_min, t_max) with t_max > t_min (got {t_range})")
        return t_lo, t_hi
    segs = results.segments
    if not segs:
        return 0.0, 1.0
    t_lo = min(start for start, _ in segs)
    t_hi = max(stop if stop is not None else start for start, stop in segs)
    return t_lo, max(t_hi, t_lo + results.dt)


def _binned_image(a, times, ids, lo, top, shift, t_lo, t_hi, dt, image_bins, label):
    """One image: spikes per (time bin, neuron bin), zero bins transparent."""
    from matplotlib.colors import PowerNorm

    n_t = int(max(1, min(image_bins[0], round((t_hi - t_lo) / dt))))
    n_n = int(max(1, min(image_bins[1], top - lo)))
    counts, _, _ = np.histogram2d(times, ids, bins=(n_t, n_n),
                                  range=((t_lo, t_hi), (lo - 0.5, top - 0.5)))
    image = np.ma.masked_equal(counts.T, 0)
    vmax = max(float(counts.max()), 1.0)
    a.imshow(image, origin="lower", aspect="auto", interpolation="nearest", cmap="Greys",
             norm=PowerNorm(gamma=0.5, vmin=0.0, vmax=vmax),
             extent=(t_lo, t_hi, lo - 0.5 + shift, top - 0.5 + shift), rasterized=True, label=label)


def _rate_panel(a, results, labels, bin_ms, t_lo, t_hi):
    for label in labels:
        bin_times, rate = results.population_rate(label, bin_ms)
        if not bin_times.size:
            continue
        t_end = max(stop if stop is not None else start for start, stop in results.segments)
        edges = np.append(bin_times, min(bin_times[-1] + bin_ms, t_end))
        keep = (edges[1:] > t_lo) & (edges[:-1] < t_hi)
        first, last = np.flatnonzero(keep)[[0, -1]] if keep.any() else (0, -1)
        if keep.any():
            a.stairs(rate[first:last + 1], edges[first:last + 2], label=label)
    a.set_xlim(t_lo, t_hi)
    a.set_xlabel("time (ms)")
    a.set_ylabel("rate (Hz)")
    if len(labels) > 1:
        a.legend(fontsize="small")


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
