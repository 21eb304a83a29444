"""The reduced astrocyte (IF_curr_exp only) maps on SpiNNaker's virtual board; the full
equation-defined astrocyte is refused by the PyNN backends with a clear error."""
import warnings

import numpy as np
import pytest

import neurosim as ns
from neurosim.errors import UnsupportedFeatureError
from neurosim.models.astrocyte import astrocyte, pulse_response, reduced_astrocyte


def _network(cell):
    net = ns.Network(dt=1.0, seed=1)
    src = net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=np.arange(2000.0, 10000.0, 2000.0)),
                                label="synapse"))
    astro = net.add(ns.Population(4, cell, label="astrocytes"))
    receptor = "glutamate" if isinstance(cell, ns.NeuronModel) and "glutamate" in cell.receptors else "excitatory"
    net.add(ns.Projection(src, astro, ns.AllToAllConnector(), ns.StaticSynapse(weight=0.5, delay=1.0),
                          receptor_type=receptor))
    return net


def test_reduced_response_is_the_closed_form():
    """numba's IF_curr_exp response to one pulse = the difference of exponentials used by the fit."""
    net = ns.Network(dt=1.0, seed=1)
    src = net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=[10.0]), label="src"))
    astro = net.add(ns.Population(1, reduced_astrocyte(0.002, 800.0, 1000.0, c_theta=5.0), label="a"))
    astro.record("v")
    net.add(ns.Projection(src, astro, ns.AllToAllConnector(), ns.StaticSynapse(weight=0.002, delay=1.0)))
    trace = ns.compile(net, numerics="float64").run(5000.0).trace("a", "v")
    expected = pulse_response(trace.times - 11.0, 0.002, 800.0, 1000.0)
    assert np.max(np.abs(trace.values[:, 0] - expected)) < 1e-3 * expected.max()


def test_reduced_astrocyte_maps_on_the_spinnaker_virtual_board(tmp_path):
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        with ns.compile(_network(reduced_astrocyte(0.0006, 800.0, 1000.0, 0.2)), backend="spinnaker",
                        virtual_board=True, run_dir=str(tmp_path)) as sim:
            sim.run(100.0)
            cores = sim.info["cores"]
    assert cores["populations"]["astrocytes"] == 1 and cores["chips"] >= 1
    assert (tmp_path / "spynnaker.cfg").exists()


@pytest.mark.parametrize("backend", ["nest", "spinnaker"])
def test_full_astrocyte_is_refused_on_pynn_backends(backend, tmp_path):
    options = {"virtual_board": True, "run_dir": str(tmp_path)} if backend == "spinnaker" else {}
    with pytest.raises(UnsupportedFeatureError) as info:
        ns.compile(_network(astrocyte()), backend=backend, **options)
    assert info.value.backend == backend and "GChIAstrocyte" in info.value.feature
    assert "numba" in info.value.hint


def test_reduced_astrocyte_runs_the_same_on_nest():
    """What SpiNNaker would run, executed by NEST (PyNN) and by numba: same trace and releases."""
    def build():
        net = _network(reduced_astrocyte(0.00063, 795.0, 1001.0, 0.225, refractory=1276.0))
        net.population("astrocytes").initialize(v=0.225).record(["v", "spikes"])
        return net
    runs = [ns.compile(build(), backend=b, **o).run(10000.0) for b, o in (("numba", {"numerics": "float64"}),
                                                                        ("nest", {}))]
    v = [r.trace("astrocytes", "v").values for r in runs]
    assert len(runs[0].spikes("astrocytes")[0]) >= 4             # releases happen (4 cells x >= 1)
    assert np.array_equal(runs[0].spikes("astrocytes")[0], runs[1].spikes("astrocytes")[0])
    assert np.max(np.abs(v[0] - v[1])) < 1e-6 * np.ptp(v[0])
