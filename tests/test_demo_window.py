"""`make demo` on a machine with a screen: the windowed kiosk starts with its simulated devices and sandbox
portal, stays up, and stops cleanly when systemd (or a person) sends SIGTERM — leaving through the app, so the
outbox gets its last round. The screen is a real X server (Xvfb)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.ui


def free_display() -> int:
    for n in range(90, 140):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is installed by `make test` (Debian package xvfb)")
def test_windowed_demo_starts_and_stops_cleanly(tmp_path):
    display = free_display()
    xvfb = subprocess.Popen(["Xvfb", f":{display}", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{display}").exists():
            assert time.monotonic() < deadline and xvfb.poll() is None, "Xvfb did not start"
            time.sleep(0.1)
        env = {**os.environ, "DISPLAY": f":{display}", "KIVY_HOME": str(tmp_path / "kivy")}
        env.pop("WAYLAND_DISPLAY", None)
        log = tmp_path / "demo.log"
        with log.open("w") as out:
            demo = subprocess.Popen([sys.executable, "-m", "screens.main", "demo"], env=env, stdout=out,
                                    stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 60
                while "Start application main loop" not in log.read_text():  # Kivy's own word
                    if demo.poll() is not None or time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
                time.sleep(3)  # a few seconds of the running kiosk: no crash, no exit
                assert demo.poll() is None, log.read_text()[-3000:]
                demo.send_signal(signal.SIGTERM)
                code = demo.wait(timeout=30)
            finally:
                if demo.poll() is None:
                    demo.kill()
        text = log.read_text()
        assert code == 0, text[-3000:]
        assert "Sandbox portal: http://127.0.0.1:" in text
        assert "Demo kiosk" in text
        assert "Traceback" not in text, text[-3000:]
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
