"""Markup in every file- or user-fed text is shown as the text it is (issue 16, point 1).

Qt labels guess their format (``Qt.AutoText``): before the fix a scenario titled
``<img src="/dev/zero">`` froze the window for over a minute, and ``<img src="any.png">``
showed any local picture. The payload used here is a local magenta picture: if any text
were rendered as HTML, magenta pixels would appear on screen or in an exported picture.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QLabel

from engine.files import scenario
from tests import procs

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[1]
MAGENTA = (255, 0, 255)


@pytest.fixture
def magenta(tmp_path) -> Path:
    image = QImage(120, 60, QImage.Format.Format_RGB32)
    image.fill(QColor(*MAGENTA))
    path = tmp_path / "magenta.png"
    assert image.save(str(path))
    return path


def _payloads(picture: Path) -> list[str]:
    return [f'<img src="{picture}" width="300" height="80">',
            f"<table><tr><td><img src='{picture}'></td></tr></table>",
            '<b>bold</b> &amp; <a href="file:///etc/passwd">link</a>']


def _magenta_pixels(image: QImage) -> int:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * image.height())
    rows = data.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    pixels = rows.reshape(-1, 3)
    return int(np.count_nonzero(np.all(pixels == MAGENTA, axis=1)))


def _labels_showing(root, text: str) -> list[QLabel]:
    return [label for label in root.findChildren(QLabel) if text in label.text()]


@pytest.fixture
def window(quiet_window):
    return quiet_window


@pytest.mark.parametrize("tab", ["landscape", "training"])
def test_titles_explanations_labels_and_dataset_names_are_plain_text(window, magenta, tab):
    from engine.mnist.datasets import DatasetInfo

    title, explanation, label = _payloads(magenta)
    document = {"schema_version": 1, "title": title, "explanation": explanation, "tab": tab,
                "training": {"dataset": str(magenta.parent / "<b>mnist</b>.npz")}}
    if tab == "landscape":
        document["landscape"] = {"surface": "saddle", "steps": 50}
        document["measure"] = {"kind": "steps_near_point", "point": [0, 0], "label": label[:100]}
    window.scenarios.show(scenario.loads(json.dumps(document)))
    shown_tab = window.landscape if tab == "landscape" else window.training
    shown_tab.banner.set_explanation_visible(True)
    window.training._dataset_loaded(DatasetInfo(title, "file: " + explanation, 10, 10))
    if tab == "landscape":
        window.landscape.seek(50)
    for text in (title, explanation):
        labels = _labels_showing(window, text)
        assert labels, f"{text!r} is on screen somewhere"
        for found in labels:
            assert found.textFormat() == Qt.TextFormat.PlainText, found.objectName()
    for found in window.findChildren(QLabel):  # rich labels hold the payload escaped only
        if found.textFormat() != Qt.TextFormat.PlainText:
            assert "<img" not in found.text() and "<table" not in found.text()
    assert _magenta_pixels(window.grab().toImage()) == 0


def test_a_refusal_quoting_markup_is_shown_as_plain_text(window, magenta, tmp_path):
    from gui.widgets import messages

    payload = _payloads(magenta)[0]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"schema_version": 1, "tab": payload[:35]}))
    assert not window.scenarios.open_path(path)
    assert "<img" in window.shown[-1]  # quoted as it is ...
    box = messages._box(window, messages.QMessageBox.Icon.Warning, "t", window.shown[-1])
    assert box.textFormat() == Qt.TextFormat.PlainText  # ... and shown as text
    box.deleteLater()


def test_a_refused_formula_quoting_markup_is_plain_text(window, magenta):
    tab = window.landscape
    tab.expression.setText(_payloads(magenta)[0])
    tab._expression_applied()
    assert not tab.expression_error.isHidden()
    assert tab.expression_error.textFormat() == Qt.TextFormat.PlainText
    assert _magenta_pixels(tab.grab().toImage()) == 0


def test_recent_file_names_are_escaped_in_menus_and_tooltips(window, magenta, tmp_path):
    folder = tmp_path / "<b>lessons"
    folder.mkdir()
    path = folder / "a&b.json"
    window.scenarios.save_to(path)
    window.scenarios.refresh_recent_menu()
    action = window.scenarios.recent_menu.actions()[0]
    assert action.text() == "a&&b.json"
    assert "<b>" not in action.toolTip() and "&lt;b&gt;" in action.toolTip()


def test_render_titles_are_plain_text(tmp_path, magenta):
    title = _payloads(magenta)[0]
    lesson = tmp_path / "lesson.json"
    lesson.write_text(json.dumps({"schema_version": 1, "title": title,
                                  "landscape": {"surface": "bowl", "steps": 20}}))
    out = tmp_path / "race.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = procs.run([sys.executable, "main.py", "render", "--scenario", str(lesson),
                      "--out", str(out), "--size", "900x600"], timeout=120, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    assert _magenta_pixels(QImage(str(out))) == 0
