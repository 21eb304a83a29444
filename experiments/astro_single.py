"""Stimberg et al. Fig. 2: a deterministic G-ChI astrocyte driven by a synapse at 0.5 Hz.

Each presynaptic spike (every 2 s from t = 2 s) puts rho_c Y_T = 0.001 * 500 mM = 500 µM of
glutamate into the extracellular space (cleared at Omega_c = 40/s); the astrocyte's receptors
(Gamma_A) make IP3, which triggers Ca2+ release.  Parameters of the paper's example 2, dt 1 ms,
30 s (10 s with quick).  The same network runs on numba (float64) and brian2; the maximum
relative error of Ca2+, IP3, h and Gamma_A is reported (goal <= 1 %).  The stochastic
astrocyte of the figure (Milstein noise on h) is not modelled.

The reduced astrocyte (``IF_curr_exp`` only, what SpiNNaker can run) is fitted to the full
model's Ca2+ trace (least squares, :func:`neurosim.models.astrocyte.fit_reduced`; its
refractory period to the full model's release times), run on the same input, and its error
against the full model is reported: RMS and maximum error of Ca2+ (µM, v in mV standing for
µM) and the release events (threshold crossings of 0.5 µM) of both.
"""
import numpy as np

from . import astro_common as common

DESCRIPTION = "Stimberg et al. Fig. 2: an astrocyte driven by a synapse at 0.5 Hz (numba vs brian2)"

DT, RATE_HZ = 1.0, 0.5
GLUTAMATE_UM = 0.001 * 500000.0      # rho_c * Y_T of example 2, µM per release
VARIABLES = ("C", "I", "h", "Gamma_A")


def build_network(duration_ms=10000.0):
    import neurosim as ns
    from neurosim.models.astrocyte import FIG2, astrocyte
    net = ns.Network(dt=DT, seed=1)
    period = 1000.0 / RATE_HZ
    src = net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=np.arange(period, duration_ms, period)),
                                label="synapse"))
    astro = net.add(ns.Population(1, astrocyte(gliotransmission=False, **FIG2), label="astrocyte"))
    astro.record(list(VARIABLES))
    net.add(ns.Projection(src, astro, ns.AllToAllConnector(), ns.StaticSynapse(weight=GLUTAMATE_UM, delay=DT),
                          receptor_type="glutamate"))
    return net


def calcium_peaks(c, threshold=0.5):
    """Number of upward crossings of ``threshold`` µM and the largest Ca2+ (µM)."""
    above = c > threshold
    return int(np.sum(above[1:] & ~above[:-1]) + above[0]), float(c.max())


def build_reduced(duration_ms, fit):
    import neurosim as ns
    from neurosim.models.astrocyte import reduced_astrocyte
    net = ns.Network(dt=DT, seed=1)
    period = 1000.0 / RATE_HZ
    src = net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=np.arange(period, duration_ms, period)),
                                label="synapse"))
    astro = net.add(ns.Population(1, reduced_astrocyte(fit["weight"], fit["tau_rise"], fit["tau_decay"],
                                                       fit["c_rest"], refractory=fit["refractory"]),
                                  label="astrocyte"))
    astro.initialize(v=fit["c_rest"])
    astro.record(["v", "spikes"])
    net.add(ns.Projection(src, astro, ns.AllToAllConnector(), ns.StaticSynapse(weight=fit["weight"], delay=DT)))
    return net


def reduced_error(results, duration_ms):
    """Fit the reduced astrocyte to the full model's Ca2+ and measure its error (numba)."""
    from neurosim.models.astrocyte import fit_reduced
    trace = results.trace("astrocyte", "C")
    c = trace.values[:, 0]
    arrivals = np.arange(1000.0 / RATE_HZ, duration_ms, 1000.0 / RATE_HZ) + DT
    fit = fit_reduced(trace.times, c, arrivals)
    above = c > 0.5
    onsets = np.nonzero(above[1:] & ~above[:-1])[0] + 1
    full_releases = trace.times[onsets]
    # the refractory period (release at most every ...) is fitted to the full model's release
    # times: fewest count mismatches, then the smallest mean timing error
    best = None
    for refractory in np.arange(500.0, 6001.0, 250.0):
        candidate = dict(fit, refractory=float(refractory))
        reduced, _ = common.run(lambda: build_reduced(duration_ms, candidate), duration_ms, "numba")
        times = reduced.spikes("astrocyte")[0]
        score = (abs(len(times) - len(full_releases)), release_timing_error(full_releases, times))
        if best is None or score < best[0]:
            best = (score, candidate, reduced)
    (count_mismatch, timing), fit, reduced = best
    v = reduced.trace("astrocyte", "v").values[:, 0]
    return {"fit": fit, "ca_rms_error_uM": float(np.sqrt(np.mean((v - c) ** 2))),
            "ca_max_error_relative_to_peak": float(np.max(np.abs(v - c)) / c.max()),
            "release_times_full_ms": [float(x) for x in full_releases],
            "release_times_reduced_ms": [float(x) for x in reduced.spikes("astrocyte")[0]],
            "release_count_mismatch": int(count_mismatch), "release_mean_timing_error_ms": timing}, v


def release_timing_error(full, reduced):
    """Mean |t_reduced - t_full| (ms) over the full model's releases, each matched to the
    nearest reduced release (inf when the reduced model never releases)."""
    if len(reduced) == 0 or len(full) == 0:
        return float("inf") if len(full) else 0.0
    return float(np.mean([np.min(np.abs(reduced - t)) for t in full]))


def run(out_dir, backend="numba", quick=False):
    """Writes metrics.json and astrocyte.png into ``out_dir``; brian2 is the comparison."""
    duration = 10000.0 if quick else 30000.0
    build = lambda: build_network(duration)   # noqa: E731
    results, wall = common.run(build, duration, backend)
    other = "brian2" if backend != "brian2" else "numba"
    comparison = common.compare_backends(build, duration, [("astrocyte", v) for v in VARIABLES],
                                         results, backend, other)
    c = results.trace("astrocyte", "C").values[:, 0]
    n_peaks, c_max = calcium_peaks(c)
    metrics = {"experiment": "astro-single", "backend": backend, "duration_ms": duration, "dt_ms": DT,
               "presynaptic_rate_hz": RATE_HZ, "ca_crossings_above_0.5uM": n_peaks, "ca_max_uM": c_max,
               "ip3_max_uM": float(results.trace("astrocyte", "I").values.max()),
               "wall_s": wall, "comparison": comparison}
    metrics["reduced_astrocyte"], v_reduced = reduced_error(results, duration)
    fig, ax = common.axes(4)
    t = results.trace("astrocyte", "C").times / 1000.0
    for row, (var, label) in enumerate(zip(("Gamma_A", "I", "C", "h"), (r"$\Gamma_A$", "I (µM)", "C (µM)", "h"))):
        ax[row, 0].plot(t, results.trace("astrocyte", var).values[:, 0], color="k")
        ax[row, 0].set_ylabel(label)
    ax[2, 0].plot(t, v_reduced, color="C1", label="reduced (IF_curr_exp)")
    ax[2, 0].legend(fontsize=7)
    ax[-1, 0].set_xlabel("time (s)")
    common.figure(out_dir, "astrocyte.png", fig)
    return common.write_metrics(out_dir, metrics)
