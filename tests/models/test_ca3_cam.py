"""CA3 content-addressable memory: bit-exact against the SpiNNaker traces, and the operation API.

The reference traces live in ../shared/data/ca3_cam (see ../shared/data/README.md).
"""
import json
import os
import random

import pytest

from neurosim.experiments.ca3_cam import TRACES, run, run_trace, trace_dir
from neurosim.models import ca3_cam as M


def trace_path(name):
    return os.path.join(trace_dir(), TRACES[name])


# --------------------------------------------------------------- reference traces
@pytest.mark.parametrize("name, n_ops", [("trace1", 9), ("trace2", 60)])
def test_trace_is_reproduced_spike_for_spike(name, n_ops):
    summary, _, ref = run_trace(trace_path(name))
    assert summary["spike_mismatches"] == {label: 0 for label in M.POPULATIONS}
    assert summary["reference_spikes"] == (322 if name == "trace1" else 1828)
    assert summary["operations_total"] == n_ops
    assert summary["operations_correct"] == n_ops


@pytest.mark.parametrize("name, n_ops", [("trace1", 9), ("trace2", 60)])
def test_trace_is_reproduced_with_numerics_spinnaker(name, n_ops):
    # sPyNNaker's 16-bit weights and ring-buffer scales on top of the spinnaker cell and STDP
    summary, _, _ = run_trace(trace_path(name), numerics="spinnaker")
    assert summary["spike_mismatches"] == {label: 0 for label in M.POPULATIONS}
    assert summary["operations_correct"] == n_ops


def test_traces_do_not_depend_on_the_cue_self_inhibition():
    # the reference traces have 10 content bits, below the 13 where the published i -> i
    # inhibition starts to break recall by content (neurosim run ca3-stress)
    for name in ("trace1", "trace2"):
        ref, sim_time = M.load_reference(trace_path(name))
        cam = M.CA3CAM(len(ref["INcue"]), len(ref["INcont"]), cue_self_inhibition=False)
        results = cam.run_spike_input(ref["INcue"], ref["INcont"], sim_time)
        assert M.compare_spikes(M.spike_trains(results), ref) == {label: 0 for label in M.POPULATIONS}


@pytest.mark.slow
def test_trace_is_reproduced_in_float64():
    summary, _, _ = run_trace(trace_path("trace1"), numerics="float64")
    assert summary["spike_mismatches_total"] == 0


def test_reference_answers_and_inferred_operations():
    ref, sim_time = M.load_reference(trace_path("trace1"))
    assert sim_time == 90.0 and len(ref["INcue"]) == 5 and len(ref["INcont"]) == 10
    ops = M.ops_from_spike_input(ref["INcue"], ref["INcont"])
    # the golden sequence of ../shared/references/models.md section 1
    assert [(o["op"], o["t"], o.get("cue"), o.get("bits")) for o in ops] == [
        ("learn", 0.0, 0, [0, 1, 8, 9]), ("learn", 10.0, 4, [1, 5, 6]), ("learn", 20.0, 3, [4, 5, 6]),
        ("recall_cue", 30.0, 0, None), ("recall_content", 40.0, None, [6]),
        ("recall_content", 50.0, None, [0, 4]), ("learn", 60.0, 3, [1, 3, 4, 8]),
        ("recall_cue", 70.0, 3, None), ("recall_content", 80.0, None, [6])]
    answers = M.decode(ref, ops, 5, 10)
    assert all(a["correct"] for a in answers)
    assert answers[4]["answer"]["cues"] == [3, 4] and answers[8]["answer"]["cues"] == [4]   # 3 forgot bit 6
    ref2, _ = M.load_reference(trace_path("trace2"))
    ops2 = M.ops_from_spike_input(ref2["INcue"], ref2["INcont"])
    answers2 = M.decode(ref2, ops2, 5, 10)
    assert sum(a["op"] != "learn" for a in answers2) == 45 and all(a["correct"] for a in answers2)


def test_full_exponential_stdp_window_does_not_reproduce_the_traces():
    # the fitted 2-entry look-up table matters: with the full tau = 3 ms window the memory
    # keeps spurious associations (25 mismatching spikes, 5/9 operations right, see ca3_cam)
    ref, sim_time = M.load_reference(trace_path("trace1"))
    cam = M.CA3CAM(5, 10, stdp_lut=None)
    results = cam.run_spike_input(ref["INcue"], ref["INcont"], sim_time)
    wrong = sum(M.compare_spikes(M.spike_trains(results), ref).values())
    assert 0 < wrong <= 25
    answers = cam.decode(results, M.ops_from_spike_input(ref["INcue"], ref["INcont"]))
    assert sum(a["correct"] for a in answers) < 9


@pytest.mark.parametrize("name", ["trace1", "trace2"])
def test_phased_pynn_flavour_reproduces_the_traces_on_numba(name):
    # IF_curr_exp + StaticSynapse + STDPMechanism only; spikes compared with the phases taken off
    summary, _, _ = run_trace(trace_path(name), neuron="pynn-phased")
    assert summary["spike_mismatches"] == {label: 0 for label in M.POPULATIONS}
    assert summary["operations_correct"] == summary["operations_total"]


def test_phased_flavour_delays_and_weights():
    # every hop one step shorter plus the phase difference, every delay >= 1 step; weights x k(post)
    cam = M.CA3CAM(3, 4, neuron="pynn-phased")
    net = cam.build([[0]] * 3, [[0]] * 4)
    assert {type(p.celltype).__name__ for p in net.populations} == {"IF_curr_exp", "SpikeSourceArray"}
    assert M.PHASES_MS["OUTcue"] == 9.0 and M.PHASES_MS["OUTcont"] == 8.0
    assert round(M.k_factor(M.SLOW), 4) == 1.084 and round(M.k_factor(M.FAST), 4) == 1.6733
    for proj in net.projections:
        pre, post = proj.pre.label, proj.post.label
        excitatory = lambda w: not isinstance(w, str) and w > 0      # "-6 x m": inhibitory
        d = 1.0 if "STDP" in proj.label else [s[4] for s in M.STATIC if s[:2] == (pre, post)
                                               and excitatory(s[3]) == (proj.receptor_type == "excitatory")][0]
        want = d - 1.0 + M.PHASES_MS[post] - M.PHASES_MS[pre]
        assert proj.synapse_type.delay == want >= 1.0, proj.label
    stdp = cam.projections["cue->cont"].synapse_type
    assert stdp.dendritic_delay_fraction == 0.0
    assert stdp.weight_dependence.parameters["w_max"] == pytest.approx(6.0 * M.k_factor(M.SLOW))
    nest = M.CA3CAM(3, 4, neuron="pynn-phased")
    nest.build([[]] * 3, [[]] * 4, backend="nest")
    assert nest.projections["cont->cue"].synapse_type.dendritic_delay_fraction == 1.0


@pytest.mark.slow
def test_pynn_flavour_mismatch_does_not_exceed_the_reported_counts():
    # PyNN IF_curr_exp + STDPMechanism on numba: one extra step per hop (see ca3_cam docstring)
    for name, bound, ops_bound in (("trace1", 489, 0), ("trace2", 3652, 14)):
        summary, _, _ = run_trace(trace_path(name), neuron="pynn")
        assert summary["spike_mismatches"]["INcue"] == summary["spike_mismatches"]["INcont"] == 0
        assert summary["spike_mismatches_total"] <= bound
        assert summary["operations_correct"] >= ops_bound


# --------------------------------------------------------------- operation API
def test_learn_recall_by_cue_and_by_content_and_forget():
    cam = M.CA3CAM(3, 6)
    cam.learn(0, [0, 1])
    cam.learn(1, [1, 2, 5])
    cam.learn(2, [3])
    for cue in range(3):
        cam.recall_cue(cue)
    cam.recall_content([1])          # cues 0 and 1 share bit 1
    cam.recall_content([3, 4])       # bit 4 is stored nowhere
    cam.learn(0, [2, 4])             # forget {0, 1} under cue 0
    cam.recall_cue(0)
    cam.recall_content([0])          # forgotten everywhere
    cam.recall_content([1])          # now only cue 1
    cam.recall_content([4])
    answers = cam.decode(cam.run())
    assert [a["correct"] for a in answers] == [True] * len(answers)
    got = [a["answer"]["bits"] if a["op"] == "recall_cue" else a["answer"]["cues"]
           for a in answers if a["op"] != "learn"]
    assert got == [[0, 1], [1, 2, 5], [3], [0, 1], [2], [2, 4], [], [1], [0]]


def test_learn_echoes_the_memory_at_t0_plus_5():
    cam = M.CA3CAM(4, 5)
    t0 = cam.learn(2, [1, 3])
    trains = cam.spike_trains(cam.run())
    assert trains["OUTcue"][2] == [t0 + 5, t0 + 7]
    assert [i for i, train in enumerate(trains["OUTcont"]) if train == [t0 + 5, t0 + 7]] == [1, 3]
    assert not trains["OUTcue"][0] and not trains["OUTcont"][0]


def test_random_operation_sequences_are_all_answered():
    rng = random.Random(5)
    cam = M.CA3CAM(4, 8, op_interval_ms=8.0)
    learned = []
    for _ in range(40):
        r = rng.random()
        if r < 0.4 or not learned:
            cue = rng.randrange(4)
            cam.learn(cue, rng.sample(range(8), rng.randint(1, 4)))
            learned.append(cue)
        elif r < 0.7:
            cam.recall_cue(rng.choice(learned))
        else:
            cam.recall_content(rng.sample(range(8), rng.randint(1, 3)))
    answers = cam.decode(cam.run())
    assert sum(a["correct"] for a in answers) == 40


def test_spike_input_of_scheduled_operations():
    cam = M.CA3CAM(2, 3, op_interval_ms=12.0)
    assert cam.learn(1, [2, 0, 2]) == 0.0
    assert cam.recall_cue(1) == 12.0
    assert cam.recall_content([1]) == 24.0
    cue, cont, duration = cam.spike_input()
    assert cue == [[], [0, 1, 2, 12]]
    assert cont == [[0, 1, 2], [24], [0, 1, 2]]
    assert duration == 36.0
    assert cam.ops[0] == {"op": "learn", "t": 0.0, "cue": 1, "bits": [0, 2]}


def test_network_labels_and_recording():
    cam = M.CA3CAM(3, 4)
    net = cam.build([[], [], []], [[], [], [], []])
    assert [p.label for p in net.populations] == list(M.POPULATIONS)
    sizes = {p.label: p.size for p in net.populations}
    assert sizes["CA3contCondInt"] == 1 and sizes["OUTcue"] == 3 and sizes["CA3MergeCont"] == 4
    assert net.dt == 1.0
    assert all("spikes" in p._record for p in net.populations)


@pytest.mark.parametrize("call", [
    lambda: M.CA3CAM(0, 4), lambda: M.CA3CAM(3, 4, neuron="nest"), lambda: M.CA3CAM(3, 4, op_interval_ms=5),
    lambda: M.CA3CAM(3, 4, cue_self_inhibition="no"), lambda: M.CA3CAM(3, 4, dendritic_delay_fraction=0.5),
    lambda: M.CA3CAM(3, 4).learn(3, [0]), lambda: M.CA3CAM(3, 4).learn(0, [4]),
    lambda: M.CA3CAM(3, 4).recall_content([]), lambda: M.CA3CAM(3, 4).recall_cue(-1),
    lambda: M.CA3CAM(3, 4).build([[0.5], [], []], [[]] * 4), lambda: M.CA3CAM(3, 4).build([[]] * 2, [[]] * 4)])
def test_invalid_arguments_are_refused(call):
    with pytest.raises(ValueError):
        call()


# --------------------------------------------------------------- experiment
def test_experiment_writes_metrics_answers_and_rasters(tmp_path):
    metrics = run(str(tmp_path), quick=True)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(metrics))
    assert metrics["operations_correct"] == metrics["operations_total"] == 69
    assert metrics["spike_mismatches_total"] == 0
    assert set(metrics["spike_mismatches_trace2"]) == set(M.POPULATIONS)
    answers = json.loads((tmp_path / "answers.json").read_text())
    assert len(answers["trace1"]) == 9 and len(answers["trace2"]) == 60
    for name in TRACES:
        assert (tmp_path / f"raster_{name}.png").stat().st_size > 10000


@pytest.mark.spinnaker
@pytest.mark.slow
def test_pynn_flavour_of_both_traces_maps_on_the_spinnaker_virtual_board(tmp_path):
    # sPyNNaker runs PyNN's IF_curr_exp + STDPMechanism (the spinnaker flavour is equation-defined);
    # a virtual board maps the network (one core per population) and returns no spikes
    import warnings

    import neurosim as ns
    for name in ("trace1", "trace2"):
        ref, sim_time = M.load_reference(trace_path(name))
        cam = M.CA3CAM(len(ref["INcue"]), len(ref["INcont"]), neuron="pynn")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with ns.compile(cam.build(ref["INcue"], ref["INcont"]), backend="spinnaker", virtual_board=True,
                            run_dir=str(tmp_path / name)) as sim:
                sim.run(sim_time)
                cores, quantisation = sim.info["cores"], sim.info["weight_quantisation"]
        assert cores["populations"] == {label: 1 for label in M.POPULATIONS}
        assert all(q["rounded_to_zero"] == 0 and q["saturated"] == 0 for q in quantisation.values())
        assert not [w for w in caught if "round to 0" in str(w.message)]
