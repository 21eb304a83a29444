"""Brian2's runtime random numbers, saved and restored by value.

Cython code draws ``rand()``/``randn()`` from a buffer of 20000 numbers that Brian2 fills from
numpy's global generator and frees itself when it is used up.  The device keeps only a *pointer*
to that buffer, and Brian2's own ``get_random_state``/``set_random_state`` copy the pointer: once
another simulation has used up (and freed) the buffer in between, restoring it hands Brian2 freed
memory, which it reads and later frees a second time (glibc aborts the interpreter).  Here the
unused numbers are copied out instead and written back into whatever buffer is live.
"""
import ctypes

import numpy as np

_libc = ctypes.CDLL(None)
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]


def _buffer_size():
    from brian2.codegen.generators.cython_generator import _BUFFER_SIZE
    return _BUFFER_SIZE


def _buffer_view(address):
    return np.ctypeslib.as_array((ctypes.c_double * _buffer_size()).from_address(address))


def get_state(device):
    """numpy's global generator state and a copy of each unused Cython buffer."""
    state = {"numpy": np.random.get_state()}
    for name in ("rand", "randn"):
        index = int(getattr(device, name + "_buffer_index")[0])
        address = int(getattr(device, name + "_buffer")[0])
        # index 0 means the next draw refills the buffer, so its contents no longer matter
        values = _buffer_view(address).copy() if index and address else None
        state[name] = (index, values)
    return state


def set_state(device, state):
    """Make the device draw exactly what it would have drawn when ``state`` was taken."""
    np.random.set_state(state["numpy"])
    for name in ("rand", "randn"):
        index, values = state[name]
        pointer, position = getattr(device, name + "_buffer"), getattr(device, name + "_buffer_index")
        if values is not None:
            if int(pointer[0]) == 0:
                # Brian2 frees this buffer with free() when it is used up
                address = _libc.malloc(values.nbytes)
                if not address:
                    raise MemoryError("cannot allocate Brian2's random-number buffer")
                pointer[0] = address
            _buffer_view(int(pointer[0]))[:] = values
        position[:] = index
