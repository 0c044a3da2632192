"""TensorFlow must load after an OpenGL context exists (the 3-D view, then training).

Without deep binding, Mesa's libLLVM (loaded by the OpenGL driver) and TensorFlow's own LLVM
collide and the process dies with a segmentation fault while TensorFlow loads.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests import procs

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
from PySide6.QtGui import QOffscreenSurface, QOpenGLContext
from PySide6.QtWidgets import QApplication
app = QApplication([])
context, surface = QOpenGLContext(), QOffscreenSurface()
assert context.create(), "no OpenGL context"
surface.create()
assert context.makeCurrent(surface)
from engine.optimizers import tensorflow_loader
tensorflow_loader.load()
import keras, numpy as np
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
model.compile("adam", "mse")
model.fit(np.zeros((8, 4)), np.zeros((8, 2)), verbose=0)
print("trained after OpenGL")
"""


@pytest.mark.keras
def test_tensorflow_loads_after_an_opengl_context():
    with procs.xvfb() as display:
        done = procs.run([sys.executable, "-c", SCRIPT], timeout=300, cwd=ROOT,
                         env=procs.xcb_env(display, TF_CPP_MIN_LOG_LEVEL="3"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "trained after OpenGL" in done.stdout
