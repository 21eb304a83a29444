"""The behavioural suite runs on every backend listed here.

A test that takes a ``backend`` argument runs on every backend in BACKENDS whose
CAPABILITIES include what the test declares with ``@pytest.mark.needs(...)``;
the ids show which backends a test ran on.  A backend that is listed but cannot
be imported fails its tests loudly; nothing is skipped silently.  Cases on the
PyNN backends carry the ``pynn`` mark (as tests/backends/test_pynn.py does).

Tests compile through :func:`compile_on`, which maps a suite backend name to ``ns.compile``.
``brian2-standalone`` (Brian2's cpp_standalone device: one C++ build per network, 5-15 s) runs
only the tests marked ``@pytest.mark.standalone``.

``spinnaker`` maps only: there is no board here, so sPyNNaker maps each network on a virtual
SpiNN-5 board (partitioning, placement, routing, keys, SDRAM) and returns no data.  Its
``run()`` checks that every population got cores and then raises :class:`MappedOnSpiNNaker`,
which ends the test as passed (:func:`pytest_pyfunc_call`); the analytic checks after the run
are not reached.  Which tests run on it is decided by CAPABILITIES like for every backend:
a network sPyNNaker cannot express (dt other than 1 or 0.1 ms, reading state with get(), ...)
is declared with ``needs``, and an undeclared refusal fails the test.
"""
import warnings

import pytest

import neurosim as ns

BACKENDS = ["numba", "brian2", "brian2-standalone", "nest", "pynn-brian2", "spinnaker"]
PYNN = {"nest", "pynn-brian2", "spinnaker"}
OPT_IN = {"brian2-standalone": "standalone"}

#: what executing the network gives on every executing backend
EXECUTES = {"fine_dt", "state_access", "current_recording", "EIF_cond_exp_isfa_ista"}
#: what a test may need beyond standard cells, sources, static synapses and recording spikes and v:
#: fine_dt (a step other than 1 or 0.1 ms), state_access (get/set of state variables and weights
#: after compile), current_recording (recording synaptic currents or conductances),
#: EIF_cond_exp_isfa_ista (the AdEx cell, which sPyNNaker lacks)
CAPABILITIES = {
    "numba": EXECUTES | {"equation_defined_models", "delta_input_fires_in_its_step", "pair_stdp_window",
                         "tsodyks_markram"},
    "brian2": EXECUTES | {"equation_defined_models", "delta_input_fires_in_its_step", "pair_stdp_window",
                          "tsodyks_markram"},
    "brian2-standalone": EXECUTES | {"equation_defined_models", "delta_input_fires_in_its_step",
                                     "pair_stdp_window", "tsodyks_markram"},
    # PyNN backends run standard cells only; NEST applies delta input before its threshold
    # test in the same step, pyNN.brian2 one step later.  nest lacks pair_stdp_window (NEST's
    # own conventions, checked in test_plasticity.test_nest_stdp_onto_a_delta_synapse_cell_*):
    # the post spike reaches the synapse one dendritic delay late (Δt shifted by the delay) and
    # potentiation is applied only at the next presynaptic spike
    # (pynn-brian2 lacks tsodyks_markram: pyNN.brian2's recovers with tau_syn; the backend refuses it)
    "nest": EXECUTES | {"delta_input_fires_in_its_step", "tsodyks_markram"},
    "pynn-brian2": EXECUTES | {"pair_stdp_window"},
    # maps only: a test runs here when sPyNNaker can express its network
    "spinnaker": {"pair_stdp_window"},
}


def pytest_configure(config):
    config.addinivalue_line("markers", "needs(*capabilities): backend capabilities the test needs "
                            "(tests/backends/conftest.py CAPABILITIES)")
    config.addinivalue_line("markers", "standalone: the behavioural-suite test also runs on brian2-standalone")


def pytest_generate_tests(metafunc):
    if "backend" not in metafunc.fixturenames or _parametrizes_backend(metafunc):
        return
    needs = set()
    for mark in metafunc.definition.iter_markers("needs"):
        unknown = set(mark.args) - set().union(*CAPABILITIES.values())
        if unknown:
            raise ValueError(f"{metafunc.function.__name__}: unknown capabilities {sorted(unknown)}")
        needs |= set(mark.args)
    opted_in = {mark.name for mark in metafunc.definition.iter_markers()}
    metafunc.parametrize("backend", [pytest.param(b, marks=[pytest.mark.pynn] if b in PYNN else [])
                                     for b in BACKENDS if needs <= CAPABILITIES[b]
                                     and OPT_IN.get(b, "") in opted_in | {""}])


def pytest_collection_modifyitems(config, items):
    """Deselect the cases whose parameters declare ``needs`` their backend lacks, e.g.
    ``pytest.param(0.01, marks=pytest.mark.needs("fine_dt"))`` (the function-level ``needs``
    are applied when the backends are generated)."""
    kept, dropped = [], []
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("backend")
        needs = set().union(*(set(m.args) for m in item.iter_markers("needs")))
        (dropped if backend in CAPABILITIES and not needs <= CAPABILITIES[backend] else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def compile_on(net, backend, **options):
    """``ns.compile`` for a suite backend name (``brian2-standalone``: brian2 on cpp_standalone;
    ``spinnaker``: a virtual board, see :class:`MapOnly`)."""
    if backend == "brian2-standalone":
        return ns.compile(net, backend="brian2", device="cpp_standalone", **options)
    if backend == "spinnaker":
        return MapOnly(net, **options)
    return ns.compile(net, backend=backend, **options)


class MappedOnSpiNNaker(Exception):
    """Raised by :meth:`MapOnly.run` once the network is mapped: the test passes there."""


class MapOnly:
    """A network compiled for the spinnaker backend on a virtual board, in a temporary run
    directory that ``close()`` removes.  ``run(duration)`` maps it (compile and run must finish
    without error), checks that every population has cores and raises :class:`MappedOnSpiNNaker`."""

    def __init__(self, net, **options):
        self.labels = [pop.label for pop in net.populations]
        self.sim = ns.compile(net, backend="spinnaker", virtual_board=True, keep_run_dir=False, **options)

    def run(self, duration):
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "spinnaker: virtual board", RuntimeWarning)
                results = self.sim.run(duration)
            cores = self.sim.info["cores"]
        finally:
            self.sim.close()
        assert results.duration == duration
        missing = [label for label in self.labels if cores["populations"].get(label, 0) < 1]
        assert not missing, f"spinnaker mapped no core for {missing}: {cores}"
        raise MappedOnSpiNNaker(f"mapped on {cores['total']} cores of {cores['chips']} chip(s): {cores}")

    def __getattr__(self, name):
        self.sim.close()
        raise AttributeError(f"spinnaker in the behavioural suite maps only (MapOnly has no '{name}'); "
                             "declare what the test needs with @pytest.mark.needs")


@pytest.hookimpl(hookwrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """A spinnaker case that reached :class:`MappedOnSpiNNaker` passes (maps only)."""
    outcome = yield
    error = outcome.excinfo[1] if outcome.excinfo else None
    if isinstance(error, MappedOnSpiNNaker):
        pyfuncitem.user_properties.append(("spinnaker", str(error)))
        outcome.force_result(True)


def _parametrizes_backend(metafunc):
    """True when the test parametrizes ``backend`` itself (e.g. test_pynn.py)."""
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        if "backend" in names:
            return True
    return False
