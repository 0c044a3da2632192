"""The race model: racers computed in chunks, recomputed only where a setting changed."""

from __future__ import annotations

import numpy as np
import pytest

from engine import optimizers
from engine.landscape import simulate, surfaces
from engine.landscape.race import Race, Racer
from engine.params import HyperParamError


@pytest.fixture
def race():
    surface = surfaces.get("rosenbrock")
    race = Race(surface, surface.start, budget=400)
    for optimizer_id in ("sgd", "momentum", "adam"):
        race.set_racer(Racer(race.new_key(optimizer_id), optimizer_id,
                             {"learning_rate": 0.001}))
    return race


def test_ensure_computes_ahead_in_chunks_and_matches_a_full_run(race):
    race.ensure(10, chunk=64)
    assert all(t.computed == 64 for t in race.tracks.values())
    race.ensure(400)
    adam = next(t for t in race.tracks.values() if t.racer.optimizer_id == "adam")
    full = simulate.run(race.surface, optimizers.get("adam", learning_rate=0.001),
                        np.array([race.start]), 400)
    np.testing.assert_array_equal(adam.points(400), full.path(0))


def test_changing_one_racer_recomputes_only_that_one(race):
    race.ensure(200)
    keys = list(race.tracks)
    others = {k: race.tracks[k] for k in keys[1:]}
    race.set_racer(Racer(keys[0], "sgd", {"learning_rate": 0.0005}))
    assert race.tracks[keys[0]].computed == 0
    assert all(race.tracks[k] is track for k, track in others.items())


def test_bad_settings_leave_the_race_unchanged(race):
    key = next(iter(race.tracks))
    track = race.tracks[key]
    with pytest.raises(HyperParamError):
        race.set_racer(Racer(key, "sgd", {"learning_rate": -1.0}))
    assert race.tracks[key] is track


def test_moving_the_start_restarts_everyone(race):
    race.set_start((0.5, 2.0))
    for track in race.tracks.values():
        np.testing.assert_array_equal(track.points(0)[0], [0.5, 2.0])


def test_status_and_internals_as_seen_at_a_step():
    surface = surfaces.get("bowl")
    race = Race(surface, (2.0, 1.0), budget=500)
    race.set_racer(Racer("m", "momentum", {"learning_rate": 0.05}))
    race.ensure(500)
    track = race.tracks["m"]
    status, stop = track.status_at(500)
    assert status == "converged" and stop is not None
    assert track.status_at(stop - 1) == ("moving", None)
    assert track.status_at(0) == ("not_started", None)
    assert len(track.points(500)) == 501  # a converged racer keeps going to its budget
    np.testing.assert_allclose(track.gradient(3), surface.grad(track.points(3)[-1]))
    np.testing.assert_allclose(track.update(3), track.points(4)[-1] - track.points(3)[-1])
    np.testing.assert_allclose(track.velocity(4), track.update(3), atol=1e-12)
    assert race.finished_step() == stop


def test_converged_shows_only_once_the_whole_run_is_known():
    race = Race(surfaces.get("bowl"), (2.0, 1.0), budget=500)
    race.set_racer(Racer("m", "momentum", {"learning_rate": 0.05}))
    race.ensure(300, chunk=300)  # inside the tolerance from 147 on, but the run is not over
    track = race.tracks["m"]
    assert not track.complete and track.status_at(300) == ("moving", None)
    assert race.finished_step() == 500
    while not race.compute_ahead(64):
        pass
    assert track.status_at(300) == ("converged", 147) and race.finished_step() == 147



def test_a_step_not_computed_yet_reads_computing_not_moving():
    """A seek far ahead shows each path as far as it is computed; the table said "moving"
    for SGD whose curve had converged at step 29 long before (found by a fresh-eyes
    review). Until the race is computed to the step shown, the status says so."""
    from engine.landscape import status

    race = Race(surfaces.get("bowl"), (2.0, 1.0), budget=2000)
    race.set_racer(Racer("m", "momentum", {"learning_rate": 0.05}))
    race.ensure(300, chunk=300)
    track = race.tracks["m"]
    assert track.computed < 1500
    assert track.status_at(1500) == (status.COMPUTING, None)
    assert track.status_at(track.computed) == ("moving", None)
    assert status.phrase(status.COMPUTING) == "computing…"
    while not race.compute_ahead(256):
        pass
    assert track.status_at(1500) == ("converged", 147)

def test_a_racer_that_does_not_converge_reads_not_converged_only_at_the_budget():
    race = Race(surfaces.get("rosenbrock"), (-1.5, 2.0), budget=50)
    race.set_racer(Racer("s", "sgd", {"learning_rate": 1e-4}))
    race.ensure(50)
    track = race.tracks["s"]
    assert track.status_at(49) == ("moving", None)
    assert track.status_at(50) == ("not_converged", None)


def test_escaping_the_saddle_downhill_is_its_own_outcome():
    race = Race(surfaces.get("saddle"), (-1.5, 0.01), budget=2000)
    race.set_racer(Racer("s", "sgd", {"learning_rate": 0.01}))
    race.set_racer(Racer("big", "sgd", {"learning_rate": 1.05}))  # oscillates uphill in x
    race.ensure(2000)
    escaped, k = race.tracks["s"].status_at(2000)
    assert escaped == "escaped" and 200 < k < 400  # y grows 1.02× a step from 0.01 to 2
    last = race.tracks["s"].points(2000)[-1]
    assert abs(last[1]) <= 2 and abs(last[1]) > 1.9  # stops at its last point on the map
    assert race.tracks["big"].status_at(2000)[0] == "diverged"


def test_labels_are_short_and_show_only_changed_settings():
    assert Racer("a", "adam").label() == "Adam"
    assert Racer("a", "adam", {"learning_rate": 0.5623}).label() == "Adam · lr 0.562"
    changed = {"learning_rate": 1.234567891e-4, "beta_1": 0.8, "epsilon": 1e-8}
    assert Racer("a", "adam", changed).label() == "Adam · lr 1.2e-4 · β1 0.8 · …"
    assert Racer("a", "adam", changed).full_label() == "Adam · lr 1.2e-4 · β1 0.8 · ε 1e-8"


def test_race_labels_are_unique_and_minimal_ones_drop_settings_where_names_differ():
    race = Race(surfaces.get("bowl"), (1.0, 1.0))
    for key, optimizer_id in (("a", "sgd"), ("b", "sgd"), ("c", "adam")):
        race.set_racer(Racer(key, optimizer_id, {"learning_rate": 0.05}))
    assert race.labels() == {"a": "SGD · lr 0.05", "b": "SGD · lr 0.05 #2",
                             "c": "Adam · lr 0.05"}
    assert race.labels(minimal=True)["c"] == "Adam"


def test_a_racer_with_a_schedule_and_noise_runs_them_step_for_step():
    from engine.optimizers import schedules

    surface = surfaces.get("ravine")
    schedule = schedules.schedule_from("exponential_decay", initial_learning_rate=0.02,
                                       decay_steps=50, decay_rate=0.5)
    noise = simulate.GradientNoise(0.3, seed=7)
    race = Race(surface, surface.start, budget=200)
    racer = Racer("sgd-1", "sgd", {"learning_rate": 0.5}, schedule=schedule, noise=noise)
    race.set_racer(racer)
    race.ensure(200)
    expected = simulate.run(surface, optimizers.get("sgd", learning_rate_schedule=schedule),
                            np.array([surface.start]), 200, noise=noise)
    np.testing.assert_array_equal(race.tracks["sgd-1"].points(200), expected.path(0))
    # The schedule, not the constant 0.5, is what the racer reports and uses.
    np.testing.assert_allclose(racer.learning_rates(3), [schedule(0), schedule(1), schedule(2)])
    assert racer.learning_rates(1)[0] == pytest.approx(0.02)
    assert "learning_rate" not in racer.label() and "noise 0.3" in racer.label()
    plain = Racer("sgd-2", "sgd", {"learning_rate": 0.5})
    np.testing.assert_array_equal(plain.learning_rates(4), np.full(4, 0.5))


def test_a_racer_stepping_in_a_kernel_is_computed_in_long_chunks():
    """In chunks of 16 a kernel's call cost most of its time (8 µs a step against 0.16-0.25
    µs in chunks of 1,024): a racer whose steps run in a kernel takes at least
    COMPILED_CHUNK steps per call; a NumPy racer keeps the chunk asked for."""
    from engine.landscape import kernels
    from engine.landscape import race as race_module

    if not kernels.available():
        pytest.skip(kernels.reason())
    race = Race(surfaces.get("rosenbrock"), (-1.5, 2.0), budget=5000)
    race.set_racer(Racer("a", "adam"))
    assert kernels.wait_for_background(timeout=120)
    race.set_racer(Racer("a", "adam"))  # rebuilt: its kernel is loaded by now
    race.set_racer(Racer("b", "adam"))
    race.tracks["b"].stepper._backend = None  # as a racer whose kernel is not loaded yet
    assert race.tracks["a"].stepper.compiled and not race.tracks["b"].stepper.compiled
    race.compute_within(0.0)  # one chunk, for the racer furthest behind (the first)
    race.compute_within(0.0)
    assert race.tracks["a"].stepper.step == race_module.COMPILED_CHUNK
    assert race.tracks["b"].stepper.step == 16
    race.ensure_within(2000, 10.0)
    assert race.tracks["a"].stepper.step == 2 * race_module.COMPILED_CHUNK
    assert race.tracks["b"].stepper.step == 2000


def test_a_racer_built_before_its_kernel_loaded_moves_onto_it_with_the_same_rows():
    """A GUI builds a racer at once and loads its kernel in the background: the racer took
    NumPy's steps until something rebuilt it. upgrade() moves it onto its kernel, advanced
    to the step it had reached, with the same rows bit for bit; a racer whose kernel is not
    loaded stays as it is."""
    from engine.landscape import kernels

    if not kernels.available():
        pytest.skip(kernels.reason())
    race = Race(surfaces.get("himmelblau"), (0.5, 0.5), budget=3000)
    race.set_racer(Racer("a", "rmsprop", {"learning_rate": 0.01}))
    old = race.tracks["a"].stepper
    old._backend = None  # as built before its kernel loaded
    old.advance(700)
    reference = simulate.Stepper(surfaces.get("himmelblau"), optimizers.get(
        "rmsprop", learning_rate=0.01), np.array([[0.5, 0.5]]), 3000, keep_vectors=True,
        compiled=False)
    reference.advance(3000)
    assert kernels.wait_for_background(timeout=120)
    moved, finished = race.upgrade(1.0)
    assert moved == ["a"] and finished
    new = race.tracks["a"].stepper
    assert new is not old and new.compiled and new.step == 700
    race.ensure(3000)
    for name in ("paths", "losses", "grad_norms", "grads", "velocities"):
        np.testing.assert_array_equal(getattr(new, name)[:new.step + 1],
                                      getattr(reference, name)[:new.step + 1], err_msg=name)
    assert race.upgrade(1.0) == ([], True)  # nothing left on NumPy's steps


def test_a_tracks_longest_vectors_cover_every_computed_row():
    """The arrows' scale: the longest gradient, update and velocity at any computed step;
    kept up to date as the race computes on."""
    race = Race(surfaces.get("ravine"), (-9.0, 3.0), budget=400)
    race.set_racer(Racer("m", "momentum", {"learning_rate": 0.009, "momentum": 0.9}))
    race.set_racer(Racer("s", "sgd", {"learning_rate": 0.009}))
    race.ensure(100, chunk=100)
    track = race.tracks["m"]
    first = {kind: track.longest(kind) for kind in ("descent", "update", "velocity")}
    while not race.compute_ahead(128):
        pass
    rows = track.computed + 1
    paths = track.stepper.paths[:rows, 0]
    expected = {"descent": np.hypot(*track.stepper.grads[:rows, 0].T).max(),
                "update": np.hypot(*np.diff(paths, axis=0).T).max(),
                "velocity": np.hypot(*track.stepper.velocities[:rows, 0].T).max()}
    for kind, value in expected.items():
        assert track.longest(kind) == pytest.approx(value) and value >= first[kind]
    assert race.tracks["s"].longest("velocity") == 0.0  # SGD has none
