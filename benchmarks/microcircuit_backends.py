"""One Potjans & Diesmann (2014) microcircuit Network on numba, NEST (threads or MPI) and SpiNNaker.

The worked example of docs/performance.md "Past one machine": the model is built once by
models/benchmark_networks.microcircuit_network; only the backend and its options change.

    python benchmarks/microcircuit_backends.py --backend numba --scale 0.1 --threads 2
    python benchmarks/microcircuit_backends.py --backend nest --scale 0.1 --threads 2
    mpirun -np 4 python benchmarks/microcircuit_backends.py --backend nest --scale 1   # NEST built with MPI
    python benchmarks/microcircuit_backends.py --backend spinnaker --scale 0.02 --k-scale 0.1 \\
        --virtual-board --neurons-per-core 128                  # maps only: no board here
    python benchmarks/microcircuit_backends.py --backend spinnaker --machine 192.168.240.253  # a SpiNN-5 board

Prints the population rates over (discard, duration] ms (none on a virtual board, which maps
and returns no spikes), the compile and run wall times, and for SpiNNaker the cores used.
"""
import argparse
import time

import numpy as np


def backend_options(args):
    """What changes between machines: only these options, never the Network."""
    if args.backend == "numba":
        return {"threads": args.threads}
    if args.backend == "nest":
        # under mpirun every rank runs this script; NEST keeps the neurons and incoming
        # synapses of its own rank and PyNN gathers the recorded spikes
        return {"threads": args.threads}
    if args.backend == "spinnaker":
        options = {"virtual_board": args.virtual_board}
        if args.machine:
            options["machine_name"] = args.machine
        if args.neurons_per_core:
            options["neurons_per_core"] = args.neurons_per_core
        return options
    return {}


def main(argv=None):
    import neurosim as ns
    from neurosim.models.benchmark_networks import microcircuit_network

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numba", choices=["numba", "brian2", "nest", "spinnaker"])
    parser.add_argument("--scale", type=float, default=0.1, help="neuron numbers x scale (0 < scale <= 1)")
    parser.add_argument("--k-scale", type=float, default=1.0, help="in-degrees x k_scale (0 < k <= 1)")
    parser.add_argument("--duration", type=float, default=1000.0, help="ms of biological time")
    parser.add_argument("--discard", type=float, default=500.0, help="ms left out of the rates")
    parser.add_argument("--threads", type=int, default=1, help="numba / NEST threads")
    parser.add_argument("--virtual-board", action="store_true", help="spinnaker: map on a virtual SpiNN-5")
    parser.add_argument("--machine", default=None, help="spinnaker: the board's host name or IP")
    parser.add_argument("--neurons-per-core", type=int, default=None, help="spinnaker: at most 256")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    net = microcircuit_network(scale=args.scale, k_scale=args.k_scale, seed=args.seed)
    t0 = time.perf_counter()
    sim = ns.compile(net, backend=args.backend, **backend_options(args))
    t1 = time.perf_counter()
    results = sim.run(args.duration)
    t2 = time.perf_counter()
    window_s = (args.duration - args.discard) / 1000.0
    print(f"PD14 x{args.scale:g} (k x{args.k_scale:g}) on {args.backend} {backend_options(args)}: "
          f"compile {t1 - t0:.1f} s, run {t2 - t1:.1f} s for {args.duration:g} ms")
    for pop in net.populations:
        times, _ = results.spikes(pop.label)
        rate = ("mapped only (virtual board: no spikes)" if args.virtual_board else
                f"{np.sum(times > args.discard) / pop.size / window_s:7.2f} Hz")
        print(f"  {pop.label:5s} {pop.size:6d} neurons  {rate}")
    if "cores" in sim.info:
        print("  SpiNNaker cores:", sim.info["cores"])
    getattr(sim, "close", lambda: None)()


if __name__ == "__main__":
    main()
