"""Astrocyte-modulated units (models/astrocyte_units.py): each coupling rule against a closed
form written out here (SIC kernel, LIF interspike interval, Tsodyks-Markram first release),
numba against brian2 on the same network, and the errors for bad input."""
import numpy as np
import pytest

import neurosim as ns
from neurosim.build import build
from neurosim.errors import UnsupportedFeatureError, ValidationError
from neurosim.models.astrocyte import astrocyte, modulated_neuron
from neurosim.models.astrocyte_units import AstrocyteUnits

# Stimberg et al. example 6 neuron, written out again (nF, uS, mV, ms)
C_M, G_L, E_L, V_TH, V_R, TAU_R = 0.198, 0.00999, -60.0, -50.0, -60.0, 5.0
QUIET = dict(O_beta=0.0, F_ex=0.0, O_delta=0.0)     # no IP3: Ca2+ only decays


def sic_closed_form(t, amplitude, tau_rise, tau_decay):
    """Difference of exponentials scaled to peak at ``amplitude`` (t in ms, 0 before t = 0)."""
    t_peak = tau_rise * tau_decay / (tau_decay - tau_rise) * np.log(tau_decay / tau_rise)
    peak = np.exp(-t_peak / tau_decay) - np.exp(-t_peak / tau_rise)
    t = np.maximum(t, 0.0)
    return amplitude * (np.exp(-t / tau_decay) - np.exp(-t / tau_rise)) / peak


def test_sic_after_one_release_is_the_closed_form():
    """Two astrocytes start above C_Theta (armed), so each releases once at the end of the
    first step (t = dt); the second has half its resources (x_A = 0.5), so about half the SIC.
    The neurons copy their astrocyte's SIC at the end of each step and it acts from the next
    step: v follows the exact solution of C_m dv/dt = g_l (E_l - v) + I_sic with I_sic held
    over each step at the value of the previous step's end."""
    dt, sic = 1.0, dict(amplitude=0.04, tau_rise=30.0, tau_decay=400.0)
    net = ns.Network(dt=dt, seed=1)
    units = AstrocyteUnits(net, 2, rule="sic", sic=sic, astrocyte_parameters=QUIET)
    units.astrocytes.initialize(C=0.6, armed=1.0, x_A=np.array([1.0, 0.5]))
    units.astrocytes.record(["sic_d", "sic_r", "n_release"])
    units.record(["I_sic", "v"])
    results = ns.compile(net, numerics="float64").run(3000.0)
    astro = "units_astrocytes"
    current = results.trace(astro, "sic_d").values - results.trace(astro, "sic_r").values
    times = results.trace(astro, "sic_d").times
    assert np.array_equal(results.trace(astro, "n_release").values[-1], [1.0, 1.0])
    # x_A recovers at Omega_A = 0.6/s during the first step, before the release
    for k, x_a in enumerate((1.0, 1.0 - 0.5 * np.exp(-0.6e-3 * dt))):
        expected = x_a * sic_closed_form(times - dt, **sic)
        assert np.max(np.abs(current[:, k] - expected)) < 2e-8 * sic["amplitude"]   # rk4: 5e-9
    held = results.trace("units", "I_sic").values
    assert np.array_equal(held, current) and held.max() == pytest.approx(0.04, rel=1e-4)
    decay = np.exp(-dt * G_L / C_M)
    v, expected_v = E_L * np.ones(2), []
    for k in range(len(times)):
        v_inf = E_L + (held[k - 1] if k else 0.0) / G_L
        v = v_inf + (v - v_inf) * decay
        expected_v.append(v)
    assert np.max(np.abs(results.trace("units", "v").values - expected_v)) < 1e-9
    assert results.trace("units", "v").values[:, 0].max() > E_L + 3.0    # 40 pA: about 4 mV


def test_excitability_lowers_the_threshold_by_dv_th_gamma_s():
    """Gamma_S held at 0.6 (Omega_G = 0, no release) and dV_th 5 mV: threshold -53 mV.  A
    current putting v_inf at -52 mV makes the units fire at the LIF interval tau_r +
    tau_m ln((v_inf - V_r)/(v_inf - theta)); the control without astrocytes never fires."""
    dt, gamma, dv_th, v_inf = 0.1, 0.6, 5.0, -52.0
    rates = {}
    for with_astro in (True, False):
        net = ns.Network(dt=dt, seed=1)
        units = AstrocyteUnits(net, 3, rule="excitability", astrocytes=with_astro, neuron=dict(dV_th=dv_th),
                               astrocyte_parameters=dict(QUIET, Omega_G=0.0))
        if with_astro:
            units.astrocytes.initialize(Gamma_S=gamma)
        units.inject(ns.DCSource(amplitude=G_L * (v_inf - E_L))).record("spikes")
        times, ids = ns.compile(net, numerics="float64").run(2000.0).spikes("units")
        rates[with_astro] = (times, ids)
    assert len(rates[False][0]) == 0
    times, ids = rates[True]
    theta = V_TH - dv_th * gamma
    first = C_M / G_L * np.log((E_L - v_inf) / (theta - v_inf))          # from v = E_l at t = 0
    isi = TAU_R + C_M / G_L * np.log((v_inf - V_R) / (v_inf - theta))
    for k in range(3):
        own = times[ids == k]
        assert own[0] == pytest.approx(first, abs=2 * dt)
        assert np.mean(np.diff(own)) == pytest.approx(isi, abs=2 * dt)


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_release_rule_sets_the_first_release(alpha):
    """A rested Tsodyks-Markram synapse releases U_0 = (1 - Gamma_S) U_0* + alpha Gamma_S on
    its first spike; the unit's g_e jumps by w U_0 and its astrocyte's Y_S by glutamate U_0
    (one synapse).  Without astrocytes U_0 = U_0* = 0.6."""
    gamma, w, glutamate, u_star = 0.5, 0.002, 300.0, 0.6
    jumps = {}
    for with_astro in (True, False):
        net = ns.Network(dt=0.5, seed=1)
        units = AstrocyteUnits(net, 1, rule="release", alpha=alpha, astrocytes=with_astro,
                               astrocyte_parameters=dict(QUIET, Omega_G=0.0))
        src = net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=[10.0]), label="src"))
        units.connect(src, ns.OneToOneConnector(), w, glutamate=glutamate, U_0_star=u_star)
        units.record("g_e")
        if with_astro:
            units.astrocytes.initialize(Gamma_S=gamma).record("Y_S")
        results = ns.compile(net, numerics="float64").run(20.0)
        jumps[with_astro] = results.trace("units", "g_e").values[:, 0].max()
        if with_astro:
            y_s = results.trace("units_astrocytes", "Y_S").values[:, 0].max()
    u_0 = (1 - gamma) * u_star + alpha * gamma
    assert jumps[True] == pytest.approx(w * u_0, rel=1e-12)
    assert y_s == pytest.approx(glutamate * u_0, rel=1e-12)
    assert jumps[False] == pytest.approx(w * u_star, rel=1e-12)


def test_connect_gives_the_astrocytes_the_same_synapses():
    """A random connector is drawn once: the astrocytes get exactly the neurons' synapses,
    mapped to the covering astrocyte (unit j -> j // 3), each carrying glutamate divided by
    the astrocyte's number of synapses; the neurons get what the connector gives a plain
    Projection at the same place in the network."""
    def network(units_made):
        net = ns.Network(dt=0.5, seed=7)
        src = net.add(ns.Population(30, ns.SpikeSourcePoisson(rate=5.0), label="src"))
        if units_made:
            units = AstrocyteUnits(net, 8, rule=["release", "sic"], units_per_astrocyte=3)
            n_before = len(net.projections)
            made = units.connect(src, ns.FixedProbabilityConnector(0.3), 0.01, glutamate=600.0)
            return net, made, n_before
        pop = net.add(ns.Population(8, modulated_neuron(), label="units"))
        net.add(ns.Population(3, astrocyte(sic=True), label="astro"))
        for _ in range(2):      # the two links, so that the projection is at the same index
            net.add(ns.Projection(pop, pop, ns.OneToOneConnector(), receptor_type="gliotransmitter"))
        net.add(ns.Projection(src, pop, ns.FixedProbabilityConnector(0.3)))
        return net, None, 2
    net, made, k = network(True)
    assert len(made) == 2 and made[1].post.label == "units_astrocytes"
    assert len(net.projections) == k + 2
    built = build(net)
    neurons, astro = built.projections[k], built.projections[k + 1]
    assert len(neurons.pre_idx) > 30
    order = np.lexsort((neurons.post_idx, neurons.pre_idx))
    pairs = sorted(zip(astro.pre_idx.tolist(), astro.post_idx.tolist(), astro.weights.tolist()))
    counts = np.bincount(neurons.post_idx // 3, minlength=3)
    assert pairs == sorted(zip(neurons.pre_idx[order].tolist(), (neurons.post_idx[order] // 3).tolist(),
                               (600.0 / counts[neurons.post_idx[order] // 3]).tolist()))
    plain = build(network(False)[0]).projections[k]
    assert np.array_equal(plain.pre_idx, neurons.pre_idx) and np.array_equal(plain.post_idx, neurons.post_idx)


def test_units_run_the_same_on_numba_and_brian2():
    """All three rules, two astrocytes for four units, deterministic input that makes both
    astrocytes release: traces agree to rounding, spikes exactly."""

    def network():
        net = ns.Network(dt=0.5, seed=3)
        units = AstrocyteUnits(net, 4, rule=("release", "excitability", "sic"), units_per_astrocyte=2, alpha=1.0,
                               astrocyte_parameters=dict(F_ex=0.0))
        rates = [40.0, 40.0, 5.0, 5.0]
        trains = [list(np.arange(5.0 + 3 * k, 1500.0, 1000.0 / rates[k // 5])) for k in range(20)]
        src = net.add(ns.Population(20, ns.SpikeSourceArray(spike_times=trains), label="in"))
        units.connect(src, ns.FromListConnector([(k, k // 5) for k in range(20)]), 0.01)
        units.record(["spikes", "v", "I_sic", "Gamma_S"])
        units.astrocytes.record(["C", "n_release"])
        return net
    runs = [ns.compile(network(), backend=b, **o).run(3000.0) for b, o in (("numba", {"numerics": "float64"}),
                                                                         ("brian2", {}))]
    assert np.array_equal(runs[0].trace("units_astrocytes", "n_release").values[-1], [1.0, 1.0])
    assert runs[0].trace("units", "I_sic").values.max() > 0.04
    for label, var in (("units", "v"), ("units", "I_sic"), ("units", "Gamma_S"), ("units_astrocytes", "C")):
        ours, theirs = (r.trace(label, var).values for r in runs)
        assert np.max(np.abs(ours - theirs)) <= 1e-9 * np.max(np.abs(theirs)), var
    spikes = [r.spikes("units") for r in runs]
    assert len(spikes[0][0]) > 20
    assert np.array_equal(spikes[0][0], spikes[1][0]) and np.array_equal(spikes[0][1], spikes[1][1])


@pytest.mark.pynn
@pytest.mark.parametrize("backend", ["nest", "spinnaker"])
def test_units_are_refused_on_pynn_backends(backend, tmp_path):
    net = ns.Network(dt=1.0, seed=1)
    AstrocyteUnits(net, 2, rule="sic").record("spikes")
    options = {"virtual_board": True, "run_dir": str(tmp_path)} if backend == "spinnaker" else {}
    with pytest.raises(UnsupportedFeatureError) as info:
        ns.compile(net, backend=backend, **options)
    assert info.value.backend == backend


def test_unknown_rule_names_the_object_value_and_allowed_names():
    net = ns.Network(dt=1.0, seed=1)
    with pytest.raises(ValidationError) as info:
        AstrocyteUnits(net, 4, rule="glio", label="memory")
    text = str(info.value)
    assert info.value.obj == "AstrocyteUnits 'memory'" and info.value.attr == "rule"
    assert "'glio'" in text and "release, excitability, sic" in text
    with pytest.raises(ValidationError, match="'sicc'"):
        AstrocyteUnits(net, 4, rule=["release", "sicc"])
    with pytest.raises(ValidationError, match="rule"):
        modulated_neuron(rule=[])
    assert not net.populations                      # nothing was added by the refused calls


@pytest.mark.parametrize("kwargs, attr", [
    (dict(size=0), "size"), (dict(units_per_astrocyte=1.5), "units_per_astrocyte"),
    (dict(alpha=1.5), "alpha"), (dict(astrocytes="yes"), "astrocytes"),
    (dict(sic=dict(amplitude=0.05)), "sic"),                        # rule is 'release'
    (dict(rule="sic", sic=dict(tau_rise=500.0, tau_decay=50.0)), "tau_rise"),
    (dict(rule="sic", sic=dict(amp=0.05)), "amp"),
    (dict(rule="sic", sic=dict(amplitude=-0.05)), "amplitude"),
    (dict(rule="excitability", neuron=dict(dV_thr=5.0)), "dV_thr"),
    (dict(neuron=dict(dV_th=5.0)), "dV_th"),                         # only for 'excitability'
    (dict(astrocyte_parameters=dict(O_bta=1.0)), "O_bta")])
def test_bad_unit_parameters_are_refused(kwargs, attr):
    args = dict(size=4, rule="release")
    args.update(kwargs)
    with pytest.raises(ValidationError) as info:
        AstrocyteUnits(ns.Network(dt=1.0, seed=1), args.pop("size"), **args)
    assert attr in str(info.value)


def test_bad_connections_are_refused():
    net = ns.Network(dt=1.0, seed=1)
    units = AstrocyteUnits(net, 4)
    src = net.add(ns.Population(4, ns.SpikeSourcePoisson(rate=1.0), label="src"))
    with pytest.raises(ValidationError, match="sensed"):
        units.connect(src, ns.OneToOneConnector(), 0.01, receptor_type="inhibitory", sensed=True)
    with pytest.raises(ValidationError, match="connector"):
        units.connect(src, "one-to-one", 0.01)
    with pytest.raises(ValidationError, match="U_star"):
        units.connect(src, ns.OneToOneConnector(), 0.01, U_star=0.5)
    with pytest.raises(ValidationError, match="sic"):
        astrocyte(gliotransmission=False, sic=True)
    # inhibitory input is not sensed by default and needs no astrocyte
    made = units.connect(src, ns.OneToOneConnector(), 0.01, receptor_type="inhibitory")
    assert len(made) == 1 and made[0].receptor_type == "inhibitory"
