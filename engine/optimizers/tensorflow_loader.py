"""Import TensorFlow so that its bundled LLVM cannot clash with an LLVM already loaded.

Mesa's OpenGL drivers (llvmpipe under Xvfb, radeonsi on AMD GPUs) load ``libLLVM``; once
the 3-D view has made an OpenGL context, TensorFlow's own statically linked LLVM resolves
some of its symbols to Mesa's copy and crashes in a static initialiser while loading
(seen here: a segmentation fault in ``DebugInfoMetadata.cpp`` of
``libtensorflow_framework.so``, whether imported in the main thread or a worker). Loading
TensorFlow's libraries with ``RTLD_DEEPBIND`` makes them prefer their own symbols.

Every Keras or TensorFlow import in the app goes through :func:`load` first.
"""

from __future__ import annotations

import os
import sys
import threading
from types import ModuleType

_LOCK = threading.Lock()


def load() -> ModuleType:
    """The ``tensorflow`` module, imported once with deep binding where the OS has it."""
    with _LOCK:
        if "tensorflow" in sys.modules:
            return sys.modules["tensorflow"]
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        flags = sys.getdlopenflags()
        deep = getattr(os, "RTLD_DEEPBIND", 0)
        sys.setdlopenflags(flags | deep)
        try:
            import tensorflow
        finally:
            sys.setdlopenflags(flags)
        return tensorflow
