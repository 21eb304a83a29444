"""STDP cell assemblies (after Litwin-Kumar & Doiron 2014, Zenke et al. 2015): repeated
stimulation of K groups of excitatory neurons imprints assemblies through E->E pair STDP
with synaptic normalisation and Vogels 2011 inhibitory plasticity; the assemblies persist
through spontaneous activity and a 30 % cue recalls the rest of its assembly.

The same protocol runs twice: with E->E STDP (the model) and with static E->E synapses
(the control).  Criteria (stated in metrics.json): within/between weight ratio > 2 after
imprinting (control: 1); ratio keeps > 50 % of its value over the spontaneous phase;
completion > 2 x chance, > 2 x specificity and above the control's completion.  The
network and protocol are in :mod:`neurosim.models.stdp_assembly`.
"""
import json
import os
import time

import numpy as np

DESCRIPTION = "STDP cell assemblies: imprinting, stability in spontaneous activity, pattern completion"

CRITERIA = {
    "ratio_after_imprint": "> 2 (control without E->E plasticity: 1)",
    "stability": "ratio after the spontaneous phase / ratio after imprinting > 0.5",
    "completion": "> 2 x chance, > 2 x specificity, > control completion",
}


def evaluate(model, control):
    """The pass/fail of each criterion (booleans) from the two measure dicts."""
    return {
        "ratio_after_imprint": model["ratio_after_imprint"] > 2.0,
        "stability": model["stability"] > 0.5,
        "completion": (model["completion"] > 2 * model["chance"] and model["completion"] > 2 * model["specificity"]
                       and model["completion"] > control["completion"]),
    }


def run(out_dir, backend="numba", quick=False, seed=1):
    """Model and control; writes metrics.json, weight_ratio.png, weights.png, recall.png."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurosim.models import stdp_assembly as sa
    os.makedirs(out_dir, exist_ok=True)
    params = sa.quick_params() if quick else sa.AssemblyParams()
    t0 = time.perf_counter()
    model = sa.simulate(params, seed=seed, backend=backend)
    t1 = time.perf_counter()
    control = sa.simulate(params, seed=seed, backend=backend, ee_plastic=False)
    t2 = time.perf_counter()
    mm, cm = model["measures"], control["measures"]
    metrics = {"experiment": "stdp-assemblies", "backend": backend, "quick": quick, "seed": seed,
               "n_exc": params.n_exc, "n_inh": params.n_inh, "n_assemblies": params.n_assemblies,
               "assembly_size": params.assembly_size, "duration_ms": model["protocol"].duration,
               "phases_ms": model["protocol"].phases, "model": mm, "control": cm,
               "criteria": CRITERIA, "passed": evaluate(mm, cm),
               "wall_s": {"model": t1 - t0, "control": t2 - t1}}
    with open(os.path.join(out_dir, "metrics.json"), "w") as handle:
        json.dump(metrics, handle, indent=2)
    _figures(plt, out_dir, sa, model, control)
    return metrics


def _figures(plt, out_dir, sa, model, control):
    protocol, params = model["protocol"], model["params"]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(model["times"] / 1000, model["ratio"], label="E->E STDP")
    ax.plot(control["times"] / 1000, control["ratio"], label="control (static)")
    for name, (a, b) in protocol.phases.items():
        ax.axvspan(a / 1000, b / 1000, alpha=0.08 if name in ("imprint", "recall") else 0.0, color="k")
        ax.text((a + b) / 2000, ax.get_ylim()[1] * 0.95, name, ha="center", va="top", fontsize=8)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("within / between mean weight")
    ax.legend(loc="center right")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "weight_ratio.png"), dpi=120)
    plt.close(fig)

    rows = model["final_rows"]
    w = np.zeros((params.n_exc, params.n_exc))
    w[rows[:, 0].astype(int), rows[:, 1].astype(int)] = rows[:, 2]
    fig, ax = plt.subplots(figsize=(4.5, 4))
    im = ax.imshow(w * 1000, cmap="viridis", interpolation="nearest")
    ax.set_xlabel("post (E index)")
    ax.set_ylabel("pre (E index)")
    ax.set_title("E->E weights after recall (nS)")
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "weights.png"), dpi=120)
    plt.close(fig)

    t, i = model["spikes"]
    a, b = protocol.phases["recall"]
    sel = (t > a) & (t <= b)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(t[sel] / 1000, i[sel], ",k")
    for t0, t1, cells, kind, k in protocol.windows:
        if kind == "cue":
            ax.axvspan(t0 / 1000, t1 / 1000, color=f"C{k}", alpha=0.2)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("E neuron")
    m = model["measures"]
    ax.set_title(f"recall: completion {m['completion']:.2f}, specificity {m['specificity']:.2f}, "
                 f"chance {m['chance']:.2f}", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "recall.png"), dpi=120)
    plt.close(fig)
