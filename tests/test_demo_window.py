"""`make demo` on a machine with a screen: the windowed kiosk starts with its simulated devices and sandbox
portal, stays up, and stops cleanly when systemd (or a person) sends SIGTERM — leaving through the app, so the
outbox gets its last round. The screen is a real X server (Xvfb). The test listens as systemd would (a
$NOTIFY_SOCKET with a watchdog period): the kiosk says READY=1 once its first screen is on, then its UI loop pings
WATCHDOG=1 as it goes round — pings from a running kiosk are what "it stays up" means, not a fixed wait."""
from __future__ import annotations

import os
import shutil
import signal
import socket
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
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(str(tmp_path / "notify"))
        notify.settimeout(0.5)
        env = {**os.environ, "DISPLAY": f":{display}", "KIVY_HOME": str(tmp_path / "kivy"),
               "NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "1000000"}  # a ping every 0.5 s
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("WATCHDOG_PID", None)
        log = tmp_path / "demo.log"
        heard: list[str] = []
        with notify, log.open("w") as out:
            demo = subprocess.Popen([sys.executable, "-m", "screens.main", "demo"], env=env, stdout=out,
                                    stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 90
                # up (READY=1), then the UI loop goes round and round: two watchdog pings after it
                while not ("READY=1" in heard and heard[heard.index("READY=1"):].count("WATCHDOG=1") >= 2):
                    assert demo.poll() is None and time.monotonic() < deadline, (heard, log.read_text()[-3000:])
                    try:
                        heard += notify.recv(4096).decode().splitlines()
                    except TimeoutError:
                        pass
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
