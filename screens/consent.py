"""Consent: before the kiosk reads a citizen's identity it says how personal data is processed (Decree
13/2023/NĐ-CP) and asks for agreement."""
from __future__ import annotations

from screens.widgets import KioskScreen


class ConsentScreen(KioskScreen):
    pass
