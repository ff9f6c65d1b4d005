"""One cold start of the kiosk, headless: what `kiosk run` does (configuration, services with the configured
fake devices, Kivy window, every screen built), until the attract screen has been drawn on a frame. Prints
``ATTRACT_DRAWN <unix time>`` on that frame and quits; the parent (test_bench_coldstart.py) measures from the
moment it started this process, so the interpreter's start and every import count.

Usage: python coldstart_worker.py DATA_DIR
"""
from __future__ import annotations

import sys
import time
from pathlib import Path


def mark(phase: str) -> None:
    print(f"PHASE {phase} {time.time():.6f}", flush=True)


def main(data_dir: str) -> int:
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

    def started(app) -> None:
        mark("screens")
        from kivy.clock import Clock
        from kivy.core.window import Window

        def flipped(*_args) -> None:
            if app.manager.current != "attract":
                return
            mark("drawn")
            print(f"ATTRACT_DRAWN {time.time():.6f}", flush=True)
            Window.unbind(on_flip=flipped)
            Clock.schedule_once(lambda _dt: app.stop(), 0)

        Window.bind(on_flip=flipped)

    return run_app(services_mod.build(settings, data_dir=Path(data_dir)), on_started=started, with_fleet=False)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
