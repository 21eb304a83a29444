"""HTM spatial pooler, global or local inhibition (Hawkins, Ahmad & Cui 2017; htm.core semantics).

Each column has a *potential pool*: ``round(potentialPct * |neighbourhood|)`` inputs drawn at
random from the ``potentialRadius`` neighbourhood of the input it maps onto (the whole input
when ``potentialRadius`` >= input size).  Half of the potential synapses (htm.core's
``initConnectedPct`` = 0.5) start connected, permanence uniform in
[``synPermConnected``, 1), the others uniform in [0, ``synPermConnected``).  One step:

* overlap = number of connected synapses onto active inputs, times the boost factor
  ``exp((target density - active duty cycle) * boostStrength)`` while learning;
* global inhibition keeps the ``numActiveColumnsPerInhArea`` (or ``localAreaDensity`` x
  columns, truncated) columns with the largest overlap (ties: higher index first, as
  htm.core), dropping those below ``stimulusThreshold``;
* local inhibition (``globalInhibition=False``): the neighbourhood of a column is every column
  within ``inhibitionRadius`` in each dimension of ``columnDimensions`` (a box, wrapping around
  the edges when ``wrapAround``); a column with overlap >= ``stimulusThreshold`` is active when
  fewer than ``int(0.5 + density x (neighbours + 1))`` neighbours have a larger overlap (an
  equal overlap counts as larger when that neighbour, of lower index, is already active).
  ``density`` is ``localAreaDensity``, or ``numActiveColumnsPerInhArea / min((2 r + 1)^D,
  columns)`` capped at 0.5.  When the radius exceeds the largest column dimension the
  inhibition is global (with that density), as in htm.core.  The radius is htm.core's
  ``updateInhibitionRadius``: the average span of the columns' connected inputs (per input
  dimension, max - min + 1, averaged) times the average columns per input, ``r = round(max(1,
  (diameter - 1) / 2))``; computed at initialisation and every 50 learning steps, when the
  minimum overlap duty cycles (now the largest duty cycle in each column's neighbourhood) are
  refreshed too;
* learning: active columns add ``synPermActiveInc`` to synapses on active inputs and subtract
  ``synPermInactiveDec`` from the rest (clipped to [0, 1]); duty cycles are moving averages over
  ``min(dutyCyclePeriod, iteration)`` steps; columns whose overlap duty cycle falls below
  ``minPctOverlapDutyCycle`` x (the largest, refreshed every 50 steps) get all their potential
  permanences raised by ``synPermConnected / 10``.
"""
import math

import numpy as np
from numba import njit

__all__ = ["SpatialPooler"]


@njit(cache=True)
def _overlaps(active_inputs, connT):
    out = np.zeros(connT.shape[1], np.int64)
    for i in active_inputs:
        row = connT[i]
        for c in range(row.size):
            out[c] += row[c]
    return out


@njit(cache=True)
def _adapt_columns(cols, inp, inc, dec, perm, potential, conn, connT, connected):
    """Permanence update of the given columns: +inc on active inputs, -dec on the others
    (potential synapses only, clipped to [0, 1]); keeps the connected matrices in step
    (``connT``, inputs x columns, is written only where a synapse changes state)."""
    for c in cols:
        for i in range(perm.shape[1]):
            if potential[c, i]:
                p = perm[c, i] + (inc if inp[i] else -dec)
                p = min(max(p, 0.0), 1.0)
                perm[c, i] = p
                now = p >= connected
                if now != conn[c, i]:
                    conn[c, i] = now
                    connT[i, c] = now


def _box_offsets(dims, radius, wrap):
    """Per dimension, the distinct coordinate offsets of a neighbourhood of ``radius``."""
    out = []
    for n in dims:
        offs = np.arange(-radius, radius + 1)
        if wrap and 2 * radius + 1 > n:         # the box covers the dimension: each column once
            offs = np.arange(-(n // 2), n - n // 2)
        out.append(offs)
    return out


def neighbourhoods(dims, radius, wrap):
    """(columns, k) array: the neighbours of every column (itself excluded) within ``radius`` in
    each dimension of ``dims`` (row-major flattening), -1 padded where the box leaves a
    non-wrapping edge."""
    dims = tuple(int(d) for d in dims)
    coords = np.indices(dims).reshape(len(dims), -1).T                   # columns x D
    grids = np.meshgrid(*_box_offsets(dims, radius, wrap), indexing="ij")
    offsets = np.stack([g.ravel() for g in grids], axis=1)              # k x D
    offsets = offsets[np.any(offsets != 0, axis=1)]
    pos = coords[:, None, :] + offsets[None, :, :]                      # columns x k x D
    size = np.array(dims)
    if wrap:
        pos %= size
        valid = np.ones(pos.shape[:2], bool)
    else:
        valid = np.all((pos >= 0) & (pos < size), axis=2)
    flat = np.ravel_multi_index(tuple(np.clip(pos, 0, size - 1).transpose(2, 0, 1)), dims)
    return np.where(valid, flat, -1).astype(np.int64)


@njit(cache=True)
def _inhibit_local(overlaps, density, stimulus, hood):
    """htm.core's inhibitColumnsLocal: columns in index order; returns the active ones."""
    n = overlaps.size
    active = np.zeros(n, np.bool_)
    out = np.empty(n, np.int64)
    k = 0
    for c in range(n):
        if overlaps[c] < stimulus:
            continue
        n_hood, bigger = 0, 0
        for j in range(hood.shape[1]):
            nb = hood[c, j]
            if nb < 0:
                continue
            n_hood += 1
            d = overlaps[nb] - overlaps[c]
            if d > 0 or (d == 0 and active[nb]):
                bigger += 1
        if bigger < int(0.5 + density * (n_hood + 1)):
            active[c] = True
            out[k] = c
            k += 1
    return out[:k]


@njit(cache=True)
def _neighbourhood_max(values, hood):
    out = values.copy()
    for c in range(values.size):
        for j in range(hood.shape[1]):
            nb = hood[c, j]
            if nb >= 0 and values[nb] > out[c]:
                out[c] = values[nb]
    return out


class SpatialPooler:
    def __init__(self, inputDimensions=(32, 32), columnDimensions=(64, 64), potentialRadius=16,
                 potentialPct=0.5, globalInhibition=True, localAreaDensity=0.05,
                 numActiveColumnsPerInhArea=0, stimulusThreshold=0, synPermInactiveDec=0.008,
                 synPermActiveInc=0.05, synPermConnected=0.1, minPctOverlapDutyCycle=0.001,
                 dutyCyclePeriod=1000, boostStrength=0.0, seed=1, wrapAround=True):
        self.inputDimensions = tuple(np.atleast_1d(inputDimensions).astype(int))
        self.columnDimensions = tuple(np.atleast_1d(columnDimensions).astype(int))
        self.numInputs = int(np.prod(self.inputDimensions))
        self.numColumns = int(np.prod(self.columnDimensions))
        if (numActiveColumnsPerInhArea > 0) == (localAreaDensity > 0):
            raise ValueError("give exactly one of localAreaDensity, numActiveColumnsPerInhArea (> 0)")
        if not 0 < potentialPct <= 1:
            raise ValueError("potentialPct must be in (0, 1]")
        self.localAreaDensity = float(localAreaDensity)
        self.numActiveColumnsPerInhArea = int(numActiveColumnsPerInhArea)
        self.numActive = (self.numActiveColumnsPerInhArea if self.numActiveColumnsPerInhArea > 0
                          else int(self.localAreaDensity * self.numColumns))
        if not 0 < self.numActive < self.numColumns:
            raise ValueError(f"{self.numActive} active of {self.numColumns} columns")
        self.targetDensity = self.numActive / self.numColumns if self.numActiveColumnsPerInhArea \
            else self.localAreaDensity
        self.potentialRadius = min(int(potentialRadius), self.numInputs)
        self.potentialPct = float(potentialPct)
        self.stimulusThreshold = int(stimulusThreshold)
        self.synPermInactiveDec, self.synPermActiveInc = float(synPermInactiveDec), float(synPermActiveInc)
        self.synPermConnected = float(synPermConnected)
        self.synPermBelowStimulusInc = self.synPermConnected / 10.0
        self.minPctOverlapDutyCycle = float(minPctOverlapDutyCycle)
        self.dutyCyclePeriod, self.boostStrength = int(dutyCyclePeriod), float(boostStrength)
        self.wrapAround = bool(wrapAround)
        self.globalInhibition = bool(globalInhibition)
        self.seed = int(seed)
        self.iteration = 0
        rng = np.random.default_rng(self.seed)
        self.potential = np.zeros((self.numColumns, self.numInputs), dtype=bool)
        self.permanence = np.zeros((self.numColumns, self.numInputs), dtype=np.float32)
        for c in range(self.numColumns):
            hood = self._neighbourhood(c)
            chosen = rng.choice(hood, size=int(round(len(hood) * self.potentialPct)), replace=False)
            self.potential[c, chosen] = True
            connected = rng.random(chosen.size) <= 0.5
            self.permanence[c, chosen] = np.where(
                connected, rng.uniform(self.synPermConnected, 1.0, chosen.size),
                rng.uniform(0.0, self.synPermConnected, chosen.size))
            self._raise_to_threshold(c)
        self._conn = self.permanence >= self.synPermConnected               # columns x inputs
        self._connT = self._conn.T.copy()                                       # inputs x columns
        self.overlapDutyCycles = np.zeros(self.numColumns)
        self.activeDutyCycles = np.zeros(self.numColumns)
        self.minOverlapDutyCycles = np.zeros(self.numColumns)
        self.boostFactors = np.ones(self.numColumns)
        self._order = np.arange(self.numColumns)
        self._hood_radius = None
        self.update_inhibition_radius()

    def _neighbourhood(self, column):
        """Inputs within potentialRadius of the input this column maps onto (flattened 1-D)."""
        if self.potentialRadius >= self.numInputs or len(self.inputDimensions) > 1:
            return np.arange(self.numInputs)
        centre = int(math.floor((column + 0.5) * self.numInputs / self.numColumns))
        idx = np.arange(centre - self.potentialRadius, centre + self.potentialRadius + 1)
        if self.wrapAround:
            return np.unique(idx % self.numInputs)
        return idx[(idx >= 0) & (idx < self.numInputs)]

    def _raise_to_threshold(self, c):
        """htm.core's raisePermanencesToThreshold: make >= stimulusThreshold synapses connected."""
        if self.stimulusThreshold <= 0:
            return
        pool = np.flatnonzero(self.potential[c])
        if pool.size == 0:
            return
        k = min(self.stimulusThreshold, pool.size)
        kth = np.sort(self.permanence[c, pool])[::-1][k - 1]
        if kth < self.synPermConnected:
            self.permanence[c, pool] = np.minimum(
                self.permanence[c, pool] + (self.synPermConnected - kth), 1.0)

    def _refresh(self, cols):
        self._conn[cols] = self.permanence[cols] >= self.synPermConnected
        self._connT[:, cols] = self._conn[cols].T

    # ----------------------------------------------------------------- inhibition
    def average_connected_span(self):
        """htm.core's avgConnectedSpanForColumnND averaged over the columns (inputs)."""
        dims = self.inputDimensions
        spans = np.zeros(self.numColumns)
        for c in range(self.numColumns):
            idx = np.flatnonzero(self._conn[c])
            if idx.size:
                coords = np.unravel_index(idx, dims)
                spans[c] = np.mean([x.max() - x.min() + 1 for x in coords])
        return float(spans.mean())

    def average_columns_per_input(self):
        n = max(len(self.columnDimensions), len(self.inputDimensions))
        cols = list(self.columnDimensions) + [1] * (n - len(self.columnDimensions))
        inps = list(self.inputDimensions) + [1] * (n - len(self.inputDimensions))
        return float(np.mean([c / i for c, i in zip(cols, inps)]))

    def update_inhibition_radius(self):
        """htm.core's updateInhibitionRadius (the largest column dimension when global)."""
        if self.globalInhibition:
            self.inhibitionRadius = max(self.columnDimensions)
            return self.inhibitionRadius
        diameter = self.average_connected_span() * self.average_columns_per_input()
        self.inhibitionRadius = int(max(1.0, (diameter - 1) / 2) + 0.5)
        return self.inhibitionRadius

    def _neighbours(self):
        if self._hood_radius != self.inhibitionRadius:
            self._hood = neighbourhoods(self.columnDimensions, self.inhibitionRadius, self.wrapAround)
            self._hood_radius = self.inhibitionRadius
        return self._hood

    def _is_global(self):
        return self.globalInhibition or self.inhibitionRadius > max(self.columnDimensions)

    def _local_density(self):
        if self.numActiveColumnsPerInhArea <= 0:
            return self.localAreaDensity
        area = min((2 * self.inhibitionRadius + 1) ** len(self.columnDimensions), self.numColumns)
        return min(self.numActiveColumnsPerInhArea / area, 0.5)

    def inhibit(self, overlaps):
        """Active columns (sorted) for the given (boosted) overlaps, global or local."""
        overlaps = np.asarray(overlaps, dtype=np.float64)
        if self._is_global():
            k = self.numActive if self.globalInhibition else int(self._local_density() * self.numColumns)
            order = np.lexsort((-self._order, -overlaps))[:k]
            return np.sort(order[overlaps[order] >= self.stimulusThreshold])
        return _inhibit_local(overlaps, self._local_density(), float(self.stimulusThreshold), self._neighbours())

    def overlaps(self, active_inputs):
        """Connected synapses onto the active inputs, per column."""
        return _overlaps(np.asarray(active_inputs, dtype=np.int64), self._connT)

    def compute(self, active_inputs, learn=True):
        """Active columns (sorted indices) for the active input bits ``active_inputs``."""
        active_inputs = np.unique(np.asarray(active_inputs, dtype=np.int64))
        if active_inputs.size and (active_inputs[0] < 0 or active_inputs[-1] >= self.numInputs):
            raise ValueError("input index out of range")
        self.iteration += 1
        overlaps = self.overlaps(active_inputs)
        if not self.globalInhibition:
            boosted = overlaps * self.boostFactors if learn and self.boostStrength > 0 else overlaps
            active = self.inhibit(boosted)
            if learn:
                self._learn(active_inputs, active, overlaps)
            return active
        if learn and self.boostStrength > 0:
            boosted = overlaps * self.boostFactors
            order = np.lexsort((-self._order, -boosted))[:self.numActive]
        else:   # integer overlaps: one exact key, overlap first, then the higher index
            boosted = overlaps
            key = overlaps * self.numColumns + self._order
            order = np.argpartition(-key, self.numActive - 1)[:self.numActive]
        # top-k, ties resolved towards the higher column index (htm.core)
        active = np.sort(order[boosted[order] >= self.stimulusThreshold])
        if learn:
            self._learn(active_inputs, active, overlaps)
        return active

    def _learn(self, active_inputs, active, overlaps):
        inp = np.zeros(self.numInputs, dtype=bool)
        inp[active_inputs] = True
        _adapt_columns(active.astype(np.int64), inp, self.synPermActiveInc, self.synPermInactiveDec,
                       self.permanence, self.potential, self._conn, self._connT, self.synPermConnected)
        if self.stimulusThreshold > 0:
            for c in active:
                self._raise_to_threshold(c)
            self._refresh(active)
        period = min(self.dutyCyclePeriod, self.iteration)
        decay = (period - 1) / period
        self.overlapDutyCycles *= decay
        self.overlapDutyCycles[overlaps > 0] += 1.0 / period
        self.activeDutyCycles *= decay
        self.activeDutyCycles[active] += 1.0 / period
        weak = np.flatnonzero(self.overlapDutyCycles < self.minOverlapDutyCycles)
        if weak.size:
            _adapt_columns(weak.astype(np.int64), np.ones(self.numInputs, dtype=bool),
                           self.synPermBelowStimulusInc, 0.0, self.permanence, self.potential,
                           self._conn, self._connT, self.synPermConnected)
        if self.boostStrength > 0:
            self.boostFactors = np.exp((self.targetDensity - self.activeDutyCycles) * self.boostStrength)
        if self.iteration % 50 == 0:
            if self._is_global():
                self.minOverlapDutyCycles[:] = self.minPctOverlapDutyCycle * self.overlapDutyCycles.max()
            else:
                self.minOverlapDutyCycles[:] = self.minPctOverlapDutyCycle * _neighbourhood_max(
                    self.overlapDutyCycles, self._neighbours())
            if not self.globalInhibition:
                self.update_inhibition_radius()

    def getConnectedCounts(self):
        return self._connT.sum(axis=0)
