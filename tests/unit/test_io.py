"""Network files: save/load round trips (same spikes), and refusal of malformed or hostile files."""
import copy
import json

import numpy as np
import pytest
import quantities as pq

import neurosim as ns
from neurosim import io as nio
from neurosim.errors import ValidationError
from neurosim.models.benchmark_networks import cuba_network
from neurosim.neurons import StandardCellType
from neurosim.connectors import Connector
from neurosim.synapses import SynapseType

ADEX = """
    dv/dt = (-g_L*(v - E_L) + g_L*Delta_T*exp((v - v_T)/Delta_T) - w + I + I_syn)/C : mV (unless refractory)
    dw/dt = (a*(v - E_L) - w)/tau_w : nA
    dI_syn/dt = -I_syn/tau_s : nA
    I : nA
"""


def adex_model(**overrides):
    params = dict(C=281 * pq.pF, g_L=0.030, E_L=-70.6, v_T=-50.4, Delta_T=2.0, tau_w=144.0,
                  a=0.004, b=0.0805, v_reset=-70.6, v_peak=-40.0, tau_s=5.0, t_ref=2.0)
    params.update(overrides)
    return ns.NeuronModel(ADEX, threshold="v > v_peak", reset="v = v_reset; w += b",
                          refractory="t_ref", parameters=params,
                          initial=dict(v=-70.6, w=0.0, I=0.0),
                          receptors={"excitatory": "I_syn += weight", "inhibitory": "I_syn += -2*weight"},
                          current_input="I", method="rk4", units={"tau_s": "ms"}, name="AdEx")


def custom_network(seed=7):
    """Touches every part of the file format."""
    net = ns.Network(dt=0.1, seed=seed, label="custom")
    adex = net.add(ns.Population(40, adex_model(), label="adex", structure=ns.Line(dx=10.0)))
    lif = net.add(ns.Population(30, ns.IF_cond_exp(tau_m=ns.RandomDistribution("uniform", low=15.0, high=25.0),
                                                   v_thresh=-52.0), label="lif"))
    izh = net.add(ns.Population(5, ns.Izhikevich(a=np.linspace(0.02, 0.1, 5)), label="izh"))
    poisson = net.add(ns.Population(20, ns.SpikeSourcePoisson(rate=np.linspace(10.0, 80.0, 20)),
                                    label="poisson"))
    array = net.add(ns.Population(3, ns.SpikeSourceArray([[5.0, 10.0], [7.5], [20.0, 30.0, 40.0]]),
                                  label="array"))
    shared = net.add(ns.Population(4, ns.SpikeSourceArray([12.0, 24.0]), label="shared"))
    adex.initialize(v=ns.RandomDistribution("normal_clipped", mu=-70.0, sigma=3.0, low=-np.inf, high=-55.0))
    adex[:10].initialize(w=0.05)
    adex[5:15].set(b=0.1)
    lif[[1, 3, 5]].set(tau_refrac=3.0)
    adex.record("v", indices=[0, 1, 2])
    adex.record("spikes")
    adex.record("w", sampling_interval=1.0)
    lif.record("spikes")
    lif[:4].record("v")
    izh.record(["spikes", "v"])
    shared.record("spikes")
    adex[20:].inject(ns.DCSource(amplitude=0.9, start=10.0, stop=80.0))
    lif.inject(ns.StepCurrentSource(times=[0.0, 30.0, 60.0], amplitudes=[0.2, 0.5, 0.0]))
    izh.inject(ns.DCSource(amplitude=0.01))
    net.add(ns.Projection(poisson, adex, ns.FixedProbabilityConnector(0.3),
                          ns.StaticSynapse(weight=ns.RandomDistribution("uniform", low=0.1, high=0.3),
                                           delay=1.0)))
    net.add(ns.Projection(poisson[:10], lif[10:], ns.FixedNumberPreConnector(3),
                          ns.StaticSynapse(weight=0.004 * pq.uS, delay=0.5)))
    net.add(ns.Projection(array, adex[:3], ns.OneToOneConnector(), ns.StaticSynapse(weight=0.5)))
    net.add(ns.Projection(adex, adex, ns.DistanceDependentProbabilityConnector(
        "exp(-d/50)", allow_self_connections=False, periodic_boundaries=(400.0, None, None)),
        ns.StaticSynapse(weight=0.05, delay=ns.RandomDistribution("uniform", low=0.5, high=2.0)),
        receptor_type="inhibitory"))
    net.add(ns.Projection(adex, lif, ns.FromListConnector([(0, 1, 0.01, 1.5), (3, 2, 0.02, 0.7)]),
                          ns.StaticSynapse(), receptor_type="excitatory"))
    net.add(ns.Projection(lif[:2], izh, ns.ArrayConnector(np.eye(2, 5, dtype=bool)),
                          ns.StaticSynapse(weight=np.array([5.0, 6.0]))))
    net.add(ns.Projection(shared, lif, ns.FixedNumberPostConnector(2, with_replacement=True),
                          ns.StaticSynapse(weight=0.01)))
    net.add(ns.Projection(lif, lif, ns.AllToAllConnector(allow_self_connections=False),
                          ns.StaticSynapse(weight=0.0005), receptor_type="inhibitory"))
    return net


def run_all(net, duration=100.0):
    res = ns.compile(net, quiet=True).run(duration)
    spikes = {label: res.spikes(label) for label in res.labels}
    traces = {(label, var): res.trace(label, var) for label in res.labels for var in res.variables(label)}
    return spikes, traces


def assert_same_run(a, b):
    spikes_a, traces_a = a
    spikes_b, traces_b = b
    assert spikes_a.keys() == spikes_b.keys()
    for label in spikes_a:
        np.testing.assert_array_equal(spikes_a[label][0], spikes_b[label][0])
        np.testing.assert_array_equal(spikes_a[label][1], spikes_b[label][1])
    assert traces_a.keys() == traces_b.keys()
    for key in traces_a:
        np.testing.assert_array_equal(traces_a[key].indices, traces_b[key].indices)
        np.testing.assert_array_equal(traces_a[key].values, traces_b[key].values)


def test_cuba_round_trip_same_spikes(tmp_path):
    net = cuba_network(n_neurons=1000, p_connect=0.08, seed=3)
    net.population("exc")[:5].record("v")
    path = nio.save_network(net, tmp_path / "cuba.json")
    data = json.loads(open(path).read())
    assert data["format"] == "neurosim-network" and data["version"] == 1
    loaded = nio.load_network(path)
    assert [p.label for p in loaded.populations] == ["exc", "inh"]
    assert loaded.seed == 3 and loaded.dt == 0.1
    assert nio.network_to_dict(loaded) == data        # the file is a fixed point
    first, second = run_all(net, 200.0), run_all(loaded, 200.0)
    assert first[0]["exc"][0].size > 100             # the network is active
    assert_same_run(first, second)


def test_custom_network_round_trip_same_spikes(tmp_path):
    net = custom_network()
    path = nio.save_network(net, tmp_path / "custom.json")
    loaded = nio.load_network(path)
    assert nio.network_to_dict(loaded) == json.loads(open(path).read())
    cell = loaded.population("adex").celltype
    assert type(cell) is ns.NeuronModel and cell.name == "AdEx"
    assert cell.refractory == "t_ref" and cell.method == "rk4" and cell.current_input == "I"
    assert cell.parameters["C"] == pytest.approx(0.281)
    assert cell.param_units["tau_s"].name == "ms"
    first, second = run_all(net), run_all(loaded)
    assert sum(s[0].size for s in first[0].values()) > 20
    assert first[0]["adex"][0].size > 0
    assert_same_run(first, second)


def test_views_and_requests_survive(tmp_path):
    loaded = nio.load_network(nio.save_network(custom_network(), tmp_path / "n.json"))
    adex = loaded.population("adex")
    assert adex._record["v"][0].tolist() == [0, 1, 2]
    assert adex._record["w"] == (None, 1.0)
    assert [idx.tolist() if idx is not None else None for _, _, idx in adex._params] == [list(range(5, 15))]
    proj = loaded.projections[1]
    assert isinstance(proj.pre, ns.PopulationView) and proj.pre.indices.tolist() == list(range(10))
    assert proj.post.indices.tolist() == list(range(10, 30))
    assert proj.synapse_type.weight == pytest.approx(0.004)
    dd = loaded.projections[3].connector
    assert dd.d_expression == "exp(-d/50)" and dd.periodic_boundaries == [400.0, None, None]
    init = adex._initial[0][1]
    assert init.distribution == "normal_clipped" and init.parameters["low"] == -np.inf
    assert isinstance(loaded.population("lif").celltype.parameters["tau_m"], ns.RandomDistribution)


def hostile(tmp_path, mutate):
    data = nio.network_to_dict(custom_network())
    data = copy.deepcopy(data)
    mutate(data)
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(data))
    return path


def adex_cell(data):
    return data["populations"][0]["cell"]


@pytest.mark.parametrize("mutate", [
    lambda d: adex_cell(d).update(equations="dv/dt = __import__('os').system('echo pwned') : mV"),
    lambda d: adex_cell(d).update(equations="dv/dt = -v/tau + ().__class__.__bases__[0] : mV"),
    lambda d: adex_cell(d).update(threshold="open('/etc/passwd')"),
    lambda d: adex_cell(d).update(reset="v = eval('1')"),
    lambda d: adex_cell(d)["receptors"].update(excitatory="I_syn += weight.__class__"),
    lambda d: adex_cell(d).update(type="os.system"),
    lambda d: adex_cell(d).update(type="builtins.eval"),
    lambda d: d["populations"][1]["cell"].update(type="IF_curr_exp_but_unknown"),
    lambda d: d["projections"][0]["connector"].update(type="subprocess.Popen"),
    lambda d: d["projections"][0]["synapse"].update(type="STDPMechanism"),
    lambda d: d["projections"][3]["connector"]["parameters"].update(d_expression="__import__('os')"),
    lambda d: d["populations"][0].update(structure={"type": "Evil", "parameters": {}}),
    lambda d: d["populations"][0]["injections"][0]["source"].update(type="NoisyCurrentSource"),
    lambda d: d["populations"][0]["initial"][0].update(value={"distribution": "os", "parameters": {}}),
    lambda d: d["populations"][0].update(unexpected=1),
    lambda d: d["projections"][0].update(weight_function="lambda: 0"),
    lambda d: d.update(version=2),
    lambda d: d.update(version="1"),
    lambda d: d.update(format="something-else"),
    lambda d: d["populations"][0].update(size=True),
    lambda d: d["populations"][0]["record"][0].update(indices=[True, False]),
    lambda d: d["populations"][0]["record"][0].update(indices=[0.5]),
    lambda d: d["projections"][0]["pre"].update(population="nope"),
    lambda d: d["populations"][0]["cell"]["parameters"].update(C="0.281"),
    lambda d: d["populations"][1]["cell"]["parameters"].update(tau_m=-1.0),
    lambda d: d["populations"][1]["cell"]["parameters"].update(bogus=1.0),
])
def test_hostile_or_malformed_files_refused(tmp_path, mutate):
    with pytest.raises(ValidationError):
        nio.load_network(hostile(tmp_path, mutate))


def test_not_json_and_non_finite_refused(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(ValidationError, match="not valid JSON"):
        nio.load_network(path)
    good = nio.network_to_dict(cuba_network(n_neurons=100, p_connect=0.5))
    text = json.dumps(good).replace('"high": -50.0', '"high": NaN')
    path.write_text(text)
    with pytest.raises(ValidationError, match="NaN"):
        nio.load_network(path)
    path.write_text("[1, 2, 3]")
    with pytest.raises(ValidationError, match="not a neurosim network file"):
        nio.load_network(path)


def test_unsavable_objects_refused(tmp_path):
    class MyModel(ns.NeuronModel):
        pass

    net = ns.Network(dt=0.1, seed=1)
    net.add(ns.Population(2, MyModel("dv/dt = -v/(10.0) : mV", threshold="v > 1"), label="m"))
    with pytest.raises(ValidationError, match="cannot save cell type MyModel"):
        nio.save_network(net, tmp_path / "x.json")

    class MyConnector(ns.AllToAllConnector):
        pass

    net = ns.Network(dt=0.1, seed=1)
    a = net.add(ns.Population(2, ns.IF_curr_exp(), label="a"))
    net.add(ns.Projection(a, a, MyConnector()))
    with pytest.raises(ValidationError, match="cannot save connector MyConnector"):
        nio.save_network(net, tmp_path / "x.json")


def test_whitelists_cover_the_public_classes():
    for name in ns.__all__:
        obj = getattr(ns, name)
        if isinstance(obj, type) and issubclass(obj, StandardCellType):
            assert nio.STANDARD_CELLS.get(name) is obj, f"{name} missing from neurosim.io.STANDARD_CELLS"
        if isinstance(obj, type) and issubclass(obj, Connector):
            assert nio.CONNECTORS.get(name) is obj, f"{name} missing from neurosim.io.CONNECTORS"
        if isinstance(obj, type) and issubclass(obj, SynapseType):
            assert nio.SYNAPSES.get(name) is obj, f"{name} missing from neurosim.io.SYNAPSES"
        if name.endswith("Rule"):
            assert nio.TIMING_RULES.get(name) is obj, f"{name} missing from neurosim.io.TIMING_RULES"
        if name.endswith("WeightDependence"):
            assert nio.WEIGHT_DEPENDENCES.get(name) is obj, f"{name} missing from neurosim.io.WEIGHT_DEPENDENCES"


def test_values_encode_and_decode():
    rd = ns.RandomDistribution("normal_clipped", mu=0.0, sigma=1.0, low=-np.inf, high=2.0)
    enc = nio.encode_value(rd)
    assert enc == {"distribution": "normal_clipped",
                   "parameters": {"mu": 0.0, "sigma": 1.0, "low": "-inf", "high": 2.0}}
    assert nio.decode_value(json.loads(json.dumps(enc))) == rd
    np.testing.assert_array_equal(nio.decode_value(nio.encode_value(np.array([1.5, 2.0]))), [1.5, 2.0])
    assert nio.decode_value(nio.encode_value(3)) == 3.0
    with pytest.raises(ValidationError):
        nio.decode_value({"distribution": "uniform", "parameters": {"low": 0, "high": 1}, "x": 1})
    with pytest.raises(ValidationError):
        nio.decode_value(["a"])


def plastic_network(seed=11):
    net = ns.Network(dt=0.1, seed=seed, label="plastic")
    inputs = net.add(ns.Population(50, ns.SpikeSourcePoisson(rate=20.0), label="inputs"))
    cells = net.add(ns.Population(10, ns.IF_curr_exp(tau_m=10.0, v_thresh=-55.0), label="cells"))
    cells.record("spikes")
    stdp = ns.STDPMechanism(ns.SpikePairRule(tau_plus=15.0, tau_minus=25.0, A_plus=0.02, A_minus=0.021,
                                             pairing="nearest"),
                            ns.MultiplicativeWeightDependence(w_min=0.0, w_max=1.0),
                            weight=ns.RandomDistribution("uniform", low=0.2, high=0.6), delay=1.0,
                            dendritic_delay_fraction=0.5)
    net.add(ns.Projection(inputs, cells, ns.FixedProbabilityConnector(0.5), stdp)).record("weight", 10.0)
    net.add(ns.Projection(inputs[:20], cells, ns.AllToAllConnector(),
                          ns.TsodyksMarkramSynapse(U=0.4, tau_rec=200.0, tau_facil=50.0, weight=0.1,
                                                   delay=0.5)))
    custom = ns.SynapseModel(equations="dtrace/dt = -trace/tau : 1 (event-driven)",
                             on_pre="trace += 1; psp = w*(1 + 0.1*trace)", on_post="w = w*(1 - eta)",
                             parameters={"tau": 30.0, "eta": 0.01}, initial={"trace": 0.0},
                             weight=0.2, delay=1.0, name="Facilitating")
    net.add(ns.Projection(inputs[20:], cells[:5], ns.FixedNumberPreConnector(5), custom,
                          receptor_type="inhibitory")).record("weight")
    return net


def test_plastic_network_round_trip_same_spikes_and_weights(tmp_path):
    net = plastic_network()
    path = nio.save_network(net, tmp_path / "plastic.json")
    loaded = nio.load_network(path)
    assert nio.network_to_dict(loaded) == json.loads(open(path).read())
    stdp = loaded.projections[0].synapse_type
    assert type(stdp) is ns.STDPMechanism and stdp.timing_dependence.pairing == "nearest"
    assert type(stdp.weight_dependence) is ns.MultiplicativeWeightDependence
    assert loaded.projections[0]._record_weights == 10.0 and loaded.projections[2]._record_weights == 0.0
    assert loaded.projections[2].synapse_type.name == "Facilitating"
    runs = []
    for n in (net, loaded):
        res = ns.compile(n, quiet=True).run(200.0)
        runs.append((res.spikes("cells"), res.weights(n.projections[0].label),
                     res.weights(n.projections[2].label)))
    (s1, w1, c1), (s2, w2, c2) = runs
    assert s1[0].size > 10
    np.testing.assert_array_equal(s1[0], s2[0])
    np.testing.assert_array_equal(s1[1], s2[1])
    assert not np.allclose(w1[1][0], w1[1][-1])      # the weights did change
    for a, b in ((w1, w2), (c1, c2)):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("mutate", [
    lambda d: d["projections"][2]["synapse"].update(on_pre="w = __import__('os')"),
    lambda d: d["projections"][2]["synapse"].update(equations="dtrace/dt = ().__class__ : 1"),
    lambda d: d["projections"][0]["synapse"]["timing_dependence"].update(type="EvilRule"),
    lambda d: d["projections"][0]["synapse"]["weight_dependence"].update(type="os.system"),
    lambda d: d["projections"][0]["synapse"]["timing_dependence"]["parameters"].update(pairing="all; rm"),
    lambda d: d["projections"][1]["synapse"]["parameters"].update(U=1.5),
    lambda d: d["projections"][1]["synapse"].update(on_pre="w += 1"),
    lambda d: d["projections"][0].update(record_weights=-1.0),
])
def test_hostile_synapses_refused(tmp_path, mutate):
    data = nio.network_to_dict(plastic_network())
    mutate(data)
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValidationError):
        nio.load_network(path)


def shipped_builders():
    """Every network builder the project ships: models/ and experiments' build_network()."""
    from neurosim.experiments import EXPERIMENTS, get_experiment
    builders = [("cuba_network", lambda: cuba_network(n_neurons=1000, p_connect=0.08, seed=2))]
    for name in sorted(EXPERIMENTS):
        module = get_experiment(name)
        if hasattr(module, "build_network"):
            builders.append((name, module.build_network))
    return builders


@pytest.mark.parametrize("name,builder", shipped_builders(), ids=[n for n, _ in shipped_builders()])
def test_every_shipped_builder_round_trips(tmp_path, name, builder):
    built = builder()
    net = built if isinstance(built, ns.Network) else next(x for x in built if isinstance(x, ns.Network))
    loaded = nio.load_network(nio.save_network(net, tmp_path / f"{name}.json"))
    assert nio.network_to_dict(loaded) == nio.network_to_dict(net)
    first, second = run_all(net, 100.0), run_all(loaded, 100.0)
    assert_same_run(first, second)
