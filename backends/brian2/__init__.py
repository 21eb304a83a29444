"""The native Brian2 backend: NeuronGroup / Synapses / monitors from neurosim's equations.

``neurosim.compile(net, backend="brian2", device="runtime")`` (Cython; ``target="numpy"``
needs no compiler) or ``device="cpp_standalone"`` (one C++ project per network
structure, compiled and run in one go).  The network is the same BuiltNetwork
as on numba (every random draw is made by neurosim), the equations are the same
model text translated to Brian2 (``translate.py``), the integration method is the
one neurosim's analysis picks for numba, and the schedule reproduces numba's
step order and spike timing (``objects.py``).
"""
from neurosim.build import DEFAULT_MAX_DELAY_STEPS, build
from neurosim.errors import UnsupportedFeatureError, ValidationError
from neurosim.synapses import StaticSynapse, SynapseModel

from .simulation import Brian2Simulation

DEVICES = ("runtime", "cpp_standalone")
TARGETS = ("cython", "numpy")

PROFILE = {
    "name": "brian2",
    "description": "native Brian2 objects (runtime Cython/numpy, or cpp_standalone)",
    "cell_types": "all standard cells and every equation-defined NeuronModel",
    "sources": "SpikeSourcePoisson, SpikeSourceArray, DCSource, StepCurrentSource",
    "synapse_types": "StaticSynapse, TsodyksMarkramSynapse, STDPMechanism, equation-defined SynapseModel",
    "plasticity": "SpikePairRule (all-to-all, nearest), PfisterSpikeTripletRule, Vogels2011Rule; "
                  "additive / multiplicative; custom on_pre / on_post rules (numba's step order; "
                  "per-synapse delays allowed)",
    "equation_defined_models": True,
    "timestep_ms": "any (one clock per network)",
    "delay_range_steps": f"1 to {DEFAULT_MAX_DELAY_STEPS}",
    "neurons_per_core": "no limit (memory bound)",
    "weight_precision": "float64",
    "threads": "1 (runtime); OpenMP threads with cpp_standalone",
}


def _check_profile(network):
    """Refuse what this backend cannot run before doing any work."""
    for proj in network.projections:
        syn = proj.synapse_type
        if not isinstance(syn, (StaticSynapse, SynapseModel)):
            raise UnsupportedFeatureError(
                "brian2", f"{type(syn).__name__} on Projection '{proj.label}' (synapse types: "
                f"{PROFILE['synapse_types']})",
                "write the synapse as a neurosim SynapseModel, or use the numba backend")


OPTIONS = ("device", "target", "threads", "numerics", "quiet", "build_dir")


def compile(network, device="runtime", target="cython", threads=1, numerics="float64", quiet=False,
            build_dir=None, **unknown):
    """Build the network and create its Brian2 objects; returns a Brian2Simulation.

    device: 'runtime' (default; run() may be called repeatedly) or 'cpp_standalone'
        (one run() per reset(); compiled project cached per network structure).
    target: runtime code generation, 'cython' (default) or 'numpy' (no compiler needed).
    threads: OpenMP threads for cpp_standalone (runtime runs on one thread).
    numerics: 'float64' only (Brian2 computes in double precision); accepted so that
        code written for numba's option runs unchanged.
    build_dir: cpp_standalone project directory (default: the neurosim cache, keyed by structure).
    """
    if unknown:
        raise UnsupportedFeatureError("brian2", f"the option(s) {', '.join(sorted(unknown))}",
                                      f"options of the brian2 backend: {', '.join(OPTIONS)}")
    if device not in DEVICES:
        raise ValidationError("brian2 backend", "device", f"must be one of {', '.join(DEVICES)} (got {device!r})")
    if target not in TARGETS:
        raise ValidationError("brian2 backend", "target", f"must be one of {', '.join(TARGETS)} (got {target!r})")
    if numerics != "float64":
        raise UnsupportedFeatureError("brian2", f"numerics={numerics!r}",
                                      "Brian2 computes in float64; use numerics='float64' or the numba backend")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValidationError("brian2 backend", "threads", f"must be an integer >= 1 (got {threads!r})")
    if threads > 1 and device == "runtime":
        raise UnsupportedFeatureError("brian2", "threads > 1 on the runtime device",
                                      "use device='cpp_standalone' (OpenMP) or the numba backend")
    _check_profile(network)
    try:
        import brian2  # noqa: F401
    except ImportError as exc:   # pragma: no cover - brian2 is a declared dependency of this backend
        raise UnsupportedFeatureError("brian2", "this installation (brian2 is not installed)",
                                      "pip install 'neurosim[brian2]'") from exc
    _quiet_brian2()
    built = build(network)
    return Brian2Simulation(network, built, device=device, target=target, threads=threads, quiet=quiet,
                            build_dir=build_dir)


_QUIET = []


def _quiet_brian2():
    """Keep Brian2's console quiet about what neurosim handles itself: the method choice
    (neurosim picks it) and NaN warnings (run() raises SimulationDivergedError)."""
    if not _QUIET:
        from brian2.utils.logger import BrianLogger
        BrianLogger.suppress_name("method_choice")
        BrianLogger.suppress_name("invalid_values")
        _QUIET.append(True)


__all__ = ["compile", "PROFILE", "Brian2Simulation"]
