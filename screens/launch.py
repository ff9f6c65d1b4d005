"""`kiosk run`: configure Kivy for this kiosk's screen (size, full screen) before anything creates the window,
then start the app with the configured devices and portal."""
from __future__ import annotations


def run_command(args) -> int:
    from kiosk.appliance import config
    from kiosk.appliance import services as services_mod
    from kiosk.appliance.logs import add_file_handler
    from screens import kivy_env

    settings = config.load()
    add_file_handler(settings.kiosk.log_dir)
    size = (1080, 1920) if settings.kiosk.orientation == "portrait" else (1920, 1080)
    kivy_env.configure(size=size, fullscreen=settings.kiosk.fullscreen and not args.windowed)
    from screens.app import run_app  # creates the window: only now

    return run_app(services_mod.build(settings))
