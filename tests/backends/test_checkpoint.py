"""Checkpoint / restore continues bit-identically (numba)."""
import numpy as np
import pytest

import neurosim as ns
from neurosim.models.benchmark_networks import cuba_network


def with_plasticity_and_poisson():
    net = ns.Network(dt=0.1, seed=7)
    src = net.add(ns.Population(200, ns.SpikeSourcePoisson(rate=20.0), label="src"))
    pop = net.add(ns.Population(50, ns.IF_cond_exp(tau_refrac=2.0), label="pop"))
    pop.record("spikes")
    stdp = ns.STDPMechanism(ns.SpikePairRule(A_plus=0.01, A_minus=0.012), ns.AdditiveWeightDependence(0.0, 0.01),
                            weight=ns.RandomDistribution("uniform", low=0.0, high=0.01), delay=1.5)
    net.add(ns.Projection(src, pop, ns.FixedProbabilityConnector(0.3), stdp, label="plastic"))
    net.add(ns.Projection(pop, pop, ns.FixedProbabilityConnector(0.1),
                          ns.StaticSynapse(weight=0.002, delay=ns.RandomDistribution("uniform", low=0.5, high=3.0))))
    return net


@pytest.mark.parametrize("make", [cuba_network, with_plasticity_and_poisson])
def test_checkpoint_restore_continues_bit_identically(make, tmp_path):
    label = "exc" if make is cuba_network else "pop"
    whole = ns.compile(make())
    whole.run(600.0)
    reference = whole.results.spikes(label)
    first = ns.compile(make())
    first.run(250.0)
    path = first.checkpoint(tmp_path / "state")
    restored = ns.restore(path)
    assert restored.t == pytest.approx(250.0)
    later = restored.run(350.0).spikes(label)
    before = first.results.spikes(label)
    times = np.concatenate([before[0], later[0]])
    ids = np.concatenate([before[1], later[1]])
    assert np.array_equal(times, reference[0]) and np.array_equal(ids, reference[1])
    if make is with_plasticity_and_poisson:
        assert np.array_equal(restored.get_weights("plastic", format="list"), whole.get_weights("plastic", format="list"))


def test_restore_refuses_other_files(tmp_path):
    bad = tmp_path / "x.npz"
    np.savez(bad, a=np.zeros(3))
    with pytest.raises(ns.ValidationError, match="not a neurosim checkpoint"):
        ns.restore(bad)


def test_weights_set_by_the_user_survive_checkpoint_and_reset_restores_the_built_ones(tmp_path):
    net = with_plasticity_and_poisson()
    label = net.projections[1].label
    sim = ns.compile(net)
    built = sim.get_weights(label, format="list")
    sim.set_weights(label, 0.004)
    sim.run(50.0)
    restored = ns.restore(sim.checkpoint(tmp_path / "state"))
    assert np.allclose(restored.get_weights(label, format="list")[:, 2], 0.004)
    sim.reset()   # back to the network's own weights, like every other initial value
    assert np.array_equal(sim.get_weights(label, format="list"), built)
    other = ns.compile(with_plasticity_and_poisson())   # compiled arrays are not shared between simulations
    other.set_weights(label, 0.001)
    assert np.array_equal(sim.get_weights(label, format="list"), built)
