"""The Vietnamese lunar calendar (âm lịch), computed astronomically for UTC+7.

Why not a Chinese-calendar library: the Vietnamese calendar places new moons and solar terms by the local
time of Hà Nội (UTC+7) instead of Beijing (UTC+8), so in some years Tết and other holidays fall a day earlier
(Tết 2030 is 2 February in Việt Nam, 3 February in China). Public holidays (Tết, Giỗ Tổ Hùng Vương 10/3)
depend on it.

Method: mean new moons corrected with the main periodic terms (Meeus, *Astronomical Algorithms*, ch. 49)
and the Sun's apparent longitude (ch. 25), with the rules of the traditional calendar: the month containing
the winter solstice is month 11; a lunar year with 13 months repeats the first month after month 11 that
contains no major solar term. This is the method Hồ Ngọc Đức published for the Vietnamese calendar; the
precision (about a minute for new moons) is more than enough for 1800–2199.
"""
from __future__ import annotations

import functools
import math
from datetime import date

from kiosk.domain.clock import CENTRE_TZ

__all__ = ["lunar_to_solar", "solar_to_lunar", "lunar_month_length", "VIETNAM_TZ_HOURS"]

VIETNAM_TZ_HOURS = CENTRE_TZ.utcoffset(None).total_seconds() / 3600
"""The calendar's reference time zone: Việt Nam has used UTC+7 for its calendar since 1968."""

_JDN_OF_ORDINAL_ZERO = 1721425  # Julian Day Number of date.fromordinal(1) minus one
_SYNODIC_MONTH = 29.530588853
_EPOCH_NEW_MOON_JD = 2415021.076998695  # the new moon of 1900-01-01, the origin of lunation numbers
_DEG = math.pi / 180.0


def _jdn(d: date) -> int:
    return d.toordinal() + _JDN_OF_ORDINAL_ZERO


def _from_jdn(jdn: int) -> date:
    return date.fromordinal(jdn - _JDN_OF_ORDINAL_ZERO)


def _new_moon_jd(k: int) -> float:
    """Julian day (UT) of the k-th new moon after the one of 1900-01-01."""
    t = k / 1236.85  # Julian centuries from 1900-01-01
    t2, t3 = t * t, t * t * t
    jd = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3
    jd += 0.00033 * math.sin((166.56 + 132.87 * t - 0.009173 * t2) * _DEG)
    sun_anomaly = (359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3) * _DEG
    moon_anomaly = (306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3) * _DEG
    latitude_arg = (21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3) * _DEG
    correction = (
        (0.1734 - 0.000393 * t) * math.sin(sun_anomaly)
        + 0.0021 * math.sin(2 * sun_anomaly)
        - 0.4068 * math.sin(moon_anomaly)
        + 0.0161 * math.sin(2 * moon_anomaly)
        - 0.0004 * math.sin(3 * moon_anomaly)
        + 0.0104 * math.sin(2 * latitude_arg)
        - 0.0051 * math.sin(sun_anomaly + moon_anomaly)
        - 0.0074 * math.sin(sun_anomaly - moon_anomaly)
        + 0.0004 * math.sin(2 * latitude_arg + sun_anomaly)
        - 0.0004 * math.sin(2 * latitude_arg - sun_anomaly)
        - 0.0006 * math.sin(2 * latitude_arg + moon_anomaly)
        + 0.0010 * math.sin(2 * latitude_arg - moon_anomaly)
        + 0.0005 * math.sin(2 * moon_anomaly + sun_anomaly)
    )
    if t < -11:  # ΔT (TT − UT), in days; only matters far outside the supported range
        delta_t = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
    else:
        delta_t = -0.000278 + 0.000265 * t + 0.000262 * t2
    return jd + correction - delta_t


@functools.lru_cache(maxsize=4096)  # pure; a calendar or holiday look-up asks for the same ones again
def _new_moon_day(k: int, tz: float) -> int:
    """The local civil day (as a Julian Day Number) on which the k-th new moon falls."""
    return math.floor(_new_moon_jd(k) + 0.5 + tz / 24.0)


def _sun_longitude(jd: float) -> float:
    """Apparent longitude of the Sun in radians, 0..2π, at Julian day `jd` (UT)."""
    t = (jd - 2451545.0) / 36525.0  # Julian centuries from J2000
    t2 = t * t
    mean_anomaly = (357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2) * _DEG
    mean_longitude = 280.46645 + 36000.76983 * t + 0.0003032 * t2
    centre = (
        (1.914600 - 0.004817 * t - 0.000014 * t2) * math.sin(mean_anomaly)
        + (0.019993 - 0.000101 * t) * math.sin(2 * mean_anomaly)
        + 0.000290 * math.sin(3 * mean_anomaly)
    )
    longitude = (mean_longitude + centre) * _DEG
    return longitude % (2 * math.pi)


def _solar_term_sector(day_jdn: int, tz: float) -> int:
    """Which 30° sector (0..11) the Sun is in at the start of a local day; a major term starts each sector."""
    start_of_day_ut = day_jdn - 0.5 - tz / 24.0
    return math.floor(_sun_longitude(start_of_day_ut) / math.pi * 6)


@functools.lru_cache(maxsize=1024)
def _month11_start(year: int, tz: float) -> int:
    """First day (JDN) of lunar month 11 — the month containing the winter solstice — of `year`."""
    days_since_epoch = _jdn(date(year, 12, 31)) - 2415021
    k = math.floor(days_since_epoch / _SYNODIC_MONTH)
    start = _new_moon_day(k, tz)
    if _solar_term_sector(start, tz) >= 9:  # the solstice (270°) is already past: month 11 began earlier
        start = _new_moon_day(k - 1, tz)
    return start


@functools.lru_cache(maxsize=1024)
def _leap_month_offset(month11_start: int, tz: float) -> int:
    """In a 13-month year, how many months after month 11 the leap month comes (the first without a term)."""
    k = math.floor((month11_start - _EPOCH_NEW_MOON_JD) / _SYNODIC_MONTH + 0.5)
    offset = 1
    sector = _solar_term_sector(_new_moon_day(k + offset, tz), tz)
    while True:
        previous = sector
        offset += 1
        sector = _solar_term_sector(_new_moon_day(k + offset, tz), tz)
        if sector == previous or offset >= 14:
            return offset - 1


def solar_to_lunar(d: date, tz: float = VIETNAM_TZ_HOURS) -> tuple[int, int, int, bool]:
    """The lunar (day, month, year, leap) of a Gregorian date."""
    day_number = _jdn(d)
    k = math.floor((day_number - _EPOCH_NEW_MOON_JD) / _SYNODIC_MONTH)
    # the mean month only estimates which new moon began this lunar month: the true one can fall a day either
    # side (2054-05-07 began a month, but the estimate put that new moon after it and gave day 0)
    while _new_moon_day(k + 1, tz) > day_number:
        k -= 1
    while _new_moon_day(k + 2, tz) <= day_number:
        k += 1
    month_start = _new_moon_day(k + 1, tz)
    a11 = _month11_start(d.year, tz)
    if a11 >= month_start:  # before this year's month 11: the lunar year began in the previous solar year
        lunar_year = d.year
        b11 = a11
        a11 = _month11_start(d.year - 1, tz)
    else:
        lunar_year = d.year + 1
        b11 = _month11_start(d.year + 1, tz)
    lunar_day = day_number - month_start + 1
    months_after_11 = (month_start - a11) // 29
    leap = False
    lunar_month = months_after_11 + 11
    if b11 - a11 > 365:  # 13 lunar months between two solstice months: one of them is a leap month
        leap_offset = _leap_month_offset(a11, tz)
        if months_after_11 >= leap_offset:
            lunar_month = months_after_11 + 10
            leap = months_after_11 == leap_offset
    if lunar_month > 12:
        lunar_month -= 12
    if lunar_month >= 11 and months_after_11 < 4:
        lunar_year -= 1
    return lunar_day, lunar_month, lunar_year, leap


def _month_start(month: int, year: int, leap: bool, tz: float) -> int:
    if not 1 <= month <= 12:
        raise ValueError(f"lunar month must be 1..12, got {month}")
    if month < 11:
        a11, b11 = _month11_start(year - 1, tz), _month11_start(year, tz)
    else:
        a11, b11 = _month11_start(year, tz), _month11_start(year + 1, tz)
    k = math.floor(0.5 + (a11 - _EPOCH_NEW_MOON_JD) / _SYNODIC_MONTH)
    offset = (month - 11) % 12
    if b11 - a11 > 365:
        leap_offset = _leap_month_offset(a11, tz)
        leap_month = (leap_offset - 2) % 12
        if leap and month != leap_month:
            raise ValueError(f"lunar year {year} has no leap month {month} (its leap month is {leap_month})")
        if leap or offset >= leap_offset:
            offset += 1
    elif leap:
        raise ValueError(f"lunar year {year} has no leap month")
    return _new_moon_day(k + offset, tz)


def lunar_month_length(month: int, year: int, leap: bool = False, tz: float = VIETNAM_TZ_HOURS) -> int:
    """29 or 30: the number of days of a lunar month (month 12's length decides the date of Tết's eve)."""
    start = _month_start(month, year, leap, tz)
    next_start = _new_moon_day(math.floor((start - _EPOCH_NEW_MOON_JD) / _SYNODIC_MONTH + 0.5) + 1, tz)
    return next_start - start


def lunar_to_solar(day: int, month: int, year: int, leap: bool = False, tz: float = VIETNAM_TZ_HOURS) -> date:
    """The Gregorian date of a lunar date; ValueError for a day or leap month the year does not have."""
    if not 1 <= day <= 30:
        raise ValueError(f"lunar day must be 1..30, got {day}")
    start = _month_start(month, year, leap, tz)
    if day > lunar_month_length(month, year, leap, tz):
        raise ValueError(f"lunar month {month}/{year} has only 29 days")
    return _from_jdn(start + day - 1)
