"""The demo's "Mô phỏng" buttons on the documents and one-time-code screens go through the session's one
`Simulator` (drivers.fakes.simulator): shown only when it can do the thing, pressing them acts through it, and
a kiosk with real devices (no simulator) shows neither. Runs in its own offscreen Kivy process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

SCRIPT = textwrap.dedent('''
    import json, sys, types
    sys.path.insert(0, sys.argv[1])
    import screen_worker as w
    from kivy.app import App
    from kivy.base import EventLoop
    from kivy.core.window import Window
    from drivers.fakes.reader import FakeCodeReader
    from drivers.fakes.simulator import simulator_for
    from kiosk.appliance import config
    from screens.app import KioskApp, with_sandbox_text_message

    session = w.make_session()
    app = KioskApp(session)
    App._running_app = app
    EventLoop.ensure_window()
    app.build()
    if app.manager.parent is not None:
        Window.remove_widget(app.manager)
    app.manager = w.build_manager(app)
    Window.add_widget(app.manager)
    result = {"sandbox_hook": session.services.simulator.can_read_text_message}

    def show(case):
        session.state, session.data, _ = w.case_state(case, session)
        app._render()
        w.frames(3)
        return app.manager.current_screen

    def demo_button(screen):
        found = [b for b in screen.walk() if str(getattr(b, "text", "")).startswith("Mô phỏng")]
        assert len(found) == 1, found
        return found[0]

    scanner = session.services.scanner
    screen = show("documents-first")
    button = demo_button(screen)
    result["documents_shown"] = bool(screen.simulated) and not button.disabled
    before = len(scanner._feeder)
    button.dispatch("on_release")
    result["sheets_fed"] = len(scanner._feeder) - before

    session.services.simulator = simulator_for(reader=session.services.reader,
                                               text_message=lambda otp_id: "654321" if otp_id == "otp-00000001"
                                               else None)
    screen = show("otp-empty")
    button = demo_button(screen)
    result["otp_shown"] = bool(screen.simulated) and not button.disabled
    button.dispatch("on_release")
    for _ in range(200):
        w.frames(1)
        if screen.code:
            break
    result["otp_code"] = screen.code

    session.services.simulator = None  # real devices: no simulator
    hidden = {}
    for case in ("documents-first", "otp-empty"):
        screen = show(case)
        button = demo_button(screen)
        hidden[case] = [bool(screen.simulated), bool(button.disabled)]
        button.dispatch("on_release")  # disabled, and nothing to call: must not raise
    result["hidden"] = hidden

    real_portal = types.SimpleNamespace(
        simulator=simulator_for(reader=FakeCodeReader(delay=0)), reader=None, scanner=None,
        config=config.load(portal={"url": "https://dichvucong.example.gov.vn"}))
    with_sandbox_text_message(real_portal)
    result["real_portal_hook"] = real_portal.simulator.can_read_text_message
    print("RESULT " + json.dumps(result))
''')


@pytest.mark.ui
def test_the_demo_buttons_act_through_the_simulator_and_only_with_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY" and not k.startswith("KIOSK_")}
    env.update(KIVY_HOME=str(tmp_path / "kivy"), KIVY_NO_ARGS="1", KIVY_LOG_MODE="PYTHON")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(HERE)], env=env, capture_output=True, text=True,
                          timeout=120, cwd=HERE.parent)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT "):])
    assert result["sandbox_hook"], "a demo against the local sandbox reads its text messages"
    assert result["documents_shown"] and result["sheets_fed"] == 2
    assert result["otp_shown"] and result["otp_code"] == "654321"
    assert result["hidden"] == {"documents-first": [False, True], "otp-empty": [False, True]}
    assert not result["real_portal_hook"], "against a real portal there is no text message to read"
