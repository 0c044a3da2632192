"""The results table: how each racer is doing at the shown step, one row per racer.

Rows are updated in place (a cell's text is set only when it changed), so refreshing a few
times a second during playback neither flickers nor loses the user's selection.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHeaderView, QTableWidgetItem

from engine.landscape import status
from gui.palette import LIGHT, STATUS_COLORS, Theme
from gui.widgets import StatusTable

COLUMNS = ("Optimizer", "Settings", "Status", "Steps to tol.", "Final loss", "Final point",
           "Minimum reached")
SETTINGS_COLUMN = COLUMNS.index("Settings")
STATUS_COLUMN = COLUMNS.index("Status")
_NUMERIC = frozenset({3, 4, 5})  # right-aligned columns
_RIGHT = Qt.AlignmentFlag.AlignRight
_MISSING = "—"
_KEY_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class ResultRow:
    """One racer's result at the shown step.

    Attributes
    ----------
    key, label, color : str
        Racer key, display name and hex colour.
    settings : str
        Its hyperparameters as text, e.g. ``"learning_rate=0.001, beta_1=0.9"``.
    status : str
        An id of :mod:`engine.landscape.status` (``"moving"``, ``"converged"``, ...).
    stop_step : int or None
        Step of the outcome (converged, diverged, escaped).
    steps_to_tolerance : int or None
        Steps it took to come within tolerance of a minimum.
    final_loss : float
        Loss at the shown step.
    final_point : tuple of float
        ``(x, y)`` at the shown step.
    minimum : str or None
        The minimum reached, e.g. ``"global (1, 1)"``.
    """

    key: str
    label: str
    color: str
    settings: str
    status: str
    stop_step: int | None
    steps_to_tolerance: int | None
    final_loss: float
    final_point: tuple[float, float]
    minimum: str | None
    budget: int | None = None  #: the step budget, for "not converged in N steps"


def status_text(row: ResultRow) -> str:
    """The status words: ``"converged at step 412"``, ``"not converged in 2000 steps"``."""
    return status.phrase(row.status, row.stop_step, row.budget)


def cell_texts(row: ResultRow) -> tuple[str, ...]:
    """The text of each column for ``row``, in :data:`COLUMNS` order."""
    x, y = row.final_point
    return (
        row.label,
        row.settings,
        status_text(row),
        _MISSING if row.steps_to_tolerance is None else str(row.steps_to_tolerance),
        f"{row.final_loss:.6g}",
        f"({x:.4g}, {y:.4g})",
        row.minimum or _MISSING,
    )


class ResultsTable(StatusTable):
    """Read-only table of :class:`ResultRow`; selecting a row selects that racer.

    Signals
    -------
    row_selected(str)
        The key of the row the user selected.
    """

    row_selected = Signal(str)

    status_column = STATUS_COLUMN
    status_colors = STATUS_COLORS
    swatch_size = 12

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.theme = theme
        self._rows: list[ResultRow] = []
        self._updating = False
        self._press_changed_selection = False
        self._set_up(COLUMNS)
        header = self.horizontalHeader()
        # The settings column takes what the others leave (see _fit_settings), eliding the
        # rest; its tooltip shows it all.
        header.setSectionResizeMode(SETTINGS_COLUMN, QHeaderView.ResizeMode.Fixed)
        header.setMinimumSectionSize(60)
        header.setHighlightSections(False)
        header.sectionResized.connect(self._section_resized)
        self.itemSelectionChanged.connect(self._selection_changed)
        self.clicked.connect(self._clicked)

    def set_rows(self, rows: list[ResultRow]) -> None:
        """Show ``rows`` in order, changing only what changed; the selected key stays selected.

        Parameters
        ----------
        rows
            One row per racer.
        """
        selected = self.selected_key()
        self._updating = True
        self.setUpdatesEnabled(False)
        try:
            self._rows = list(rows)
            if self.rowCount() != len(rows):
                self.setRowCount(len(rows))
            for index, row in enumerate(rows):
                self._fill(index, row)
            self._select(selected)
            self._fit_settings()
        finally:
            self.setUpdatesEnabled(True)
            self._updating = False

    def _fit_settings(self) -> None:
        header = self.horizontalHeader()
        others = sum(header.sectionSize(c) for c in range(self.columnCount())
                     if c != SETTINGS_COLUMN)
        wanted = max(self.sizeHintForColumn(SETTINGS_COLUMN),
                     header.sectionSizeHint(SETTINGS_COLUMN))
        width = max(header.minimumSectionSize(), min(wanted, self.viewport().width() - others))
        if header.sectionSize(SETTINGS_COLUMN) != width:
            header.resizeSection(SETTINGS_COLUMN, width)

    @Slot(int, int, int)
    def _section_resized(self, column: int, _old: int, _new: int) -> None:
        if column != SETTINGS_COLUMN:
            self._fit_settings()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_settings()

    def _fill(self, index: int, row: ResultRow) -> None:
        status_brush = self._status_brush(row.status)
        for column, text in enumerate(cell_texts(row)):
            item = self.item(index, column)
            if item is None:
                item = QTableWidgetItem()
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                item.setTextAlignment(Qt.AlignmentFlag.AlignVCenter | (
                    _RIGHT if column in _NUMERIC else Qt.AlignmentFlag.AlignLeft))
                self.setItem(index, column, item)
            if item.text() != text:
                item.setText(text)
                if column in (0, SETTINGS_COLUMN):
                    item.setToolTip(text)
            if column == 0:
                if item.data(_KEY_ROLE) != row.key:
                    item.setData(_KEY_ROLE, row.key)
                item.setIcon(self._icon(row.color))
            elif column == STATUS_COLUMN and item.foreground() != status_brush:
                item.setForeground(status_brush)

    def selected_key(self) -> str | None:
        """The key of the selected row, or None."""
        rows = self.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.item(rows[0].row(), 0)
        return None if item is None else item.data(_KEY_ROLE)

    def select_key(self, key: str | None) -> None:
        """Select the row of ``key`` (clear the selection for None) without emitting."""
        self._updating = True
        try:
            self._select(key)
        finally:
            self._updating = False

    def _select(self, key: str | None) -> None:
        for index, row in enumerate(self._rows):
            if row.key == key:
                if self.selected_key() != key:
                    self.selectRow(index)
                return
        self.clearSelection()

    def rows(self) -> list[ResultRow]:
        """The rows shown, in order."""
        return list(self._rows)

    @Slot()
    def _selection_changed(self) -> None:
        key = self.selected_key()
        if not self._updating and key is not None:
            self.row_selected.emit(key)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        before = self.selected_key()
        super().mousePressEvent(event)
        self._press_changed_selection = self.selected_key() != before

    @Slot(object)
    def _clicked(self, index) -> None:
        # A click on the row that is already selected changes no selection, yet the user
        # asked for that racer again (another may have been picked elsewhere since).
        if self._press_changed_selection:
            return
        item = self.item(index.row(), 0)
        if item is not None and item.data(_KEY_ROLE) is not None:
            self.row_selected.emit(item.data(_KEY_ROLE))
