"""Recorded data streamed to disk during a run, so long runs keep memory bounded.

With ``ns.compile(net, record_to=directory)`` every chunk of spikes and samples
is appended to raw binary files in ``directory`` as soon as the kernel returns
it; memory holds one chunk at a time.  Data already written survive an
interrupted or crashed run.  Reading (``results.spikes(...)``) loads the files.
"""
import os

import numpy as np


class DiskColumn:
    """One growing 1-D array kept in a raw binary file (dtype fixed)."""

    def __init__(self, path, dtype):
        self.path, self.dtype = path, np.dtype(dtype)
        open(path, "wb").close()

    def append(self, values):
        with open(self.path, "ab") as handle:
            np.ascontiguousarray(values, dtype=self.dtype).tofile(handle)

    def read(self):
        return np.fromfile(self.path, dtype=self.dtype)


class Stream:
    """Names and creates the files of one results directory."""

    def __init__(self, directory):
        os.makedirs(directory, exist_ok=True)
        self.directory = directory
        self._count = 0

    def column(self, name, dtype):
        self._count += 1
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
        return DiskColumn(os.path.join(self.directory, f"{self._count:04d}_{safe}.bin"), dtype)
