"""Hypothesis strategies and builders for ``test_fuzz.py``.

The strategies draw recipes: random, often hostile descriptions of values,
distributions, model text, cells, connectors and whole networks.  The
``make_*`` functions and :func:`construct` turn a recipe into neurosim
objects, which either build or raise a ``neurosim.NeurosimError``.  Not a test
module: pytest collects only ``test_*.py``.
"""
import sys
from functools import partial

import numpy as np
import quantities as pq
from hypothesis import strategies as st

import neurosim as ns
from neurosim.connectors import FixedTotalNumberConnector


# --------------------------------------------------------------------------- values
NAN, INF = float("nan"), float("inf")
BAD_VALUES = [NAN, INF, -INF, -1.0, 0.0, -1e308, 1e308, 1e-320, 2**64, -2**63, 10**40, True, None,
              "1.0", "abc", b"x", [], [1.0, 2.0, 3.0], [[1.0]], {}, {"a": 1}, object(), 1 + 1j,
              np.float32("nan"), np.int64(5), np.float64(-0.0), np.array([]), np.array(["a"]),
              np.array([[1.0, 2.0]]), np.array([1.0, NAN]), 1 * pq.mV, 1 * pq.s, 1 * pq.nA,
              1 * pq.Hz, 1 * pq.uS, 1 * pq.dimensionless, np.array([1.0, 2.0]) * pq.ms,
              range(3), (1,), slice(1), sys]
BAD_SIZES = [0, -1, -(2**31), 2.5, 1e3, "10", None, True, 2**31 - 1, 2**31, 10**9, 10**12, 10**40,
             np.int64(3), np.float64(4.0), [3], NAN, INF]


def bad_values():
    return st.sampled_from(BAD_VALUES)


def distributions():
    """RandomDistribution construction arguments, good or bad."""
    names = st.sampled_from(["uniform", "uniform_int", "normal", "normal_clipped",
                             "normal_clipped_to_boundary", "lognormal", "exponential", "gamma",
                             "poisson", "binomial", "vonmises", "cauchy", "", None, 5, ["normal"]])
    number = st.one_of(st.floats(-5, 5), st.floats(0.1, 20), st.sampled_from(
        [0.0, 1.0, -1.0, 1e308, -1e308, 1e-300, 1e30, NAN, INF, -INF, 10**30, "1", None]))
    params = st.one_of(st.lists(number, max_size=5).map(tuple),
                       st.dictionaries(st.sampled_from(["mu", "sigma", "low", "high", "beta", "k",
                                                        "theta", "lambda_", "lam", "n", "p", "kappa",
                                                        "rng", "bogus"]), number, max_size=4))
    return st.tuples(names, params)


def make_distribution(spec):
    name, params = spec
    if isinstance(params, dict):
        return ns.RandomDistribution(name, **params)
    return ns.RandomDistribution(name, params)


def realise(value):
    """Turn a distribution spec tuple into a RandomDistribution (may raise NeurosimError)."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], (tuple, dict)):
        name, params = value
        if name in ("normal_clipped",) and isinstance(params, tuple) and len(params) == 2:
            params = (params[0], 1.0, params[0] - 10, params[1])
        return make_distribution((name, params))
    return value


# ------------------------------------------------------------------- equations
TOKENS = ["v", "w", "a", "b", "tau", "I", "t", "pi", "e", "1", "2.5", "0", "1e3", "0.5", "-", "+", "*",
          "/", "**", "%", "(", ")", "exp(", "log(", "sqrt(", "min(", "max(", ",", "abs(", "tanh(",
          " if ", " else ", ">", "<", "==", " and ", " or ", " not ", "dt", "weight", "s"]
ATTACKS = [
    "__import__('os').system('touch /tmp/neurosim_pwned')", "().__class__.__bases__[0].__subclasses__()",
    "lambda: 0", "[x for x in v]", "exp.__globals__", "open('/etc/passwd').read()", "eval('1')",
    "exec('import os')", "getattr(v, 'real')", "v[0]", "{}", "f'{v}'", "9**9**9**9", "10**10**10",
    "(v+a)**100000", "(v+a+b+tau)**60", "1e308*10", "1e400", "-" * 5000 + "1", "(" * 200 + "v" + ")" * 200,
    "v\x00", "\uff45\uff58\uff50(v)", "(x := 1)", "...", "1j", "True", "'s'", "b'x'", "v @ w", "v // w",
    "v << 2", "~v", "yield v", "await v", "*v", "v if", "import os", "v; import os", "v\nimport os",
    "globals()", "breakpoint()", "__builtins__", "_", "__class__", "v.__class__", "type(v)", "print(v)",
    "compile('1','x','eval')", "(lambda: 1)()", "{v: 1}", "{v}", "(v, w)", "min(v)", "min(v, w, a)",
    "exp(v, w)", "exp(x=v)", "exp(*v)", "sqrt()", "v" * 30000, "10**30", "2**64", "0**-1", "1/0",
    "(-8)**(1/3)", "exp(1000)", "log(0)", "2**-1", "v**10**30", "a*" * 200 + "v",
    "(v+a)*(v+b)*(v+tau)*(v+I)*(v+a)*(v+b)*(v+tau)*(v+I)*(v+a)*(v+b)*(v+tau)*(v+I)*(v+a)*(v+b)",
]
UNITS = ["mV", "mV", "1", "ms", "mV/ms", "nA", "uS", "foo", "", "1/ms", "mV^2", "mV**2", "2", "mV/",
         "/ms", "mV (unless refractory)", "mV (bogus)", "(unless refractory)", "mV^x", "__class__",
         "\uff4dV", "nA*ms/nF"]
NAMES = ["v", "w", "s", "I", "x_v", "a", "t", "dt", "weight", "__class__", "_x", "\uff56", "np", "i",
         "step", "exp", "numba", "in_", "n_out", "s0_v", "p0_a", "e", "pi", "import"]
VALID_RHS = ["(a - v)/tau", "-v/tau + I", "-w/tau", "0.04*v**2 + 5*v + 140 - w + I", "a*(b*v - w)",
             "(a - v)/tau + s", "-v/tau + exp((v - a)/2.5)", "-(v - a)/tau * (1 if v > a else 0.5)",
             "min(max(-v, -10), 10)/tau", "-v/tau + sin(t)", "-v/tau + 0*pi + 0*e", "-v/tau + sqrt(abs(w))"]


@st.composite
def expressions(draw, valid=VALID_RHS):
    kind = draw(st.integers(0, 9))
    if kind < 4:
        return draw(st.sampled_from(valid))
    if kind < 7:
        return "".join(draw(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=12)))
    if kind < 9:
        return draw(st.sampled_from(ATTACKS))
    return draw(st.text(max_size=40))


BASE_MODELS = [
    # (equation lines, threshold, reset, refractory, parameters, receptors, current_input)
    (["dv/dt = (a - v)/tau + I/cm : mV (unless refractory)", "I : nA"], "v > b", "v = a", 2.0,
     {"a": -65.0, "b": -50.0, "tau": 10.0, "cm": 1.0}, {"excitatory": "v += weight"}, "I"),
    (["dv/dt = 0.04*v**2 + 5*v + 140 - w + I/cm : mV", "dw/dt = a*(b*v - w) : mV/ms", "I : nA"], "v >= 30",
     "v = -65; w += 2", 0.0, {"a": 0.02, "b": 0.2, "cm": 0.001}, {"excitatory": "v += weight"}, "I"),
    (["dv/dt = (a - v)/tau + s/tau : mV", "dw/dt = -w/b : mV", "s = w*2 : mV"], "v > a + 15", "v = a; w += 1",
     "tau", {"a": -60.0, "b": 5.0, "tau": 3.0}, {"excitatory": "w += weight", "inhibitory": "w += -weight"},
     None),
    (["dv/dt = -v/tau + exp((v - a)/b) : mV"], "v > 0", "v = a", 0.5, {"a": -50.0, "b": 2.5, "tau": 20.0},
     {"excitatory": "v += weight"}, None),
]


@st.composite
def equation_blocks(draw):
    """(equations, threshold, reset, refractory, parameters, receptors, method, current_input):
    a valid base model with up to three fuzzed parts."""
    lines, threshold, reset, refractory, parameters, receptors, current_input = draw(st.sampled_from(BASE_MODELS))
    lines, parameters, receptors = list(lines), dict(parameters), dict(receptors)
    method = "auto"
    for _ in range(draw(st.integers(0, 3))):
        part = draw(st.integers(0, 11))
        if part == 0 and lines:     # a right-hand side
            k = draw(st.integers(0, len(lines) - 1))
            head, sep, tail = lines[k].partition("=")
            if sep:
                unit = tail.rpartition(":")[2]
                lines[k] = f"{head}= {draw(expressions())} :{unit}"
        elif part == 1:             # an extra line
            name = draw(st.sampled_from(NAMES))
            unit = draw(st.sampled_from(UNITS))
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from([
                f"d{name}/dt = {draw(expressions())} : {unit}", f"{name} = {draw(expressions())} : {unit}",
                f"{name} : {unit}", draw(st.sampled_from(ATTACKS)), "dv/dt == v : mV", "d/dt = 1 : mV",
                ": mV", "dv/dt = v : mV : mV", "# comment"])))
        elif part == 2 and lines:   # a unit
            k = draw(st.integers(0, len(lines) - 1))
            lines[k] = lines[k].rpartition(":")[0] + ": " + draw(st.sampled_from(UNITS))
        elif part == 3:
            threshold = draw(st.one_of(st.sampled_from(["v > a", "v >= 30", "v > b and w < 1", "not v < a",
                                                        "v", "1", "w > 1 or v > 1", None, 5]), expressions()))
        elif part == 4:
            reset = draw(st.sampled_from(["v = a", "v = b; w += 1", "", "v = __import__('os')", "x.y = 1",
                                          "v[0] = 1", "v = 1; import os", "v == 1", "v <= 1", "s = 1", "t = 0",
                                          "v = v", "w /= 0", "v=1;;w=2", None, 5, "I = 1"]))
        elif part == 5:
            refractory = draw(st.sampled_from([0.0, 2.0, "tau", "v", "nope", -1.0, NAN, None, 1 * pq.ms,
                                               1 * pq.mV, [1.0]]))
        elif part == 6:
            parameters[draw(st.sampled_from(NAMES + ["a", "b", "tau"]))] = draw(
                st.one_of(st.floats(0.5, 30), bad_values()))
        elif part == 7 and parameters:
            parameters.pop(draw(st.sampled_from(sorted(parameters))))
        elif part == 8:
            receptors[draw(st.sampled_from(["excitatory", "inhibitory", "x; import os", "in_", "a b", "\uff45",
                                            "", "__init__", "1x", 5]))] = draw(st.sampled_from(
                ["v += weight", "w += weight", "v += 2*weight", "v = weight", "v *= weight",
                 "v += weight; w += 1", "s += weight", "t += weight", "v += __import__('os')",
                 "v += v*weight", "", "I += weight"]))
        elif part == 9:
            method = draw(st.sampled_from(["exact", "euler", "rk2", "rk4", "exponential_euler", "magic", None]))
        elif part == 10:
            current_input = draw(st.sampled_from([None, "I", "v", "s", "nope", 5]))
        else:
            return draw(st.sampled_from([None, 5, b"dv/dt", "", "dv/dt = -v : mV\n" * 2])), threshold, reset, \
                refractory, parameters, receptors, method, current_input
    return "\n".join(lines), threshold, reset, refractory, parameters, receptors, method, current_input


def make_model(spec):
    equations, threshold, reset, refractory, parameters, receptors, method, current_input = spec
    return ns.NeuronModel(equations, threshold=threshold, reset=reset, refractory=refractory,
                          parameters=parameters, receptors=receptors, method=method,
                          current_input=current_input)


# A few fixed custom models keep the number of distinct kernels (compile time) small.
CUSTOM = [
    dict(equations="dv/dt = (a - v)/tau + I/cm : mV\nI : nA", threshold="v > b", reset="v = a",
         refractory=2.0, parameters={"a": -65.0, "b": -50.0, "tau": 10.0, "cm": 1.0},
         receptors={"excitatory": "v += weight", "inhibitory": "v += weight"}, current_input="I"),
    dict(equations="dv/dt = 0.04*v**2 + 5*v + 140 - w + I/cm : mV\ndw/dt = a*(b*v - w) : mV/ms\nI : nA",
         threshold="v >= 30", reset="v = -65; w += 2", parameters={"a": 0.02, "b": 0.2, "cm": 0.001},
         receptors={"excitatory": "v += weight"}, current_input="I", method="euler"),
]


def mostly(good, bad, one_in=60, clean=False):
    """``good``, and one time in ``one_in`` ``bad`` (never with ``clean``): hostile input stays
    frequent, yet many cases get far enough to compile and run."""
    if clean:
        return good
    return st.integers(0, one_in - 1).flatmap(lambda k: bad if k == 0 else good)


# --------------------------------------------------------------------------- networks
STANDARD = {
    "IF_curr_exp": (ns.IF_curr_exp, {"tau_m": (0.5, 50), "cm": (0.05, 2), "v_rest": (-80, -40),
                                     "v_thresh": (-60, -30), "v_reset": (-90, -55), "tau_syn_E": (0.1, 20),
                                     "tau_refrac": (0, 5), "i_offset": (-1, 3)}),
    "IF_curr_alpha": (ns.IF_curr_alpha, {"tau_m": (0.5, 50), "i_offset": (-1, 3), "tau_syn_I": (0.1, 20)}),
    "IF_curr_delta": (ns.IF_curr_delta, {"tau_m": (0.5, 50), "i_offset": (-1, 3)}),
    "IF_cond_exp": (ns.IF_cond_exp, {"tau_m": (0.5, 50), "e_rev_E": (-10, 10), "e_rev_I": (-90, -60),
                                     "i_offset": (-1, 3)}),
    "EIF_cond_exp_isfa_ista": (ns.EIF_cond_exp_isfa_ista, {"a": (0, 10), "b": (0, 1), "delta_T": (0.5, 5),
                                                           "i_offset": (-1, 3)}),
    "Izhikevich": (ns.Izhikevich, {"a": (0.01, 0.1), "b": (0.1, 0.3), "c": (-70, -50), "d": (0, 8),
                                   "i_offset": (-0.01, 0.03)}),
}


@st.composite
def values(draw, low=-80.0, high=80.0, size=None, clean=False):
    """A parameter value: a number in [low, high], sometimes an array of ``size`` numbers or a
    RandomDistribution spec, one time in ten garbage."""
    kind = draw(st.integers(0, 39))
    if kind < 34:
        return draw(st.floats(low, high))
    if kind == 34 and size:
        n = draw(st.sampled_from([size, size, size, size + 1]))
        return draw(st.lists(st.floats(low, high), min_size=n, max_size=n))
    if kind in (34, 35, 36):
        return ("uniform", tuple(sorted(draw(st.tuples(st.floats(low, high), st.floats(low, high))))))
    if kind == 37 and not clean:
        return draw(distributions())
    return draw(st.floats(low, high)) if clean else draw(bad_values())


@st.composite
def cell_specs(draw, clean=False):
    """('standard', name, params, class_form) | ('poisson', ...) | ('array', ...) | ('custom', k)."""
    m = partial(mostly, clean=clean)
    kind = draw(st.integers(0, 9))
    if kind < 5:
        name = draw(st.sampled_from(sorted(STANDARD)))
        ranges = STANDARD[name][1]
        params = {}
        keys = m(st.sampled_from(sorted(ranges)), st.sampled_from(["bogus", "TAU_M"]))
        for key in draw(st.lists(keys, max_size=3)):
            lo, hi = ranges.get(key, (0.5, 10))
            params[key] = draw(values(lo, hi, clean=clean))
        return ("standard", name, params, draw(st.booleans()))
    if kind < 7:
        return ("poisson", draw(values(0.0, 2000.0, clean=clean)), draw(m(st.floats(0, 5), bad_values())),
                draw(m(st.floats(0, 1e6), bad_values())))
    if kind < 8:
        bad = st.one_of(st.lists(st.sampled_from([NAN, -1.0, 1e300, 0.0, 0.05, INF, "a", None]), min_size=1,
                                 max_size=3),
                        st.lists(st.lists(st.floats(0, 20), max_size=4), max_size=5), bad_values())
        return ("array", draw(m(st.lists(st.floats(0.3, 20), max_size=6), bad)))
    return ("custom", draw(st.integers(0, len(CUSTOM) - 1)))


def make_cell(spec, size, structure=None, label=None):
    if spec[0] == "standard":
        _, name, params, class_form = spec
        cls = STANDARD[name][0]
        params = {k: realise(v) for k, v in params.items()}
        if class_form:
            return ns.Population(size, cls, cellparams=params, structure=structure, label=label)
        cell = cls(**params)
    elif spec[0] == "poisson":
        cell = ns.SpikeSourcePoisson(rate=realise(spec[1]), start=spec[2], duration=spec[3])
    elif spec[0] == "array":
        cell = ns.SpikeSourceArray(spike_times=spec[1])
    else:
        cell = ns.NeuronModel(**CUSTOM[spec[1]])
    return ns.Population(size, cell, structure=structure, label=label)


def sizes(clean=False):
    return mostly(st.one_of(st.integers(1, 12), st.integers(1, 12), st.integers(13, 2000)),
                  st.sampled_from(BAD_SIZES), one_in=15, clean=clean)


@st.composite
def connectors(draw, n_lists=8, clean=False):
    """(connector class name, keyword arguments)."""
    m = partial(mostly, clean=clean)
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return ("AllToAllConnector",
                {"allow_self_connections": draw(m(st.booleans(), st.sampled_from([1, None, "yes"])))})
    if kind == 1:
        return ("OneToOneConnector", {})
    if kind in (2, 3):
        p = draw(m(st.floats(0, 1), st.sampled_from([-0.1, 1.5, NAN, "0.5", None, 1e-300, np.float32(0.3)])))
        return ("FixedProbabilityConnector", {"p_connect": p, "allow_self_connections": draw(st.booleans())})
    if kind == 4:
        name = draw(st.sampled_from(["FixedNumberPreConnector", "FixedNumberPostConnector",
                                     "FixedTotalNumberConnector"]))
        number = m(st.integers(0, 12), st.sampled_from([-1, 2.5, 10**6, 10**12, NAN, "3", None, True]))
        return (name, {"n": draw(number), "with_replacement": draw(st.booleans()),
                       "allow_self_connections": draw(st.booleans())})
    if kind in (5, 6, 7):
        index = m(st.integers(0, 12), st.sampled_from([-1, 0.5, 1e300, NAN, INF, 2**63, 2**40, 10**6]))
        width = draw(st.integers(2, 4))
        value = m(st.floats(0.1, 3), st.sampled_from([-1.0, 0.0, NAN, 1e300]))
        rows = draw(st.lists(st.tuples(index, index, value, value).map(lambda r: list(r[:width])),
                             max_size=n_lists))
        if not clean and draw(st.integers(0, 9)) == 0:
            rows = draw(st.sampled_from([[[0, 1], [2]], "abc", None, 5, [[0, 1, "w"]], np.zeros((2, 2, 2))]))
        names = {2: [None], 3: [None, ("weight",), ("delay",)],
                 4: [None, ("weight", "delay"), ("delay", "weight")]}[width]
        names = draw(m(st.sampled_from(names), st.sampled_from([("bogus",), "weight", 5, ("weight", "weight")])))
        return ("FromListConnector", {"conn_list": rows, "column_names": names})
    if kind == 8:
        shape = draw(st.tuples(st.integers(0, 12), st.integers(0, 12)))
        dtype = draw(st.sampled_from([bool, int, float]))
        fill = draw(st.sampled_from([0, 1, 2, NAN]))
        arr = np.ones(shape, bool) if dtype is not float and isinstance(fill, float) else np.full(shape, fill)
        return ("ArrayConnector", {"array": arr.astype(dtype) if not isinstance(fill, float) else arr})
    expression = st.sampled_from(["exp(-d/2)", "d < 3", "1", "0", "d", "-d", "nan_d", "2**-1*d", "1/d", "log(d)",
                                  "exp(1000*d)", "__import__('os')", "d if d > 1 else 0.5", "sqrt(-d)"])
    return ("DistanceDependentProbabilityConnector",
            {"d_expression": draw(expression), "allow_self_connections": draw(st.booleans())})


def make_connector(spec):
    name, kwargs = spec
    cls = FixedTotalNumberConnector if name == "FixedTotalNumberConnector" else getattr(ns, name)
    return cls(**kwargs)


@st.composite
def networks(draw):
    """A recipe: dt, seed, populations, their settings, projections, and how to run.

    Half the recipes are ``clean`` (no garbage values, so most of them reach the
    kernel); in the others every value is garbage one time in 60 or so.
    """
    clean = draw(st.booleans())
    m = partial(mostly, clean=clean)
    recipe = {"dt": draw(m(st.sampled_from([0.1, 0.1, 0.05, 1.0, 0.25]),
                           st.sampled_from([0, -0.1, 1e-5, 11.0, NAN, INF, "0.1", None, 0.1 * pq.ms,
                                            100 * pq.us, 1 * pq.mV, 10**40]))),
              "seed": draw(m(st.integers(0, 2**32), st.sampled_from([-1, 1.5, "1", None, 2**70]))),
              "pops": [], "projs": []}
    n_pops = draw(st.integers(1, 3))
    for _ in range(n_pops):
        size = draw(sizes(clean=clean))
        n = size if isinstance(size, int) and 0 < size < 10**4 else None
        cell = draw(cell_specs(clean=clean))
        params, variables = {
            "standard": (sorted(STANDARD[cell[1]][1]) if cell[0] == "standard" else [],
                         ["v", "isyn_exc", "g_exc", "u", "w_adapt"]),
            "poisson": (["rate"], []), "array": (["rate"], []), "custom": (["a", "b"], ["v", "I"])}[cell[0]]
        pop = {"size": size, "cell": cell,
               "structure": draw(m(st.sampled_from([None, None, "line", "random"]),
                                   st.sampled_from(["bogus", "grid"]))),
               "set": None, "init": None, "record": (["spikes"], None, None), "inject": None,
               "label": draw(m(st.none(), st.sampled_from(["", " ", 5, "x; import os", "\x00"])))}
        if draw(st.integers(0, 4)) == 0:
            pop["set"] = (draw(m(st.sampled_from(params or ["bogus"]), st.sampled_from(["bogus", "spike_times"]))),
                          draw(values(-5.0, 60.0, size=n, clean=clean)),
                          draw(m(st.sampled_from([None, None, slice(0, 2), [0]]),
                                 st.sampled_from([[-1], [99], [0.5], [True]]))))
        if variables and draw(st.integers(0, 3)) == 0:
            pop["init"] = (draw(m(st.sampled_from(variables), st.just("bogus"))),
                           draw(values(-80.0, -40.0, size=n, clean=clean)))
        if draw(st.integers(0, 2)) == 0:
            recordable = [["spikes"]] + ([["v"], ["spikes", "v"], "v", variables[:2]] if variables else [])
            pop["record"] = (draw(m(st.sampled_from(recordable), st.sampled_from([["bogus"], [], None, 5]))),
                             draw(m(st.sampled_from([None, None, 0.2, 1.0]),
                                    st.sampled_from([0.15, 0.0, -1.0, NAN, "1", 1 * pq.ms]))),
                             draw(m(st.sampled_from([None, None, [0], [0, 1], slice(0, 3)]),
                                    st.sampled_from([[-1], [10**6]]))))
        if draw(st.integers(0, 5)) == 0:
            pop["inject"] = draw(st.one_of(
                st.tuples(st.just("dc"), m(st.floats(-2, 2), bad_values()), m(st.floats(0, 5), bad_values()),
                          m(st.one_of(st.none(), st.floats(5.5, 10)), bad_values())),
                st.tuples(st.just("step"), m(st.just([0.5, 1.0, 2.0]), bad_values()),
                          m(st.lists(st.floats(-2, 2), min_size=3, max_size=3), bad_values()))))
            if not clean and draw(st.integers(0, 19)) == 0:
                pop["inject"] = ("bogus",)
        recipe["pops"].append(pop)
    neurons = [k for k, p in enumerate(recipe["pops"]) if p["cell"][0] in ("standard", "custom")]
    for _ in range(draw(st.integers(0, 3))):
        weight = draw(st.one_of(st.floats(-0.5, 0.5), st.floats(0, 2), values(0.0, 1.0, clean=clean)))
        delay = draw(m(st.one_of(st.none(), st.sampled_from([1.0, 2.5]), st.just(("uniform", (1.0, 3.0)))),
                       st.sampled_from([0.1, 0.05, 0.0, -1.0, 1e6, NAN, 4000.0, 1 * pq.ms, 1 * pq.mV, "1"]),
                       one_in=20))
        recipe["projs"].append({
            "pre": draw(st.integers(0, n_pops - 1)),
            "post": draw(m(st.sampled_from(neurons or [0]), st.integers(0, n_pops - 1), one_in=10)),
            "view": draw(st.sampled_from([None, None, None, "pre", "post"])),
            "connector": draw(connectors(clean=clean)), "weight": weight, "delay": delay,
            "receptor": draw(m(st.sampled_from(["excitatory", "inhibitory"]),
                               st.sampled_from(["bogus", None, 5]))),
            "synapse": draw(m(st.sampled_from(["static", "static", "static", "stdp", "tm"]),
                              st.sampled_from(["none", "bogus"])))})
    recipe["run"] = draw(m(st.sampled_from([1.0, 2.0, 3.0, 0.5]),
                           st.sampled_from([0.0, -1.0, NAN, INF, "2", None, 1e-6, True])))
    recipe["threads"] = draw(m(st.sampled_from([1, 1, 2]), st.sampled_from([0, "2", 10**6])))
    recipe["numerics"] = draw(m(st.sampled_from(["float32", "float32", "float64"]),
                                st.sampled_from(["float16", None])))
    recipe["twice"] = draw(st.booleans())
    # after the run: read and write state and weights through the Simulation, with hostile values
    recipe["poke"] = (draw(st.sampled_from(["v", "isyn_exc", "u", "I", "bogus", 5])),
                      draw(st.one_of(values(-70.0, -50.0, size=4), st.floats(-70, -50))),
                      draw(st.one_of(st.floats(0, 1), bad_values(), st.sampled_from(
                          [NAN, INF, -1.0, None, [[0.1]], [0.1, 0.2], np.zeros((2, 2)), 10**40]))))
    return recipe


STRUCTURES = {"line": lambda: ns.Line(), "grid": lambda: ns.Grid2D(), "random": lambda: ns.RandomStructure(),
              "bogus": lambda: "bogus", None: lambda: None}


def make_synapse(spec):
    kind, weight, delay = spec["synapse"], realise(spec["weight"]), realise(spec["delay"])
    if kind == "static":
        return ns.StaticSynapse(weight=weight, delay=delay)
    if kind == "stdp":
        return ns.STDPMechanism(timing_dependence=ns.SpikePairRule(A_plus=0.01, A_minus=0.012),
                                weight_dependence=ns.AdditiveWeightDependence(w_min=0.0, w_max=1.0),
                                weight=weight, delay=delay)
    if kind == "tm":
        return ns.TsodyksMarkramSynapse(U=0.5, tau_rec=50.0, weight=weight, delay=delay)
    return None if kind == "none" else "bogus"


def construct(recipe):
    """Build the Network a recipe describes (any NeurosimError ends the case)."""
    net = ns.Network(dt=recipe["dt"], seed=recipe["seed"])
    pops = []
    for spec in recipe["pops"]:
        pop = make_cell(spec["cell"], spec["size"], STRUCTURES[spec["structure"]](), spec["label"])
        if spec["set"]:
            name, value, idx = spec["set"]
            target = pop if idx is None else pop[idx]
            target.set(**{name: realise(value)})
        if spec["init"]:
            name, value = spec["init"]
            pop.initialize(**{name: realise(value)})
        if spec["record"]:
            variables, interval, idx = spec["record"]
            pop.record(variables, sampling_interval=interval, indices=idx)
        if spec["inject"]:
            src = spec["inject"]
            if src[0] == "dc":
                pop.inject(ns.DCSource(amplitude=src[1], start=src[2], stop=src[3]))
            elif src[0] == "step":
                pop.inject(ns.StepCurrentSource(times=src[1], amplitudes=src[2]))
            else:
                pop.inject("bogus")
        pops.append(net.add(pop))
    for spec in recipe["projs"]:
        pre, post = pops[spec["pre"]], pops[spec["post"]]
        if spec["view"] == "pre":
            pre = pre[0:max(1, pre.size // 2)]
        elif spec["view"] == "post":
            post = post[0:max(1, post.size // 2)]
        net.add(ns.Projection(pre, post, make_connector(spec["connector"]), make_synapse(spec),
                              receptor_type=spec["receptor"]))
    return net
