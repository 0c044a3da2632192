"""Hostile .npz files for the MNIST loader: every one is refused with a DatasetError naming it.

Complements tests/test_datasets.py (which covers random bytes, a cut archive, a missing file, a
folder, one damaged member, a pickled label array and the basic wrong shapes and dtypes): here
are the files that attack the .npy layer itself (a member that is not .npy data, a header that
lies about its size, headers that try to run code), the remaining dtypes, special files that
must not block, and a property that no corruption of a valid file escapes as another error.
"""

from __future__ import annotations

import io
import os
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.mnist import datasets
from engine.mnist.datasets import DatasetError


def _arrays(n_train: int = 20, n_test: int = 10) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": np.arange(n_train, dtype=np.uint8) % 10,
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": np.arange(n_test, dtype=np.uint8) % 10,
    }


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _header(shape: tuple[int, ...], descr: str = "|u1", fortran: str = "False") -> bytes:
    """A version 1.0 .npy header declaring ``shape`` (and nothing else: no data follows)."""
    text = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape!r}, }}"
    text += " " * ((64 - (10 + len(text) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin-1")


def _archive(path: Path, compression: int = zipfile.ZIP_STORED, **members: bytes) -> Path:
    """An .npz of the valid arrays, with some members (by key) replaced by raw bytes."""
    contents = {key: _npy(value) for key, value in _arrays().items()}
    contents.update(members)
    with zipfile.ZipFile(path, "w", compression) as archive:
        for key, data in contents.items():
            archive.writestr(f"{key}.npy", data)
    return path


def _refused(path: Path, *fragments: str) -> str:
    with pytest.raises(DatasetError) as caught:
        datasets.load_npz(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message
    return message


def test_the_archive_builder_makes_a_valid_file(tmp_path):
    data = datasets.load_npz(_archive(tmp_path / "ok.npz", zipfile.ZIP_DEFLATED))
    assert (data.info.n_train, data.info.n_test) == (20, 10)


@pytest.mark.parametrize("content", [b"", b"hello, not an array", b"\x93NUMPY"],
                         ids=["empty", "text", "cut-magic"])
def test_a_member_that_is_not_npy_data_is_refused(tmp_path, content):
    # np.load hands such a member back as raw bytes instead of an array (AttributeError before).
    _refused(_archive(tmp_path / "raw.npz", x_train=content), "x_train", "not .npy data")


@pytest.mark.parametrize("shape", [(10**12,), (10**12 // 784, 28, 28), (2**62,),
                                   (10**6, 28, 28), (2**40, 2**40)],
                         ids=["1e12", "1e12-images", "2^62", "1e6-images", "2^80"])
def test_a_header_that_claims_more_data_than_the_member_holds_is_refused(tmp_path, shape):
    # Before the size check, the largest claims reached np.empty: MemoryError, not DatasetError.
    path = _archive(tmp_path / "huge.npz", x_train=_header(shape) + bytes(100))
    _refused(path, "x_train", "declares", "bytes")


def test_a_header_that_claims_less_data_than_the_member_holds_is_refused(tmp_path):
    path = _archive(tmp_path / "short.npz", x_train=_header((2, 28, 28)) + bytes(20 * 784))
    _refused(path, "x_train", "declares")


@pytest.mark.parametrize("header", [
    _header((20, 28, 28), fortran="__import__('os').system('touch CANARY')"),
    _header((20, 28, 28), descr="O"),
    b"\x93NUMPY\x01\x00\xff\xff" + b"{" * 65535,
    b"\x93NUMPY\x03\x00" + (20).to_bytes(4, "little") + b"\xff\xfe not utf-8 \n" + bytes(7),
    b"\x93NUMPY\x09\x00" + bytes(64),
    _header((-1, 28, 28)),
], ids=["code-in-header", "object-descr", "huge-header", "bad-utf8", "version-9", "negative"])
def test_headers_that_try_to_run_code_or_break_the_parser_are_refused(tmp_path, header):
    canary = tmp_path / "CANARY"
    path = _archive(tmp_path / "header.npz", x_train=header.replace(b"CANARY", bytes(canary))
                    + bytes(20 * 784))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        _refused(path, "x_train")
    finally:
        os.chdir(cwd)
    assert not canary.exists()


@pytest.mark.parametrize(("key", "array", "fragment"), [
    ("x_train", np.zeros((20, 28, 28), np.float64), "x_train has dtype float64"),
    ("x_test", np.full((10, 28, 28), "7"), "x_test has dtype <U1"),
    ("y_train", np.full(20, b"3"), "y_train has dtype |S1"),
    ("y_test", np.zeros(10, bool), "y_test has dtype bool"),
    ("x_train", np.zeros((20, 28, 28), np.complex64), "x_train has dtype complex64"),
    ("y_train", np.zeros(20, "datetime64[s]"), "y_train has dtype datetime64[s]"),
    ("x_test", np.zeros((10, 28, 28), [("pixel", "u1")]), "x_test has dtype"),
    ("y_test", np.zeros(10, np.float16), "y_test has dtype float16"),
    ("y_train", np.uint8(3), "y_train has shape (), expected (N,)"),
    ("x_train", np.zeros((20, 28, 28, 1), np.uint8), "x_train has shape (20, 28, 28, 1)"),
    ("x_test", np.zeros((10, 784), np.uint8), "x_test has shape (10, 784)"),
    ("x_train", np.zeros((20, 27, 28), np.uint8), "expected (N, 28, 28)"),
    ("y_test", np.full(10, -1, np.int8), "y_test has labels in -1..-1, expected 0..9"),
    ("y_train", np.full(20, 2**40, np.int64), "expected 0..9"),
    ("x_test", np.full((10, 28, 28), -5, np.int16), "x_test has pixel values in -5..-5"),
    ("y_test", np.zeros(11, np.uint8), "x_test has 10 images but y_test has 11 labels"),
])
def test_wrong_dtypes_shapes_and_values_are_named(tmp_path, key, array, fragment):
    _refused(_archive(tmp_path / "wrong.npz", **{key: _npy(array)}), fragment)


class _Exploit:
    def __reduce__(self):
        return (_record_unpickling, ())


_UNPICKLED: list[bool] = []


def _record_unpickling() -> str:
    _UNPICKLED.append(True)
    return "pwned"


@pytest.mark.parametrize("key", ["x_train", "x_test", "y_test"])
def test_pickled_object_arrays_in_any_member_are_never_unpickled(tmp_path, key):
    objects = np.empty(3, dtype=object)
    objects[:] = [_Exploit(), _Exploit(), _Exploit()]
    _refused(_archive(tmp_path / "evil.npz", **{key: _npy(objects)}), key, "pickled")
    assert _UNPICKLED == []


def test_an_archive_of_other_arrays_names_the_missing_ones(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, images=np.zeros((2, 28, 28), np.uint8))
    _refused(path, "missing array(s) x_train, y_train, x_test, y_test")


@pytest.mark.parametrize("content", [b"", b"PK", b"PK\x03\x04", b"PK\x05\x06" + bytes(18),
                                     b"\x93NUMPY\x01\x00"],
                         ids=["empty", "PK", "local-header-only", "empty-zip", "bare-npy"])
def test_empty_and_nearly_empty_files_are_refused(tmp_path, content):
    path = tmp_path / "tiny.npz"
    path.write_bytes(content)
    _refused(path)


def test_a_symlink_loop_and_a_dangling_link_are_refused(tmp_path):
    (tmp_path / "a.npz").symlink_to(tmp_path / "b.npz")
    (tmp_path / "b.npz").symlink_to(tmp_path / "a.npz")
    _refused(tmp_path / "a.npz", "cannot read the file")
    (tmp_path / "dangling.npz").symlink_to(tmp_path / "absent.npz")
    _refused(tmp_path / "dangling.npz", "no such file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    outcome: dict[str, BaseException | None] = {}

    def load() -> None:
        try:
            datasets.load_npz(fifo)
            outcome["error"] = None
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            outcome["error"] = error

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(10)
    blocked = worker.is_alive()
    if blocked:  # open() waits for a writer (it did before the fix): be one, then end it
        with open(fifo, "wb"):
            pass
        worker.join(10)
    assert not blocked, "load_npz blocked on a named pipe"
    assert isinstance(outcome["error"], DatasetError)
    assert str(outcome["error"]).startswith(f"{fifo}: ")
    assert "not a regular file" in str(outcome["error"])


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero"])
def test_device_files_are_refused(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    with pytest.raises(DatasetError, match="not a regular file"):
        datasets.load_npz(device)


@pytest.fixture(scope="module")
def valid_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("valid") / "mnist.npz"
    np.savez_compressed(path, **_arrays(n_train=6, n_test=4))
    return path.read_bytes()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mutated") / "mutated.npz"


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_corruption_of_a_valid_file_loads_or_is_refused(valid_bytes, scratch, data):
    raw = bytearray(valid_bytes)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        kind = data.draw(st.sampled_from(["flip", "cut", "zero", "insert"]), label="kind")
        at = data.draw(st.integers(0, max(len(raw) - 1, 0)), label="at")
        if kind == "flip" and raw:
            raw[at] ^= data.draw(st.integers(1, 255), label="mask")
        elif kind == "cut":
            del raw[at:]
        elif kind == "zero":
            end = min(len(raw), at + data.draw(st.integers(1, 64), label="span"))
            raw[at:end] = bytes(end - at)
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=16), label="inserted")
    scratch.write_bytes(bytes(raw))
    try:
        loaded = datasets.load_npz(scratch)
    except DatasetError as error:
        assert str(error).startswith(f"{scratch}: ")
    else:  # a flip in a part nobody reads (a comment, a timestamp): still a valid dataset
        assert loaded.x_train.dtype == np.uint8 and loaded.x_train.shape[1:] == (28, 28)
        assert loaded.y_train.max() <= 9
