"""The vectorized runner: paths, statuses, divergence without warnings, bounded memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from engine import optimizers
from engine.landscape import kernels, simulate, surfaces
from engine.landscape.simulate import CONVERGED, DIVERGED, ESCAPED, NOT_CONVERGED, Tolerances


def _manual_path(surface, opt, start, steps):
    x = np.array([start], dtype=float)
    state = opt.init(x)
    path = [x[0]]
    for _ in range(steps):
        x, state = opt.update(surface.grad(x), state, x)
        path.append(x[0])
    return np.array(path)


def test_paths_are_the_optimizer_stepping_on_the_surface():
    surface = surfaces.get("rosenbrock")
    opt = optimizers.get("adam", learning_rate=0.01)
    starts = np.array([[-1.5, 2.0], [0.0, 0.0], [1.5, -0.5]])
    result = simulate.run(surface, opt, starts, 50)
    assert result.paths.shape == (51, 3, 2)
    assert result.losses.shape == (51, 3) and result.grad_norms.shape == (51, 3)
    np.testing.assert_array_equal(result.paths[0], starts)
    for i, start in enumerate(starts):
        np.testing.assert_allclose(result.paths[:, i], _manual_path(surface, opt, start, 50))
    np.testing.assert_allclose(result.losses, surface.value(result.paths))
    assert list(result.status) == [NOT_CONVERGED] * 3


def test_keep_path_false_gives_the_same_summaries():
    surface = surfaces.get("himmelblau")
    opt = optimizers.get("momentum", learning_rate=0.005)
    rng = np.random.default_rng(0)
    starts = rng.uniform(-5, 5, size=(200, 2))
    full = simulate.run(surface, opt, starts, 400, keep_path=True)
    summary = simulate.run(surface, opt, starts, 400, keep_path=False)
    assert summary.paths is None and summary.losses is None
    np.testing.assert_array_equal(full.status, summary.status)
    np.testing.assert_array_equal(full.stop_step, summary.stop_step)
    np.testing.assert_array_equal(full.final_point, summary.final_point)
    np.testing.assert_array_equal(full.minimum_index, summary.minimum_index)
    # Himmelblau has four minima: random starts find more than one of them.
    assert len(set(summary.minimum_index[summary.status == CONVERGED])) >= 3


def test_convergence_is_detected_at_the_first_step_within_tolerance():
    surface = surfaces.get("bowl")
    opt = optimizers.get("sgd", learning_rate=0.1)
    result = simulate.run(surface, opt, np.array([[2.0, -1.0]]), 500)
    assert result.status_name(0) == "converged"
    k = int(result.stop_step[0])
    path = result.path(0)
    assert len(path) == 501  # a converged path runs to its budget
    distance = np.linalg.norm(path, axis=1)
    assert np.all(distance[k:] <= 1e-3) and distance[k - 1] > 1e-3
    assert result.minimum_index[0] == 0


def test_a_fly_through_is_not_convergence():
    # Heavy-ball momentum in the ravine swings through the tolerance ball and out again
    # (the reported case: "converged at 24" while it later swung 5.6e-2 away).
    surface = surfaces.get("ravine")
    opt = optimizers.get("momentum", learning_rate=0.0352674, momentum=0.7043)
    result = simulate.run(surface, opt, np.array([-9.0, 3.0]), 600)
    distance = np.linalg.norm(result.path(0), axis=1)
    inside = distance <= 1e-3
    first_entry = int(np.argmax(inside))
    assert inside[first_entry] and not np.all(inside[first_entry:])  # it did fly through
    assert result.status_name(0) == "converged"
    k = int(result.stop_step[0])
    assert k > first_entry and np.all(inside[k:]) and not inside[k - 1]
    assert len(result.path(0)) == 601  # and it ran its whole budget


def test_a_path_that_leaves_the_tolerance_at_the_end_is_not_converged():
    # Lion's steps keep their size lr: it hops in and out of the 1e-3 ball at lr 1.6e-3.
    surface = surfaces.get("bowl")
    opt = optimizers.get("lion", learning_rate=1.6e-3)
    result = simulate.run(surface, opt, np.array([0.3, -0.2]), 800)
    distance = np.linalg.norm(result.path(0), axis=1)
    assert np.any(distance <= 1e-3) and distance[-1] > 1e-3
    assert result.status_name(0) == "not_converged" and result.stop_step[0] == -1


def test_a_start_at_a_minimum_has_converged_at_step_zero():
    surface = surfaces.get("rosenbrock")
    result = simulate.run(surface, optimizers.get("sgd"), np.array([1.0, 1.0]), 10)
    assert result.status_name(0) == "converged" and result.stop_step[0] == 0
    assert len(result.path(0)) == 11


def test_gradient_criterion_needs_a_still_point_without_known_minimum():
    surface = surfaces.from_expression("(x - 1)**2 + (y + 2)**2")
    result = simulate.run(surface, optimizers.get("sgd", learning_rate=0.1),
                          np.array([3.0, 3.0]), 1000)
    assert result.status_name(0) == "converged"
    np.testing.assert_allclose(result.final_point[0], [1.0, -2.0], atol=1e-5)
    assert result.minimum_index[0] == -1


def test_divergence_stops_at_the_last_finite_point_without_warnings():
    surface = surfaces.get("rosenbrock")
    opt = optimizers.get("sgd", learning_rate=1.0)
    result = simulate.run(surface, opt, np.array([[-1.5, 2.0], [1.0, 1.0]]), 100)
    assert result.status_name(0) == "diverged"
    k = int(result.stop_step[0])
    path = result.path(0)
    assert len(path) == k and np.all(np.isfinite(result.paths))
    assert np.all(np.isfinite(result.losses)) and np.all(np.isfinite(result.grad_norms))
    np.testing.assert_array_equal(result.final_point[0], path[-1])
    assert np.all(np.isfinite(result.final_loss))
    assert result.status_name(1) == "converged"


@pytest.mark.parametrize("optimizer_id", optimizers.ids())
@pytest.mark.parametrize("surface_id", surfaces.ids())
def test_huge_learning_rates_never_leak_nan_or_warnings(optimizer_id, surface_id):
    surface = surfaces.get(surface_id)
    opt = optimizers.get(optimizer_id, learning_rate=10.0)
    x0, x1, y0, y1 = surface.domain
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, 4), np.linspace(y0, y1, 4)), -1)
    result = simulate.run(surface, opt, grid.reshape(-1, 2), 60)
    for array in (result.paths, result.losses, result.grad_norms, result.final_point,
                  result.final_loss):
        assert np.all(np.isfinite(array))
    bound = Tolerances().bound_for(surface)
    assert np.all(np.abs(result.paths) <= bound)
    stopped = (result.status == DIVERGED) | (result.status == ESCAPED)
    assert np.all(result.stop_step[stopped] >= 1)


def test_a_start_where_the_surface_is_undefined_is_undefined_and_never_runs():
    surface = surfaces.from_expression("log(x) + y**2")
    result = simulate.run(surface, optimizers.get("adam"), np.array([[-1.0, 0.0], [1.0, 1.0]]), 5)
    assert result.status_name(0) == "undefined" and result.stop_step[0] == 0
    assert len(result.path(0)) == 0
    assert np.all(np.isfinite(result.losses)) and np.all(np.isfinite(result.final_loss))
    assert result.status_name(1) == "not_converged"


def test_bad_arguments_are_refused():
    surface, opt = surfaces.get("bowl"), optimizers.get("sgd")
    with pytest.raises(ValueError, match="starts"):
        simulate.run(surface, opt, np.array([[np.nan, 0.0]]), 5)
    with pytest.raises(ValueError, match="starts"):
        simulate.run(surface, opt, np.zeros((3, 3)), 5)
    with pytest.raises(ValueError, match="steps"):
        simulate.run(surface, opt, np.zeros((1, 2)), -1)
    with pytest.raises(ValueError, match="steps"):
        simulate.run(surface, opt, np.zeros((1, 2)), 2.5)


@pytest.mark.parametrize("compiled", [False, None])
def test_keep_path_false_memory_is_independent_of_the_step_count(compiled):
    surface = surfaces.get("rosenbrock")
    opt = optimizers.get("adam")
    starts = np.random.default_rng(1).uniform(-2, 2, size=(20_000, 2))
    # Compiling (or loading) a kernel is a one-off that is not the run's data: do it first
    # (with as many starts, so the same kernel: maps fuse theirs with the surface), and let
    # compilations that earlier runs started in the background finish.
    simulate.run(surface, opt, starts, 3, keep_path=False, compiled=compiled)
    kernels.wait_for_background()
    tracemalloc.start()
    simulate.run(surface, opt, starts, 300, keep_path=False, compiled=compiled)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # A (T, N, 2) float64 path would take 96 MB; the summaries need a few MB.
    assert peak < 20 * starts.nbytes


def test_stepper_in_chunks_equals_one_run_and_records_vectors():
    surface = surfaces.get("ravine")
    opt = optimizers.get("momentum", learning_rate=0.01)
    starts = np.array([surface.start, [1.0, 1.0]])
    whole = simulate.run(surface, opt, starts, 120)
    stepper = simulate.Stepper(surface, opt, starts, 120, keep_vectors=True)
    taken = [stepper.advance(25) for _ in range(6)]
    assert taken == [25, 25, 25, 25, 20, 0] and stepper.done
    chunked = stepper.result()
    np.testing.assert_array_equal(chunked.paths, whole.paths)
    np.testing.assert_array_equal(chunked.status, whole.status)
    # The recorded gradient is the surface's gradient at each recorded point...
    np.testing.assert_allclose(stepper.grads[:, 0], surface.grad(whole.paths[:, 0]))
    # ...and the velocity is SGD's momentum slot: the step just taken.
    steps_taken = np.diff(whole.paths[:, 0], axis=0)
    np.testing.assert_allclose(stepper.velocities[1:, 0], steps_taken, atol=1e-12)
    partial = simulate.Stepper(surface, opt, starts, 120)
    partial.advance(10)
    assert partial.result().paths.shape == (11, 2, 2) and not partial.done
