"""HTM anomaly detection on the Numenta Anomaly Benchmark (NAB v1.1, 58 series).

Each series goes through a fresh :class:`neurosim.models.htm.detector.HTMAnomalyDetector`
(Numenta's NAB recipe: RDSE value + time-of-day encoders, spatial pooler, a non-spiking
temporal memory, anomaly log-likelihood, spatial-anomaly override).  ``recipe="numenta"``
(default) is NAB's ``numenta`` detector with NuPIC's backtracking TM; ``"numentaTM"`` is NAB's
``numentaTM`` detector with the BAMI temporal memory.  The scores
are written as NAB result files ``results/<detector>/<category>/<detector>_<series>.csv``
(``timestamp,value,anomaly_score,raw_score,label``) that NAB's own scorer reads, and scored here with
:mod:`neurosim.models.htm.nab` (one threshold per profile optimised over the corpus,
normalised so that the null detector scores 0 and the perfect one 100).  ``quick`` runs a
4-series subset; its scores are normalised over that subset and are not comparable with the
scoreboard.
"""
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

DESCRIPTION = "HTM anomaly detection on NAB v1.1 (standard / low-FP / low-FN scores vs the scoreboard)"

DETECTOR = "neurosimHTM"
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
# NAB README scoreboard / results/final_results.json (standard, low FP, low FN)
SCOREBOARD = {"ARTime": (74.9, 65.1, 80.4), "Numenta HTM (NuPIC)": (70.1, 63.1, 74.3),
              "CAD OSE": (69.9, 67.0, 73.2), "NumentaTM (tm_cpp)": (64.6, 56.7, 69.2),
              "htm.core": (63.1, 58.8, 66.2), "KNN CAD": (58.0, 43.4, 64.8),
              "HTM Java": (56.8, 50.7, 61.4), "Relative Entropy": (54.6, 47.6, 58.8),
              "Numenta HTM, no likelihood": (53.62, 34.15, 61.89),
              "Windowed Gaussian": (39.6, 20.9, 47.4), "random": (11.0, 1.2, 19.5), "null": (0.0, 0.0, 0.0)}
QUICK_FILES = ["artificialWithAnomaly/art_daily_jumpsup.csv", "realTraffic/speed_7578.csv",
               "realAdExchange/exchange-2_cpc_results.csv", "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv"]


def _detect_file(args):
    relpath, root, recipe = args
    from neurosim.models.htm.data import load_nab_series
    from neurosim.models.htm.detector import DETECTORS, detect_series
    from neurosim.models.htm.nab import probationary_length
    ts, values = load_nab_series(relpath, root)
    t0 = time.perf_counter()
    scores, raw = detect_series(ts, values, probationary_length(len(values)), params=DETECTORS[recipe])
    return relpath, ts, values, scores, raw, time.perf_counter() - t0


def run_detector(files, root=None, processes=None, recipe="numenta"):
    """{relpath: (timestamps, values, final scores, raw scores, seconds)}, in parallel."""
    processes = processes or min(len(files), os.cpu_count() or 1)
    jobs = [(rel, root, recipe) for rel in files]
    if processes <= 1:
        outs = map(_detect_file, jobs)
    else:
        pool = ProcessPoolExecutor(max_workers=processes)
        # longest series first, so the pool stays busy
        from neurosim.models.htm.data import load_nab_series
        jobs.sort(key=lambda j: -len(load_nab_series(j[0], root)[1]))
        outs = pool.map(_detect_file, jobs)
    results = {rel: rest for rel, *rest in outs}
    if processes > 1:
        pool.shutdown()
    return {rel: results[rel] for rel in files}


def run(out_dir, backend="numba", quick=False, nab_root=None, files=None, processes=None, recipe="numenta"):
    """Detect, write NAB result files, score; writes metrics.json, scores.png, example.png.
    ``recipe``: "numenta" (NuPIC's backtracking TM, NAB's 70.1 detector) or "numentaTM" (the
    BAMI temporal memory, NAB's 64.6 detector)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from neurosim.models.htm import nab
    from neurosim.models.htm.data import load_nab_profiles, load_nab_windows, nab_files

    os.makedirs(out_dir, exist_ok=True)
    files = files or (QUICK_FILES if quick else nab_files(nab_root))
    windows, profiles = load_nab_windows(nab_root), load_nab_profiles(nab_root)
    t0 = time.perf_counter()
    detected = run_detector(files, nab_root, processes, recipe)
    wall_detect = time.perf_counter() - t0
    results_dir = os.path.join(out_dir, "results")
    for rel, (ts, values, scores, raw_scores, _) in detected.items():
        labels = nab.labels_from_windows(len(ts), nab.window_indices(ts, windows[rel]))
        nab.write_nab_result(results_dir, DETECTOR, rel, ts, values, scores, labels, raw=raw_scores)
    final = nab.score_corpus({rel: (d[0], d[2]) for rel, d in detected.items()}, windows, profiles)
    raw = nab.score_corpus({rel: (d[0], d[3]) for rel, d in detected.items()}, windows, profiles)
    wall = time.perf_counter() - t0
    n_rows = int(sum(len(d[0]) for d in detected.values()))
    metrics = {"experiment": "htm-nab", "backend": backend, "quick": quick, "detector": DETECTOR,
               "recipe": recipe, "temporal_memory": ("NuPIC backtracking TM (non-spiking, numba)" if recipe == "numenta"
                                                     else "reference BAMI TM (non-spiking, numba)"),
               "n_files": len(files),
               "n_rows": n_rows, "n_windows": int(sum(len(windows[r]) for r in files)),
               **{name: final[name]["score"] for name in PROFILES},
               "thresholds": {name: final[name]["threshold"] for name in PROFILES},
               "raw_scores": {name: final[name]["raw"] for name in PROFILES},
               "counts": {name: final[name]["counts"] for name in PROFILES},
               "no_likelihood": {name: raw[name]["score"] for name in PROFILES},
               "per_file_standard": final["standard"]["files"],
               "detect_s_per_file": {rel: d[4] for rel, d in detected.items()},
               "wall_s": wall, "detect_wall_s": wall_detect,
               "scoreboard": {k: dict(zip(PROFILES, v)) for k, v in SCOREBOARD.items()},
               "comparable_to_scoreboard": not quick and len(files) == 58,
               "results_dir": results_dir}
    with open(os.path.join(out_dir, "metrics.json"), "w") as handle:
        json.dump(metrics, handle, indent=2)
    names = ["ours"] + list(SCOREBOARD)
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.27
    for k, prof in enumerate(PROFILES):
        vals = [final[prof]["score"]] + [v[k] for v in SCOREBOARD.values()]
        ax.bar(np.arange(len(names)) + (k - 1) * width, vals, width, label=prof)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=50, ha="right")
    ax.set_ylabel("NAB score")
    ax.set_title("NAB v1.1" + (" (quick subset: not comparable)" if quick else ""))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "scores.png"), dpi=120)
    plt.close(fig)
    example = "realKnownCause/nyc_taxi.csv" if "realKnownCause/nyc_taxi.csv" in detected else files[0]
    ts, values, scores, _, _ = detected[example]
    t = ts.astype("datetime64[m]").astype(object)
    fig, axes = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
    axes[0].plot(t, values, "k-", lw=0.6)
    axes[1].plot(t, scores, "C3-", lw=0.6)
    axes[1].axhline(final["standard"]["threshold"], color="0.4", ls=":", label="standard threshold")
    for start, end in windows[example]:
        for ax in axes:
            ax.axvspan(start.astype(object), end.astype(object), color="C2", alpha=0.2)
    axes[0].set_title(example)
    axes[1].set_ylabel("anomaly score")
    axes[1].legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "example.png"), dpi=120)
    plt.close(fig)
    return metrics
