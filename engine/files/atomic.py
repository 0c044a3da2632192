"""Atomic file writes: a temporary file beside the target, checked, then ``os.replace``.

A failure (a full disk, a read-only folder, a folder or nothing where the file should go), a
short write or a cancel leaves no half-written file and the previous file intact, and is
reported as an :class:`OSError` whose message names the file and the reason. The data is
flushed to the disk (``fsync``) and its size checked before the rename.

A temporary name carries the writing process's id (``.NAME.PID.RANDOM.tmp``): a save killed
half-way leaves one behind, and the next save of the same file removes every temporary file
whose process is gone. Files get the usual permissions (0666 less the umask), not
``mkstemp``'s 0600.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_OURS = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]{8}(?P<suffix>\..*)?$")


class WriteError(OSError):
    """A file could not be written; the message names it and says why."""


def _reason(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, still running
    return True


def stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Temporary files of earlier writes of ``path`` whose process is gone (killed saves)."""
    target = Path(path)
    found = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return []
    for entry in entries:
        match = _OURS.match(entry.name)
        if match and match["name"] == target.name and not _alive(int(match["pid"])):
            found.append(entry)
    return found


def clean_stale(path: str | os.PathLike) -> int:
    """Remove :func:`stale_temporaries` of ``path``; return how many went."""
    removed = 0
    for entry in stale_temporaries(path):
        try:
            entry.unlink()
            removed += 1
        except OSError:
            pass
    return removed


def _check_folder(target: Path) -> None:
    if target.is_dir():
        raise WriteError(errno.EISDIR, f"cannot write {str(target)!r}: it is a folder")
    if not target.parent.is_dir():
        raise WriteError(errno.ENOENT, f"cannot write {str(target)!r}: no such folder "
                         f"{str(target.parent)!r}")


@contextmanager
def replacing(path: str | os.PathLike, suffix: str = "") -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    Write the whole file to the yielded path inside the ``with`` block; if the block raises,
    the temporary file is removed and ``path`` is untouched. An empty result is refused (no
    writer of this app makes an empty file).

    Raises
    ------
    WriteError
        (an OSError) naming the file and the reason, when the folder is missing or is the
        target, the temporary file cannot be made, or the result cannot be flushed or renamed.
    """
    target = Path(path)
    _check_folder(target)
    clean_stale(target)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.",
                                             suffix=suffix or ".tmp", dir=target.parent)
    except OSError as error:
        raise WriteError(error.errno or errno.EIO,
                         f"cannot write {str(target)!r}: {_reason(error)}") from None
    os.close(handle)
    try:
        yield temporary
        try:
            size = os.path.getsize(temporary)
            if size == 0:
                raise WriteError(errno.EIO, f"cannot write {str(target)!r}: nothing was written")
            with open(temporary, "rb+") as stream:
                os.fsync(stream.fileno())
            umask = os.umask(0o022)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
            os.replace(temporary, target)
        except WriteError:
            raise
        except OSError as error:
            raise WriteError(error.errno or errno.EIO,
                             f"cannot write {str(target)!r}: {_reason(error)}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; every byte is checked to be on the disk first.

    Raises
    ------
    WriteError
        Naming the file and the reason (a full disk, a read-only folder, ...).
    """
    target = Path(path)
    with replacing(target, suffix=target.suffix or ".tmp") as temporary:
        try:
            with open(temporary, "wb") as stream:
                stream.write(data)
                stream.flush()
                written = os.fstat(stream.fileno()).st_size
        except OSError as error:
            raise WriteError(error.errno or errno.EIO,
                             f"cannot write {str(target)!r}: {_reason(error)}") from None
        if written != len(data):
            raise WriteError(errno.EIO, f"cannot write {str(target)!r}: only {written:,} of "
                             f"{len(data):,} bytes were written")


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`write_bytes`)."""
    write_bytes(path, text.encode("utf-8"))
