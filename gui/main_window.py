"""The main window: the Landscape and MNIST training tabs, menus, themes and status bar."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt, QTimer, Slot
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QFont,
    QGuiApplication,
    QKeySequence,
    QPalette,
)
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QTabWidget

from gui import threads
from gui.about import about_html
from gui.export_actions import Exporter
from gui.landscape import teaching
from gui.landscape.tab import LandscapeTab
from gui.palette import DARK, LIGHT, THEMES, Theme
from gui.scenario_actions import ScenarioActions
from gui.training.tab import TrainingTab

APP_NAME = "Optiscope"
PRESENTATION_FONT_SCALE = 1.5
#: After presentation mode is switched, the window is painted once: when its new size has
#: come (full screen is the window system's to grant, a few turns of the event loop later)
#: or after this long at most.
SETTLE_MS = 250
PREFERRED_SIZE = (1500, 900)  #: on a screen with room for it; smaller screens are filled
CLOSE_POLL_MS = 50  #: while closing, how often to look whether the threads have stopped
SHORTCUTS = (
    ("Space", "play / pause the race"),
    ("Right / Left", "one step forward / back"),
    ("+ / −", "faster / slower playback"),
    ("Home", "back to step 0"),
    ("F5", "presentation mode (full screen, large type, thick lines)"),
    ("E", "show / hide the preset's explanation"),
    ("F11", "full screen"),
    ("Ctrl+R", "reset the view"),
    ("Ctrl+Q", "quit"),
) + teaching.SHORTCUTS  # issue 15: the Teach menu's keys


def apply_palette(theme: Theme) -> None:
    """Qt widget colours for ``theme`` (Fusion style, so dark works on every platform)."""
    app = QApplication.instance()
    if app is None:
        return
    if app.style().name().lower() != "fusion":  # setting it again repolishes every widget
        app.setStyle("Fusion")
    if theme is LIGHT:
        app.setPalette(app.style().standardPalette())
        return
    palette = QPalette()
    base, window, text = QColor("#1e2027"), QColor("#2a2d35"), QColor("#e8e8e8")
    for role, color in (
        (QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base), (QPalette.ColorRole.AlternateBase, window),
        (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.ToolTipBase, base),
        (QPalette.ColorRole.ToolTipText, text), (QPalette.ColorRole.Highlight, QColor("#4363d8")),
        (QPalette.ColorRole.HighlightedText, QColor("#ffffff")),
        (QPalette.ColorRole.PlaceholderText, QColor("#9a9a9a")),
        # Links in the lesson panel: Qt's default dark blue is unreadable on a dark base.
        (QPalette.ColorRole.Link, QColor("#8ab4f8")),
        (QPalette.ColorRole.LinkVisited, QColor("#c58af9")),
    ):
        palette.setColor(role, color)
    # Disabled controls must look disabled (Fusion's dark defaults left them as bright as
    # enabled ones): dimmed text on a flatter button.
    disabled = QPalette.ColorGroup.Disabled
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        palette.setColor(disabled, role, QColor("#6e727c"))
    palette.setColor(disabled, QPalette.ColorRole.Button, QColor("#24262d"))
    palette.setColor(disabled, QPalette.ColorRole.Base, QColor("#24262d"))
    app.setPalette(palette)


class MainWindow(QMainWindow):
    """Top-level window holding the two halves of the app."""

    def __init__(self, theme: str | None = None, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.setWindowTitle(f"{APP_NAME} — optimizers, made visible")
        if theme is None:
            theme = str(self.settings.value("theme", "light"))
        self.theme = THEMES.get(theme, LIGHT)
        self.presenting = False
        self._closing = False
        self._hid_to_close = False
        self._normal_font: QFont | None = None
        self._settle_size = None  #: the size a presentation switch waits for
        self._settle_timer = QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.timeout.connect(self._settled)
        self.app_name = APP_NAME
        self.exporter = Exporter(self)
        self.scenarios = ScenarioActions(self)
        self.setAcceptDrops(True)
        apply_palette(self.theme)
        self.landscape = LandscapeTab(theme=self.theme)
        self.landscape.status_message.connect(self._show_status)
        self.landscape.lesson_closed.connect(self.scenarios.lesson_closed)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.landscape, "Landscape")
        self.training = TrainingTab(theme=self.theme)
        self.training.status_message.connect(self._show_status)
        self.tabs.addTab(self.training, "MNIST training")
        self.setCentralWidget(self.tabs)
        self._build_menus()
        self._fit_to_screen(self.settings.value("geometry"))
        self.tabs.currentChanged.connect(self._tab_shown)
        self._tab_shown()

    @Slot()
    def _tab_shown(self, *_args) -> None:
        """What the keys do on the tab now on screen (the status bar's opening line)."""
        if self.tabs.currentWidget() is self.training:
            self.statusBar().showMessage("Train runs each optimizer on MNIST; the curves, the "
                                         "table and the network's landscape follow.")
        else:
            self.statusBar().showMessage("Ready: Space plays the race, ←/→ step through it.")

    def _fit_to_screen(self, geometry) -> None:
        """Open sized to the screen the window is on: the user's remembered size when it fits
        there, else most of the screen (a projector's 1280×720 or 1024×768 included)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry() if screen is not None else None
        if geometry is not None and self.restoreGeometry(geometry):
            if available is None or available.contains(self.frameGeometry()):
                return
        if available is None:
            self.resize(1280, 720)
            return
        width = min(PREFERRED_SIZE[0], available.width())
        height = min(PREFERRED_SIZE[1], available.height())
        if available.width() <= PREFERRED_SIZE[0] or available.height() <= PREFERRED_SIZE[1]:
            width, height = available.width(), available.height()  # small screen: all of it
        self.resize(width, height)
        self.move(available.x() + (available.width() - width) // 2,
                  available.y() + (available.height() - height) // 2)

    def _action(self, text: str, slot, shortcut=None, menu=None, checkable=False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        if menu is not None:
            menu.addAction(action)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.file_menu = file_menu
        export_menu = file_menu.addMenu("&Export")
        self._action("View on screen as PNG or SVG…", self.exporter.export_view, "Ctrl+E",
                     export_menu)
        self._action("Side plots as PNG or SVG…", self.exporter.export_side_plots,
                     menu=export_menu)
        self._action("Race as GIF or MP4…", self.exporter.export_animation, menu=export_menu)
        self._action("Trajectories as CSV or JSON…", self.exporter.export_trajectories,
                     menu=export_menu)
        self._action("Training results as CSV…", self.training.export_csv, menu=export_menu)
        self._action("Training results as JSON…", self.training.export_json, menu=export_menu)
        self._action("Training plots as PNG…", self.training.export_png, menu=export_menu)
        file_menu.addSeparator()
        self.scenarios.build_menus(file_menu, self._action)
        quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit, file_menu)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))

        view_menu = self.menuBar().addMenu("&View")
        self._action("&Reset view", self.landscape.view.reset_view, "Ctrl+R", view_menu)
        self.fullscreen_action = self._action("&Full screen", self._toggle_fullscreen, "F11",
                                              view_menu, checkable=True)
        self.presentation_action = self._action("&Presentation mode", self.toggle_presentation,
                                                "F5", view_menu, checkable=True)
        self._action("Show / hide the &explanation", self.landscape.banner.toggle_explanation,
                     "E", view_menu)
        view_menu.addSeparator()
        themes = QActionGroup(self)
        for theme in (LIGHT, DARK):
            action = self._action(f"{theme.name.title()} theme",
                                  lambda _=False, t=theme: self.set_theme(t),
                                  menu=view_menu, checkable=True)
            action.setChecked(theme is self.theme)
            themes.addAction(action)

        play_menu = self.menuBar().addMenu("&Race")
        self._action("&Play / pause", self.landscape.toggle_playing, "Space", play_menu)
        self._action("Step &forward", lambda: self.landscape.step_by(1), "Right", play_menu)
        self._action("Step &back", lambda: self.landscape.step_by(-1), "Left", play_menu)
        self._action("&Reset", self.landscape.reset, "Home", play_menu)
        self._action("F&aster", lambda: self.landscape.playback.change_speed(1), "+", play_menu)
        self._action("S&lower", lambda: self.landscape.playback.change_speed(-1), "-", play_menu)

        teaching.install_actions(self, self._action)  # issue 15: anatomy and class-mode keys
        help_menu = self.menuBar().addMenu("&Help")
        self._action("&Keyboard shortcuts", self._show_shortcuts, menu=help_menu)
        self._action(f"&About {APP_NAME}", self._show_about, menu=help_menu)

    def set_theme(self, theme: Theme) -> None:
        self.settings.setValue("theme", theme.name)
        self._theme_before = theme  # also what presentation mode gives back
        self._apply_theme(theme)

    def _apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        apply_palette(theme)
        self.landscape.set_theme(theme)
        self.training.set_theme(theme)

    @Slot()
    def _toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.fullscreen_action.setChecked(self.isFullScreen())

    @Slot()
    def toggle_presentation(self) -> None:
        self.set_presentation(not self.presenting)

    def set_presentation(self, on: bool) -> None:
        """Presentation mode: full screen, type × 1.5, thick lines, the banner large."""
        if on == self.presenting:
            return
        self.presenting = on
        # Painted once, in the new layout at the new size: the layouts between (the old
        # size, then full screen; the side panel beside the race or in a tab) each repainted
        # 20 thick trails far along and 60 side-plot curves, in the same turn of the event
        # loop as the switch (145-170 ms of the GUI thread on this 2-core machine).
        self.setUpdatesEnabled(False)
        app = QApplication.instance()
        # Projectors wash out dark backgrounds: present in the light theme (black text,
        # white ground, outlined trails), and give the user's theme back afterwards.
        # Only a change of theme repaints in new colours (every plot and panel redrawn, a
        # third of the toggle's time): the light theme presenting in the light theme is not one.
        theme = LIGHT if on else getattr(self, "_theme_before", self.theme)
        if on:
            self._theme_before = self.theme
        if theme is not self.theme:
            self._apply_theme(theme)
        if on:
            self._normal_font = QFont(app.font())
            big = QFont(self._normal_font)
            size = self._normal_font.pointSizeF()
            big.setPointSizeF((size if size > 0 else 10.0) * PRESENTATION_FONT_SCALE)
            app.setFont(big)
            self.showFullScreen()
        else:
            if self._normal_font is not None:
                app.setFont(self._normal_font)
            self.showNormal()
        self.landscape.set_presentation(on, self._normal_font)
        self.training.set_presentation(on)
        self.presentation_action.setChecked(on)
        self.fullscreen_action.setChecked(self.isFullScreen())
        # Laid out at the new sizes before the first paint: left to the next turns of the
        # event loop, the race (20 thick trails far along) was painted in the old layout,
        # then again in the new one (75-88 ms each).
        # A layout posts the requests of the layouts inside it: a few rounds settle them.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.ApplicationFontChange)
        for _ in range(12):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        normal = self.normalGeometry().size()
        screen = self.screen()
        target = (screen.geometry().size() if on and screen is not None
                  else normal if not on and normal.isValid() else None)
        self._settle_size = target
        # The size may be there already: painted after a turn of the event loop for input.
        self._settle_timer.start(1 if target is None or self.size() == target else SETTLE_MS)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self._settle_timer.isActive() and event.size() == self._settle_size:
            self._settle_timer.start(1)  # laid out in this turn, painted after the next

    @Slot()
    def _settled(self) -> None:
        """The switch's layout is done: paint the window (once)."""
        if not self.presenting:
            self.landscape.restore_desk_sizes()
        self.setUpdatesEnabled(True)

    def settle(self) -> None:
        """Finish a presentation switch now: a picture taken of a widget before its window
        paints again came out black (see :func:`gui.widgets.paint_settled`)."""
        if self._settle_timer.isActive():
            self._settle_timer.stop()
            self._settled()

    @Slot(str)
    def _show_status(self, text: str) -> None:
        self.statusBar().showMessage(text)

    def _show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;{v}</td></tr>" for k, v in SHORTCUTS)
        QMessageBox.information(self, "Keyboard shortcuts", f"<table>{rows}</table>")

    def _show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}", about_html())

    # --- drag and drop a scenario file ------------------------------------------------------
    @staticmethod
    def _dropped_file(event) -> str | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        files = [u.toLocalFile() for u in urls if u.isLocalFile()]
        return files[0] if len(files) == 1 else None

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._dropped_file(event):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        path = self._dropped_file(event)
        if path:
            event.acceptProposedAction()
            self.scenarios.open_path(path)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        # The window goes at once; what runs in the background (a training batch, a map) is
        # cancelled and the app ends once its threads have stopped, so nothing outlives it
        # ("QThread: Destroyed while thread is still running") and nobody watches a frozen
        # window for the seconds a batch may take.
        if not self._closing:
            self._closing = True
            if self.presenting:
                self.set_presentation(False)
            self.settings.setValue("geometry", self.saveGeometry())
            self.settings.sync()
            self.landscape.timer.stop()
            self.training.stop()
            self.landscape.maps.cancel()
        if threads.live_threads():
            self.hide()
            self._hid_to_close = True
            event.ignore()
            QTimer.singleShot(CLOSE_POLL_MS, self.close)  # again once the threads are done
            return
        self.landscape.shutdown()
        self.training.shutdown()
        threads.wait_all()
        super().closeEvent(event)
        app = QApplication.instance()
        if self._hid_to_close and app is not None and app.quitOnLastWindowClosed() and not any(
                w.isVisible() for w in app.topLevelWidgets() if w is not self):
            app.quit()  # a hidden window's close no longer counts as the last one closing
