"""``main.py landscape``: train the MNIST model (lockstep) and draw every optimizer's path on
one plane through weight space, over the network's loss on that plane.

Arguments as ``train`` takes them, plus ``--samples`` (training images the loss is measured
on), ``--plane`` and ``--grid``; all are checked before TensorFlow is imported, so bad
input exits with status 2 and one line on stderr. ``--out FILE.npz`` writes the arrays
(:data:`NPZ_KEYS` and more, see :func:`npz_arrays`); ``--out FILE.png`` a labelled picture,
drawn by the app's view (``main.py`` passes its writer in).
"""

from __future__ import annotations

import argparse
import io
import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from engine.cli.main import UsageError
from engine.cli.train import _ctrl_c_cancels, _PrintReporter, build_config, exit_status
from engine.files import atomic
from engine.mnist import datasets
from engine.mnist import network_landscape as nl
from engine.mnist.config import fit_samples
from engine.params import ParamError

#: The keys issue #14 asks the ``.npz`` for; :func:`npz_arrays` writes these and more.
NPZ_KEYS = ("alpha", "beta", "loss", "optimizers", "paths", "path_loss", "path_off_plane",
            "explained_variance")
SUFFIXES = (".npz", ".png")
PngWriter = Callable[[nl.NetworkLandscape, Path], None]


def add_landscape_command(commands: Any, write_png: PngWriter | None = None) -> None:
    """Register ``landscape``; ``write_png(landscape, path)`` draws ``.png`` files (the
    app's view, passed in by ``main.py``: the engine never imports the GUI)."""
    parser = commands.add_parser(
        "landscape", help="train the MNIST model and draw every optimizer's path on the "
        "network's loss surface (a plane through weight space)",
        epilog="Example: landscape --optimizers sgd,adam --epochs 3 --plane pca --out path.png",
    )
    parser.add_argument("--optimizers", required=True, metavar="ID,ID,...",
                        help="registry ids, trained together batch by batch")
    parser.add_argument("--set", action="append", default=[], metavar="ID.NAME=VALUE",
                        help="Keras argument of one optimizer, e.g. adam.learning_rate=0.01")
    parser.add_argument("--epochs", type=int, default=5, help="epochs (default 5)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size (default 32)")
    parser.add_argument("--validation-split", type=float, default=0.2,
                        help="fraction of the training data held out (default 0.2)")
    parser.add_argument("--dataset", default="auto", metavar="auto|bundled|PATH",
                        help="as for train (default auto)")
    parser.add_argument("--seed", type=int, default=0,
                        help="initial weights, batch order, random directions and walk")
    parser.add_argument("--limit", type=int, metavar="N",
                        help="train on the first N training samples only")
    parser.add_argument("--samples", type=int, default=nl.SAMPLES.default, metavar="N",
                        help=f"{nl.SAMPLES.doc} {nl.SAMPLES.range_text().capitalize()} "
                        f"(default {nl.SAMPLES.default:,})")
    parser.add_argument("--plane", choices=nl.PLANES, default="pca",
                        help="pca: first two principal directions of all paths; endpoints: "
                        "through the initial weights and the first two optimizers' final "
                        "weights; random: filter-normalized random directions around the "
                        "first optimizer's final weights (default pca)")
    parser.add_argument("--grid", type=int, default=nl.GRID.default, metavar="G",
                        help=f"{nl.GRID.doc} {nl.GRID.range_text().capitalize()} "
                        f"(default {nl.GRID.default})")
    parser.add_argument("--out", required=True, metavar="FILE.npz|FILE.png",
                        help="arrays (.npz) or a labelled picture (.png)")
    parser.set_defaults(handler=lambda args, out: command_landscape(args, out, write_png))


def out_target(path: str, write_png: PngWriter | None) -> Path:
    """The ``--out`` file: a known suffix in a writable folder."""
    target = Path(path)
    if target.suffix.lower() not in SUFFIXES:
        raise UsageError(f"--out: expected a .npz or .png file name, got {path!r}")
    if target.is_dir():
        raise UsageError(f"--out: {path!r} is a folder, expected a file name")
    if not target.parent.is_dir():
        raise UsageError(f"--out: no such folder {str(target.parent)!r}")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise UsageError(f"--out: cannot write to the folder {str(target.parent)!r}")
    if target.suffix.lower() == ".png" and write_png is None:
        raise UsageError("--out: PNG pictures are drawn by the app (run main.py); write .npz")
    return target


def check_arguments(args: argparse.Namespace, write_png: PngWriter | None):
    """(config, target) once every argument is valid; :class:`UsageError` (exit 2) if not."""
    config = build_config(args)
    for param, option in ((nl.GRID, "--grid"), (nl.SAMPLES, "--samples")):
        try:
            param.validate(getattr(args, param.name), field=option)
        except ParamError as error:
            raise UsageError(str(error)) from None
    if args.plane == "endpoints":
        entries = config.optimizers
        if len(entries) < 2:
            raise UsageError("--plane endpoints: needs two optimizers in --optimizers (the "
                             "plane runs through both final points)")
        if entries[0] == entries[1]:
            raise UsageError("--plane endpoints: the first two optimizers are the same, so "
                             "their paths coincide and span no plane; choose two different ones")
    return config, out_target(args.out, write_png)


def _label(entry) -> str:
    """The optimizer's name with the settings that differ from Keras's, as the app shows it."""
    from engine.landscape.race import Racer

    return Racer(entry.optimizer_id, entry.optimizer_id, entry.keras_settings(),
                 schedule=entry.schedule).label()


def npz_arrays(landscape: nl.NetworkLandscape) -> dict[str, np.ndarray]:
    """What ``--out FILE.npz`` holds: :data:`NPZ_KEYS`, and the surface's loss at each
    projected snapshot, each snapshot's batch, distance from the initial weights, how many
    snapshots each path has (a shorter path repeats its last row), the plane's kind and
    axis titles, the number of images, and the 1-D interpolation curves."""
    plane = landscape.plane
    variance = (np.array(plane.explained_variance) if plane.explained_variance is not None
                else np.full(2, np.nan))
    arrays = {
        "alpha": landscape.alpha, "beta": landscape.beta, "loss": landscape.loss,
        "optimizers": np.array(landscape.optimizer_ids),
        "paths": landscape.padded(landscape.paths),
        "path_loss": landscape.padded(landscape.path_loss),
        "path_off_plane": landscape.padded(landscape.off_plane),
        "explained_variance": variance,
        "path_surface_loss": landscape.padded(landscape.surface_loss),
        "path_batches": landscape.padded(landscape.batches),
        "path_from_start": landscape.padded(landscape.from_start),
        "path_count": landscape.counts(),
        "labels": np.array(landscape.labels),
        "plane": np.array(plane.kind),
        "axis_titles": np.array(plane.axis_titles),
        "n_images": np.array(landscape.n_images),
        "batches_per_epoch": np.array(landscape.batches_per_epoch),
        "line_t": landscape.line_t,
        "start_to_final": landscape.start_to_final,
    }
    if landscape.between_finals is not None:
        arrays["between_finals"] = landscape.between_finals
    return arrays


def write_npz(landscape: nl.NetworkLandscape, target: Path) -> None:
    """The arrays of :func:`npz_arrays`, written atomically (no pickled objects)."""
    with atomic.replacing(target, suffix=".npz") as temporary, open(temporary, "wb") as stream:
        np.savez(stream, **npz_arrays(landscape))


def command_landscape(args: argparse.Namespace, out: io.TextIOBase,
                      write_png: PngWriter | None = None) -> int:
    """Check every argument, train with snapshots, compute the landscape, write ``--out``.

    Returns 0, or 1 when a run failed or no plane could be built (one line on stderr),
    130 when Ctrl+C stopped it.
    """
    import sys

    config, target = check_arguments(args, write_png)
    data = None
    if config.dataset != "auto":
        try:
            data = datasets.resolve(config.dataset)
        except datasets.DatasetError as error:
            raise UsageError(f"--dataset: {error}") from None
    from engine.mnist.training import train  # imports TensorFlow when it runs

    reporter = _PrintReporter(out, config)
    cancel = threading.Event()
    with _ctrl_c_cancels(cancel):
        if data is None:
            data = datasets.resolve("auto", cancel=cancel)
        data = datasets.first_training_samples(data, config.limit)
        results = train(config, reporter=reporter, cancel=cancel, dataset=data,
                        record_snapshots=True)
        status = exit_status(results, cancelled=cancel.is_set())
        if status:
            return status
        batches = math.ceil(fit_samples(len(data.x_train), config.validation_split)
                            / config.batch_size)
        session = nl.session_from(results, data, config.validation_split, batches, args.samples,
                                  labels=[_label(entry) for entry in config.optimizers])
        started = time.perf_counter()
        try:
            landscape = nl.compute(session, args.plane, args.grid, seed=config.seed,
                                   cancel=cancel)
        except nl.PlaneError as error:
            sys.stderr.write(f"optiscope: --plane {args.plane}: {error}\n")
            return 1
        except nl.Cancelled:
            return 130
    seconds = time.perf_counter() - started
    out.write(f"landscape: {args.plane} plane, {args.grid}×{args.grid} grid on "
              f"{landscape.n_images:,} training images, {seconds:.1f} s\n")
    try:
        (write_png if target.suffix.lower() == ".png" else write_npz)(landscape, target)
    except OSError as error:
        raise UsageError(f"--out: cannot write {str(target)!r} ({error})") from None
    out.write(f"wrote {target}\n")
    return 0
