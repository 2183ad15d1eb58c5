"""The header of an array in numpy's .npy format, read where the readers of the index's matrices need the data's
position in the file rather than the data (kb.index.vector.ExactRows, kb.index.impacts)."""
from __future__ import annotations

from typing import BinaryIO

import numpy as np


def read_npy_header(handle: BinaryIO) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """(shape, Fortran order, dtype, where the data starts) of the array whose .npy header starts at `handle`'s
    position; ValueError when it is not one."""
    version = np.lib.format.read_magic(handle)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read(handle)
    return shape, fortran, dtype, handle.tell()
