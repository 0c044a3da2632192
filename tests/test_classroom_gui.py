"""Presentation mode, exports (pictures, animations, trajectories), About and settings."""

from __future__ import annotations

import csv
import io
import json
import math
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage

from gui import exports

pytestmark = pytest.mark.gui


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "optiscope.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings):
    from gui.main_window import MainWindow

    main = MainWindow(settings=settings)
    qtbot.addWidget(main)
    main.resize(1400, 900)
    main.show()
    yield main
    main.landscape.shutdown()
    main.training.shutdown()


def test_presentation_mode_enlarges_type_and_lines_and_gives_the_race_the_room(window):
    from PySide6.QtWidgets import QApplication

    from gui.palette import DARK, LIGHT

    app = QApplication.instance()
    before = app.font().pointSizeF()
    tab = window.landscape
    window.set_theme(DARK)
    window.presentation_action.trigger()  # F5
    assert window.theme is LIGHT  # projectors wash out dark backgrounds
    assert window.presenting and window.isFullScreen()
    assert app.font().pointSizeF() == pytest.approx(before * 1.5)
    assert tab.controls.isHidden()
    assert tab.view.line_scale == 2.0 and tab.side_plots.line_width == 2.0
    assert tab.view.trails._outline.widthF() == pytest.approx(10.0)
    tab.banner.set_content("A title", "An explanation")
    window.landscape.banner.toggle_explanation()  # E
    assert tab.banner.explanation.isVisible()
    assert tab.banner.title.font().pointSize() > app.font().pointSize()
    window.presentation_action.trigger()
    assert not window.presenting and not window.isFullScreen()
    assert app.font().pointSizeF() == pytest.approx(before)
    assert not tab.controls.isHidden() and tab.view.line_scale == 1.0
    assert window.theme is DARK


def test_keyboard_changes_the_playback_speed(window):
    playback = window.landscape.playback
    start = playback.steps_per_second()
    playback.change_speed(1)
    assert playback.steps_per_second() > start
    playback.change_speed(-1)
    playback.change_speed(-1)
    assert playback.steps_per_second() < start


def test_picture_exports_png_at_the_chosen_width_and_svg(window, tmp_path):
    window.landscape.seek(100)
    png = window.exporter.view_picture(tmp_path / "race.png", width=1234)
    assert QImage(str(png)).width() == 1234
    svg = window.exporter.view_picture(tmp_path / "race.svg")
    root = ElementTree.parse(svg).getroot()
    assert root.tag.endswith("svg") and len(list(root.iter())) > 50  # vectors, not a blank
    side = window.exporter.side_plots_picture(tmp_path / "side.png", width=600)
    assert QImage(str(side)).width() == 600
    for bad, message in ((tmp_path / "race.jpg", "png or .svg"),
                         (tmp_path / "missing" / "race.png", "no such folder")):
        with pytest.raises(exports.ExportError, match=message):
            window.exporter.view_picture(bad)
    with pytest.raises(exports.ExportError, match="width"):
        window.exporter.view_picture(tmp_path / "race.png", width=0)


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_the_race_animates_to_gif_and_mp4_and_the_shown_step_is_kept(window, tmp_path, suffix):
    import imageio.v2 as imageio

    tab = window.landscape
    tab.seek(60)
    target = window.exporter.race_animation(tmp_path / f"race{suffix}", frames=12, fps=10)
    if suffix == ".gif":
        with imageio.get_reader(target, format="GIF") as reader:
            frames = np.stack([np.asarray(frame) for frame in reader])
        assert frames.shape[0] == 12 and frames.shape[-1] in (3, 4)
        assert not np.array_equal(frames[0], frames[-1])  # the race moves
    else:  # imageio's ffmpeg reader leaks its pipes; ffmpeg counts the frames instead
        import imageio_ffmpeg

        assert imageio_ffmpeg.count_frames_and_secs(str(target)) == (12, pytest.approx(1.2))
    assert tab.step == 60


def test_a_cancelled_or_failed_animation_leaves_the_old_file_intact(window, tmp_path):
    target = tmp_path / "race.gif"
    target.write_bytes(b"old file")
    calls = []

    def cancel_after_three(done, count):
        calls.append(done)
        return done < 3

    with pytest.raises(exports.ExportCancelled):
        window.exporter.race_animation(target, frames=20, progress=cancel_after_three)
    assert calls == [1, 2, 3]
    assert target.read_bytes() == b"old file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.gif"]  # no temporary left

    def broken():
        yield QImage(40, 40, QImage.Format.Format_RGB32)
        raise RuntimeError("frame failed")

    with pytest.raises(RuntimeError):
        exports.save_animation(broken(), 5, target)
    assert target.read_bytes() == b"old file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.gif"]


def test_trajectories_export_as_csv_and_strict_json_even_when_a_racer_diverges(window, tmp_path):
    tab = window.landscape
    key = next(iter(tab.race.tracks))
    panel = tab.racer_panel
    panel.select(key)
    panel._editors["learning_rate"].setValue(5.0)  # SGD at 5 diverges on the ravine
    tab.seek(300)
    assert tab.race.tracks[key].status_at(300)[0] == "diverged"
    rows = list(csv.DictReader(io.StringIO((window.exporter.trajectories(
        tmp_path / "paths.csv")).read_text())))
    assert {row["racer"] for row in rows} == set(tab.race.tracks)
    assert all(math.isfinite(float(row[c])) for row in rows for c in ("x", "y", "loss"))
    document = json.loads(window.exporter.trajectories(tmp_path / "paths.json").read_text())
    statuses = {r["key"]: r["status"] for r in document["racers"]}
    assert statuses[key] == "diverged"
    first = next(r for r in document["racers"] if r["key"] == key)
    assert len(first["path"]) == len(first["loss"]) and first["settings"]["learning_rate"] == 5.0
    with pytest.raises(exports.ExportError, match=".csv or .json"):
        window.exporter.trajectories(tmp_path / "paths.txt")


def test_about_names_every_library_with_its_version_licence_and_mnist(window):
    from gui.about import LIBRARIES, about_html

    text = about_html()
    for _dist, name, licence in LIBRARIES:
        if name != "TensorFlow":
            assert name.split(" (")[0] in text and licence.split(";")[0] in text
    assert "TensorFlow" in text and "LeCun" in text and "mnist_5k" in text
    import numpy
    assert numpy.__version__ in text


def test_theme_and_geometry_are_remembered(qtbot, settings):
    from gui.main_window import MainWindow
    from gui.palette import DARK

    first = MainWindow(settings=settings)
    qtbot.addWidget(first)
    first.set_theme(DARK)
    first.resize(700, 590)  # within the offscreen screen (800×600), above the window's minimum
    first.show()
    size = first.size()
    first.close()
    second = MainWindow(settings=settings)
    qtbot.addWidget(second)
    assert second.theme is DARK
    # The offscreen screen is 800 px wide: Qt clamps a restored width to it, not a height.
    assert second.size().height() == size.height() == 590
    second.close()


def test_the_view_on_screen_exports_whichever_plot_is_shown(window, tmp_path):
    tab = window.landscape
    assert window.exporter.shown_item() is tab.view.getPlotItem()
    tab.views.setCurrentWidget(tab.maps)
    assert window.exporter.shown_item() is tab.maps.plot.getPlotItem()
    tab.maps.mode.setCurrentIndex(tab.maps.mode.findData("sweep"))
    assert window.exporter.shown_item() is tab.maps.sweep_plot.plot.getPlotItem()
    svg = window.exporter.shown_picture(tmp_path / "sweep.svg")
    assert ElementTree.parse(svg).getroot().tag.endswith("svg")
    window.tabs.setCurrentWidget(window.training)
    assert window.exporter.shown_item() is window.training.plots.graphics.ci
    png = window.exporter.shown_picture(tmp_path / "training.png", width=900)
    assert QImage(str(png)).width() == 900
    window.tabs.setCurrentWidget(tab)
    tab.views.setCurrentWidget(tab.view3d)
    assert window.exporter.shown_item() is None
    with pytest.raises(exports.ExportError, match="PNG only"):
        window.exporter.shown_picture(tmp_path / "view.svg")


def test_mp4_without_any_ffmpeg_is_refused_with_a_clear_message(window, tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "no-ffmpeg-here"))
    with pytest.raises(exports.ExportError, match="needs ffmpeg.*GIF"):
        window.exporter.race_animation(tmp_path / "race.mp4", frames=3)
    assert list(tmp_path.iterdir()) == []


def test_switching_theme_or_presentation_keeps_the_style_instead_of_repolishing(
        quiet_window, monkeypatch):
    # Setting the Fusion style again, at every theme change, repolished every widget:
    # presentation mode held the GUI thread 130-370 ms instead of 80-100 (bench/gui_limits.py).
    from PySide6.QtWidgets import QApplication

    from gui.palette import DARK, LIGHT

    app = QApplication.instance()
    assert app.style().name().lower() == "fusion"
    styles: list = []
    monkeypatch.setattr(QApplication, "setStyle", lambda *args: styles.append(args))
    quiet_window.set_theme(DARK)
    quiet_window.set_presentation(True)
    quiet_window.set_presentation(False)
    quiet_window.set_theme(LIGHT)
    assert styles == []
    assert app.palette().color(app.palette().ColorRole.Window).lightness() > 200


def test_another_surface_closes_the_lesson_written_for_the_first(quiet_window):
    # "Four equally deep minima: where does each optimizer end?" stayed over Beale and the
    # ravine, with its measure's headline: false there (a fresh-eyes review saw it).
    from engine.files import presets, scenario

    window, tab = quiet_window, quiet_window.landscape
    paths = {p.name: p for p in presets.preset_paths()}
    window.scenarios.open_preset(paths["01-ravine-momentum.json"])
    title = tab.banner.title.text()
    assert tab.banner.isVisible() and tab.measure_spec is not None
    tab.condition_slider.setValue(tab.condition_slider.maximum())  # same surface: stays
    assert tab.banner.isVisible() and tab.banner.title.text() == title
    window.scenarios.open_preset(paths["07-four-minima.json"])
    title = tab.banner.title.text()
    assert tab.banner.isVisible() and title.startswith("Four equally deep minima")
    tab.surface_combo.setCurrentIndex(tab.surface_combo.findData("beale"))
    assert not tab.banner.isVisible() and tab.measure_spec is None
    message = window.statusBar().currentMessage()
    assert f"“{title}” was written for Himmelblau" in message and "Beale" in message
    saved = window.scenarios.current()
    assert saved.title == scenario.TITLE.default and saved.measure is None
    assert saved.surface_id == "beale"
    assert title not in window.windowTitle()


def test_a_banner_line_a_little_too_long_is_drawn_smaller_not_cut(qtbot):
    """At 1280 px the four-minima title read "…where does each optimizer en…" for want of
    5 % of its width (found by a fresh-eyes review): a line shrinks to fit, down to
    SHRINK_TO of its font, and only then ends in "…" with a tooltip."""
    from PySide6.QtGui import QFontMetrics

    from gui.widgets.banner import SHRINK_TO, ElidedLabel

    label = ElidedLabel()
    qtbot.addWidget(label)
    label.show()
    text = "Four equally deep minima: where does each optimizer end?"
    label.setText(text)
    wide = label.fontMetrics().horizontalAdvance(text)
    label.resize(int(wide * 0.92), label.height())
    font = label.shown_font()
    assert font.pointSizeF() < label.font().pointSizeF()
    assert QFontMetrics(font).horizontalAdvance(text) <= label.width()
    assert label.toolTip() == ""  # all of it shows
    label.resize(int(wide * SHRINK_TO * 0.8), label.height())
    assert label.toolTip() == text  # cut short: the tooltip holds it
    label.resize(wide + 10, label.height())
    assert label.shown_font().pointSizeF() == label.font().pointSizeF()
