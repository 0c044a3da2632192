"""``main.py train``: the MNIST model trained once per optimizer, from the command line.

Every argument (optimizers and their ``--set`` values, the numbers, the dataset file, the
``--json`` folder) is checked before TensorFlow is imported, so bad input exits with status
2 and one line on stderr at once. Prints one line per epoch and a results table; ``--json``
writes strict JSON atomically. Ctrl+C stops after the current batch and still reports.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from engine.cli.main import UsageError, load_optimizer
from engine.cli.progress import Progress
from engine.files import atomic
from engine.mnist import datasets
from engine.mnist import settings as fields
from engine.mnist.training import (
    HISTORY_KEYS,
    EpochLog,
    NullReporter,
    RunResult,
    TrainConfig,
    TrainEntry,
    fit_samples,
)
from engine.params import ParamError

DEFAULT_OPTIMIZERS = ",".join(fields.DEFAULT_OPTIMIZERS)
_OPTIONS = {"epochs": "--epochs", "batch_size": "--batch-size", "seed": "--seed",
            "validation_split": "--validation-split", "limit": "--limit",
            "optimizers": "--optimizers", "dataset": "--dataset"}


def add_train_command(commands: Any) -> None:
    """Register ``train`` on the ``main.py`` subcommand registry."""
    train = commands.add_parser(
        "train", help="train the MNIST model once per optimizer and compare them",
        epilog="Example: train --optimizers sgd,adam --set adam.learning_rate=0.01 "
        "--epochs 3 --json runs.json",
    )
    train.add_argument("--optimizers", default=DEFAULT_OPTIMIZERS, metavar="ID,ID,...",
                       help=f"registry ids, trained in order (default {DEFAULT_OPTIMIZERS})")
    train.add_argument("--set", action="append", default=[], metavar="ID.NAME=VALUE",
                       help="Keras argument of one optimizer, e.g. adam.learning_rate=0.01 "
                       "(repeatable)")
    for param, kind in ((fields.EPOCHS, int), (fields.BATCH_SIZE, int),
                        (fields.VALIDATION_SPLIT, float), (fields.SEED, int)):
        train.add_argument("--" + param.name.replace("_", "-"), type=kind, default=param.default,
                           help=f"{param.doc} {param.range_text().capitalize()} "
                           f"(default {param.text(param.default)})")
    train.add_argument("--dataset", default=fields.DATASET.default, metavar="auto|bundled|PATH",
                       help="auto: Keras's MNIST (cache, else a short download attempt), else "
                       "the bundled 5,000-digit subset; bundled; or a Keras mnist.npz file")
    train.add_argument("--limit", type=int, metavar="N",
                       help=f"use only the first N training samples (quick runs), "
                       f"{fields.LIMIT.interval()}")
    train.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    train.set_defaults(handler=command_train)


def parse_settings(items: Sequence[str], ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """``["adam.learning_rate=0.01", ...]`` -> ``{"adam": {"learning_rate": "0.01"}, ...}``."""
    settings: dict[str, dict[str, str]] = {optimizer_id: {} for optimizer_id in ids}
    for item in items:
        target, sep, value = item.partition("=")
        optimizer_id, dot, name = target.strip().partition(".")
        if not (sep and dot and optimizer_id and name.strip()):
            raise UsageError(f"--set: expected ID.NAME=VALUE (e.g. adam.learning_rate=0.01), "
                             f"got {item!r}")
        if optimizer_id not in settings:
            raise UsageError(f"--set {target.strip()}: {optimizer_id!r} is not in --optimizers "
                             f"({', '.join(ids)})")
        settings[optimizer_id][name.strip()] = value.strip()
    return settings


def build_config(args: argparse.Namespace) -> TrainConfig:
    """The validated :class:`TrainConfig` the arguments describe; :class:`UsageError` if not."""
    ids = [part.strip() for part in args.optimizers.split(",") if part.strip()]
    if not ids:
        raise UsageError("--optimizers: name at least one optimizer id")
    settings = parse_settings(args.set, ids)
    chosen = []
    for optimizer_id in ids:
        optimizer = load_optimizer(optimizer_id, settings[optimizer_id],
                                   set_prefix=f"--set {optimizer_id}.", id_option="--optimizers")
        chosen.append(TrainEntry(optimizer_id, {name: optimizer.config[name]
                                                for name in settings[optimizer_id]}))
    config = TrainConfig(optimizers=tuple(chosen), epochs=args.epochs,
                         batch_size=args.batch_size, validation_split=args.validation_split,
                         seed=args.seed, dataset=args.dataset, limit=args.limit)
    try:
        config.validate()
    except ParamError as error:
        raise UsageError(f"{_OPTIONS.get(error.field, error.field)}: {error.message}") from None
    return config


def check_data(config: TrainConfig, data: datasets.Dataset) -> None:
    """The session fits the data: with its ``--limit`` and ``--validation-split``, both the
    training and the validation part keep at least one sample (else :class:`UsageError`)."""
    samples = data.info.n_train if config.limit is None else min(config.limit, data.info.n_train)
    try:
        fit_samples(samples, config.validation_split)
    except ParamError as error:
        raise UsageError(f"--validation-split: {error.message} ({data.info.name} has "
                         f"{data.info.n_train:,} training samples)") from None


def json_target(path: str) -> Path:
    """The ``--json`` file, refused unless its folder exists and is writable."""
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        raise UsageError(f"--json: {path!r} is a folder, expected a file name")
    if not folder.is_dir():
        raise UsageError(f"--json: no such folder {str(folder)!r}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"--json: cannot write to the folder {str(folder)!r}")
    return target


def write_json_atomically(target: Path, data: Any) -> None:
    """Strict JSON (no NaN/Infinity) to a temporary file in the same folder, then renamed."""
    atomic.write_text(target, json.dumps(data, indent=2, allow_nan=False) + "\n")


def results_json(info: datasets.DatasetInfo, config: TrainConfig,
                 results: Sequence[RunResult]) -> dict[str, Any]:
    """The ``--json`` document: dataset, config and one entry per run."""
    return {
        "dataset": dataclasses.asdict(info),
        "config": {
            "optimizers": [_entry_json(entry) for entry in config.optimizers],
            "epochs": config.epochs, "batch_size": config.batch_size,
            "validation_split": config.validation_split, "seed": config.seed,
            "dataset": config.dataset, "limit": config.limit,
        },
        "runs": [run_json(result) for result in results],
    }


def _entry_json(entry: TrainEntry) -> dict[str, Any]:
    """One optimizer of the config: its id, its Keras settings (a constant learning rate
    among them) and, when its rate is a schedule, the schedule."""
    item: dict[str, Any] = {"id": entry.optimizer_id, "settings": entry.keras_settings()}
    if entry.schedule is not None:
        item["schedule"] = {"id": entry.schedule.id, "params": entry.schedule.config()}
    return item


def run_json(result: RunResult) -> dict[str, Any]:
    """One run as plain data for strict JSON."""
    return {
        "optimizer": result.optimizer_id, "params": dict(result.params),
        "history": {key: list(result.history.get(key, [])) for key in HISTORY_KEYS},
        "test_accuracy": result.test_accuracy, "seconds_per_epoch": result.seconds_per_epoch,
        "optimizer_state_bytes": result.optimizer_state_bytes, "n_params": result.n_params,
        "status": result.status, "error": result.error,
    }


def results_table(results: Sequence[RunResult]) -> str:
    """The comparison table printed at the end (``-`` where a value is missing)."""
    header = ("optimizer", "train acc", "val acc", "test acc", "s/epoch", "params",
              "state bytes", "status")
    rows = [header]
    for result in results:
        history = result.history
        rows.append((
            result.optimizer_id,
            _number(history["accuracy"][-1] if history.get("accuracy") else None, ".4f"),
            _number(history["val_accuracy"][-1] if history.get("val_accuracy") else None, ".4f"),
            _number(result.test_accuracy, ".4f"), _number(result.seconds_per_epoch, ".1f"),
            f"{result.n_params:,}", f"{result.optimizer_state_bytes:,}", result.status,
        ))
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:-1], widths[1:-1], strict=True)]
        lines.append("  ".join([*cells, row[-1]]))
    return "\n".join(lines) + "\n"


class _PrintReporter(NullReporter):
    """One line per epoch and per unusual run end, flushed as it comes."""

    def __init__(self, out: Any, config: TrainConfig):
        self.out = out
        self.epochs = config.epochs
        self.ids = [entry.optimizer_id for entry in config.optimizers]
        self.info: datasets.DatasetInfo | None = None
        self.batches = 1
        self.progress = Progress(f"training {len(self.ids)} optimizer(s)")

    def run_started(self, index: int, optimizer_id: str, epochs: int,
                    batches_per_epoch: int) -> None:
        self.batches = max(1, batches_per_epoch)

    def batch_finished(self, index: int, epoch: int, batch: int, accuracy: float,
                       loss: float) -> None:
        per_run = self.epochs * self.batches
        self.progress((index * per_run + epoch * self.batches + batch + 1)
                      / (len(self.ids) * per_run))

    def _write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def dataset_loaded(self, info: datasets.DatasetInfo) -> None:
        self.info = info
        note = f" ({info.note})" if info.note else ""
        self._write(f"data: {info.name} from {info.source}: {info.n_train:,} training samples "
                    f"(validation split included), {info.n_test:,} test samples{note}")

    def epoch_finished(self, index: int, log: EpochLog) -> None:
        parts = [f"accuracy {log.accuracy:.4f}"]
        if log.val_accuracy is not None:
            parts.append(f"val_accuracy {log.val_accuracy:.4f}")
        parts.append(f"loss {log.loss:.4f}")
        if log.val_loss is not None:
            parts.append(f"val_loss {log.val_loss:.4f}")
        self._write(f"[{self.ids[index]}] epoch {log.epoch + 1}/{self.epochs}: "
                    f"{', '.join(parts)}, {log.seconds:.1f} s")

    def run_finished(self, index: int, result: RunResult) -> None:
        if result.status == "failed":
            self._write(f"[{result.optimizer_id}] failed: {result.error}")
        elif result.status != "completed":
            self._write(f"[{result.optimizer_id}] {result.status}")


@contextlib.contextmanager
def _ctrl_c_cancels(cancel: threading.Event) -> Iterator[None]:
    """First Ctrl+C sets ``cancel`` (stop after this batch); a second one interrupts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        sys.stderr.write("optiscope: stopping after the current batch (Ctrl+C again to quit)\n")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def command_train(args: argparse.Namespace, out: Any) -> int:
    """Check every argument, then train and print (and write ``--json``).

    Returns the exit status: 0 when every run ended (diverging is a result), 1 when a run
    failed (one line on stderr names it), 130 when Ctrl+C stopped training (after reporting).
    """
    config = build_config(args)
    target = json_target(args.json) if args.json else None
    data = None
    if config.dataset != "auto":
        try:
            data = datasets.resolve(config.dataset)
        except datasets.DatasetError as error:
            raise UsageError(f"--dataset: {error}") from None
    from engine.mnist.training import train  # imports TensorFlow when it runs

    reporter = _PrintReporter(out, config)
    cancel = threading.Event()
    if data is not None:
        check_data(config, data)
    with _ctrl_c_cancels(cancel):
        if data is None:  # "auto": the Keras cache, a bounded download, or the bundled subset
            data = datasets.resolve("auto", cancel=cancel)
            check_data(config, data)
        results = train(config, reporter=reporter, cancel=cancel, dataset=data)
    reporter.progress.finish()
    out.write("\n" + results_table(results))
    if target is not None:
        try:
            write_json_atomically(target, results_json(reporter.info or data.info, config,
                                                       results))
        except OSError as error:
            raise UsageError(f"--json: cannot write {str(target)!r} ({error})") from None
        out.write(f"wrote {target}\n")
    return exit_status(results, cancelled=cancel.is_set())


def exit_status(results: Sequence[RunResult], cancelled: bool = False) -> int:
    """1 (and one line on stderr) when a run failed, 130 when stopped by Ctrl+C, else 0."""
    failed = [r for r in results if r.status == "failed"]
    if failed:
        names = ", ".join(f"{r.optimizer_id} ({r.error})" for r in failed)
        sys.stderr.write(f"optiscope: training failed for {' '.join(names.split())}\n")
        return 1
    return 130 if cancelled else 0


def _number(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)
