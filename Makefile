# DVC Kiosk — the front door. `make demo` and `make test` set everything up themselves.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
PIP   := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
# Debian packages the kiosk and its tests use (SANE, fonts, OCR for tests, PDF rasteriser, Kivy's mtdev).
APT_PACKAGES := libsane1 libsane-dev sane-utils libmtdev1 fonts-noto-core fonts-dejavu-core \
                tesseract-ocr tesseract-ocr-vie poppler-utils libzbar0 libgl1 libegl1 libgles2 libusb-1.0-0 hunspell-vi systemd xvfb \
                python3-venv espeak-ng alsa-utils pcscd vsmartcard-vpcd libpcsclite-dev swig

export KIVY_HOME := $(CURDIR)/.kivy
export KIVY_NO_ARGS := 1
export KIVY_LOG_MODE := PYTHON

.PHONY: setup apt venv demo test lint wheel-check lock bench chaos clean

setup: apt $(STAMP)

apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test,sane,sandbox]'
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/kiosk demo

# Whole test files go to one worker each (module fixtures such as the golden renderer run once). Four workers on
# the two cores: the UI tests spend part of their time waiting for frames and for their Kivy subprocesses.
TEST_WORKERS ?= 4

# The suite, then the lint (ruff + mypy). CI (.ci/run) also runs `make wheel-check` after it.
# tests/bench is `make bench`'s alone: not even collected here (its imports cost each worker 4 s). Python may write
# its bytecode caches (__pycache__, git-ignored) even where the caller's shell forbids it: every worker and every
# kiosk subprocess of the suite would otherwise compile the project and rewrite the test files again.
test: setup
	env -u PYTHONDONTWRITEBYTECODE $(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile \
	  --no-loadscope-reorder -m "not slow and not bench" --ignore=tests/bench
	$(MAKE) --no-print-directory lint

# ruff (pyflakes, pycodestyle, bugbear, pyupgrade) and mypy; settings in pyproject.toml. No reformatting.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The wheel built outside the checkout, installed in a new venv and run from elsewhere (tests/wheel_check.py).
wheel-check: setup
	$(PY) tests/wheel_check.py

# Re-pin the appliance's dependencies (requirements/appliance.lock) after changing them in pyproject.toml.
lock: setup
	$(PIP) install -q 'pip-tools>=7.4,<8'
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
	  --extra sane --extra sandbox --output-file requirements/appliance.lock pyproject.toml

bench: setup
	$(VENV)/bin/python -m pytest -q -m bench -s tests/bench

chaos: setup
	$(VENV)/bin/python -m pytest -q -m slow -s

clean:
	rm -rf $(VENV) .kivy build *.egg-info .mypy_cache .ruff_cache
