"""Validation shared by the models' parameter dataclasses."""
from dataclasses import fields

import numpy as np

from neurosim.errors import ValidationError


def check_number_fields(params, zero_allowed, skip=()):
    """Every ``int`` field of the dataclass ``params`` an integer >= 1, every ``float`` field a
    finite number > 0 (>= 0 with ``zero_allowed``); ValidationError naming the field otherwise."""
    name = type(params).__name__
    for f in fields(params):
        value = getattr(params, f.name)
        if f.name in skip:
            continue
        if f.type in (int, "int") and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                       or value < 1):
            raise ValidationError(name, f.name, f"must be an integer >= 1 (got {value!r})")
        if f.type in (float, "float"):
            bad = (isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value)
                   or value < 0 or (value == 0 and not zero_allowed))
            if bad:
                raise ValidationError(name, f.name, f"must be a finite number {'>=' if zero_allowed else '>'} 0 "
                                      f"(got {value!r})")
