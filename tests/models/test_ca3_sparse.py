"""Sparse distributed CA3 (Willshaw net): clipped Hebbian learning, spiking recall, capacity."""
import json

import numpy as np
import pytest

from neurosim.models import ca3_sparse as S


def test_measured_p1_matches_the_formulas():
    # N = 400, K = 10, M = 100: 159,600 possible synapses i != j
    n, k, m = 400, 10, 100
    cam = S.SparseCA3(n, k)
    p1 = cam.store(S.random_patterns(n, k, m, seed=4))
    assert p1 == cam.n_synapses / (n * (n - 1))
    assert abs(p1 / S.exact_p1(n, k, m) - 1) < 0.03          # i != j expectation: within 3 %
    assert abs(p1 / S.willshaw_p1(n, k, m) - 1) < 0.15       # K^2/N^2 counts i = j too: ~10 % high
    assert S.willshaw_p1(n, k, m) == pytest.approx(1 - (1 - (k / n) ** 2) ** m)


def test_clipped_hebbian_rule():
    pre, post = S.clipped_hebbian([[0, 1, 2], [2, 3, 4]], 6)
    pairs = set(zip(pre.tolist(), post.tolist()))
    assert pairs == {(i, j) for p in ([0, 1, 2], [2, 3, 4]) for i in p for j in p if i != j}
    assert len(pre) == 12                                      # 2 x 3 x 2, clipped: no duplicates


def test_threshold_is_the_number_of_firing_units():
    # unit 8 gets synapses from all 4 cue units, unit 9 from 3 of them: only 8 is recalled
    cam = S.SparseCA3(20, 5)
    cam.store([[0, 1, 2, 3, 8], [0, 1, 2, 9, 10]])
    recalled, results = cam.recall([[0, 1, 2, 3], [0, 1, 2], [0, 1, 2, 3, 11]])
    assert recalled[0] == {0, 1, 2, 3, 8}
    assert recalled[1] == {0, 1, 2, 3, 8, 9, 10}               # the cue fits both patterns
    assert recalled[2] == {0, 1, 2, 3, 11}                     # a wrong unit: threshold 5 not reached
    tolerant = S.SparseCA3(20, 5, tolerance=1)
    tolerant.store(cam.patterns)
    assert tolerant.recall([[0, 1, 2, 3, 11]])[0][0] == {0, 1, 2, 3, 8, 11}
    times, _ = results.spikes("CA3")
    assert set(times[times < 26].tolist()) == {2.0, 4.0}      # cue wave, completion wave, gate


def test_half_cue_recall_is_perfect_at_low_load_and_degrades_past_capacity():
    from neurosim.experiments.ca3_capacity import capacity_from_rows, measure
    n, k = 400, 12
    pred = S.predicted_capacity(n, k, k // 2)
    rows = measure(n, k, [pred // 4, 2 * pred, 3 * pred], n_recalls=40)
    low, high, higher = rows
    assert low["perfect_fraction"] == 1.0 and low["spurious_mean"] == 0.0
    assert all(r["missing_mean"] == 0 for r in rows)            # a subset cue never loses a unit
    assert high["perfect_fraction"] < 0.6 and higher["perfect_fraction"] < 0.2
    assert higher["spurious_mean"] > high["spurious_mean"] > 0
    # spurious units follow (N - K) p1^c within a factor of 2 where there are enough of them
    assert 0.5 < higher["spurious_mean"] / higher["spurious_willshaw"] < 2
    assert pred // 4 <= capacity_from_rows(rows) < 2 * pred


def test_capacity_from_rows_interpolates():
    from neurosim.experiments.ca3_capacity import capacity_from_rows
    rows = [dict(m=100, perfect_fraction=1.0), dict(m=200, perfect_fraction=0.8)]
    assert capacity_from_rows(rows) == pytest.approx(150.0)
    assert capacity_from_rows([dict(m=10, perfect_fraction=0.5)]) is None
    assert capacity_from_rows([dict(m=10, perfect_fraction=0.95)]) == 10.0


def test_experiment_quick_mode(tmp_path):
    from neurosim.experiments import get_experiment
    metrics = get_experiment("ca3-capacity").run(str(tmp_path), quick=True)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert [e["n"] for e in saved["sizes"]] == [300, 600]
    for entry in metrics["sizes"]:
        assert entry["p1_max_relative_error_exact"] < 0.03
        assert entry["missing_total"] == 0
        assert 0.5 < entry["capacity_ratio"] < 1.5
    assert (tmp_path / "capacity.png").stat().st_size > 10000


def test_patterns_and_cues():
    p = S.random_patterns(50, 5, 30, seed=2)
    assert p.shape == (30, 5) and all(len(set(row)) == 5 for row in p.tolist())
    assert np.array_equal(p, S.random_patterns(50, 5, 30, seed=2))
    cam = S.SparseCA3(50, 5)
    cam.store(p)
    cue = cam.make_cue(3, 0.6, n_wrong=2, seed=1)
    assert len(cue) == 5 and len(set(cue) & set(p[3].tolist())) == 3


@pytest.mark.parametrize("call", [
    lambda: S.SparseCA3(1, 1), lambda: S.SparseCA3(10, 11), lambda: S.SparseCA3(10, 3, w_exc=25.0),
    lambda: S.SparseCA3(10, 3, tolerance=-1), lambda: S.SparseCA3(10, 3, recall_interval_ms=5.0),
    lambda: S.SparseCA3(10, 3).store([[0, 0, 1]]), lambda: S.SparseCA3(10, 3).make_cue(0),
    lambda: S.SparseCA3(10, 3).build([[10]]), lambda: S.random_patterns(10, 3, -1)])
def test_bad_arguments_are_refused(call):
    with pytest.raises(ValueError):
        call()
