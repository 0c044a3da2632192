"""Regenerate the README screenshots: ``xvfb-run -a .venv/bin/python docs/screenshots.py``
(``--mnist``: only the MNIST tab's, which train for a minute).

Under Xvfb (platform xcb) the 3-D view renders with Mesa; on the offscreen platform the
3-D shot is skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from gui.palette import DARK, LIGHT

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.resize(1500, 900)
    window.show()
    tab = window.landscape

    def shot(name: str) -> None:
        # Seeking computes in slices: let the race reach the step shown first.
        while tab.race.computed_to() < min(tab.step, tab.race.budget):
            app.processEvents()
        tab.seek(tab.step)
        for _ in range(5):
            app.processEvents()
        window.settle()  # a presentation switch paints once it has settled
        window.grab().save(str(OUT / f"{name}.png"))
        print("wrote", OUT / f"{name}.png")

    if "--mnist" in sys.argv:
        mnist_shots(app, window, shot)
        return

    # 1. The ravine with the internals shown.
    for box in (tab.show_descent, tab.show_update, tab.show_velocity):
        box.setChecked(True)
    tab.seek(120)
    shot("landscape-ravine")
    for box in (tab.show_descent, tab.show_update, tab.show_velocity):
        box.setChecked(False)
    # 2. Rosenbrock in the dark theme: plain SGD diverges at Keras's default rate.
    tab.surface_combo.setCurrentIndex(tab.surface_combo.findData("rosenbrock"))
    tab.seek(1500)
    window.set_theme(DARK)
    shot("landscape-rosenbrock-dark")
    window.set_theme(LIGHT)
    # 3. A custom surface with the gradient field.
    tab.expression.setText("x**2 + 3*y**2 + 2*sin(2*x*y)")
    tab._expression_applied()
    tab.show_field.setChecked(True)
    tab.seek(400)
    shot("landscape-custom")
    tab.show_field.setChecked(False)
    # 4. Himmelblau in 3-D (needs OpenGL).
    tab.surface_combo.setCurrentIndex(tab.surface_combo.findData("himmelblau"))
    tab.seek(300)
    if tab.view3d.available:
        tab.views.setCurrentIndex(1)
        shot("landscape-3d")
    # 5. Maps: which minimum Momentum reaches from every start, and where learning rate ×
    # momentum converge.
    maps = tab.maps

    def computed(**kwargs) -> None:
        maps.compute(**kwargs)
        while maps.thread is not None:
            app.processEvents()

    tab.views.setCurrentWidget(maps)
    maps.optimizer.setCurrentIndex(maps.optimizer.findData("momentum"))
    maps.grid.setCurrentIndex(maps.grid.findData(128))
    maps.colour_by.setCurrentIndex(maps.colour_by.findData("minimum"))
    computed()
    shot("maps-minimum-reached")
    maps.colour_by.setCurrentIndex(maps.colour_by.findData("steps"))
    maps.mode.setCurrentIndex(maps.mode.findData("hyper"))
    maps.x_param.setCurrentIndex(maps.x_param.findData("learning_rate"))
    maps.y_param.setCurrentIndex(maps.y_param.findData("momentum"))
    computed()
    shot("maps-learning-rate-momentum")
    # 5b. The learning-rate sweep of the race's four optimizers on the ravine.
    tab.surface_combo.setCurrentIndex(tab.surface_combo.findData("ravine"))
    maps.mode.setCurrentIndex(maps.mode.findData("sweep"))
    maps.steps.setValue(300)
    computed()
    shot("maps-lr-sweep")
    # 5b'. Live maps: sliders for what a map holds fixed; heavy-ball theory on the ravine.
    maps.mode.setCurrentIndex(maps.mode.findData("hyper"))
    maps.optimizer.setCurrentIndex(maps.optimizer.findData("momentum"))
    maps.grid.setCurrentIndex(maps.grid.findData(64))
    maps.x_param.setCurrentIndex(maps.x_param.findData("learning_rate"))
    maps.y_param.setCurrentIndex(maps.y_param.findData("momentum"))
    maps.steps.setValue(2000)
    computed()
    shot("maps-live-sliders")
    maps.optimizer.setCurrentIndex(maps.optimizer.findData("adam"))
    maps.x_param.setCurrentIndex(maps.x_param.findData("learning_rate"))
    maps.y_param.setCurrentIndex(maps.y_param.findData("beta_1"))
    computed()
    maps.fixed.set_value("beta_2", 0.95)  # as if dragged: the map follows
    computed(live=True)
    shot("maps-live-adam")
    # 5c. SGD with an exponentially decaying rate and gradient noise: the effective rate.
    tab.views.setCurrentWidget(tab.view)
    panel = tab.racer_panel
    panel.select(next(k for k, t in tab.race.tracks.items() if t.racer.optimizer_id == "sgd"))
    panel.schedule.combo.setCurrentIndex(panel.schedule.combo.findData("exponential_decay"))
    panel.schedule._editors["initial_learning_rate"].setValue(0.03)
    panel.noise_scale.setValue(1.0)
    tab.seek(250)
    shot("landscape-schedule-noise")

    # 5d. Presets: the lesson's claims with their live numbers; presentation mode.
    from engine.files import presets

    panel.schedule.combo.setCurrentIndex(0)
    panel.noise_scale.setValue(0.0)
    shown = {"01-ravine-momentum": "preset-ravine", "06-saddle-point": "preset-saddle",
             "07-four-minima": "preset-local-minima"}
    for path in presets.preset_paths():
        if path.stem in shown:
            window.scenarios.open_preset(path)
            tab.seek(min(tab.race.finished_step(), tab.race.budget))
            shot(shown[path.stem])
    window.scenarios.open_preset(presets.preset_paths()[1])
    tab.seek(tab.race.budget)
    window.set_presentation(True)
    tab.banner.set_explanation_visible(True)
    window.resize(1600, 900)
    shot("presentation-mode")
    tab.banner.set_explanation_visible(False)
    window.set_presentation(False)

    # 5e. Issue 15: the anatomy of a step, theory, class mode (docs/teaching_shots.py).
    import teaching_shots

    teaching_shots.take(app, window, OUT)
    window.resize(1500, 900)

    tab.views.setCurrentIndex(0)
    mnist_shots(app, window, shot)


def mnist_shots(app, window, shot) -> None:
    """The MNIST tab: SGD, RMSProp and Adam, 5 epochs on the bundled subset, in lockstep;
    then the network landscape, replayed, and its 1-D lines."""
    import time

    from gui.palette import DARK, LIGHT

    def wait(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.005)

    window.tabs.setCurrentIndex(1)
    training = window.training
    training.dataset.setCurrentIndex(training.dataset.findData("bundled"))
    training.start()
    mid_shot = False
    while training.is_running() or training.worker is not None:
        wait(0.005)
        if not mid_shot and training.progress.value() > 450:
            window.set_theme(DARK)
            shot("mnist-training-dark")
            window.set_theme(LIGHT)
            mid_shot = True
    network = training.network
    while network.worker is not None:
        wait(0.05)
    network.toggle_play()  # pause the replay, then show it halfway
    network.slider.setValue(network.slider.maximum() // 2)
    shot("mnist-network-landscape-replay")
    network.slider.setValue(network.slider.maximum())
    landscape = network.landscape
    x, y = landscape.paths[2][-1]  # hover Adam's final point
    network._hovered(network.map.readout(float(x), float(y)))
    shot("mnist-results")
    network.views.setCurrentWidget(network.lines)
    shot("mnist-network-lines")
    network.views.setCurrentWidget(network.map)
    network.walk.setChecked(True)
    shot("mnist-random-walk")
    network.walk.setChecked(False)
    window.close()
    app.processEvents()


if __name__ == "__main__":
    main()
