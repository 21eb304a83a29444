"""Declarative translation tables: neurosim description -> PyNN calls.

Every entry is data: a PyNN class name, and for each neurosim name the PyNN
name and the factor that converts neurosim's unit into PyNN's.  PyNN's
canonical units (ms, mV, nA, nF, uS, Hz) are neurosim's, so every factor
here is 1.0; they are written out so that a change on either side shows up
as a table edit, never as arithmetic hidden in code.  Nothing is evaluated:
the backends look names up in these tables and call ``getattr(pyNN_module,
name)``.

Per backend, the tables say *which* entries exist (``CELLS_BY_BACKEND`` and
friends); the capability check in :mod:`.capabilities` refuses anything else
before any PyNN call.
"""
from collections import namedtuple

#: A neurosim standard cell mapped to a PyNN standard cell.
#: params: neurosim parameter -> (PyNN parameter, factor)
#: record: neurosim state variable -> (PyNN recordable, factor) for Population.record
#: initial: neurosim state variable -> (PyNN initial-value name, factor) for Population.initialize
#: and sim.set (sim.get reads the record and initial variables)
#: The synaptic currents of IF_curr_* are not in PyNN 0.13's ``recordable`` list although
#: pyNN.nest and pyNN.brian2 map them (I_syn_ex / ie, in nA): the adapters add them
#: (EXTRA_RECORDABLE).
CellMap = namedtuple("CellMap", ["pynn", "params", "record", "initial"])

ONE = 1.0   # the unit factor when PyNN's unit is neurosim's unit

_LIF = ("cm", "tau_m", "tau_refrac", "v_rest", "v_reset", "v_thresh", "i_offset")
_SYN = ("tau_syn_E", "tau_syn_I")


def _same(*names):
    return {n: (n, ONE) for n in names}


#: neurosim standard cell -> PyNN standard cell, the superset over all PyNN backends.
CELLS = {
    "IF_curr_exp": CellMap(
        "IF_curr_exp", _same(*_LIF, *_SYN),
        record={"v": ("v", ONE), "isyn_exc": ("isyn_exc", ONE), "isyn_inh": ("isyn_inh", ONE)},
        initial={"v": ("v", ONE), "isyn_exc": ("isyn_exc", ONE), "isyn_inh": ("isyn_inh", ONE)}),
    "IF_curr_alpha": CellMap(
        "IF_curr_alpha", _same(*_LIF, *_SYN),
        record={"v": ("v", ONE), "isyn_exc": ("isyn_exc", ONE), "isyn_inh": ("isyn_inh", ONE)},
        initial={"v": ("v", ONE)}),
    "IF_curr_delta": CellMap(
        "IF_curr_delta", _same(*_LIF),
        record={"v": ("v", ONE)},
        initial={"v": ("v", ONE)}),
    "IF_cond_exp": CellMap(
        "IF_cond_exp", _same(*_LIF, *_SYN, "e_rev_E", "e_rev_I"),
        record={"v": ("v", ONE), "g_exc": ("gsyn_exc", ONE), "g_inh": ("gsyn_inh", ONE)},
        initial={"v": ("v", ONE), "g_exc": ("gsyn_exc", ONE), "g_inh": ("gsyn_inh", ONE)}),
    "EIF_cond_exp_isfa_ista": CellMap(
        "EIF_cond_exp_isfa_ista",
        _same(*_LIF, *_SYN, "e_rev_E", "e_rev_I", "v_spike", "delta_T", "tau_w", "a", "b"),
        record={"v": ("v", ONE), "w_adapt": ("w", ONE), "g_exc": ("gsyn_exc", ONE),
                "g_inh": ("gsyn_inh", ONE)},
        initial={"v": ("v", ONE), "w_adapt": ("w", ONE), "g_exc": ("gsyn_exc", ONE),
                 "g_inh": ("gsyn_inh", ONE)}),
    "Izhikevich": CellMap(
        "Izhikevich", _same("a", "b", "c", "d", "i_offset"),
        record={"v": ("v", ONE), "u": ("u", ONE)},
        initial={"v": ("v", ONE), "u": ("u", ONE)}),
}

#: neurosim spike sources -> PyNN spike sources (parameters in ms / Hz).
SOURCES = {
    "SpikeSourcePoisson": ("SpikeSourcePoisson", {"rate": ("rate", ONE), "start": ("start", ONE),
                                                  "duration": ("duration", ONE)}),
    "SpikeSourceArray": ("SpikeSourceArray", {"spike_times": ("spike_times", ONE)}),
}

#: neurosim injected currents -> PyNN current sources (nA, ms).
CURRENTS = {
    "DCSource": ("DCSource", {"amplitude": ("amplitude", ONE), "start": ("start", ONE),
                              "stop": ("stop", ONE)}),
    "StepCurrentSource": ("StepCurrentSource", {"times": ("times", ONE),
                                                "amplitudes": ("amplitudes", ONE)}),
}

#: neurosim receptor_type -> PyNN receptor_type (standard cells have these two)
RECEPTORS = {"excitatory": "excitatory", "inhibitory": "inhibitory"}

#: weights: neurosim unit of the receptor -> PyNN unit, factor (nA->nA, uS->uS, mV->mV)
WEIGHT_FACTOR = {"nA": ONE, "uS": ONE, "mV": ONE}
#: delays: ms -> ms
DELAY_FACTOR = ONE

#: STDP timing rules: neurosim class (and pairing) -> PyNN class, parameter map
TIMING = {
    ("SpikePairRule", "all"): ("SpikePairRule", {"tau_plus": ("tau_plus", ONE),
                                                 "tau_minus": ("tau_minus", ONE),
                                                 "A_plus": ("A_plus", ONE),
                                                 "A_minus": ("A_minus", ONE)}),
    # sPyNNaker only (extra_models)
    ("SpikePairRule", "nearest"): ("SpikeNearestPairRule", {"tau_plus": ("tau_plus", ONE),
                                                            "tau_minus": ("tau_minus", ONE),
                                                            "A_plus": ("A_plus", ONE),
                                                            "A_minus": ("A_minus", ONE)}),
    ("PfisterSpikeTripletRule", None): ("PfisterSpikeTriplet", {"tau_plus": ("tau_plus", ONE),
                                                               "tau_minus": ("tau_minus", ONE),
                                                               "tau_x": ("tau_x", ONE),
                                                               "tau_y": ("tau_y", ONE),
                                                               "A2_plus": ("A_plus", ONE),
                                                               "A2_minus": ("A_minus", ONE)}),
    ("Vogels2011Rule", None): ("Vogels2011Rule", {"tau": ("tau", ONE)}),  # + alpha, A_plus, A_minus
}

#: STDP weight dependences -> PyNN class (w_min, w_max in the weight unit: factor 1)
WEIGHT_DEPENDENCE = {
    "AdditiveWeightDependence": ("AdditiveWeightDependence", {"w_min": ("w_min", ONE),
                                                              "w_max": ("w_max", ONE)}),
    "MultiplicativeWeightDependence": ("MultiplicativeWeightDependence", {"w_min": ("w_min", ONE),
                                                                          "w_max": ("w_max", ONE)}),
}

#: TsodyksMarkramSynapse -> PyNN TsodyksMarkramSynapse (U, tau_rec, tau_facil in ms)
TSODYKS_MARKRAM = ("TsodyksMarkramSynapse", {"U": ("U", ONE), "tau_rec": ("tau_rec", ONE),
                                             "tau_facil": ("tau_facil", ONE)})


def translate(values, table):
    """{neurosim name: value} -> {PyNN name: value * factor} for the names in ``table``."""
    out = {}
    for name, value in values.items():
        if name in table:
            pynn_name, factor = table[name]
            out[pynn_name] = value * factor if factor != ONE else value
    return out
