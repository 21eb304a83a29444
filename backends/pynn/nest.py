"""The ``nest`` backend: neurosim through pyNN.nest (PyNN 0.13, NEST 3).

``ns.compile(net, backend="nest", threads=1, spike_precision="on_grid")``.

* Spikes: with ``spike_precision="on_grid"`` (default) NEST's grid-based models
  (iaf_psc_exp, ...) stamp a spike at the end of the step in which the membrane
  crossed threshold, as neurosim does: **offset 0**.  ``"off_grid"`` uses NEST's
  precise-spike models (iaf_psc_exp_ps, ...), whose spike times lie between grid
  points (closer to the closed form, not comparable step by step with numba).
* TsodyksMarkramSynapse goes to NEST's native ``tsodyks2_synapse`` (the recursion
  neurosim implements; PyNN's own mapping uses ``tsodyks_synapse``, a three-state
  model with an extra tau_psc), with explicit weight factors (nA -> pA, uS -> nS;
  mV x 1000 undoes pyNN.nest's 1e-3 receptor scale of delta synapses).
* STDP: NEST's ``stdp_synapse`` (all-to-all pairs), additive or multiplicative,
  w_min = 0, all delay dendritic (dendritic_delay_fraction = 1).
* pyNN.nest tries to build its optional C++ extensions (stochastic synapses) at
  import; when that fails (no matching compiler) neurosim does not need them.
"""
import contextlib
import importlib.util
import warnings

import numpy as np

from neurosim.build import build
from neurosim.errors import UnsupportedFeatureError

from .capabilities import Target, check_built, check_network, profile
from .simulation import Adapter, PyNNSimulation, pair_keys, reorder

if importlib.util.find_spec("pyNN") is None or importlib.util.find_spec("nest") is None:
    raise ImportError("the nest backend needs PyNN and NEST: pip install 'neurosim[nest]' "
                      "(pyNN==0.13.*, nest-simulator)")

TARGET = Target(
    name="nest",
    description="NEST 3 through pyNN.nest (PyNN 0.13)",
    pynn_module="pyNN.nest",
    cells=("IF_curr_exp", "IF_curr_alpha", "IF_curr_delta", "IF_cond_exp", "EIF_cond_exp_isfa_ista",
           "Izhikevich"),
    synapses=("StaticSynapse", "STDPMechanism", "TsodyksMarkramSynapse"),
    timing=(("SpikePairRule", "all"), ("Vogels2011Rule", None)),
    weight_dependences=("AdditiveWeightDependence", "MultiplicativeWeightDependence"),
    # NEST does not let PyNN set the synaptic currents of iaf_psc_* (I_syn_ex/in)
    initial={"IF_curr_exp": {"v": ("v", 1.0)}},
    stdp_w_min_zero=True,
    stdp_dendritic_fraction=(1.0,),
    dt_text="any multiple of NEST's resolution (0.1 ms typical)",
    delay_text="1 to any (whole steps; NEST's min_delay = dt)",
    neurons_per_core="no limit (memory bound)",
    weight_precision="float64",
    spike_time_offset="end of the step (as neurosim; on_grid), offset 0",
    alternatives="numba or brian2",
    extra={"threads": "1 or more (NEST threads)"},
)
PROFILE = profile(TARGET)

#: neurosim weight unit -> NEST native unit, for synapses pyNN.nest does not translate (tsodyks2_synapse):
#: nA -> pA and uS -> nS; mV x 1000 undoes the 1e-3 receptor scale pyNN.nest applies to delta synapses
NATIVE_WEIGHT_FACTOR = {"nA": 1000.0, "uS": 1000.0, "mV": 1000.0}
#: neurosim weight unit -> NEST unit for connections made with nest.Connect (connect="nest"):
#: nA -> pA, uS -> nS, mV -> mV (iaf_psc_delta, izhikevich)
NEST_WEIGHT_FACTOR = {"nA": 1000.0, "uS": 1000.0, "mV": 1.0}
#: NEST's standard-receptor cells route a spike by the sign of its weight: inhibitory
#: conductances are sent negative (as pyNN.nest does)
NEST_INHIBITORY_CONDUCTANCE_SIGN = -1.0


def backend_version():
    from importlib.metadata import version
    return f"PyNN {version('PyNN')}, NEST {version('nest-simulator')}"


def _check_first_source_spikes(built):
    """pyNN.nest hands a SpikeSourceArray's times to NEST's spike_generator minus min_delay
    (= dt), and NEST refuses a spike time of 0: a spike at t = dt cannot be given to NEST."""
    for pop in built.populations:
        if pop.kind == "array" and len(pop.source_events[0]) and pop.source_events[0].min() == 0:
            first = np.flatnonzero(pop.source_events[0] == 0)[0]
            raise UnsupportedFeatureError(
                "nest", f"a spike at t = dt = {built.dt:g} ms (neuron {int(pop.source_events[1][first])}) in the "
                f"SpikeSourceArray of Population '{pop.label}'",
                "pyNN.nest gives NEST's spike_generator each time minus one step, which must stay > 0; "
                f"start the spike times at {2 * built.dt:g} ms, or use numba or brian2")


def _is_vogels(synapse):
    return type(getattr(synapse, "timing_dependence", None)).__name__ == "Vogels2011Rule"


def _is_native(synapse):
    """Synapse types neurosim gives NEST directly (pyNN.nest has no translation for them)."""
    return type(synapse).__name__ == "TsodyksMarkramSynapse" or _is_vogels(synapse)


def _stdp_extra(proj, target):
    post = proj.postsynaptic_population.celltype
    if proj.receptor_type == "inhibitory" and not post.conductance_based:
        raise UnsupportedFeatureError(
            target.name, f"STDP on the inhibitory receptor of current-based {post.name} in {proj._obj()}",
            "NEST's stdp_synapse needs weights of the sign of w_max (>= 0); use a conductance-based cell "
            "(IF_cond_exp), or numba or brian2")


#: steps between a poisson_generator's spike and its parrot_neuron's (the spike neurosim records)
NEST_POISSON_LATENCY_STEPS = 2

#: pyNN.nest 0.13's IF_curr_delta has no variable_map, so PyNN can neither record nor initialise
#: its membrane potential (it stays at NEST's -70 mV): neurosim gives the cell type instance the
#: map PyNN uses for the other iaf_psc_* models (v -> V_m, factor 1)
NEST_VARIABLE_MAP = {"IF_curr_delta": ({"v": "V_m"}, {"v": 1.0})}


def _nest_sign(bp, cell):
    return NEST_INHIBITORY_CONDUCTANCE_SIGN if (bp.receptor == "inhibitory" and cell.conductance_based) else 1.0


class NestConnections:
    """Static connections made with one nest.Connect call (label identifies them for get/set)."""

    def __init__(self, label_id, pre, post, sign, factor):
        self.label_id, self.pre, self.post, self.sign, self.factor = label_id, pre, post, sign, factor

    def connections(self):
        import nest
        return nest.GetConnections(source=self.pre.node_collection, target=self.post.node_collection,
                                   synapse_label=self.label_id)


class NestAdapter(Adapter):
    target = TARGET
    EXTRA_RECORDABLE = {"IF_curr_exp": ("isyn_exc", "isyn_inh"), "IF_curr_alpha": ("isyn_exc", "isyn_inh")}

    def __init__(self, options):
        super().__init__(options)
        self.on_grid = options["spike_precision"] == "on_grid"

    def setup(self, sim, built):
        self._built = built
        max_delay = max([int(p.delay_steps.max()) for p in built.projections if len(p.delay_steps)] + [1])
        sim.setup(timestep=built.dt, min_delay=built.dt, max_delay=max_delay * built.dt,
                  threads=self.options["threads"], rng_seed=int(built.seed % (2**31 - 1)) or 1,
                  spike_precision=self.options["spike_precision"], verbosity="error")

    def poisson_window(self, params, dt):
        # pyNN.nest's poisson_generator -> parrot_neuron stamps a spike two steps after the generator
        # and PyNN sets origin = 1 ms: neurosim sets origin 0 and moves the window two steps earlier
        # (a source starting at 0 loses its first two steps: NEST cannot start before t = 0)
        out = dict(params)
        stop = params["start"] + params["duration"] if "duration" in params else None
        out["start"] = max(params["start"] - NEST_POISSON_LATENCY_STEPS * dt, 0.0)
        if stop is not None:
            out["duration"] = max(stop - NEST_POISSON_LATENCY_STEPS * dt - out["start"], 0.0)
        return out

    def poisson(self, sim, name, params):
        celltype = getattr(sim, name)(**params)
        celltype.extra_parameters = {"origin": 0.0}
        return celltype

    def weight_factor(self, bp):
        """Extra factor for synapse types pyNN.nest does not translate (native tsodyks2_synapse,
        vogels_sprekeler_synapse)."""
        if bp.synapse is not None and _is_native(bp.synapse):
            return NATIVE_WEIGHT_FACTOR[self._built.populations[bp.post].celltype.weight_unit]
        return 1.0

    def native_stdp(self, sim, syn, bp):
        """Vogels2011Rule -> NEST's vogels_sprekeler_synapse (Vogels et al. 2011: on a presynaptic
        spike w += eta (x_post - alpha), on a postsynaptic one w += eta x_pre, alpha = 2 rho tau).
        Native parameters are in NEST units: eta and Wmax scale like the weights (nA -> pA,
        uS -> nS, mV -> mV)."""
        if not _is_vogels(syn):
            return None
        p = syn.timing_dependence.parameters
        cell = self._built.populations[bp.post].celltype
        unit = NEST_WEIGHT_FACTOR[cell.weight_unit]
        # NEST keeps |w| between 0 and |Wmax| and w's sign from Wmax (negative onto the
        # inhibitory receptor of conductance cells)
        sign = _nest_sign(bp, cell)
        return sim.native_synapse_type("vogels_sprekeler_synapse")(
            tau=p["tau"], eta=p["eta"] * unit, alpha=2.0 * p["rho"] * p["tau"] / 1000.0,
            Wmax=syn.weight_dependence.parameters["w_max"] * unit * sign,
            weight=sign * 1e-3)   # NEST checks the default weight's sign too

    def weight_bound_factor(self, pynn_population):
        """pyNN.nest scales the weights onto delta-synapse cells (IF_curr_delta, Izhikevich: mV) by
        the cell's receptor_scale (1e-3, undoing its nA -> pA factor) but not the weight
        dependence's w_max: NEST's stdp_synapse then got Wmax 1000 times too large (additive
        updates 1000 times too big).  Apply the same scale to the bounds."""
        return getattr(pynn_population.celltype, "receptor_scale", 1.0)

    @contextlib.contextmanager
    def context(self):
        # pyNN 0.13 still calls nest.SetStatus/GetStatus, deprecated in NEST 3.10
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"\s*(Set|Get)Status\(\) is deprecated")
            warnings.filterwarnings("ignore", message=r"\s*Provided for backward compatibility only")
            yield

    def celltype(self, sim, name, params):
        celltype = super().celltype(sim, name, params)
        if name in NEST_VARIABLE_MAP:
            celltype.variable_map, celltype.scale_factors = (dict(m) for m in NEST_VARIABLE_MAP[name])
        return celltype

    def make_projection(self, sim, j, bp, pre, post, conns, synapse):
        if self.options["connect"] == "pynn" or type(synapse).__name__ != "StaticSynapse":
            return super().make_projection(sim, j, bp, pre, post, conns, synapse)
        # one nest.Connect call with the BuiltNetwork's list: pyNN.nest's FromListConnector spends
        # ~3 ms per postsynaptic neuron (23 s for the 4000-neuron CUBA network)
        import nest
        cell = self._built.populations[bp.post].celltype
        sign, factor = _nest_sign(bp, cell), NEST_WEIGHT_FACTOR[cell.weight_unit]
        pre_ids = np.asarray(pre.all_cells, dtype=np.int64)
        post_ids = np.asarray(post.all_cells, dtype=np.int64)
        nest.Connect(pre_ids[bp.pre_idx], post_ids[bp.post_idx], "one_to_one",
                     {"synapse_model": "static_synapse_lbl", "synapse_label": j + 1,
                      "weight": bp.weights * factor * sign, "delay": bp.delay_steps * self._built.dt})
        return NestConnections(j + 1, pre, post, sign, factor)

    def _raw(self, proj, bp):
        """NEST's connections of a projection, the factor NEST unit / neurosim unit and the sign."""
        if isinstance(proj, NestConnections):
            return proj.connections(), proj.factor * proj.sign
        cell = self._built.populations[bp.post].celltype
        return proj.nest_connections, NEST_WEIGHT_FACTOR[cell.weight_unit] * _nest_sign(bp, cell)

    def read_weights(self, proj, bp):
        # straight from NEST (pyNN.nest's get() scales native synapse types differently from set())
        conns, factor = self._raw(proj, bp)
        data = conns.get(["source", "target", "weight"])
        pre = self._pre_post(proj, bp)[0].id_to_index(np.atleast_1d(np.asarray(data["source"], dtype=np.int64)))
        post = self._pre_post(proj, bp)[1].id_to_index(np.atleast_1d(np.asarray(data["target"], dtype=np.int64)))
        return np.column_stack([pre, post, np.atleast_1d(np.asarray(data["weight"], float)) / factor])

    def write_weights(self, proj, bp, built, w):
        conns, factor = self._raw(proj, bp)
        data = conns.get(["source", "target"])
        pre, post = self._pre_post(proj, bp)
        n_post = built.populations[bp.post].size
        key_nest = pair_keys(pre.id_to_index(np.atleast_1d(np.asarray(data["source"], dtype=np.int64))),
                             post.id_to_index(np.atleast_1d(np.asarray(data["target"], dtype=np.int64))), n_post)
        values = reorder(w, pair_keys(bp.pre_idx, bp.post_idx, n_post), key_nest)
        conns.set(weight=values * factor)

    def _pre_post(self, proj, bp):
        return (proj.pre, proj.post)

    def tsodyks_markram(self, sim, syn, bp):
        p = syn.parameters
        return sim.native_synapse_type("tsodyks2_synapse")(U=p["U"], tau_rec=p["tau_rec"], tau_fac=p["tau_facil"],
                                                           u=p["U"], x=1.0)

    def read_state(self, pop, name):
        cell = pop.celltype
        return np.asarray(pop.node_collection.get(cell.variable_map[name]), float) * cell.scale_factors[name]


def compile(network, threads=1, spike_precision="on_grid", connect="nest", quiet=True):
    """Check the network against the nest profile, build it and create it in NEST through PyNN.

    threads: NEST threads.  spike_precision: 'on_grid' (default; spikes at the end of
    the step, as neurosim) or 'off_grid' (NEST's precise-spike models).
    connect: 'nest' (default) creates static projections with one ``nest.Connect`` per
    projection from the BuiltNetwork's list (same synapses, weights and delays as
    PyNN's FromListConnector, about 50 times faster); 'pynn' uses FromListConnector for
    every projection.  Plastic projections always go through PyNN.
    """
    from neurosim.errors import ValidationError
    if spike_precision not in ("on_grid", "off_grid"):
        raise ValidationError("nest backend", "spike_precision", f"must be 'on_grid' or 'off_grid' "
                              f"(got {spike_precision!r})")
    if connect not in ("nest", "pynn"):
        raise ValidationError("nest backend", "connect", f"must be 'nest' or 'pynn' (got {connect!r})")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValidationError("nest backend", "threads", f"must be an integer >= 1 (got {threads!r})")
    check_network(network, TARGET, _stdp_extra)
    built = build(network)
    check_built(built, network, TARGET)
    _check_first_source_spikes(built)
    adapter = NestAdapter({"threads": threads, "spike_precision": spike_precision, "connect": connect})
    return PyNNSimulation(network, built, adapter)
