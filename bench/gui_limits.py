"""The longest GUI-thread block while every control is driven to its limits.

Opens the real main window and, in its own event loop (``app.exec()``), drives one control
after another to the edge of its range, one user action at a time: the step budget at its maximum and a seek to the
end, twenty racers, a hyperparameter changed far along the timeline, noise and schedules at
their limits, every surface, a custom formula of the longest length, the MNIST settings that
make the schedule plot span 48 million steps, a map of the largest steps in its worker,
presentation mode (with 20 racers far along, and again after the surfaces reset the race), every
preset. A 5 ms ``QTimer`` in the GUI thread ticks throughout; the
longest gap between ticks during an action and the idle time after it is how long the GUI
thread was blocked. Target: under 100 ms for every action.

Run: ``.venv/bin/python bench/gui_limits.py [--idle 1.5] [--why [N]] [--sample [N]]``; ``--why``
profiles the GUI thread and prints, for each action over the target, the N functions that took
longest; ``--sample`` instead samples the GUI thread's stack from another thread whenever it
has not ticked for 15 ms (little overhead, so the blocks keep their size) and prints the N
functions seen most often in each slow action's blocks.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import threading
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_MS = 100.0


def actions(window):
    """(name, callable) pairs, each driving one control to a limit."""
    from engine.files import presets, scenario
    from engine.landscape import limits, surfaces
    from engine.landscape.expressions import MAX_LENGTH
    from engine.mnist import settings as mnist
    from engine.optimizers import schedules

    land, training = window.landscape, window.training
    panel = land.racer_panel

    def budget_max():
        land.playback.budget.setValue(limits.STEPS.high)

    def seek_end():
        land.playback.slider.setValue(limits.STEPS.high)

    def play_far():
        land.set_playing(True)
        land.playback.speed.setCurrentIndex(land.playback.speed.count() - 1)

    def add_racer():
        land.set_playing(False)
        panel.add("adam")  # as choosing Adam from the Add menu

    def back_far_along():
        land.seek(limits.STEPS.high)

    def edit_far_along():
        editor = panel._editors["learning_rate"]
        editor.setValue(editor.value() * 2)

    def noise_max():
        panel.noise_scale.setValue(limits.NOISE_SCALE.high)

    def seed_max():
        panel.noise_seed.setValue(limits.NOISE_SEED.high)

    def cosine():
        editor = panel.schedule
        editor.combo.setCurrentIndex(editor.combo.findData("cosine_decay"))

    def schedule_field(name, value):
        return lambda: panel.schedule._editors[name].setValue(value)

    def surface(index):
        return lambda: land.surface_combo.setCurrentIndex(index)

    def ravine_max():
        land.surface_combo.setCurrentIndex(land.surface_combo.findData("ravine"))
        land.condition_slider.setValue(land.condition_slider.maximum())

    def longest_formula():
        term = "+sin(x*y)"
        text = ("x**2+y**2" + term * MAX_LENGTH)[:MAX_LENGTH]
        land.expression.setText(text)
        land._expression_applied()

    def mnist_limits():
        window.tabs.setCurrentWidget(training)
        training.epochs.setValue(mnist.EPOCHS.high)
        training.batch_size.setValue(mnist.BATCH_SIZE.low)
        training.limit.setValue(mnist.LIMIT.high)
        training.validation_split.setValue(0.99)

    def mnist_schedule():
        editor = training.racer_panel.schedule
        editor.combo.setCurrentIndex(editor.combo.findData("piecewise_constant_decay"))

    def map_at_limits():
        window.tabs.setCurrentWidget(land)
        land.views.setCurrentWidget(land.maps)
        maps = land.maps
        maps.grid.setCurrentIndex(maps.grid.count() - 1)
        maps.steps.setValue(limits.RUN_STEPS.high)
        maps.compute()

    def map_cancel():
        land.maps.cancel()

    def presentation():
        window.set_presentation(True)

    def presentation_off():
        window.set_presentation(False)

    def preset(path):
        return lambda: window.scenarios.show(scenario.load(path))

    def save_scenario():
        window.scenarios.checked_current()

    ids = [land.surface_combo.itemData(i) for i in range(land.surface_combo.count() - 1)]
    return [("step budget 100,000", budget_max), ("timeline to the end", seek_end),
            ("play at 10x far along", play_far),
            *[(f"add racer {n + 5} of {limits.MAX_RACERS}", add_racer)
              for n in range(limits.MAX_RACERS - 4)],
            ("back to step 100,000", back_far_along),
            ("edit a racer at step 100,000", edit_far_along),
            ("presentation mode on, 20 racers far along", presentation),
            ("presentation mode off, 20 racers far along", presentation_off),
            ("noise 100", noise_max),
            ("noise seed 2^64-1", seed_max),
            ("cosine schedule", cosine),
            ("its decay over 10^9 steps", schedule_field("decay_steps", schedules.MAX_STEP)),
            ("its warm-up target 1", schedule_field("warmup_target", 1.0)),
            ("its warm-up over 10^9 steps", schedule_field("warmup_steps", schedules.MAX_STEP)),
            *[(f"surface {surfaces.get(i).name}", surface(n)) for n, i in enumerate(ids)],
            ("ravine condition 10^4", ravine_max), ("longest formula", longest_formula),
            ("MNIST 1000 epochs x batch 1", mnist_limits),
            ("MNIST schedule over 48 M steps", mnist_schedule),
            ("map 256x256, 100,000 steps (worker)", map_at_limits), ("cancel the map", map_cancel),
            ("presentation mode on", presentation), ("presentation mode off", presentation_off),
            *[(f"preset {n}", preset(p)) for n, p in enumerate(presets.preset_paths(), 1)],
            ("check a save", save_scenario)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=1.5,
                        help="seconds of idle event loop after each action")
    parser.add_argument("--why", type=int, nargs="?", const=12, default=0, metavar="N",
                        help="profile the GUI thread; print the N costliest calls per slow action")
    parser.add_argument("--sample", type=int, nargs="?", const=12, default=0, metavar="N",
                        help="sample the blocked GUI thread's stack; print the N functions seen most")
    parser.add_argument("--only", default="",
                        help="run only the actions whose name contains one of these comma-separated texts")
    args = parser.parse_args()

    from engine import allocator

    allocator.keep_freed_memory()  # as the app's entry point does

    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from engine.landscape import kernels
    from gui import threads
    from gui.main_window import MainWindow
    from gui.widgets import messages

    messages.warn = lambda *_args: None  # no modal dialog in a bench
    app = QApplication.instance() or QApplication([])
    threads.collect_garbage_in_gui_thread()  # as gui.app.run_app does
    kernels.set_compile_policy("background")
    kernels.available()
    settings = QSettings(str(Path("/tmp/optiscope-bench.ini")), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(1280, 720)
    window.show()
    threads.freeze_long_lived()  # as run_app does once the window shows
    ticks: list[float] = []
    probe = QTimer()
    probe.setInterval(5)
    probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
    probe.start()
    wanted = args.only.split(",")
    steps = [(n, a) for n, a in actions(window) if any(w in n for w in wanted)]
    results: list[tuple[str, float, float]] = []
    profiles: list = []
    samples: dict[str, Counter] = {}
    sampling = {"action": None, "stop": False}

    def sample_blocks() -> None:
        """Count the functions on the GUI thread's stack while it has not ticked for 15 ms."""
        main_id = threading.main_thread().ident
        while not sampling["stop"]:
            time.sleep(0.002)
            name = sampling["action"]
            if name is None or not ticks or time.perf_counter() - ticks[-1] < 0.015:
                continue
            frame = sys._current_frames().get(main_id)
            seen = set()
            while frame is not None:
                code = frame.f_code
                seen.add(f"{Path(code.co_filename).name}:{code.co_firstlineno}({code.co_name})")
                frame = frame.f_back
            samples.setdefault(name, Counter()).update(seen)
            samples[name]["<samples>"] += 1

    if args.sample:
        threading.Thread(target=sample_blocks, daemon=True).start()

    def block_since(start: float) -> float:
        stamps = [start] + [t for t in ticks if t >= start] + [time.perf_counter()]
        return max(b - a for a, b in zip(stamps, stamps[1:], strict=False)) * 1000

    def run(index: int) -> None:
        if index > 0:
            name, began, took = results[-1]
            results[-1] = (name, took, block_since(began))
            if args.why:
                profiles[-1].disable()
        if index == len(steps):
            probe.stop()
            window.close()  # deferred while a thread still winds down (a cancelled map)
            quit_when_closed()
            return
        name, action = steps[index]
        sampling["action"] = name
        if args.why:
            profiles.append(cProfile.Profile())
            profiles[-1].enable()
        began = time.perf_counter()
        action()
        results.append((name, began, (time.perf_counter() - began) * 1000))
        QTimer.singleShot(int(args.idle * 1000), lambda: run(index + 1))

    def quit_when_closed() -> None:
        if threads.live_threads() or window.isVisible():
            window.close()
            QTimer.singleShot(50, quit_when_closed)
        else:
            app.quit()

    QTimer.singleShot(500, lambda: run(0))
    app.exec()
    sampling["stop"] = True
    width = max(len(name) for name, _, _ in results)
    print(f"{'action':<{width}}  call (ms)  longest GUI-thread block (ms)")
    worst = 0.0
    for name, took, block in results:
        worst = max(worst, block)
        flag = "" if block < TARGET_MS else "   over the target"
        print(f"{name:<{width}}  {took:9.1f}  {block:9.1f}{flag}")
    over = sum(block >= TARGET_MS for _, _, block in results)
    for (name, _, block), profile in zip(results, profiles, strict=False):
        if block >= TARGET_MS:
            print(f"\n--- {name}: {block:.0f} ms; the costliest calls (cumulative, profiled) ---")
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.why * 4)
            rows = [r for r in out.getvalue().splitlines() if r.strip()[:1].isdigit()
                    and "{built-in method builtins.exec}" not in r and "<lambda>" not in r]
            print("\n".join(rows[:args.why]))
    for name, _, block in results:
        if block >= TARGET_MS and name in samples:
            counts = samples[name]
            total = counts.pop("<samples>")
            print(f"\n--- {name}: {block:.0f} ms; {total} samples while blocked over 15 ms ---")
            for where, n in counts.most_common(args.sample * 3)[:args.sample * 3]:
                if where.split("(")[-1] not in ("<module>)", "main)", "run)", "<lambda>)"):
                    print(f"{n:5d}  {where}")
    print(f"longest block: {worst:.0f} ms (target < {TARGET_MS:.0f} ms); {over} of "
          f"{len(results)} actions over the target")


if __name__ == "__main__":
    main()
