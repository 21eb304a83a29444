"""Cui, Ahmad & Hawkins 2016 (Neural Computation 28:2474): HTM sequence memory predicts the NYC
taxi passenger count (30-min bins, 2014-07-01 .. 2015-06-30) 5 steps (2.5 h) ahead.

Model as in htmresearch ``projects/sequence_prediction/continuous_sequence`` (model params
``nyc_taxi_model_params.py``): scalar encoders for the passenger count (n 109, w 29 over
[0, 40000]), time of day (periodic, n 600, w 29) and day of week (periodic, n 100, w 29); a
spatial pooler (2048 columns, 40 active, potentialPct 0.8, synPermConnected 0.5, increments
1e-4 / 5e-4, no boosting) trained for 5 passes over the first 5000 records and then frozen, as
``run_tm_model.py`` did; the temporal memory (32 cells per column, activation / min threshold 15,
32 new synapses, initial permanence 0.21, +-0.1, predicted-segment decrement 0.01, 128
segments x 128 synapses) learning online; an SDR classifier (alpha 0.005) on the active cells
predicting the bucket of a 22-bucket scalar encoder 5 steps ahead; the prediction is the mean
value of the most likely bucket.  Metrics as ``plotPerformance.py``: NRMSE and MAPE of the
points after the first 10,000.  The temporal memory is the reference (non-spiking) one.
"""
import json
import os
import time

import numpy as np

DESCRIPTION = "Cui et al. 2016: HTM 5-step-ahead prediction of NYC taxi demand (NRMSE, MAPE after 10,000 points)"

STEPS, SKIP = 5, 10000
PUBLISHED = {"HTM": (0.286, 0.081), "LSTM": (0.509, 0.161), "ESN": (0.286, 0.096),
             "TDNN": (0.329, 0.104), "ELM": (0.477, 0.163), "kNN": (0.260, 0.071),
             "shift": (0.927, 0.322)}
PARAMS = {
    "encoders": {"passenger_count": dict(minimum=0, maximum=40000, size=109, activeBits=29, clipInput=True),
                 "timeofday": dict(minimum=0, maximum=1411, size=600, activeBits=29, periodic=True),
                 "dayofweek": dict(minimum=0, maximum=7, size=100, activeBits=29, periodic=True)},
    "classifier_encoder": dict(minimum=0, maximum=40000, size=50, activeBits=29, clipInput=True),
    "sp": dict(columnDimensions=(2048,), potentialPct=0.8, localAreaDensity=0, numActiveColumnsPerInhArea=40,
               synPermConnected=0.5, synPermActiveInc=1e-4, synPermInactiveDec=5e-4, boostStrength=0.0,
               seed=1956),
    "sp_pretrain": {"passes": 5, "records": 5000},
    "tm": dict(cellsPerColumn=32, activationThreshold=15, minThreshold=15, maxNewSynapseCount=32,
               initialPermanence=0.21, connectedPermanence=0.5, permanenceIncrement=0.1,
               permanenceDecrement=0.1, predictedSegmentDecrement=0.01, maxSegmentsPerCell=128,
               maxSynapsesPerSegment=128, seed=1960),
    "classifier": dict(alpha=0.005),
}
# quick: half the columns and cells, one short SP pass: the same pipeline in well under a minute
QUICK = {"sp": dict(columnDimensions=(1024,), numActiveColumnsPerInhArea=20),
         "sp_pretrain": {"passes": 1, "records": 2000},
         "tm": dict(cellsPerColumn=16, activationThreshold=10, minThreshold=10, maxNewSynapseCount=20)}


def params_for(quick):
    params = {k: (dict(v) if isinstance(v, dict) else v) for k, v in PARAMS.items()}
    if quick:
        for key, upd in QUICK.items():
            params[key] = {**params[key], **upd}
    return params


def run_model(data, params, progress=None):
    """Run encoder -> SP -> TM -> classifier over the series; returns predictions and timings."""
    from neurosim.models.htm.encoders import MultiEncoder, ScalarEncoder
    from neurosim.models.htm.prediction import SDRClassifier
    from neurosim.models.htm.spatial_pooler import SpatialPooler
    from neurosim.models.htm.temporal_memory import TemporalMemory

    encoder = MultiEncoder([(name, ScalarEncoder(**kw)) for name, kw in params["encoders"].items()])
    bucketer = ScalarEncoder(**params["classifier_encoder"])
    sp = SpatialPooler(inputDimensions=(encoder.size,), potentialRadius=encoder.size, **params["sp"])
    tm = TemporalMemory(columns=sp.numColumns, **params["tm"])
    clf = SDRClassifier(steps=(STEPS,), **params["classifier"])
    values = data["value"]
    n = len(values)
    t0 = time.perf_counter()
    codes = [encoder.encode({"passenger_count": values[i], "timeofday": data["timeofday"][i],
                             "dayofweek": data["dayofweek"][i]}) for i in range(n)]
    t1 = time.perf_counter()
    for _ in range(params["sp_pretrain"]["passes"]):
        for i in range(min(params["sp_pretrain"]["records"], n)):
            sp.compute(codes[i], learn=True)
    t2 = time.perf_counter()
    best, mean, anomaly = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n)
    for i in range(n):
        tm.compute(sp.compute(codes[i], learn=False), learn=True)
        anomaly[i] = tm.anomaly
        out = clf.compute(tm.getActiveCells(), bucket=bucketer.bucket(values[i]), value=values[i])
        best[i] = clf.predict_value(out[STEPS], "best")
        mean[i] = clf.predict_value(out[STEPS], "mean")
        if progress and i % 2000 == 0:
            progress(f"  step {i}/{n}: {tm.numSegments()} segments")
    t3 = time.perf_counter()
    return {"best": best, "mean": mean, "anomaly": anomaly, "segments": tm.numSegments(),
            "synapses": tm.numSynapses(), "encode_s": t1 - t0, "sp_pretrain_s": t2 - t1, "run_s": t3 - t2}


def sliding_nrmse(values, predictions, window=960):
    truth = np.roll(values, -STEPS)
    sq = (predictions - truth) ** 2
    sq[:SKIP // 2] = np.nan
    centres = np.arange(window // 2, len(values) - window // 2, window // 10)
    return centres, np.array([np.sqrt(np.nanmean(sq[c - window // 2:c + window // 2])) / np.nanstd(truth)
                              if np.any(~np.isnan(sq[c - window // 2:c + window // 2])) else np.nan
                              for c in centres])


def run(out_dir, backend="numba", quick=False, data_path=None):
    """Full model on the whole series (quick: a smaller network); writes metrics.json,
    prediction.png, nrmse_over_time.png and comparison.png."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from neurosim.models.htm.data import load_nyc_taxi
    from neurosim.models.htm.prediction import k_step_metrics, shift_predictions

    os.makedirs(out_dir, exist_ok=True)
    data = load_nyc_taxi(data_path)
    params = params_for(quick)
    t0 = time.perf_counter()
    out = run_model(data, params)
    wall = time.perf_counter() - t0
    values = data["value"]
    htm = k_step_metrics(values, out["best"], STEPS, SKIP)
    htm_mean = k_step_metrics(values, out["mean"], STEPS, SKIP)
    shift = k_step_metrics(values, shift_predictions(values, STEPS), STEPS, SKIP)
    metrics = {
        "experiment": "htm-nyc-taxi", "backend": backend, "quick": quick,
        "temporal_memory": "reference (non-spiking, numba)",
        "nrmse": htm["nrmse"], "mape": htm["mape"], "n_points": htm["n_points"],
        "nrmse_expected_value": htm_mean["nrmse"], "mape_expected_value": htm_mean["mape"],
        "shift_nrmse": shift["nrmse"], "shift_mape": shift["mape"],
        "published": {k: {"nrmse": v[0], "mape": v[1]} for k, v in PUBLISHED.items()},
        "mean_raw_anomaly_after_skip": float(out["anomaly"][SKIP:].mean()),
        "segments": out["segments"], "synapses": out["synapses"],
        "wall_s": wall, "encode_s": out["encode_s"], "sp_pretrain_s": out["sp_pretrain_s"],
        "run_s": out["run_s"], "steps_per_s": len(values) / out["run_s"],
        "params": {k: v for k, v in params.items()},
        "metric_definition": "truth = value[t+5] (np.roll), errors for t >= 10000; NRMSE = RMSE / std(all truth); "
                             "MAPE = sum|error| / sum|truth| (htmresearch plotPerformance.py)",
    }
    with open(os.path.join(out_dir, "metrics.json"), "w") as handle:
        json.dump(metrics, handle, indent=2, default=str)
    ts = data["timestamp"]
    show = slice(len(values) - 7 * 48, len(values) - STEPS)
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.plot(ts[show].astype("datetime64[m]").astype(object), values[show], "k-", lw=1, label="truth")
    pred_at = np.roll(out["best"], STEPS)                      # prediction made 5 steps earlier
    ax.plot(ts[show].astype("datetime64[m]").astype(object), pred_at[show], "C1-", lw=1, label="HTM, 5 steps ahead")
    ax.set_ylabel("passengers / 30 min")
    ax.legend(loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "prediction.png"), dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for label, pred in (("HTM", out["best"]), ("shift", shift_predictions(values, STEPS))):
        c, e = sliding_nrmse(values, pred)
        ax.plot(c, e, label=label)
    ax.axvline(SKIP, color="0.5", ls=":")
    ax.set_xlabel("record")
    ax.set_ylabel("NRMSE (window 960)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "nrmse_over_time.png"), dpi=120)
    plt.close(fig)
    names = list(PUBLISHED) + ["ours (HTM)", "ours (shift)"]
    nr = [PUBLISHED[k][0] for k in PUBLISHED] + [htm["nrmse"], shift["nrmse"]]
    mp = [100 * PUBLISHED[k][1] for k in PUBLISHED] + [100 * htm["mape"], 100 * shift["mape"]]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, vals, label in ((axes[0], nr, "NRMSE"), (axes[1], mp, "MAPE (%)")):
        ax.bar(range(len(names)), vals, color=["0.6"] * len(PUBLISHED) + ["C1", "C0"])
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=60, ha="right")
        ax.set_ylabel(label)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "comparison.png"), dpi=120)
    plt.close(fig)
    return metrics
