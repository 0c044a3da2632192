"""Issue 15's teaching tools on the Landscape tab: the anatomy of a step, the theory of
quadratic surfaces, and class mode (predict, then reveal), and the keys that drive them.

:func:`attach` puts the lesson panel and three new panels (Anatomy, Theory, Class) in one tab
widget where the lesson panel was, and returns the :class:`Teaching` object the tab calls on
each rendered step. :func:`install_actions` adds the Teach menu and its keys to the main
window. The tab's own code only calls these (see the lines marked "issue 15" there).
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.landscape.anatomy import TrackAnatomy
from engine.landscape.predict import FIRST, QUESTIONS, WHERE
from gui.landscape.anatomy_overlay import AnatomyOverlay
from gui.landscape.anatomy_panel import AnatomyPanel
from gui.landscape.class_mode import ClassController
from gui.landscape.theory_panel import TheoryPanel

PANEL_EVERY_S = 0.15  #: while playing, the panels' text is refreshed at most this often
#: Keys of the Teach menu, for Help > Keyboard shortcuts.
SHORTCUTS = (
    ("A / Shift+A", "anatomy of the step: next / previous term on the map"),
    ("B", "class mode: start, reveal, next round (a clicker's third button)"),
    ("PageDown / PageUp, arrows", "class mode: next / previous choice"),
    ("Q", "class mode: which converges first ⇄ where will each end"),
    ("C", "class mode on / off (predict, then reveal)"),
)


class Teaching(QObject):
    """The Anatomy, Theory and Class panels of ``tab``, kept on the shown step."""

    def __init__(self, tab) -> None:
        super().__init__(tab)
        self.tab = tab
        self.panels = QTabWidget()
        self.panels.setDocumentMode(True)
        self.panels.setUsesScrollButtons(True)  # never wider than the column it replaces
        self.panels.setMinimumHeight(120)  # nor taller than the lesson panel alone was
        self.anatomy = AnatomyPanel()
        self.theory = TheoryPanel()
        self.klass = ClassController(tab)
        self.class_panel = _ClassPanel(self.klass)
        self.overlay = AnatomyOverlay(tab.view, tab.theme)
        self._anatomies: dict[str, TrackAnatomy] = {}
        self._last_text = 0.0  # when the panels' text was last refreshed (monotonic s)
        self.anatomy.revealed_changed.connect(self._revealed)
        self.panels.currentChanged.connect(lambda _: self.step_shown(tab.step))
        tab.racer_panel.selection_changed.connect(self._selected)
        self.klass.started.connect(self._class_started)

    # --- the tab's calls -------------------------------------------------------------------
    def step_shown(self, step: int) -> None:
        """Follow the timeline: the anatomy, the rates and the class mode at ``step``."""
        self.klass.step_shown(step)
        current = self.panels.currentWidget()
        now = time.monotonic()
        text = not self.tab.playing or now - self._last_text >= PANEL_EVERY_S
        if text:
            self._last_text = now
        if current is self.anatomy or self.anatomy.revealed:
            self._show_anatomy(step, text)
        if current is self.theory and text:
            labels = {k: t.racer.label() for k, t in self.tab.race.tracks.items()}
            self.theory.show_race(self.tab.race, step, labels)

    def allows_play(self) -> bool:
        return self.klass.allows_play()

    def takes_step_keys(self, delta: int) -> bool:
        return self.klass.takes_step_keys(delta)

    def set_theme(self, theme) -> None:
        self.overlay.theme = theme
        self.theory.set_dark(theme.name == "dark")
        self.klass.set_theme(theme)

    def show_topic(self, topic: str) -> None:
        """Open a panel from a lesson link: ``"anatomy"`` (and reveal its first term) or
        ``"theory"``."""
        widget = {"anatomy": self.anatomy, "theory": self.theory, "class": self.class_panel}.get(
            topic)
        if widget is None:
            return
        self.panels.setCurrentWidget(widget)
        if widget is self.anatomy and self.anatomy.revealed == 0:
            self._show_anatomy(self.tab.step)
            self.anatomy.reveal(1)

    def next_term(self, delta: int) -> None:
        """A (+1) / Shift+A (−1): one term more or less on the map."""
        if self.panels.currentWidget() is not self.anatomy and delta > 0:
            self.panels.setCurrentWidget(self.anatomy)
        self._show_anatomy(self.tab.step)
        self.anatomy.reveal(delta)

    # --- anatomy ---------------------------------------------------------------------------
    def _selected_key(self) -> str | None:
        key = self.tab.racer_panel.current_key()
        if key in self.tab.race.tracks:
            return key
        return next(iter(self.tab.race.tracks), None)

    @Slot(str)
    def _selected(self, _key: str) -> None:
        self.step_shown(self.tab.step)

    @Slot()
    def _class_started(self) -> None:
        """No anatomy on the map while the class predicts: it would give the step away."""
        self.anatomy.reveal(-len(self.anatomy.parts.terms) if self.anatomy.parts else 0)
        self.overlay.clear()

    @Slot(int)
    def _revealed(self, _count: int) -> None:
        self._draw_anatomy()

    def _show_anatomy(self, step: int, text: bool = True) -> None:
        """The selected racer's step at ``step`` on the map, and in the panel when ``text``
        (the arrows follow every frame; the numbers a few times a second while playing)."""
        key = self._selected_key()
        if key is None:
            self.anatomy.show_anatomy(None, "", step, "Add a racer to see its step.")
            self.overlay.clear()
            return
        track = self.tab.race.tracks[key]
        replay = self._anatomies.get(key)
        if replay is None or replay.track is not track:
            replay = self._anatomies[key] = TrackAnatomy(track)
            self._anatomies = {k: v for k, v in self._anatomies.items()
                               if k in self.tab.race.tracks}
        shown = track.at(step)  # the row the map shows: the path stops where it stopped
        why = "" if shown == step else f"{track.racer.label()} stopped at step {shown}."
        parts = replay.at(shown)
        if text:
            self.anatomy.show_anatomy(parts, track.racer.label(), shown, why)
        else:
            self.anatomy.parts = parts
        self._draw_anatomy()

    def _draw_anatomy(self) -> None:
        key = self._selected_key()
        color = self.tab.colors.get(key, "#000000") if key else "#000000"
        self.overlay.show(self.anatomy.parts, self.anatomy.revealed, color)


class _ClassPanel(QWidget):
    """The Class tab: the question, the buttons for a mouse, and the session's tally."""

    def __init__(self, controller: ClassController) -> None:
        super().__init__()
        self.controller = controller
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.question = QComboBox()
        self.question.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.question.setMinimumContentsLength(8)
        for kind in (FIRST, WHERE):
            self.question.addItem(QUESTIONS[kind], kind)
        self.question.currentIndexChanged.connect(
            lambda _: controller.set_question(self.question.currentData()))
        layout.addWidget(self.question)
        row = QHBoxLayout()
        for text, slot, tip in (("Next (B)", controller.advance,
                                 "Start class mode (the race waits for the class's "
                                 "prediction), reveal, or start the next round"),
                                ("Leave (C)", controller.stop, "Leave class mode")):
            button = QPushButton(text)
            button.setMinimumWidth(10)  # never widen the side column
            button.setToolTip(tip)
            button.clicked.connect(slot)
            row.addWidget(button)
        layout.addLayout(row)
        self.stage = QLabel()
        self.stage.setTextFormat(Qt.TextFormat.PlainText)
        self.stage.setWordWrap(True)
        layout.addWidget(self.stage)
        self.rounds = QTextBrowser()
        self.rounds.setMinimumHeight(40)
        layout.addWidget(self.rounds, 1)
        controller.changed.connect(self._changed)
        self._changed()

    @Slot()
    def _changed(self) -> None:
        session = self.controller.session
        index = self.question.findData(session.kind)
        if index != self.question.currentIndex():
            self.question.blockSignals(True)
            self.question.setCurrentIndex(index)
            self.question.blockSignals(False)
        self.stage.setText(f"Stage: {session.stage}. {session.tally_text()}")
        lines = []
        for number, played in enumerate(session.rounds, 1):
            lines.append(f"{number}. {played.title}: {played.predicted} → {played.result} "
                         f"({played.right} of {played.asked} right)")
            lines += [f"     {line}" for line in played.lines]
        self.rounds.setPlainText("\n".join(lines) or "Rounds appear here once revealed.")


def attach(tab) -> Teaching:
    """Create the teaching panels for ``tab`` and put them where its lesson panel is."""
    teaching = Teaching(tab)
    lesson = tab.lesson
    parent = lesson.parentWidget()
    panels = teaching.panels
    if isinstance(parent, QSplitter):
        index = parent.indexOf(lesson)
        parent.replaceWidget(index, panels)
    elif parent is not None and parent.layout() is not None:
        parent.layout().replaceWidget(lesson, panels)
    panels.addTab(lesson, "Lesson")
    panels.addTab(teaching.anatomy, "Anatomy")
    panels.addTab(teaching.theory, "Theory")
    panels.addTab(teaching.class_panel, "Class")
    topic = getattr(lesson, "topic_requested", None)
    if topic is not None:
        topic.connect(teaching.show_topic)
    return teaching


def install_actions(window, add_action) -> QAction:
    """The Teach menu: anatomy and class-mode keys; ``add_action`` is the window's helper
    ``(text, slot, shortcut, menu, checkable)``. Returns the menu's action."""
    teaching: Teaching = window.landscape.teaching
    klass = teaching.klass
    menu = window.menuBar().addMenu("&Teach")
    add_action("Anatomy: next term", lambda: teaching.next_term(1), "A", menu)
    add_action("Anatomy: previous term", lambda: teaching.next_term(-1), "Shift+A", menu)
    menu.addSeparator()
    add_action("Class mode: start, reveal, next round", klass.advance, "B", menu)
    class_only = [
        add_action("Class mode: next choice", lambda: klass.choose(1), "PgDown", menu),
        add_action("Class mode: previous choice", lambda: klass.choose(-1), "PgUp", menu),
        add_action("Class mode: next choice (↓)", lambda: klass.choose(1), "Down"),
        add_action("Class mode: previous choice (↑)", lambda: klass.choose(-1), "Up"),
        add_action("Class mode: other question", klass.switch_question, "Q", menu),
    ]
    add_action("Class mode on / off", klass.toggle, "C", menu)

    def follow() -> None:  # these keys belong to the spin boxes and lists outside class mode
        for action in class_only:
            action.setEnabled(klass.active)

    klass.changed.connect(follow)
    follow()
    return menu.menuAction()

