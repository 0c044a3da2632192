"""The MNIST results table: one row per optimizer run, how it did and what it cost.

Rows are updated in place (a cell's text is set only when it changed), so refreshing after
every epoch neither flickers nor loses the user's selection. :meth:`TrainingResults.to_csv`
exports the same rows as plain numbers.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import re
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidgetItem

from gui.palette import LIGHT, Theme
from gui.widgets import StatusTable

COLUMNS = ("Optimizer", "Status", "Train acc.", "Val. acc.", "Test acc.", "s / epoch", "Params",
           "Optimizer state", "State vs SGD")
CSV_HEADER = ("key", "optimizer", "status", "train_accuracy", "val_accuracy", "test_accuracy",
              "seconds_per_epoch", "n_params", "optimizer_state_bytes",
              "state_minus_sgd_bytes", "state_over_sgd")
STATUS_COLUMN = COLUMNS.index("Status")
STATE_COLUMN = COLUMNS.index("Optimizer state")
VERSUS_SGD_COLUMN = COLUMNS.index("State vs SGD")
_HEADER_TIPS = (
    "Optimizer and its settings",
    "waiting, running, completed, stopped (by you), failed or diverged (loss became NaN/inf)",
    "Training accuracy, last epoch",
    "Validation accuracy, last epoch (data held out from training)",
    "Accuracy on the test set, after training",
    "Seconds per epoch of training",
    "Trainable parameters of the model",
    "Memory the optimizer keeps besides the weights (moments, accumulators)",
    "Optimizer state relative to plain SGD's",
)
_STATUS_TIPS = {
    "waiting": "waits for the runs before it",
    "running": "training now",
    "completed": "trained every epoch",
    "stopped": "stopped before the last epoch",
    "failed": "could not train (see the message above)",
    "diverged": "the loss became NaN or infinite",
}
#: Status colours readable on a light and on a dark base colour.
_STATUS_COLORS = {
    False: {"waiting": "#6b6b6b", "running": "#1f4fbf", "completed": "#1b7a2e",
            "stopped": "#9a5b00", "failed": "#c62828", "diverged": "#c62828"},
    True: {"waiting": "#a0a0a0", "running": "#8ab4ff", "completed": "#7ddc8f",
           "stopped": "#ffc857", "failed": "#ff7b72", "diverged": "#ff7b72"},
}
_MISSING = "—"
RATIO_FROM_BYTES = 1024  #: SGD state from which the table gives "×2.0 of SGD"
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_COLOR_ROLE = Qt.ItemDataRole.UserRole
_KEY_SUFFIX = re.compile(r"-\d+$")


@dataclass(frozen=True)
class TrainingRow:
    """One optimizer run's results so far.

    Attributes
    ----------
    key, label, color : str
        Run key (``"<optimizer id>-<n>"``, e.g. ``"sgd-1"``), display name and hex colour.
    status : str
        ``"waiting"``, ``"running"``, ``"completed"``, ``"stopped"``, ``"failed"`` or
        ``"diverged"``.
    train_accuracy, val_accuracy, test_accuracy : float or None
        Fractions in ``[0, 1]`` (shown as percentages); None until known.
    seconds_per_epoch : float or None
        Mean wall-clock time of one epoch.
    n_params : int or None
        Trainable parameters of the model.
    optimizer_state_bytes : int or None
        Bytes of the optimizer's own variables (moments, accumulators).
    """

    key: str
    label: str
    color: str
    status: str
    train_accuracy: float | None
    val_accuracy: float | None
    test_accuracy: float | None
    seconds_per_epoch: float | None
    n_params: int | None
    optimizer_state_bytes: int | None


def human_size(n_bytes: int) -> str:
    """``"0 B"``, ``"812 B"``, ``"401.9 KB"``, ``"1.5 MB"``: binary multiples (1 KB = 1024 B)."""
    if n_bytes < 1024:
        return f"{n_bytes} B"
    value = float(n_bytes)
    for unit in ("KB", "MB", "GB"):
        value /= 1024.0
        if value < 1023.95:
            return f"{value:.1f} {unit}"
    return f"{value / 1024.0:.1f} TB"


def optimizer_id_of(key: str) -> str:
    """The optimizer id in run key ``key``: ``"sgd-1"`` → ``"sgd"``."""
    return _KEY_SUFFIX.sub("", key)


def state_ratio_to_sgd(row: TrainingRow, rows: list[TrainingRow]) -> float | None:
    """``row``'s optimizer state over that of the first SGD run in ``rows`` with a size.

    None where ``row``'s size is unknown, where no SGD run has one, or where SGD keeps less than
    :data:`RATIO_FROM_BYTES` (plain SGD keeps a step counter only: a ratio to a few bytes says
    nothing; :func:`versus_sgd_text` then gives the difference).
    """
    sgd = _sgd_bytes(rows)
    if sgd is None or sgd < RATIO_FROM_BYTES or row.optimizer_state_bytes is None:
        return None
    return row.optimizer_state_bytes / sgd


def versus_sgd_text(row: TrainingRow, rows: list[TrainingRow]) -> str:
    """``"×2.0 of SGD"``; ``"+795.1 KB"`` where SGD keeps (almost) nothing; ``"—"`` without."""
    sgd, size = _sgd_bytes(rows), row.optimizer_state_bytes
    if sgd is None or size is None:
        return _MISSING
    ratio = state_ratio_to_sgd(row, rows)
    if ratio is not None:
        return f"×{ratio:.1f} of SGD"
    if size == sgd:
        return "same"
    return ("+" if size > sgd else "−") + human_size(abs(size - sgd))


def _sgd_bytes(rows: list[TrainingRow]) -> int | None:
    for row in rows:
        if optimizer_id_of(row.key) == "sgd" and row.optimizer_state_bytes is not None:
            return row.optimizer_state_bytes
    return None


def _plain(value) -> str:
    """A CSV field: integers as integers, other numbers as Python's shortest float text."""
    if value is None:
        return ""
    if isinstance(value, numbers.Integral):
        return str(int(value))
    return repr(float(value))


def _percent(value: float | None) -> str:
    return _MISSING if value is None or not math.isfinite(value) else f"{100.0 * value:.2f}%"


def cell_texts(row: TrainingRow, rows: list[TrainingRow]) -> tuple[str, ...]:
    """The text of each column for ``row`` (``rows``: all of them, for the SGD column)."""
    seconds = row.seconds_per_epoch
    if seconds is None or not math.isfinite(seconds):
        seconds_text = _MISSING
    else:
        seconds_text = f"{seconds:.2f}" if seconds < 10 else f"{seconds:.1f}"
    size = row.optimizer_state_bytes
    return (
        row.label,
        row.status,
        _percent(row.train_accuracy),
        _percent(row.val_accuracy),
        _percent(row.test_accuracy),
        seconds_text,
        _MISSING if row.n_params is None else f"{row.n_params:,}",
        _MISSING if size is None else human_size(size),
        versus_sgd_text(row, rows),
    )


def _tooltip(column: int, row: TrainingRow, text: str) -> str:
    if column == STATE_COLUMN and row.optimizer_state_bytes is not None:
        return f"{row.optimizer_state_bytes:,} bytes"
    if column == VERSUS_SGD_COLUMN and text.startswith(("+", "−")):
        return f"{text[1:]} {'more' if text[0] == '+' else 'less'} than SGD"
    if column == STATUS_COLUMN:
        return _STATUS_TIPS.get(row.status, row.status)
    return text if column == 0 else ""


class TrainingResults(StatusTable):
    """Read-only table of :class:`TrainingRow`, one row per run.

    Parameters
    ----------
    parent : QWidget, optional
        Qt parent.
    theme : Theme
        Kept for :meth:`set_theme`; colours follow the Qt palette (light or dark base).
    """

    status_column = STATUS_COLUMN
    status_colors = _STATUS_COLORS
    swatch_size = 14

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.theme = theme
        self._rows: list[TrainingRow] = []
        self._set_up(COLUMNS)
        for column, tip in enumerate(_HEADER_TIPS):
            self.horizontalHeaderItem(column).setToolTip(tip)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        self.setColumnHidden(VERSUS_SGD_COLUMN, True)

    def set_rows(self, rows: list[TrainingRow]) -> None:
        """Show ``rows`` in order, changing only the cells whose text changed.

        Parameters
        ----------
        rows
            One row per run.
        """
        rows = list(rows)
        self.setUpdatesEnabled(False)
        try:
            self._rows = rows
            if self.rowCount() != len(rows):
                self.setRowCount(len(rows))
            for index, row in enumerate(rows):
                self._fill(index, row, cell_texts(row, rows))
            hide_versus = _sgd_bytes(rows) is None
            if self.isColumnHidden(VERSUS_SGD_COLUMN) != hide_versus:
                self.setColumnHidden(VERSUS_SGD_COLUMN, hide_versus)
        finally:
            self.setUpdatesEnabled(True)

    def rows(self) -> list[TrainingRow]:
        """The rows shown, in order."""
        return list(self._rows)

    def _fill(self, index: int, row: TrainingRow, texts: tuple[str, ...]) -> None:
        for column, text in enumerate(texts):
            item = self.item(index, column)
            if item is None:
                item = QTableWidgetItem()
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                item.setTextAlignment(_LEFT if column in (0, STATUS_COLUMN) else _RIGHT)
                self.setItem(index, column, item)
            if item.text() != text:
                item.setText(text)
            tooltip = _tooltip(column, row, text)
            if item.toolTip() != tooltip:
                item.setToolTip(tooltip)
        swatch = self.item(index, 0)
        if swatch.data(_COLOR_ROLE) != row.color:
            swatch.setData(_COLOR_ROLE, row.color)
            swatch.setIcon(self._icon(row.color))
        status = self.item(index, STATUS_COLUMN)
        brush = self._status_brush(row.status)
        if status.foreground() != brush:
            status.setForeground(brush)

    def has_results(self) -> bool:
        """True when some run has a number to export."""
        return any(row.train_accuracy is not None or row.optimizer_state_bytes is not None
                   for row in self._rows)

    def to_csv(self) -> str:
        """The rows as CSV: :data:`CSV_HEADER`, then plain numbers (accuracies as fractions,
        sizes in bytes); unknown values are empty. Lines end in ``\\n`` only."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for row in self._rows:
            ratio = state_ratio_to_sgd(row, self._rows)
            sgd = _sgd_bytes(self._rows)
            difference = (None if sgd is None or row.optimizer_state_bytes is None
                          else row.optimizer_state_bytes - sgd)
            values = (row.train_accuracy, row.val_accuracy, row.test_accuracy,
                      row.seconds_per_epoch, row.n_params, row.optimizer_state_bytes,
                      difference, ratio)
            writer.writerow((row.key, row.label, row.status,
                             *(_plain(value) for value in values)))
        return buffer.getvalue()

    # --- looks --------------------------------------------------------------------------------
