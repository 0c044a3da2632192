"""The headless commands of ``main.py`` (exit 2 with one line on stderr for bad input)."""
