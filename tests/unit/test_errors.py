"""Bad input gets a NeurosimError naming the object, the parameter, the value and what is allowed,
raised before any kernel runs."""
import numpy as np
import pytest
import quantities as pq

import neurosim as ns


def lif(**kw):
    return ns.IF_curr_exp(**kw)


def two_pops(cell=None, size=10):
    net = ns.Network(dt=0.1, seed=1)
    a = net.add(ns.Population(size, cell or lif(), label="a"))
    b = net.add(ns.Population(size, cell or lif(), label="b"))
    return net, a, b


def raises(match, fn, *args, **kwargs):
    with pytest.raises(ns.ValidationError, match=match) as info:
        fn(*args, **kwargs)
    assert isinstance(info.value, ns.NeurosimError)
    return str(info.value)


def test_negative_population_size():
    raises(r"Population\.size: .*positive integer.*-5|Population\.size: must be between 1 .*\(got -5\)",
           ns.Population, -5, lif())


def test_non_integer_population_size():
    raises(r"Population\.size: must be a positive integer \(got 2\.5\)", ns.Population, 2.5, lif())


def test_unknown_parameter_lists_valid_names():
    msg = raises(r"IF_curr_exp\.tau_mem: unknown parameter", lif, tau_mem=10.0)
    for name in ("tau_m", "cm", "v_thresh", "tau_syn_E"):
        assert name in msg


def test_tau_m_not_positive():
    raises(r"IF_curr_exp\.tau_m: must be > 0 ms \(got -1\.0\)", lif, tau_m=-1.0)
    raises(r"IF_curr_exp\.tau_m: must be > 0 ms \(got 0\.0\)", lif, tau_m=0.0)


def test_nan_parameter():
    raises(r"IF_curr_exp\.cm: must be finite \(got nan\)", lif, cm=float("nan"))


def test_infinite_parameter():
    raises(r"IF_curr_exp\.v_rest: must be finite \(got inf\)", lif, v_rest=float("inf"))


def test_string_parameter():
    raises(r"IF_curr_exp\.cm: must be a number \(got '1'", lif, cm="1")


def test_wrong_unit_quantity():
    raises(r"IF_curr_exp\.tau_m: wrong unit: got mV, expected a quantity in ms", lif, tau_m=10 * pq.mV)


def test_quantity_converted():
    cell = lif(tau_m=0.02 * pq.s, cm=200 * pq.pF)
    assert cell.parameters["tau_m"] == pytest.approx(20.0) and cell.parameters["cm"] == pytest.approx(0.2)


def test_reset_above_threshold():
    raises(r"IF_curr_exp\.v_reset: must be below v_thresh = -50\.0 mV \(got -40\.0\)", lif, v_reset=-40.0)


def test_from_list_index_out_of_range():
    net, a, b = two_pops()
    net.add(ns.Projection(a, b, ns.FromListConnector([(0, 1), (3, 10)]), ns.StaticSynapse(weight=0.1)))
    msg = raises(r"10", ns.compile, net)
    assert "0..9" in msg or "[0, 10)" in msg or "range" in msg


def test_from_list_negative_index():
    raises(r"FromListConnector.*-1", ns.FromListConnector, [(-1, 1)])


def test_delay_below_dt():
    net, a, b = two_pops()
    raises(r"Projection 'a->b'\.delay: must be >= dt = 0\.1 ms \(got 0\.05\)", net.add,
           ns.Projection(a, b, ns.OneToOneConnector(), ns.StaticSynapse(weight=0.1, delay=0.05)))


def test_random_delay_below_dt_checked_at_build():
    net, a, b = two_pops()
    net.add(ns.Projection(a, b, ns.AllToAllConnector(),
                          ns.StaticSynapse(weight=0.1, delay=ns.RandomDistribution("uniform", low=0.0, high=0.05))))
    raises(r"Projection 'a->b'\.delay: must be >= dt = 0\.1 ms", ns.compile, net)


def test_unknown_record_variable():
    pop = ns.Population(3, lif(), label="p")
    msg = raises(r"Population 'p'\.record: unknown variable 'vm'", pop.record, "vm")
    assert "spikes" in msg and "isyn_exc" in msg


def test_unknown_initial_variable():
    pop = ns.Population(3, lif(), label="p")
    raises(r"Population 'p'\.initialize: unknown variable 'u'", pop.initialize, u=1.0)


def test_equation_with_undefined_name():
    msg = raises(r"uses undefined name\(s\) tau", ns.NeuronModel, "dv/dt = -v/tau : mV", threshold="v > 1")
    assert "defined:" in msg


def test_equation_without_unit():
    raises(r"has no unit", ns.NeuronModel, "dv/dt = -v/tau", parameters={"tau": 10.0})


def test_equation_dimension_mismatch():
    raises(r"dv/dt must be in mV/ms but the right-hand side is in 1", ns.NeuronModel,
           "dv/dt = -v/tau : mV", parameters={"tau": 10.0 * pq.mV})


def test_equation_adds_different_units():
    raises(r"adds mV to nA", ns.NeuronModel, "dv/dt = (v + I)/tau : mV\nI : nA", parameters={"tau": 10.0})


def test_equation_refuses_code():
    raises(r"calling '__import__' is not allowed", ns.NeuronModel, "dv/dt = __import__('os') : mV")
    raises(r"attribute access is not allowed", ns.NeuronModel, "dv/dt = __import__('os').getpid() : mV")
    raises(r"attribute access is not allowed", ns.NeuronModel, "dv/dt = v.real : mV")


def test_unknown_integration_method():
    raises(r"NeuronModel\.method: unknown integration method 'rk45'", ns.NeuronModel,
           "dv/dt = -v/(10.0) : mV", method="rk45")


def test_unknown_receptor_type():
    net, a, b = two_pops()
    msg = raises(r"Projection 'a->b'\.receptor_type: unknown receptor 'gaba'", ns.Projection,
                 a, b, ns.OneToOneConnector(), receptor_type="gaba")
    assert "excitatory" in msg and "inhibitory" in msg


def test_negative_conductance_weight():
    net, a, b = two_pops(ns.IF_cond_exp())
    net.add(ns.Projection(a, b, ns.OneToOneConnector(), ns.StaticSynapse(weight=-0.01)))
    raises(r"Projection 'a->b'\.weight: conductance-based IF_cond_exp needs weights >= 0", ns.compile, net)


def test_probability_out_of_range():
    raises(r"FixedProbabilityConnector\.p_connect: .*1\.5", ns.FixedProbabilityConnector, 1.5)


def test_negative_dt():
    raises(r"Network\.dt: must be a number > 0 ms \(got -0\.1\)", ns.Network, dt=-0.1)


def test_negative_poisson_rate():
    raises(r"SpikeSourcePoisson\.rate: must be >= 0 Hz \(got -5\.0\)", ns.SpikeSourcePoisson, rate=-5.0)


def test_spike_time_before_first_step():
    net = ns.Network(dt=0.1)
    net.add(ns.Population(1, ns.SpikeSourceArray(spike_times=[0.0, 5.0]), label="s"))
    raises(r"Population 's'\.spike_times: neuron 0 has a spike at 0\.0 ms", ns.compile, net)


def test_wrong_length_parameter_array():
    pop = ns.Population(4, lif(), label="p")
    pop.set(tau_m=np.array([10.0, 20.0]))
    net = ns.Network()
    net.add(pop)
    raises(r"Population 'p'\.tau_m: array must have shape \(4,\)", ns.compile, net)


def test_population_view_out_of_range():
    pop = ns.Population(4, lif(), label="p")
    raises(r"Population 'p'\.indices: index 7 out of range 0\.\.3", pop.__getitem__, [1, 7])


def test_projection_population_not_in_network():
    net = ns.Network()
    a = net.add(ns.Population(2, lif(), label="a"))
    b = ns.Population(2, lif(), label="b")
    raises(r"not in this network", net.add, ns.Projection(a, b, ns.AllToAllConnector()))


def test_duplicate_label():
    net = ns.Network()
    net.add(ns.Population(2, lif(), label="a"))
    raises(r"Population 'a'\.label: is already used", net.add, ns.Population(2, lif(), label="a"))


def test_unknown_backend():
    net, a, b = two_pops()
    raises(r"compile\.backend: unknown backend 'neuron'; available: numba", ns.compile, net, backend="neuron")


def test_bad_numerics_and_threads():
    net, a, b = two_pops()
    raises(r"numerics: must be one of float32, float64, spinnaker \(got 'float16'\)", ns.compile, net, numerics="float16")
    raises(r"threads: must be an integer from 1", ns.compile, net, threads=0)


def test_bad_run_duration():
    net, a, b = two_pops()
    sim = ns.compile(net)
    raises(r"Simulation\.run: duration must be a number > 0 ms \(got -1\.0\)", sim.run, -1.0)
    raises(r"Simulation\.run: duration must be a number > 0 ms \(got nan\)", sim.run, float("nan"))


def test_unknown_state_variable_get():
    net, a, b = two_pops()
    sim = ns.compile(net)
    raises(r"Population 'a'\.get: unknown variable 'u'", sim.get, "a", "u")
    raises(r"no population 'zz'", sim.get, "zz", "v")


def test_projection_into_spike_source():
    net = ns.Network()
    a = net.add(ns.Population(2, lif(), label="a"))
    s = net.add(ns.Population(2, ns.SpikeSourcePoisson(rate=5.0), label="s"))
    raises(r"is a spike source", ns.Projection, a, s, ns.AllToAllConnector())


def test_poisson_rate_too_high_for_dt():
    net = ns.Network(dt=1.0)
    net.add(ns.Population(2, ns.SpikeSourcePoisson(rate=5000.0), label="s"))
    raises(r"max rate at dt=1\.0 ms is 1000 Hz", ns.compile, net)
