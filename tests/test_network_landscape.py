"""The network's own landscape: snapshots, planes, the fast loss surface and honest projection.

The TensorFlow tests train once (two optimizers, lockstep, a few hundred bundled images) and
share the result; the Keras model itself is the oracle for the fast grid.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from engine.mnist import datasets, loss_plane, snapshots
from engine.mnist import network_landscape as nl
from engine.mnist.config import TrainConfig, TrainEntry
from engine.mnist.snapshots import N_PARAMS, Trajectory

# --- snapshots (no TensorFlow) ------------------------------------------------------------


@pytest.mark.parametrize(("batches", "optimizers"), [(1, 1), (10, 3), (500, 3), (7500, 12),
                                                     (100_000, 20), (3, 20)])
def test_the_snapshot_plan_stays_in_its_memory_budget(batches, optimizers):
    plan = snapshots.plan(batches, optimizers)
    due = plan.batches()
    assert due[0] == 0 and due[-1] == batches  # the initial and the final weights
    assert len(due) == plan.count <= snapshots.MAX_SNAPSHOTS
    assert np.all(np.diff(due) >= 1) and np.all(np.diff(due)[:-1] == plan.every)
    assert plan.total_bytes == optimizers * plan.count * N_PARAMS * 4
    assert plan.total_bytes <= max(snapshots.SNAPSHOT_BUDGET_BYTES, optimizers * 2 * N_PARAMS * 4)
    assert "MB in all" in plan.describe()


def test_three_optimizers_for_five_bundled_epochs_get_about_fifty_snapshots_each():
    plan = snapshots.plan(5 * 100, 3)
    assert (plan.every, plan.count) == (10, 51)
    assert plan.total_bytes / 1e6 == pytest.approx(62.3, abs=0.1)


def test_flatten_round_trips_keras_weight_lists():
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(shape).astype(np.float32) for shape in snapshots.LAYER_SHAPES]
    vector = snapshots.flatten(weights)
    assert vector.shape == (N_PARAMS,) == (101_770,)
    for back, original in zip(snapshots.unflatten(vector), weights, strict=True):
        assert np.array_equal(back, original)
    with pytest.raises(ValueError, match="expected 101770 weights"):
        snapshots.unflatten(vector[:-1])


def test_a_trajectory_keeps_each_batch_once_and_never_non_finite_weights():
    trajectory = Trajectory(snapshots.plan(4, 1, n_params=3))
    assert trajectory.record(0, [np.zeros(3)])
    assert not trajectory.record(0, [np.ones(3)])  # the same batch again
    assert not trajectory.record(2, [np.array([1.0, np.nan, 0.0])])
    assert trajectory.record(4, [np.ones(3)])
    assert trajectory.batches.tolist() == [0, 4]
    assert np.array_equal(trajectory.weights, [[0, 0, 0], [1, 1, 1]])


# --- planes and the fast loss (no TensorFlow) ----------------------------------------------


@pytest.fixture(scope="module")
def images():
    data = datasets.bundled()
    return loss_plane.images_as_inputs(data.x_train[:500]), data.y_train[:500].astype(np.int64)


def _weights(seed: int, scale: float = 0.05) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return snapshots.flatten([scale * rng.standard_normal(shape)
                              for shape in snapshots.LAYER_SHAPES])


def test_the_fast_slice_equals_the_loss_computed_in_full(images):
    inputs, labels = images
    plane = loss_plane.random_plane(_weights(1), seed=3)
    slice_loss = loss_plane.SliceLoss(inputs, labels, plane.origin, plane.directions)
    points = np.array([[0.0, 0.0], [0.7, -0.3], [-1.0, 1.0], [2.5, 0.25]])
    fast = slice_loss.losses(points)
    full = loss_plane.direct_losses(inputs, labels, plane.at(points))
    np.testing.assert_allclose(fast, full, rtol=1e-5)
    alpha, beta = np.linspace(-1, 1, 11), np.linspace(-0.5, 2, 13)
    grid = slice_loss.grid(alpha, beta)
    assert grid.shape == (11, 13)
    np.testing.assert_allclose(grid[3, 7], slice_loss.losses([[alpha[3], beta[7]]])[0],
                               rtol=1e-6)


def test_the_loss_is_keras_cross_entropy_from_the_logits_even_when_huge(images):
    inputs, labels = images
    weights = _weights(2, scale=40.0)  # logits in the thousands: softmax would saturate
    loss = loss_plane.direct_losses(inputs, labels, weights[None])[0]
    hidden = np.maximum(inputs @ snapshots.unflatten(weights)[0] + snapshots.unflatten(weights)[1],
                        0).astype(np.float64)
    logits = hidden @ snapshots.unflatten(weights)[2] + snapshots.unflatten(weights)[3]
    expected = np.mean(np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1))
                       + logits.max(1) - logits[np.arange(len(labels)), labels])
    assert math.isfinite(loss) and loss > 100
    assert loss == pytest.approx(expected, rel=1e-4)


def test_pca_finds_the_directions_of_a_path_and_starts_it_at_the_origin():
    rng = np.random.default_rng(0)
    start = _weights(0)
    first, second = (d / np.linalg.norm(d) for d in rng.standard_normal((2, N_PARAMS)))
    t = np.linspace(0, 1, 30)[:, None]
    path = (start + 5 * t * first + np.sin(3 * t) * second
            + 1e-5 * rng.standard_normal((30, N_PARAMS))).astype(np.float32)
    path[0] = start
    plane = loss_plane.pca_plane(path, start)
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-9)
    assert abs(plane.directions[0] @ first) > 0.99
    assert plane.explained_variance[0] > plane.explained_variance[1] > 0
    assert sum(plane.explained_variance) <= 1
    assert "% of variance" in plane.axis_titles[0]
    coords, off = plane.project(path)
    np.testing.assert_allclose(coords[0], [0, 0], atol=1e-6)  # the start projects to 0
    assert np.max(off) < 0.01  # the noise: 1e-5 × √101,770
    with pytest.raises(loss_plane.PlaneError, match="one line"):
        loss_plane.pca_plane(np.stack([start, start + first, start + 2 * first]), start)


def test_filter_normalized_directions_take_each_units_norm_and_leave_biases():
    center = _weights(4)
    direction = loss_plane.filter_normalized_direction(center, np.random.default_rng(1))
    for d, w in zip(snapshots.unflatten(direction), snapshots.unflatten(center), strict=True):
        if d.ndim == 2:  # a Dense kernel is (inputs, units): one column per unit
            np.testing.assert_allclose(np.linalg.norm(d, axis=0), np.linalg.norm(w, axis=0),
                                       rtol=1e-6)
        else:
            assert not d.any()


def test_a_random_walk_takes_the_given_step_lengths():
    lengths = [0.5, 2.0, 1.0]
    walk = loss_plane.random_walk(_weights(5), lengths, seed=2)
    np.testing.assert_allclose(loss_plane.step_lengths(walk), lengths, rtol=1e-5)


def test_the_endpoints_plane_refuses_two_identical_runs():
    start, end = _weights(6), _weights(7)
    with pytest.raises(loss_plane.PlaneError, match="one line"):
        loss_plane.endpoints_plane(start, end, end)


# --- real training (TensorFlow) -------------------------------------------------------------


@pytest.fixture(scope="module")
def trained():
    from engine.mnist import training

    data = datasets.first_training_samples(datasets.bundled(), 400)
    config = TrainConfig(optimizers=(TrainEntry("sgd", learning_rate=0.05), TrainEntry("adam")),
                         epochs=2, batch_size=32, dataset="bundled", seed=2)
    results = training.train(config, dataset=data, record_snapshots=True)
    session = nl.session_from(results, data, config.validation_split, batches_per_epoch=10,
                              samples=320)
    return config, data, results, session


@pytest.mark.keras
def test_every_optimizer_is_recorded_at_the_same_batches_from_the_same_weights(trained):
    _, _, results, session = trained
    sgd, adam = (r.trajectory for r in results)
    assert sgd.batches.tolist() == adam.batches.tolist()
    assert sgd.batches[0] == 0 and sgd.batches[-1] == 20  # 2 epochs × 10 batches
    assert np.array_equal(sgd.weights[0], adam.weights[0])
    assert not np.array_equal(sgd.weights[-1], adam.weights[-1])
    assert session.n_images == 320 and len(session.runs) == 2


@pytest.mark.keras
@pytest.mark.parametrize("plane", nl.PLANES)
def test_all_paths_start_at_one_point(trained, plane):
    landscape = nl.compute(trained[3], plane, grid=11, walk=False)
    first = landscape.paths[0][0]
    for path in landscape.paths:
        np.testing.assert_array_equal(path[0], first)
    coords = np.concatenate(landscape.paths)
    assert landscape.alpha[0] < coords[:, 0].min() and coords[:, 0].max() < landscape.alpha[-1]
    assert landscape.beta[0] < coords[:, 1].min() and coords[:, 1].max() < landscape.beta[-1]
    assert np.isfinite(landscape.loss).all() and landscape.loss.shape == (11, 11)


@pytest.mark.keras
def test_the_endpoints_plane_holds_the_start_and_both_finals_with_their_true_loss(trained):
    landscape = nl.compute(trained[3], "endpoints", grid=nl.DEFAULT_GRID, walk=False)
    for k in range(2):
        ends = [0, -1]
        scale = landscape.from_start[k][-1]
        assert np.all(landscape.off_plane[k][ends] <= 1e-6 * scale)  # on the plane
        true = landscape.path_loss[k][ends]
        np.testing.assert_allclose(landscape.surface_loss[k][ends], true, rtol=1e-5)
        interpolated = loss_plane.bilinear(landscape.alpha, landscape.beta, landscape.loss,
                                           landscape.paths[k][ends])
        np.testing.assert_allclose(interpolated, true, rtol=5e-3)  # bilinear on a 41 grid
    # The first final point lies on the first axis, the start at the origin.
    assert landscape.paths[0][-1][1] == pytest.approx(0, abs=1e-9)
    np.testing.assert_allclose(landscape.paths[1][0], [0, 0], atol=1e-12)
    # Between the snapshots the paths leave the plane: the distance is reported, not hidden.
    assert max(off.max() for off in landscape.off_plane) > 0


@pytest.mark.keras
def test_the_fast_grid_equals_the_keras_model_at_sampled_grid_points(trained):
    from engine.mnist import training

    _, _, _, session = trained
    landscape = nl.compute(session, "pca", grid=13, walk=False)
    model = training.build_model(0)
    images = session.inputs.reshape(-1, 28, 28)
    for i, j in [(0, 0), (6, 6), (12, 3), (2, 11)]:
        weights = landscape.plane.at([[landscape.alpha[i], landscape.beta[j]]])[0]
        model.set_weights(snapshots.unflatten(weights))
        keras_loss = model.evaluate(images, session.labels, batch_size=64, verbose=0,
                                    return_dict=True)["loss"]
        assert landscape.loss[i, j] == pytest.approx(keras_loss, rel=1e-4)


@pytest.mark.keras
def test_true_losses_match_keras_and_the_lines_end_at_the_paths_ends(trained):
    from engine.mnist import training

    _, _, results, session = trained
    landscape = nl.compute(session, "pca", grid=11)
    model = training.build_model(0)
    model.set_weights(snapshots.unflatten(results[1].trajectory.weights[-1]))
    keras_loss = model.evaluate(session.inputs.reshape(-1, 28, 28), session.labels,
                                verbose=0, return_dict=True)["loss"]
    assert landscape.path_loss[1][-1] == pytest.approx(keras_loss, rel=1e-4)
    t = landscape.line_t
    at_start, at_end = int(np.argmin(abs(t))), int(np.argmin(abs(t - 1)))
    for k in range(2):
        assert landscape.start_to_final[k][at_start] == pytest.approx(
            landscape.path_loss[k][0], rel=1e-5)
        assert landscape.start_to_final[k][at_end] == pytest.approx(
            landscape.path_loss[k][-1], rel=1e-5)
    assert landscape.between_finals[at_end] == pytest.approx(landscape.path_loss[1][-1],
                                                             rel=1e-5)
    assert landscape.walk is not None and landscape.walk.path.shape == (21, 2)
    assert landscape.walk.explained_variance[0] > 0.3  # PCA makes a random walk look smooth


@pytest.mark.keras
def test_a_landscape_reports_progress_and_stops_when_cancelled(trained):
    seen = []
    nl.compute(trained[3], "pca", grid=11, walk=False, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    cancel = threading.Event()

    def cancel_midway(fraction):
        if fraction > 0.3:
            cancel.set()

    with pytest.raises(nl.Cancelled):
        nl.compute(trained[3], "pca", grid=41, walk=False, cancel=cancel,
                   progress=cancel_midway)
