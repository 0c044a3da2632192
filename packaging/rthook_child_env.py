"""PyInstaller runtime hook: programs the app starts get the user's environment back.

The bootloader puts the bundle's folder first on ``LD_LIBRARY_PATH`` (keeping the user's
value in ``LD_LIBRARY_PATH_ORIG``). This process has already read it, so changing it here
only affects child processes: ffmpeg for MP4 export (bundled, or the system's with
OPTISCOPE_FFMPEG=system) and whatever opens a link, which would otherwise load the bundle's
copies of system libraries instead of their own.
"""

import os
import sys

if getattr(sys, "frozen", False) and sys.platform.startswith("linux"):
    _original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if _original is not None:
        os.environ["LD_LIBRARY_PATH"] = _original
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)
