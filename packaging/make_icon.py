"""Draw Optiscope's app icon: contour lines of a loss surface and an optimizer's path to its
minimum, on a dark rounded square.

Writes ``resources/icons/optiscope.png`` (256x256, the window icon) and
``resources/icons/optiscope.ico`` (16-256 px, for Windows builds; with Pillow when it is
installed, else Qt's own ICO writer at one size). Deterministic: running it again gives the
same files. Usage: ``python packaging/make_icon.py``.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import (  # noqa: E402
    QBrush,
    QColor,
    QGuiApplication,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
)

SIZE = 256
ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
BACKGROUND = "#15171c"  # the dark theme's background (gui/palette.py)
CONTOUR_COLORS = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")  # viridis
PATH_COLOR = "#e6194b"  # SGD's red in the race
MINIMUM = QPointF(140.0, 136.0)
TILT_DEGREES = 32.0  # the valley runs from top left to bottom right
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def _contour(level: int) -> QPainterPath:
    """A tilted ellipse around the minimum: a level set of an ill-conditioned quadratic."""
    radius_x = 24.0 + 19.0 * level
    radius_y = 12.0 + 9.5 * level
    tilt = math.radians(TILT_DEGREES)
    path = QPainterPath()
    points = 120
    for index in range(points + 1):
        angle = 2.0 * math.pi * index / points
        x = radius_x * math.cos(angle)
        y = radius_y * math.sin(angle)
        point = QPointF(MINIMUM.x() + x * math.cos(tilt) - y * math.sin(tilt),
                        MINIMUM.y() + x * math.sin(tilt) + y * math.cos(tilt))
        if index == 0:
            path.moveTo(point)
        else:
            path.lineTo(point)
    return path


def _trajectory() -> list[QPointF]:
    """A momentum-like path: zigzags across the valley, each swing smaller, to the minimum."""
    tilt = math.radians(TILT_DEGREES)
    steps = 6
    points = []
    for step in range(steps + 1):
        t = step / steps
        along = -100.0 * (1.0 - t) ** 1.3  # valley coordinates: along the axis, across it
        across = 40.0 * (1.0 - t) ** 1.1 * (1 if step % 2 == 0 else -1)
        points.append(QPointF(MINIMUM.x() + along * math.cos(tilt) - across * math.sin(tilt),
                              MINIMUM.y() + along * math.sin(tilt) + across * math.cos(tilt)))
    return points


def draw(size: int = SIZE) -> QImage:
    """The icon as a ``size`` x ``size`` ARGB image (drawn at 256 and scaled)."""
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    tile = QRectF(8, 8, SIZE - 16, SIZE - 16)
    clip = QPainterPath()
    clip.addRoundedRect(tile, 44, 44)
    painter.fillPath(clip, QColor(BACKGROUND))
    painter.setClipPath(clip)
    for level in reversed(range(len(CONTOUR_COLORS))):
        color = QColor(CONTOUR_COLORS[len(CONTOUR_COLORS) - 1 - level])
        painter.setPen(QPen(color, 7.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(_contour(level))
    points = _trajectory()
    outline = QPen(QColor("#000000"), 13.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                   Qt.PenJoinStyle.RoundJoin)
    line = QPen(QColor(PATH_COLOR), 7.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                Qt.PenJoinStyle.RoundJoin)
    for pen in (outline, line):
        painter.setPen(pen)
        painter.drawPolyline(points)
    painter.setPen(QPen(QColor("#000000"), 3.0))
    painter.setBrush(QBrush(QColor(PATH_COLOR)))
    for point in points[:-1]:
        painter.drawEllipse(point, 7.0, 7.0)
    painter.setBrush(QBrush(QColor("#ffffff")))  # the minimum the path reaches
    painter.drawEllipse(MINIMUM, 8.0, 8.0)
    painter.end()
    if size == SIZE:
        return image
    return image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)


def _write_ico(image: QImage, target: Path) -> None:
    try:
        from PIL import Image
    except ImportError:
        if not image.save(str(target), "ICO"):
            raise OSError(f"could not write {target}") from None
        return
    png = target.with_suffix(".tmp.png")
    image.save(str(png), "PNG")
    try:
        with Image.open(png) as picture:
            picture.save(target, format="ICO", sizes=[(s, s) for s in ICO_SIZES])
    finally:
        png.unlink()


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    ICONS.mkdir(parents=True, exist_ok=True)
    image = draw()
    png = ICONS / "optiscope.png"
    if not image.save(str(png), "PNG"):
        raise OSError(f"could not write {png}")
    _write_ico(image, ICONS / "optiscope.ico")
    print(f"wrote {png} and {png.with_suffix('.ico')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
