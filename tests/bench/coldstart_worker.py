"""One cold start of the kiosk, headless: what `kiosk run` does (configuration, services with the configured
fake devices, Kivy window, the app), until the attract screen has been drawn on a frame. Prints
``PHASE <name> <unix time> <CPU s>`` at each phase (the CPU seconds this process has used so far, every thread
counted) and ``ATTRACT_DRAWN <unix time>`` on that frame; the parent (test_bench_coldstart.py) measures from the
moment it started this process, so the interpreter's start and every import count.

With ``--tap early`` or ``--tap settled`` it then taps "Bắt đầu nộp hồ sơ" on the attract screen with a finger
(through Kivy's input path, like screens/pilot.py) and waits for the next screen to be drawn: ``early`` on the
first frame after the attract screen (a citizen already touching the glass while the kiosk starts), ``settled``
once the kiosk has done what it does in its first idle seconds (the screens made ahead of need) and one more
second has passed. Prints ``PHASE tap ...`` when the finger lifts (a button acts on release) and ``PHASE
tap_drawn ...`` on the frame that shows the next screen; then quits.

Usage: python coldstart_worker.py DATA_DIR [--tap early|settled]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

START_TEXT = "Bắt đầu nộp hồ sơ"  # the attract screen's primary button (screens/attract.kv)
NEXT_SCREEN = "procedure"
SETTLE_LIMIT_S = 30.0  # `settled` taps after this even if the kiosk still looks busy


def mark(phase: str) -> None:
    print(f"PHASE {phase} {time.time():.6f} {time.process_time():.6f}", flush=True)


def main(data_dir: str, tap: str = "") -> int:
    mark("python")
    from screens import kivy_env

    kivy_env.configure(size=(1920, 1080), fullscreen=False, headless=True)  # as `kiosk run --windowed`, no display
    from kiosk.appliance import config
    from kiosk.appliance import services as services_mod

    settings = config.load(kiosk={"data_dir": data_dir, "fullscreen": False, "log_dir": str(Path(data_dir) / "log")},
                           portal={"url": "http://127.0.0.1:9"})  # nothing listens: the kiosk must not wait for it
    mark("config")
    from kiosk.appliance.logs import add_file_handler

    add_file_handler(settings.kiosk.log_dir)
    from screens.app import run_app  # creates the window: only now, as screens/launch.py does

    mark("window")
    svc = services_mod.build(settings, data_dir=Path(data_dir))
    mark("services")

    def started(app) -> None:
        mark("app")
        from kivy.clock import Clock
        from kivy.core.window import Window

        def flipped(*_args) -> None:
            if app.manager.current != "attract":
                return
            mark("drawn")
            print(f"ATTRACT_DRAWN {time.time():.6f}", flush=True)
            Window.unbind(on_flip=flipped)
            if not tap:
                Clock.schedule_once(lambda _dt: app.stop(), 0)
            elif tap == "early":
                Clock.schedule_once(lambda _dt: press(app), 0)
            else:
                wait_settled(app, time.monotonic())

        Window.bind(on_flip=flipped)

    def wait_settled(app, since: float) -> None:
        from kivy.clock import Clock

        unmade = getattr(app.manager, "unmade", [])
        if unmade and time.monotonic() - since < SETTLE_LIMIT_S:
            Clock.schedule_once(lambda _dt: wait_settled(app, since), 0.05)
            return
        Clock.schedule_once(lambda _dt: press(app), 1.0)

    def press(app) -> None:
        from kivy.clock import Clock
        from kivy.core.window import Window
        from kivy.uix.button import Button

        from screens.finger import Finger
        from screens.widgets import source_text

        screen = app.manager.current_screen
        button = next(w for w in screen.walk() if isinstance(w, Button) and source_text(w) == START_TEXT)
        finger = Finger(*button.to_window(*button.center))
        finger.touch_down()

        def shown(*_args) -> None:
            if app.manager.current != NEXT_SCREEN:
                return
            mark("tap_drawn")
            Window.unbind(on_flip=shown)
            Clock.schedule_once(lambda _dt: app.stop(), 0)

        def lift(_dt) -> None:
            mark("tap")
            Window.bind(on_flip=shown)
            finger.touch_up()

        Clock.schedule_once(lift, 0.05)  # the finger rests on the glass a moment, as a person's does

    return run_app(svc, on_started=started, with_fleet=False)


if __name__ == "__main__":
    args = sys.argv[1:]
    mode = args[args.index("--tap") + 1] if "--tap" in args else ""
    if mode not in ("", "early", "settled"):
        sys.exit(f"--tap early|settled, not {mode!r}")
    sys.exit(main(args[0], mode))
