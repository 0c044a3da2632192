"""``main.py landscape --out FILE.png``: the network landscape drawn by the app's own view,
without a window (Qt's offscreen platform), as a picture that stands alone on a slide: title,
axes with what they are (explained variance for PCA), a legend with each optimizer's colour
and marker, the colour bar, and the 1-D slices below. Qt is imported only when drawing."""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

SIZE = (1400, 1000)


def write_png(landscape, target: Path, size: tuple[int, int] = SIZE,
              theme_name: str = "light") -> None:
    """Draw ``landscape`` (:class:`engine.mnist.network_landscape.NetworkLandscape`) into the
    PNG ``target`` atomically (``OSError`` if it cannot be written)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

    from engine.files import atomic
    from gui.palette import THEMES, style_for
    from gui.training.network_lines import InterpolationPlots
    from gui.training.network_map import NetworkMap, PathStyle

    app = QApplication.instance() or QApplication(["optiscope-landscape"])
    theme = THEMES[theme_name]
    taken, styles = [], []
    for optimizer_id, label in zip(landscape.optimizer_ids, landscape.labels, strict=True):
        taken.append(style_for(optimizer_id, taken))  # as the tab gives them
        styles.append(PathStyle.of(label, taken[-1]))
    widget = QWidget()
    widget.setStyleSheet(f"background: {theme.background};")
    layout = QVBoxLayout(widget)
    view = NetworkMap(theme=theme)
    view.set_landscape(landscape, styles)
    lines = InterpolationPlots(theme=theme)
    lines.set_lines(landscape, styles)
    layout.addWidget(view, 3)
    layout.addWidget(lines, 1)
    plot = view.getPlotItem()
    legend = plot.addLegend(offset=(10, 10), labelTextColor=theme.foreground,
                            brush=theme.background)
    for style, status in zip(styles, landscape.statuses, strict=True):
        sample = pg.PlotDataItem([0], [0], pen=style.pen(),
                                 symbol=style.symbol, symbolBrush=style.color, symbolSize=12)
        legend.addItem(sample, escape(style.label + ("" if status == "completed"
                                                     else f" ({status})")))
    kind = {"pca": "PCA plane of all paths", "endpoints": "plane through the start and two "
            "final points", "random": "random filter-normalized plane"}[landscape.plane.kind]
    plot.setTitle(f"Training paths on the network's loss: {kind}, {len(landscape.alpha)}×"
                  f"{len(landscape.beta)} grid on {landscape.n_images:,} training images "
                  "(faint markers lie far from the plane)", color=theme.foreground, size="11pt")
    widget.resize(*size)
    widget.show()
    for _ in range(8):  # axis widths settle after a paint or two
        app.processEvents()
    image = widget.grab().toImage()
    widget.close()
    widget.deleteLater()
    app.processEvents()
    with atomic.replacing(target, suffix=".png") as temporary:
        if not image.save(temporary, "PNG"):
            raise OSError(f"could not write {str(target)!r}")
