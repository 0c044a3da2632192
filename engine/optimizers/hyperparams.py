"""The shapes Keras's optimizer arguments share, as parameter descriptions.

Every optimizer has a ``learning_rate``; most have an ``epsilon``, decay rates in [0, 1) and
flags; all take Keras's base options (weight decay and clipping). The registry
(:mod:`engine.optimizers`) builds its entries from these; the defaults are Keras's.
"""

from __future__ import annotations

from engine.params import Param


def learning_rate(default: float) -> Param:
    """The step size every optimizer has."""
    return Param("learning_rate", "float", default, 0.0, 100.0, low_open=True, scale="log",
                 doc="Step size (Keras: a float or a schedule).")


def epsilon(default: float = 1e-7) -> Param:
    """The small constant added for numerical stability."""
    return Param("epsilon", "float", default, 0.0, 1.0, low_open=True, scale="log",
                 doc="Small constant for numerical stability (Keras's 'epsilon hat').")


def decay_rate(name: str, default: float, doc: str, *, high_open: bool = True) -> Param:
    """An exponential moving-average rate in [0, 1) (``rho``, ``beta_1``, ``beta_2``)."""
    return Param(name, "float", default, 0.0, 1.0, high_open=high_open, doc=doc)


def flag(name: str, default: bool, doc: str) -> Param:
    """A boolean option (``nesterov``, ``centered``, ``amsgrad``)."""
    return Param(name, "bool", default, doc=doc)


def base_options(weight_decay: float | None = None) -> tuple[Param, ...]:
    """Keras's base-optimizer options: decoupled weight decay and gradient clipping."""
    clip = {"kind": "float", "default": None, "low": 0.0, "high": 1e6, "low_open": True,
            "optional": True, "scale": "log", "advanced": True}
    return (
        Param("weight_decay", "float", weight_decay, 0.0, 1.0, optional=weight_decay is None,
              doc="Decoupled weight decay: w -= w * weight_decay * learning_rate before each step.",
              advanced=weight_decay is None),
        Param("clipnorm", doc="Clip each gradient to this L2 norm.", **clip),
        Param("clipvalue", doc="Clip each gradient component to [-clipvalue, clipvalue].", **clip),
        Param("global_clipnorm", doc="Clip the gradient of all weights to this global L2 norm.",
              **clip),
    )
