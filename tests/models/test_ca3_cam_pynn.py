"""CA3 content-addressable memory on the PyNN backends: the "pynn-phased" flavour.

pynn-brian2 must decode the same answers as numba's reference flavour for both SpiNNaker
traces (it reproduces every spike, phases taken off).  NEST takes STDP with dendritic delays
only, which cannot forget in this circuit (see neurosim.models.ca3_cam); the test pins that
NEST and numba agree spike for spike on the network NEST can run, and its measured answers.
Nothing here is skipped: a backend that cannot be imported fails.
"""
import os

import pytest

from neurosim.experiments.ca3_cam import TRACES, trace_dir
from neurosim.models import ca3_cam as M

pytestmark = pytest.mark.pynn


def _trace(name):
    ref, sim_time = M.load_reference(os.path.join(trace_dir(), TRACES[name]))
    return ref, sim_time, M.ops_from_spike_input(ref["INcue"], ref["INcont"])


def _run(name, backend, neuron="pynn-phased", **kw):
    ref, sim_time, ops = _trace(name)
    cam = M.CA3CAM(len(ref["INcue"]), len(ref["INcont"]), neuron=neuron, **kw)
    results = cam.run_spike_input(ref["INcue"], ref["INcont"], sim_time, backend=backend)
    trains = cam.spike_trains(results)
    return trains, [a["answer"] for a in cam.decode(trains, ops)]


@pytest.fixture(scope="module")
def reference_answers():
    """Answers per operation of numba's reference ("spinnaker") flavour."""
    return {name: _run(name, "numba", neuron="spinnaker")[1] for name in TRACES}


@pytest.fixture(scope="module")
def brian2_numpy_target():
    # pyNN.brian2 names its objects by a process-wide counter, so every network is new Cython
    # code (minutes on 2 cores); numpy code generation runs both traces in ~20 s
    import brian2
    previous = brian2.prefs.codegen.target
    brian2.prefs.codegen.target = "numpy"
    yield
    brian2.prefs.codegen.target = previous


@pytest.mark.parametrize("name", list(TRACES))
def test_pynn_brian2_gives_numbas_answers_and_the_reference_spikes(name, reference_answers, brian2_numpy_target):
    trains, answers = _run(name, "pynn-brian2")
    assert answers == reference_answers[name]
    ref, _, _ = _trace(name)
    assert M.compare_spikes(trains, ref) == {label: 0 for label in M.POPULATIONS}


@pytest.mark.nest
@pytest.mark.parametrize("name, correct", [("trace1", 4), ("trace2", 29)])
def test_nest_dendritic_stdp_equals_numba_but_cannot_forget(name, correct, reference_answers):
    # pyNN.nest: dendritic_delay_fraction = 1 only; numba runs the same network
    nest_trains, nest_answers = _run(name, "nest")
    numba_trains, numba_answers = _run(name, "numba", dendritic_delay_fraction=1.0)
    assert nest_trains == numba_trains and nest_answers == numba_answers
    assert sum(a == r for a, r in zip(nest_answers, reference_answers[name])) == correct
