"""Neuron models: equation-defined ``NeuronModel`` and the PyNN standard cells.

Every neuron model, standard or custom, is a ``NeuronModel``: equations with
units, a threshold, a reset, a refractory period, parameters and initial
values, and *receptors* saying what an incoming synaptic ``weight`` does
(``'isyn_exc += weight'``).  The standard cells below are NeuronModels whose
equations are fixed and whose parameters have PyNN's names, units, defaults
and allowed ranges.
"""
import math

import numpy as np

from . import expressions
from .equations import METHODS, check_units, parse_equations
from .errors import ValidationError
from .random import RandomDistribution
from .units import is_quantity, parse_unit, quantity_dims, to_canonical


def _check_number(value, obj, attr):
    """Scalar parameters must be finite real numbers."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValidationError(obj, attr, f"must be a number (got {value!r} of type {type(value).__name__})")
    if not math.isfinite(value):
        raise ValidationError(obj, attr, f"must be finite (got {value})")
    return float(value)


def check_value(value, obj, attr, unit=None):
    """Accept a number, a 1-D array of numbers, a RandomDistribution or a quantity."""
    if is_quantity(value):
        if unit is None:
            found = quantity_dims(value)
            if found is None:
                raise ValidationError(obj, attr, f"unit {value.dimensionality.string} is not one of "
                                      "mV, ms, nA, nF, uS, Hz and their multiples")
            unit = found
        value = to_canonical(value, unit, obj, attr)
    if isinstance(value, RandomDistribution):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value)
        if arr.ndim != 1 or arr.dtype.kind not in "iuf":
            raise ValidationError(obj, attr, f"must be a number, a 1-D array of numbers or a "
                                  f"RandomDistribution (got array of shape {arr.shape}, dtype {arr.dtype})")
        if not np.all(np.isfinite(arr)):
            raise ValidationError(obj, attr, f"must be finite (got {arr[~np.isfinite(arr)][0]} in the array)")
        return arr.astype(float)
    return _check_number(value, obj, attr)


def _is_condition(node):
    """True for comparisons and and/or/not/if-else combinations of them."""
    import ast
    if isinstance(node, ast.Compare) or isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return True
    if isinstance(node, ast.BoolOp):
        return all(_is_condition(v) for v in node.values)
    if isinstance(node, ast.IfExp):
        return _is_condition(node.body) and _is_condition(node.orelse)
    return False


class NeuronModel:
    """A neuron defined by equations.

    Parameters
    ----------
    equations : str
        ``dx/dt = expr : unit`` lines, ``x = expr : unit`` subexpressions and
        ``x : unit`` per-neuron variables.  Canonical units: ms, mV, nA, nF, uS.
    threshold : str or None
        Spike condition, e.g. ``'v > v_thresh'``.  None: the model never spikes.
    reset : str
        Statements run after a spike, e.g. ``'v = v_reset; w += b'``.
    refractory : float or str
        Refractory period in ms, or the name of a parameter holding it.
        Variables flagged ``(unless refractory)`` are held during it.
    parameters : dict
        Parameter values (numbers taken as given, quantities converted).
    initial : dict
        Initial values of variables (default 0).
    receptors : dict
        ``{receptor_type: statement}``; the statement adds the summed
        ``weight`` of this step's arriving spikes to a variable, e.g.
        ``{'excitatory': 'ge += weight'}``.  It must be linear in ``weight``.
    current_input : str or None
        Variable that injected currents (DCSource, ...) are added to, in nA.
    method : str
        'auto', 'exact', 'euler', 'rk2', 'rk4' or 'exponential_euler'.
    units : dict
        Optional units of plain-float parameters (enables dimension checks).
    """

    conductance_based = False
    weight_unit = "nA"

    def __init__(self, equations, threshold=None, reset="", refractory=0.0, parameters=None,
                 initial=None, receptors=None, current_input=None, method="auto", units=None,
                 name=None):
        self.name = name or type(self).__name__
        if not isinstance(self.name, str):
            raise ValidationError("NeuronModel", "name", f"must be a string (got {name!r})")
        obj = self.name
        for attr, given in (("parameters", parameters), ("initial", initial), ("receptors", receptors),
                            ("units", units)):
            if given is not None and not isinstance(given, dict):
                raise ValidationError(obj, attr, f"must be a dict (got {given!r})")
        self.equations = parse_equations(equations, obj)
        if method not in METHODS:
            raise ValidationError(obj, "method", f"unknown integration method {method!r}; allowed: "
                                  f"{', '.join(METHODS)}")
        self.method = method
        self.parameters, self.param_units = {}, {}
        for key, unit in (units or {}).items():
            self.param_units[key] = parse_unit(unit, obj, key)
        for key, value in (parameters or {}).items():
            if key in self.equations.variables:
                raise ValidationError(obj, key, "is both a parameter and a variable of the equations")
            expressions.check_name(key, obj, "parameters", "parameter name")
            if is_quantity(value) and key not in self.param_units:
                found = quantity_dims(value)
                if found is not None:
                    self.param_units[key] = found
            self.parameters[key] = check_value(value, obj, key, self.param_units.get(key))
        variables = self.equations.variables
        self.initial = {}
        for key, value in (initial or {}).items():
            if key not in variables or variables[key].kind == "sub":
                raise ValidationError(obj, "initial", f"unknown variable {key!r}; variables: "
                                      f"{', '.join(self.recordable)}")
            self.initial[key] = check_value(value, obj, key, variables[key].unit)
        defined = set(variables) | set(self.parameters) | {"t"} | set(expressions.CONSTANTS)
        for var in variables.values():
            if var.expr is not None:
                self._check_names(var.expr, defined, f"equation {var.text!r}")
        self.threshold = None
        if threshold is not None:
            self.threshold = expressions.parse_expression(threshold, obj, "threshold")
            if not _is_condition(self.threshold.body):
                raise ValidationError(obj, "threshold", f"must be a condition such as 'v > v_thresh' "
                                      f"(comparisons joined by and/or/not; got {threshold!r})")
            self._check_names(self.threshold, defined, "threshold")
        self.reset = expressions.parse_statements(reset or "", obj, "reset")
        for target, _, tree in self.reset:
            self._check_target(target, "reset")
            self._check_names(tree, defined, "reset")
        if isinstance(refractory, str):
            if refractory not in self.parameters:
                raise ValidationError(obj, "refractory", f"names no parameter ({refractory!r})")
            self.refractory = refractory
        else:
            ref = _check_number(to_canonical(refractory, "ms", obj, "refractory"), obj, "refractory")
            if ref < 0:
                raise ValidationError(obj, "refractory", f"must be >= 0 ms (got {ref})")
            self.refractory = ref
        self.receptors = {}
        for rtype, code in (receptors or {}).items():
            expressions.check_name(rtype, obj, "receptors", "receptor name")
            stmts = expressions.parse_statements(code, obj, f"receptors[{rtype!r}]")
            if len(stmts) != 1 or stmts[0][1] != "+=":
                raise ValidationError(obj, f"receptors[{rtype!r}]", "must be one statement "
                                      f"'variable += expression in weight' (got {code!r})")
            self._check_target(stmts[0][0], f"receptors[{rtype!r}]")
            self._check_names(stmts[0][2], defined | {"weight"}, f"receptors[{rtype!r}]")
            self.receptors[rtype] = stmts[0]
        if current_input is not None and (current_input not in variables or
                                          variables[current_input].kind == "sub"):
            raise ValidationError(obj, "current_input", f"names no variable ({current_input!r})")
        self.current_input = current_input
        param_dims = {k: u.dims for k, u in self.param_units.items()}
        check_units(self.equations, param_dims, obj)

    def _check_names(self, tree, defined, where):
        unknown = expressions.names(tree) - defined
        if unknown:
            raise ValidationError(self.name, where, f"uses undefined name(s) {', '.join(sorted(unknown))}; "
                                  f"defined: {', '.join(sorted(defined - {'pi', 'e'}))}")

    def _check_target(self, target, where):
        var = self.equations.variables.get(target)
        if var is None or var.kind == "sub":
            raise ValidationError(self.name, where, f"cannot assign to {target!r}: not a variable "
                                  f"(variables: {', '.join(self.recordable)})")

    @property
    def recordable(self):
        """Variables that can be recorded or initialised."""
        return [v.name for v in self.equations.variables.values() if v.kind != "sub"]

    def variable_unit(self, name):
        return self.equations.variables[name].unit.name

    def __repr__(self):
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in self.parameters.items())})"


class StandardCellType(NeuronModel):
    """A PyNN standard cell: fixed equations, PyNN parameter names and units."""

    EQUATIONS = ""
    DEFAULTS = {}        # name -> default (PyNN's)
    UNITS = {}           # name -> canonical unit
    POSITIVE = ()        # must be > 0
    NON_NEGATIVE = ()    # must be >= 0
    THRESHOLD = "v > v_thresh"
    RESET = "v = v_reset"
    RECEPTORS = {}
    INITIAL = {}
    METHOD = "auto"

    def __init__(self, **parameters):
        cls = type(self).__name__
        unknown = set(parameters) - set(self.DEFAULTS)
        if unknown:
            raise ValidationError(cls, sorted(unknown)[0], f"unknown parameter; valid parameters of "
                                  f"{cls}: {', '.join(sorted(self.DEFAULTS))}")
        values = dict(self.DEFAULTS)
        for key, value in parameters.items():
            values[key] = check_value(value, cls, key, self.UNITS.get(key))
        for key, value in values.items():
            if isinstance(value, RandomDistribution):
                continue
            arr = np.atleast_1d(value)
            if key in self.POSITIVE and np.any(arr <= 0):
                raise ValidationError(cls, key, f"must be > 0 {self.UNITS.get(key, '')} (got {arr[arr <= 0][0]})")
            if key in self.NON_NEGATIVE and np.any(arr < 0):
                raise ValidationError(cls, key, f"must be >= 0 {self.UNITS.get(key, '')} (got {arr[arr < 0][0]})")
        self._check_relations(values)
        initial = {k: (values[v] if isinstance(v, str) else v) for k, v in self.INITIAL.items()}
        super().__init__(self.EQUATIONS, threshold=self.THRESHOLD, reset=self.RESET,
                         refractory="tau_refrac" if "tau_refrac" in values else 0.0,
                         parameters=values, initial=initial, receptors=self.RECEPTORS,
                         current_input="i_inj", method=self.METHOD, units=self.UNITS, name=cls)

    def _check_relations(self, values):
        reset, thresh = values.get("v_reset"), values.get("v_thresh")
        if isinstance(reset, float) and isinstance(thresh, float) and reset >= thresh:
            raise ValidationError(type(self).__name__, "v_reset", f"must be below v_thresh = {thresh} mV "
                                  f"(got {reset})")

    def __repr__(self):
        return f"{self.name}({', '.join(f'{k}={self.parameters[k]!r}' for k in self.DEFAULTS)})"


_LIF_UNITS = dict(cm="nF", tau_m="ms", tau_refrac="ms", tau_syn_E="ms", tau_syn_I="ms", v_rest="mV",
                  v_reset="mV", v_thresh="mV", i_offset="nA", e_rev_E="mV", e_rev_I="mV")
_LIF_DEFAULTS = dict(cm=1.0, tau_m=20.0, tau_refrac=0.1, tau_syn_E=5.0, tau_syn_I=5.0, v_rest=-65.0,
                     v_reset=-65.0, v_thresh=-50.0, i_offset=0.0)


class IF_curr_exp(StandardCellType):
    """Leaky integrate-and-fire, exponentially decaying current synapses (PyNN).

    Weights in nA (negative for inhibition), times in ms, voltages in mV, cm in nF.
    """
    EQUATIONS = """
        dv/dt = (v_rest - v)/tau_m + (isyn_exc + isyn_inh + i_offset + i_inj)/cm : mV (unless refractory)
        disyn_exc/dt = -isyn_exc/tau_syn_E : nA
        disyn_inh/dt = -isyn_inh/tau_syn_I : nA
        i_inj : nA
    """
    DEFAULTS = _LIF_DEFAULTS
    UNITS = _LIF_UNITS
    POSITIVE = ("cm", "tau_m", "tau_syn_E", "tau_syn_I")
    NON_NEGATIVE = ("tau_refrac",)
    RECEPTORS = {"excitatory": "isyn_exc += weight", "inhibitory": "isyn_inh += weight"}
    INITIAL = {"v": "v_rest"}


class IF_curr_alpha(IF_curr_exp):
    """Leaky integrate-and-fire, alpha-function current synapses (PyNN).

    A weight w (nA) gives a postsynaptic current peaking at w after tau_syn ms.
    """
    EQUATIONS = """
        dv/dt = (v_rest - v)/tau_m + (isyn_exc + isyn_inh + i_offset + i_inj)/cm : mV (unless refractory)
        disyn_exc/dt = (y_exc - isyn_exc)/tau_syn_E : nA
        dy_exc/dt = -y_exc/tau_syn_E : nA
        disyn_inh/dt = (y_inh - isyn_inh)/tau_syn_I : nA
        dy_inh/dt = -y_inh/tau_syn_I : nA
        i_inj : nA
    """
    DEFAULTS = dict(_LIF_DEFAULTS, tau_syn_E=0.5, tau_syn_I=0.5)
    RECEPTORS = {"excitatory": "y_exc += weight*e", "inhibitory": "y_inh += weight*e"}


class IF_curr_delta(StandardCellType):
    """Leaky integrate-and-fire with delta synapses: a weight w (mV) jumps v by w."""
    EQUATIONS = """
        dv/dt = (v_rest - v)/tau_m + (i_offset + i_inj)/cm : mV (unless refractory)
        i_inj : nA
    """
    DEFAULTS = {k: v for k, v in _LIF_DEFAULTS.items() if not k.startswith("tau_syn")}
    UNITS = _LIF_UNITS
    POSITIVE = ("cm", "tau_m")
    NON_NEGATIVE = ("tau_refrac",)
    RECEPTORS = {"excitatory": "v += weight", "inhibitory": "v += weight"}
    INITIAL = {"v": "v_rest"}
    weight_unit = "mV"


class IF_cond_exp(StandardCellType):
    """Leaky integrate-and-fire, exponentially decaying conductances (PyNN).

    Weights in uS (>= 0 for both receptors), reversal potentials in mV.
    """
    EQUATIONS = """
        dv/dt = (v_rest - v)/tau_m + (g_exc*(e_rev_E - v) + g_inh*(e_rev_I - v) + i_offset + i_inj)/cm : mV (unless refractory)
        dg_exc/dt = -g_exc/tau_syn_E : uS
        dg_inh/dt = -g_inh/tau_syn_I : uS
        i_inj : nA
    """
    DEFAULTS = dict(_LIF_DEFAULTS, e_rev_E=0.0, e_rev_I=-70.0)
    UNITS = _LIF_UNITS
    POSITIVE = ("cm", "tau_m", "tau_syn_E", "tau_syn_I")
    NON_NEGATIVE = ("tau_refrac",)
    RECEPTORS = {"excitatory": "g_exc += weight", "inhibitory": "g_inh += weight"}
    INITIAL = {"v": "v_rest"}
    conductance_based = True
    weight_unit = "uS"


class EIF_cond_exp_isfa_ista(StandardCellType):
    """Adaptive exponential integrate-and-fire (Brette & Gerstner 2005), conductance synapses.

    a in nS, b in nA, delta_T in mV, tau_w in ms; spikes when v > v_spike.
    """
    EQUATIONS = """
        dv/dt = ((cm/tau_m)*(v_rest - v) + (cm/tau_m)*delta_T*exp((v - v_thresh)/delta_T) - w_adapt + g_exc*(e_rev_E - v) + g_inh*(e_rev_I - v) + i_offset + i_inj)/cm : mV (unless refractory)
        dw_adapt/dt = (0.001*a*(v - v_rest) - w_adapt)/tau_w : nA
        dg_exc/dt = -g_exc/tau_syn_E : uS
        dg_inh/dt = -g_inh/tau_syn_I : uS
        i_inj : nA
    """
    DEFAULTS = dict(cm=0.281, tau_m=9.3667, tau_refrac=0.1, tau_syn_E=5.0, tau_syn_I=5.0, v_rest=-70.6,
                    v_reset=-70.6, v_thresh=-50.4, v_spike=-40.0, delta_T=2.0, tau_w=144.0, a=4.0,
                    b=0.0805, i_offset=0.0, e_rev_E=0.0, e_rev_I=-80.0)
    UNITS = dict(_LIF_UNITS, v_spike="mV", delta_T="mV", tau_w="ms", b="nA", a="1")
    POSITIVE = ("cm", "tau_m", "tau_syn_E", "tau_syn_I", "delta_T", "tau_w")
    NON_NEGATIVE = ("tau_refrac",)
    THRESHOLD = "v > v_spike"
    RESET = "v = v_reset; w_adapt += b"
    RECEPTORS = {"excitatory": "g_exc += weight", "inhibitory": "g_inh += weight"}
    INITIAL = {"v": "v_rest"}
    conductance_based = True
    weight_unit = "uS"

    def _check_relations(self, values):
        reset, spike = values.get("v_reset"), values.get("v_spike")
        if isinstance(reset, float) and isinstance(spike, float) and reset >= spike:
            raise ValidationError(type(self).__name__, "v_reset", f"must be below v_spike = {spike} mV (got {reset})")


class Izhikevich(StandardCellType):
    """Izhikevich (2003) neuron with PyNN's parameters a, b, c, d.

    As in PyNN/NEST: dv/dt = 0.04 v^2 + 5 v + 140 - u + I (v in mV, t in ms,
    u and d in mV/ms, a and b in 1/ms) with I = 1000 * (i_offset + i_inj), the
    current in nA on an implicit 1 pF membrane.  Synaptic inputs are delta
    pulses: a weight w (mV) jumps v by w.
    """
    EQUATIONS = """
        dv/dt = 0.04*v**2 + 5*v + 140 - u + 1000*(i_offset + i_inj) : mV
        du/dt = a*(b*v - u) : mV/ms
        i_inj : nA
    """
    DEFAULTS = dict(a=0.02, b=0.2, c=-65.0, d=2.0, i_offset=0.0)
    UNITS = dict(c="mV", d="mV/ms", i_offset="nA", a="1/ms", b="1/ms")
    THRESHOLD = "v >= 30"
    RESET = "v = c; u += d"
    RECEPTORS = {"excitatory": "v += weight", "inhibitory": "v += weight"}
    INITIAL = {"v": -70.0, "u": -14.0}
    METHOD = "euler"
    weight_unit = "mV"


def standard_plans():
    """{key: integration plan} of every standard cell with all parameters homogeneous (the
    usual case), as :func:`neurosim.equations.analyse` would compute them with sympy."""
    from .equations import analyse_uncached, plan_key
    plans, classes = {}, [StandardCellType]
    for cls in classes:
        classes += cls.__subclasses__()
    for cls in classes[1:]:
        if cls.__module__ != __name__:     # cells defined elsewhere are analysed when used
            continue
        cell = cls()
        homogeneous = sorted(n for n, v in cell.parameters.items() if isinstance(v, float))
        key = plan_key(cell.equations, homogeneous, cell.method)
        plans[key] = analyse_uncached(cell.equations, homogeneous, cell.method, cell.name)
    return plans


def write_standard_plans():
    """Rewrite neurosim/standard_plans.json (after changing a standard cell's equations)."""
    import json

    from .equations import STANDARD_PLANS
    with open(STANDARD_PLANS, "w") as handle:
        json.dump(standard_plans(), handle, indent=1, sort_keys=True)
        handle.write("\n")
