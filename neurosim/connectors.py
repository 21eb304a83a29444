"""Connectors with PyNN's names and semantics.

A connector describes a connection rule; ``connect()`` turns it into
:class:`Connections`: local indices (``0..n_pre-1``, ``0..n_post-1``) as int64
arrays sorted by (pre, post), plus per-connection weights (synapse's unit:
nA or uS) and delays (ms) where the connector supplies them, else None.

Random connectors draw from the numpy Generator passed to ``connect``; the
same generator state gives the same connections.  Nothing builds a dense
n_pre x n_post matrix except the rules that need one per pair
(``ArrayConnector`` by definition, distance-dependent in row chunks).
"""
import math
import numbers
from typing import NamedTuple, Optional

import numpy as np

from .errors import ValidationError
from .expressions import evaluate, names, parse_expression
from .space import distances

CHUNK = 1 << 20  # elements per temporary block
MAX_PAIRS = 1 << 58  # n_pre * n_post limit of the flattened pair index (int64 headroom)


class Connections(NamedTuple):
    """Connections as local indices, sorted by (pre, post)."""
    pre: np.ndarray
    post: np.ndarray
    weights: Optional[np.ndarray] = None
    delays: Optional[np.ndarray] = None


def _empty():
    return Connections(np.zeros(0, np.int64), np.zeros(0, np.int64))


def _integer(value, obj, attr, minimum=0):
    ok = (not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real)
          and math.isfinite(value) and value == int(value) and value >= minimum)
    if not ok:
        raise ValidationError(obj, attr, f"must be an integer >= {minimum} (got {value!r})")
    return int(value)


def _flag(value, obj, attr):
    if not isinstance(value, (bool, np.bool_)):
        raise ValidationError(obj, attr, f"must be True or False (got {value!r})")
    return bool(value)


def _self_shift(rows, cols):
    """Map column c in [0, n-1) to [0, n) skipping the row's own index."""
    cols += cols >= rows
    return cols


def _all_pairs(n_rows, n_cols, no_self):
    pre = np.repeat(np.arange(n_rows, dtype=np.int64), n_cols)
    post = np.tile(np.arange(n_cols, dtype=np.int64), n_rows)
    if no_self:
        keep = pre != post
        pre, post = pre[keep], post[keep]
    return pre, post


def _bernoulli_pairs(rng, n_rows, n_cols, p, no_self):
    """Every pair independently with probability p, by geometric gap sampling.

    Works on the flattened pair index (row-major), so the result is sorted
    and memory is the output plus one block of at most CHUNK gaps.
    """
    width = n_cols - 1 if no_self else n_cols
    total = n_rows * max(width, 0)
    if total == 0 or p == 0.0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if p == 1.0:
        return _all_pairs(n_rows, n_cols, no_self)
    mean, sd = total * p, math.sqrt(total * p * (1 - p))
    cap = int(min(total, mean + 6 * sd + 100))
    pre, post = np.empty(cap, np.int64), np.empty(cap, np.int64)
    count, cur = 0, 0  # cur: first flattened index not yet decided
    while cur < total:
        remaining = (total - cur) * p
        block = int(min(CHUNK, remaining + 6 * math.sqrt(remaining) + 16))
        gaps = np.minimum(rng.geometric(p, block), total + 1)  # tiny p: no int64 overflow
        pos = np.cumsum(gaps) + (cur - 1)
        done = pos[-1] >= total
        if done:
            pos = pos[:np.searchsorted(pos, total)]
        if count + pos.size > pre.size:  # beyond 6 sigma: grow
            grow = max(pos.size, pre.size // 4)
            pre = np.concatenate([pre, np.empty(grow, np.int64)])
            post = np.concatenate([post, np.empty(grow, np.int64)])
        r, c = np.divmod(pos, width)
        if no_self:
            _self_shift(r, c)
        pre[count:count + pos.size] = r
        post[count:count + pos.size] = c
        count += pos.size
        cur = total if done else int(pos[-1]) + 1
    return pre[:count], post[:count]


def _first_distinct(rng, rows, k, width, m):
    """Per row, the first k distinct values of m uniform draws in [0, width), sorted.

    The first k distinct values of an i.i.d. uniform sequence are a uniformly
    random k-subset (the rule treats every label alike).  Rows whose m draws
    hold fewer than k distinct values are redrawn with more draws.
    """
    vals = rng.integers(0, width, size=(rows, m))
    order = np.argsort(vals, axis=1, kind="stable")
    ordered = np.take_along_axis(vals, order, axis=1)
    first_ordered = np.ones(ordered.shape, bool)
    first_ordered[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    first = np.empty_like(first_ordered)
    np.put_along_axis(first, order, first_ordered, axis=1)
    take = first & (np.cumsum(first, axis=1) <= k)
    ok = take.sum(axis=1) == k
    out = np.empty((rows, k), np.int64)
    out[ok] = vals[take & ok[:, None]].reshape(-1, k)
    bad = np.flatnonzero(~ok)
    if bad.size:
        out[bad] = _first_distinct(rng, bad.size, k, width, 2 * m)
    out.sort(axis=1)
    return out


def _k_per_row(rng, n_rows, k, width, with_replacement):
    """(n_rows, k) int64: k values in [0, width) per row, each row sorted."""
    out = np.empty((n_rows, k), np.int64)
    if n_rows == 0 or k == 0:
        return out
    if with_replacement:
        step = max(1, CHUNK // k)
        for r0 in range(0, n_rows, step):
            block = rng.integers(0, width, size=(min(step, n_rows - r0), k))
            block.sort(axis=1)
            out[r0:r0 + block.shape[0]] = block
    elif k == width:
        out[:] = np.arange(width)
    elif 4 * k > width:  # dense rule: k smallest of width random keys
        step = max(1, CHUNK // width)
        for r0 in range(0, n_rows, step):
            keys = rng.random((min(step, n_rows - r0), width))
            idx = np.argpartition(keys, k - 1, axis=1)[:, :k]
            idx.sort(axis=1)
            out[r0:r0 + idx.shape[0]] = idx
    else:  # sparse rule: first k distinct of m draws, m from coupon-collector statistics
        i = np.arange(k, dtype=float)
        mean = float(np.sum(width / (width - i)))
        var = float(np.sum(width * i / (width - i) ** 2))
        m = int(math.ceil(mean + 6 * math.sqrt(var) + 2))
        step = max(1, CHUNK // m)
        for r0 in range(0, n_rows, step):
            rows = min(step, n_rows - r0)
            out[r0:r0 + rows] = _first_distinct(rng, rows, k, width, m)
    return out


class Connector:
    """Base class.  Subclasses implement ``_connect``."""

    _params = ()
    random = False  # True when connect() needs an rng

    def connect(self, n_pre, n_post, rng, *, same_population=False, pre_positions=None,
                post_positions=None, label="Projection"):
        """Return :class:`Connections` between ``n_pre`` and ``n_post`` neurons.

        ``same_population``: pre and post are the same neurons (so self
        connections i->i exist); ``*_positions``: ``(n, 3)`` arrays (µm) for
        distance-dependent rules; ``label`` names the projection in errors.
        """
        obj = f"{label} ({type(self).__name__})"
        n_pre = _integer(n_pre, obj, "n_pre")
        n_post = _integer(n_post, obj, "n_post")
        if same_population and n_pre != n_post:
            raise ValidationError(obj, "same_population", f"pre and post are the same population "
                                  f"but sizes differ ({n_pre} != {n_post})")
        if n_pre * n_post > MAX_PAIRS:
            raise ValidationError(obj, "size", f"{n_pre} x {n_post} neuron pairs exceed the "
                                  f"supported {MAX_PAIRS:.3g}")
        if self.random and not isinstance(rng, np.random.Generator):
            raise ValidationError(obj, "rng", "a random connector needs a numpy.random.Generator "
                                  f"(got {type(rng).__name__})")
        return self._connect(n_pre, n_post, rng, bool(same_population),
                             pre_positions, post_positions, obj)

    def _connect(self, n_pre, n_post, rng, same, pre_pos, post_pos, obj):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._params)
        return f"{type(self).__name__}({args})"

    def describe(self):
        """One line: the rule and its parameters."""
        summary = (type(self).__doc__ or "").strip().splitlines()[0]
        return f"{self!r}: {summary}"


class AllToAllConnector(Connector):
    """Every presynaptic neuron connects to every postsynaptic neuron."""

    _params = ("allow_self_connections",)

    def __init__(self, allow_self_connections=True):
        self.allow_self_connections = _flag(allow_self_connections, "AllToAllConnector",
                                            "allow_self_connections")

    def _connect(self, n_pre, n_post, rng, same, pre_pos, post_pos, obj):
        return Connections(*_all_pairs(n_pre, n_post, same and not self.allow_self_connections))


class OneToOneConnector(Connector):
    """Neuron i connects to neuron i; both sides must have the same size."""

    def _connect(self, n_pre, n_post, rng, same, pre_pos, post_pos, obj):
        if n_pre != n_post:
            raise ValidationError(obj, "size", f"needs equal sizes (got n_pre = {n_pre}, "
                                  f"n_post = {n_post})")
        idx = np.arange(n_pre, dtype=np.int64)
        return Connections(idx, idx.copy())


class FixedProbabilityConnector(Connector):
    """Each pair is connected independently with probability ``p_connect``."""

    _params = ("p_connect", "allow_self_connections")
    random = True

    def __init__(self, p_connect, allow_self_connections=True):
        ok = (not isinstance(p_connect, (bool, np.bool_)) and isinstance(p_connect, numbers.Real)
              and 0.0 <= p_connect <= 1.0)
        if not ok:
            raise ValidationError("FixedProbabilityConnector", "p_connect",
                                  f"must be in [0, 1] (got {p_connect!r})")
        self.p_connect = float(p_connect)
        self.allow_self_connections = _flag(allow_self_connections, "FixedProbabilityConnector",
                                            "allow_self_connections")

    def _connect(self, n_pre, n_post, rng, same, pre_pos, post_pos, obj):
        no_self = same and not self.allow_self_connections
        return Connections(*_bernoulli_pairs(rng, n_pre, n_post, self.p_connect, no_self))


class _FixedNumber(Connector):
    _params = ("n", "allow_self_connections", "with_replacement")
    random = True

    def __init__(self, n, allow_self_connections=True, with_replacement=False):
        name = type(self).__name__
        self.n = _integer(n, name, "n")
        self.allow_self_connections = _flag(allow_self_connections, name, "allow_self_connections")
        self.with_replacement = _flag(with_replacement, name, "with_replacement")

    def _sample(self, n_rows, n_cols, rng, same, obj, side):
        """(rows, cols) with exactly n cols per row, sorted by (row, col)."""
        no_self = same and not self.allow_self_connections
        width = n_cols - 1 if no_self else n_cols
        if n_rows == 0 or self.n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        if width <= 0 or (self.n > width and not self.with_replacement):
            why = " (self-connections excluded)" if no_self else ""
            raise ValidationError(obj, "n", f"cannot choose {self.n} distinct {side} partners from "
                                  f"{max(width, 0)} neurons{why}; use n <= {max(width, 0)} or "
                                  "with_replacement=True")
        cols = _k_per_row(rng, n_rows, self.n, width, self.with_replacement)
        rows = np.repeat(np.arange(n_rows, dtype=np.int64), self.n)
        cols = cols.ravel()
        if no_self:
            _self_shift(rows, cols)  # keeps each row sorted
        return rows, cols


class FixedNumberPreConnector(_FixedNumber):
    """Each postsynaptic neuron receives exactly ``n`` presynaptic partners chosen at random."""

    def _connect(self, n_pre, n_post, rng, same, pre_pos, post_pos, obj):
        post, pre = self._sample(n_post, n_pre, rng, same, obj, "presynaptic")
        key = pre * n_post + post
        key.sort()  # equal keys are identical pairs, so an unstable sort is fine
        pre, post = np.divmod(key, max(n_post, 1))
        return Connections(pre, post)


class FixedNumberPostConnector(_FixedNumber):
    """Each presynaptic neuron connects to exactly ``n`` postsynaptic neurons chosen at random."""

    def _connect(self, n_pre, n_post, rng, same, pre_pos, post_pos, obj):
        return Connections(*self._sample(n_pre, n_post, rng, same, obj, "postsynaptic"))


class FixedTotalNumberConnector(Connector):
    """Exactly ``n`` connections in total, between pairs chosen at random."""

    _params = ("n", "allow_self_connections", "with_replacement")
    random = True

    def __init__(self, n, allow_self_connections=True, with_replacement=True):
        self.n = _integer(n, "FixedTotalNumberConnector", "n")
        self.allow_self_connections = _flag(allow_self_connections, "FixedTotalNumberConnector",
                                            "allow_self_connections")
        self.with_replacement = _flag(with_replacement, "FixedTotalNumberConnector",
                                      "with_replacement")

    def _connect(self, n_pre, n_post, rng, same, pre_pos, post_pos, obj):
        no_self = same and not self.allow_self_connections
        width = n_post - 1 if no_self else n_post
        total = n_pre * max(width, 0)
        if self.n == 0:
            return _empty()
        if total == 0 or (self.n > total and not self.with_replacement):
            raise ValidationError(obj, "n", f"cannot make {self.n} distinct connections among "
                                  f"{total} possible pairs; use n <= {total} or with_replacement=True")
        if self.with_replacement:
            pos = rng.integers(0, total, self.n)
        else:
            pos = rng.choice(total, self.n, replace=False, shuffle=False)
        pos = pos.astype(np.int64, copy=False)
        pos.sort()
        pre = np.empty_like(pos)
        post = np.divmod(pos, width, out=(pre, pos))[1]     # in place: no third array of n
        if no_self:
            _self_shift(pre, post)
        return Connections(pre, post)


class FromListConnector(Connector):
    """Explicit connections: rows ``(i, j)``, ``(i, j, weight)`` or ``(i, j, weight, delay)``.

    ``column_names`` names the columns after i and j (PyNN); only
    ``'weight'`` (nA or uS) and ``'delay'`` (ms) are supported.  Without it,
    3 columns mean (i, j, weight) and 4 mean (i, j, weight, delay).  Indices
    must be integers >= 0 and are checked against the sizes at connect time.
    """

    _COLUMNS = ("weight", "delay")

    def __init__(self, conn_list, column_names=None):
        obj = "FromListConnector"
        try:
            arr = np.array(conn_list, dtype=float)
        except (TypeError, ValueError):
            raise ValidationError(obj, "conn_list", "must be rows (i, j[, weight[, delay]]) of "
                                  "numbers, all rows the same length") from None
        if column_names is not None:
            if isinstance(column_names, str):
                column_names = (column_names,)
            if not isinstance(column_names, (list, tuple)):
                raise ValidationError(obj, "column_names", f"must be a sequence of column names, "
                                      f"valid: {', '.join(self._COLUMNS)} (got {column_names!r})")
            column_names = tuple(column_names)
            for c in column_names:
                if c not in self._COLUMNS:
                    raise ValidationError(obj, "column_names", f"unknown column {c!r}; valid: "
                                          f"{', '.join(self._COLUMNS)}")
            if len(set(column_names)) != len(column_names):
                raise ValidationError(obj, "column_names", f"repeated name in {column_names}")
        if arr.size == 0:
            arr = arr.reshape(0, 2 + len(column_names or ()))
        if arr.ndim != 2 or not 2 <= arr.shape[1] <= 4:
            raise ValidationError(obj, "conn_list", "rows must have 2, 3 or 4 columns "
                                  f"(i, j[, weight[, delay]]) (got shape {arr.shape})")
        if column_names is None:
            column_names = self._COLUMNS[:arr.shape[1] - 2]
        elif len(column_names) != arr.shape[1] - 2:
            raise ValidationError(obj, "column_names", f"{len(column_names)} names for "
                                  f"{arr.shape[1] - 2} value columns")
        self.column_names = column_names
        bad = ~np.isfinite(arr)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValidationError(obj, "conn_list", f"row {row}: value {arr[row, col]} in column "
                                  f"{col} is not finite")
        for col, side in ((0, "pre"), (1, "post")):
            idx = arr[:, col]
            wrong = (idx != np.floor(idx)) | (idx < 0) | (idx > 2.0 ** 62)
            if wrong.any():
                row = int(np.flatnonzero(wrong)[0])
                raise ValidationError(obj, "conn_list", f"row {row}: {side} index {idx[row]:g} must "
                                      "be an integer >= 0")
        self.pre = arr[:, 0].astype(np.int64)
        self.post = arr[:, 1].astype(np.int64)
        values = {name: arr[:, 2 + k].copy() for k, name in enumerate(column_names)}
        self.weights = values.get("weight")
        self.delays = values.get("delay")
        if self.delays is not None and (self.delays <= 0).any():
            row = int(np.flatnonzero(self.delays <= 0)[0])
            raise ValidationError(obj, "conn_list", f"row {row}: delay must be > 0 ms "
                                  f"(got {self.delays[row]:g})")

    def _connect(self, n_pre, n_post, rng, same, pre_pos, post_pos, obj):
        for idx, size, side in ((self.pre, n_pre, "pre"), (self.post, n_post, "post")):
            over = idx >= size
            if over.any():
                row = int(np.flatnonzero(over)[0])
                allowed = f"0..{size - 1}" if size else "none (population is empty)"
                raise ValidationError(obj, "conn_list", f"row {row}: {side} index {idx[row]} is out "
                                      f"of range for {size} {side}synaptic neurons (allowed {allowed})")
        order = np.lexsort((self.post, self.pre))
        return Connections(self.pre[order], self.post[order],
                           None if self.weights is None else self.weights[order],
                           None if self.delays is None else self.delays[order])

    def __repr__(self):
        return (f"FromListConnector(<{self.pre.size} connections>, "
                f"column_names={self.column_names!r})")


class ArrayConnector(Connector):
    """Connections given by a boolean ``(n_pre, n_post)`` matrix: True = connected."""

    def __init__(self, array):
        arr = np.asarray(array)
        if arr.ndim != 2:
            raise ValidationError("ArrayConnector", "array", f"must be 2-D (n_pre, n_post) "
                                  f"(got shape {arr.shape})")
        if arr.dtype != bool:
            if arr.dtype.kind not in "iuf" or not np.isin(arr, (0, 1)).all():
                raise ValidationError("ArrayConnector", "array", "must hold booleans (or 0/1) "
                                      f"(got dtype {arr.dtype})")
        self.array = arr.astype(bool)  # a copy

    def _connect(self, n_pre, n_post, rng, same, pre_pos, post_pos, obj):
        if self.array.shape != (n_pre, n_post):
            raise ValidationError(obj, "array", f"shape must be (n_pre, n_post) = ({n_pre}, "
                                  f"{n_post}) (got {self.array.shape})")
        pre, post = np.nonzero(self.array)
        return Connections(pre.astype(np.int64), post.astype(np.int64))

    def __repr__(self):
        return f"ArrayConnector(<{self.array.shape[0]}x{self.array.shape[1]} bool>)"


class DistanceDependentProbabilityConnector(Connector):
    """Each pair connects with probability ``d_expression`` of their distance ``d`` (µm).

    ``d_expression`` is text such as ``"exp(-d/10)"`` or ``"d < 3"``; the
    result is clipped to [0, 1].  Needs neuron positions (a structure on both
    populations).  ``periodic_boundaries`` as in :func:`neurosim.space.distances`.
    """

    _params = ("d_expression", "allow_self_connections", "periodic_boundaries")
    random = True

    def __init__(self, d_expression, allow_self_connections=True, periodic_boundaries=None):
        obj = "DistanceDependentProbabilityConnector"
        self._tree = parse_expression(d_expression, obj, "d_expression")
        other = sorted(names(self._tree) - {"d"})
        if other:
            raise ValidationError(obj, "d_expression", f"may only use the distance 'd' "
                                  f"(got {', '.join(other)} in {d_expression!r})")
        self.d_expression = d_expression
        self.allow_self_connections = _flag(allow_self_connections, obj, "allow_self_connections")
        distances(np.zeros((0, 3)), np.zeros((0, 3)), periodic_boundaries)  # validates
        self.periodic_boundaries = periodic_boundaries

    def probabilities(self, d, obj="DistanceDependentProbabilityConnector"):
        """Connection probability for an array of distances ``d`` (µm), clipped to [0, 1]."""
        d = np.asarray(d, dtype=float)
        with np.errstate(all="ignore"):
            p = np.broadcast_to(np.asarray(evaluate(self._tree, {"d": d}), dtype=float), d.shape)
        if np.isnan(p).any():
            bad = d[np.isnan(p)].flat[0]
            raise ValidationError(obj, "d_expression", f"{self.d_expression!r} is NaN at d = {bad:g}")
        return np.clip(p, 0.0, 1.0)

    def _connect(self, n_pre, n_post, rng, same, pre_pos, post_pos, obj):
        pos = []
        for arr, size, side in ((pre_pos, n_pre, "pre"), (post_pos, n_post, "post")):
            if arr is None:
                raise ValidationError(obj, f"{side}_positions", "needs neuron positions; give the "
                                      "population a structure (e.g. neurosim.space.Line())")
            arr = np.asarray(arr, dtype=float)
            if arr.shape != (size, 3):
                raise ValidationError(obj, f"{side}_positions", f"must have shape ({size}, 3) "
                                      f"(got {arr.shape})")
            pos.append(arr)
        no_self = same and not self.allow_self_connections
        pres, posts = [], []
        step = max(1, CHUNK // max(n_post, 1))
        for r0 in range(0, n_pre, step):
            d = distances(pos[0][r0:r0 + step], pos[1], self.periodic_boundaries)
            hit = rng.random(d.shape) < self.probabilities(d, obj)
            if no_self:
                rows = np.arange(d.shape[0])
                hit[rows, rows + r0] = False
            r, c = np.nonzero(hit)
            pres.append(r.astype(np.int64) + r0)
            posts.append(c.astype(np.int64))
        if not pres:
            return _empty()
        return Connections(np.concatenate(pres), np.concatenate(posts))
