"""The lesson panel: what the selected optimizer does, or what the current surface teaches.

The text comes from the registry (:mod:`engine.optimizers`: formula, intuition, pros, cons,
reference) and the surface catalog; the few sentences of "how it works" per optimizer live
here. Colours come from the Qt palette, so the panel reads in the light and the dark theme;
the title's optimizer colour is darkened or lightened until it contrasts with the background.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from PySide6.QtCore import QEvent, QUrl, Signal, Slot
from PySide6.QtGui import QColor, QDesktopServices, QPalette
from PySide6.QtWidgets import QTextBrowser

from engine.landscape.surfaces import Surface
from engine.optimizers import OptimizerSpec
from gui.landscape.teaching_links import optimizer_links
from gui.palette import color_for

#: A few sentences per registry id, in plain words, and the one-line verdict of the lesson.
HOW_IT_WORKS: dict[str, tuple[str, str]] = {
    "sgd": ("Each step moves the weights against the gradient, scaled by one learning rate. "
            "It keeps no memory of earlier steps, so a flat direction is crawled and a steep "
            "one bounced across.",
            "Simple and memory-efficient, but may be slow and unstable: too large a learning "
            "rate zig-zags or diverges, too small a one crawls."),
    "momentum": ("A velocity accumulates the recent gradients and the weights move by the "
                 "velocity. Pushes that agree add up; pushes that alternate cancel out.",
                 "Accelerates along ravines and damps zig-zags, but the learning rate (and "
                 "momentum) must be tuned, or it overshoots and orbits the minimum."),
    "nesterov": ("Like momentum, but the gradient is taken where the velocity is about to "
                 "carry the weights, so the step corrects itself before it overshoots.",
                 "Momentum's speed with less overshoot, at the same cost; the learning rate "
                 "still needs tuning."),
    "rmsprop": ("A running average of squared gradients measures how steep each direction "
                "has been lately; each coordinate's step is divided by its square root, so "
                "every direction moves at a similar pace.",
                "Works well on noisy data and badly scaled problems, but is sensitive to the "
                "learning rate."),
    "adagrad": ("Squared gradients are summed over the whole run and each step is divided by "
                "the square root of that sum, so often-steep coordinates slow down for good.",
                "No decay rate to tune and good on sparse features, but the steps shrink "
                "forever and may stop short of the minimum."),
    "adadelta": ("Keeps running averages of squared gradients and of squared updates; their "
                 "ratio sets each step, which therefore has the units of the weights.",
                 "Needs little tuning in principle, but starts slowly with Keras's default "
                 "learning rate and keeps two numbers per weight."),
    "adam": ("Combines a momentum (an average of gradients) with RMSProp's scaling (an "
             "average of squared gradients), correcting both averages for their start at zero.",
             "Adaptive and widely used: works with its defaults on many problems, but keeps "
             "more state (two numbers per weight) than SGD."),
    "amsgrad": ("Adam that divides by the largest squared-gradient average seen so far, so "
                "a step size can only shrink.",
                "Fixes cases where Adam fails to converge, at the cost of a third number per "
                "weight; often no better than Adam in practice."),
    "adamw": ("Adam plus weight decay applied to the weights directly, outside the adaptive "
              "scaling, so regularisation acts the same on every weight.",
              "The usual choice for large models, but the decay pulls the weights towards "
              "zero: on a bare surface the minimum it settles on moves."),
    "adamax": ("Adam with the squared-gradient average replaced by a decaying maximum of "
               "gradient sizes (the infinity norm).",
               "Stable when gradients are occasionally huge; as much memory as Adam."),
    "nadam": ("Adam whose momentum looks ahead as Nesterov's does: the step uses the "
              "momentum it is about to have.",
              "Often a little faster than Adam; the same memory as Adam."),
    "lion": ("Only the sign of a blend of momentum and gradient is used, so every coordinate "
             "moves by exactly the learning rate each step.",
             "Half of Adam's memory, but it needs a smaller learning rate and never settles "
             "exactly: it keeps stepping by the learning rate around the minimum."),
}


def contrast_ratio(first: QColor, second: QColor) -> float:
    """WCAG contrast ratio of two colours, 1 (same) to 21 (black on white)."""

    def luminance(color: QColor) -> float:
        channels = []
        for value in (color.redF(), color.greenF(), color.blueF()):
            channels.append(value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4)
        red, green, blue = channels
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable(color: str, background: QColor, minimum: float = 3.0) -> QColor:
    """``color`` with its lightness moved away from ``background`` until they contrast."""
    result = QColor(color)
    darken = background.lightness() >= 128
    hue, saturation, lightness, _ = result.getHsl()
    while contrast_ratio(result, background) < minimum and 0 < lightness < 255:
        lightness = max(0, lightness - 8) if darken else min(255, lightness + 8)
        result = QColor.fromHsl(max(hue, 0), saturation, lightness)
    return result


def memory_slots(spec: OptimizerSpec, config: Mapping[str, Any]) -> int:
    """Extra numbers Keras keeps per weight for ``spec`` with these settings (the registry
    counts the arrays of the update rule's state)."""
    return spec.memory_slots(config)


def _format_value(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class LessonPanel(QTextBrowser):
    """Rich-text explanation of one optimizer or of the surface being raced on.

    ``topic_requested(str)``: a link to the step's anatomy or the theory was clicked (issue 15).
    """

    topic_requested = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)  # issue 15: optiscope: links open a panel, others a browser
        self.anchorClicked.connect(self._link_clicked)
        self.setMinimumHeight(120)
        self._shown: tuple[Any, ...] | None = None
        self._html: str | None = None  # the text last set (see _set_html)

    # --- content --------------------------------------------------------------------------
    def show_optimizer(self, spec: OptimizerSpec, config: Mapping[str, Any]) -> None:
        """Explain ``spec`` with its current hyperparameters ``config`` (Keras names)."""
        self._shown = ("optimizer", spec, dict(config))
        how, verdict = HOW_IT_WORKS.get(spec.id, (spec.intuition, ""))
        formula = "<br>".join(escape(part.strip()) for part in spec.formula.split(";")
                              if part.strip())
        slots = memory_slots(spec, config)
        memory = ("keeps no extra numbers per weight (only the weights themselves)" if slots == 0
                  else f"keeps {slots} extra number{'s' if slots > 1 else ''} per weight")
        parts = [
            self._title(spec.name, color_for(spec.id)),
            f"<p><i>{escape(spec.intuition)}</i></p>",
            self._formula_block(formula),
            "<h4>How it works</h4>",
            f"<p>{escape(how)}</p>",
        ]
        if verdict:
            parts.append(f"<p><b>In short:</b> {escape(verdict)}</p>")
        parts += [
            "<h4>Strengths</h4>", _bullets(spec.pros),
            "<h4>Limitations</h4>", _bullets(spec.cons),
            f"<p><b>Memory:</b> {memory}.</p>",
            "<h4>Current hyperparameters</h4>", self._hyperparams(spec, config),
            f"<p><b>Reference:</b> {escape(spec.reference)}</p>",
        ]
        parts.insert(3, optimizer_links(spec))  # issue 15: its anatomy and theory
        self._set_html("".join(parts))

    def show_surface(self, surface: Surface) -> None:
        """Describe ``surface``: name, formula, lesson and known minima."""
        self._shown = ("surface", surface)
        if surface.minima:
            minima = _bullets([
                f"{m.kind} minimum at ({m.point[0]:.4g}, {m.point[1]:.4g}), f = {m.value:.6g}"
                for m in surface.minima
            ])
        else:
            minima = "<p>No known minimum (unknown, or the surface is unbounded below).</p>"
        params = ""
        if surface.params:
            params = "<p><b>Parameters:</b> " + ", ".join(
                f"{escape(name)} = {value:g}" for name, value in surface.params) + "</p>"
        self._set_html("".join([
            self._title(surface.name, None),
            self._formula_block(escape(surface.formula)),
            f"<p>{escape(surface.lesson)}</p>",
            params,
            "<h4>Known minima</h4>",
            minima,
        ]))

    def _set_html(self, html: str) -> None:
        """Show ``html``, unless it is shown already: setting the same text again laid the
        document out again and toggled the scroll bar (twice per racer added)."""
        if html != self._html:
            self._html = html
            self.setHtml(html)

    # --- pieces ---------------------------------------------------------------------------
    def _title(self, text: str, color: str | None) -> str:
        if color is None:
            return f"<h2>{escape(text)}</h2>"
        shown = readable(color, self._base()).name()
        return (f'<h2><span style="color:{color}">■</span> '
                f'<span style="color:{shown}">{escape(text)}</span></h2>')

    def _formula_block(self, html_lines: str) -> str:
        base, text = self._base(), self.palette().color(QPalette.ColorRole.Text)
        shade = QColor.fromRgbF(*(0.92 * b + 0.08 * t for b, t in
                                  zip(base.getRgbF()[:3], text.getRgbF()[:3], strict=True)))
        return (f'<table width="100%" cellpadding="8" cellspacing="0" bgcolor="{shade.name()}">'
                f'<tr><td style="font-family: monospace; font-size: 12pt">{html_lines}</td>'
                "</tr></table>")

    def _hyperparams(self, spec: OptimizerSpec, config: Mapping[str, Any]) -> str:
        defaults = spec.defaults()
        rows = []
        for hyperparam in spec.hyperparams:
            value = config.get(hyperparam.name, hyperparam.default)
            if hyperparam.advanced and value == defaults[hyperparam.name]:
                continue
            rows.append(f'<tr><td style="font-family: monospace">{escape(hyperparam.name)}</td>'
                        f'<td align="right">{escape(_format_value(value))}</td>'
                        f"<td>{escape(hyperparam.doc)}</td></tr>")
        return f'<table cellpadding="3" cellspacing="0">{"".join(rows)}</table>'

    @Slot(QUrl)
    def _link_clicked(self, url: QUrl) -> None:
        if url.scheme() == "optiscope":
            self.topic_requested.emit(url.path())
        elif url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)

    def _base(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.Base)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._shown is not None:
            self._html = None  # colours come from the palette: set again
            if self._shown[0] == "optimizer":
                self.show_optimizer(self._shown[1], self._shown[2])
            else:
                self.show_surface(self._shown[1])


def _bullets(items) -> str:
    return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"
