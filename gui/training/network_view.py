"""The network's landscape beside the training curves: every optimizer's real path on one
plane through the MLP's 101,770 weights, over the loss on that plane.

When training ends, :func:`engine.mnist.network_landscape.compute` runs in a worker
``QThread`` (progress, cancel); the map then plays the paths from the start, in step with a
cursor on the training curves (``position_changed``), and the slider scrubs by epoch and
batch. The plane can be changed and recomputed; "random-walk control" shows what PCA does to
a path of random steps.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui import threads
from gui.palette import LIGHT, Theme
from gui.training.landscape_worker import LandscapeWorker
from gui.training.network_lines import InterpolationPlots
from gui.training.network_map import NetworkMap, PathStyle, position_text
from gui.training.network_text import describe, explain, legend_html
from gui.widgets import error_label

PLAY_INTERVAL_MS = 80  #: one snapshot per tick when playing (about 12 a second)
IDLE_TEXT = ("Train, and each optimizer's path through the network's 101,770 weights appears "
             "here, on the loss surface of a plane that holds all of them.")


class NetworkView(QWidget):
    """Plane choice, the map, the scrubber and the 1-D slices.

    Signals
    -------
    position_changed(float)
        The shown position in epochs (batches / batches per epoch), for the curves' cursor;
        -1 when nothing is shown.
    status_message(str)
        For the status bar.
    """

    position_changed = Signal(float)
    status_message = Signal(str)

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        from engine.mnist import network_landscape as nl

        self.theme = theme
        self.session = None
        self.styles: list[PathStyle] = []
        self.seed = 0
        self.landscape = None
        self.worker: LandscapeWorker | None = None
        self.thread = None
        self.closed = False  # after shutdown(): a late report starts nothing
        self.summary = " "  # what the readout says when nothing is hovered
        self._timeline: list[int] = [0]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.plane = QComboBox()
        self.plane.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.plane.setMinimumContentsLength(10)
        for kind in nl.PLANES:
            self.plane.addItem(nl.PLANE_TITLES[kind], kind)
        self.plane.setToolTip("PCA: the two directions along which all snapshots vary most. "
                              "Start and two final points: the plane through the initial "
                              "weights and the first two optimizers' final weights. Random: "
                              "two filter-normalized random directions around the first "
                              "optimizer's final weights (Li et al., 2018).")
        self.plane.currentIndexChanged.connect(self._plane_changed)
        self.grid = QSpinBox()
        self.grid.setRange(nl.GRID.low, nl.GRID.high)
        self.grid.setValue(nl.GRID.default)
        self.grid.setPrefix("grid ")
        self.grid.setToolTip(f"{nl.GRID.doc} The loss is computed at each point; "
                             f"{nl.GRID.range_text()}.")
        self.compute_button = QPushButton("Compute")
        self.compute_button.clicked.connect(self.compute)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        for widget in (self.plane, self.grid, self.compute_button, self.cancel_button):
            row.addWidget(widget)
        row.addWidget(self.progress, 1)
        row.addStretch(0)
        layout.addLayout(row)
        self.legend = QLabel("", textFormat=Qt.TextFormat.RichText)
        self.error = error_label()
        layout.addWidget(self.error)
        self.pages = QStackedWidget()
        self.message = QLabel(IDLE_TEXT, wordWrap=True, textFormat=Qt.TextFormat.PlainText,
                              alignment=Qt.AlignmentFlag.AlignCenter)
        self.message.setMargin(24)
        self.pages.addWidget(self.message)
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.map = NetworkMap(theme=theme)
        self.map.setMinimumHeight(160)
        self.map.hovered.connect(self._hovered)
        self.lines = InterpolationPlots(theme=theme)
        self.views.addTab(self.map, "Paths on a plane")
        self.views.addTab(self.lines, "Straight lines (1-D)")
        self.views.setCornerWidget(self.legend, Qt.Corner.TopRightCorner)
        self.pages.addWidget(self.views)
        layout.addWidget(self.pages, 1)
        # The hover readout; without a hover, a summary of what the map shows.
        self.readout = QLabel(" ", wordWrap=True, textFormat=Qt.TextFormat.PlainText)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.readout.setFixedHeight(2 * self.readout.fontMetrics().lineSpacing() + 4)
        layout.addWidget(self.readout)
        scrub = QHBoxLayout()
        self.play_button = QPushButton("▶")
        self.play_button.setToolTip("Play the paths from the start, in step with the curves")
        self.play_button.setFixedWidth(40)
        self.play_button.clicked.connect(self.toggle_play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.valueChanged.connect(self._scrubbed)
        self.position_label = QLabel("")
        self.position_label.setMinimumWidth(
            self.position_label.fontMetrics().horizontalAdvance("epoch 888, batch 8888/8888"))
        self.walk = QCheckBox("random-walk control")
        self.walk.setToolTip("A walk of random steps with the first optimizer's step lengths, "
                             "projected by PCA as well: it looks smooth too (Antognini & "
                             "Sohl-Dickstein, 2018). Smoothness on a PCA plane is no evidence.")
        self.walk.toggled.connect(self._walk_toggled)
        for widget, stretch in ((self.play_button, 0), (self.slider, 1),
                                (self.position_label, 0)):
            scrub.addWidget(widget, stretch)
        layout.addLayout(scrub)
        layout.addWidget(self.walk)  # its own line: the tab fits a 1024-px projector
        self.timer = QTimer(self)
        self.timer.setInterval(PLAY_INTERVAL_MS)
        self.timer.timeout.connect(self._tick)
        self._set_computing(False)

    # --- session --------------------------------------------------------------------------
    def training_started(self, text: str) -> None:
        """Forget the last landscape; ``text`` says what is being recorded."""
        self.cancel()
        self.timer.stop()
        self.session = self.landscape = None
        self.map.clear_landscape()
        self.lines.clear_lines()
        self.message.setText(text)
        self.pages.setCurrentWidget(self.message)
        self.summary = " "
        self.readout.setText(" ")
        self.readout.setToolTip("")
        self.legend.setText("")
        self.error.hide()
        self.position_label.setText("")
        self._set_computing(False)
        self.position_changed.emit(-1.0)

    def recording(self, config, n_train: int) -> None:
        """Say what training records for ``config`` on ``n_train`` samples (the snapshot
        plan and its memory)."""
        from engine.mnist import snapshots
        from engine.mnist.config import fit_samples

        n_train = min(n_train, config.limit or n_train)
        batches = math.ceil(fit_samples(n_train, config.validation_split) / config.batch_size)
        plan = snapshots.plan(config.epochs * batches, len(config.optimizers))
        self.message.setText(f"Recording {plan.describe()} (at most "
                             f"{snapshots.SNAPSHOT_BUDGET_BYTES / 2**20:.0f} MiB). Each "
                             "optimizer's path through the network's weights, and the loss "
                             "surface of a plane holding them all, appear when training ends.")

    def session_ended(self, config, data, results, styles: list[PathStyle],
                      stopped: bool = False) -> None:
        """Training on ``data`` with ``config`` gave ``results`` (with snapshots): compute
        their landscape, or, when the user ``stopped`` the session, keep them for Compute.
        ``styles``: one per optimizer of ``config``, in order."""
        from engine.mnist import datasets, network_landscape
        from engine.mnist.config import fit_samples

        data = datasets.first_training_samples(data, config.limit)
        batches = math.ceil(fit_samples(len(data.x_train), config.validation_split)
                            / config.batch_size)
        session = network_landscape.session_from(
            results, data, config.validation_split, batches,
            labels=[style.label for style in styles])
        if session.runs and max(len(run.weights) for run in session.runs) >= 2:
            if stopped:  # a stop stops: the paths so far are drawn on request
                self.session, self.styles, self.seed = session, list(styles), config.seed
                self.message.setText("Training was stopped. Compute draws the paths it took "
                                     "so far on the loss surface.")
                self._set_computing(False)
                return
            self.set_session(session, styles, seed=config.seed)
        else:
            self.message.setText("The session stopped before any weights moved: no paths "
                                 "to draw.")

    def set_session(self, session, styles: list[PathStyle], seed: int = 0) -> None:
        """Compute the landscape of ``session`` (:class:`engine.mnist.network_landscape.
        Session`); ``styles`` are indexed by the session's run indices."""
        self.session, self.styles, self.seed = session, list(styles), seed
        self.compute()

    @Slot()
    def compute(self) -> None:
        """Start computing the landscape on the chosen plane (if a session is there)."""
        if self.closed:
            return
        if self.session is None or self.worker is not None:
            if self.session is None:
                self._show_error("Train first: the paths come from a training session.")
            return
        from engine.mnist import network_landscape as nl

        session, plane, grid, seed = self.session, self.plane.currentData(), self.grid.value(), \
            self.seed

        def job(cancel, progress):
            return nl.compute(session, plane, grid, seed=seed, cancel=cancel, progress=progress)

        self.error.hide()
        self.timer.stop()
        self.worker = LandscapeWorker(job)
        self.worker.progressed.connect(self._progressed)
        self.worker.computed.connect(self._computed)
        self.worker.failed.connect(self._failed)
        self.worker.finished.connect(self._finished)
        self.thread = threads.start_worker(self.worker)
        self._set_computing(True)
        self.progress.setValue(0)
        self.progress.setFormat(f"{grid}×{grid} grid, {session.n_images:,} images… %p%")

    @Slot(int)
    def _plane_changed(self, _index: int) -> None:
        if self.session is not None and self.worker is None and self.landscape is not None:
            self.compute()  # the paths are there: show them on the plane just chosen

    @Slot()
    def cancel(self) -> None:
        """Stop the computation after its current chunk."""
        if self.worker is not None:
            self.worker.cancel()

    def is_computing(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel and wait (window close); nothing starts afterwards."""
        self.closed = True
        self.timer.stop()
        self.cancel()
        threads.wait_all(timeout_ms)

    # --- worker reports -------------------------------------------------------------------
    @Slot(float)
    def _progressed(self, fraction: float) -> None:
        self.progress.setValue(int(1000 * fraction))

    @Slot(object)
    def _computed(self, landscape) -> None:
        self.landscape = landscape
        styles = [self.styles[i] for i in landscape.run_indices]
        self.map.set_landscape(landscape, styles)
        if self.walk.isChecked():
            self.map.show_walk(True)
        self.lines.set_lines(landscape, styles)
        self.pages.setCurrentWidget(self.views)
        timeline = sorted({int(b) for batches in landscape.batches for b in batches})
        self._timeline = timeline or [0]
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(self._timeline) - 1)
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.summary = describe(landscape)
        self.readout.setText(self.summary)
        self.readout.setToolTip(explain(landscape))
        self.legend.setText(legend_html(styles, landscape.statuses, self.theme))
        self._set_computing(False)
        self.status_message.emit("Network landscape computed")
        self._scrubbed(0)
        self.toggle_play()  # the paths grow from the start, in step with the curves' cursor

    @Slot(str)
    def _failed(self, message: str) -> None:
        if message == "cancelled":
            self.status_message.emit("Network landscape cancelled")
            return
        self._show_error(f"No landscape: {message}")

    @Slot()
    def _finished(self) -> None:
        self.worker = None
        self.thread = None
        self._set_computing(False)

    # --- playback -------------------------------------------------------------------------
    @Slot()
    def toggle_play(self) -> None:
        """Play from here (from the start at the end), or pause."""
        if self.timer.isActive():
            self.timer.stop()
        elif self.landscape is not None:
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(0)
            self.timer.start()
        self.play_button.setText("❚❚" if self.timer.isActive() else "▶")

    @Slot()
    def _tick(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.timer.stop()
            self.play_button.setText("▶")
            return
        self.slider.setValue(self.slider.value() + 1)

    @Slot(int)
    def _scrubbed(self, value: int) -> None:
        if self.landscape is None:
            return
        batch = self._timeline[min(max(value, 0), len(self._timeline) - 1)]
        self.map.set_position(batch)
        per_epoch = self.landscape.batches_per_epoch
        self.position_label.setText(position_text(batch, per_epoch))
        self.position_changed.emit(batch / max(1, per_epoch))

    @Slot(bool)
    def _walk_toggled(self, checked: bool) -> None:
        self.map.show_walk(checked)
        self.readout.setText(self.summary)
        self.views.setCurrentWidget(self.map)

    @Slot(str)
    def _hovered(self, text: str) -> None:
        self.readout.setText(text or self.summary)

    # --- looks ----------------------------------------------------------------------------
    def _set_computing(self, computing: bool) -> None:
        self.compute_button.setEnabled(not computing and self.session is not None)
        self.cancel_button.setEnabled(computing)
        self.cancel_button.setVisible(computing)  # in Compute's place while computing
        self.compute_button.setVisible(not computing)
        self.progress.setVisible(computing)
        for widget in (self.play_button, self.slider, self.walk):
            widget.setEnabled(self.landscape is not None)
        for widget in (self.plane, self.grid):
            widget.setEnabled(not computing)

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self.status_message.emit(text)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.map.set_theme(theme)
        self.lines.set_theme(theme)
        if self.landscape is not None:
            styles = [self.styles[i] for i in self.landscape.run_indices]
            self.legend.setText(legend_html(styles, self.landscape.statuses, theme))
