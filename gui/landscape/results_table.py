"""The results table: how each racer is doing at the shown step, one row per racer.

Rows are updated in place (a cell's text is set only when it changed), so refreshing a few
times a second during playback neither flickers nor loses the user's selection. Column
widths are set from the widest text each column can hold (the longest status phrase for the
budget, a 7-digit loss, the racers' names) when the racers, the budget or the font change,
never from the values as they play: nothing moves and no scroll bar appears mid-race. The
settings column takes the rest and elides; its tooltip has them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QSize, Qt, Signal, Slot
from PySide6.QtWidgets import QHeaderView, QTableWidgetItem

from engine.landscape import status
from gui.palette import LIGHT, STATUS_COLORS, RacerStyle, Theme
from gui.widgets import StatusTable
from gui.widgets.markers import marker_icon

COLUMNS = ("Optimizer", "Status", "Converged at", "Loss", "Minimum", "Point", "Settings")
#: The widest text of each fixed column (besides the racers' names and the status phrase).
_WIDEST = {2: "100000", 3: "-1.23457e+13", 4: "#4 global (-2.805, 3.131)",
           5: "(-1.235e+13, -1.235e+13)"}
#: Columns a narrow table leaves out first (their values are in the status cell's tooltip):
#: the settings first (the racer's name says its learning rate, its tooltip all of them).
#: At 1280 px the table kept "learning_rate=0.…" and dropped every number.
_DROP_ORDER = (6, 5, 4, 3, 2)
_SETTINGS_ROOM = 120  #: the least width the settings column is shown at
SETTINGS_COLUMN = COLUMNS.index("Settings")
STATUS_COLUMN = COLUMNS.index("Status")
_NUMERIC = frozenset({2, 3})  # right-aligned columns
_RIGHT = Qt.AlignmentFlag.AlignRight
_MISSING = "—"
_KEY_ROLE = Qt.ItemDataRole.UserRole
_STYLE_ROLE = Qt.ItemDataRole.UserRole + 1  #: the style its icon was drawn for


ELSEWHERE = status.ELSEWHERE


@dataclass(frozen=True)
class ResultRow:
    """One racer's result at the shown step.

    Attributes
    ----------
    key, label : str
        Racer key and its short name.
    style : RacerStyle
        Its colour, marker and dash.
    settings : str
        Its hyperparameters as text, e.g. ``"learning_rate=0.001, beta_1=0.9"``.
    status : str
        An id of :mod:`engine.landscape.status` (``"moving"``, ``"converged"``, ...).
    stop_step : int or None
        Step of the outcome (converged, diverged, escaped).
    steps_to_tolerance : int or None
        The step from which it stays within tolerance (the convergence rule).
    final_loss : float
        Loss at the shown step.
    final_point : tuple of float
        ``(x, y)`` at the shown step.
    minimum : str or None
        The minimum reached, e.g. ``"global (1, 1)"``.
    """


    key: str
    label: str
    style: RacerStyle
    settings: str
    status: str
    stop_step: int | None
    steps_to_tolerance: int | None
    final_loss: float
    final_point: tuple[float, float]
    minimum: str | None
    budget: int | None = None  #: the step budget, for "not converged in N steps"
    minima_known: bool = False  #: the surface lists its minima (so "not at one" means something)


def status_text(row: ResultRow) -> str:
    """The status words: ``"converged at step 412"``, ``"not converged in 2000 steps"``,
    ``"converged at step 1283, not at a known minimum"``."""
    return status.phrase(row.status, row.stop_step, row.budget,
                         at_known_minimum=row.minimum is not None if row.minima_known else None)


def cell_texts(row: ResultRow) -> tuple[str, ...]:
    """The text of each column for ``row``, in :data:`COLUMNS` order."""
    x, y = row.final_point
    return (
        row.label,
        status_text(row),
        _MISSING if row.steps_to_tolerance is None else str(row.steps_to_tolerance),
        f"{row.final_loss:.6g}",
        row.minimum or _MISSING,
        f"({x:.4g}, {y:.4g})",
        row.settings,
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
        self.setIconSize(QSize(32, 16))
        header = self.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(SETTINGS_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(60)
        header.setHighlightSections(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self._sized_for: tuple = ()
        self._widths: dict[int, int] = {}
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
            self._fit_columns()
        finally:
            self.setUpdatesEnabled(True)
            self._updating = False

    def _fit_columns(self) -> None:
        """Fixed widths from the widest text each column can show (see the module doc)."""
        labels = tuple(row.label for row in self._rows)
        budget = max((row.budget or 0 for row in self._rows), default=0)
        key = (labels, budget, self.font().key())
        if key == self._sized_for:
            return
        self._sized_for = key
        metrics = self.fontMetrics()
        pad = 2 * metrics.horizontalAdvance("M")
        header = self.horizontalHeader()
        widest = dict(_WIDEST)
        widest[0] = max(labels, key=metrics.horizontalAdvance, default="Optimizer")
        widest[STATUS_COLUMN] = max(
            (status.phrase("not_converged", None, budget or 100000),
             status.phrase("escaped", budget or 100000),
             status.phrase("converged", budget or 100000, at_known_minimum=False)),
            key=metrics.horizontalAdvance)
        for column, text in widest.items():
            extra = self.iconSize().width() + 8 if column == 0 else 0
            width = max(metrics.horizontalAdvance(text), metrics.horizontalAdvance(
                COLUMNS[column])) + pad + extra
            header.resizeSection(column, width)
            self._widths[column] = width
        self._drop_columns()

    def _drop_columns(self) -> None:
        """Leave out the least needed columns that do not fit (never cut one off), by width
        alone: the same columns show for the whole race."""
        room = self.viewport().width()
        hidden: set[int] = set()
        widths = {**self._widths, SETTINGS_COLUMN: _SETTINGS_ROOM}  # hidden sections measure 0
        total = sum(widths.get(c, 0) for c in range(len(COLUMNS)))
        for column in _DROP_ORDER:
            if total <= room:
                break
            hidden.add(column)
            total -= widths.get(column, 0)
        for column in range(1, len(COLUMNS)):
            if self.isColumnHidden(column) != (column in hidden):
                self.setColumnHidden(column, column in hidden)
        # The last column shown takes the rest of the width.
        header = self.horizontalHeader()
        last = max(c for c in range(len(COLUMNS)) if c not in hidden)
        for column in range(len(COLUMNS)):
            mode = (QHeaderView.ResizeMode.Stretch if column == last
                    else QHeaderView.ResizeMode.Fixed)
            if header.sectionResizeMode(column) != mode:
                header.setSectionResizeMode(column, mode)
                if mode == QHeaderView.ResizeMode.Fixed and column in self._widths:
                    header.resizeSection(column, self._widths[column])

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._drop_columns()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._sized_for = ()
            self._fit_columns()

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
                if column == SETTINGS_COLUMN:
                    item.setToolTip(text)
                elif column == 0:
                    item.setToolTip(f"{row.label}: {row.settings} ({row.style.describe()})")
                elif column == STATUS_COLUMN:
                    texts = cell_texts(row)
                    item.setToolTip(f"{text}; loss {texts[3]} at {texts[5]}; minimum "
                                    f"{texts[4]}")
            if column == 0:
                if item.data(_KEY_ROLE) != row.key:
                    item.setData(_KEY_ROLE, row.key)
                if item.data(_STYLE_ROLE) != repr(row.style):  # the icon only when it changes
                    item.setData(_STYLE_ROLE, repr(row.style))
                    item.setIcon(marker_icon(row.style, 16, line=True))
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
