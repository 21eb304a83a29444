"""neurosim: describe a spiking network once, run it on the embedded Numba kernel
or through PyNN on SpiNNaker, NEST and Brian2.

Units are PyNN's: ms, mV, nA, nF, uS, Hz.  Plain floats are taken in these
units; ``quantities`` objects are converted.
"""
from .compiler import compile, restore
from .connectors import (AllToAllConnector, ArrayConnector, DistanceDependentProbabilityConnector,
                         FixedNumberPostConnector, FixedNumberPreConnector, FixedProbabilityConnector,
                         FromListConnector, OneToOneConnector)
from .errors import NeurosimError, SimulationDivergedError, UnsupportedFeatureError, ValidationError
from .network import Network, Population, PopulationView, Projection
from .synapses import (AdditiveWeightDependence, MultiplicativeWeightDependence, PfisterSpikeTripletRule,
                       SpikePairRule, StaticSynapse, STDPMechanism, SynapseModel, TsodyksMarkramSynapse,
                       Vogels2011Rule)
from .neurons import (EIF_cond_exp_isfa_ista, IF_cond_exp, IF_curr_alpha, IF_curr_delta, IF_curr_exp,
                      Izhikevich, NeuronModel)
from .random import RandomDistribution
from .io import load_network, save_network
from .nir_graph import from_nir, to_nir
from .results import Results, load_results
from .sources import DCSource, SpikeSourceArray, SpikeSourcePoisson, StepCurrentSource
from .space import Grid2D, Grid3D, Line, RandomStructure

__version__ = "0.1.0"

__all__ = [
    "compile", "restore", "Network", "Population", "PopulationView", "Projection", "StaticSynapse",
    "SynapseModel", "STDPMechanism", "SpikePairRule", "PfisterSpikeTripletRule", "Vogels2011Rule",
    "AdditiveWeightDependence", "MultiplicativeWeightDependence", "TsodyksMarkramSynapse",
    "NeuronModel", "IF_curr_exp", "IF_cond_exp", "IF_curr_alpha", "IF_curr_delta", "Izhikevich",
    "EIF_cond_exp_isfa_ista", "SpikeSourcePoisson", "SpikeSourceArray", "DCSource", "StepCurrentSource",
    "AllToAllConnector", "OneToOneConnector", "FixedProbabilityConnector", "FixedNumberPreConnector",
    "FixedNumberPostConnector", "FromListConnector", "ArrayConnector",
    "DistanceDependentProbabilityConnector", "RandomDistribution", "Results", "load_results", "load_network", "save_network",
    "Line", "Grid2D", "Grid3D", "RandomStructure", "to_nir", "from_nir",
    "NeurosimError", "ValidationError", "UnsupportedFeatureError", "SimulationDivergedError",
]
