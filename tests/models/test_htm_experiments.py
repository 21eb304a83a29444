"""The htm-nyc-taxi, htm-nab and htm-sequences experiments in quick mode: files, keys and sane
numbers."""
import csv
import json

import pytest

from neurosim.experiments import EXPERIMENTS, get_experiment, list_experiments


def test_registered():
    assert "htm-nyc-taxi" in EXPERIMENTS and "htm-nab" in EXPERIMENTS and "htm-sequences" in EXPERIMENTS
    names = dict(list_experiments())
    assert "NYC taxi" in names["htm-nyc-taxi"] and "NAB" in names["htm-nab"]
    assert "high-order sequence" in names["htm-sequences"]


@pytest.mark.slow
def test_sequences_quick(tmp_path):
    """Cui et al.'s high-order task (one pair of sequences in quick mode) on the spiking
    temporal memory: >= 95 % of the last symbols predicted after learning, a drop when the
    endings are swapped, >= 95 % again after relearning."""
    metrics = get_experiment("htm-sequences").run(str(tmp_path), quick=True)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(metrics))
    assert saved["temporal_memory"] == "spiking" and saved["mismatches"] == 0
    assert saved["accuracy_after_learning"] >= 0.95
    assert saved["accuracy_after_switch"] <= 0.6
    assert saved["accuracy_after_recovery"] >= 0.95
    assert saved["wall_s"] > 0 and saved["sequences"] > 200
    assert (tmp_path / "accuracy.png").stat().st_size > 1000


@pytest.mark.slow
def test_nyc_taxi_quick(tmp_path):
    metrics = get_experiment("htm-nyc-taxi").run(str(tmp_path), quick=True)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["nrmse"] == metrics["nrmse"] and saved["mape"] == metrics["mape"]
    assert saved["n_points"] == 17520 - 10000
    assert saved["shift_nrmse"] == pytest.approx(0.927, abs=1e-3)
    assert saved["nrmse"] < 0.5 and saved["mape"] < 0.15          # far better than the shift baseline
    for fig in ("prediction.png", "nrmse_over_time.png", "comparison.png"):
        assert (tmp_path / fig).stat().st_size > 1000


@pytest.mark.slow
def test_nab_quick(tmp_path):
    metrics = get_experiment("htm-nab").run(str(tmp_path), quick=True)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["standard"] == metrics["standard"]
    for key in ("standard", "reward_low_FP_rate", "reward_low_FN_rate", "wall_s"):
        assert key in saved
    assert 0 < saved["standard"] <= 100 and saved["comparable_to_scoreboard"] is False
    assert saved["n_files"] == 4
    path = tmp_path / "results" / "neurosimHTM" / "realTraffic" / "neurosimHTM_speed_7578.csv"
    with open(path) as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["timestamp", "value", "anomaly_score", "raw_score", "label"] and len(rows) == 1128
    assert all(0.0 <= float(r[2]) <= 1.0 and 0.0 <= float(r[3]) <= 1.0 for r in rows[1:])
    assert {r[4] for r in rows[1:]} == {"0", "1"}
    assert (tmp_path / "scores.png").stat().st_size > 1000 and (tmp_path / "example.png").stat().st_size > 1000
