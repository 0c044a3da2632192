"""Gradient noise in the runner: reproducible, per start, Gaussian, and only the optimizer's."""

from __future__ import annotations

import numpy as np
import pytest

from engine import optimizers
from engine.landscape import simulate, surfaces
from engine.landscape.simulate import DIVERGED, NOT_CONVERGED, GradientNoise, Tolerances

BOWL = surfaces.get("bowl")
ROSENBROCK = surfaces.get("rosenbrock")


def _noisy(surface, optimizer, starts, steps, noise, **kwargs):
    return simulate.run(surface, optimizer, starts, steps, noise=noise, **kwargs)


def test_same_seed_same_run_and_different_seeds_differ():
    opt = optimizers.get("adam", learning_rate=0.05)
    starts = np.array([[-1.5, 2.0], [0.5, -0.5], [1.8, 2.5]])
    first = _noisy(ROSENBROCK, opt, starts, 200, GradientNoise(2.0, seed=7))
    again = _noisy(ROSENBROCK, opt, starts, 200, GradientNoise(2.0, seed=7))
    other = _noisy(ROSENBROCK, opt, starts, 200, GradientNoise(2.0, seed=8))
    np.testing.assert_array_equal(first.paths, again.paths)
    np.testing.assert_array_equal(first.stop_step, again.stop_step)
    for i in range(3):
        assert not np.array_equal(first.path(i)[1:5], other.path(i)[1:5])


def test_scale_zero_is_exactly_no_noise():
    opt = optimizers.get("momentum", learning_rate=1e-3)
    starts = np.random.default_rng(2).uniform(-2, 2, size=(40, 2))
    exact = simulate.run(ROSENBROCK, opt, starts, 300)
    zero = _noisy(ROSENBROCK, opt, starts, 300, GradientNoise(0.0, seed=3))
    for name in ("paths", "losses", "grad_norms", "status", "stop_step", "final_point"):
        np.testing.assert_array_equal(getattr(zero, name), getattr(exact, name))


def test_noise_changes_the_path_from_the_first_step():
    opt = optimizers.get("sgd", learning_rate=0.1)
    exact = simulate.run(BOWL, opt, [2.0, -1.0], 3)
    noisy = _noisy(BOWL, opt, [2.0, -1.0], 3, GradientNoise(0.5, seed=1))
    np.testing.assert_array_equal(noisy.paths[0], exact.paths[0])
    # SGD: the step is -lr (g + noise), with g the true gradient at the start.
    expected = exact.paths[1, 0] - 0.1 * GradientNoise(0.5, seed=1).draw([2.0, -1.0], 0)[0]
    np.testing.assert_allclose(noisy.paths[1, 0], expected, rtol=1e-15)


def _crowd(target, index, rng):
    """50 other starts around ``target`` at ``index``: ten diverge within a few steps, two
    start on the minimum (which the noise kicks off again)."""
    others = rng.uniform(-2.5, 2.5, size=(50, 2))
    others[:10] *= 8  # far out on Rosenbrock: SGD diverges in a few steps
    others[10:12] = (1.0, 1.0)
    rng.shuffle(others)
    return np.insert(others, index, target, axis=0)


@pytest.mark.parametrize("index", [0, 17, 50])
def test_a_start_has_the_same_noisy_path_alone_or_among_50_others(index):
    opt = optimizers.get("sgd", learning_rate=1e-3)
    noise = GradientNoise(1.0, seed=5)
    target = np.array([-1.5, 2.0])
    alone = _noisy(ROSENBROCK, opt, target, 400, noise)
    crowd = _noisy(ROSENBROCK, opt, _crowd(target, index, np.random.default_rng(index)), 400,
                   noise)
    stopped_early = crowd.stop_step[(crowd.status != NOT_CONVERGED)]
    assert np.sum(crowd.status == DIVERGED) >= 10 and np.min(stopped_early) <= 5
    on_minimum = np.flatnonzero(np.all(_crowd(target, index, np.random.default_rng(index))
                                       == (1.0, 1.0), axis=1))
    assert len(on_minimum) == 2 and np.all(crowd.status[on_minimum] == NOT_CONVERGED)
    np.testing.assert_array_equal(crowd.paths[:, index], alone.paths[:, 0])
    np.testing.assert_array_equal(crowd.status[index], alone.status[0])
    np.testing.assert_array_equal(crowd.final_point[index], alone.final_point[0])


def test_noise_follows_the_start_not_its_index_nor_the_chunking():
    opt = optimizers.get("rmsprop", learning_rate=0.01)
    noise = GradientNoise(0.3, seed=11)
    starts = np.random.default_rng(4).uniform(-2, 2, size=(30, 2))
    order = np.random.default_rng(5).permutation(30)
    whole = _noisy(ROSENBROCK, opt, starts, 250, noise)
    shuffled = _noisy(ROSENBROCK, opt, starts[order], 250, noise)
    np.testing.assert_array_equal(shuffled.paths, whole.paths[:, order])
    stepper = simulate.Stepper(ROSENBROCK, opt, starts, 250, noise=noise)
    while not stepper.done:
        stepper.advance(37)
    np.testing.assert_array_equal(stepper.result().paths, whole.paths)
    summary = _noisy(ROSENBROCK, opt, starts, 250, noise, keep_path=False)
    np.testing.assert_array_equal(summary.final_point, whole.final_point)


def test_the_noise_is_gaussian_with_the_given_scale():
    noise = GradientNoise(0.5, seed=3)
    starts = np.random.default_rng(0).uniform(-3, 3, size=(4000, 2))
    draws = np.stack([noise.draw(starts, k) for k in range(50)])  # (steps, starts, 2)
    flat = draws.reshape(-1, 2)
    n = flat.shape[0]
    assert np.all(np.abs(flat.mean(axis=0)) < 5 * 0.5 / np.sqrt(n))
    np.testing.assert_allclose(flat.std(axis=0), 0.5, rtol=0.01)
    z = flat / 0.5
    assert abs(np.mean(z**3)) < 0.05 and abs(np.mean(z**4) - 3) < 0.1  # skew 0, kurtosis 3
    assert abs(np.mean(np.abs(z) > 1.96) - 0.05) < 0.005
    assert abs(np.corrcoef(flat.T)[0, 1]) < 0.01  # the coordinates are independent
    lag = np.corrcoef(draws[1:, :, 0].ravel(), draws[:-1, :, 0].ravel())[0, 1]
    assert abs(lag) < 0.01  # and so are the steps
    # One start's own stream over many steps has the same statistics.
    own = np.stack([noise.draw([0.25, -1.0], k)[0] for k in range(20000)])
    np.testing.assert_allclose(own.std(axis=0), 0.5, rtol=0.03)


def test_draws_depend_only_on_seed_start_and_step():
    noise = GradientNoise(1.0, seed=9)
    starts = np.random.default_rng(1).uniform(-2, 2, size=(10, 2))
    together = noise.draw(starts, 12)
    one_by_one = np.vstack([noise.draw(s, 12) for s in starts])
    np.testing.assert_array_equal(together, one_by_one)
    np.testing.assert_array_equal(noise.draw([0.0, 0.0], 3), noise.draw([-0.0, 0.0], 3))
    assert not np.array_equal(noise.draw(starts, 12), noise.draw(starts, 13))
    np.testing.assert_array_equal(GradientNoise(2.0, seed=9).draw(starts, 12), 2 * together)


def test_sgd_with_noise_fluctuates_around_the_minimum():
    opt = optimizers.get("sgd", learning_rate=0.1)
    # A tiny x_tol: a noisy iterate almost never lands that close, so the run never stops.
    tol = Tolerances(x_tol=1e-9)
    exact = simulate.run(BOWL, opt, [2.0, -1.0], 1000, tolerances=tol)
    noisy = _noisy(BOWL, opt, [2.0, -1.0], 1000, GradientNoise(1.0, seed=2), tolerances=tol)
    assert noisy.status_name(0) == "not_converged"
    last = noisy.paths[-100:, 0]
    spread = last.std(axis=0)
    assert np.all(spread > 0.05) and np.all(spread < 1.0)  # wanders, but stays near
    assert np.max(np.hypot(last[:, 0], last[:, 1])) < 2.0
    assert np.linalg.norm(last.mean(axis=0)) < 0.2  # around the minimum at (0, 0)
    assert exact.status_name(0) == "converged"  # without noise it settles (stationary point)
    assert np.linalg.norm(exact.final_point[0]) < 1e-8


def test_a_noisy_run_still_converges_near_a_minimum():
    opt = optimizers.get("sgd", learning_rate=0.1)
    result = _noisy(BOWL, opt, [2.0, -1.0], 1000, GradientNoise(1e-3, seed=0),
                    tolerances=Tolerances(x_tol=1e-2))
    assert result.status_name(0) == "converged" and result.minimum_index[0] == 0


def test_records_and_criteria_use_the_true_gradient():
    opt = optimizers.get("momentum", learning_rate=0.01)
    starts = np.array([[-1.5, 2.0], [0.3, 0.2]])
    stepper = simulate.Stepper(ROSENBROCK, opt, starts, 100, keep_vectors=True,
                               noise=GradientNoise(5.0, seed=4))
    stepper.advance()
    result = stepper.result()
    true = ROSENBROCK.grad(result.paths)
    np.testing.assert_allclose(stepper.grads, true, rtol=1e-12)
    np.testing.assert_allclose(result.grad_norms, np.hypot(true[..., 0], true[..., 1]),
                               rtol=1e-12)
    np.testing.assert_allclose(result.losses, ROSENBROCK.value(result.paths), rtol=1e-12)


def _huge(scale):
    """Noise beyond the app's limit (100), to test that the runner survives any gradient."""
    noise = GradientNoise(1.0)
    object.__setattr__(noise, "scale", scale)
    return noise


def test_huge_noise_diverges_cleanly():
    # pytest turns warnings into errors: none may escape, and no NaN or infinity comes out.
    opt = optimizers.get("adam", learning_rate=0.1)
    starts = np.random.default_rng(3).uniform(-2, 2, size=(20, 2))
    for scale in (1e300, 1e30):
        result = _noisy(ROSENBROCK, optimizers.get("sgd"), starts, 50, _huge(scale))
        assert np.all(result.status == DIVERGED)
        for array in (result.paths, result.losses, result.grad_norms, result.final_point,
                      result.final_loss):
            assert np.all(np.isfinite(array))
    adam = _noisy(ROSENBROCK, opt, starts, 50, _huge(1e300))  # Adam's steps stay lr-sized
    assert np.all(np.isfinite(adam.paths))


@pytest.mark.parametrize("kwargs", [
    {"scale": -0.1}, {"scale": float("nan")}, {"scale": float("inf")}, {"scale": "1"},
    {"scale": 100.5},
    {"scale": True}, {"scale": 1.0, "seed": -1}, {"scale": 1.0, "seed": 1.5},
    {"scale": 1.0, "seed": 2**64}, {"scale": 1.0, "seed": False},
])
def test_bad_noise_is_refused(kwargs):
    with pytest.raises(ValueError, match="noise (scale|seed)"):
        GradientNoise(**kwargs)


def test_numpy_numbers_are_accepted():
    noise = GradientNoise(np.float32(0.5), seed=np.int64(3))
    np.testing.assert_array_equal(noise.draw([1.0, 2.0], 0), GradientNoise(0.5, 3).draw([1, 2], 0))
