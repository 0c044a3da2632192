"""The anatomy of a step: its terms redo the update rule's arithmetic exactly.

For every optimizer and option (momentum, Nesterov, centered, AMSGrad, weight decay, the three
clippings, a schedule, gradient noise), the weights the anatomy's terms arrive at equal the
race's next point bit for bit, and the optimizer variables it shows equal the rule's state
after the step bit for bit, at every step of a run.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine import optimizers
from engine.landscape import simulate, surfaces
from engine.landscape.anatomy import CHECKPOINT_EVERY, TrackAnatomy
from engine.landscape.race import Race, Racer
from engine.optimizers.anatomy import KINDS, PER_COORDINATE, SCALAR, VECTOR, decompose
from engine.optimizers.schedules import CosineDecayRestarts, ExponentialDecay

#: Keras's optimizer variables, by registry id, as ``build`` names them.
SLOTS = {
    "sgd": [], "momentum": ["momentum"], "nesterov": ["momentum"], "rmsprop": ["velocity"],
    "adagrad": ["accumulator"], "adadelta": ["accumulated_grad", "accumulated_delta_var"],
    "adam": ["momentum", "velocity"], "amsgrad": ["momentum", "velocity", "velocity_hat"],
    "adamw": ["momentum", "velocity"], "adamax": ["momentum", "norm"],
    "nadam": ["u_product", "momentum", "velocity"], "lion": ["momentum"],
}
OPTIONS = [
    {}, {"weight_decay": 0.05}, {"clipnorm": 0.5}, {"clipvalue": 0.3},
    {"global_clipnorm": 0.4},
]
EXTRA = [  # each optimizer's own options
    ("sgd", {"momentum": 0.8}), ("sgd", {"momentum": 0.5, "nesterov": True}),
    ("rmsprop", {"centered": True}), ("rmsprop", {"momentum": 0.7}),
    ("rmsprop", {"momentum": 0.6, "centered": True, "clipnorm": 1.0}),
    ("adam", {"amsgrad": True}), ("adamw", {"weight_decay": 0.0}),
    ("momentum", {"nesterov": True}), ("adagrad", {"initial_accumulator_value": 0.0}),
]
CASES = [(oid, opts) for oid in optimizers.ids() for opts in OPTIONS] + EXTRA
RATE = {"sgd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "adadelta": 1.0, "adagrad": 0.3}
STEPS = 80


def _race(optimizer_id, settings, surface_id="rosenbrock", schedule=None, noise=None):
    surface = surfaces.get(surface_id)
    race = Race(surface, (-1.2, 1.4), budget=STEPS)
    settings = {"learning_rate": RATE.get(optimizer_id, 0.02), **settings}
    race.set_racer(Racer("r", optimizer_id, settings, schedule=schedule, noise=noise))
    race.ensure(STEPS)
    return race, race.tracks["r"]


def _reference_states(track):
    """The rule's own state after every step, by a plain loop (the oracle)."""
    stepper, noise = track.stepper, track.racer.noise
    x = np.array(stepper.paths[0, :1])
    state, states = stepper.optimizer.init(x), []
    for k in range(track.last_index()):
        g = stepper.surface.grad(x)
        if noise is not None:
            g = g + noise.draw(np.array(stepper.paths[0, :1]), k)
        x, state = stepper.optimizer.update(g, state, x)
        states.append(state)
    return states


def _same_state(ours, theirs):
    assert type(ours) is type(theirs)
    for a, b in zip(ours, theirs, strict=True):
        if isinstance(b, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b


@pytest.mark.parametrize(("optimizer_id", "settings"), CASES,
                         ids=[f"{o}-{'-'.join(s) or 'defaults'}" for o, s in CASES])
def test_the_terms_reproduce_every_step_bit_for_bit(optimizer_id, settings):
    _race_, track = _race(optimizer_id, settings)
    anatomy, states = TrackAnatomy(track), _reference_states(track)
    last = track.last_index()
    assert last > 20, "the run should take some steps"
    for step in range(last):
        parts = anatomy.at(step)
        np.testing.assert_array_equal(parts.new_point, track.points(step + 1)[-1])
        whole = "total step" if "total step" in parts.names() else "update"
        np.testing.assert_array_equal(parts.term(whole).value,
                                      track.points(step + 1)[-1] - track.points(step)[-1])
        _same_state(parts.state, states[step])
        # Every optimizer variable of the state is shown, under its name, with its value.
        for name, value in parts.state._asdict().items():
            if name != "step" and value is not None:
                term = parts.term(name)
                assert term.slot
                np.testing.assert_array_equal(term.value, np.ravel(value))
        assert parts.iterations == step
    assert set(SLOTS[optimizer_id]) <= {t.name for t in parts.terms if t.slot}


def test_the_path_step_and_the_whole_change_agree_with_weight_decay():
    _, track = _race("adamw", {"weight_decay": 0.1})
    parts = TrackAnatomy(track).at(10)
    move = track.points(11)[-1] - track.points(10)[-1]
    np.testing.assert_array_equal(parts.term("total step").value, move)
    decay, update = parts.term("weight decay").value, parts.term("update").value
    np.testing.assert_allclose(decay + update, move, rtol=1e-12, atol=1e-15)
    assert parts.names().index("weight decay") < parts.names().index("momentum")


@pytest.mark.parametrize("schedule", [ExponentialDecay(0.01, 10, 0.5),
                                      CosineDecayRestarts(0.02, 15)], ids=repr)
def test_a_schedule_and_noise_are_replayed_too(schedule):
    noise = simulate.GradientNoise(0.4, seed=5)
    _, track = _race("momentum", {}, "ravine", schedule=schedule, noise=noise)
    anatomy = TrackAnatomy(track)
    for step in (0, 1, 37, 79):
        parts = anatomy.at(step)
        np.testing.assert_array_equal(parts.new_point, track.points(step + 1)[-1])
        assert parts.term("learning rate").value == schedule(step)
        true, noisy = parts.term("true gradient").value, parts.term("gradient").value
        np.testing.assert_array_equal(true, track.gradient(step))
        np.testing.assert_array_equal(parts.term("noise").value, noisy - true)


def test_scrubbing_backwards_and_forwards_gives_the_same_terms():
    _, track = _race("adam", {})
    anatomy = TrackAnatomy(track)
    later = anatomy.at(STEPS - 1)
    early = anatomy.at(3)
    assert len(anatomy._saved) >= (STEPS - 1) // CHECKPOINT_EVERY
    for step, parts in ((3, early), (STEPS - 1, later)):
        again = TrackAnatomy(track).at(step)
        for a, b in zip(parts.terms, again.terms, strict=True):
            assert a.name == b.name
            np.testing.assert_array_equal(a.value, b.value)


def test_outside_the_path_there_is_no_anatomy():
    surface = surfaces.get("rosenbrock")
    race = Race(surface, (-1.5, 2.0), budget=200)
    race.set_racer(Racer("s", "sgd", {"learning_rate": 0.01}))  # diverges in a few steps
    race.ensure(200)
    track = race.tracks["s"]
    assert track.outcome()[0] == "diverged"
    anatomy = TrackAnatomy(track)
    last = track.last_index()
    assert anatomy.at(-1) is None and anatomy.at(last + 1) is None
    leaving = anatomy.at(last)  # the step that left the map
    assert leaving is not None and np.all(np.isfinite(leaving.term("gradient").value))


@pytest.mark.parametrize("optimizer_id", optimizers.ids())
def test_every_term_is_finite_named_and_of_a_known_kind(optimizer_id):
    _, track = _race(optimizer_id, {"clipnorm": 2.0})
    parts = TrackAnatomy(track).at(5)
    names = parts.names()
    assert len(names) == len(set(names))
    assert names[0] == "gradient" and names[-1] in ("update", "total step")
    assert "clipped gradient" in names and "step size per coordinate" in names
    for term in parts.terms:
        assert term.kind in KINDS and term.formula and term.meaning
        value = np.atleast_1d(term.value)
        assert np.all(np.isfinite(value))
        assert value.shape == ((1,) if term.kind == SCALAR else (2,))
        if term.kind == PER_COORDINATE:
            assert np.all(value >= 0), term.name
        if term.kind == VECTOR:
            np.testing.assert_array_equal(term.drawn(), -term.value if term.against
                                          else term.value)
    # Every step moves against the gradient: the first term is drawn downhill.
    assert parts.term("gradient").against


def test_decompose_matches_update_for_a_hand_built_state():
    adam = optimizers.get("adam", learning_rate=0.1, amsgrad=True)
    w = np.array([[0.3, -0.7]])
    state = adam.init(w)
    for g in ([[1.0, -2.0]], [[0.5, 0.1]], [[-3.0, 0.2]]):
        parts = decompose(adam, np.array(g), state, w)
        w, state = adam.update(np.array(g), state, w)
        np.testing.assert_array_equal(parts.new_point, w[0])
        _same_state(parts.state, state)
    assert parts.term("1 − β1ᵗ").value == pytest.approx(1 - 0.9**3)
    np.testing.assert_allclose(parts.term("step size per coordinate").value,
                               parts.term("corrected learning rate").value
                               / (np.sqrt(state.velocity_hat[0]) + 1e-7))
