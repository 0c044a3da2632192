"""The 3-D view: the loss surface as a shaded mesh with the racers' trails lying on it.

OpenGL is optional. :func:`opengl_available` probes for a context once per platform, and
:class:`Surface3DView` falls back to a plain message where none exists (Qt's ``offscreen``
platform, a machine without Mesa, a missing PyOpenGL). ``pyqtgraph.opengl`` is imported only
when a context exists, so this module imports anywhere.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext, QVector3D
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from engine.landscape.surfaces import Surface
from gui.palette import LIGHT, Theme

__all__ = ["Surface3DView", "opengl_available"]

Z_RATIO = 0.6  #: height of the surface relative to its widest side in the plane
LOG_FLOOR = 1e-5  #: log-scaled heights stop at least this fraction of the range above f*
FLAT_QUANTILE = 0.001  #: ...and no lower than the lowest 0.1 % of grid samples (no aliasing)
LIFT = 0.012  #: trails float this fraction of the widest side above the surface
TRAIL_HALF_WIDTH = 0.005  #: the trail's ribbon: half its width, as a fraction of the map's
MARKER_SIZE = 16.0
GHOST_ALPHA = 0.35  #: opacity of the parts of a trail hidden behind the surface
MAX_SUBDIVISIONS = 32  #: a trail segment is cut into at most this many pieces to follow f
CAMERA_ELEVATION, CAMERA_AZIMUTH = 40.0, -60.0  #: degrees, pyqtgraph's convention
CAMERA_MARGIN = 0.06  #: fraction of the half-width left free round the surface
LIGHT_DIRECTION = np.array([-0.45, -0.35, 0.82])  #: fixed light for the baked-in shading
_NO_GL_PLATFORMS = ("offscreen", "minimal")


def opengl_available() -> tuple[bool, str]:
    """Whether a desktop OpenGL (>= 2.1) context can be created on this Qt platform.

    Never raises: a failure is reported, not thrown. The probe runs once per platform.

    Returns
    -------
    tuple of (bool, str)
        ``(True, "")`` when a context was created and made current, else ``(False, reason)``
        with a short lower-case reason such as "no OpenGL context on the 'offscreen' platform".
    """
    if not isinstance(QGuiApplication.instance(), QGuiApplication):
        return False, "no Qt GUI application is running"
    return _probe_opengl(QGuiApplication.platformName())


@functools.cache
def _probe_opengl(platform: str) -> tuple[bool, str]:
    if platform in _NO_GL_PLATFORMS:
        return False, f"no OpenGL context on the '{platform}' platform"
    if importlib.util.find_spec("OpenGL") is None:
        return False, "PyOpenGL is not installed"
    context = QOpenGLContext()
    surface = QOffscreenSurface()
    try:
        if not context.create():
            return False, f"could not create an OpenGL context on the '{platform}' platform"
        surface.setFormat(context.format())
        surface.create()
        if not surface.isValid() or not context.makeCurrent(surface):
            return False, f"could not make an OpenGL context current on the '{platform}' platform"
        version = context.format().version()
        context.doneCurrent()
        if context.isOpenGLES():
            return False, "only OpenGL ES is available; the 3-D view needs desktop OpenGL"
        if tuple(version) < (2, 1):
            return False, f"OpenGL {version[0]}.{version[1]} found; the 3-D view needs 2.1"
        return True, ""
    except Exception as error:  # a probe reports; it never takes the app down
        return False, f"OpenGL probe failed: {error}"
    finally:
        surface.destroy()


@dataclass(frozen=True)
class _HeightMap:
    """How a surface value becomes a height in the scene: the same map for mesh and trails."""

    log_scale: bool
    floor: float  # f* (log scale): heights are log10(f - floor + delta)
    delta: float
    low: float  # displayed range, in display units
    high: float
    z_scale: float  # scene units per display unit

    def display(self, values: np.ndarray) -> np.ndarray:
        """Display units (log10 of the gap to f* on log surfaces); NaN where undefined."""
        with np.errstate(all="ignore"):
            values = np.asarray(values, dtype=np.float64)
            if self.log_scale:
                values = np.log10(np.maximum(values - self.floor, 0.0) + self.delta)
            return values

    def z(self, values: np.ndarray) -> np.ndarray:
        """Scene heights in ``[0, z_scale·(high − low)]``; undefined points sit at the bottom."""
        shown = np.clip(self.display(values), self.low, self.high)
        return (np.nan_to_num(shown, nan=self.low) - self.low) * self.z_scale


def _height_map(surface: Surface, values: np.ndarray, extent: float) -> _HeightMap:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return _HeightMap(False, 0.0, 0.0, 0.0, 1.0, 0.0)
    floor = float(finite.min())
    if surface.minima:
        floor = min(floor, min(m.value for m in surface.minima))
    span = float(finite.max()) - floor
    # A crease narrower than a grid cell zigzags from cell to cell: draw its bottom flat.
    delta = max(span * LOG_FLOOR, float(np.quantile(finite - floor, FLAT_QUANTILE)), 1e-12)
    mapping = _HeightMap(surface.log_scale, floor, delta, 0.0, 1.0, 1.0)
    shown = mapping.display(finite)
    low, high = float(np.nanmin(shown)), float(np.nanmax(shown))
    z_scale = Z_RATIO * extent / (high - low) if high > low else 0.0
    return _HeightMap(surface.log_scale, floor, delta, low, high, z_scale)


def _densify(points: np.ndarray, step: float) -> np.ndarray:
    """Cut each segment into pieces no longer than ``step`` (at most MAX_SUBDIVISIONS)."""
    if len(points) < 2:
        return points
    segments = np.diff(points, axis=0)
    lengths = np.hypot(segments[:, 0], segments[:, 1])
    pieces = np.clip(np.ceil(lengths / step), 1, MAX_SUBDIVISIONS).astype(np.int64)
    owner = np.repeat(np.arange(len(segments)), pieces)
    offset = np.arange(owner.size) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    fraction = (offset / pieces[owner])[:, None]
    dense = points[owner] + fraction * segments[owner]
    return np.concatenate([dense, points[-1:]])


class Surface3DView(QWidget):
    """3-D surface with optimizer trails; degrades to a clear message without OpenGL.

    Drag to rotate, wheel to zoom, middle-drag to pan (pyqtgraph's ``GLViewWidget``).

    Parameters
    ----------
    parent
        Parent widget.
    theme
        Colours: background and the surface's colour map.
    """

    def __init__(self, parent: QWidget | None = None, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self._theme = theme
        self._surface: Surface | None = None
        self._grid: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # xs, ys, scene z
        self._heights: _HeightMap | None = None
        self._surface_item = None
        self._trail_items: dict[str, tuple[object, object, object]] = {}
        self._trails: list[tuple[str, np.ndarray, str]] = []
        self._view = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        ok, reason = opengl_available()
        self._message = "" if ok else (
            f"3-D view unavailable: {reason}. The 2-D view and everything else work."
        )
        self._label = QLabel(self._message or "3-D view closed.", self)
        self._label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._label.setTextFormat(Qt.TextFormat.PlainText)  # a driver's error text, as it is
        self._label.setWordWrap(True)
        layout.addWidget(self._label)
        if ok:
            import pyqtgraph.opengl as gl  # lazily: needs PyOpenGL and a context

            self._gl = gl
            self._view = gl.GLViewWidget(self)
            self._label.hide()
            layout.addWidget(self._view)
        self.set_theme(theme)

    @property
    def available(self) -> bool:
        """True while the OpenGL view is in use (False without OpenGL or after close_gl)."""
        return self._view is not None

    @property
    def message(self) -> str:
        """The text shown instead of the 3-D view; empty when OpenGL is available."""
        return self._message

    @property
    def gl_view(self):
        """The ``GLViewWidget`` (for screenshots and tests), or None without OpenGL."""
        return self._view

    def set_surface(self, surface: Surface, resolution: int = 128) -> None:
        """Show ``surface`` as a shaded, colour-mapped mesh sampled on a square grid.

        Log-scaled surfaces show log10(f − f* + δ), so a steep wall does not flatten the
        valley. Heights are scaled to ``Z_RATIO`` of the widest side. Trails already set are
        mapped onto the new surface and the camera is reset.

        Parameters
        ----------
        surface
            The surface; sampled over ``surface.domain``.
        resolution
            Grid points per side (at least 2).
        """
        if self._view is None:
            return
        x0, x1, y0, y1 = surface.domain
        xs = np.linspace(x0, x1, max(int(resolution), 2))
        ys = np.linspace(y0, y1, max(int(resolution), 2))
        xy = np.stack(np.meshgrid(xs, ys, indexing="ij"), axis=-1)
        with np.errstate(all="ignore"):
            values = surface.value(xy)
        self._heights = _height_map(surface, values, self._extent(surface))
        self._surface = surface
        self._grid = (xs, ys, self._heights.z(values).astype(np.float32))
        if self._surface_item is None:
            self._surface_item = self._gl.GLSurfacePlotItem(computeNormals=False, smooth=False)
            self._view.addItem(self._surface_item)
        self._surface_item.setData(x=xs, y=ys, z=self._grid[2], colors=self._colors())
        self.set_trails(self._trails)
        self.reset_camera()

    def set_trails(self, trails: Sequence[tuple[str, np.ndarray, str]]) -> None:
        """Draw each racer's path on the surface with a marker at its latest point.

        Cheap enough for every animation frame: items are created once per key and then only
        updated. A trail stops where it first leaves the surface's map (the view has no
        ground beyond it to draw it on), so a diverged path is never draped over the surface.

        Parameters
        ----------
        trails
            ``(key, points (k, 2), hex colour)`` per racer; keys not listed are removed.
        """
        if self._view is None:
            return
        self._trails = [(key, np.asarray(points, dtype=np.float64), color)
                        for key, points, color in trails]
        keep = {key for key, _, _ in self._trails}
        for key in [k for k in self._trail_items if k not in keep]:
            for item in self._trail_items.pop(key):
                self._view.removeItem(item)
        if self._surface is None:
            return
        for key, points, color in self._trails:
            items = self._trail_items.get(key) or self._add_trail(key)
            finite = points.reshape(-1, 2)
            finite = finite[np.isfinite(finite).all(axis=1)]
            x0, x1, y0, y1 = self._surface.domain
            outside = ~((finite[:, 0] >= x0) & (finite[:, 0] <= x1)
                        & (finite[:, 1] >= y0) & (finite[:, 1] <= y1))
            if outside.any():
                finite = finite[: int(np.argmax(outside))]
            for item in items:
                item.setVisible(len(finite) > 0)
            if len(finite) == 0:
                continue
            outline, line, ghost, marker = items
            rgba = pg.mkColor(color).getRgbF()
            path = self._lift(finite)
            extent = self._extent(self._surface)
            for item, half, lift, shade in ((outline, TRAIL_HALF_WIDTH * 1.7, 0.0,
                                             (0.0, 0.0, 0.0, 1.0)),
                                            (line, TRAIL_HALF_WIDTH, LIFT * extent * 0.3,
                                             rgba)):
                if len(path) > 1:
                    vertices, faces = self._ribbon(path, half * extent, lift)
                    item.setMeshData(vertexes=vertices, faces=faces, color=shade)
                    item.setVisible(True)
                else:
                    item.setVisible(False)
            ghost.setData(pos=path, color=(*rgba[:3], GHOST_ALPHA))
            marker.setData(pos=path[-1:], color=rgba)

    def set_theme(self, theme: Theme) -> None:
        """Use ``theme``'s background, and its colour map for the surface."""
        recolor = theme.colormap != self._theme.colormap
        self._theme = theme
        if self._view is None:
            return
        self._view.setBackgroundColor(theme.background)
        if recolor and self._surface_item is not None:
            self._surface_item.setData(z=self._grid[2], colors=self._colors())

    def reset_camera(self) -> None:
        """Frame the whole surface, seen from 40° above its (x_max, y_min) side."""
        if self._view is None or self._surface is None or self._grid is None:
            return
        x0, x1, y0, y1 = self._surface.domain
        heights = self._grid[2]
        aspect = self._view.height() / max(self._view.width(), 1)
        if not self._view.isVisible():
            aspect = 0.75  # before the first show the size means nothing
        # Look at the mean height (log surfaces keep most of their area high up), then back
        # off until every mesh vertex (on a coarser grid) is inside the frustum.
        self._view.setCameraPosition(
            pos=QVector3D((x0 + x1) / 2, (y0 + y1) / 2, float(heights.mean())),
            distance=0.0, elevation=CAMERA_ELEVATION, azimuth=CAMERA_AZIMUTH,
        )
        rotation = self._view.viewMatrix()  # at distance 0: turns about the centre only
        matrix = np.array(rotation.data(), dtype=np.float64).reshape(4, 4).T  # column-major
        xs, ys, _ = self._grid
        ix = np.unique(np.linspace(0, len(xs) - 1, 48).astype(np.int64))  # edges included
        iy = np.unique(np.linspace(0, len(ys) - 1, 48).astype(np.int64))
        xy = np.stack(np.meshgrid(xs[ix], ys[iy], indexing="ij"), axis=-1)
        vertices = np.concatenate([xy, heights[np.ix_(ix, iy)][..., None]], axis=-1)
        vertices = vertices.reshape(-1, 3)
        seen = vertices @ matrix[:3, :3].T + matrix[:3, 3]  # the camera looks down its -z axis
        tan_x = math.tan(math.radians(self._view.opts["fov"]) / 2) * (1 - CAMERA_MARGIN)
        tan_y = tan_x * min(max(aspect, 0.3), 3.0)  # pyqtgraph's fov is horizontal
        reach = np.maximum(np.abs(seen[:, 0]) / tan_x, np.abs(seen[:, 1]) / tan_y)
        distance = float(np.max(seen[:, 2] + reach))
        self._view.setCameraPosition(distance=distance)

    def close_gl(self) -> None:
        """Release the GL items and the GL view; later calls are no-ops (safe to call twice)."""
        view, self._view = self._view, None
        if view is None:
            return
        view.clear()
        self._trail_items.clear()
        self._surface_item = None
        self.layout().removeWidget(view)
        view.hide()
        view.setParent(None)  # now owned by Python alone: deleted when the last name goes
        self._label.show()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        """Release OpenGL resources while the context still exists."""
        self.close_gl()
        super().closeEvent(event)

    # ------------------------------------------------------------------------------ helpers

    @staticmethod
    def _extent(surface: Surface) -> float:
        x0, x1, y0, y1 = surface.domain
        return max(x1 - x0, y1 - y0)

    def _colors(self) -> np.ndarray:
        """Colour-mapped, hill-shaded RGBA per grid vertex, shape ``(nx·ny, 4)``."""
        xs, ys, zs = self._grid
        top = float(zs.max())
        colormap = pg.colormap.get(self._theme.colormap)
        rgba = colormap.map(zs / top if top > 0 else zs, mode="float").astype(np.float32)
        gx, gy = np.gradient(zs, xs, ys)
        normals = np.stack([-gx, -gy, np.ones_like(gx)], axis=-1)
        normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
        light = LIGHT_DIRECTION / np.linalg.norm(LIGHT_DIRECTION)
        shade = 0.55 + 0.45 * np.clip(normals @ light, 0.0, 1.0)
        rgba[..., :3] *= shade[..., None].astype(np.float32)
        return rgba.reshape(-1, 4)

    def _add_trail(self, key: str) -> tuple[object, object, object, object]:
        """A thick trail on a dark outline, its faint ghost seen through the surface, and the
        current point.

        The trail is a ribbon of triangles lying over the surface, not a GL line: OpenGL core
        profiles (Mesa's included) draw lines 1 px wide whatever width is asked, and a
        hairline on a coloured surface reads as the surface's colour.
        """
        from OpenGL import GL  # PyOpenGL: present whenever the view is

        see_through = {GL.GL_DEPTH_TEST: False, GL.GL_BLEND: True, GL.GL_CULL_FACE: False,
                       "glBlendFunc": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)}
        outline = self._gl.GLMeshItem(smooth=False, glOptions="opaque")
        line = self._gl.GLMeshItem(smooth=False, glOptions="opaque")
        ghost = self._gl.GLLinePlotItem(width=1.0, glOptions=see_through)
        marker = self._gl.GLScatterPlotItem(size=MARKER_SIZE, pxMode=True,
                                            glOptions={**see_through, GL.GL_BLEND: False})
        line.setDepthValue(1)  # over its outline
        ghost.setDepthValue(2)  # drawn after the surface and the solid trails
        marker.setDepthValue(3)  # the current point is never hidden
        items = (outline, line, ghost, marker)
        for item in items:
            self._view.addItem(item)
        self._trail_items[key] = items
        return items

    def _ribbon(self, path: np.ndarray, half_width: float, lift: float
                ) -> tuple[np.ndarray, np.ndarray]:
        """Vertices and triangles of a flat band ``2 * half_width`` wide along ``path``
        (m, 3), raised by ``lift``."""
        xy = path[:, :2].astype(np.float64)
        step = np.gradient(xy, axis=0) if len(xy) > 1 else np.zeros_like(xy)
        length = np.hypot(step[:, 0], step[:, 1])
        length[length == 0] = 1.0
        normal = np.column_stack([-step[:, 1], step[:, 0]]) / length[:, None] * half_width
        z = path[:, 2:3] + lift
        left = np.hstack([xy + normal, z])
        right = np.hstack([xy - normal, z])
        vertices = np.empty((2 * len(xy), 3), dtype=np.float32)
        vertices[0::2], vertices[1::2] = left, right
        i = np.arange(len(xy) - 1) * 2
        faces = np.concatenate([np.column_stack([i, i + 1, i + 2]),
                                np.column_stack([i + 1, i + 3, i + 2])]).astype(np.uint32)
        return vertices, faces

    def _lift(self, points: np.ndarray) -> np.ndarray:
        """Map ``(k, 2)`` points to scene ``(m ≥ k, 3)`` on the surface, LIFT above it."""
        xs, ys, _ = self._grid
        x0, x1, y0, y1 = self._surface.domain
        clipped = np.column_stack([np.clip(points[:, 0], x0, x1), np.clip(points[:, 1], y0, y1)])
        dense = _densify(clipped, 0.5 * min(xs[1] - xs[0], ys[1] - ys[0]))
        with np.errstate(all="ignore"):
            heights = self._heights.z(self._surface.value(dense))
        heights += LIFT * self._extent(self._surface)
        return np.column_stack([dense, heights]).astype(np.float32)
