"""The benchmark scripts run (smoke run, untimed): they must not rot."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cuba_benchmark_quick_runs_neurosim_and_brian2(tmp_path):
    out = tmp_path / "cuba.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "cuba.py"), "--quick", "--json", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = json.loads(out.read_text())
    engines = {row["engine"]: row for row in rows["results"]}
    assert {"neurosim-numba-1", "brian2-cython"} <= set(engines)
    # both simulated the same network: CUBA rates near Brian2's 5.6 Hz
    for row in engines.values():
        assert 4.0 < row["mean_rate_hz"] < 8.0
