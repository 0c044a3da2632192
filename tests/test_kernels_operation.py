"""Compiled kernels in operation: fallbacks, compile policy, cache, start-up, the CLI.

Without numba, with a kernel that will not compile, or with a gradient no kernel knows, the
NumPy path runs and says why; a race never waits for numba's import or a compiler; importing
the app imports no numba; kernels are cached per user when the package is read-only or
frozen, stamped by every source they contain; ``optiscope kernels --warm-up`` reports them.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

pytest.importorskip("numba")

from engine import optimizers  # noqa: E402
from engine.landscape import kernels, simulate, surfaces  # noqa: E402
from engine.landscape.kernels import cache  # noqa: E402
from tests.test_kernels import assert_same, starts_for  # noqa: E402


def test_without_numba_the_numpy_path_runs_and_says_why(monkeypatch):
    monkeypatch.setattr(cache, "_state", {"numba": None, "reason": "numba is not available "
                                          "(ImportError: No module named 'numba')"})
    surface, adam = surfaces.get("rosenbrock"), optimizers.get("adam")
    stepper = simulate.Stepper(surface, adam, np.zeros((3, 2)), 10, keep_path=False)
    assert not stepper.compiled
    assert "numba is not available" in kernels.reason()
    with pytest.raises(RuntimeError, match="numba is not available"):
        simulate.run(surface, adam, np.zeros((3, 2)), 10, keep_path=False, compiled=True)


def test_kernels_are_not_used_for_unknown_gradients():
    surface = surfaces.get("rosenbrock")
    adam = optimizers.get("adam")
    from dataclasses import replace

    odd = replace(surface, grad=lambda xy: 2 * np.asarray(xy))  # a gradient no kernel knows
    assert not simulate.Stepper(odd, adam, np.zeros((1, 2)), 5, keep_path=False).compiled
    with pytest.raises(RuntimeError, match="not one a kernel can compute"):
        simulate.run(odd, adam, np.zeros((1, 2)), 5, compiled=True)


def test_paths_never_wait_for_numba_or_a_compiler(monkeypatch):
    """A race runs in the GUI thread: without numba loaded, or with its kernel not compiled
    yet, it goes the NumPy way (and the kernel is compiled in the background)."""
    from engine.landscape.kernels import registry

    surface, adam = surfaces.get("booth"), optimizers.get("adam")
    monkeypatch.setattr(cache, "loaded", lambda: False)
    assert not simulate.Stepper(surface, adam, np.zeros((1, 2)), 5).compiled
    monkeypatch.undo()
    monkeypatch.setattr(registry, "known", lambda name: False)  # never compiled here
    monkeypatch.setattr(registry, "loaded", lambda name: False)
    assert not simulate.Stepper(surface, adam, np.zeros((1, 2)), 5).compiled
    assert kernels.wait_for_background(300)


def test_the_background_policy_runs_numpy_until_the_kernel_is_compiled(monkeypatch, tmp_path):
    from engine.landscape.kernels import registry

    surface, lion = surfaces.get("booth"), optimizers.get("lion", learning_rate=0.01)
    stepper = simulate.Stepper(surface, lion, np.zeros((2, 2)), 5, keep_path=False,
                               compiled=True)
    names = stepper._backend.names
    # "never compiled": not on disk and not in this process (an earlier test may have run it)
    monkeypatch.setattr(registry, "known", lambda name: name not in names)
    monkeypatch.setattr(registry, "loaded", lambda name: name not in names)
    kernels.set_compile_policy("background")
    try:
        assert not simulate.Stepper(surface, lion, np.zeros((2, 2)), 5, keep_path=False).compiled
        assert kernels.wait_for_background(120)
    finally:
        kernels.set_compile_policy("wait")
    with pytest.raises(ValueError, match="policy"):
        kernels.set_compile_policy("sometimes")


def test_a_race_never_waits_for_a_kernel_on_disk_either(monkeypatch):
    """Loading a kernel from the disk cache takes about 18 ms a piece: a race (computed in the
    GUI thread) runs NumPy meanwhile and the kernel is loaded in the background."""
    from engine.landscape.kernels import registry

    surface, sgd = surfaces.get("booth"), optimizers.get("sgd", learning_rate=0.01)
    compiled = simulate.Stepper(surface, sgd, np.zeros((1, 2)), 5, compiled=True)
    compiled._backend.prepare()  # in this process and on disk
    names = compiled._backend.names
    asked = []
    monkeypatch.setattr(registry, "loaded", lambda name: name not in names)  # "only on disk"
    monkeypatch.setattr(registry, "later", lambda name, job: asked.append(name))
    race_stepper = simulate.Stepper(surface, sgd, np.zeros((1, 2)), 5)
    assert not race_stepper.compiled and asked == [" ".join(names)]
    # A map's worker thread may load it there and then.
    assert simulate.Stepper(surface, sgd, np.zeros((4096, 2)), 5, keep_path=False).compiled


def test_background_compilation_takes_the_newest_requests_and_drops_a_backlog():
    """A class trying every surface asks for many kernels: the newest are compiled first and
    at most registry.PENDING wait, so what is on screen now is not stuck behind a backlog."""
    from engine.landscape.kernels import registry

    assert kernels.wait_for_background(300)
    started, release, done = threading.Event(), threading.Event(), []

    def blocker() -> None:
        started.set()
        release.wait(60)

    registry.later("blocker", blocker)
    assert started.wait(30)  # the worker is busy with the blocker
    names = [f"kernel {i}" for i in range(registry.PENDING + 4)]
    for name in names:
        registry.later(name, lambda name=name: done.append(name))
    registry.later(names[-1], lambda: done.append("asked twice"))  # already waiting: once
    assert registry.pending() == ["blocker", *names[-registry.PENDING:]]
    release.set()
    assert kernels.wait_for_background(60)
    assert done == names[::-1][: registry.PENDING]


def test_background_compilation_hands_the_gil_over_ten_times_as_often():
    """numba compiles in Python: while it does, the GUI thread would wait up to 5 ms for the
    GIL after each of its calls into Qt or NumPy (blocks of 0.85 s added up)."""
    from engine.landscape.kernels import registry

    assert kernels.wait_for_background(300)
    default = sys.getswitchinterval()
    seen = []
    registry.later("switch", lambda: seen.append(sys.getswitchinterval()))
    assert kernels.wait_for_background(60)
    assert seen == [registry.SWITCH_INTERVAL] and registry.SWITCH_INTERVAL <= default / 10
    assert sys.getswitchinterval() == default  # restored once the compilation is done


def test_maps_get_a_kernel_fused_with_their_surface_and_races_one_per_rule():
    """A kernel per rule, options and surface is compiled only where its speed pays: the final
    states of many starts on a catalog surface. Races, sweeps and custom formulas share a
    kernel per rule (with the surface's pass), so a class trying surfaces compiles little."""
    from engine.landscape.kernels.runner import FUSED_STARTS

    adam = optimizers.get("adam")
    many, few = np.zeros((FUSED_STARTS, 2)), np.zeros((FUSED_STARTS - 1, 2))

    def backend(surface_id, starts, keep_path=False):
        return simulate.Stepper(surfaces.get(surface_id), adam, starts, 3, keep_path=keep_path,
                                compiled=True)._backend

    assert backend("rosenbrock", many).names == (
        "advance[family=5, flags=0, surface=1, minima=1]", "exact_checks")
    assert backend("beale", few).names[0] == backend("rosenbrock", few).names[0]
    assert backend("beale", few).names[2] != backend("rosenbrock", few).names[2]
    assert not backend("rosenbrock", many[:20], keep_path=True).fused
    assert not backend("expr:x**2 + y**2", many).fused


def test_importing_the_app_compiles_nothing_and_imports_no_numba():
    code = ("import sys, main, engine.landscape.maps, engine.cli.main, engine.landscape.race; "
            "print('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "False"


def test_cache_folder_is_per_user_when_frozen_or_read_only(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == cache._PACKAGE / "__pycache__"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert cache.cache_dir() == tmp_path / "optiscope" / "kernels"
    monkeypatch.delattr(sys, "frozen")
    monkeypatch.setattr(cache, "_writable", lambda folder: False)
    assert cache.cache_dir() == tmp_path / "optiscope" / "kernels"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert cache.cache_dir() == tmp_path / "mine" / "optiscope"


def test_the_cache_stamp_covers_every_compiled_source(monkeypatch, tmp_path):
    names = {p.name for p in cache.SOURCES}
    assert {"gradients.py", "libm.py", "_kernel.py", "_parts.py", "_surfaces.py", "plan.py",
            "_interpreter.py", "program.py", "codes.py"} <= names
    source = tmp_path / "gradients.py"
    source.write_text("a = 1\n")
    monkeypatch.setattr(cache, "SOURCES", (source,))
    monkeypatch.setattr(cache, "_state", {})
    first = cache.source_stamp()
    cache._state.clear()
    source.write_text("a = 2\n")
    assert cache.source_stamp() != first


def test_the_kernels_command_reports_and_warms_up():
    import io
    import json

    from engine.cli.main import build_parser, run_parsed
    from engine.cli.maps import add_maps_commands

    out = io.StringIO()
    args = build_parser(extensions=(add_maps_commands,)).parse_args(["kernels", "--warm-up",
                                                                     "--json"])
    assert run_parsed(args, out) == 0
    report = json.loads(out.getvalue())
    assert report["available"] and report["reason"] == "" and report["cache"]
    names = {entry["name"] for entry in report["compiled"]}
    assert "surface_pass[surface=99, minima=0]" in names  # the formula interpreter


def test_a_kernel_that_fails_to_compile_leaves_the_run_to_numpy(monkeypatch):
    def refuse(self):
        raise RuntimeError("no compiler today")

    surface, adam = surfaces.get("beale"), optimizers.get("adam", learning_rate=0.01)
    starts = starts_for(surface, np.random.default_rng(2))
    reference = simulate.run(surface, adam, starts, 50, keep_path=False, compiled=False)
    monkeypatch.setattr(kernels.Backend, "_entry", refuse)
    stepper = simulate.Stepper(surface, adam, starts, 50, keep_path=False)
    assert stepper.compiled
    stepper.advance()
    assert not stepper.compiled
    assert_same(reference, stepper.result(), "after a refused compilation")
    with pytest.raises(kernels.CompileFailed, match="no compiler today"):
        simulate.run(surface, adam, starts, 50, keep_path=False, compiled=True)


def test_a_kernels_scratch_rows_start_on_cache_lines():
    """A vector load that straddles two cache lines costs more: every row of a block's
    scratch arrays starts on a 64-byte line, for catalog surfaces and custom formulas."""
    for surface_id in ("rosenbrock", "expr:x**2 + sin(3*y)"):
        stepper = simulate.Stepper(surfaces.get(surface_id), optimizers.get("adam"),
                                   np.zeros((2048, 2)), 3, keep_path=False, compiled=True)
        for array in stepper._backend._scratch():
            for row in array.reshape(-1, array.shape[-1]):
                assert row.ctypes.data % 64 == 0


def test_the_step_tables_of_a_plan_are_built_once_per_budget():
    """β^t and Nadam's products over the budget were built again for every stepper: 20 Adam
    racers at 100,000 steps took 0.97 s of the GUI thread on a surface change, 20 Nadam
    racers 22 s. They are kept (read-only) for the next stepper with the same settings."""
    from engine.landscape.kernels import plan

    adam, nadam = optimizers.get("adam"), optimizers.get("nadam")
    first, again = plan.optimizer_plan(adam, 5000, 1), plan.optimizer_plan(adam, 5000, 1)
    assert np.array_equal(first.table, again.table)
    beta = np.array([0.9])
    assert plan._powers(beta, 5000) is plan._powers(beta, 5000)
    assert not plan._powers(beta, 5000).flags.writeable
    assert plan._nadam_products(beta, 5000) is plan._nadam_products(beta, 5000)
    assert plan._powers(beta, 5001) is not plan._powers(beta, 5000)  # another budget
    np.testing.assert_array_equal(plan.optimizer_plan(nadam, 300, 1).table,
                                  plan.optimizer_plan(nadam, 300, 1).table)


def test_plans_with_the_same_settings_share_their_stacked_tables():
    """A race rebuilt each racer's stacked (4, L, T) table and its constant learning rates
    on every surface change: 64 MB of zeros for 20 racers at 100,000 steps. Plans with the
    same rule, levels and budget now share them (the kernel only reads them); other
    settings or budgets get their own."""
    from engine.landscape.kernels import plan

    adam = optimizers.get("adam")
    first, again = plan.optimizer_plan(adam, 4000, 1), plan.optimizer_plan(adam, 4000, 1)
    assert first.table is again.table and first.rates is again.rates
    other_beta = plan.optimizer_plan(optimizers.get("adam", beta_1=0.8), 4000, 1)
    assert other_beta.table is not first.table
    assert not np.array_equal(other_beta.table[0], first.table[0])
    longer = plan.optimizer_plan(adam, 4001, 1)
    assert longer.table is not first.table and longer.table.shape[-1] == 4001
    faster = plan.optimizer_plan(optimizers.get("adam", learning_rate=0.5), 4000, 1)
    assert faster.rates is not first.rates and np.all(faster.rates == 0.5)
    assert np.all(first.rates == first.hp[0][0])


def test_a_gui_thread_never_waits_for_the_libm_loop():
    """Under the background policy the main (GUI) thread gets no compiled libm loop until it
    is loaded, in the background (loading it waited for numba's compiler lock while a kernel
    loaded: 150-180 ms of a budget change); libm's results come from Python's math
    meanwhile, the same C functions. Another thread (a map's worker) loads it and waits."""
    code = (
        "import threading\n"
        "import numpy as np\n"
        "from engine.landscape import kernels, libm\n"
        "from engine.landscape.kernels import registry\n"
        "kernels.set_compile_policy('background')\n"
        "assert kernels.available()\n"
        "print('gui thread first:', kernels.libm_loop())\n"
        "x = np.linspace(0.1, 3.0, 1000)\n"
        "exact = libm.exp(x)\n"
        "assert registry.wait_for_background(300)\n"
        "print('gui thread later:', kernels.libm_loop() is not None)\n"
        "print('same values:', np.array_equal(exact, libm.exp(x)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=400, cwd=str(cache._PACKAGE.parents[2]))
    assert out.returncode == 0, out.stderr
    assert "gui thread first: None" in out.stdout
    assert "gui thread later: True" in out.stdout and "same values: True" in out.stdout


def test_a_worker_thread_gets_the_libm_loop_under_the_background_policy(monkeypatch):
    from engine.landscape.kernels import registry

    if not kernels.available():
        pytest.skip(kernels.reason())
    monkeypatch.setattr(registry, "_settings", {**registry._settings, "policy": "background"})
    got = []
    worker = threading.Thread(target=lambda: got.append(kernels.libm_loop()))
    worker.start()
    worker.join(300)
    assert got and got[0] is not None
