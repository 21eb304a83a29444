"""CA3 CAM stress test (quick mode): random learn / recall / forget against a dictionary model."""
import json

import pytest

from neurosim.experiments import get_experiment
from neurosim.experiments.ca3_stress import DictMemory, make_cam, random_operations


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("ca3_stress")
    return get_experiment("ca3-stress").run(str(out), quick=True), out


def test_quick_mode_answers_every_operation_with_the_intended_wiring(quick):
    metrics, out = quick
    no_self = metrics["wirings"]["no_self"]
    assert metrics["cue_size"] == 8 and metrics["content_size"] == 16 and no_self["operations"] == 50
    assert all(n > 0 for n in metrics["kinds_in_sequence"].values())     # every kind is exercised
    assert no_self["accuracy"] == 1.0
    assert no_self["agrees_with_model_expected_answers"]
    assert no_self["spikes_total"] > 0 and no_self["simulate_s"] < 10
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["wirings"]["no_self"]["correct"] == 50
    assert (out / "accuracy.png").stat().st_size > 10000


def test_published_wiring_loses_recall_by_content_past_12_bits(quick):
    # the self-inhibition CueCue i -> CueCont i erases the content -> cue synapses while
    # learning once content_size >= 13 (see experiments/ca3_stress.py); the rest still works
    metrics, out = quick
    published = metrics["wirings"]["as_published"]["accuracy_by_kind"]
    assert published["learn"] == published["forget"] == published["recall_cue"] == 1.0
    assert published["recall_content"] < 0.5
    errors = json.loads((out / "errors.json").read_text())
    assert errors["no_self"] == [] and all(e["kind"] == "recall_content" for e in errors["as_published"])


def test_published_wiring_still_works_at_12_bits():
    from neurosim.experiments.ca3_stress import run_sequence
    ops = random_operations(6, 12, 40, 6, 3, seed=3)
    assert run_sequence(ops, 6, 12, "as_published")["accuracy"] == 1.0


def test_dictionary_model_and_operation_kinds():
    memory = DictMemory()
    assert memory.learn(0, [1, 2]) == "learn" and memory.learn(1, [2, 3]) == "learn"
    assert memory.recall_content([2]) == [0, 1] and memory.recall_content([4]) == []
    assert memory.learn(0, [4]) == "forget"
    assert memory.recall_cue(0) == [4] and memory.recall_content([1]) == [] and memory.recall_cue(5) == []
    ops = random_operations(4, 8, 60, 4, 2, seed=7)
    kinds = {op["kind"] for op in ops}
    assert kinds == {"learn", "forget", "recall_cue", "recall_content"}
    assert ops == random_operations(4, 8, 60, 4, 2, seed=7)


@pytest.mark.parametrize("call", [
    lambda: random_operations(0, 8, 10, 2, 2), lambda: random_operations(4, 8, 10, 9, 2),
    lambda: random_operations(4, 8, 2.5, 2, 2), lambda: make_cam(4, 8, wiring="none")])
def test_bad_arguments_are_refused(call):
    with pytest.raises(ValueError):
        call()
