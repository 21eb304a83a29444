"""Fuzzing with hypothesis: random network descriptions either run or raise a NeurosimError.

Every case builds objects from random, often hostile input (sizes 0, negative,
huge, non-integer; parameters NaN, inf, negative, strings, None, quantities in
the wrong unit; every connector, FromList lists with bad indices; delays,
weights and RandomDistributions with bad parameters; random and malicious
equation strings) and then either compiles the network on numba and runs it
for a few ms, or gets a ``neurosim.NeurosimError`` subclass whose message
names the object.  Any other exception, an interpreter crash or a hang (the
per-case watchdog below) is a bug.

CI runs a fixed, derandomised set of about 250 cases.  For a long local run::

    NEUROSIM_FUZZ_EXAMPLES=5000 python -m pytest -q tests/unit/test_fuzz.py

(random cases, a new seed each run; hypothesis prints the seed of a failure).
Available memory is fixed at 4 GiB during the fuzz so that the resource guard
refuses the same networks on every machine.
"""
import faulthandler
import os
import sys
import time
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import neurosim as ns
from neurosim import resources

from fuzz_strategies import (bad_values, connectors, construct, distributions, equation_blocks,
                             make_connector, make_distribution, make_model, networks, realise)

EXAMPLES = int(os.environ.get("NEUROSIM_FUZZ_EXAMPLES", "0"))
WATCHDOG_S = 300          # a single case running longer than this is a hang: dump stacks, exit
FUZZ_MEMORY = 4 << 30     # bytes the resource guard sees as available during the fuzz


def fuzz_settings(ci_examples):
    """CI: a fixed set of ``ci_examples`` cases; local: NEUROSIM_FUZZ_EXAMPLES random ones each."""
    return settings(max_examples=EXAMPLES or ci_examples, deadline=None, derandomize=not EXAMPLES,
                    database=None, print_blob=True, suppress_health_check=list(HealthCheck))


@pytest.fixture(autouse=True)
def fixed_memory(monkeypatch):
    monkeypatch.setattr(resources, "available_memory", lambda: FUZZ_MEMORY)


@contextmanager
def watchdog():
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True, file=sys.stderr)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def check_error(exc):
    """A NeurosimError must say what went wrong, on which object."""
    text = str(exc)
    assert text.strip(), f"{type(exc).__name__} without a message"
    if isinstance(exc, ns.ValidationError):
        assert isinstance(exc.obj, str) and exc.obj.strip(), f"no object named in {text!r}"
        assert len(text) > len(str(exc.obj)) + 5, f"message too short: {text!r}"


def attempt(fn, *args, **kwargs):
    """fn(...) or None if it raised a NeurosimError (checked); anything else propagates."""
    try:
        return fn(*args, **kwargs)
    except ns.NeurosimError as exc:
        check_error(exc)
        return None


def check_results(sim, net):
    """Recorded spikes lie in (0, t] and index existing neurons; traces have finite times."""
    for pop in net.populations:
        times, ids = sim.results.spikes(pop.label)
        assert times.shape == ids.shape
        if times.size:
            assert times.min() > 0 and times.max() <= sim.t + 1e-9
            assert ids.min() >= 0 and ids.max() < pop.size
        for var in sim.results.variables(pop.label):
            trace = sim.results.trace(pop.label, var)
            assert trace.values.shape == (trace.times.size, trace.indices.size)


def simulate(recipe):
    net = construct(recipe)
    sim = ns.compile(net, threads=recipe["threads"], numerics=recipe["numerics"], quiet=True)
    sim.run(recipe["run"])
    if recipe["twice"]:
        var, value, weight = recipe["poke"]
        for pop in net.populations:
            got = attempt(sim.get, pop.label, var)
            assert got is None or got.shape == (pop.size,)
            attempt(sim.set, pop.label, **{str(var): realise(value)})
        for proj in net.projections:
            attempt(sim.get_weights, proj.label)
            attempt(sim.set_weights, proj.label, weight)
        sim.run(1.0)
    check_results(sim, net)
    return sim


# --------------------------------------------------------------------------- the tests
@fuzz_settings(100)
@given(recipe=networks())
def test_fuzz_networks(recipe):
    """Random networks: compile and run a few ms, or a NeurosimError."""
    with watchdog():
        attempt(simulate, recipe)


@fuzz_settings(50)
@given(spec=equation_blocks(), size=st.integers(1, 4), delay=st.sampled_from([None, 0.5, (0.1, 1.0)]))
def test_fuzz_equations(spec, size, delay):
    """Random and malicious model text: refused with a NeurosimError, or it runs."""
    with watchdog():
        model = attempt(make_model, spec)
        if model is None:
            return
        assert not os.path.exists("/tmp/neurosim_pwned")

        def run():
            net = ns.Network(dt=0.1, seed=3)
            pop = net.add(ns.Population(size, model, label="m"))
            src = net.add(ns.Population(2, ns.SpikeSourcePoisson(rate=800.0), label="src"))
            if model.receptors:
                d = ns.RandomDistribution("uniform", delay) if isinstance(delay, tuple) else delay
                net.add(ns.Projection(src, pop, ns.AllToAllConnector(), ns.StaticSynapse(0.5, d),
                                      receptor_type=sorted(model.receptors)[0]))
            pop.record(["spikes"] + model.recordable[:2])
            sim = ns.compile(net, quiet=True)
            sim.run(1.0)
            check_results(sim, net)
        attempt(run)
        assert not os.path.exists("/tmp/neurosim_pwned")


@fuzz_settings(100)
@given(kind=st.sampled_from(["distribution", "connector", "synapse", "source", "network", "current"]),
       dist=distributions(), conn=connectors(n_lists=20), value=bad_values(), other=bad_values(),
       n_pre=st.integers(0, 50), n_post=st.integers(0, 50))
def test_fuzz_objects(kind, dist, conn, value, other, n_pre, n_post):
    """Single objects with hostile arguments, then used: a NeurosimError or a sane result."""
    rng = np.random.default_rng(0)
    with watchdog():
        if kind == "distribution":
            rd = attempt(make_distribution, dist)
            if rd is not None:
                out = attempt(rd.draw, n_pre, rng)
                assert out is None or (out.shape == (n_pre,) and out.dtype == np.float64)
        elif kind == "connector":
            c = attempt(make_connector, conn)
            if c is not None:
                got = attempt(c.connect, n_pre, n_post, rng, pre_positions=np.zeros((n_pre, 3)),
                              post_positions=np.zeros((n_post, 3)))
                if got is not None and got.pre.size:
                    assert got.pre.min() >= 0 and got.pre.max() < n_pre
                    assert got.post.min() >= 0 and got.post.max() < n_post
        elif kind == "synapse":
            attempt(ns.StaticSynapse, weight=value, delay=other)
        elif kind == "source":
            attempt(ns.SpikeSourcePoisson, rate=value, start=other)
            attempt(ns.SpikeSourceArray, spike_times=value)
        elif kind == "network":
            attempt(ns.Network, dt=value, seed=other)
            attempt(ns.Population, value, ns.IF_curr_exp())
            attempt(ns.Population, 3, ns.IF_curr_exp, cellparams=value)
            attempt(ns.IF_curr_exp, tau_m=value)
            attempt(ns.IF_cond_exp, e_rev_E=value, v_thresh=other)
        else:
            attempt(ns.DCSource, amplitude=value, start=other)
            attempt(ns.StepCurrentSource, times=value, amplitudes=other)


# --------------------------------------------------------------------------- regressions
# Each case is a bug the fuzz (or the probing around it) found: it used to raise another
# exception type, hang, allocate without bound or execute code; now it is a ValidationError.
LIF = dict(threshold="v > 1", reset="v = 0", parameters={"tau": 10.0})
REGRESSIONS = {
    "cellparams not a dict (TypeError)": lambda: ns.Population(3, ns.IF_curr_exp, cellparams=5),
    "column_names not a sequence (TypeError)": lambda: ns.FromListConnector([[0, 1, 2]], column_names=5),
    "uniform range overflows (OverflowError)": lambda: ns.RandomDistribution("uniform", (-1e308, 1e308)),
    "binomial n beyond int64 (OverflowError)": lambda: ns.RandomDistribution("binomial", (1e30, 0.5)),
    "uniform_int beyond int64 (ValueError)": lambda: ns.RandomDistribution("uniform_int", (0, 1e30)),
    "poisson lambda too large (ValueError)": lambda: ns.RandomDistribution("poisson", (1e30,)),
    "unhashable distribution name (TypeError)": lambda: ns.RandomDistribution(["normal"]),
    "spike_times None (TypeError)": lambda: ns.SpikeSourceArray(spike_times=None),
    "spike_times a number (TypeError)": lambda: ns.SpikeSourceArray(spike_times=5),
    "spike time beyond int64 steps (overflow)": lambda: ns.SpikeSourceArray(spike_times=[1e300]),
    "current source times not numbers (ValueError)": lambda: ns.StepCurrentSource(times="ab", amplitudes="cd"),
    "DC start beyond int64 steps (overflow)": lambda: ns.DCSource(start=1e300),
    "huge integer dt (TypeError)": lambda: ns.Network(dt=10**40),
    "record(None) (TypeError)": lambda: ns.Population(3, ns.IF_curr_exp()).record(None),
    "sampling interval an array (TypeError)": lambda: ns.Population(3, ns.IF_curr_exp()).record(
        "v", sampling_interval=[1.0, 2.0]),
    "NeuronModel parameters not a dict (AttributeError)": lambda: ns.NeuronModel(
        "dv/dt = -v/tau : 1", parameters=5),
    "9**9**9 in an equation (sympy hang)": lambda: ns.NeuronModel("dv/dt = -v/tau + 9**9**9 : 1", **LIF),
    "integer beyond int64 (numba TypingError)": lambda: ns.NeuronModel("dv/dt = -v**10**30/tau : 1", **LIF),
    "1e400 (undefined name 'oo')": lambda: ns.NeuronModel("dv/dt = -v/tau + 1e400 : 1", **LIF),
    "0**-1 (undefined name 'zoo')": lambda: ns.NeuronModel("dv/dt = -v/tau + 0**-1 : 1", **LIF),
    "threshold not a condition (numba TypingError)": lambda: ns.NeuronModel(
        "dv/dt = -v/tau : 1", **{**LIF, "threshold": "v"}),
    "receptor name pasted into kernel source": lambda: ns.NeuronModel(
        "dv/dt = -v/tau : 1", receptors={"x=0, *, z=__import__('os').getpid()": "v += weight"}, **LIF),
    "synapse parameter name pasted into kernel source (code execution)": lambda: ns.SynapseModel(
        "", on_pre="psp = w", parameters={"x=0, *, z=__import__('os').getpid()": 1.0}),
    "non-ASCII parameter name (NFKC collision in code)": lambda: ns.NeuronModel(
        "dv/dt = -v/tau : 1", **{**LIF, "parameters": {"tau": 10.0, "\uff54au": 1.0}}),
    "cyclic subexpression (numba NameError)": lambda: ns.NeuronModel(
        "dv/dt = -v/tau + s : 1\ns = s + 1 : 1", **LIF),
    "subexpressions inlined 2**40 times (hang)": lambda: ns.NeuronModel(
        "dv/dt = -v/tau + s40 : 1\ns0 = v : 1\n" + "\n".join(f"s{k} = s{k - 1} + s{k - 1} : 1"
                                                               for k in range(1, 41)), **LIF),
    "exact analysis of a huge expansion (minutes in sympy)": lambda: ns.compile(_one_population(ns.NeuronModel(
        "dv/dt = -v/tau + (v + a + b + c)**60 : 1", method="exact",
        **{**LIF, "parameters": {"tau": 10.0, "a": 1.0, "b": 1.0, "c": 1.0}}))),
}


def _one_population(model):
    net = ns.Network()
    net.add(ns.Population(2, model, label="p"))
    return net


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_fuzz_regressions(name):
    with watchdog():
        start = time.perf_counter()
        with pytest.raises(ns.ValidationError) as info:
            REGRESSIONS[name]()
        check_error(info.value)
        assert time.perf_counter() - start < 30


def test_fuzz_regression_integer_power_in_distance_expression():
    """numpy refused integer ** negative integer (ValueError); constants now evaluate as floats."""
    connector = ns.DistanceDependentProbabilityConnector("2**-1*d")
    assert connector.probabilities([1.0]).tolist() == [0.5]


def test_set_weights_refuses_non_numbers():
    """Found by the fuzz: set_weights converted with np.asarray(dtype=float) unguarded."""
    net = ns.Network(seed=1)
    pop = net.add(ns.Population(2, ns.IF_curr_exp(), label="p"))
    proj = net.add(ns.Projection(pop, pop, ns.AllToAllConnector(), ns.StaticSynapse(0.1, 1.0)))
    sim = ns.compile(net, quiet=True)
    for bad in ("abc", 1 + 1j, {"a": 1}, ["a", "b"], [[1, 2], [3]], np.ones((2, 2), complex)):
        with pytest.raises(ns.ValidationError):
            sim.set_weights(proj, bad)
