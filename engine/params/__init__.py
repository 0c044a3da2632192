"""Hyperparameter descriptions: Keras argument names, defaults, valid ranges, validation.

Both tabs (the landscape race and MNIST training) and the command line validate user
values through :meth:`HyperParam.validate`, so one rule decides what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class HyperParamError(ValueError):
    """A hyperparameter value was refused; ``field`` names the Keras argument."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class HyperParam:
    """One Keras constructor argument as the app exposes it.

    Parameters
    ----------
    name
        Keras's own argument name (``learning_rate``, ``beta_1``, ...).
    kind
        ``"float"``, ``"bool"`` or ``"optional_float"`` (``None`` switches it off, as in Keras).
    default
        Keras's default for this registry entry.
    low, high
        Valid range; ``low_open``/``high_open`` exclude the end point.
    log
        True when the value is best edited on a log scale (learning rates, epsilons).
    doc
        One line for tooltips and ``optimizers --json``.
    advanced
        True for the base-optimizer options (clipping, weight decay) that a GUI may fold away.
    """

    name: str
    kind: str
    default: float | bool | None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    log: bool = False
    doc: str = ""
    advanced: bool = False

    def range_text(self) -> str:
        """The valid range as interval text, e.g. ``(0, 100]``."""
        if self.kind == "bool":
            return "true or false"
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        text = f"{left}{_fmt(self.low)}, {_fmt(self.high)}{right}"
        return text + (" or none" if self.kind == "optional_float" else "")

    def validate(self, value: object) -> float | bool | None:
        """Coerce and check ``value``; raise :class:`HyperParamError` naming the field."""
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _BOOLS:
                return _BOOLS[value.strip().lower()]
            raise HyperParamError(self.name, f"must be true or false, got {value!r}")
        if self.kind == "optional_float" and (
            value is None or (isinstance(value, str) and value.strip().lower() in ("none", ""))
        ):
            return None
        if isinstance(value, bool):
            raise HyperParamError(self.name, f"must be a number, got {value!r}")
        try:
            number = float(value.strip() if isinstance(value, str) else value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise HyperParamError(self.name, f"must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise HyperParamError(self.name, f"must be a finite number, got {value!r}")
        too_low = self.low is not None and (
            number < self.low or (self.low_open and number == self.low)
        )
        too_high = self.high is not None and (
            number > self.high or (self.high_open and number == self.high)
        )
        if too_low or too_high:
            raise HyperParamError(
                self.name, f"must be in {self.range_text()}, got {_fmt(number)}"
            )
        return number

    def to_json(self) -> dict:
        """A plain-dict description for catalogs (strict JSON: no infinities)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "default": self.default,
            "low": self.low,
            "high": self.high,
            "low_open": self.low_open,
            "high_open": self.high_open,
            "log": self.log,
            "range": self.range_text(),
            "doc": self.doc,
            "advanced": self.advanced,
        }


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


def _fmt(number: float | None) -> str:
    if number is None:
        return "none"
    return f"{number:g}"


def learning_rate(default: float) -> HyperParam:
    """The step size every optimizer has."""
    return HyperParam(
        "learning_rate", "float", default, 0.0, 100.0, low_open=True, log=True,
        doc="Step size (Keras: a float or a schedule).",
    )


def epsilon(default: float = 1e-7) -> HyperParam:
    """The small constant added for numerical stability."""
    return HyperParam(
        "epsilon", "float", default, 0.0, 1.0, low_open=True, log=True,
        doc="Small constant for numerical stability (Keras's 'epsilon hat').",
    )


def decay_rate(name: str, default: float, doc: str, *, high_open: bool = True) -> HyperParam:
    """An exponential moving-average rate in [0, 1) (``rho``, ``beta_1``, ``beta_2``)."""
    return HyperParam(name, "float", default, 0.0, 1.0, high_open=high_open, doc=doc)


def flag(name: str, default: bool, doc: str) -> HyperParam:
    """A boolean option (``nesterov``, ``centered``, ``amsgrad``)."""
    return HyperParam(name, "bool", default, doc=doc)


def base_options(weight_decay: float | None = None) -> tuple[HyperParam, ...]:
    """Keras's base-optimizer options: decoupled weight decay and gradient clipping."""
    return (
        HyperParam(
            "weight_decay", "float" if weight_decay is not None else "optional_float",
            weight_decay, 0.0, 1.0,
            doc="Decoupled weight decay: w -= w * weight_decay * learning_rate before each step.",
            advanced=weight_decay is None,
        ),
        HyperParam(
            "clipnorm", "optional_float", None, 0.0, 1e6, low_open=True, log=True,
            doc="Clip each gradient to this L2 norm.", advanced=True,
        ),
        HyperParam(
            "clipvalue", "optional_float", None, 0.0, 1e6, low_open=True, log=True,
            doc="Clip each gradient component to [-clipvalue, clipvalue].", advanced=True,
        ),
        HyperParam(
            "global_clipnorm", "optional_float", None, 0.0, 1e6, low_open=True, log=True,
            doc="Clip the gradient of all weights to this global L2 norm.", advanced=True,
        ),
    )
