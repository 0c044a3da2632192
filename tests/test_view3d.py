"""The 3-D view: a clear message without OpenGL, a real rendered surface under Xvfb."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QLabel

from engine.landscape import surfaces
from gui.landscape.view3d import Z_RATIO, Surface3DView, _densify, _height_map, opengl_available
from gui.palette import DARK
from tests import procs

ROOT = Path(__file__).resolve().parents[1]

# Runs under Xvfb with Qt's xcb platform: builds the view, renders Rosenbrock with two trails,
# checks the frame and saves it to argv[1]. Any Qt warning or Python warning fails it.
XVFB_SCRIPT = textwrap.dedent(
    """
    import sys

    import numpy as np
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    qt_warnings = []

    def on_message(kind, context, text):
        if kind != QtMsgType.QtDebugMsg and kind != QtMsgType.QtInfoMsg:
            qt_warnings.append(text)
        print(f"qt: {text}", file=sys.stderr)

    qInstallMessageHandler(on_message)
    app = QApplication(sys.argv[:1])

    from engine.landscape import surfaces
    from gui.landscape.view3d import Z_RATIO, Surface3DView, _densify, _height_map, opengl_available

    ok, reason = opengl_available()
    assert ok, f"no OpenGL under Xvfb: {reason}"
    view = Surface3DView()
    view.resize(800, 600)
    view.set_surface(surfaces.get("rosenbrock"))
    t = np.linspace(0.0, 1.0, 200)[:, None]
    valley = np.column_stack([np.linspace(-1.5, 1.0, 200), np.linspace(-1.5, 1.0, 200) ** 2])
    red = (1 - t) * np.array([-1.5, 2.0]) + t * valley[-1]
    trails = [("sgd", red, "#e6194b"), ("adam", valley, "#4363d8")]
    view.set_trails(trails + [("gone", valley[:5], "#3cb44b")])
    scene_items = len(view.gl_view.items)
    for k in range(20, 201, 20):  # as playback does: the same items, longer trails
        view.set_trails([(key, points[:k], color) for key, points, color in trails])
    per_trail = len(view._trail_items["sgd"])  # outline, ribbon, ghost, marker
    assert len(view.gl_view.items) == scene_items - per_trail, "items not reused, or 'gone' kept"
    view.show()
    for _ in range(20):
        app.processEvents()
    assert view.available, view.message
    image = view.gl_view.grabFramebuffer().convertToFormat(QImage.Format.Format_RGBA8888)
    if len(sys.argv) > 1:
        assert image.save(sys.argv[1]), "could not save the screenshot"
    pixels = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    pixels = pixels.reshape(image.height(), image.bytesPerLine())[:, : 4 * image.width()]
    rgb = pixels.reshape(image.height(), image.width(), 4)[..., :3].astype(int)
    colours = len(np.unique(rgb.reshape(-1, 3), axis=0))
    assert colours > 100, f"flat frame: {colours} colours"
    for hex_colour in ("#e6194b", "#4363d8"):
        target = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
        near = int((np.abs(rgb - target).max(axis=-1) < 40).sum())
        assert near > 50, f"trail {hex_colour} not visible ({near} pixels)"
    view.close()
    view.close_gl()  # twice is fine
    del view
    app.processEvents()
    assert not qt_warnings, qt_warnings
    print("rendered", colours, "colours")
    """
)


@pytest.fixture
def view(qtbot):
    widget = Surface3DView()
    qtbot.addWidget(widget)
    return widget


def test_offscreen_platform_has_no_opengl(qapp):
    ok, reason = opengl_available()
    assert not ok
    assert "offscreen" in reason


def test_without_opengl_the_view_shows_the_message(view, qtbot):
    view.show()
    qtbot.waitExposed(view)
    assert not view.available
    assert view.gl_view is None
    assert "3-D view unavailable" in view.message and "offscreen" in view.message
    label = view.findChild(QLabel)
    assert label.isVisible() and label.text() == view.message and label.wordWrap()


def test_without_opengl_every_method_is_a_no_op(view):
    view.set_surface(surfaces.get("rosenbrock"), resolution=16)
    view.set_trails([("adam", np.array([[-1.5, 2.0], [0.0, 1.0]]), "#4363d8")])
    view.set_trails([])
    view.set_theme(DARK)
    view.reset_camera()
    view.close_gl()
    view.close_gl()
    assert not view.available


def test_densify_keeps_the_points_and_bounds_the_step():
    points = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.05], [1.0, 3.0]])
    dense = _densify(points, 0.1)
    steps = np.hypot(*np.diff(dense, axis=0).T)
    assert steps.max() <= 0.1 + 1e-12
    for point in points:
        assert np.isclose(dense, point).all(axis=1).any()
    np.testing.assert_array_equal(_densify(points[:1], 0.1), points[:1])


@pytest.mark.parametrize("surface_id", ["rosenbrock", "bowl", "saddle"])
def test_heights_span_the_set_fraction_of_the_domain(surface_id):
    surface = surfaces.get(surface_id)
    x0, x1, y0, y1 = surface.domain
    xy = np.stack(np.meshgrid(np.linspace(x0, x1, 64), np.linspace(y0, y1, 64)), axis=-1)
    values = surface.value(xy)
    extent = max(x1 - x0, y1 - y0)
    heights = _height_map(surface, values, extent).z(values)
    assert heights.min() == pytest.approx(0.0, abs=1e-9)
    assert heights.max() == pytest.approx(Z_RATIO * extent)


def test_heights_of_undefined_or_huge_values_stay_in_range():
    surface = surfaces.get("rosenbrock")
    mapping = _height_map(surface, np.array([0.0, 1.0, 2500.0]), 4.0)
    heights = mapping.z(np.array([np.nan, np.inf, -np.inf, 1e300, -5.0]))
    assert np.isfinite(heights).all()
    assert (heights >= 0).all() and (heights <= Z_RATIO * 4.0 + 1e-9).all()


def test_module_imports_without_loading_pyqtgraph_opengl():
    code = (
        "import sys, gui.landscape.view3d; "
        "assert 'pyqtgraph.opengl' not in sys.modules; assert 'OpenGL' not in sys.modules"
    )
    done = procs.run([sys.executable, "-W", "error", "-c", code], cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr


def test_renders_under_xvfb(tmp_path):
    script = tmp_path / "render3d.py"
    script.write_text(XVFB_SCRIPT)
    shot = tmp_path / "view3d.png"
    with procs.xvfb("1280x1024x24") as display:
        env = procs.xcb_env(display)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        done = procs.run([sys.executable, "-W", "error", "-X", "faulthandler", str(script),
                          str(shot)], cwd=ROOT, env=env, timeout=180)
    report = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == 0, report
    for bad in ("Traceback", "none_dealloc", "Segmentation", "Fatal Python error"):
        assert bad not in done.stderr, report
    assert "rendered" in done.stdout, report
    assert shot.stat().st_size > 10_000
