"""What a SpiNNaker board running sPyNNaker 7.4.1 computes, predicted on the CPU.

Shared by the ``spinnaker`` backend (which asks sPyNNaker itself for the weight scales and warns
about rounding) and the numba backend's ``numerics="spinnaker"`` mode, which runs the same
network on the CPU with:

* **weights as the board stores them**: 16-bit unsigned integers with one power-of-two scale per
  (postsynaptic population, receptor).  sPyNNaker picks the scale from an upper bound on the sum
  of weights arriving in one tick (:func:`max_summed_weight`, the rule of its
  ``PopulationVertex.get_ring_buffer_shifts`` for ``FromListConnector`` projections, which is
  what the spinnaker backend sends): with one delay per projection the bound is the sum over
  projections of (largest weight x largest in-degree); with spread-out delays it is a Poisson
  estimate at 30 spikes/s and 5 standard deviations, never below the largest weight.  The
  scale is 2**(15 - shift) per nA where 2**shift is the first power of two above the bound;
  weights are rounded to the nearest step and saturate at 65535 steps.
* **the tick order of sPyNNaker's IF_curr_exp** (:func:`spinnaker_lif`): the synaptic input of
  a tick is added to the current before the membrane update and the threshold test, so a spike
  sent at tick t with delay d is answered at tick t + d (neurosim's float kernels answer one step
  later); membrane and synapses use sPyNNaker's exact exponential decays.
* the 1 ms (or 0.1 ms) tick and delays in whole ticks, checked against the same capability
  profile as the spinnaker backend (delay range, cell types, no equation-defined models).

Not emulated: the s16.15 fixed-point rounding of the state variables (the state is float64 here,
so V may differ from the board's by a few 2**-15 mV after many ticks), sPyNNaker's random
numbers (Poisson sources draw from neurosim's generator: same rates, different spike trains),
plasticity other than :func:`spinnaker_stdp` (refused; its weights are rounded at the start but
not after each update), other cell types (refused) and dropped packets on an overloaded board.
Models already written in sPyNNaker's arithmetic (:func:`spinnaker_lif`, :func:`spinnaker_stdp`,
see :data:`NATIVE_MODELS`) run as they are.
"""
import math
import warnings

import numpy as np

from neurosim.errors import UnsupportedFeatureError

#: bits of a stored weight
WEIGHT_BITS = 16
#: sPyNNaker's defaults (spynnaker.cfg [Simulation]): rate assumed for every presynaptic neuron
#: (Hz) and the number of standard deviations of the Poisson bound
SPIKES_PER_SECOND = 30.0
RING_BUFFER_SIGMA = 5.0
_POISSON_SUMMATION_SIGMAS = 3.0


class _Pooled:
    """Mean and variance of items added in groups (parallel-variance formula)."""

    def __init__(self):
        self.n, self.mean, self.sum_sq = 0, 0.0, 0.0

    def add(self, mean, variance, n):
        if n <= 0:
            return
        total = self.n + n
        delta = mean - self.mean
        self.sum_sq += variance * (n - 1.0) + delta * delta * self.n * n / total
        self.mean = (self.n * self.mean + n * mean) / total
        self.n = total

    @property
    def variance(self):
        return 0.0 if self.n <= 1 else self.sum_sq / (self.n - 1.0)


def _poisson_upper_bound(mean_w, std_w, rate_hz, n_inputs, sigma, ticks_per_s):
    """Mean + sigma SD of the summed weight in one tick for n Poisson inputs at rate_hz."""
    per_tick = n_inputs * rate_hz / ticks_per_s
    variance = per_tick * mean_w ** 2
    if std_w > 0:
        from scipy import special
        top = int(round(per_tick + _POISSON_SUMMATION_SIGMAS * math.sqrt(per_tick)))
        ratio = math.log(per_tick) * top - special.gammaln(1 + top)
        if -701.0 < ratio < 701.0 and ratio != 0.0:
            tail = math.exp(per_tick) * special.gammaincc(1 + top, per_tick) - math.exp(ratio)
            variance += math.exp(-per_tick + math.log(per_tick) + 2.0 * math.log(std_w) + math.log(tail))
    return per_tick * mean_w + sigma * math.sqrt(variance)


def max_summed_weight(projections, dt):
    """sPyNNaker's bound on the weight summed into one tick of one receptor's ring buffer.

    ``projections``: the BuiltProjections onto one (population, receptor).
    """
    ticks_per_s = 1000.0 / dt
    per_tick = max(1.0, SPIKES_PER_SECOND / ticks_per_s)
    weights, delays, total, biggest = _Pooled(), _Pooled(), 0.0, 0.0
    for bp in projections:
        if not len(bp.weights):
            continue
        w = np.abs(np.asarray(bp.weights, dtype=np.float64))
        w_top = float(w.max())
        if bp.synapse is not None:      # a plastic projection may grow up to its w_max
            w_top = max(w_top, abs(float(bp.synapse.parameters.get("w_max", 0.0))))
        in_degree = int(np.bincount(bp.post_local).max())
        weights.add(float(w.mean()), float(w.var()), in_degree)
        delays.add(0.0, float(np.var(np.asarray(bp.delay_steps) * dt)), in_degree)
        total += per_tick * w_top * in_degree
        biggest = max(biggest, w_top)
    if delays.variance == 0.0:
        return max(total, biggest)
    bound = _poisson_upper_bound(weights.mean, math.sqrt(weights.variance), SPIKES_PER_SECOND,
                                 weights.n, RING_BUFFER_SIGMA, ticks_per_s)
    return max(min(bound, total), biggest)


def weight_scale(max_weight):
    """Stored steps per unit weight (nA) for a ring buffer that must hold ``max_weight``."""
    shift = 0 if max_weight <= 0 else int(math.ceil(max(0.0, math.log2(max_weight))))
    if 2.0 ** shift <= max_weight:
        shift += 1                      # the range is [0, 2**shift)
    return 2.0 ** (WEIGHT_BITS - (shift + 1))


def weight_scales(built):
    """``{(post population index, receptor): scale}`` for the static projections of ``built`` and
    those of :func:`spinnaker_stdp` (initial weights; updates during the run are not rounded)."""
    groups = {}
    for bp in built.projections:
        if bp.synapse is None or is_native(bp.synapse):
            groups.setdefault((bp.post, bp.receptor), []).append(bp)
    return {key: weight_scale(max_summed_weight(projs, built.dt)) for key, projs in groups.items()}


def quantise(weights, scale):
    """Weights as stored on the board (same signs) and a summary of the rounding.

    Returns ``(stored, info)``; info: scale_per_unit, step, n, rounded_to_zero, saturated,
    max_relative_error, mean_relative_error.
    """
    w = np.abs(np.asarray(weights, dtype=np.float64))
    q = np.rint(w * scale)
    saturated = q > 2 ** WEIGHT_BITS - 1
    q = np.minimum(q, 2 ** WEIGHT_BITS - 1)
    stored = np.sign(weights) * q / scale
    nonzero = w > 0
    rel = np.abs(np.abs(stored[nonzero]) - w[nonzero]) / w[nonzero]
    info = {"scale_per_unit": float(scale), "step": 1.0 / scale, "n": int(len(w)),
            "rounded_to_zero": int((nonzero & (q == 0)).sum()), "saturated": int(saturated.sum()),
            "max_relative_error": float(rel.max()) if len(rel) else 0.0,
            "mean_relative_error": float(rel.mean()) if len(rel) else 0.0}
    return stored, info


def rounding_warning(backend, label, info, unit):
    """The warning text for a projection whose weights round to zero or saturate, else None."""
    if not (info["rounded_to_zero"] or info["saturated"]):
        return None
    largest = (2 ** WEIGHT_BITS - 1) * info["step"]
    return (f"{backend}: Projection '{label}': {info['rounded_to_zero']} of {info['n']} weights round "
            f"to 0 and {info['saturated']} saturate in sPyNNaker's 16-bit weights (step "
            f"{info['step']:.3g} {unit}, largest {largest:.3g} {unit}); relative error max "
            f"{100 * info['max_relative_error']:.3g} %, mean {100 * info['mean_relative_error']:.3g} %; "
            "scale the weights, or set the post population's expected input so sPyNNaker picks "
            "another scale")


def spinnaker_lif(cm, tau_m, tau_refrac, tau_syn_E, tau_syn_I, v_rest, v_reset, v_thresh, i_offset=0.0,
                  dt=1.0):
    """sPyNNaker's IF_curr_exp tick as a neurosim NeuronModel (units: nF, ms, mV, nA).

    Per tick: add the tick's synaptic input to the current (weight x tau_syn/dt (1 - e^{-dt/tau_syn})),
    V <- V_rest + R(1 - e^{-dt/tau_m})(I + i_offset) + e^{-dt/tau_m}(V - V_rest) unless refractory,
    spike if V >= V_thresh, then the currents decay.  neurosim's kernel delivers a step's input
    after the integration, so the model keeps ``u`` (mV), the membrane potential without this
    tick's synaptic term, and the threshold reads ``vm = u + c (ie + ii)``: the kernel re-tests
    the threshold right after delivering input and the spike lands in the tick of arrival.
    ``ie``/``ii`` (nA) are the synaptic currents (inhibitory weights negative), ``h`` the
    refractory hold counter; ``dt`` (ms) must be the network's time step (one tick).
    """
    import neurosim as ns
    em = math.exp(-dt / tau_m)
    params = dict(v_rest=v_rest, v_reset=v_reset, v_thresh=v_thresh, i_offset=i_offset, em=em,
                  c=tau_m / cm * (1.0 - em), step=dt,
                  dec_e=math.exp(-dt / tau_syn_E), init_e=tau_syn_E / dt * (1.0 - math.exp(-dt / tau_syn_E)),
                  dec_i=math.exp(-dt / tau_syn_I), init_i=tau_syn_I / dt * (1.0 - math.exp(-dt / tau_syn_I)),
                  n_hold=float(int(round(tau_refrac / dt)) + 1))
    eqs = """
        vm = u + (c*(ie + ii) if h < 0.5 else 0.0) : mV
        u_next = (u if h > 1.5 else v_rest + c*i_offset + em*(vm - v_rest)) : mV
        du/dt = (u_next - u)/step : mV
        dh/dt = (max(h - 1.0, 0.0) - h)/step : 1
        die/dt = (dec_e*ie - ie)/step : nA
        dii/dt = (dec_i*ii - ii)/step : nA
    """
    return ns.NeuronModel(eqs, threshold="vm >= v_thresh", reset="u = v_reset; h = n_hold", refractory=0.0,
                          parameters=params, initial=dict(u=v_rest, h=0.0, ie=0.0, ii=0.0),
                          receptors={"excitatory": "ie += weight*init_e", "inhibitory": "ii += weight*init_i"},
                          method="euler", name="SpiNNakerIF_curr_exp")


def spinnaker_stdp(tau_plus, tau_minus, A_plus, A_minus, w_min, w_max, delay=1.0, lut=2, weight=0.0):
    """sPyNNaker's additive pair STDP as it acted in the CA3 reference run, as a SynapseModel.

    The window was fitted to the SpiNNaker CA3 traces (see ``neurosim.models.ca3_cam``).

    Needs delay = dt = 1 ms (then neurosim's order of on_pre / on_post matches sPyNNaker's
    post-spike window).  ``lut``: number of 1 ms entries of the exponential look-up table
    (None: untruncated).  Variables: last pre / post event times ``tpre``, ``tpost`` (ms, neurosim
    event times) and traces ``rpre``, ``opost``.
    """
    import neurosim as ns
    if delay != 1.0:
        raise ValueError(f"spinnaker_stdp reproduces sPyNNaker's window only for delay = 1 ms (got {delay})")
    k = 1e9 if lut is None else float(lut)

    def decay(x, tau, size):
        return f"(exp(-({x})/{tau}) if ({x}) < {size} else 0.0)"
    # neurosim event times: pre at t_pre + d, post at t_post + d; sPyNNaker's Δt are
    # post - pre + d (potentiation) and pre - post - d (depression)
    on_pre = (f"w = max(w - A_minus*w_max*opost*{decay('t - tpost - d_syn', 'tau_minus', 'lut_minus')}, w_min); "
              f"rpre = rpre*{decay('t - tpre', 'tau_plus', 'lut_plus')} + 1.0; tpre = t")
    on_post = (f"w = min(w + A_plus*w_max*rpre*{decay('t - tpre + d_syn', 'tau_plus', 'lut_plus')}, w_max); "
               f"opost = opost*{decay('t - tpost', 'tau_minus', 'lut_minus')} + 1.0; tpost = t")
    return ns.SynapseModel(equations="tpre : ms\ntpost : ms\nrpre : 1\nopost : 1", on_pre=on_pre,
                           on_post=on_post, weight=weight, delay=delay, name="SpiNNakerSTDP",
                           parameters=dict(tau_plus=tau_plus, tau_minus=tau_minus, A_plus=A_plus, A_minus=A_minus,
                                           w_min=w_min, w_max=w_max, d_syn=delay, lut_plus=k, lut_minus=k))


#: models already written in sPyNNaker's tick arithmetic: numerics='spinnaker' runs them as they are
NATIVE_MODELS = frozenset({"SpiNNakerIF_curr_exp", "SpiNNakerSTDP"})


def is_native(model):
    """True for the NeuronModel / SynapseModel of :func:`spinnaker_lif` / :func:`spinnaker_stdp`."""
    return getattr(model, "name", None) in NATIVE_MODELS


_LIF_PARAMS = ("cm", "tau_m", "tau_refrac", "tau_syn_E", "tau_syn_I", "v_rest", "v_reset", "v_thresh", "i_offset")


def _refuse(feature, hint):
    raise UnsupportedFeatureError("numba (numerics='spinnaker')", feature, hint)


def emulate(built, network):
    """Turn ``built`` (built from ``network``) into what sPyNNaker would run, in place.

    Checks the spinnaker capability profile first; returns ``{label: quantisation info}``.
    """
    from neurosim.neurons import IF_curr_exp
    from .pynn.capabilities import check_built, check_network
    from .pynn.spinnaker import TARGET, _max_delay_steps
    check_network(network, TARGET, native=is_native)
    check_built(built, network, TARGET, _max_delay_steps({}), native=is_native)
    float_hint = "use numerics='float32' or 'float64', or the spinnaker backend"
    for bp in built.projections:
        if bp.synapse is not None and not is_native(bp.synapse):
            _refuse(f"plastic Projection '{bp.label}'", "sPyNNaker's STDP arithmetic is not emulated (only "
                    "spinnaker_stdp); " + float_hint)
    for pop in built.populations:
        if pop.kind != "neuron":
            continue
        if pop.record:
            _refuse(f"Population '{pop.label}': recording {', '.join(sorted(pop.record))}",
                    "numerics='spinnaker' records spikes only; " + float_hint)
        if is_native(pop.celltype):
            continue
        if type(pop.celltype) is not IF_curr_exp:
            _refuse(f"Population '{pop.label}': {type(pop.celltype).__name__}",
                    "only IF_curr_exp's tick is emulated; " + float_hint)
        if pop.injection is not None:
            _refuse(f"Population '{pop.label}': current sources", "use i_offset, or " + float_hint)
        varying = [name for name in _LIF_PARAMS if np.ndim(pop.params[name])]
        if varying:
            _refuse(f"Population '{pop.label}': per-neuron {', '.join(varying)}", "give every neuron the same "
                    "value (one population per parameter set), or " + float_hint)
        v0, ie0, ii0 = (np.array(pop.initial[name], dtype=np.float64) for name in ("v", "isyn_exc", "isyn_inh"))
        cell = spinnaker_lif(**{name: float(pop.params[name]) for name in _LIF_PARAMS}, dt=built.dt)
        pop.celltype = cell
        pop.params = {name: float(value) for name, value in cell.parameters.items()}
        pop.initial = {"u": v0, "h": np.zeros(pop.size), "ie": ie0, "ii": ii0}
        pop.refractory_steps = 0
    scales = weight_scales(built)
    out = {}
    for bp in built.projections:
        if (bp.post, bp.receptor) not in scales:
            continue
        stored, info = quantise(bp.weights, scales[(bp.post, bp.receptor)])
        bp.weights = stored
        out[bp.label] = dict(info, unit="nA")
        message = rounding_warning("numba (numerics='spinnaker')", bp.label, info, "nA")
        if message:
            warnings.warn(message, RuntimeWarning, stacklevel=3)
    return out
