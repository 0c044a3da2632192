"""Class mode: predict, then reveal, driven from the keyboard or a presenter's clicker.

The :class:`ClassController` connects an :class:`engine.landscape.predict.ClassSession` to the
Landscape tab. While the class predicts, the race waits at its start (play is refused; the
arrow keys choose instead of stepping); revealing plays the race; when it has finished the
prediction is judged and shown against the result, and the session's tally grows.

Keys (what clickers send): B starts class mode, reveals, and after the result starts the next
round; PageDown/→/↓ and PageUp/←/↑ move the choice; Q switches the question ("which converges
first" / "where will each end", answered by clicks on the map); C starts and leaves.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, Signal, Slot

from engine.landscape.predict import (
    FIRST,
    OFF,
    PREDICT,
    RACING,
    REVEALED,
    WHERE,
    ClassSession,
)
from gui.landscape.class_overlay import HINTS, ClassOverlay, ClickCatcher, PredictionMarks


class ClassController(QObject):
    """Class mode on ``tab`` (a :class:`gui.landscape.tab.LandscapeTab`).

    Signals
    -------
    changed()
        The stage, the prediction or the tally changed.
    started()
        Class mode started: nothing of the race may show before the reveal.
    """

    changed = Signal()
    started = Signal()

    def __init__(self, tab) -> None:
        super().__init__(tab)
        self.tab = tab
        self.session = ClassSession()
        self.overlay = ClassOverlay(tab.view, tab.theme)
        self.marks = PredictionMarks(tab.view, tab.theme)
        self.catcher = ClickCatcher()
        self.catcher.setZValue(1000)
        self.catcher.clicked.connect(self._clicked)
        self._catching = False

    # --- state -----------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.session.stage != OFF

    def _racers(self) -> list[tuple[str, str]]:
        return [(k, t.racer.label()) for k, t in self.tab.race.tracks.items()]

    def _title(self) -> str:
        banner = getattr(self.tab, "banner", None)
        label = getattr(banner, "title", None)
        title = label.text() if label is not None and banner.isVisible() else ""
        return title or self.tab.race.surface.name

    def allows_play(self) -> bool:
        """False while the class predicts: the race waits at its start."""
        if self.session.stage == PREDICT:
            self.tab.status_message.emit("Class mode: make the prediction, then press B to "
                                         "reveal.")
            return False
        return True

    def takes_step_keys(self, delta: int) -> bool:
        """While predicting, ←/→ move the choice instead of stepping the race."""
        if self.session.stage != PREDICT:
            return False
        self.choose(delta)
        return True

    # --- the keys --------------------------------------------------------------------------
    @Slot()
    def advance(self) -> None:
        """B: start class mode, reveal, skip to the result, or start the next round."""
        stage = self.session.stage
        if stage == OFF:
            self.start()
        elif stage == PREDICT:
            self.reveal()
        elif stage == RACING:
            self._finish()
        else:
            self.next_round()

    def start(self) -> None:
        self.session.start(self._racers(), self._title())
        self.started.emit()
        self.tab.set_playing(False)
        self.tab.seek(0)
        self._refresh()

    def toggle(self) -> None:
        """C: start class mode, or leave it."""
        if self.active:
            self.stop()
        else:
            self.start()

    def reveal(self) -> None:
        if not self.session.reveal():
            self.tab.status_message.emit("Click where at least one racer will end first.")
            return
        self._catch(False)
        self.tab.seek(0)
        self.tab.set_playing(True)
        self._refresh()

    def next_round(self) -> None:
        self.session.end_round()
        self.session.racers = self._racers()
        self.tab.set_playing(False)
        self.tab.seek(0)
        self._refresh()

    def stop(self) -> None:
        """Leave class mode (the tally stays for the session)."""
        self.session.stop()
        self._catch(False)
        self.marks.clear()
        self._refresh()

    def choose(self, delta: int) -> None:
        """PageDown/→/↓ (+1), PageUp/←/↑ (−1): the next or previous choice."""
        if self.session.stage == PREDICT:
            self.session.next_option(delta)
            self._refresh()
        elif self.session.stage == REVEALED and delta > 0:
            self.next_round()

    def switch_question(self) -> None:
        """Q: "which converges first" ⇄ "where will each end"."""
        if self.session.stage == PREDICT:
            self.session.set_kind(WHERE if self.session.kind == FIRST else FIRST)
            self._refresh()

    def set_question(self, kind: str) -> None:
        if self.session.kind != kind:
            if self.session.stage in (PREDICT, OFF):
                self.session.set_kind(kind)
            self._refresh()

    # --- following the race ----------------------------------------------------------------
    def step_shown(self, step: int) -> None:
        """Judge when the revealed race has finished; follow a change of racers meanwhile."""
        stage = self.session.stage
        if stage == PREDICT and [k for k, _ in self._racers()] != [
                k for k, _ in self.session.racers]:
            kind = self.session.kind
            self.session.start(self._racers(), self._title())
            self.session.set_kind(kind)
            self._refresh()
        elif stage == RACING and not self.tab.playing:
            race = self.tab.race
            if race.complete and step >= min(race.finished_step(), race.budget):
                self._judge()

    def _finish(self) -> None:
        race = self.tab.race
        race.ensure(race.budget)
        self.tab.set_playing(False)
        self.tab.seek(min(race.finished_step(), race.budget))
        if self.session.stage == RACING:
            self._judge()

    def _judge(self) -> None:
        self.session.judge(self.tab.race)
        self._refresh()

    @Slot(float, float)
    def _clicked(self, x: float, y: float) -> None:
        self.session.place((x, y))
        self._refresh()

    def _catch(self, on: bool) -> None:
        plot = self.tab.view.getPlotItem()
        if on and not self._catching:
            plot.addItem(self.catcher, ignoreBounds=True)
        elif not on and self._catching:
            plot.removeItem(self.catcher)
        self._catching = on

    def _points_to_keep_visible(self) -> list[tuple[float, float]]:
        """The start, the known minima and (once revealed) the racers' ends, in pixels of
        the 2-D view."""
        race, view = self.tab.race, self.tab.view
        points = [race.start, *(m.point for m in race.surface.minima)]
        if self.session.stage == REVEALED:
            points += [tuple(t.points(race.budget)[-1]) for t in race.tracks.values()]
        box = view.getPlotItem().getViewBox()
        pixels = []
        for x, y in points:
            widget = view.mapFromScene(box.mapViewToScene(QPointF(float(x), float(y))))
            pixels.append((widget.x(), widget.y()))
        return pixels

    def set_theme(self, theme) -> None:
        self.overlay.set_theme(theme)
        self.marks.theme = theme
        self._refresh()

    def _refresh(self) -> None:
        session = self.session
        colors = dict(self.tab.colors)
        self._catch(session.stage == PREDICT and session.kind == WHERE)
        hint = HINTS["where"] if session.stage == PREDICT and session.kind == WHERE else \
            HINTS.get(session.stage, "")
        self.overlay.set_avoid(self._points_to_keep_visible())
        self.overlay.show_session(session, colors, hint)
        if session.kind == WHERE and session.stage != OFF:
            actual = None
            if session.stage == REVEALED:
                race = self.tab.race
                actual = {k: race.tracks[k].points(race.budget)[-1] for k in session.ends
                          if k in race.tracks}
            self.marks.show(session.ends, colors, actual)
        else:
            self.marks.clear()
        self.changed.emit()
