"""What one MNIST training session runs: typed entries and the session's configuration.

A :class:`TrainEntry` is one optimizer of a session: its registry id, its Keras arguments and
its learning rate, which is ONE argument taking either a float or a Keras-exact schedule (as
optax's ``ScalarOrSchedule``), never a rate and a schedule side by side. A
:class:`TrainConfig` holds the entries and the numbers every entry shares. Both are frozen;
``validate`` names the field it refuses. No TensorFlow here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from engine import optimizers
from engine.mnist import settings
from engine.optimizers.schedules import Schedule
from engine.params import ParamError, describe_value

# The limits live in engine.mnist.settings (one home); these names stay for callers.
MAX_EPOCHS = settings.EPOCHS.high
MAX_BATCH_SIZE = settings.BATCH_SIZE.high
MIN_LIMIT = settings.MIN_SAMPLES
MAX_SEED = settings.SEED.high

#: A float (a constant rate), a Keras-exact schedule, or None for the registry's default rate.
LearningRate = float | Schedule | None


#: A :class:`TrainConfig` field was refused; ``field`` names it (the one refusal class).
ConfigError = ParamError


@dataclass(frozen=True)
class TrainEntry:
    """One optimizer of a session.

    Parameters
    ----------
    optimizer_id
        Registry id, e.g. ``"adam"``.
    settings
        Keras constructor arguments other than the learning rate (``beta_1=0.8``, ...),
        validated by the registry. A ``learning_rate`` given here is moved to
        ``learning_rate`` (so ``TrainEntry("sgd", {"learning_rate": 0.1})`` works); giving it
        in both places is refused.
    learning_rate
        A float (constant), a :class:`~engine.optimizers.schedules.Schedule` (Keras steps it
        per batch), or None for Keras's default rate of that optimizer.
    """

    optimizer_id: str
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    learning_rate: LearningRate = None

    def __post_init__(self) -> None:
        if not isinstance(self.settings, Mapping):
            raise ConfigError("optimizers", f"settings must be a mapping, got {self.settings!r}")
        settings = dict(self.settings)
        if "learning_rate" in settings:
            if self.learning_rate is not None:
                raise ConfigError("optimizers", f"{self.optimizer_id}: give the learning rate "
                                  "once (learning_rate=...), not in settings as well")
            object.__setattr__(self, "learning_rate", settings.pop("learning_rate"))
        object.__setattr__(self, "settings", MappingProxyType(settings))

    @property
    def schedule(self) -> Schedule | None:
        """The learning-rate schedule, or None for a constant rate."""
        return self.learning_rate if isinstance(self.learning_rate, Schedule) else None

    def keras_settings(self) -> dict[str, Any]:
        """The Keras arguments as given: ``settings`` plus a constant ``learning_rate``."""
        settings = dict(self.settings)
        if self.learning_rate is not None and self.schedule is None:
            settings["learning_rate"] = self.learning_rate
        return settings

    def optimizer(self) -> optimizers.Optimizer:
        """The validated registry optimizer (the registry's ``UnknownOptimizerError`` and
        ``HyperParamError``, both ValueErrors, pass through)."""
        if not isinstance(self.optimizer_id, str):
            raise ConfigError("optimizers", f"expected an optimizer id, got {self.optimizer_id!r}")
        if isinstance(self.learning_rate, bool):
            rate = self.learning_rate
            raise ConfigError("optimizers", f"{self.optimizer_id}: learning_rate must be a "
                              f"number or a schedule, got {rate!r}")
        return optimizers.get(self.optimizer_id, learning_rate_schedule=self.schedule,
                              **self.keras_settings())


def _default_entries() -> tuple[TrainEntry, ...]:
    return tuple(TrainEntry(optimizer_id) for optimizer_id in settings.DEFAULT_OPTIMIZERS)


@dataclass(frozen=True)
class TrainConfig:
    """One session: ``optimizers`` (:class:`TrainEntry` each) trained from the same initial
    weights on the same batches; ``epochs``, ``batch_size``, ``validation_split`` as in
    ``keras.Model.fit``; ``seed`` fixes the initial weights and batch order; ``dataset`` is
    ``"auto"``, ``"bundled"`` or a path (:func:`engine.mnist.datasets.resolve`); ``limit``
    keeps the first N training samples; ``lockstep`` trains every optimizer together, batch
    by batch on the same batches (else one after another, each with ``keras.Model.fit``)."""

    optimizers: tuple[TrainEntry, ...] = field(default_factory=_default_entries)
    epochs: int = settings.EPOCHS.default
    batch_size: int = settings.BATCH_SIZE.default
    validation_split: float = settings.VALIDATION_SPLIT.default
    seed: int = settings.SEED.default
    dataset: str = settings.DATASET.default
    limit: int | None = settings.LIMIT.default
    lockstep: bool = True

    def validate(self) -> None:
        """Check every field: :class:`ConfigError` names it; the registry's
        ``UnknownOptimizerError``/``HyperParamError`` (both ValueErrors) pass through."""
        for param in (settings.EPOCHS, settings.BATCH_SIZE, settings.SEED, settings.LIMIT):
            _check_int(param, getattr(self, param.name))
        split = self.validation_split
        if isinstance(split, np.floating):
            split = float(split)
        settings.VALIDATION_SPLIT.check_json(split, "validation_split")
        if not isinstance(self.dataset, str) or not self.dataset.strip():
            raise ConfigError("dataset", "must be 'auto', 'bundled' or a path to an .npz file")
        settings.DATASET.check_json(self.dataset, "dataset")
        if self.limit is not None:  # the samples are known: both parts must be non-empty
            fit_samples(self.limit, split)
        if not isinstance(self.lockstep, bool | np.bool_):
            raise ConfigError("lockstep", f"must be true or false, got {self.lockstep!r}")
        self.resolved_optimizers()

    def resolved_optimizers(self) -> list[optimizers.Optimizer]:
        """The validated registry optimizers, in order (errors as in :meth:`validate`)."""
        if not isinstance(self.optimizers, tuple | list) or not self.optimizers:
            raise ConfigError("optimizers", "name at least one optimizer")
        settings.OPTIMIZERS.check_json(len(self.optimizers), "optimizers")
        chosen = []
        for entry in self.optimizers:
            if not isinstance(entry, TrainEntry):
                raise ConfigError("optimizers", f"expected TrainEntry items, got {entry!r}")
            chosen.append(entry.optimizer())
        return chosen

    def schedules(self) -> list[Schedule | None]:
        """Each entry's learning-rate schedule (None where its rate is constant)."""
        return [entry.schedule for entry in self.optimizers]


def fit_samples(n_samples: int, validation_split: float) -> int:
    """How many samples ``keras.Model.fit(validation_split=...)`` trains on (Keras's rule)."""
    if validation_split == 0:
        return n_samples
    split_at = math.floor(n_samples * (1.0 - validation_split))
    if split_at in (0, n_samples):
        raise ConfigError("validation_split", f"{validation_split:g} of {n_samples} samples "
                          "leaves no training or no validation samples")
    return split_at


def _check_int(param: Any, value: Any) -> None:
    """``value`` is a whole number (not a float) in ``param``'s range, or None if optional."""
    if value is None and param.optional:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(param.name, f"must be a whole number, got {describe_value(value)}")
    param.check_json(int(value), param.name)
