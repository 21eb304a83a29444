"""STDP cell assemblies: the measures on hand-made inputs, and the quick experiment
(model and control without E->E plasticity) against the criteria of the issue."""
import json

import numpy as np
import pytest

from neurosim.errors import ValidationError
from neurosim.experiments import get_experiment
from neurosim.models import stdp_assembly as sa


def test_weight_ratio_and_block_means_on_a_hand_made_matrix():
    groups = [np.array([0, 1]), np.array([2, 3])]
    # within: 0->1, 1->0, 2->3 (weights 4, 2, 6: mean 4); between: 0->2, 3->1 (1, 3: mean 2); 4 is unassigned
    pre = np.array([0, 1, 2, 0, 3, 4, 0])
    post = np.array([1, 0, 3, 2, 1, 0, 4])
    w = np.array([4.0, 2.0, 6.0, 1.0, 3.0, 100.0, 100.0])
    assert sa.weight_ratio(pre, post, w, groups, 5) == pytest.approx(2.0)
    blocks = sa.block_means(pre, post, w, groups, 5)
    assert blocks == pytest.approx(np.array([[3.0, 1.0], [3.0, 6.0]]))


def test_subtractive_normalisation_restores_each_sum():
    rows = np.array([[0, 0, 1.0], [1, 0, 3.0], [2, 0, 2.0], [0, 1, 0.5], [2, 1, 0.5]])
    w = sa.normalise(rows, targets=np.array([3.0, 2.0]), w_max=10.0)
    # post 0: sum 6 -> 3, each minus 1; post 1: sum 1 -> 2, each plus 0.5
    assert w == pytest.approx([0.0, 2.0, 1.0, 1.0, 1.0])
    # with w_max = 1.5, 3.0 -> 1.5 and post 0's other synapses take the rest: the sums still match
    clipped = sa.normalise(rows, targets=np.array([3.0, 2.0]), w_max=1.5)
    assert clipped == pytest.approx([0.25, 1.5, 1.25, 1.0, 1.0])


def test_protocol_and_stimulus_follow_the_schedule():
    params = sa.quick_params(rounds=2, stim_rate=500.0)
    protocol = sa.make_protocol(params, seed=4)
    imprint = [w for w in protocol.windows if w[3] == "imprint"]
    cues = [w for w in protocol.windows if w[3] == "cue"]
    assert len(imprint) == 2 * params.n_assemblies and len(cues) == params.cue_repeats * params.n_assemblies
    assert all(len(c[2]) == round(0.3 * params.assembly_size) and np.isin(c[2], sa.assemblies(params)[c[4]]).all()
               for c in cues)
    trains = sa.stimulus_trains(params, protocol, seed=4)
    t0, t1, cells, _, _ = imprint[0]
    counts = [np.count_nonzero((trains[i] > t0) & (trains[i] <= t1)) for i in cells]
    expected = 500.0 * (t1 - t0) / 1000.0      # Poisson: mean 100 spikes, sd 10
    assert abs(np.mean(counts) - expected) < 4 * np.sqrt(expected / len(cells))
    unassigned = np.arange(params.n_assemblies * params.assembly_size, params.n_exc)
    assert all(len(trains[i]) == 0 for i in unassigned)


def test_bad_parameters_are_refused():
    with pytest.raises(ValidationError, match="do not fit in n_exc"):
        sa.assemblies(sa.AssemblyParams(n_exc=100, n_assemblies=3, assembly_size=40))
    with pytest.raises(ValidationError, match=r"AssemblyParams.n_assemblies: must be an integer >= 1 \(got 0\)"):
        sa.AssemblyParams(n_assemblies=0)
    with pytest.raises(ValidationError, match=r"AssemblyParams.cue_fraction: must be in \(0, 1\] \(got 1.5\)"):
        sa.AssemblyParams(cue_fraction=1.5)
    with pytest.raises(ValidationError, match=r"AssemblyParams.w_ee: must be a finite number >= 0 \(got -1.0\)"):
        sa.AssemblyParams(w_ee=-1.0)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    out = tmp_path_factory.mktemp("stdp-assemblies")
    return get_experiment("stdp-assemblies").run(str(out), quick=True), out


def test_assemblies_form_and_persist(experiment):
    metrics, _ = experiment
    model, control = metrics["model"], metrics["control"]
    assert control["ratio_after_imprint"] == pytest.approx(1.0)        # static synapses do not change
    assert model["ratio_after_imprint"] > 3.0
    assert model["stability"] > 0.7
    # rates stay in a physiological range (no runaway excitation, no silence)
    for phase, rate in model["rates_exc_hz"].items():
        assert 0.5 < rate < 20.0, (phase, rate)


def test_pattern_completion_from_a_30_percent_cue(experiment):
    metrics, _ = experiment
    model, control = metrics["model"], metrics["control"]
    assert model["completion"] > 2 * model["chance"]
    assert model["completion"] > 2 * model["specificity"]
    assert model["completion"] > control["completion"] + 0.1
    # the control recalls no assembly in particular
    assert control["completion"] < 1.5 * control["specificity"]
    assert all(metrics["passed"].values())


def test_experiment_writes_metrics_and_figures(experiment):
    metrics, out = experiment
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["model"]["completion"] == metrics["model"]["completion"]
    for name in ("weight_ratio.png", "weights.png", "recall.png"):
        assert (out / name).stat().st_size > 1000
