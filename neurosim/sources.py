"""Spike sources (population cell types) and current sources (injected into cells)."""
from abc import ABC, abstractmethod

import numpy as np

from .errors import ValidationError
from .neurons import check_value
from .random import RandomDistribution
from .units import to_canonical

MAX_TIME_MS = 1e14   # about 3000 years: every time in steps of dt >= 1e-4 ms fits in int64


def _float_array(value, obj, attr):
    """A 1-D float64 array of finite times/amplitudes, or a ValidationError naming the value."""
    try:
        arr = np.asarray(value, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ValidationError(obj, attr, f"must be a sequence of numbers (got {value!r})") from None
    if not np.all(np.isfinite(arr)):
        raise ValidationError(obj, attr, f"must be finite (got {arr[~np.isfinite(arr)][0]})")
    return arr


def _time(value, obj, attr):
    """A time in ms between 0 and MAX_TIME_MS."""
    if value is not None and not 0 <= value <= MAX_TIME_MS:
        raise ValidationError(obj, attr, f"must be between 0 and {MAX_TIME_MS:g} ms (got {value})")
    return value


class SpikeSource:
    """Base of population cell types that emit spikes but have no equations."""

    conductance_based = False
    receptors = {}
    recordable = []
    parameters = {}

    @property
    def name(self):
        return type(self).__name__


class SpikeSourcePoisson(SpikeSource):
    """Independent Poisson spike trains.

    rate in Hz (number, per-neuron array or RandomDistribution); start and
    duration in ms.  Each step a neuron spikes with probability rate*dt.
    """

    def __init__(self, rate=1.0, start=0.0, duration=1e12):
        obj = "SpikeSourcePoisson"
        self.rate = check_value(rate, obj, "rate", "Hz")
        if not isinstance(self.rate, RandomDistribution) and np.any(np.atleast_1d(self.rate) < 0):
            raise ValidationError(obj, "rate", f"must be >= 0 Hz (got {np.min(self.rate)})")
        self.start = check_value(start, obj, "start", "ms")
        self.duration = check_value(duration, obj, "duration", "ms")
        for attr in ("start", "duration"):
            value = getattr(self, attr)
            if not isinstance(value, float) or value < 0:
                raise ValidationError(obj, attr, f"must be one number >= 0 ms (got {value!r})")
        _time(self.start, obj, "start")
        self.parameters = {"rate": self.rate, "start": self.start, "duration": self.duration}

    def __repr__(self):
        return f"SpikeSourcePoisson(rate={self.rate!r}, start={self.start}, duration={self.duration})"


class SpikeSourceArray(SpikeSource):
    """Spikes at given times (ms).

    ``spike_times`` is one sequence used by every neuron, or a list with one
    sequence per neuron.  Times are rounded to the time step; a spike at t is
    emitted at the end of the step that ends at t, so t must be >= dt.
    """

    def __init__(self, spike_times=()):
        obj = "SpikeSourceArray"
        times = to_canonical(spike_times, "ms", obj, "spike_times")
        if not isinstance(times, (list, tuple, range, np.ndarray)) or (isinstance(times, np.ndarray)
                                                                     and times.ndim == 0):
            raise ValidationError(obj, "spike_times", f"must be a sequence of times (ms), or one sequence "
                                  f"per neuron (got {spike_times!r})")
        if len(times) and all(np.ndim(t) == 0 for t in times):
            self.per_neuron = False
            self.spike_times = [self._check(times, 0)]
        else:
            self.per_neuron = True
            self.spike_times = [self._check(to_canonical(t, "ms", obj, "spike_times"), k)
                                for k, t in enumerate(times)]
        self.parameters = {"spike_times": self.spike_times}

    @staticmethod
    def _check(times, k):
        try:
            arr = np.asarray(times, dtype=float).ravel()
        except (TypeError, ValueError):
            raise ValidationError("SpikeSourceArray", "spike_times", f"entry {k} is not a sequence of "
                                  f"numbers (got {times!r})") from None
        if not np.all(np.isfinite(arr)):
            raise ValidationError("SpikeSourceArray", "spike_times", f"entry {k} has NaN or inf")
        if np.any(arr < 0) or np.any(arr > MAX_TIME_MS):
            bad = arr[(arr < 0) | (arr > MAX_TIME_MS)][0]
            raise ValidationError("SpikeSourceArray", "spike_times", f"entry {k} has the time {bad} ms; "
                                  f"times must be between 0 and {MAX_TIME_MS:g} ms")
        return np.sort(arr)

    def times_for(self, size):
        """One sorted time array per neuron."""
        if not self.per_neuron:
            return [self.spike_times[0]] * size
        if len(self.spike_times) != size:
            raise ValidationError("SpikeSourceArray", "spike_times", f"has {len(self.spike_times)} "
                                  f"sequences for a population of {size} neurons")
        return self.spike_times

    def __repr__(self):
        return f"SpikeSourceArray({len(self.spike_times)} train(s))"


def _scalar(value, obj, attr):
    """One number (not an array or a distribution)."""
    if not isinstance(value, float):
        raise ValidationError(obj, attr, f"must be one number (got {value!r})")
    return value


class CurrentSource(ABC):
    """Base of injected currents.  ``inject_into(cells)`` attaches it to a
    Population or PopulationView."""

    def inject_into(self, cells):
        cells.inject(self)
        return self

    @abstractmethod
    def schedule(self, dt):
        """Change points: (step index, amplitude from that step on), amplitudes in nA."""


class DCSource(CurrentSource):
    """Constant current ``amplitude`` (nA) from ``start`` to ``stop`` (ms)."""

    def __init__(self, amplitude=1.0, start=0.0, stop=None):
        obj = "DCSource"
        self.amplitude = _scalar(check_value(amplitude, obj, "amplitude", "nA"), obj, "amplitude")
        self.start = _time(_scalar(check_value(start, obj, "start", "ms"), obj, "start"), obj, "start")
        self.stop = None if stop is None else _time(_scalar(check_value(stop, obj, "stop", "ms"), obj, "stop"),
                                                    obj, "stop")
        if self.start < 0:
            raise ValidationError(obj, "start", f"must be >= 0 ms (got {self.start})")
        if self.stop is not None and self.stop <= self.start:
            raise ValidationError(obj, "stop", f"must be after start = {self.start} ms (got {self.stop})")

    def schedule(self, dt):
        steps = [(int(round(self.start / dt)), self.amplitude)]
        if self.stop is not None:
            steps.append((int(round(self.stop / dt)), 0.0))
        return steps

    def __repr__(self):
        return f"DCSource(amplitude={self.amplitude}, start={self.start}, stop={self.stop})"


class StepCurrentSource(CurrentSource):
    """Piecewise-constant current: ``amplitudes[k]`` (nA) from ``times[k]`` (ms) on."""

    def __init__(self, times=(), amplitudes=()):
        obj = "StepCurrentSource"
        self.times = _float_array(to_canonical(times, "ms", obj, "times"), obj, "times")
        self.amplitudes = _float_array(to_canonical(amplitudes, "nA", obj, "amplitudes"), obj, "amplitudes")
        if self.times.shape != self.amplitudes.shape:
            raise ValidationError(obj, "amplitudes", f"needs one amplitude per time ({len(self.times)} "
                                  f"times, got {len(self.amplitudes)} amplitudes)")
        if not (np.all(np.isfinite(self.times)) and np.all(np.isfinite(self.amplitudes))):
            raise ValidationError(obj, "times", "times and amplitudes must be finite")
        if np.any(self.times < 0) or np.any(self.times > MAX_TIME_MS) or np.any(np.diff(self.times) <= 0):
            raise ValidationError(obj, "times", f"must be >= 0 and strictly increasing (got {self.times})")

    def schedule(self, dt):
        return [(int(round(t / dt)), float(a)) for t, a in zip(self.times, self.amplitudes)]

    def __repr__(self):
        return f"StepCurrentSource({len(self.times)} steps)"
