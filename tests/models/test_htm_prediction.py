"""SDR classifier and the error metrics of Cui et al. 2016."""
import numpy as np
import pytest

from neurosim.models.htm.data import load_nyc_taxi
from neurosim.models.htm.prediction import SDRClassifier, k_step_metrics, mape, nrmse, shift_predictions


def test_metrics():
    truth = np.array([1.0, 2.0, 3.0, 4.0])
    assert nrmse(truth, truth) == 0.0 and mape(truth, truth) == 0.0
    assert nrmse(truth, truth + 1) == pytest.approx(1 / np.std(truth))
    assert mape(truth, truth + 1) == pytest.approx(4 / 10)
    assert mape(truth, np.array([np.nan, 2, 3, 5])) == pytest.approx(1 / 9)


def test_shift_baseline_reproduces_the_published_numbers():
    values = load_nyc_taxi()["value"]
    assert len(values) == 17520
    m = k_step_metrics(values, shift_predictions(values, 5), steps=5, skip=10000)
    assert m["n_points"] == 7520
    assert m["nrmse"] == pytest.approx(0.927, abs=5e-4)        # Cui et al.: 0.927
    assert m["mape"] == pytest.approx(0.322, abs=5e-4)         # and 32.2 %


def test_classifier_learns_a_k_step_mapping():
    rng = np.random.default_rng(0)
    patterns = [np.sort(rng.choice(500, 20, replace=False)) for _ in range(6)]
    clf = SDRClassifier(steps=(0, 2), alpha=0.1)
    seq = list(range(6)) * 60
    for k in seq:
        out = clf.compute(patterns[k], bucket=k, value=10.0 * k)
    # two steps after pattern k comes bucket k + 2
    for k in range(6):
        out = clf.infer(patterns[k])
        assert np.argmax(out[0]) == k and np.argmax(out[2]) == (k + 2) % 6
        assert out[2][(k + 2) % 6] > 0.8
        assert clf.predict_value(out[2], "best") == pytest.approx(10.0 * ((k + 2) % 6))
    assert np.allclose(clf.actual_values, 10.0 * np.arange(6))
    assert all(abs(p.sum() - 1) < 1e-12 for p in out.values())


def test_classifier_value_averaging_and_modes():
    clf = SDRClassifier(steps=(1,), alpha=0.5, actValueAlpha=0.5)
    clf.compute([1, 2], bucket=3, value=30.0)
    clf.compute([1, 2], bucket=3, value=34.0)
    assert clf.actual_values[3] == pytest.approx(32.0)
    p = np.zeros(4)
    p[3] = 1.0
    assert clf.predict_value(p, "mean") == pytest.approx(32.0)
    assert np.isnan(clf.predict_value(np.array([1.0, 0, 0, 0]), "best"))   # bucket never seen
    with pytest.raises(ValueError):
        clf.predict_value(p, "median")
    with pytest.raises(ValueError):
        SDRClassifier(steps=(-1,))
