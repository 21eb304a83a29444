"""Diehl & Cook 2015: unsupervised learning of handwritten digits with STDP, adaptive
thresholds and lateral inhibition, on scikit-learn's 8 x 8 digits (not MNIST).

For each network size (100 and 400 excitatory neurons; quick: 30) the network learns
from the training images (no labels), is frozen, labels its neurons on the training
images and classifies the held-out images.  Two references are reported with it: chance
(10 classes; and the most frequent test class) and the same pipeline on the *untrained*
network (initial random weights, initial thresholds), so that the gain from STDP is
visible.  The paper's MNIST figures (82.9 % at 100, 87.0 % at 400 neurons) are quoted for
orientation only: different data (64 instead of 784 inputs, 1797 images) and a shorter
training (see :mod:`neurosim.models.diehl_cook` for every difference).

One pass over 1000 training images: without the paper's rule that repeats an image at a
higher input rate when the network answers with fewer than 5 spikes, further passes let
the thresholds grow until the network falls silent (measured at 100 neurons, 3 passes, float32 state:
mean theta 36 mV, 5.9 spikes per test image, accuracy 51 % against 76 % after one pass).
"""
import json
import os
import time

import numpy as np

DESCRIPTION = "Diehl & Cook 2015: unsupervised STDP learning of sklearn's 8x8 digits (100 and 400 neurons)"

PAPER_MNIST_ACCURACY = {100: 0.829, 400: 0.870}


def run_size(n_exc, n_train, n_test, epochs=1, seed=1, backend="numba"):
    """Train, label and test one network size; returns (metrics, learned weights)."""
    from neurosim.models import diehl_cook as dc
    params = dc.DigitsParams(n_exc=n_exc, n_train=n_train, n_test=n_test, epochs=epochs)
    data = dc.load_digits_split(n_train, n_test, seed=0)
    t0 = time.perf_counter()
    weights, theta, counts = dc.train(params, data[0], seed=seed, backend=backend)
    t1 = time.perf_counter()
    trained = dc.evaluate(params, weights, theta, data, seed, backend)
    t2 = time.perf_counter()
    w0 = dc.normalised(dc.initial_weights(params, seed), params.norm_total)
    untrained = dc.evaluate(params, w0, np.full(n_exc, 20.0), data, seed, backend)
    y_test = data[3]
    metrics = {"n_exc": n_exc, "n_train": n_train, "n_test": n_test, "epochs": epochs,
               "accuracy": trained["accuracy"], "untrained_accuracy": untrained["accuracy"],
               "chance": 0.1, "majority_class": float(np.bincount(y_test).max() / len(y_test)),
               "paper_mnist_accuracy": PAPER_MNIST_ACCURACY.get(n_exc),
               "trained": trained, "untrained": untrained,
               "train_spikes_per_image": float(counts.sum(axis=1).mean()),
               "train_images_under_5_spikes": int(np.sum(counts.sum(axis=1) < 5)),
               "theta_mean_mv": float(theta.mean()),
               "wall_s": {"train": t1 - t0, "test": t2 - t1}}
    return metrics, weights


def run(out_dir, backend="numba", quick=False, seed=1):
    """Writes metrics.json, receptive_fields_<n>.png and accuracy.png."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(out_dir, exist_ok=True)
    if quick:
        sizes, n_train, n_test, epochs = (30,), 400, 200, 1
    else:
        sizes, n_train, n_test, epochs = (100, 400), 1000, 797, 1
    results = {}
    for n in sizes:
        metrics, weights = run_size(n, n_train, n_test, epochs, seed, backend)
        results[str(n)] = metrics
        _receptive_fields(plt, weights, os.path.join(out_dir, f"receptive_fields_{n}.png"))
    out = {"experiment": "stdp-digits", "backend": backend, "quick": quick, "seed": seed,
           "dataset": "sklearn.datasets.load_digits (8x8, 1797 images), shuffled with seed 0",
           "sizes": results,
           "note": "paper_mnist_accuracy is Diehl & Cook 2015 on MNIST (784 inputs, 60000 images): "
                   "for orientation, not a like-for-like target"}
    with open(os.path.join(out_dir, "metrics.json"), "w") as handle:
        json.dump(out, handle, indent=2)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    x = np.arange(len(results))
    ax.bar(x - 0.2, [r["accuracy"] for r in results.values()], 0.4, label="after STDP")
    ax.bar(x + 0.2, [r["untrained_accuracy"] for r in results.values()], 0.4, label="untrained")
    ax.axhline(0.1, color="k", ls=":", label="chance")
    ax.set_xticks(x, [f"{n} exc" for n in results])
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "accuracy.png"), dpi=120)
    plt.close(fig)
    return out


def _receptive_fields(plt, weights, path):
    n = weights.shape[1]
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    tiles = np.zeros((rows * 9, cols * 9))
    for k in range(n):
        r, c = divmod(k, cols)
        tiles[r * 9:r * 9 + 8, c * 9:c * 9 + 8] = weights[:, k].reshape(8, 8)
    fig, ax = plt.subplots(figsize=(6, 6 * rows / cols))
    ax.imshow(tiles, cmap="hot_r", interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(f"input->E weights of the {n} excitatory neurons")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
