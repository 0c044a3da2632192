"""Atomic file writes: a temporary file beside the target, then ``os.replace``.

A failure or a cancel leaves no half-written file and the previous file intact. Files get
the usual permissions (0666 less the umask), not ``mkstemp``'s 0600.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: str | os.PathLike, suffix: str = "") -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    Write the whole file to the yielded path inside the ``with`` block; if the block raises,
    the temporary file is removed and ``path`` is untouched.
    """
    target = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or ".tmp",
                                         dir=target.parent)
    os.close(handle)
    try:
        yield temporary
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with replacing(path) as temporary, open(temporary, "w", encoding="utf-8",
                                            newline="") as stream:
        stream.write(text)
