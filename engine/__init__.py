"""Optiscope's engine: NumPy only, never Qt, TensorFlow only inside functions.

Subpackages, lowest layer first (import-linter keeps a lower one from importing a higher one):

``engine.params``
    One parameter description (name, kind, default, range, scale, doc) and its error.
``engine.optimizers``
    The optimizer registry, the Keras-exact update rules (``rules``) and schedules.
``engine.landscape``
    Surfaces, safe custom expressions, the simulation, the race, maps and measures.
``engine.mnist``
    Datasets and the MLP's training, reporting through a plain object.
``engine.files``
    Scenario files, presets, strict JSON fields, atomic writes, race exports.
``engine.cli``
    The headless commands of ``main.py``.

The documented Python API is a stable facade over them: ``engine.surfaces``,
``engine.optimizers``, ``engine.simulate``, ``engine.maps`` and ``engine.schedules``.
"""
