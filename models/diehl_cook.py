"""Unsupervised digit learning with STDP — Diehl & Cook 2015 (Front. Comput. Neurosci. 9:99)
on scikit-learn's 8 x 8 handwritten digits (1797 images, pixel values 0..16).

The network of the paper, parameters from ``../shared/references/models.md`` section 4:

* 64 Poisson inputs (one per pixel), rate = pixel / 16 * ``max_rate_hz``, 350 ms per
  image then 150 ms without input; the trains are drawn in advance from the network
  seed (a ``SpikeSourceArray``);
* N excitatory neurons (:func:`excitatory_model`, a ``NeuronModel``): conductance LIF,
  tau 100 ms, v_rest -65 mV, reset -65 mV, refractory 5 ms, E_exc 0 mV, E_inh -100 mV,
  dimensionless conductances ge (tau 1 ms), gi (tau 2 ms), and the **adaptive
  threshold** ``theta`` as a neuron variable: spike when ``v > theta - 20 + v_thresh``
  (v_thresh -52 mV), then ``theta += theta_plus`` (0.05 mV), decay tau_theta = 1e7 ms;
* N inhibitory neurons (same model without adaptation: tau 10 ms, v_rest -60, threshold
  -40, reset -45 mV, refractory 2 ms, E_inh -85 mV); E->I one-to-one (w 10.4), I->E
  all but self (w 17.0): lateral inhibition;
* input->E all-to-all with the paper's trace rule (:func:`stdp_synapse`, a
  ``SynapseModel``): presynaptic trace r (tau 20 ms), postsynaptic traces o1 (20 ms)
  and o2 (40 ms) (the paper's pre, post1, post2); pre spike: ``w -= nu_pre * o1``;
  post spike: ``w += nu_post * r * o2`` (o2 before its reset); traces set to 1 at
  spikes; w in [0, 1];
* before each image the weights onto each E neuron are scaled to sum to
  ``norm_total``; after training the weights and thresholds are frozen, every E
  neuron is labelled with the class it responds to most (on the training images),
  and a test image is classified by the class whose neurons fire most on average.

Differences from the paper (stated, not hidden): 64 inputs instead of 784, so the
weight sum per neuron is scaled to keep the paper's mean weight (78 / 784 = 0.1 per
input: ``norm_total = 6.4``) and the input rate is scaled to keep the paper's summed
input rate per image (about 6500 Hz: ``max_rate_hz = 330``); one delay (5 ms, the mean
of the paper's U(0, 10) ms) because a plastic projection has one delay; images with
fewer than 5 spikes are *not* repeated at a higher intensity (the trains are drawn in
advance); one pass over the training images.

Units: ms, mV, Hz; conductances and weights are dimensionless (in units of the leak).
"""
from dataclasses import dataclass

import numpy as np

import neurosim as ns

from .params import check_number_fields

INPUT_STREAM = 902
#: float32 cannot represent theta's per-step decay (exp(-0.5 / 1e7) = 1 - 5e-8 is below its
#: resolution at 20 mV), so theta would never decay; the numba backend runs in float64
NUMBA_OPTIONS = {"numerics": "float64"}


@dataclass
class DigitsParams:
    """Network size and protocol (ms, mV, Hz)."""
    n_exc: int = 100
    n_train: int = 1000            # images for learning (then also for labelling)
    n_test: int = 797              # held-out images
    epochs: int = 1
    max_rate_hz: float = 330.0
    present_ms: float = 350.0
    rest_ms: float = 150.0
    norm_total: float = 6.4
    nu_pre: float = 1e-4
    nu_post: float = 1e-2
    theta_plus: float = 0.05
    w_ei: float = 10.4
    w_ie: float = 17.0
    delay: float = 5.0
    dt: float = 0.5

    def __post_init__(self):
        check_number_fields(self, zero_allowed=False)


def load_digits_split(n_train, n_test, seed=0):
    """scikit-learn's digits, shuffled with ``seed``: (train images, labels, test images, labels);
    images are (n, 64) pixel values 0..16."""
    from sklearn.datasets import load_digits
    data = load_digits()
    if n_train + n_test > len(data.target):
        raise ns.ValidationError("DigitsParams", "n_train", f"n_train + n_test = {n_train + n_test} exceeds the "
                                 f"{len(data.target)} images of sklearn's digits")
    order = np.random.default_rng(seed).permutation(len(data.target))
    train, test = order[:n_train], order[n_train:n_train + n_test]
    return data.data[train], data.target[train], data.data[test], data.target[test]


def excitatory_model(theta_plus=0.05, name="DiehlCookExc"):
    """Diehl & Cook's excitatory neuron with the adaptive threshold theta (mV)."""
    return ns.NeuronModel(
        equations="""
            dv/dt = ((v_rest - v) + ge*(e_exc - v) + gi*(e_inh - v))/tau_m : mV (unless refractory)
            dge/dt = -ge/tau_ge : 1
            dgi/dt = -gi/tau_gi : 1
            dtheta/dt = -theta/tau_theta : mV
        """,
        threshold="v > theta - theta_offset + v_thresh", reset="v = v_reset; theta += theta_plus",
        refractory="t_ref",
        parameters=dict(v_rest=-65.0, v_reset=-65.0, v_thresh=-52.0, theta_offset=20.0, tau_m=100.0,
                        e_exc=0.0, e_inh=-100.0, tau_ge=1.0, tau_gi=2.0, tau_theta=1e7,
                        theta_plus=float(theta_plus), t_ref=5.0),
        initial=dict(v=-105.0, theta=20.0),
        receptors={"excitatory": "ge += weight", "inhibitory": "gi += weight"}, name=name)


def inhibitory_model():
    """Diehl & Cook's inhibitory neuron (the same equations, no threshold adaptation)."""
    return ns.NeuronModel(
        equations="""
            dv/dt = ((v_rest - v) + ge*(e_exc - v) + gi*(e_inh - v))/tau_m : mV (unless refractory)
            dge/dt = -ge/tau_ge : 1
            dgi/dt = -gi/tau_gi : 1
        """,
        threshold="v > v_thresh", reset="v = v_reset", refractory="t_ref",
        parameters=dict(v_rest=-60.0, v_reset=-45.0, v_thresh=-40.0, tau_m=10.0, e_exc=0.0, e_inh=-85.0,
                        tau_ge=1.0, tau_gi=2.0, t_ref=2.0),
        initial=dict(v=-100.0), receptors={"excitatory": "ge += weight", "inhibitory": "gi += weight"},
        name="DiehlCookInh")


def stdp_synapse(params, weight, plastic=True):
    """The paper's input->E rule as a SynapseModel (or a static synapse when frozen)."""
    if not plastic:
        return ns.StaticSynapse(weight=weight, delay=params.delay)
    return ns.SynapseModel(
        equations="""
            dr/dt = -r/tau_r : 1 (event-driven)
            do1/dt = -o1/tau_o1 : 1 (event-driven)
            do2/dt = -o2/tau_o2 : 1 (event-driven)
        """,
        on_pre="r = 1; w = min(max(w - nu_ltd*o1, 0), w_max)",
        on_post="w = min(max(w + nu_ltp*r*o2, 0), w_max); o1 = 1; o2 = 1",
        parameters=dict(tau_r=20.0, tau_o1=20.0, tau_o2=40.0, nu_ltd=params.nu_pre,
                        nu_ltp=params.nu_post, w_max=1.0),
        weight=weight, delay=params.delay, dendritic_delay_fraction=0.0, name="DiehlCookSTDP")


def input_trains(images, params, seed, t0=0.0):
    """Poisson trains (ms) of the 64 inputs for images shown one after another from t0."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(INPUT_STREAM, int(t0))))
    period = params.present_ms + params.rest_ms
    trains = [[] for _ in range(images.shape[1])]
    for k, image in enumerate(images):
        start = t0 + k * period
        rates = image / 16.0 * params.max_rate_hz
        counts = rng.poisson(rates * params.present_ms / 1000.0)
        for i in np.flatnonzero(counts):
            trains[i].append(start + rng.uniform(0.0, params.present_ms, counts[i]))
    out = []
    for tr in trains:
        times = np.unique(np.round(np.concatenate(tr) / params.dt) * params.dt) if tr else np.zeros(0)
        out.append(times[times >= params.dt])
    return out


def initial_weights(params, seed):
    """(64, n_exc) initial input->E weights, (U(0, 1) + 0.01) * 0.3 as in the paper."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(INPUT_STREAM, 10**9)))
    return (rng.uniform(0.0, 1.0, (64, params.n_exc)) + 0.01) * 0.3


def build_network(params, images, seed, weights, theta=None, plastic=True):
    """Inputs for ``images``, E with adaptive threshold (frozen: theta_plus = 0, given theta), I."""
    net = ns.Network(dt=params.dt, seed=seed, label="diehl-cook")
    inputs = net.add(ns.Population(64, ns.SpikeSourceArray(input_trains(images, params, seed)), label="inputs"))
    exc_model = excitatory_model(params.theta_plus if plastic else 0.0)
    exc = net.add(ns.Population(params.n_exc, exc_model, label="exc"))
    if theta is not None:
        exc.initialize(theta=np.asarray(theta, dtype=float))
    inh = net.add(ns.Population(params.n_exc, inhibitory_model(), label="inh"))
    exc.record("spikes")
    net.add(ns.Projection(inputs, exc, ns.AllToAllConnector(),
                          stdp_synapse(params, np.asarray(weights).ravel(), plastic), label="input->exc"))
    net.add(ns.Projection(exc, inh, ns.OneToOneConnector(), ns.StaticSynapse(weight=params.w_ei, delay=params.dt),
                          label="exc->inh"))
    net.add(ns.Projection(inh, exc, ns.AllToAllConnector(allow_self_connections=False),
                          ns.StaticSynapse(weight=params.w_ie, delay=params.dt), receptor_type="inhibitory",
                          label="inh->exc"))
    return net


def _compile(net, backend):
    return ns.compile(net, backend=backend, **(NUMBA_OPTIONS if backend == "numba" else {}))


def normalised(weights, total):
    """Scale each column (one E neuron's inputs) to sum to ``total``."""
    return weights * (total / weights.sum(axis=0, keepdims=True))


def train(params, images, seed=1, backend="numba"):
    """One pass (per epoch) over ``images`` with STDP, normalising before each image.
    Returns (weights (64, n_exc), theta (n_exc,), E spike counts per image)."""
    weights = normalised(initial_weights(params, seed), params.norm_total)
    shown = np.concatenate([images] * params.epochs)
    net = build_network(params, shown, seed, weights, plastic=True)
    sim = _compile(net, backend)
    period = params.present_ms + params.rest_ms
    for _ in range(len(shown)):
        w = sim.get_weights("input->exc", format="array")
        sim.set_weights("input->exc", normalised(w, params.norm_total))
        sim.run(period)
    counts = responses(sim.results, len(shown), params)
    return sim.get_weights("input->exc", format="array"), sim.get("exc", "theta"), counts


def responses(results, n_images, params):
    """(n_images, n_exc) E spike counts in each image's presentation window."""
    t, i = results.spikes("exc")
    period = params.present_ms + params.rest_ms
    k = np.floor((t - 1e-9) / period).astype(int)
    inside = (t - k * period > 0) & (t - k * period <= params.present_ms + params.delay) & (k < n_images)
    out = np.zeros((n_images, params.n_exc))
    np.add.at(out, (k[inside], i[inside].astype(int)), 1)
    return out


def frozen_responses(params, images, weights, theta, seed, backend="numba"):
    """E spike counts per image of the frozen network (no STDP, no threshold growth)."""
    net = build_network(params, images, seed + 7, weights, theta=theta, plastic=False)
    sim = _compile(net, backend)
    results = sim.run(len(images) * (params.present_ms + params.rest_ms))
    return responses(results, len(images), params)


def assign_labels(counts, labels, n_classes=10):
    """Each neuron's class: the one with the highest mean response (Diehl & Cook)."""
    means = np.stack([counts[labels == c].mean(axis=0) if np.any(labels == c) else np.zeros(counts.shape[1])
                      for c in range(n_classes)])
    return np.argmax(means, axis=0)


def predict(counts, assignments, n_classes=10):
    """Per image: the class whose assigned neurons fire most on average (-1 when silent)."""
    scores = np.zeros((len(counts), n_classes))
    for c in range(n_classes):
        members = assignments == c
        if members.any():
            scores[:, c] = counts[:, members].mean(axis=1)
    out = np.argmax(scores, axis=1)
    out[scores.max(axis=1) == 0] = -1
    return out


def evaluate(params, weights, theta, data, seed, backend="numba"):
    """Label the neurons on the training images, classify the test images: accuracy and
    the mean number of E spikes per test image."""
    x_train, y_train, x_test, y_test = data
    train_counts = frozen_responses(params, x_train, weights, theta, seed, backend)
    assignments = assign_labels(train_counts, y_train)
    test_counts = frozen_responses(params, x_test, weights, theta, seed + 1, backend)
    guess = predict(test_counts, assignments)
    return {"accuracy": float(np.mean(guess == y_test)),
            "silent_test_images": int(np.sum(test_counts.sum(axis=1) == 0)),
            "spikes_per_test_image": float(test_counts.sum(axis=1).mean()),
            "classes_represented": int(len(np.unique(assignments)))}
