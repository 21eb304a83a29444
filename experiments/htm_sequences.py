"""Cui, Ahmad & Hawkins 2016 (Neural Computation 28:2474), discrete high-order sequence task, on
the spiking temporal memory.

Task as in htmresearch ``projects/sequence_prediction/discrete_sequences`` (experiment
``high-order-distributed-random-perturbed``, dataset ``HighOrderDataset(numPredictions=1)``):
eight sequences of 7-8 symbols (0-9) in four pairs; the two sequences of a pair share their
middle subsequence and differ in the first and last symbol, so the last symbol can only be
predicted from the first, several steps back.  Sequences are drawn at random and each is
followed by one random noise element (a fresh random SDR); every symbol is a random SDR of
``active`` out of ``columns`` columns (the SDR category encoder feeding the temporal memory
directly, no spatial pooler, as the paper's ``spEnable: False``).  After ``switch_after``
elements the set switches to the perturbed one: within each pair the last symbols are swapped,
so the learned endings become wrong and have to be relearned.

Prediction, as the paper's ``classify``: the symbol whose columns overlap most with the
predictive columns (ties broken at random).  Accuracy is measured on the last symbol of each
sequence (the prediction made while its second-to-last symbol is shown), as a moving average
over ``window`` sequences.

The temporal memory is :class:`~neurosim.models.htm.spiking_temporal_memory.SpikingTemporalMemory`
(spiking activation on the numba backend, learning as bookkeeping; ``metrics.json`` key
``temporal_memory``).  It is scaled down from the paper's 2048 columns x 32 cells (activation
threshold 15) to 256 columns x 4 cells x 4 segments (thresholds 8 / 6, 12 active columns per
symbol) so that the network's all-to-all cells -> segments pool stays small; the paper's other
learning parameters are kept (initial permanence 0.21, +-0.1, predicted-segment decrement 0.02).
``tm="reference"`` runs the same with the reference (non-spiking) temporal memory.
"""
import json
import os
import time

import numpy as np

DESCRIPTION = "Cui et al. 2016: high-order sequence prediction on the spiking temporal memory (accuracy, recovery after a switch)"

# (first symbols, shared middle, last symbols): the pair's two sequences are
# first[0] + middle + last[0] and first[1] + middle + last[1]; the perturbed set swaps the last
# symbols.  htmresearch support/sequence_prediction_dataset.py, HighOrderDataset, numPredictions 1.
PAIRS = [((6, 1), (8, 7, 4, 2, 3), (0, 5)), ((6, 1), (3, 4, 2, 7, 8), (5, 0)),
         ((0, 2), (9, 7, 8, 5, 3, 4), (1, 6)), ((0, 2), (4, 3, 5, 8, 7, 9), (6, 1))]
N_SYMBOLS = 10

PARAMS = dict(columns=128, active=10, pairs=4, elements=20000, switch_after=10000, window=100, seed=1,
              tm=dict(cellsPerColumn=8, maxSegmentsPerCell=6, activationThreshold=7, minThreshold=5,
                      maxNewSynapseCount=10, initialPermanence=0.21, connectedPermanence=0.5,
                      permanenceIncrement=0.1, permanenceDecrement=0.1,
                      predictedSegmentDecrement=0.02, maxSynapsesPerSegment=32, seed=1960))
# quick: the first pair only (two sequences sharing 8-7-4-2-3), 64 columns (8 active),
# 4 segments per cell, 2400 elements, switch at 1200, accuracy over 20 sequences
QUICK = dict(pairs=1, columns=64, active=8, elements=2400, switch_after=1200, window=20,
             tm=dict(maxSegmentsPerCell=4, activationThreshold=6, minThreshold=4, maxNewSynapseCount=8))


def sequences(perturbed=False, pairs=4):
    """The sequences (lists of symbols) of the first ``pairs`` pairs, original or perturbed set."""
    out = []
    for first, middle, last in PAIRS[:pairs]:
        ends = last[::-1] if perturbed else last
        out += [[first[0], *middle, ends[0]], [first[1], *middle, ends[1]]]
    return out


def params_for(quick):
    params = {**PARAMS, "tm": dict(PARAMS["tm"])}
    if quick:
        params.update({k: v for k, v in QUICK.items() if k != "tm"})
        params["tm"].update(QUICK["tm"])
    return params


def run_task(params, tm="spiking", progress=None):
    """Stream the task through a temporal memory; returns per-sequence records (element index
    at which the sequence ended, whether its last symbol was predicted) and timings."""
    from neurosim.models.htm.spiking_temporal_memory import SpikingTemporalMemory
    from neurosim.models.htm.temporal_memory import TemporalMemory

    rng = np.random.default_rng(params["seed"])
    n_cols, w = params["columns"], params["active"]
    code = np.array([np.sort(rng.choice(n_cols, w, replace=False)) for _ in range(N_SYMBOLS)])
    member = np.zeros((N_SYMBOLS, n_cols), np.int64)
    member[np.arange(N_SYMBOLS)[:, None], code] = 1
    t0 = time.perf_counter()
    if tm == "spiking":
        memory = SpikingTemporalMemory(columns=n_cols, **params["tm"])
    else:
        memory = TemporalMemory(columns=n_cols, **{k: v for k, v in params["tm"].items()})
    build_s = time.perf_counter() - t0
    ends, correct = [], []
    element = 0
    t0 = time.perf_counter()
    while element < params["elements"]:
        seq_set = sequences(element >= params["switch_after"], params["pairs"])
        seq = seq_set[rng.integers(len(seq_set))]
        inputs = [code[s] for s in seq] + [np.sort(rng.choice(n_cols, w, replace=False))]
        for pos, cols in enumerate(inputs):
            memory.compute(cols, learn=True)
            element += 1
            if pos == len(seq) - 2:                  # predict the last symbol
                predictive = np.zeros(n_cols, np.int64)
                predictive[memory.getPredictiveColumns()] = 1
                scores = member @ predictive
                best = np.flatnonzero(scores == scores.max())
                guess = best[rng.integers(best.size)] if scores.max() > 0 else -1
                correct.append(bool(guess == seq[-1]))
                ends.append(element)
        if progress and len(ends) % 200 == 0:
            progress(f"  element {element}: accuracy {np.mean(correct[-params['window']:]):.3f}")
    run_s = time.perf_counter() - t0
    extra = {"mismatches": memory.mismatches, "weight_updates": memory.weight_updates} if tm == "spiking" else {}
    return {"ends": np.array(ends), "correct": np.array(correct), "build_s": build_s, "run_s": run_s,
            "segments": memory.numSegments(), "synapses": memory.numSynapses(), **extra}


def summarise(out, params):
    """Accuracy of the last symbol over ``window`` sequences: just before the switch, right
    after it and at the end (after recovery)."""
    ends, correct, window = out["ends"], out["correct"].astype(float), params["window"]
    before = correct[ends <= params["switch_after"]]
    after = correct[ends > params["switch_after"]]
    return {"accuracy_after_learning": float(before[-window:].mean()),
            "accuracy_after_switch": float(after[:window].mean()),
            "accuracy_after_recovery": float(after[-window:].mean()),
            "sequences": int(len(correct))}


def moving_accuracy(out, window):
    c = np.convolve(out["correct"].astype(float), np.ones(window) / window, mode="valid")
    return out["ends"][window - 1:], c


def run(out_dir, backend="numba", quick=False, tm="spiking"):
    """The task on the spiking temporal memory (quick: see ``QUICK``); writes metrics.json and
    accuracy.png."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out_dir, exist_ok=True)
    params = params_for(quick)
    t0 = time.perf_counter()
    out = run_task(params, tm=tm)
    wall = time.perf_counter() - t0
    metrics = {"experiment": "htm-sequences", "backend": backend, "quick": quick, "temporal_memory": tm,
               **summarise(out, params), "target_accuracy": 0.95,
               "elements": params["elements"], "switch_after": params["switch_after"],
               "window_sequences": params["window"], "segments": out["segments"], "synapses": out["synapses"],
               "wall_s": wall, "build_s": out["build_s"], "run_s": out["run_s"],
               "ms_per_element": 1000 * out["run_s"] / params["elements"],
               "params": params, "published": "HTM reaches ~100 % and recovers after the switch "
               "(Cui et al. 2016, Fig. 4; figure only)"}
    for key in ("mismatches", "weight_updates"):
        if key in out:
            metrics[key] = out[key]
    with open(os.path.join(out_dir, "metrics.json"), "w") as handle:
        json.dump(metrics, handle, indent=2)
    x, acc = moving_accuracy(out, params["window"])
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(x, acc, "C0-", lw=1.2, label=f"{tm} temporal memory")
    ax.axvline(params["switch_after"], color="0.5", ls=":", label="sequence set switches")
    ax.set_xlabel("element")
    ax.set_ylabel(f"accuracy, last symbol\n(moving, {params['window']} sequences)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "accuracy.png"), dpi=120)
    plt.close(fig)
    return metrics
