"""The documented Python API is a stable facade over the engine's subpackages."""

from __future__ import annotations

import importlib

import pytest

FACADE = {
    "engine.surfaces": "engine.landscape.surfaces",
    "engine.simulate": "engine.landscape.simulate",
    "engine.maps": "engine.landscape.maps",
    "engine.schedules": "engine.optimizers.schedules",
}


@pytest.mark.parametrize("facade, home", sorted(FACADE.items()))
def test_each_facade_module_is_the_module_it_names(facade, home):
    assert importlib.import_module(facade) is importlib.import_module(home)


def test_the_readme_api_works_through_the_facade():
    import numpy as np

    from engine import maps, optimizers, schedules, simulate, surfaces

    surface = surfaces.get("rosenbrock")
    adam = optimizers.get("adam", learning_rate=0.01)
    result = simulate.run(surface, adam, np.array([[-1.5, 2.0]]), steps=5)
    assert result.paths.shape == (6, 1, 2)
    assert callable(maps.start_map) and "exponential_decay" in schedules.SCHEDULES
