"""The MNIST session's settings, each described once (:class:`engine.params.Param`).

:class:`engine.mnist.training.TrainConfig` checks its fields against these; ``main.py train``
takes its defaults, help and limits from them; the scenario loader checks a file's
``training`` section with them; the training tab's editors get their ranges from them.
"""

from __future__ import annotations

from engine.params import Param

#: The most images a dataset may hold per split (train, test): twice MNIST's 60,000 training
#: images. A file claiming more is refused before anything is read, so a small compressed
#: file cannot claim gigabytes (120,000 images are 94 MB as stored, 376 MB as float32).
MAX_SAMPLES = 120_000
MIN_SAMPLES = 10  #: the fewest training samples a session may keep (``limit``)
MAX_RUNS = 20  #: the most optimizers one session trains
#: The optimizers a session trains when none are named (the tab's, the CLI's, a scenario's).
DEFAULT_OPTIMIZERS = ("sgd", "rmsprop", "adam")

EPOCHS = Param("epochs", "int", 5, 1, 1000, doc="Epochs per optimizer.")
BATCH_SIZE = Param("batch_size", "int", 32, 1, 8192, scale="log", doc="Samples per batch.")
VALIDATION_SPLIT = Param("validation_split", "float", 0.2, 0.0, 1.0, high_open=True,
                         doc="Fraction of the training samples held out for validation.")
#: Keras seeds NumPy's legacy generator with it, which takes 32-bit seeds.
SEED = Param("seed", "int", 0, 0, 2**32 - 1, doc="Fixes the initial weights and batch order.")
LIMIT = Param("limit", "int", None, MIN_SAMPLES, MAX_SAMPLES, optional=True, none_text="all",
              scale="log", doc="Train on the first N training samples only (all: every one).")
DATASET = Param("dataset", "text", "auto", 1, 4096,
                doc="'auto' (Keras cache, a short download, else bundled), 'bundled' or a "
                    "path to a Keras mnist.npz file.")
OPTIMIZERS = Param("optimizers", "int", 3, 1, MAX_RUNS, doc="Optimizers trained in turn.")

#: The session's numeric settings, in the order editors show them.
FIELDS = (EPOCHS, BATCH_SIZE, VALIDATION_SPLIT, SEED, LIMIT)
