"""Plotting helpers: return Axes with the right labels and write PNGs (Agg backend)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from neurosim import plotting  # noqa: E402
from neurosim.errors import ValidationError  # noqa: E402
from neurosim.results import Results  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def results():
    res = Results(0.1, {
        "exc": {"size": 20, "cell_type": "IF_cond_exp", "units": {"v": "mV"}},
        "inh": {"size": 5, "cell_type": "IF_cond_exp", "units": {"v": "mV"}},
    })
    res._start_segment(0.0)
    for i in range(20):
        t = np.arange(float(i), 200.0, 25.0)
        res._add_spikes("exc", t, np.full(t.size, i))
    res._add_spikes("inh", [10.0, 50.0], [0, 4])
    times = 0.1 * np.arange(2000)
    res._add_trace("exc", "v", times, -65.0 + np.sin(times[:, None] / 10.0 + np.arange(12)),
                   np.arange(12))
    res._end_segment(200.0)
    return res


def test_raster_new_figure(results, tmp_path):
    axes = plotting.raster(results)
    assert isinstance(axes, list) and len(axes) == 2
    assert [a.get_title() for a in axes] == ["exc", "inh"]
    for a in axes:
        assert isinstance(a, matplotlib.axes.Axes)
        assert a.get_xlabel() == "time (ms)"
        assert a.get_ylabel() == "neuron index"
    x, y = axes[0].lines[0].get_data()
    assert len(x) == results.spike_counts("exc").sum()
    out = tmp_path / "raster.png"
    axes[0].figure.savefig(out)
    assert out.stat().st_size > 1000


def test_raster_into_given_axes(results):
    fig, (a, b) = plt.subplots(2, 1)
    got = plotting.raster(results, ax=[a, b], t_range=(0.0, 100.0))
    assert got == [a, b]
    assert a.get_xlim() == (0.0, 100.0)
    assert max(a.lines[0].get_xdata()) <= 100.0
    fig2, single = plt.subplots()
    got = plotting.raster(results, populations="inh", ax=single)
    assert got is single
    assert single.get_ylabel() == "neuron index"
    assert single.get_title() == "inh"
    fig3, both = plt.subplots()
    plotting.raster(results, ax=both)
    # the second population is stacked above the first
    assert min(both.lines[1].get_ydata()) >= 20
    with pytest.raises(ValidationError):
        plotting.raster(results, populations=["nope"])


def test_population_rate_plot(results, tmp_path):
    ax = plotting.population_rate(results, "exc", bin_ms=25.0)
    assert ax.get_xlabel() == "time (ms)"
    assert ax.get_ylabel() == "rate (Hz)"
    assert ax.get_title() == "exc"
    fig, given = plt.subplots()
    assert plotting.population_rate(results, "exc", ax=given) is given
    out = tmp_path / "rate.png"
    ax.figure.savefig(out)
    assert out.stat().st_size > 1000


def test_traces_plot(results, tmp_path):
    ax = plotting.traces(results, "exc", "v", max_traces=4)
    assert len(ax.lines) == 4
    assert ax.get_ylabel() == "v (mV)"
    assert ax.get_xlabel() == "time (ms)"
    fig, given = plt.subplots()
    assert plotting.traces(results, "exc", "v", ax=given) is given
    assert len(given.lines) == 10
    out = tmp_path / "traces.png"
    fig.savefig(out)
    assert out.stat().st_size > 1000
    with pytest.raises(ValidationError):
        plotting.traces(results, "inh", "v")


def test_no_global_figure_numbers(results):
    before = plt.get_fignums()
    plotting.raster(results)
    plotting.traces(results, "exc", "v")
    new = [n for n in plt.get_fignums() if n not in before]
    assert len(new) == 2  # one new figure per call, never a reused number


@pytest.fixture
def big_results():
    """About 10^6 spikes: 10000 neurons at ~100 Hz for 1 s."""
    rng = np.random.default_rng(0)
    res = Results(0.1, {"exc": {"size": 8000, "cell_type": "IF_curr_exp"},
                        "inh": {"size": 2000, "cell_type": "IF_curr_exp"}})
    res._start_segment(0.0)
    for label, size in (("exc", 8000), ("inh", 2000)):
        n = 100 * size
        times = np.round(rng.uniform(0.0, 1000.0, n), 1)
        res._add_spikes(label, times, rng.integers(0, size, n))
    res._end_segment(1000.0)
    return res


def test_markers_are_rasterized(results):
    axes = plotting.raster(results)
    assert all(line.get_rasterized() for a in axes for line in a.lines)


def test_big_raster_is_one_image_per_population(big_results, tmp_path):
    import time
    start = time.perf_counter()
    axes = plotting.raster(big_results)
    out = tmp_path / "big.png"
    axes[0].figure.savefig(out, dpi=60)
    elapsed = time.perf_counter() - start
    for a, label in zip(axes, ("exc", "inh")):
        assert len(a.lines) == 0 and len(a.images) == 1
        counts = a.images[0].get_array()
        assert counts.sum() == big_results.spike_counts(label).sum()
        assert a.get_xlim() == (0.0, 1000.0)
        assert a.get_ylabel() == "neuron index"
    assert out.stat().st_size > 1000
    assert elapsed < 20.0   # one artist per spike would take minutes


def test_binned_choice_follows_spikes_in_view(big_results, results):
    # a short window holds fewer than max_markers spikes: markers again
    axes = plotting.raster(big_results, t_range=(100.0, 110.0))
    assert all(len(a.lines) == 1 and len(a.images) == 0 for a in axes)
    x = axes[0].lines[0].get_xdata()
    assert x.min() >= 100.0 and x.max() <= 110.0
    assert axes[0].get_xlim() == (100.0, 110.0)
    # forced either way
    axes = plotting.raster(results, binned=True)
    assert len(axes[0].images) == 1 and axes[0].images[0].get_array().sum() == 160
    axes = plotting.raster(big_results, populations="inh", binned=False, t_range=(0.0, 5.0))
    assert len(axes) == 1 and len(axes[0].lines) == 1


def test_zoom_to_population_and_neurons(big_results):
    fig, a = plt.subplots()
    got = plotting.raster(big_results, populations=["inh"], ax=a, neurons=(100, 150),
                          t_range=(0.0, 50.0))
    assert got is a
    y = a.lines[0].get_ydata()
    assert y.min() >= 0 and y.max() < 50           # one axes: shifted to the window
    assert a.get_ylim() == (-0.5, 49.5)
    axes = plotting.raster(big_results, neurons=(100, 150), t_range=(0.0, 50.0))
    y = axes[1].lines[0].get_ydata()
    assert y.min() >= 100 and y.max() < 150        # own panel: real indices
    assert axes[1].get_ylim() == (99.5, 149.5)
    times, ids = big_results.spikes("inh")
    expected = np.count_nonzero((times <= 50.0) & (ids >= 100) & (ids < 150))
    assert y.size == expected
    with pytest.raises(ValueError):
        plotting.raster(big_results, neurons=(10, 5))
    with pytest.raises(ValueError):
        plotting.raster(big_results, t_range=(10.0, 5.0))


def test_rate_panel(results, big_results):
    axes = plotting.raster(results, rate_panel=True, bin_ms=25.0)
    assert len(axes) == 3
    rate_ax = axes[-1]
    assert rate_ax.get_ylabel() == "rate (Hz)" and rate_ax.get_xlabel() == "time (ms)"
    assert axes[0].figure is rate_ax.figure
    assert len(rate_ax.patches) == 2               # one stairs per population
    heights = rate_ax.patches[0].get_data().values
    np.testing.assert_allclose(heights, results.population_rate("exc", 25.0)[1])
    # into one given Axes: the panel is appended under it
    fig, a = plt.subplots()
    got = plotting.raster(results, ax=a, rate_panel=True)
    assert got[0] is a and got[1].figure is fig and got[1] is not a
    # into a list with one extra Axes for the rates
    fig, (a, b, c) = plt.subplots(3, 1)
    assert plotting.raster(results, ax=[a, b, c], rate_panel=True) == [a, b, c]
    assert c.get_ylabel() == "rate (Hz)"
    # into a list with one Axes per population: the panel is appended under the last
    fig, (a, b) = plt.subplots(2, 1)
    got = plotting.raster(results, ax=[a, b], rate_panel=True)
    assert got[:2] == [a, b] and got[2].get_ylabel() == "rate (Hz)" and len(fig.axes) == 3
    # binned raster with rate panel, zoomed
    axes = plotting.raster(big_results, populations="exc", rate_panel=True, t_range=(200.0, 800.0))
    assert len(axes[0].images) == 1
    assert axes[1].get_xlim() == (200.0, 800.0)
    mean = axes[1].patches[0].get_data().values.mean()
    assert mean == pytest.approx(100.0, rel=0.05)
