"""The C allocator's thresholds for a process that makes many short-lived arrays of 0.1 to 30 MB, as the engine's
passes do (:func:`keep_arrays_in_heap`). The ``numdiff`` command sets them at its start; a program that calls the
engine as a library may call the function itself. Where they are set, the passes work on larger blocks of points
(:func:`in_heap`; :data:`~.steps.FAST_BLOCK_IN_HEAP`).

glibc's ``malloc`` gives an allocation above its mmap threshold fresh pages from the kernel, and gives memory at the
top of its heap back once more than its trim threshold is free there. Both thresholds move with the program
(the mmap threshold rises to the size of each mapped block freed, the trim threshold to twice that), so the engine's
arrays of one pass were served, after the pass before, by pages the kernel had to fault in and zero again: up to
9,000 page faults per call on 100,000 points, 10 to 30% of its time, varying from run to run with the order in
which blocks were freed. Fixed thresholds at glibc's own ceiling keep those arrays in the heap.
"""

from __future__ import annotations

import ctypes
import os
import sys

# mallopt's parameters (malloc.h) and the values set: glibc's ceiling for its moving mmap threshold on 64-bit systems
# (4 * 1024 * 1024 * sizeof(long)), and twice that for the memory kept at the top of the heap. A block above it is
# still mapped and given back when freed.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
# The environment variables by which glibc takes them from the user, who is then followed.
USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


# Whether this process set them (keep_arrays_in_heap).
_state = {"set": False}


def in_heap() -> bool:
    """Whether :func:`keep_arrays_in_heap` set the thresholds in this process."""
    return _state["set"]


def keep_arrays_in_heap() -> bool:
    """Fix the C allocator's mmap and trim thresholds (see the module); whether they were set. Nothing on a system
    other than Linux, a C library without ``mallopt`` (musl's does nothing), or where the user set glibc's
    thresholds in the environment."""
    if not sys.platform.startswith("linux") or any(name in os.environ for name in USER_SETTINGS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    _state["set"] = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _state["set"]
