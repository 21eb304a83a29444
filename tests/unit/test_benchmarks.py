"""The benchmark scripts run (smoke run, untimed): they must not rot."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_benchmark(script, tmp_path, *options):
    """Run ``benchmarks/<script> <options> --json``; the process and the JSON it wrote."""
    out = tmp_path / (Path(script).stem + ".json")
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *options, "--json", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, json.loads(out.read_text())


def test_cuba_benchmark_quick_runs_neurosim_and_brian2(tmp_path):
    _, rows = run_benchmark("cuba.py", tmp_path, "--quick")
    engines = {row["engine"]: row for row in rows["results"]}
    assert {"neurosim-numba-1", "brian2-cython"} <= set(engines)
    # both simulated the same network: CUBA rates near Brian2's 5.6 Hz
    for row in engines.values():
        assert 4.0 < row["mean_rate_hz"] < 8.0


def test_coba_benchmark_quick_runs_neurosim_and_brian2(tmp_path):
    proc, rows = run_benchmark("coba.py", tmp_path, "--quick")
    assert "COBA" in proc.stdout and "20 mV drive" in proc.stdout  # the variant is stated
    engines = {row["engine"]: row for row in rows["results"]}
    assert {"neurosim-numba-1", "brian2-cython"} <= set(engines)
    # both simulated the same network: COBA with a 20 mV drive fires at about 21 Hz
    for row in engines.values():
        assert 12.0 < row["mean_rate_hz"] < 35.0, row
    ratio = engines["neurosim-numba-1"]["mean_rate_hz"] / engines["brian2-cython"]["mean_rate_hz"]
    assert 0.8 < ratio < 1.25


def test_coba_benchmark_reports_nest_as_not_run_when_missing(tmp_path):
    # stands in for a machine without PyNEST: the parent checks importability before spawning
    script = ROOT / "benchmarks" / "coba.py"
    code = ("import sys, runpy; sys.path.insert(0, %r); import harness; "
            "harness.module_available = lambda name: False; sys.argv = [%r, '--engines', 'nest-1', "
            "'--duration', '10', '--json', %r]; runpy.run_path(%r, run_name='__main__')") % (
        str(script.parent), str(script), str(tmp_path / "coba.json"), str(script))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nest-1" in proc.stdout and "not run: nest is not installed" in proc.stdout
    assert proc.stdout.count("not running nest-1") == 1
    assert json.loads((tmp_path / "coba.json").read_text())["repeats"] == 5     # the timed default


def test_stdp_benchmark_quick_runs_both_simulators(tmp_path):
    _, data = run_benchmark("stdp.py", tmp_path, "--quick")
    assert data["duration_ms"] == 2000.0
    rows = {r["engine"]: r for r in data["results"]}
    assert set(rows) == {"neurosim-numba", "brian2-cython"}
    for r in rows.values():
        assert r["run_s"] > 0
        # 1000 inputs at 15 Hz drive the cell to tens of Hz (Brian2's example); weights in [0, g_max]
        assert 5.0 < r["rate_hz"] < 100.0, r
        assert 0.0 <= r["fraction_near_0"] <= 1.0 and 0.0 <= r["fraction_near_gmax"] <= 1.0


def test_microcircuit_benchmark_quick_runs_with_sane_rates(tmp_path):
    _, data = run_benchmark("microcircuit.py", tmp_path, "--quick")
    assert data["scale"] == 0.02 and data["duration_ms"] == 100.0
    (row,) = data["results"]
    assert row["engine"] == "neurosim-numba-1"
    assert row["neurons"] == 1544
    assert 5.5e6 < row["synapses"] < 6.5e6          # 3.0e8 x 0.02, full in-degree
    assert 0 < row["compile_peak_bytes"] / row["synapses"] < 1000
    assert row["events"] > 0
    rates = row["rates"]
    assert set(rates) == {"L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"}
    # every population fires, none runs away (the reference rates are 0.9 - 8.6 Hz)
    for label, rate in rates.items():
        assert 0.05 < rate < 50.0, (label, rate)
    # No layer ordering is asserted: at scale 0.02 (full in-degree, DC drive) over (50, 100] ms
    # it depends on the seed and the draw (L23E < L4E and L6E < L5E held for 3 of 6 seeds with
    # the earlier clipped-normal sampler, 0 of 6 with the current one, whose values follow the same
    # law), and for none of 4 over (400, 1000] ms, where L23E runs at 7-14 Hz against the
    # published 0.9 Hz; the published rates are compared at scales 0.1-1 by the benchmark itself
    # (docs/performance.md).


def test_microcircuit_parameters_match_the_published_model():
    from neurosim.models.benchmark_networks import (PD14_FULL_SIZES, microcircuit_parameters,
                                                     pd14_full_synapse_numbers, psc_from_psp)
    assert sum(PD14_FULL_SIZES) == 77169
    assert abs(psc_from_psp(0.15) - 0.0878) < 1e-4          # 87.8 pA for a 0.15 mV PSP
    total = sum(map(sum, pd14_full_synapse_numbers()))
    assert 2.98e8 < total < 3.0e8                            # ~3e8 synapses at full scale
    full = microcircuit_parameters(1.0)
    w = full["weights"]
    assert abs(w[0][2] - 2 * w[0][0]) < 1e-12               # L4E -> L23E doubled
    assert abs(w[3][1] / w[3][0] + 4.0) < 1e-12              # g = -4
    # DC replaces 8 Hz x K_ext inputs of 87.8 pA lasting tau_syn = 0.5 ms: L23E 1600 -> 0.562 nA
    assert abs(full["dc"][0] - 8 * 1600 * 0.0878085 * 0.5e-3) < 1e-6
    tenth = microcircuit_parameters(0.1)
    assert tenth["sizes"][0] == 2068 and tenth["dc"] == full["dc"]   # k_scale 1: no compensation
    thin = microcircuit_parameters(0.1, k_scale=0.25)
    assert abs(thin["weights"][0][0] - 2 * w[0][0]) < 1e-12          # / sqrt(0.25)
    assert all(t < f for t, f in zip(thin["dc"], full["dc"]))         # recurrent input is net inhibitory


def test_startup_benchmark_quick_runs_the_contract_script_warm_and_cold(tmp_path):
    _, data = run_benchmark("startup.py", tmp_path, "--quick")
    assert len(data["warm"]["runs_s"]) == 1 and len(data["cold"]["runs_s"]) == 1
    # warm and cold runs simulated the same network, at the contract's rate
    assert len(data["rates_hz"]) == 1 and 4.5 < data["rates_hz"][0] < 7.0


def test_memory_benchmark_quick_runs(tmp_path):
    _, data = run_benchmark("memory.py", tmp_path, "--quick")
    # 2000^2 pairs at p = 0.1: 4e5 synapses, binomial sd ~600
    assert data["neurons"] == 2000 and abs(data["synapses"] - 4e5) < 3000
    assert data["kept_bytes_per_synapse"] > 0


def test_repeats_interleave_runs_and_report_the_median(tmp_path):
    proc, data = run_benchmark("cuba.py", tmp_path, "--engines", "neurosim-numba-1", "--duration", "50",
                               "--repeats", "3")
    (row,) = data["results"]
    assert data["repeats"] == 3 and len(row["runs_s"]) == 3
    assert row["run_s"] == sorted(row["runs_s"])[1]
    assert "ran 3 times" in proc.stdout


def test_median_run_picks_the_middle_run_and_passes_failures_on():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import harness
    runs = [{"engine": "e", "run_s": t, "spikes": n} for t, n in ((0.5, 1), (0.2, 2), (0.9, 3), (0.3, 4))]
    chosen = harness.median_run(runs)
    assert (chosen["run_s"], chosen["spikes"]) == (0.3, 4)          # lower middle of 0.2 0.3 0.5 0.9
    assert chosen["runs_s"] == [0.5, 0.2, 0.9, 0.3]
    failed = {"engine": "e", "error": "exit code 1: boom"}
    assert harness.median_run(runs + [failed]) is failed


def test_engines_with_the_same_thread_count_are_paired():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import harness
    results = [{"engine": "neurosim-numba-1", "run_s": 0.5}, {"engine": "neurosim-numba-2", "run_s": 0.4},
               {"engine": "brian2-cpp-1", "run_s": 2.0}, {"engine": "brian2-cpp-2", "run_s": 3.0},
               {"engine": "brian2-cython", "run_s": 9.0}, {"engine": "nest-2", "error": "boom"}]
    assert harness.same_thread_ratios(results) == [("brian2-cpp-1", "neurosim-numba-1", 4.0),
                                                   ("brian2-cpp-2", "neurosim-numba-2", 7.5)]
