"""record_to: long runs stream recorded data to disk; memory stays bounded."""
import json
import subprocess
import sys
import textwrap

import numpy as np

import neurosim as ns

CHILD = textwrap.dedent("""
    import json, sys, tracemalloc
    import neurosim as ns
    net = ns.Network(dt=0.1, seed=3)
    pop = net.add(ns.Population(2000, ns.SpikeSourcePoisson(rate=500.0), label="src"))
    pop.record("spikes")
    record_to = sys.argv[1] if sys.argv[1] != "-" else None
    sim = ns.compile(net, record_to=record_to)
    sim.run(1.0)
    tracemalloc.start()          # numpy's buffers are traced too
    sim.run(10000.0)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({"growth_mb": peak / 2**20}))
    n = len(sim.results.spikes("src")[0])
    print(json.dumps({"spikes": n}))
""")


def run_child(arg):
    out = subprocess.run([sys.executable, "-c", CHILD, arg], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return {k: v for row in rows for k, v in row.items()}


def test_ten_million_spikes_stream_with_bounded_memory(tmp_path):
    streamed = run_child(str(tmp_path))
    in_memory = run_child("-")
    # 2000 sources x 500 Hz x 10 s = 1e7 spikes (16 bytes each in memory: ~160 MB)
    assert abs(streamed["spikes"] - 1e7) < 5 * np.sqrt(1e7)
    assert streamed["spikes"] == in_memory["spikes"]
    print(f"peak memory allocated during the run: streamed {streamed['growth_mb']:.0f} MB, "
          f"in memory {in_memory['growth_mb']:.0f} MB")
    assert streamed["growth_mb"] < 60
    assert in_memory["growth_mb"] > 120


def test_streamed_results_equal_in_memory_results(tmp_path):
    out = []
    for record_to in (str(tmp_path), None):
        net = ns.Network(dt=0.1, seed=5)
        src = net.add(ns.Population(20, ns.SpikeSourcePoisson(rate=50.0), label="src"))
        pop = net.add(ns.Population(10, ns.IF_curr_exp(), label="pop"))
        pop.record(["spikes", "v"], sampling_interval=0.5)
        net.add(ns.Projection(src, pop, ns.AllToAllConnector(), ns.StaticSynapse(weight=0.5)))
        sim = ns.compile(net, record_to=record_to)
        sim.run(300.0)
        res = sim.run(200.0)
        out.append((res.spikes("pop"), res.trace("pop", "v"), len(res.segments)))
    (s1, t1, n1), (s2, t2, n2) = out
    assert n1 == n2 == 2 and len(s1[0]) > 10
    assert np.array_equal(s1[0], s2[0]) and np.array_equal(s1[1], s2[1])
    assert np.array_equal(t1.times, t2.times) and np.array_equal(t1.values, t2.values)
