"""Read-outs of the temporal memory: the SDR classifier (k-step-ahead prediction) and the error
metrics of Cui, Ahmad & Hawkins 2016.

:class:`SDRClassifier` is the single-layer softmax classifier of NuPIC / htm.core: for each
prediction step k it keeps a weight matrix (input bit x bucket); the bucket distribution for an
input pattern is ``softmax(sum of the rows of its active bits)``; learning moves the rows of the
pattern seen k steps ago by ``alpha * (one_hot(current bucket) - distribution)``.  Each bucket
also keeps a running average of the values that fell into it (rate ``actValueAlpha``), which
turns a distribution into a scalar prediction: the value of the most likely bucket (``"best"``,
NuPIC's ``multiStepBestPredictions``) or the probability-weighted mean (``"mean"``).
"""
from collections import deque

import numpy as np

__all__ = ["SDRClassifier", "nrmse", "mape", "k_step_metrics", "shift_predictions"]


class SDRClassifier:
    def __init__(self, steps=(1,), alpha=0.001, actValueAlpha=0.3, n_inputs=0):
        self.steps = tuple(int(s) for s in np.atleast_1d(steps))
        if not self.steps or min(self.steps) < 0:
            raise ValueError("steps must be non-negative integers")
        self.alpha, self.actValueAlpha = float(alpha), float(actValueAlpha)
        self.n_inputs, self.n_buckets = int(n_inputs), 0
        self.weights = {k: np.zeros((self.n_inputs, 0)) for k in self.steps}
        self.actual_values = np.zeros(0)
        self._seen = np.zeros(0, dtype=bool)
        self._history = deque(maxlen=max(self.steps) + 1)

    def _grow(self, n_inputs, n_buckets):
        if n_inputs <= self.n_inputs and n_buckets <= self.n_buckets:
            return
        n_inputs, n_buckets = max(n_inputs, self.n_inputs), max(n_buckets, self.n_buckets)
        for k, w in self.weights.items():
            new = np.zeros((n_inputs, n_buckets))
            new[:w.shape[0], :w.shape[1]] = w
            self.weights[k] = new
        self.actual_values = np.concatenate([self.actual_values, np.zeros(n_buckets - self.n_buckets)])
        self._seen = np.concatenate([self._seen, np.zeros(n_buckets - self.n_buckets, dtype=bool)])
        self.n_inputs, self.n_buckets = n_inputs, n_buckets

    def _distribution(self, k, pattern):
        w = self.weights[k]
        act = w[pattern].sum(axis=0) if len(pattern) else np.zeros(self.n_buckets)
        act = np.exp(act - act.max()) if act.size else act
        return act / act.sum() if act.size else act

    def infer(self, pattern):
        """{step: probability of each bucket} for the active input bits ``pattern``."""
        pattern = np.asarray(pattern, dtype=np.int64)
        self._grow(int(pattern.max()) + 1 if pattern.size else 0, self.n_buckets)
        return {k: self._distribution(k, pattern) for k in self.steps}

    def compute(self, pattern, bucket=None, value=None, learn=True, infer=True):
        """Infer from ``pattern`` (before learning), then learn that ``bucket`` (holding ``value``)
        follows the pattern seen k steps earlier, for each step k.  Returns the inference."""
        pattern = np.unique(np.asarray(pattern, dtype=np.int64))
        self._grow(int(pattern.max()) + 1 if pattern.size else 0,
                   (int(bucket) + 1) if bucket is not None else 0)
        out = {k: self._distribution(k, pattern) for k in self.steps} if infer else None
        if learn and bucket is not None:
            b = int(bucket)
            if value is not None:
                if self._seen[b]:
                    self.actual_values[b] += self.actValueAlpha * (value - self.actual_values[b])
                else:
                    self.actual_values[b], self._seen[b] = value, True
            n = len(self._history)
            for k in self.steps:
                if k < n + 1:
                    past = pattern if k == 0 else self._history[n - k]
                    if past.size:
                        err = -self._distribution(k, past)
                        err[b] += 1.0
                        self.weights[k][past] += self.alpha * err
        self._history.append(pattern)
        return out

    def predict_value(self, probabilities, mode="best"):
        """Scalar prediction from a bucket distribution: value of the most likely bucket seen so
        far (``"best"``) or the expectation over the seen buckets (``"mean"``); NaN before any."""
        p = np.where(self._seen[:len(probabilities)], probabilities, 0.0)
        if p.sum() <= 0:
            return float("nan")
        if mode == "best":
            return float(self.actual_values[int(np.argmax(p))])
        if mode == "mean":
            return float(np.dot(p, self.actual_values[:len(p)]) / p.sum())
        raise ValueError(f"mode must be 'best' or 'mean', got {mode!r}")


def nrmse(truth, prediction):
    """sqrt(mean squared error) / std(truth), ignoring NaN (htmresearch ``errorMetrics.NRMSE``)."""
    truth, prediction = np.asarray(truth, float), np.asarray(prediction, float)
    return float(np.sqrt(np.nanmean((prediction - truth) ** 2)) / np.nanstd(truth))


def mape(truth, prediction):
    """sum |error| / sum |truth| over the points where both exist (the "altMAPE" of Cui et al.)."""
    truth, prediction = np.asarray(truth, float), np.asarray(prediction, float)
    ok = ~(np.isnan(truth) | np.isnan(prediction))
    return float(np.abs(truth[ok] - prediction[ok]).sum() / np.abs(truth[ok]).sum())


def shift_predictions(values, steps=5):
    """The shift baseline: predict y[t + steps] by y[t]."""
    return np.asarray(values, dtype=float).copy()


def k_step_metrics(values, predictions, steps=5, skip=10000):
    """NRMSE and MAPE of ``predictions[t]`` (made at t for t + steps) as Cui et al. computed them
    (htmresearch ``plotPerformance.py``): truth = ``np.roll(values, -steps)``, errors over
    t >= ``skip``, NRMSE normalised by the standard deviation of the whole truth series."""
    truth = np.roll(np.asarray(values, dtype=float), -steps)
    pred = np.asarray(predictions, dtype=float)
    sq = (pred - truth) ** 2
    sq[:skip] = np.nan
    ok = ~np.isnan(sq)
    return {"nrmse": float(np.sqrt(np.nanmean(sq)) / np.nanstd(truth)),
            "mape": float(np.abs(truth[ok] - pred[ok]).sum() / np.abs(truth[ok]).sum()),
            "n_points": int(ok.sum())}
