"""From neurosim's checked model trees to Brian2 model strings.

Brian2 owns units; neurosim's canonical units (ms, mV, nA, nF, uS) form a
coherent system, so every neurosim quantity is declared **dimensionless** in
Brian2 and only time carries a unit:

* ``dv/dt = RHS : mV [(unless refractory)]`` becomes ``dv/dt = (RHS)/ms : 1``; the hold of
  ``(unless refractory)`` variables is applied by the state-update method (:class:`Held`);
* subexpressions ``x = expr : unit`` become ``x = expr : 1``; settable variables ``x : 1``;
* parameters become ``p : 1 (shared, constant)`` (one value) or ``p : 1 (constant)``
  (one per neuron).  They are variables, not namespace constants, so the generated
  code -- and Brian2's compiled Cython / C++ artefacts -- depend on the network's
  structure only, never on parameter values;
* neurosim's ``t`` (ms) is written ``(t/ms)``.

Expressions are produced by rewriting the parse trees that
:mod:`neurosim.expressions` already checked against its whitelist and unparsing
them with :func:`ast.unparse`; user text is never evaluated.  Constructs Brian2's
language lacks are rewritten: ``a if c else b`` -> ``int(c)*(a) + (1 - int(c))*(b)``
(both branches are evaluated), ``min(a, b)`` -> ``clip(a, -inf, b)``, ``max(a, b)`` ->
``clip(a, b, inf)``, chained comparisons -> ``and`` of pairs, ``pi``/``e`` -> numbers.

Names that Brian2 reserves (units such as ``cm`` or ``ms``, ``i``, ``N``,
function names, ``lastspike`` ...) are renamed ``ns_<name>``; :class:`Names` keeps
the mapping both ways.
"""
import ast
import copy

from neurosim import expressions

# identifiers this backend adds itself; neurosim names never start with "nsx_"
REFRACTORY_STEPS = "nsx_refsteps"   # refractory period in steps
LAST_STEP = "nsx_laststep"          # step of the neuron's last spike
FREE = "nsx_free"                   # 1 while integrating, 0 while held (refractory)
POISSON_START, POISSON_STOP = "nsx_start", "nsx_stop"
_BRIAN2_NAMES = {"lastspike", "not_refractory", "refractory", "t_in_timesteps"}
# neurosim function -> Brian2 function (min/max/ifexp are rewritten separately)
FUNCTIONS = {"exp": "exp", "log": "log", "log10": "log10", "sqrt": "sqrt", "sin": "sin", "cos": "cos",
             "tan": "tan", "tanh": "tanh", "sinh": "sinh", "cosh": "cosh", "arctan": "arctan",
             "abs": "abs", "floor": "floor", "ceil": "ceil", "sign": "sign"}


def _brian2_rejects(name):
    from brian2.equations.equations import Equations
    if name in _BRIAN2_NAMES or name.endswith(("_pre", "_post")) or name.startswith("nsx_"):
        return True
    try:
        Equations.check_identifier(name)
    except (SyntaxError, ValueError):
        return True
    return False


class Names:
    """neurosim name <-> Brian2 name for one model (renames only where needed).

    ``reserved``: further names to avoid (e.g. the variables Brian2 gives every Synapses)."""

    def __init__(self, neurosim_names, reserved=()):
        used = set(neurosim_names)
        reserved = set(reserved)
        self.to_brian, self.to_neurosim = {}, {}
        for name in neurosim_names:
            new = name
            while _brian2_rejects(new) or new in reserved or (new != name and new in used):
                new = "ns_" + new
            used.add(new)
            self.to_brian[name] = new
            self.to_neurosim[new] = name

    def __getitem__(self, name):
        return self.to_brian[name]


class _ToBrian2(ast.NodeTransformer):
    """Rewrite a checked tree into Brian2's expression language."""

    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        if node.id in self.mapping:
            return ast.copy_location(ast.parse(self.mapping[node.id], mode="eval").body, node)
        if node.id in expressions.CONSTANTS:
            return ast.copy_location(ast.Constant(expressions.CONSTANTS[node.id]), node)
        return node

    def visit_Call(self, node):
        args = [self.visit(a) for a in node.args]
        name = node.func.id
        if name in ("min", "max"):
            inf = ast.Name("inf", ast.Load())
            neg_inf = ast.UnaryOp(ast.USub(), ast.Name("inf", ast.Load()))
            bounds = [neg_inf, args[1]] if name == "min" else [args[1], inf]
            return ast.Call(ast.Name("clip", ast.Load()), [args[0]] + bounds, [])
        return ast.Call(ast.Name(FUNCTIONS[name], ast.Load()), args, [])

    def visit_IfExp(self, node):
        test, body, orelse = self.visit(node.test), self.visit(node.body), self.visit(node.orelse)
        cond = ast.Call(ast.Name("int", ast.Load()), [test], [])
        return ast.BinOp(ast.BinOp(cond, ast.Mult(), body), ast.Add(),
                         ast.BinOp(ast.BinOp(ast.Constant(1), ast.Sub(), copy.deepcopy(cond)), ast.Mult(), orelse))

    def visit_Compare(self, node):
        node = self.generic_visit(node)
        if len(node.ops) == 1:
            return node
        left, pairs = node.left, []
        for op, right in zip(node.ops, node.comparators):
            pairs.append(ast.Compare(copy.deepcopy(left), [op], [copy.deepcopy(right)]))
            left = right
        return ast.BoolOp(ast.And(), pairs)


def expr(tree, mapping):
    """Brian2 text of a checked expression tree; ``mapping`` renames names to code."""
    node = copy.deepcopy(tree.body if isinstance(tree, ast.Expression) else tree)
    node = ast.fix_missing_locations(_ToBrian2(mapping).visit(node))
    return ast.unparse(node)


def neuron_mapping(cell, names, suffix=""):
    """neurosim name -> Brian2 code for every name a neuron model's text can use."""
    mapping = {name: names[name] + suffix for name in names.to_brian}
    mapping["t"] = "(t/ms)"
    return mapping


def model_names(cell):
    """All names a neuron model defines: its variables and parameters."""
    return list(cell.equations.variables) + [p for p in cell.parameters if p not in cell.equations.variables]


def neuron_model(cell, names, shared_params):
    """Brian2 equations of a NeuronModel.

    ``shared_params``: names of parameters with one value for the population.
    Refractoriness is not in the equations: the state-update method holds the
    ``(unless refractory)`` variables (:class:`Held`, :func:`exact_update`).
    """
    mapping = neuron_mapping(cell, names)
    lines = []
    for var in cell.equations.variables.values():
        name = names[var.name]
        if var.kind == "ode":
            lines.append(f"d{name}/dt = ({expr(var.expr, mapping)})/ms : 1")
        elif var.kind == "sub":
            lines.append(f"{name} = {expr(var.expr, mapping)} : 1")
        else:
            lines.append(f"{name} : 1")
    for param in cell.parameters:
        if param in cell.equations.variables:
            continue
        flags = "shared, constant" if param in shared_params else "constant"
        lines.append(f"{names[param]} : 1 ({flags})")
    return "\n".join(lines)


def threshold(cell, names):
    return None if cell.threshold is None else expr(cell.threshold, neuron_mapping(cell, names))


def reset(cell, names):
    mapping = neuron_mapping(cell, names)
    return "\n".join(f"{names[target]} {op} {expr(tree, mapping)}" for target, op, tree in cell.reset)


def on_pre(cell, names, receptor, amount="w"):
    """Synaptic event code of ``receptor``: weight -> ``amount`` (the synapse's ``w`` unless
    a synapse model sets what it delivers), neuron names -> ``<name>_post``."""
    target, op, tree = cell.receptors[receptor]
    mapping = neuron_mapping(cell, names, suffix="_post")
    mapping["weight"] = amount
    return f"{names[target]}_post {op} {expr(tree, mapping)}"


METHODS = {"exponential_euler": "exponential_euler", "euler": "euler",
           "rk2": "rk2", "rk4": "rk4"}


class Held:
    """Brian2's integrator ``method`` followed by neurosim's refractory hold.

    Brian2's methods end with ``x = _x`` per state variable; for the variables in
    ``held`` this becomes ``x = nsx_free*_x + (1 - nsx_free)*x``: the integrated
    value while free, the old value while refractory (numba: ``x if r > 0 else new``).
    Multiplying the derivative by ``nsx_free`` instead would make Brian2's
    exponential Euler divide 0 by 0.
    """

    def __init__(self, method, held):
        self.method, self.held = method, list(held)
        self.__name__ = f"{method}_held"

    def __call__(self, equations, variables=None, method_options=None):
        from brian2.stateupdaters.base import StateUpdateMethod
        code = StateUpdateMethod.apply_stateupdater(equations, variables, self.method)
        lines = code.splitlines()
        for name in self.held:
            final = f"{name} = _{name}"
            if final not in lines:
                raise RuntimeError(f"Brian2's {self.method} code has no line {final!r}:\n{code}")
            lines[lines.index(final)] = f"{name} = {FREE}*_{name} + (1 - {FREE})*{name}"
        return "\n".join(lines) + "\n"


class ExactUpdate:
    """A Brian2 state-update method that applies neurosim's propagator (plan 'exact').

    For linear equations with constant coefficients neurosim integrates exactly,
    x(t + dt) = P x(t) + D u + C (P = exp(A dt), inputs u held over the step),
    with P, D, C computed numerically once per network (``propagator.py``).
    Brian2's own ``exact`` method solves the same system symbolically with sympy
    in every new process (tens of seconds for IF_curr_alpha) and fails where time
    constants coincide; this method gives Brian2 the numbers instead, as shared
    constant variables ``nsx_P*``, ``nsx_D*``, ``nsx_C*`` (so the generated code,
    and Brian2's compiled artefacts, do not depend on their values).
    """

    __name__ = "neurosim_exact"

    def __init__(self, code):
        self.code = code

    def __call__(self, equations, variables=None, method_options=None):
        return self.code


def exact_update(cell, names, plan, params, dt, clamp):
    """(model lines, {variable: value}, ExactUpdate) for an 'exact' plan."""
    import numpy as np

    from neurosim.backends.numba.propagator import evaluate_texts, exact_propagator
    from neurosim.equations import sympy_to_tree
    state = [v.name for v in cell.equations.state]
    n = len(state)
    mapping = neuron_mapping(cell, names)
    P, Q = exact_propagator(plan["A"], params, dt)
    if "b0" in plan:
        const = Q @ evaluate_texts(plan["b0"], params)
        coeff = (Q @ evaluate_texts(plan["b_coeffs"], params).reshape(n, len(plan["inputs"]))
                 if plan["inputs"] else np.zeros((n, 0)))
        inputs = [expr(sympy_to_tree(u, cell.name), mapping) for u in plan["inputs"]]
    else:
        const, coeff, inputs = np.zeros(n), np.zeros((n, 0)), []
        for j, text in enumerate(plan["b"]):
            if text != "0":
                inputs.append(expr(sympy_to_tree(text, cell.name), mapping))
                coeff = np.hstack([coeff, Q[:, j:j + 1]])
    values, lines = {}, []
    for i, var in enumerate(state):
        terms = []
        for j, other in enumerate(state):
            if P[i, j] != 0.0:
                values[f"nsx_P{i}_{j}"] = P[i, j]
                terms.append(f"nsx_P{i}_{j}*{names[other]}")
        for j, code in enumerate(inputs):
            if coeff[i, j] != 0.0:
                values[f"nsx_D{i}_{j}"] = coeff[i, j]
                terms.append(f"nsx_D{i}_{j}*({code})")
        if const[i] != 0.0:
            values[f"nsx_C{i}"] = const[i]
            terms.append(f"nsx_C{i}")
        lines.append(f"_{names[var]} = {' + '.join(terms) or '0.0'}")
    for var in cell.equations.state:
        name = names[var.name]
        if var.clamped and clamp:
            # exact in both cases: 1*new + 0*old while integrating, 0*new + 1*old while held
            lines.append(f"{name} = {FREE}*_{name} + (1 - {FREE})*{name}")
        else:
            lines.append(f"{name} = _{name}")
    model = [f"{name} : 1 (shared, constant)" for name in values]
    return model, values, ExactUpdate("\n".join(lines) + "\n")
