"""Made for the projector: the window fits small screens, the race is the largest thing on
screen (also in presentation mode, explanation shown or not), and nothing moves while the
race plays."""

from __future__ import annotations

import json
import sys

import pytest

from tests import procs

pytestmark = pytest.mark.gui

_OPEN_ON_A_SCREEN = r"""
import json, sys, tempfile
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from engine.files import presets
from gui.main_window import MainWindow

def pump(n=30):
    for _ in range(n):
        app.processEvents()

def areas(window):
    tab = window.landscape
    def area(widget):
        return widget.width() * widget.height() if widget.isVisible() else 0
    parts = {"race": area(tab.view), "controls": area(tab.controls), "side": area(tab.side),
             "table": area(tab.table), "banner": area(tab.banner)}
    return parts, tab.view.width(), tab.view.height()

settings = QSettings(tempfile.mktemp(suffix=".ini"), QSettings.Format.IniFormat)
window = MainWindow(settings=settings)
window.show()
pump()
screen = window.screen().availableGeometry()
frame = window.frameGeometry()
report = {"screen": [screen.x(), screen.y(), screen.width(), screen.height()],
          "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
          "minimum": [window.minimumSizeHint().width(), window.minimumSizeHint().height()],
          "normal": areas(window)[0]}
window.scenarios.open_preset(presets.preset_paths()[0])
window.set_presentation(True)
pump(60)
report["presenting"], *report["presenting_view"] = areas(window)
report["timeline"] = window.landscape.playback.slider.width()
window.landscape.banner.set_explanation_visible(True)
pump(60)
report["explaining"], *report["explaining_view"] = areas(window)
report["drawer_shown"] = window.landscape.banner.drawer.isVisible()
window.landscape.banner.set_explanation_visible(False)
tab = window.landscape
table_before = tab.table.height()
tab.views.setCurrentWidget(tab.maps)
pump(60)
report["maps"] = {"plot": tab.maps.plot.height(), "table": tab.table.height(),
                  "page": tab.maps.height()}
tab.views.setCurrentWidget(tab.view)
pump(60)
report["table_back"] = [table_before, tab.table.height()]
window.set_presentation(False)
window.close()
from gui import threads
while threads.live_threads():  # the map computing on arrival winds down (as in the app)
    pump(5)
pump()
print(json.dumps(report))
"""


@pytest.mark.parametrize("screen", ["1024x768", "1280x720"])
def test_the_window_fits_a_projector_and_the_race_is_the_largest_thing(screen):
    with procs.xvfb(f"{screen}x24") as display:
        done = procs.run([sys.executable, "-c", _OPEN_ON_A_SCREEN], timeout=180,
                         env=procs.xcb_env(display))
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    sx, sy, sw, sh = report["screen"]
    fx, fy, fw, fh = report["frame"]
    assert fw <= sw and fh <= sh and fx >= sx and fy >= sy, report  # on the screen, whole
    assert report["minimum"][0] <= sw and report["minimum"][1] <= sh
    for state in ("presenting", "explaining"):
        parts = report[state]
        assert parts["race"] == max(parts.values()), (state, parts)
    # A timeline to drag (it once shrank to its handle at 1024 px in presentation mode).
    assert report["timeline"] >= 120, report["timeline"]
    # The explanation opens beside the race, which keeps its size.
    assert report["drawer_shown"]
    assert report["explaining_view"] == report["presenting_view"]
    # The Maps page takes the table's room in presentation mode: the map is the largest
    # thing on its page; the race gets its table back.
    maps = report["maps"]
    assert maps["table"] == 0 and maps["plot"] >= maps["page"] // 2, maps
    assert report["table_back"][1] == report["table_back"][0] > 0, report["table_back"]


@pytest.fixture
def window(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from gui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    widget = MainWindow(settings=settings)
    qtbot.addWidget(widget)
    widget.resize(1280, 720)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.landscape.shutdown()


def _geometry(tab):
    table = tab.table
    return {
        "view": tab.view.geometry().getRect(),
        "banner": tab.banner.geometry().getRect(),
        "slider": tab.playback.slider.geometry().getRect(),
        "columns": [table.columnWidth(c) for c in range(table.columnCount())],
        "hidden": [table.isColumnHidden(c) for c in range(table.columnCount())],
        "scrollbars": (table.horizontalScrollBar().isVisible(),
                       table.verticalScrollBar().isVisible()),
        "legend": tab.side_plots.legend.geometry().getRect(),
    }


@pytest.mark.parametrize("preset", ["01-ravine-momentum", "05-adam-momentum-rmsprop",
                                    "06-saddle-point"])
def test_nothing_moves_while_the_race_plays(qtbot, window, preset):
    from engine.files import presets

    window.scenarios.open_preset(presets.presets_dir() / f"{preset}.json")
    tab = window.landscape
    qtbot.waitUntil(lambda: tab.race.complete, timeout=60_000)  # outcomes known
    tab.seek(0)
    qtbot.wait(50)
    before = _geometry(tab)
    for step in range(0, tab.race.budget + 1, max(1, tab.race.budget // 40)):
        tab.seek(step)  # the banner's number, the statuses and the table change...
        qtbot.wait(1)
        assert _geometry(tab) == before, step  # ...nothing moves
    assert tab.banner.measure.text()  # and the banner did show a live number


def test_presentation_mode_is_laid_out_before_its_first_paint(qtbot, window):
    """The switch lays the window out at the new type size before it returns, so the first
    paint is at the new sizes: left to the next turn, the race (20 thick trails far along:
    75-88 ms a paint) was painted in the old layout first. Nothing is left to lay out."""
    from PySide6.QtCore import QCoreApplication, QEvent, QObject

    class Layouts(QObject):
        def __init__(self):
            super().__init__()
            self.count = 0

        def eventFilter(self, obj, event):  # noqa: N802 - Qt override
            if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.ApplicationFontChange):
                self.count += 1
            return False

    app = QCoreApplication.instance()
    for on in (True, False):
        window.set_presentation(on)
        layouts = Layouts()
        app.installEventFilter(layouts)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.ApplicationFontChange)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        app.removeEventFilter(layouts)
        assert layouts.count == 0, (on, layouts.count)


def test_presentation_mode_paints_the_race_only_at_its_new_size(qtbot, window):
    """The window passes through layouts as it settles (the old size, then full screen; the
    side panel beside the race, then in a tab), and each repainted the race: 20 thick trails
    far along and the side plots' 60 curves, 145-170 ms of the GUI thread in one turn, and a
    race that jumps from size to size. The switch paints once the window has its new size,
    in a later turn than the switch itself; nothing between is shown."""
    from PySide6.QtCore import QObject

    from gui.main_window import SETTLE_MS

    class Paints(QObject):
        def __init__(self):
            super().__init__()
            self.sizes = []

        def eventFilter(self, obj, event):  # noqa: N802 - Qt override
            if event.type() == event.Type.Paint:
                self.sizes.append((obj.width(), obj.height()))
            return False

    viewport = window.landscape.view.viewport()
    qtbot.wait(200)
    for on in (True, False):
        paints = Paints()
        viewport.installEventFilter(paints)
        window.set_presentation(on)
        assert not window.updatesEnabled()  # not painted in the switch's own turn
        qtbot.wait(SETTLE_MS + 500)
        viewport.removeEventFilter(paints)
        assert window.updatesEnabled()
        final = (viewport.width(), viewport.height())
        assert paints.sizes and set(paints.sizes) == {final}, (on, paints.sizes)


def test_a_picture_taken_while_presentation_mode_settles_is_not_black(qtbot, window,
                                                                      tmp_path):
    """The window holds its paint until presentation mode has its size: a picture of a
    widget taken then (the MNIST plots' PNG, the README's screenshots) came out black.
    Taking one finishes the switch first."""
    from PySide6.QtGui import QImage

    window.set_presentation(True)
    assert not window.updatesEnabled()
    target = tmp_path / "plots.png"
    window.training.plots.export_png(str(target))
    assert window.updatesEnabled()
    image = QImage(str(target))
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    assert len(colours) > 3  # text, axes and ground, not one black block
    window.set_presentation(False)


def test_after_presentation_mode_the_desk_has_its_widths_back(qtbot, window, monkeypatch):
    """The control panel came back at presentation mode's width and took 46 px of the side
    panel; both tabs' panels are as wide as before, and nothing is cut off in between. (The
    window keeps its size here: the offscreen platform gives it back another one.)"""
    from gui.main_window import SETTLE_MS

    monkeypatch.setattr(window, "showFullScreen", lambda: None)
    monkeypatch.setattr(window, "showNormal", lambda: None)
    tab = window.landscape
    qtbot.wait(200)
    before = tab.splitter.sizes()
    window.set_presentation(True)
    qtbot.wait(SETTLE_MS + 300)
    training = window.training.controls
    assert training.minimumWidth() >= training.widget().minimumSizeHint().width()
    window.set_presentation(False)
    qtbot.wait(SETTLE_MS + 300)
    after = tab.splitter.sizes()
    assert len(after) == len(before) and sum(after) == sum(before)
    assert after[-1] == before[-1]  # the side panel (or the race, where it is a page)
    assert abs(after[0] - before[0]) <= 4  # the control panel
