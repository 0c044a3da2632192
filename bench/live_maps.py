"""Live maps: how often a map redraws while a slider is dragged, and the GUI thread's
longest block meanwhile.

Opens the Maps page of the real Landscape tab (offscreen) on a hyperparameter map of Adam's
learning rate × beta_1 on Rosenbrock at 128×128 cells and 300 steps, then drags a slider
the map holds fixed (beta_2, on a log-free linear scale; then epsilon, log) back and forth
at 60 moves a second for a few seconds, as a mouse would, and finally drags the map's start
(start x). It counts the maps drawn per second while dragging (coarse 64×64 ones), the time
from letting go to the full 128×128 map, and, with a 5 ms ``QTimer`` ticking in the GUI
thread, the longest gap between ticks (how long the GUI thread was blocked).

Targets (issue 13): at least 15 updates a second at 128²×300; no block over 50 ms.
The kernels are compiled (or loaded from the disk cache) before measuring; a cold first map
is measured separately with ``--cold`` (the "background" compile policy: NumPy meanwhile).

Run: ``.venv/bin/python bench/live_maps.py [--seconds 4] [--cold]``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GRID, STEPS = 128, 300


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="drag time per slider")
    parser.add_argument("--cold", action="store_true",
                        help="do not compile the kernels first (background policy)")
    parser.add_argument("--why", action="store_true",
                        help="print the GUI thread's stack during each block over 50 ms")
    args = parser.parse_args(argv)
    from engine import allocator

    allocator.keep_freed_memory()  # as the app's entry point does (engine/allocator.py)

    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from engine.landscape import kernels, surfaces

    app = QApplication.instance() or QApplication([])
    kernels.set_compile_policy("background")
    if not args.cold:
        started = time.perf_counter()
        kernels.warm_up(surfaces=("rosenbrock",), optimizers=("adam",))
        print(f"kernels ready in {time.perf_counter() - started:.2f} s "
              f"({'compiled' if kernels.available() else 'no numba: NumPy'})")
    from gui import threads
    from gui.landscape.tab import LandscapeTab

    threads.collect_garbage_in_gui_thread()  # as run_app does
    tab = LandscapeTab()
    tab.resize(1280, 720)
    tab.show()
    threads.freeze_long_lived()
    surface = surfaces.get("rosenbrock")
    tab._surface_changed_to(surface)
    adam = tab.model.first_key("adam")
    tab.racer_panel.select(adam)
    maps_view = tab.maps
    tab.views.setCurrentWidget(maps_view)
    maps_view.set_racers(maps_view.racers, selected=adam)
    maps_view.mode.setCurrentIndex(maps_view.mode.findData("hyper"))
    maps_view.grid.setCurrentIndex(maps_view.grid.findData(GRID))
    maps_view.steps.setValue(STEPS)
    maps_view.x_param.setCurrentIndex(maps_view.x_param.findData("learning_rate"))
    maps_view.y_param.setCurrentIndex(maps_view.y_param.findData("beta_1"))

    drawn: list[tuple[float, int]] = []  # (time drawn, cells a side)
    draw = maps_view._draw

    def counted_draw():  # called in the GUI thread when a map arrives
        draw()
        if maps_view.result is not None:
            drawn.append((time.perf_counter(), maps_view.result.status.shape[0]))

    maps_view._draw = counted_draw
    gaps: list[float] = []
    clock = QElapsedTimer()
    ticker = QTimer()
    ticker.setInterval(5)

    last_tick = [time.perf_counter()]

    def tick():
        gaps.append(clock.restart())
        last_tick[0] = time.perf_counter()

    ticker.timeout.connect(tick)
    if args.why:
        import threading
        import traceback

        main_id = threading.get_ident()

        def sample():  # while the GUI thread is blocked > 50 ms, show where (once per block)
            reported = 0.0
            while True:
                time.sleep(0.01)
                now = time.perf_counter()
                try:
                    active = ticker.isActive()
                except RuntimeError:  # the bench is over
                    return
                if active and now - last_tick[0] > 0.05 and last_tick[0] != reported:
                    reported = last_tick[0]
                    frame = sys._current_frames().get(main_id)
                    print("--- GUI thread blocked; it is in:")
                    print("".join(traceback.format_stack(frame)[-8:]))

        threading.Thread(target=sample, daemon=True).start()

    def run_until(condition, limit=120.0):
        deadline = time.perf_counter() + limit
        while not condition() and time.perf_counter() < deadline:
            app.processEvents()

    # The first full map (cold kernels: NumPy while they compile).
    started = time.perf_counter()
    maps_view.compute()
    run_until(lambda: maps_view.result is not None and maps_view.thread is None)
    print(f"first {GRID}x{GRID}x{STEPS} map: {time.perf_counter() - started:.3f} s")

    rows = []
    for name in ("beta_2", "epsilon", "start x"):
        slider = maps_view.fixed.slider(name)
        drawn.clear()
        gaps.clear()
        clock.start()
        ticker.start()
        begin = time.perf_counter()
        moves = 0
        slider.setSliderDown(True)
        while time.perf_counter() - begin < args.seconds:
            position = int(500 + 450 * math.sin(moves / 20))
            slider.setSliderPosition(position)  # emits sliderMoved, as a drag does
            moves += 1
            frame_end = time.perf_counter() + 1 / 60
            while time.perf_counter() < frame_end:
                app.processEvents()
        dragging = time.perf_counter() - begin
        during = [t for t, size in drawn if t - begin <= dragging]
        released = time.perf_counter()
        slider.setSliderDown(False)  # sliderReleased: the full map
        run_until(lambda since=released: any(size == GRID and t > since for t, size in drawn)
                  and maps_view.thread is None, 60)
        refined = next((t for t, size in drawn if size == GRID and t > released), None)
        ticker.stop()
        worst = max(gaps[1:], default=0.0)
        rows.append((name, moves / dragging, len(during) / dragging,
                     None if refined is None else refined - released, worst,
                     sorted(gaps)[int(0.99 * (len(gaps) - 1))] if gaps else 0.0))
    print(f"{'slider':10} {'moves/s':>8} {'maps/s':>7} {'full map after release':>23} "
          f"{'longest block':>14} {'p99 tick':>9}")
    for name, moves, maps_per_second, refined, worst, p99 in rows:
        refined_text = "never" if refined is None else f"{1000 * refined:.0f} ms"
        print(f"{name:10} {moves:8.1f} {maps_per_second:7.1f} {refined_text:>23} "
              f"{worst:11.0f} ms {p99:6.0f} ms")
    print(f"targets: >= 15 maps/s while dragging at {GRID}x{GRID}x{STEPS}; blocks <= 50 ms")
    tab.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
