"""Encoders: scalar, random distributed scalar (RDSE) and date/time, with htm.core semantics.

Every encoder has ``size`` and ``encode(value)``, which returns the active bits as a sorted
``int64`` index array (see :mod:`.sdr`).  Parameter names and their rules follow htm.core
(``src/htm/encoders/ScalarEncoder.cpp``, ``RandomDistributedScalarEncoder.cpp``,
``py/htm/encoders/date.py``): give ``activeBits`` or ``sparsity``, and one of ``size``,
``radius``, ``resolution`` or ``category``.  Differences from htm.core, on purpose:

* the category mode of :class:`ScalarEncoder` gives every category its own ``activeBits``
  bits (htm.core's float arithmetic can make two neighbouring categories share a bit);
* :class:`RDSE` hashes with a 64-bit mixer (splitmix64) instead of MurmurHash3, so the bits
  differ from htm.core's, while the properties (neighbouring buckets share ``activeBits - 1``
  hash draws, far buckets overlap only by chance) are the same.

:class:`NupicRDSE` is NuPIC's older RDSE (``nupic/encoders/random_distributed_scalar.py``), which
builds bucket codes one neighbour at a time under overlap rules (NAB's ``numenta`` detector).
"""
import datetime
import math

import numpy as np

__all__ = ["ScalarEncoder", "RDSE", "NupicRDSE", "DateEncoder", "MultiEncoder", "concatenate"]


def _round_half_up(x):
    """C's round() for x >= 0 (Python's round() rounds half to even)."""
    return int(math.floor(x + 0.5))


def _sparse(bits):
    return np.unique(np.asarray(bits, dtype=np.int64))


class ScalarEncoder:
    """A run of ``activeBits`` contiguous bits whose position encodes the value.

    Non-periodic: ``size - activeBits + 1`` buckets cover [minimum, maximum] including both ends,
    ``resolution = (maximum - minimum) / (buckets - 1)``.  Periodic: ``size`` buckets cover
    [minimum, maximum) and the run wraps around.  ``radius = activeBits * resolution`` is the
    distance beyond which two values share no bits.  Values outside the range raise unless
    ``clipInput``; NaN encodes as no bits.
    """

    def __init__(self, minimum, maximum, *, size=0, activeBits=0, sparsity=0.0, radius=0.0,
                 resolution=0.0, periodic=False, category=False, clipInput=False):
        if not minimum < maximum:
            raise ValueError(f"need minimum < maximum, got {minimum}, {maximum}")
        if (activeBits > 0) + (sparsity > 0) != 1:
            raise ValueError("give exactly one of activeBits, sparsity")
        if (size > 0) + (radius > 0) + bool(category) + (resolution > 0) != 1:
            raise ValueError("give exactly one of size, radius, resolution, category")
        if periodic and (clipInput or category):
            raise ValueError("periodic excludes clipInput and category")
        if category and (minimum != int(minimum) or maximum != int(maximum) or minimum < 0):
            raise ValueError("category encoder needs non-negative integer minimum and maximum")
        self.minimum, self.maximum = float(minimum), float(maximum)
        self.periodic, self.category, self.clipInput = bool(periodic), bool(category), bool(clipInput)
        if sparsity > 0:
            if not size > 0:
                raise ValueError("sparsity needs size")
            activeBits = _round_half_up(size * sparsity)
        self.activeBits = int(activeBits)
        if self.category:
            self.resolution = 1.0
            self.size = int(maximum - minimum + 1) * self.activeBits
        else:
            extent = maximum - minimum if periodic else np.nextafter(maximum, np.inf) - minimum
            if size > 0:
                self.size = int(size)
                buckets = self.size if periodic else self.size - self.activeBits + 1
                if buckets < (1 if periodic else 2):
                    raise ValueError("size too small for activeBits")
                self.resolution = extent / (buckets if periodic else buckets - 1)
            else:
                self.resolution = float(radius) / self.activeBits if radius > 0 else float(resolution)
                bands = int(math.ceil(extent / self.resolution))
                self.size = bands if periodic else bands + self.activeBits - 1
        if not 0 < self.activeBits < self.size:
            raise ValueError(f"need 0 < activeBits < size, got {self.activeBits}, {self.size}")
        self.radius = self.activeBits * self.resolution
        self.sparsity = self.activeBits / self.size

    @property
    def n_buckets(self):
        if self.category:
            return int(self.maximum - self.minimum + 1)
        return self.size if self.periodic else self.size - self.activeBits + 1

    def bucket(self, value):
        """Index of the first active bit (the bucket) for ``value``; None for NaN."""
        value = float(value)
        if math.isnan(value):
            return None
        if self.clipInput:
            value = min(max(value, self.minimum), self.maximum)
        elif self.periodic:
            if not self.minimum <= value < self.maximum:
                raise ValueError(f"input {value} outside [{self.minimum}, {self.maximum})")
        elif not self.minimum <= value <= self.maximum:
            raise ValueError(f"input {value} outside [{self.minimum}, {self.maximum}]")
        if self.category:
            if value != int(value):
                raise ValueError("category input must be an integer")
            return int(value - self.minimum)
        start = _round_half_up((value - self.minimum) / self.resolution)
        return start % self.size if self.periodic else min(start, self.size - self.activeBits)

    def encode(self, value):
        b = self.bucket(value)
        if b is None:
            return np.zeros(0, dtype=np.int64)
        if self.category:
            return np.arange(b * self.activeBits, (b + 1) * self.activeBits, dtype=np.int64)
        bits = np.arange(b, b + self.activeBits, dtype=np.int64)
        return np.sort(bits % self.size) if self.periodic else bits


_M64 = (1 << 64) - 1


def _splitmix64(x):
    """The splitmix64 finaliser on a uint64 array (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


class RDSE:
    """Random distributed scalar encoder: value -> bucket ``floor(value / resolution)``; bucket b
    activates the bits ``hash(b + i) % size`` for i in 0..activeBits-1, so buckets closer than
    ``activeBits`` share hash draws and the encoding needs no range.  Hash collisions can leave
    fewer than ``activeBits`` bits on (as in htm.core).
    """

    def __init__(self, size, *, activeBits=0, sparsity=0.0, radius=0.0, resolution=0.0,
                 category=False, seed=42):
        if size <= 0:
            raise ValueError("size must be positive")
        if (activeBits > 0) + (sparsity > 0) != 1:
            raise ValueError("give exactly one of activeBits, sparsity")
        if (radius > 0) + bool(category) + (resolution > 0) != 1:
            raise ValueError("give exactly one of radius, resolution, category")
        self.size = int(size)
        self.activeBits = int(activeBits) if activeBits > 0 else _round_half_up(size * sparsity)
        if self.activeBits <= 0:
            raise ValueError("no active bits")
        self.sparsity = self.activeBits / self.size
        self.category = bool(category)
        if category:
            radius = 1.0
        self.resolution = float(radius) / self.activeBits if radius > 0 else float(resolution)
        self.radius = self.activeBits * self.resolution
        self.seed = int(seed) & 0xFFFFFFFF

    def bucket(self, value):
        value = float(value)
        if math.isnan(value):
            return None
        if self.category and value != int(value):
            raise ValueError("category input must be an integer")
        return int(math.floor(value / self.resolution))

    def encode(self, value):
        b = self.bucket(value)
        if b is None:
            return np.zeros(0, dtype=np.int64)
        keys = (np.arange(b, b + self.activeBits, dtype=np.int64).astype(np.uint64)
                ^ np.uint64(self.seed << 32))
        return _sparse(_splitmix64(keys) % np.uint64(self.size))


class NupicRDSE:
    """NuPIC's random distributed scalar encoder (``nupic.encoders.random_distributed_scalar``,
    the value encoder of NAB's ``numenta`` detector), whose bucket codes are built as buckets are
    first needed rather than hashed:

    * bucket ``maxBuckets // 2 + round_half_away((x - offset) / resolution)``, clipped to
      [0, maxBuckets - 1]; ``offset`` is the first value encoded unless given;
    * the middle bucket gets ``w`` distinct random bits; a new bucket next to the lowest / highest
      existing one copies that neighbour's code and replaces its bit number ``index % w`` with a
      random bit that is not in the neighbour's code, redrawn until the code overlaps every
      existing bucket ``j`` by exactly ``w - |index - j|`` bits when ``|index - j| < w`` and by at
      most ``maxOverlap`` (2) bits otherwise.  Buckets further out are created one by one.

    So neighbouring buckets always share ``w - 1`` bits and distant ones at most 2 (the hashing
    :class:`RDSE` can lose bits to collisions and lets distant buckets overlap by chance).  The
    random bits come from numpy's generator, not NuPIC's, so the codes differ from NuPIC's.
    """

    def __init__(self, resolution, w=21, n=400, offset=None, seed=42, maxBuckets=1000, maxOverlap=2):
        if w <= 0 or w % 2 == 0:
            raise ValueError("w must be an odd positive integer")
        if resolution <= 0:
            raise ValueError("resolution must be positive")
        if n <= 6 * w:
            raise ValueError("n must be greater than 6 w")
        self.resolution, self.w, self.n, self.size = float(resolution), int(w), int(n), int(n)
        self.activeBits = self.w
        self.maxBuckets, self.maxOverlap = int(maxBuckets), int(maxOverlap)
        self.offset = None if offset is None else float(offset)
        self._rng = np.random.default_rng(seed)
        self.minIndex = self.maxIndex = self.maxBuckets // 2
        self.bucketMap = {self.minIndex: self._rng.permutation(self.n)[:self.w].astype(np.int64)}
        self.numTries = 0

    def bucket(self, value):
        value = float(value)
        if math.isnan(value):
            return None
        if self.offset is None:
            self.offset = value
        q = (value - self.offset) / self.resolution
        steps = int(math.floor(abs(q) + 0.5)) * (1 if q >= 0 else -1)     # Python 2 round()
        return min(max(self.maxBuckets // 2 + steps, 0), self.maxBuckets - 1)

    def _overlap_ok(self, code, index):
        bits = set(code.tolist())
        for j, other in self.bucketMap.items():
            overlap = sum(1 for b in other.tolist() if b in bits)
            d = abs(index - j)
            if (overlap != self.w - d) if d < self.w else (overlap > self.maxOverlap):
                return False
        return True

    def _new_code(self, index, new_index):
        base = self.bucketMap[index]
        code = base.copy()
        taken = set(base.tolist())
        while True:
            bit = int(self._rng.integers(self.n))
            code[new_index % self.w] = bit
            if bit not in taken and self._overlap_ok(code, new_index):
                return code
            self.numTries += 1

    def _create(self, index):
        while index < self.minIndex:
            self.bucketMap[self.minIndex - 1] = self._new_code(self.minIndex, self.minIndex - 1)
            self.minIndex -= 1
        while index > self.maxIndex:
            self.bucketMap[self.maxIndex + 1] = self._new_code(self.maxIndex, self.maxIndex + 1)
            self.maxIndex += 1

    def encode(self, value):
        b = self.bucket(value)
        if b is None:
            return np.zeros(0, dtype=np.int64)
        if b not in self.bucketMap:
            self._create(b)
        return np.sort(self.bucketMap[b])


class DateEncoder:
    """Concatenation of date/time attributes (htm.core's ``DateEncoder``); each argument is 0
    (absent), a number of active bits, or ``(activeBits, radius)``:

    * ``season`` — day of year, periodic over [0, 366), default radius 91.5 days;
    * ``dayOfWeek`` — Monday = 0, periodic over [0, 7), default radius 1 day; the value is
      shifted by half a day so its representation changes at midnight;
    * ``weekend`` — category: Friday after 18:00 through Sunday vs the rest;
    * ``customDays`` — ``(activeBits, ["sat", "sunday", ...])``: category, day in the list or not;
    * ``holiday`` — 1 on the listed days ``(month, day)`` or ``(year, month, day)``, ramping from
      0 to 1 over the day before and back over the day after, periodic over [0, 2), radius 1;
    * ``timeOfDay`` — hours, periodic over [0, 24), default radius 4 hours.

    The sub-encodings are concatenated in the order above.
    """

    _DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}

    def __init__(self, season=0, dayOfWeek=0, weekend=0, holiday=0, timeOfDay=0, customDays=0,
                 holidays=((12, 25),)):
        def periodic(arg, maximum, radius):
            bits, rad = (arg if isinstance(arg, (tuple, list)) else (arg, radius))
            return ScalarEncoder(0, maximum, activeBits=int(bits), radius=float(rad), periodic=True)

        self.encoders = []
        if season:
            self.encoders.append(("season", periodic(season, 366, 91.5)))
        if dayOfWeek:
            self.encoders.append(("dayOfWeek", periodic(dayOfWeek, 7, 1)))
        if weekend:
            self.encoders.append(("weekend", ScalarEncoder(0, 1, activeBits=int(weekend), category=True)))
        if customDays:
            bits, days = customDays
            days = [days] if isinstance(days, str) else list(days)
            try:
                self.customDays = {self._DAYS[d.lower()[:3]] for d in days}
            except KeyError as err:
                raise ValueError(f"unknown day of week in {days}") from err
            self.encoders.append(("customDays", ScalarEncoder(0, 1, activeBits=int(bits), category=True)))
        if holiday:
            self.holidays = [tuple(h) for h in holidays]
            if any(len(h) not in (2, 3) for h in self.holidays):
                raise ValueError("holidays are (month, day) or (year, month, day)")
            self.encoders.append(("holiday", ScalarEncoder(0, 2, activeBits=int(holiday), radius=1,
                                                           periodic=True)))
        if timeOfDay:
            self.encoders.append(("timeOfDay", periodic(timeOfDay, 24, 4)))
        if not self.encoders:
            raise ValueError("DateEncoder with no attributes")
        self.sizes = [enc.size for _, enc in self.encoders]
        self.size = int(sum(self.sizes))

    def _holiday_value(self, t):
        for h in self.holidays:
            day = datetime.datetime(*(h if len(h) == 3 else (t.year,) + h))
            if t >= day:
                delta = t - day
                if delta.days == 0:
                    return 1.0
                if delta.days == 1:
                    return 1.0 + delta.seconds / 86400.0
            else:
                delta = day - t
                if delta.days == 0:
                    return 1.0 - delta.seconds / 86400.0
        return 0.0

    def values(self, t):
        """The scalar fed to each sub-encoder for datetime ``t`` (name -> value)."""
        hours = t.hour + t.minute / 60.0
        out = {}
        for name, _ in self.encoders:
            if name == "season":
                out[name] = float(t.timetuple().tm_yday - 1)
            elif name == "dayOfWeek":
                out[name] = (t.weekday() + hours / 24.0 - 0.5) % 7.0
            elif name == "weekend":
                out[name] = 1 if t.weekday() >= 5 or (t.weekday() == 4 and hours > 18) else 0
            elif name == "customDays":
                out[name] = 1 if t.weekday() in self.customDays else 0
            elif name == "holiday":
                out[name] = self._holiday_value(t) % 2.0
            else:
                out[name] = hours
        return out

    def encode(self, t):
        if t is None:
            return np.zeros(0, dtype=np.int64)
        if isinstance(t, np.datetime64):
            t = t.astype("datetime64[s]").astype(datetime.datetime)
        vals = self.values(t)
        return concatenate([enc.encode(vals[name]) for name, enc in self.encoders], self.sizes)


def concatenate(sdrs, sizes):
    """Concatenate SDRs (index arrays) of the given sizes into one index array."""
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    parts = [np.asarray(s, dtype=np.int64) + off for s, off in zip(sdrs, offsets)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


class MultiEncoder:
    """Several named encoders side by side: ``encode({name: value})`` concatenates their
    outputs in the order given at construction (``[(name, encoder), ...]`` or a dict)."""

    def __init__(self, encoders):
        self.encoders = list(encoders.items()) if isinstance(encoders, dict) else list(encoders)
        self.sizes = [enc.size for _, enc in self.encoders]
        self.size = int(sum(self.sizes))

    def encode(self, values):
        return concatenate([enc.encode(values[name]) for name, enc in self.encoders], self.sizes)
