"""Every shipped example on the SpiNNaker virtual board: maps (cores reported) or is refused clearly.

The examples are the networks behind ``neurosim demo`` and ``neurosim run NAME``.  Those built
from standard PyNN cells and synapses must map on a virtual SpiNN-5 board (compile + run finish,
every population gets cores); those built from equation-defined models must be refused before
sPyNNaker is called, with an error that names the model and suggests numba or brian2.  Mapped
elsewhere, in their own tests: the CUBA network at dt = 1 ms (test_pynn.py), the CA3 memory's
"pynn" flavour (test_ca3_cam.py), the STDP assembly halves (test_stdp_assembly_pynn.py) and the
reduced astrocyte (test_astrocyte_reduced.py).
"""
import warnings

import pytest

import neurosim as ns
from neurosim.errors import UnsupportedFeatureError

pytestmark = pytest.mark.pynn


def demo_network():
    from neurosim.cli import DEMO_NEURONS, DEMO_P_CONNECT
    from neurosim.models.benchmark_networks import cuba_network
    return cuba_network(n_neurons=DEMO_NEURONS, p_connect=DEMO_P_CONNECT, seed=1)


def song2000_network():
    from neurosim.experiments.stdp_song2000 import build_network
    return build_network()[0]


def digits_network():
    from neurosim.models import diehl_cook as dc
    params = dc.DigitsParams(n_exc=10, dt=1.0)          # a step sPyNNaker can run
    images = dc.load_digits_split(2, 1)[0][:1]
    return dc.build_network(params, images, seed=1, weights=dc.initial_weights(params, seed=1))


def ca3_capacity_network():
    from neurosim.models.ca3_sparse import SparseCA3, random_patterns
    patterns = random_patterns(200, 10, 5)
    cam = SparseCA3(200, 10)
    cam.store(patterns)
    return cam.build([cam.make_cue(0, 0.5, seed=0)])


def htm_sequences_network():
    from neurosim.models.htm.spiking_temporal_memory import SpikingTemporalMemory
    return SpikingTemporalMemory(columns=32, cellsPerColumn=2, maxSegmentsPerCell=2).network


def astro_single_network():
    from neurosim.experiments.astro_single import build_network
    return build_network(1000.0)


MAPS = {"demo": demo_network, "stdp-song2000": song2000_network}
REFUSED = {"stdp-digits": digits_network, "ca3-capacity": ca3_capacity_network,
           "htm-sequences": htm_sequences_network, "astro-single": astro_single_network}


@pytest.mark.parametrize("name", sorted(MAPS))
def test_example_maps_on_the_virtual_board(name):
    net = MAPS[name]()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ns.compile(net, backend="spinnaker", virtual_board=True, keep_run_dir=False) as sim:
            res = sim.run(10.0)
            cores = sim.info["cores"]
    print(f"{name}: spinnaker virtual board {cores}")
    assert res.duration == 10.0
    assert all(cores["populations"].get(pop.label, 0) >= 1 for pop in net.populations), cores
    assert cores["total"] >= sum(cores["populations"].values()) + cores["system"]
    assert any("virtual board" in str(w.message) for w in caught)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_example_with_equation_defined_models_is_refused(name):
    net = REFUSED[name]()
    with pytest.raises(UnsupportedFeatureError, match=r"backend 'spinnaker' does not support equation-defined "
                       r"(NeuronModel|SynapseModel) .*numba.*brian2"):
        ns.compile(net, backend="spinnaker", virtual_board=True, keep_run_dir=False)
