"""The network landscape's worker: :func:`engine.mnist.network_landscape.compute` in a
``QThread``, with progress and cancel (the same worker-object pattern as training)."""

from __future__ import annotations

from collections.abc import Callable

from gui.threads import JobWorker


class LandscapeWorker(JobWorker):
    """Runs ``job(cancel_event, progress)`` once when its thread starts.

    ``progressed`` carries fractions (the engine reports a few hundred times per landscape),
    ``computed`` the :class:`engine.mnist.network_landscape.NetworkLandscape`, ``failed``
    "cancelled" or a message for the user (e.g. a plane that cannot be built), and
    ``finished`` comes last.
    """

    def __init__(self, job: Callable) -> None:
        from engine.mnist import network_landscape

        super().__init__(job, cancelled=(network_landscape.Cancelled,))
