"""A stray USB keyboard cannot change or leave the kiosk: F1 opens no settings panel, no key reaches Kivy's
handlers, and Kivy writes no config.ini that a later start would read (rotation 180 made a kiosk unusable)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent('''
    import json, sys, tempfile, threading
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from screens import kivy_env
    kivy_env.configure(size=(960, 540), headless=True)
    from drivers.fakes.printer import FakePrinter
    from drivers.fakes.reader import FakeCodeReader
    from drivers.fakes.scanner import FakeScanner
    from kiosk.appliance import config, services as services_mod
    data_dir = Path(tempfile.mkdtemp())
    settings = config.load(portal={"url": "http://127.0.0.1:9"}, kiosk={"data_dir": str(data_dir)})
    svc = services_mod.build(settings, data_dir=data_dir, scanner=FakeScanner(), printer=FakePrinter(width_dots=576),
                             reader=FakeCodeReader())
    from screens.app import run_app
    result = {}

    def script(app):
        from kivy.clock import Clock
        from kivy.core.window import Window
        from screens.pilot import Pilot

        def press():
            for key, scancode in ((282, 58), (27, 41), (293, 69)):  # F1, Escape, F12
                result.setdefault("key_down_handled", []).append(
                    bool(Window.dispatch("on_key_down", key, scancode, None, [])))
            Window.dispatch("on_keyboard", 282, 58, None, [])  # what SDL sends if a handler let it through

        def look():
            result["settings_panel"] = app._app_settings is not None and app._app_settings.parent is not None
            result["state"] = app.session.state.value
            result["rotation"] = Window.rotation
        pilot = Pilot(app)
        try:
            pilot.wait_state("attract")  # the first screen is on (and drawn), as a passer-by finds it
            pilot.call(press)
            pilot.frames(2)  # whatever the keys set off has happened
            pilot.call(look)
        finally:
            Clock.schedule_once(lambda _dt: app.stop(), 0)

    run_app(svc, on_started=lambda app: threading.Thread(target=script, args=(app,), daemon=True).start(),
            with_fleet=False)
    print("RESULT " + json.dumps(result))
''')


@pytest.mark.ui
def test_a_usb_keyboard_cannot_open_settings_or_change_kivys_config(tmp_path: Path) -> None:
    kivy_home = tmp_path / "kivy"
    kivy_home.mkdir()
    (kivy_home / "config.ini").write_text("[graphics]\nrotation = 180\n")  # what an earlier F1 session saved
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(KIVY_HOME=str(kivy_home), KIVY_NO_ARGS="1")
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(REPO)], env=env, capture_output=True, text=True,
                         timeout=120)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line, out.stderr[-3000:]
    result = json.loads(line[len("RESULT "):])
    assert result["key_down_handled"] == [True, True, True]  # swallowed before Kivy's own handlers
    assert result["settings_panel"] is False
    assert result["state"] == "attract" and result["rotation"] == 0
    assert (kivy_home / "config.ini").read_text() == "[graphics]\nrotation = 180\n"  # neither read nor rewritten
    assert not list(kivy_home.glob("*.ini"))[1:]  # no application .ini either
