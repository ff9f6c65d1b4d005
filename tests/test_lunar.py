"""The Vietnamese lunar calendar (UTC+7), against published dates.

Expected dates: Tết and Giỗ Tổ Hùng Vương from shared/domain.md (Vietnamese calendars); leap months from
published Vietnamese calendars (tháng 4 nhuận Canh Tý began 23/5/2020, tháng 2 nhuận Quý Mão 22/3/2023,
tháng 6 nhuận Ất Tỵ 25/7/2025).
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.lunar import lunar_month_length, lunar_to_solar, solar_to_lunar

TET = {2025: date(2025, 1, 29), 2026: date(2026, 2, 17), 2027: date(2027, 2, 6), 2028: date(2028, 1, 26),
       2029: date(2029, 2, 13), 2030: date(2030, 2, 2)}
GIO_TO = {2025: date(2025, 4, 7), 2026: date(2026, 4, 26), 2027: date(2027, 4, 16), 2037: date(2037, 4, 24),
          2038: date(2038, 4, 13)}
LEAP_MONTH_STARTS = [(date(2020, 5, 23), 4, 2020), (date(2023, 3, 22), 2, 2023), (date(2025, 7, 25), 6, 2025)]


@pytest.mark.parametrize(("year", "expected"), TET.items())
def test_tet(year: int, expected: date) -> None:
    assert lunar_to_solar(1, 1, year) == expected
    assert solar_to_lunar(expected) == (1, 1, year, False)


@pytest.mark.parametrize(("year", "expected"), GIO_TO.items())
def test_gio_to_hung_vuong(year: int, expected: date) -> None:
    assert lunar_to_solar(10, 3, year) == expected
    assert solar_to_lunar(expected) == (10, 3, year, False)


def test_vietnamese_calendar_differs_from_the_chinese_one_in_2030() -> None:
    assert lunar_to_solar(1, 1, 2030) == date(2030, 2, 2)
    assert lunar_to_solar(1, 1, 2030, tz=8.0) == date(2030, 2, 3)  # Beijing time: the Chinese New Year
    assert solar_to_lunar(date(2030, 2, 1))[1:] == (12, 2029, False)  # so 1 Feb is Tết's eve, a holiday


@pytest.mark.parametrize(("start", "month", "year"), LEAP_MONTH_STARTS)
def test_leap_months(start: date, month: int, year: int) -> None:
    assert solar_to_lunar(start) == (1, month, year, True)
    assert lunar_to_solar(1, month, year, leap=True) == start
    assert solar_to_lunar(start - timedelta(days=1))[1:] == (month, year, False)


def test_impossible_lunar_dates_are_refused() -> None:
    with pytest.raises(ValueError):
        lunar_to_solar(1, 5, 2025, leap=True)  # 2025 repeats month 6, not 5
    with pytest.raises(ValueError):
        lunar_to_solar(1, 13, 2025)
    short_month = next(m for m in range(1, 13) if lunar_month_length(m, 2026) == 29)
    with pytest.raises(ValueError):
        lunar_to_solar(30, short_month, 2026)


@settings(max_examples=400, deadline=None)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_round_trip_1900_2100(day: date) -> None:
    lunar = solar_to_lunar(day)
    assert lunar_to_solar(*lunar) == day
    assert 1 <= lunar[0] <= 30 and 1 <= lunar[1] <= 12


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 30)))
def test_days_follow_each_other(day: date) -> None:
    today, tomorrow = solar_to_lunar(day), solar_to_lunar(day + timedelta(days=1))
    if tomorrow[0] == 1:  # a new month starts: today was its predecessor's last day
        assert today[0] in (29, 30)
    else:
        assert tomorrow == (today[0] + 1, *today[1:])


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1901, max_value=2100))
def test_tet_falls_between_21_january_and_20_february(year: int) -> None:
    tet = lunar_to_solar(1, 1, year)
    assert date(year, 1, 21) <= tet <= date(year, 2, 20)


def test_every_day_from_1900_to_2100_follows_the_last_and_converts_back() -> None:
    """The whole range, not a sample: 2054-05-07 once came out as lunar day 0 (the mean month's estimate of the
    month's new moon was one lunation late), which 200 random dates found only now and then."""
    day, last = date(1900, 1, 1), solar_to_lunar(date(1900, 1, 1))
    while day < date(2100, 12, 30):
        day += timedelta(days=1)
        now = solar_to_lunar(day)
        assert (now[0] == 1 and last[0] in (29, 30)) or now == (last[0] + 1, *last[1:]), (day, last, now)
        assert lunar_to_solar(*now) == day, (day, now)
        last = now
