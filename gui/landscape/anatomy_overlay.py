"""The anatomy of a step drawn on the 2-D map, one term at a time, at the racer's point.

Vectors are arrows in the direction the weights move (``−gradient``, the velocity, the
update); per-coordinate quantities (a squared-gradient average, the step size per coordinate)
are two bars from the point, one along x and one along y, their lengths in the ratio of the
two numbers; scalars are a label. The current term is thick and labelled with its numbers;
earlier vectors stay, thin and faded. An arrow keeps its true length on the map when that is
readable, else it is scaled and its label says by how much.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QApplication

from engine.optimizers.anatomy import PER_COORDINATE, VECTOR, StepAnatomy, Term
from gui.landscape.anatomy_panel import value_text
from gui.palette import LIGHT, Theme

MIN_PIXELS, MAX_FRACTION, BAR_FRACTION = 40.0, 0.3, 0.22
Z = 50


def _arrow(origin: np.ndarray, vector: np.ndarray, pixel: np.ndarray) -> np.ndarray:
    """Segment pairs of an arrow whose head is drawn in pixel proportions."""
    tip = origin + vector
    in_pixels = vector / pixel
    length = float(np.hypot(*in_pixels))
    if length == 0:
        return np.array([origin, tip])
    back = -in_pixels / length * min(14.0, 0.4 * length)
    c, s = np.cos(np.radians(25)), np.sin(np.radians(25))
    left = np.array([c * back[0] - s * back[1], s * back[0] + c * back[1]]) * pixel
    right = np.array([c * back[0] + s * back[1], -s * back[0] + c * back[1]]) * pixel
    return np.array([origin, tip, tip, tip + left, tip, tip + right])


class AnatomyOverlay:
    """Items on ``view`` (a :class:`gui.landscape.surface_view.SurfaceView`) showing terms."""

    def __init__(self, view, theme: Theme = LIGHT) -> None:
        self.view = view
        self.theme = theme
        self._items: list = []  # what is drawn now
        self._pool: list = []  # line items, reused from frame to frame (no churn at 60 fps)
        self._text: pg.TextItem | None = None

    def clear(self) -> None:
        for item in self._items:
            item.setVisible(False)
        self._items = []

    def show(self, parts: StepAnatomy | None, revealed: int, color: str) -> None:
        """Draw the first ``revealed`` terms of ``parts`` at its point in the racer's colour."""
        self.clear()
        if parts is None or revealed <= 0:
            return
        vb = self.view.getPlotItem().getViewBox()
        pixel = np.abs(np.array(vb.viewPixelSize(), dtype=float))
        if not np.all(np.isfinite(pixel)) or np.any(pixel <= 0):
            return
        size = np.array([vb.width(), vb.height()], dtype=float)
        origin = np.asarray(parts.point, dtype=float)
        terms = parts.terms[:revealed]
        faded = QColor(color)
        faded.setAlpha(170)
        for term in terms[:-1]:  # the terms already talked about: thin, but still there
            if term.kind == VECTOR:
                self._line(_arrow(origin, self._scaled(term, pixel, size)[0], pixel),
                           pg.mkPen(faded, width=3, style=Qt.PenStyle.DashLine))
        current = terms[-1]
        text = f"{('−' if current.against else '')}{current.name}  {value_text(current)}"
        anchor = origin
        if current.kind == VECTOR:
            vector, factor = self._scaled(current, pixel, size)
            segments = _arrow(origin, vector, pixel)
            self._line(segments, pg.mkPen(self.theme.outline, width=7))
            self._line(segments, pg.mkPen(color, width=4))
            anchor = origin + vector
            if factor != 1:
                text += f"  (drawn ×{factor:.2g})"
        elif current.kind == PER_COORDINATE:
            anchor = self._bars(origin, np.asarray(current.value, dtype=float), pixel, size, color)
        self._label(text, anchor, color)

    def _scaled(self, term: Term, pixel: np.ndarray, size: np.ndarray):
        """The arrow of ``term`` in map units, and the factor it was scaled by (1: true)."""
        vector = np.asarray(term.drawn(), dtype=float)
        length = float(np.hypot(*(vector / pixel)))
        if not np.isfinite(length) or length == 0:
            return np.zeros(2), 1.0
        longest = MAX_FRACTION * float(size.min())
        target = min(max(length, MIN_PIXELS), longest)
        factor = target / length
        return vector * factor, (1.0 if abs(factor - 1) < 1e-9 else factor)

    def _bars(self, origin, value, pixel, size, color) -> np.ndarray:
        top = float(np.max(value))
        if not np.isfinite(top) or top <= 0:
            return origin
        per_unit = BAR_FRACTION * float(size.min()) / top  # pixels per unit of the value
        ends = [origin + np.array([value[0] * per_unit * pixel[0], 0.0]),
                origin + np.array([0.0, value[1] * per_unit * pixel[1]])]
        for end in ends:
            segment = np.array([origin, end])
            self._line(segment, pg.mkPen(self.theme.outline, width=13,
                                         capStyle=Qt.PenCapStyle.FlatCap))
            self._line(segment, pg.mkPen(color, width=9, capStyle=Qt.PenCapStyle.FlatCap))
        return ends[0] if value[0] >= value[1] else ends[1]

    def _line(self, segments: np.ndarray, pen) -> None:
        used = sum(1 for item in self._items if item is not self._text)
        if used < len(self._pool):
            item = self._pool[used]
        else:
            item = pg.PlotDataItem(connect="pairs")
            item.setZValue(Z)
            self.view.getPlotItem().addItem(item, ignoreBounds=True)
            self._pool.append(item)
        item.setData(segments[:, 0], segments[:, 1], connect="pairs", pen=pen)
        item.setVisible(True)
        self._items.append(item)

    def _label(self, text: str, anchor: np.ndarray, color: str) -> None:
        background = QColor(self.theme.background)
        background.setAlpha(225)
        if self._text is None:
            self._text = pg.TextItem()
            self._text.setZValue(Z + 1)
            self.view.getPlotItem().addItem(self._text, ignoreBounds=True)
        label = self._text
        label.fill = pg.mkBrush(background)
        label.border = pg.mkPen(color, width=2)
        font = QFont(QApplication.font())
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.15)
        font.setBold(True)
        label.setFont(font)
        label.setText(text, color=self.theme.foreground)
        # Beside the anchor on the side with more room, moved along x to stay on the map.
        box = self.view.getPlotItem().getViewBox()
        at = box.mapViewToScene(QPointF(float(anchor[0]), float(anchor[1])))
        bounds = box.sceneBoundingRect()
        width, height = label.textItem.boundingRect().width(), label.textItem.boundingRect().height()
        left = at.x() - width if at.x() > bounds.center().x() else at.x()
        left = max(bounds.left(), min(left, bounds.right() - width))
        label.setAnchor((0, 0 if at.y() - height < bounds.top() else 1))
        label.setPos(box.mapSceneToView(QPointF(left, at.y())))
        label.setVisible(True)
        self._items.append(label)
