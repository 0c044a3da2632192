"""Compiled, fused simulation kernels (numba), bit for bit equal to the NumPy rules.

A :class:`engine.landscape.simulate.Stepper` with ``keep_path=False`` (maps, sweeps,
summary runs) hands its steps to a :class:`~engine.landscape.kernels.runner.Backend`,
which runs blocks of starts through all their steps inside one compiled call instead of a
dozen NumPy passes per step. A kernel is compiled for one optimizer rule, set of options and
surface (:mod:`._kernel`): a catalog surface's gradient and the status checks run in the
update's own loop (:mod:`._surfaces`); custom formulas share one kernel per rule that
interprets their gradient program (:mod:`.program`). Each kernel is compiled the first time
it is needed and cached on disk (:mod:`.cache`); numba is not even imported before that.
:func:`warm_up` compiles the common ones ahead, e.g. in a background thread, and
:func:`set_compile_policy` lets a GUI never wait for a compilation.

Without numba (or with ``compiled=False``) the NumPy path runs; :func:`reason` says why.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import Any

import numpy as np

from engine.landscape.kernels import cache, registry
from engine.landscape.kernels.plan import Unsupported
from engine.landscape.kernels.runner import Backend, CompileFailed

__all__ = ["Backend", "CompileFailed", "Unsupported", "available", "backend", "compile_log",
           "libm_loop", "loaded_count", "reason", "set_compile_policy", "set_threads",
           "wait_for_background", "warm_up"]

set_threads = registry.set_threads
set_compile_policy = registry.set_policy
compile_log = registry.log
loaded_count = registry.loaded_count
wait_for_background = registry.wait_for_background


def available() -> bool:
    """True when numba loads (imports it on the first call, about 0.3 s)."""
    return cache.load() is not None


def reason() -> str:
    """Why kernels are not used ("" when they are available)."""
    return cache.reason()


def libm_loop() -> Any:
    """The compiled loop behind :mod:`engine.landscape.libm`, or None without numba.

    Under the ``"background"`` compile policy (a GUI), the main (GUI) thread gets None until
    the loop is loaded, which then happens in the background: loading it there waited for
    numba's compiler lock while a kernel loaded in the background thread (a 100,000-step
    budget change blocked the GUI thread 150-180 ms); meanwhile
    :mod:`~engine.landscape.libm` calls the same C functions through Python's ``math``.
    Other threads (a map's worker) load it and wait, as before."""
    numba = cache.load()
    if numba is None:
        return None
    from engine.landscape.kernels import _libm

    array = numba.types.float64[::1]
    signature = (numba.types.int64, array, array, array)
    build = registry.dispatcher_build(_libm.apply, signature)
    if (registry.policy() == "background" and not registry.loaded("libm")
            and threading.current_thread() is threading.main_thread()):
        registry.later("libm", partial(registry.compiled, "libm", build))
        return None
    return registry.compiled("libm", build)


def backend(stepper: Any, required: bool = False) -> Backend | None:
    """A :class:`Backend` for ``stepper``, or None where the NumPy path runs it.

    None when no kernel can (numba missing, an unsupported surface or optimizer), or while
    its kernel is still being compiled under the ``"background"`` compile policy. A stepper
    that keeps paths (a race, a trajectory: short runs that the GUI thread computes) uses a
    kernel only once numba is loaded and the kernel is in this process; meanwhile the kernel
    is compiled, or loaded from the disk cache (about 18 ms a piece), in the background.
    With ``required`` the first reasons raise ``RuntimeError`` and the kernel is compiled
    there and then (``compiled=True``).
    """
    if stepper.keep_path and not required and not cache.loaded():
        return None  # a race or a trajectory never waits for numba's import
    try:
        numba = cache.load()
        if numba is None:
            raise Unsupported(reason())
        chosen = Backend(stepper, numba)
    except Unsupported as error:
        if required:
            raise RuntimeError(f"compiled kernels cannot run this: {error}") from None
        return None
    if required or chosen.loaded() or (chosen.ready() and not stepper.keep_path):
        return chosen
    if stepper.keep_path or registry.policy() == "background":
        registry.later(" ".join(chosen.names), partial(_compile_apart, chosen))
        return None  # NumPy this time; the kernel is ready for the next run
    return chosen


def _compile_apart(chosen: Backend) -> None:
    """A background compilation: in a child process (:mod:`.worker`), so numba's compiler
    never holds this process's GIL, then loaded from the disk cache; here if the child
    cannot."""
    from engine.landscape.kernels import worker

    if registry.policy() == "background":
        worker.compiler().compile(worker.requests_for(chosen))
    chosen.prepare()  # a disk load when the child compiled it


def warm_up(surfaces: tuple[str, ...] = ("rosenbrock", "expr:x**2 + y**2"),
            optimizers: tuple[str, ...] = ("adam", "sgd", "momentum", "rmsprop")
            ) -> list[dict[str, Any]]:
    """Compile (or load from the disk cache) the kernels for these optimizers on these
    surfaces: a map's (fused with a catalog surface) and a sweep's (with the surface's pass;
    the custom-formula interpreter by default too); returns :func:`compile_log`.

    Nothing runs. Safe to call from a background thread (the GIL is released only while
    compiled code runs, so a GUI thread gets its turns); does nothing without numba.
    """
    if not available():
        return []
    from engine import optimizers as registry_of_optimizers
    from engine.landscape import simulate
    from engine.landscape import surfaces as catalog
    from engine.landscape.kernels.runner import FUSED_STARTS

    for surface_id in surfaces:
        surface = catalog.get(surface_id)
        for optimizer_id in optimizers:
            for count in (1, FUSED_STARTS):  # a sweep's kernel and a map's (fused) kernel
                stepper = simulate.Stepper(surface, registry_of_optimizers.get(optimizer_id),
                                           np.full((count, 2), 0.5), 1, keep_path=False,
                                           compiled=True)
                stepper._backend.prepare()
    return compile_log()
