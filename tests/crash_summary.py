"""Print, last in the CI log, the gist of a pytest run that crashed or hung.

``make test`` calls this on a failing run. A hang (pytest-timeout's dump) or a fatal error
(faulthandler's dump) is followed by long stacks of pytest's own frames; CI shows only the tail of
the log, so this repeats what matters: what happened and the frames of this project's code,
test first.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKERS = ("+ Timeout +", "Fatal Python error", "Destroyed while thread", "Timeout (0:")
FRAME = re.compile(r'File "([^"]+)", line (\d+)(?:, in (\S+)| in (\S+))')


def _short(path: str) -> str:
    """A library file's path from its package on (``pyqtgraph/graphicsItems/AxisItem.py``)."""
    for mark in ("site-packages/", "dist-packages/", "/lib/python3"):
        if mark in path:
            tail = path.split(mark, 1)[1]
            return tail.split("/", 1)[1] if mark == "/lib/python3" else tail
    return path


def summary(log: str, root: Path = ROOT) -> list[str]:
    """The lines to print for ``log``; empty when it holds no crash or hang. Frames are kept
    when their file lies under ``root`` (and not in a virtual environment); each thread's
    innermost frame is kept too, wherever it lies (marked ``innermost:``), since a deadlock
    sits in library code the project called."""
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines) if any(m in line for m in MARKERS)]
    if not starts:
        return []
    out = []
    first = starts[0]
    head = lines[first]
    out.append("a test hung and was stopped after the timeout" if "Timeout" in head
               else head.strip())
    block: list[tuple[str | None, str]] = []  # (project line or None, library line)
    newest_last = [False]

    def flush() -> None:
        if block:
            innermost = block[-1] if newest_last[0] else block[0]
            if innermost[0] is None:
                shown = f"  innermost: {innermost[1]}"
                out.extend([*(p for p, _ in block if p), shown] if newest_last[0]
                           else [shown, *(p for p, _ in block if p)])
            else:
                out.extend(p for p, _ in block if p)
        block.clear()

    for line in lines[first:]:
        stripped = line.strip()
        if stripped.startswith(("~", "Thread 0x", "Current thread")) and (
                "Stack of" in stripped or "thread" in stripped.lower()):
            flush()
            out.append(stripped.strip("~ "))
            continue
        match = FRAME.search(line)
        if not match:
            continue
        if match.group(1).startswith("<"):  # <frozen runpy>, <string>
            continue
        newest_last[0] = match.group(3) is not None  # "line 5, in f": a traceback, newest last
        where = f"{match.group(2)} in {match.group(3) or match.group(4)}"
        path = Path(match.group(1))
        try:
            rel = path.resolve().relative_to(root.resolve())
        except ValueError:
            rel = None
        if rel is not None and rel.parts[0] not in (".venv", "venv"):
            block.append((f"  {rel}:{where}", ""))
        else:
            block.append((None, f"{_short(match.group(1))}:{where}"))
    flush()
    return out[:60]


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else ".pytest.log")
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        print(f"crash summary: cannot read {path}: {error.strerror}")
        return 0
    lines = summary(text)
    if lines:
        print("=== what went wrong (project frames and each thread's innermost one) ===")
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
