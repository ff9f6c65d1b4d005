"""Submitting: the dossier is being saved and sent. Nothing here can interrupt it."""
from __future__ import annotations

from screens.widgets import KioskScreen


class SubmittingScreen(KioskScreen):
    pass
