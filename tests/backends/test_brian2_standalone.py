"""brian2 backend on Brian2's cpp_standalone device: same results as the runtime device,
one run() per compile, and the compiled project reused after reset()."""
import glob
import os

import numpy as np
import pytest

import neurosim as ns
from neurosim.errors import UnsupportedFeatureError

pytestmark = [pytest.mark.brian2, pytest.mark.slow]


def network():
    net = ns.Network(dt=0.1, seed=3)
    src = net.add(ns.Population(4, ns.SpikeSourceArray(spike_times=[[10.0, 30.0], [12.5], [31.0], [55.0]]),
                                label="src"))
    noise = net.add(ns.Population(5, ns.SpikeSourcePoisson(rate=40.0), label="noise"))
    pop = net.add(ns.Population(3, ns.IF_curr_exp(cm=0.25, tau_m=10.0, v_thresh=-55.0, tau_refrac=2.0),
                                label="lif"))
    pop.record(["spikes", "v"], sampling_interval=0.2)
    noise.record("spikes")
    ns.DCSource(amplitude=0.45, start=20.0, stop=60.0).inject_into(pop[1:])
    net.add(ns.Projection(src, pop, ns.AllToAllConnector(), ns.StaticSynapse(
        weight=ns.RandomDistribution("uniform", low=0.5, high=1.0), delay=ns.RandomDistribution(
            "uniform", low=0.5, high=3.0))))
    net.add(ns.Projection(noise, pop, ns.AllToAllConnector(), ns.StaticSynapse(weight=0.05, delay=1.0)))
    stdp = ns.STDPMechanism(ns.SpikePairRule(A_plus=0.05, A_minus=0.05), ns.AdditiveWeightDependence(0.0, 1.0),
                            weight=0.3, delay=2.0, dendritic_delay_fraction=0.5)
    net.add(ns.Projection(noise, pop, ns.AllToAllConnector(), stdp, label="stdp")).record("weight", 10.0)
    return net


def test_cpp_standalone_matches_runtime_and_reuses_its_build():
    runtime = ns.compile(network(), backend="brian2")
    runtime.set("lif", v=[-60.0, -58.0, -62.0])
    ref = runtime.run(80.0)

    sim = ns.compile(network(), backend="brian2", device="cpp_standalone", quiet=True)
    sim.set("lif", v=[-60.0, -58.0, -62.0])
    assert np.allclose(sim.get("lif", "v"), [-60.0, -58.0, -62.0])
    got = sim.run(80.0)
    assert sim.t == pytest.approx(80.0)
    t_ref, i_ref = ref.spikes("lif")
    t_got, i_got = got.spikes("lif")
    assert len(t_ref) > 3
    assert np.array_equal(t_ref, t_got) and np.array_equal(i_ref, i_got)
    a, b = ref.trace("lif", "v"), got.trace("lif", "v")
    assert np.array_equal(a.times, b.times) and np.max(np.abs(a.values - b.values)) < 1e-9
    assert len(got.spikes("noise")[0]) > 0
    assert np.allclose(sim.get("lif", "v"), runtime.get("lif", "v"))
    # plastic synapses (on_post through the dendritic delay) and their recorded weights
    w_ref, w_got = runtime.get_weights("stdp", format="list"), sim.get_weights("stdp", format="list")
    assert np.max(np.abs(w_ref[:, 2] - 0.3)) > 1e-3 and np.allclose(w_got, w_ref, rtol=1e-12, atol=1e-15)
    (t1, r1), (t2, r2) = ref.weights("stdp"), got.weights("stdp")
    assert np.array_equal(t1, np.arange(10.0, 80.1, 10.0)) and np.array_equal(t1, t2)
    assert np.allclose(r1, r2, rtol=1e-12, atol=1e-15)

    # one run per compile: a second run() or set() is refused with the way out
    with pytest.raises(UnsupportedFeatureError, match="reset"):
        sim.run(10.0)
    with pytest.raises(UnsupportedFeatureError, match="reset"):
        sim.set("lif", v=-65.0)

    # reset() and run again: the same project, and make recompiles only main.cpp
    objects = {f: os.path.getmtime(f) for f in glob.glob(os.path.join(sim.build_dir, "**", "*.o"),
                                                         recursive=True)}
    sim.reset()
    sim.set("lif", v=[-60.0, -58.0, -62.0])
    again = sim.run(80.0)
    assert np.array_equal(again.spikes("lif")[0], t_got)
    rebuilt = [os.path.basename(f) for f, mtime in objects.items()
               if os.path.exists(f) and os.path.getmtime(f) != mtime]
    assert set(rebuilt) <= {"main.o"}, rebuilt
