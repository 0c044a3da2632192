"""Loading numba, once, and where its compiled kernels are cached on disk.

Nothing here runs at import time. :func:`load` imports numba the first time a kernel is
needed and installs a cache locator for this package's compiled functions:

* the folder is ``engine/landscape/kernels/__pycache__`` when that is writable (a checkout or
  a virtual environment); otherwise, and always in the packaged (PyInstaller) app, a per-user
  cache folder (:func:`user_cache_dir`); ``NUMBA_CACHE_DIR``, when set, wins;
* a cached kernel is valid only for the exact sources it was compiled from: its stamp hashes
  every file the kernels compile (this package, ``gradients.py``, ``libm.py``) and numba's
  version. numba's own locators stamp only the kernel's file, so an edited gradient in
  ``gradients.py`` would load a stale kernel. In the packaged app the stamp is the
  executable's size and time (the code inside cannot change without a rebuild).

The Intel SVML vector library is switched off before numba is imported: loops vectorized
with it would no longer call the C library's functions, and kernels would stop matching
:mod:`engine.landscape.libm`.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

_PACKAGE = Path(__file__).resolve().parent
#: Files whose code the compiled kernels contain (their hash is every cached kernel's stamp).
SOURCES = (*sorted(_PACKAGE.glob("*.py")), _PACKAGE.parent / "gradients.py",
           _PACKAGE.parent / "libm.py")

_lock = threading.Lock()
_state: dict[str, Any] = {}


def user_cache_dir() -> Path:
    """The per-user cache folder for compiled kernels (created on first use)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "Optiscope" / "Cache" / "kernels"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "Optiscope" / "kernels"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "optiscope" / "kernels"


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def cache_dir() -> Path:
    """Where compiled kernels are cached (see the module docstring)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"]) / "optiscope"
    in_tree = _PACKAGE / "__pycache__"
    if not getattr(sys, "frozen", False) and _writable(in_tree):
        return in_tree
    return user_cache_dir()


def source_stamp() -> str:
    """What a cached kernel must have been compiled from to be loaded."""
    if "stamp" not in _state:
        import llvmlite
        import numba

        digest = hashlib.sha256(f"{numba.__version__} {llvmlite.__version__}".encode())
        if getattr(sys, "frozen", False):
            st = os.stat(sys.executable)
            digest.update(f"{sys.executable} {st.st_size} {st.st_mtime_ns}".encode())
        else:
            for path in SOURCES:
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
        _state["stamp"] = digest.hexdigest()
    return _state["stamp"]


def _install_locator(numba: ModuleType, folder: Path) -> None:
    from numba.core import caching

    class KernelCacheLocator(caching._CacheLocator):
        """Caches this package's kernels in :func:`cache_dir`, stamped by :func:`source_stamp`."""

        def __init__(self, py_func: Any) -> None:
            self._lineno = py_func.__code__.co_firstlineno

        def get_cache_path(self) -> str:
            return str(folder)

        def get_source_stamp(self) -> str:
            return source_stamp()

        def get_disambiguator(self) -> str:
            return str(self._lineno)

        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            if not getattr(py_func, "__module__", "").startswith(__package__ + "."):
                return None
            locator = cls(py_func)
            try:
                locator.ensure_cache_path()
            except OSError:
                return None
            return locator

    classes = caching.CacheImpl._locator_classes
    classes[:] = [c for c in classes if c.__name__ != KernelCacheLocator.__name__]
    classes.insert(0, KernelCacheLocator)
    _state["cache_dir"] = folder


def load(folder: Path | None = None) -> ModuleType | None:
    """numba, imported and set up for this package; None (see :func:`reason`) without it.

    ``folder``: the cache folder to use instead of :func:`cache_dir` (a compiling child
    process uses its parent's, :mod:`engine.landscape.kernels.worker`); only the first call
    decides."""
    with _lock:
        if "numba" not in _state:
            os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")
            try:
                import numba
            except Exception as error:  # ImportError, or a broken install (llvmlite)
                _state["numba"] = None
                _state["reason"] = f"numba is not available ({type(error).__name__}: {error})"
            else:
                if numba.config.USING_SVML:  # imported earlier by someone else, with SVML
                    _state["numba"] = None
                    _state["reason"] = ("numba uses Intel SVML (set NUMBA_DISABLE_INTEL_SVML=1): "
                                        "its vector functions do not match the C library")
                else:
                    _install_locator(numba, folder or cache_dir())
                    _state["numba"] = numba
                    _state["reason"] = ""
        return _state["numba"]


def loaded() -> bool:
    """True once :func:`load` has imported numba (nothing is imported by asking)."""
    return _state.get("numba") is not None


def reason() -> str:
    """Why kernels are unavailable ("" when they are, or before :func:`load` ran)."""
    return _state.get("reason", "")


def folder() -> Path | None:
    """The cache folder in use, once :func:`load` has run with numba."""
    return _state.get("cache_dir")
