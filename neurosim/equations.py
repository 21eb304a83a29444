"""Equation strings: parsing, unit checks and the choice of integration method.

Syntax, one definition per line (``#`` starts a comment)::

    dv/dt = (v_rest - v)/tau_m + i_syn/cm : mV (unless refractory)
    i_syn = isyn_exc + isyn_inh : nA          # subexpression, substituted
    I : nA                                    # per-neuron variable, set by the user

Every right-hand side goes through :mod:`neurosim.expressions`, so model text is
checked against a whitelist and never executed.
"""
import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass, field

from . import expressions
from .cache import cache_dir, load_json, write_atomic
from .errors import ValidationError
from .units import DIMENSIONLESS, TIME, dims_mul, dims_name, dims_pow, parse_unit

# names are ASCII: Python folds other identifiers (NFKC), so two different names could meet in code
_ODE = re.compile(r"^d\s*([A-Za-z]\w*)\s*/\s*dt\s*=(.*)$", re.ASCII)
_SUB = re.compile(r"^([A-Za-z]\w*)\s*=(.*)$", re.ASCII)
_VAR = re.compile(r"^([A-Za-z]\w*)\s*$", re.ASCII)
MAX_INLINED_NODES = 20000      # a right-hand side with subexpressions substituted
MAX_EXPANSION_TERMS = 2000     # sympy analysis is skipped (auto) or refused beyond this
METHODS = ("auto", "exact", "euler", "rk2", "rk4", "exponential_euler")
RESERVED = {"t", "dt", "weight"}


@dataclass
class Variable:
    """One name defined by the equations.

    ``kind`` is ``'ode'`` (has dX/dt), ``'sub'`` (subexpression) or ``'settable'``.
    """
    name: str
    unit: object
    kind: str
    expr: object = None        # ast tree of the right-hand side (ode, sub)
    clamped: bool = False      # held during refractoriness ("unless refractory")
    text: str = ""


@dataclass
class Equations:
    """Parsed equations: variables in definition order."""
    variables: dict = field(default_factory=dict)
    source: str = ""

    @property
    def state(self):
        return [v for v in self.variables.values() if v.kind == "ode"]

    @property
    def settable(self):
        return [v for v in self.variables.values() if v.kind == "settable"]

    @property
    def subexpressions(self):
        return [v for v in self.variables.values() if v.kind == "sub"]


def parse_equations(text, obj="NeuronModel", flag="unless refractory", need_ode=True):
    """Parse a block of equations into :class:`Equations`.

    ``flag`` is the one flag allowed after a unit: ``(unless refractory)`` for
    neurons, ``(event-driven)`` for synapses.
    """
    if not isinstance(text, str):
        raise ValidationError(obj, "equations", f"must be a string (got {type(text).__name__})")
    eqs = Equations(source=text)
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        body, sep, unit_part = line.rpartition(":")
        if not sep:
            raise ValidationError(obj, "equations", f"{line!r} has no unit; write e.g. "
                                  "'dv/dt = -v/tau : mV' (use ': 1' for dimensionless)")
        unit_part = unit_part.strip()
        clamped = False
        flags = re.search(r"\((.*)\)\s*$", unit_part)
        if flags and not unit_part.startswith("("):
            flag_text = flags.group(1).strip()
            if flag_text != flag:
                raise ValidationError(obj, "equations", f"unknown flag ({flag_text}) in {line!r}; "
                                      f"the only flag here is ({flag})")
            clamped = True
            unit_part = unit_part[:flags.start()].strip()
        unit = parse_unit(unit_part, obj, "equations")
        body = body.strip()
        for pattern, kind in ((_ODE, "ode"), (_SUB, "sub"), (_VAR, "settable")):
            match = pattern.match(body)
            if match:
                name = match.group(1)
                expr_text = match.group(2).strip() if kind != "settable" else ""
                break
        else:
            raise ValidationError(obj, "equations", f"cannot read {line!r}; expected "
                                  "'dx/dt = expr : unit', 'x = expr : unit' or 'x : unit'")
        if name in eqs.variables:
            raise ValidationError(obj, "equations", f"'{name}' is defined twice")
        if name in RESERVED or name.startswith("_"):
            raise ValidationError(obj, "equations", f"'{name}' is a reserved name "
                                  f"(reserved: {', '.join(sorted(RESERVED))}; no leading '_')")
        if clamped and kind != "ode":
            raise ValidationError(obj, "equations", f"({flag}) only applies to "
                                  f"differential equations ({line!r})")
        expr = expressions.parse_expression(expr_text, obj, "equations") if kind != "settable" else None
        eqs.variables[name] = Variable(name, unit, kind, expr, clamped, line)
    if need_ode and not eqs.state:
        raise ValidationError(obj, "equations", "defines no differential equation (dx/dt = ...)")
    _check_subexpressions(eqs, obj)
    return eqs


def _check_subexpressions(eqs, obj):
    """Put subexpressions in dependency order (they may be written in any order), refuse
    cycles, and refuse a right-hand side that grows beyond MAX_INLINED_NODES nodes once
    subexpressions are substituted (code generation inlines them)."""
    import ast
    subs = {v.name: v for v in eqs.subexpressions}
    order, state = [], {}

    def visit(name, path):
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            cycle = path[path.index(name):] + [name]
            raise ValidationError(obj, "equations", f"subexpressions depend on each other in a cycle: "
                                  f"{' -> '.join(cycle)}")
        state[name] = "active"
        for used in sorted(expressions.names(subs[name].expr) & set(subs)):
            visit(used, path + [name])
        state[name] = "done"
        order.append(name)

    for name in subs:
        visit(name, [])
    if list(subs) != order:   # non-subexpressions keep their order; subexpressions follow, sorted
        others = {k: v for k, v in eqs.variables.items() if v.kind != "sub"}
        eqs.variables = {**others, **{name: subs[name] for name in order}}
    size = {}   # nodes of each subexpression with the ones it uses substituted
    for name in order:
        size[name] = sum(size.get(n.id, 1) if isinstance(n, ast.Name) else 1 for n in ast.walk(subs[name].expr))
    for var in eqs.variables.values():
        if var.expr is None:
            continue
        total = sum(size.get(n.id, 1) if isinstance(n, ast.Name) else 1 for n in ast.walk(var.expr))
        if total > MAX_INLINED_NODES:
            raise ValidationError(obj, "equations", f"'{var.name}' grows to {total} terms when its "
                                  f"subexpressions are substituted (at most {MAX_INLINED_NODES}); "
                                  f"simplify it ({var.text!r})")


def expansion_terms(eqs):
    """Upper bound on the work (terms) of ``sympy.expand`` over all right-hand sides,
    subexpressions substituted.  Lets analysis refuse a product of many sums before
    sympy spends minutes on it."""
    import ast
    import math
    cap = 10**12
    sub_terms, work = {}, [0]

    def go(n):
        if isinstance(n, ast.Expression):
            return go(n.body)
        if isinstance(n, ast.Name):
            return sub_terms.get(n.id, 1)
        if isinstance(n, ast.UnaryOp):
            return go(n.operand)
        if isinstance(n, ast.BinOp):
            left, right = go(n.left), go(n.right)
            if isinstance(n.op, (ast.Add, ast.Sub)):
                out = left + right
            elif isinstance(n.op, ast.Mult):
                out = left * right
            elif isinstance(n.op, ast.Div):
                out, work[0] = left, work[0] + right
            elif isinstance(n.op, ast.Pow):
                exponent = n.right.value if isinstance(n.right, ast.Constant) else None
                if isinstance(n.right, ast.UnaryOp) and isinstance(n.right.operand, ast.Constant):
                    exponent = n.right.operand.value
                if isinstance(exponent, int) and abs(exponent) > 1:
                    expanded = math.comb(min(left, cap) + abs(exponent) - 1, abs(exponent))
                    out = expanded if exponent > 0 else 1
                    work[0] += min(expanded, cap)
                else:
                    out = 1
            else:
                out = 1
            out = min(out, cap)
            work[0] += out
            return out
        for child in ast.iter_child_nodes(n):
            go(child)
        return 1

    for var in eqs.variables.values():
        if var.expr is not None:
            terms = go(var.expr)
            if var.kind == "sub":
                sub_terms[var.name] = terms
    return min(work[0], cap)


# --------------------------------------------------------------------------- units
def infer_dims(tree, known, obj, where):
    """Dimension of an expression, or None where a name's unit is unknown.

    ``known`` maps names to dims tuples.  Raises ``ValidationError`` when two
    known dimensions are added or compared, or when a function argument that
    must be dimensionless is not.
    """
    import ast
    node = tree.body if isinstance(tree, ast.Expression) else tree

    def go(n):
        if isinstance(n, ast.Constant):
            return None
        if isinstance(n, ast.Name):
            return known.get(n.id)
        if isinstance(n, ast.UnaryOp):
            return go(n.operand)
        if isinstance(n, ast.BinOp):
            left, right = go(n.left), go(n.right)
            if isinstance(n.op, (ast.Add, ast.Sub, ast.Mod)):
                if left is not None and right is not None and left != right:
                    raise ValidationError(obj, where, f"adds {dims_name(left)} to {dims_name(right)} "
                                          f"in {ast.unparse(n)!r}")
                return left if left is not None else right
            if isinstance(n.op, ast.Mult):
                return dims_mul(left, right) if left is not None and right is not None else None
            if isinstance(n.op, ast.Div):
                return dims_mul(left, right, -1) if left is not None and right is not None else None
            if isinstance(n.op, ast.Pow):
                if left is None or left == DIMENSIONLESS:
                    return left
                if isinstance(n.right, ast.Constant) and float(n.right.value).is_integer():
                    return dims_pow(left, int(n.right.value))
                return None
        if isinstance(n, ast.Call):
            args = [go(a) for a in n.args]
            if n.func.id in ("abs", "min", "max", "floor", "ceil"):
                known_args = [a for a in args if a is not None]
                if len(set(known_args)) > 1:
                    raise ValidationError(obj, where, f"{n.func.id}() of different units in {ast.unparse(n)!r}")
                return known_args[0] if known_args else None
            if n.func.id == "sqrt":
                return None if args[0] is None or any(x % 2 for x in args[0]) else tuple(x // 2 for x in args[0])
            if n.func.id == "sign":
                return DIMENSIONLESS
            if args[0] not in (None, DIMENSIONLESS):
                raise ValidationError(obj, where, f"{n.func.id}() needs a dimensionless argument, "
                                      f"got {dims_name(args[0])} in {ast.unparse(n)!r}")
            return DIMENSIONLESS
        if isinstance(n, ast.Compare):
            dims = [go(n.left)] + [go(c) for c in n.comparators]
            known_dims = {d for d in dims if d is not None}
            if len(known_dims) > 1:
                raise ValidationError(obj, where, f"compares different units in {ast.unparse(n)!r}")
            return DIMENSIONLESS
        if isinstance(n, (ast.BoolOp,)):
            for v in n.values:
                go(v)
            return DIMENSIONLESS
        if isinstance(n, ast.IfExp):
            go(n.test)
            a, b = go(n.body), go(n.orelse)
            if a is not None and b is not None and a != b:
                raise ValidationError(obj, where, f"branches of different units in {ast.unparse(n)!r}")
            return a if a is not None else b
        return None

    return go(node)


def check_units(eqs, param_dims, obj):
    """Check each equation's right-hand side against its declared unit."""
    known = dict(param_dims)
    known.update({v.name: v.unit.dims for v in eqs.variables.values()})
    for var in eqs.variables.values():
        if var.expr is None:
            continue
        got = infer_dims(var.expr, known, obj, "equations")
        want = dims_mul(var.unit.dims, TIME, -1) if var.kind == "ode" else var.unit.dims
        if got is not None and got != want:
            lhs = f"d{var.name}/dt" if var.kind == "ode" else var.name
            raise ValidationError(obj, "equations", f"{lhs} must be in {dims_name(want)} but the "
                                  f"right-hand side is in {dims_name(got)} ({var.text!r})")


# ------------------------------------------------------------------- analysis
_SYMPY_FUNCS = {"exp": "exp", "log": "log", "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan",
                "tanh": "tanh", "sinh": "sinh", "cosh": "cosh", "arctan": "atan", "abs": "Abs",
                "sign": "sign", "floor": "floor", "ceiling": "ceiling", "min": "Min", "max": "Max"}


def _to_sympy(tree, symbols):
    """Build a sympy expression straight from a checked tree (no string parsing)."""
    import ast
    import sympy as sp
    node = tree.body if isinstance(tree, ast.Expression) else tree

    def go(n):
        if isinstance(n, ast.Constant):
            return sp.Integer(n.value) if isinstance(n.value, int) else sp.Float(n.value, 17)
        if isinstance(n, ast.Name):
            if n.id in expressions.CONSTANTS:
                return sp.pi if n.id == "pi" else sp.E
            return symbols.setdefault(n.id, sp.Symbol(n.id, real=True))
        if isinstance(n, ast.UnaryOp) and not isinstance(n.op, ast.Not):
            return -go(n.operand) if isinstance(n.op, ast.USub) else go(n.operand)
        if isinstance(n, ast.BinOp) and not isinstance(n.op, ast.Mod):
            a, b = go(n.left), go(n.right)
            return {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                    ast.Div: lambda: a / b, ast.Pow: lambda: a ** b}[type(n.op)]()
        if isinstance(n, ast.Call):
            name = "ceiling" if n.func.id == "ceil" else n.func.id
            if name == "log10":
                return sp.log(go(n.args[0])) / sp.log(10)
            return getattr(sp, _SYMPY_FUNCS[name])(*[go(a) for a in n.args])
        raise _Opaque()

    return go(node)


class _Opaque(Exception):
    """The expression uses logic sympy analysis does not handle (comparisons)."""


def sympy_to_tree(expr, obj):
    """Back from sympy to a checked tree via the whitelist parser."""
    text = str(expr).replace("Abs(", "abs(").replace("Min(", "min(").replace("Max(", "max(")
    text = text.replace("ceiling(", "ceil(").replace("atan(", "arctan(")
    text = re.sub(r"\bE\b", "e", text)
    return expressions.parse_expression(text, obj, "equations")


# The plans of the standard cells with every parameter homogeneous, made by
# neurosim.neurons.write_standard_plans(); tests/unit/test_standard_plans.py checks they equal
# what analyse_uncached gives now.  They spare a first run on a new machine sympy (~0.5 s).
STANDARD_PLANS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "standard_plans.json")


def plan_key(eqs, param_names, method):
    """The key of an analysis: equations text, homogeneous parameter names, method."""
    return hashlib.sha256(json.dumps([eqs.source, sorted(param_names), method]).encode()).hexdigest()[:24]


@functools.lru_cache(maxsize=1)
def _standard_plans():
    return load_json(STANDARD_PLANS) or {}


def analyse(eqs, param_names, method, obj):
    """:func:`analyse_uncached` through the shipped standard plans and the on-disk cache:
    sympy is only imported for equations not analysed before."""
    key = plan_key(eqs, param_names, method)
    plan = _standard_plans().get(key)
    if plan is not None:
        return plan
    path = os.path.join(cache_dir("analysis"), f"{key}.json")
    plan = load_json(path)
    if plan is None:
        plan = analyse_uncached(eqs, param_names, method, obj)
        write_atomic(path, json.dumps(plan))
    return plan


def analyse_uncached(eqs, param_names, method, obj):
    """Choose the integration method and return what the code generator needs.

    Returns a dict: ``method``; for ``exact``, ``A`` (matrix of expression texts
    in the parameters) and ``b`` (vector of expression texts, the affine part);
    for ``exponential_euler``, per state variable ``A`` and ``B`` texts
    (``dx/dt = A*x + B``).  Other methods use the equations as written.
    Subexpressions are substituted first.
    """
    import sympy as sp
    if method not in METHODS:
        raise ValidationError(obj, "method", f"unknown integration method {method!r}; "
                              f"allowed: {', '.join(METHODS)}")
    if method in ("euler", "rk2", "rk4"):
        return {"method": method}
    terms = expansion_terms(eqs)
    if terms > MAX_EXPANSION_TERMS:
        if method == "auto":
            return {"method": "rk4"}
        raise ValidationError(obj, "method", f"'{method}' needs a symbolic analysis, but the equations "
                              f"expand to about {terms:.3g} terms (at most {MAX_EXPANSION_TERMS}); "
                              "simplify them or use euler, rk2 or rk4")
    symbols = {}
    try:
        subs = {}
        for var in eqs.subexpressions:
            subs[sp.Symbol(var.name, real=True)] = _to_sympy(var.expr, symbols).xreplace(subs)
        state = [v.name for v in eqs.state]
        xs = [symbols.setdefault(n, sp.Symbol(n, real=True)) for n in state]
        rhs = [sp.expand(_to_sympy(v.expr, symbols).xreplace(subs)) for v in eqs.state]
        for var, f in zip(eqs.state, rhs):
            if f.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
                raise ValidationError(obj, "equations", f"{var.text!r} is infinite or undefined once "
                                      "simplified (a division by zero?)")
    except _Opaque:
        if method in ("exact", "exponential_euler"):
            raise ValidationError(obj, "method", f"'{method}' cannot integrate equations with "
                                  "comparisons or conditionals; use euler, rk2 or rk4") from None
        return {"method": "rk4"}
    param_set = set(param_names)
    linear = all(sp.diff(f, x1, x2) == 0 for f in rhs for x1 in xs for x2 in xs)
    if linear:
        A = [[sp.diff(f, x) for x in xs] for f in rhs]
        # exact needs A to depend on parameters only (numbers after substitution)
        a_ok = all((e.free_symbols <= {symbols[p] for p in param_set if p in symbols}) for row in A for e in row)
        if a_ok:
            b = [sp.expand(f.xreplace({x: 0 for x in xs})) for f in rhs]
            plan = {"method": "exact", "A": [[str(e) for e in row] for row in A], "b": [str(e) for e in b]}
            # b split as b0 + sum_u coeff_u * u over the non-constant inputs u (settable
            # variables, per-neuron parameters, t), so the update becomes pure multiply-adds
            params_sym = {symbols[p] for p in param_set if p in symbols}
            inputs = sorted(set().union(*[e.free_symbols for e in b]) - params_sym, key=str)
            coeffs = [[sp.diff(e, u) for u in inputs] for e in b]
            if all(c.free_symbols <= params_sym for row in coeffs for c in row):
                plan["b0"] = [str(e.xreplace({u: 0 for u in inputs})) for e in b]
                plan["inputs"] = [str(u) for u in inputs]
                plan["b_coeffs"] = [[str(c) for c in row] for row in coeffs]
            return plan
    if method == "exact":
        raise ValidationError(obj, "method", "'exact' needs linear equations with constant "
                              "coefficients; use exponential_euler, rk2 or rk4")
    cond_linear = all(sp.diff(f, x, 2) == 0 for f, x in zip(rhs, xs))
    if cond_linear:
        A = [sp.diff(f, x) for f, x in zip(rhs, xs)]
        B = [f.xreplace({x: 0}) for f, x in zip(rhs, xs)]
        if all(a != 0 for a in A):
            return {"method": "exponential_euler", "A": [str(a) for a in A], "B": [str(b) for b in B]}
    if method == "exponential_euler":
        raise ValidationError(obj, "method", "'exponential_euler' needs each equation to be "
                              "linear in its own variable; use rk2 or rk4")
    return {"method": "rk4"}


def analyse_event_driven(eqs, param_names, obj):
    """For synapse equations: each dx/dt must be a + b*x with a, b in the parameters.

    Returns {variable: (a_text, b_text)}; between events x(t + s) = -a/b + (x + a/b) e^{b s}
    (or x + a s when b = 0).  Cached like :func:`analyse`.
    """
    key = hashlib.sha256(json.dumps(["event", eqs.source, sorted(param_names)]).encode()).hexdigest()[:24]
    path = os.path.join(cache_dir("analysis"), f"{key}.json")
    plan = load_json(path)
    if plan is None:
        import sympy as sp
        symbols = {}
        params = {symbols.setdefault(p, sp.Symbol(p, real=True)) for p in param_names}
        plan = {}
        if expansion_terms(eqs) > MAX_EXPANSION_TERMS:
            raise ValidationError(obj, "equations", "synaptic variables must follow dx/dt = a + b*x "
                                  f"with a, b built from parameters; these equations expand to more than "
                                  f"{MAX_EXPANSION_TERMS} terms")
        for var in eqs.state:
            try:
                rhs = sp.expand(_to_sympy(var.expr, symbols))
            except _Opaque:
                rhs = None
            x = symbols.setdefault(var.name, sp.Symbol(var.name, real=True))
            b = sp.diff(rhs, x) if rhs is not None else None
            a = rhs.xreplace({x: 0}) if rhs is not None else None
            if rhs is None or not (a.free_symbols <= params and b.free_symbols <= params):
                raise ValidationError(obj, "equations", f"{var.text!r}: synaptic variables must follow "
                                      "dx/dt = a + b*x with a, b built from parameters (traces, recovery); "
                                      "put other dynamics into the neuron model")
            plan[var.name] = [str(a), str(b)]
        write_atomic(path, json.dumps(plan))
    return plan
