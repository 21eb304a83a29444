"""Explicit Runge-Kutta stages see their own time: equations that depend on t keep the
method's order (closed form: v = A sin(t / tau) for dv/dt = A cos(t / tau) / tau)."""
import numpy as np
import pytest

import neurosim as ns

TAU, A = 7.0, 3.0   # ms, mV


def _run(method, backend, dt):
    model = ns.NeuronModel("dv/dt = amp*cos(t/tau)/tau : mV", parameters=dict(amp=A, tau=TAU),
                           method=method, name=f"forced_{method}")
    net = ns.Network(dt=dt, seed=1)
    pop = net.add(ns.Population(1, model, label="p"))
    pop.record("v")
    options = {"numerics": "float64"} if backend == "numba" else {"target": "numpy"}
    trace = ns.compile(net, backend=backend, **options).run(50.0).trace("p", "v")
    return np.max(np.abs(trace.values[:, 0] - A * np.sin(trace.times / TAU)))


@pytest.mark.parametrize("backend", ["numba", "brian2"])
@pytest.mark.parametrize("method, order", [("rk2", 2), ("rk4", 4)])
def test_rk_stages_use_their_own_time(method, order, backend):
    coarse, fine = _run(method, backend, 0.2), _run(method, backend, 0.1)
    # the error falls with the method's order; evaluating every stage at the step's start
    # would make it first order in dt (and 1e-2 mV instead of < 1e-5 for rk4 here)
    assert fine < (2e-3 if order == 2 else 1e-6)
    assert coarse / fine > 2 ** order * 0.8
