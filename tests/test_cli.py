"""The headless command line: catalogs, trajectories, and one-line refusals with exit 2."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import optimizers
from engine.cli.main import run_command
from engine.landscape import simulate, surfaces
from tests import procs

ROOT = Path(__file__).resolve().parents[1]


def _run(*argv):
    out = io.StringIO()
    status = run_command(list(argv), out)
    return status, out.getvalue()


def _strict_json(text):
    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_surfaces_json_lists_the_catalog():
    status, text = _run("surfaces", "--json")
    assert status == 0
    rows = _strict_json(text)
    ids = {row["id"] for row in rows}
    assert len(rows) >= 16 and {"rosenbrock", "ravine", "plateau", "saddle"} <= ids
    ravine = next(row for row in rows if row["id"] == "ravine")
    assert "condition_number" in {p["name"] for p in ravine["parameters"]}


def test_optimizers_json_lists_hyperparameters_with_ranges():
    status, text = _run("optimizers", "--json")
    rows = _strict_json(text)
    assert status == 0 and [r["id"] for r in rows] == list(optimizers.ids())
    adam = next(r for r in rows if r["id"] == "adam")
    beta_1 = next(h for h in adam["hyperparameters"] if h["name"] == "beta_1")
    assert beta_1["default"] == 0.9 and beta_1["range"] == "[0, 1)"


def test_plain_listings_are_readable():
    assert "rosenbrock" in _run("surfaces")[1]
    assert "keras.optimizers.Adam" in _run("optimizers")[1]


def test_trajectory_json_is_the_engine_path_exactly():
    status, text = _run("trajectory", "--surface", "rosenbrock", "--optimizer", "adam",
                        "--set", "learning_rate=0.02", "--set", "beta_1=0.8",
                        "--start=-1.5,2", "--steps", "300", "--json")
    assert status == 0
    data = _strict_json(text)
    opt = optimizers.get("adam", learning_rate=0.02, beta_1=0.8)
    result = simulate.run(surfaces.get("rosenbrock"), opt, np.array([[-1.5, 2.0]]), 300)
    assert data["points"][0] == [-1.5, 2.0]
    # Floats round-trip exactly through the JSON text.
    assert data["points"] == result.path(0).tolist()
    assert data["losses"] == result.path_losses(0).tolist()
    assert data["status"] == result.status_name(0)
    assert data["config"]["beta_1"] == 0.8
    if data["status"] == "not_converged":
        assert data["stop_step"] is None and len(data["points"]) == 301


def test_trajectory_reports_divergence_without_nan():
    status, text = _run("trajectory", "--surface", "rosenbrock", "--optimizer", "sgd",
                        "--set", "learning_rate=1", "--steps", "50", "--json")
    data = _strict_json(text)
    assert status == 0 and data["status"] == "diverged"
    assert len(data["points"]) == data["stop_step"]


def test_trajectory_csv_and_text():
    status, text = _run("trajectory", "--surface", "expr:x**2 + 3*y**2", "--optimizer", "sgd",
                        "--start=1,1", "--steps", "5", "--csv")
    lines = text.strip().splitlines()
    assert status == 0 and lines[0] == "step,x,y,loss,grad_norm" and len(lines) == 7
    assert lines[1] == "0,1.0,1.0,4.0," + repr(float(np.hypot(2.0, 6.0)))
    status, text = _run("trajectory", "--surface", "bowl", "--optimizer", "momentum",
                        "--steps", "2000")
    assert status == 0 and "converged at step" in text


def test_surface_parameters_are_passed_on():
    _, text = _run("trajectory", "--surface", "ravine", "--param", "condition_number=200",
                   "--optimizer", "sgd", "--steps", "3", "--json")
    _, base = _run("trajectory", "--surface", "ravine", "--optimizer", "sgd", "--steps", "3",
                   "--json")
    assert _strict_json(text)["points"] != _strict_json(base)["points"]


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["trajectory", "--surface", "nope", "--optimizer", "adam"], "--surface"),
        (["trajectory", "--surface", "bowl", "--optimizer", "adamm"], "--optimizer"),
        (["trajectory", "--surface", "bowl", "--optimizer", "sgd", "--set", "learning_rate=-1"],
         "learning_rate"),
        (["trajectory", "--surface", "bowl", "--optimizer", "sgd", "--set", "foo=1"], "foo"),
        (["trajectory", "--surface", "bowl", "--optimizer", "adam", "--set", "beta_1=1"],
         "beta_1"),
        (["trajectory", "--surface", "bowl", "--optimizer", "adam", "--set", "beta_1"], "--set"),
        (["trajectory", "--surface", "bowl", "--optimizer", "sgd", "--start=nan,1"], "--start"),
        (["trajectory", "--surface", "bowl", "--optimizer", "sgd", "--start=1"], "--start"),
        (["trajectory", "--surface", "bowl", "--optimizer", "sgd", "--start=a,b"], "--start"),
        (["trajectory", "--surface", "bowl", "--optimizer", "sgd", "--steps", "-5"], "--steps"),
        (["trajectory", "--surface", "bowl", "--optimizer", "sgd", "--steps", "x"], "--steps"),
        (["trajectory", "--surface", "expr:__import__('os').system('x')", "--optimizer", "sgd"],
         "--surface"),
        (["trajectory", "--surface", "expr:x +", "--optimizer", "sgd"], "--surface"),
        (["trajectory", "--surface", "expr:log(x)", "--optimizer", "sgd", "--start=-1,0"],
         "--start"),
        (["trajectory", "--surface", "ravine", "--param", "condition_number=0",
          "--optimizer", "sgd"], "condition_number"),
        (["trajectory", "--optimizer", "sgd"], "--surface"),
        (["teleport"], "teleport"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_field(argv, field, capsys):
    status, out = _run(*argv)
    err = capsys.readouterr().err
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("optiscope: error:")
    assert field in err
    assert "Traceback" not in err


def _main(*argv):
    return procs.run([sys.executable, str(ROOT / "main.py"), *argv], timeout=120, cwd=ROOT)


def test_main_help_lists_the_subcommands():
    done = _main("--help")
    assert done.returncode == 0
    for command in ("surfaces", "optimizers", "trajectory"):
        assert command in done.stdout


def test_main_refuses_a_negative_start_written_without_equals():
    done = _main("trajectory", "--surface", "bowl", "--optimizer", "sgd", "--start", "-1.5,2")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "--start" in done.stderr


def test_main_trajectory_in_a_subprocess_prints_strict_json():
    done = _main("trajectory", "--surface", "beale", "--optimizer", "rmsprop", "--steps", "20",
                 "--json")
    assert done.returncode == 0, done.stderr
    assert len(_strict_json(done.stdout)["points"]) == 21


def test_headless_commands_load_neither_qt_nor_tensorflow():
    code = (
        "import sys, engine.landscape.surfaces, engine.optimizers, engine.landscape.simulate, engine.cli.main\n"
        "from engine.cli.main import run_command\n"
        "import io; run_command(['trajectory', '--surface', 'bowl', '--optimizer', 'adam',"
        " '--steps', '3'], io.StringIO())\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras', 'PySide6', 'pyqtgraph')]\n"
        "print(','.join(bad))\n"
    )
    done = procs.run([sys.executable, "-c", code], timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_a_trajectory_converged_in_a_local_minimum_says_it_is_not_a_known_one():
    # The same words as the race table: "converged" alone read as "found the minimum".
    status, text = _run("trajectory", "--surface", "rastrigin", "--optimizer", "adam",
                        "--set", "learning_rate=0.001", "--start=-4.3,3.7", "--steps", "2000")
    assert status == 0
    assert "Adam on Rastrigin from (-4.3, 3.7): converged at step 1283, not at a known minimum;" \
        in text
    status, text = _run("trajectory", "--surface", "himmelblau", "--optimizer", "adam",
                        "--set", "learning_rate=0.05", "--steps", "3000")
    assert "converged at step 170;" in text
