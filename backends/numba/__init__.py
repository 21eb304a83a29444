"""The embedded numba backend: one generated, cached kernel per network structure."""
import hashlib
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np

from neurosim.build import DEFAULT_MAX_DELAY_STEPS, build
from neurosim.cache import cache_dir, write_atomic
from neurosim.errors import UnsupportedFeatureError, ValidationError
from neurosim.heavy_imports import load_numba_compiler

from ..spinnaker_numerics import emulate as emulate_spinnaker
from . import fusion, native
from .codegen import generate
from .simulation import NumbaSimulation, choose_threading_layer

NUMERICS = {"float32": np.float32, "float64": np.float64, "spinnaker": np.float64}

PROFILE = {
    "name": "numba",
    "description": "embedded Numba CPU kernel (default)",
    "cell_types": "all standard cells and every equation-defined NeuronModel",
    "sources": "SpikeSourcePoisson, SpikeSourceArray, DCSource, StepCurrentSource",
    "synapse_types": "StaticSynapse, TsodyksMarkramSynapse, STDPMechanism, equation-defined SynapseModel",
    "plasticity": "SpikePairRule (all-to-all, nearest), PfisterSpikeTripletRule, Vogels2011Rule; "
                  "additive / multiplicative; custom on_pre / on_post rules (one delay per plastic projection)",
    "equation_defined_models": True,
    "timestep_ms": "any (1e-4 to 10)",
    "delay_range_steps": f"1 to {DEFAULT_MAX_DELAY_STEPS}",
    "neurons_per_core": "no limit (memory bound)",
    "weight_precision": "float32 (default) or float64; numerics='spinnaker' stores sPyNNaker's 16-bit weights",
    "threads": "1 or more (same spikes for any count)",
}


def _runtime_hash():
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in ("runtime.py", "codegen.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


def _kernel_file(source):
    """Write the source once under its hash (the name every cache of this kernel is keyed by)."""
    key = hashlib.sha256(source.encode()).hexdigest()[:24]
    path = os.path.join(cache_dir("kernels"), f"kernel_{key}.py")
    if not os.path.exists(path):
        write_atomic(path, source)
    return path


def _import_kernel(path):
    """Import the kernel module (numba compiles ``run_chunk`` at its first call)."""
    name = "neurosim_kernel_" + os.path.basename(path)[len("kernel_"):-len(".py")]
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # our own generated file: see codegen.py
        sys.modules[name] = module
    return module.run_chunk


def _kernel(source, serial):
    """The kernel for this source: a serial one saved as machine code is loaded without numba
    (see native.py); otherwise numba compiles it (or loads it from numba's cache) at the first call."""
    path = _kernel_file(source)

    def dispatcher():
        load_numba_compiler()
        return _import_kernel(path)
    if serial and native.enabled():
        return native.SerialKernel(path, dispatcher), path
    return dispatcher(), path


def _check_plastic_delays(built):
    """The kernel runs on_pre from the spike history at one delay per plastic projection."""
    for proj in built.projections:
        d = proj.delay_steps
        if proj.synapse is not None and len(d) and np.any(d != d[0]):
            raise UnsupportedFeatureError(
                "numba", f"per-synapse delays on the plastic Projection '{proj.label}' "
                f"({d.min() * built.dt:g} to {d.max() * built.dt:g} ms)",
                "give the projection one delay, or use the brian2 backend (per-synapse delays on "
                "equation-defined synapses)")


def _max_threads():
    """numba's thread count (``numba.config.NUMBA_NUM_THREADS``).  Before numba is loaded, the
    rule numba applies, so that checking ``threads=2`` for a serial kernel, which never needs
    numba, does not import it (0.4 s): NUMBA_NUM_THREADS if set, else the CPUs this process may
    run on.  A setting that is not a plain positive integer is left to numba to read and refuse."""
    if "numba" not in sys.modules:
        setting = os.environ.get("NUMBA_NUM_THREADS")
        if setting is None:
            try:
                return max(1, len(os.sched_getaffinity(0)))
            except AttributeError:      # no affinity call on this platform
                return max(1, os.cpu_count() or 1)
        if setting.isdigit() and int(setting) >= 1:
            return int(setting)
    import numba
    return numba.config.NUMBA_NUM_THREADS


def _check_threads(threads):
    """1, or up to numba's thread count."""
    is_int = isinstance(threads, int) and not isinstance(threads, bool)
    if is_int and threads == 1:
        return
    limit = _max_threads()
    if not is_int or not 1 <= threads <= limit:
        raise ValidationError("numba backend", "threads", f"must be an integer from 1 to "
                              f"{limit} (got {threads!r})")


def compile(network, threads=1, numerics="float32", quiet=False, record_to=None, fuse=True):
    """Build the network and compile its kernel; returns a NumbaSimulation.

    threads: number of threads for the neuron updates (results do not depend on it).
    numerics: 'float32' (default, fastest), 'float64', or 'spinnaker': what sPyNNaker 7.4.1 computes
    on a SpiNNaker board (its 16-bit weights and IF_curr_exp tick order; see
    ``neurosim.backends.spinnaker_numerics`` for what is and is not emulated).
    record_to: a directory; recorded spikes and traces are appended to files there
    chunk by chunk during the run (memory stays bounded, nothing is lost on interruption).
    fuse: run populations of one cell type and parameter set as one array, and the projections
    between them as one synapse table (shorter compile; the spikes are bit-identical either way,
    see ``neurosim.backends.numba.fusion``).  False keeps every object separate.
    """
    if numerics not in NUMERICS:
        raise ValidationError("numba backend", "numerics", f"must be one of {', '.join(NUMERICS)} "
                              f"(got {numerics!r})")
    _check_threads(threads)
    if not isinstance(fuse, bool):
        raise ValidationError("numba backend", "fuse", f"must be True or False (got {fuse!r})")
    # float32 runs keep weights in float32 from the start; float64 and sPyNNaker's rounding need float64
    built = build(network, weight_dtype=np.float32 if numerics == "float32" else np.float64)
    quantisation = emulate_spinnaker(built, network) if numerics == "spinnaker" else None
    _check_plastic_delays(built)
    layout = fusion.fuse(built, enabled=fuse, threads=threads)
    builder = generate(layout.network, NUMERICS[numerics], threads=threads)
    fusion.share_back(layout, built)
    if builder.uses_prange:           # a serial kernel (any size below PARALLEL_MIN_NEURONS) needs no numba threads
        choose_threading_layer()      # before the kernel loads: compiling it can start the threads
    source = builder.source(_runtime_hash())
    kernel, path = _kernel(source, serial=not builder.uses_prange)
    sim = NumbaSimulation(network, built, layout, kernel, builder, NUMERICS[numerics], threads, quiet, record_to)
    sim.kernel_path = path
    sim.info["numerics"] = numerics
    if quantisation is not None:
        sim.info["weight_quantisation"] = quantisation
    return sim
