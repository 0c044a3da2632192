"""What happened to a path: one small vocabulary for the table, the maps, the CLI and exports.

A run's outcome is one of :data:`IDS`; while a race plays, a path that has no outcome yet is
``not_started`` (step 0) or ``moving``, or ``computing`` where the race is not yet computed
to the step shown. :func:`phrase` gives the words every view shows, so a
status reads the same in the race table, a map legend, a CSV file and ``--json`` output.

The convergence rule (:data:`CONVERGENCE_RULE`): a path has converged at step k only if it
satisfies the tolerance at every step from k to the end of its run. A path that passes
through the tolerance and leaves it again has not converged there.
"""

from __future__ import annotations

NOT_CONVERGED, CONVERGED, DIVERGED, ESCAPED, UNDEFINED = 0, 1, 2, 3, 4
#: Outcome ids, indexed by the status codes above (what JSON and CSV files carry).
IDS = ("not_converged", "converged", "diverged", "escaped", "undefined")
#: Playback states of a path whose outcome is not known at the step shown.
NOT_STARTED, MOVING, COMPUTING = "not_started", "moving", "computing"
UNDEFINED_ID = IDS[UNDEFINED]
ALL_IDS = (NOT_STARTED, MOVING, COMPUTING, *IDS)

#: Legend words, one per id (no step numbers).
WORDS = {
    "not_started": "not started",
    "moving": "moving",
    "computing": "computing…",
    "not_converged": "not converged",
    "converged": "converged",
    "diverged": "diverged",
    "escaped": "escaped downhill",
    "undefined": "f not defined",
}
#: What each word means, for tooltips, legends and the README.
MEANINGS = {
    "not_started": "the race is at step 0",
    "moving": "still on its way at the step shown; its outcome is not known yet",
    "computing": "the race is not computed to the step shown yet (a seek far ahead): the "
                 "path is drawn as far as it is computed; its outcome is not known yet",
    "not_converged": "still outside the tolerance at the end of its step budget",
    "converged": "within the tolerance from that step to the end of its run, without leaving",
    "diverged": "its point, gradient or loss became infinite or NaN, or it left the surface's "
                "box going uphill (blew up)",
    "escaped": "left the box going downhill, below where it started: on a surface unbounded "
               "below (a saddle) that is the good outcome",
    "undefined": "f or its gradient is not defined at the start",
}
CONVERGENCE_RULE = (
    "A path has converged at step k only if, at every step from k to the end of its run, it "
    "lies within x_tol of a known minimum, or its gradient norm is below grad_tol after a "
    "step shorter than x_tol. A path that passes through and leaves again has not converged."
)


def code(status_id: str) -> int:
    """The status code of an outcome id (``ValueError`` for another word)."""
    try:
        return IDS.index(status_id)
    except ValueError:
        raise ValueError(f"status: expected one of {', '.join(IDS)}, got {status_id!r}") from None


#: After "converged at step N" when the point is none of the surface's known minima: on
#: Rastrigin, Adam "converged" in a local minimum 5 units from the global one, and the green
#: words alone read as "found the minimum".
ELSEWHERE = ", not at a known minimum"


def phrase(status_id: str, step: int | None = None, budget: int | None = None,
           at_known_minimum: bool | None = None) -> str:
    """The words for a status: ``"converged at step 141"``, ``"not converged in 2000 steps"``,
    ``"converged at step 1283, not at a known minimum"``.

    Parameters
    ----------
    status_id
        One of :data:`ALL_IDS`.
    step
        The step of the outcome (converged, diverged, escaped), if known.
    budget
        The step budget (for ``not_converged``), if known.
    at_known_minimum
        For ``converged``: whether it converged at one of the surface's known minima; None
        when the surface lists none (a custom formula) or it is not known.
    """
    word = WORDS[status_id]
    if status_id == "converged" and step is not None and at_known_minimum is False:
        return f"{word} at step {step}{ELSEWHERE}"
    if status_id in ("converged", "diverged", "escaped") and step is not None:
        return f"{word} at step {step}"
    if status_id == "not_converged" and budget is not None:
        return f"not converged in {budget} steps"
    if status_id == "undefined":
        return "f is not defined at the start"
    return word
