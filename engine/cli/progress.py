"""Progress of a long headless command, on stderr (stdout stays the command's output).

Quiet for the first second, so quick commands print nothing; then at most one line a second
(on a terminal, one line rewritten in place). Ctrl+C stops any command: ``main.py`` exits
with status 130 and one line (see :func:`engine.cli.main.run_parsed`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

QUIET_SECONDS = 1.0  #: nothing is printed before a command has run this long
EVERY_SECONDS = 1.0  #: then at most one update this often


class Progress:
    """Call with the fraction done (0 to 1); :meth:`finish` ends the line.

    Parameters
    ----------
    what
        What is being computed, e.g. ``"map 256×256, 500 steps"``.
    stream
        Where to write (stderr by default).
    clock
        Seconds, monotonic (a test may pass its own).
    """

    def __init__(self, what: str, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.started = clock()
        self.last = -float("inf")
        self.shown = False
        self.fraction = 0.0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, fraction: float) -> None:
        self.fraction = min(max(float(fraction), 0.0), 1.0)
        now = self.clock()
        if now - self.started < QUIET_SECONDS or now - self.last < EVERY_SECONDS:
            return
        self.last = now
        elapsed = now - self.started
        left = elapsed / self.fraction - elapsed if self.fraction > 0 else None
        eta = f", about {_duration(left)} left" if left is not None else ""
        line = (f"optiscope: {self.what}: {100 * self.fraction:.0f}% after "
                f"{_duration(elapsed)}{eta} (Ctrl+C stops)")
        self.stream.write(("\r" + line + "\033[K") if self.tty else line + "\n")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        """End the progress line (only if one was shown)."""
        if self.shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"
