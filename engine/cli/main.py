"""Headless command-line commands: catalogs and trajectories, without Qt or TensorFlow.

Every refusal raises :class:`UsageError` with one line that names the field; ``main.py``
prints it on stderr and exits with status 2 (so does any value the engine refuses, a
:class:`engine.params.ParamError`). Ctrl+C stops a command with status 130. Output JSON is
strict (no NaN/Infinity) and floats are printed with ``repr`` precision, so they round-trip
exactly. Limits and defaults come from the parameter descriptions
(:mod:`engine.landscape.limits`).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from engine import optimizers
from engine.cli.progress import Progress
from engine.landscape import limits, simulate, status, surfaces
from engine.landscape.expressions import ExpressionError
from engine.params import HyperParamError, Param, ParamError

MAX_TRAJECTORY_STEPS = limits.RUN_STEPS.high
PROGRESS_CHUNK = 2000  #: steps computed between progress reports


class UsageError(Exception):
    """Bad input from the command line: one line, exit status 2."""


def option(param: Param, value: Any, name: str | None = None) -> Any:
    """``value`` checked by ``param``; a refusal names the option (``--batch-size``)."""
    flag = name or "--" + param.name.replace("_", "-")
    try:
        return param.validate(value, flag)
    except ParamError as error:
        raise UsageError(str(error)) from None


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line on stderr with exit status 2."""

    def error(self, message: str) -> None:  # noqa: D102 - argparse hook
        raise UsageError(message)


def parse_start(text: str) -> tuple[float, float]:
    """``"X,Y"`` -> two finite floats; :class:`UsageError` naming ``--start`` otherwise."""
    parts = text.split(",")
    if len(parts) != 2:
        raise UsageError(f"--start: expected X,Y (e.g. --start=-1.5,2), got {text!r}")
    try:
        x, y = (float(p) for p in parts)
    except ValueError:
        raise UsageError(f"--start: expected two numbers X,Y, got {text!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise UsageError(f"--start: coordinates must be finite numbers, got {text!r}")
    return x, y


def parse_assignments(items: Sequence[str], option: str) -> dict[str, str]:
    """``["name=value", ...]`` -> dict; :class:`UsageError` naming ``option`` if malformed."""
    result: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"{option}: expected NAME=VALUE, got {item!r}")
        result[name] = value.strip()
    return result


def load_surface(surface_id: str, params: dict[str, str] | None = None) -> surfaces.Surface:
    """The surface for ``--surface`` (an id or ``expr:...``), with ``--param`` values."""
    try:
        if surface_id.startswith("expr:"):
            if params:
                raise UsageError("--param: custom expressions take no parameters")
            return surfaces.from_expression(surface_id[len("expr:"):])
        converted: dict[str, float] = {}
        for name, value in (params or {}).items():
            try:
                converted[name] = float(value)
            except ValueError:
                raise UsageError(f"--param {name}: expected a number, got {value!r}") from None
        return surfaces.get(surface_id, **converted)
    except ExpressionError as error:
        raise UsageError(f"--surface: {error}") from None
    except ValueError as error:
        raise UsageError(f"--surface: {error}") from None


def load_optimizer(optimizer_id: str, settings: dict[str, str], set_prefix: str = "--set ",
                   id_option: str = "--optimizer") -> optimizers.Optimizer:
    """The optimizer for ``--optimizer`` with ``--set`` values, validated by the registry.

    Commands naming several optimizers pass ``set_prefix="--set ID."`` and
    ``id_option="--optimizers"`` so the message names the option the user wrote.
    """
    try:
        return optimizers.get(optimizer_id, **settings)
    except HyperParamError as error:
        raise UsageError(f"{set_prefix}{error}") from None
    except optimizers.UnknownOptimizerError as error:
        raise UsageError(f"{id_option}: {error}") from None


def surfaces_json() -> list[dict[str, Any]]:
    """The surface catalog as plain data."""
    rows = []
    for surface in surfaces.catalog():
        rows.append({
            "id": surface.id,
            "name": surface.name,
            "formula": surface.formula,
            "domain": list(surface.domain),
            "minima": [
                {"point": list(m.point), "value": m.value, "kind": m.kind} for m in surface.minima
            ],
            "start": list(surface.start),
            "lesson": surface.lesson,
            "log_scale": surface.log_scale,
            "parameters": [p.to_json() for p in surfaces.PARAMETERS.get(surface.id, ())],
        })
    return rows


def command_surfaces(args: argparse.Namespace, out: io.TextIOBase) -> None:
    if args.json:
        out.write(json.dumps(surfaces_json(), indent=2, allow_nan=False) + "\n")
        return
    for surface in surfaces.catalog():
        out.write(f"{surface.id:<18} {surface.name:<22} {surface.formula}\n")


def command_optimizers(args: argparse.Namespace, out: io.TextIOBase) -> None:
    specs = optimizers.catalog()
    if args.json:
        out.write(json.dumps([s.to_json() for s in specs], indent=2, allow_nan=False) + "\n")
        return
    for spec in specs:
        params = ", ".join(
            f"{h.name}={h.default}" for h in spec.hyperparams if not h.advanced
        )
        out.write(f"{spec.id:<10} keras.optimizers.{spec.keras_class:<9} {params}\n")


def trajectory_data(
    surface: surfaces.Surface, optimizer: optimizers.Optimizer, start: tuple[float, float],
    steps: int, progress: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Run one trajectory and return it as strict-JSON-ready data (``progress`` is called
    with the fraction done between chunks of steps)."""
    stepper = simulate.Stepper(surface, optimizer, np.array([start]), steps, keep_path=True)
    while not stepper.complete and stepper.advance(PROGRESS_CHUNK):
        if progress is not None:
            progress(stepper.step / max(steps, 1))
    stepper.advance()  # paths that stopped early: the rest of the budget in one call
    result = stepper.result()
    outcome = result.status_name(0)
    stop = int(result.stop_step[0]) if outcome != "not_converged" else None
    minimum_index = int(result.minimum_index[0])
    minimum = None
    if minimum_index >= 0:
        found = surface.minima[minimum_index]
        minimum = {"index": minimum_index, "point": list(found.point), "value": found.value}
    return {
        "surface": surface.id,
        "optimizer": optimizer.id,
        "keras_class": f"keras.optimizers.{optimizer.spec.keras_class}",
        "config": dict(optimizer.config),
        "start": [float(start[0]), float(start[1])],
        "steps": steps,
        "status": outcome,
        "stop_step": stop,
        "status_text": status.phrase(outcome, stop, steps,
                                     at_known_minimum=minimum is not None if surface.minima
                                     else None),
        "points": result.path(0).tolist(),
        "losses": result.path_losses(0).tolist(),
        "grad_norms": result.grad_norms[: result.last_index(0) + 1, 0].tolist(),
        "final_point": result.final_point[0].tolist(),
        "final_loss": float(result.final_loss[0]),
        "minimum": minimum,
    }


def command_trajectory(args: argparse.Namespace, out: io.TextIOBase) -> None:
    surface = load_surface(args.surface, parse_assignments(args.param, "--param"))
    optimizer = load_optimizer(args.optimizer, parse_assignments(args.set, "--set"))
    start = parse_start(args.start) if args.start is not None else surface.start
    steps = option(limits.RUN_STEPS, args.steps)
    with np.errstate(all="ignore"):
        start_value = float(surface.value(np.array(start)))
    if not math.isfinite(start_value):
        raise UsageError(f"--start: the surface is not defined at ({start[0]:g}, {start[1]:g})")
    progress = Progress(f"trajectory of {steps} steps")
    data = trajectory_data(surface, optimizer, start, steps, progress)
    progress.finish()
    if args.json:
        out.write(json.dumps(data, allow_nan=False) + "\n")
    elif args.csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["step", "x", "y", "loss", "grad_norm"])
        for k, ((x, y), loss, norm) in enumerate(
            zip(data["points"], data["losses"], data["grad_norms"], strict=True)
        ):
            writer.writerow([k, repr(x), repr(y), repr(loss), repr(norm)])
    else:
        verdict = data["status_text"]
        fx, fy = data["final_point"]
        out.write(
            f"{optimizer.spec.name} on {surface.name} from ({start[0]:g}, {start[1]:g}): "
            f"{verdict}; final point ({fx:.6g}, {fy:.6g}), loss {data['final_loss']:.6g}\n"
        )


def build_parser(extensions: Sequence[Callable[[Any], None]] = ()) -> ArgumentParser:
    """The ``main.py`` argument parser with every headless subcommand.

    ``extensions`` are called with the subcommand registry, so ``gui`` can add commands
    (``render``) without the engine importing it.
    """
    parser = ArgumentParser(
        prog="optiscope",
        description="Optiscope: deep-learning optimizers, made visible. Without a command, "
        "opens the app window.",
        epilog="Negative coordinates need '=': --start=-1.5,2",
    )
    parser.add_argument("--self-test", action="store_true",
                        help="open the window, race, train one epoch on bundled data, export, "
                        "close; exit 0 when all of it worked")
    parser.add_argument("--scenario", metavar="FILE",
                        help="open the app with this scenario (.json, see resources/presets)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)

    listing = commands.add_parser("surfaces", help="list the built-in loss surfaces")
    listing.add_argument("--json", action="store_true", help="print the catalog as JSON")
    listing.set_defaults(handler=command_surfaces)

    listing = commands.add_parser("optimizers", help="list the optimizers and hyperparameters")
    listing.add_argument("--json", action="store_true", help="print the registry as JSON")
    listing.set_defaults(handler=command_optimizers)

    trajectory = commands.add_parser(
        "trajectory", help="run one optimizer from one start and print its path",
        epilog="Example: trajectory --surface rosenbrock --optimizer adam "
        "--set learning_rate=0.01 --start=-1.5,2 --steps 500 --json",
    )
    trajectory.add_argument("--surface", required=True,
                            help="surface id (see 'surfaces') or expr:f(x, y)")
    trajectory.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                            help="surface parameter, e.g. condition_number=100 (repeatable)")
    trajectory.add_argument("--optimizer", required=True, help="optimizer id (see 'optimizers')")
    trajectory.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                            help="Keras argument, e.g. learning_rate=0.01 (repeatable)")
    trajectory.add_argument("--start", metavar="X,Y",
                            help="start point; write --start=-1.5,2 for negative numbers "
                            "(default: the surface's start)")
    steps = limits.RUN_STEPS
    trajectory.add_argument("--steps", type=int, default=steps.default,
                            help=f"step budget, {steps.range_text()} (default {steps.default})")
    formats = trajectory.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="print the path as JSON")
    formats.add_argument("--csv", action="store_true", help="print the path as CSV")
    trajectory.set_defaults(handler=command_trajectory)
    for extend in extensions:
        extend(commands)
    return parser


def run_parsed(args: argparse.Namespace, out: io.TextIOBase | None = None) -> int:
    """Run the handler of parsed ``args``; return the exit status: 2 for bad input (a
    :class:`UsageError`, or any value the engine refuses), 130 after Ctrl+C, else what the
    handler returns (``None`` is 0)."""
    try:
        status = args.handler(args, out or sys.stdout)
    except (UsageError, ParamError) as error:
        sys.stderr.write(f"optiscope: error: {_one_line(error)}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("\noptiscope: stopped by Ctrl+C\n")
        return 130
    return int(status or 0)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def run_command(argv: Sequence[str], out: io.TextIOBase | None = None) -> int:
    """Parse ``argv`` and run a headless command; return the exit status (2 for bad input)."""
    try:
        args = build_parser().parse_args(list(argv))
    except UsageError as error:
        sys.stderr.write(f"optiscope: error: {error}\n")
        return 2
    return run_parsed(args, out)
