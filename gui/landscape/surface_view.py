"""The 2-D surface view: log-scaled heat map, contours, minima, trails, start marker, arrows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGraphicsItem

from engine.landscape.surfaces import Surface
from gui.landscape.map_items import (
    ContoursItem,
    TrailsItem,
    drawable,
    exit_point,
    inside,
    undefined_overlay,
)
from gui.palette import LIGHT, RacerStyle, Theme
from gui.widgets import markers

GRID = 512  #: heat-map resolution per side
CONTOUR_GRID = 160  #: contour lines are traced on a coarser grid (pyqtgraph traces in Python)
CONTOUR_LEVELS = 12
TEXT_WIDTH = 30  #: pyqtgraph's first text space of a vertical axis, grown to fit its ticks
ARROW_FRACTION = 0.125  #: the longest arrow of a kind spans this fraction of the map's width
HEAD_SIZE = 14  #: racer marker size in pixels (times the line scale)


@dataclass(frozen=True)
class TrailData:
    """One racer as the view draws it."""

    key: str
    points: np.ndarray  # (k+1, 2), finite
    style: RacerStyle
    status: str  # an id of engine.landscape.status
    #: the step number of each of ``points`` when they are a selection of the path's steps
    #: (``gui.landscape.trails``); None when point k is step k
    steps: np.ndarray | None = None
    label: str = ""  #: the racer's name as the table shows it ("SGD · noise 100")

    @property
    def color(self) -> str:
        return self.style.color


@dataclass(frozen=True)
class VectorData:
    """The internals of one racer's current step (any may be None)."""

    key: str
    point: np.ndarray
    color: str
    descent: np.ndarray | None  # −gradient
    update: np.ndarray | None
    velocity: np.ndarray | None


def surface_grid(surface: Surface, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values on a ``resolution``² grid over the surface's domain: (xs, ys, values[ix, iy])."""
    x0, x1, y0, y1 = surface.domain
    xs = np.linspace(x0, x1, resolution)
    ys = np.linspace(y0, y1, resolution)
    xy = np.stack(np.meshgrid(xs, ys, indexing="ij"), axis=-1)
    with np.errstate(all="ignore"):
        values = surface.value(xy)
    return xs, ys, values


def display_values(surface: Surface, values: np.ndarray) -> tuple[np.ndarray, str]:
    """What the colours show: log10(f − f_min + δ) for surfaces spanning decades, else f.

    Non-finite values (a custom formula's undefined points) become NaN, which the image
    leaves transparent.
    """
    finite = np.isfinite(values)
    if not finite.any():
        return np.full(values.shape, np.nan), "f"
    floor = float(np.min(values[finite]))
    if surface.minima:
        floor = min(floor, min(m.value for m in surface.minima))
    if surface.log_scale:
        span = float(np.max(values[finite])) - floor
        delta = max(span * 1e-9, 1e-12)
        with np.errstate(all="ignore"):
            shown = np.log10(np.where(finite, values - floor, np.nan) + delta)
        return shown, "log₁₀(f − f*)"
    return np.where(finite, values, np.nan), "f(x, y)"


class SurfaceView(pg.PlotWidget):
    """Heat map with contours, minima, racers' trails and the draggable start point.

    Signals
    -------
    start_requested(float, float)
        The user clicked the map or dragged the start marker to (x, y).
    """

    start_requested = Signal(float, float)

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self.theme = theme
        self.surface: Surface | None = None
        plot = self.getPlotItem()
        plot.setLabel("bottom", "x")
        plot.setLabel("left", "y")
        plot.setMenuEnabled(False)
        # One unit is as long across as up: stretched to the view's shape, the round bowl
        # read as an oval (1.3:1 at the desk, 2.6:1 in presentation mode), a ravine's
        # elongation was not what students saw, and −∇f was not drawn at right angles to
        # the contours.
        plot.getViewBox().setAspectLocked(True, ratio=1.0)
        #: True once the user zoomed or panned the map (a resize of a view drawn to scale
        #: moves its range too, and that is not a setting a scenario file should keep).
        self.range_changed_by_user = False
        plot.getViewBox().sigRangeChangedManually.connect(self._range_changed_by_user)
        self.image = pg.ImageItem(axisOrder="col-major")
        # The map and contours only change with the surface or the zoom: cache them as pixmaps
        # so an animation frame repaints trails, not half a million pixels.
        self.image.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(interactive=False, width=14, colorMap=theme.colormap)
        self.colorbar.setImageItem(self.image, insert_in=plot)
        # pyqtgraph fixes the colour bar's axis at 45 px, which puts its label over 4-digit
        # tick values: let the axis size itself to its ticks and label.
        self.colorbar.axis.setWidth(None)
        # The tick text of y and of the colour bar is as wide as the surface's numbers: each
        # surface chosen resized the map (it moved left and right) and painted it twice. The
        # text space grows to the widest ticks shown and stays (until the font changes).
        self._text_axes = (plot.getAxis("left"), self.colorbar.axis)
        for axis in self._text_axes:
            axis.setStyle(autoReduceTextSpace=False)
        self.contours = ContoursItem()
        self.contours.setZValue(10)
        plot.addItem(self.contours)
        self.minima = pg.ScatterPlotItem(symbol="star", size=16, pen=pg.mkPen("#000", width=1.2),
                                         brush=pg.mkBrush("#ffffff"))
        self.minima.setZValue(20)
        plot.addItem(self.minima)
        #: "#1", "#2", ... beside each known minimum of a surface with several, as the
        #: headlines, the table and the Maps page number them ("SGD → #4" named a star
        #: the map did not tell apart).
        self.minima_numbers: list[pg.TextItem] = []
        self.field = pg.PlotDataItem(connect="pairs", pen=pg.mkPen((255, 255, 255, 110), width=1))
        self.field.setZValue(5)
        plot.addItem(self.field)
        self.start_marker = pg.TargetItem(pos=(0, 0), size=16, symbol="crosshair",
                                          pen=pg.mkPen("#ffffff", width=2), movable=True)
        self.start_marker.setZValue(40)
        self.start_marker.sigPositionChangeFinished.connect(self._start_dragged)
        plot.addItem(self.start_marker)
        self.trails = TrailsItem(theme.outline)
        self.trails.setZValue(30)
        plot.addItem(self.trails)
        self._brushes: dict[str, object] = {}
        self._outline_pen = pg.mkPen(theme.outline, width=1.5)
        self.heads = pg.ScatterPlotItem()
        self.heads.setZValue(31)
        plot.addItem(self.heads)
        self.badges = pg.ScatterPlotItem(pxMode=True)
        self.badges.setZValue(33)
        plot.addItem(self.badges)
        self._exit_arrows: list[pg.ArrowItem] = []
        self.undefined = pg.ImageItem(axisOrder="col-major")
        self.undefined.setZValue(2)
        plot.addItem(self.undefined)
        self.undefined_label = pg.TextItem("▨ f is not defined here", color="#202020",
                                           fill=pg.mkBrush(255, 255, 255, 220),
                                           anchor=(0, 0))
        self.undefined_label.setZValue(45)
        self.undefined_label.hide()
        plot.addItem(self.undefined_label)
        # A trail too long to stroke whole is drawn from a later step: said here, in words.
        self.cut_label = pg.TextItem("", color="#202020", fill=pg.mkBrush(255, 255, 255, 220),
                                     anchor=(0, 1))
        self.cut_label.setZValue(45)
        self.cut_label.hide()
        plot.addItem(self.cut_label)
        self._drawn_names: list[str] = []
        self.trails.on_cuts = self._cuts_changed
        self._arrows: dict[str, pg.PlotDataItem] = {}
        self._field_visible = False
        self.line_scale = 1.0
        self.font_points: int | None = None
        self.scene().sigMouseClicked.connect(self._clicked)
        self.set_theme(theme)

    def set_line_scale(self, scale: float, font_points: int | None = None) -> None:
        """Thicker trails, markers and arrows (presentation mode), and axis text in points."""
        self.line_scale = float(scale)
        self.font_points = font_points
        self.trails.set_width(scale)
        self._outline_pen = pg.mkPen(self.theme.outline, width=1.5 * scale)
        font = QFont()
        if font_points:
            font.setPointSize(font_points)
        plot = self.getPlotItem()
        for axis in (plot.getAxis("bottom"), plot.getAxis("left"), self.colorbar.axis):
            axis.setTickFont(font)
            axis.label.setFont(font)
        for axis in self._text_axes:  # another font: the text space is measured afresh
            axis.textWidth = TEXT_WIDTH
            axis.setStyle(autoReduceTextSpace=False)
        self.undefined_label.setFont(font)
        self.cut_label.setFont(font)
        for label in self.minima_numbers:
            label.setFont(font)

    # --- surface -------------------------------------------------------------------------
    def set_surface(self, surface: Surface, resolution: int = GRID) -> None:
        """Show ``surface``: heat map, colour bar, contours and known minima; reset the view."""
        self.surface = surface
        _, _, values = surface_grid(surface, resolution)
        shown, label = display_values(surface, values)
        x0, x1, y0, y1 = surface.domain
        self.image.setImage(shown, autoLevels=False)
        # Sample k sits at x0 + k·h; its pixel is centred there, half a cell past each edge.
        hx, hy = (x1 - x0) / (resolution - 1) / 2, (y1 - y0) / (resolution - 1) / 2
        rect = QRectF(x0 - hx, y0 - hy, x1 - x0 + 2 * hx, y1 - y0 + 2 * hy)
        self.image.setRect(rect)
        defined = np.isfinite(values)
        self.undefined.setImage(undefined_overlay(defined), autoLevels=False)
        self.undefined.setRect(rect)
        self.undefined.setVisible(not defined.all())
        self.undefined_label.setVisible(not defined.all())
        self.undefined_label.setPos(x0, y1)
        self.cut_label.setPos(x0, y0)
        finite = shown[np.isfinite(shown)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if high <= low:
            high = low + 1.0
        self.colorbar.setLevels((low, high))
        self.colorbar.axis.setLabel(label)
        self._set_contours(surface, low, high)
        points = [m.point for m in surface.minima]
        self.minima.setData(pos=points) if points else self.minima.clear()
        self._number_minima(points)
        if self._field_visible:
            self._draw_field()
        self.reset_view()

    def _number_minima(self, points: list) -> None:
        plot = self.getPlotItem()
        for label in self.minima_numbers:
            plot.removeItem(label)
        self.minima_numbers = []
        if len(points) < 2:
            return  # one minimum needs no number
        font = QFont()
        if self.font_points:
            font.setPointSize(self.font_points)
        for number, (x, y) in enumerate(points, 1):
            # Up and to the right, clear of a racer's marker on the star; over the trails.
            label = pg.TextItem(f"#{number}", color="#202020", fill=pg.mkBrush(255, 255, 255, 210),
                                anchor=(-0.55, 1.45))
            label.setFont(font)
            label.setZValue(32)
            label.setPos(float(x), float(y))
            plot.addItem(label)
            self.minima_numbers.append(label)

    def _set_contours(self, surface: Surface, low: float, high: float) -> None:
        _, _, values = surface_grid(surface, CONTOUR_GRID)
        shown, _ = display_values(surface, values)
        shown = np.where(np.isfinite(shown), shown, high)
        levels = np.linspace(low, high, CONTOUR_LEVELS + 2)[1:-1]
        self.contours.set_levels(shown, levels, surface.domain)

    def _range_changed_by_user(self, *_args) -> None:
        self.range_changed_by_user = True

    def reset_view(self) -> None:
        """Zoom to the surface's domain."""
        self.range_changed_by_user = False
        if self.surface is not None:
            x0, x1, y0, y1 = self.surface.domain
            self.getPlotItem().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)

    # --- start -------------------------------------------------------------------------
    def set_start(self, x: float, y: float) -> None:
        self.start_marker.blockSignals(True)
        self.start_marker.setPos(QPointF(x, y))
        self.start_marker.blockSignals(False)

    @Slot(object)
    def _start_dragged(self, marker) -> None:
        pos = marker.pos()
        self.start_requested.emit(float(pos.x()), float(pos.y()))

    @Slot(object)
    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.isAccepted():
            return
        view = self.getPlotItem().getViewBox()
        if not view.sceneBoundingRect().contains(event.scenePos()):
            return
        point = view.mapSceneToView(event.scenePos())
        event.accept()
        self.start_requested.emit(float(point.x()), float(point.y()))

    # --- racers ------------------------------------------------------------------------
    def set_trails(self, trails: list[TrailData]) -> None:
        """Draw each racer's path so far, its marker at its current point, and how it ended.

        Called every animation frame: all trails are one item (one paint call, paths built
        straight from the arrays) and all markers one scatter item. A converged racer's
        marker gets a ring; a path that is off the map at the shown step stops at the edge
        where it left, marked ✕ if it diverged and with an arrow otherwise (escaped
        downhill, or out for a while); a path that blew up inside the map ends in a ✕.
        """
        drawn, heads, badges, exits, names = [], [], [], [], []
        scale = self.line_scale
        domain = self.surface.domain if self.surface is not None else None
        for trail in trails:
            style, pts = trail.style, trail.points
            if len(pts) == 0:
                continue
            steps = trail.steps if trail.steps is not None else np.arange(len(pts))
            left = exit_point(pts, domain) if domain is not None else None
            if left is not None:
                point, direction = left
                last = np.flatnonzero(inside(pts, domain))[-1]
                pts = np.vstack([pts[: last + 1], point[None, :]])
                steps = np.append(steps[: last + 1], steps[last + 1])  # on its way to it
            elif domain is not None:
                pts = drawable(pts, domain)
            drawn.append((pts, style.color, style.dash, steps))
            names.append(trail.label or style.describe())
            if left is None:
                heads.append(self._head(pts[-1], style))
                if trail.status == "converged":
                    badges.append({"pos": pts[-1], "symbol": "o", "size": 26 * scale,
                                   "pen": pg.mkPen(style.color, width=3 * scale),
                                   "brush": None})
                elif trail.status == "diverged":
                    badges.append(self._cross(pts[-1]))
            elif trail.status == "diverged":
                badges.append(self._cross(point))
            else:
                exits.append((point, direction, style.color))
        self._drawn_names = names
        self.trails.set_paths(drawn)
        self.heads.setData(heads)
        self.badges.setData(badges)
        self._set_exit_arrows(exits)

    def _cuts_changed(self, cuts) -> None:
        """Name the trails drawn from a later step (``TrailsItem.cuts``), or hide the line."""
        named = [f"{self._drawn_names[c.index]}: trail from step {c.first}"
                 for c in cuts[:2] if c.index < len(self._drawn_names)]
        more = f"; {len(cuts) - 2} more" if len(cuts) > 2 else ""
        self.cut_label.setText("; ".join(named) + more + " (too long to draw whole)"
                               if named else "")
        # Wrapped within most of the map's width, so it never runs over the colour bar.
        self.cut_label.setTextWidth(max(200.0, 0.7 * self.getPlotItem().vb.width()))
        self.cut_label.setVisible(bool(named))

    def _head(self, point: np.ndarray, style: RacerStyle) -> dict:
        return {"pos": point, "symbol": markers.symbol(style.marker),
                "brush": self._brush(style.color), "pen": self._outline_pen,
                "size": HEAD_SIZE * self.line_scale}

    def _cross(self, point: np.ndarray) -> dict:
        """The ✕ where a diverged path ended (red with a dark outline: an error)."""
        return {"pos": point, "symbol": "x", "size": 22 * self.line_scale,
                "brush": pg.mkBrush("#e53935"), "pen": pg.mkPen("#000000", width=1.2)}

    def _set_exit_arrows(self, exits: list[tuple[np.ndarray, np.ndarray, str]]) -> None:
        """Arrows on the map's edge pointing where paths went off the map."""
        plot = self.getPlotItem()
        while len(self._exit_arrows) > len(exits):
            plot.removeItem(self._exit_arrows.pop())
        while len(self._exit_arrows) < len(exits):
            arrow = pg.ArrowItem(headLen=18, tailLen=0, pen=self._outline_pen)
            arrow.setZValue(32)
            plot.addItem(arrow)
            self._exit_arrows.append(arrow)
        for arrow, (point, direction, color) in zip(self._exit_arrows, exits, strict=True):
            # ArrowItem's tip is at its position; 0° points left, and angles turn clockwise
            # on screen, where y points down: (0, 1) in the map is 90°.
            angle = float(np.degrees(np.arctan2(direction[1], -direction[0])))
            arrow.setStyle(angle=angle, headLen=18 * self.line_scale, brush=color,
                           pen=self._outline_pen)
            arrow.setPos(float(point[0]), float(point[1]))

    def _brush(self, color: str):
        brush = self._brushes.get(color)
        if brush is None:
            brush = self._brushes[color] = pg.mkBrush(color)
        return brush

    def set_vectors(self, vectors: list[VectorData],
                    longest: dict[str, float] | None = None) -> None:
        """Arrows at each racer's current point, each kind to one scale: the ``longest``
        vector of that kind over the race (``longest[kind]``, or ``longest["kind:key"]`` for
        one racer's own: the tab gives them, and an arrow then grows and shrinks as its vector
        does, step after step) spans :data:`ARROW_FRACTION` of the map, and none is drawn
        longer. Without one, the longest of that kind at this step does."""
        plot = self.getPlotItem()
        for item in self._arrows.values():
            plot.removeItem(item)
        self._arrows = {}
        if self.surface is None or not vectors:
            return
        x0, x1, _, _ = self.surface.domain
        target = ARROW_FRACTION * (x1 - x0)
        styles = {"descent": Qt.PenStyle.SolidLine, "update": Qt.PenStyle.DashLine,
                  "velocity": Qt.PenStyle.DotLine}
        for kind, style in styles.items():
            arrows = [(v, getattr(v, kind)) for v in vectors if getattr(v, kind) is not None]
            lengths = [float(np.hypot(*a)) for _, a in arrows]
            now = max([n for n in lengths if np.isfinite(n)], default=0.0)
            for (v, a), n in zip(arrows, lengths, strict=True):
                if not np.isfinite(n) or n == 0:
                    continue
                known = longest or {}
                reference = known.get(f"{kind}:{v.key}") or known.get(kind) or now
                # Capped at the target: a racer left out of the reference (it diverged).
                scale = target / max(reference, n)
                segment = _arrow_segments(v.point, np.asarray(a) * scale)
                item = pg.PlotDataItem(segment[:, 0], segment[:, 1], connect="pairs",
                                       pen=pg.mkPen(v.color, width=2.5 * self.line_scale,
                                                    style=style))
                item.setZValue(35)
                plot.addItem(item)
                self._arrows[f"{kind}:{v.key}"] = item

    def set_gradient_field(self, visible: bool) -> None:
        """Show or hide normalised −∇f arrows over the map."""
        self._field_visible = visible
        if visible:
            self._draw_field()
        else:
            self.field.clear()

    def _draw_field(self, density: int = 22) -> None:
        if self.surface is None:
            return
        x0, x1, y0, y1 = self.surface.domain
        xs, ys = np.linspace(x0, x1, density + 2)[1:-1], np.linspace(y0, y1, density + 2)[1:-1]
        xy = np.stack(np.meshgrid(xs, ys, indexing="ij"), -1).reshape(-1, 2)
        with np.errstate(all="ignore"):
            g = -self.surface.grad(xy)
            norm = np.hypot(g[:, 0], g[:, 1])
            keep = np.isfinite(norm) & (norm > 0)
            step = 0.4 * min((x1 - x0), (y1 - y0)) / density
            d = g[keep] / norm[keep, None] * step
        segments = [_arrow_segments(p, v, head=0.35) for p, v in zip(xy[keep], d, strict=True)]
        if segments:
            data = np.concatenate(segments)
            self.field.setData(data[:, 0], data[:, 1])

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setBackground(theme.background)
        plot = self.getPlotItem()
        for name in ("bottom", "left"):
            axis = plot.getAxis(name)
            axis.setPen(theme.foreground)
            axis.setTextPen(theme.foreground)
        self.colorbar.axis.setPen(theme.foreground)
        self.colorbar.axis.setTextPen(theme.foreground)


def _arrow_segments(origin: np.ndarray, vector: np.ndarray, head: float = 0.25) -> np.ndarray:
    """Line segments (pairs of points) drawing an arrow from ``origin`` along ``vector``."""
    origin = np.asarray(origin, dtype=float)
    tip = origin + vector
    back = -vector * head
    c, s = np.cos(np.radians(25)), np.sin(np.radians(25))
    left = tip + np.array([c * back[0] - s * back[1], s * back[0] + c * back[1]])
    right = tip + np.array([c * back[0] + s * back[1], -s * back[0] + c * back[1]])
    return np.array([origin, tip, tip, left, tip, right])
