# Optiscope: `make run` installs everything and starts the app; `make test` installs
# everything and runs the whole test suite (what .ci/run calls).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Debian packages for Qt's xcb platform under Xvfb (screenshots, OpenGL, `make run` headless).
APT_PACKAGES := xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
	libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxkbcommon-x11-0 libgl1 libegl1 \
	libfontconfig1 libdbus-1-3

.PHONY: run test test-slow lint bench system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Installs the Debian packages when run as root on Debian/Ubuntu and something is missing;
# otherwise says what to install and carries on (tests use Qt's offscreen platform).
system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian packages:" $$missing; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "note: for Xvfb/X11 support install: $$missing"; \
	fi

run: $(STAMP) system-deps
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then $(BIN)/python main.py; \
	elif command -v xvfb-run >/dev/null; then \
		echo "No display: running under Xvfb (nothing will be visible)."; \
		env --default-signal=USR1 xvfb-run -a $(BIN)/python main.py; \
	else QT_QPA_PLATFORM=offscreen $(BIN)/python main.py; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# pytest's exit status 5 ("no tests ran") is a failure here, never a silent pass.
# No run can hang CI: a test hung for 300 s is stopped by pytest-timeout (pyproject.toml), and
# the whole run by SIGABRT after TEST_TIMEOUT s (faulthandler then dumps every stack). A crash or
# a hang prints, last, what happened and this project's frames (tests/crash_summary.py).
TEST_TIMEOUT ?= 2400
test: $(STAMP) system-deps lint
	@set +e; timeout -s ABRT -k 60 $(TEST_TIMEOUT) $(BIN)/python -m pytest -m "not slow" \
		$(PYTEST_ARGS) 2>&1 | tee .pytest.log; \
	rc=$${PIPESTATUS[0]}; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests"; exit 1; fi; \
	if [ $$rc -ne 0 ]; then $(BIN)/python tests/crash_summary.py .pytest.log; fi; \
	exit $$rc

test-slow: $(STAMP) system-deps
	@set +e; $(BIN)/python -m pytest -m slow $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests"; exit 1; fi; exit $$rc

bench: $(STAMP)
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

# `make package`: the one-folder app dist/optiscope/optiscope (PyInstaller, spec in
# packaging/). Runs without Python or a network; includes TensorFlow and all of resources/.
# By default it leaves out imageio-ffmpeg's 170 MB ffmpeg binary (879 MB instead of 1.1 GB,
# within the 900 MB target): MP4 export then uses an `ffmpeg` on the user's PATH and says so
# when there is none; GIF export never needs it. PACKAGE_FFMPEG=bundled puts it in.
PACKAGE_STAMP := $(VENV)/.package-stamp
PACKAGE_FFMPEG ?= system
.PHONY: package

$(PACKAGE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[package]'
	touch $(PACKAGE_STAMP)

# Drawn once and kept in resources/icons/; rebuilt only when missing.
resources/icons/optiscope.png: | $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python packaging/make_icon.py

package: $(PACKAGE_STAMP) resources/icons/optiscope.png
	OPTISCOPE_FFMPEG=$(PACKAGE_FFMPEG) $(BIN)/pyinstaller --noconfirm \
		--log-level WARN --distpath dist --workpath build/pyinstaller packaging/optiscope.spec
	@echo "Built dist/optiscope: $$(du -sh dist/optiscope | cut -f1)," \
		"run $(CURDIR)/dist/optiscope/optiscope"
