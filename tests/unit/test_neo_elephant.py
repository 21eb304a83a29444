"""Results.to_neo() feeds Elephant; Elephant's numbers equal Results' own (independent code).

Also: Neo SpikeTrains back into a SpikeSourceArray through neurosim.io.spike_times_from_neo.
"""
import warnings

import neo
import numpy as np
import pytest
import quantities as pq
from elephant.statistics import cv, isi, mean_firing_rate, time_histogram

import neurosim as ns
from neurosim.errors import ValidationError
from neurosim.io import spike_times_from_neo
from neurosim.models.benchmark_networks import cuba_network

# elephant 1.2 passes copy= to quantities 0.16, which warns on every call
pytestmark = pytest.mark.filterwarnings("ignore:The 'copy' argument in Quantity is deprecated")


@pytest.fixture(scope="module")
def results():
    """A 1000-neuron CUBA network run in two segments (300 ms, then 200 ms)."""
    sim = ns.compile(cuba_network(n_neurons=1000, p_connect=0.08, seed=5), quiet=True)
    sim.run(300.0)
    res = sim.run(200.0)
    assert res.spike_counts("exc").sum() > 500
    return res


@pytest.fixture(scope="module")
def block(results):
    return results.to_neo()


def trains(segment, label):
    return [st for st in segment.spiketrains if st.annotations["source_population"] == label]


@pytest.mark.parametrize("label", ["exc", "inh"])
def test_mean_firing_rate(results, block, label):
    assert len(block.segments) == 2
    total_spikes, total_time = 0, 0.0
    for k, seg in enumerate(block.segments):
        sts = trains(seg, label)
        assert len(sts) == results.size(label)
        rates = [float(mean_firing_rate(st).rescale(pq.Hz).magnitude) for st in sts]
        t_start, t_stop = results.segments[k]
        # a run's spikes are stamped in (t_start, t_stop] (step n -> (n + 1) dt), so compare
        # with this segment's own spikes rather than a half-open time window
        n_spikes = results.spikes(label, segment=k)[0].size
        assert np.mean(rates) == pytest.approx(n_spikes / results.size(label) / ((t_stop - t_start) / 1e3),
                                               rel=1e-12)
        total_spikes += sum(len(st) for st in sts)
        total_time += float((sts[0].t_stop - sts[0].t_start).rescale(pq.s).magnitude)
    overall = total_spikes / results.size(label) / total_time
    assert overall == pytest.approx(results.mean_rate(label), rel=1e-12)
    per_neuron = sum(np.array([len(st) for st in trains(s, label)]) for s in block.segments)
    np.testing.assert_allclose(results.rates(label) * results.duration / 1000.0, per_neuron)


@pytest.mark.parametrize("label", ["exc", "inh"])
def test_cv_of_isi(results, block, label):
    per_neuron = [[] for _ in range(results.size(label))]
    for seg in block.segments:                      # ISIs never span two runs
        for i, st in enumerate(trains(seg, label)):
            if len(st) >= 2:
                per_neuron[i].append(isi(st).rescale(pq.ms).magnitude)
    cvs = []
    for parts in per_neuron:
        intervals = np.concatenate(parts) if parts else np.zeros(0)
        if intervals.size >= 2:
            cvs.append(cv(intervals))
    assert len(cvs) > 10
    assert np.mean(cvs) == pytest.approx(results.cv_isi(label), rel=1e-10)


@pytest.mark.parametrize("label", ["exc", "inh"])
def test_time_histogram(results, block, label):
    for k, seg in enumerate(block.segments):
        sts = trains(seg, label)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # "Binning discarded ... last spike(s)"
            hist = time_histogram(sts, bin_size=5.0 * pq.ms, output="rate")
        bin_times, rate = results.population_rate(label, 5.0, segment=k)
        assert float(hist.t_start.rescale(pq.ms)) == pytest.approx(bin_times[0])
        got = hist.rescale(pq.Hz).magnitude.ravel()
        np.testing.assert_allclose(got[:-1], rate[:-1], rtol=1e-12, atol=1e-9)
        # Elephant's bins are half-open, so it drops a spike stamped exactly at t_stop (with a
        # warning); Results.population_rate keeps it in the last bin
        times = results.spikes(label, segment=k)[0]
        at_stop = np.count_nonzero(times == results.segments[k][1])
        width_s = (results.segments[k][1] - bin_times[-1]) / 1e3
        assert rate[-1] - got[-1] == pytest.approx(at_stop / results.size(label) / width_s)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            counts = time_histogram(sts, bin_size=5.0 * pq.ms, output="counts")
        assert int(counts.magnitude.sum()) == times.size - at_stop


def test_spike_trains_drive_a_spike_source_array(results, block):
    """Recorded spikes replayed through SpikeSourceArray come out at the same times."""
    seg = block.segments[0]
    spike_times = spike_times_from_neo(seg, population="inh")
    assert len(spike_times) == results.size("inh")
    assert all(isinstance(t, np.ndarray) and t.dtype == np.float64 for t in spike_times)
    net = ns.Network(dt=results.dt, seed=1)
    replay = net.add(ns.Population(len(spike_times), ns.SpikeSourceArray(spike_times=spike_times),
                                   label="replay"))
    replay.record("spikes")
    again = ns.compile(net, quiet=True).run(300.0)
    times, ids = again.spikes("replay")
    ref_times, ref_ids = results.spikes("inh", segment=0)
    np.testing.assert_array_equal(ids, ref_ids)
    np.testing.assert_allclose(times, ref_times, atol=1e-9)


def test_spike_times_from_neo_units_and_errors():
    st_s = neo.SpikeTrain([0.001, 0.0025], units="s", t_stop=1.0)
    st_ms = neo.SpikeTrain([3.0, 1.0], units="ms", t_stop=10.0)
    got = spike_times_from_neo([st_s, st_ms, [4.0, 2.0]])
    np.testing.assert_allclose(got[0], [1.0, 2.5])
    np.testing.assert_allclose(got[1], [1.0, 3.0])    # sorted
    np.testing.assert_allclose(got[2], [2.0, 4.0])    # plain numbers are ms
    source = ns.SpikeSourceArray(spike_times=got)
    assert source.per_neuron and len(source.spike_times) == 3
    with pytest.raises(ValidationError):
        spike_times_from_neo([pq.Quantity([1.0, 2.0], "mV")])
    with pytest.raises(ValidationError, match="source_population"):
        spike_times_from_neo([st_ms], population="exc")
