"""The theory panel: on a quadratic surface, the curvatures, the optimal settings and each
SGD/momentum racer's theoretical contraction rate beside the rate measured on its path.

Everything comes from :mod:`engine.landscape.theory`; the measured rate is the distance to the
minimum's geometric shrink per step over the second half of the path shown so far. Plain text.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.landscape import theory
from engine.landscape.race import Race
from engine.landscape.surfaces import Surface
from gui.landscape.anatomy_panel import quiet
from gui.palette import STATUS_COLORS

COLUMNS = ("racer", "theory", "measured")


def rate_text(rate: float | None) -> str:
    """A contraction rate per step: ``0.865``, ``1.02 (no convergence)``, or ``—`` for none."""
    if rate is None:
        return "—"
    return f"{rate:.4g}" if rate < 1 else f"{rate:.4g} (no convergence)"


def summary_lines(q: theory.Quadratic) -> list[str]:
    """The curvatures and the closed forms, one short line each."""
    low, high = q.curvatures
    best = theory.optima(q)
    return [
        f"λmin = {low:.4g}, λmax = {high:.4g}, κ = {q.condition_number:.4g}",
        f"minimum at ({q.minimum[0]:.4g}, {q.minimum[1]:.4g})",
        "stable: 0 < α·λmax < 2(1 + β)",
        f"GD best: α = 2/(λmin + λmax) = {best.gd_learning_rate:.4g}, rate {best.gd_rate:.4g}",
        f"momentum best: α* = {best.learning_rate:.4g}, β* = {best.momentum:.4g}, "
        f"rate {best.rate:.4g}",
    ]


class TheoryPanel(QWidget):
    """Closed forms for the race's surface and each racer's rates, at the step shown."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.quadratic: theory.Quadratic | None = None
        self._surface: Surface | None = None
        self._dark = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(["racer", "theory", "measured"])
        self.table.horizontalHeaderItem(1).setToolTip("the theoretical rate per step")
        self.table.horizontalHeaderItem(2).setToolTip("the rate measured on the path shown")
        self.table.setMinimumHeight(60)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setWordWrap(True)  # readable in a narrow side column
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        note = QLabel("Rate: the factor by which the distance to the minimum shrinks per "
                      "step (theory: SGD and momentum at a constant rate; measured: the second "
                      "half of the path shown).")
        note.setWordWrap(True)
        quiet(note)
        layout.addWidget(note)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        # A header hidden in another tab missed presentation mode's font change once (xcb):
        # keep it in step with the panel.
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.table.horizontalHeader().setFont(self.font())

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.table.horizontalHeader().setFont(self.font())
    def set_dark(self, dark: bool) -> None:
        self._dark = dark

    def show_race(self, race: Race, step: int, labels: dict[str, str]) -> None:
        """Show the theory for ``race``'s surface and its racers at playback ``step``."""
        if race.surface is not self._surface:
            self._surface = race.surface
            self.quadratic, why = theory.quadratic(race.surface)
            self.summary.setText("\n".join(summary_lines(self.quadratic)) if self.quadratic
                                 else why + " Try the ravine, the bowl, Booth, or a custom "
                                 "quadratic such as 2*x**2 + 3*x*y + 5*y**2.")
            self.summary.setToolTip(f"Curvatures: {self.quadratic.source}." if self.quadratic
                                    else "")
        q = self.quadratic
        rows = []
        if q is not None:
            for key, track in race.tracks.items():
                config = track.stepper.optimizer.config
                expected = theory.racer_rate(q, track.racer.optimizer_id, config,
                                             track.racer.schedule, track.racer.noise)
                measured = theory.measured_rate(track.points(step), q.minimum)
                beta = config.get("momentum") if track.racer.optimizer_id in (
                    "sgd", "momentum", "nesterov") else None
                alpha = None if track.racer.schedule is not None else config["learning_rate"]
                rows.append((labels.get(key, key), alpha, beta, expected, measured))
        self.table.setRowCount(len(rows))
        colors = STATUS_COLORS[self._dark]
        for row, (label, alpha, beta, expected, measured) in enumerate(rows):
            settings = ("α: schedule" if alpha is None else f"α {alpha:.4g}") + (
                "" if beta is None else f", β {beta:.4g}")
            texts = (f"{label}\n{settings}", rate_text(expected), rate_text(measured))
            for col, text in enumerate(texts):
                item = self.table.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, col, item)
                item.setText(text)
            agree = (expected is not None and measured is not None
                     and abs(measured - expected) <= 0.03 * expected)
            colour = colors["converged"] if agree else None
            self.table.item(row, 2).setForeground(QBrush(QColor(colour)) if colour
                                                  else QBrush())
            self.table.item(row, 2).setToolTip(
                "within 3% of theory" if agree else
                "not measured yet (too few steps)" if measured is None else
                "no closed form for this racer" if expected is None else
                "not yet at its asymptotic rate, or rounding reached")
        self.table.resizeRowsToContents()
