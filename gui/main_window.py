"""The main window: the Landscape and MNIST training tabs, menus and status bar."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget

from engine import optimizers, surfaces

APP_NAME = "Optiscope"


def _placeholder(text: str) -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setMargin(24)
    return label


class MainWindow(QMainWindow):
    """Top-level window holding the two halves of the app."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(f"{APP_NAME} — optimizers, made visible")
        self.resize(1280, 800)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(
            _placeholder(
                f"Landscape: {len(surfaces.ids())} surfaces and {len(optimizers.ids())} "
                "Keras-exact optimizers are ready in the engine.\n"
                "The interactive race view is being built (try `python main.py trajectory "
                "--help` meanwhile)."
            ),
            "Landscape",
        )
        self.tabs.addTab(
            _placeholder("MNIST training: the Keras MLP trained per optimizer (coming next)."),
            "MNIST training",
        )
        self.setCentralWidget(self.tabs)
        self._build_menus()
        self.statusBar().showMessage("Ready")

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.menuBar().addMenu("&View")
        help_menu = self.menuBar().addMenu("&Help")
        about_action = QAction("&About Optiscope", self)
        about_action.triggered.connect(self._show_about)
        help_menu.addAction(about_action)

    def _show_about(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<b>{APP_NAME}</b><p>Deep-learning optimizers, made visible: Keras's update "
            "rules racing on 2-D loss surfaces, and the Keras MNIST MLP trained per "
            "optimizer.</p>",
        )
