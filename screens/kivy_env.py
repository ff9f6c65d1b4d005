"""Kivy must be configured before its first import: where it writes, no argument parsing, no Escape-to-quit.

Import this module before anything from kivy. Headless runs (tests, `kiosk simulate`) unset DISPLAY so SDL
picks its offscreen driver and really renders; SDL_VIDEODRIVER=dummy would make Kivy exit the process.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def configure(*, size: tuple[int, int] | None = None, fullscreen: bool = False, headless: bool = False) -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    # Kivy never reads or writes config.ini: a stray key (F1 opened Kivy's settings panel and saved rotation
    # 180) cannot change the kiosk for the next start; every setting the kiosk needs is set below.
    os.environ["KIVY_NO_CONFIG"] = "1"
    if "KIVY_HOME" not in os.environ:
        home = Path(tempfile.gettempdir()) / f"dvc-kiosk-kivy-{os.getuid()}"
        home.mkdir(exist_ok=True)
        os.environ["KIVY_HOME"] = str(home)
    if headless:
        os.environ.pop("DISPLAY", None)
        os.environ.pop("WAYLAND_DISPLAY", None)
        if os.environ.get("SDL_VIDEODRIVER") == "dummy":
            os.environ.pop("SDL_VIDEODRIVER")
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "system")
    Config.set("kivy", "log_level", "warning")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("graphics", "multisamples", "0")
    if size:
        Config.set("graphics", "width", str(size[0]))
        Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "borderless", "1" if fullscreen else "0")
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "rotation", "0")
    for module in list(Config.options("modules")) if Config.has_section("modules") else []:
        Config.remove_option("modules", module)  # no inspector, monitor or touch-ring modules


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
