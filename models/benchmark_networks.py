"""The standard benchmark networks, described once for the CLI, experiments and benchmarks."""
import neurosim as ns


def cuba_network(n_neurons=4000, p_connect=0.02, seed=1, dt=0.1):
    """Brian2's examples/CUBA.py in PyNN terms: 80 % excitatory, 20 % inhibitory, spikes recorded.

    LIF (cm 0.2 nF, tau_m 20 ms, E_L -49 mV above threshold -50 mV, reset -60 mV,
    refractory 5 ms), current synapses 0.0162 nA (tau 5 ms) / -0.09 nA (tau 10 ms),
    Bernoulli connectivity ``p_connect``, delay 0.1 ms.  Keep ``n_neurons * p_connect``
    near 80 inputs per neuron to keep its dynamics.
    """
    n_exc = int(round(0.8 * n_neurons))
    net = ns.Network(dt=dt, seed=seed)
    cell = ns.IF_curr_exp(cm=0.2, tau_m=20.0, v_rest=-49.0, v_thresh=-50.0, v_reset=-60.0,
                          tau_refrac=5.0, tau_syn_E=5.0, tau_syn_I=10.0, i_offset=0.0)
    exc = net.add(ns.Population(n_exc, cell, label="exc"))
    inh = net.add(ns.Population(n_neurons - n_exc, cell, label="inh"))
    for pop in (exc, inh):
        pop.initialize(v=ns.RandomDistribution("uniform", low=-60.0, high=-50.0))
        pop.record("spikes")
    for pre, w, rtype in ((exc, 0.0162, "excitatory"), (inh, -0.09, "inhibitory")):
        for post in (exc, inh):
            net.add(ns.Projection(pre, post, ns.FixedProbabilityConnector(p_connect),
                                  ns.StaticSynapse(weight=w, delay=0.1), receptor_type=rtype))
    return net
