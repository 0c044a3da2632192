"""``main.py map`` and ``main.py sweep``: start maps, hyperparameter maps and learning-rate
sweeps from the command line, without Qt or TensorFlow.

Every argument is checked before any computing: bad input exits with status 2 and one line
on stderr naming the field. ``map`` writes ``.npz`` (arrays plus a JSON ``meta`` string)
or ``.png`` (drawn by the GUI's Maps view, offscreen) atomically; ``sweep`` prints text, strict JSON or CSV.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine import optimizers
from engine.cli.main import (
    UsageError,
    load_optimizer,
    load_surface,
    parse_assignments,
    parse_start,
)
from engine.cli.main import (
    option as checked_option,
)
from engine.cli.progress import Progress
from engine.cli.train import parse_settings
from engine.files import atomic
from engine.landscape import limits, maps, simulate, status
from engine.params import HyperParamError

MAX_MAP_STEPS = limits.RUN_STEPS.high
DEFAULT_SWEEP = "sgd,momentum,adam"
SUFFIXES = (".npz", ".png")


def add_maps_commands(commands: Any, png_writer: PngWriter | None = None) -> None:
    """Register ``map`` and ``sweep`` on the ``main.py`` subcommand registry."""
    mapping = commands.add_parser(
        "map", help="map steps to converge over start points, or over two hyperparameters",
        epilog="Examples: map --surface himmelblau --optimizer adam --set learning_rate=0.05 "
        "--grid 256 --out starts.npz;  map --surface rosenbrock --optimizer momentum --over "
        "learning_rate,momentum --x-range 1e-4:1e-2:41:log --start=-1.5,2 --out lr_mu.png",
    )
    _surface_options(mapping)
    mapping.add_argument("--optimizer", required=True, help="optimizer id (see 'optimizers')")
    mapping.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                         help="Keras argument shared by every cell (repeatable)")
    mapping.add_argument("--grid", type=int, default=limits.GRID.default,
                         help=f"cells per axis, {limits.GRID.range_text()} "
                         f"(default {limits.GRID.default})")
    _steps_option(mapping)
    mapping.add_argument("--domain", metavar="X0,X1,Y0,Y1",
                         help="start map: the region of starts (default: the surface's view)")
    mapping.add_argument("--over", metavar="NAME,NAME",
                         help="hyperparameter map: the x and y hyperparameters")
    for axis in ("x", "y"):
        mapping.add_argument(f"--{axis}-range", metavar="LOW:HIGH[:COUNT[:log|lin]]",
                             help=f"with --over: the {axis} values (default: the registry "
                             "range, --grid values, log where the registry says so)")
    mapping.add_argument("--start", metavar="X,Y", help="with --over: the start of every cell; "
                         "write --start=-1.5,2 for negative numbers (default: the surface's)")
    mapping.add_argument("--out", required=True, metavar="FILE.npz|FILE.png",
                         help="arrays and JSON metadata (.npz), or a picture (.png)")
    mapping.set_defaults(handler=command_map, png_writer=png_writer)

    sweep = commands.add_parser(
        "sweep", help="sweep the learning rate of several optimizers and pick each one's best",
        epilog=f"Tuned rate: {maps.CRITERION}. Example: sweep --surface rosenbrock "
        "--optimizers sgd,adam --start=-1.5,2 --steps 500 --range 1e-4:10:41 --json",
    )
    _surface_options(sweep)
    sweep.add_argument("--optimizers", default=DEFAULT_SWEEP, metavar="ID,ID,...",
                       help=f"registry ids (default {DEFAULT_SWEEP})")
    sweep.add_argument("--set", action="append", default=[], metavar="ID.NAME=VALUE",
                       help="another Keras argument of one optimizer, e.g. momentum.momentum=0.5")
    sweep.add_argument("--start", metavar="X,Y", help="start point; write --start=-1.5,2 for "
                       "negative numbers (default: the surface's)")
    _steps_option(sweep)
    sweep.add_argument("--range", default="1e-4:10:41", metavar="LOW:HIGH[:COUNT]",
                       help="log-spaced learning rates (default 1e-4:10:41)")
    formats = sweep.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="print strict JSON")
    formats.add_argument("--csv", action="store_true", help="print CSV, one row per rate")
    sweep.set_defaults(handler=command_sweep)

    compiled = commands.add_parser(
        "kernels", help="say whether maps run in compiled kernels, and compile them ahead",
        epilog="The kernels compile on first use and are cached per user; --warm-up compiles "
        "the common ones now (e.g. after installing, or to check a packaged app offline).")
    compiled.add_argument("--warm-up", action="store_true",
                          help="compile (or load) the kernels of the common optimizers now")
    compiled.add_argument("--json", action="store_true", help="print strict JSON")
    compiled.set_defaults(handler=command_kernels)


def _surface_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--surface", required=True,
                        help="surface id (see 'surfaces') or expr:f(x, y)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="surface parameter, e.g. condition_number=100 (repeatable)")


def _steps_option(parser: argparse.ArgumentParser) -> None:
    steps = limits.RUN_STEPS
    parser.add_argument("--steps", type=int, default=steps.default,
                        help=f"step budget, {steps.range_text()} (default {steps.default})")


def _steps(steps: int) -> int:
    return checked_option(limits.RUN_STEPS, steps)


def _start(args: argparse.Namespace, surface: Any) -> tuple[float, float]:
    start = parse_start(args.start) if args.start is not None else surface.start
    with np.errstate(all="ignore"):
        defined = math.isfinite(float(surface.value(np.array(start, dtype=np.float64))))
    if not defined:
        raise UsageError(f"--start: the surface is not defined at ({start[0]:g}, {start[1]:g})")
    return start


def out_target(path: str, png_writer: PngWriter | None = None) -> Path:
    """The ``--out`` file: a known suffix, a writable folder, a writer for ``.png``."""
    target = Path(path)
    if target.suffix.lower() not in SUFFIXES:
        raise UsageError(f"--out: expected a .npz or .png file name, got {path!r}")
    if target.is_dir():
        raise UsageError(f"--out: {path!r} is a folder, expected a file name")
    if not target.parent.is_dir():
        raise UsageError(f"--out: no such folder {str(target.parent)!r}")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise UsageError(f"--out: cannot write to the folder {str(target.parent)!r}")
    if target.suffix.lower() == ".png" and png_writer is None:
        raise UsageError("--out: PNG needs the app's drawing code (run main.py) — or write .npz")
    return target


def parse_range(text: str, option: str, count: int, log: bool) -> tuple[float, float, int, bool]:
    """``LOW:HIGH[:COUNT[:log|lin]]`` -> (low, high, count, log), defaults for what is left out."""
    parts = [part.strip() for part in text.split(":")]
    if not 2 <= len(parts) <= 4:
        raise UsageError(f"{option}: expected LOW:HIGH[:COUNT[:log|lin]], got {text!r}")
    try:
        low, high = float(parts[0]), float(parts[1])
        count = int(parts[2]) if len(parts) > 2 else count
    except ValueError:
        raise UsageError(f"{option}: expected numbers LOW:HIGH[:COUNT], got {text!r}") from None
    if len(parts) == 4:
        if parts[3].lower() not in ("log", "lin"):
            raise UsageError(f"{option}: the scale must be log or lin, got {parts[3]!r}")
        log = parts[3].lower() == "log"
    return low, high, count, log


def default_axis(spec: optimizers.OptimizerSpec, name: str, count: int) -> maps.Axis:
    """The registry range of ``name`` as an axis, its open ends moved just inside."""
    h = spec.param(name)
    low = h.low if h.low is not None else 0.0
    high = h.high if h.high is not None else 1.0
    if h.log:
        low, high = max(low, 1e-5), min(high, 10.0)
    else:
        high = high - 0.01 * (high - low) if h.high_open else high
        low = low + 0.01 * (high - low) if h.low_open else low
    return maps.Axis(name, low, high, count, h.log)


def _axes(args: argparse.Namespace, spec: optimizers.OptimizerSpec,
          settings: dict[str, str]) -> tuple[maps.Axis, maps.Axis]:
    names = [part.strip() for part in args.over.split(",")]
    if len(names) != 2 or not all(names) or names[0] == names[1]:
        raise UsageError(f"--over: expected two different hyperparameters NAME,NAME, "
                         f"got {args.over!r}")
    axes = []
    for name, text, option in zip(names, (args.x_range, args.y_range),
                                  ("--x-range", "--y-range"), strict=True):
        try:
            h = spec.param(name)
        except HyperParamError as error:
            raise UsageError(f"--over: {error}") from None
        if h.kind == "bool":
            raise UsageError(f"--over: {name}: is true or false, not a number")
        if name in settings:
            raise UsageError(f"--set {name}: is mapped by --over; leave it out of --set")
        try:
            axis = default_axis(spec, name, args.grid)
            if text is not None:
                axis = maps.Axis(name, *parse_range(text, option, args.grid, h.log))
            maps.batched_optimizer(spec.id, {name: axis.values()})
        except (ValueError, HyperParamError) as error:
            raise UsageError(f"{option}: {error}") from None
        axes.append(axis)
    return axes[0], axes[1]


def _domain(text: str) -> tuple[float, float, float, float]:
    try:
        x0, x1, y0, y1 = (float(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--domain: expected X0,X1,Y0,Y1, got {text!r}") from None
    if not all(map(math.isfinite, (x0, x1, y0, y1))) or x0 >= x1 or y0 >= y1:
        raise UsageError(f"--domain: need finite X0 < X1 and Y0 < Y1, got {text!r}")
    return x0, x1, y0, y1


def _json_config(config: Any) -> dict[str, Any]:
    return {k: (v if isinstance(v, (bool, type(None))) else float(v)) for k, v in config.items()}


def _axis_json(axis: maps.Axis) -> dict[str, Any]:
    return {"name": axis.name, "low": float(axis.low), "high": float(axis.high),
            "count": int(axis.count), "log": bool(axis.log)}


def map_meta(result: maps.StartMap | maps.HyperMap, surface: Any) -> dict[str, Any]:
    """What a map file says about itself (strict-JSON-ready)."""
    counts = np.bincount(result.status.ravel(), minlength=len(simulate.STATUS_NAMES))
    meta: dict[str, Any] = {
        "surface": surface.id, "surface_params": dict(surface.params),
        "optimizer": result.optimizer_id, "steps": result.steps,
        "status_names": list(simulate.STATUS_NAMES),
        "counts": {name: int(n) for name, n in zip(simulate.STATUS_NAMES, counts, strict=True)},
        "tolerances": dataclasses.asdict(simulate.Tolerances()),
    }
    if isinstance(result, maps.HyperMap):
        meta.update(kind="hyper_map", base_config=_json_config(result.base_config),
                    start=list(result.start), x=_axis_json(result.x), y=_axis_json(result.y))
    else:
        meta.update(kind="start_map", config=_json_config(result.config),
                    domain=[float(v) for v in (result.xs[0], result.xs[-1], result.ys[0],
                                               result.ys[-1])])
    return meta


def write_npz(target: Path, result: maps.StartMap | maps.HyperMap, meta: dict[str, Any]) -> None:
    """The map's arrays and ``meta`` (a JSON string: ``json.loads(data["meta"].item())``)."""
    arrays = {name: getattr(result, name) for name in (
        "steps_to_converge", "final_loss", "minimum_index", "status", "xs", "ys")}
    with atomic.replacing(target, suffix=".npz") as temporary, open(temporary, "wb") as stream:
        np.savez_compressed(stream, meta=np.array(json.dumps(meta, allow_nan=False)), **arrays)


#: Draws a map to PNG: ``(target, result, surface, meta)``. The GUI's drawing code provides
#: it (main.py passes it to :func:`add_maps_commands`), so a PNG looks as the Maps view does.
PngWriter = Callable[[Path, Any, Any, dict], None]


def command_map(args: argparse.Namespace, out: Any) -> None:
    """``map``: a start map, or with ``--over`` a hyperparameter map, written to ``--out``."""
    surface = load_surface(args.surface, parse_assignments(args.param, "--param"))
    settings = parse_assignments(args.set, "--set")
    checked_option(limits.GRID, args.grid)
    steps, target = _steps(args.steps), out_target(args.out, args.png_writer)
    progress = Progress(f"{args.grid}×{args.grid} map, {steps} steps")
    if args.over is None:
        for option, value in (("--x-range", args.x_range), ("--y-range", args.y_range),
                              ("--start", args.start)):
            if value is not None:
                raise UsageError(f"{option}: only for hyperparameter maps (--over)")
        optimizer = load_optimizer(args.optimizer, settings)
        domain = _domain(args.domain) if args.domain is not None else None
        result = maps.start_map(surface, optimizer, grid=args.grid, steps=steps, domain=domain,
                                progress=progress)
    else:
        if args.domain is not None:
            raise UsageError("--domain: only for start maps (without --over)")
        spec = load_optimizer(args.optimizer, settings).spec
        x, y = _axes(args, spec, settings)
        start = _start(args, surface)
        try:
            result = maps.hyper_map(surface, spec.id, x, y, start, steps=steps,
                                    base_settings=settings, progress=progress)
        except HyperParamError as error:  # e.g. two clipping options at once
            raise UsageError(f"--over {error}") from None
    progress.finish()
    meta = map_meta(result, surface)
    try:
        if target.suffix.lower() == ".png":
            args.png_writer(target, result, surface, meta)
        else:
            write_npz(target, result, meta)
    except OSError as error:
        raise UsageError(f"--out: cannot write {str(target)!r} ({error})") from None
    counts = meta["counts"]
    ny, nx = result.status.shape
    tally = ", ".join(f"{counts[name]} {status.WORDS[name]}" for name in simulate.STATUS_NAMES
                      if counts[name] or name in ("converged", "not_converged"))
    out.write(f"wrote {target}: {nx}×{ny} {meta['kind'].replace('_', ' ')}, {steps} steps: "
              f"{tally}\n")


def sweep_data(surface: Any, sweeps: Sequence[maps.Sweep], start: tuple[float, float],
               steps: int, configs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The sweeps as strict-JSON-ready data."""
    rates = sweeps[0].learning_rates.tolist() if sweeps else []
    return {
        "surface": surface.id, "surface_params": dict(surface.params),
        "start": [float(start[0]), float(start[1])], "steps": steps, "learning_rates": rates,
        "criterion": maps.CRITERION,
        "sweeps": [{
            "optimizer": s.optimizer_id,
            "config": configs[s.optimizer_id],
            "tuned_learning_rate": s.tuned_learning_rate,
            "status": [simulate.STATUS_NAMES[int(v)] for v in s.status],
            "final_loss": s.final_loss.tolist(),
            "steps_to_converge": [int(v) if v >= 0 else None for v in s.steps_to_converge],
        } for s in sweeps],
    }


def command_sweep(args: argparse.Namespace, out: Any) -> None:
    """``sweep``: each optimizer over a range of learning rates, with its tuned rate."""
    surface = load_surface(args.surface, parse_assignments(args.param, "--param"))
    ids = [part.strip() for part in args.optimizers.split(",") if part.strip()]
    if not ids or len(set(ids)) < len(ids):
        raise UsageError(f"--optimizers: name each optimizer id once, got {args.optimizers!r}")
    settings = parse_settings(args.set, ids)
    configs = {}
    for optimizer_id in ids:
        if "learning_rate" in settings[optimizer_id]:
            raise UsageError(f"--set {optimizer_id}.learning_rate: is swept by --range")
        optimizer = load_optimizer(optimizer_id, settings[optimizer_id],
                                   set_prefix=f"--set {optimizer_id}.", id_option="--optimizers")
        configs[optimizer_id] = _json_config(
            {k: v for k, v in optimizer.config.items() if k != "learning_rate"})
    if args.range.count(":") > 2:
        raise UsageError(f"--range: expected LOW:HIGH[:COUNT] (always log-spaced), "
                         f"got {args.range!r}")
    low, high, count, _ = parse_range(args.range, "--range", limits.SWEEP_RATES.default, True)
    checked_option(limits.SWEEP_RATES, count, "--range COUNT")
    try:
        rates = maps.Axis("learning_rate", low, high, count, log=True).values()
        for optimizer_id in ids:
            maps.batched_optimizer(optimizer_id, {"learning_rate": rates})
    except (ValueError, HyperParamError) as error:
        raise UsageError(f"--range: {error}") from None
    steps, start = _steps(args.steps), _start(args, surface)
    progress = Progress(f"sweep of {len(ids)} optimizer(s) over {count} rates, {steps} steps")
    sweeps = maps.lr_sweep(surface, ids, start, steps=steps, low=low, high=high, count=count,
                           base_settings=settings, progress=progress)
    progress.finish()
    data = sweep_data(surface, sweeps, start, steps, configs)
    if args.json:
        out.write(json.dumps(data, allow_nan=False) + "\n")
    elif args.csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["optimizer", "learning_rate", "status", "final_loss",
                         "steps_to_converge", "tuned"])
        for s in sweeps:
            for rate, status, loss, to_converge in zip(s.learning_rates, s.status, s.final_loss,
                                                       s.steps_to_converge, strict=True):
                writer.writerow([s.optimizer_id, repr(float(rate)),
                                 simulate.STATUS_NAMES[int(status)], repr(float(loss)),
                                 int(to_converge) if to_converge >= 0 else "",
                                 float(rate) == s.tuned_learning_rate])
    else:
        out.write(f"{count} learning rates from {low:g} to {high:g} on {surface.name} from "
                  f"({start[0]:g}, {start[1]:g}), {steps} steps\n")
        for s in sweeps:
            diverged = int(np.count_nonzero(s.status == simulate.DIVERGED))
            if s.tuned_learning_rate is None:
                verdict = "no tuned rate: every rate diverged"
            else:
                i = int(np.flatnonzero(s.learning_rates == s.tuned_learning_rate)[0])
                reached = (f"converged in {s.steps_to_converge[i]} steps"
                           if s.steps_to_converge[i] >= 0 else "still running")
                verdict = (f"tuned learning rate {s.tuned_learning_rate:.6g} ({reached}, "
                           f"final loss {s.final_loss[i]:.6g})")
            out.write(f"{s.optimizer_id:<10} {verdict}; {diverged} of {count} rates diverged\n")
        out.write(f"tuned: {maps.CRITERION}\n")


def command_kernels(args: argparse.Namespace, out: Any) -> None:
    """Report on the compiled kernels; with ``--warm-up`` compile the common ones."""
    from engine.landscape import kernels
    from engine.landscape.kernels import cache

    report: dict[str, Any] = {"available": kernels.available(), "reason": kernels.reason()}
    if report["available"]:
        import llvmlite
        import numba

        report |= {"numba": numba.__version__, "llvmlite": llvmlite.__version__,
                   "cache": str(cache.folder())}
        if args.warm_up:
            report["compiled"] = kernels.warm_up()
    if args.json:
        out.write(json.dumps(report, indent=2, allow_nan=False) + "\n")
        return
    if not report["available"]:
        out.write(f"compiled kernels: not available ({report['reason']}); maps use NumPy\n")
        return
    out.write(f"compiled kernels: available (numba {report['numba']}, llvmlite "
              f"{report['llvmlite']}), cached in {report['cache']}\n")
    for entry in report.get("compiled", []):
        how = "loaded from the cache" if entry["cached"] else "compiled"
        out.write(f"  {entry['name']}: {how} in {entry['seconds']:.2f} s\n")
