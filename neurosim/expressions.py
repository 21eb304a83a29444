"""Safe parsing of the small expression language used in model strings.

Model text (equations, thresholds, resets, distance expressions) is data.  It is
parsed with :mod:`ast` and every node is checked against a whitelist: names,
numbers, arithmetic, comparisons, boolean logic, ``a if c else b`` and calls of
a fixed set of math functions.  Attribute access, subscripts, lambdas,
comprehensions, imports, dunder names and calls of anything else are refused.
Nothing here ever calls ``eval`` or ``exec``: expressions are evaluated by
walking the checked tree (:func:`evaluate`) or turned into kernel source by
unparsing the checked tree (:func:`to_code`).
"""
import ast
import math

import numpy as np

from .errors import ValidationError

MAX_LENGTH = 20000
MAX_DEPTH = 60
MAX_POWER = 64            # largest |exponent| written as a constant (x**2, (v + a)**3, 2**-1)
MAX_INT = 2**63 - 1       # integers must fit the kernel's int64 arithmetic

# name -> (numpy function for evaluate(), name in generated kernel code, number of args)
FUNCTIONS = {
    "exp": (np.exp, "np.exp", 1), "log": (np.log, "np.log", 1), "log10": (np.log10, "np.log10", 1),
    "sqrt": (np.sqrt, "np.sqrt", 1), "sin": (np.sin, "np.sin", 1), "cos": (np.cos, "np.cos", 1),
    "tan": (np.tan, "np.tan", 1), "tanh": (np.tanh, "np.tanh", 1), "sinh": (np.sinh, "np.sinh", 1),
    "cosh": (np.cosh, "np.cosh", 1), "arctan": (np.arctan, "np.arctan", 1),
    "abs": (np.abs, "abs", 1), "floor": (np.floor, "np.floor", 1), "ceil": (np.ceil, "np.ceil", 1),
    "sign": (np.sign, "np.sign", 1), "min": (np.minimum, "min", 2), "max": (np.maximum, "max", 2),
}
CONSTANTS = {"pi": math.pi, "e": math.e}

_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.true_divide,
           ast.Pow: np.power, ast.Mod: np.mod}
_CMPOPS = {ast.Lt: np.less, ast.LtE: np.less_equal, ast.Gt: np.greater, ast.GtE: np.greater_equal,
           ast.Eq: np.equal, ast.NotEq: np.not_equal}
_ALLOWED = (ast.Expression, ast.Name, ast.Load, ast.Constant, ast.BinOp, ast.UnaryOp, ast.BoolOp,
            ast.Compare, ast.Call, ast.IfExp, ast.USub, ast.UAdd, ast.Not, ast.And, ast.Or,
            *_BINOPS, *_CMPOPS)


def _refuse(obj, attr, text, what):
    raise ValidationError(obj, attr, f"{what} is not allowed in model text (got {text!r}); "
                          "allowed: names, numbers, + - * / ** %, comparisons, and/or/not, "
                          f"'a if c else b' and the functions {', '.join(sorted(FUNCTIONS))}")


def _check(node, obj, attr, text, depth=0):
    if depth > MAX_DEPTH:
        raise ValidationError(obj, attr, f"expression nested deeper than {MAX_DEPTH} levels")
    if isinstance(node, ast.Attribute):
        _refuse(obj, attr, text, "attribute access")
    if not isinstance(node, _ALLOWED):
        _refuse(obj, attr, text, type(node).__name__)
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            _refuse(obj, attr, text, f"the name '{node.id}' (names may not start with '_')")
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            _refuse(obj, attr, text, f"the constant {node.value!r}")
    elif isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute):
            _refuse(obj, attr, text, "attribute access")
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
            _refuse(obj, attr, text, f"calling '{name}'")
        if node.keywords or len(node.args) != FUNCTIONS[node.func.id][2]:
            raise ValidationError(obj, attr, f"{node.func.id}() takes {FUNCTIONS[node.func.id][2]} "
                                  f"positional argument(s) (in {text!r})")
        for arg in node.args:
            _check(arg, obj, attr, text, depth + 1)
        return
    for child in ast.iter_child_nodes(node):
        _check(child, obj, attr, text, depth + 1)


def check_name(name, obj, attr, what="name"):
    """A user-chosen name that becomes part of kernel identifiers: ASCII letters, digits
    and '_', not starting with a digit or '_'.  Returns it; raises ValidationError otherwise."""
    if not (isinstance(name, str) and name.isascii() and name.isidentifier() and not name.startswith("_")):
        raise ValidationError(obj, attr, f"invalid {what} {name!r}: use ASCII letters, digits and '_', "
                              "starting with a letter")
    return name


def parse_expression(text, obj="expression", attr=None):
    """Parse and check one expression; return its ``ast.Expression`` tree."""
    if not isinstance(text, str):
        raise ValidationError(obj, attr, f"must be a string (got {type(text).__name__})")
    if len(text) > MAX_LENGTH:
        raise ValidationError(obj, attr, f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ValidationError(obj, attr, f"cannot parse {text!r}: {getattr(exc, 'msg', exc)}") from None
    _check(tree, obj, attr, text)
    _fold(tree.body, obj, attr, text)
    return tree


def _fold(node, obj, attr, text):
    """Value of a constant subexpression (None if it reads a name), checking that every
    constant part is a finite real number, that integers fit 64 bits and that constant
    exponents stay within +-MAX_POWER.  Python arithmetic on bounded operands: cheap."""
    if isinstance(node, ast.Constant):
        value = node.value
    elif isinstance(node, ast.Name):
        return None
    elif isinstance(node, ast.UnaryOp):
        operand = _fold(node.operand, obj, attr, text)
        if operand is None:
            return None
        value = (not operand) if isinstance(node.op, ast.Not) else (
            -operand if isinstance(node.op, ast.USub) else operand)
    elif isinstance(node, ast.BinOp):
        left = _fold(node.left, obj, attr, text)
        right = _fold(node.right, obj, attr, text)
        if isinstance(node.op, ast.Pow) and right is not None and abs(right) > MAX_POWER:
            raise ValidationError(obj, attr, f"exponent {right:g} in {ast.unparse(node)!r} is too large; "
                                  f"constant exponents must be between -{MAX_POWER} and {MAX_POWER} "
                                  f"(in {text!r})")
        if left is None or right is None:
            return None
        try:
            value = {ast.Add: lambda: left + right, ast.Sub: lambda: left - right,
                     ast.Mult: lambda: left * right, ast.Div: lambda: left / right,
                     ast.Pow: lambda: left ** right, ast.Mod: lambda: left % right}[type(node.op)]()
        except (ZeroDivisionError, OverflowError, ValueError):
            value = float("nan")
    else:
        for child in ast.iter_child_nodes(node):
            _fold(child, obj, attr, text)
        return None
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int) and abs(value) > MAX_INT:
        raise ValidationError(obj, attr, f"the integer {ast.unparse(node)!r} does not fit in 64 bits; "
                              f"write it as a float, e.g. {float(value):.3g} (in {text!r})")
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(obj, attr, f"the constant part {ast.unparse(node)!r} is not a finite real "
                              f"number (in {text!r})")
    return value


def parse_statements(text, obj="statement", attr=None):
    """Parse ``'v = v_reset; w += b'`` into ``[(target, op, expr_tree)]``.

    ``op`` is ``'='``, ``'+='``, ``'-='``, ``'*='`` or ``'/='``.
    """
    if not isinstance(text, str):
        raise ValidationError(obj, attr, f"must be a string (got {type(text).__name__})")
    out = []
    for raw in text.replace("\n", ";").split(";"):
        line = raw.strip()
        if not line:
            continue
        for op in ("+=", "-=", "*=", "/=", "="):
            left, sep, right = line.partition(op)
            if sep and (op != "=" or not left.endswith(("<", ">", "!", "="))) and "=" not in left:
                target = left.strip()
                if not target.isidentifier() or target.startswith("_"):
                    raise ValidationError(obj, attr, f"cannot assign to {target!r} in {line!r}; "
                                          "the left side must be a variable name")
                out.append((target, op, parse_expression(right, obj, attr)))
                break
        else:
            raise ValidationError(obj, attr, f"{line!r} is not an assignment ('x = expr' or 'x += expr')")
    return out


def names(tree):
    """Variable names an expression reads (function names excluded)."""
    funcs = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in funcs}


def evaluate(tree, namespace):
    """Evaluate a checked tree with numpy; ``namespace`` maps names to values."""
    node = tree.body if isinstance(tree, ast.Expression) else tree
    return _eval(node, namespace)


def _eval(node, ns):
    if isinstance(node, ast.Constant):
        return float(node.value)  # numpy refuses integer ** negative integer
    if isinstance(node, ast.Name):
        if node.id in ns:
            return ns[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise ValidationError("expression", None, f"undefined name '{node.id}'; "
                              f"defined: {', '.join(sorted(ns)) or 'none'}")
    if isinstance(node, ast.BinOp):
        return _BINOPS[type(node.op)](_eval(node.left, ns), _eval(node.right, ns))
    if isinstance(node, ast.UnaryOp):
        val = _eval(node.operand, ns)
        return np.logical_not(val) if isinstance(node.op, ast.Not) else (-val if isinstance(node.op, ast.USub) else +val)
    if isinstance(node, ast.BoolOp):
        vals = [_eval(v, ns) for v in node.values]
        fn = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = vals[0]
        for v in vals[1:]:
            out = fn(out, v)
        return out
    if isinstance(node, ast.Compare):
        left = _eval(node.left, ns)
        result = True
        for op, comp in zip(node.ops, node.comparators):
            right = _eval(comp, ns)
            result = np.logical_and(result, _CMPOPS[type(op)](left, right))
            left = right
        return result
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id][0](*[_eval(a, ns) for a in node.args])
    if isinstance(node, ast.IfExp):
        return np.where(_eval(node.test, ns), _eval(node.body, ns), _eval(node.orelse, ns))
    raise ValidationError("expression", None, f"cannot evaluate {type(node).__name__}")


class _Renamer(ast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        if node.id in self.mapping:
            return ast.copy_location(ast.parse(self.mapping[node.id], mode="eval").body, node)
        if node.id in CONSTANTS:
            return ast.copy_location(ast.Constant(CONSTANTS[node.id]), node)
        return node

    def visit_Call(self, node):
        node.args = [self.visit(a) for a in node.args]
        node.func = ast.Name(FUNCTIONS[node.func.id][1], ast.Load())
        return node


def to_code(tree, mapping):
    """Kernel source for a checked tree; ``mapping`` renames variables to code snippets.

    The mapping values are produced by the code generator, never by the user.
    """
    import copy
    node = copy.deepcopy(tree.body if isinstance(tree, ast.Expression) else tree)
    node = _Renamer(mapping).visit(node)
    return "(" + ast.unparse(node) + ")"
