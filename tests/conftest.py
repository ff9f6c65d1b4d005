"""Every test runs as on a clean machine, whatever machine it runs on.

- No `KIOSK_*` variable of the caller reaches a test (a technician's shell, a CI job's environment): each test
  starts without any; a test that wants one sets it with monkeypatch.
- No site file: `/etc/dvc-kiosk/kiosk.toml` (kiosk.appliance.config.SITE_FILE) is pointed at a path that does not
  exist, and `KIOSK_CONFIG` names an empty file of the test's own, so subprocesses (the UI harness, `kiosk simulate`)
  that inherit the environment read the shipped defaults only.
- Kivy writes its home (config, logs) into a temporary folder, never ~/.kivy; Kivy parses no command line.
- tesseract (pytesseract in the tests, the OCR benchmark) runs on one OpenMP thread, as the outbox runs it
  (kiosk/outbox/prepare.py): its spinning worker threads doubled test_pages.py's CPU on two cores for the same text.

tests/test_isolation.py proves it with a stray variable and a stray site file.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_KIVY_HOME: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Before any test module is imported (some import Kivy, which reads these at import time)."""
    global _KIVY_HOME
    _KIVY_HOME = tempfile.mkdtemp(prefix="kiosk-tests-kivy-")
    os.environ["KIVY_HOME"] = _KIVY_HOME
    os.environ["KIVY_NO_ARGS"] = "1"
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ["OMP_THREAD_LIMIT"] = "1"
    for key in [k for k in os.environ if k.startswith("KIOSK_")]:
        del os.environ[key]  # also for whatever a module does at import time


def pytest_unconfigure(config: pytest.Config) -> None:
    if _KIVY_HOME:
        shutil.rmtree(_KIVY_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def _no_site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site_dir = tmp_path_factory.mktemp("site")
    (site_dir / "kiosk.toml").write_text("# tests: no site settings\n", encoding="utf-8")
    return site_dir


@pytest.fixture(autouse=True)
def _isolated_from_the_machine(monkeypatch: pytest.MonkeyPatch, _no_site_dir: Path) -> None:
    for key in [k for k in os.environ if k.startswith("KIOSK_")]:
        monkeypatch.delenv(key)
    empty_site = _no_site_dir / "kiosk.toml"
    empty_site.write_text("# tests: no site settings\n", encoding="utf-8")  # whatever a test did to it
    monkeypatch.setenv("KIOSK_CONFIG", str(empty_site))
    # tesseract costs seconds a page: the OCR text layer is tested in tests/test_seal.py, off everywhere else
    monkeypatch.setenv("KIOSK_SCANNER__TEXT_LAYER", "false")
    from kiosk.appliance import config

    monkeypatch.setattr(config, "SITE_FILE", _no_site_dir / "absent" / "kiosk.toml")


#: The test files that each take tens of seconds (whole Kivy sessions, the golden renderer). `make test` runs files
#: on several workers (pytest-xdist, --dist loadfile --no-loadscope-reorder: xdist's own reordering puts files with
#: many tests first, which left a one-test 50 s file to the end). xdist hands each worker two files to start with,
#: round by round, then one file to whichever worker is free: the four longest go first, then four shorter ones in
#: reverse, so no worker starts with two of the longest; the many small files fill the gaps.
HEAVY_FIRST = ["test_screen_goldens.py", "test_ui_accessibility.py", "test_login_ui.py", "test_ui_scenarios.py",
               "test_resilience.py", "test_session.py", "test_statuses.py", "test_ui_flow.py",
               "test_demo_hooks.py", "test_demo_window.py", "test_lockdown.py", "test_chaos.py"]


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file keeps its own order
