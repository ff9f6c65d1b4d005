"""The virtual CCCD's personalisation lives in drivers/fakes/vcard_files.py (the demo card is built with it too)."""
from drivers.fakes.vcard_files import *  # noqa: F401,F403
from drivers.fakes.vcard_files import _ascii_name, _jpeg  # noqa: F401
