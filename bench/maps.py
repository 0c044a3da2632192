"""Maps benchmark: a 256×256 start map of Adam on Rosenbrock, 500 steps.

Prints, from one run on this machine:

1. the engine alone (:func:`engine.landscape.maps.start_map`, best of 3), and per point-step;
2. the whole command ``python main.py map ... --out FILE.npz`` as a user runs it, wall
   time including interpreter start, imports and the atomic write (best of 3);
3. the peak Python memory of the engine run (tracemalloc) against the size one
   ``(T+1, N, 2)`` path array would need: the maps keep O(N), never O(T·N);
4. a 256×256 hyperparameter map (Adam, learning_rate × beta_1 from Rosenbrock's start),
   whose N settings also run in one NumPy pass.

Run: ``.venv/bin/python bench/maps.py [--grid 256 --steps 500]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.engine import best_of  # noqa: E402
from engine import optimizers  # noqa: E402
from engine.landscape import maps, surfaces  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=256)
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args()
    grid, steps = args.grid, args.steps
    surface, adam = surfaces.get("rosenbrock"), optimizers.get("adam")
    cells = grid * grid

    engine = best_of(3, lambda: maps.start_map(surface, adam, grid=grid, steps=steps))
    print(f"start map {grid}×{grid} × {steps} Adam steps on Rosenbrock (engine only): "
          f"{engine:.2f} s, {engine / (cells * steps) * 1e9:.1f} ns per point-step")

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "map.npz"
        command = [sys.executable, str(ROOT / "main.py"), "map", "--surface", "rosenbrock",
                   "--optimizer", "adam", "--grid", str(grid), "--steps", str(steps),
                   "--out", str(target)]
        wall = best_of(3, lambda: subprocess.run(command, check=True, capture_output=True))
        size = target.stat().st_size
    print(f"python main.py map ... --out map.npz (whole command, process start included): "
          f"{wall:.2f} s (target <= 3 s); file {size / 1e3:.0f} kB")

    tracemalloc.start()
    maps.start_map(surface, adam, grid=grid, steps=steps)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    path_bytes = (steps + 1) * cells * 2 * 8
    print(f"peak traced memory of the start map: {peak / 1e6:.1f} MB "
          f"(one (T+1, N, 2) path array would be {path_bytes / 1e6:.0f} MB)")

    x = maps.Axis("learning_rate", 1e-4, 10.0, grid, log=True)
    y = maps.Axis("beta_1", 0.0, 0.99, grid)
    hyper = best_of(1, lambda: maps.hyper_map(surface, "adam", x, y, surface.start, steps=steps))
    print(f"hyper map {grid}×{grid} (Adam learning_rate × beta_1) × {steps} steps: "
          f"{hyper:.2f} s")


if __name__ == "__main__":
    main()
