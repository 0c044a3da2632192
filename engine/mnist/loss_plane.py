"""The MLP's loss on a plane (or a line) through weight space, fast, and planes to put it on.

A plane is ``origin + a·d₁ + b·d₂`` in the 101,770-dimensional weight space. Its first
layer is linear in the plane coordinates: ``X·(W + a·D + b·E) = X·W + a·X·D + b·X·E``, so
:class:`SliceLoss` computes three (N × 784) · (784 × 128) products once, and each point of a
grid then costs only the ReLU and the 128 × 10 layer. The loss is Keras's: sparse
categorical cross-entropy computed from the logits (what Keras computes inside ``fit`` and
``evaluate``, where it sees through the softmax), averaged over the images.

Planes (:class:`Plane`): ``pca`` (the first two principal directions of snapshots),
``endpoints`` (through the initial weights and two final weights) and ``random``
(filter-normalized random directions around one point, Li et al. 2018). NumPy only.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.mnist.snapshots import LAYER_SHAPES, unflatten

#: Points evaluated per chunk (cancel is checked between chunks).
CHUNK = 8
#: Images per block: a block's hidden layers for a chunk of points stay in the cache.
IMAGE_BLOCK = 1000
#: Columns of the weight vector handled at once when forming PCA's Gram matrix.
_BLOCK = 16384


class Cancelled(Exception):
    """Raised when the ``cancel`` event was set during a computation."""


class PlaneError(ValueError):
    """A plane cannot be built from these weights (e.g. all on one line)."""


def images_as_inputs(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) images as the model's inputs: float32 (N, 784) scaled to [0, 1]."""
    inputs = np.asarray(images).reshape(len(images), -1).astype(np.float32)
    inputs /= 255
    return inputs


def _cross_entropy_sums(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Summed sparse categorical cross-entropy of (..., N, 10) logits over the N images (one
    float64 sum per leading index), as Keras computes it from the logits in float32: the
    log-sum-exp after subtracting the largest logit, so it stays finite for finite logits.
    ``logits`` is overwritten."""
    logits -= logits.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(logits).sum(axis=-1))
    return (lse - logits[..., np.arange(len(labels)), labels]).sum(axis=-1, dtype=np.float64)


def direct_losses(inputs: np.ndarray, labels: np.ndarray, weights: np.ndarray,
                  cancel: threading.Event | None = None,
                  progress: Callable[[float], None] | None = None,
                  block: int = 8) -> np.ndarray:
    """The loss of each weight vector, computed in full (the "true" loss of a snapshot).

    Parameters
    ----------
    inputs, labels
        float32 (N, 784) inputs (:func:`images_as_inputs`) and their digits.
    weights
        (S, 101770) flattened weights (:func:`engine.mnist.snapshots.flatten`).
    cancel, progress
        A set event raises :class:`Cancelled` between blocks; ``progress(fraction)``.
    block
        Snapshots whose first layers share one matrix product.
    """
    weights = np.atleast_2d(weights)
    labels = np.asarray(labels, dtype=np.int64)
    losses = np.empty(len(weights))
    units = LAYER_SHAPES[0][1]
    for start in range(0, len(weights), block):
        _check(cancel)
        layers = [unflatten(np.asarray(w, dtype=np.float32)) for w in weights[start:start + block]]
        kernels = np.concatenate([layer[0] for layer in layers], axis=1)
        hidden_all = inputs @ kernels
        for offset, (_, bias, kernel, out_bias) in enumerate(layers):
            hidden = hidden_all[:, offset * units:(offset + 1) * units]
            hidden += bias
            np.maximum(hidden, 0, out=hidden)
            logits = hidden @ kernel + out_bias
            losses[start + offset] = _cross_entropy_sums(logits, labels) / len(labels)
        if progress is not None:
            progress(min(1.0, (start + block) / len(weights)))
    return losses


class SliceLoss:
    """The loss at ``origin + Σ cᵢ·dᵢ`` for many coefficient vectors ``c`` at once.

    Parameters
    ----------
    inputs, labels
        float32 (N, 784) inputs and their digits (the images the loss is measured on).
    origin
        (P,) flattened weights at ``c = 0``.
    directions
        (m, P) flattened directions (m = 2 for a plane, 1 for a line).
    """

    def __init__(self, inputs: np.ndarray, labels: np.ndarray, origin: np.ndarray,
                 directions: np.ndarray) -> None:
        self.labels = np.asarray(labels, dtype=np.int64)
        vectors = [np.asarray(origin, np.float32), *np.asarray(directions, np.float32)]
        layers = [unflatten(v) for v in vectors]
        # (m + 1) products for the whole slice: X·W + b, X·D + d_b, X·E + e_b.
        self.first = [inputs @ kernel + bias for kernel, bias, _, _ in layers]
        self.second = [(kernel, bias) for _, _, kernel, bias in layers]

    def losses(self, coefficients: np.ndarray, cancel: threading.Event | None = None,
               progress: Callable[[float], None] | None = None) -> np.ndarray:
        """float64 losses at each row of ``coefficients`` (M, m).

        Raises :class:`Cancelled` when ``cancel`` is set (checked every :data:`CHUNK`
        points); ``progress(fraction)`` as it goes.
        """
        directions = len(self.first) - 1
        coefficients = np.asarray(coefficients, dtype=np.float32).reshape(-1, directions)
        n_images, units = self.first[0].shape
        count = len(coefficients)
        totals = np.zeros(count)
        with_one = np.concatenate([np.ones((count, 1), np.float32), coefficients], axis=1)
        kernels = np.stack([kernel for kernel, _ in self.second])  # (m + 1, 128, 10)
        out_biases = with_one @ np.stack([bias for _, bias in self.second])  # (M, 10)
        # Blocks of images keep every array of the inner loop in the cache.
        block = min(IMAGE_BLOCK, n_images)
        layer = np.empty((block, units), np.float32)
        base = np.empty((block, units), np.float32)  # X·W + b + Σ_{i≥2} cᵢ·X·Dᵢ
        scaled = np.empty((block, units), np.float32)
        logits = np.empty((CHUNK, block, kernels.shape[-1]), np.float32)
        steps = math.ceil(n_images / block) * math.ceil(count / CHUNK)
        done = 0
        for first in range(0, n_images, block):
            z = [part[first:first + block] for part in self.first]
            labels = self.labels[first:first + block]
            rows = len(labels)
            base_key: tuple | None = None
            for start in range(0, count, CHUNK):
                _check(cancel)
                chunk = coefficients[start:start + CHUNK]
                for row, c in enumerate(chunk):
                    key = tuple(c[1:].tolist())
                    if key != base_key:  # a grid walks along its first axis: one base a row
                        np.copyto(base[:rows], z[0])
                        for weight, z_i in zip(c[1:], z[2:], strict=True):
                            np.multiply(z_i, weight, out=scaled[:rows])
                            base[:rows] += scaled[:rows]
                        base_key = key
                    hidden = layer[:rows]
                    np.multiply(z[1], c[0], out=hidden)
                    hidden += base[:rows]
                    np.maximum(hidden, 0, out=hidden)
                    kernel = np.tensordot(with_one[start + row], kernels, axes=1)
                    np.matmul(hidden, kernel, out=logits[row, :rows])
                points = len(chunk)
                chunk_logits = logits[:points, :rows] + out_biases[start:start + points, None, :]
                totals[start:start + points] += _cross_entropy_sums(chunk_logits, labels)
                done += 1
                if progress is not None and done % 16 == 0:
                    progress(done / steps)
        if progress is not None:
            progress(1.0)
        return totals / n_images

    def grid(self, alpha: np.ndarray, beta: np.ndarray, cancel: threading.Event | None = None,
             progress: Callable[[float], None] | None = None) -> np.ndarray:
        """Losses on a plane's grid: ``loss[i, j]`` at ``(alpha[i], beta[j])`` (float64)."""
        if len(self.first) != 3:
            raise ValueError("grid() needs a plane: two directions")
        b, a = np.meshgrid(beta, alpha, indexing="ij")  # walks along alpha, one row per b
        points = np.stack([a.ravel(), b.ravel()], axis=1)
        return self.losses(points, cancel, progress).reshape(len(beta), len(alpha)).T


@dataclass(frozen=True)
class Plane:
    """``origin + a·directions[0] + b·directions[1]`` in weight space (float64).

    ``kind`` is ``"pca"``, ``"endpoints"`` or ``"random"``; ``explained_variance`` holds
    PCA's two ratios (None otherwise); ``axis_titles`` say what each axis is.
    """

    kind: str
    origin: np.ndarray
    directions: np.ndarray
    explained_variance: tuple[float, float] | None
    axis_titles: tuple[str, str]

    def project(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Plane coordinates (S, 2) of each row of ``weights`` (least squares: the nearest
        point of the plane) and each one's distance from the plane (S,), in weight space."""
        weights = np.atleast_2d(weights)
        gram = self.directions @ self.directions.T
        coords = np.empty((len(weights), 2))
        off = np.empty(len(weights))
        for row, vector in enumerate(weights):
            offset = vector.astype(np.float64) - self.origin
            along = self.directions @ offset
            coords[row] = np.linalg.solve(gram, along)
            residual = offset - coords[row] @ self.directions
            off[row] = float(np.sqrt(residual @ residual))
        return coords, off

    def at(self, coords: np.ndarray) -> np.ndarray:
        """float32 weights at plane coordinates (M, 2)."""
        coords = np.atleast_2d(np.asarray(coords, dtype=np.float64))
        return (self.origin + coords @ self.directions).astype(np.float32)


def pca_plane(weights: np.ndarray, start: np.ndarray,
              titles: tuple[str, str] = ("PC1", "PC2")) -> Plane:
    """The plane of the first two principal directions of ``weights`` (S, P).

    The plane passes through the snapshots' mean (PCA's plane); its origin is the
    projection of ``start`` on it, so ``start`` sits at (0, 0) whenever it lies on it, and
    every path from ``start`` begins at (0, 0) after projection. Axis titles carry the
    explained variance, e.g. ``"PC1 (83.1 % of variance)"``.

    Raises
    ------
    PlaneError
        With fewer than three different snapshots (no second direction).
    """
    weights = np.atleast_2d(weights)
    if len(weights) < 3:
        raise PlaneError("PCA needs at least three snapshots")
    mean = weights.mean(axis=0, dtype=np.float64)
    gram = np.zeros((len(weights), len(weights)))
    for first in range(0, weights.shape[1], _BLOCK):
        block = weights[:, first:first + _BLOCK].astype(np.float64) - mean[first:first + _BLOCK]
        gram += block @ block.T
    values, vectors = np.linalg.eigh(gram)
    values, vectors = values[::-1], vectors[:, ::-1]
    total = float(values.clip(min=0).sum())
    if total <= 0 or values[1] <= total * 1e-12:
        raise PlaneError("the snapshots lie on one line: PCA has no second direction")
    directions = np.zeros((2, weights.shape[1]))
    for first in range(0, weights.shape[1], _BLOCK):
        block = weights[:, first:first + _BLOCK].astype(np.float64) - mean[first:first + _BLOCK]
        directions[:, first:first + _BLOCK] = vectors[:, :2].T @ block
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    ratios = (float(values[0] / total), float(values[1] / total))
    offset = np.asarray(start, np.float64) - mean
    origin = mean + (directions @ offset) @ directions
    labelled = tuple(f"{title} ({100 * r:.1f} % of variance)"
                     for title, r in zip(titles, ratios, strict=True))
    return Plane("pca", origin, directions, ratios, labelled)  # type: ignore[arg-type]


def endpoints_plane(start: np.ndarray, first: np.ndarray, second: np.ndarray,
                    names: tuple[str, str] = ("the first", "the second")) -> Plane:
    """The plane through ``start`` and two final weight vectors, with orthonormal axes: the
    first towards ``first``; the second towards the part of ``second`` orthogonal to it.

    Raises
    ------
    PlaneError
        When the three points lie on one line (e.g. two identical runs).
    """
    origin = np.asarray(start, np.float64)
    u = np.asarray(first, np.float64) - origin
    v = np.asarray(second, np.float64) - origin
    u_norm = float(np.linalg.norm(u))
    if u_norm == 0:
        raise PlaneError(f"{names[0]} final weights equal the initial weights")
    d1 = u / u_norm
    v_rest = v - (v @ d1) * d1
    v_norm = float(np.linalg.norm(v_rest))
    if v_norm <= 1e-9 * max(u_norm, float(np.linalg.norm(v))):
        raise PlaneError(f"the initial weights and the final weights of {names[0]} and "
                         f"{names[1]} lie on one line: choose two runs that end apart")
    titles = (f"towards {names[0]}'s final weights",
              f"towards {names[1]}'s (the part orthogonal to the first axis)")
    return Plane("endpoints", origin, np.stack([d1, v_rest / v_norm]), None, titles)


def filter_normalized_direction(reference: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A Gaussian random direction scaled per unit like ``reference`` (Li et al., 2018).

    Each Dense kernel is (inputs, units): its column for unit j gets the norm of the
    reference kernel's column j. Bias directions are zero (Li et al. leave biases out).
    """
    direction = rng.standard_normal(reference.shape[-1])
    layers = unflatten(direction)
    for array, ref in zip(layers, unflatten(np.asarray(reference, np.float64)), strict=True):
        if array.ndim == 2:
            norms = np.linalg.norm(array, axis=0)
            array *= np.linalg.norm(ref, axis=0) / np.where(norms > 0, norms, 1.0)
        else:
            array[:] = 0.0
    return direction


def random_plane(center: np.ndarray, seed: int = 0, name: str = "the final point") -> Plane:
    """Two filter-normalized random directions around ``center`` (coordinates are multiples
    of them, so ±1 moves each unit's weights by their own norm)."""
    rng = np.random.default_rng(seed)
    center = np.asarray(center, np.float64)
    directions = np.stack([filter_normalized_direction(center, rng) for _ in range(2)])
    titles = (f"random direction 1 (filter-normalized, around {name})",
              "random direction 2 (filter-normalized)")
    return Plane("random", center, directions, None, titles)


def grid_axes(coords: np.ndarray, size: int, margin: float = 0.2,
              at_least: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two axes of ``size`` points covering every row of ``coords`` (K, 2) with ``margin``
    (a fraction of the span) on each side; ``at_least`` widens each axis to
    ``[-at_least, at_least]`` when given."""
    axes = []
    for column in range(2):
        values = coords[:, column]
        low, high = float(values.min()), float(values.max())
        span = high - low
        if span <= 0:
            span = max(abs(low), 1.0)
        low, high = low - margin * span, high + margin * span
        if at_least is not None:
            low, high = min(low, -at_least), max(high, at_least)
        axes.append(np.linspace(low, high, size))
    return axes[0], axes[1]


def bilinear(alpha: np.ndarray, beta: np.ndarray, values: np.ndarray,
             points: np.ndarray) -> np.ndarray:
    """``values[i, j]`` (at ``alpha[i], beta[j]``) interpolated bilinearly at ``points``."""
    points = np.atleast_2d(points)
    out = np.empty(len(points))
    for row, (a, b) in enumerate(points):
        i = int(np.clip(np.searchsorted(alpha, a) - 1, 0, len(alpha) - 2))
        j = int(np.clip(np.searchsorted(beta, b) - 1, 0, len(beta) - 2))
        s = (a - alpha[i]) / (alpha[i + 1] - alpha[i])
        t = (b - beta[j]) / (beta[j + 1] - beta[j])
        out[row] = ((1 - s) * (1 - t) * values[i, j] + s * (1 - t) * values[i + 1, j]
                    + (1 - s) * t * values[i, j + 1] + s * t * values[i + 1, j + 1])
    return out


def random_walk(start: np.ndarray, step_lengths: Sequence[float], seed: int = 0) -> np.ndarray:
    """A walk from ``start`` with steps of the given lengths in uniformly random directions:
    (len(step_lengths) + 1, P) float32 (the control for PCA's smooth-looking paths)."""
    rng = np.random.default_rng(seed)
    walk = np.empty((len(step_lengths) + 1, len(start)), dtype=np.float32)
    point = np.asarray(start, np.float64).copy()
    walk[0] = point
    for index, length in enumerate(step_lengths):
        direction = rng.standard_normal(len(start))
        point += float(length) * direction / np.linalg.norm(direction)
        walk[index + 1] = point
    return walk


def step_lengths(weights: np.ndarray) -> np.ndarray:
    """The distance between consecutive rows of ``weights`` (float64)."""
    lengths = np.empty(max(len(weights) - 1, 0))
    for index in range(len(lengths)):
        step = weights[index + 1].astype(np.float64) - weights[index]
        lengths[index] = math.sqrt(float(step @ step))
    return lengths


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled
