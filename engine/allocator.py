"""How this process's C allocator keeps the memory it frees (glibc on Linux; elsewhere nothing).

A map or a race allocates and frees the same few dozen arrays of 0.1-10 MB again and again.
By default glibc gives freed memory back to the system (``munmap``, or trimming the top of
its heap once more than twice the current mmap threshold is free), so the next run faults
every page in again: measured on Adam over 256² Rosenbrock starts, the NumPy work around the
kernel took 9-10 ms instead of 3.3-3.6 ms, of a 50 ms budget. :func:`keep_freed_memory`
keeps up to :data:`TRIM_MB` of freed memory for reuse; blocks of :data:`MMAP_MB` or more
(long paths of many racers) still go back to the system when freed.

The app's entry point (``main.main``) calls it once, before anything is allocated; so do the
benchmarks, which measure what the app runs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

TRIM_MB = 128  #: freed memory at the top of the heap kept for reuse
MMAP_MB = 32  #: blocks this large or larger are mapped apart and returned when freed
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h


def keep_freed_memory(trim_mb: int = TRIM_MB, mmap_mb: int = MMAP_MB) -> bool:
    """Tell glibc's ``malloc`` to keep up to ``trim_mb`` MB of freed memory and to map blocks
    of ``mmap_mb`` MB or more apart; True when it took both settings (False on other
    systems and C libraries, where nothing changes)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt settings to take)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return (mallopt(_M_MMAP_THRESHOLD, mmap_mb << 20) == 1
            and mallopt(_M_TRIM_THRESHOLD, trim_mb << 20) == 1)
