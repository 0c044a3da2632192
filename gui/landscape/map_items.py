"""Graphics items of the 2-D race map: contours, trails, and where a trail leaves the map.

Each is one item painted from paths built straight from the arrays (an animation frame paints
a handful of paths, not one item per racer and level).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from gui.landscape.trail_thinning import Thinned, runs, share, to_draw
from gui.widgets.contours import contour_lines

#: How far past the map a trail is still drawn (in map widths): further points are clamped,
#: so a path that blew up to 10¹⁰ never builds a path Qt struggles to stroke.
DRAW_MARGIN = 2.0


class ContoursItem(pg.GraphicsObject):
    """Every contour level as one path in one item.

    The item is cached as a single pixmap: an animation frame blits it once, where one item per
    level cost a full-viewport blit each (12 levels nearly halved the frame rate).
    """

    def __init__(self) -> None:
        super().__init__()
        self._path = QPainterPath()
        self._pen = pg.mkPen((255, 255, 255, 90), width=1)
        self.levels = np.empty(0)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_levels(self, data: np.ndarray, levels, domain: tuple[float, float, float, float],
                   ) -> None:
        """Trace ``levels`` of ``data`` (column-major, x first) over ``domain``."""
        x0, x1, y0, y1 = domain
        sx = (x1 - x0) / (data.shape[0] - 1)
        sy = (y1 - y0) / (data.shape[1] - 1)
        lines = contour_lines(data, levels)
        path = QPainterPath()
        if lines:
            points = np.concatenate(lines)
            connect = np.ones(len(points), dtype=bool)  # joins point k to k + 1
            connect[np.cumsum([len(line) for line in lines]) - 1] = False
            path = pg.arrayToQPath(x0 + points[:, 0] * sx, y0 + points[:, 1] * sy,
                                   connect=connect)
        self.prepareGeometryChange()
        self.levels = np.asarray(levels, dtype=float)
        self._path = path
        self.update()

    def path(self) -> QPainterPath:
        return self._path

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._path.boundingRect()

    def paint(self, painter, *_args) -> None:
        painter.setPen(self._pen)
        painter.drawPath(self._path)


@dataclass(frozen=True)
class Cut:
    """A trail too long to draw whole: drawn from step ``first``; its last is ``steps``."""

    index: int  #: which of the trails given to :meth:`TrailsItem.set_paths`
    first: int
    steps: int


class TrailsItem(pg.GraphicsObject):
    """Every racer's trail in one item: a dark outline under a coloured, dashed line.

    A dashed line over its solid outline reads as colour alternating with dark, so racers of
    one colour (or to a viewer who cannot tell two colours apart) still differ.

    What is stroked stays bounded whatever the step budget (``trail_thinning``): ground a
    trail already covered is not stroked again, and all trails together get a budget of screen
    length; a trail still too long is drawn from a later step, and :attr:`cuts` says which.
    The choice is remade when the view zooms, pans or resizes.
    """

    def __init__(self, outline: str) -> None:
        super().__init__()
        self._scale = 1.0
        self._outline_color = outline
        self._outline = pg.mkPen(outline, width=5)
        self._pens: dict[tuple[str, int], object] = {}
        self._trails: list[tuple[np.ndarray, str, int]] = []
        self._steps: list[np.ndarray] = []
        self._thinned: list[Thinned] = []
        self._cache: dict[tuple, QPainterPath] = {}  #: runs' paths, kept while a trail grows
        self._paths: list[tuple[object, object]] = []
        self._bounds = QRectF()
        self.cuts: list[Cut] = []
        self.on_cuts = None  #: called with :attr:`cuts` whenever they change

    def set_paths(self, trails: list[tuple]) -> None:
        """``trails``: (points (k, 2), hex colour, Qt pen style[, step of each point]) per
        racer, in drawing order; without steps, point k is step k."""
        self._trails = [(np.asarray(points, dtype=float), color, dash)
                        for points, color, dash, *_ in trails]
        self._steps = [rest[0] if rest else np.arange(len(points))
                       for points, _, _, *rest in trails]
        self._build()

    def _device(self):
        """(scale, offset) from data to device pixels, or None before the item is shown."""
        view = self.getViewWidget()
        if view is None:
            return None
        transform = self.deviceTransform(view.viewportTransform())
        if transform.determinant() == 0:  # not laid out yet
            return None
        return (np.array([transform.m11(), transform.m22()]),
                np.array([transform.m31(), transform.m32()]))

    def _build(self) -> None:
        self.prepareGeometryChange()
        self._paths = []
        bounds = QRectF()
        cuts = []
        device = self._device()
        while len(self._thinned) < len(self._trails):
            self._thinned.append(Thinned())
        del self._thinned[len(self._trails):]
        if device is not None:
            for thinned, (points, _, _) in zip(self._thinned, self._trails, strict=True):
                thinned.update(points, *device)
            most = share([t.drawn_length() for t in self._thinned])
        cache, self._cache = self._cache, {}
        for n, (points, color, dash) in enumerate(self._trails):
            if len(points) < 2:
                continue
            pen = self._pens.get((color, dash))
            if pen is None:
                pen = self._pens[(color, dash)] = pg.mkPen(color, width=2.5 * self._scale,
                                                           style=Qt.PenStyle(dash))
            if device is None:
                path = pg.arrayToQPath(points[:, 0], points[:, 1])
                self._paths.append((path, pen, 0.0))
                bounds = bounds.united(path.boundingRect())
                continue
            thinned = self._thinned[n]
            index, connect, first = to_draw(thinned.drawn, thinned.lengths, most)
            if first:
                steps = self._steps[n]
                cuts.append(Cut(n, int(steps[first]), int(steps[-1])))
            for a, b, along in zip(*runs(index, connect, thinned.lengths), strict=True):
                key = (thinned.generation, int(index[a]), int(index[b]))
                path = cache.get(key)
                if path is None:
                    chosen = index[a:b + 1]
                    path = pg.arrayToQPath(points[chosen, 0], points[chosen, 1],
                                           connect=connect[a:b + 1])
                self._cache[key] = path
                self._paths.append((path, pen, float(along)))
                bounds = bounds.united(path.boundingRect())
        self._bounds = bounds
        if cuts != self.cuts:
            self.cuts = cuts
            if self.on_cuts is not None:
                self.on_cuts(cuts)
        self.update()

    def viewTransformChanged(self) -> None:  # noqa: N802 - pyqtgraph hook
        if self._trails:
            self._build()

    def set_outline(self, color: str) -> None:
        self._outline_color = color
        self._outline = pg.mkPen(color, width=5 * self._scale)
        self.update()

    def set_width(self, scale: float) -> None:
        """Line widths times ``scale`` (2.5 px trails on a 5 px outline at 1)."""
        self._scale = float(scale)
        self._pens = {}
        self.set_outline(self._outline_color)
        if self._trails:
            self._build()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        if self._bounds.isNull():
            return QRectF()
        px, py = self.pixelVectors()
        pad_x = 4 * abs(px.x()) if px is not None else 0.0
        pad_y = 4 * abs(py.y()) if py is not None else 0.0
        return self._bounds.adjusted(-pad_x, -pad_y, pad_x, pad_y)

    def paint(self, painter, *_args) -> None:
        painter.setRenderHint(painter.RenderHint.Antialiasing, True)
        painter.setPen(self._outline)
        for path, _, _ in self._paths:
            painter.drawPath(path)
        for path, pen, along in self._paths:
            if along and pen.style() != Qt.PenStyle.SolidLine:
                pen = QPen(pen)
                pen.setDashOffset(along / pen.widthF())  # in pen widths: the dashes go on
            painter.setPen(pen)
            painter.drawPath(path)


def inside(points: np.ndarray, domain: tuple[float, float, float, float]) -> np.ndarray:
    """Which of ``points`` (k, 2) lie on the map ``domain`` (edges included)."""
    x0, x1, y0, y1 = domain
    return ((points[:, 0] >= x0) & (points[:, 0] <= x1)
            & (points[:, 1] >= y0) & (points[:, 1] <= y1))


def exit_point(points: np.ndarray, domain: tuple[float, float, float, float]
               ) -> tuple[np.ndarray, np.ndarray] | None:
    """Where a path whose last point is off the map last crossed the map's edge, and the
    direction it was heading: ``(point, direction)``, or None while it is on the map."""
    if len(points) == 0:
        return None
    on_map = inside(points, domain)
    if on_map[-1]:
        return None
    before = np.flatnonzero(on_map)
    if before.size == 0:
        return None  # it never was on the map (a start outside the view)
    j = int(before[-1])
    a, b = points[j], points[j + 1]
    direction = b - a
    x0, x1, y0, y1 = domain
    t = 1.0
    for axis, low, high in ((0, x0, x1), (1, y0, y1)):
        if direction[axis] > 0 and b[axis] > high:
            t = min(t, (high - a[axis]) / direction[axis])
        elif direction[axis] < 0 and b[axis] < low:
            t = min(t, (low - a[axis]) / direction[axis])
    return a + max(0.0, t) * direction, direction


def drawable(points: np.ndarray, domain: tuple[float, float, float, float]) -> np.ndarray:
    """``points`` with coordinates clamped to the map plus :data:`DRAW_MARGIN` map widths."""
    x0, x1, y0, y1 = domain
    mx, my = DRAW_MARGIN * (x1 - x0), DRAW_MARGIN * (y1 - y0)
    return np.column_stack([np.clip(points[:, 0], x0 - mx, x1 + mx),
                            np.clip(points[:, 1], y0 - my, y1 + my)])


def undefined_overlay(defined: np.ndarray, stripe: int = 6) -> np.ndarray:
    """RGBA image (same shape as ``defined``, column-major x first) that hatches the samples
    where f is not defined with grey diagonal stripes and leaves the rest transparent."""
    nx, ny = defined.shape
    i, j = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    dark = ((i + j) // stripe) % 2 == 0
    rgba = np.zeros((nx, ny, 4), dtype=np.ubyte)
    rgba[..., :3] = np.where(dark[..., None], 110, 200)
    rgba[..., 3] = np.where(defined, 0, 255)
    return rgba
