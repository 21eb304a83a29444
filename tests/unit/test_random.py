"""RandomDistribution and resolve_values: statistics, validation, messages."""
import math

import numpy as np
import pytest

from neurosim.errors import ValidationError
from neurosim.random import DISTRIBUTIONS, RandomDistribution, resolve_values

N = 200_000


def rng(seed=1):
    return np.random.default_rng(seed)


def within(value, expected, sd, k=5.0):
    return abs(value - expected) <= k * sd


def test_uniform_mean_and_variance():
    low, high = -70.0, -50.0
    x = RandomDistribution("uniform", (low, high)).draw(N, rng())
    assert x.dtype == np.float64 and x.shape == (N,)
    assert x.min() >= low and x.max() < high
    var = (high - low) ** 2 / 12
    assert within(x.mean(), (low + high) / 2, math.sqrt(var / N))
    mu4 = (high - low) ** 4 / 80  # fourth central moment of a uniform
    assert within(x.var(), var, math.sqrt((mu4 - var ** 2) / N))


def test_normal_mean_and_sd():
    x = RandomDistribution("normal", mu=2.0, sigma=3.0).draw(N, rng())
    assert within(x.mean(), 2.0, 3.0 / math.sqrt(N))
    assert within(x.std(), 3.0, 3.0 / math.sqrt(2 * N))


def _phi(z):
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def _cdf(z):
    return 0.5 * math.erfc(-z / math.sqrt(2))


def test_normal_clipped_redraws_inside_bounds_with_truncated_mean():
    mu, sigma, low, high = 0.0, 1.0, -0.5, 2.0
    x = RandomDistribution("normal_clipped", (mu, sigma, low, high)).draw(N, rng())
    assert x.shape == (N,)
    assert x.min() >= low and x.max() <= high
    a, b = (low - mu) / sigma, (high - mu) / sigma
    mass = _cdf(b) - _cdf(a)
    mean = mu + sigma * (_phi(a) - _phi(b)) / mass
    assert within(x.mean(), mean, sigma / math.sqrt(N))
    # variance of the truncated normal; kept and redrawn positions must follow the same law
    var = sigma ** 2 * (1 + (a * _phi(a) - b * _phi(b)) / mass - ((_phi(a) - _phi(b)) / mass) ** 2)
    assert within(x.var(), var, 2 * var / math.sqrt(N))
    first = np.random.default_rng(1).normal(mu, sigma, N)
    redrawn = (first < low) | (first > high)        # the positions the first draw put outside
    assert within(x[redrawn].mean(), mean, sigma / math.sqrt(redrawn.sum()))


def test_normal_clipped_one_sided_and_narrow_window():
    x = RandomDistribution("normal_clipped", mu=1.0, sigma=0.5, low=0.0, high=np.inf).draw(N, rng())
    assert x.min() >= 0.0
    # a window holding ~0.3% of the mass still fills every value
    y = RandomDistribution("normal_clipped", mu=0.0, sigma=1.0, low=3.0, high=4.0).draw(1000, rng())
    assert y.shape == (1000,) and y.min() >= 3.0 and y.max() <= 4.0


def test_normal_clipped_to_boundary_sets_values_to_bounds():
    x = RandomDistribution("normal_clipped_to_boundary", (0.0, 1.0, -1.0, 1.0)).draw(N, rng())
    assert x.min() == -1.0 and x.max() == 1.0
    frac = np.mean(x == 1.0)
    p = 1 - _cdf(1.0)
    assert within(frac, p, math.sqrt(p * (1 - p) / N))


def test_exponential_mean_is_beta():
    x = RandomDistribution("exponential", beta=5.0).draw(N, rng())
    assert x.min() >= 0
    assert within(x.mean(), 5.0, 5.0 / math.sqrt(N))


def test_uniform_int_is_integer_and_high_exclusive():
    x = RandomDistribution("uniform_int", (2, 6)).draw(N, rng())
    assert x.dtype == np.float64
    assert set(np.unique(x)) == {2.0, 3.0, 4.0, 5.0}


def test_poisson_mean_and_lam_alias():
    x = RandomDistribution("poisson", lam=4.0).draw(N, rng())
    assert within(x.mean(), 4.0, 2.0 / math.sqrt(N))
    assert RandomDistribution("poisson", lam=4.0) == RandomDistribution("poisson", lambda_=4.0)
    assert RandomDistribution("poisson", (4.0,)).parameters == {"lambda_": 4.0}


@pytest.mark.parametrize("name,params", [("gamma", (2.0, 3.0)), ("lognormal", (0.0, 0.5)),
                                         ("binomial", (10, 0.3)), ("vonmises", (0.0, 1.0))])
def test_other_distributions_draw_finite_floats(name, params):
    x = RandomDistribution(name, params).draw(1000, rng())
    assert x.dtype == np.float64 and x.shape == (1000,) and np.isfinite(x).all()


def test_positional_equals_named_and_same_seed_same_values():
    a = RandomDistribution("normal", (0.5, 0.1))
    b = RandomDistribution("normal", mu=0.5, sigma=0.1)
    assert a == b
    assert np.array_equal(a.draw(100, rng(7)), b.draw(100, rng(7)))
    assert not np.array_equal(a.draw(100, rng(7)), a.draw(100, rng(8)))


def test_draw_zero_and_bad_arguments():
    d = RandomDistribution("uniform", (0, 1))
    assert d.draw(0, rng()).shape == (0,)
    with pytest.raises(ValidationError, match="n: must be an integer >= 0"):
        d.draw(-1, rng())
    with pytest.raises(ValidationError, match="rng: must be a numpy.random.Generator"):
        d.draw(3, np.random.RandomState(1))


def test_repr():
    assert repr(RandomDistribution("normal", mu=0.0, sigma=1.0)) == \
        "RandomDistribution('normal', mu=0.0, sigma=1.0)"


@pytest.mark.parametrize("args,kwargs,needles", [
    (("gauss",), {}, ["RandomDistribution.distribution", "'gauss'", "normal_clipped", "uniform"]),
    (("normal",), {"mu": 0, "sd": 1}, ["RandomDistribution('normal').sd", "valid: mu, sigma"]),
    (("normal",), {"mu": 0}, ["RandomDistribution('normal').sigma", "missing"]),
    (("normal", (0.0,)), {}, ["RandomDistribution('normal').parameters", "expected 2"]),
    (("normal", (0, 1)), {"mu": 0}, ["not both"]),
    (("normal",), {"mu": float("nan"), "sigma": 1}, ["RandomDistribution('normal').mu", "finite", "nan"]),
    (("normal",), {"mu": float("inf"), "sigma": 1}, ["RandomDistribution('normal').mu", "inf"]),
    (("normal",), {"mu": 0, "sigma": -1}, ["RandomDistribution('normal').sigma", ">= 0", "-1"]),
    (("normal",), {"mu": "a", "sigma": 1}, ["RandomDistribution('normal').mu", "number", "'a'"]),
    (("uniform", (5, 5)), {}, ["RandomDistribution('uniform').high", "> low", "5"]),
    (("uniform", (5, 2)), {}, ["RandomDistribution('uniform').high", "got 2"]),
    (("uniform_int", (0.5, 2)), {}, ["RandomDistribution('uniform_int').low", "integer", "0.5"]),
    (("normal_clipped", (0, 1, 2, 1)), {}, ["RandomDistribution('normal_clipped').high", "> low"]),
    (("normal_clipped", (0, 1, 20, 30)), {}, ["RandomDistribution('normal_clipped')", "mass"]),
    (("exponential",), {"beta": 0}, ["RandomDistribution('exponential').beta", "> 0", "0"]),
    (("exponential",), {"beta": -2}, ["RandomDistribution('exponential').beta", "-2"]),
    (("poisson",), {"lam": -1}, ["RandomDistribution('poisson').lambda_", ">= 0"]),
    (("binomial", (3.5, 0.1)), {}, ["RandomDistribution('binomial').n", "integer"]),
    (("binomial", (3, 1.5)), {}, ["RandomDistribution('binomial').p", "[0, 1]", "1.5"]),
    (("normal", (0, 1)), {"rng": object()}, ["rng", "seed"]),
])
def test_validation_messages(args, kwargs, needles):
    with pytest.raises(ValidationError) as info:
        RandomDistribution(*args, **kwargs)
    for needle in needles:
        assert needle in str(info.value)


def test_every_distribution_is_documented_and_constructible():
    samples = {"binomial": (5, 0.5), "exponential": (1.0,), "gamma": (1.0, 1.0),
               "lognormal": (0.0, 1.0), "normal": (0.0, 1.0), "normal_clipped": (0, 1, -1, 1),
               "normal_clipped_to_boundary": (0, 1, -1, 1), "poisson": (1.0,),
               "uniform": (0, 1), "uniform_int": (0, 3), "vonmises": (0.0, 1.0)}
    assert set(samples) == set(DISTRIBUTIONS)
    for name, params in samples.items():
        assert name in RandomDistribution.__doc__
        RandomDistribution(name, params).draw(10, rng())


# --- resolve_values -------------------------------------------------------------

def test_resolve_scalar_array_and_distribution():
    assert np.array_equal(resolve_values(2, 3, None, "Population", "tau_m"), [2.0, 2.0, 2.0])
    src = [1, 2, 3]
    out = resolve_values(src, 3, None, "Population", "tau_m")
    assert out.dtype == np.float64 and np.array_equal(out, src)
    arr = np.array([1.0, 2.0])
    out = resolve_values(arr, 2, None, "P", "x")
    out[0] = 99.0
    assert arr[0] == 1.0  # a copy
    d = RandomDistribution("uniform", (0, 1))
    assert np.array_equal(resolve_values(d, 50, rng(3), "P", "v"), d.draw(50, rng(3)))
    assert resolve_values(1.0, 0, None, "P", "v").shape == (0,)


def test_resolve_quantities():
    pq = pytest.importorskip("quantities")
    out = resolve_values(10 * pq.pA, 2, None, "Population 'exc'", "i_offset", "nA")
    assert np.allclose(out, [0.01, 0.01])
    out = resolve_values(np.array([1.0, 2.0]) * pq.s, 2, None, "Projection", "delay", "ms")
    assert np.allclose(out, [1000.0, 2000.0])
    with pytest.raises(ValidationError, match=r"Population 'exc'\.tau_m: wrong unit"):
        resolve_values(5 * pq.mV, 2, None, "Population 'exc'", "tau_m", "ms")


@pytest.mark.parametrize("value,needles", [
    ([1.0, 2.0], ["Population 'exc'.tau_m", "shape (3,)", "(2,)"]),
    (np.ones((3, 1)), ["shape (3,)", "(3, 1)"]),
    ([1.0, float("nan"), 2.0], ["Population 'exc'.tau_m", "finite", "nan", "index 1"]),
    (float("inf"), ["finite", "inf"]),
    ("fast", ["Population 'exc'.tau_m", "number", "'fast'"]),
    (None, ["number", "None"]),
    (True, ["number", "True"]),
    ([1, "a", 2], ["number"]),
])
def test_resolve_rejects(value, needles):
    with pytest.raises(ValidationError) as info:
        resolve_values(value, 3, None, "Population 'exc'", "tau_m")
    for needle in needles:
        assert needle in str(info.value)


def test_resolve_distribution_without_rng():
    with pytest.raises(ValidationError, match="needs a random generator"):
        resolve_values(RandomDistribution("uniform", (0, 1)), 3, None, "P", "v")
