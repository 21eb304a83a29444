"""What a simulation returns: spikes, state traces, statistics, Neo, files.

Spikes are kept as flat ``(times_ms, ids)`` arrays per population and
segment, never one Python object per spike.  A segment is one
``Simulation.run()`` call (Neo semantics).  Units: times in ms, rates in Hz,
traces in the unit declared per variable (canonical: mV, nA, uS, ...).

Backends fill a ``Results`` through the underscore methods
``_start_segment``, ``_add_spikes``, ``_add_trace`` and ``_end_segment``;
users read it through the public ones.
"""
import json
import os
import zipfile
from collections import namedtuple

import numpy as np

from .errors import NeurosimError, ValidationError
from .streaming import DiskColumn, Stream

FORMAT = "neurosim-results"
FORMAT_VERSION = 1
_META_KEY = "__neurosim_results__"

Trace = namedtuple("Trace", ["times", "values", "indices", "unit"])
Trace.__doc__ = """Samples of one variable: times (n,) ms, values (n, k), indices (k,), unit str."""


class _Segment:
    """Data of one run: spike chunks and trace chunks per population."""

    def __init__(self, t_start):
        self.t_start = float(t_start)
        self.t_stop = None
        self.spikes = {}  # label -> [list of times chunks, list of ids chunks, merged?]
        self.traces = {}  # (label, var) -> {"times": [...], "values": [...], "indices": arr}

    def merged_spikes(self, label):
        """Concatenate (once) and sort by time then id; returns (times, ids)."""
        entry = self.spikes.get(label)
        if entry is None:
            return np.zeros(0, np.float64), np.zeros(0, np.int64)
        times_chunks, ids_chunks, merged = entry
        if times_chunks and isinstance(times_chunks[0], DiskColumn):   # streamed: read, keep on disk
            times, ids = times_chunks[0].read(), ids_chunks[0].read()
            order = np.lexsort((ids, times))
            return times[order], ids[order]
        if not merged:
            times = np.concatenate(times_chunks) if times_chunks else np.zeros(0, np.float64)
            ids = np.concatenate(ids_chunks) if ids_chunks else np.zeros(0, np.int64)
            order = np.lexsort((ids, times))
            times, ids = times[order], ids[order]
            entry[0], entry[1], entry[2] = [times], [ids], True
        return entry[0][0], entry[1][0]

    def merged_trace(self, key):
        """Concatenate trace chunks (once); returns (times, values, indices)."""
        entry = self.traces[key]
        if isinstance(entry["times"][0], DiskColumn):   # streamed: read, keep on disk
            times = entry["times"][0].read()
            return times, entry["values"][0].read().reshape(times.size, -1), entry["indices"]
        if len(entry["times"]) > 1:
            entry["times"] = [np.concatenate(entry["times"])]
            entry["values"] = [np.concatenate(entry["values"], axis=0)]
        return entry["times"][0], entry["values"][0], entry["indices"]


class Results:
    """Spikes and traces of a simulation, one segment per ``run()`` call.

    ``dt`` is the time step in ms; ``populations`` maps label ->
    ``{"size": int, "cell_type": str, "units": {var: unit_str}}`` in network
    order.  Global ids (``source_id`` in Neo) are the index within the
    population plus the sizes of the populations before it.
    """

    def __init__(self, dt, populations):
        dt = float(dt)
        if not dt > 0:
            raise ValidationError("Results", "dt", f"must be > 0 ms (got {dt})")
        self._dt = dt
        self._pops, offset = {}, 0
        for label, info in dict(populations).items():
            size = int(info["size"])
            if size < 0:
                raise ValidationError("Results", "populations",
                                      f"population '{label}' has negative size {size}")
            self._pops[str(label)] = {
                "size": size, "cell_type": str(info.get("cell_type", "")), "offset": offset,
                "units": {str(k): str(v) for k, v in dict(info.get("units", {})).items()}}
            offset += size
        self._segments = []
        self._weights = {}   # projection label -> ([times], [weights per connection])
        self._stream = None  # a streaming.Stream when data go to disk during the run

    def _stream_to(self, directory):
        """Backend side: append every later chunk to files in ``directory`` (bounded memory)."""
        self._stream = Stream(directory)

    # ---------------------------------------------------------------- backend side

    def _current(self, what):
        if not self._segments or self._segments[-1].t_stop is not None:
            raise NeurosimError(f"Results.{what}: no open segment; call _start_segment first")
        return self._segments[-1]

    def _start_segment(self, t_start):
        """Open a new segment starting at ``t_start`` ms."""
        if self._segments and self._segments[-1].t_stop is None:
            raise NeurosimError("Results._start_segment: the previous segment is still open; "
                                "call _end_segment first")
        self._segments.append(_Segment(t_start))

    def _add_spikes(self, label, times, ids):
        """Append spikes: ``times`` float64 ms, ``ids`` int64 index within population."""
        seg = self._current("_add_spikes")
        size = self._pop(label)["size"]
        times = np.array(times, dtype=np.float64).ravel()
        ids = np.array(ids, dtype=np.int64).ravel()
        if times.shape != ids.shape:
            raise ValidationError("Results", "_add_spikes",
                                  f"times and ids differ in length ({times.size} vs {ids.size})")
        if ids.size and (ids.min() < 0 or ids.max() >= size):
            raise ValidationError("Results", "_add_spikes",
                                  f"ids out of range [0, {size}) for population '{label}'")
        if self._stream is not None:
            if label not in seg.spikes:
                n = len(self._segments)
                seg.spikes[label] = [[self._stream.column(f"seg{n}_{label}_times", np.float64)],
                                     [self._stream.column(f"seg{n}_{label}_ids", np.int64)], False]
            seg.spikes[label][0][0].append(times)
            seg.spikes[label][1][0].append(ids)
            return
        entry = seg.spikes.setdefault(label, [[], [], False])
        entry[0].append(times)
        entry[1].append(ids)
        entry[2] = False

    def _add_trace(self, label, var, times, values, indices):
        """Append samples: times (n,) ms, values (n, len(indices)), indices (k,) int."""
        seg = self._current("_add_trace")
        pop = self._pop(label)
        times = np.array(times, dtype=np.float64).ravel()
        indices = np.array(indices, dtype=np.int64).ravel()
        values = np.array(values)
        if values.dtype.kind != "f":
            values = values.astype(np.float64)
        if values.size != times.size * indices.size:
            raise ValidationError("Results", "_add_trace",
                                  f"values of '{label}.{var}' have {values.size} elements; "
                                  f"expected {times.size} samples x {indices.size} indices")
        values = values.reshape(times.size, indices.size)
        if indices.size and (indices.min() < 0 or indices.max() >= pop["size"]):
            raise ValidationError("Results", "_add_trace",
                                  f"indices out of range [0, {pop['size']}) for '{label}'")
        key = (label, str(var))
        entry = seg.traces.get(key)
        if self._stream is not None:
            if entry is None:
                n = len(self._segments)
                entry = seg.traces[key] = {"indices": indices, "dtype": values.dtype,
                                           "times": [self._stream.column(f"seg{n}_{label}_{var}_t", np.float64)],
                                           "values": [self._stream.column(f"seg{n}_{label}_{var}_v", values.dtype)]}
            entry["times"][0].append(times)
            entry["values"][0].append(values.ravel())
            return
        if entry is None:
            seg.traces[key] = {"times": [times], "values": [values], "indices": indices}
        elif not np.array_equal(entry["indices"], indices):
            raise ValidationError("Results", "_add_trace",
                                  f"indices of '{label}.{var}' changed within a segment")
        else:
            entry["times"].append(times)
            entry["values"].append(values)

    def _add_weights(self, label, time, weights):
        """Append one sample of a projection's weights (one per connection) at ``time`` ms."""
        times, values = self._weights.setdefault(str(label), ([], []))
        times.append(float(time))
        values.append(np.array(weights, dtype=float))

    def weights(self, label):
        """Recorded weights of a projection: (times in ms, array (n_samples, n_connections))."""
        if label not in self._weights:
            raise ValidationError("Results", "weights", f"no recorded weights for projection {label!r}; "
                                  f"recorded: {', '.join(self._weights) or 'none'} "
                                  "(use projection.record('weight', sampling_interval=...))")
        times, values = self._weights[label]
        return np.array(times), np.vstack(values)

    def _end_segment(self, t_stop):
        """Close the current segment at ``t_stop`` ms."""
        seg = self._current("_end_segment")
        t_stop = float(t_stop)
        if t_stop < seg.t_start:
            raise ValidationError("Results", "_end_segment",
                                  f"t_stop {t_stop} ms is before t_start {seg.t_start} ms")
        seg.t_stop = t_stop

    # ---------------------------------------------------------------- lookup helpers

    def _pop(self, label):
        pop = self._pops.get(label)
        if pop is None:
            raise ValidationError("Results", "label",
                                  f"unknown population '{label}'; valid labels: "
                                  f"{', '.join(self._pops) or '(none)'}")
        return pop

    def _segs(self, segment):
        if segment is None:
            return list(self._segments)
        n = len(self._segments)
        try:
            k = int(segment)
        except (TypeError, ValueError):
            k = None
        if k is None or not -n <= k < n:
            raise ValidationError("Results", "segment",
                                  f"no segment {segment!r}; there are {n} segment(s)")
        return [self._segments[k]]

    @staticmethod
    def _seg_stop(seg):
        return seg.t_stop if seg.t_stop is not None else seg.t_start

    # ---------------------------------------------------------------- public API

    @property
    def dt(self):
        """Simulation time step in ms."""
        return self._dt

    @property
    def labels(self):
        """Population labels in network order."""
        return list(self._pops)

    @property
    def segments(self):
        """List of (t_start, t_stop) in ms, one per run; t_stop None while open."""
        return [(s.t_start, s.t_stop) for s in self._segments]

    @property
    def duration(self):
        """Total simulated time in ms (sum over segments)."""
        return float(sum(self._seg_stop(s) - s.t_start for s in self._segments))

    def size(self, label):
        """Number of neurons in population ``label``."""
        return self._pop(label)["size"]

    def cell_type(self, label):
        """Cell type name of population ``label``."""
        return self._pop(label)["cell_type"]

    def variables(self, label):
        """Names of the variables recorded for ``label`` (in any segment)."""
        self._pop(label)
        found = []
        for seg in self._segments:
            for lab, var in seg.traces:
                if lab == label and var not in found:
                    found.append(var)
        return found

    def spikes(self, label, segment=None):
        """Spike (times ms float64, ids int64) sorted by time then id.

        ``segment`` picks one run by index; None concatenates all segments.
        """
        self._pop(label)
        parts = [seg.merged_spikes(label) for seg in self._segs(segment)]
        if not parts:
            return np.zeros(0, np.float64), np.zeros(0, np.int64)
        if len(parts) == 1:
            return parts[0][0].copy(), parts[0][1].copy()
        return (np.concatenate([p[0] for p in parts]),
                np.concatenate([p[1] for p in parts]))

    def trace(self, label, var, segment=None):
        """Recorded ``Trace(times ms, values, indices, unit)`` of ``label.var``."""
        pop = self._pop(label)
        key = (label, var)
        parts = [seg.merged_trace(key) for seg in self._segs(segment) if key in seg.traces]
        if not parts:
            recorded = self.variables(label)
            raise ValidationError("Results", "var",
                                  f"variable '{var}' of population '{label}' was not recorded"
                                  f"{'' if segment is None else f' in segment {segment}'}; "
                                  f"recorded: {', '.join(recorded) or '(none)'}")
        indices = parts[0][2]
        if any(not np.array_equal(p[2], indices) for p in parts[1:]):
            raise ValidationError("Results", "trace",
                                  f"'{label}.{var}' recorded different neurons in different "
                                  "segments; pass segment=")
        times = np.concatenate([p[0] for p in parts])
        values = np.concatenate([p[1] for p in parts], axis=0)
        return Trace(times, values, indices.copy(), pop["units"].get(var, "1"))

    def spike_counts(self, label):
        """Number of spikes per neuron (int64 array of the population size)."""
        size = self._pop(label)["size"]
        _, ids = self.spikes(label)
        return np.bincount(ids, minlength=size).astype(np.int64)

    def rates(self, label):
        """Firing rate per neuron in Hz over the whole recorded duration."""
        duration = self.duration
        if duration <= 0:
            raise ValidationError("Results", "rates", "no simulated time recorded")
        return self.spike_counts(label) / (duration / 1000.0)

    def mean_rate(self, label, t_start=None, t_stop=None):
        """Mean rate in Hz: spikes / size / duration (s), optionally in (t_start, t_stop] ms.

        The window is open on the left because a spike is stamped at the end of the
        step in which it happened: a run from t0 to t1 records spikes in (t0, t1].
        """
        size = self._pop(label)["size"]
        lo = -np.inf if t_start is None else float(t_start)
        hi = np.inf if t_stop is None else float(t_stop)
        duration = sum(max(0.0, min(hi, self._seg_stop(s)) - max(lo, s.t_start))
                       for s in self._segments)
        if duration <= 0 or size == 0:
            raise ValidationError("Results", "mean_rate",
                                  f"no recorded time in ({t_start}, {t_stop}] ms "
                                  f"for population '{label}'")
        times, _ = self.spikes(label)
        if t_start is None and t_stop is None:
            n = times.size
        else:
            n = int(np.count_nonzero((times > lo) & (times <= hi)))
        return n / size / (duration / 1000.0)

    def cv_isi(self, label):
        """Mean coefficient of variation of the inter-spike intervals.

        Averaged over neurons with at least 3 spikes (ISIs are taken within
        each segment); NaN when no neuron qualifies.  CV = std / mean (ddof=0).
        """
        size = self._pop(label)["size"]
        isis, owners = [], []
        for seg in self._segments:
            times, ids = seg.merged_spikes(label)
            if times.size < 2:
                continue
            order = np.lexsort((times, ids))
            t, i = times[order], ids[order]
            same = i[1:] == i[:-1]
            isis.append(np.diff(t)[same])
            owners.append(i[1:][same])
        if not isis:
            return float("nan")
        isi = np.concatenate(isis)
        owner = np.concatenate(owners)
        n = np.bincount(owner, minlength=size)
        ok = n >= 2
        if not ok.any():
            return float("nan")
        mean = np.bincount(owner, weights=isi, minlength=size)
        mean[ok] /= n[ok]
        dev = isi - mean[owner]
        var = np.bincount(owner, weights=dev * dev, minlength=size)
        ok &= mean > 0
        if not ok.any():
            return float("nan")
        cv = np.sqrt(var[ok] / n[ok]) / mean[ok]
        return float(np.mean(cv))

    def population_rate(self, label, bin_ms, segment=None):
        """Population rate in Hz in bins of ``bin_ms`` ms.

        Returns (bin_times, rate): bin_times are the left bin edges in ms;
        rate is spikes / size / bin width (s).  A last, shorter bin is
        normalised by its own width.
        """
        size = self._pop(label)["size"]
        bin_ms = float(bin_ms)
        if not bin_ms > 0:
            raise ValidationError("Results", "bin_ms", f"must be > 0 ms (got {bin_ms})")
        segs = self._segs(segment)
        if not segs:
            raise ValidationError("Results", "population_rate", "no segments recorded")
        t0 = min(s.t_start for s in segs)
        t1 = max(self._seg_stop(s) for s in segs)
        if not t1 > t0:
            raise ValidationError("Results", "population_rate", "no simulated time recorded")
        n_bins = max(1, int(np.ceil((t1 - t0) / bin_ms - 1e-6)))
        edges = t0 + bin_ms * np.arange(n_bins + 1)
        edges[-1] = t1
        times, _ = self.spikes(label, segment)
        counts, _ = np.histogram(times, bins=edges)
        widths_s = np.diff(edges) / 1000.0
        rate = counts / max(size, 1) / widths_s
        return edges[:-1].copy(), rate

    def __repr__(self):
        parts = []
        for label, pop in self._pops.items():
            n = sum(seg.merged_spikes(label)[0].size for seg in self._segments)
            parts.append(f"{label}: {pop['size']} x {pop['cell_type'] or '?'}, {n} spikes")
        return (f"Results(dt={self._dt:g} ms, {len(self._segments)} segment(s), "
                f"{self.duration:g} ms; " + "; ".join(parts) + ")")

    # ---------------------------------------------------------------- Neo

    def to_neo(self):
        """Convert to a ``neo.Block``: one Segment per run, like PyNN's get_data().

        Each neuron gets a SpikeTrain (ms) annotated with source_population,
        source_index (index in its population), source_id and channel_id (both the
        network-wide neuron id, as in PyNN); each recorded variable an AnalogSignal
        named after it with array_annotations channel_index.  Spike trains are
        created when first accessed (neo's multiplexed SpikeTrainList).
        """
        from .neo_export import results_to_block
        return results_to_block(self)

    # ---------------------------------------------------------------- files

    def save(self, path):
        """Write one compressed ``.npz`` (no pickle); returns the path written.

        numpy appends '.npz' when ``path`` has no such suffix.
        """
        path = os.fspath(path)
        arrays = {}
        meta_segs = []
        for k, seg in enumerate(self._segments):
            entry = {"t_start": seg.t_start, "t_stop": seg.t_stop, "traces": []}
            for p, label in enumerate(self._pops):
                times, ids = seg.merged_spikes(label)
                arrays[f"seg{k}_pop{p}_times"] = times
                arrays[f"seg{k}_pop{p}_ids"] = ids
            for j, (label, var) in enumerate(seg.traces):
                times, values, indices = seg.merged_trace((label, var))
                arrays[f"seg{k}_trace{j}_times"] = times
                arrays[f"seg{k}_trace{j}_values"] = values
                arrays[f"seg{k}_trace{j}_indices"] = indices
                entry["traces"].append({"label": label, "var": var,
                                        "unit": self._pops[label]["units"].get(var, "1"),
                                        "indices": indices.tolist()})
            meta_segs.append(entry)
        pops = {label: {"size": p["size"], "cell_type": p["cell_type"], "units": p["units"]}
                for label, p in self._pops.items()}
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "dt": self._dt,
                "populations": pops, "segments": meta_segs}
        arrays[_META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        np.savez_compressed(path, **arrays)
        return path if path.endswith(".npz") else path + ".npz"

    @classmethod
    def load(cls, path):
        """Read a file written by ``save``; anything else is a ValidationError."""
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(path)
        bad = ValidationError("Results", "load", f"'{path}' is not a neurosim results file")
        try:
            data = np.load(path, allow_pickle=False)
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise bad from exc
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise bad
        with data:
            try:
                meta = json.loads(data[_META_KEY].tobytes().decode("utf-8"))
                if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                    raise bad
                if meta.get("version", 0) > FORMAT_VERSION:
                    raise ValidationError("Results", "load",
                                          f"'{path}' has format version {meta['version']}; "
                                          f"this neurosim reads up to {FORMAT_VERSION}")
                res = cls(meta["dt"], meta["populations"])
                for k, sm in enumerate(meta["segments"]):
                    seg = _Segment(sm["t_start"])
                    seg.t_stop = sm["t_stop"]
                    for p, label in enumerate(res._pops):
                        seg.spikes[label] = [[data[f"seg{k}_pop{p}_times"]],
                                             [data[f"seg{k}_pop{p}_ids"]], True]
                    for j, tm in enumerate(sm["traces"]):
                        seg.traces[(tm["label"], tm["var"])] = {
                            "times": [data[f"seg{k}_trace{j}_times"]],
                            "values": [data[f"seg{k}_trace{j}_values"]],
                            "indices": data[f"seg{k}_trace{j}_indices"]}
                    res._segments.append(seg)
            except ValidationError:
                raise
            except (KeyError, ValueError, TypeError, UnicodeDecodeError, AttributeError) as exc:
                raise bad from exc
        return res


def load_results(path):
    """Read a ``Results`` written by ``Results.save``."""
    return Results.load(path)
