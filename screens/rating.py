"""Rating: the Ministry's five satisfaction levels, each a big labelled button (not colours or faces alone)."""
from __future__ import annotations

from screens.widgets import KioskScreen

LEVELS = [(5, "Rất hài lòng"), (4, "Hài lòng"), (3, "Bình thường"), (2, "Không hài lòng"), (1, "Rất không hài lòng")]


class RatingScreen(KioskScreen):
    pass
