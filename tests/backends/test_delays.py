"""Per-synapse delays over several projections, against the closed form, on every backend.

Three projections with a delay per synapse (two onto one population and receptor, one onto
another population): every synapse's current must arrive at spike time + its own delay with
its own weight and decay with tau_syn, and ``set_weights`` on one projection must change that
projection only (numba keeps all such projections in shared arrays, backends/numba/rings.py).
"""
import numpy as np
import pytest

import neurosim as ns
from conftest import compile_on

TAU = 5.0
CELL = dict(cm=0.25, tau_m=10.0, v_rest=-65.0, v_reset=-70.0, v_thresh=0.0, tau_syn_E=TAU, tau_syn_I=TAU)
SPIKES = {0: 10.0, 1: 20.0}
A = [(0, 0, 1.0, 1.0), (0, 1, 0.5, 2.3), (1, 0, 0.25, 0.7)]
B = [(0, 0, 0.4, 1.5), (1, 2, 0.8, 3.1)]
C = [(1, 1, 2.0, 0.4), (0, 2, 0.3, 5.0)]


def closed_form(times, synapses, n_post):
    """isyn_exc (nA) of each post neuron: sum of w exp(-(t - t_arrival)/tau) over arrived inputs."""
    out = np.zeros((len(times), n_post))
    for pre, post, w, d in synapses:
        s = times - (SPIKES[pre] + d)
        out[:, post] += np.where(s >= -1e-9, w * np.exp(-np.clip(s, 0, None) / TAU), 0.0)
    return out


@pytest.mark.needs("current_recording", "state_access")
def test_per_synapse_delays_over_several_projections(backend):
    net = ns.Network(dt=0.1, seed=1)
    src = net.add(ns.Population(2, ns.SpikeSourceArray(spike_times=[[SPIKES[0]], [SPIKES[1]]]), label="src"))
    post = net.add(ns.Population(3, ns.IF_curr_exp(**CELL), label="post"))
    other = net.add(ns.Population(3, ns.IF_curr_exp(**CELL), label="other"))
    for pop in (post, other):
        pop.record("isyn_exc")
    a = net.add(ns.Projection(src, post, ns.FromListConnector(A), label="a"))
    b = net.add(ns.Projection(src, other, ns.FromListConnector(B), label="b"))
    c = net.add(ns.Projection(src, post, ns.FromListConnector(C), label="c"))
    sim = compile_on(net, backend)
    new_b = [(pre, post_, 3.0 * w, d) for pre, post_, w, d in B]
    sim.set_weights(b, np.array([3.0 * w for _, _, w, _ in B]))
    got = {p: sim.get_weights(p, format="list") for p in (a, b, c)}
    res = sim.run(40.0)
    getattr(sim, "close", lambda: None)()
    for proj, syn in ((a, A), (b, new_b), (c, C)):
        rows = sorted(map(tuple, got[proj][:, :3]))
        assert np.allclose(rows, sorted((pre, post_, w) for pre, post_, w, _ in syn), rtol=1e-6), proj.label
    for label, syn in (("post", A + C), ("other", new_b)):
        tr = res.trace(label, "isyn_exc")
        expected = closed_form(tr.times, syn, 3)
        assert np.max(np.abs(tr.values - expected)) < 1e-5, label
