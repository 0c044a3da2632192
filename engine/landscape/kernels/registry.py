"""Which compiled pieces this process has, how they were got, and when to compile.

Every kernel, surface pass and loop is compiled (or loaded from the disk cache) once per
process through :func:`compiled` and logged (:func:`log`: name, seconds, whether it came
from the cache). A marker file per piece in the cache folder remembers that it has been
compiled on this machine, so :func:`known` can tell, without compiling, whether using a
kernel now costs a disk load (milliseconds) or a compilation (seconds).

The compile policy (:func:`set_policy`) decides what a run does with a kernel that is not
known yet: ``"wait"`` (the default; scripts, the command line) compiles it there and then;
``"background"`` (a GUI) lets the run go the NumPy way this time and compiles the kernel
in a background thread for the next one. Results are the same either way.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from engine import gil
from engine.landscape.kernels import cache

POLICIES = ("wait", "background")
_lock = threading.RLock()
_entries: dict[Any, Any] = {}
_building: dict[Any, threading.Lock] = {}
_log: list[dict[str, Any]] = []
_settings: dict[str, Any] = {"threads": max(1, os.cpu_count() or 1), "policy": "wait"}
_pool: list[ThreadPoolExecutor] = []
PENDING = 6  #: background compilations that may wait (see :func:`later`)
SWITCH_INTERVAL = gil.SWITCH_INTERVAL  #: during background compilation (engine.gil)
_pending: dict[str, Callable[[], None]] = {}  # name -> job, oldest first
_running: set[str] = set()
_wake = threading.Event()
_worker: list[threading.Thread] = []


def set_threads(count: int) -> None:
    """How many threads a kernel call may use (default: every core)."""
    _settings["threads"] = max(1, int(count))


def threads() -> int:
    return _settings["threads"]


def set_policy(policy: str) -> None:
    """``"wait"``: compile a kernel when a run needs it; ``"background"``: run with NumPy
    meanwhile (see the module docstring)."""
    if policy not in POLICIES:
        raise ValueError(f"policy: expected one of {', '.join(POLICIES)}, got {policy!r}")
    _settings["policy"] = policy


def policy() -> str:
    return _settings["policy"]


def log() -> list[dict[str, Any]]:
    """Every piece compiled or loaded in this process: ``name``, ``seconds``, ``cached``."""
    with _lock:
        return list(_log)


def _marker(name: str) -> str | None:
    folder = cache.folder()
    if folder is None:
        return None
    digest = hashlib.sha256(f"{name} {cache.source_stamp()}".encode()).hexdigest()[:32]
    return os.path.join(folder, "compiled", digest)


def loaded_count() -> int:
    """How many pieces this process has compiled or loaded (grows when one more can run)."""
    with _lock:
        return len(_entries)


def loaded(name: str) -> bool:
    """True when ``name`` is compiled or loaded in this process (using it costs nothing)."""
    with _lock:
        return name in _entries


def known(name: str) -> bool:
    """True when ``name`` is in this process or was compiled on this machine before."""
    with _lock:
        if name in _entries:
            return True
    marker = _marker(name)
    return marker is not None and os.path.exists(marker)


def compiled(name: str, build: Callable[[], tuple[Any, bool]]) -> Any:
    """The piece called ``name``: ``build()`` returns it and whether it came from the disk
    cache; called once per process, timed and logged. Only builders of the same piece wait
    for each other (numba itself compiles one thing at a time)."""
    with _lock:
        if name in _entries:
            return _entries[name]
        building = _building.setdefault(name, threading.Lock())
    with building:
        with _lock:
            if name in _entries:
                return _entries[name]
        t0 = time.perf_counter()
        piece, cached = build()
        seconds = time.perf_counter() - t0
        marker = _marker(name)
        if marker is not None:
            try:
                os.makedirs(os.path.dirname(marker), exist_ok=True)
                open(marker, "wb").close()
            except OSError:
                pass
        with _lock:
            _log.append({"name": name, "seconds": seconds, "cached": cached})
            _entries[name] = piece
        return piece


def dispatcher_build(dispatcher: Any, signature: tuple) -> Callable[[], tuple[Any, bool]]:
    """A ``build`` for :func:`compiled`: one signature of a numba dispatcher."""
    def build() -> tuple[Any, bool]:
        hits = sum(dispatcher.stats.cache_hits.values())
        entry = dispatcher.compile(signature)
        return entry, sum(dispatcher.stats.cache_hits.values()) > hits
    return build


def later(name: str, job: Callable[[], None]) -> None:
    """Compile ``name`` by ``job()`` in the background thread (once).

    The newest request is compiled first, and at most :data:`PENDING` wait: a request older
    than that is dropped (it is asked again if a run still needs it), so a class that tries
    every surface in a minute compiles what it looks at now, not a backlog of what it saw.
    """
    with _lock:
        if name in _pending or name in _running or name in _entries:
            return
        _pending[name] = job
        while len(_pending) > PENDING:
            del _pending[next(iter(_pending))]  # the oldest request
        if not _worker or not _worker[0].is_alive():
            _worker[:] = [threading.Thread(target=_compile_in_background, name="kernel-compiler")]
            _worker[0].start()
        _wake.set()


def _compile_in_background() -> None:
    while True:
        with _lock:
            if not _pending:
                _wake.clear()
                job = None
            else:
                name, job = _pending.popitem()  # the newest request
                _running.add(name)
        if job is None:
            if not _wake.wait(1.0):
                with _lock:
                    if not _pending:
                        _worker.clear()
                        return
            continue
        try:
            with gil.short_turns():
                job()
        except Exception:  # a failed compile leaves the NumPy path in use; nothing breaks
            pass
        finally:
            with _lock:
                _running.discard(name)


def pending() -> list[str]:
    """The kernels waiting for (or in) background compilation, newest last."""
    with _lock:
        return [*_running, *_pending]


def wait_for_background(timeout: float | None = None) -> bool:
    """Wait until background compilation is done; True when nothing is pending."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with _lock:
            worker = _worker[0] if _worker else None
        if worker is None:
            return True
        worker.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if deadline is not None and time.monotonic() >= deadline:
            return not worker.is_alive()


def run_threads(entry: Any, head: list, scratch: list[list], tail: list) -> None:
    """Call ``entry(*head, first, stride, *scratch[first], *tail)`` on ``len(scratch)``
    threads, each taking every ``stride``-th block from ``first`` (the calls release the
    GIL; starts never interact, so the split cannot change a result)."""
    count = len(scratch)
    if count <= 1:
        entry(*head, 0, 1, *scratch[0], *tail)
        return
    with _lock:
        if not _pool or _pool[0]._max_workers < count:
            _pool[:] = [ThreadPoolExecutor(count, thread_name_prefix="kernel")]
        pool = _pool[0]
    jobs = [pool.submit(entry, *head, t, count, *scratch[t], *tail) for t in range(count)]
    for job in jobs:
        job.result()
