"""File > Open / Save / Save As / Open recent / Presets, and files dropped on the window.

A scenario is read and checked completely (:func:`engine.files.scenario.load`) before anything
on screen changes, and applying it is all or nothing: what the loader accepts is checked once
more for the window (every racer's optimizer, the training session), then applied; should
applying still fail, the set-up that was on screen is put back, so a refused file leaves the
window as it was and never affects a later open. Save writes only what Open reads back value
for value (:meth:`ScenarioActions.checked_current`). Messages show file text as plain text.
The recent files and the last scenario live in ``QSettings``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog, QMenu

from engine.files import presets, scenario
from engine.params import ParamError
from gui.widgets import messages, plain_action_text, plain_tooltip

MAX_RECENT = 8
FILTER = "Optiscope scenarios (*.json);;All files (*)"


class ScenarioActions:
    """Scenario files for a main window (its two tabs, settings and status bar)."""

    def __init__(self, window) -> None:
        self.window = window
        self.path: Path | None = None  # the file Save writes to
        self.loaded: scenario.Scenario | None = None  # title, explanation, measure kept
        self.recent_menu: QMenu | None = None

    # --- reading ---------------------------------------------------------------------------
    def open_path(self, path: str | Path, remember: bool = True) -> bool:
        """Load ``path`` and show it; False (with a message box) if it was refused."""
        try:
            loaded = scenario.load(path)
            self.show(loaded)
        except scenario.ScenarioError as error:
            self.window.statusBar().showMessage(f"Not opened: {error}")
            messages.warn(self.window, "Cannot open this scenario", str(error))
            return False
        self.path = Path(path) if remember else None
        if remember:
            self._remember(Path(path))
        self.window.statusBar().showMessage(f"Opened {Path(path).name}: {loaded.title}")
        return True

    def show(self, loaded: scenario.Scenario) -> None:
        """Put a validated scenario on screen: both tabs, the banners, the tab it names.

        All or nothing: a scenario the window cannot show raises :class:`ScenarioError` and
        the window keeps the set-up it had.
        """
        try:
            check_showable(loaded)
        except ParamError as error:
            raise scenario.ScenarioError(error.field, error.message) from None
        before, before_loaded, before_step = self._snapshot()
        try:
            self._apply(loaded, banner=True)
        except Exception as error:  # noqa: BLE001 - a bug must not leave half a scenario
            if before is not None:
                self._apply(before, banner=before_loaded is not None)
                self.window.landscape.seek(before_step)
            self.loaded = before_loaded
            raise scenario.ScenarioError("", f"could not be shown ({type(error).__name__}: "
                                         f"{error}); the set-up on screen is unchanged") from None
        self.loaded = loaded

    def _snapshot(self) -> tuple[scenario.Scenario | None, scenario.Scenario | None, int]:
        try:
            return self.current(), self.loaded, self.window.landscape.step
        except (ParamError, ValueError):
            return None, self.loaded, 0

    def _apply(self, loaded: scenario.Scenario, banner: bool) -> None:
        window = self.window
        landscape_measure = loaded.measure if loaded.tab == "landscape" else None
        training_measure = loaded.measure if loaded.tab == "training" else None
        shown = banner and loaded.tab == "landscape"
        window.landscape.apply_setup(
            surface=loaded.surface(), start=loaded.start, steps=loaded.steps,
            racers=loaded.racers, view=loaded.view, measure=landscape_measure,
            title=loaded.title if shown else "", explanation=loaded.explanation if shown else "")
        shown = banner and loaded.tab == "training"
        window.training.apply_config(
            loaded.training, measure=training_measure,
            title=loaded.title if shown else "", explanation=loaded.explanation if shown else "")
        window.tabs.setCurrentWidget(window.training if loaded.tab == "training"
                                     else window.landscape)
        window.setWindowTitle(f"{loaded.title} — {window.app_name}" if banner
                              else f"{window.app_name} — optimizers, made visible")

    def lesson_closed(self) -> None:
        """The Landscape tab closed the open lesson's banner (another surface): its title,
        explanation and measure no longer describe the screen, so Save leaves them out."""
        if self.loaded is not None and self.loaded.tab == "landscape":
            self.loaded = None
            self.window.setWindowTitle(f"{self.window.app_name} — optimizers, made visible")

    def reopen_last(self) -> bool:
        """At start-up: the scenario open when the app last closed, if it still opens. One that
        no longer does is forgotten, with a status-bar line (never a dialog, never a crash)."""
        last = self.window.settings.value("last_scenario")
        if not last:
            return False
        try:
            loaded = scenario.load(str(last))
            self.show(loaded)
        except scenario.ScenarioError as error:
            self.window.settings.remove("last_scenario")
            self.window.statusBar().showMessage(f"Last scenario not reopened (forgotten): {error}")
            return False
        self.path = Path(str(last))
        self.window.statusBar().showMessage(f"Reopened {self.path.name}: {loaded.title}")
        return True

    def open_preset(self, path: str | Path) -> bool:
        """Open a shipped preset (not added to the recent files; Save asks for a file)."""
        return self.open_path(path, remember=False)

    # --- writing ---------------------------------------------------------------------------
    def current(self) -> scenario.Scenario:
        """The set-up on screen as a scenario (the open one's title and measure kept)."""
        window = self.window
        tab = "training" if window.tabs.currentWidget() is window.training else "landscape"
        landscape = window.landscape.capture_setup()
        measure = landscape.pop("measure")
        if tab == "training":
            measure = window.training.measure_spec
        kept = self.loaded
        return scenario.Scenario(
            title=kept.title if kept else scenario.TITLE.default,
            explanation=kept.explanation if kept else scenario.EXPLANATION.default,
            tab=tab, training=window.training.config(), measure=measure, **landscape)

    def checked_current(self) -> scenario.Scenario:
        """:meth:`current`, refused (:class:`ScenarioError` naming the field) unless Open would
        read it back value for value: Save never writes a file Open refuses, nor changes a
        value on the way."""
        try:
            shown = self.current()
            text = scenario.dumps(shown)
        except ParamError as error:
            raise scenario.ScenarioError(error.field, error.message) from None
        except ValueError as error:
            raise scenario.ScenarioError("", str(error)) from None
        reread = scenario.loads(text)
        if reread != shown:
            changed = [name for name, value in scenario.to_dict(shown).items()
                       if scenario.to_dict(reread).get(name) != value]
            raise scenario.ScenarioError(", ".join(changed) or "", "would not read back as "
                                         "shown; nothing was written")
        return shown

    def save_to(self, path: str | Path) -> Path:
        """Write the set-up on screen to ``path`` (atomically) and make it the current file.

        Raises
        ------
        ScenarioError
            When Open would refuse the set-up (nothing is written).
        OSError
            When the file cannot be written (the old one stays intact).
        """
        target = Path(path)
        scenario.save(self.checked_current(), target)
        self.path = target
        self._remember(target)
        self.window.statusBar().showMessage(f"Saved {target}")
        return target

    # --- menu actions ------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open a scenario", "", FILTER)
        if path:
            self.open_path(path)

    def save(self) -> None:
        if self.path is None:
            self.save_as()
        else:
            self._save_reporting(self.path)

    def save_as(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save the scenario", "", FILTER)
        if path:
            if not Path(path).suffix:
                path += ".json"
            self._save_reporting(path)

    def _save_reporting(self, path) -> None:
        try:
            self.save_to(path)
        except (OSError, ValueError) as error:
            self.window.statusBar().showMessage(f"Not saved: {error}")
            messages.warn(self.window, "Not saved", f"{path}: {error}")

    # --- recent files ---------------------------------------------------------------------
    def recent(self) -> list[str]:
        value = self.window.settings.value("recent_files", [])
        if isinstance(value, str):  # QSettings gives a lone entry back as a string
            value = [value]
        return [str(v) for v in (value or [])][:MAX_RECENT]

    def _remember(self, path: Path) -> None:
        text = str(path.resolve())
        files = [text] + [p for p in self.recent() if p != text]
        self.window.settings.setValue("recent_files", files[:MAX_RECENT])
        self.window.settings.setValue("last_scenario", text)
        # Later: the action that opened this file may be running, and clearing the menu
        # deletes it.
        QTimer.singleShot(0, self.refresh_recent_menu)

    def refresh_recent_menu(self) -> None:
        menu = self.recent_menu
        if menu is None:
            return
        menu.clear()
        files = self.recent()
        for path in files:
            action = menu.addAction(plain_action_text(Path(path).name))
            action.setToolTip(plain_tooltip(path))
            action.setData(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_path(p))
        menu.setEnabled(bool(files))

    def build_menus(self, file_menu: QMenu, add_action) -> None:
        """Open, Save, Save As, Open recent and Presets at the top of ``file_menu``."""
        first = file_menu.actions()[0] if file_menu.actions() else None
        actions = [
            add_action("&Open scenario…", self.open_dialog, "Ctrl+O"),
            add_action("&Save scenario", self.save, "Ctrl+S"),
            add_action("Save scenario &as…", self.save_as, "Ctrl+Shift+S"),
        ]
        for action in actions:
            file_menu.insertAction(first, action)
        self.recent_menu = QMenu("Open &recent", file_menu)
        file_menu.insertMenu(first, self.recent_menu)
        preset_menu = QMenu("&Presets: the lesson's claims", file_menu)
        try:
            shipped = presets.list_presets()
        except scenario.ScenarioError as error:  # a packaging fault: say so, keep the app
            shipped = []
            self.window.statusBar().showMessage(f"Presets unavailable: {error}")
        for number, (path, title) in enumerate(shipped, 1):
            action = preset_menu.addAction(f"&{number}  {plain_action_text(title)}")
            action.setData(str(path))
            action.triggered.connect(lambda _checked=False, p=str(path): self.open_preset(p))
        file_menu.insertMenu(first, preset_menu)
        file_menu.insertSeparator(first)
        self.preset_menu = preset_menu
        self.refresh_recent_menu()


def check_showable(loaded: scenario.Scenario) -> None:
    """What the loader cannot know alone, checked before anything on screen changes: every
    racer builds its optimizer and the training session validates (:class:`ParamError`)."""
    for index, racer in enumerate(loaded.racers):
        try:
            racer.optimizer()
        except ParamError as error:
            raise error.renamed(f"landscape.racers[{index}].settings.{error.field}") from None
    try:
        loaded.training.validate()
    except ParamError as error:
        raise error.renamed(f"training.{error.field}") from None
