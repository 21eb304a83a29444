"""The ``neurosim`` command line.

    neurosim demo [--duration MS] [--out DIR] [--quiet]
    neurosim list
    neurosim run NAME [--backend B] [--out DIR] [--quick] [--quiet]
    neurosim info

Errors that neurosim raises on purpose (``NeurosimError``) print
``error: <message>`` to stderr and exit with status 2, without a traceback.
"""

import argparse
import importlib
import importlib.metadata
import os
import platform
import sys
import time

from neurosim.errors import NeurosimError, ValidationError

DEMO_NEURONS = 1000
DEMO_P_CONNECT = 0.08  # 80 inputs per neuron, as in CUBA-4000 at p = 0.02


def _say(args, text=""):
    if not args.quiet:
        print(text)


def _count_synapses(sim):
    """Number of synapses, or None where the simulation does not say."""
    value = getattr(sim, "n_synapses", None)
    if callable(value):
        value = value()
    if value is not None:
        return int(value)
    built = getattr(sim, "built", None)
    projections = getattr(built, "projections", None)
    if projections is not None:
        return int(sum(p.n_synapses for p in projections))
    return None


def cmd_demo(args):
    import matplotlib.pyplot as plt

    import neurosim as ns
    from neurosim import plotting
    from neurosim.models.benchmark_networks import cuba_network

    if args.duration <= 0:
        raise ValidationError("neurosim demo", "duration",
                                        f"must be > 0 ms (got {args.duration:g})")
    out_dir = args.out
    os.makedirs(out_dir, exist_ok=True)

    _say(args, f"CUBA network, {DEMO_NEURONS} LIF neurons (80 % excitatory), "
               f"p={DEMO_P_CONNECT}, {args.duration:g} ms on the numba backend")
    t0 = time.perf_counter()
    net = cuba_network(n_neurons=DEMO_NEURONS, p_connect=DEMO_P_CONNECT, seed=1)
    t1 = time.perf_counter()
    sim = ns.compile(net, backend="numba")
    t2 = time.perf_counter()
    results = sim.run(args.duration)
    t3 = time.perf_counter()

    sizes = {label: results.size(label) for label in results.labels}
    n_syn = _count_synapses(sim)
    total = 0
    lines = []
    for label, size in sizes.items():
        times, _ids = results.spikes(label)
        total += len(times)
        rate = len(times) / (size * args.duration / 1000.0)
        lines.append(f"  {label:<4} {size:6d} neurons {len(times):8d} spikes {rate:8.2f} Hz")

    path = os.path.join(out_dir, "demo_raster.png")
    axes = plotting.raster(results)
    fig = axes[0].figure
    fig.savefig(path, dpi=120)
    plt.close(fig)

    _say(args, f"neurons   {DEMO_NEURONS}")
    _say(args, f"synapses  {n_syn if n_syn is not None else '?'}")
    _say(args, f"spikes    {total}")
    for line in lines:
        _say(args, line)
    _say(args, f"wall time build {t1 - t0:.2f} s, compile {t2 - t1:.2f} s, "
               f"run {t3 - t2:.2f} s")
    _say(args, f"raster    {path}")
    return 0


def cmd_list(args):
    from neurosim.experiments import list_experiments

    items = list_experiments()
    width = max((len(name) for name, _ in items), default=0)
    for name, description in items:
        print(f"{name:<{width}}  {description}")
    return 0


def cmd_run(args):
    from neurosim.experiments import get_experiment
    from neurosim.run_context import experiment_output

    module = get_experiment(args.name)
    out_dir = args.out or os.path.join("results", args.name)
    _say(args, f"running experiment '{args.name}' on backend '{args.backend}'"
               f"{' (quick)' if args.quick else ''}; output in {out_dir}")
    t0 = time.perf_counter()
    with experiment_output(out_dir, quiet=args.quiet) as output:
        metrics = module.run(out_dir, backend=args.backend, quick=args.quick)
    elapsed = time.perf_counter() - t0
    for key, value in metrics.items():
        if isinstance(value, float):
            value = f"{value:.4g}"
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in value.items())
        _say(args, f"  {key}: {value}")
    if output.network_files:
        _say(args, f"  network file(s): {', '.join(output.network_files)}")
    _say(args, f"done in {elapsed:.1f} s; metrics in {os.path.join(out_dir, 'metrics.json')}")
    return 0


def _version(module_name):
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return "not installed"
    version = getattr(module, "__version__", None)
    if version is None:
        try:
            version = importlib.metadata.version(module_name)
        except importlib.metadata.PackageNotFoundError:
            version = "?"
    return version


def _format_capability(value):
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(v) for v in value)
    return str(value)


def cmd_info(args):
    import neurosim.backends as backends

    if args.markdown:
        print(backends.support_matrix_markdown())
        return 0
    print(f"python    {platform.python_version()} ({sys.executable})")
    for name in ("neurosim", "numpy", "numba"):
        print(f"{name:<9} {_version(name)}")
    print(f"platform  {platform.platform()}, {os.cpu_count()} CPUs")
    print()

    rows = backends.describe_backends()
    print(f"{'backend':<12} {'installed':<9} {'version':<12}")
    print("-" * 35)
    for row in rows:
        installed = "yes" if row["installed"] else "no"
        print(f"{row['name']:<12} {installed:<9} {str(row['version'] or '-'):<12}")
    for row in rows:
        print()
        print(f"{row['name']} capabilities:")
        for key, value in row["capabilities"].items():
            print(f"  {key}: {_format_capability(value)}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="neurosim", description="neurosim: describe a spiking network once, run it anywhere.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    demo = sub.add_parser("demo", help="run a small CUBA network and plot its raster")
    demo.add_argument("--duration", type=float, default=1000.0,
                      help="biological time in ms (default 1000)")
    demo.add_argument("--out", default=".", help="folder for demo_raster.png (default .)")
    demo.add_argument("--quiet", action="store_true", help="print nothing on success")
    demo.set_defaults(func=cmd_demo)

    lst = sub.add_parser("list", help="list the experiments that `neurosim run` knows")
    lst.set_defaults(func=cmd_list)

    run = sub.add_parser("run", help="run an experiment; writes metrics.json and figures")
    run.add_argument("name", help="experiment name (see `neurosim list`)")
    run.add_argument("--backend", default="numba", help="backend (default numba)")
    run.add_argument("--out", default=None, help="output folder (default results/NAME)")
    run.add_argument("--quick", action="store_true", help="shortened run, for tests")
    run.add_argument("--quiet", action="store_true", help="print nothing on success")
    run.set_defaults(func=cmd_run)

    info = sub.add_parser("info", help="versions and the installed backends")
    info.add_argument("--markdown", action="store_true", help="print the support matrix as Markdown")
    info.set_defaults(func=cmd_info)
    return parser


def main(argv=None):
    """Entry point of the ``neurosim`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except NeurosimError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
