"""``main.py map`` and ``main.py sweep``: files, strict JSON, and one-line refusals."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import optimizers
from engine.cli.main import UsageError, build_parser, run_parsed
from engine.cli.maps import add_maps_commands
from engine.landscape import maps, simulate, surfaces
from tests import procs

ROOT = Path(__file__).resolve().parents[1]


def _with_pictures(commands):
    from gui.maps.picture import write_map_png

    add_maps_commands(commands, png_writer=write_map_png)


def _run(*argv, pictures=True):
    out = io.StringIO()
    extension = _with_pictures if pictures else add_maps_commands
    try:
        args = build_parser(extensions=(extension,)).parse_args(list(argv))
    except UsageError as error:
        sys.stderr.write(f"optiscope: error: {error}\n")
        return 2, ""
    return run_parsed(args, out), out.getvalue()


def _strict_json(text):
    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_start_map_npz_holds_the_engine_arrays_and_metadata(tmp_path):
    target = tmp_path / "starts.npz"
    status, text = _run("map", "--surface", "himmelblau", "--optimizer", "adam",
                        "--set", "learning_rate=0.05", "--grid", "12", "--steps", "80",
                        "--out", str(target))
    assert status == 0 and text.startswith(f"wrote {target}: 12×12 start map")
    with np.load(target) as data:
        assert set(data.files) == {"steps_to_converge", "final_loss", "minimum_index",
                                   "status", "xs", "ys", "meta"}
        arrays = {name: data[name] for name in data.files}
    meta = _strict_json(arrays["meta"].item())
    assert meta["kind"] == "start_map" and meta["optimizer"] == "adam"
    assert meta["config"]["learning_rate"] == 0.05 and meta["steps"] == 80
    expected = maps.start_map(surfaces.get("himmelblau"),
                              optimizers.get("adam", learning_rate=0.05), grid=12, steps=80)
    for name in ("steps_to_converge", "final_loss", "minimum_index", "status", "xs", "ys"):
        np.testing.assert_array_equal(arrays[name], getattr(expected, name))
    assert arrays["status"].shape == (12, 12) and arrays["xs"].shape == (12,)
    assert sum(meta["counts"].values()) == 144
    assert not list(tmp_path.glob(".*"))  # the temporary file is gone


def test_hyper_map_npz_has_one_row_per_y_value(tmp_path):
    target = tmp_path / "hyper.npz"
    status, _ = _run("map", "--surface", "rosenbrock", "--optimizer", "momentum",
                     "--over", "learning_rate,momentum", "--x-range", "1e-4:1e-2:5:log",
                     "--y-range", "0:0.9:3", "--start=-1.5,2", "--steps", "50",
                     "--out", str(target))
    assert status == 0
    with np.load(target) as data:
        assert data["status"].shape == data["final_loss"].shape == (3, 5)
        meta = _strict_json(data["meta"].item())
        np.testing.assert_array_equal(data["xs"], maps.Axis("learning_rate", 1e-4, 1e-2, 5,
                                                            True).values())
        assert data["ys"].tolist() == [0.0, 0.45, 0.9]
    assert meta["kind"] == "hyper_map" and meta["start"] == [-1.5, 2.0]
    assert meta["x"] == {"name": "learning_rate", "low": 1e-4, "high": 1e-2, "count": 5,
                         "log": True}
    assert meta["y"]["log"] is False and meta["base_config"]["nesterov"] is False


def test_default_axes_follow_the_registry_with_the_grid_size(tmp_path):
    target = tmp_path / "hyper.npz"
    assert _run("map", "--surface", "booth", "--optimizer", "adam", "--over", "beta_1,epsilon",
                "--grid", "4", "--steps", "5", "--out", str(target))[0] == 0
    with np.load(target) as data:
        assert data["xs"][0] == 0.0 and data["xs"][-1] < 1.0 and data["xs"].shape == (4,)
        assert data["ys"][0] == 1e-5 and data["ys"][-1] == 1.0


@pytest.mark.gui
def test_png_is_a_picture_drawn_without_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # an installed app has none
    target = tmp_path / "map.png"
    status, _ = _run("map", "--surface", "rosenbrock", "--optimizer", "adam", "--over",
                     "learning_rate,beta_1", "--grid", "6", "--steps", "20", "--out", str(target))
    assert status == 0 and target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    status, _ = _run("map", "--surface", "himmelblau", "--optimizer", "sgd", "--grid", "5",
                     "--steps", "20", "--out", str(target))
    assert status == 0 and target.stat().st_size > 1000


def test_png_without_a_drawing_hook_is_refused(tmp_path, capsys):
    status, _ = _run("map", "--surface", "booth", "--optimizer", "sgd", "--grid", "4",
                     "--out", str(tmp_path / "map.png"), pictures=False)
    assert status == 2 and "PNG needs the app's drawing code" in capsys.readouterr().err


def test_sweep_json_is_strict_and_tuned():
    status, text = _run("sweep", "--surface", "rosenbrock", "--optimizers", "sgd,adam",
                        "--start=-1.5,2", "--steps", "100", "--range", "1e-4:100:9",
                        "--set", "adam.beta_1=0.8", "--json")
    assert status == 0
    data = _strict_json(text)
    assert data["criterion"] == maps.CRITERION and len(data["learning_rates"]) == 9
    sgd, adam = data["sweeps"]
    assert sgd["optimizer"] == "sgd" and adam["config"]["beta_1"] == 0.8
    assert "learning_rate" not in adam["config"]
    assert sgd["status"][-1] == "diverged" and all(np.isfinite(sgd["final_loss"]))
    assert adam["tuned_learning_rate"] in data["learning_rates"]
    expected = maps.lr_sweep(surfaces.get("rosenbrock"), ["adam"], (-1.5, 2.0), steps=100,
                             low=1e-4, high=100.0, count=9,
                             base_settings={"adam": {"beta_1": 0.8}})[0]
    assert adam["final_loss"] == expected.final_loss.tolist()
    assert adam["tuned_learning_rate"] == expected.tuned_learning_rate


def test_sweep_csv_and_text():
    status, text = _run("sweep", "--surface", "booth", "--optimizers", "momentum",
                        "--steps", "50", "--range", "1e-3:1:4", "--csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert status == 0 and rows[0][:3] == ["optimizer", "learning_rate", "status"]
    assert len(rows) == 5 and sum(row[-1] == "True" for row in rows[1:]) == 1
    status, text = _run("sweep", "--surface", "booth", "--optimizers", "sgd", "--steps", "20",
                        "--range", "50:100:3")
    assert status == 0 and "no tuned rate: every rate diverged" in text


@pytest.mark.parametrize(("argv", "field"), [
    (["map", "--grid", "1"], "--grid"),
    (["map", "--grid", "2000"], "--grid"),
    (["map", "--steps", "0"], "--steps"),
    (["map", "--steps", "1000001"], "--steps"),
    (["map", "--grid", "ten"], "argument --grid"),
    (["map", "--over", "learning_rate,foo"], "--over: foo"),
    (["map", "--over", "learning_rate,amsgrad"], "--over: amsgrad"),
    (["map", "--over", "learning_rate"], "--over"),
    (["map", "--over", "learning_rate,beta_1", "--x-range", "1e-4:200"], "--x-range"),
    (["map", "--over", "learning_rate,beta_1", "--y-range", "0:1:5"], "--y-range"),
    (["map", "--over", "learning_rate,beta_1", "--x-range", "a:b"], "--x-range"),
    (["map", "--over", "learning_rate,beta_1", "--set", "beta_1=0.5"], "--set beta_1"),
    (["map", "--over", "learning_rate,beta_1", "--start=1,nan"], "--start"),
    (["map", "--x-range", "0:1"], "--x-range"),
    (["map", "--set", "beta_1=2"], "--set beta_1"),
    (["map", "--domain", "1,0,0,1"], "--domain"),
    (["map", "--out", "/no/such/folder/x.npz"], "--out"),
    (["map", "--out", "x.txt"], "--out"),
    (["sweep", "--range", "0:1"], "--range"),
    (["sweep", "--range", "1e-3:500"], "--range: learning_rate"),
    (["sweep", "--optimizers", "sgd,nope"], "--optimizers"),
    (["sweep", "--set", "adam.learning_rate=0.1"], "--set adam.learning_rate"),
    (["sweep", "--steps", "0"], "--steps"),
])
def test_bad_input_is_one_line_naming_the_field(argv, field, capsys, tmp_path):
    argv = list(argv)
    if argv[0] == "map":
        argv += ["--optimizer", "adam"]
        if "--out" not in argv:
            argv += ["--out", str(tmp_path / "map.npz")]
    status, text = _run(*argv, "--surface", "rosenbrock")
    err = capsys.readouterr().err
    assert status == 2 and text == ""
    assert err.count("\n") == 1 and err.startswith(f"optiscope: error: {field}"), err
    assert not list(tmp_path.iterdir())


def test_main_py_writes_a_map_and_refuses_bad_input(tmp_path):
    target = tmp_path / "m.npz"
    done = procs.run([sys.executable, "-W", "error", str(ROOT / "main.py"), "map",
                      "--surface", "booth", "--optimizer", "adam", "--grid", "8",
                      "--steps", "30", "--out", str(target)], timeout=60, cwd=tmp_path)
    assert done.returncode == 0 and target.exists(), done.stderr
    with np.load(target) as data:
        assert data["status"].dtype == np.int8
        assert set(np.unique(data["status"])) <= {simulate.NOT_CONVERGED, simulate.CONVERGED,
                                                  simulate.DIVERGED}
    done = procs.run([sys.executable, str(ROOT / "main.py"), "map", "--surface", "booth",
                      "--optimizer", "adam", "--grid", "1", "--out", str(target)],
                     timeout=60, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--grid" in done.stderr
