"""Issue 15: the lesson panel's links from an optimizer to the anatomy of its step and, for
SGD and momentum (whose rates have closed forms on quadratic surfaces), to the theory.

The links use the ``optiscope:`` scheme; the lesson panel turns a click into
``topic_requested("anatomy" | "theory")`` and the teaching panels open that panel.
"""

from __future__ import annotations

from engine.optimizers import OptimizerSpec

#: Registry ids whose convergence rate on a quadratic has a closed form (engine.landscape.theory).
THEORY_IDS = ("sgd", "momentum", "nesterov")


def optimizer_links(spec: OptimizerSpec) -> str:
    """HTML (fixed text only, no user text) linking ``spec`` to its anatomy and theory."""
    links = ['<a href="optiscope:anatomy">The anatomy of its step, term by term (A)</a>']
    if spec.id in THEORY_IDS:
        links.append('<a href="optiscope:theory">Theory: its rate and the stability boundary '
                     "on quadratic surfaces</a>")
    return "<p>" + " &nbsp;·&nbsp; ".join(links) + "</p>"
