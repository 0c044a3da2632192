"""``main.py landscape``: the arrays and picture it writes, and one-line refusals (exit 2)
before TensorFlow is imported."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from engine.cli import landscape as landscape_cli
from tests import procs

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--epochs", "1", "--dataset", "bundled", "--limit", "300", "--samples", "200",
         "--grid", "11"]


def _main(*argv, timeout=300):
    return procs.run([sys.executable, "main.py", *argv], cwd=ROOT, timeout=timeout)


_CASES = [
    (["--optimizers", "sgd,foo"], "--optimizers: unknown optimizer 'foo'"),
    (["--optimizers", "sgd", "--set", "sgd.momentum=2"], "--set sgd.momentum: must be in"),
    (["--optimizers", "sgd", "--epochs", "0"], "--epochs: must be in [1, 1000], got 0"),
    (["--optimizers", "sgd", "--grid", "5"], "--grid: must be in [11, 201], got 5"),
    (["--optimizers", "sgd", "--samples", "3"], "--samples: must be in [10, 120000], got 3"),
    (["--optimizers", "sgd", "--samples", "10000000"],
     "--samples: must be in [10, 120000], got 10000000"),
    (["--optimizers", "sgd", "--plane", "sphere"], "--plane: invalid choice: 'sphere'"),
    (["--optimizers", "sgd", "--plane", "endpoints"], "--plane endpoints: needs two optimizers"),
    (["--optimizers", "adam,adam", "--plane", "endpoints"],
     "--plane endpoints: the first two optimizers are the same"),
    (["--optimizers", "sgd", "--out", "x.txt"], "--out: expected a .npz or .png file name"),
    (["--optimizers", "sgd", "--out", "/no/such/folder/x.npz"], "--out: no such folder"),
    (["--optimizers", "sgd", "--dataset", "/no/such/mnist.npz"], "--dataset: "),
]


@pytest.mark.parametrize(("argv", "message"), _CASES, ids=[c[1][:28] for c in _CASES])
def test_bad_input_exits_2_with_one_line_before_tensorflow(argv, message, capsys, tmp_path):
    import main

    if "--out" not in argv:
        argv = [*argv, "--out", str(tmp_path / "x.npz")]
    imported = "tensorflow" in sys.modules
    assert main.main(["landscape", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("optiscope: error: ") and message in err, err
    assert err.count("\n") == 1
    assert ("tensorflow" in sys.modules) == imported  # refused before importing it


def test_the_npz_holds_the_keys_the_issue_names():
    assert set(landscape_cli.NPZ_KEYS) == {"alpha", "beta", "loss", "optimizers", "paths",
                                           "path_loss", "path_off_plane", "explained_variance"}


@pytest.mark.keras
@pytest.mark.parametrize("plane", ["pca", "endpoints"])
def test_landscape_writes_the_arrays(tmp_path, plane):
    target = tmp_path / "net.npz"
    done = _main("landscape", "--optimizers", "sgd,adam", "--plane", plane, *SMALL,
                 "--out", str(target))
    assert done.returncode == 0, done.stderr
    assert f"landscape: {plane} plane, 11×11 grid on 200 training images" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.npz"]  # no temporary left
    with np.load(target, allow_pickle=False) as data:
        assert set(landscape_cli.NPZ_KEYS) <= set(data.files)
        alpha, beta, loss, paths = data["alpha"], data["beta"], data["loss"], data["paths"]
        assert alpha.shape == beta.shape == (11,) and loss.shape == (11, 11)
        assert data["optimizers"].tolist() == ["sgd", "adam"]
        k, s, two = paths.shape
        assert (k, two) == (2, 2) and s == data["path_loss"].shape[1] == 9  # 0, 1, … 8 batches
        assert data["path_off_plane"].shape == (2, s) and np.all(data["path_off_plane"] >= 0)
        np.testing.assert_array_equal(paths[0, 0], paths[1, 0])  # one start
        assert alpha[0] < paths[..., 0].min() and paths[..., 0].max() < alpha[-1]
        assert beta[0] < paths[..., 1].min() and paths[..., 1].max() < beta[-1]
        for key in ("alpha", "beta", "loss", "paths", "path_loss", "path_off_plane"):
            assert np.isfinite(data[key]).all(), key
        variance = data["explained_variance"]
        if plane == "pca":
            assert 0 < variance[1] <= variance[0] <= 1
        else:
            assert np.isnan(variance).all() and variance.shape == (2,)
            np.testing.assert_allclose(data["path_off_plane"][:, -1], 0, atol=1e-5)
        assert int(data["n_images"]) == 200


@pytest.mark.keras
def test_landscape_draws_a_labelled_picture(tmp_path):
    target = tmp_path / "net.png"
    done = _main("landscape", "--optimizers", "sgd,adam,rmsprop", *SMALL, "--out", str(target))
    assert done.returncode == 0, done.stderr
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Traceback" not in done.stderr and "none_dealloc" not in done.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(target))
    assert (image.width(), image.height()) == (1400, 1000)
