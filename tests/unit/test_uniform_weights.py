"""A static projection whose synapses all have one weight is delivered without reading the
weight array (numba); what it delivers must not change, and set_weights must switch paths."""
import numpy as np

import neurosim as ns


def network(weight):
    net = ns.Network(dt=0.1, seed=3)
    src = net.add(ns.Population(40, ns.SpikeSourcePoisson(rate=60.0), label="src"))
    post = net.add(ns.Population(30, ns.IF_curr_exp(tau_refrac=2.0), label="post"))
    post.record(["spikes", "v"])
    net.add(ns.Projection(src, post, ns.FixedProbabilityConnector(0.5),
                          ns.StaticSynapse(weight=weight, delay=1.0), label="in"))
    return net


def uses_one_weight(sim):
    name = sim._proj_meta[0]["weights"][:-len("_w")]
    return bool(sim._args[f"{name}_wsame"]), name


def v_and_spikes(sim):
    results = sim.run(200.0)
    return results.trace("post", "v")[1], results.spikes("post")


def assert_same(a, b):
    assert np.array_equal(a[0], b[0])
    assert np.array_equal(a[1][0], b[1][0]) and np.array_equal(a[1][1], b[1][1])
    assert len(a[1][0]) > 20          # the input drives spikes, so the comparison means something


def test_one_weight_for_all_gives_what_reading_each_weight_gives():
    fast = ns.compile(network(0.9))
    one, name = uses_one_weight(fast)
    assert one
    general = ns.compile(network(0.9))
    general._args[f"{name}_wsame"] = np.int64(0)     # force the per-synapse path
    assert_same(v_and_spikes(fast), v_and_spikes(general))


def test_set_weights_switches_between_one_weight_and_per_synapse_weights():
    varied = ns.compile(network(ns.RandomDistribution("uniform", low=0.3, high=1.5)))
    assert not uses_one_weight(varied)[0]
    rows = varied.get_weights("in", format="list")
    sim = ns.compile(network(0.9))
    sim.set_weights("in", rows[:, 2])
    assert not uses_one_weight(sim)[0]
    assert_same(v_and_spikes(sim), v_and_spikes(varied))
    sim.reset()
    sim.set_weights("in", 0.6)
    assert uses_one_weight(sim)[0]
    assert_same(v_and_spikes(sim), v_and_spikes(ns.compile(network(0.6))))


def test_weights_restored_from_a_checkpoint_choose_the_path_too(tmp_path):
    sim = ns.compile(network(0.9))
    sim.set_weights("in", 0.6)
    restored = ns.restore(sim.checkpoint(tmp_path / "state"))
    assert_same(v_and_spikes(restored), v_and_spikes(ns.compile(network(0.6))))
