"""Exact integration of linear ODE systems: the propagator matrices.

For dx/dt = A x + b with A constant and b constant over one step,
x(t + dt) = P x(t) + Q b with P = exp(A dt) and Q = integral_0^dt exp(A s) ds.
Both come from one matrix exponential of the augmented matrix
[[A, I], [0, 0]] * dt, whose upper blocks are P and Q.
"""
import numpy as np

from neurosim import expressions
from neurosim.equations import sympy_to_tree


def expm(M):
    """Matrix exponential by scaling and squaring of a Taylor series (small matrices)."""
    norm = np.max(np.sum(np.abs(M), axis=1)) if M.size else 0.0
    squarings = max(0, int(np.ceil(np.log2(norm))) + 1) if norm > 0.5 else 0
    X = M / (2.0 ** squarings)
    result = np.eye(len(M))
    term = np.eye(len(M))
    for k in range(1, 30):
        term = term @ X / k
        result = result + term
        if np.max(np.abs(term)) < 1e-18 * max(1.0, np.max(np.abs(result))):
            break
    for _ in range(squarings):
        result = result @ result
    return result


def exact_propagator(A_texts, params, dt):
    """(P, Q) for the coefficient matrix given as expression texts in the parameters."""
    n = len(A_texts)
    A = evaluate_texts(A_texts, params).reshape(n, n)
    M = np.zeros((2 * n, 2 * n))
    M[:n, :n] = A * dt
    M[:n, n:] = np.eye(n) * dt
    E = expm(M)
    return E[:n, :n], E[:n, n:]


def evaluate_texts(texts, params):
    """Evaluate (nested lists of) expression texts in the parameters into a float array."""
    if isinstance(texts, str):
        return float(expressions.evaluate(sympy_to_tree(texts, "propagator"), params))
    return np.array([evaluate_texts(t, params) for t in texts], dtype=float)
