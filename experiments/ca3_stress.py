"""Stress test of the CA3 content-addressable memory: random learn / recall / forget sequences.

A long random sequence of operations on a larger memory (full run: 64 cues x 128 content bits,
1000 operations, one every 10 ms) is scheduled on :class:`neurosim.models.ca3_cam.CA3CAM`
(``neuron="spinnaker"``, dt = 1 ms) and simulated in one run on the numba backend.  The answer
every operation should give comes from :class:`DictMemory`, a plain dictionary cue -> set of
bits, independent of the model's own ``expected_answers``:

* learn (a cue not stored yet) and forget (learn on a stored cue: overwrite) echo the cue and
  the new bits on the OUT layer at t0 + 5 ms;
* recall by cue answers the stored bits (empty for a cue never learned);
* recall by content fragment answers every cue whose stored content shares at least one bit
  with the fragment (OR semantics, see ``neurosim.models.ca3_cam``).

Accuracy is reported per operation kind; time as build (network description), compile (numba
kernel, cached across processes), simulate (wall) and decode (s); spikes per population.

Two wirings of the inhibition CA3cueCueRecall -> CA3cueContRecall (weight -6 nA x content size,
delay 3 ms) are run on the same sequence:

``as_published``
    ``AllToAllConnector(allow_self_connections=False)``, as in the authors' script.  PyNN,
    sPyNNaker and neurosim apply ``allow_self_connections`` only when pre and post are the
    same population, so cue i also inhibits its own CA3cueContRecall neuron.  While a memory
    is learned, CA3cueContRecall i fires at t0 + 3 and must fire again at t0 + 5 (driven by
    CA3cueCueRecall, 6 nA); its own inhibition arrives at t0 + 4 and what is left of it one
    tick later, 6 m x 0.289 x e^{-1/0.3} = 0.062 m nA, opposes 1.74 nA of excitation.  The
    membrane (3.09 mV/nA for one tick) needs 3 mV, so for m >= 13 content bits the neuron stays
    silent, STDP depresses the content -> cue synapses just potentiated, and recall by content
    fails.  (Both reference traces have m = 10, where the two wirings give identical spikes.)
``no_self``
    the same projection without the i -> i synapses (``ArrayConnector``), what the authors'
    comment "all to all (except itself)" describes.

The full run also scans the content size (8 cues, 100 operations) with the published wiring to
locate the break-down (predicted between 12 and 13 bits).  Writes ``metrics.json``,
``accuracy.png`` and ``errors.json`` (the first wrong answers of each wiring).
"""
import json
import os
import random
import time

DESCRIPTION = "CA3 CAM stress test: random learn / recall / forget sequences on a larger memory; accuracy and run time"

FULL = dict(cue_size=64, content_size=128, n_ops=1000, max_bits=16, max_fragment=3)
QUICK = dict(cue_size=8, content_size=16, n_ops=50, max_bits=6, max_fragment=3)
#: probabilities of a learn (or forget), a recall by cue; the rest are recalls by content
P_LEARN, P_RECALL_CUE = 0.35, 0.35
WIRINGS = ("as_published", "no_self")
KINDS = ("learn", "forget", "recall_cue", "recall_content")
SCAN_CONTENT_SIZES = (8, 10, 12, 13, 14, 16, 32, 64)


class DictMemory:
    """The ideal memory: a dictionary cue -> set of content bits."""

    def __init__(self):
        self.store = {}

    def learn(self, cue, bits):
        """Store (or overwrite) ``bits`` under ``cue``; returns the kind, 'learn' or 'forget'."""
        kind = "forget" if cue in self.store else "learn"
        self.store[cue] = set(bits)
        return kind

    def recall_cue(self, cue):
        return sorted(self.store.get(cue, ()))

    def recall_content(self, bits):
        fragment = set(bits)
        return sorted(cue for cue, stored in self.store.items() if stored & fragment)


def random_operations(cue_size, content_size, n_ops, max_bits, max_fragment, seed=1):
    """``n_ops`` random operations and their ideal answers (from :class:`DictMemory`).

    Returns a list of dicts: ``op`` (learn / recall_cue / recall_content), ``kind`` (as op,
    but a learn on a stored cue is 'forget'), ``cue`` and/or ``bits``, and ``expected``
    ({"cues": [...], "bits": [...] or None}, the format of ``CA3CAM.decode``)."""
    for name, value, low in (("cue_size", cue_size, 1), ("content_size", content_size, 1), ("n_ops", n_ops, 1),
                             ("max_bits", max_bits, 1), ("max_fragment", max_fragment, 1)):
        if int(value) != value or value < low:
            raise ValueError(f"{name} must be an integer >= {low} (got {value!r})")
    if max_bits > content_size or max_fragment > content_size:
        raise ValueError(f"max_bits ({max_bits}) and max_fragment ({max_fragment}) must be <= content_size "
                         f"({content_size})")
    rng, memory, ops = random.Random(seed), DictMemory(), []
    for _ in range(int(n_ops)):
        r = rng.random()
        if r < P_LEARN or not memory.store:
            cue, bits = rng.randrange(cue_size), sorted(rng.sample(range(content_size), rng.randint(1, max_bits)))
            kind = memory.learn(cue, bits)
            ops.append(dict(op="learn", kind=kind, cue=cue, bits=bits, expected={"cues": [cue], "bits": bits}))
        elif r < P_LEARN + P_RECALL_CUE:
            cue = rng.randrange(cue_size)
            ops.append(dict(op="recall_cue", kind="recall_cue", cue=cue,
                            expected={"cues": [cue], "bits": memory.recall_cue(cue)}))
        else:
            bits = sorted(rng.sample(range(content_size), rng.randint(1, max_fragment)))
            ops.append(dict(op="recall_content", kind="recall_content", bits=bits,
                            expected={"cues": memory.recall_content(bits), "bits": None}))
    return ops


def make_cam(cue_size, content_size, wiring="as_published", op_interval_ms=10.0):
    """A CA3CAM whose CueCue -> CueCont inhibition has the given ``wiring`` (module docstring)."""
    from neurosim.models.ca3_cam import CA3CAM
    if wiring not in WIRINGS:
        raise ValueError(f"wiring must be one of {', '.join(WIRINGS)} (got {wiring!r})")
    return CA3CAM(cue_size, content_size, op_interval_ms=op_interval_ms, cue_self_inhibition=wiring == "as_published")


def run_sequence(ops, cue_size, content_size, wiring="as_published", backend="numba", op_interval_ms=10.0,
                 **backend_options):
    """Schedule ``ops`` (from :func:`random_operations`) on a CA3CAM, simulate, decode, score.

    Returns a dict: accuracy overall and per kind, correct / total per kind, timings (s),
    spikes per population, simulated time (ms) and the wrong answers."""
    import neurosim as ns
    cam = make_cam(cue_size, content_size, wiring, op_interval_ms)
    for op in ops:
        if op["op"] == "learn":
            cam.learn(op["cue"], op["bits"])
        elif op["op"] == "recall_cue":
            cam.recall_cue(op["cue"])
        else:
            cam.recall_content(op["bits"])
    backend_options.setdefault("quiet", True)
    t0 = time.perf_counter()
    cue, cont, duration = cam.spike_input()
    net = cam.build(cue, cont)
    t1 = time.perf_counter()
    sim = ns.compile(net, backend=backend, **backend_options)
    t2 = time.perf_counter()
    results = sim.run(duration)
    t3 = time.perf_counter()
    answers = cam.decode(results)
    t4 = time.perf_counter()
    by_kind = {kind: {"correct": 0, "total": 0} for kind in KINDS}
    wrong = []
    for i, (op, ans) in enumerate(zip(ops, answers)):
        ok = ans["answer"] == op["expected"]
        by_kind[op["kind"]]["total"] += 1
        by_kind[op["kind"]]["correct"] += int(ok)
        if not ok:
            wrong.append(dict(index=i, t_ms=ans["t"], kind=op["kind"], args=ans["args"], answer=ans["answer"],
                              expected=op["expected"]))
    correct = sum(row["correct"] for row in by_kind.values())
    spikes = {label: int(len(results.spikes(label)[0])) for label in results.labels}
    return {"wiring": wiring, "cue_size": cue_size, "content_size": content_size, "operations": len(ops),
            "correct": correct, "accuracy": correct / len(ops),
            "accuracy_by_kind": {k: (r["correct"] / r["total"] if r["total"] else None) for k, r in by_kind.items()},
            "counts_by_kind": by_kind, "sim_time_ms": duration, "op_interval_ms": op_interval_ms,
            "build_s": t1 - t0, "compile_s": t2 - t1, "simulate_s": t3 - t2, "decode_s": t4 - t3,
            "spikes_total": sum(spikes.values()), "spikes": spikes, "wrong": wrong,
            "agrees_with_model_expected_answers": all(
                a["expected"] == op["expected"] for a, op in zip(answers, ops))}


def content_size_scan(sizes=SCAN_CONTENT_SIZES, cue_size=8, n_ops=100, seed=2, backend="numba"):
    """Recall-by-content accuracy of the published wiring against the content size."""
    out = []
    for m in sizes:
        ops = random_operations(cue_size, m, n_ops, min(6, m), min(3, m), seed=seed)
        row = run_sequence(ops, cue_size, m, "as_published", backend=backend)
        out.append({"content_size": m, "accuracy": row["accuracy"],
                    "recall_content_accuracy": row["accuracy_by_kind"]["recall_content"]})
    return out


def plot(runs, scan, path):
    """Accuracy per kind for each wiring, cumulative errors, and the content-size scan."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    n_panels = 3 if scan else 2
    fig, axes = plt.subplots(1, n_panels, figsize=(4.2 * n_panels, 3.6))
    x = np.arange(len(KINDS))
    for k, run in enumerate(runs):
        acc = [100 * (run["accuracy_by_kind"][kind] or 0) for kind in KINDS]
        axes[0].bar(x + (k - 0.5) * 0.4, acc, 0.4, label=run["wiring"])
        errors = np.zeros(run["operations"])
        errors[[w["index"] for w in run["wrong"]]] = 1
        axes[1].plot(np.arange(1, run["operations"] + 1), np.cumsum(errors), label=run["wiring"])
    axes[0].set_xticks(x, KINDS, fontsize=8)
    axes[0].set_ylabel("correct (%)")
    axes[0].set_title(f"{runs[0]['cue_size']} cues x {runs[0]['content_size']} bits, {runs[0]['operations']} ops",
                      fontsize=9)
    axes[0].legend(fontsize=7)
    axes[1].set_xlabel("operation")
    axes[1].set_ylabel("wrong answers (cumulative)")
    axes[1].legend(fontsize=7)
    if scan:
        axes[2].plot([r["content_size"] for r in scan], [100 * r["recall_content_accuracy"] for r in scan], "o-")
        axes[2].axvline(12.35, color="grey", ls="--", lw=1)
        axes[2].set_xscale("log", base=2)
        axes[2].set_xlabel("content bits (as_published wiring, 8 cues)")
        axes[2].set_ylabel("recall by content correct (%)")
        axes[2].set_title("predicted break-down: m > 12.35", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(out_dir, backend="numba", quick=False, seed=1):
    """Both wirings on one random sequence (QUICK or FULL), plus (full run) the content-size
    scan; writes metrics.json, errors.json and accuracy.png into out_dir; returns the metrics."""
    os.makedirs(out_dir, exist_ok=True)
    config = QUICK if quick else FULL
    ops = random_operations(**config, seed=seed)
    runs = [run_sequence(ops, config["cue_size"], config["content_size"], wiring, backend=backend)
            for wiring in WIRINGS]
    scan = content_size_scan(backend=backend) if not quick else []
    plot(runs, scan, os.path.join(out_dir, "accuracy.png"))
    metrics = {"experiment": "ca3-stress", "backend": backend, "quick": bool(quick), "seed": seed, **config,
               "kinds_in_sequence": {k: runs[0]["counts_by_kind"][k]["total"] for k in KINDS},
               "wirings": {r["wiring"]: {k: v for k, v in r.items() if k not in ("wrong", "wiring")} for r in runs},
               "content_size_scan": scan,
               "criterion": "no_self wiring: every operation answered as the dictionary model says (100 %); "
                            "as_published: recall by content fails once content_size >= 13"}
    with open(os.path.join(out_dir, "metrics.json"), "w") as handle:
        json.dump(metrics, handle, indent=2)
    with open(os.path.join(out_dir, "errors.json"), "w") as handle:
        json.dump({r["wiring"]: r["wrong"][:50] for r in runs}, handle, indent=1)
    return metrics
