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
