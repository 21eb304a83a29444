"""The compiled helpers generated kernels call (backends/numba/runtime.py)."""
import numba
import numpy as np

from neurosim.backends.numba.runtime import prefetch


def test_prefetch_accepts_arrays_of_different_types_in_one_function():
    @numba.njit
    def touch(a, b, i):
        prefetch(a, i)
        prefetch(b, i)
        return a[i] + b[i]

    assert touch(np.arange(4, dtype=np.float32), np.arange(4, dtype=np.int16), 3) == 6.0
