"""Exports: any plot to PNG or SVG, the race as a GIF or MP4, all written atomically.

Every file goes to a temporary name beside the target and replaces it only when complete
(:func:`engine.files.atomic.replacing`): an error or a cancel leaves no half-written file and the
old one intact. Animations are drawn frame by frame in the GUI thread (widgets can only be
painted there), with a progress callback that may cancel between frames.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from engine.files import atomic

PICTURE_FORMATS = (".png", ".svg")
ANIMATION_FORMATS = (".gif", ".mp4")
MAX_WIDTH = 8000
DEFAULT_PICTURE_WIDTH = 1920
MAX_FRAMES = 600
MAX_MOVIE_SIZE = (1920, 1080)  #: the largest GIF or MP4 frame; larger frames are scaled down


class ExportError(ValueError):
    """An export was refused or failed; the message says why and names the file."""


class ExportCancelled(Exception):
    """The user cancelled an export; nothing was written."""


def _check_target(path: str | Path, formats: tuple[str, ...]) -> Path:
    target = Path(path)
    if target.suffix.lower() not in formats:
        raise ExportError(f"{target.name}: choose a file ending in {' or '.join(formats)}")
    if not target.parent.is_dir():
        raise ExportError(f"{target}: no such folder {str(target.parent)!r}")
    return target


def save_picture(item, path: str | Path, width: int | None = None, caption=None,
                 theme=None) -> Path:
    """Write a pyqtgraph item (a PlotItem, a layout) to PNG or SVG.

    PNG goes through pyqtgraph's ImageExporter at ``width`` pixels (the height follows the
    item's aspect ratio). SVG is drawn by Qt's own ``QSvgGenerator`` from the item's scene:
    lines, text and markers stay vectors (heat maps are embedded images); pyqtgraph's
    SVGExporter failed on the race view's custom items. With a ``caption``
    (:class:`gui.figure.Caption`) the picture gets its title, step and legend bands.
    """
    from pyqtgraph.exporters import ImageExporter

    from gui import figure
    from gui.palette import LIGHT

    theme = theme or LIGHT
    target = _check_target(path, PICTURE_FORMATS)
    svg = target.suffix.lower() == ".svg"
    if width is not None and not svg and not 16 <= int(width) <= MAX_WIDTH:
        raise ExportError(f"width: must be between 16 and {MAX_WIDTH} pixels, got {width}")
    try:
        with atomic.replacing(target, suffix=target.suffix) as temporary:
            if svg and caption is not None:
                figure.write_svg(item, temporary, caption, theme)
            elif svg:
                _render_svg(item, temporary)
            elif caption is not None:
                body = figure.render_item(item, int(width or DEFAULT_PICTURE_WIDTH))
                if not figure.compose(body, caption, theme).save(temporary, "PNG"):
                    raise ExportError(f"{target.name}: the picture could not be written")
            else:
                exporter = ImageExporter(item)
                if width is not None:
                    exporter.parameters()["width"] = int(width)
                exporter.export(fileName=temporary)
            if Path(temporary).stat().st_size == 0:
                raise ExportError(f"{target.name}: nothing was written")
    except OSError as error:
        raise ExportError(f"{target}: {error.strerror or error}") from None
    return target


def save_image(image: QImage, path: str | Path) -> Path:
    """A QImage (e.g. a widget's ``grab()``) to PNG, atomically."""
    target = _check_target(path, (".png",))
    try:
        with atomic.replacing(target, suffix=".png") as temporary:
            if image.isNull() or not image.save(temporary, "PNG"):
                raise ExportError(f"{target.name}: the picture could not be written")
    except OSError as error:
        raise ExportError(f"{target}: {error.strerror or error}") from None
    return target


def _render_svg(item, filename: str) -> None:
    from PySide6.QtCore import QRectF, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    source = item.sceneBoundingRect()
    generator = QSvgGenerator()
    generator.setFileName(filename)
    generator.setSize(QSize(int(source.width()), int(source.height())))
    generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
    generator.setTitle("Optiscope")
    painter = QPainter(generator)
    try:
        item.scene().render(painter, QRectF(0, 0, source.width(), source.height()), source)
    finally:
        painter.end()


def image_to_array(image: QImage) -> np.ndarray:
    """A QImage as an ``(h, w, 3)`` uint8 RGB array (a copy)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * height)
    return buffer.reshape(height, stride)[:, : width * 3].reshape(height, width, 3).copy()


def _even(image: QImage, max_width: int, max_height: int) -> QImage:
    """Scaled to fit ``max_width`` × ``max_height`` and cropped to even sides (H.264 needs
    them)."""
    if image.width() > max_width or image.height() > max_height:
        image = image.scaled(max_width, max_height, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    return image.copy(0, 0, image.width() // 2 * 2, image.height() // 2 * 2)


def save_animation(frames: Iterable[QImage], count: int, path: str | Path, fps: float = 20.0,
                   progress: Callable[[int, int], bool] | None = None) -> Path:
    """Write ``count`` frames to a GIF or MP4, atomically.

    ``progress(done, count)`` is called after each frame; returning False cancels
    (:class:`ExportCancelled`, nothing written).
    """
    import imageio.v2 as imageio

    target = _check_target(path, ANIMATION_FORMATS)
    if not 1 <= count <= MAX_FRAMES:
        raise ExportError(f"frames: must be between 1 and {MAX_FRAMES}, got {count}")
    if not 0.5 <= fps <= 60:
        raise ExportError(f"fps: must be between 0.5 and 60, got {fps:g}")
    gif = target.suffix.lower() == ".gif"
    if not gif:
        _check_ffmpeg(target)
    options = ({"duration": 1000.0 / fps, "loop": 0} if gif else
               {"fps": fps, "codec": "libx264", "quality": 7, "macro_block_size": 2,
                "ffmpeg_log_level": "error"})
    try:
        with atomic.replacing(target, suffix=target.suffix) as temporary:
            writer = imageio.get_writer(temporary, format="GIF" if gif else "FFMPEG",
                                        mode="I", **options)
            try:
                for done, frame in enumerate(frames, 1):
                    writer.append_data(image_to_array(_even(frame, *MAX_MOVIE_SIZE)))
                    if progress is not None and progress(done, count) is False:
                        raise ExportCancelled("cancelled")
                    if done >= count:
                        break
            finally:
                writer.close()
    except OSError as error:
        raise ExportError(f"{target}: {error.strerror or error}") from None
    return target


def _check_ffmpeg(target: Path) -> None:
    """MP4 needs an ffmpeg program: imageio-ffmpeg's own, or one on the PATH (a package built
    without it, ``make package PACKAGE_FFMPEG=system``)."""
    import shutil

    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        exe = None
    if not exe or not (Path(exe).is_file() or shutil.which(exe)):
        raise ExportError(f"{target.name}: MP4 export needs ffmpeg, and none was found here "
                          "(install ffmpeg, or export a GIF)")


def frame_steps(last_step: int, count: int) -> list[int]:
    """``count`` playback steps from 0 to ``last_step``, evenly spaced and distinct."""
    count = max(1, min(int(count), int(last_step) + 1))
    return sorted({int(round(s)) for s in np.linspace(0, last_step, count)})
