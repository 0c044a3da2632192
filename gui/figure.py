"""Pictures that stand alone on a slide: a title, the step, and a legend with the markers.

:func:`compose` puts a caption band above a picture of a view (the race, a map, the 3-D
view) and a legend band below it: each racer's line sample and marker with its short name
and, for a race, how it is doing at that step. The bands are painted by :func:`paint_bands`
with a QPainter, so the same caption serves PNG and GIF/MP4 frames (pixels) and SVG (text
and shapes stay vectors). :func:`race_caption` reads one from the landscape tab.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen

from gui.palette import LIGHT, RacerStyle, Theme
from gui.widgets.markers import marker_icon

PAD = 0.012  #: margins, as a fraction of the picture's width


@dataclass(frozen=True)
class Caption:
    """What a picture says about itself: a title, the step, one legend entry per racer."""

    title: str
    step: str = ""
    #: (racer style, words) per racer, or (hex colour, words) for a category of a map.
    entries: tuple[tuple[RacerStyle | str, str], ...] = field(default_factory=tuple)


def _fonts(width: float) -> tuple[QFont, QFont]:
    """Title and legend fonts sized to the picture (about 1/50 and 1/70 of its width)."""
    title, legend = QFont(), QFont()
    title.setPixelSize(max(12, round(width / 50)))
    title.setBold(True)
    legend.setPixelSize(max(10, round(width / 70)))
    return title, legend


def _legend_rows(caption: Caption, width: float, font: QFont) -> list[list[tuple]]:
    """Entries flowed into rows that fit ``width`` (an entry never splits)."""
    metrics = QFontMetricsF(font)
    icon = metrics.height() * 2.0
    pad = PAD * width
    rows: list[list[tuple]] = [[]]
    x = pad
    for style, text in caption.entries:
        entry_width = icon + 0.4 * metrics.height() + metrics.horizontalAdvance(text) + pad
        if rows[-1] and x + entry_width > width - pad:
            rows.append([])
            x = pad
        rows[-1].append((style, text, x))
        x += entry_width
    return [row for row in rows if row]


def band_heights(caption: Caption, width: float) -> tuple[float, float]:
    """Heights of the caption band above and the legend band below a picture ``width`` wide."""
    title_font, legend_font = _fonts(width)
    top = QFontMetricsF(title_font).height() * 1.6
    rows = _legend_rows(caption, width, legend_font)
    bottom = (QFontMetricsF(legend_font).height() * 1.5 * len(rows)
              + QFontMetricsF(legend_font).height() * 0.5) if rows else 0.0
    return top, bottom


def paint_bands(painter: QPainter, caption: Caption, width: float, body_height: float,
                theme: Theme = LIGHT) -> None:
    """Paint the caption band (title left, step right) at the top and the legend band under
    a body ``body_height`` tall, all ``width`` wide, in ``theme``'s colours."""
    title_font, legend_font = _fonts(width)
    top, bottom = band_heights(caption, width)
    pad = PAD * width
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.fillRect(QRectF(0, 0, width, top), QColor(theme.background))
    painter.fillRect(QRectF(0, top + body_height, width, bottom), QColor(theme.background))
    painter.setPen(QPen(QColor(theme.foreground)))
    painter.setFont(title_font)
    title_rect = QRectF(pad, 0, width - 2 * pad, top)
    metrics = QFontMetricsF(title_font)
    step_width = metrics.horizontalAdvance(caption.step) + pad if caption.step else 0.0
    title = metrics.elidedText(caption.title, Qt.TextElideMode.ElideRight,
                               title_rect.width() - step_width)
    painter.drawText(title_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                     title)
    if caption.step:
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                         caption.step)
    painter.setFont(legend_font)
    metrics = QFontMetricsF(legend_font)
    line = metrics.height() * 1.5
    icon_height = round(metrics.height())
    y = top + body_height + metrics.height() * 0.25
    for row in _legend_rows(caption, width, legend_font):
        for style, text, x in row:
            if isinstance(style, str):  # a map category: a framed patch of its colour
                painter.save()
                painter.setPen(QPen(QColor("#303030")))
                painter.setBrush(QColor(style))
                painter.drawRect(QRectF(x + icon_height / 2, y + (line - icon_height) / 2,
                                        icon_height, icon_height))
                painter.restore()
            else:
                icon = marker_icon(style, icon_height, line=True).pixmap(2 * icon_height,
                                                                         icon_height)
                painter.drawPixmap(QPointF(x, y + (line - icon_height) / 2), icon)
            painter.drawText(QRectF(x + 2 * icon_height + 0.4 * metrics.height(), y,
                                    width, line),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        y += line
    painter.restore()


def compose(body: QImage, caption: Caption, theme: Theme = LIGHT,
            height: int | None = None, width: int | None = None) -> QImage:
    """``body`` with the caption band above and the legend band below (a new image); with
    ``height`` and ``width``, exactly that size, the body fitted and centred (frames of an
    animation keep one size)."""
    width = body.width() if width is None else int(width)
    top, bottom = band_heights(caption, width)
    total = round(top + body.height() + bottom) if height is None else int(height)
    room = max(1, total - round(top) - round(bottom))
    if body.height() > room:  # a fixed-size frame: the picture scaled to fit, centred
        body = body.scaled(width, room, Qt.AspectRatioMode.KeepAspectRatio,
                           Qt.TransformationMode.SmoothTransformation)
    image = QImage(QSize(width, total), QImage.Format.Format_ARGB32)
    image.fill(QColor(theme.background))
    painter = QPainter(image)
    try:
        painter.drawImage(QPointF((width - body.width()) // 2, round(top)), body)
        paint_bands(painter, caption, width, room if height is not None else body.height(),
                    theme)
    finally:
        painter.end()
    return image


@contextmanager
def thick_lines(view, width: int):
    """Trails and markers as thick in a ``width``-pixel picture as on screen (pens are
    cosmetic: a picture larger than the view would otherwise get hairlines)."""
    before = view.line_scale
    scale = max(before, before * width / max(view.width(), 1))
    view.set_line_scale(scale, None if before == 1.0 else view.font_points)
    try:
        yield
    finally:
        view.set_line_scale(before, None if before == 1.0 else view.font_points)


def render_item(item, width: int, height: int | None = None) -> QImage:
    """A pyqtgraph item (a PlotItem) drawn ``width`` pixels wide (its aspect kept, or
    ``height`` tall), off screen."""
    from pyqtgraph.exporters import ImageExporter

    exporter = ImageExporter(item)
    exporter.parameters()["width"] = int(width)
    if height is not None:
        exporter.parameters()["height"] = int(height)
    return exporter.export(toBytes=True)


def write_svg(item, output, caption: Caption, theme: Theme = LIGHT) -> None:
    """``item``'s scene as SVG (vectors) with the caption and legend bands, also vectors,
    to ``output``: a file name or an open ``QIODevice`` (a buffer)."""
    from PySide6.QtSvg import QSvgGenerator

    source = item.sceneBoundingRect()
    width, height = source.width(), source.height()
    top, bottom = band_heights(caption, width)
    generator = QSvgGenerator()
    if isinstance(output, str):
        generator.setFileName(output)
    else:
        generator.setOutputDevice(output)
    generator.setSize(QSize(round(width), round(top + height + bottom)))
    generator.setViewBox(QRectF(0, 0, width, top + height + bottom))
    generator.setTitle(caption.title or "Optiscope")
    painter = QPainter(generator)
    try:
        item.scene().render(painter, QRectF(0, top, width, height), source)
        paint_bands(painter, caption, width, height, theme)
    finally:
        painter.end()


def race_caption(tab, step: int | None = None, title: str | None = None,
                 widest: bool = False) -> Caption:
    """The landscape race's caption at ``step`` (default: the step shown): the scenario's
    title or the surface's name, "step k / budget", and each racer with its status.
    ``widest``: every status in its longest words (to size the bands of an animation)."""
    from engine.landscape import status

    step = tab.step if step is None else int(step)
    race = tab.race
    if title is None:
        title = tab.banner.title.text() if tab.banner.isVisible() else ""
        title = title or f"{race.surface.name}: {race.surface.formula}"
    labels = race.labels()
    entries = []
    for key, track in race.tracks.items():
        outcome, stop = track.status_at(step)
        words = status.phrase(outcome, stop, race.budget)
        if widest:
            words = max((status.phrase("not_converged", None, race.budget),
                         status.phrase("escaped", race.budget)), key=len)
        entries.append((tab.styles[key], f"{labels[key]}: {words}"))
    return Caption(title, f"step {step} / {race.budget}", tuple(entries))
