"""Song, Miller & Abbott 2000 on numba against the same experiment written directly in Brian2."""
import json

import numpy as np
import pytest

from neurosim.experiments import get_experiment
from neurosim.experiments.stdp_song2000 import BRIAN2_EXAMPLE_AS_WRITTEN, bimodality, run_brian2, run_neurosim

DURATION_MS = 20000.0


@pytest.fixture(scope="module")
def both():
    return run_neurosim(DURATION_MS, seed=3), run_brian2(DURATION_MS, seed=3)


def test_weights_move_to_the_bounds(both):
    # initial weights are uniform: 20 % lie within 10 % of a bound; STDP pushes more there
    for out in both:
        assert bimodality(out["weights"])["fraction_bimodal"] > 0.25   # 0.2 +- 0.013 at the start
        assert np.all((out["weights"] >= 0) & (out["weights"] <= 1 + 1e-6))


def assert_agree(ours, ref):
    ours_w, ref_w = bimodality(ours["weights"]), bimodality(ref["weights"])
    assert abs(ours_w["fraction_near_gmax"] - ref_w["fraction_near_gmax"]) < 0.1
    assert abs(ours_w["fraction_near_0"] - ref_w["fraction_near_0"]) < 0.1
    assert abs(ours["rate_hz"] - ref["rate_hz"]) < 0.25 * ref["rate_hz"]


def test_numba_agrees_with_brian2(both):
    assert_agree(*both)


def test_example_as_written_agrees_with_brian2():
    # Brian2's STDP.py drives the cell with ge * (Ee - vr): a current synapse of 60 mV * g
    ours = run_neurosim(DURATION_MS, seed=3, setup=BRIAN2_EXAMPLE_AS_WRITTEN)
    ref = run_brian2(DURATION_MS, seed=3, as_written=True)
    assert bimodality(ours["weights"])["fraction_bimodal"] > 0.25
    assert_agree(ours, ref)


def test_experiment_writes_metrics_and_figures(tmp_path):
    metrics = get_experiment("stdp-song2000").run(str(tmp_path), quick=True)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["fraction_near_gmax"] == metrics["fraction_near_gmax"]
    assert (tmp_path / "weight_histogram.png").stat().st_size > 1000
    assert (tmp_path / "weights_over_time.png").stat().st_size > 1000
    # Song et al.'s own set-up drifts to the bounds too (20 % within 10 % of one at the uniform start)
    song = saved["song_original"]
    assert song["fraction_bimodal"] > 0.3 and 0 < song["output_rate_hz"] < 100
    as_written = saved["brian2_example_as_written"]
    assert as_written["fraction_bimodal"] > 0.25 and 0 < as_written["output_rate_hz"] < 100
