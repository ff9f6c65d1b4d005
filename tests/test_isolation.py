"""tests/conftest.py keeps the machine out of the tests: a stray `KIOSK_*` variable in the caller's environment or
a site file in /etc/dvc-kiosk must not change what a test sees. Proved by running a small test in a pytest of its
own, started with both strays in place."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from kiosk.appliance import config

TESTS = Path(__file__).resolve().parent
STRAY_URL = "https://stray.invalid:1"

PROBE = '''
import os
from kiosk.appliance import config

def test_probe():
    ours = ("KIOSK_CONFIG", "KIOSK_SCANNER__TEXT_LAYER")  # what tests/conftest.py sets itself
    assert not [k for k in os.environ if k.startswith("KIOSK_") and k not in ours]
    assert open(os.environ["KIOSK_CONFIG"], encoding="utf-8").read().strip().startswith("#")
    assert not config.SITE_FILE.exists()
    s = config.load(_ignore_remote=True)
    assert s.portal.url == "http://127.0.0.1:8765", s.portal.url
    assert s.kiosk.centre_name != "STRAY"
'''

#: Stands in for a machine that has /etc/dvc-kiosk/kiosk.toml: loaded before the conftest's fixtures run.
STRAY_SITE_PLUGIN = '''
import os
from pathlib import Path

def pytest_configure(config):
    from kiosk.appliance import config as kiosk_config
    kiosk_config.SITE_FILE = Path(os.environ["STRAY_SITE_FILE"])
'''


def test_a_stray_environment_and_site_file_do_not_reach_the_tests(tmp_path: Path) -> None:
    stray_site = tmp_path / "etc-dvc-kiosk.toml"
    stray_site.write_text(f'[kiosk]\ncentre_name = "STRAY"\n[portal]\nurl = "{STRAY_URL}"\n', encoding="utf-8")
    # the strays are real: without the conftest they would change the configuration
    assert config.load(stray_site, _ignore_remote=True).portal.url == STRAY_URL
    probe_dir = tmp_path / "probe"
    probe_dir.mkdir()
    (probe_dir / "conftest.py").write_text((TESTS / "conftest.py").read_text(encoding="utf-8"), encoding="utf-8")
    (probe_dir / "test_probe.py").write_text(textwrap.dedent(PROBE), encoding="utf-8")
    (tmp_path / "stray_site_plugin.py").write_text(textwrap.dedent(STRAY_SITE_PLUGIN), encoding="utf-8")
    env = {**os.environ, "KIOSK_PORTAL__URL": STRAY_URL, "KIOSK_PORTAL_URL": STRAY_URL,
           "KIOSK_KIOSK__CENTRE_NAME": "STRAY", "KIOSK_CONFIG": str(stray_site), "STRAY_SITE_FILE": str(stray_site),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "stray_site_plugin",
                           "--rootdir", str(probe_dir), str(probe_dir)],
                          cwd=probe_dir, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 passed" in proc.stdout


def test_this_test_sees_no_site_file_and_no_caller_variables() -> None:
    # only what tests/conftest.py sets itself: the empty site file, and the OCR text layer off (tests/test_seal.py)
    assert sorted(k for k in os.environ if k.startswith("KIOSK_")) == ["KIOSK_CONFIG", "KIOSK_SCANNER__TEXT_LAYER"]
    assert config.site_file() is not None and config.site_file().read_text(encoding="utf-8").startswith("#")
    assert config.SITE_FILE != Path("/etc/dvc-kiosk/kiosk.toml") and not config.SITE_FILE.exists()
    assert Path(os.environ["KIVY_HOME"]) != Path.home() / ".kivy"
