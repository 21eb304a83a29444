"""CA3 content-addressable memory (Casanueva-Morato et al. 2024) against the reference SpiNNaker traces.

Reruns the two published testbenches (``../shared/data/ca3_cam``: trace 1, 5 cues x 10 bits,
learn / recall by cue / recall by content / forget, 90 ms; trace 2, the pyramidal testbench,
60 operations, 851 ms) from their input spikes, compares every population's spikes with the
reference (neurosim time = reference time + 1 ms, see ``neurosim.models.ca3_cam``) and decodes
the answer of every operation from the OUT layer.  Writes ``metrics.json`` and one raster per
trace (``raster_<trace>.png``: neurosim spikes as dots, reference spikes as rings) and the
decoded answer of every operation (``answers.json``).
Without ``quick`` it also runs the PyNN flavours of the network (``"pynn"``: published
``IF_curr_exp`` network; ``"pynn-phased"``: the same with phased delays, see
``neurosim.models.ca3_cam``) and reports how far they are from the reference.
"""
import json
import os
import time

DESCRIPTION = "CA3 spiking content-addressable memory: reproduce the SpiNNaker spike traces, decode the answers"

TRACES = {"trace1": "1_learn_recall_by_cue_and_cont_forget.json",
          "trace2": "2_tb2_piramidal_sequence_cont.json"}


def trace_dir(data=None):
    """The folder holding the reference traces: ``data`` (a data folder or the ca3_cam folder
    itself), else $NEUROSIM_DATA/ca3_cam, else shared/data/ca3_cam or ../shared/data/ca3_cam
    above the current directory or above this file."""
    candidates = []
    if data:
        candidates += [os.path.join(data, "ca3_cam"), data]
    if os.environ.get("NEUROSIM_DATA"):
        candidates.append(os.path.join(os.environ["NEUROSIM_DATA"], "ca3_cam"))
    for start in (os.getcwd(), os.path.dirname(os.path.abspath(__file__))):
        here = start
        while True:
            candidates += [os.path.join(here, rel, "ca3_cam") for rel in ("shared/data", "../shared/data")]
            parent = os.path.dirname(here)
            if parent == here:
                break
            here = parent
    for cand in candidates:
        if os.path.isfile(os.path.join(cand, TRACES["trace1"])):
            return os.path.normpath(cand)
    raise FileNotFoundError("no ca3_cam reference traces found; pass data= or set NEUROSIM_DATA")


def run_trace(path, backend="numba", neuron="spinnaker", **backend_options):
    """Run one reference testbench; returns (summary dict, Results, reference trains)."""
    from neurosim.models import ca3_cam as cam_mod
    ref, sim_time = cam_mod.load_reference(path)
    cam = cam_mod.CA3CAM(len(ref["INcue"]), len(ref["INcont"]), neuron=neuron)
    t0 = time.perf_counter()
    results = cam.run_spike_input(ref["INcue"], ref["INcont"], sim_time, backend=backend, **backend_options)
    wall = time.perf_counter() - t0
    mismatches = cam_mod.compare_spikes(cam.spike_trains(results), ref)
    ops = cam_mod.ops_from_spike_input(ref["INcue"], ref["INcont"])
    answers = cam.decode(results, ops)
    ref_answers = cam.decode(ref, ops)
    by_type = {}
    for a in answers:
        row = by_type.setdefault(a["op"], {"correct": 0, "total": 0})
        row["total"] += 1
        row["correct"] += int(a["correct"])
    summary = {"file": os.path.basename(path), "cue_size": cam.cue_size, "content_size": cam.content_size,
               "sim_time_ms": sim_time, "operations_total": len(ops),
               "operations_correct": sum(a["correct"] for a in answers),
               "reference_operations_correct": sum(a["correct"] for a in ref_answers),
               "operations_by_type": by_type,
               "spike_mismatches": mismatches, "spike_mismatches_total": sum(mismatches.values()),
               "reference_spikes": sum(len(t) for trains in ref.values() for t in trains),
               "wall_s_incl_compile": wall, "answers": answers}
    return summary, results, ref


def plot_trace(results, ref, path, title):
    """Raster of all populations (neurosim.plotting.raster) with the reference spikes as rings."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from neurosim.models.ca3_cam import POPULATIONS, TIME_OFFSET_MS
    from neurosim.plotting import raster
    axes = raster(results, populations=list(POPULATIONS), markersize=3.0)
    for ax, label in zip(axes, POPULATIONS):
        times = [t + TIME_OFFSET_MS for train in ref[label] for t in train]
        ids = [i for i, train in enumerate(ref[label]) for _ in train]
        ax.plot(times, ids, "o", mfc="none", mec="tab:red", ms=5, lw=0)
        ax.set_ylabel(label, rotation=0, ha="right", fontsize=7)
        ax.set_title("")
        if ax is not axes[-1]:
            ax.set_xlabel("")
    fig = axes[0].figure
    fig.suptitle(title + "  (dots: neurosim, rings: SpiNNaker reference + 1 ms)", fontsize=9)
    fig.set_size_inches(10, 10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(out_dir, backend="numba", quick=False, data=None):
    """Both traces; writes metrics.json, answers.json, raster_trace1.png and raster_trace2.png
    into out_dir and returns the metrics.  ``data``: folder of the reference traces (default:
    see :func:`trace_dir`)."""
    os.makedirs(out_dir, exist_ok=True)
    folder = trace_dir(data)
    traces = {}
    for name, fname in TRACES.items():
        summary, results, ref = run_trace(os.path.join(folder, fname), backend=backend)
        plot_trace(results, ref, os.path.join(out_dir, f"raster_{name}.png"), f"{name}: {fname}")
        traces[name] = summary
    metrics = {"experiment": "ca3-cam", "backend": backend, "neuron": "spinnaker", "time_offset_ms": 1.0,
               "operations_correct": sum(t["operations_correct"] for t in traces.values()),
               "operations_total": sum(t["operations_total"] for t in traces.values()),
               "spike_mismatches_total": sum(t["spike_mismatches_total"] for t in traces.values())}
    for name, t in traces.items():
        metrics[name] = {k: t[k] for k in ("operations_correct", "operations_total", "reference_operations_correct",
                                           "spike_mismatches_total", "reference_spikes", "sim_time_ms")}
        metrics[f"spike_mismatches_{name}"] = t["spike_mismatches"]
    if not quick:
        for name, fname in TRACES.items():
            for neuron, key in (("pynn", "pynn_if_curr_exp"), ("pynn-phased", "pynn_phased")):
                summary, _, _ = run_trace(os.path.join(folder, fname), backend=backend, neuron=neuron)
                metrics[f"{key}_{name}"] = {k: summary[k] for k in (
                    "operations_correct", "operations_total", "spike_mismatches_total")}
    metrics["criterion"] = ("bit-exact: 0 spike mismatches in every population of both traces; "
                            "every operation decoded correctly (the reference itself: 9/9 and 60/60)")
    with open(os.path.join(out_dir, "metrics.json"), "w") as handle:
        json.dump(metrics, handle, indent=2)
    with open(os.path.join(out_dir, "answers.json"), "w") as handle:
        json.dump({name: t["answers"] for name, t in traces.items()}, handle, indent=1)
    return metrics
