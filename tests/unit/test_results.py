"""Results: filled by hand through the backend-facing methods, answers known by construction."""
import time

import numpy as np
import pytest
import quantities as pq

from neurosim.errors import NeurosimError, ValidationError
from neurosim.results import Results, Trace, load_results

POPS = {
    "exc": {"size": 50, "cell_type": "IF_cond_exp",
            "units": {"v": "mV", "gsyn_exc": "uS", "dvdt": "mV/ms", "odd": "furlong"}},
    "inh": {"size": 10, "cell_type": "IF_curr_exp", "units": {"v": "mV", "i": "nA"}},
}


def regular_results(t_stop=1000.0, period=50.0, chunk=100.0):
    """exc neuron i fires at i*1 ms + k*period (20 Hz); inh stays silent.

    Spikes arrive in chunks of ``chunk`` ms, as a backend would send them.
    """
    res = Results(0.1, POPS)
    res._start_segment(0.0)
    size = POPS["exc"]["size"]
    all_t = np.concatenate([np.arange(float(i), t_stop, period) for i in range(size)])
    all_i = np.concatenate([np.full(np.arange(float(i), t_stop, period).size, i)
                            for i in range(size)])
    for t0 in np.arange(0.0, t_stop, chunk):
        keep = (all_t >= t0) & (all_t < t0 + chunk)
        res._add_spikes("exc", all_t[keep][::-1], all_i[keep][::-1])  # unsorted on purpose
    res._end_segment(t_stop)
    return res


def test_regular_trains_rates_and_cv():
    res = regular_results()
    assert res.labels == ["exc", "inh"]
    assert res.dt == 0.1
    assert res.segments == [(0.0, 1000.0)]
    assert res.duration == 1000.0
    np.testing.assert_array_equal(res.spike_counts("exc"), np.full(50, 20))
    np.testing.assert_array_equal(res.spike_counts("inh"), np.zeros(10))
    np.testing.assert_allclose(res.rates("exc"), 20.0)
    assert res.mean_rate("exc") == pytest.approx(20.0)
    assert res.mean_rate("inh") == 0.0
    assert res.mean_rate("exc", t_start=0.0, t_stop=500.0) == pytest.approx(20.0)
    assert res.mean_rate("exc", t_start=0.0, t_stop=25.0) == pytest.approx(25 / 50 / 0.025)
    assert res.cv_isi("exc") == pytest.approx(0.0, abs=1e-9)
    assert np.isnan(res.cv_isi("inh"))


def test_spikes_sorted_by_time_then_id():
    res = Results(1.0, {"p": {"size": 5, "cell_type": "X", "units": {}}})
    res._start_segment(0.0)
    res._add_spikes("p", [3.0, 1.0, 1.0], [4, 2, 0])
    res._add_spikes("p", np.array([1.0, 2.0]), np.array([1, 3]))
    res._end_segment(10.0)
    times, ids = res.spikes("p")
    np.testing.assert_array_equal(times, [1.0, 1.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(ids, [0, 1, 2, 3, 4])
    assert times.dtype == np.float64 and ids.dtype == np.int64
    # adding after a read invalidates the cache
    res2 = Results(1.0, {"p": {"size": 5, "cell_type": "X", "units": {}}})
    res2._start_segment(0.0)
    res2._add_spikes("p", [5.0], [1])
    res2.spikes("p")
    res2._add_spikes("p", [0.5], [2])
    np.testing.assert_array_equal(res2.spikes("p")[0], [0.5, 5.0])


def test_poisson_cv_near_one():
    rng = np.random.default_rng(12345)
    size, rate_hz, t_stop = 200, 50.0, 10000.0
    res = Results(0.1, {"p": {"size": size, "cell_type": "SpikeSourcePoisson", "units": {}}})
    res._start_segment(0.0)
    for i in range(size):
        t = np.cumsum(rng.exponential(1000.0 / rate_hz, size=800))
        t = t[t < t_stop]
        res._add_spikes("p", t, np.full(t.size, i))
    res._end_segment(t_stop)
    # ~500 ISIs per neuron: per-neuron CV sd ~0.045, mean over 200 neurons sd ~0.003
    assert abs(res.cv_isi("p") - 1.0) < 0.03
    # rate: 200 * 500 spikes, relative sd ~0.3 %
    assert res.mean_rate("p") == pytest.approx(rate_hz, rel=0.03)


def test_cv_needs_three_spikes():
    res = Results(1.0, {"p": {"size": 3, "cell_type": "X", "units": {}}})
    res._start_segment(0.0)
    res._add_spikes("p", [1.0, 2.0, 5.0, 7.0], [0, 0, 1, 1])  # two spikes each
    res._end_segment(10.0)
    assert np.isnan(res.cv_isi("p"))
    res._start_segment(10.0)
    res._add_spikes("p", [11.0, 12.0, 14.0], [2, 2, 2])  # ISIs 1, 2: CV = 0.5 / 1.5
    res._end_segment(20.0)
    assert res.cv_isi("p") == pytest.approx(1.0 / 3.0)


def test_population_rate_constant():
    res = regular_results()
    bins, rate = res.population_rate("exc", 10.0)
    np.testing.assert_allclose(bins, np.arange(0.0, 1000.0, 10.0))
    np.testing.assert_allclose(rate, 20.0)
    # a last, shorter bin is normalised by its own width
    bins, rate = res.population_rate("exc", 300.0)
    np.testing.assert_allclose(bins, [0.0, 300.0, 600.0, 900.0])
    np.testing.assert_allclose(rate, 20.0)
    with pytest.raises(ValidationError):
        res.population_rate("exc", 0.0)


def test_segments():
    res = Results(0.1, POPS)
    res._start_segment(0.0)
    res._add_spikes("exc", [10.0, 20.0], [1, 2])
    res._end_segment(500.0)
    res._start_segment(500.0)
    res._add_spikes("exc", [600.0], [3])
    res._add_spikes("inh", [700.0], [9])
    res._end_segment(1000.0)
    assert res.segments == [(0.0, 500.0), (500.0, 1000.0)]
    assert res.duration == 1000.0
    np.testing.assert_array_equal(res.spikes("exc", segment=0)[1], [1, 2])
    np.testing.assert_array_equal(res.spikes("exc", segment=1)[0], [600.0])
    np.testing.assert_array_equal(res.spikes("exc", segment=-1)[0], [600.0])
    np.testing.assert_array_equal(res.spikes("exc")[0], [10.0, 20.0, 600.0])
    assert res.mean_rate("exc", 500.0, 1000.0) == pytest.approx(1 / 50 / 0.5)
    with pytest.raises(ValidationError, match="segment"):
        res.spikes("exc", segment=2)


def test_backend_misuse():
    res = Results(0.1, POPS)
    with pytest.raises(NeurosimError):
        res._add_spikes("exc", [1.0], [0])
    res._start_segment(0.0)
    with pytest.raises(NeurosimError):
        res._start_segment(1.0)
    with pytest.raises(ValidationError, match="out of range"):
        res._add_spikes("exc", [1.0], [50])
    with pytest.raises(ValidationError, match="length"):
        res._add_spikes("exc", [1.0, 2.0], [0])
    with pytest.raises(ValidationError, match="exc, inh"):
        res._add_spikes("nope", [1.0], [0])
    with pytest.raises(ValidationError):
        res._add_trace("exc", "v", [0.0, 0.1], np.zeros((2, 3)), [0, 1])
    with pytest.raises(ValidationError):
        res._end_segment(-1.0)
    with pytest.raises(ValidationError):
        Results(0.0, POPS)


def test_unknown_label_lists_valid_ones():
    res = regular_results()
    with pytest.raises(ValidationError, match="valid labels: exc, inh"):
        res.spikes("bogus")
    with pytest.raises(ValidationError, match="bogus"):
        res.mean_rate("bogus")


def add_v_trace(res, label="exc", indices=(0, 3, 7), t0=0.0, n=100, dt=0.1, chunks=4,
                dtype=np.float64):
    """v[t, j] = 100 * indices[j] + sample number; added in ``chunks`` pieces."""
    indices = np.asarray(indices)
    times = t0 + dt * np.arange(n)
    values = (np.arange(n)[:, None] + 100.0 * indices[None, :]).astype(dtype)
    for part in np.array_split(np.arange(n), chunks):
        res._add_trace(label, "v", times[part], values[part], indices)
    return times, values


def test_trace_chunks_and_segments():
    res = Results(0.1, POPS)
    res._start_segment(0.0)
    times, values = add_v_trace(res)
    res._end_segment(10.0)
    tr = res.trace("exc", "v")
    assert isinstance(tr, Trace)
    np.testing.assert_array_equal(tr.times, times)
    np.testing.assert_array_equal(tr.values, values)
    np.testing.assert_array_equal(tr.indices, [0, 3, 7])
    assert tr.unit == "mV"
    t, v, idx, unit = tr  # unpacks like a tuple
    assert v.shape == (100, 3) and unit == "mV"
    res._start_segment(10.0)
    times2, values2 = add_v_trace(res, t0=10.0)
    res._end_segment(20.0)
    tr = res.trace("exc", "v")
    assert tr.values.shape == (200, 3)
    np.testing.assert_array_equal(tr.times, np.concatenate([times, times2]))
    np.testing.assert_array_equal(res.trace("exc", "v", segment=1).times, times2)
    assert res.variables("exc") == ["v"]
    with pytest.raises(ValidationError, match="recorded: v"):
        res.trace("exc", "gsyn_exc")
    with pytest.raises(ValidationError, match="indices"):
        res._start_segment(20.0)
        res._add_trace("exc", "v", [20.0], [[1.0, 2.0, 3.0]], [0, 3, 7])
        res._add_trace("exc", "v", [20.1], [[1.0, 2.0]], [0, 3])


def test_repr_summarises():
    text = repr(regular_results())
    assert "exc" in text and "inh" in text and "1000 spikes" in text and "0 spikes" in text


# ---------------------------------------------------------------- Neo

def two_segment_results():
    res = Results(0.1, POPS)
    res._start_segment(0.0)
    res._add_spikes("exc", [5.0, 1.0, 3.0], [2, 2, 0])
    res._add_spikes("inh", [4.0], [9])
    add_v_trace(res)
    res._add_trace("inh", "i", [0.0, 0.5, 1.0], [[0.1], [0.2], [0.3]], [4])
    res._end_segment(10.0)
    res._start_segment(10.0)
    res._add_spikes("exc", [12.0], [49])
    add_v_trace(res, t0=10.0)
    res._end_segment(20.0)
    return res


def test_to_neo_structure():
    import neo

    res = two_segment_results()
    block = res.to_neo()
    assert isinstance(block, neo.Block)
    assert block.annotations["simulator"] == "neurosim"
    assert block.annotations["populations"] == ["exc", "inh"]
    assert len(block.segments) == 2
    seg = block.segments[0]
    assert len(seg.spiketrains) == 60
    exc = [st for st in seg.spiketrains if st.annotations["source_population"] == "exc"]
    inh = [st for st in seg.spiketrains if st.annotations["source_population"] == "inh"]
    assert len(exc) == 50 and len(inh) == 10
    st = exc[2]
    assert st.annotations["source_index"] == 2
    assert st.annotations["source_id"] == 2
    assert st.annotations["channel_id"] == 2
    np.testing.assert_array_equal(st.rescale(pq.ms).magnitude, [1.0, 5.0])
    assert st.units == pq.ms
    assert float(st.t_start.rescale(pq.ms)) == 0.0
    assert float(st.t_stop.rescale(pq.ms)) == 10.0
    assert inh[9].annotations["source_id"] == 59  # offset by the size of exc
    assert inh[9].annotations["channel_id"] == 59  # network-wide id, as PyNN
    assert inh[9].annotations["source_index"] == 9
    np.testing.assert_array_equal(inh[9].magnitude, [4.0])
    seg1 = block.segments[1]
    assert float(seg1.spiketrains[0].t_start) == 10.0
    np.testing.assert_array_equal(seg1.spiketrains[49].magnitude, [12.0])
    assert sum(st.size for st in seg1.spiketrains) == 1


def test_to_neo_signals():
    res = two_segment_results()
    seg = res.to_neo().segments[0]
    sigs = {(s.annotations["source_population"], s.name): s for s in seg.analogsignals}
    assert set(sigs) == {("exc", "v"), ("inh", "i")}
    v = sigs[("exc", "v")]
    assert v.units == pq.mV
    assert v.shape == (100, 3)
    assert float(v.sampling_period.rescale(pq.ms)) == pytest.approx(0.1)
    assert float(v.t_start.rescale(pq.ms)) == 0.0
    np.testing.assert_array_equal(v.array_annotations["channel_index"], [0, 3, 7])
    np.testing.assert_array_equal(v.annotations["source_ids"], [0, 3, 7])
    np.testing.assert_array_equal(v.magnitude[:, 1], 300.0 + np.arange(100))
    i = sigs[("inh", "i")]
    assert i.units == pq.nA
    assert float(i.sampling_period.rescale(pq.ms)) == pytest.approx(0.5)
    np.testing.assert_array_equal(i.annotations["source_ids"], [54])
    assert float(res.to_neo().segments[1].analogsignals[0].t_start) == pytest.approx(10.0)


def test_unit_mapping():
    from neurosim.neo_export import to_quantity_unit as _to_quantity_unit

    assert _to_quantity_unit("mV", pq) == pq.mV
    assert _to_quantity_unit("uS", pq) == pq.uS
    assert _to_quantity_unit("ms", pq) == pq.ms
    assert _to_quantity_unit("1", pq) == pq.dimensionless
    assert _to_quantity_unit("furlong", pq) == pq.dimensionless
    q = (1.0 * _to_quantity_unit("mV/ms", pq)).rescale(pq.V / pq.s)
    assert float(q.magnitude) == pytest.approx(1.0)
    q = (1.0 * _to_quantity_unit("ms^-1", pq)).rescale(pq.Hz)
    assert float(q.magnitude) == pytest.approx(1000.0)


def test_to_neo_is_fast_for_4000_neurons():
    rng = np.random.default_rng(1)
    size, n = 4000, 25000
    res = Results(0.1, {"big": {"size": size, "cell_type": "IF_curr_exp", "units": {}}})
    res._start_segment(0.0)
    times = rng.uniform(0.0, 1000.0, n)
    ids = rng.integers(0, size, n)
    for part in np.array_split(np.arange(n), 50):
        res._add_spikes("big", times[part], ids[part])
    res._end_segment(1000.0)
    start = time.perf_counter()
    block = res.to_neo()
    elapsed = time.perf_counter() - start
    trains = block.segments[0].spiketrains
    assert len(trains) == size
    assert sum(st.size for st in trains) == n
    k = int(ids[0])
    np.testing.assert_array_equal(trains[k].magnitude, np.sort(times[ids == k]))
    assert elapsed < 10.0


# ---------------------------------------------------------------- files

def test_save_load_round_trip(tmp_path):
    res = two_segment_results()
    res._start_segment(20.0)
    add_v_trace(res, t0=20.0, dtype=np.float32)
    res._end_segment(30.0)
    path = res.save(tmp_path / "run")
    assert path.endswith(".npz")
    back = load_results(path)
    assert back.labels == res.labels
    assert back.dt == res.dt
    assert back.segments == res.segments
    assert back.duration == res.duration
    assert repr(back) == repr(res)
    for label in res.labels:
        assert back.size(label) == res.size(label)
        assert back.cell_type(label) == res.cell_type(label)
        assert back.variables(label) == res.variables(label)
        for k in range(len(res.segments)):
            for a, b in zip(res.spikes(label, k), back.spikes(label, k)):
                np.testing.assert_array_equal(a, b)
                assert a.dtype == b.dtype
    for k in range(3):
        a, b = res.trace("exc", "v", k), back.trace("exc", "v", k)
        for x, y in zip(a[:3], b[:3]):
            np.testing.assert_array_equal(x, y)
            assert x.dtype == y.dtype
        assert a.unit == b.unit
    assert back.trace("exc", "v", 2).values.dtype == np.float32
    assert back.trace("inh", "i").unit == "nA"
    assert Results.load(path).segments == res.segments
    # the loaded object is a full Results: it converts to Neo too
    assert len(back.to_neo().segments) == 3


def test_save_load_empty(tmp_path):
    res = Results(0.25, POPS)
    back = Results.load(res.save(tmp_path / "empty.npz"))
    assert back.segments == [] and back.dt == 0.25 and back.labels == ["exc", "inh"]


def test_load_rejects_other_files(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(ValidationError, match="not a neurosim results file"):
        Results.load(text)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.arange(3))
    with pytest.raises(ValidationError):
        Results.load(other)
    npy = tmp_path / "array.npy"
    np.save(npy, np.arange(3))
    with pytest.raises(ValidationError):
        Results.load(npy)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, __neurosim_results__=np.frombuffer(b'{"format": "x"}', np.uint8))
    with pytest.raises(ValidationError):
        Results.load(wrong)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, __neurosim_results__=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValidationError):
        Results.load(pickled)
    with pytest.raises(FileNotFoundError):
        Results.load(tmp_path / "missing.npz")
