"""The ``pynn-brian2`` backend: neurosim through pyNN.brian2 (PyNN 0.13, Brian2 runtime).

``ns.compile(net, backend="pynn-brian2")``.  (The native ``brian2`` backend builds
Brian2 objects from neurosim's own equations and runs every equation-defined
model; this one goes through PyNN's standard models.)

* Spike times: Brian2 stamps a spike with the start of the step in which the
  membrane crossed threshold; neurosim stamps the end of that step, so **dt is
  added** to every recorded spike.  SpikeSourceArray times are given to Brian2 one
  step early for the same reason, so that a spike at t with delay d reaches its
  target at t + d as on numba and NEST.
* Refractoriness: Brian2 counts the spike's own step into tau_refrac, so an
  interspike interval can be one step shorter than on numba/NEST.
* STDP: pyNN.brian2 has additive SpikePairRule only (its
  MultiplicativeWeightDependence runs the additive equations) and no dendritic
  delay (dendritic_delay_fraction must be 0).  Its TsodyksMarkramSynapse recovers
  with tau_syn rather than tau_rec and caps u at U, so neurosim refuses it.
"""
import importlib.util

import numpy as np

from neurosim.build import build

from .capabilities import Target, check_built, check_network, profile
from .simulation import Adapter, PyNNSimulation, pair_keys, reorder

if importlib.util.find_spec("pyNN") is None or importlib.util.find_spec("brian2") is None:
    raise ImportError("the pynn-brian2 backend needs PyNN and Brian2: pip install 'neurosim[pynn,brian2]'")

TARGET = Target(
    name="pynn-brian2",
    description="Brian2 (runtime) through pyNN.brian2 (PyNN 0.13)",
    pynn_module="pyNN.brian2",
    cells=("IF_curr_exp", "IF_curr_alpha", "IF_curr_delta", "IF_cond_exp", "EIF_cond_exp_isfa_ista",
           "Izhikevich"),
    synapses=("StaticSynapse", "STDPMechanism"),
    timing=(("SpikePairRule", "all"),),
    weight_dependences=("AdditiveWeightDependence",),
    initial={"IF_curr_exp": {"v": ("v", 1.0)}, "IF_curr_alpha": {"v": ("v", 1.0)}},
    stdp_dendritic_fraction=(0.0,),
    dt_text="any (Brian2 clock)",
    delay_text="1 to any (whole steps)",
    neurons_per_core="no limit (memory bound)",
    weight_precision="float64",
    spike_time_offset="start of the step; neurosim adds dt",
    alternatives="numba, brian2 or nest",
    hints={"TsodyksMarkramSynapse": "pyNN.brian2's TsodyksMarkramSynapse recovers with tau_syn instead of tau_rec "
                           "and caps u at U; use nest, numba or brian2"},
)
PROFILE = profile(TARGET)


#: neurosim weight unit -> the Brian2 unit pyNN.brian2 gives the synaptic weight variable
#: (the numbers are PyNN's canonical ones: factor 1)
BRIAN2_WEIGHT_UNIT = {}


def _weight_units():
    import brian2
    BRIAN2_WEIGHT_UNIT.update({"nA": brian2.nA, "uS": brian2.uS, "mV": brian2.mV})


def backend_version():
    from importlib.metadata import version
    return f"PyNN {version('PyNN')}, Brian2 {version('Brian2')}"


class Brian2Adapter(Adapter):
    target = TARGET
    EXTRA_RECORDABLE = {"IF_curr_exp": ("isyn_exc", "isyn_inh"), "IF_curr_alpha": ("isyn_exc", "isyn_inh")}
    # pyNN.brian2 samples at k*interval + dt but labels the sample (k + 1)*interval: record every
    # step and keep the samples at multiples of the interval, as numba does
    record_every_step = True

    def setup(self, sim, built):
        import brian2
        _weight_units()
        self._built = built
        sim.setup(timestep=built.dt, min_delay=built.dt)
        # pyNN.brian2 gives its NeuronGroups and PoissonGroups the network clock, but its
        # SpikeGeneratorGroups and monitors run on Brian2's defaultclock (0.1 ms unless set)
        self._previous_dt = brian2.defaultclock.dt
        brian2.defaultclock.dt = built.dt * brian2.ms
        brian2.seed(int(built.seed % (2**31 - 1)))

    def poisson_window(self, params, dt):
        # pyNN.brian2 fires at clock times start <= t <= start + duration (stamp t + dt in neurosim):
        # half a step earlier on both ends gives numba's start <= t < stop without float ties
        out = dict(params)
        out["start"] = max(params["start"] - dt / 2, 0.0)
        if "duration" in params:
            out["duration"] = params["start"] + params["duration"] - dt / 2 - out["start"]
        return out

    def end(self, sim):
        import brian2
        sim.end()
        sim.simulator.state.clear()   # drops the Brian2 objects now, not at the next setup()
        if getattr(self, "_previous_dt", None) is not None:
            brian2.defaultclock.dt = self._previous_dt

    def input_time_shift(self, dt):
        return -dt

    def output_time_shift(self, dt):
        return dt

    def make_projection(self, sim, j, bp, pre, post, conns, synapse):
        if type(synapse).__name__ != "StaticSynapse":
            return super().make_projection(sim, j, bp, pre, post, conns, synapse)
        # pyNN.brian2's FromListConnector calls Synapses.connect once per postsynaptic neuron
        # (~0.1 s each: 800 s for the 4000-neuron CUBA network): create the Projection empty and
        # connect the BuiltNetwork's list in one call, with PyNN's units for the receptor
        import brian2
        proj = super().make_projection(sim, j, bp, pre, post, np.zeros((0, 4)), synapse)
        syn = proj._brian2_synapses[0][0]
        syn.connect(i=np.asarray(bp.pre_idx, dtype=np.int64), j=np.asarray(bp.post_idx, dtype=np.int64))
        proj._n_connections = bp.n_synapses
        syn.weight = np.asarray(bp.weights, float) * self._unit(bp)
        syn.delay = np.asarray(bp.delay_steps * self._built.dt, float) * brian2.ms
        return proj

    def _unit(self, bp):
        return BRIAN2_WEIGHT_UNIT[self._built.populations[bp.post].celltype.weight_unit]

    def read_weights(self, proj, bp):
        # pyNN.brian2's Projection.get(format="list") fails on numpy 2; read the Synapses object
        syn = proj._brian2_synapses[0][0]
        return np.column_stack([np.asarray(syn.i[:]), np.asarray(syn.j[:]),
                                np.asarray(syn.weight[:] / self._unit(bp), float)])

    def write_weights(self, proj, bp, built, w):
        syn = proj._brian2_synapses[0][0]
        n_post = built.populations[bp.post].size
        values = reorder(w, pair_keys(bp.pre_idx, bp.post_idx, n_post), pair_keys(syn.i[:], syn.j[:], n_post))
        syn.weight[:] = values * self._unit(bp)

    def read_state(self, pop, name):
        tr = pop.celltype.state_variable_translations[name]
        native = tr["translated_name"]
        value = tr["reverse_transform"](**{native: getattr(pop.brian2_group, native)[:]})
        return np.asarray(value, float)


def compile(network, quiet=True):
    """Check the network against the pynn-brian2 profile, build it and create it through pyNN.brian2."""
    check_network(network, TARGET)
    built = build(network)
    check_built(built, network, TARGET)
    return PyNNSimulation(network, built, Brian2Adapter({}))
