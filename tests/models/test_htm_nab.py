"""NAB scoring on hand-made cases and real files, and the anomaly likelihood."""
import math

import numpy as np
import pytest

from neurosim.models.htm import nab
from neurosim.models.htm.data import load_nab_profiles, load_nab_series, load_nab_windows

STANDARD = {"tpWeight": 1.0, "fpWeight": 0.11, "fnWeight": 1.0, "tnWeight": 1.0}


def minutes(n):
    return np.datetime64("2020-01-01T00:00") + np.arange(n) * np.timedelta64(1, "m")


def sigmoid_ref(x):
    return -1.0 if x >= 3.0 else 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def reference_score(anomaly, wins, cost, threshold):
    """A row-by-row transcription of NAB's rules, independent of the vectorised scorer."""
    n = len(anomaly)
    prob = min(math.floor(0.15 * n), 0.15 * 5000)
    total, prev = 0.0, None
    found = {}
    for i in range(n):
        inside = [k for k, (s, e) in enumerate(wins) if s <= i <= e]
        if inside:
            k = inside[0]
            s, e = wins[k]
            value = sigmoid_ref(-(e - i + 1) / (e - s + 1)) * cost["tpWeight"] / sigmoid_ref(-1.0)
        else:
            past = 3.0 if prev is None else abs(wins[prev][1] - i) / (wins[prev][1] - wins[prev][0])
            value = sigmoid_ref(past) * cost["fpWeight"]
        if i >= prob and anomaly[i] >= threshold:
            if inside:
                found.setdefault(inside[0], value)       # earliest detection of the window
            else:
                total += value
        if inside and i == wins[inside[0]][1]:
            prev = inside[0]
    return total + sum(found.get(k, -cost["fnWeight"]) for k in range(len(wins)))


def test_scaled_sigmoid_and_probation():
    assert nab.scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert nab.scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert nab.scaled_sigmoid(0.0) == 0.0
    assert nab.scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert nab.scaled_sigmoid(3.0) == -1.0
    assert nab.probationary_length(1000) == 150 and nab.probationary_length(10000) == 750


def test_hand_made_windows():
    n, wins = 1000, [(500, 599)]
    sweep, wid = nab.sweep_scores(n, wins, STANDARD)
    assert np.all(wid[:150] == nab.PROBATIONARY) and np.all(wid[500:600] == 0) and wid[600] == -1
    assert sweep[500] == pytest.approx(1.0)                             # earliest: full reward
    assert sweep[599] == pytest.approx((2 / (1 + math.exp(-0.05)) - 1) / 0.986614, rel=1e-4)  # last row
    assert sweep[200] == pytest.approx(-0.11)                           # FP before any window
    assert sweep[600] == pytest.approx(0.11 * (2 / (1 + math.exp(5 / 99)) - 1))
    assert sweep[698] == pytest.approx(-0.11 * 0.98661, rel=1e-4)       # one width past the end
    assert sweep[999] == -0.11                                          # >= 3 widths: full cost

    def score(det_rows, threshold=0.5):
        a = np.zeros(n)
        a[list(det_rows)] = 1.0
        return nab.score_at_threshold(a, sweep, wid, 1.0, threshold)[0]

    assert score([]) == -1.0                                            # missed window
    assert score([500]) == pytest.approx(1.0)
    assert score([500, 550, 599]) == pytest.approx(1.0)                 # only the first counts
    assert score([550]) == pytest.approx(float(nab.scaled_sigmoid(-0.5)) / 0.986614, rel=1e-6)
    assert score([300, 500]) == pytest.approx(1.0 - 0.11)
    assert score([100, 500]) == pytest.approx(1.0)                      # probationary row ignored
    _, counts = nab.score_at_threshold(np.r_[np.zeros(500), np.ones(500)], sweep, wid, 1.0, 0.5)
    assert counts == {"tp": 100, "fp": 400, "fn": 0, "tn": 350}


def test_vectorised_scoring_matches_a_row_by_row_reference():
    rng = np.random.default_rng(0)
    n, wins = 3000, [(800, 899), (1500, 1649), (2600, 2699)]
    for cost in load_nab_profiles().values():
        sweep, wid = nab.sweep_scores(n, wins, cost)
        a = rng.random(n) ** 8
        a[[820, 1700, 2000]] = [0.95, 0.97, 0.9]
        thresholds, scores = nab.threshold_curve(a, sweep, wid, cost["fnWeight"])
        assert thresholds[0] == 1.1 and scores[0] == -cost["fnWeight"] * 3
        for t in (0.999, 0.96, 0.93, 0.5, 0.05):
            ours = nab.score_at_threshold(a, sweep, wid, cost["fnWeight"], t)[0]
            assert ours == pytest.approx(reference_score(a, wins, cost, t), abs=1e-9)
        for t, s in list(zip(thresholds, scores))[1:40]:
            assert s == pytest.approx(reference_score(a, wins, cost, t), abs=1e-9)


def test_threshold_optimisation_picks_the_best_threshold():
    n = 1000
    a = np.zeros(n)
    a[500], a[300], a[700] = 0.9, 0.8, 0.95                 # FPs around a true detection
    ts = minutes(n)
    windows = {"cat/x.csv": [(ts[500], ts[599])]}
    out = nab.score_corpus({"cat/x.csv": (ts, a)}, windows, {"standard": STANDARD})["standard"]
    # thresholds 0.95 (FP only), 0.9 (FP + TP) and 0.8 (two FPs + TP): best is 0.9
    assert out["threshold"] == 0.9
    past = 0.11 * float(nab.scaled_sigmoid(101 / 99))
    assert out["raw"] == pytest.approx(1.0 + past)
    assert out["null"] == -1.0 and out["perfect"] == 1.0


def test_perfect_and_null_detectors_on_real_files():
    windows, profiles = load_nab_windows(), load_nab_profiles()
    files = ["realKnownCause/nyc_taxi.csv", "artificialWithAnomaly/art_daily_jumpsup.csv",
             "artificialNoAnomaly/art_daily_no_noise.csv"]
    perfect, null, flat = {}, {}, {}
    for rel in files:
        ts, values = load_nab_series(rel)
        idx = nab.window_indices(ts, windows[rel])
        p = np.zeros(len(ts))
        p[[s for s, _ in idx]] = 1.0                         # alarm at the first row of each window
        perfect[rel], null[rel], flat[rel] = (ts, p), (ts, np.full(len(ts), 0.5)), (ts, np.zeros(len(ts)))
    for results, expected in ((perfect, 100.0), (null, 0.0), (flat, 0.0)):
        out = nab.score_corpus(results, windows, profiles)
        for name in profiles:
            assert out[name]["score"] == pytest.approx(expected, abs=1e-9)
    out = nab.score_corpus(perfect, windows, profiles)["standard"]
    n_windows = sum(len(windows[rel]) for rel in files)
    assert n_windows == 6 and out["perfect"] == 6 and out["null"] == -6   # 5 + 1 + 0 windows


def test_labels_and_result_files(tmp_path):
    ts = minutes(20)
    idx = nab.window_indices(ts, [(ts[5], ts[9])])
    assert idx == [(5, 9)]
    labels = nab.labels_from_windows(20, idx)
    assert labels.sum() == 5 and labels[5] == 1 and labels[10] == 0
    path = nab.write_nab_result(str(tmp_path), "neurosimHTM", "cat/series.csv", ts, np.arange(20.0),
                                np.linspace(0, 1, 20), labels)
    lines = open(path).read().splitlines()
    assert path.endswith("neurosimHTM/cat/neurosimHTM_series.csv")
    assert lines[0] == "timestamp,value,anomaly_score,label" and lines[1].startswith("2020-01-01 00:00:00,0.0,0.0,0")
    with pytest.raises(ValueError):
        nab.window_indices(ts, [(ts[5], ts[5] + np.timedelta64(30, "s"))])


def test_anomaly_likelihood():
    al = nab.AnomalyLikelihood(learningPeriod=100, estimationSamples=100, reestimationPeriod=50)
    rng = np.random.default_rng(1)
    values = rng.normal(size=600)
    out = [al.anomalyProbability(values[i], 0.1 * rng.random(), i) for i in range(400)]
    assert all(x == 0.5 for x in out[:200]) and max(out[200:]) < 0.99
    spike = [al.anomalyProbability(values[400 + i], 1.0, 400 + i) for i in range(3)]
    assert spike[0] > 0.99999                                # red alert ...
    assert spike[1:] == [0.999, 0.999]                       # ... then softened while it stays red
    logs = [al.computeLogLikelihood(x) for x in (0.5, 0.999, 0.99999)]
    assert logs[0] == pytest.approx(math.log(0.5) / math.log(1e-10), rel=1e-6)
    assert logs[2] == pytest.approx(0.5, abs=1e-4) and logs[0] < logs[1] < logs[2]
    # a red value right after a red value is softened to 1 - 1e-3
    al2 = nab.AnomalyLikelihood(learningPeriod=10, estimationSamples=50, reestimationPeriod=1000)
    for _ in range(60):
        al2.anomalyProbability(rng.normal(), 0.0)
    reds = [al2.anomalyProbability(rng.normal(), 1.0) for _ in range(12)]
    softened = [r for r in reds if abs(r - 0.999) < 1e-12]
    assert len(softened) >= 5 and max(reds) > 0.99999
    # a flat metric never raises the likelihood
    flat = nab.AnomalyLikelihood(learningPeriod=10, estimationSamples=50)
    res = [flat.anomalyProbability(5.0, 1.0 if i == 80 else 0.0) for i in range(100)]
    assert max(res) < 0.6


def test_anomaly_likelihood_tail_versions():
    """NuPIC 0.5.6 (NAB's published ``numenta`` results): the tail is P(sample > x), so a raw
    score below the mean is not unusual; NuPIC >= 0.6.0 uses the two-sided tail.  With an all-zero
    history the Gaussian is clamped to mean 0.03, variance 0.0003, so a raw score of 0 gives
    likelihood Q(sqrt(3)) = 0.04163 (log score 0.00185, as NAB's result files show for such rows,
    e.g. ``numenta_rds_cpu_utilization_e47b3b.csv`` row 604) or 1 - Q(sqrt(3)) two-sided."""
    rng = np.random.default_rng(3)
    for two_sided, expected in ((False, 0.041631), (True, 1 - 0.041631)):      # erfc(z / 1.4142) kept
        al = nab.AnomalyLikelihood(learningPeriod=10, estimationSamples=10, two_sided=two_sided)
        out = [al.anomalyProbability(rng.normal(), 0.0) for _ in range(21)]
        assert out[:20] == [0.5] * 20
        assert out[20] == pytest.approx(expected, abs=1e-6)
    al = nab.AnomalyLikelihood(learningPeriod=10, estimationSamples=10, two_sided=False)
    for _ in range(20):
        al.anomalyProbability(rng.normal(), 0.0)
    assert nab.AnomalyLikelihood.computeLogLikelihood(al.anomalyProbability(0.0, 0.0)) == pytest.approx(0.00185, abs=1e-5)
    # a flat metric gets NuPIC's null distribution (mean 0.5, stdev 1000): likelihood ~0.5
    flat = nab.AnomalyLikelihood(learningPeriod=10, estimationSamples=10, two_sided=False)
    res = [flat.anomalyProbability(5.0, 1.0) for _ in range(21)]
    assert res[20] == pytest.approx(0.5 + 0.5 / 1e3 / math.sqrt(2 * math.pi), abs=1e-6)
