"""Astrocytes and the tripartite synapse (Stimberg, Goodman, Brette & De Pittà, "Modeling
neuron-glia interactions with the Brian 2 simulator", bioRxiv 198366; equations and
parameters in ``../shared/references/models.md`` section 3), as equation-defined models.

Units.  Parameters are given (and listed in :data:`PARAMETERS`) in the published units,
concentrations in µM and rates per second; the models convert rates to per ms, neurosim's
time unit.  Concentrations are dimensionless numbers in neurosim (µM); time is in ms.

* :func:`astrocyte` — the G-ChI astrocyte (Li-Rinzel CICR: Ca²⁺ ``C``, IP3R gating ``h``,
  IP3 ``I``) with metabotropic receptors ``Gamma_A`` driven by extracellular glutamate
  ``Y_S`` (receptor ``'glutamate'``: a synapse delivers ``rho_c*Y_T*r_S`` µM), exogenous IP3
  drive ``J_ex`` towards ``I_bias`` (optionally a rectangular wave), IP3 gap-junction input
  (receptor ``'ip3'``), and gliotransmitter release when ``C`` crosses ``C_Theta`` upwards
  (``G_A``, ``x_A``) acting on presynaptic receptors ``Gamma_S`` (dΓ_S/dt depends on the
  astrocyte's own ``G_A`` only, so it lives in the astrocyte).  A settable ``released``
  counts the resources delivered on receptor ``'released'`` (for measurements).
* :func:`tripartite_synapse` — Tsodyks-Markram release with the gliotransmitter acting on
  the release probability: U_0 = (1 - Γ_S) U_0* + α Γ_S, Γ_S read from the postsynaptic
  astrocyte as ``Gamma_S_post``; delivers ``w * r_S``.
* optional slow inward current (``astrocyte(sic=...)``): each release starts a difference of
  exponentials ``sic_d - sic_r`` (nA) that :func:`sic_link` copies into the neurons it contacts.
* :func:`ip3_gap_junction` — J_coupling = -F/2 (1 + tanh((|ΔI| - I_Θ)/ω_I)) sign(ΔI),
  ΔI = I_post - I_pre, added to the postsynaptic IP3 once per step.

How the event logic fits neurosim's model language.  Release must happen at the first
step in which ``C > C_Theta`` after a step with ``C <= C_Theta`` (Brian2's threshold with
``refractory='C > C_Theta'``), and gap junctions need the neighbours' IP3 every step.  Both
use an astrocyte whose threshold is always true (``t >= 0``): its "spike" every step runs
the reset as a per-step discrete update (release if ``C > C_Theta`` and the settable flag
``armed`` says the previous step was below; then ``armed`` is updated; ``I_gap = I``), and
a :class:`~neurosim.SynapseModel` projection from astrocytes to astrocytes (one-step delay)
reads ``I_gap_pre`` and ``I_gap_post`` (IP3 at the end of the previous step) and adds
dt·J_coupling to ``I`` through the ``'ip3'`` receptor (explicit Euler for the coupling term,
the cell's own equations rk4).  Reading ``I`` itself would make a cell's flux depend on
which neighbour's junction was delivered first.
The astrocytes' spikes are therefore clock ticks, not events; do not record them.
"""
import numpy as np

from neurosim.errors import ValidationError
from neurosim.neurons import NeuronModel
from neurosim.synapses import SynapseModel

#: name -> (default value, published unit); defaults are those of Stimberg et al.'s
#: examples 3-6 (``../shared/references/models.md`` section 3)
PARAMETERS = {
    # Ca2+ fluxes
    "O_P": (0.9, "uM/s"), "K_P": (0.05, "uM"), "C_T": (2.0, "uM"), "rho_A": (0.18, "1"),
    "Omega_C": (6.0, "1/s"), "Omega_L": (0.1, "1/s"),
    # IP3R kinetics
    "d_1": (0.13, "uM"), "d_2": (1.05, "uM"), "O_2": (0.2, "1/uM/s"), "d_3": (0.9434, "uM"),
    "d_5": (0.08, "uM"),
    # agonist-dependent IP3 production (receptors)
    "O_beta": (3.2, "uM/s"), "O_N": (0.3, "1/uM/s"), "Omega_N": (0.5, "1/s"), "K_KC": (0.5, "uM"),
    "zeta": (10.0, "1"), "Omega_c": (40.0, "1/s"),
    # endogenous IP3 production and degradation
    "O_delta": (0.6, "uM/s"), "kappa_delta": (1.5, "uM"), "K_delta": (0.1, "uM"),
    "Omega_5P": (0.05, "1/s"), "K_D": (0.7, "uM"), "K_3K": (1.0, "uM"), "O_3K": (4.5, "uM/s"),
    # exogenous IP3 drive
    "F_ex": (2.0, "uM/s"), "I_Theta": (0.3, "uM"), "omega_I": (0.05, "uM"), "I_bias": (0.0, "uM"),
    # gliotransmission
    "C_Theta": (0.5, "uM"), "Omega_A": (0.6, "1/s"), "U_A": (0.6, "1"), "G_T": (200000.0, "uM"),
    "rho_e": (6.5e-4, "1"), "Omega_e": (60.0, "1/s"), "O_G": (1.5, "1/uM/s"), "Omega_G": (0.5 / 60, "1/s"),
}
#: the scripts' deviations from the defaults
FIG2 = dict(K_P=0.1, O_beta=5.0, O_delta=0.2, K_delta=0.3, Omega_5P=0.1, K_D=0.5, F_ex=0.09)
FIG5 = dict(F_ex=0.09)
FIG6 = dict(O_beta=0.5, O_delta=1.2, F_ex=0.0)     # example 6 has no exogenous IP3 term
#: synapse defaults (published units): TM release and glutamate per release
SYNAPSE = dict(U_0_star=0.6, Omega_f=3.33, Omega_d=2.0, alpha=0.0, rho_c=0.005, Y_T=500000.0)

_CORE = """
dGamma_A/dt = O_N*Y_S*(1 - Gamma_A) - Omega_N*(1 + zeta*C/(C + K_KC))*Gamma_A : 1
dY_S/dt = -Omega_c*Y_S : uM
dI/dt = J_beta + J_delta - J_3K - J_5P + J_ex : uM
J_beta = O_beta*Gamma_A : uM/ms
J_delta = O_delta/(1 + I/kappa_delta)*C**2/(C**2 + K_delta**2) : uM/ms
J_3K = O_3K*C**4/(C**4 + K_D**4)*I/(I + K_3K) : uM/ms
J_5P = Omega_5P*I : uM/ms
delta_I_bias = I - I_bias*{stimulus} : uM
J_ex = -F_ex/2*(1 + tanh((abs(delta_I_bias) - I_Theta)/omega_I))*sign(delta_I_bias) : uM/ms
dC/dt = (Omega_C*m_inf**3*h**3 + Omega_L)*(C_T - (1 + rho_A)*C) - O_P*C**2/(C**2 + K_P**2) : uM
dh/dt = (h_inf - h)/tau_h : 1
m_inf = I/(I + d_1)*C/(C + d_5) : 1
h_inf = Q_2/(Q_2 + C) : 1
tau_h = 1/(O_2*(Q_2 + C)) : ms
Q_2 = d_2*(I + d_1)/(I + d_3) : uM
released : 1
I_gap : uM
"""
_GLIO = """
dx_A/dt = Omega_A*(1 - x_A) : 1
dG_A/dt = -Omega_e*G_A : uM
dGamma_S/dt = O_G*G_A*(1 - Gamma_S) - Omega_G*Gamma_S : 1
armed : 1
n_release : 1
"""
# release at the first tick above threshold; 'armed' remembers the previous tick
_FIRES = "(1.0 if C > C_Theta and armed > 0.5 else 0.0)"
_RELEASE = (f"G_A += rho_e*G_T*U_A*x_A*{_FIRES}; "
            f"n_release += {_FIRES}; "
            "{sic}"
            f"x_A -= U_A*x_A*{_FIRES}; "
            "armed = 1.0 if C <= C_Theta else 0.0; ")
# slow inward current: a difference of exponentials started by each release, scaled by the
# resources available before it (x_A), so that a rested astrocyte's SIC peaks at 'amplitude'
_SIC_EQUATIONS = """
dsic_r/dt = -sic_r/tau_sic_rise : nA
dsic_d/dt = -sic_d/tau_sic_decay : nA
"""
_SIC_RELEASE = f"sic_r += sic_jump*x_A*{_FIRES}; sic_d += sic_jump*x_A*{_FIRES}; "
#: slow inward current (SIC) onto neurons: peak (nA) after one release of a rested astrocyte,
#: rise and decay time constants (ms).  Orders of magnitude of the SICs recorded in CA1 /
#: thalamic neurons (Fellin et al. 2004, Neuron 43:729; Angulo et al. 2004, J Neurosci
#: 24:6920): tens of pA, rise tens of ms, decay hundreds of ms; not a fit.
SIC = dict(amplitude=0.05, tau_rise=50.0, tau_decay=500.0)
#: coupling rules of an astrocyte-modulated unit (see :mod:`neurosim.models.astrocyte_units`)
RULES = ("release", "excitability", "sic")
#: excitability rule: threshold lowered by dV_th * Gamma_S (mV)
DV_TH = 5.0
# the IP3 that gap junctions see: copied at the end of each step, after all deliveries, so
# that every junction reads the same values whatever the order of delivery
_COPY = "I_gap = I"


def _per_ms(value, unit):
    """Published value -> neurosim value and unit (rates per s -> per ms)."""
    if unit.endswith("/s"):
        return value * 1e-3, unit[:-2] + "/ms"
    return value, unit


def _check_params(obj, names, given):
    unknown = set(given) - set(names)
    if unknown:
        raise ValidationError(obj, sorted(unknown)[0], f"unknown parameter; valid: {', '.join(sorted(names))}")


def _non_negative(obj, name, value, allow_array=False):
    """A finite number >= 0 (or, with ``allow_array``, a 1-D array of them)."""
    arr = np.asarray(value) if allow_array and isinstance(value, (list, tuple, np.ndarray)) else None
    if arr is not None:
        ok = arr.ndim == 1 and arr.dtype.kind in "iuf" and np.all(np.isfinite(arr)) and np.all(arr >= 0)
        if not ok:
            raise ValidationError(obj, name, f"must be a 1-D array of finite numbers >= 0 (got {value!r})")
        return arr.astype(float)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value < 0:
        raise ValidationError(obj, name, f"must be a finite number >= 0 (got {value!r})")
    return float(value)


def sic_peak_factor(tau_rise, tau_decay):
    """max over t of exp(-t/tau_decay) - exp(-t/tau_rise) (tau_rise < tau_decay, ms)."""
    t_peak = tau_rise * tau_decay / (tau_decay - tau_rise) * np.log(tau_decay / tau_rise)
    return float(np.exp(-t_peak / tau_decay) - np.exp(-t_peak / tau_rise))


def _sic_parameters(sic):
    """``sic`` (True or a dict overriding :data:`SIC`) -> checked values."""
    given = {} if sic is True else sic
    if not isinstance(given, dict):
        raise ValidationError("astrocyte", "sic", f"must be None, True or a dict with keys "
                              f"{', '.join(SIC)} (got {sic!r})")
    _check_params("astrocyte.sic", SIC, given)
    values = {k: _non_negative("astrocyte.sic", k, given.get(k, v)) for k, v in SIC.items()}
    if not 0 < values["tau_rise"] < values["tau_decay"]:
        raise ValidationError("astrocyte.sic", "tau_rise", f"must be > 0 and < tau_decay = "
                              f"{values['tau_decay']} ms (got {values['tau_rise']})")
    return values


def coupling_rules(obj, rule):
    """A rule name or a sequence of names from :data:`RULES` -> tuple of names (checked)."""
    names = (rule,) if isinstance(rule, str) else rule
    if not isinstance(names, (list, tuple)) or not names:
        raise ValidationError(obj, "rule", f"must be one of {', '.join(RULES)} or a list of them (got {rule!r})")
    for name in names:
        if name not in RULES:
            raise ValidationError(obj, "rule", f"unknown coupling rule {name!r}; allowed: {', '.join(RULES)}")
    return tuple(r for r in RULES if r in names)


def astrocyte(gliotransmission=True, stimulus_period=None, stimulus_on=None, sic=None, **parameters):
    """The G-ChI astrocyte as a NeuronModel (integrated with rk4).

    Parameters (published units: µM, 1/s, µM/s; see :data:`PARAMETERS`) override the
    defaults; ``I_bias`` may be an array (one per astrocyte).  ``gliotransmission=False``
    leaves out x_A, G_A, Gamma_S (needed for large steps: Omega_e dt must stay < 2.7 for
    rk4).  ``stimulus_period``/``stimulus_on`` (s) make the exogenous drive a rectangular
    wave (I_bias on for the first ``stimulus_on`` s of each period, as in Fig. 5), switched
    at step boundaries (one step late: ``stim`` is set from the step's start time).

    ``sic`` (True, or a dict overriding :data:`SIC`: amplitude nA, tau_rise, tau_decay ms)
    adds the slow inward current: each release adds ``amplitude / sic_peak_factor * x_A``
    (x_A before the release) to ``sic_r`` and ``sic_d`` (nA), which decay with tau_rise and
    tau_decay, so the current ``sic_d - sic_r`` after one release of a rested astrocyte is
    amplitude * (exp(-t/tau_decay) - exp(-t/tau_rise)) / sic_peak_factor.

    Variables: C, I, Y_S, G_A (µM); h, Gamma_A, x_A, Gamma_S, released (1).  Receptors:
    'glutamate' (Y_S += weight, µM), 'ip3' (I += weight, µM), 'released' (counter).
    Set initial values with ``Population.initialize`` (e.g. h=0.9, x_A=1, armed=1).
    """
    _check_params("astrocyte", PARAMETERS, parameters)
    if sic is not None and not gliotransmission:
        raise ValidationError("astrocyte", "sic", "needs gliotransmission=True (a release starts the SIC)")
    params, units = {}, {}
    for name, (default, unit) in PARAMETERS.items():
        if not gliotransmission and name in ("C_Theta", "Omega_A", "U_A", "G_T", "rho_e", "Omega_e",
                                             "O_G", "Omega_G"):
            continue
        value = _non_negative("astrocyte", name, parameters.get(name, default), allow_array=True)
        scale, units[name] = _per_ms(1.0, unit)
        params[name] = value * scale
    stimulus = "1.0"
    reset = (_RELEASE.replace("{sic}", _SIC_RELEASE if sic is not None else "") if gliotransmission else "") + _COPY
    if sic is not None:
        values = _sic_parameters(sic)
        params.update(sic_jump=values["amplitude"] / sic_peak_factor(values["tau_rise"], values["tau_decay"]),
                      tau_sic_rise=values["tau_rise"], tau_sic_decay=values["tau_decay"])
        units.update(sic_jump="nA", tau_sic_rise="ms", tau_sic_decay="ms")
    if (stimulus_period is None) != (stimulus_on is None):
        raise ValidationError("astrocyte", "stimulus_on", "give both stimulus_period and stimulus_on (s) or neither")
    if stimulus_period is not None:
        if not 0 < stimulus_on <= stimulus_period:
            raise ValidationError("astrocyte", "stimulus_on", f"must be in (0, stimulus_period = "
                                  f"{stimulus_period}] s (got {stimulus_on})")
        params["T_stim"], params["T_on"] = stimulus_period * 1e3, stimulus_on * 1e3
        units["T_stim"] = units["T_on"] = "ms"
        # set once per step by the reset (t = the step's start), so that the drive is constant
        # within a step: rk4 stages at t + dt/2 would otherwise see the switch on one backend
        # (Brian2) and not on another (numba evaluates t at the step's start)
        stimulus = "stim"
        reset += "; stim = 1.0 if t % T_stim < T_on else 0.0"
    equations = _CORE.replace("{stimulus}", stimulus) + (_GLIO if gliotransmission else "") + \
        (_SIC_EQUATIONS if sic is not None else "")
    if stimulus_period is not None:
        equations += "stim : 1\n"
    initial = {"h": 0.9}
    if stimulus_period is not None:
        initial["stim"] = 1.0
    if gliotransmission:
        initial.update(x_A=1.0, armed=1.0)
    return NeuronModel(equations, threshold="t >= 0", reset=reset,
                       parameters=params, units=units, initial=initial, method="rk4",
                       receptors={"glutamate": "Y_S += weight", "ip3": "I += weight",
                                  "released": "released += weight"},
                       name="GChIAstrocyte")


def tripartite_synapse(weight, gliotransmission=True, delay=None, **parameters):
    """Tsodyks-Markram synapse whose U_0 is set by the postsynaptic astrocyte's Gamma_S.

    ``weight`` scales what is delivered (``psp = w * r_S``): ``rho_c * Y_T`` µM onto an
    astrocyte's 'glutamate' receptor, 1 onto 'released' (counts r_S), a conductance (uS)
    onto a neuron.  Parameters (published units): U_0_star, Omega_f, Omega_d (1/s), alpha.
    With ``gliotransmission=False`` U_0 = U_0_star (a plain TM synapse, post may be anything).
    Synaptic variables u_S, x_S, r_S (last release), U_0.
    """
    names = ("U_0_star", "Omega_f", "Omega_d", "alpha")
    _check_params("tripartite_synapse", names, parameters)
    values = {k: _non_negative("tripartite_synapse", k, parameters.get(k, SYNAPSE[k])) for k in names}
    for k in ("U_0_star", "alpha"):
        if values[k] > 1:
            raise ValidationError("tripartite_synapse", k, f"must be in [0, 1] (got {values[k]})")
    values["Omega_f"] *= 1e-3
    values["Omega_d"] *= 1e-3
    u0 = "(1 - Gamma_S_post)*U_0_star + alpha*Gamma_S_post" if gliotransmission else "U_0_star"
    return SynapseModel(
        equations="du_S/dt = -Omega_f*u_S : 1 (event-driven)\n"
                  "dx_S/dt = Omega_d*(1 - x_S) : 1 (event-driven)\nr_S : 1\nU_0 : 1",
        on_pre=f"U_0 = {u0}; u_S = u_S + U_0*(1 - u_S); r_S = u_S*x_S; x_S = x_S - r_S; psp = w*r_S",
        parameters=values, initial={"x_S": 1.0}, weight=weight, delay=delay, name="TripartiteSynapse")


def ip3_gap_junction(dt, F=0.09, I_Theta=0.3, omega_I=0.05):
    """IP3 gap junction (astrocyte -> astrocyte, receptor 'ip3'): every step adds
    dt * J_coupling (µM) to the postsynaptic IP3, computed from both cells' IP3 at the end
    of the previous step (``I_gap``; explicit Euler, independent of the delivery order).
    ``dt`` is the network's step (ms), also used as the delay; F in µM/s, I_Theta and
    omega_I in µM."""
    if not dt > 0:
        raise ValidationError("ip3_gap_junction", "dt", f"must be the network's dt > 0 ms (got {dt!r})")
    return SynapseModel(
        on_pre="psp = -w*dt_c*F/2*(1 + tanh((abs(I_gap_post - I_gap_pre) - I_Theta)/omega_I))"
               "*sign(I_gap_post - I_gap_pre)",
        parameters={"F": F * 1e-3, "I_Theta": I_Theta, "omega_I": omega_I, "dt_c": float(dt)},
        weight=1.0, delay=dt, name="IP3GapJunction")


def published(name, value):
    """A value of parameter ``name`` in neurosim's units (rates per ms)."""
    return _per_ms(value, PARAMETERS[name][1])[0]


# ------------------------------------------------------------------ reduced astrocyte
def reduced_astrocyte(weight, tau_rise, tau_decay, c_rest=0.0, c_theta=0.5, refractory=2000.0):
    """The astrocyte reduced to PyNN's ``IF_curr_exp`` (what SpiNNaker runs).

    ``v`` (mV) stands for Ca2+ (µM, 1 mV = 1 µM): each glutamate pulse (a spike through an
    excitatory synapse of ``weight`` nA, cm = 1 nF) raises it along a difference of
    exponentials with time constants ``tau_rise`` (synaptic, standing for IP3 production)
    and ``tau_decay`` (membrane, standing for Ca2+ clearance), in ms, from ``c_rest``.
    A spike is a gliotransmitter release (v crosses ``c_theta``); v is then held just
    below it for ``refractory`` ms (the time Ca2+ stays above threshold).
    Fit the constants with :func:`fit_reduced`.  Linear: no CICR, no IP3R inactivation.
    """
    from neurosim.neurons import IF_curr_exp
    return IF_curr_exp(cm=1.0, tau_m=tau_decay, tau_syn_E=tau_rise, tau_syn_I=tau_rise, v_rest=c_rest,
                       v_reset=c_theta - 1e-3, v_thresh=c_theta, tau_refrac=refractory, i_offset=0.0)


def pulse_response(t_ms, weight, tau_rise, tau_decay):
    """v(t) - v_rest of ``reduced_astrocyte`` after one input of ``weight`` nA at t = 0 (mV)."""
    t = np.maximum(np.asarray(t_ms, float), 0.0)
    if abs(tau_decay - tau_rise) < 1e-9:
        return weight * t * np.exp(-t / tau_rise)
    return weight * tau_rise * tau_decay / (tau_decay - tau_rise) * (np.exp(-t / tau_decay) - np.exp(-t / tau_rise))


def fit_reduced(times_ms, calcium, arrivals_ms, taus_ms=np.geomspace(100.0, 20000.0, 24)):
    """Least-squares fit of the reduced model's (linear) Ca2+ response to the full model's
    ``calcium`` trace (µM at ``times_ms``) for inputs arriving at ``arrivals_ms``.

    Grid over (tau_rise < tau_decay), weight and c_rest by linear least squares for each.
    Returns dict(weight, tau_rise, tau_decay, c_rest, rms_error)."""
    times_ms, calcium = np.asarray(times_ms, float), np.asarray(calcium, float)
    best = None
    for i, tr in enumerate(taus_ms):
        for td in taus_ms[i + 1:]:
            basis = sum(pulse_response(times_ms - a, 1.0, tr, td) for a in arrivals_ms)
            design = np.column_stack([basis, np.ones_like(basis)])
            (w, c0), *_ = np.linalg.lstsq(design, calcium, rcond=None)
            rms = float(np.sqrt(np.mean((design @ [w, c0] - calcium) ** 2)))
            if best is None or rms < best["rms_error"]:
                best = {"weight": float(w), "tau_rise": float(tr), "tau_decay": float(td), "c_rest": float(c0),
                        "rms_error": rms}
    return best


# ------------------------------------------------------------------ astrocyte-modulated units
#: Stimberg et al. example 6 COBA neuron (C_m 198 pF, g_l 9.99 nS, ...), neurosim units
COBA = dict(C_m=0.198, g_l=0.00999, E_l=-60.0, V_th=-50.0, V_r=-60.0, E_e=0.0, E_i=-80.0, tau_e=5.0,
            tau_i=10.0, tau_r=5.0)


def modulated_neuron(rule="release", **parameters):
    """Conductance-based LIF (Stimberg et al. example 6: ``COBA``, mV, ms, nA, nF, uS) that
    carries ``Gamma_S``, the presynaptic-receptor activation of the astrocyte covering it,
    so that :func:`tripartite_synapse` onto it can read ``Gamma_S_post``.  ``Gamma_S`` is
    kept equal to its astrocyte's by :func:`gamma_s_link` (receptor 'gliotransmitter').
    Receptors 'excitatory' (g_e, uS), 'inhibitory' (g_i, uS); injected current ``i_inj`` (nA).

    ``rule`` (a name or list from :data:`RULES`) adds what the astrocyte acts on besides the
    synapses: 'excitability' — spike when v > V_th - dV_th*Gamma_S (dV_th in mV, default
    :data:`DV_TH`; > 0 makes the unit more excitable); 'sic' — an inward current ``I_sic``
    (nA, added to dv/dt) kept equal to its astrocyte's SIC by :func:`sic_link` (receptor 'sic').
    'release' changes nothing here (it acts through the synapses)."""
    rules = coupling_rules("modulated_neuron", rule)
    defaults = dict(COBA, **({"dV_th": DV_TH} if "excitability" in rules else {}))
    _check_params("modulated_neuron", defaults, parameters)
    values = {**defaults, **parameters}
    sic = "sic" in rules
    receptors = {"excitatory": "g_e += weight", "inhibitory": "g_i += weight", "gliotransmitter": "Gamma_S += weight"}
    if sic:
        receptors["sic"] = "I_sic += weight"
    inward = " + I_sic" if sic else ""
    return NeuronModel(
        f"""dv/dt = (g_l*(E_l - v) + g_e*(E_e - v) + g_i*(E_i - v) + i_inj{inward})/C_m : mV (unless refractory)
        dg_e/dt = -g_e/tau_e : uS
        dg_i/dt = -g_i/tau_i : uS
        i_inj : nA
        Gamma_S : 1""" + ("\nI_sic : nA" if sic else ""),
        threshold="v > V_th - dV_th*Gamma_S" if "excitability" in rules else "v > V_th", reset="v = V_r",
        refractory="tau_r", parameters=values,
        units=dict(C_m="nF", g_l="uS", E_l="mV", V_th="mV", V_r="mV", E_e="mV", E_i="mV", tau_e="ms",
                   tau_i="ms", tau_r="ms", **({"dV_th": "mV"} if "excitability" in rules else {})),
        initial={"v": values["E_l"]}, current_input="i_inj", receptors=receptors, name="AstroModulatedCOBA")


def _state_link(dt, source, target, name):
    """Astrocyte -> neuron: every step sets the neuron's ``target`` to the astrocyte's
    ``source`` (an expression in *_pre variables) as integrated in that step; the neuron's
    equations see it from the next step.  The astrocyte 'spikes' every step; ``dt`` = the
    network's step (ms), the link's delay."""
    return SynapseModel(on_pre=f"psp = w*({source} - {target}_post)", weight=1.0, delay=dt, name=name)


def gamma_s_link(dt):
    """Astrocyte -> modulated neuron (receptor 'gliotransmitter'): every step sets the
    neuron's Gamma_S to its astrocyte's (see :func:`_state_link`; ``dt`` = the network's step, ms)."""
    return _state_link(dt, "Gamma_S_pre", "Gamma_S", "GammaSLink")


def sic_link(dt):
    """Astrocyte (with ``sic``) -> modulated neuron (rule 'sic', receptor 'sic'): every step
    sets the neuron's I_sic (nA) to the astrocyte's sic_d - sic_r (see :func:`_state_link`)."""
    return _state_link(dt, "sic_d_pre - sic_r_pre", "I_sic", "SICLink")
