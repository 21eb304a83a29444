"""Diehl & Cook 2015 on sklearn's digits: the adaptive threshold and the trace rule against
their published equations, label assignment, and the quick experiment against chance and
the untrained network."""
import json

import numpy as np
import pytest

import neurosim as ns
from neurosim.experiments import get_experiment
from neurosim.models import diehl_cook as dc


def _one_neuron(params, pre_times, kick_times, w0):
    net = ns.Network(dt=params.dt, seed=3)
    pre = net.add(ns.Population(1, ns.SpikeSourceArray(pre_times), label="pre"))
    kick = net.add(ns.Population(1, ns.SpikeSourceArray(kick_times), label="kick"))
    exc = net.add(ns.Population(1, dc.excitatory_model(params.theta_plus), label="exc"))
    exc.record("spikes")
    net.add(ns.Projection(pre, exc, ns.AllToAllConnector(), dc.stdp_synapse(params, w0), label="syn"))
    net.add(ns.Projection(kick, exc, ns.AllToAllConnector(), ns.StaticSynapse(weight=50.0, delay=params.dt),
                          label="kick"))
    return net


def test_adaptive_threshold_and_trace_rule_follow_the_paper():
    params = dc.DigitsParams(nu_pre=0.02)        # a visible depression step
    pre_times = [20.0, 60.0, 130.0, 200.0]
    kick_times = [30.0, 40.0, 75.0, 150.0, 160.0]
    w0 = 0.5
    sim = ns.compile(_one_neuron(params, pre_times, kick_times, w0), **dc.NUMBA_OPTIONS)
    T = 300.0
    res = sim.run(T)
    post, _ = res.spikes("exc")
    assert len(post) == len(kick_times)          # each kick makes exactly one spike
    # theta (mV): 20 at t = 0, + theta_plus per spike, decaying with tau_theta = 1e7 ms
    tau_th = 1e7
    expected_theta = 20.0 * np.exp(-T / tau_th) + params.theta_plus * np.sum(np.exp(-(T - post) / tau_th))
    assert sim.get("exc", "theta")[0] == pytest.approx(expected_theta, abs=1e-9)
    # the paper's rule, event by event: pre spikes act at arrival (t + delay), post spikes at t_post
    events = sorted([(t + params.delay, "pre") for t in pre_times] + [(t, "post") for t in post])
    w, last = w0, {"pre": -np.inf, "post": -np.inf}
    for t, kind in events:
        pre_tr = np.exp(-(t - last["pre"]) / 20.0)
        post1, post2 = np.exp(-(t - last["post"]) / 20.0), np.exp(-(t - last["post"]) / 40.0)
        if kind == "pre":
            w = min(max(w - params.nu_pre * post1, 0.0), 1.0)
        else:
            w = min(max(w + params.nu_post * pre_tr * post2, 0.0), 1.0)
        last[kind] = t
    got = sim.get_weights("syn", format="list")[0, 2]
    assert got != pytest.approx(w0, abs=1e-4)
    assert got == pytest.approx(w, abs=1e-6)


def test_label_assignment_and_prediction():
    counts = np.array([[5, 0, 1], [4, 1, 0], [0, 6, 0], [1, 0, 7]], dtype=float)
    labels = np.array([0, 0, 1, 2])
    assignments = dc.assign_labels(counts, labels, n_classes=3)
    assert assignments.tolist() == [0, 1, 2]
    test = np.array([[0, 3, 0], [2, 0, 1], [0, 0, 0]], dtype=float)
    assert dc.predict(test, assignments, n_classes=3).tolist() == [1, 0, -1]


def test_normalisation_and_split():
    w = dc.normalised(np.array([[1.0, 2.0], [3.0, 2.0]]), 6.4)
    assert w.sum(axis=0) == pytest.approx([6.4, 6.4])
    x_train, y_train, x_test, y_test = dc.load_digits_split(100, 50)
    assert x_train.shape == (100, 64) and x_test.shape == (50, 64) and x_train.max() <= 16
    with pytest.raises(ns.ValidationError, match="exceeds the 1797 images"):
        dc.load_digits_split(1500, 500)
    with pytest.raises(ns.ValidationError, match=r"DigitsParams.n_exc: must be an integer >= 1 \(got 0\)"):
        dc.DigitsParams(n_exc=0)
    with pytest.raises(ns.ValidationError, match=r"DigitsParams.max_rate_hz: must be a finite number > 0"):
        dc.DigitsParams(max_rate_hz=float("nan"))


def test_quick_experiment_learns_above_chance_and_the_untrained_network(tmp_path):
    metrics = get_experiment("stdp-digits").run(str(tmp_path), quick=True)
    result = metrics["sizes"]["30"]
    assert result["accuracy"] > 0.35                              # chance: 0.10
    assert result["accuracy"] > result["untrained_accuracy"] + 0.1
    assert result["accuracy"] > 2 * result["majority_class"]
    assert json.loads((tmp_path / "metrics.json").read_text())["sizes"]["30"]["accuracy"] == result["accuracy"]
    for name in ("receptive_fields_30.png", "accuracy.png"):
        assert (tmp_path / name).stat().st_size > 1000
