"""Astrocyte-modulated units: neurons and the astrocytes that cover them, added to a Network
in one call and used like a population, with the coupling chosen by name.

``AstrocyteUnits(net, 40, rule="excitability")`` adds 40 :func:`modulated_neuron` units and
one G-ChI :func:`astrocyte` per unit (or per ``units_per_astrocyte`` units) with the links
that carry the coupling.  ``units.connect(source, connector, weight)`` projects onto the
units: Tsodyks-Markram synapses onto the neurons and, with the same connections and the
same release, glutamate onto the astrocyte covering each target unit (Stimberg et al.:
an astrocyte senses the synapses it ensheathes).  Project onto ``units.neurons`` directly
for input the astrocytes should not sense.

Coupling rules (:data:`~neurosim.models.astrocyte.RULES`; a name or a list of names).  All
start from the astrocyte's gliotransmitter release (Ca2+ crossing C_Theta upwards):

* ``'release'`` — gliotransmitter -> presynaptic receptors Gamma_S (decay ~2 min) -> the
  release probability of the synapses made by ``connect``: U_0 = (1 - Gamma_S) U_0* +
  alpha Gamma_S (alpha 0: release-decreasing, 1: release-increasing).
* ``'excitability'`` — Gamma_S lowers the units' threshold: spike when v > V_th -
  dV_th Gamma_S (dV_th in mV, > 0 more excitable).
* ``'sic'`` — each release starts a slow inward current in the units the astrocyte covers:
  amplitude x_A (exp(-t/tau_decay) - exp(-t/tau_rise)) / peak (nA, see
  :data:`~neurosim.models.astrocyte.SIC`).

Equation-defined throughout, so numba and brian2 run it; the PyNN backends refuse it
(``UnsupportedFeatureError``).  ``astrocytes=False`` builds the same units and synapses
without astrocytes (the control).
"""
import numbers

import numpy as np

from neurosim.connectors import Connector
from neurosim.errors import ValidationError
from .astrocyte import (SYNAPSE, _check_params, _non_negative, astrocyte, coupling_rules, gamma_s_link,
                        modulated_neuron, sic_link, tripartite_synapse)


class AstrocyteUnits:
    """``size`` astrocyte-modulated neurons in ``network``, coupled to their astrocytes by ``rule``.

    Parameters
    ----------
    network : neurosim.Network
    size : int
        Number of units (neurons).
    rule : str or list of str
        'release', 'excitability', 'sic' or several of them.
    units_per_astrocyte : int
        Units covered by one astrocyte: unit j belongs to astrocyte j // units_per_astrocyte.
    astrocytes : bool
        False: the same neurons and synapses without astrocytes (control).
    alpha : float
        'release': U_0 under full Gamma_S (0..1; Stimberg et al.'s scripts use 0).
    neuron : dict
        Overrides of :data:`~neurosim.models.astrocyte.COBA` (mV, ms, nF, uS) and, for
        'excitability', ``dV_th`` (mV).
    astrocyte_parameters : dict
        Overrides of :data:`~neurosim.models.astrocyte.PARAMETERS` (published units: µM, 1/s).
    sic : dict
        'sic': overrides of :data:`~neurosim.models.astrocyte.SIC` (amplitude nA, taus ms).
    label : str
        The neurons are ``label``, the astrocytes ``label + '_astrocytes'``.

    ``neurons`` and ``astrocytes`` (None without astrocytes) are the Populations;
    ``astrocyte_of`` maps unit -> astrocyte index.
    """

    def __init__(self, network, size, rule="release", units_per_astrocyte=1, astrocytes=True, alpha=0.0,
                 neuron=None, astrocyte_parameters=None, sic=None, label="units"):
        import neurosim as ns
        obj = f"AstrocyteUnits '{label}'"
        if not isinstance(network, ns.Network):
            raise ValidationError(obj, "network", f"must be a neurosim.Network (got {network!r})")
        self.rules = coupling_rules(obj, rule)
        for name, value in (("size", size), ("units_per_astrocyte", units_per_astrocyte)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValidationError(obj, name, f"must be an integer >= 1 (got {value!r})")
        if not isinstance(astrocytes, bool):
            raise ValidationError(obj, "astrocytes", f"must be True or False (got {astrocytes!r})")
        self.alpha = _non_negative(obj, "alpha", alpha)
        if self.alpha > 1:
            raise ValidationError(obj, "alpha", f"must be in [0, 1] (got {alpha!r})")
        for name, given in (("neuron", neuron), ("astrocyte_parameters", astrocyte_parameters), ("sic", sic)):
            if given is not None and not isinstance(given, dict):
                raise ValidationError(obj, name, f"must be a dict of parameter values (got {given!r})")
        if sic is not None and "sic" not in self.rules:
            raise ValidationError(obj, "sic", f"only applies to rule 'sic' (rules: {', '.join(self.rules)})")
        self.network, self.size, self.label = network, int(size), label
        self.astrocyte_of = np.arange(self.size) // int(units_per_astrocyte)
        self.neurons = network.add(ns.Population(self.size, modulated_neuron(self.rules, **(neuron or {})),
                                                 label=label))
        self.astrocytes = None
        if not astrocytes:
            return
        cell = astrocyte(sic=(sic or True) if "sic" in self.rules else None, **(astrocyte_parameters or {}))
        self.astrocytes = network.add(ns.Population(int(self.astrocyte_of[-1]) + 1, cell,
                                                    label=f"{label}_astrocytes"))
        dt = network.dt
        cover = ns.FromListConnector([(int(a), j) for j, a in enumerate(self.astrocyte_of)])
        if "release" in self.rules or "excitability" in self.rules:
            network.add(ns.Projection(self.astrocytes, self.neurons, cover, gamma_s_link(dt),
                                      receptor_type="gliotransmitter", label=f"{label}: Gamma_S"))
        if "sic" in self.rules:
            network.add(ns.Projection(self.astrocytes, self.neurons, cover, sic_link(dt), receptor_type="sic",
                                      label=f"{label}: SIC"))

    # ---------------------------------------------------------------- population-like
    def record(self, variables, sampling_interval=None, indices=None):
        """Record the neurons ('spikes', 'v', 'Gamma_S', 'I_sic', ...); returns self."""
        self.neurons.record(variables, sampling_interval, indices)
        return self

    def initialize(self, **values):
        """Initial values of the neurons' variables; returns self."""
        self.neurons.initialize(**values)
        return self

    def inject(self, source):
        """Inject a current source into the neurons (``i_inj``, nA); returns self."""
        self.neurons.inject(source)
        return self

    def __getitem__(self, item):
        return self.neurons[item]

    def __len__(self):
        return self.size

    def __repr__(self):
        n_astro = 0 if self.astrocytes is None else self.astrocytes.size
        return f"AstrocyteUnits({self.size}, rule={'+'.join(self.rules)}, {n_astro} astrocytes, label={self.label!r})"

    # ---------------------------------------------------------------- input
    def connect(self, source, connector, weight, receptor_type="excitatory", delay=None, sensed=None,
                glutamate=SYNAPSE["rho_c"] * SYNAPSE["Y_T"], label=None, **synapse):
        """Project ``source`` onto the units through Tsodyks-Markram synapses (``weight`` uS x r_S).

        ``sensed`` (default: True for 'excitatory'): the astrocytes also receive these
        synapses' glutamate, the same connections and release (``glutamate`` µM per unit of
        released resources, divided by the astrocyte's number of synapses in this projection,
        as in Stimberg et al. example 6).  With rule 'release' both copies read Gamma_S.
        ``synapse``: U_0_star, Omega_f, Omega_d (published units).  ``delay`` in ms (default dt).
        Returns the projections made (onto the neurons, then onto the astrocytes if sensed).
        """
        import neurosim as ns
        obj = f"AstrocyteUnits '{self.label}'.connect"
        if not isinstance(source, (ns.Population, ns.PopulationView)):
            raise ValidationError(obj, "source", f"must be a Population or PopulationView (got {source!r})")
        if not isinstance(connector, Connector):
            raise ValidationError(obj, "connector", f"must be a connector such as OneToOneConnector "
                                  f"(got {connector!r})")
        _check_params(obj, ("U_0_star", "Omega_f", "Omega_d"), synapse)
        sensed = receptor_type == "excitatory" if sensed is None else sensed
        if not isinstance(sensed, bool):
            raise ValidationError(obj, "sensed", f"must be True or False (got {sensed!r})")
        if sensed and self.astrocytes is None:
            sensed = False                       # the control: same synapses onto the neurons only
        if sensed and receptor_type != "excitatory":
            raise ValidationError(obj, "sensed", f"only glutamatergic (receptor 'excitatory') input can drive "
                                  f"astrocytes (got receptor {receptor_type!r})")
        glutamate = _non_negative(obj, "glutamate", glutamate)
        net, label = self.network, label or f"{source.label}->{self.label}"
        # draw the connections once, from the stream the projection onto the neurons would use,
        # so that the neurons and the astrocytes see the same synapses
        same = source is self.neurons
        conns = connector.connect(source.size, self.size, net.rng("connectivity", len(net.projections)),
                                  same_population=same, pre_positions=source.positions,
                                  post_positions=self.neurons.positions, label=obj)
        glio = self.astrocytes is not None and "release" in self.rules
        extra = {n: c for n, c in (("weight", conns.weights), ("delay", conns.delays)) if c is not None}
        made = [net.add(ns.Projection(source, self.neurons, _from_lists(conns.pre, conns.post, extra),
                                      tripartite_synapse(weight, gliotransmission=glio, alpha=self.alpha,
                                                         delay=delay, **synapse),
                                      receptor_type=receptor_type, label=label))]
        if sensed and len(conns.pre):
            target = self.astrocyte_of[conns.post]
            per_astrocyte = np.bincount(target, minlength=self.astrocytes.size)
            extra["weight"] = glutamate / per_astrocyte[target]
            made.append(net.add(ns.Projection(
                source, self.astrocytes, _from_lists(conns.pre, target, extra),
                tripartite_synapse(1.0, gliotransmission=glio, alpha=self.alpha, delay=delay, **synapse),
                receptor_type="glutamate", label=f"{label} (glutamate)")))
        return made


def _from_lists(pre, post, columns):
    """FromListConnector of (pre, post, *columns.values()) with the columns' names."""
    from neurosim import FromListConnector
    arrays = [pre, post] + list(columns.values())
    rows = np.column_stack(arrays) if len(pre) else np.zeros((0, len(arrays)))
    return FromListConnector(rows, list(columns))
