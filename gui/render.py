"""``main.py render``: the race after N steps, drawn to a PNG without a window.

The command's arguments are checked before Qt is touched, so bad input exits with status 2
and one line on stderr; the 2-D view renders on Qt's ``offscreen`` platform, the 3-D view
needs an OpenGL context (an X server, or Xvfb) and says so when there is none.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from engine.cli.main import (
    UsageError,
    load_optimizer,
    load_surface,
    option,
    parse_assignments,
    parse_start,
)
from engine.cli.progress import Progress
from engine.files import atomic
from engine.landscape import limits

DEFAULT_OPTIMIZERS = "sgd,momentum,rmsprop,adam"
MAX_STEPS = limits.STEPS.high


def add_render_command(commands: Any) -> None:
    """Register ``render`` on the ``main.py`` subcommand registry."""
    render = commands.add_parser(
        "render", help="draw the race after N steps to a PNG, without a window",
        epilog="Example: render --surface rosenbrock --optimizers sgd,momentum,adam "
        "--start=-1.5,2 --steps 300 --out race.png",
    )
    render.add_argument("--scenario", metavar="FILE",
                        help="draw this scenario's race (surface, racers, start, steps); "
                        "other options override it")
    render.add_argument("--surface", help="surface id or expr:f(x, y) (needed without "
                        "--scenario)")
    render.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="surface parameter, e.g. condition_number=100")
    render.add_argument("--optimizers", default=None, metavar="ID,ID,...",
                        help=f"optimizers with Keras defaults (default {DEFAULT_OPTIMIZERS})")
    render.add_argument("--start", metavar="X,Y", help="start; write --start=-1.5,2")
    render.add_argument("--steps", type=int, default=None,
                        help=f"steps to draw, {limits.STEPS.range_text()} (default "
                        f"{limits.RUN_STEPS.default}, or the scenario's)")
    render.add_argument("--out", required=True, help="output PNG file")
    render.add_argument("--size", default="1200x800", metavar="WxH", help="image size in pixels")
    render.add_argument("--view", choices=("2d", "3d"), default="2d")
    render.add_argument("--theme", choices=("light", "dark"), default="light")
    render.set_defaults(handler=command_render)


def parse_size(text: str) -> tuple[int, int]:
    """``"1200x800"`` -> (1200, 800), each side in [200, 8000]."""
    width, sep, height = text.lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        raise UsageError(f"--size: expected WxH in pixels, e.g. 1200x800, got {text!r}") from None
    if not sep or not all(200 <= side <= 8000 for side in size):
        raise UsageError(f"--size: each side must be between 200 and 8000, got {text!r}")
    return size


def _scenario_race(args: argparse.Namespace):
    """(surface, racers, start, steps, title) from ``--scenario`` and the options given."""
    from engine.files import scenario
    from engine.landscape.race import Racer

    loaded = None
    if args.scenario is not None:
        try:
            loaded = scenario.load(args.scenario)
        except scenario.ScenarioError as error:
            raise UsageError(f"--scenario: {error}") from None
    if args.surface is not None:
        surface = load_surface(args.surface, parse_assignments(args.param, "--param"))
    elif loaded is not None:
        if args.param:
            raise UsageError("--param: give --surface too, or edit the scenario's surface_params")
        surface = loaded.surface()
    else:
        raise UsageError("--surface: required without --scenario")
    if args.optimizers is not None or loaded is None:
        ids = [i.strip() for i in (args.optimizers or DEFAULT_OPTIMIZERS).split(",") if i.strip()]
        if not ids:
            raise UsageError("--optimizers: name at least one optimizer id")
        if len(ids) > limits.MAX_RACERS:  # as many as the race tab takes
            raise UsageError(f"--optimizers: at most {limits.MAX_RACERS} racers, got {len(ids)}")
        for optimizer_id in ids:
            load_optimizer(optimizer_id, {}, id_option="--optimizers")
        racers = [Racer(f"{i}-{n}", i) for n, i in enumerate(ids, 1)]
    else:
        racers = list(loaded.racers)
    if args.start is not None:
        start = parse_start(args.start)
    elif loaded is not None and args.surface is None:
        start = loaded.start
    else:
        start = surface.start
    steps = args.steps if args.steps is not None else (
        loaded.steps if loaded else limits.RUN_STEPS.default)
    title = loaded.title if loaded is not None else ""
    return surface, racers, start, steps, title


def command_render(args: argparse.Namespace, out: Any) -> None:
    surface, racers, start, steps, title = _scenario_race(args)
    args.steps = option(limits.STEPS, steps)
    size = parse_size(args.size)
    target = Path(args.out)
    if target.suffix.lower() != ".png":
        raise UsageError(f"--out: the file must end in .png, got {args.out!r}")
    if not target.parent.is_dir():
        raise UsageError(f"--out: no such folder {str(target.parent)!r}")
    if args.view == "2d" or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    image = _render(surface, racers, start, args.steps, size, args.view, args.theme, title)
    _save_atomically(image, target)
    out.write(f"wrote {target} ({size[0]}x{size[1]}, {args.view}, step {args.steps})\n")


def _render(surface, racers, start, steps, size, view_kind, theme_name, title=""):
    from PySide6.QtWidgets import QApplication

    from engine.landscape import status as status_words
    from engine.landscape.race import Race
    from gui.figure import Caption, band_heights, compose
    from gui.landscape.surface_view import SurfaceView, TrailData
    from gui.landscape.view3d import Surface3DView, opengl_available
    from gui.palette import THEMES, style_for

    app = QApplication.instance() or QApplication(["optiscope-render"])
    if view_kind == "3d":
        available, reason = opengl_available()
        if not available:
            raise UsageError(f"--view 3d: no OpenGL here ({reason}); use --view 2d")
    theme = THEMES[theme_name]
    race = Race(surface, start, steps)
    styles = {}
    for racer in racers:
        styles[racer.key] = style_for(racer.optimizer_id, styles.values())
        race.set_racer(racer)
    colors = {key: style.color for key, style in styles.items()}
    progress = Progress(f"race of {len(racers)} optimizer(s), {steps} steps")
    while not race.complete and race.compute_ahead(2000) is False:
        progress(min(t.computed for t in race.tracks.values()) / max(steps, 1))
    progress.finish()
    final_height = size[1]
    labels = race.labels()
    entries = []
    for key, track in race.tracks.items():
        status, stop = track.status_at(steps)
        entries.append((styles[key], f"{labels[key]}: {status_words.phrase(status, stop, steps)}"))
    caption = Caption(f"{title} — {surface.name}" if title else
                      f"{surface.name}: {surface.formula}", f"step {steps}", tuple(entries))
    if view_kind == "3d":
        widget = Surface3DView(theme=theme)
        widget.set_surface(surface)
        widget.set_trails([(k, t.points(steps), colors[k]) for k, t in race.tracks.items()])
    else:
        widget = SurfaceView(theme=theme)
        widget.set_surface(surface)
        widget.set_start(*race.start)
        widget.set_trails([TrailData(key, track.points(steps), styles[key],
                                     track.status_at(steps)[0])
                           for key, track in race.tracks.items()])
    top, bottom = band_heights(caption, size[0])
    size = (size[0], max(100, round(size[1] - top - bottom)))  # the picture keeps --size
    widget.resize(*size)
    if view_kind != "3d":  # laid out and painted, but never given a platform window
        from PySide6.QtCore import Qt

        widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    widget.show()
    for _ in range(8):  # axis widths settle after a paint or two (colour bar labels)
        app.processEvents()
    image = compose(widget.grab().toImage(), caption, theme, height=final_height)
    if view_kind == "3d":
        widget.close_gl()
    widget.close()
    widget.deleteLater()
    app.processEvents()
    return image


def _save_atomically(image, target: Path) -> None:
    """Never half a file: a temporary PNG beside ``target`` replaces it when complete."""
    with atomic.replacing(target, suffix=".png") as temporary:
        if not image.save(temporary, "PNG"):
            raise UsageError(f"--out: could not write {str(target)!r}")
