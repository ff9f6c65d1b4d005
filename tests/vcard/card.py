"""The card side of the virtual CCCD lives in drivers/fakes/vcard_card.py (the demo's fake reader uses it too)."""
from drivers.fakes.vcard_card import ATR, VirtualCccd  # noqa: F401
