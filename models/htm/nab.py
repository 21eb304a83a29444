"""Numenta Anomaly Benchmark v1.1 scoring and the HTM anomaly likelihood.

Scoring follows ``numenta/NAB`` (``nab/sweeper.py``, ``optimizer.py``, ``scorer.py``,
``runner.py``):

* each labelled anomaly window [start, end] (``labels/combined_windows.json``) rewards a
  detection at relative position x = -(end - i + 1) / width with the scaled sigmoid
  ``2 sigmoid(-5 x) - 1`` (``-1`` for x >= 3), times ``tpWeight`` / (its value at x = -1); only
  the earliest detection of a window counts; an undetected window costs ``fnWeight``;
* a detection outside windows costs ``fpWeight`` times the scaled sigmoid of its distance past
  the previous window's end in window widths (the full ``-fpWeight`` before the first window);
* the first ``min(floor(0.15 n), 0.15 x 5000)`` rows of a file are probationary and not scored;
* one threshold per detector and profile is chosen to maximise the score summed over the
  corpus; a row is a detection when its anomaly score >= threshold;
* normalised score = 100 (S - S_null) / (S_perfect - S_null), where S_null is the constant-0.5
  null detector put through the same optimisation and S_perfect = tpWeight x number of windows.

:class:`AnomalyLikelihood` is NuPIC's / htm.core's ``anomaly_likelihood.py`` algorithm: raw
anomaly scores averaged over 10 steps are modelled as a Gaussian re-estimated every
``reestimationPeriod`` steps from the recent history (after skipping ``learningPeriod``
records); the likelihood is 1 - the Gaussian's tail probability (two-sided as NuPIC >= 0.6.0, or
``two_sided=False``: P(sample > x) as NuPIC 0.5.6, which produced NAB's published ``numenta``
results), 0.5 during the first ``learningPeriod + estimationSamples`` steps; repeated "red" tail
values (< 1e-5) are softened to 1e-3.  NAB detectors report ``computeLogLikelihood(likelihood)``.
"""
import csv
import math
import os
from collections import deque

import numpy as np
from scipy.special import erfc

__all__ = ["scaled_sigmoid", "probationary_length", "window_indices", "labels_from_windows",
           "sweep_scores", "threshold_curve", "score_at_threshold", "score_corpus",
           "write_nab_result", "AnomalyLikelihood"]

PROBATION_PERCENT = 0.15
OUTSIDE, PROBATIONARY = -1, -2


def scaled_sigmoid(x):
    """2 / (1 + exp(5 x)) - 1, and -1 for x >= 3 (NAB ``sweeper.scaledSigmoid``)."""
    x = np.asarray(x, dtype=float)
    out = 2.0 / (1.0 + np.exp(np.minimum(5.0 * x, 700.0))) - 1.0
    return np.where(x >= 3.0, -1.0, out)


def probationary_length(n_rows, percent=PROBATION_PERCENT):
    return min(math.floor(percent * n_rows), percent * 5000)


def window_indices(timestamps, windows):
    """Row indices (first, last) of each window; window limits must be timestamps of the file."""
    ts = np.asarray(timestamps).astype("datetime64[s]")
    where = {t: i for i, t in enumerate(ts.tolist())}
    out = []
    for start, end in windows:
        s, e = np.datetime64(start, "s").tolist(), np.datetime64(end, "s").tolist()
        if s not in where or e not in where:
            raise ValueError(f"window {start} .. {end} does not start and end on rows of the file")
        out.append((where[s], where[e]))
    return out


def labels_from_windows(n_rows, win_idx):
    labels = np.zeros(n_rows, dtype=int)
    for s, e in win_idx:
        labels[s:e + 1] = 1
    return labels


def sweep_scores(n_rows, win_idx, cost, probation_percent=PROBATION_PERCENT):
    """Per-row weighted score if the row were a detection, and its window id (index into
    ``win_idx``; -1 outside windows, -2 probationary)."""
    i = np.arange(n_rows)
    score = np.empty(n_rows)
    wid = np.full(n_rows, OUTSIDE)
    max_tp = float(scaled_sigmoid(-1.0))
    score[:] = -cost["fpWeight"]                        # before the first window
    for k, (s, e) in enumerate(win_idx):
        width = e - s + 1.0
        inside = slice(s, e + 1)
        score[inside] = scaled_sigmoid(-(e - i[inside] + 1) / width) * cost["tpWeight"] / max_tp
        wid[inside] = k
        stop = win_idx[k + 1][0] if k + 1 < len(win_idx) else n_rows
        after = slice(e + 1, stop)
        score[after] = scaled_sigmoid(np.abs(e - i[after]) / (width - 1.0)) * cost["fpWeight"]
    wid[:int(math.ceil(probationary_length(n_rows, probation_percent)))] = PROBATIONARY
    return score, wid


def threshold_curve(anomaly, sweep, wid, fn_weight):
    """NAB's ``calcScoreByThreshold``: (thresholds descending, score when every row with anomaly
    score >= threshold is a detection).  Window ids must be unique across concatenated files."""
    keep = wid != PROBATIONARY
    a, sw, w = np.asarray(anomaly, float)[keep], sweep[keep], wid[keep]
    windows = np.unique(w[w >= 0])
    best = {int(k): -fn_weight for k in windows}
    total = -fn_weight * len(windows)
    order = np.argsort(-a, kind="stable")
    thresholds, scores = [], []
    current = 1.1
    for j in order:
        if a[j] != current:
            thresholds.append(current)
            scores.append(total)
            current = a[j]
        k = int(w[j])
        if k < 0:
            total += sw[j]
        elif sw[j] > best[k]:
            total += sw[j] - best[k]
            best[k] = sw[j]
    thresholds.append(current)
    scores.append(total)
    return np.array(thresholds), np.array(scores)


def score_at_threshold(anomaly, sweep, wid, fn_weight, threshold):
    """Score of one file when rows with anomaly >= threshold are detections, with counts."""
    anomaly = np.asarray(anomaly, float)
    keep = wid != PROBATIONARY
    det = keep & (anomaly >= threshold)
    score = float(sweep[det & (wid == OUTSIDE)].sum())
    windows = np.unique(wid[wid >= 0])
    for k in windows:
        hit = det & (wid == k)
        score += float(sweep[hit].max()) if hit.any() else -fn_weight
    inside = keep & (wid >= 0)
    return score, {"tp": int((det & inside).sum()), "fp": int((det & ~inside).sum()),
                   "fn": int((~det & inside).sum()), "tn": int((keep & ~det & ~inside).sum())}


def _optimise(series, cost, probation_percent):
    parts, offset = [], 0
    prepared = {}
    for rel, (n, win_idx, anomaly) in series.items():
        sweep, wid = sweep_scores(n, win_idx, cost, probation_percent)
        prepared[rel] = (sweep, wid, anomaly)
        parts.append((np.asarray(anomaly, float), sweep, np.where(wid >= 0, wid + offset, wid)))
        offset += len(win_idx)
    a, sw, w = (np.concatenate(x) for x in zip(*parts))
    thresholds, scores = threshold_curve(a, sw, w, cost["fnWeight"])
    best = int(np.argmax(scores))                       # first maximum: the highest threshold
    threshold = float(thresholds[best])
    per_file = {rel: score_at_threshold(an, sw_, wid_, cost["fnWeight"], threshold)
                for rel, (sw_, wid_, an) in prepared.items()}
    total = sum(s for s, _ in per_file.values())
    return threshold, total, per_file


def score_corpus(results, windows, profiles, probation_percent=PROBATION_PERCENT):
    """Score a detector on a corpus.

    ``results``: {relative path: (timestamps, anomaly scores)}; ``windows``: {relative path:
    [(start, end), ...]} (all files in ``results`` must be listed); ``profiles``: {name: cost
    matrix}.  Returns {profile: {"score" (normalised), "raw", "null", "perfect", "threshold",
    "files": {path: raw score}, "counts"}}.
    """
    series, null_series, n_windows = {}, {}, 0
    for rel, (ts, anomaly) in results.items():
        if len(ts) != len(anomaly):
            raise ValueError(f"{rel}: {len(ts)} timestamps, {len(anomaly)} scores")
        idx = window_indices(ts, windows[rel])
        series[rel] = (len(ts), idx, np.asarray(anomaly, float))
        null_series[rel] = (len(ts), idx, np.full(len(ts), 0.5))
        n_windows += len(idx)
    out = {}
    for name, cost in profiles.items():
        threshold, raw, per_file = _optimise(series, cost, probation_percent)
        _, null, _ = _optimise(null_series, cost, probation_percent)
        perfect = n_windows * cost["tpWeight"]
        counts = {k: sum(c[k] for _, c in per_file.values()) for k in ("tp", "fp", "fn", "tn")}
        out[name] = {"score": 100.0 * (raw - null) / (perfect - null) if perfect != null else float("nan"),
                     "raw": raw, "null": null, "perfect": perfect, "threshold": threshold,
                     "files": {rel: s for rel, (s, _) in per_file.items()}, "counts": counts}
    return out


def write_nab_result(results_dir, detector, relpath, timestamps, values, scores, labels, raw=None):
    """Write ``results_dir/<detector>/<category>/<detector>_<series>.csv`` in NAB's format
    (``timestamp,value,anomaly_score,label``, or ``timestamp,value,anomaly_score,raw_score,label``
    with ``raw`` as NAB's ``numenta`` detector writes) so NAB's own scorer can read it."""
    category, name = relpath.split("/")
    folder = os.path.join(results_dir, detector, category)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{detector}_{name}")
    ts = np.asarray(timestamps).astype("datetime64[s]").astype(str)
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["timestamp", "value", "anomaly_score"] + ([] if raw is None else ["raw_score"]) + ["label"])
        for k, (t, v, s, lab) in enumerate(zip(ts, values, scores, labels)):
            extra = [] if raw is None else [repr(float(raw[k]))]
            out.writerow([t.replace("T", " "), repr(float(v)), repr(float(s))] + extra + [int(lab)])
    return path


# ------------------------------------------------------------------- anomaly likelihood
def _tail(x, mean, stdev, two_sided=True):
    """Gaussian tail of ``x`` (NuPIC ``tailProbability`` / ``normalProbability``; its
    erfc(z / 1.4142) kept).  ``two_sided`` (NuPIC >= 0.6.0): Q(|x - mean| / stdev), a value below
    the mean is as unusual as one the same distance above it.  Otherwise (NuPIC <= 0.5.7, the
    version of NAB's published ``numenta`` results): P(sample > x), i.e. 1 - Q for x < mean, so
    scores below the mean are never unusual."""
    if np.ndim(x) == 0:
        q = 0.5 * math.erfc(abs(float(x) - mean) / stdev / 1.4142)
        return q if (two_sided or float(x) >= mean) else 1.0 - q
    x = np.asarray(x, float)
    q = 0.5 * erfc(np.abs(x - mean) / stdev / 1.4142)
    return q if two_sided else np.where(x < mean, 1.0 - q, q)


class AnomalyLikelihood:
    RED, YELLOW = 1.0 - 0.99999, 1.0 - 0.999
    WINDOW = 10

    def __init__(self, learningPeriod=288, estimationSamples=100, historicWindowSize=8640,
                 reestimationPeriod=100, two_sided=True):
        self.two_sided = bool(two_sided)
        if historicWindowSize < estimationSamples:
            raise ValueError("estimationSamples exceeds historicWindowSize")
        self.learningPeriod, self.reestimationPeriod = int(learningPeriod), int(reestimationPeriod)
        self.probationaryPeriod = self.learningPeriod + int(estimationSamples)
        self._history = deque(maxlen=int(historicWindowSize))     # (value, raw score)
        self._iteration = 0
        self.distribution = None
        self._recent = deque(maxlen=self.WINDOW)                   # moving-average window
        self._recent_likelihoods = []

    @staticmethod
    def computeLogLikelihood(likelihood):
        """log(1.0000000001 - likelihood) / log(1 - 0.9999999999)."""
        return math.log(1.0000000001 - likelihood) / -23.02585084720009

    def _estimate(self):
        skip = min(self._iteration, max(0, self.learningPeriod - max(0, self._iteration - self._history.maxlen)))
        hist = np.array(self._history, dtype=float).reshape(-1, 2)
        scores = hist[:, 1]
        c = np.concatenate([[0.0], np.cumsum(scores)])
        i = np.arange(len(scores))
        lo = np.maximum(0, i - self.WINDOW + 1)
        avg = (c[i + 1] - c[lo]) / (i + 1 - lo)
        if len(avg) <= skip:
            dist = {"mean": 0.5, "stdev": 1e3}
        else:
            mean, var = float(np.mean(avg[skip:])), float(np.var(avg[skip:]))
            mean, var = max(mean, 0.03), max(var, 0.0003)
            dist = {"mean": mean, "stdev": math.sqrt(var)}
            if np.var(hist[skip:, 0]) < 1.5e-5:                   # flat metric: null distribution
                dist = {"mean": 0.5, "stdev": 1e3}
        self.distribution = dist
        self._recent = deque(scores[-self.WINDOW:].tolist(), maxlen=self.WINDOW)
        self._recent_likelihoods = list(_tail(avg[-self.WINDOW:], dist["mean"], dist["stdev"], self.two_sided))

    def anomalyProbability(self, value, anomalyScore, timestamp=None):
        """Likelihood in [0, 1] that the current raw anomaly score is unusual."""
        if self._iteration < self.probationaryPeriod:
            likelihood = 0.5
        else:
            if self.distribution is None or self._iteration % self.reestimationPeriod == 0:
                self._estimate()
            self._recent.append(float(anomalyScore))
            avg = sum(self._recent) / len(self._recent)
            tail = float(_tail(avg, self.distribution["mean"], self.distribution["stdev"], self.two_sided))
            prev = self._recent_likelihoods[-1] if self._recent_likelihoods else 1.0
            filtered = tail if (tail > self.RED or prev > self.RED) else self.YELLOW
            self._recent_likelihoods = (self._recent_likelihoods + [tail])[-self.WINDOW:]
            likelihood = 1.0 - filtered
        self._history.append((float(value), float(anomalyScore)))
        self._iteration += 1
        return likelihood
