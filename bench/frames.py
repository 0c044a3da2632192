"""Frame-rate benchmark: the race view in pyqtgraph against the same scene in matplotlib.

Six optimizers race on Rosenbrock drawn from a 512×512 grid (heat map, contours, minima,
trails, current points). Each frame advances every trail by one step and is painted; both are
timed over the same frames in one run, on Qt's offscreen platform and matplotlib's Agg canvas
(a full redraw per frame, as ``FuncAnimation`` without blitting does).

A pyqtgraph frame is what the app's playback timer does: set the trails, then let the event
loop paint. The viewport's paint events are counted and printed, so a frame that was not
painted cannot inflate the figure (and a forced ``repaint()`` before the event loop would paint
every frame twice, which the app never does).

Run: ``.venv/bin/python bench/frames.py [--frames 300]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from engine.landscape import surfaces  # noqa: E402
from engine.landscape.race import Race, Racer  # noqa: E402

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "nadam")
SETTINGS = {"sgd": {"learning_rate": 0.001}, "momentum": {"learning_rate": 0.001},
            "nesterov": {"learning_rate": 0.001}}


def build_race(frames: int) -> Race:
    surface = surfaces.get("rosenbrock")
    race = Race(surface, surface.start, frames)
    for optimizer_id in OPTIMIZERS:
        race.set_racer(Racer(race.new_key(optimizer_id), optimizer_id,
                             SETTINGS.get(optimizer_id, {"learning_rate": 0.01})))
    race.ensure(frames)
    return race


def pyqtgraph_fps(race: Race, frames: int) -> tuple[float, float]:
    """Frames per second and paint events per frame."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    from gui.landscape.surface_view import SurfaceView, TrailData
    from gui.palette import color_for

    app = QApplication.instance() or QApplication([])
    view = SurfaceView()
    view.resize(900, 700)
    view.set_surface(race.surface, resolution=512)
    view.show()
    app.processEvents()
    colors = {k: color_for(t.racer.optimizer_id) for k, t in race.tracks.items()}

    class PaintCounter(QObject):
        paints = 0

        def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Paint:
                self.paints += 1
            return False

    counter = PaintCounter()
    view.viewport().installEventFilter(counter)
    t0 = time.perf_counter()
    for step in range(1, frames + 1):
        view.set_trails([TrailData(k, t.points(step), colors[k], "moving")
                         for k, t in race.tracks.items()])
        app.processEvents()
    fps = frames / (time.perf_counter() - t0)
    view.viewport().removeEventFilter(counter)
    view.close()
    view.deleteLater()
    app.processEvents()
    return fps, counter.paints / frames


def matplotlib_fps(race: Race, frames: int) -> float:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gui.landscape.surface_view import display_values, surface_grid
    from gui.palette import color_for

    surface = race.surface
    _, _, values = surface_grid(surface, 512)
    shown, _ = display_values(surface, values)
    x0, x1, y0, y1 = surface.domain
    fig, ax = plt.subplots(figsize=(9, 7), dpi=100)
    image = ax.imshow(shown.T, origin="lower", extent=(x0, x1, y0, y1), aspect="auto")
    fig.colorbar(image, ax=ax)
    ax.contour(np.linspace(x0, x1, 512), np.linspace(y0, y1, 512), shown.T, 12,
               colors="white", linewidths=0.5, alpha=0.4)
    ax.plot(*zip(*[m.point for m in surface.minima], strict=True), "w*", markersize=12)
    lines, heads = {}, {}
    for key, track in race.tracks.items():
        color = color_for(track.racer.optimizer_id)
        (lines[key],) = ax.plot([], [], color=color, lw=2.5)
        (heads[key],) = ax.plot([], [], "o", color=color, mec="black")
    t0 = time.perf_counter()
    for step in range(1, frames + 1):
        for key, track in race.tracks.items():
            points = track.points(step)
            lines[key].set_data(points[:, 0], points[:, 1])
            heads[key].set_data(points[-1:, 0], points[-1:, 1])
        fig.canvas.draw()
    fps = frames / (time.perf_counter() - t0)
    plt.close(fig)
    return fps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    race = build_race(args.frames)
    qt, paints = pyqtgraph_fps(race, args.frames)
    mpl = matplotlib_fps(race, max(30, args.frames // 5))
    print(f"6 optimizers on Rosenbrock (512x512 heat map + contours), {args.frames} frames, "
          f"{os.cpu_count()} cores")
    print(f"pyqtgraph (this app's view): {qt:7.1f} fps   (target >= 60; "
          f"{paints:.2f} paints per frame)")
    print(f"matplotlib (Agg, full redraw): {mpl:5.1f} fps")
    print(f"ratio: {qt / mpl:.1f}x   (target >= 10x)")


if __name__ == "__main__":
    main()
