"""The astrocyte models on numba against an outside reference: the published G-ChI equations
(Stimberg et al., ../shared/references/models.md section 3) written out here again in seconds
and µM and integrated by scipy's LSODA at tight tolerance."""
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import neurosim as ns
from neurosim.errors import ValidationError
from neurosim.models.astrocyte import FIG2, PARAMETERS, astrocyte, ip3_gap_junction, tripartite_synapse

DT = 1.0   # ms


def reference_rhs(p, coupling=None):
    """d/dt of (Gamma_A, Y_S, I, C, h, x_A, G_A, Gamma_S) per astrocyte, time in s.

    ``coupling``: list of (pre, post) pairs of an IP3 gap-junction network."""
    def rhs(t, y):
        G_Ar, Y, I, C, h, x_A, G_A, G_S = y.reshape(8, -1)
        J_beta = p["O_beta"] * G_Ar
        J_delta = p["O_delta"] / (1 + I / p["kappa_delta"]) * C**2 / (C**2 + p["K_delta"]**2)
        J_3K = p["O_3K"] * C**4 / (C**4 + p["K_D"]**4) * I / (I + p["K_3K"])
        d = I - p["I_bias"]
        J_ex = -p["F_ex"] / 2 * (1 + np.tanh((np.abs(d) - p["I_Theta"]) / p["omega_I"])) * np.sign(d)
        J_c = np.zeros_like(I)
        for pre, post in coupling or ():
            dI = I[post] - I[pre]
            J_c[post] += -p["F"] / 2 * (1 + np.tanh((abs(dI) - p["I_Theta"]) / p["omega_I"])) * np.sign(dI)
        Q2 = p["d_2"] * (I + p["d_1"]) / (I + p["d_3"])
        m_inf = I / (I + p["d_1"]) * C / (C + p["d_5"])
        dC = ((p["Omega_C"] * m_inf**3 * h**3 + p["Omega_L"]) * (p["C_T"] - (1 + p["rho_A"]) * C)
              - p["O_P"] * C**2 / (C**2 + p["K_P"]**2))
        dh = (Q2 / (Q2 + C) - h) * p["O_2"] * (Q2 + C)
        dG_Ar = p["O_N"] * Y * (1 - G_Ar) - p["Omega_N"] * (1 + p["zeta"] * C / (C + p["K_KC"])) * G_Ar
        return np.concatenate([dG_Ar, -p["Omega_c"] * Y, J_beta + J_delta - J_3K - p["Omega_5P"] * I + J_ex + J_c,
                               dC, dh, p["Omega_A"] * (1 - x_A), -p["Omega_e"] * G_A,
                               p["O_G"] * G_A * (1 - G_S) - p["Omega_G"] * G_S])
    return rhs


def reference(p, y0, t_end, dt, jumps=(), coupling=None, method="LSODA", rtol=1e-10, atol=1e-12):
    """Integrate to t_end (s), sampled every dt (s) after the step's discrete updates.

    ``jumps``: (time s, Y_S increment) of glutamate, applied at that time.  With one
    astrocyte, gliotransmitter is released at the first step boundary at which C > C_Theta
    after a boundary at which C <= C_Theta (the discrete rule of the model under test);
    crossings are located by the solver's event detection."""
    n = len(y0) // 8
    rhs = reference_rhs(p, coupling)
    times = np.arange(1, int(round(t_end / dt)) + 1) * dt
    samples, y, t, armed = [], np.array(y0, float), 0.0, True
    pending = sorted(jumps)
    glio = n == 1

    def crossing(t, y):
        return y[3] - p["C_Theta"]
    crossing.terminal = True
    while t < t_end - 1e-9:
        stop = min([t_end] + [tj for tj, _ in pending if tj > t + 1e-9])
        crossing.direction = 1 if armed else -1
        sol = solve_ivp(rhs, (t, stop), y, method=method, rtol=rtol, atol=atol, dense_output=True,
                        events=crossing if glio else None)
        if glio and sol.status == 1:
            stop = min(np.ceil(sol.t_events[0][0] / dt - 1e-9) * dt, stop)
            sol = solve_ivp(rhs, (t, stop), y, method=method, rtol=rtol, atol=atol, dense_output=True)
        inside = times[(times > t + 1e-9) & (times < stop - 1e-9)]
        samples.extend(sol.sol(inside).T)
        y, t = sol.y[:, -1].copy(), stop
        for jump in [j for j in pending if abs(j[0] - t) < 1e-9]:
            y[n:2 * n] += jump[1]
            pending.remove(jump)
        if glio:
            if armed and y[3] > p["C_Theta"]:
                y[6] += p["rho_e"] * p["G_T"] * p["U_A"] * y[5]
                y[5] -= p["U_A"] * y[5]
            armed = y[3] <= p["C_Theta"]
        samples.append(y.copy())
    return times, np.array(samples)


def published(**overrides):
    p = {name: value for name, (value, _) in PARAMETERS.items()}
    p.update(overrides)
    return p


def run_numba(n, cell, duration_ms, initial, record, connect=None, dt=DT):
    net = ns.Network(dt=dt, seed=1)
    astro = net.add(ns.Population(n, cell, label="astro"))
    astro.initialize(**initial)
    astro.record(record)
    if connect:
        connect(net, astro)
    results = ns.compile(net, numerics="float64").run(duration_ms)
    return {var: results.trace("astro", var).values for var in record}


def rel_error(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def test_synaptically_driven_astrocyte_matches_scipy():
    """Fig. 2 set-up: glutamate pulses (rho_c Y_T = 500 µM) every 2 s drive IP3 and Ca2+."""
    spikes_ms = np.arange(2000.0, 10000.0, 2000.0)

    def connect(net, astro):
        src = net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=spikes_ms), label="src"))
        net.add(ns.Projection(src, astro, ns.AllToAllConnector(), ns.StaticSynapse(weight=500.0, delay=DT),
                              receptor_type="glutamate"))
    ours = run_numba(1, astrocyte(gliotransmission=False, **FIG2), 10000.0, {"h": 0.9},
                     ["Gamma_A", "I", "C", "h"], connect)
    jumps = [((t + DT) / 1000, 500.0) for t in spikes_ms]
    _, ref = reference(published(**FIG2), [0, 0, 0, 0, 0.9, 1, 0, 0], 10.0, DT / 1000, jumps)
    assert ref[:, 3].max() > 0.5                     # Ca2+ responds (peaks above 0.5 µM)
    for k, var in ((0, "Gamma_A"), (2, "I"), (3, "C"), (4, "h")):
        assert rel_error(ours[var][:, 0], ref[:, k]) < 1e-4, var


def test_gliotransmitter_release_matches_scipy():
    """Fig. 3 astrocyte with exogenous drive I_bias = 1.25 µM: Ca2+ oscillates and releases."""
    ours = run_numba(1, astrocyte(I_bias=1.25, O_beta=0.0), 20000.0, {"I": 0.4, "h": 0.9, "x_A": 1.0},
                     ["C", "G_A", "x_A", "Gamma_S", "n_release"])
    _, ref = reference(published(I_bias=1.25, O_beta=0.0), [0, 0, 0.4, 0, 0.9, 1, 0, 0], 20.0, DT / 1000)
    releases = int(ours["n_release"][-1, 0])
    assert releases >= 2                              # Ca2+ peaks cross C_Theta (twice in 20 s)
    assert releases == int(np.sum(np.diff(ref[:, 5]) < -1e-9))   # x_A drops once per release
    for k, var in ((3, "C"), (5, "x_A"), (6, "G_A"), (7, "Gamma_S")):
        assert rel_error(ours[var][:, 0], ref[:, k]) < 1e-4, var


def test_gap_junctions_match_scipy():
    """Two astrocytes coupled both ways; the stimulated one (I_bias 1 µM) drives the other.

    neurosim adds the coupling flux once per step (explicit Euler, one-step delay), the
    reference integrates it continuously: they differ by a first-order splitting error,
    so halving dt must about halve the difference."""
    pars = dict(F_ex=0.09, I_bias=np.array([1.0, 0.0]))
    p = published(F_ex=0.09, F=0.09, I_bias=np.array([1.0, 0.0]))
    y0 = np.zeros(16)
    y0[8:10] = 0.9
    y0[10:12] = 1.0
    # sign() jumps at dI = 0 stall LSODA at tight tolerance; DOP853 steps over them
    _, ref = reference(p, y0, 60.0, DT / 1000, coupling=[(0, 1), (1, 0)], method="DOP853", rtol=1e-9, atol=1e-11)
    alone = run_numba(2, astrocyte(gliotransmission=False, **pars), 60000.0, {"h": 0.9}, ["I"])
    # the junction matters: the unstimulated cell's IP3 goes far beyond what it reaches alone
    assert ref[:, 5].max() > alone["I"][:, 1].max() + 0.3
    errors = []
    for dt in (DT, DT / 2):
        def connect(net, astro):
            net.add(ns.Projection(astro, astro, ns.FromListConnector([(0, 1), (1, 0)]),
                                  ip3_gap_junction(dt, F=0.09), receptor_type="ip3"))
        ours = run_numba(2, astrocyte(gliotransmission=False, **pars), 60000.0, {"h": 0.9}, ["I", "C"],
                         connect, dt=dt)
        step = int(round(DT / dt))
        errors.append(max(rel_error(ours["I"][step - 1::step], ref[:, 4:6]),
                          rel_error(ours["C"][step - 1::step], ref[:, 6:8])))
    assert errors[0] < 5e-3                        # measured 2.9e-3 at dt = 1 ms
    assert 0.35 < errors[1] / errors[0] < 0.65     # first order in dt


def test_tripartite_synapse_release():
    """Without gliotransmission the synapse is Tsodyks-Markram with U_0 = U_0*: the first
    spike releases r = U_0* = 0.6; 50 ms later u = u1 e^{-Omega_f 0.05 s} + U_0*(1 - ...),
    x = 1 - (1 - x1) e^{-Omega_d 0.05 s}, r = u x (closed form, published rates per s)."""
    U, Of, Od, dt_s = 0.6, 3.33, 2.0, 0.05
    net = ns.Network(dt=DT, seed=1)
    src = net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=[10.0, 60.0]), label="src"))
    astro = net.add(ns.Population(1, astrocyte(O_beta=0.0, F_ex=0.0), label="astro"))
    astro.record("released")
    net.add(ns.Projection(src, astro, ns.AllToAllConnector(), tripartite_synapse(1.0, gliotransmission=False,
                                                                                   delay=DT), receptor_type="released"))
    released = ns.compile(net, numerics="float64").run(100.0).trace("astro", "released").values[:, 0]
    u1, x1 = U, 1 - U                                 # after the first spike: x -= u x
    u2 = u1 * np.exp(-Of * dt_s)
    u2 = u2 + U * (1 - u2)
    x2 = 1 - (1 - x1) * np.exp(-Od * dt_s)
    expected = [U, U + u2 * x2]
    got = [released[20], released[-1]]   # samples at 21 ms and 100 ms
    assert got == pytest.approx(expected, rel=1e-9)


def test_validation():
    with pytest.raises(ValidationError, match="O_bta"):
        astrocyte(O_bta=1.0)
    with pytest.raises(ValidationError, match="stimulus_on"):
        astrocyte(stimulus_period=50.0)
    with pytest.raises(ValidationError, match="U_star"):
        tripartite_synapse(1.0, U_star=0.5)
    with pytest.raises(ValidationError, match="dt"):
        ip3_gap_junction(0.0)


@pytest.mark.parametrize("make, name, value", [
    (astrocyte, "O_P", -0.9), (astrocyte, "K_P", float("nan")), (astrocyte, "C_T", "2 uM"),
    (astrocyte, "I_bias", np.array([1.0, -1.0])),
    (lambda **kw: tripartite_synapse(1.0, **kw), "U_0_star", 1.5),
    (lambda **kw: tripartite_synapse(1.0, **kw), "Omega_d", -2.0)])
def test_bad_parameter_values_are_refused(make, name, value):
    with pytest.raises(ValidationError, match=name):
        make(**{name: value})


def test_astrocyte_network_saves_and_reloads(tmp_path):
    """A ring of astrocytes (per-step reset logic, gap-junction SynapseModel, pulsed drive)
    written to a JSON model file and read back gives the same Ca2+ trace."""
    from neurosim.experiments.astro_ring import build_network
    net = build_network(n=6)
    net.save(str(tmp_path / "ring.json"))
    runs = [ns.compile(n, numerics="float64").run(60000.0).trace("astrocytes", "C").values
            for n in (net, ns.load_network(str(tmp_path / "ring.json")))]
    assert runs[0].max() > 0.5 and np.array_equal(runs[0], runs[1])
