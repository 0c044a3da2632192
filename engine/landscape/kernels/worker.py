"""Background compilation in a child process, so numba's compiler never shares the app's GIL.

numba compiles in Python. A kernel compiled in a thread of the app's process holds the GIL
most of the time, and the GUI thread waits for it after every call into Qt or NumPy: blocks
of up to 0.85 s were measured while kernels compiled in the background. A
:class:`Compiler` sends the compilation to a child process instead, which writes the kernel
into the same disk cache; the app then loads it from there (about 18 ms, in its background
thread). The child starts on the first request and stays for the next ones; it ends when
the app does (its stdin closes). Where it cannot start, or fails, the app compiles in its own
process as before: slower for the GUI, the same numbers.

A request is pickled onto the child's stdin and answered by one line on its stdout. It holds
no text from the user: a kernel's key and argument types, a surface's code and number of
minima (custom formulas are data for one shared compiled interpreter, never source code).
"""

from __future__ import annotations

import atexit
import os
import pickle
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO

#: Set (to the kernel cache folder) in the child's environment. The packaged app is started
#: again as the child: ``main.main`` serves when this is set, before anything else.
ENV = "OPTISCOPE_KERNEL_WORKER"


def command() -> list[str]:
    """How to start the child: this Python on :func:`serve`, or the packaged app itself."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-c", "from engine.landscape.kernels.worker import serve; serve()"]


def serve(stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
    """The child's loop: compile each request into the cache folder named by :data:`ENV`,
    answer ``ok`` or ``error <type>``, until stdin closes."""
    from engine.landscape.kernels import cache

    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    folder = os.environ.get(ENV)
    numba = cache.load(Path(folder) if folder else None)
    while True:
        header = stdin.read(4)
        if len(header) < 4:
            return
        (size,) = struct.unpack("<I", header)
        request = pickle.loads(stdin.read(size))
        try:
            if numba is None:
                raise RuntimeError(cache.reason())
            _build(request)
            answer = b"ok\n"
        except Exception as error:  # the parent compiles in its own process instead
            answer = f"error {type(error).__name__}\n".encode()
        stdout.write(answer)
        stdout.flush()


def _build(request: tuple) -> None:
    kind, args = request
    if kind == "kernel":
        from engine.landscape.kernels import _kernel

        key, signature = args
        _kernel.kernel(*key).compile(signature)
    elif kind == "exact":
        from engine.landscape.kernels import _exact

        _exact.exact_checks()
    elif kind == "pass":
        from engine.landscape.kernels import _surfaces

        _surfaces.surface_pass(*args)  # a cfunc compiles (and caches) when it is made
    else:
        raise ValueError(f"unknown request {kind!r}")


class Compiler:
    """The app's side: one child process, started on first use, one request at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._failed = False

    def compile(self, requests: list[tuple]) -> bool:
        """Have the child compile every request (in order); True when all were compiled."""
        with self._lock:
            for request in requests:
                if not self._ask(request):
                    return False
            return True

    def _ask(self, request: tuple) -> bool:
        process = self._start()
        if process is None or process.stdin is None or process.stdout is None:
            return False
        data = pickle.dumps(request)
        try:
            process.stdin.write(struct.pack("<I", len(data)) + data)
            process.stdin.flush()
            answer = process.stdout.readline()
        except (OSError, ValueError):
            answer = b""
        if not answer:  # the child is gone: compile here from now on
            self.close()
            self._failed = True
        return answer.startswith(b"ok")

    def _start(self) -> subprocess.Popen | None:
        if self._process is not None and self._process.poll() is None:
            return self._process
        if self._failed:
            return None
        from engine.landscape.kernels import cache

        folder = cache.folder()
        if folder is None:
            return None
        try:
            self._process = subprocess.Popen(
                command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, env={**os.environ, ENV: str(folder)},
                start_new_session=True)
        except OSError:
            self._failed = True
            return None
        return self._process

    def close(self) -> None:
        """End the child: it sees its stdin close; one still compiling after half a second
        is killed, so quitting the app never waits for a compilation (numba writes its cache
        files under temporary names, so nothing half-written is ever loaded)."""
        process, self._process = self._process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs (tests)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None


_compiler: list[Compiler] = []


def compiler() -> Compiler:
    """This process's compiler (made once; its child is ended when the process exits)."""
    if not _compiler:
        _compiler.append(Compiler())
        atexit.register(_compiler[0].close)
    return _compiler[0]


def requests_for(backend: Any) -> list[tuple[Any, Any]]:
    """What the child must compile for a :class:`~engine.landscape.kernels.runner.Backend`:
    the exact checks and its surface pass (unless fused, or already here), then its kernel
    with the argument types a run passes."""
    from engine.landscape.kernels import registry
    from engine.landscape.kernels.runner import EXACT

    out: list[tuple[Any, Any]] = []
    if not registry.loaded(EXACT):
        out.append(("exact", ()))
    if not backend.fused and not registry.loaded(backend.names[2]):
        out.append(("pass", tuple(backend.surface_key)))
    out.append(("kernel", (backend.kernel_key(), backend.signature())))
    return out
