"""`kiosk run`: configure Kivy for this kiosk's screen (size, full screen) before anything creates the window,
then start the app with the configured devices and portal."""
from __future__ import annotations

import argparse
import logging

NAME = "run"
HELP = "run the kiosk with the configured devices and portal"

log = logging.getLogger("screens.launch")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--windowed", action="store_true", help="a window instead of full screen (for bench tests)")


def run(args: argparse.Namespace) -> int:
    from kiosk.appliance import config
    from kiosk.appliance.runtime import start_services
    from kiosk.appliance.doctor import simulated_devices
    from kiosk.appliance.logs import add_file_handler
    from screens import kivy_env

    add_file_handler(config.load(_ignore_remote=True).kiosk.log_dir)  # the portal cannot move the logs
    # the devices open here; pushed settings they cannot start with fall back to the last known good ones
    svc = start_services()
    settings = svc.config
    simulated = simulated_devices(settings)
    if simulated:
        log.warning("SIMULATED devices (driver \"fake\"): %s. This kiosk cannot serve citizens with them; set the "
                    "real drivers in the site config (`kiosk provision`) and run `kiosk doctor`",
                    ", ".join(simulated))
    size = (1080, 1920) if settings.kiosk.orientation == "portrait" else (1920, 1080)
    kivy_env.configure(size=size, fullscreen=settings.kiosk.fullscreen and not args.windowed)
    from screens.app import run_app  # creates the window: only now

    return run_app(svc)
