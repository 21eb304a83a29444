"""Capacity of the sparse distributed CA3 memory (Willshaw net, spiking recall) against Willshaw's theory.

For each network size N (full run: 1000, 2000, 3000, 4000 units, K = 20 active units per
pattern) an increasing number M of random K-of-N patterns is stored with the clipped Hebbian
rule (:mod:`neurosim.models.ca3_sparse`; the patterns of a smaller M are the first ones of a
larger M), and each stored set is recalled on the numba backend from half-cues (K/2 units of a
stored pattern) of ``n_recalls`` patterns.  Measured against the predictions:

* p1, the fraction of potentiated synapses, against Willshaw's 1 - (1 - K^2/N^2)^M and the exact
  expectation for i != j, 1 - (1 - K(K-1)/(N(N-1)))^M;
* spurious units per recall against (N - K) p1^c (c = K/2 cue units; Willshaw p1 and exact p1);
* missing units per recall (0 by construction: a pattern unit gets input from every cue unit);
* the capacity: the largest M at which at least ``PERFECT_FRACTION`` (90 %) of recalls are
  perfect (no missing, no spurious unit), interpolated linearly between the loads measured,
  against :func:`~neurosim.models.ca3_sparse.predicted_capacity` ((N - K) p1^c <= -ln 0.9).

The loads are multiples of each N's predicted capacity.  Writes ``metrics.json`` and
``capacity.png`` (recall quality against load, spurious units measured against predicted,
capacity against N).
"""
import json
import os
import time

import numpy as np

DESCRIPTION = "Sparse CA3 (Willshaw) autoassociative memory: p1, spurious units and capacity vs the Willshaw prediction, N = 1000..4000"

PERFECT_FRACTION = 0.9
FULL = dict(sizes=(1000, 2000, 3000, 4000), k_active=20, n_recalls=100,
            loads=(0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0))
QUICK = dict(sizes=(300, 600), k_active=12, n_recalls=40, loads=(0.5, 1.0, 1.5, 2.0))


def measure(n, k, m_values, n_recalls=100, cue_fraction=0.5, seed=1, backend="numba", **backend_options):
    """Store the first M of one random pattern set for each M in ``m_values`` (ascending) and
    recall ``n_recalls`` of them from partial cues; one dict of measurements per M."""
    from neurosim.models import ca3_sparse as S
    m_values = sorted(int(m) for m in m_values)
    if not m_values or m_values[0] < 1:
        raise ValueError(f"m_values must be numbers of patterns >= 1 (got {m_values})")
    if int(n_recalls) != n_recalls or n_recalls < 1:
        raise ValueError(f"n_recalls must be an integer >= 1 (got {n_recalls!r})")
    patterns = S.random_patterns(n, k, m_values[-1], seed=seed)
    rng = np.random.default_rng(seed + 1)
    rows = []
    for m in m_values:
        cam = S.SparseCA3(n, k)
        t0 = time.perf_counter()
        cam.store(patterns[:m])
        t1 = time.perf_counter()
        which = np.sort(rng.choice(m, size=min(int(n_recalls), m), replace=False))
        cues = [cam.make_cue(int(p), cue_fraction, seed=int(p)) for p in which]
        recalled, results = cam.recall(cues, backend=backend, **backend_options)
        t2 = time.perf_counter()
        scores = cam.score(recalled, which)
        c = len(cues[0])
        spurious = np.array([s["spurious"] for s in scores], dtype=float)
        rows.append({"n": n, "k": k, "m": m, "cue_size": c, "recalls": len(cues),
                     "p1": cam.p1, "p1_willshaw": S.willshaw_p1(n, k, m), "p1_exact": S.exact_p1(n, k, m),
                     "synapses": cam.n_synapses,
                     "spurious_mean": float(spurious.mean()), "spurious_max": int(spurious.max()),
                     "spurious_willshaw": S.predicted_spurious(n, k, m, c),
                     "spurious_exact_p1": (n - k) * S.exact_p1(n, k, m) ** c,
                     "missing_mean": float(np.mean([s["missing"] for s in scores])),
                     "perfect_fraction": float(np.mean([s["perfect"] for s in scores])),
                     "learn_s": t1 - t0, "recall_s": t2 - t1,
                     "ca3_spikes": int(len(results.spikes("CA3")[0]))})
    return rows


def capacity_from_rows(rows, criterion=PERFECT_FRACTION):
    """Largest M with perfect_fraction >= criterion, interpolated linearly between the last
    load that meets it and the next one; None if the smallest load already fails, the largest
    M measured (a lower bound) if every load meets it."""
    rows = sorted(rows, key=lambda r: r["m"])
    if rows[0]["perfect_fraction"] < criterion:
        return None
    for lo, hi in zip(rows, rows[1:]):
        if hi["perfect_fraction"] < criterion:
            f = (lo["perfect_fraction"] - criterion) / (lo["perfect_fraction"] - hi["perfect_fraction"])
            return float(lo["m"] + f * (hi["m"] - lo["m"]))
    return float(rows[-1]["m"])


def plot(per_size, path):
    """Recall quality against load, spurious units measured vs predicted, capacity vs N."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for entry in per_size:
        rows, pred = entry["rows"], entry["capacity_predicted"]
        ms = np.array([r["m"] for r in rows])
        line, = axes[0].plot(ms / pred, [r["perfect_fraction"] for r in rows], "o-", label=f"N = {entry['n']}")
        meas = np.array([r["spurious_mean"] for r in rows])
        ok = meas > 0
        axes[1].loglog(np.array([r["spurious_willshaw"] for r in rows])[ok], meas[ok], "o", color=line.get_color(),
                       label=f"N = {entry['n']}")
    axes[0].axhline(PERFECT_FRACTION, color="grey", ls="--", lw=1)
    axes[0].axvline(1.0, color="grey", ls=":", lw=1)
    axes[0].set_xlabel("M / predicted capacity")
    axes[0].set_ylabel("perfect recalls (fraction)")
    axes[0].legend(fontsize=7)
    lim = [1e-3, 1e3]
    axes[1].plot(lim, lim, "k--", lw=1)
    axes[1].set_xlabel("predicted spurious units (N - K) p1^c")
    axes[1].set_ylabel("measured spurious units per recall")
    ns_ = [e["n"] for e in per_size]
    axes[2].plot(ns_, [e["capacity_predicted"] for e in per_size], "k--", label="predicted")
    axes[2].plot(ns_, [e["capacity_measured"] or 0 for e in per_size], "o-", label="measured (spiking)")
    axes[2].set_xlabel("N (units)")
    axes[2].set_ylabel(f"capacity M ({int(PERFECT_FRACTION * 100)} % perfect recalls)")
    axes[2].legend(fontsize=7)
    fig.suptitle(f"Willshaw CA3, K = {per_size[0]['k']}, half cues", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(out_dir, backend="numba", quick=False, seed=1):
    """Every size of QUICK or FULL; writes metrics.json and capacity.png into out_dir and
    returns the metrics."""
    from neurosim.models.ca3_sparse import predicted_capacity
    os.makedirs(out_dir, exist_ok=True)
    config = QUICK if quick else FULL
    k = config["k_active"]
    per_size = []
    for n in config["sizes"]:
        pred = predicted_capacity(n, k, k // 2, PERFECT_FRACTION)
        rows = measure(n, k, [max(1, int(round(f * pred))) for f in config["loads"]], config["n_recalls"],
                       seed=seed, backend=backend)
        measured = capacity_from_rows(rows)
        per_size.append({"n": n, "k": k, "capacity_predicted": pred, "capacity_measured": measured,
                         "capacity_ratio": None if measured is None else measured / pred,
                         "p1_max_relative_error_exact": max(abs(r["p1"] / r["p1_exact"] - 1) for r in rows),
                         "p1_max_relative_error_willshaw": max(abs(r["p1"] / r["p1_willshaw"] - 1) for r in rows),
                         "missing_total": sum(r["missing_mean"] * r["recalls"] for r in rows),
                         "rows": rows})
    plot(per_size, os.path.join(out_dir, "capacity.png"))
    metrics = {"experiment": "ca3-capacity", "backend": backend, "quick": bool(quick), "seed": seed,
               "k_active": k, "cue_fraction": 0.5, "perfect_fraction_criterion": PERFECT_FRACTION,
               "learning": "Willshaw clipped Hebbian rule applied to the weights (no STDP)",
               "sizes": per_size}
    with open(os.path.join(out_dir, "metrics.json"), "w") as handle:
        json.dump(metrics, handle, indent=2)
    return metrics
