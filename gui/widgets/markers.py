"""Racer markers for pyqtgraph and for Qt icons: one shape per optimizer, everywhere.

:data:`gui.palette.MARKERS` names the shapes; most are pyqtgraph's own symbols, two are
drawn here ("plus", a thick filled cross unlike a thin ✕, and "bowtie"). :func:`symbol`
gives what a ``ScatterPlotItem`` takes; :func:`marker_icon` draws the same shape, colour and
dash as an icon for lists, tables and legends.
"""

from __future__ import annotations

from functools import cache

import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import Symbols
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QTransform

from gui.palette import RacerStyle

OUTLINE = "#202020"


def _plus() -> QPainterPath:
    path = QPainterPath()
    a, b = 0.5, 0.17
    for x, y in ((-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b), (b, a), (-b, a),
                 (-b, b), (-a, b), (-a, -b), (-b, -b)):
        if path.elementCount() == 0:
            path.moveTo(x, y)
        else:
            path.lineTo(x, y)
    path.closeSubpath()
    return path


def _bowtie() -> QPainterPath:
    path = QPainterPath()
    path.moveTo(-0.5, -0.45)
    path.lineTo(0.0, 0.0)
    path.lineTo(-0.5, 0.45)
    path.closeSubpath()
    path.moveTo(0.5, -0.45)
    path.lineTo(0.0, 0.0)
    path.lineTo(0.5, 0.45)
    path.closeSubpath()
    return path


_CUSTOM = {"plus": _plus, "bowtie": _bowtie}


@cache
def symbol(name: str):
    """What pyqtgraph's ``symbol=`` takes for marker ``name`` (a name or a QPainterPath)."""
    if name in _CUSTOM:
        return _CUSTOM[name]()
    return name


@cache
def _path(name: str) -> QPainterPath:
    """The marker's outline in a unit square centred on 0 (pyqtgraph's own symbol paths)."""
    if name in _CUSTOM:
        return _CUSTOM[name]()
    return Symbols[name] if name in Symbols else Symbols["o"]


@cache
def marker_icon(style: RacerStyle, size: int = 16, line: bool = False) -> QIcon:
    """An icon of the racer's marker in its colour, outlined; with ``line``, twice as wide
    with a stretch of its dashed line behind the marker (a legend sample)."""
    width = 2 * size if line else size
    pixmap = QPixmap(width, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if line:
        for color, thickness, dash in ((OUTLINE, 4.0, Qt.PenStyle.SolidLine),
                                       (style.color, 2.0, Qt.PenStyle(style.dash))):
            pen = QPen(QColor(color), thickness)
            pen.setStyle(dash)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            painter.setPen(pen)
            painter.drawLine(QPointF(1, size / 2), QPointF(width - 1, size / 2))
    transform = QTransform()
    transform.translate(width / 2, size / 2)
    transform.scale(size * 0.8, size * 0.8)
    painter.setPen(QPen(QColor(OUTLINE), 1.2))
    painter.setBrush(QColor(style.color))
    painter.drawPath(transform.map(_path(style.marker)))
    painter.end()
    return QIcon(pixmap)


def legend_sample(style: RacerStyle, scale: float = 1.0) -> pg.PlotDataItem:
    """A pyqtgraph item whose legend entry shows the racer's line, dash and marker."""
    pen = pg.mkPen(style.color, width=2.5 * scale, style=Qt.PenStyle(style.dash))
    return pg.PlotDataItem([0, 1], [0, 0], pen=pen, symbol=symbol(style.marker),
                           symbolBrush=style.color, symbolPen=pg.mkPen(OUTLINE, width=1),
                           symbolSize=12 * scale)
