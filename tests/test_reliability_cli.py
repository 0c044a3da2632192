"""The command line under the adversarial test's requests (issue 16, points 6 and 7).

Every configuration the engine refuses exits 2 with one line; long accepted runs show their
progress on stderr and stop on Ctrl+C with status 130; ``render`` takes at most as many
racers as the race tab; a small dataset file cannot claim gigabytes. Before the fixes: ``train
--limit 10 --validation-split 0.99`` and ``train`` on a one-sample dataset printed a 19-line
traceback and exited 1; ``map``/``trajectory``/``sweep`` ran for minutes silently; ``render``
took 2,000 racers; a 2.3 MB ``.npz`` of 3,000,000 blank images took 2.3-2.9 GB.
"""

from __future__ import annotations

import io
import os
import select
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from engine.cli.progress import Progress
from engine.mnist import datasets
from engine.mnist.settings import MAX_SAMPLES
from tests import procs

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def _main(*argv, timeout=120):
    return procs.run([sys.executable, "main.py", *argv], cwd=ROOT, timeout=timeout, env=ENV)


def _blank_npz(path: Path, n_train: int, n_test: int = 10) -> None:
    """A compressed Keras-layout archive of blank images, streamed (memory stays small)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, shape, dtype in (("x_train", (n_train, 28, 28), "|u1"),
                                  ("y_train", (n_train,), "|u1"),
                                  ("x_test", (n_test, 28, 28), "|u1"),
                                  ("y_test", (n_test,), "|u1")):
            with archive.open(f"{key}.npy", "w", force_zip64=True) as stream:
                header = io.BytesIO()
                np.lib.format.write_array_header_1_0(
                    header, {"descr": dtype, "fortran_order": False, "shape": shape})
                stream.write(header.getvalue())
                left = int(np.prod(shape))
                chunk = bytes(1 << 20)
                while left:
                    stream.write(chunk[: min(left, len(chunk))])
                    left -= min(left, len(chunk))


@pytest.mark.parametrize(("argv", "words"), [
    (["train", "--limit", "10", "--validation-split", "0.99", "--dataset", "bundled",
      "--epochs", "1"], "--validation-split"),
    (["train", "--limit", "120001"], "--limit: must be in [10, 120000]"),
    (["train", "--seed", str(2**32)], "--seed: must be in [0, 4294967295]"),
    (["trajectory", "--surface", "bowl", "--optimizer", "sgd", "--steps", "100001"],
     "--steps: must be in [1, 100000]"),
    (["map", "--surface", "bowl", "--optimizer", "sgd", "--grid", "1025", "--out", "x.npz"],
     "--grid: must be in [2, 1024]"),
    (["sweep", "--surface", "bowl", "--optimizers", "sgd", "--range", "1e-3:1:5000"],
     "--range COUNT: must be in [2, 1024]"),
    (["render", "--surface", "bowl", "--optimizers", ",".join(["sgd"] * 21), "--out", "x.png"],
     "--optimizers: at most 20 racers"),
    (["render", "--surface", "bowl", "--steps", "100001", "--out", "x.png"],
     "--steps: must be in [1, 100000]"),
])
def test_refused_configurations_exit_2_with_one_line(argv, words):
    done = _main(*argv)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in done.stderr
    assert not (ROOT / "x.npz").exists() and not (ROOT / "x.png").exists()


def test_train_on_a_one_sample_dataset_exits_2_with_one_line(tmp_path):
    path = tmp_path / "one.npz"
    _blank_npz(path, n_train=1)
    done = _main("train", "--dataset", str(path), "--epochs", "1", "--optimizers", "sgd")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--validation-split" in lines[0] and "1 training sample" in lines[0]


def test_a_small_file_cannot_claim_gigabytes(tmp_path):
    path = tmp_path / "blank.npz"
    _blank_npz(path, n_train=MAX_SAMPLES + 1)
    assert path.stat().st_size < 1_000_000  # well under a megabyte on disk ...
    with pytest.raises(datasets.DatasetError, match="at most 120,000"):
        datasets.load_npz(path)  # ... refused before ~94 MB are read (or 2.3 GB, for 3 M)


def test_progress_is_quiet_for_a_second_then_at_most_once_a_second():
    now = [0.0]
    stream = io.StringIO()
    progress = Progress("map 64×64", stream, clock=lambda: now[0])
    for step in range(40):
        now[0] = step * 0.1
        progress(step / 40)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and all(line.startswith("optiscope: map 64×64: ") for line in lines)
    assert "(Ctrl+C stops)" in lines[0] and "left" in lines[-1]


@pytest.mark.parametrize("argv", [
    ["trajectory", "--surface", "rosenbrock", "--optimizer", "adam", "--steps", "100000",
     "--json"],
    ["map", "--surface", "rosenbrock", "--optimizer", "adam", "--grid", "1024", "--steps",
     "100000", "--out", "never.npz"],
])
def test_long_runs_show_progress_and_stop_on_ctrl_c(argv):
    child = subprocess.Popen([sys.executable, "main.py", *argv], cwd=ROOT, env=ENV, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        first = ""
        while time.monotonic() < deadline and not first:
            ready, _, _ = select.select([child.stderr], [], [], 1.0)
            if ready:
                first = child.stderr.readline()
        assert first.startswith("optiscope: ") and "%" in first, first
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
    assert child.returncode == 130, err
    assert err.strip().splitlines()[-1] == "optiscope: stopped by Ctrl+C"
    assert "Traceback" not in err and out == ""
    assert not (ROOT / "never.npz").exists()
