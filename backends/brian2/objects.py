"""Brian2 objects for one BuiltNetwork: groups, synapses, current injection, monitors.

Every object gets a fixed name derived from its position in the network
(``ns_p0``, ``ns_c3``, ...; cpp_standalone: ``ns<hash>_p0``), all neurosim-derived values are Brian2 variables
rather than namespace constants, and the code is therefore a function of the
network's *structure* only: Brian2's Cython cache (runtime device) and the
make-based incremental build (cpp_standalone) reuse compiled artefacts between
runs, processes and parameter values.

Schedule and timing (checked against the numba kernel, see docs/architecture.md)
---------------------------------------------------------------------------------
The network runs with the schedule ``start, groups, synapses, thresholds,
resets, end`` on one clock of neurosim's ``dt``.  In step n (t_n = n dt):

* ``before_groups``: injected current changes scheduled for step n (``run_regularly``);
* ``groups``: integrate from t_n to t_n + dt;
* ``synapses``: push the spikes found in step n - 1 and apply every event whose
  Brian2 delay has elapsed.  A neurosim delay of d steps is a Brian2 delay of
  (d - 1) dt, so a spike found in step m is applied in step m + d after the
  integration and before the threshold, exactly as the numba kernel does;
* ``thresholds`` / ``resets``: spike detection and reset.  Brian2 stamps a spike
  found in step n with t_n; neurosim stamps t_n + dt (the end of the step in
  which the state crossed), so the backend adds dt to every spike time;
* state monitors sample at ``start`` (the state after the previous step) on a
  clock of ``every * dt``: a sample at step m is neurosim's sample at t = m dt.

Refractoriness is neurosim's, written out rather than Brian2's ``refractory=``:
a neuron that spikes in step n holds its ``(unless refractory)`` variables in
steps n+1 .. n+R and may spike again from step n+R on (numba's rule).  Every
spiking group stores the step of each neuron's last spike (``nsx_laststep``, set
by the reset); the state-update code keeps the old value of a held variable
while ``nsx_free = int(step - nsx_laststep > R)`` is 0 (``translate.Held``,
``translate.exact_update``), and the threshold is
``cond and step - nsx_laststep >= R``.  Brian2's mechanism differs in two ways
that change spike times: it counts the period from the start of the spiking
step and blocks the threshold for the whole period, and it drops synaptic input
onto held variables (numba applies it).

Run boundaries (runtime device): Brian2's thresholder clears its spike count
when ``run()`` returns.  With synapses scheduled before thresholds, the spikes of
a run's last step would be pushed only in the next step -- after the clear -- so
the Simulation writes them back (from ``nsx_laststep``) before the next run.
"""
import numpy as np

from neurosim.equations import analyse

from . import plastic
from . import translate as tr

SCHEDULE = ["start", "groups", "synapses", "thresholds", "resets", "end"]
NEVER = -1e18   # nsx_laststep before the first spike


class Objects:
    """The Brian2 objects of one network plus the lookup tables the Simulation needs."""

    def __init__(self):
        self.groups = {}          # population index -> Brian2 group
        self.names = {}           # population index -> translate.Names (neuron populations)
        self.synapses = {}        # projection index -> Synapses (absent when it has no connections)
        self.spike_monitors = {}  # population index -> SpikeMonitor
        self.state_monitors = {}  # (population index, variable) -> (StateMonitor, every, indices)
        self.monitors = []        # the StateMonitors (one may record several variables)
        self.order = {}           # projection index -> connection index of each Brian2 synapse
        self.weight_monitors = {}  # projection index -> (StateMonitor of w, interval in steps)
        self.namespace = {}       # external names (TimedArrays) for Network.run
        self.methods = {}         # population index -> integration method
        self.network = None
        self.clock = None
        self.prefix = "ns_"


def codeobj_class(target):
    if target == "numpy":
        from brian2.codegen.runtime.numpy_rt import NumpyCodeObject
        return NumpyCodeObject
    if target == "cython":
        from brian2.codegen.runtime.cython_rt import CythonCodeObject
        return CythonCodeObject
    return None   # standalone: the device decides


def structure(built):
    """What the generated code depends on (keys the cpp_standalone build directory)."""
    out = [built.dt]
    for pop in built.populations:
        cell = pop.celltype
        item = [pop.kind, pop.size, type(cell).__name__, pop.injection is not None,
                sorted((var, len(idx), every) for var, (idx, every) in pop.record.items()),
                pop.record_spikes is not None]
        if pop.kind == "neuron":
            item += [cell.equations.source, str(cell.threshold and tr.expr(cell.threshold, {})),
                     [(t, op, tr.expr(e, {})) for t, op, e in cell.reset], cell.method,
                     sorted((k, isinstance(v, float)) for k, v in pop.params.items()),
                     isinstance(pop.refractory_steps, int) and pop.refractory_steps == 0,
                     sorted((k, tr.expr(s[2], {})) for k, s in cell.receptors.items())]
        out.append(item)
    names = {k: tr.Names(tr.model_names(p.celltype)) for k, p in enumerate(built.populations)
             if p.kind == "neuron"}
    for proj in built.projections:
        item = [proj.pre, proj.post, proj.receptor, proj.n_synapses > 0, proj.one_delay,
                proj.record_every]
        if proj.synapse is not None and proj.n_synapses:
            code = synapse_code(proj, built, names)
            dendritic = plastic.dendritic_steps(proj)
            item += [code.model, code.on_pre, code.on_post, bool(np.all(dendritic == dendritic[0]))]
        out.append(item)
    return repr(out)


def create(built, target, prefix="ns_"):
    """Create every Brian2 object of ``built`` (under the currently active Brian2 device)."""
    import brian2 as b2
    ms = b2.ms
    objs = Objects()
    objs.prefix = P = prefix
    cls = codeobj_class(target)
    dt = built.dt
    clock = b2.Clock(dt=dt * ms, name=f"{P}clock")
    objs.clock = clock
    for k, pop in enumerate(built.populations):
        if pop.kind == "neuron":
            group = _neuron_group(objs, k, pop, clock, cls, dt)
        elif pop.kind == "poisson":
            group = _poisson_group(k, pop, clock, cls, dt, P)
        else:
            steps, idx = pop.source_events
            group = b2.SpikeGeneratorGroup(pop.size, np.asarray(idx, dtype=np.int64), steps * dt * ms,
                                           clock=clock, name=f"{P}p{k}", codeobj_class=cls)
        objs.groups[k] = group
        if pop.record_spikes is not None:
            objs.spike_monitors[k] = b2.SpikeMonitor(group, record=True, name=f"{P}sm{k}",
                                                     codeobj_class=cls)
        # one StateMonitor per (population, neurons, interval), recording all its variables
        sets = {}
        for var, (indices, every) in pop.record.items():
            sets.setdefault((every, tuple(np.asarray(indices, dtype=np.int64))), []).append(var)
        for m, ((every, indices), variables) in enumerate(sets.items()):
            mon_clock = clock if every == 1 else b2.Clock(dt=every * dt * ms, name=f"{P}clock{k}_{m}")
            indices = np.asarray(indices, dtype=np.int64)
            mon = b2.StateMonitor(group, [objs.names[k][v] for v in variables], record=indices,
                                  clock=mon_clock, when="start", name=f"{P}st{k}_{m}", codeobj_class=cls)
            objs.monitors.append(mon)
            for var in variables:
                objs.state_monitors[(k, var)] = (mon, every, indices)
    for j, proj in enumerate(built.projections):
        if proj.n_synapses:
            objs.synapses[j] = _synapses(objs, j, proj, built, clock, cls, target)
    contents = list(objs.groups.values()) + list(objs.synapses.values()) + \
        list(objs.spike_monitors.values()) + objs.monitors + [m for m, _ in objs.weight_monitors.values()]
    objs.network = b2.Network(*contents, name=f"{P}network")
    objs.network.schedule = SCHEDULE
    return objs


def _neuron_group(objs, k, pop, clock, cls, dt):
    import brian2 as b2
    P = objs.prefix
    cell = pop.celltype
    names = tr.Names(tr.model_names(cell))
    shared = {p for p, v in pop.params.items() if isinstance(v, float)}
    plan = analyse(cell.equations, sorted(shared), cell.method, cell.name)
    objs.methods[k] = plan["method"]
    ref = pop.refractory_steps
    has_ref = not (isinstance(ref, int) and ref == 0)
    model = tr.neuron_model(cell, names, shared)
    method, coefficients = tr.METHODS.get(plan["method"]), {}
    held = [names[v.name] for v in cell.equations.state if v.clamped]
    if has_ref and held and plan["method"] != "exact":
        method = tr.Held(method, held)
    if plan["method"] == "exact":
        params = {n: v for n, v in pop.params.items() if isinstance(v, float)}
        lines, coefficients, method = tr.exact_update(cell, names, plan, params, dt, has_ref)
        model += "".join("\n" + line for line in lines)
    threshold = tr.threshold(cell, names)
    reset = tr.reset(cell, names)
    if threshold is not None:
        model += f"\n{tr.LAST_STEP} : 1"
        reset = f"{reset}\n{tr.LAST_STEP} = timestep(t, dt)".strip()
    if has_ref and threshold is not None:
        model += (f"\n{tr.REFRACTORY_STEPS} : 1 ({'shared, constant' if isinstance(ref, int) else 'constant'})"
                  f"\n{tr.FREE} = int(timestep(t, dt) - {tr.LAST_STEP} > {tr.REFRACTORY_STEPS}) : 1")
        threshold = f"({threshold}) and timestep(t, dt) - {tr.LAST_STEP} >= {tr.REFRACTORY_STEPS}"
    elif has_ref:   # never spikes, so never refractory
        model += f"\n{tr.FREE} = 1.0 : 1"
    group = b2.NeuronGroup(pop.size, model, threshold=threshold, reset=reset or None, method=method,
                           clock=clock, name=f"{P}p{k}", codeobj_class=cls)
    if threshold is not None:
        setattr(group, tr.LAST_STEP, NEVER)
        if has_ref:
            setattr(group, tr.REFRACTORY_STEPS, np.asarray(ref, dtype=float))
    for name, value in coefficients.items():
        setattr(group, name, value)
    for name, value in pop.params.items():
        setattr(group, names[name], value if isinstance(value, float) else np.asarray(value, dtype=float))
    for var, values in pop.initial.items():
        setattr(group, names[var], np.asarray(values, dtype=float))
    objs.names[k] = names
    if pop.injection is not None:
        _injection(objs, k, pop, group, clock, cls)
    return group


def _injection(objs, k, pop, group, clock, cls):
    """Scheduled changes of the current-input variable, applied in the step they are due.

    Two TimedArrays instead of one value per step and neuron: ``ns_injc{k}`` maps
    each tick of a clock of ``g * dt`` (g = gcd of the change steps) to the number of
    the change due then (0: none), ``ns_injd{k}`` holds one row of per-neuron
    increments per change.  A ``run_regularly`` operation adds the row in
    ``before_groups``, so ``get``/``set`` of the variable behave as on numba.
    """
    import brian2 as b2
    P = objs.prefix
    steps, idx, deltas = pop.injection
    changes = np.unique(steps)
    g = int(np.gcd.reduce(changes)) if len(changes) else 1
    g = g or 1
    rows = np.zeros((len(changes) + 1, pop.size))
    np.add.at(rows, (np.searchsorted(changes, steps) + 1, idx), deltas)
    ticks = np.zeros(int(changes.max()) // g + 2 if len(changes) else 1)
    ticks[changes // g] = np.arange(1, len(changes) + 1)
    dt = clock.dt_
    which = b2.TimedArray(ticks, dt=g * dt * b2.second, name=f"{P}injc{k}")
    amount = b2.TimedArray(rows, dt=1 * b2.second, name=f"{P}injd{k}")
    objs.namespace[f"{P}injc{k}"] = which
    objs.namespace[f"{P}injd{k}"] = amount
    var = objs.names[k][pop.celltype.current_input]
    group.run_regularly(f"{var} += {P}injd{k}({P}injc{k}(t)*second, i)", dt=g * dt * b2.second,
                        when="before_groups", name=f"{P}inj{k}", codeobj_class=cls)


def _poisson_group(k, pop, clock, cls, dt, P):
    """SpikeSourcePoisson: spike with probability rate*dt in steps [start, start + duration).

    A NeuronGroup with an explicit threshold rather than a PoissonGroup, so that
    per-neuron rates and the start/duration window combine in one object and
    the window uses whole steps (as numba: steps round(start/dt) to
    round((start + duration)/dt) - 1)."""
    import brian2 as b2
    rate = pop.params["rate"]
    shared = isinstance(rate, float)
    model = (f"rate : 1 ({'shared, constant' if shared else 'constant'})\n"
             f"{tr.POISSON_START} : 1 (shared, constant)\n{tr.POISSON_STOP} : 1 (shared, constant)")
    cond = (f"timestep(t, dt) >= {tr.POISSON_START} and timestep(t, dt) < {tr.POISSON_STOP} "
            "and rand() < rate*0.001*(dt/ms)")
    model += f"\n{tr.LAST_STEP} : 1"
    group = b2.NeuronGroup(pop.size, model, threshold=cond, reset=f"{tr.LAST_STEP} = timestep(t, dt)",
                           clock=clock, name=f"{P}p{k}", codeobj_class=cls)
    setattr(group, tr.LAST_STEP, NEVER)
    group.rate = rate if shared else np.asarray(rate, dtype=float)
    start = round(pop.params["start"] / dt)
    stop = min(round((pop.params["start"] + pop.params["duration"]) / dt), 2**62)
    setattr(group, tr.POISSON_START, float(start))
    setattr(group, tr.POISSON_STOP, float(stop))
    return group


def synapse_code(proj, built, group_names):
    """The Brian2 text of one projection (static or equation-defined)."""
    if proj.synapse is None:
        post = built.populations[proj.post]
        return plastic.static_code(proj, group_names[proj.post], post.celltype)
    return plastic.plastic_code(proj, built, group_names)


def csr_order(proj):
    """Connection indices in numba's CSR order (by presynaptic, then postsynaptic index)."""
    return np.lexsort((proj.post_idx, proj.pre_idx))


def _synapses(objs, j, proj, built, clock, cls, target):
    """One Synapses object; synapse s is connection ``objs.order[j][s]``."""
    import brian2 as b2
    P = objs.prefix
    code = synapse_code(proj, built, objs.names)
    order = csr_order(proj)
    objs.order[j] = order
    dt = built.dt
    delays = {}
    if proj.one_delay:
        delays["pre"] = (int(proj.delay_steps[0]) - 1) * dt * b2.ms
    dendritic = plastic.dendritic_steps(proj) if code.on_post else None
    if dendritic is not None and np.all(dendritic == dendritic[0]):
        delays["post"] = int(dendritic[0]) * dt * b2.ms
    syn = b2.Synapses(objs.groups[proj.pre], objs.groups[proj.post], model=code.model, on_pre=code.on_pre,
                      on_post=code.on_post or None, delay=delays, clock=clock, name=f"{P}c{j}",
                      codeobj_class=cls)
    # numba delivers projection after projection; Brian2 orders a slot by (order, name), and
    # names sort "ns_c10" before "ns_c2"
    syn.pre.order = j - len(built.projections)
    if code.on_post:
        syn.post.when = "after_resets"   # after every threshold and reset of the step, as numba
    if target == "cython":
        # the code creating the synapses runs once: numpy, not one more Cython module to compile
        syn.codeobj_class = codeobj_class("numpy")
    syn.connect(i=np.asarray(proj.pre_idx[order], dtype=np.int64),
                j=np.asarray(proj.post_idx[order], dtype=np.int64))
    syn.codeobj_class = cls
    syn.w = np.asarray(proj.weights[order], dtype=float)
    for name, value in code.shared.items():
        setattr(syn, name, value)
    for name, values in code.initial.items():
        setattr(syn, name, values[order])
    if "pre" not in delays:
        syn.pre.delay = (np.asarray(proj.delay_steps[order], dtype=float) - 1.0) * dt * b2.ms
    if dendritic is not None and "post" not in delays:
        syn.post.delay = np.asarray(dendritic[order], dtype=float) * dt * b2.ms
    if proj.record_every:
        every = proj.record_every
        mon_clock = clock if every == 1 else b2.Clock(dt=every * dt * b2.ms, name=f"{P}wclock{j}")
        objs.weight_monitors[j] = (b2.StateMonitor(syn, "w", record=True, clock=mon_clock, when="start",
                                                   name=f"{P}wm{j}", codeobj_class=cls), every)
    return syn


def seed_for(built):
    """A 32-bit seed for Brian2's random numbers (Poisson sources), derived from the network seed."""
    return int(np.random.SeedSequence(built.seed, spawn_key=(5,)).generate_state(1, np.uint32)[0])


def steps_of(times_s, dt_ms):
    """Brian2 times (seconds) -> integer step numbers."""
    return np.round(np.asarray(times_s, dtype=float) / (dt_ms * 1e-3)).astype(np.int64)


__all__ = ["Objects", "create", "structure", "seed_for", "steps_of", "SCHEDULE"]
