"""File > Export: the dialogs around :mod:`gui.exports` and :mod:`engine.files.race_export`.

Each action asks for a file (and a resolution or frame count where it matters), then calls a
plain method that tests and the self-test call directly. Failures are shown in a message
box naming the file; nothing is half-written (atomic writes).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QProgressDialog

from engine.files import atomic, race_export
from gui import exports, figure
from gui.widgets import messages

DEFAULT_WIDTH = 1920
DEFAULT_FRAMES = 150
DEFAULT_MOVIE_SIZE = (1280, 720)
FPS = 20.0


class Exporter:
    """Export actions for a main window (its ``landscape`` tab and status bar)."""

    def __init__(self, window) -> None:
        self.window = window

    # --- plain operations (no dialogs) ------------------------------------------------------
    def view_picture(self, path: str | Path, width: int | None = DEFAULT_WIDTH) -> Path:
        """The 2-D race view (map, trails, axes, colour bar) as PNG or SVG, with its title,
        step and legend."""
        tab = self.window.landscape
        try:
            with tab.drawing_2d(), figure.thick_lines(tab.view,
                                                      width or exports.DEFAULT_PICTURE_WIDTH):
                tab.seek(tab.step)  # markers drawn at the picture's scale
                return exports.save_picture(tab.view.getPlotItem(), path, width,
                                            figure.race_caption(tab), tab.theme)
        finally:
            tab.seek(tab.step)

    def shown_caption(self) -> figure.Caption | None:
        """What a picture of the view on screen says about itself (None: the MNIST curves,
        which carry their own legend)."""
        window = self.window
        if window.tabs.currentWidget() is window.training:
            return None
        tab = window.landscape
        if tab.views.currentWidget() is tab.maps:
            return tab.maps.caption()
        return figure.race_caption(tab)

    def shown_item(self):
        """The plot on screen: the MNIST curves, the Maps heat map or sweep, the 2-D race
        view; None for the 3-D view (an OpenGL picture, PNG only)."""
        window = self.window
        if window.tabs.currentWidget() is window.training:
            return window.training.plots.graphics.ci
        tab = window.landscape
        current = tab.views.currentWidget()
        if current is tab.maps:
            shown = tab.maps.stack.currentWidget()
            return (tab.maps.sweep_plot.plot if shown is tab.maps.sweep_plot
                    else tab.maps.plot).getPlotItem()
        if current is tab.view3d:
            return None
        return tab.view.getPlotItem()

    def shown_picture(self, path: str | Path, width: int | None = DEFAULT_WIDTH) -> Path:
        """Whatever plot is on screen (:meth:`shown_item`) as PNG or SVG."""
        item, caption = self.shown_item(), self.shown_caption()
        theme = self.window.landscape.theme
        if item is not None:
            return exports.save_picture(item, path, width, caption, theme)
        target = Path(path)
        if target.suffix.lower() != ".png":
            raise exports.ExportError(f"{target.name}: the 3-D view exports as PNG only")
        self.window.settle()  # not black while presentation mode settles
        image = self.window.landscape.view3d.grab().toImage()
        return exports.save_image(figure.compose(image, caption, theme), target)

    def side_plots_picture(self, path: str | Path, width: int | None = DEFAULT_WIDTH) -> Path:
        self.window.landscape.flush_side_plots()
        return exports.save_picture(self.window.landscape.side_plots.graphics.ci, path, width)

    def race_animation(self, path: str | Path, frames: int = DEFAULT_FRAMES, fps: float = FPS,
                       progress=None, size: tuple[int, int] = DEFAULT_MOVIE_SIZE) -> Path:
        """The race from step 0 to the step shown (or to where it ends) as GIF or MP4, each
        frame ``size`` pixels (up to 1920×1080) with its title, step counter and legend."""
        tab = self.window.landscape
        tab.set_playing(False)
        shown = tab.step
        last = shown if shown > 0 else min(tab.race.finished_step(), tab.race.budget)
        steps = exports.frame_steps(max(last, 1), frames)
        width, height = (max(160, min(int(size[0]), exports.MAX_MOVIE_SIZE[0])),
                         max(120, min(int(size[1]), exports.MAX_MOVIE_SIZE[1])))
        top, bottom = figure.band_heights(figure.race_caption(tab, 0, widest=True), width)

        room = max(60, round(height - top - bottom))
        view = tab.view
        aspect = view.width() / max(view.height(), 1)
        body_width = min(width, round(room * aspect))  # the view's shape, fitted to the frame

        def images():
            for step in steps:
                computed(tab.race, step + 1, dialog=False)  # in slices; events keep flowing
                with tab.drawing_2d():  # also while another page is shown
                    tab.seek(step)
                body = figure.render_item(view.getPlotItem(), body_width)
                yield figure.compose(body, figure.race_caption(tab, step), tab.theme, height,
                                     width)
        try:
            with figure.thick_lines(view, body_width):
                return exports.save_animation(images(), len(steps), path, fps, progress)
        finally:
            tab.seek(shown)

    def trajectories(self, path: str | Path) -> Path:
        """Every racer's path up to the step shown, as CSV or JSON (by the file's suffix)."""
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in (".csv", ".json"):
            raise exports.ExportError(f"{target.name}: choose a file ending in .csv or .json")
        tab = self.window.landscape
        step = tab.step if tab.step > 0 else min(tab.race.finished_step(), tab.race.budget)
        computed(tab.race, step)
        text = (race_export.to_csv if suffix == ".csv" else race_export.to_json)(tab.race, step)
        try:
            atomic.write_text(target, text)
        except OSError as error:
            raise exports.ExportError(str(error)) from None
        return target

    # --- menu actions ---------------------------------------------------------------------
    def _ask(self, title: str, filters: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self.window, title, "", filters)
        return path

    def _done(self, target: Path) -> None:
        self.window.statusBar().showMessage(f"Wrote {target}")

    def _failed(self, error: Exception) -> None:
        self.window.statusBar().showMessage(f"Export failed: {error}")
        messages.warn(self.window, "Export failed", str(error))

    def _picture(self, which: str) -> None:
        path = self._ask(f"Export the {which} as a picture", "PNG image (*.png);;SVG (*.svg)")
        if not path:
            return
        width = None
        if Path(path).suffix.lower() == ".png":
            width, ok = QInputDialog.getInt(self.window, "Picture width", "Width in pixels:",
                                            DEFAULT_WIDTH, 16, exports.MAX_WIDTH, 100)
            if not ok:
                return
        save = self.shown_picture if which == "view on screen" else self.side_plots_picture
        try:
            self._done(save(path, width))
        except exports.ExportError as error:
            self._failed(error)

    def export_view(self) -> None:
        self._picture("view on screen")

    def export_side_plots(self) -> None:
        self._picture("side plots")

    def export_animation(self) -> None:
        path = self._ask("Export the race as an animation", "GIF (*.gif);;MP4 video (*.mp4)")
        if not path:
            return
        frames, ok = QInputDialog.getInt(self.window, "Frames", "Frames (20 per second):",
                                         DEFAULT_FRAMES, 2, exports.MAX_FRAMES, 10)
        if not ok:
            return
        dialog = QProgressDialog("Drawing the race…", "Cancel", 0, frames, self.window)
        dialog.setWindowTitle("Exporting")
        dialog.setMinimumDuration(0)

        def progress(done: int, count: int) -> bool:
            dialog.setMaximum(count)
            dialog.setValue(done)
            return not dialog.wasCanceled()
        try:
            self._done(self.race_animation(path, frames, FPS, progress))
        except exports.ExportCancelled:
            self.window.statusBar().showMessage("Export cancelled; nothing was written.")
        except exports.ExportError as error:
            self._failed(error)
        finally:
            dialog.close()

    def export_trajectories(self) -> None:
        path = self._ask("Export the trajectories", "CSV (*.csv);;JSON (*.json)")
        if not path:
            return
        try:
            self._done(self.trajectories(path))
        except exports.ExportCancelled:
            self.window.statusBar().showMessage("Export cancelled; nothing was written.")
        except exports.ExportError as error:
            self._failed(error)


def computed(race, step: int, slice_s: float = 0.05, dialog: bool = True) -> None:
    """Compute ``race`` to ``step`` in slices, the window painting between them; with
    ``dialog``, a progress dialog (with cancel: :class:`gui.exports.ExportCancelled`) when it
    takes a while (an animation's own progress dialog stays responsive without one)."""
    if race.ensure_within(step, slice_s):
        return
    progress = None
    if dialog:
        progress = QProgressDialog("Computing the race…", "Cancel", 0, max(step, 1))
        progress.setWindowTitle("Exporting")
        progress.setMinimumDuration(300)
    try:
        while not race.ensure_within(step, slice_s):
            if progress is not None:
                progress.setValue(min(race.computed_to(), step))
            QApplication.processEvents()
            if progress is not None and progress.wasCanceled():
                raise exports.ExportCancelled("cancelled")
    finally:
        if progress is not None:
            progress.close()
