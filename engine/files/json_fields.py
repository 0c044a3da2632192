"""Strict readers for JSON values, each naming the JSON path of what it refuses.

Used by :mod:`engine.files.scenario`: ``number(value, "landscape.steps", 1, 100)`` returns the value
or raises :class:`ScenarioError` with the path and what was expected. JSON's own looseness is
closed off: booleans are not numbers, ``NaN``/``Infinity`` literals are refused, objects
with a key given twice or an unknown key are refused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from engine.params import Param, ParamError, describe_value


class ScenarioError(ParamError):
    """A scenario was refused: ``field`` is the JSON path ("" for the file as a whole),
    ``source`` the file it came from (or None)."""

    def __init__(self, field: str, message: str, source: str | None = None):
        ValueError.__init__(self, ": ".join(part for part in (source, field, message) if part))
        self.field, self.message, self.source = field, message, source

    def renamed(self, field: str) -> ScenarioError:
        return ScenarioError(field, self.message, self.source)


def checked(param: Param, value: Any, path: str) -> Any:
    """``param.check_json(value, path)``, refusing with a :class:`ScenarioError`."""
    try:
        return param.check_json(value, path)
    except ScenarioError:
        raise
    except ParamError as error:
        raise ScenarioError(error.field, error.message) from None


class JsonObject(dict):
    """A JSON object that remembers the keys given more than once."""

    duplicates: tuple[str, ...] = ()


def object_pairs(pairs: list[tuple[str, Any]]) -> JsonObject:
    obj = JsonObject()
    for key, value in pairs:
        if key in obj:
            obj.duplicates += (key,)
        obj[key] = value
    return obj


class NonFinite:
    """A ``NaN``/``Infinity``/``-Infinity`` literal: Python's json accepts them, JSON does not."""

    def __init__(self, text: str):
        self.text = text


describe = describe_value


def key(path: str, name: str) -> str:
    name = name if len(name) <= 40 else name[:37] + "..."
    return f"{path}.{name}" if path else name


def fail(path: str, expected: str, value: Any) -> ScenarioError:
    return ScenarioError(path, f"must be {expected}, got {describe(value)}")


def obj(value: Any, path: str, keys: Sequence[str], required: Sequence[str] = ()) -> dict:
    if not isinstance(value, dict):
        raise fail(path or "top level", "an object {...}", value)
    if duplicates := getattr(value, "duplicates", ()):
        raise ScenarioError(key(path, duplicates[0]), "given twice")
    for name in value:
        if name not in keys:
            raise ScenarioError(key(path, name), f"unknown key (valid: {', '.join(keys)})")
    for name in required:
        if name not in value:
            raise ScenarioError(key(path, name), "missing")
    return value


def interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if high is None:
        return f"{'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"{'<' if high_open else '<='} {high:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def number(value: Any, path: str, low: float | None = None, high: float | None = None,
            low_open: bool = False, high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(path, "a number", value)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise fail(path, "a finite number", value)
    if ((low is not None and (number < low or low_open and number == low))
            or (high is not None and (number > high or high_open and number == high))):
        raise fail(path, interval(low, high, low_open, high_open), value)
    return number


def whole(value: Any, path: str, low: int | None = None, high: int | None = None) -> int:
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or isinstance(value, float) and not (math.isfinite(value) and value.is_integer())):
        raise fail(path, "a whole number", value)
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        raise fail(path, "a whole number " + interval(low, high, False, False), value)
    return number


def boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise fail(path, "true or false", value)
    return value


def text(value: Any, path: str, longest: int, empty_ok: bool = True) -> str:
    if not isinstance(value, str):
        raise fail(path, "text", value)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate such as "\ud800": no file could hold it
            raise ScenarioError(path, "must be valid Unicode text") from None
    if len(value) > longest:
        raise ScenarioError(path, f"too long ({len(value)} characters, at most {longest})")
    if not empty_ok and not value.strip():
        raise ScenarioError(path, "must not be empty")
    return value


def choice(value: Any, path: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise fail(path, "one of " + ", ".join(repr(c) for c in choices), value)
    return value


def list_of(value: Any, path: str, shortest: int = 0, longest: int = 1000) -> list:
    if not isinstance(value, list):
        raise fail(path, "a list [...]", value)
    if not shortest <= len(value) <= longest:
        raise ScenarioError(path, f"needs {shortest} to {longest} entries, got {len(value)}")
    return value


def pair(value: Any, path: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise fail(path, "a list of two numbers [x, y]", value)
    return number(value[0], f"{path}[0]"), number(value[1], f"{path}[1]")


def range_of(value: Any, path: str) -> tuple[float, float] | None:
    if value is None:
        return None
    low, high = pair(value, path)
    if not low < high:
        raise ScenarioError(path, f"must be [low, high] with low < high, got [{low:g}, {high:g}]")
    return low, high
