"""Training benchmark: ``engine.mnist.training.train`` against a bare ``model.fit``, side by side.

Both train the lesson's MLP on the bundled MNIST subset (3,200 training + 800 validation
images, batch 32, validation every epoch) with the same optimizer, initial weights and data.
They run alternately (A, B, A, B, ...) so drift in machine speed hits both alike. Each
repetition measures seconds per epoch the same way for both (epoch begin to epoch end,
validation included): by the engine's own callback for A, by a timing-only callback (no
per-batch hook) for B. The first epoch (tf.function tracing) is left out; of the others, the
mean and the fastest are kept (the fastest is the steadier figure on a busy machine).

Prints medians over the repetitions and the overhead ratios A/B (target: at most 1.05).
Run: ``.venv/bin/python bench/training.py [--optimizer adam --epochs 6 --repeats 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from engine import optimizers  # noqa: E402
from engine.mnist import datasets, training  # noqa: E402


class EpochTimes(training.NullReporter):
    """Collects the engine's per-epoch seconds."""

    def __init__(self):
        self.seconds = []

    def epoch_finished(self, index, log):
        self.seconds.append(log.seconds)


class TimingOnly(keras.callbacks.Callback):
    """Epoch wall times, without a per-batch hook (Keras keeps its fast batch dispatch)."""

    def __init__(self):
        super().__init__()
        self.seconds = []
        self.started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.monotonic() - self.started)


def engine_run(data, optimizer_id, epochs, batch_size):
    """A: the engine, one optimizer; (seconds per epoch: mean, fastest; call wall seconds)."""
    reporter = EpochTimes()
    config = training.TrainConfig(optimizers=(training.TrainEntry(optimizer_id),), epochs=epochs,
                                  batch_size=batch_size, dataset="bundled")
    started = time.perf_counter()
    (result,) = training.train(config, reporter=reporter, dataset=data)
    wall = time.perf_counter() - started
    assert result.status == "completed", result.error
    return statistics.mean(reporter.seconds[1:]), min(reporter.seconds[1:]), wall


def bare_run(data, optimizer_id, epochs, batch_size, initial_weights):
    """B: the same model, weights, data and optimizer with a bare ``model.fit``."""
    started = time.perf_counter()
    model = training.build_model(0, optimizers.get(optimizer_id).to_keras())
    model.set_weights(initial_weights)
    x = data.x_train.astype(np.float32) / np.float32(255)
    x_test = data.x_test.astype(np.float32) / np.float32(255)
    timing = TimingOnly()
    keras.utils.set_random_seed(0)
    model.fit(x, data.y_train, batch_size=batch_size, epochs=epochs, validation_split=0.2,
              shuffle=True, verbose=0, callbacks=[timing])
    model.evaluate(x_test, data.y_test, batch_size=training.TEST_BATCH_SIZE, verbose=0)
    wall = time.perf_counter() - started
    return statistics.mean(timing.seconds[1:]), min(timing.seconds[1:]), wall


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--epochs", type=int, default=6, help="per run; the first is dropped")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is left out)")
    data = datasets.bundled()
    initial_weights = training.build_model(0).get_weights()
    # Warm-up: the first fit in a process pays one-off start-up costs; neither side gets it.
    bare_run(data, args.optimizer, 2, args.batch_size, initial_weights)
    engine, bare = [], []
    for repeat in range(args.repeats):
        engine.append(engine_run(data, args.optimizer, args.epochs, args.batch_size))
        bare.append(bare_run(data, args.optimizer, args.epochs, args.batch_size,
                             initial_weights))
        print(f"repeat {repeat + 1}: engine {engine[-1][0]:.3f} s/epoch (fastest "
              f"{engine[-1][1]:.3f}, call {engine[-1][2]:.2f} s); bare fit {bare[-1][0]:.3f} "
              f"s/epoch (fastest {bare[-1][1]:.3f}, call {bare[-1][2]:.2f} s)")
    a_mean, a_best, a_wall = (statistics.median(run[k] for run in engine) for k in range(3))
    b_mean, b_best, b_wall = (statistics.median(run[k] for run in bare) for k in range(3))
    print(f"\n{args.optimizer}, batch {args.batch_size}, {data.info.n_train:,} images "
          f"(validation split 0.2), {os.cpu_count()} cores, epochs 2..{args.epochs}, "
          f"median of {args.repeats}:")
    print(f"  engine.mnist.training.train : {a_mean:.3f} s/epoch mean, {a_best:.3f} fastest, "
          f"whole call {a_wall:.2f} s")
    print(f"  bare model.fit        : {b_mean:.3f} s/epoch mean, {b_best:.3f} fastest, "
          f"whole call {b_wall:.2f} s")
    print(f"  overhead ratio A/B    : {a_mean / b_mean:.3f}x mean epoch, {a_best / b_best:.3f}x "
          f"fastest epoch, {a_wall / b_wall:.3f}x whole call (target <= 1.05)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
