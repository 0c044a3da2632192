"""Child processes for tests, bounded so that none can hang the suite.

``subprocess.run(..., timeout=T)`` kills only the direct child on a timeout and then waits for
its pipes to close: a grandchild that inherited them (Xvfb under ``xvfb-run``, say) keeps that
wait going for ever. Here each child runs in its own session with stdin closed, and a timeout,
or the end of the run, kills its whole process group.

``xvfb`` starts an X server without ``xvfb-run``: that script waits for a SIGUSR1 that never
comes when the signal is ignored on entry (as it may be under a CI runner), so it can hang before
running anything. ``Xvfb -displayfd`` writes its display number instead.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run(cmd: Sequence[str], *, timeout: float, cwd: str | os.PathLike | None = ROOT,
        env: dict[str, str] | None = None, input: str | None = None,
        ) -> subprocess.CompletedProcess:
    """Run ``cmd`` to the end, text mode, stdout and stderr captured; fail the test (with the
    output so far) if it has not finished after ``timeout`` seconds."""
    cmd = [str(part) for part in cmd]
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, text=True, start_new_session=True,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            out, err = "", "(its output pipes stayed open after the kill)"
        pytest.fail(f"{' '.join(cmd[:4])} ... did not finish in {timeout:g} s\n"
                    f"stdout tail:\n{(out or '')[-2000:]}\nstderr tail:\n{(err or '')[-3000:]}",
                    pytrace=False)
    finally:
        _kill_group(proc.pid)  # whatever it left behind
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@contextmanager
def xvfb(screen: str = "1280x1024x24", timeout: float = 30.0) -> Iterator[str]:
    """Yield the ``DISPLAY`` of a fresh Xvfb; skip the test when Xvfb is not installed."""
    exe = shutil.which("Xvfb")
    if exe is None:
        pytest.skip("Xvfb not found: `make test` installs it (Debian package xvfb) as root")
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [exe, "-displayfd", str(write_end), "-screen", "0", screen, "-nolisten", "tcp"],
        pass_fds=(write_end,), start_new_session=True, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    os.close(write_end)
    try:
        number = b""
        deadline = time.monotonic() + timeout
        while not number.endswith(b"\n"):
            left = deadline - time.monotonic()
            ready = select.select([read_end], [], [], max(0.0, left))[0] if left > 0 else []
            chunk = os.read(read_end, 16) if ready else b""
            if not chunk:
                _kill_group(proc.pid)
                _, err = proc.communicate(timeout=10)
                pytest.fail(f"Xvfb gave no display in {timeout:g} s: {err[-1500:]}",
                            pytrace=False)
            number += chunk
        yield f":{int(number)}"
    finally:
        os.close(read_end)
        _kill_group(proc.pid)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def xcb_env(display: str, **extra: str) -> dict[str, str]:
    """The environment for a Qt child on ``display`` with the xcb platform."""
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "XAUTHORITY")}
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", **extra)
    return env
