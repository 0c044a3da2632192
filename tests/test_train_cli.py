"""``main.py train``: a tiny real run with strict JSON, and one-line refusals before TensorFlow."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

import pytest

from engine.cli import train as train_cli
from engine.cli.main import UsageError
from engine.mnist.training import RunResult
from tests import procs

ROOT = Path(__file__).resolve().parents[1]
RUN_KEYS = {"optimizer", "params", "history", "test_accuracy", "seconds_per_epoch",
            "optimizer_state_bytes", "n_params", "status", "error"}


def _strict_json(text):
    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def _main(*argv, timeout=300):
    return procs.run([sys.executable, "main.py", *argv], cwd=ROOT, timeout=timeout)


@pytest.mark.keras
def test_train_writes_strict_json_with_the_schema(tmp_path):
    target = tmp_path / "runs.json"
    done = _main("train", "--optimizers", "sgd", "--epochs", "1", "--limit", "200",
                 "--dataset", "bundled", "--json", str(target))
    assert done.returncode == 0, done.stderr
    assert "[sgd] epoch 1/1: accuracy " in done.stdout and "val_accuracy" in done.stdout
    assert "state bytes" in done.stdout and "completed" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.json"]  # no temp file left
    data = _strict_json(target.read_text())
    assert set(data) == {"dataset", "config", "runs"}
    assert data["dataset"]["source"] == "bundled" and data["dataset"]["n_train"] == 200
    assert data["config"]["epochs"] == 1 and data["config"]["limit"] == 200
    assert data["config"]["optimizers"] == [{"id": "sgd", "settings": {}}]
    (run,) = data["runs"]
    assert set(run) == RUN_KEYS and run["optimizer"] == "sgd" and run["status"] == "completed"
    assert set(run["history"]) == {"accuracy", "val_accuracy", "loss", "val_loss"}
    assert all(len(values) == 1 for values in run["history"].values())
    assert 0 <= run["test_accuracy"] <= 1 and run["seconds_per_epoch"] > 0
    assert run["optimizer_state_bytes"] == 0 and run["n_params"] == 101_770
    assert run["params"]["learning_rate"] == 0.01


_CASES = [
    (["--optimizers", "sgd,foo"], "--optimizers: unknown optimizer 'foo'"),
    (["--optimizers", " , "], "--optimizers: name at least one"),
    (["--set", "adam.beta_1=2"], "--set adam.beta_1: must be in [0, 1)"),
    (["--set", "adam.lr=0.1"], "--set adam.lr: is not a hyperparameter of adam"),
    (["--set", "learning_rate=0.1"], "--set: expected ID.NAME=VALUE"),
    (["--optimizers", "sgd", "--set", "adam.learning_rate=0.1"], "--set adam.learning_rate:"),
    (["--epochs", "0"], "--epochs: must be in [1, 1000], got 0"),
    (["--epochs", "x"], "--epochs: invalid int value"),
    (["--batch-size", "0"], "--batch-size: must be in [1, 8192]"),
    (["--validation-split", "1"], "--validation-split: must be in [0, 1)"),
    (["--limit", "5"], "--limit: must be in [10, 120000]"),
    (["--seed=-1"], "--seed: must be in [0, 4294967295]"),
    (["--dataset", "{corrupt}"], "--dataset: {corrupt}: corrupt or truncated"),
    (["--dataset", "{missing}"], "--dataset: {missing}: no such file"),
    (["--json", "{nofolder}"], "--json: no such folder"),
    (["--json", "{folder}"], "is a folder, expected a file name"),
]

_PROBE = """
import contextlib, io, json, sys
import main
report = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main.main(["train", *argv])
    report.append([status, err.getvalue()])
heavy = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
print(json.dumps({"report": report, "heavy": heavy}))
"""


def test_bad_arguments_exit_2_with_one_line_before_tensorflow_is_imported(tmp_path):
    corrupt = tmp_path / "mnist.npz"
    corrupt.write_bytes(b"PK\x03\x04" + bytes(100))
    names = {"corrupt": str(corrupt), "missing": str(tmp_path / "absent.npz"),
             "nofolder": str(tmp_path / "no" / "out.json"), "folder": str(tmp_path)}
    argvs = [[arg.format(**names) for arg in argv] for argv, _ in _CASES]
    done = procs.run([sys.executable, "-c", _PROBE, json.dumps(argvs)], cwd=ROOT, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    probe = json.loads(done.stdout)
    assert probe["heavy"] == []
    for (status, err), (_, expected) in zip(probe["report"], _CASES, strict=True):
        assert status == 2, err
        assert err.count("\n") == 1 and err.startswith("optiscope: error: "), err
        assert expected.format(**names) in err


def test_a_refusal_through_the_real_entry_point():
    done = _main("train", "--epochs", "0", timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "optiscope: error: --epochs: must be in [1, 1000], got 0\n"


def test_settings_are_parsed_per_optimizer():
    assert train_cli.parse_settings(["adam.learning_rate=0.01", "sgd.momentum = 0.5"],
                                    ["sgd", "adam"]) == {"sgd": {"momentum": "0.5"},
                                                         "adam": {"learning_rate": "0.01"}}
    with pytest.raises(UsageError, match="expected ID.NAME=VALUE"):
        train_cli.parse_settings(["adam.=1"], ["adam"])


def test_results_table_shows_missing_values_as_dashes():
    stopped = RunResult("adam", {}, status="stopped", n_params=101_770,
                        optimizer_state_bytes=814_160)
    done = RunResult("sgd", {}, history={"accuracy": [0.5], "val_accuracy": [0.25],
                                         "loss": [1.0], "val_loss": [1.5]},
                     test_accuracy=0.75, seconds_per_epoch=2.25, n_params=101_770)
    lines = train_cli.results_table([done, stopped]).splitlines()
    assert lines[0].split()[:3] == ["optimizer", "train", "acc"]
    assert lines[1].split() == ["sgd", "0.5000", "0.2500", "0.7500", "2.2", "101,770", "0",
                                "completed"]
    assert lines[2].split() == ["adam", "-", "-", "-", "-", "101,770", "814,160", "stopped"]


def test_write_json_atomically_refuses_nan_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "out.json"
    train_cli.write_json_atomically(target, {"a": [1.5]})
    assert _strict_json(target.read_text()) == {"a": [1.5]}
    with pytest.raises(ValueError, match="not JSON compliant"):
        train_cli.write_json_atomically(target, {"a": float("nan")})
    assert _strict_json(target.read_text()) == {"a": [1.5]}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_first_ctrl_c_sets_cancel_and_the_handler_is_restored(capsys):
    before = signal.getsignal(signal.SIGINT)
    cancel = threading.Event()
    with train_cli._ctrl_c_cancels(cancel):
        os.kill(os.getpid(), signal.SIGINT)
        assert cancel.wait(5)
    assert signal.getsignal(signal.SIGINT) is before
    assert "stopping after the current batch" in capsys.readouterr().err


def test_exit_status_is_1_with_one_line_for_a_failed_run_and_0_for_divergence(capsys):
    failed = RunResult("adam", {}, status="failed", error="out of memory\nwhile allocating")
    diverged = RunResult("sgd", {}, status="diverged")
    assert train_cli.exit_status([diverged, RunResult("rmsprop", {})]) == 0
    assert capsys.readouterr().err == ""
    assert train_cli.exit_status([diverged, failed]) == 1
    err = capsys.readouterr().err
    assert err == "optiscope: training failed for adam (out of memory while allocating)\n"
    assert train_cli.exit_status([diverged], cancelled=True) == 130


def test_the_train_command_returns_the_status_of_its_runs(monkeypatch, capsys):
    import main
    from engine.mnist import training

    def fake_train(config, reporter=None, cancel=None, dataset=None):
        return [RunResult(entry.optimizer_id, {}, status="failed", error="boom")
                for entry in config.optimizers]

    monkeypatch.setattr(training, "train", fake_train)
    status = main.main(["train", "--optimizers", "sgd", "--dataset", "bundled", "--epochs", "1"])
    assert status == 1
    captured = capsys.readouterr()
    assert captured.err == "optiscope: training failed for sgd (boom)\n"
    assert "failed" in captured.out.splitlines()[-1]
