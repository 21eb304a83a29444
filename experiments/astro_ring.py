"""Stimberg et al. Fig. 5: a Ca2+ wave in a ring of 50 astrocytes coupled by IP3 gap junctions.

Astrocyte 25 is driven towards I_bias = 1 µM by a rectangular wave (20 s on in every 50 s,
F_ex 0.09 µM/s); neighbours exchange IP3 through gap junctions (F 0.09 µM/s, I_Theta 0.3 µM,
omega_I 0.05 µM); parameters of the paper's example 5.  The paper steps at 50 ms (above
neurosim's largest step, 10 ms).  Here dt = 5 ms: the speed is converged in dt (400 s runs,
numba: 15.48 s/cell at 5 ms, 15.50 at 2 ms, but 18.06 at 10 ms, where the explicit
one-step-lagged gap-junction flux is too coarse).  4000 s (400 s with quick).

Reported: the first time each cell's Ca2+ exceeds 0.5 µM, the wave speed (cells/s; a linear
fit of arrival time against ring distance from the stimulated cell), how many cells the wave
reached, and numba vs brian2 maximum relative error of Ca2+ over the first 400 s.
"""
import numpy as np

from . import astro_common as common

DESCRIPTION = "Stimberg et al. Fig. 5: Ca2+ wave speed in a ring of 50 astrocytes with IP3 gap junctions"

N, DT = 50, 5.0
STIMULATED = N // 2
THRESHOLD_UM = 0.5
COMPARE_MS = 400000.0


def build_network(n=N, dt=DT):
    """``n`` astrocytes in a ring, cell ``n // 2`` stimulated (dt in ms)."""
    import neurosim as ns
    from neurosim.models.astrocyte import FIG5, astrocyte, ip3_gap_junction
    net = ns.Network(dt=dt, seed=1)
    bias = np.zeros(n)
    bias[n // 2] = 1.0
    astro = net.add(ns.Population(n, astrocyte(gliotransmission=False, stimulus_period=50.0, stimulus_on=20.0,
                                               I_bias=bias, **FIG5), label="astrocytes"))
    astro.record("C")
    pairs = [(i, (i + 1) % n) for i in range(n)] + [(i, (i - 1) % n) for i in range(n)]
    net.add(ns.Projection(astro, astro, ns.FromListConnector(pairs), ip3_gap_junction(dt, F=0.09),
                          receptor_type="ip3", label="gap junctions"))
    return net


def wave(times_ms, calcium, threshold=THRESHOLD_UM):
    """First crossing time (s, NaN if never) per cell, and the speed in cells/s fitted over
    the cells the wave reached (ring distance >= 1 from the stimulated cell n // 2)."""
    n = calcium.shape[1]
    stimulated = n // 2
    above = calcium > threshold
    first = np.where(above.any(axis=0), times_ms[np.argmax(above, axis=0)] / 1000.0, np.nan)
    distance = np.minimum(np.abs(np.arange(n) - stimulated), n - np.abs(np.arange(n) - stimulated))
    reached = np.isfinite(first) & (distance >= 1)
    speed = None
    if reached.sum() >= 3:
        slope = np.polyfit(distance[reached], first[reached], 1)[0]    # s per cell
        speed = float(1.0 / slope) if slope > 0 else None
    return first, distance, int(reached.sum()), speed


def run(out_dir, backend="numba", quick=False):
    """Writes metrics.json and ring.png into ``out_dir``."""
    duration = COMPARE_MS if quick else 4000000.0
    results, wall = common.run(build_network, duration, backend)
    trace = results.trace("astrocytes", "C")
    first, distance, n_reached, speed = wave(trace.times, trace.values)
    if quick:
        reference = results
    else:
        reference, _ = common.run(build_network, COMPARE_MS, backend)
    other = "brian2" if backend != "brian2" else "numba"
    comparison = common.compare_backends(build_network, COMPARE_MS, [("astrocytes", "C")], reference, backend, other)
    metrics = {"experiment": "astro-ring", "backend": backend, "duration_ms": duration, "dt_ms": DT,
               "cells": N, "stimulated_cell": STIMULATED, "threshold_uM": THRESHOLD_UM,
               "first_crossing_s": [None if np.isnan(x) else float(x) for x in first],
               "cells_reached": n_reached, "wave_speed_cells_per_s": speed,
               "seconds_per_cell": None if speed is None else 1.0 / speed,
               "ca_max_uM": float(trace.values.max()), "wall_s": wall,
               "comparison_first_400_s": comparison}
    fig, ax = common.axes(1, height=6.0)
    scale = trace.values.max()
    for i in range(N):
        ax[0, 0].plot(trace.times / 1000.0, trace.values[:, i] / scale + 1.2 * i,
                      color="C0" if i == STIMULATED else "k", lw=0.5)
    ax[0, 0].set(xlabel="time (s)", ylabel="C / C_max (cell index x 1.2)")
    common.figure(out_dir, "ring.png", fig)
    return common.write_metrics(out_dir, metrics)
