"""The ``neurosim`` command line and the experiment registry."""

import json

import pytest

import neurosim as ns

from neurosim import cli
from neurosim.errors import ValidationError
from neurosim.experiments import EXPERIMENTS, get_experiment, list_experiments


def test_list_prints_every_experiment(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in EXPERIMENTS:
        assert name in out


def test_list_experiments_has_descriptions():
    items = list_experiments()
    assert [name for name, _ in items] == sorted(EXPERIMENTS)
    assert all(description for _, description in items)


def test_unknown_experiment_is_a_validation_error_naming_the_valid_ones():
    with pytest.raises(ValidationError, match="cuba"):
        get_experiment("no-such-experiment")


def test_neurosim_error_prints_one_line_and_exits_2(capsys):
    assert cli.main(["run", "no-such-experiment"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ")
    assert "cuba" in captured.err
    assert "Traceback" not in captured.err


def test_info_lists_versions_and_backends(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    for name in ("python", "numpy", "numba", "neurosim", "backend"):
        assert name in out


def test_no_command_is_a_usage_error():
    with pytest.raises(SystemExit) as exc:
        cli.main([])
    assert exc.value.code == 2


def test_run_cuba_quick_writes_metrics_and_figures(tmp_path, capsys):
    assert cli.main(["run", "cuba", "--quick", "--quiet", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["duration_ms"] == 200.0
    assert metrics["spike_count_total"] == metrics["spike_count_exc"] + metrics["spike_count_inh"]
    # self-sustained activity near Brian2's 5.6 Hz (the first 200 ms run a little higher)
    assert 2.0 < metrics["mean_rate_hz"] < 15.0
    assert (tmp_path / "raster.png").stat().st_size > 0
    assert (tmp_path / "population_rate.png").stat().st_size > 0
    # the network file in --out reproduces the experiment's numbers
    sim = ns.compile(ns.load_network(tmp_path / "network.json"), quiet=True)
    results = sim.run(metrics["duration_ms"])
    assert len(results.spikes("exc")[0]) == metrics["spike_count_exc"]
    assert len(results.spikes("inh")[0]) == metrics["spike_count_inh"]


def test_readme_support_matrix_is_rendered_from_the_profiles():
    import re
    from pathlib import Path

    from neurosim.backends import support_matrix_markdown
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(r"<!-- support-matrix:start -->\n(.*)\n<!-- support-matrix:end -->", readme, re.S)
    assert block is not None
    assert block.group(1).strip() == support_matrix_markdown().strip()


def test_demo_writes_its_raster(tmp_path, capsys):
    from neurosim.cli import main
    assert main(["demo", "--duration", "200", "--out", str(tmp_path), "--quiet"]) == 0
    png = tmp_path / "demo_raster.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class _Terminal:
    """A stand-in for a terminal's stderr (tqdm draws only where isatty() is true)."""

    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_progress_bar_counts_simulated_ms(monkeypatch):
    import sys

    from neurosim.backends.numba import simulation
    from neurosim.models.benchmark_networks import cuba_network
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(simulation, "PROGRESS_DELAY_S", 0.0)
    sim = ns.compile(cuba_network(n_neurons=100, seed=3), quiet=False)
    sim.run(500.0)
    assert "/500.0 ms simulated" in terminal.text   # 500 ms at dt 0.1 ms: counted in ms, not steps
    assert "ms/s" in terminal.text
    quiet = _Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    ns.compile(cuba_network(n_neurons=100, seed=3), quiet=True).run(500.0)
    assert quiet.text == ""
