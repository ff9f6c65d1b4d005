"""The centre's time: one definition of the time zone every receipt, appointment and status screen speaks in.

Vietnam keeps UTC+7 all year (no daylight saving since 1975), so a fixed offset is exact and needs no tz
database on the appliance. The portal answers in UTC; everything a citizen reads is converted here.
"""
from __future__ import annotations

import datetime as dt

CENTRE_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")


def to_centre(moment: dt.datetime) -> dt.datetime:
    """An aware datetime in the centre's time; a naive one is taken as already local."""
    return moment.replace(tzinfo=CENTRE_TZ) if moment.tzinfo is None else moment.astimezone(CENTRE_TZ)


def centre_now() -> dt.datetime:
    """Local time at the centre (naive, to the second): what receipts and the appointment rules speak in."""
    return dt.datetime.now(CENTRE_TZ).replace(tzinfo=None, microsecond=0)


def centre_today() -> dt.date:
    return centre_now().date()
