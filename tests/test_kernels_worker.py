"""Background compilation in a child process (engine/landscape/kernels/worker.py): the GUI's
process never shares its GIL with numba's compiler, and loads what the child compiled."""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import sys

import pytest

pytest.importorskip("numba")

from engine.landscape.kernels import worker  # noqa: E402
from tests import procs  # noqa: E402

_SCRIPT = """
import json
import numpy as np
from engine import optimizers
from engine.landscape import kernels, simulate, surfaces
from engine.landscape.kernels import worker

kernels.set_compile_policy("background")
def stepper():
    return simulate.Stepper(surfaces.get("booth"), optimizers.get("sgd", learning_rate=0.01),
                            np.zeros((4, 2)), 5, keep_path=False)
first = stepper().compiled
assert kernels.wait_for_background(300)
print(json.dumps({"first": first, "again": stepper().compiled, "log": kernels.compile_log(),
                  "child": worker.compiler().pid, "me": __import__("os").getpid()}))
"""


def test_a_gui_process_loads_the_kernels_its_child_compiled(tmp_path):
    """Under the GUI's policy a run goes the NumPy way while its kernel and surface pass are
    compiled; they are compiled by the child process and only loaded here (on the old code
    they were compiled in this process: the log said ``cached: false``)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}  # nothing compiled yet
    out = procs.run([sys.executable, "-c", _SCRIPT], timeout=600, env=env)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["first"] is False and report["again"] is True
    names = sorted(entry["name"] for entry in report["log"])
    assert names == ["advance[family=1, flags=0]", "exact_checks",
                     "surface_pass[surface=4, minima=1]"]
    assert all(entry["cached"] for entry in report["log"])  # loaded from the child's work
    assert report["child"] not in (None, report["me"])


def test_a_child_that_cannot_start_leaves_compiling_to_this_process(monkeypatch):
    monkeypatch.setattr(worker, "command", lambda: ["/nonexistent/optiscope-compiler"])
    compiler = worker.Compiler()
    assert compiler.compile([("pass", (4, 1))]) is False
    assert compiler.compile([("pass", (4, 1))]) is False and compiler.pid is None


def test_the_child_answers_each_request_and_ends_with_its_input():
    requests = [("nope", ()), ("kernel", ((1, 0, 0, 0), "not a signature"))]
    stdin = io.BytesIO(b"".join(struct.pack("<I", len(data)) + data
                                for data in map(pickle.dumps, requests)))
    stdout = io.BytesIO()
    worker.serve(stdin, stdout)  # returns at the end of its input
    lines = stdout.getvalue().splitlines()
    assert lines[0] == b"error ValueError" and lines[1].startswith(b"error ") and len(lines) == 2


def test_closing_never_waits_for_a_compilation(monkeypatch):
    """Quitting the app closes the child; one busy compiling is killed within a second."""
    import time

    monkeypatch.setattr(worker, "command", lambda: [sys.executable, "-c",
                                                     "import time; time.sleep(60)"])
    compiler = worker.Compiler()
    assert compiler._start() is not None and compiler.pid is not None
    t0 = time.monotonic()
    compiler.close()
    assert time.monotonic() - t0 < 5 and compiler.pid is None


_FIRST_MAP = """
import json
from engine import optimizers
from engine.landscape import kernels, maps, surfaces
from engine.landscape.kernels import worker

maps.start_map(surfaces.get("booth"), optimizers.get("sgd", learning_rate=0.01), grid=32,
               steps=5)
print(json.dumps({"log": kernels.compile_log(), "child": worker.compiler().pid}))
"""


def test_a_first_map_compiles_the_exact_checks_in_the_child_meanwhile(tmp_path):
    """A script's first map waits for its compilation: the exact checks (shared by every
    kernel) compile in the child while the map's kernel compiles here, so it waits for the
    longer of the two, not their sum."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = procs.run([sys.executable, "-c", _FIRST_MAP], timeout=600, env=env)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    cached = {entry["name"]: entry["cached"] for entry in report["log"]}
    assert cached == {"advance[family=1, flags=0, surface=4, minima=1]": False,
                      "exact_checks": True}
    assert report["child"] is not None
