"""Scenario files: a whole lesson (surface, racers, view, MNIST settings, measure) as JSON.

``load(path)``/``loads(text)`` read a file into a validated, frozen :class:`Scenario` holding
engine objects (:class:`engine.landscape.race.Racer`, schedules, :class:`engine.landscape.simulate.GradientNoise`,
:class:`engine.TrainConfig`); ``dumps``/``save`` write one back (``save`` atomically).
Every section but ``schema_version`` may be left out and takes the app's defaults. Anything
wrong is refused with a :class:`ScenarioError` naming the JSON path, e.g.
``landscape.racers[1].settings.beta_1: must be in [0, 1), got 1``: invalid or truncated JSON
(with line and column), a wrong type anywhere (``true`` where a number belongs, NaN or
Infinity), an unknown or repeated key, a newer ``schema_version``, deep nesting, files over
:data:`MAX_BYTES`, text that is not UTF-8. Custom surfaces (``"expr:..."``) go through the
safe formula parser of :mod:`engine.landscape.expressions`; nothing in a file is ever evaluated.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from engine import optimizers
from engine.files import atomic
from engine.files import json_fields as jf
from engine.files.json_fields import ScenarioError
from engine.landscape import limits, measures, simulate, surfaces
from engine.landscape.expressions import ExpressionError
from engine.landscape.race import Race, Racer
from engine.mnist import settings as training_settings
from engine.mnist.training import TrainConfig, TrainEntry
from engine.optimizers import schedules
from engine.optimizers.schedules import Schedule
from engine.params import Param, ParamError

__all__ = ["DEFAULT_VIEW", "SCHEMA_VERSION", "Scenario", "ScenarioError", "dumps", "load",
           "loads", "save", "to_dict"]

SCHEMA_VERSION = 1
MAX_BYTES = 1_000_000  #: larger files are refused before parsing
MAX_STEPS = limits.MAX_STEPS  #: the landscape tab's largest step budget
MAX_RACERS = limits.MAX_RACERS
TITLE = Param("title", "text", "Untitled", high=200, doc="The lesson's title (the banner).")
EXPLANATION = Param("explanation", "text", "", high=10_000,
                    doc="A paragraph for students, shown on request.")
MAX_TITLE = TITLE.high
MAX_EXPLANATION = EXPLANATION.high
DEFAULT_SURFACE = "ravine"  # the landscape tab's defaults
DEFAULT_STEPS = limits.STEPS.default
DEFAULT_RACERS = ("sgd", "momentum", "rmsprop", "adam")
TABS = ("landscape", "training")
VIEW_MODES = ("2d", "3d")
SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)  #: playback speeds the landscape tab offers
DEFAULT_VIEW: Mapping[str, Any] = MappingProxyType({
    "mode": "2d", "show_gradient": False, "show_update": False, "show_velocity": False,
    "show_field": False, "speed": 1.0, "x_range": None, "y_range": None,
})
_TOP_KEYS = ("schema_version", "title", "explanation", "tab", "landscape", "training", "measure")
_LANDSCAPE_KEYS = ("surface", "surface_params", "start", "steps", "racers", "view")
_RACER_KEYS = ("optimizer", "settings", "start", "schedule", "noise")
_TRAINING_KEYS = ("optimizers", "epochs", "batch_size", "validation_split", "seed", "dataset",
                  "limit", "lockstep", "schedule")


def _default_racers() -> tuple[Racer, ...]:
    return tuple(Racer(f"{o}-{i + 1}", o) for i, o in enumerate(DEFAULT_RACERS))


@dataclass(frozen=True)
class Scenario:
    """A validated lesson set-up; build one with :func:`load`/:func:`loads` or directly.

    The constructor normalises: ``surface_params`` lists every parameter of the surface,
    ``start`` None becomes the surface's default start, racers are re-keyed ``"<id>-<n>"``
    in order, ``view`` and ``measure`` get their defaults filled in. It raises for an unknown
    surface or bad surface parameters; :func:`loads` checks everything else.
    """

    title: str = "Untitled"
    explanation: str = ""
    tab: str = "landscape"
    surface_id: str = DEFAULT_SURFACE
    surface_params: Mapping[str, float] = field(default_factory=dict)
    start: tuple[float, float] | None = None
    steps: int = DEFAULT_STEPS
    racers: tuple[Racer, ...] = field(default_factory=_default_racers)
    view: Mapping[str, Any] = field(default_factory=lambda: DEFAULT_VIEW)
    training: TrainConfig = field(default_factory=TrainConfig)
    measure: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        surface = self.surface()
        fix = object.__setattr__
        fix(self, "surface_params", MappingProxyType(dict(surface.params)))
        fix(self, "start", tuple(float(v) for v in (self.start or surface.start)))
        fix(self, "racers", tuple(
            replace(r, key=f"{r.optimizer_id}-{i + 1}", settings=MappingProxyType(dict(r.settings)))
            for i, r in enumerate(self.racers)))
        view = {**DEFAULT_VIEW, **self.view}
        for name in ("x_range", "y_range"):
            view[name] = None if view[name] is None else tuple(map(float, view[name]))
        fix(self, "view", MappingProxyType(view))
        fix(self, "training", replace(self.training, optimizers=tuple(self.training.optimizers)))
        if self.measure is not None:
            spec = measures.with_defaults(self.measure)
            for param in measures.PARAMETERS[spec["kind"]]:
                if param.kind == "point" and spec[param.name] is not None:
                    spec[param.name] = tuple(map(float, spec[param.name]))
            fix(self, "measure", MappingProxyType(spec))

    def surface(self) -> surfaces.Surface:
        """The surface the racers run on."""
        return surfaces.get(self.surface_id, **dict(self.surface_params))

    def race(self) -> Race:
        """A fresh :class:`Race` with every racer, ``steps`` as its budget (nothing computed)."""
        race = Race(self.surface(), self.start, self.steps)  # type: ignore[arg-type]
        for racer in self.racers:
            race.set_racer(racer)
        return race


def _start(value: Any, path: str, surface: surfaces.Surface) -> tuple[float, float]:
    x, y = jf.pair(value, path)
    x0, x1, y0, y1 = simulate.Tolerances().box_for(surface)
    with np.errstate(all="ignore"):
        point = np.array([x, y])
        defined = np.isfinite(surface.value(point)) and np.all(np.isfinite(surface.grad(point)))
    if not defined:
        raise ScenarioError(path, f"the surface is not defined at ({x:g}, {y:g})")
    if not (x0 <= x <= x1 and y0 <= y <= y1):
        raise ScenarioError(path, f"({x:g}, {y:g}) is outside the box paths run in "
                            f"(x in [{x0:g}, {x1:g}], y in [{y0:g}, {y1:g}])")
    return x, y


# ------------------------------------------------------------------------------- sections


def _surface(section: dict, path: str) -> surfaces.Surface:
    surface_id = jf.text(section.get("surface", DEFAULT_SURFACE), f"{path}.surface", 1100)
    where = f"{path}.surface_params"
    params = section.get("surface_params", {})
    jf.obj(params, where, tuple(params) if isinstance(params, dict) else ())  # names: below
    if surface_id.startswith("expr:"):
        if params:
            raise ScenarioError(where, "custom expressions take no parameters")
        try:
            return surfaces.get(surface_id)
        except ExpressionError as error:
            raise ScenarioError(f"{path}.surface", str(error)) from None
    if surface_id not in surfaces.ids():
        raise ScenarioError(f"{path}.surface", f"unknown surface {surface_id!r} (valid: "
                            f"{', '.join(surfaces.ids())}, or expr:<formula>)")
    specs = {spec.name: spec for spec in surfaces.PARAMETERS.get(surface_id, ())}
    values = {}
    for name, raw in params.items():
        if name not in specs:
            valid = f"valid: {', '.join(specs)}" if specs else "it has none"
            raise ScenarioError(jf.key(where, name), f"{surface_id} has no such parameter ({valid})")
        values[name] = jf.checked(specs[name], raw, f"{where}.{name}")
    return surfaces.get(surface_id, **values)


def _optimizer(value: Any, path: str) -> optimizers.OptimizerSpec:
    try:
        return optimizers.spec(jf.text(value, path, 100))
    except optimizers.UnknownOptimizerError as error:
        raise ScenarioError(path, str(error)) from None


def _settings(spec: optimizers.OptimizerSpec, value: Any, path: str) -> Mapping[str, Any]:
    settings = jf.obj(value, path, [h.name for h in spec.hyperparams])
    checked = {name: jf.checked(spec.param(name), raw, f"{path}.{name}")
               for name, raw in settings.items()}
    try:
        config = spec.validate(**checked)
    except ParamError as error:
        raise ScenarioError(f"{path}.{error.field}", error.message) from None
    return MappingProxyType({name: config[name] for name in settings})


def _schedule(value: Any, path: str) -> Schedule | None:
    if value is None:
        return None
    section = jf.obj(value, path, ("id", "params"), required=("id",))
    schedule_id = jf.choice(section["id"], f"{path}.id", tuple(schedules.SCHEDULES))
    specs = schedules.SCHEDULES[schedule_id].params
    params = jf.obj(section.get("params", {}), f"{path}.params", [p.name for p in specs])
    typed = {p.name: jf.checked(p, params[p.name], f"{path}.params.{p.name}")
             for p in specs if p.name in params}
    try:
        return schedules.schedule_from(schedule_id, **typed)
    except ParamError as error:
        raise ScenarioError(f"{path}.params.{error.field}", error.message) from None


def _noise(value: Any, path: str) -> simulate.GradientNoise | None:
    if value is None:
        return None
    section = jf.obj(value, path, ("scale", "seed"), required=("scale",))
    return simulate.GradientNoise(
        jf.checked(limits.NOISE_SCALE, section["scale"], f"{path}.scale"),
        jf.checked(limits.NOISE_SEED, section.get("seed", limits.NOISE_SEED.default),
                   f"{path}.seed"))


def _racers(value: Any, path: str, surface: surfaces.Surface) -> tuple[Racer, ...]:
    racers = []
    for i, raw in enumerate(jf.list_of(value, path, limits.RACERS.low, limits.RACERS.high)):
        where = f"{path}[{i}]"
        section = jf.obj(raw, where, _RACER_KEYS, required=("optimizer",))
        spec = _optimizer(section["optimizer"], f"{where}.optimizer")
        start = section.get("start")
        racers.append(Racer(
            f"{spec.id}-{i + 1}", spec.id,
            _settings(spec, section.get("settings", {}), f"{where}.settings"),
            None if start is None else _start(start, f"{where}.start", surface),
            _schedule(section.get("schedule"), f"{where}.schedule"),
            _noise(section.get("noise"), f"{where}.noise"),
        ))
    return tuple(racers)


def _view(value: Any, path: str) -> dict[str, Any]:
    view = {**DEFAULT_VIEW, **jf.obj(value, path, tuple(DEFAULT_VIEW))}
    view["mode"] = jf.choice(view["mode"], f"{path}.mode", VIEW_MODES)
    for name in ("show_gradient", "show_update", "show_velocity", "show_field"):
        jf.boolean(view[name], f"{path}.{name}")
    speed = jf.number(view["speed"], f"{path}.speed")
    if speed not in SPEEDS:
        raise jf.fail(f"{path}.speed", "one of " + ", ".join(f"{s:g}" for s in SPEEDS), speed)
    view["speed"] = speed
    for name in ("x_range", "y_range"):
        view[name] = jf.range_of(view[name], f"{path}.{name}")
    return view


def _training(value: Any, path: str) -> TrainConfig:
    """The training section. Each optimizer's learning rate is one value: its own
    ``schedule``, else the section's ``schedule`` (a default for every optimizer without its
    own, as files have always meant it), else its ``settings.learning_rate``, else Keras's."""
    section = jf.obj(value, path, _TRAINING_KEYS)
    default = TrainConfig()
    shared = _schedule(section.get("schedule"), f"{path}.schedule")
    chosen = default.optimizers
    if "optimizers" in section:
        chosen = []
        count = training_settings.OPTIMIZERS
        for i, raw in enumerate(jf.list_of(section["optimizers"], f"{path}.optimizers",
                                           count.low, count.high)):
            where = f"{path}.optimizers[{i}]"
            entry = jf.obj(raw, where, ("optimizer", "settings", "schedule"),
                            required=("optimizer",))
            spec = _optimizer(entry["optimizer"], f"{where}.optimizer")
            settings = dict(_settings(spec, entry.get("settings", {}), f"{where}.settings"))
            own = _schedule(entry.get("schedule"), f"{where}.schedule")
            rate = own if own is not None else shared
            if rate is None:
                rate = settings.get("learning_rate")
            settings.pop("learning_rate", None)  # a schedule replaces the constant rate
            chosen.append(TrainEntry(spec.id, settings, rate))
    elif shared is not None:
        chosen = tuple(replace(entry, learning_rate=shared) for entry in chosen)
    fields = {param.name: jf.checked(param, section.get(param.name, getattr(default, param.name)),
                                     f"{path}.{param.name}")
              for param in (*training_settings.FIELDS, training_settings.DATASET)}
    config = TrainConfig(
        optimizers=tuple(chosen), **fields,
        lockstep=jf.boolean(section.get("lockstep", default.lockstep), f"{path}.lockstep"))
    try:
        config.validate()
    except ParamError as error:
        raise ScenarioError(f"{path}.{error.field}", error.message) from None
    return config


def _measure(value: Any, path: str, tab: str, surface: surfaces.Surface,
             racers: int) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise jf.fail(path, "an object {...} or null", value)
    kind = jf.choice(value.get("kind"), f"{path}.kind", measures.KINDS)
    params = measures.PARAMETERS[kind]
    required = [p.name for p in params if p.default is measures.REQUIRED]
    jf.obj(value, path, ("kind", *(p.name for p in params)), required)
    wanted = "landscape" if kind in measures.LANDSCAPE_KINDS else "training"
    if wanted != tab:
        raise ScenarioError(f"{path}.kind", f"{kind} measures the {wanted} tab, but tab is {tab!r}")
    spec: dict[str, Any] = {"kind": kind}
    for param in params:
        spec[param.name] = jf.checked(param, value.get(param.name, param.default),
                                      f"{path}.{param.name}")
    if spec.get("baseline", 0) >= racers:
        raise ScenarioError(f"{path}.baseline", f"must name one of the {racers} racers "
                            f"(0 to {racers - 1}), got {spec['baseline']}")
    if kind == "minimum_reached" and not surface.minima:
        raise ScenarioError(f"{path}.kind", f"minimum_reached needs a surface with known "
                            f"minima; {surface.name} has none")
    if kind == "steps_to_converge" and spec["radius"] is not None and spec["point"] is None \
            and not surface.minima:
        raise ScenarioError(f"{path}.point", f"needed with radius: {surface.name} has no "
                            f"known minimum")
    return spec


def _scenario(data: Any) -> Scenario:
    if not isinstance(data, dict):
        raise jf.fail("top level", "a JSON object {...}", data)
    if "schema_version" not in data:
        raise ScenarioError("schema_version", f"missing: a scenario file starts with "
                            f'{{"schema_version": {SCHEMA_VERSION}, ...')
    version = jf.whole(data["schema_version"], "schema_version")
    if version > SCHEMA_VERSION:
        raise ScenarioError("schema_version", f"made by a newer Optiscope: schema_version "
                            f"{version}, this version reads {SCHEMA_VERSION}")
    if version != SCHEMA_VERSION:
        raise jf.fail("schema_version", str(SCHEMA_VERSION), version)
    jf.obj(data, "", _TOP_KEYS)
    tab = jf.choice(data.get("tab", "landscape"), "tab", TABS)
    land = jf.obj(data.get("landscape", {}), "landscape", _LANDSCAPE_KEYS)
    surface = _surface(land, "landscape")
    start = land.get("start")
    racers = (_racers(land["racers"], "landscape.racers", surface) if "racers" in land
              else _default_racers())
    config = _training(data.get("training", {}), "training")
    return Scenario(
        title=jf.checked(TITLE, data.get("title", TITLE.default), "title"),
        explanation=jf.checked(EXPLANATION, data.get("explanation", EXPLANATION.default),
                               "explanation"),
        tab=tab,
        surface_id=surface.id,
        surface_params=dict(surface.params),
        start=None if start is None else _start(start, "landscape.start", surface),
        steps=jf.checked(limits.STEPS, land.get("steps", DEFAULT_STEPS), "landscape.steps"),
        racers=racers,
        view=_view(land.get("view", {}), "landscape.view"),
        training=config,
        measure=_measure(data.get("measure"), "measure", tab, surface,
                         len(racers) if tab == "landscape" else len(config.optimizers)),
    )


def loads(text: str | bytes, source: str | None = None) -> Scenario:
    """Read a scenario from JSON text (or UTF-8 bytes).

    Parameters
    ----------
    text
        The file's content.
    source
        Where it came from (a file name), put in front of error messages.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        For anything refused; the message names the JSON path.
    """
    try:
        if len(text) > MAX_BYTES:
            raise ScenarioError("", f"larger than {MAX_BYTES // 1_000_000} MB: not a scenario")
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ScenarioError("", f"not UTF-8 text (byte 0x{text[error.start]:02x} at "
                                    f"offset {error.start})") from None
        text = text.removeprefix("\ufeff")  # a byte-order mark some editors add
        if not text.strip():
            raise ScenarioError("", "empty: expected a JSON object {...}")
        try:
            data = json.loads(text, object_pairs_hook=jf.object_pairs, parse_constant=jf.NonFinite)
        except json.JSONDecodeError as error:
            raise ScenarioError("", f"invalid JSON at line {error.lineno}, column "
                                f"{error.colno}: {error.msg}") from None
        except RecursionError:
            raise ScenarioError("", "invalid JSON: nested too deeply") from None
        except ValueError as error:  # e.g. an integer with thousands of digits
            raise ScenarioError("", f"invalid JSON: {error}") from None
        return _scenario(data)
    except ScenarioError as error:
        if source is None:
            raise
        raise ScenarioError(error.field, error.message, source) from None


def load(path: str | os.PathLike) -> Scenario:
    """Read the scenario file at ``path`` (see :func:`loads`).

    Raises
    ------
    ScenarioError
        Also for a missing, unreadable or oversized file, or a folder.
    """
    target = Path(path)
    name = target.name or str(target)
    try:
        info = target.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ScenarioError("", f"{str(target)!r} is a folder, not a scenario file")
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError("", f"{str(target)!r} is not a regular file")
        if info.st_size > MAX_BYTES:
            raise ScenarioError("", f"{str(target)!r} is larger than "
                                f"{MAX_BYTES // 1_000_000} MB: not a scenario")
        with open(target, "rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError("", f"no such file: {str(target)!r}") from None
    except PermissionError:
        raise ScenarioError("", f"cannot read {str(target)!r}: permission denied") from None
    except OSError as error:
        raise ScenarioError("", f"cannot read {str(target)!r}: {error.strerror}") from None
    return loads(data, source=name)


# ----------------------------------------------------------------------------- JSON writing


def _plain(value: Any) -> Any:
    """JSON-ready copies: mappings as dicts, tuples as lists, NumPy scalars as Python ones."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _schedule_dict(schedule: Schedule | None) -> dict[str, Any] | None:
    return None if schedule is None else {"id": schedule.id, "params": schedule.config()}


def _racer_dict(racer: Racer) -> dict[str, Any]:
    """A racer entry; its optional keys (own start, schedule, noise) only when set."""
    entry: dict[str, Any] = {"optimizer": racer.optimizer_id, "settings": racer.settings}
    if racer.start is not None:
        entry["start"] = racer.start
    if racer.schedule is not None:
        entry["schedule"] = _schedule_dict(racer.schedule)
    if racer.noise is not None:
        entry["noise"] = {"scale": racer.noise.scale, "seed": racer.noise.seed}
    return entry


def _training_entry(entry: TrainEntry) -> dict[str, Any]:
    """An MNIST optimizer: its settings (a constant learning rate among them), and its
    ``schedule`` when its rate is one."""
    item = {"optimizer": entry.optimizer_id, "settings": entry.keras_settings()}
    if entry.schedule is not None:
        item["schedule"] = _schedule_dict(entry.schedule)
    return item


def to_dict(scenario: Scenario) -> dict[str, Any]:
    """The scenario as the plain JSON object :func:`dumps` writes: every field explicit, but
    a racer's own start, schedule and noise only when it has them."""
    config = scenario.training
    return _plain({
        "schema_version": SCHEMA_VERSION,
        "title": scenario.title,
        "explanation": scenario.explanation,
        "tab": scenario.tab,
        "landscape": {
            "surface": scenario.surface_id,
            "surface_params": scenario.surface_params,
            "start": scenario.start,
            "steps": scenario.steps,
            "racers": [_racer_dict(r) for r in scenario.racers],
            "view": scenario.view,
        },
        "training": {
            "optimizers": [_training_entry(entry) for entry in config.optimizers],
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "validation_split": config.validation_split,
            "seed": config.seed,
            "dataset": config.dataset,
            "limit": config.limit,
            "lockstep": config.lockstep,
        },
        "measure": scenario.measure,
    })


_NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_NUMBER_LIST = re.compile(rf"\[\n\s+({_NUMBER}(?:,\n\s+{_NUMBER})*)\n\s*\]")


def dumps(scenario: Scenario) -> str:
    """The scenario as readable, strict JSON: indent 2, short number lists on one line.

    ``loads(dumps(s)) == s`` for every scenario ``s`` that :func:`loads` accepts.

    Raises
    ------
    ValueError
        For a non-finite number (strict JSON has none).
    """
    text = json.dumps(to_dict(scenario), indent=2, ensure_ascii=False, allow_nan=False)
    # Raw newlines never occur inside JSON strings, so this only touches real lists.
    text = _NUMBER_LIST.sub(lambda m: "[" + ", ".join(re.split(r",\s+", m[1])) + "]", text)
    return text + "\n"


def save(scenario: Scenario, path: str | os.PathLike) -> None:
    """Write ``dumps(scenario)`` to ``path`` atomically (the old file survives a failure).

    Raises
    ------
    OSError
        When the file cannot be written.
    """
    atomic.write_text(path, dumps(scenario))
