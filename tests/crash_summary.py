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


def summary(log: str, root: Path = ROOT) -> list[str]:
    """The lines to print for ``log``; empty when it holds no crash or hang. Frames are kept
    when their file lies under ``root`` (and not in a virtual environment)."""
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines) if any(m in line for m in MARKERS)]
    if not starts:
        return []
    out = []
    first = starts[0]
    head = lines[first]
    out.append("a test hung and was stopped after the timeout" if "Timeout" in head
               else head.strip())
    for line in lines[first:]:
        stripped = line.strip()
        if stripped.startswith(("~", "Thread 0x", "Current thread")) and (
                "Stack of" in stripped or "thread" in stripped.lower()):
            out.append(stripped.strip("~ "))
            continue
        match = FRAME.search(line)
        if not match:
            continue
        if match.group(1).startswith("<"):  # <frozen runpy>, <string>
            continue
        path = Path(match.group(1))
        try:
            rel = path.resolve().relative_to(root.resolve())
        except ValueError:
            continue
        if rel.parts[0] in (".venv", "venv"):
            continue
        out.append(f"  {rel}:{match.group(2)} in {match.group(3) or match.group(4)}")
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
        print("=== what went wrong (project frames, innermost last per thread) ===")
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
