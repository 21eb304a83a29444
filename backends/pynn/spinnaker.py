"""The ``spinnaker`` backend: neurosim through pyNN.spiNNaker (sPyNNaker 1!7.4.1) on SpiNNaker1.

``ns.compile(net, backend="spinnaker", virtual_board=True)`` maps the network on a
virtual SpiNN-5 board (48 chips): partitioning, placement, routing, key allocation,
SDRAM and delay extensions all run, nothing executes, and the recorded data come back
empty.  ``sim.info["cores"]`` reports the cores used (per population, delay
extensions, system cores) and the chips.  Without ``virtual_board`` the run uses the
user's board settings (``~/.spynnaker.cfg``) or ``machine_name=`` / ``spalloc_server=``.

Every simulation runs in a working directory of its own (``run_dir``; a fresh
temporary one by default, kept for its reports, or removed by ``close()`` with
``keep_run_dir=False``; its path is ``sim.info["run_dir"]``):
sPyNNaker reads ``spynnaker.cfg`` from, and writes its ``reports/`` into, the current
directory, so neurosim changes into that directory for each call into sPyNNaker and
changes back afterwards.

Limits checked before any sPyNNaker call (capability profile):

* dt = 1 ms (real time) or 0.1 ms (run with time_scale_factor 10, ten times slower
  than real time);
* delays: whole steps from 1 to ``9 * 2**(14 - bits(neurons per core) - 1)`` ticks
  (sPyNNaker 7.4.1: 14 ring-buffer bits shared by neuron, synapse-type and delay bits;
  a delay extension adds 8 times the native range): 288 steps at 256 neurons per core;
* neurons per core: at most 256 for neuron models (``neurons_per_core=`` lowers it);
* weights: 16-bit fixed point with a power-of-two scale per (post population,
  receptor) chosen by sPyNNaker; after the network is created neurosim asks sPyNNaker
  for those scales and warns, per projection, when weights round to 0 or saturate,
  with the relative error (``sim.info["weight_quantisation"]``).

Spike times: sPyNNaker's timer tick n integrates [n dt, (n+1) dt] and stamps its
spikes n dt (the tick counter starts at 0), so neurosim adds dt, as for Brian2 (read
from sPyNNaker's C sources; not checked on hardware here).

Real boards: put the machine in ``~/.spynnaker.cfg`` (``[Machine] machineName = <ip>``
and ``version = 5`` for a SpiNN-5 board, or ``spalloc_server = <url>`` and
``spalloc_user = <you>`` for a spalloc service), or pass ``machine_name=``/``version=``
or ``spalloc_server=``/``spalloc_user=`` to compile, which writes them into the run
directory's ``spynnaker.cfg``.
"""
import contextlib
import importlib.util
import io
import math
import os
import shutil
import tempfile
import warnings

import numpy as np

from neurosim.build import build
from neurosim.errors import NeurosimError, UnsupportedFeatureError, ValidationError
from neurosim.synapses import STDPMechanism

from ..spinnaker_numerics import quantise, rounding_warning
from .capabilities import Target, check_built, check_network, profile, spinnaker_max_delay_steps
from .simulation import Adapter, PyNNSimulation

if importlib.util.find_spec("pyNN") is None or importlib.util.find_spec("spynnaker") is None:
    raise ImportError("the spinnaker backend needs sPyNNaker: pip install 'neurosim[spinnaker]' "
                      "(sPyNNaker==1!7.4.1, pyNN==0.13.*)")

MAX_NEURONS_PER_CORE = 256          # sPyNNaker DEFAULT_MAX_ATOMS_PER_CORE = POP_TABLE_MAX_ROW_LENGTH
SOURCE_NEURONS_PER_CORE = 500       # SpikeSourcePoisson's default
RING_BUFFER_BITS = 14               # spynnaker.pyNN.utilities.constants.MAX_RING_BUFFER_BITS
DELAY_EXTENSION_SLOTS = 8           # DelayExtensionVertex.MAX_SLOTS
POP_TABLE_MAX_ROW_LENGTH = 256      # spynnaker.pyNN.utilities.constants: words in one synaptic row

TARGET = Target(
    name="spinnaker",
    description="SpiNNaker1 through sPyNNaker 7.4.1 (virtual_board=True maps without a board)",
    pynn_module="pyNN.spiNNaker",
    cells=("IF_curr_exp", "IF_curr_alpha", "IF_curr_delta", "IF_cond_exp", "Izhikevich"),
    currents=("DCSource", "StepCurrentSource"),
    synapses=("StaticSynapse", "STDPMechanism"),
    timing=(("SpikePairRule", "all"), ("SpikePairRule", "nearest"), ("PfisterSpikeTripletRule", None),
            ("Vogels2011Rule", None)),
    weight_dependences=("AdditiveWeightDependence", "MultiplicativeWeightDependence"),
    record={"IF_curr_exp": {"v": ("v", 1.0)}, "IF_curr_alpha": {"v": ("v", 1.0)},
            "IF_curr_delta": {"v": ("v", 1.0)}, "Izhikevich": {"v": ("v", 1.0)}},
    initial={"IF_curr_exp": {"v": ("v", 1.0)}, "IF_curr_alpha": {"v": ("v", 1.0)},
             "IF_curr_delta": {"v": ("v", 1.0)}, "IF_cond_exp": {"v": ("v", 1.0)},
             "Izhikevich": {"v": ("v", 1.0), "u": ("u", 1.0)}},
    stdp_dendritic_fraction=(1.0,),
    allowed_dt=(1.0, 0.1),
    dt_text="1 ms (real time) or 0.1 ms (time_scale_factor 10)",
    delay_text=f"1 to 9*2**(14 - bits(neurons per core) - 1): 288 at {MAX_NEURONS_PER_CORE} neurons/core "
               "(incl. delay extension)",
    neurons_per_core=f"{MAX_NEURONS_PER_CORE} (neuron models), {SOURCE_NEURONS_PER_CORE} (Poisson sources)",
    weight_precision="16-bit fixed point, power-of-two scale per post population and receptor "
                     "(warns on round-to-zero / saturation)",
    spike_time_offset="tick start (n dt); neurosim adds dt",
    alternatives="numba, nest or brian2",
    extra={"board": "virtual_board=True maps only (no spikes); real boards via ~/.spynnaker.cfg"},
    hints={"TsodyksMarkramSynapse": "sPyNNaker 7.4.1 has no TsodyksMarkramSynapse; use nest, numba or brian2"},
)
PROFILE = profile(TARGET)


def backend_version():
    from importlib.metadata import version
    return f"PyNN {version('PyNN')}, sPyNNaker {version('sPyNNaker')}"


def _npc(options, label, kind):
    npc = options.get("neurons_per_core")
    if isinstance(npc, dict):
        npc = npc.get(label)
    if npc is None:
        return SOURCE_NEURONS_PER_CORE if kind == "poisson" else MAX_NEURONS_PER_CORE
    return npc


def _stdp_extra(proj, target):
    syn = proj.synapse_type
    timing, wd = syn.timing_dependence, syn.weight_dependence
    name = type(timing).__name__
    if name in ("PfisterSpikeTripletRule", "Vogels2011Rule") and type(wd).__name__ != "AdditiveWeightDependence":
        raise UnsupportedFeatureError(target.name, f"{name} with {type(wd).__name__} in {proj._obj()}",
                                      f"sPyNNaker pairs {name} with an additive weight dependence only; "
                                      "use AdditiveWeightDependence, or numba or brian2")
    if name == "Vogels2011Rule" and wd.parameters["w_max"] <= 0:
        raise UnsupportedFeatureError(target.name, f"Vogels2011Rule with w_max <= 0 in {proj._obj()}",
                                      "sPyNNaker scales eta by w_max; use w_max > 0")


def _stdp_signature(syn):
    t, wd = syn.timing_dependence, syn.weight_dependence
    return (type(t).__name__, getattr(t, "pairing", None), tuple(sorted(t.parameters.items())),
            type(wd).__name__, tuple(sorted(wd.parameters.items())), syn.dendritic_delay_fraction)


def _check_one_plasticity_per_population(network):
    """sPyNNaker runs one synapse-dynamics model per post population (synapse_dynamics_stdp.merge)."""
    seen = {}
    for proj in network.projections:
        if not isinstance(proj.synapse_type, STDPMechanism):
            continue
        post = proj.postsynaptic_population
        sig = _stdp_signature(proj.synapse_type)
        first = seen.setdefault(id(post), (sig, proj))
        if first[0] != sig:
            raise UnsupportedFeatureError(
                "spinnaker", f"two different STDP rules onto Population '{post.label}' ({first[1]._obj()} and "
                f"{proj._obj()})", "sPyNNaker runs one synapse-dynamics model (rule and parameters) per "
                "postsynaptic population; give them the same STDPMechanism, split the population, or use "
                "numba, nest or brian2")


def _check_options(network, options):
    npc = options.get("neurons_per_core")
    items = npc.items() if isinstance(npc, dict) else ([("all populations", npc)] if npc is not None else [])
    labels = {p.label for p in network.populations}
    for label, n in items:
        if isinstance(npc, dict) and label not in labels:
            raise ValidationError("spinnaker backend", "neurons_per_core", f"no population {label!r}; "
                                  f"populations: {', '.join(sorted(labels))}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValidationError("spinnaker backend", "neurons_per_core", f"must be an integer >= 1 "
                                  f"(got {n!r} for {label})")
        if n > MAX_NEURONS_PER_CORE:
            raise UnsupportedFeatureError(
                "spinnaker", f"neurons_per_core = {n} for {label}",
                f"sPyNNaker 7.4.1 places at most {MAX_NEURONS_PER_CORE} neurons of a neuron model on one core "
                f"(its population table rows hold {MAX_NEURONS_PER_CORE}); use neurons_per_core <= "
                f"{MAX_NEURONS_PER_CORE} (larger populations are split over cores), or the nest backend")


def _max_delay_steps(options):
    def limit(built, bp):
        post = built.populations[bp.post]
        npc = min(post.size, _npc(options, post.label, post.kind))
        steps, slots = spinnaker_max_delay_steps(npc, 2, RING_BUFFER_BITS, DELAY_EXTENSION_SLOTS)
        why = (f"sPyNNaker reaches {steps} steps for post population '{post.label}' ({npc} neurons per core: "
               f"a {slots}-step ring buffer plus {DELAY_EXTENSION_SLOTS} delay-extension stages)")
        return steps, why
    return limit


def _check_row_lengths(built, options):
    """sPyNNaker keeps the synapses from one presynaptic neuron onto one core of the post
    population in one row of at most 256 words (a static synapse takes one word), one row for
    the delays within the core's ring buffer and one for the delay extension's (synapse_io.py
    get_max_row_info).  Checked here for static projections; plastic rows take more words
    per synapse and are checked by sPyNNaker itself (its error is translated on run)."""
    for bp in built.projections:
        if bp.synapse is not None or bp.n_synapses == 0:
            continue
        post = built.populations[bp.post]
        npc = min(post.size, _npc(options, post.label, post.kind))
        slots = spinnaker_max_delay_steps(npc, 2, RING_BUFFER_BITS, DELAY_EXTENSION_SLOTS)[1]
        core = bp.post_idx // npc
        for part, mask in (("within the ring buffer", bp.delay_steps <= slots),
                           ("through the delay extension", bp.delay_steps > slots)):
            if not mask.any():
                continue
            _, counts = np.unique(bp.pre_idx[mask] * (post.size // npc + 1) + core[mask], return_counts=True)
            longest = int(counts.max())
            if longest > POP_TABLE_MAX_ROW_LENGTH:
                fits = npc * POP_TABLE_MAX_ROW_LENGTH // longest
                raise UnsupportedFeatureError(
                    "spinnaker", f"{longest} synapses from one presynaptic neuron onto one core of "
                    f"'{post.label}' ({npc} neurons per core, delays {part}) in Projection '{bp.label}'",
                    f"sPyNNaker 7.4.1 holds at most {POP_TABLE_MAX_ROW_LENGTH} per row; lower neurons_per_core "
                    f"for '{post.label}' (about {max(fits, 1)} fits), or use numba, nest or brian2")


def _user_cfg_exists():
    import appdirs
    for base in (appdirs.site_config_dir(), appdirs.user_config_dir(), os.path.expanduser("~")):
        if os.path.isfile(os.path.join(base, ".spynnaker.cfg")):
            return True
    return False


class SpiNNakerAdapter(Adapter):
    target = TARGET

    def __init__(self, options):
        super().__init__(options)
        run_dir = options.get("run_dir")
        self.own_dir = run_dir is None
        self.run_dir = os.path.abspath(run_dir or tempfile.mkdtemp(prefix="neurosim-spinnaker-"))
        os.makedirs(self.run_dir, exist_ok=True)
        self._write_cfg()
        self.quantisation = {}
        self.output = ""          # sPyNNaker's console output (last 20000 characters) when quiet

    def _write_cfg(self):
        o = self.options
        machine = []
        if o["virtual_board"]:
            machine += ["virtual_board = True", f"version = {o['version'] or 5}"]
            if o.get("width") is not None:
                machine += [f"width = {o['width']}", f"height = {o['height']}"]
        else:
            if o.get("machine_name"):
                machine += [f"machineName = {o['machine_name']}", f"version = {o['version'] or 5}"]
            elif o.get("spalloc_server"):
                machine += [f"spalloc_server = {o['spalloc_server']}"]
                if o.get("spalloc_user"):
                    machine += [f"spalloc_user = {o['spalloc_user']}"]
            elif o.get("version"):
                machine += [f"version = {o['version']}"]
        text = ["# written by neurosim for this run (sPyNNaker reads ./spynnaker.cfg)", "[Machine]"] + machine
        text += ["", "[Logging]", f"default = {'warning' if o.get('quiet', True) else 'info'}", ""]
        with open(os.path.join(self.run_dir, "spynnaker.cfg"), "w") as fh:
            fh.write("\n".join(text))

    @contextlib.contextmanager
    def context(self):
        previous = os.getcwd()
        os.chdir(self.run_dir)
        # sPyNNaker prints progress bars to stderr and messages to stdout; with quiet both go
        # to self.output (Python warnings are unaffected where they are caught or recorded)
        sink = io.StringIO() if self.options.get("quiet", True) else None
        try:
            with contextlib.ExitStack() as stack:
                if sink is not None:
                    stack.enter_context(contextlib.redirect_stdout(sink))
                    stack.enter_context(contextlib.redirect_stderr(sink))
                yield
        finally:
            os.chdir(previous)
            if sink is not None:
                self.output = (self.output + sink.getvalue())[-20000:]

    def setup(self, sim, built):
        o = self.options
        tsf = o.get("time_scale_factor")
        if tsf is None and built.dt < 1.0:
            tsf = int(math.ceil(1.0 / built.dt - 1e-9))
        xdg = None
        if not _user_cfg_exists():
            if not (o["virtual_board"] or o.get("machine_name") or o.get("spalloc_server")):
                raise NeurosimError(
                    "spinnaker: no SpiNNaker machine configured; create ~/.spynnaker.cfg with [Machine] "
                    "machineName = <board ip> and version = 5 (or spalloc_server = <url>), pass "
                    "machine_name=/spalloc_server= to compile, or use virtual_board=True to map only")
            # sPyNNaker insists on a user cfg and writes ~/.spynnaker.cfg when there is none:
            # point it (for setup() only) at an empty one inside the run directory instead
            xdg = os.path.join(self.run_dir, "xdg")
            os.makedirs(xdg, exist_ok=True)
            with open(os.path.join(xdg, ".spynnaker.cfg"), "w") as fh:
                fh.write("[Machine]\n")
        previous = os.environ.get("XDG_CONFIG_HOME")
        if xdg is not None:
            os.environ["XDG_CONFIG_HOME"] = xdg
        try:
            kwargs = {"timestep": built.dt, "min_delay": built.dt}
            if tsf is not None:
                kwargs["time_scale_factor"] = tsf
            sim.setup(**kwargs)
        finally:
            if xdg is not None:
                if previous is None:
                    os.environ.pop("XDG_CONFIG_HOME", None)
                else:
                    os.environ["XDG_CONFIG_HOME"] = previous
        self.info_timing = {"dt_ms": built.dt, "time_scale_factor": tsf}

    def spike_train(self, sim, times):
        return [float(t) for t in times]

    def output_time_shift(self, dt):
        return dt

    def plasticity_class(self, sim, name):
        if hasattr(sim, name):
            return getattr(sim, name)
        import spynnaker.pyNN.extra_models as extra
        return getattr(extra, name)

    def after_create(self, simulation):
        for k, bp in enumerate(simulation.built.populations):
            npc = self.options.get("neurons_per_core")
            if isinstance(npc, dict):
                npc = npc.get(bp.label)
            if npc is not None:
                simulation._pops[k].set_max_atoms_per_core(npc)
        self.quantisation = self._quantisation(simulation)
        simulation.info.update(run_dir=self.run_dir, virtual_board=self.options["virtual_board"],
                               weight_quantisation=self.quantisation, **self.info_timing)

    def _quantisation(self, simulation):
        """sPyNNaker's 16-bit weights per projection: scale, round-to-zero, saturation, relative error."""
        out = {}
        scales = {}
        for j, bp in enumerate(simulation.built.projections):
            if simulation._projs[j] is None:
                continue
            vertex = simulation._pops[bp.post]._vertex
            if bp.post not in scales:
                scales[bp.post] = vertex.get_weight_scales(vertex.get_ring_buffer_shifts())
            syn_type = vertex.get_synapse_id_by_target(bp.receptor)
            scale = float(scales[bp.post][syn_type])
            unit = simulation.built.populations[bp.post].celltype.weight_unit
            _, info = quantise(bp.weights, scale)
            out[bp.label] = dict(info, unit=unit)
            message = rounding_warning("spinnaker", bp.label, info, unit)
            if message:
                warnings.warn(message, RuntimeWarning, stacklevel=2)
        return out

    def quantised_weights(self, bp):
        info = self.quantisation.get(bp.label)
        if info is None:
            return bp.weights.copy()
        return quantise(bp.weights, info["scale_per_unit"])[0]

    def after_run(self, simulation):
        from spinn_front_end_common.data import FecDataView
        pops = {id(p._vertex): bp.label for p, bp in zip(simulation._pops, simulation.built.populations)}
        per_pop = {bp.label: 0 for bp in simulation.built.populations}
        delay, system, chips, total = 0, 0, set(), 0
        for placement in FecDataView.iterate_placemements():
            total += 1
            chips.add((placement.x, placement.y))
            app = getattr(placement.vertex, "app_vertex", None)
            if app is not None and id(app) in pops:
                per_pop[pops[id(app)]] += 1
            elif "Delay" in type(placement.vertex).__name__:
                delay += 1
            else:
                system += 1
        simulation.info["cores"] = {"total": total, "populations": per_pop, "delay_extensions": delay,
                                    "system": system, "chips": len(chips)}
        if self.options["virtual_board"]:
            warnings.warn("spinnaker: virtual board: the network was mapped (see sim.info['cores']) but not "
                          "run; the results hold no spikes or traces", RuntimeWarning, stacklevel=3)

    def run_until(self, sim, t):
        from spynnaker.pyNN.exceptions import SynapseRowTooBigException
        try:
            sim.run_until(t)
        except SynapseRowTooBigException as error:
            raise UnsupportedFeatureError(
                "spinnaker", f"a synaptic row longer than sPyNNaker allows ({error})",
                "lower neurons_per_core for the postsynaptic population, or use numba, nest or brian2") from error

    def read_state(self, pop, name):
        raise UnsupportedFeatureError("spinnaker", f"reading the state variable '{name}' with get()",
                                      "sPyNNaker reads state only through recording: record it and read "
                                      "sim.results; or use nest, numba or brian2")

    def write_state(self, pop, name, values):
        raise UnsupportedFeatureError("spinnaker", f"setting the state variable '{name}' with set()",
                                      "set initial values on the Population before compile "
                                      "(pop.initialize(...)); or use nest, numba or brian2")

    def read_weights(self, proj, bp):
        if self.options["virtual_board"]:
            w = self.quantised_weights(bp)
            return np.column_stack([bp.pre_idx, bp.post_idx, w])
        return proj.get("weight", format="list", with_address=True)

    def write_weights(self, proj, bp, built, w):
        raise UnsupportedFeatureError("spinnaker", "set_weights()", "change the weights in the Network "
                                      "and compile again; or use nest, numba or brian2")

    def cleanup(self):
        if self.own_dir and not self.options.get("keep_run_dir", True):
            # sPyNNaker's atexit hook writes an 'errored' marker into the last report folder,
            # which is inside the directory removed here
            import atexit

            from spinn_utilities.data.utils_data_writer import UtilsDataWriter
            atexit.unregister(UtilsDataWriter.write_errored_file)
            shutil.rmtree(self.run_dir, ignore_errors=True)


def compile(network, virtual_board=False, version=None, width=None, height=None, run_dir=None,
            keep_run_dir=True, neurons_per_core=None, time_scale_factor=None, machine_name=None,
            spalloc_server=None, spalloc_user=None, quiet=True):
    """Check the network against sPyNNaker's limits, build it and create it through pyNN.spiNNaker.

    virtual_board: map on a virtual machine (no board, no spikes); version: board version
    (5 = SpiNN-5, 48 chips; 3 = SpiNN-3, 4 chips); width/height: a virtual multi-board
    machine; run_dir: the working directory (default: a fresh temporary one; sPyNNaker's
    reports stay there unless keep_run_dir=False, then close() removes it);
    neurons_per_core: int or {label: int} (<= 256);
    time_scale_factor: slow-down (default 10 at dt = 0.1 ms); machine_name/spalloc_*:
    a real machine (else ~/.spynnaker.cfg); quiet: sPyNNaker logs warnings only.
    """
    if (width is None) != (height is None):
        raise ValidationError("spinnaker backend", "width", "give both width and height, or neither")
    options = dict(virtual_board=bool(virtual_board), version=version, width=width, height=height,
                   run_dir=run_dir, keep_run_dir=keep_run_dir, neurons_per_core=neurons_per_core,
                   time_scale_factor=time_scale_factor, machine_name=machine_name,
                   spalloc_server=spalloc_server, spalloc_user=spalloc_user, quiet=quiet)
    _check_options(network, options)
    check_network(network, TARGET, _stdp_extra)
    _check_one_plasticity_per_population(network)
    built = build(network)
    check_built(built, network, TARGET, _max_delay_steps(options))
    _check_row_lengths(built, options)
    return PyNNSimulation(network, built, SpiNNakerAdapter(options))
