"""Guard against the PySide6 6.12.0 bug that crashed the app ("none_dealloc").

On Python 3.11 ``None`` is reference-counted; PySide6 6.12.0 dropped one reference on every
call of a Qt method returning nothing, so an animation aborted the interpreter after a few
thousand frames. pyproject.toml excludes that release; this test fails on any Qt binding
that has the bug, before a user's class sees it.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

# From Python 3.12 None is immortal (PEP 683): its count never falls, so these tests could not
# fail there. They guard the Python 3.11 the app supports.
pytestmark = pytest.mark.skipif(sys.version_info >= (3, 12),
                                reason="None is immortal from Python 3.12: cannot fail there")


def test_qt_calls_do_not_drop_references_to_none(qtbot):
    from PySide6.QtCore import QObject

    obj = QObject()
    before = sys.getrefcount(None)
    for _ in range(1000):
        obj.setObjectName("x")
        obj.property("never-set")
    assert sys.getrefcount(None) - before > -50


@pytest.mark.gui
def test_animating_the_surface_view_keeps_none_alive(qtbot):
    from engine.landscape import surfaces
    from gui.landscape.surface_view import SurfaceView, TrailData
    from gui.palette import RacerStyle

    view = SurfaceView()
    qtbot.addWidget(view)
    view.set_surface(surfaces.get("bowl"), resolution=64)
    view.show()
    points = np.cumsum(np.full((300, 2), 0.01), axis=0)
    before = sys.getrefcount(None)
    for k in range(1, 300):
        view.set_trails([TrailData("a", points[:k], RacerStyle("#ff0000", "o"), "moving")])
        view.viewport().repaint()
    assert sys.getrefcount(None) - before > -100
