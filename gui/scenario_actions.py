"""File > Open / Save / Save As / Open recent / Presets, and files dropped on the window.

A scenario is read and checked completely (:func:`engine.files.scenario.load`) before anything on
screen changes: a refused file leaves the current set-up untouched and says what is wrong
with it, naming the field. The recent files and the last scenario live in ``QSettings``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from engine.files import presets, scenario

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
        except scenario.ScenarioError as error:
            self.window.statusBar().showMessage(f"Not opened: {error}")
            QMessageBox.warning(self.window, "Cannot open this scenario", str(error))
            return False
        self.show(loaded)
        self.path = Path(path) if remember else None
        if remember:
            self._remember(Path(path))
        self.window.statusBar().showMessage(f"Opened {Path(path).name}: {loaded.title}")
        return True

    def show(self, loaded: scenario.Scenario) -> None:
        """Put a validated scenario on screen: both tabs, the banners, the tab it names."""
        window = self.window
        self.loaded = loaded
        landscape_measure = loaded.measure if loaded.tab == "landscape" else None
        training_measure = loaded.measure if loaded.tab == "training" else None
        window.landscape.apply_setup(
            surface=loaded.surface(), start=loaded.start, steps=loaded.steps,
            racers=loaded.racers, view=loaded.view, measure=landscape_measure,
            title=loaded.title if loaded.tab == "landscape" else "",
            explanation=loaded.explanation if loaded.tab == "landscape" else "")
        window.training.apply_config(
            loaded.training, measure=training_measure,
            title=loaded.title if loaded.tab == "training" else "",
            explanation=loaded.explanation if loaded.tab == "training" else "")
        window.tabs.setCurrentWidget(window.training if loaded.tab == "training"
                                     else window.landscape)
        window.setWindowTitle(f"{loaded.title} — {window.app_name}")

    def reopen_last(self) -> bool:
        """At start-up: the scenario open when the app last closed, if it still loads (a
        status-bar line, never a dialog, when it does not)."""
        last = self.window.settings.value("last_scenario")
        if not last or not Path(str(last)).is_file():
            return False
        try:
            loaded = scenario.load(str(last))
        except scenario.ScenarioError as error:
            self.window.statusBar().showMessage(f"Last scenario not reopened: {error}")
            return False
        self.show(loaded)
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
            title=kept.title if kept else "Untitled", explanation=kept.explanation if kept else "",
            tab=tab, training=window.training.config(), measure=measure, **landscape)

    def save_to(self, path: str | Path) -> Path:
        """Write the set-up on screen to ``path`` (atomically) and make it the current file."""
        target = Path(path)
        scenario.save(self.current(), target)
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
            QMessageBox.warning(self.window, "Not saved", f"{path}: {error}")

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
        self.refresh_recent_menu()

    def refresh_recent_menu(self) -> None:
        menu = self.recent_menu
        if menu is None:
            return
        menu.clear()
        files = self.recent()
        for path in files:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
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
            action = preset_menu.addAction(f"&{number}  {title}")
            action.setData(str(path))
            action.triggered.connect(lambda _checked=False, p=str(path): self.open_preset(p))
        file_menu.insertMenu(first, preset_menu)
        file_menu.insertSeparator(first)
        self.preset_menu = preset_menu
        self.refresh_recent_menu()
