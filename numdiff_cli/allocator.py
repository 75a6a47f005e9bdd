"""The C allocator's thresholds for a process that makes many short-lived arrays of 0.1 to 30 MB, as the engine's
passes do (:func:`keep_arrays_in_heap`). The ``numdiff`` command sets them at its start; a program that calls the
engine as a library may call the function itself. Where they are set, the engine's fast and scaled passes work on
blocks of points three times larger (:func:`~.numerics.blocks.set_fast_block`).

glibc's ``malloc`` gives an allocation above its mmap threshold fresh pages from the kernel, and gives memory at the
top of its heap back once more than its trim threshold is free there. Both thresholds move with the program
(the mmap threshold rises to the size of each mapped block freed, the trim threshold to twice that), so the engine's
arrays of one pass were served, after the pass before, by pages the kernel had to fault in and zero again: up to
9,000 page faults per call on 100,000 points, 10 to 30% of its time, varying from run to run with the order in
which blocks were freed. Fixed thresholds at glibc's own ceiling keep those arrays in the heap. (Smaller ones do
not: at 8 MB, arrays of ten values per point of 100,000 points are mapped again, and the gains are gone; with a trim
threshold of 16 MB instead of 64, half of them. The cost is memory the heap keeps for reuse: the peak of ``hessian``
at 1,000 variables, the largest working set of the documented limits, went from 260 to 303 MB, side by side.)
"""

from __future__ import annotations

import os
import sys

from numdiff_cli.numerics.blocks import FAST_BLOCK_IN_HEAP, set_fast_block

# mallopt's parameters (malloc.h) and the values set: glibc's ceiling for its moving mmap threshold on 64-bit systems
# (4 * 1024 * 1024 * sizeof(long)), and twice that for the memory kept at the top of the heap. A block above it is
# still mapped and given back when freed.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
# The environment variables by which glibc takes them from the user, who is then followed (GLIBC_TUNABLES where it
# sets any of glibc.malloc's).
USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


def user_set() -> bool:
    """Whether the user set glibc's malloc parameters in the environment."""
    return any(name in os.environ for name in USER_SETTINGS) or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", "")


def keep_arrays_in_heap() -> bool:
    """Fix the C allocator's mmap and trim thresholds (see the module), and with them the engine's larger blocks;
    whether they were set. Nothing on a system other than Linux, a Python without ctypes, a C library without
    ``mallopt`` (musl's does nothing), or where the user set glibc's malloc parameters in the environment."""
    if not sys.platform.startswith("linux") or user_set():
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (ImportError, OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    fixed = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    if fixed:
        set_fast_block(FAST_BLOCK_IN_HEAP)
    return fixed
