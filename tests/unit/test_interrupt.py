"""Ctrl-C during run(): the run stops at a chunk boundary, keeps what it recorded, and continues.

A child process compiles the CUBA benchmark network (4000 LIF neurons), starts a 600 s
(biological) run and reports on stdout when it is about to run; the test sends it
SIGINT about two seconds later (the network runs about 15x faster than real time here,
so 600 s cannot finish first).  The child catches the KeyboardInterrupt, checks what
the simulation kept, runs 10 ms more and prints one JSON line, which the test checks.
"""
import json
import os
import signal
import subprocess
import sys
import time

CHILD = r"""
import json, sys
import numpy as np
import neurosim as ns
from neurosim.models.benchmark_networks import cuba_network

sim = ns.compile(cuba_network(), quiet=True)
print("RUNNING", flush=True)
try:
    sim.run(600000.0)
    print(json.dumps({"interrupted": False, "t": sim.t}), flush=True)
    sys.exit(0)
except KeyboardInterrupt as exc:
    message = str(exc)
t_stop = sim.t
times, ids = sim.results.spikes("exc")
out = {"interrupted": True, "message": message, "t_stop": t_stop, "n_spikes": int(times.size),
       "first_spike": float(times.min()) if times.size else None,
       "last_spike": float(times.max()) if times.size else None,
       "ids_ok": bool(times.size == 0 or (ids.min() >= 0 and ids.max() < 3200)),
       "segments": len(sim.results.segments)}
sim.run(10.0)
times2, _ = sim.results.spikes("exc")
out.update({"t_after": sim.t, "n_spikes_after": int(times2.size),
            "last_spike_after": float(times2.max()) if times2.size else None,
            "segments_after": len(sim.results.segments)})
print(json.dumps(out), flush=True)
"""


def test_sigint_stops_keeps_data_and_run_continues(tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env, cwd=tmp_path)
    try:
        line = child.stdout.readline()          # compile may take a while on a cold cache
        assert line.strip() == "RUNNING", f"child did not start: {line!r} {child.stderr.read()[-2000:]}"
        time.sleep(2.0)
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, f"child failed (rc {child.returncode}):\n{stderr[-3000:]}"
    report = json.loads(stdout.strip().splitlines()[-1])
    assert report["interrupted"], "the 600 s run finished before SIGINT arrived"
    assert "interrupted" in report["message"] and "continue" in report["message"]
    t_stop = report["t_stop"]
    assert 0 < t_stop < 600000.0
    # everything recorded up to the stop is kept: spikes from the start up to about t_stop
    assert report["n_spikes"] > 0 and report["ids_ok"]
    assert report["first_spike"] < 10.0
    assert t_stop - 5.0 <= report["last_spike"] <= t_stop + 1e-9
    assert report["segments"] == 1
    # and the run continues from there
    assert abs(report["t_after"] - (t_stop + 10.0)) < 1e-6
    assert report["n_spikes_after"] > report["n_spikes"]
    assert t_stop < report["last_spike_after"] <= report["t_after"] + 1e-9
    assert report["segments_after"] == 2
