"""Random distributions with PyNN's names, and value resolution for parameters.

A :class:`RandomDistribution` only describes a distribution; the numbers come
from a ``numpy.random.Generator`` passed to :meth:`RandomDistribution.draw`, so
one network seed drives every random choice.  Parameters are plain floats in
the canonical unit of whatever quantity is drawn (ms, mV, nA, nF, uS, Hz).
"""
import math
import numbers

import numpy as np

from .errors import ValidationError
from .units import is_quantity, to_canonical

# name -> parameter names in PyNN's positional order
DISTRIBUTIONS = {
    "binomial": ("n", "p"),
    "exponential": ("beta",),
    "gamma": ("k", "theta"),
    "lognormal": ("mu", "sigma"),
    "normal": ("mu", "sigma"),
    "normal_clipped": ("mu", "sigma", "low", "high"),
    "normal_clipped_to_boundary": ("mu", "sigma", "low", "high"),
    "poisson": ("lambda_",),
    "uniform": ("low", "high"),
    "uniform_int": ("low", "high"),
    "vonmises": ("mu", "kappa"),
}
ALIASES = {"poisson": {"lam": "lambda_", "lambda": "lambda_"}}
# parameters that may be +-inf (one-sided clipping)
_MAY_BE_INFINITE = {"normal_clipped": ("low", "high"), "normal_clipped_to_boundary": ("low", "high")}
# normal_clipped refuses bounds that keep less than this fraction of the normal
MIN_CLIPPED_MASS = 1e-6


def _normal_mass(mu, sigma, low, high):
    """Probability that N(mu, sigma) falls in [low, high]."""
    if sigma == 0:
        return 1.0 if low <= mu <= high else 0.0

    def cdf(x):
        return 0.5 * math.erfc(-(x - mu) / (sigma * math.sqrt(2.0)))
    return cdf(high) - cdf(low)


class RandomDistribution:
    """A named random distribution (PyNN names and parameter names).

    ``RandomDistribution('normal', (0.0, 1.0))`` or
    ``RandomDistribution('normal', mu=0.0, sigma=1.0)``.  Distributions and
    parameters (positional order as listed):

    * ``uniform(low, high)``: floats in [low, high)
    * ``uniform_int(low, high)``: integers in [low, high) (high exclusive, as PyNN/numpy)
    * ``normal(mu, sigma)``, ``lognormal(mu, sigma)``
    * ``normal_clipped(mu, sigma, low, high)``: values outside [low, high] are
      redrawn; ``low``/``high`` may be -inf/inf
    * ``normal_clipped_to_boundary(mu, sigma, low, high)``: values outside are set to the bound
    * ``exponential(beta)``: mean ``beta``
    * ``gamma(k, theta)``, ``poisson(lambda_)`` (``lam`` accepted), ``binomial(n, p)``,
      ``vonmises(mu, kappa)``

    Every parameter is required (as in PyNN).  The drawn values carry the unit
    of the quantity they are used for.
    """

    def __init__(self, distribution, parameters=None, **params):
        if "rng" in params:
            raise ValidationError(f"RandomDistribution({distribution!r})", "rng",
                                  "an rng is not part of a distribution here; the network's seed "
                                  "drives every random choice (pass rng to draw())")
        if not isinstance(distribution, str) or distribution not in DISTRIBUTIONS:
            raise ValidationError("RandomDistribution", "distribution",
                                  f"unknown distribution {distribution!r}; valid: "
                                  f"{', '.join(sorted(DISTRIBUTIONS))}")
        self.distribution = distribution
        obj = f"RandomDistribution({distribution!r})"
        names = DISTRIBUTIONS[distribution]
        if parameters is not None and params:
            raise ValidationError(obj, "parameters", "give parameters either positionally or "
                                  "by name, not both")
        if isinstance(parameters, dict):
            params = dict(parameters)
        elif parameters is not None:
            if isinstance(parameters, (str, bytes)) or not hasattr(parameters, "__len__"):
                raise ValidationError(obj, "parameters", f"must be a tuple in the order "
                                      f"({', '.join(names)}) (got {parameters!r})")
            if len(parameters) != len(names):
                raise ValidationError(obj, "parameters", f"expected {len(names)} values "
                                      f"({', '.join(names)}), got {len(parameters)}")
            params = dict(zip(names, parameters))
        aliases = ALIASES.get(distribution, {})
        params = {aliases.get(k, k): v for k, v in params.items()}
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ValidationError(obj, unknown[0], f"unknown parameter for '{distribution}'; "
                                  f"valid: {', '.join(names)}")
        missing = [k for k in names if k not in params]
        if missing:
            raise ValidationError(obj, missing[0], f"missing; '{distribution}' needs "
                                  f"{', '.join(names)}")
        values = {}
        for k in names:
            v = params[k]
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise ValidationError(obj, k, f"must be a number (got {v!r})")
            v = float(v)
            if math.isnan(v) or (math.isinf(v) and k not in _MAY_BE_INFINITE.get(distribution, ())):
                raise ValidationError(obj, k, f"must be finite (got {v})")
            values[k] = v
        self.parameters = values
        self._validate(obj)

    def _validate(self, obj):
        d, p = self.distribution, self.parameters

        def need(cond, attr, what):
            if not cond:
                raise ValidationError(obj, attr, f"{what} (got {p[attr]:g})")

        if d in ("uniform", "uniform_int"):
            need(p["high"] > p["low"], "high", f"must be > low = {p['low']:g}")
            need(math.isfinite(p["high"] - p["low"]), "high", f"high - low must be a finite number "
                 f"(low = {p['low']:g})")
            if d == "uniform_int":
                need(p["low"] == int(p["low"]) and abs(p["low"]) <= 2**62, "low",
                     "must be an integer between -2**62 and 2**62")
                need(p["high"] == int(p["high"]) and abs(p["high"]) <= 2**62, "high",
                     "must be an integer between -2**62 and 2**62")
        elif d in ("normal", "lognormal"):
            need(p["sigma"] >= 0, "sigma", "must be >= 0")
        elif d in ("normal_clipped", "normal_clipped_to_boundary"):
            need(p["sigma"] >= 0, "sigma", "must be >= 0")
            need(p["high"] > p["low"], "high", f"must be > low = {p['low']:g}")
            if d == "normal_clipped":
                mass = _normal_mass(p["mu"], p["sigma"], p["low"], p["high"])
                if mass < MIN_CLIPPED_MASS:
                    raise ValidationError(obj, "low", f"[low, high] = [{p['low']:g}, {p['high']:g}] "
                                          f"holds only {mass:.3g} of the normal's mass "
                                          f"(need >= {MIN_CLIPPED_MASS:g}); redrawing cannot work")
        elif d == "exponential":
            need(p["beta"] > 0, "beta", "must be > 0 (it is the mean)")
        elif d == "gamma":
            need(p["k"] > 0, "k", "must be > 0")
            need(p["theta"] > 0, "theta", "must be > 0")
        elif d == "poisson":
            need(p["lambda_"] >= 0, "lambda_", "must be >= 0")
            need(p["lambda_"] <= 1e18, "lambda_", "must be <= 1e18 (numpy's limit)")
        elif d == "binomial":
            need(0 <= p["n"] <= 2**62 and p["n"] == int(p["n"]), "n", "must be an integer from 0 to 2**62")
            need(0 <= p["p"] <= 1, "p", "must be in [0, 1]")
        elif d == "vonmises":
            need(p["kappa"] >= 0, "kappa", "must be >= 0")

    def draw(self, n, rng):
        """Return ``n`` values as a float64 array of shape ``(n,)``."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValidationError(repr(self), "n", f"must be an integer >= 0 (got {n!r})")
        if not isinstance(rng, np.random.Generator):
            raise ValidationError(repr(self), "rng", "must be a numpy.random.Generator "
                                  f"(got {type(rng).__name__})")
        n = int(n)
        d, p = self.distribution, self.parameters
        if d == "uniform":
            out = rng.uniform(p["low"], p["high"], n)
        elif d == "uniform_int":
            out = rng.integers(int(p["low"]), int(p["high"]), n)
        elif d == "normal":
            out = rng.normal(p["mu"], p["sigma"], n)
        elif d == "normal_clipped":
            out = self._draw_clipped(n, rng)
        elif d == "normal_clipped_to_boundary":
            out = np.clip(rng.normal(p["mu"], p["sigma"], n), p["low"], p["high"])
        elif d == "exponential":
            out = rng.exponential(p["beta"], n)
        elif d == "gamma":
            out = rng.gamma(p["k"], p["theta"], n)
        elif d == "lognormal":
            out = rng.lognormal(p["mu"], p["sigma"], n)
        elif d == "poisson":
            out = rng.poisson(p["lambda_"], n)
        elif d == "binomial":
            out = rng.binomial(int(p["n"]), p["p"], n)
        else:  # vonmises
            out = rng.vonmises(p["mu"], p["kappa"], n)
        return np.asarray(out, dtype=np.float64)

    def _draw_clipped(self, n, rng):
        """Normal values in [low, high]; values outside are redrawn (PyNN's rule).

        One normal value per position, drawn in place; only the positions that fell outside
        are drawn again, from batches large enough that one pass almost always fills them
        (a narrow window, where most of the first draw falls outside, costs one extra pass)."""
        p = self.parameters
        mu, sigma, low, high = p["mu"], p["sigma"], p["low"], p["high"]
        mass = _normal_mass(mu, sigma, low, high)
        out = rng.standard_normal(n)
        out *= sigma
        out += mu
        outside = out < low
        outside |= out > high
        todo = np.flatnonzero(outside)
        del outside
        while todo.size:
            batch = int(min(todo.size / mass * 1.1 + 5 * math.sqrt(todo.size / mass) + 16, 1 << 24))
            vals = rng.normal(mu, sigma, batch)
            vals = vals[(vals >= low) & (vals <= high)][:todo.size]
            out[todo[:vals.size]] = vals
            todo = todo[vals.size:]
        return out

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items())
        return f"RandomDistribution({self.distribution!r}, {args})"

    def describe(self):
        return repr(self)

    def __eq__(self, other):
        return (isinstance(other, RandomDistribution) and other.distribution == self.distribution
                and other.parameters == self.parameters)

    def __hash__(self):
        return hash((self.distribution, tuple(self.parameters.items())))


def value_range(values):
    """(min, max) of ``values`` as floats, (0.0, 0.0) when empty; NaN in, NaN out (numpy's
    min / max propagate it), so one pass each answers range and finiteness checks."""
    values = np.asarray(values)
    return (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)


def all_finite(values):
    """True when no value is NaN or infinite (through min and max: no temporary of n values)."""
    return all(math.isfinite(v) for v in value_range(values))


def resolve_values(value, n, rng, obj, attr, unit=None):
    """Turn a parameter value into a float64 array of shape ``(n,)``.

    ``value`` may be a number, an array-like of length ``n``, a
    :class:`RandomDistribution` (drawn with ``rng``) or a ``quantities``
    object (converted to ``unit``; with ``unit=None`` it must be
    dimensionless).  Plain numbers are taken to be in the canonical unit.
    NaN, infinities and non-numbers raise ``ValidationError(obj, attr, ...)``.
    The result is always a new array the caller may modify.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValidationError(obj, attr, f"internal: n must be an integer >= 0 (got {n!r})")
    n = int(n)
    if isinstance(value, RandomDistribution):
        if rng is None:
            raise ValidationError(obj, attr, f"{value!r} needs a random generator, none was given")
        out = value.draw(n, rng)
        if not all_finite(out):
            raise ValidationError(obj, attr, f"{value!r} produced NaN or infinite values")
        return out
    if is_quantity(value):
        value = to_canonical(value, unit if unit is not None else "1", obj, attr)
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None:
        raise ValidationError(obj, attr, f"must be a number, an array of {n} numbers or a "
                              f"RandomDistribution (got {value!r})")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise ValidationError(obj, attr, f"must be a number, an array of {n} numbers or a "
                              f"RandomDistribution (got {type(value).__name__})") from None
    if arr.dtype.kind not in "iuf":
        shown = value if arr.size <= 5 else type(value).__name__
        raise ValidationError(obj, attr, f"must be a number, an array of {n} numbers or a "
                              f"RandomDistribution (got {shown!r})")
    if arr.ndim == 0:
        arr = np.full(n, float(arr), dtype=np.float64)
    elif arr.shape != (n,):
        raise ValidationError(obj, attr, f"array must have shape ({n},), one value per element "
                              f"(got shape {arr.shape})")
    else:
        arr = np.array(arr, dtype=np.float64)  # copy
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(obj, attr, f"must be finite (got {arr[i]} at index {i})")
    return arr
