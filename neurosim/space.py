"""Spatial structures: neuron positions, as in PyNN's ``pyNN.space``.

Positions are in µm (any length unit works if used consistently) and are
returned as ``(n, 3)`` float64 arrays, one row ``(x, y, z)`` per neuron.
"""
import math
import numbers

import numpy as np

from .errors import ValidationError


def _number(value, obj, attr, positive=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValidationError(obj, attr, f"must be a finite number (got {value!r})")
    if positive and value <= 0:
        raise ValidationError(obj, attr, f"must be > 0 (got {value!r})")
    return float(value)


def _count(n, obj):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValidationError(obj, "n", f"must be an integer >= 0 (got {n!r})")
    return int(n)


class Structure:
    """Base class: subclasses implement ``generate_positions(n, rng=None)``."""

    _params = ()

    def generate_positions(self, n, rng=None):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._params)
        return f"{type(self).__name__}({args})"

    def describe(self):
        return repr(self)

    def __eq__(self, other):
        return type(other) is type(self) and repr(other) == repr(self)

    def __hash__(self):
        return hash(repr(self))


class Line(Structure):
    """Neurons on the x axis: neuron i at ``(x0 + i*dx, y, z)`` (µm)."""

    _params = ("dx", "x0", "y", "z")

    def __init__(self, dx=1.0, x0=0.0, y=0.0, z=0.0):
        self.dx = _number(dx, "Line", "dx")
        self.x0 = _number(x0, "Line", "x0")
        self.y = _number(y, "Line", "y")
        self.z = _number(z, "Line", "z")

    def generate_positions(self, n, rng=None):
        n = _count(n, "Line")
        pos = np.empty((n, 3))
        pos[:, 0] = self.x0 + self.dx * np.arange(n)
        pos[:, 1] = self.y
        pos[:, 2] = self.z
        return pos


def _grid_sizes_near(n, ratios):
    """A few population sizes that fit a grid with the given aspect ratios."""
    found = []
    for nx in range(1, 10000):
        dims = [nx] + [nx / r for r in ratios]
        if all(abs(d - round(d)) < 1e-9 and round(d) >= 1 for d in dims):
            found.append(math.prod(round(d) for d in dims))
            if sum(s > n for s in found) >= 2:
                break
    return [s for s in found if s < n][-2:] + [s for s in found if s > n]


class Grid2D(Structure):
    """A 2-D grid in the xy plane at height ``z`` (µm), filled like PyNN.

    ``aspect_ratio`` is nx/ny; n neurons must form an nx × ny grid with that
    ratio.  Neuron k sits at ``(x0 + dx*(k // ny), y0 + dy*(k % ny), z)``.
    """

    _params = ("aspect_ratio", "dx", "dy", "x0", "y0", "z")

    def __init__(self, aspect_ratio=1.0, dx=1.0, dy=1.0, x0=0.0, y0=0.0, z=0.0):
        self.aspect_ratio = _number(aspect_ratio, "Grid2D", "aspect_ratio", positive=True)
        self.dx = _number(dx, "Grid2D", "dx")
        self.dy = _number(dy, "Grid2D", "dy")
        self.x0 = _number(x0, "Grid2D", "x0")
        self.y0 = _number(y0, "Grid2D", "y0")
        self.z = _number(z, "Grid2D", "z")

    def dimensions(self, n):
        """(nx, ny) for n neurons, or ValidationError if n does not fit."""
        n = _count(n, "Grid2D")
        if n == 0:
            return 0, 0
        nx = int(round(math.sqrt(n * self.aspect_ratio)))
        ny = n // nx if nx else 0
        if nx == 0 or nx * ny != n or not math.isclose(nx, ny * self.aspect_ratio, rel_tol=1e-9):
            sizes = _grid_sizes_near(n, (self.aspect_ratio,))
            raise ValidationError("Grid2D", "aspect_ratio", f"{n} neurons cannot form a grid with "
                                  f"nx/ny = {self.aspect_ratio:g} (got n = {n}); sizes that fit: "
                                  f"{', '.join(map(str, sizes))}")
        return nx, ny

    def generate_positions(self, n, rng=None):
        nx, ny = self.dimensions(n)
        ix, iy = np.indices((nx, ny), dtype=float)
        pos = np.empty((nx * ny, 3))
        pos[:, 0] = self.x0 + self.dx * ix.ravel()
        pos[:, 1] = self.y0 + self.dy * iy.ravel()
        pos[:, 2] = self.z
        return pos


class Grid3D(Structure):
    """A 3-D grid (µm), filled like PyNN.

    ``aspect_ratioXY`` = nx/ny and ``aspect_ratioXZ`` = nx/nz; n neurons must
    form an nx × ny × nz grid with those ratios.  z varies fastest, then y.
    """

    _params = ("aspect_ratioXY", "aspect_ratioXZ", "dx", "dy", "dz", "x0", "y0", "z0")

    def __init__(self, aspect_ratioXY=1.0, aspect_ratioXZ=1.0, dx=1.0, dy=1.0, dz=1.0,
                 x0=0.0, y0=0.0, z0=0.0):
        self.aspect_ratioXY = _number(aspect_ratioXY, "Grid3D", "aspect_ratioXY", positive=True)
        self.aspect_ratioXZ = _number(aspect_ratioXZ, "Grid3D", "aspect_ratioXZ", positive=True)
        for name, value in (("dx", dx), ("dy", dy), ("dz", dz), ("x0", x0), ("y0", y0), ("z0", z0)):
            setattr(self, name, _number(value, "Grid3D", name))

    def dimensions(self, n):
        """(nx, ny, nz) for n neurons, or ValidationError if n does not fit."""
        n = _count(n, "Grid3D")
        if n == 0:
            return 0, 0, 0
        a, b = self.aspect_ratioXY, self.aspect_ratioXZ
        nx = int(round((n * a * b) ** (1.0 / 3.0)))
        ny = int(round(nx / a))
        nz = int(round(nx / b))
        if nx * ny * nz != n or not (math.isclose(nx, ny * a, rel_tol=1e-9)
                                     and math.isclose(nx, nz * b, rel_tol=1e-9)):
            sizes = _grid_sizes_near(n, (a, b))
            raise ValidationError("Grid3D", "aspect_ratioXY", f"{n} neurons cannot form a grid with "
                                  f"nx/ny = {a:g} and nx/nz = {b:g} (got n = {n}); sizes that fit: "
                                  f"{', '.join(map(str, sizes))}")
        return nx, ny, nz

    def generate_positions(self, n, rng=None):
        nx, ny, nz = self.dimensions(n)
        ix, iy, iz = np.indices((nx, ny, nz), dtype=float)
        pos = np.empty((nx * ny * nz, 3))
        pos[:, 0] = self.x0 + self.dx * ix.ravel()
        pos[:, 1] = self.y0 + self.dy * iy.ravel()
        pos[:, 2] = self.z0 + self.dz * iz.ravel()
        return pos


class RandomStructure(Structure):
    """Positions drawn uniformly in a box (µm) centred on ``origin``.

    ``boundary_size=(width, height, depth)``: x is uniform in
    ``origin[0] ± width/2`` and so on (PyNN's ``Cuboid``); a size of 0 gives a
    flat structure.  Needs an ``rng`` (numpy Generator) to generate positions.
    """

    _params = ("boundary_size", "origin")

    def __init__(self, boundary_size=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0)):
        self.boundary_size = self._triple(boundary_size, "boundary_size")
        if any(s < 0 for s in self.boundary_size):
            raise ValidationError("RandomStructure", "boundary_size",
                                  f"sizes must be >= 0 (got {self.boundary_size})")
        self.origin = self._triple(origin, "origin")

    @staticmethod
    def _triple(value, attr):
        try:
            vals = tuple(value)
        except TypeError:
            vals = ()
        if len(vals) != 3:
            raise ValidationError("RandomStructure", attr, f"must be three numbers (x, y, z) (got {value!r})")
        return tuple(_number(v, "RandomStructure", attr) for v in vals)

    def generate_positions(self, n, rng=None):
        n = _count(n, "RandomStructure")
        if not isinstance(rng, np.random.Generator):
            raise ValidationError("RandomStructure", "rng", "generating random positions needs a "
                                  f"numpy.random.Generator (got {type(rng).__name__})")
        size = np.asarray(self.boundary_size)
        return np.asarray(self.origin) + (rng.random((n, 3)) - 0.5) * size


def _periods(periodic_boundaries):
    """Per-axis period lengths (0 = not periodic) from PyNN-style boundaries."""
    if periodic_boundaries is None:
        return (0.0, 0.0, 0.0)
    try:
        axes = tuple(periodic_boundaries)
    except TypeError:
        axes = ()
    if len(axes) != 3:
        raise ValidationError("distances", "periodic_boundaries", "must be three entries (x, y, z), "
                              f"each None, a length or a (min, max) pair (got {periodic_boundaries!r})")
    out = []
    for ax in axes:
        if ax is None:
            out.append(0.0)
            continue
        if isinstance(ax, numbers.Real):
            length = _number(ax, "distances", "periodic_boundaries")
        else:
            try:
                lo, hi = ax
            except (TypeError, ValueError):
                raise ValidationError("distances", "periodic_boundaries",
                                      f"entry must be None, a length or a (min, max) pair (got {ax!r})") from None
            length = _number(hi, "distances", "periodic_boundaries") - _number(lo, "distances", "periodic_boundaries")
        if length < 0:
            raise ValidationError("distances", "periodic_boundaries", f"period must be >= 0 (got {ax!r})")
        out.append(length)
    return tuple(out)


def _positions(pos, attr):
    arr = np.asarray(pos, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValidationError("distances", attr, f"must have shape (n, 3) (got {arr.shape})")
    return arr


def distances(pos_a, pos_b, periodic_boundaries=None):
    """Euclidean distances, shape ``(len(pos_a), len(pos_b))``, same unit as the positions.

    ``periodic_boundaries``: None, or three entries (x, y, z), each None (not
    periodic), a period length, or a PyNN-style ``(min, max)`` pair; distances
    along a periodic axis use the nearest image.
    """
    a, b = _positions(pos_a, "pos_a"), _positions(pos_b, "pos_b")
    periods = _periods(periodic_boundaries)
    total = np.zeros((a.shape[0], b.shape[0]))
    for axis in range(3):
        diff = np.abs(a[:, axis, None] - b[None, :, axis])
        period = periods[axis]
        if period > 0:
            diff = np.mod(diff, period)
            np.minimum(diff, period - diff, out=diff)
        total += diff * diff
    return np.sqrt(total, out=total)
