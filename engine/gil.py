"""Short turns of the GIL while a background thread runs Python beside the GUI thread.

Python hands the GIL to a waiting thread only every switch interval (5 ms by default), and
a GUI thread gives it up at every call into Qt or NumPy that releases it: each time it may
then wait a whole interval to get it back. Over an action's hundreds of such calls that adds
up (blocks of 0.85 s were measured while kernels compiled in the background; a map's worker
thread stretched the GUI's 8 ms slices several times over). While any background thread is
inside :func:`short_turns`, the interval is :data:`SWITCH_INTERVAL`.

Threads may enter and leave in any order: the interval goes back to what it was only when
the last one leaves (each saving and restoring its own, one could leave it short for good).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_INTERVAL = 0.0005  #: seconds a thread may hold the GIL while another waits for it

_lock = threading.Lock()
_inside = [0]
_before = [sys.getswitchinterval()]


@contextmanager
def short_turns() -> Iterator[None]:
    """Inside, the GIL changes hands at least every :data:`SWITCH_INTERVAL` seconds."""
    with _lock:
        if _inside[0] == 0:
            _before[0] = sys.getswitchinterval()
            sys.setswitchinterval(min(_before[0], SWITCH_INTERVAL))
        _inside[0] += 1
    try:
        yield
    finally:
        with _lock:
            _inside[0] -= 1
            if _inside[0] == 0:
                sys.setswitchinterval(_before[0])
