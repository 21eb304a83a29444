"""Canonical units (PyNN's): ms, mV, nA, nF, uS, Hz.

A unit is a scale factor to the canonical unit of its dimension plus the
dimension itself, written as integer exponents of (voltage, time, current).
ms, mV and nA form a coherent system: nF = nA*ms/mV, uS = nA/mV, so equations
in these units need no conversion factors.  Hz is the one exception (1 Hz =
1e-3 / ms); rates are only used by sources, never inside equations.

Plain floats are taken to be in the canonical unit.  ``quantities`` objects
(what Neo uses) are converted; a wrong dimension is a ``ValidationError``.
"""
import numpy as np

from .errors import ValidationError

# name -> (scale to canonical, (voltage, time, current) exponents)
_BASE = {
    "1": (1.0, (0, 0, 0)),
    "mV": (1.0, (1, 0, 0)), "V": (1e3, (1, 0, 0)), "uV": (1e-3, (1, 0, 0)),
    "ms": (1.0, (0, 1, 0)), "s": (1e3, (0, 1, 0)), "us": (1e-3, (0, 1, 0)),
    "nA": (1.0, (0, 0, 1)), "pA": (1e-3, (0, 0, 1)), "uA": (1e3, (0, 0, 1)), "A": (1e9, (0, 0, 1)),
    "nF": (1.0, (-1, 1, 1)), "pF": (1e-3, (-1, 1, 1)), "uF": (1e3, (-1, 1, 1)),
    "uS": (1.0, (-1, 0, 1)), "nS": (1e-3, (-1, 0, 1)), "mS": (1e3, (-1, 0, 1)), "S": (1e6, (-1, 0, 1)),
    "Mohm": (1.0, (1, 0, -1)), "Gohm": (1e3, (1, 0, -1)),
    "Hz": (1e-3, (0, -1, 0)), "kHz": (1.0, (0, -1, 0)),
    "uM": (1.0, (0, 0, 0)),  # concentrations are treated as dimensionless numbers
}
DIMENSIONLESS = (0, 0, 0)
TIME = (0, 1, 0)


class Unit:
    """A parsed unit: ``scale`` to canonical and ``dims`` exponents."""

    __slots__ = ("name", "scale", "dims")

    def __init__(self, name, scale, dims):
        self.name, self.scale, self.dims = name, scale, tuple(dims)

    def __repr__(self):
        return f"Unit({self.name!r})"


def dims_mul(a, b, sign=1):
    return tuple(x + sign * y for x, y in zip(a, b))


def dims_pow(a, p):
    return tuple(x * p for x in a)


def dims_name(dims):
    """Human name of a dimension in canonical units, e.g. 'mV/ms'."""
    if dims == DIMENSIONLESS:
        return "1 (dimensionless)"
    for name in ("mV", "ms", "nA", "nF", "uS", "Mohm"):
        if _BASE[name][1] == dims:
            return name
    num, den = [], []
    for sym, e in zip(("mV", "ms", "nA"), dims):
        if e:
            (num if e > 0 else den).append(sym + (f"^{abs(e)}" if abs(e) != 1 else ""))
    return ("*".join(num) or "1") + ("/" + "/".join(den) if den else "")


def parse_unit(text, obj="unit", attr=None):
    """Parse '1', 'mV', 'mV/ms', 'nA*ms', '1/ms', 'ms^-1' into a ``Unit``."""
    s = str(text).strip().replace(" ", "").replace("µ", "u").replace("**", "^")
    if not s:
        raise ValidationError(obj, attr, "empty unit")
    scale, dims = 1.0, DIMENSIONLESS
    sign = 1
    token = ""
    for ch in s + "*":
        if ch in "*/":
            if token:
                base, _, power = token.partition("^")
                if base not in _BASE and not base.replace(".", "", 1).isdigit():
                    raise ValidationError(obj, attr, f"unknown unit '{base}' in '{text}'; "
                                          f"known units: {', '.join(sorted(_BASE))}")
                try:
                    p = int(power) if power else 1
                except ValueError:
                    raise ValidationError(obj, attr, f"bad exponent in unit '{text}'") from None
                if base in _BASE:
                    bscale, bdims = _BASE[base]
                elif float(base) == 1.0:
                    bscale, bdims = 1.0, DIMENSIONLESS
                else:
                    raise ValidationError(obj, attr, f"numbers other than 1 are not units ('{text}')")
                scale *= bscale ** (sign * p)
                dims = dims_mul(dims, dims_pow(bdims, p), sign)
            elif ch == "/" and s.startswith("/"):
                raise ValidationError(obj, attr, f"malformed unit '{text}'")
            sign = -1 if ch == "/" else 1
            token = ""
        else:
            token += ch
    return Unit(s, scale, dims)


def _quantity_to(value, unit, obj, attr):
    import quantities as pq  # only needed when the user passes quantities
    target = pq.Quantity(1.0, "dimensionless")
    for sym, e in zip(("mV", "ms", "nA"), unit.dims):
        if e:
            target = target * pq.Quantity(1.0, sym) ** e
    try:
        converted = value.rescale(target.units)
    except ValueError:
        raise ValidationError(obj, attr, f"wrong unit: got {value.dimensionality.string}, "
                              f"expected a quantity in {unit.name}") from None
    return np.asarray(converted.magnitude, dtype=float) / unit.scale


def is_quantity(value):
    return hasattr(value, "rescale") and hasattr(value, "dimensionality")


def to_canonical(value, unit, obj, attr):
    """Return ``value`` as float (or float array) in ``unit``.

    Plain numbers are taken to be in ``unit`` already; quantities are
    converted and a wrong dimension raises ``ValidationError``.
    """
    if isinstance(unit, str):
        unit = parse_unit(unit, obj, attr)
    if is_quantity(value):
        out = _quantity_to(value, unit, obj, attr)
        return float(out) if out.ndim == 0 else out
    return value


def quantity_dims(value):
    """Canonical (scale, dims) of a quantities object, or None if not expressible."""
    import quantities as pq
    simplified = value.simplified
    for name, (scale, dims) in _BASE.items():
        if name in ("uM",):
            continue
        try:
            probe = pq.Quantity(1.0, name.replace("u", "u") if name != "1" else "dimensionless")
        except LookupError:
            continue
        if probe.simplified.dimensionality == simplified.dimensionality:
            return Unit(name, scale, dims)
    return None
