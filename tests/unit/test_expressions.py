"""The safe expression language: what it accepts, what it refuses, and that nothing runs."""
import numpy as np
import pytest

from neurosim import ValidationError
from neurosim.equations import parse_equations
from neurosim.expressions import evaluate, names, parse_expression, parse_statements, to_code

ATTACKS = [
    "__import__('os').system('echo hacked')",
    "open('/etc/passwd').read()",
    "().__class__.__bases__[0].__subclasses__()",
    "eval('1+1')",
    "exec('x=1')",
    "globals()",
    "lambda: 0",
    "[x for x in range(3)]",
    "{x: 1 for x in range(3)}",
    "(x for x in range(3))",
    "v.real",
    "v[0]",
    "'string'",
    "b'bytes'",
    "f'{v}'",
    "__builtins__",
    "_private",
    "exp(v, base=2)",
    "exp(*args)",
    "(yield v)",
    "v := 3",
    "getattr(v, 'x')",
    "numpy.exp(v)",
    "np.exp(v)",
    "True",
    "None",
    "...",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_refuses_attack(text):
    with pytest.raises(ValidationError, match="not allowed|cannot parse|takes"):
        parse_expression(text, "NeuronModel", "equations")


@pytest.mark.parametrize("text", ATTACKS)
def test_refuses_attack_inside_equations(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValidationError):
        parse_equations(f"dv/dt = {text} : mV")
    assert list(tmp_path.iterdir()) == []


def test_evaluates_allowed_language():
    tree = parse_expression("exp(-d/10.0) * (d < 3) + max(d, 1) ** 2 - (1 if d > 2 else 0) + pi*0")
    d = np.array([0.0, 2.0, 4.0])
    expected = np.exp(-d / 10) * (d < 3) + np.maximum(d, 1) ** 2 - np.where(d > 2, 1, 0)
    assert np.allclose(evaluate(tree, {"d": d}), expected)
    assert names(tree) == {"d", "pi"}


def test_undefined_name_in_evaluation():
    with pytest.raises(ValidationError, match="undefined name 'q'"):
        evaluate(parse_expression("q + 1"), {"d": 1.0})


def test_statements():
    stmts = parse_statements("v = v_reset; w += b\n u -= 1")
    assert [(t, op) for t, op, _ in stmts] == [("v", "="), ("w", "+="), ("u", "-=")]
    with pytest.raises(ValidationError, match="not an assignment"):
        parse_statements("v + 1")
    with pytest.raises(ValidationError, match="cannot assign to"):
        parse_statements("v.x = 1")


def test_code_generation_renames_only_names():
    code = to_code(parse_expression("exp(-v/tau) + min(v, 2)"), {"v": "s0_v[i]", "tau": "p0_tau"})
    assert code == "(np.exp(-s0_v[i] / p0_tau) + min(s0_v[i], 2))"


def test_deep_nesting_and_huge_input_are_refused_cleanly():
    assert names(parse_expression("(" * 150 + "v" + ")" * 150)) == {"v"}  # brackets add no depth
    with pytest.raises(ValidationError):
        parse_expression("(" * 1000 + "v" + ")" * 1000)
    with pytest.raises(ValidationError, match="longer than"):
        parse_expression("v+" * 20000 + "v")
    with pytest.raises(ValidationError):
        parse_expression("-" * 100 + "v")
