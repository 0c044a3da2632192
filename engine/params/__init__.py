"""One parameter description for every value a user or a file can set.

A :class:`Param` says what a value is called, what kind it is, its default, its valid range
(each end open or closed, or unbounded), whether it is best edited on a log or a linear
scale, and one line of documentation. Optimizer hyperparameters, schedule arguments, measure
parameters, surface parameters, the MNIST training settings and the app's limits (step
budgets, racers, grid sizes, seeds) are all described this way, so the engine, the command
line, the scenario loader and the GUI editors read one rule and one set of limits.

:meth:`Param.validate` coerces leniently (text typed in a box or given on the command line);
:meth:`Param.check_json` is strict (a JSON ``true`` is not a number, ``"0.1"`` is not a
number). Both raise :class:`ParamError`, whose ``field`` names the value.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, fields, replace
from typing import Any

__all__ = ["KINDS", "REQUIRED", "HyperParamError", "Param", "ParamError", "describe_value",
           "format_number"]

#: The kinds a value can have. ``point`` is two finite numbers; ``floats``/``ints`` are lists
#: whose every entry is checked against the range.
KINDS = ("float", "int", "bool", "text", "point", "floats", "ints")


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()  #: the default of a parameter that must be given


class ParamError(ValueError):
    """A value was refused: ``field`` names it (a parameter name, a JSON path or a
    command-line option), ``message`` says what was expected and what was given."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message

    def renamed(self, field: str) -> ParamError:
        """The same refusal naming ``field`` instead (e.g. its JSON path)."""
        return type(self)(field, self.message)


#: The optimizer registry's name for :class:`ParamError` (one class, two names).
HyperParamError = ParamError


def format_number(number: float | int | None) -> str:
    """``5``, ``0.001``, ``1e+06``: whole numbers exactly, others in ``%g``."""
    if number is None:
        return "none"
    if isinstance(number, bool):
        return "true" if number else "false"
    if isinstance(number, numbers.Integral):
        return str(int(number))
    return f"{float(number):g}"


def describe_value(value: Any) -> str:
    """A refused value as a message quotes it: ``true``, ``null``, ``'0.1'``, ``NaN``, ``5``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    text_of = getattr(value, "text", None)  # a NaN/Infinity literal from a JSON reader
    if isinstance(text_of, str) and type(value).__name__ == "NonFinite":
        return text_of
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_BOOLS = {"true": True, "1": True, "yes": True, "on": True,
          "false": False, "0": False, "no": False, "off": False}


def short_number(value: float) -> str:
    """A short number for labels and headlines: ``0.031``, ``137``, ``1.2e-4``, ``1.2e4``.

    Three significant digits from 0.001 to 10⁴, two with an exponent beyond (no "e-05").
    """
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(value)
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.3g}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa.removesuffix('.0')}e{int(exponent)}"


@dataclass(frozen=True)
class Param:
    """One value as the app exposes it.

    Parameters
    ----------
    name
        The name everywhere: Keras's argument name, the scenario file's key, the CLI option
        (``batch_size`` is ``--batch-size``).
    kind
        One of :data:`KINDS`.
    default
        The value when none is given; :data:`REQUIRED` when one must be given.
    low, high
        The valid range (None: unbounded on that side). For ``text``, ``high`` is the
        longest text; for lists it bounds each entry.
    low_open, high_open
        True excludes that end (``(0, 100]``).
    optional
        True when ``None`` is a value (Keras's "off", e.g. ``clipnorm``); editors show it as
        ``none_text``.
    scale
        ``"log"`` or ``"linear"``: how an editor steps it and a map spaces it.
    doc
        One line for tooltips, ``--help`` and catalogs.
    advanced
        True for options a GUI may fold away (clipping, weight decay).
    step
        An editor's arrow step on a linear scale (None: derived from the range).
    none_text
        How an editor shows ``None`` ("none", "all", "off").
    longest
        Most entries of a list kind.
    """

    name: str
    kind: str
    default: Any = REQUIRED
    low: float | int | None = None
    high: float | int | None = None
    low_open: bool = False
    high_open: bool = False
    optional: bool = False
    scale: str = "linear"
    doc: str = ""
    advanced: bool = False
    step: float | None = None
    none_text: str = "none"
    longest: int = field(default=100, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r} (valid: {', '.join(KINDS)})")
        if self.scale not in ("log", "linear"):
            raise ValueError(f"{self.name}: scale must be 'log' or 'linear', got {self.scale!r}")

    # --- facts ------------------------------------------------------------------------------
    @property
    def log(self) -> bool:
        """True on a log scale (learning rates, epsilons)."""
        return self.scale == "log"

    @property
    def numeric(self) -> bool:
        return self.kind in ("float", "int", "floats", "ints")

    @property
    def whole(self) -> bool:
        return self.kind in ("int", "ints")

    def interval(self) -> str:
        """The range alone: ``[0, 1)``, ``>= 1``, ``<= 90`` or ``any``."""
        if self.low is None and self.high is None:
            return "any"
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {format_number(self.low)}"
        if self.low is None:
            return f"{'<' if self.high_open else '<='} {format_number(self.high)}"
        return (f"{'(' if self.low_open else '['}{format_number(self.low)}, "
                f"{format_number(self.high)}{')' if self.high_open else ']'}")

    def range_text(self) -> str:
        """What is valid, as a tooltip says it: ``(0, 100] or none``, ``true or false``."""
        if self.kind == "bool":
            text = "true or false"
        elif self.kind == "text":
            text = f"text of at most {self.high if self.high is not None else 'any'} characters"
        elif self.kind == "point":
            text = "two numbers x, y"
        elif self.kind in ("floats", "ints"):
            interval = self.interval()
            text = "a list of numbers, each " + (interval if interval[0] in "<>a"
                                                 else f"in {interval}")
        else:
            text = self.interval()
        return text + (f" or {self.none_text}" if self.optional else "")

    def contains(self, number: float | int) -> bool:
        """True when ``number`` is inside the range."""
        low, high = self.low, self.high
        if low is not None and (number < low or (self.low_open and number == low)):
            return False
        return not (high is not None and (number > high or (self.high_open and number == high)))

    def has_default(self) -> bool:
        return self.default is not REQUIRED

    def with_(self, **changes: Any) -> Param:
        """A copy with some fields changed (e.g. another default)."""
        return replace(self, **changes)

    # --- checking -------------------------------------------------------------------------
    def validate(self, value: Any, field: str | None = None) -> Any:
        """``value`` coerced and checked, leniently: text such as ``"0.01"``, ``"none"`` or
        ``"true"`` is read as a number, None or a boolean (a box, a command line).

        Raises
        ------
        ParamError
            Naming ``field`` (default: the parameter's name).
        """
        return self._check(value, field or self.name, strict=False)

    def check_json(self, value: Any, field: str) -> Any:
        """``value`` from a JSON document, strictly: numbers must be JSON numbers, booleans
        JSON booleans, lists JSON lists; ``field`` (its JSON path) names it when refused."""
        return self._check(value, field, strict=True)

    def _check(self, value: Any, where: str, strict: bool) -> Any:
        if self.optional and (value is None or (not strict and isinstance(value, str) and (
                value.strip().lower() in ("", "none", "null", self.none_text.lower())))):
            return None
        if self.kind == "bool":
            return self._bool(value, where, strict)
        if self.kind == "text":
            return self._text(value, where)
        if self.kind == "point":
            items = self._items(value, where, strict, exactly=2)
            return tuple(self._number(v, f"{where}[{i}]", strict, False, bounded=False)
                         for i, v in enumerate(items))
        if self.kind in ("floats", "ints"):
            items = self._items(value, where, strict)
            return tuple(self._number(v, f"{where}[{i}]" if strict else where, strict,
                                      self.kind == "ints") for i, v in enumerate(items))
        return self._number(value, where, strict, self.kind == "int")

    def _fail(self, where: str, expected: str, value: Any) -> ParamError:
        return ParamError(where, f"must be {expected}, got {describe_value(value)}")

    def _bool(self, value: Any, where: str, strict: bool) -> bool:
        if isinstance(value, bool):
            return value
        if not strict and isinstance(value, str) and value.strip().lower() in _BOOLS:
            return _BOOLS[value.strip().lower()]
        raise self._fail(where, "true or false", value)

    def _text(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise self._fail(where, "text", value)
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: no file could hold it
                raise ParamError(where, "must be valid Unicode text") from None
        if self.high is not None and len(value) > self.high:
            raise ParamError(where, f"too long ({len(value)} characters, at most "
                             f"{format_number(self.high)})")
        if self.low and not value.strip():
            raise ParamError(where, "must not be empty")
        return value

    def _items(self, value: Any, where: str, strict: bool, exactly: int | None = None) -> list:
        if not strict and isinstance(value, str):
            value = [v for v in value.replace(";", ",").split(",") if v.strip()]
        if not strict and (isinstance(value, tuple) or hasattr(value, "tolist")):
            value = list(value.tolist() if hasattr(value, "tolist") else value)
        if exactly is not None:
            if not isinstance(value, list) or len(value) != exactly:
                raise self._fail(where, "a list of two numbers [x, y]", value)
            return value
        if not isinstance(value, list):
            raise self._fail(where, "a list of numbers", value)
        if len(value) > self.longest:
            raise ParamError(where, f"needs at most {self.longest} entries, got {len(value)}")
        return value

    def _number(self, value: Any, where: str, strict: bool, whole: bool,
                bounded: bool = True) -> float | int:
        kind = "a whole number" if whole else "a number"
        if isinstance(value, bool) or (strict and not isinstance(value, numbers.Real)) \
                or type(value).__name__ == "bool_":
            raise self._fail(where, kind, value)
        if isinstance(value, numbers.Integral):
            number: float | int = int(value)
        else:
            try:
                text = value.strip() if isinstance(value, str) else value
                number = int(text) if whole and isinstance(text, str) and _is_int(text) \
                    else float(text)
            except (TypeError, ValueError):
                raise self._fail(where, kind, value) from None
            except OverflowError:
                number = math.inf
            if isinstance(number, float) and not math.isfinite(number):
                raise self._fail(where, f"a finite {kind.removeprefix('a ')}", value)
        if whole:
            if isinstance(number, float):
                if not number.is_integer():
                    raise self._fail(where, kind, value)
                number = int(number)
        elif isinstance(number, int):
            try:
                number = float(number)
            except OverflowError:
                raise self._fail(where, "a finite number", value) from None
        if bounded and not self.contains(number):
            interval = self.interval()
            words = interval if interval[0] in "<>" else f"in {interval}"
            raise ParamError(where, f"must be {words}, got {format_number(number)}")
        return number

    # --- editors ----------------------------------------------------------------------------
    def text(self, value: Any) -> str:
        """``value`` shown compactly (an editor keeps the exact value it was given)."""
        if value is None:
            return self.none_text
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, tuple | list):
            return ", ".join(self.text(v) for v in value)
        if isinstance(value, numbers.Integral):
            return str(int(value))
        if isinstance(value, float):
            short = repr(value)
            return short if len(short) <= 9 else f"{value:.6g}"
        return str(value)

    def stepped(self, value: Any, steps: int) -> Any:
        """``value`` moved ``steps`` arrow steps along the scale, kept inside the range
        (``value`` itself when a step would leave it)."""
        if self.kind not in ("float", "int") or value is None:
            return value
        if self.log and value > 0:
            exponent = math.log10(value) + steps / 10
            moved: float | int = float(f"{10 ** exponent:.3g}")
        else:
            moved = value + steps * self.arrow_step()
        if self.kind == "int":
            moved = int(round(moved))
            if moved == value:
                moved = value + (1 if steps > 0 else -1)
        if not self.contains(moved):
            edge = self.high if steps > 0 else self.low
            open_edge = self.high_open if steps > 0 else self.low_open
            moved = edge if edge is not None and not open_edge else value
        return moved

    def arrow_step(self) -> float | int:
        """The linear arrow step: ``step``, else 1 for whole numbers, else a hundredth of the
        range rounded to a power of ten (0.01 for [0, 1])."""
        if self.step is not None:
            return self.step
        if self.kind == "int":
            return 1
        if self.low is not None and self.high is not None and self.high > self.low:
            return 10.0 ** math.floor(math.log10((self.high - self.low) / 100))
        return 0.1

    def to_json(self) -> dict[str, Any]:
        """A plain-dict description for catalogs (strict JSON)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "longest"}
        default = self.default
        data["default"] = None if default is REQUIRED else (
            list(default) if isinstance(default, tuple) else default)
        data["required"] = default is REQUIRED
        data["log"] = self.log
        data["range"] = self.range_text()
        return data


def _is_int(text: str) -> bool:
    body = text[1:] if text[:1] in "+-" else text
    return body.isdigit() and body.isascii()
