"""Synapse types: static, equation-defined (plastic) synapses, and PyNN's STDP and
Tsodyks-Markram models written as equation-defined synapses.

Weights are in the receptor's unit (nA current-based, uS conductance-based, mV
delta); times in ms.

How PyNN's amplitudes scale (and so neurosim's, checked against PyNN 0.13's
NEST and Brian2 translations): a pair at Δt = t_post - t_pre changes the weight by

* additive:        Δw = +A_plus * w_max * exp(-Δt/tau_plus)   (Δt > 0)
                   Δw = -A_minus * w_max * exp(Δt/tau_minus)  (Δt < 0)
* multiplicative:  Δw = +A_plus * (w_max - w) * exp(-Δt/tau_plus)
                   Δw = -A_minus * (w - w_min) * exp(Δt/tau_minus)

and the weight is then clipped to [w_min, w_max].  sPyNNaker's additive rule also
pre-multiplies A_plus / A_minus by w_max (older releases; verify for 7.4.1 before
relying on it); it differs in arithmetic (16-bit fixed-point weights, exponential
look-up tables, 1 ms steps) and processes a synapse's updates lazily at the next
presynaptic spike.
"""
import numpy as np

from . import expressions
from .equations import parse_equations
from .errors import ValidationError
from .neurons import check_value

RESERVED_SYNAPSE_NAMES = {"w", "psp", "t"}


class SynapseType:
    """Base of synapse types: ``weight`` (number, array or RandomDistribution) and ``delay`` (ms)."""

    plastic = False

    def __init__(self, weight=0.0, delay=None):
        cls = type(self).__name__
        self.weight = weight if hasattr(weight, "rescale") else check_value(weight, cls, "weight")
        self.delay = None if delay is None else check_value(delay, cls, "delay", "ms")
        if isinstance(self.delay, (float, np.ndarray)) and np.any(np.asarray(self.delay) < 0):
            raise ValidationError(cls, "delay", f"must be >= 0 ms (got {np.min(self.delay)})")

    def __repr__(self):
        return f"{type(self).__name__}(weight={self.weight!r}, delay={self.delay!r})"


class StaticSynapse(SynapseType):
    """A fixed-weight synapse: weight in the receptor's unit, delay in ms (>= dt; None: one step)."""


class SynapseModel(SynapseType):
    """An equation-defined synapse with per-synapse variables.

    Parameters
    ----------
    equations : str
        Per-synapse variables: ``dx/dt = a + b*x : unit (event-driven)`` with a, b
        built from parameters (updated exactly between events), or constants ``c : unit``.
    on_pre : str
        Statements run when a presynaptic spike reaches the synapse.  They may
        read and write the synapse's variables and ``w``, read parameters,
        ``t`` (ms) and neuron variables as ``v_post`` / ``v_pre``.  Assigning
        ``psp`` sets what is delivered to the receptor (default: ``w``).
    on_post : str
        Statements run when the postsynaptic neuron spikes (after the dendritic delay).
    parameters, initial : dict
        Parameter values (one per projection) and initial values of the variables.
    dendritic_delay_fraction : float
        Part of the delay that is dendritic (PyNN): presynaptic spikes are
        processed at t_pre + delay, postsynaptic spikes at t_post + fraction * delay.
    """

    plastic = True

    def __init__(self, equations="", on_pre="", on_post="", parameters=None, initial=None,
                 weight=0.0, delay=None, dendritic_delay_fraction=1.0, name=None):
        super().__init__(weight, delay)
        self.name = name or type(self).__name__
        if not isinstance(self.name, str):
            raise ValidationError("SynapseModel", "name", f"must be a string (got {name!r})")
        obj = self.name
        self.equations = parse_equations(equations, obj, flag="event-driven", need_ode=False)
        for var in self.equations.variables.values():
            if var.name in RESERVED_SYNAPSE_NAMES or var.name.endswith(("_pre", "_post")):
                raise ValidationError(obj, "equations", f"'{var.name}' is reserved in synapse models "
                                      "(w is the weight, psp the delivered amount, *_pre/*_post name neuron variables)")
            if var.kind == "sub":
                raise ValidationError(obj, "equations", f"subexpressions are not supported in synapse "
                                      f"models ({var.text!r})")
        self.parameters = {}
        for attr, given in (("parameters", parameters), ("initial", initial)):
            if given is not None and not isinstance(given, dict):
                raise ValidationError(obj, attr, f"must be a dict (got {given!r})")
        for key, value in (parameters or {}).items():
            expressions.check_name(key, obj, "parameters", "parameter name")  # becomes part of kernel code
            if key in self.equations.variables or key in RESERVED_SYNAPSE_NAMES:
                raise ValidationError(obj, key, "is also a variable or a reserved name")
            value = check_value(value, obj, key)
            if not isinstance(value, float):
                raise ValidationError(obj, key, f"synapse parameters are one number per projection (got {value!r})")
            self.parameters[key] = value
        self.initial = {}
        for key, value in (initial or {}).items():
            if key not in self.equations.variables:
                raise ValidationError(obj, "initial", f"unknown variable {key!r}; variables: "
                                      f"{', '.join(self.equations.variables) or 'none'}")
            self.initial[key] = check_value(value, obj, key)
        self.on_pre = expressions.parse_statements(on_pre or "", obj, "on_pre")
        self.on_post = expressions.parse_statements(on_post or "", obj, "on_post")
        own = set(self.equations.variables) | set(self.parameters) | {"w", "t"} | set(expressions.CONSTANTS)
        for where, stmts in (("on_pre", self.on_pre), ("on_post", self.on_post)):
            for target, _, tree in stmts:
                allowed = set(self.equations.variables) | {"w"} | ({"psp"} if where == "on_pre" else set())
                if target not in allowed:
                    raise ValidationError(obj, where, f"cannot assign to {target!r}; assignable: "
                                          f"{', '.join(sorted(allowed))}")
                unknown = {n for n in expressions.names(tree) if n not in own and n != "psp"
                           and not n.endswith(("_pre", "_post"))}
                if unknown:
                    raise ValidationError(obj, where, f"uses undefined name(s) {', '.join(sorted(unknown))}; "
                                          f"defined: {', '.join(sorted(own - set(expressions.CONSTANTS)))}")
        fraction = check_value(dendritic_delay_fraction, obj, "dendritic_delay_fraction")
        if not isinstance(fraction, float) or not 0.0 <= fraction <= 1.0:
            raise ValidationError(obj, "dendritic_delay_fraction", f"must be in [0, 1] (got {fraction!r})")
        self.dendritic_delay_fraction = fraction

    def neuron_references(self):
        """{'pre': names, 'post': names} of neuron variables the statements read."""
        refs = {"pre": set(), "post": set()}
        for _, _, tree in self.on_pre + self.on_post:
            for n in expressions.names(tree):
                for side in ("pre", "post"):
                    if n.endswith("_" + side):
                        refs[side].add(n[: -len(side) - 1])
        return refs

    def __repr__(self):
        return f"{self.name}(weight={self.weight!r}, delay={self.delay!r}, parameters={self.parameters})"


# ------------------------------------------------------------------ STDP parts
def _positive(obj, **values):
    out = {}
    for key, value in values.items():
        value = check_value(value, obj, key)
        if not isinstance(value, float) or value <= 0:
            raise ValidationError(obj, key, f"must be a number > 0 (got {value!r})")
        out[key] = value
    return out


def _non_negative(obj, **values):
    out = {}
    for key, value in values.items():
        value = check_value(value, obj, key)
        if not isinstance(value, float) or value < 0:
            raise ValidationError(obj, key, f"must be a number >= 0 (got {value!r})")
        out[key] = value
    return out


class AdditiveWeightDependence:
    """Weight changes independent of w, scaled by w_max (PyNN); w clipped to [w_min, w_max]."""
    potentiation, depression = "w_max", "w_max"

    def __init__(self, w_min=0.0, w_max=1.0):
        cls = type(self).__name__
        self.parameters = {"w_min": float(check_value(w_min, cls, "w_min")),
                           "w_max": float(check_value(w_max, cls, "w_max"))}
        if self.parameters["w_max"] < self.parameters["w_min"]:
            raise ValidationError(cls, "w_max", f"must be >= w_min = {w_min} (got {w_max})")

    def __repr__(self):
        return f"{type(self).__name__}(w_min={self.parameters['w_min']}, w_max={self.parameters['w_max']})"


class MultiplicativeWeightDependence(AdditiveWeightDependence):
    """Potentiation ∝ (w_max - w), depression ∝ (w - w_min) (PyNN)."""
    potentiation, depression = "(w_max - w)", "(w - w_min)"


CLIP = "w = min(max(w, w_min), w_max)"


class SpikePairRule:
    """Pair STDP.  pairing='all' (PyNN's SpikePairRule: every pre/post pair counts)
    or 'nearest' (only the nearest spike of the other side: traces reset to 1)."""

    def __init__(self, tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.01, pairing="all"):
        cls = type(self).__name__
        self.parameters = {**_positive(cls, tau_plus=tau_plus, tau_minus=tau_minus),
                           **_non_negative(cls, A_plus=A_plus, A_minus=A_minus)}
        if pairing not in ("all", "nearest"):
            raise ValidationError(cls, "pairing", f"must be 'all' or 'nearest' (got {pairing!r})")
        self.pairing = pairing

    def model(self, wd):
        bump = "+= 1" if self.pairing == "all" else "= 1"
        return dict(
            equations="dapre/dt = -apre/tau_plus : 1\ndapost/dt = -apost/tau_minus : 1",
            on_pre=f"w = w - A_minus*{wd.depression}*apost; {CLIP}; apre {bump}",
            on_post=f"w = w + A_plus*{wd.potentiation}*apre; {CLIP}; apost {bump}")


class PfisterSpikeTripletRule:
    """All-to-all triplet STDP (Pfister & Gerstner 2006).

    Traces r1 (tau_plus), r2 (tau_x) of presynaptic and o1 (tau_minus), o2 (tau_y)
    of postsynaptic spikes; on a pre spike Δw = -o1 (A2_minus + A3_minus r2),
    on a post spike Δw = r1 (A2_plus + A3_plus o2), both scaled by the weight
    dependence as in SpikePairRule (r2, o2 taken just before their own increment).
    sPyNNaker splits these parameters between PfisterSpikeTripletRule and
    WeightDependenceAdditiveTriplet(A3_plus, A3_minus).
    """

    def __init__(self, tau_plus=16.8, tau_minus=33.7, tau_x=101.0, tau_y=125.0, A2_plus=5e-10,
                 A3_plus=6.2e-3, A2_minus=7e-3, A3_minus=2.3e-4):
        cls = type(self).__name__
        self.parameters = {**_positive(cls, tau_plus=tau_plus, tau_minus=tau_minus, tau_x=tau_x, tau_y=tau_y),
                           **_non_negative(cls, A2_plus=A2_plus, A3_plus=A3_plus, A2_minus=A2_minus,
                                           A3_minus=A3_minus)}

    def model(self, wd):
        return dict(
            equations="dr1/dt = -r1/tau_plus : 1\ndr2/dt = -r2/tau_x : 1\n"
                      "do1/dt = -o1/tau_minus : 1\ndo2/dt = -o2/tau_y : 1",
            on_pre=f"w = w - o1*(A2_minus + A3_minus*r2)*{wd.depression}; {CLIP}; r1 += 1; r2 += 1",
            on_post=f"w = w + r1*(A2_plus + A3_plus*o2)*{wd.potentiation}; {CLIP}; o1 += 1; o2 += 1")


class Vogels2011Rule:
    """Inhibitory STDP of Vogels et al. 2011 (PyNN names): tau (ms), eta, rho (target rate, Hz).

    Pre spike: Δw = eta (apost - alpha) with alpha = 2 rho tau / 1000; post spike:
    Δw = eta apre.  As in NEST, eta is not scaled by w_max; the weight
    dependence only clips.
    """

    def __init__(self, tau=20.0, eta=1e-10, rho=3.0):
        cls = type(self).__name__
        self.parameters = {**_positive(cls, tau=tau), **_non_negative(cls, eta=eta, rho=rho)}

    def model(self, wd):
        return dict(
            equations="dapre/dt = -apre/tau : 1\ndapost/dt = -apost/tau : 1",
            on_pre=f"w = w + eta*(apost - 2*rho*tau/1000); {CLIP}; apre += 1",
            on_post=f"w = w + eta*apre; {CLIP}; apost += 1")


class STDPMechanism(SynapseModel):
    """PyNN's STDP synapse: a timing dependence times a weight dependence."""

    def __init__(self, timing_dependence=None, weight_dependence=None, weight=0.0, delay=None,
                 dendritic_delay_fraction=1.0):
        timing = timing_dependence or SpikePairRule()
        wd = weight_dependence or AdditiveWeightDependence()
        if not hasattr(timing, "model"):
            raise ValidationError("STDPMechanism", "timing_dependence", f"must be SpikePairRule, "
                                  f"PfisterSpikeTripletRule or Vogels2011Rule (got {timing!r})")
        if not isinstance(wd, AdditiveWeightDependence):
            raise ValidationError("STDPMechanism", "weight_dependence", f"must be AdditiveWeightDependence "
                                  f"or MultiplicativeWeightDependence (got {wd!r})")
        self.timing_dependence, self.weight_dependence = timing, wd
        super().__init__(**timing.model(wd), parameters={**timing.parameters, **wd.parameters},
                         weight=weight, delay=delay, dendritic_delay_fraction=dendritic_delay_fraction,
                         name="STDPMechanism")


class TsodyksMarkramSynapse(SynapseModel):
    """Short-term depression and facilitation (Tsodyks & Markram; NEST's tsodyks2 recursion).

    U: utilisation increment, tau_rec: recovery (ms), tau_facil: facilitation decay
    (ms, 0 = none).  At each spike: u = U + u (1 - U) (after decay), the
    delivered amplitude is w u x, then x -= u x.  Works on any receptor.
    """

    def __init__(self, U=0.5, tau_rec=100.0, tau_facil=0.0, weight=0.0, delay=None):
        cls = "TsodyksMarkramSynapse"
        U = check_value(U, cls, "U")
        if not isinstance(U, float) or not 0 < U <= 1:
            raise ValidationError(cls, "U", f"must be in (0, 1] (got {U!r})")
        params = {"U": U, **_positive(cls, tau_rec=tau_rec), **_non_negative(cls, tau_facil=tau_facil)}
        facilitating = params["tau_facil"] > 0
        super().__init__(
            equations="dx/dt = (1 - x)/tau_rec : 1\n" + ("du/dt = -u/tau_facil : 1" if facilitating else "u : 1"),
            on_pre=("u = U + u*(1 - U)" if facilitating else "u = U") + "; psp = w*u*x; x = x - u*x",
            parameters=params, initial={"x": 1.0, "u": 0.0}, weight=weight, delay=delay, name=cls)
