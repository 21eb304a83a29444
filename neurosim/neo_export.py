"""Results -> neo.Block (the format PyNN's get_data() returns and Elephant reads).

Spike trains use neo's multiplexed SpikeTrainList: the block holds one array of
spike times and one of neuron ids per segment, and the SpikeTrain objects are
made when first accessed.  Making thousands of SpikeTrains eagerly costs about
0.25 ms each in neo, more than simulating a second of the CUBA network.
"""
import numpy as np


def results_to_block(results):
    """A ``neo.Block`` with one Segment per run of ``results`` (see Results.to_neo)."""
    import neo
    import quantities as pq

    block = neo.Block(name="neurosim", description="neurosim simulation results",
                      simulator="neurosim", populations=results.labels, dt=results._dt)
    pops = results._pops
    for k, seg in enumerate(results._segments):
        nseg = neo.Segment(name=f"segment {k}", index=k)
        spikes = {label: seg.merged_spikes(label) for label in pops}
        t_stop = seg.t_stop
        if t_stop is None:  # open segment: stop at the last spike
            t_stop = max([seg.t_start] + [float(t[-1]) for t, _ in spikes.values() if t.size])
        times = np.concatenate([spikes[label][0] for label in pops] or [np.zeros(0)])
        gids = np.concatenate([spikes[label][1] + pops[label]["offset"] for label in pops]
                              or [np.zeros(0, np.int64)])
        all_ids = np.concatenate([pop["offset"] + np.arange(pop["size"]) for pop in pops.values()]
                                 or [np.zeros(0, np.int64)])
        labels = np.concatenate([np.full(pop["size"], label, dtype=object) for label, pop in pops.items()]
                                or [np.zeros(0, object)])
        index = np.concatenate([np.arange(pop["size"]) for pop in pops.values()] or [np.zeros(0, np.int64)])
        trains = _SpikeTrainsByNeuron.from_spike_time_array(
            times, gids, all_ids, t_stop=t_stop * pq.ms, units="ms", t_start=seg.t_start * pq.ms,
            source_population=labels, source_index=index, source_id=all_ids)
        nseg.spiketrains = trains
        trains.segment = nseg
        for label, pop in pops.items():
            for (lab, var) in seg.traces:
                if lab == label:
                    tt, values, indices = seg.merged_trace((lab, var))
                    nseg.analogsignals.append(_signal(neo, pq, label, var, tt, values, indices, pop,
                                                      results._dt))
        block.segments.append(nseg)
    return block


def _trains_class():
    from neurosim.heavy_imports import load_neo
    load_neo()
    from neo.core.spiketrainlist import SpikeTrainList
    return SpikeTrainList


class _SpikeTrainsByNeuron(_trains_class()):
    """neo's SpikeTrainList, materialised in O(spikes) by sorting once instead of one
    mask over all spikes per neuron (quadratic for large networks)."""

    def _spiketrains_from_array(self):
        from neo import SpikeTrain
        self._items = []
        if self._spike_time_array is None:
            return
        order = np.argsort(self._channel_id_array, kind="stable")   # stays time-sorted per neuron
        times, ids = self._spike_time_array[order], self._channel_id_array[order]
        channels = np.asarray(self._all_channel_ids)
        starts = np.searchsorted(ids, channels, side="left")
        stops = np.searchsorted(ids, channels, side="right")
        for i, channel in enumerate(channels):
            train = SpikeTrain(times[starts[i]:stops[i]], **self._spiketrain_metadata)
            train.annotate(**{name: _plain(value[i]) for name, value in self._annotations.items()})
            train.annotate(channel_id=int(channel))
            train.segment = self.segment
            self._items.append(train)


def _plain(value):
    """numpy scalars -> Python int/float/str, so annotations serialise like PyNN's."""
    return value.item() if isinstance(value, np.generic) else value


def _signal(neo, pq, label, var, times, values, indices, pop, dt):
    units = to_quantity_unit(pop["units"].get(var, "1"), pq)
    common = dict(units=units, name=var, source_population=label,
                  source_ids=pop["offset"] + indices,
                  array_annotations={"channel_index": indices.copy()})
    period = np.diff(times)
    if times.size < 2 or np.allclose(period, period[0], rtol=1e-6, atol=1e-9):
        step = float(period[0]) if times.size >= 2 else dt
        t0 = float(times[0]) if times.size else 0.0
        return neo.AnalogSignal(values, sampling_period=step * pq.ms, t_start=t0 * pq.ms, **common)
    return neo.IrregularlySampledSignal(times * pq.ms, values, **common)


_QUANTITY_NAMES = {
    "1": "dimensionless", "": "dimensionless", "mV": "mV", "V": "V", "uV": "uV",
    "ms": "ms", "s": "s", "us": "us", "nA": "nA", "pA": "pA", "uA": "uA", "A": "A",
    "nF": "nF", "pF": "pF", "uF": "uF", "uS": "uS", "nS": "nS", "mS": "mS", "S": "S",
    "Mohm": "MOhm", "MOhm": "MOhm", "Hz": "Hz", "kHz": "kHz", "uM": "uM", "mM": "mM",
}


def to_quantity_unit(text, pq):
    """Map a unit string ('mV', 'nA', 'mV/ms', '1') to a quantities unit.

    Unknown names give dimensionless.  Products, quotients and integer
    powers ('nA*ms', 'mV/ms', 'ms^-1') are built from the known names.
    """
    s = str(text).strip().replace(" ", "").replace("µ", "u").replace("**", "^")
    if s in _QUANTITY_NAMES:
        return getattr(pq, _QUANTITY_NAMES[s])
    result = pq.dimensionless
    sign, token = 1, ""
    try:
        for ch in s + "*":
            if ch in "*/":
                base, _, power = token.partition("^")
                if base not in _QUANTITY_NAMES:
                    return pq.dimensionless
                exp = sign * (int(power) if power else 1)
                result = result * getattr(pq, _QUANTITY_NAMES[base]) ** exp
                sign, token = (-1 if ch == "/" else 1), ""
            else:
                token += ch
    except ValueError:
        return pq.dimensionless
    return result
