"""MNIST loading: the bundled subset, checked .npz files, and a bounded fallback for "auto"."""

from __future__ import annotations

import threading
import zipfile

import numpy as np
import pytest

from engine.mnist import datasets
from engine.mnist.datasets import DatasetError


def _arrays(n_train=20, n_test=10, **overrides):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": np.arange(n_train, dtype=np.uint8) % 10,
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": np.arange(n_test, dtype=np.uint8) % 10,
    }
    arrays.update(overrides)
    return {key: value for key, value in arrays.items() if value is not None}


def _npz(tmp_path, name="mnist.npz", **overrides):
    path = tmp_path / name
    np.savez(path, **_arrays(**overrides))
    return path


def test_bundled_subset_has_real_shapes_and_every_digit():
    data = datasets.bundled()
    assert data.x_train.shape == (4000, 28, 28) and data.x_test.shape == (1000, 28, 28)
    assert data.y_train.shape == (4000,) and data.y_test.shape == (1000,)
    assert {a.dtype for a in (data.x_train, data.y_train, data.x_test, data.y_test)} == {
        np.dtype(np.uint8)}
    assert np.bincount(data.y_train).tolist() == [400] * 10
    assert np.bincount(data.y_test).tolist() == [100] * 10
    assert data.x_train.max() == 255 and data.x_train.min() == 0
    assert data.info == datasets.DatasetInfo("MNIST subset (bundled)", "bundled", 4000, 1000)
    assert not data.x_train.flags.writeable  # shared, never modified in place
    assert len(set(data.y_train[:50].tolist())) == 10  # shuffled: a prefix mixes every digit


def test_load_npz_reads_a_valid_file_and_converts_integers_to_uint8(tmp_path):
    path = _npz(tmp_path, y_train=np.arange(20, dtype=np.int64) % 10)
    data = datasets.load_npz(path)
    assert data.x_train.shape == (20, 28, 28) and data.y_train.dtype == np.uint8
    assert data.info.source == f"file: {path}" and data.info.name == "MNIST"
    assert (data.info.n_train, data.info.n_test) == (20, 10)
    np.testing.assert_array_equal(data.y_train, np.arange(20) % 10)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"x_train": np.zeros((10, 5), np.uint8)}, "x_train has shape (10, 5), expected (N, 28, 28)"),
    ({"x_test": np.zeros((10, 28, 28), np.float32)}, "x_test has dtype float32, expected"),
    ({"y_test": None}, "missing array(s) y_test"),
    ({"y_train": np.full(20, 10, np.uint8)}, "y_train has labels in 10..10, expected 0..9"),
    ({"y_train": np.zeros((20, 1), np.uint8)}, "y_train has shape (20, 1), expected (N,)"),
    ({"y_train": np.zeros(19, np.uint8)}, "x_train has 20 images but y_train has 19 labels"),
    ({"x_train": np.full((20, 28, 28), 256, np.int32)}, "pixel values in 256..256"),
    ({"x_test": np.zeros((0, 28, 28), np.uint8), "y_test": np.zeros(0, np.uint8)},
     "x_test is empty"),
])
def test_load_npz_refuses_wrong_contents_naming_file_and_problem(tmp_path, overrides, message):
    path = _npz(tmp_path, **overrides)
    with pytest.raises(DatasetError) as caught:
        datasets.load_npz(path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)


def test_corrupt_and_truncated_files_are_refused(tmp_path):
    noise = tmp_path / "noise.npz"
    noise.write_bytes(np.random.default_rng(1).bytes(5000))
    with pytest.raises(DatasetError, match="not an .npz archive"):
        datasets.load_npz(noise)
    whole = _npz(tmp_path).read_bytes()
    for cut in (len(whole) // 2, len(whole) - 30):
        truncated = tmp_path / f"cut{cut}.npz"
        truncated.write_bytes(whole[:cut])
        with pytest.raises(DatasetError, match="corrupt or truncated"):
            datasets.load_npz(truncated)
    with pytest.raises(DatasetError, match="no such file"):
        datasets.load_npz(tmp_path / "absent.npz")
    with pytest.raises(DatasetError, match="cannot read"):
        datasets.load_npz(tmp_path)  # a folder


def test_a_damaged_member_inside_a_valid_zip_is_refused(tmp_path):
    path = _npz(tmp_path)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("x_train.npy")
    start = info.header_offset + 30 + len(info.filename) + 200
    raw[start:start + 50] = bytes(50)  # the CRC no longer matches
    path.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match="corrupt or truncated"):
        datasets.load_npz(path)


class _Exploit:
    def __reduce__(self):
        return (_mark_unpickled, ())


_UNPICKLED = []


def _mark_unpickled():
    _UNPICKLED.append(True)
    return "pwned"


def test_pickled_object_arrays_are_refused_never_unpickled(tmp_path):
    objects = np.empty(20, dtype=object)
    objects[:] = [_Exploit() for _ in range(20)]
    path = tmp_path / "evil.npz"
    np.savez(path, **_arrays(y_train=objects))
    with pytest.raises(DatasetError, match="y_train is an object array"):
        datasets.load_npz(path)
    assert _UNPICKLED == []


def test_first_training_samples_keeps_a_prefix_and_says_so():
    data = datasets.first_training_samples(datasets.bundled(), 300)
    assert data.x_train.shape == (300, 28, 28) and data.x_test.shape == (1000, 28, 28)
    assert data.info.n_train == 300 and "first 300 of 4,000" in data.info.note
    assert datasets.first_training_samples(data, None) is data


def test_resolve_names_bundled_and_files(tmp_path):
    assert datasets.resolve("bundled").info.source == "bundled"
    assert datasets.resolve(str(_npz(tmp_path))).info.n_train == 20
    with pytest.raises(DatasetError, match="no such file"):
        datasets.resolve(str(tmp_path / "absent.npz"))


@pytest.fixture
def no_cache(tmp_path, monkeypatch):
    """An empty Keras home, so "auto" has no cache to find."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    return tmp_path / "keras-home" / "datasets" / "mnist.npz"


def _fake_downloader(monkeypatch, download):
    monkeypatch.setattr(datasets, "_keras_downloader", lambda: download)


def test_auto_uses_a_valid_keras_cache(no_cache, monkeypatch):
    no_cache.parent.mkdir(parents=True)
    np.savez(no_cache, **_arrays())
    _fake_downloader(monkeypatch, lambda: pytest.fail("must not download"))
    data = datasets.resolve("auto")
    assert data.info.source == "Keras cache" and data.info.name == "MNIST"
    assert data.info.n_train == 20 and data.info.note == ""


def test_auto_falls_back_to_bundled_when_the_download_fails(no_cache, monkeypatch):
    def offline():
        raise OSError("URL fetch failure: Temporary failure in name resolution")

    _fake_downloader(monkeypatch, offline)
    data = datasets.resolve("auto", download_timeout=5)
    assert data.info.source == "bundled" and data.info.n_train == 4000
    assert data.info.note == "no network, using the bundled subset"  # no raw "[Errno -2]"


def test_auto_bounds_a_stalled_download_and_a_cancel(no_cache, monkeypatch):
    release = threading.Event()
    _fake_downloader(monkeypatch, lambda: release.wait(30))
    try:
        data = datasets.resolve("auto", download_timeout=0.5)
        assert data.info.source == "bundled" and "did not finish in 0.5 s" in data.info.note

        cancel = threading.Event()
        threading.Timer(0.2, cancel.set).start()
        data = datasets.resolve("auto", download_timeout=30, cancel=cancel)
        # Had the cancel been missed, the note would say "did not finish in 30 s".
        assert data.info.source == "bundled" and "cancelled" in data.info.note
    finally:
        release.set()


def test_auto_skips_a_corrupt_cache_and_says_why(no_cache, monkeypatch):
    no_cache.parent.mkdir(parents=True)
    no_cache.write_bytes(b"PK\x03\x04 truncated download")
    _fake_downloader(monkeypatch, lambda: (_ for _ in ()).throw(OSError("offline")))
    data = datasets.resolve("auto")
    assert data.info.source == "bundled"
    assert "Keras cache is unusable" in data.info.note and "no network" in data.info.note


def test_auto_accepts_a_successful_download(no_cache, monkeypatch):
    arrays = _arrays(n_train=30)
    _fake_downloader(monkeypatch, lambda: ((arrays["x_train"], arrays["y_train"]),
                                           (arrays["x_test"], arrays["y_test"])))
    data = datasets.resolve("auto")
    assert data.info.source == "download" and data.info.n_train == 30
