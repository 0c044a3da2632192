"""The MNIST training tab: the lesson's Keras MLP trained once per optimizer, live.

Training runs in a :class:`gui.training.worker.TrainingWorker` on its own ``QThread``; this
tab only receives queued signals (its ``@Slot`` methods run in the GUI thread), so the
window keeps painting while Keras trains. TensorFlow is imported by the worker on first use.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.files import atomic
from engine.landscape.race import Racer
from engine.mnist import settings as fields
from engine.params import ParamError
from gui import threads
from gui.palette import LIGHT, RacerStyle, Theme
from gui.session import TrainingModel
from gui.training.network_map import PathStyle
from gui.training.network_view import NetworkView
from gui.training.plots import TrainingPlots
from gui.training.results import TrainingResults, TrainingRow
from gui.training.worker import TrainingWorker
from gui.widgets import ProgressLine, controls_beside, error_label, group, scroll_panel
from gui.widgets.banner import LessonBanner
from gui.widgets.param_edit import ParamEdit
from gui.widgets.racer_panel import RacerPanel

DEFAULT_OPTIMIZERS = fields.DEFAULT_OPTIMIZERS
DATASETS = (("Auto (cache, download, bundled)", "auto"), ("Bundled MNIST subset", "bundled"),
            ("File (mnist.npz)…", "file"))


class TrainingTab(QWidget):
    """Configure, run, watch and compare; ``status_message`` feeds the status bar."""

    status_message = Signal(str)

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self.theme = theme
        self.worker: TrainingWorker | None = None
        self.thread = None
        #: The optimizers this tab trains, with their keys and looks (gui.session).
        self.model = TrainingModel(DEFAULT_OPTIMIZERS)
        self._panel_edit = False  # the racer panel made the change: its form stays
        self.rows: dict[str, TrainingRow] = {}
        self.results: list = []
        self.dataset_path: str | None = None
        self._run_keys: list[str] = []
        self._run_looks: dict[str, tuple[str, RacerStyle]] = {}
        self._run_meta: dict[int, tuple[int, int]] = {}
        self._lockstep = True  # how the running session trains
        self._started_at = 0.0
        self._n_train: int | None = None  # known once a dataset has loaded
        self._build()
        self.model.events.racers.connect(self._racers_shown)
        self._schedule_steps_changed()
        self._racers_shown(None)

    # --- the model's state, read through (no copies) ----------------------------------------
    @property
    def racers(self) -> dict[str, Racer]:
        """The optimizers to train by key, in order (:attr:`model`'s)."""
        return {key: self.model.racer(key) for key in self.model.keys()}

    @property
    def styles(self) -> dict[str, RacerStyle]:
        """Each optimizer's colour, marker and dash (gui.palette), as in the race."""
        return self.model.styles

    @property
    def measure_spec(self) -> dict | None:
        """The open scenario's training measure (engine.landscape.measures spec)."""
        return self.model.measure

    # --- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        controls = QWidget()
        column = QVBoxLayout(controls)
        self.racer_panel = RacerPanel(has_noise=False, steps_label="batch step",
                                      max_racers=fields.MAX_RUNS)
        self.racer_panel.set_theme(self.theme)
        self.racer_panel.racer_added.connect(self._racer_added)
        self.racer_panel.racer_removed.connect(self._racer_removed)
        self.racer_panel.racer_changed.connect(self._racer_changed)
        column.addWidget(group("Optimizers", self.racer_panel))
        column.addWidget(self._settings_box())
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start training")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        buttons.addWidget(self.start_button, 1)
        buttons.addWidget(self.stop_button)
        column.addLayout(buttons)
        self.error = error_label()
        column.addWidget(self.error)
        column.addWidget(self._export_box())
        column.addStretch(1)
        scroll = scroll_panel(controls)

        self.dataset_label = QLabel("Data: chosen when training starts.")
        self.dataset_label.setWordWrap(True)
        self.dataset_label.setTextFormat(Qt.TextFormat.PlainText)  # a file's name, as it is
        self.progress = ProgressLine()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.progress.setTextVisible(True)
        smoothing = QHBoxLayout()
        smoothing.addWidget(QLabel("smoothing"))
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, 99)
        self.smoothing.setValue(60)
        self.smoothing.setToolTip("Exponential moving average of the per-batch curves (0 = raw)")
        self.smoothing.valueChanged.connect(lambda v: self.plots.set_smoothing(v / 100))
        smoothing.addWidget(self.smoothing, 1)
        self.plots = TrainingPlots(theme=self.theme)
        self.plots.set_smoothing(0.6)
        self.table = TrainingResults()
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        self.banner = LessonBanner()
        top_layout.addWidget(self.banner)
        top_layout.addWidget(self.dataset_label)
        top_layout.addWidget(self.progress)
        # The explanation opens in place of the results table, never above the curves.
        self.bottom = QStackedWidget()
        self.bottom.addWidget(self.table)
        self.bottom.addWidget(self.banner.drawer)
        self.banner.explanation_toggled.connect(
            lambda shown: self.bottom.setCurrentIndex(1 if shown else 0))
        curves = QWidget()
        curves_layout = QVBoxLayout(curves)
        curves_layout.setContentsMargins(0, 0, 0, 0)
        curves_layout.addWidget(self.plots, 1)
        curves_layout.addLayout(smoothing)
        self.network = NetworkView(theme=self.theme)
        self.network.position_changed.connect(self._network_position)
        self.network.status_message.connect(self.status_message)
        views = QSplitter(Qt.Orientation.Horizontal)
        views.addWidget(curves)
        views.addWidget(self.network)
        views.setSizes([440, 560])
        top_layout.addWidget(views, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(top)
        right.addWidget(self.bottom)
        right.setStretchFactor(0, 4)
        right.setStretchFactor(1, 1)
        right.setSizes([640, 200])
        self.controls = scroll
        controls_beside(self, scroll, right, sizes=(1100,))

    def set_presentation(self, on: bool) -> None:
        """Presentation mode: the lesson's title and number in large type (the control panel
        widens with the type, and narrows again after: :func:`gui.widgets.scroll_panel`)."""
        self.banner.set_large(on)

    def _settings_box(self) -> QGroupBox:
        box = QGroupBox("Training")
        box.setToolTip("The lesson's MLP: 784 → 128 relu → 10 softmax")
        form = QFormLayout(box)
        model = QLabel("The lesson's MLP: 784 → 128 relu → 10 softmax")
        model.setWordWrap(True)
        form.addRow(model)
        # Ranges, defaults and steps from the session's parameter descriptions; each box keeps
        # the exact value it was given (seeds beyond 32 bits too).
        self.epochs = ParamEdit(fields.EPOCHS)
        self.batch_size = ParamEdit(fields.BATCH_SIZE)
        self.validation_split = ParamEdit(fields.VALIDATION_SPLIT)
        self.seed = ParamEdit(fields.SEED, sample="4294967295")
        self.limit = ParamEdit(fields.LIMIT)
        self.dataset = QComboBox()
        self.dataset.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.dataset.setMinimumContentsLength(10)
        for text, value in DATASETS:
            self.dataset.addItem(text, value)
        self.dataset.activated.connect(self._dataset_picked)
        self.lockstep = QCheckBox("all together, batch by batch")
        self.lockstep.setChecked(True)
        self.lockstep.setToolTip("Train every optimizer at once on the same batches, so the "
                                 "curves grow side by side (off: one after another)")
        for label, widget in (("epochs", self.epochs), ("batch size", self.batch_size),
                              ("validation split", self.validation_split), ("seed", self.seed),
                              ("samples (limit)", self.limit), ("data", self.dataset),
                              ("race", self.lockstep)):
            form.addRow(label, widget)
        for edit in (self.epochs, self.batch_size, self.validation_split, self.seed, self.limit):
            edit.value_edited.connect(self._setting_edited)
            edit.refused.connect(self._show_error)
        return box

    @Slot(object)
    def _setting_edited(self, _value) -> None:
        self.error.hide()
        self._schedule_steps_changed()

    @Slot()
    def _schedule_steps_changed(self, *_args) -> None:
        """The schedule plot spans the whole session: epochs × batches per epoch (estimated
        with 60,000 samples until a dataset has loaded)."""
        from engine.mnist.training import fit_samples

        samples = self.limit.value() or self._n_train or 60000
        if self._n_train:
            samples = min(samples, self._n_train)
        try:
            fitted = fit_samples(samples, self.validation_split.value())
        except ParamError as error:  # e.g. 10 samples with a split of 0.95: said, not raised
            self._show_error(str(error))
            fitted = samples
        batches = math.ceil(fitted / self.batch_size.value())
        self.racer_panel.set_budget(self.epochs.value() * max(batches, 1))
        if not self.plots.runs():  # the empty plots span the session to come, in epochs
            self.plots.set_epochs(self.epochs.value())

    def _export_box(self) -> QGroupBox:
        box = QGroupBox("Export")
        row = QHBoxLayout(box)
        for text, slot in (("CSV", self.export_csv), ("JSON", self.export_json),
                           ("Plot PNG", self.export_png)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
        return box

    # --- optimizers ----------------------------------------------------------------------
    def _add_racer(self, optimizer_id: str) -> str:
        """An optimizer with Keras's defaults joins; its key."""
        return self.model.add_racer(optimizer_id)

    def _racers_shown(self, select: str | None = None) -> None:
        """The model's optimizers in the panel (unless the panel made the change)."""
        if self._panel_edit:
            return
        self.racer_panel.set_racers(self.model.racers(), self.styles, self.model.labels())
        if select:
            self.racer_panel.select(select)

    def _refresh_racers(self, select: str | None = None) -> None:
        self._racers_shown(select)

    @Slot(str)
    def _racer_added(self, optimizer_id: str) -> None:
        self._add_racer(optimizer_id)

    @Slot(str)
    def _racer_removed(self, key: str) -> None:
        self.model.remove_racer(key)

    @Slot(object)
    def _racer_changed(self, racer: Racer) -> None:
        self._panel_edit = True
        try:
            self.model.set_racer(racer)
        finally:
            self._panel_edit = False

    @Slot(int)
    def _dataset_picked(self, _index: int) -> None:
        if self.dataset.currentData() != "file":
            return
        path, _ = QFileDialog.getOpenFileName(self, "MNIST file (Keras mnist.npz format)", "",
                                              "NumPy archives (*.npz)")
        if path:
            self.dataset_path = path
            self.dataset.setItemText(2, f"File: {Path(path).name}")
        elif not self.dataset_path:
            self.dataset.setCurrentIndex(0)

    # --- running ---------------------------------------------------------------------------
    def config(self):
        """The :class:`engine.mnist.training.TrainConfig` the controls describe."""
        from engine.mnist.config import TrainConfig

        source = self.dataset.currentData()
        if source == "file":
            source = self.dataset_path or "auto"
        return TrainConfig(
            optimizers=tuple(_entry(r) for r in self.racers.values()),
            epochs=self.epochs.value(), batch_size=self.batch_size.value(),
            validation_split=self.validation_split.value(), seed=self.seed.value(),
            dataset=source, limit=self.limit.value(), lockstep=self.lockstep.isChecked(),
        )

    @Slot()
    def start(self) -> None:
        if self.is_running():
            return
        try:
            config = self.config()
            config.validate()
        except ValueError as error:
            self._show_error(str(error))
            return
        self.error.hide()
        self._run_keys = list(self.racers)
        # Each run's name and look as it started: racers removed or edited meanwhile (the
        # racer list is shared with the landscape) still label the runs that trained them.
        self._run_looks = {key: (self.racers[key].label(), self.styles[key])
                           for key in self._run_keys}
        self._run_meta = {}
        self._lockstep = config.lockstep
        self.network.training_started("Recording every optimizer's weights as it trains…")
        self.results = []
        self.plots.clear()
        self.plots.set_epochs(config.epochs)
        self.rows = {key: TrainingRow(key, self._run_looks[key][0], self._run_looks[key][1].color,
                                      "waiting", None, None, None, None, None, None)
                     for key in self._run_keys}
        self.table.set_rows(list(self.rows.values()))
        self.worker = TrainingWorker(config)
        self.worker.dataset_loaded.connect(self._dataset_loaded)
        self.worker.run_started.connect(self._run_started)
        self.worker.batch_finished.connect(self._batch_finished)
        self.worker.epoch_finished.connect(self._epoch_finished)
        self.worker.run_finished.connect(self._run_finished)
        self.worker.trained.connect(self._trained)
        self.worker.failed.connect(self._failed)
        self.worker.finished.connect(self._finished)
        self._started_at = time.monotonic()
        self.thread = threads.start_worker(self.worker)
        self._set_running(True)
        self.progress.setValue(0)
        self.progress.setFormat("loading data and TensorFlow…")
        self.status_message.emit("Training started")

    @Slot()
    def stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.progress.setFormat("stopping after this batch…")

    def is_running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel any run and wait for its thread (window close)."""
        if self.worker is not None:
            self.worker.cancel()
        self.network.shutdown(timeout_ms)
        threads.wait_all(timeout_ms)  # also a thread whose work just ended

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        for widget in (self.racer_panel, self.epochs, self.batch_size, self.validation_split,
                       self.seed, self.limit, self.dataset, self.lockstep):
            widget.setEnabled(not running)

    @Slot(str)
    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self.status_message.emit(text)

    # --- reports (GUI thread) ------------------------------------------------------------
    @Slot(object)
    def _dataset_loaded(self, info) -> None:
        self._n_train = info.n_train
        self._schedule_steps_changed()
        val = round(info.n_train * self.validation_split.value())
        name = info.name if info.source.lower() in info.name.lower() else (
            f"{info.name} ({info.source})")
        text = (f"Data: {name}: {info.n_train - val:,} train, "
                f"{val:,} validation, {info.n_test:,} test samples")
        self.dataset_label.setText(text + (f". {info.note}" if info.note else ""))
        self.network.recording(self.config(), info.n_train)

    @Slot(int, str, int, int)
    def _run_started(self, index: int, optimizer_id: str, epochs: int, batches: int) -> None:
        key = self._run_keys[index]
        self._run_meta[index] = (epochs, batches)
        label, style = self._run_looks[key]
        self.plots.start_run(key, label, style, batches)
        self._update_row(key, status="running")
        self.progress.setFormat(f"{label}: starting (epoch 1/{epochs})")

    @Slot(int, int, int, float, float)
    def _batch_finished(self, index: int, epoch: int, batch: int, accuracy: float,
                        loss: float) -> None:
        key = self._run_keys[index]
        self.plots.add_batch(key, epoch, batch, accuracy, loss)
        epochs, batches = self._run_meta.get(index, (1, 1))
        runs = 1 if self._lockstep else len(self._run_keys)
        done = ((0 if self._lockstep else index * epochs * batches) + epoch * batches + batch + 1)
        total = max(1, runs * epochs * batches)
        self.progress.setValue(int(1000 * done / total))
        elapsed = time.monotonic() - self._started_at
        eta = elapsed / done * (total - done) if done else math.nan
        who = (f"all {len(self._run_keys)} together" if self._lockstep and len(self._run_keys) > 1
               else self._run_looks[key][0])
        self.progress.setFormat(
            f"{who}: epoch {epoch + 1}/{epochs}, batch {batch + 1}/{batches} — ETA {_clock(eta)}")

    @Slot(int, object)
    def _epoch_finished(self, index: int, log) -> None:
        key = self._run_keys[index]
        self.plots.add_epoch(key, log.epoch, log.accuracy, log.val_accuracy, log.loss,
                             log.val_loss)
        self._update_row(key, train_accuracy=log.accuracy, val_accuracy=log.val_accuracy)

    @Slot(int, object)
    def _run_finished(self, index: int, result) -> None:
        key = self._run_keys[index]
        self.results.append(result)
        history = result.history
        if result.status != "completed":
            self.plots.mark_stopped(key)
        self._update_row(
            key, status=result.status,
            train_accuracy=history["accuracy"][-1] if history.get("accuracy") else None,
            val_accuracy=history["val_accuracy"][-1] if history.get("val_accuracy") else None,
            test_accuracy=result.test_accuracy, seconds_per_epoch=result.seconds_per_epoch,
            n_params=result.n_params, optimizer_state_bytes=result.optimizer_state_bytes)
        self._show_measure()

    @Slot(object)
    def _trained(self, payload) -> None:
        """The session ended: hand every run's snapshots to the network landscape."""
        styles = [PathStyle.of(*self._run_looks[k]) for k in self._run_keys]
        stopped = self.worker is not None and self.worker.cancel_event.is_set()
        self.network.session_ended(self.config(), *payload, styles, stopped=stopped)

    @Slot(float)
    def _network_position(self, epochs: float) -> None:
        self.plots.set_cursor(epochs)

    def _show_measure(self) -> None:
        from engine.landscape import measures

        if not self.measure_spec or self.measure_spec.get("kind") not in measures.TRAINING_KINDS:
            return
        result = measures.measure_training(self.measure_spec, self.results)
        self.banner.set_measure(result.headline, [f"{row.label}: {row.text}"
                                                  for row in result.rows])

    # --- scenarios ------------------------------------------------------------------------
    def apply_config(self, config, measure=None, title: str = "", explanation: str = "") -> None:
        """Show a scenario's :class:`engine.mnist.training.TrainConfig` (already validated)."""
        if self.is_running():
            self.stop()
        self.model.replace([Racer(entry.optimizer_id, entry.optimizer_id, entry.keras_settings(),
                                  schedule=entry.schedule) for entry in config.optimizers],
                           measure)
        for edit, value in ((self.epochs, config.epochs), (self.batch_size, config.batch_size),
                            (self.validation_split, config.validation_split),
                            (self.seed, config.seed), (self.limit, config.limit)):
            edit.set_value(value)
        self.lockstep.setChecked(config.lockstep)
        if config.dataset in ("auto", "bundled"):
            self.dataset.setCurrentIndex(self.dataset.findData(config.dataset))
        else:
            self.dataset_path = config.dataset
            self.dataset.setItemText(2, f"File: {Path(config.dataset).name}")
            self.dataset.setCurrentIndex(2)
        self.banner.set_content(title if measure or title else "", explanation)
        self.error.hide()
        self._schedule_steps_changed()

    @Slot(str)
    def _failed(self, message: str) -> None:
        self._show_error(f"Training could not run: {message}")

    @Slot()
    def _finished(self) -> None:
        stopped = self.worker is not None and self.worker.cancel_event.is_set()
        for key, row in self.rows.items():
            if row.status in ("waiting", "running"):
                self._update_row(key, status="stopped" if stopped else row.status)
        self.worker = None
        self.thread = None
        self._set_running(False)
        self.progress.setFormat("stopped" if stopped else "done")
        if not stopped:
            self.progress.setValue(1000)
        self.status_message.emit("Training stopped" if stopped else "Training finished")

    def _update_row(self, key: str, **changes) -> None:
        self.rows[key] = replace(self.rows[key], **changes)
        self.table.set_rows(list(self.rows.values()))

    # --- export --------------------------------------------------------------------------
    def histories(self) -> dict:
        """What the JSON export writes (strict JSON: finite numbers only)."""
        return {"runs": [{
            "optimizer": r.optimizer_id, "params": r.params, "status": r.status,
            "history": r.history, "test_accuracy": r.test_accuracy,
            "seconds_per_epoch": r.seconds_per_epoch,
            "optimizer_state_bytes": r.optimizer_state_bytes, "n_params": r.n_params,
        } for r in self.results]}

    def _save_dialog(self, title: str, pattern: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, title, "", pattern)
        return path or None

    def _nothing_to_export(self) -> bool:
        """True (and the status bar says so) before any run has a result: no empty file."""
        if self.table.has_results() or self.results:
            return False
        self.status_message.emit("Nothing to export yet: train first (press Train).")
        return True

    @Slot()
    def export_csv(self, path: str | None = None) -> bool:
        """The results table as CSV; False (the reason shown, naming the file) if not written."""
        if self._nothing_to_export():
            return False
        path = path or self._save_dialog("Export results as CSV", "CSV (*.csv)")
        return bool(path) and self._export(
            "Results", path, lambda target: atomic.write_text(target, self.table.to_csv()))

    @Slot()
    def export_json(self, path: str | None = None) -> bool:
        """The histories as strict JSON; False (the reason shown) if not written."""
        if self._nothing_to_export():
            return False
        path = path or self._save_dialog("Export histories as JSON", "JSON (*.json)")
        return bool(path) and self._export("Histories", path, lambda target: atomic.write_text(
            target, json.dumps(self.histories(), indent=2, allow_nan=False)))

    @Slot()
    def export_png(self, path: str | None = None) -> bool:
        """The plots as PNG; False (the reason shown) if not written."""
        if self._nothing_to_export():
            return False
        path = path or self._save_dialog("Export plots as PNG", "PNG (*.png)")
        return bool(path) and self._export("Plots", path, self.plots.export_png)

    def _export(self, what: str, path: str, write) -> bool:
        """Write through ``write(path)``; a failure is said inline and in the status bar,
        with the file and the reason (the old file is intact: writes are atomic)."""
        try:
            write(path)
        except (OSError, ValueError) as error:
            self._show_error(f"{what} not exported: {error}")
            return False
        self.error.hide()
        self.status_message.emit(f"Wrote {path}")
        return True

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.racer_panel.set_theme(theme)
        self.plots.set_theme(theme)
        self.table.set_theme(theme)
        self.network.set_theme(theme)


def _entry(racer: Racer):
    """The :class:`engine.mnist.config.TrainEntry` of a racer: its schedule is its learning
    rate when it has one (the constant rate it keeps for later is not trained with)."""
    from engine.mnist.config import TrainEntry

    settings = dict(racer.settings)
    rate = settings.pop("learning_rate", None)
    return TrainEntry(racer.optimizer_id, settings,
                      racer.schedule if racer.schedule is not None else rate)


def _clock(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "…"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
