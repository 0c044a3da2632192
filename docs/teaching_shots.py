"""Screenshots of issue 15's screens (called by ``docs/screenshots.py``, or alone:
``python docs/teaching_shots.py`` under an X server of 1280×720, e.g.
``Xvfb :99 -screen 0 1280x720x24`` and ``DISPLAY=:99``).

Each screen in the light theme, in the dark theme, and in presentation mode (F5), at the size
of a 1280×720 projector.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))

SIZE = (1280, 720)


def take(app, window, out: Path = OUT) -> list[Path]:
    """Every teaching screenshot of ``window`` (a MainWindow), written to ``out``."""
    from engine.files import presets
    from gui.palette import DARK, LIGHT

    tab = window.landscape
    teaching = tab.teaching
    written: list[Path] = []

    def settle() -> None:
        for _ in range(8):
            app.processEvents()

    def shot(name: str) -> None:
        settle()
        window.settle()  # a presentation switch paints once it has settled
        path = out / f"{name}.png"
        window.grab().save(str(path))
        written.append(path)
        print("wrote", path)

    def select(optimizer_id: str) -> None:
        keys = [k for k, t in tab.race.tracks.items() if t.racer.optimizer_id == optimizer_id]
        if not keys:  # the last preset shown races others: add one, as the Add menu does
            tab.racer_panel.add(optimizer_id)
            settle()
            keys = [k for k, t in tab.race.tracks.items()
                    if t.racer.optimizer_id == optimizer_id]
        tab.racer_panel.select(keys[0])

    def reveal(name: str) -> None:
        teaching.next_term(-99)
        while teaching.anatomy.current() is None or teaching.anatomy.current().name != name:
            teaching.next_term(1)

    window.resize(*SIZE)
    window.set_theme(LIGHT)
    tab.views.setCurrentWidget(tab.view)

    # 1. Anatomy: Adam's step size per coordinate (the default race, Adam at lr 0.3), and
    # Momentum's velocity in the ravine preset.
    from engine.landscape.race import Racer

    select("adam")
    tab._racer_changed(Racer(tab.racer_panel.current_key(), "adam", {"learning_rate": 0.3}))
    tab.seek(12)
    reveal("step size per coordinate")
    shot("anatomy-adam-step-size")
    window.scenarios.open_preset(presets.preset_paths()[0])  # the ravine: SGD vs Momentum
    tab._add_racer("adam")
    select("momentum")
    tab.seek(6)
    reveal("momentum")
    window.set_theme(DARK)
    shot("anatomy-momentum-dark")
    window.set_theme(LIGHT)
    window.set_presentation(True)
    reveal("update")
    shot("anatomy-presentation")
    window.set_presentation(False)
    teaching.next_term(-99)

    # 2. Theory: the rates beside the race, and the lines on the lr × momentum map.
    teaching.panels.setCurrentWidget(teaching.theory)
    tab.seek(400)
    shot("theory-race")
    maps = tab.maps
    tab.views.setCurrentWidget(maps)
    maps.optimizer.setCurrentIndex(maps.optimizer.findData("momentum"))
    maps.mode.setCurrentIndex(maps.mode.findData("hyper"))
    maps.x_param.setCurrentIndex(maps.x_param.findData("learning_rate"))
    maps.y_param.setCurrentIndex(maps.y_param.findData("momentum"))
    maps.grid.setCurrentIndex(maps.grid.findData(128))
    maps.steps.setValue(1000)
    maps.compute()
    while maps.thread is not None:
        app.processEvents()
    shot("theory-map")
    window.set_theme(DARK)
    shot("theory-map-dark")
    window.set_theme(LIGHT)
    window.set_presentation(True)
    shot("theory-map-presentation")
    window.set_presentation(False)
    tab.views.setCurrentWidget(tab.view)

    # 3. Class mode: the question, then the result and the tally.
    klass = teaching.klass
    teaching.panels.setCurrentWidget(teaching.class_panel)
    klass.start()
    klass.choose(1)
    shot("class-predict")
    window.set_theme(DARK)
    shot("class-predict-dark")
    window.set_theme(LIGHT)
    window.set_presentation(True)
    klass.reveal()
    klass.advance()  # to the result
    shot("class-result-presentation")
    klass.next_round()
    klass.switch_question()
    for point in ((0.0, 0.0), (-2.0, 1.0), (3.0, -1.0)):
        klass._clicked(*point)
    shot("class-where-presentation")
    klass.reveal()
    klass.advance()
    shot("class-where-result-presentation")
    window.set_presentation(False)
    klass.stop()
    return written


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.show()
    take(app, window, Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
    window.close()
    app.processEvents()


if __name__ == "__main__":
    main()
