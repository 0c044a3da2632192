"""MNIST for the training tab: a user's file, the Keras cache, a bounded download, or the subset
bundled with the app.

Every file is read as the Keras ``mnist.npz`` layout (``x_train``, ``y_train``, ``x_test``,
``y_test``) with ``allow_pickle=False``, and checked before use: a wrong file is refused with a
:class:`DatasetError` that names the file and what is wrong. ``resolve("auto")`` never blocks
for long: the download runs in a daemon thread and is abandoned after ``download_timeout``
seconds, and the bundled subset (5,000 real digits, see ``resources/MNIST-ATTRIBUTION.md``)
is the fallback. Nothing here imports TensorFlow unless a download is attempted.
"""

from __future__ import annotations

import math
import os
import stat
import threading
import time
import tokenize
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from engine import resources
from engine.mnist.settings import MAX_SAMPLES
from engine.optimizers import tensorflow_loader

__all__ = [
    "BUNDLED_PATH",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "bundled",
    "first_training_samples",
    "keras_cache_path",
    "load_npz",
    "resolve",
]

KEYS = ("x_train", "y_train", "x_test", "y_test")
IMAGE_SHAPE = (28, 28)
FULL_NAME = "MNIST"
BUNDLED_NAME = "MNIST subset (bundled)"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_POLL_SECONDS = 0.05


BUNDLED_PATH = resources.path("mnist_subset.npz")


class DatasetError(ValueError):
    """A dataset file was refused; the message names the file and what is wrong."""


@dataclass(frozen=True)
class DatasetInfo:
    """Where the data came from, for the user.

    Attributes
    ----------
    name
        ``"MNIST"`` or ``"MNIST subset (bundled)"``.
    source
        ``"file: PATH"``, ``"Keras cache"``, ``"download"`` or ``"bundled"``.
    n_train, n_test
        Number of training and test images.
    note
        Why this source was chosen when it is not the one asked for (e.g. a fallback), or "".
    """

    name: str
    source: str
    n_train: int
    n_test: int
    note: str = ""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images ``(N, 28, 28)`` and labels ``(N,)`` as stored (uint8, read-only) and their info."""

    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    info: DatasetInfo


def load_npz(path: str | os.PathLike[str]) -> Dataset:
    """Read and check a file in Keras's ``mnist.npz`` layout.

    Parameters
    ----------
    path
        An ``.npz`` archive with integer arrays ``x_train (N, 28, 28)``, ``y_train (N,)``,
        ``x_test (M, 28, 28)``, ``y_test (M,)``; pixels in 0..255, labels in 0..9.

    Returns
    -------
    Dataset
        uint8 arrays; ``info.source`` is ``"file: PATH"``.

    Raises
    ------
    DatasetError
        For a missing, unreadable, corrupt or truncated file (or a folder, pipe or device), more
        than :data:`engine.mnist.settings.MAX_SAMPLES` samples in a part, a member that is not
        .npy data or whose header is malformed or claims another size than
        it holds, a pickled (object) array (never unpickled), a missing array, a wrong dtype,
        shape or length, or values out of range.
    """
    name = os.fspath(path)
    arrays = {}
    try:
        # Our own handle: np.load leaks its handle when the zip is corrupt. Non-blocking, so a
        # named pipe is refused below instead of waiting forever for a writer.
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise DatasetError(f"{name}: no such file") from None
    except OSError as error:
        raise DatasetError(f"{name}: cannot read the file ({error.strerror or error})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise DatasetError(f"{name}: cannot read the file ({what})")
    with os.fdopen(fd, "rb") as handle:
        if handle.read(4) not in _ZIP_MAGIC:
            raise DatasetError(f"{name}: not an .npz archive (expected Keras's mnist.npz format)")
        handle.seek(0)
        try:
            with np.load(handle, allow_pickle=False) as archive:
                missing = [key for key in KEYS if key not in archive.files]
                if missing:
                    raise DatasetError(f"{name}: missing array(s) {', '.join(missing)} "
                                       f"(expected {', '.join(KEYS)})")
                for key in KEYS:
                    arrays[key] = _read_member(archive, key, name)
        except DatasetError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
            raise DatasetError(f"{name}: corrupt or truncated archive ({error})") from None
    return _checked(arrays, name, DatasetInfo(FULL_NAME, f"file: {name}", 0, 0))


def bundled() -> Dataset:
    """The 5,000-digit MNIST subset shipped in ``resources/`` (4,000 train, 1,000 test)."""
    data = load_npz(BUNDLED_PATH)
    return _with_info(data, name=BUNDLED_NAME, source="bundled")


def first_training_samples(data: Dataset, limit: int | None) -> Dataset:
    """``data`` with only its first ``limit`` training samples (all when None or more).

    ``info.n_train`` counts what is kept and ``info.note`` says so; the test set is kept.
    """
    n_samples = len(data.x_train)
    if limit is None or limit >= n_samples:
        return data
    kept = f"first {limit:,} of {n_samples:,} training samples"
    note = f"{data.info.note}; {kept}" if data.info.note else kept
    return replace(data, x_train=data.x_train[:limit], y_train=data.y_train[:limit],
                   info=replace(data.info, n_train=limit, note=note))


def keras_cache_path() -> Path:
    """Where ``keras.datasets.mnist.load_data`` keeps ``mnist.npz`` (``$KERAS_HOME`` aware)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    base = Path(home)
    if base.is_dir() and not os.access(base, os.W_OK):
        base = Path("/tmp/.keras")  # as Keras's get_file does when ~/.keras is read-only
    return base / "datasets" / "mnist.npz"


def resolve(
    source: str = "auto",
    download_timeout: float = 5.0,
    cancel: threading.Event | None = None,
) -> Dataset:
    """The dataset ``source`` asks for, falling back to the bundled subset for ``"auto"``.

    Parameters
    ----------
    source
        ``"bundled"``; ``"auto"`` (the Keras cache if present and valid, else a download
        attempt, else the bundled subset); or a path to an ``.npz`` file.
    download_timeout
        Seconds to wait for the download before falling back (the download thread is a
        daemon and is abandoned, never joined).
    cancel
        When set, the wait for the download ends at once (the bundled subset is returned).

    Returns
    -------
    Dataset
        With ``info.note`` saying why, when ``"auto"`` did not get the full MNIST.

    Raises
    ------
    DatasetError
        When a file named by ``source`` (or the bundled file) cannot be used.
    """
    if source == "bundled":
        return bundled()
    if source != "auto":
        return load_npz(source)
    cache = keras_cache_path()
    cache_note = ""
    if cache.is_file():
        try:
            return _with_info(load_npz(cache), source="Keras cache")
        except DatasetError as error:
            cache_note = f"the Keras cache is unusable ({error}); "
    data, reason = _download(download_timeout, cancel)
    if data is not None:
        return data
    return _with_info(bundled(), note=f"{cache_note}{reason}, using the bundled subset")


def _keras_downloader() -> Callable[[], Any]:
    """``keras.datasets.mnist.load_data`` (Keras imported here, outside the time bound)."""
    tensorflow_loader.load()
    import keras

    def download() -> Any:
        # Thread-local in Keras: its download messages go to absl logging, not sys.stdout
        # (which is None in windowed builds).
        keras.utils.disable_interactive_logging()
        return keras.datasets.mnist.load_data()

    return download


def _download(timeout: float, cancel: threading.Event | None) -> tuple[Dataset | None, str]:
    """Run the Keras download in a daemon thread; ``(dataset, "")`` or ``(None, reason)``."""
    if cancel is not None and cancel.is_set():
        return None, "cancelled"
    try:
        download = _keras_downloader()
    except Exception as error:  # noqa: BLE001 - no Keras: the bundled subset still works
        return None, f"Keras is not available ({_short(error)})"
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            outcome["value"] = download()
        except BaseException as error:  # noqa: BLE001 - reported to the waiting thread
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=target, name="mnist-download", daemon=True).start()
    deadline = time.monotonic() + max(0.0, timeout)
    while not done.wait(min(_POLL_SECONDS, max(0.0, deadline - time.monotonic()))):
        if cancel is not None and cancel.is_set():
            return None, "cancelled"
        if time.monotonic() >= deadline:
            return None, f"no network (the MNIST download did not finish in {timeout:g} s)"
    if "error" in outcome:
        return None, _download_failure(outcome["error"])
    try:
        (x_train, y_train), (x_test, y_test) = outcome["value"]
        arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
        info = DatasetInfo(FULL_NAME, "download", 0, 0)
        return _checked({k: np.asarray(v) for k, v in arrays.items()}, "download", info), ""
    except (DatasetError, TypeError, ValueError) as error:
        return None, f"the downloaded MNIST is unusable ({_short(error)})"


_NETWORK_WORDS = ("errno", "url fetch failure", "name or service", "temporary failure",
                  "network is unreachable", "timed out", "connection", "ssl", "http error")


def _download_failure(error: BaseException) -> str:
    """Why the download failed, in words a student reads ("no network"), not an errno."""
    text = str(error).lower()
    if isinstance(error, OSError) or any(word in text for word in _NETWORK_WORDS):
        return "no network"
    return f"the MNIST download failed ({_short(error)})"


def _read_member(archive: Any, key: str, name: str) -> np.ndarray:
    """``archive[key]``, once its .npy header is known to be sound and to match its size.

    np.load would hand back a member that is not .npy data as raw bytes, let a malformed
    header escape as SyntaxError, and allocate whatever shape a header claims.
    """
    member = f"{key}.npy" if f"{key}.npy" in archive.zip.namelist() else key
    with archive.zip.open(member) as stream:
        try:
            version = np.lib.format.read_magic(stream)
        except ValueError:
            raise DatasetError(f"{name}: {key} is not .npy data") from None
        try:
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
            elif version in ((2, 0), (3, 0)):
                shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
            else:
                raise ValueError(f"unsupported .npy version {version[0]}.{version[1]}")
        except (ValueError, SyntaxError, tokenize.TokenError) as error:
            raise DatasetError(f"{name}: {key} has a corrupt .npy header ({_short(error)})"
                               ) from None
        stored = archive.zip.getinfo(member).file_size - stream.tell()
    if dtype.hasobject:
        raise DatasetError(f"{name}: {key} is an object array (pickled data is refused)")
    declared = math.prod(shape) * dtype.itemsize
    if declared != stored:
        raise DatasetError(f"{name}: {key} declares shape {shape} of {dtype} ({declared:,} "
                           f"bytes) but holds {stored:,} bytes")
    if shape and shape[0] > MAX_SAMPLES:
        raise DatasetError(f"{name}: {key} holds {shape[0]:,} samples; Optiscope reads at most "
                           f"{MAX_SAMPLES:,} per part (twice MNIST's training set)")
    try:
        return archive[key]
    except ValueError as error:
        if "pickle" in str(error).lower():
            raise DatasetError(f"{name}: {key} is an object array (pickled data is refused)"
                               ) from None
        raise


def _checked(arrays: dict[str, np.ndarray], name: str, info: DatasetInfo) -> Dataset:
    """Check shapes, dtypes, lengths and ranges; return read-only uint8 arrays."""
    for images, labels in (("x_train", "y_train"), ("x_test", "y_test")):
        x, y = arrays[images], arrays[labels]
        for key, array in ((images, x), (labels, y)):
            if array.dtype.kind not in "iu":
                raise DatasetError(f"{name}: {key} has dtype {array.dtype}, expected integers "
                                   "(uint8)")
        if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE:
            raise DatasetError(f"{name}: {images} has shape {x.shape}, expected (N, 28, 28)")
        if y.ndim != 1:
            raise DatasetError(f"{name}: {labels} has shape {y.shape}, expected (N,)")
        if len(x) != len(y):
            raise DatasetError(f"{name}: {images} has {len(x)} images but {labels} has "
                               f"{len(y)} labels")
        if len(x) == 0:
            raise DatasetError(f"{name}: {images} is empty")
        if x.min() < 0 or x.max() > 255:
            raise DatasetError(f"{name}: {images} has pixel values in {x.min()}..{x.max()}, "
                               "expected 0..255")
        if y.min() < 0 or y.max() > 9:
            raise DatasetError(f"{name}: {labels} has labels in {y.min()}..{y.max()}, "
                               "expected 0..9")
    frozen = {}
    for key in KEYS:
        array = np.ascontiguousarray(arrays[key], dtype=np.uint8)
        array.setflags(write=False)
        frozen[key] = array
    counts = {"n_train": len(frozen["x_train"]), "n_test": len(frozen["x_test"])}
    return Dataset(**frozen, info=replace(info, **counts))


def _with_info(data: Dataset, **changes: Any) -> Dataset:
    return replace(data, info=replace(data.info, **changes))


def _short(error: BaseException, limit: int = 100) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    text = text.rpartition(" -- ")[2]  # Keras: "URL fetch failure on URL: code -- reason"
    return text if len(text) <= limit else text[: limit - 1] + "…"
