"""sPyNNaker's synaptic-row limit: at most 256 static synapses from one presynaptic neuron onto
one core of the postsynaptic population.  neurosim refuses longer rows at compile; the limit
and the way synapses are counted (per presynaptic neuron and post core, multapses included)
are checked against sPyNNaker itself on the virtual board."""
import warnings

import numpy as np
import pytest

import neurosim as ns
from neurosim.backends.pynn import spinnaker as spinnaker_backend
from neurosim.errors import UnsupportedFeatureError

pytestmark = pytest.mark.pynn


def row_network(n_synapses, n_post=300):
    """Presynaptic neuron 0 makes ``n_synapses`` synapses onto the first 256 post neurons (the
    first core), cycling through them (multapses once there are more than 256)."""
    net = ns.Network(dt=1.0, seed=1)
    src = net.add(ns.Population(2, ns.SpikeSourceArray(spike_times=[5.0]), label="src"))
    post = net.add(ns.Population(n_post, ns.IF_curr_exp(), label="post"))
    conns = [(0, k % 256, 0.1, 1.0) for k in range(n_synapses)] + [(1, 299, 0.1, 1.0)]
    net.add(ns.Projection(src, post, ns.FromListConnector(conns), label="src->post"))
    return net


def map_on_virtual_board(net, **options):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "spinnaker: virtual board", RuntimeWarning)
        with ns.compile(net, backend="spinnaker", virtual_board=True, keep_run_dir=False, **options) as sim:
            sim.run(10.0)
            return sim.info["cores"]


def test_a_row_of_256_synapses_maps():
    cores = map_on_virtual_board(row_network(256))
    assert cores["populations"]["post"] >= 2


def test_a_row_of_257_synapses_is_refused_before_spynnaker_with_the_way_out():
    with pytest.raises(UnsupportedFeatureError, match=r"257 synapses from one presynaptic neuron onto one core "
                       r"of 'post' \(256 neurons per core.*Projection 'src->post'.*at most 256 per row; lower "
                       r"neurons_per_core for 'post' \(about \d+ fits\)"):
        ns.compile(row_network(257), backend="spinnaker", virtual_board=True, keep_run_dir=False)
    # the way out works: 128 neurons per core split the row in two
    assert map_on_virtual_board(row_network(257), neurons_per_core=128)["populations"]["post"] >= 3


def test_spynnaker_itself_refuses_the_row_neurosim_refuses(monkeypatch):
    """Without neurosim's check sPyNNaker fails while mapping, translated to the same error type."""
    monkeypatch.setattr(spinnaker_backend, "_check_row_lengths", lambda built, options: None)
    with pytest.raises(UnsupportedFeatureError, match=r"synaptic row longer than sPyNNaker allows.*\(257\)"):
        map_on_virtual_board(row_network(257))


def test_plastic_rows_are_left_to_spynnaker_and_its_error_is_translated():
    net = ns.Network(dt=1.0, seed=1)
    src = net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=[5.0]), label="src"))
    post = net.add(ns.Population(256, ns.IF_curr_exp(), label="post"))
    stdp = ns.STDPMechanism(ns.SpikePairRule(), ns.AdditiveWeightDependence(0.0, 1.0), weight=0.1, delay=1.0)
    conns = np.array([(0, k % 256) for k in range(600)], dtype=float)
    net.add(ns.Projection(src, post, ns.FromListConnector(conns), stdp, label="plastic"))
    with pytest.raises(UnsupportedFeatureError, match=r"synaptic row longer than sPyNNaker allows"):
        map_on_virtual_board(net)
