"""Appointment dates as a citizen reads them on the receipt.

Every expected date below was worked out by hand from the official calendars, not by running the code:
- 2025 (Bộ LĐ-TB&XH announcements): Tết 25/1–2/2 with Saturday 8/2 worked; Giỗ Tổ Monday 7/4;
  30/4–4/5 with Saturday 26/4 worked; Quốc khánh 30/8–2/9.
- 2026: Tết Bính Ngọ 14/2–22/2 (congan.com.vn, "Chính thức chốt phương án Tết Nguyên đán Bính Ngọ 2026 nghỉ
  9 ngày"); 30/4 (Thursday) and 1/5 (Friday).
- 2027 and 2030 are not in config/holidays.toml: the Labour Code 2019 art. 112 and art. 111(3) (a holiday on a
  weekend is made up on the next working day) with the Vietnamese lunar dates: Tết 2027 = Saturday 6/2,
  Tết 2030 = Saturday 2/2 (the Chinese calendar has 3/2).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.domain.appointment import (
    HolidayCalendar,
    HolidayFileError,
    ProcessingTime,
    appointment_date,
    format_vietnamese_date,
)

SAME_DAY = ProcessingTime(same_day=True, cutoff="15:00")


@pytest.fixture(scope="module")
def calendar() -> HolidayCalendar:
    return HolidayCalendar.from_file()


def days(n: int) -> ProcessingTime:
    return ProcessingTime(working_days=n)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_the_shipped_file_holds_official_2025_and_2026(calendar: HolidayCalendar) -> None:
    assert calendar.is_official(2025) and calendar.is_official(2026)
    assert not calendar.is_official(2030)


def test_weekends_are_skipped(calendar: HolidayCalendar) -> None:
    # Received Saturday 21/11/2026: counted from Monday 23/11; 3 working days -> Thursday 26/11.
    assert appointment_date(days(3), at("2026-11-21T10:00"), calendar) == dt.date(2026, 11, 26)
    # Received Wednesday 25/11/2026 morning, 3 working days -> Monday 30/11.
    assert appointment_date(days(3), at("2026-11-25T09:00"), calendar) == dt.date(2026, 11, 30)


def test_cutoff_at_15_00(calendar: HolidayCalendar) -> None:
    assert appointment_date(SAME_DAY, at("2026-11-23T14:59"), calendar) == dt.date(2026, 11, 23)
    assert appointment_date(SAME_DAY, at("2026-11-23T15:01"), calendar) == dt.date(2026, 11, 24)
    # A 3-day procedure received Monday 15:01 counts from Tuesday: Friday 27/11, not Thursday.
    assert appointment_date(days(3), at("2026-11-23T15:01"), calendar) == dt.date(2026, 11, 27)
    assert appointment_date(days(3), at("2026-11-23T14:59"), calendar) == dt.date(2026, 11, 26)


def test_friday_after_cutoff_goes_to_monday(calendar: HolidayCalendar) -> None:
    assert appointment_date(SAME_DAY, at("2026-11-20T15:30"), calendar) == dt.date(2026, 11, 23)


def test_no_cutoff_means_the_same_day_even_late(calendar: HolidayCalendar) -> None:
    late = ProcessingTime(same_day=True, cutoff=None)
    assert appointment_date(late, at("2026-11-23T16:45"), calendar) == dt.date(2026, 11, 23)


def test_tet_2026_official_break(calendar: HolidayCalendar) -> None:
    assert not calendar.is_working_day(dt.date(2026, 2, 17))  # mùng 1 Tết Bính Ngọ
    for offset in range(9):  # 14/2 to 22/2 inclusive
        assert not calendar.is_working_day(dt.date(2026, 2, 14) + dt.timedelta(days=offset))
    assert calendar.is_working_day(dt.date(2026, 2, 13)) and calendar.is_working_day(dt.date(2026, 2, 23))
    # Friday 13/2 after 15:00 -> the next working day is Monday 23/2.
    assert appointment_date(SAME_DAY, at("2026-02-13T16:00"), calendar) == dt.date(2026, 2, 23)
    # Thursday 12/2 morning, 3 working days: 13/2, 23/2, 24/2.
    assert appointment_date(days(3), at("2026-02-12T09:00"), calendar) == dt.date(2026, 2, 24)


def test_tet_2025_swapped_saturday_is_a_working_day(calendar: HolidayCalendar) -> None:
    assert not calendar.is_working_day(dt.date(2025, 1, 27))  # Monday given off in the swap
    assert calendar.is_working_day(dt.date(2025, 2, 8))  # the Saturday worked instead
    # Friday 7/2/2025 after 15:00 -> Saturday 8/2.
    assert appointment_date(SAME_DAY, at("2025-02-07T15:30"), calendar) == dt.date(2025, 2, 8)


def test_30_april_and_1_may(calendar: HolidayCalendar) -> None:
    # 2026: Wednesday 29/4, 1 working day: 30/4 and 1/5 are holidays, then the weekend -> Monday 4/5.
    assert appointment_date(days(1), at("2026-04-29T10:00"), calendar) == dt.date(2026, 5, 4)
    # 2025: 30/4-4/5 off; Saturday 26/4 worked. Friday 25/4, 1 day -> Saturday 26/4; 3 days -> Tuesday 29/4;
    # 4 days -> Monday 5/5.
    assert appointment_date(days(1), at("2025-04-25T10:00"), calendar) == dt.date(2025, 4, 26)
    assert appointment_date(days(3), at("2025-04-25T10:00"), calendar) == dt.date(2025, 4, 29)
    assert appointment_date(days(4), at("2025-04-25T10:00"), calendar) == dt.date(2025, 5, 5)


def test_national_day(calendar: HolidayCalendar) -> None:
    # 2025: 30/8-2/9 off. Friday 29/8 morning, 1 working day -> Wednesday 3/9.
    assert appointment_date(days(1), at("2025-08-29T09:00"), calendar) == dt.date(2025, 9, 3)
    assert not calendar.is_working_day(dt.date(2026, 9, 2))


def test_received_on_a_holiday_counts_from_the_next_working_day(calendar: HolidayCalendar) -> None:
    # Giỗ Tổ, Monday 7/4/2025, at 9:00: counted from Tuesday 8/4; 2 working days -> Thursday 10/4.
    assert appointment_date(days(2), at("2025-04-07T09:00"), calendar) == dt.date(2025, 4, 10)
    assert appointment_date(SAME_DAY, at("2025-04-07T09:00"), calendar) == dt.date(2025, 4, 8)


def test_tet_2030_follows_the_vietnamese_lunar_calendar(calendar: HolidayCalendar) -> None:
    # Tết 2030 is Saturday 2/2 in Việt Nam: the eve (Friday 1/2) and mùng 1-4 (2/2-5/2) are holidays and the
    # Saturday and Sunday are made up on Wednesday 6/2 and Thursday 7/2. (With the Chinese date, 3/2, Friday
    # 1/2 would be a working day.) Thursday 31/1 after 15:00 -> Friday 8/2.
    assert not calendar.is_working_day(dt.date(2030, 2, 1))
    assert appointment_date(SAME_DAY, at("2030-01-31T15:30"), calendar) == dt.date(2030, 2, 8)


def test_years_without_a_decision_use_the_labour_code(calendar: HolidayCalendar) -> None:
    off = [dt.date(2027, 1, 1), dt.date(2027, 2, 5), dt.date(2027, 2, 9), dt.date(2027, 2, 10),
           dt.date(2027, 2, 11), dt.date(2027, 4, 16), dt.date(2027, 4, 30), dt.date(2027, 5, 3),
           dt.date(2027, 9, 2), dt.date(2027, 9, 3)]
    working = [dt.date(2027, 2, 4), dt.date(2027, 2, 12), dt.date(2027, 4, 15), dt.date(2027, 5, 4),
               dt.date(2027, 9, 1)]
    assert [d for d in off if calendar.is_working_day(d)] == []
    assert [d for d in working if not calendar.is_working_day(d)] == []


def test_aware_times_are_converted_to_vietnam_time(calendar: HolidayCalendar) -> None:
    utc = dt.UTC
    # 08:30 UTC = 15:30 in Hà Nội: after the cut-off.
    assert appointment_date(SAME_DAY, dt.datetime(2026, 11, 23, 8, 30, tzinfo=utc), calendar) == dt.date(2026, 11, 24)
    # 20:00 UTC on Sunday 22/11 = 03:00 Monday 23/11 in Hà Nội: a working day, before the cut-off.
    assert appointment_date(SAME_DAY, dt.datetime(2026, 11, 22, 20, 0, tzinfo=utc), calendar) == dt.date(2026, 11, 23)


def test_add_working_days_and_weekday_names(calendar: HolidayCalendar) -> None:
    assert calendar.add_working_days(dt.date(2026, 11, 20), 0) == dt.date(2026, 11, 20)
    assert calendar.add_working_days(dt.date(2026, 11, 20), 1) == dt.date(2026, 11, 23)
    with pytest.raises(ValueError):
        calendar.add_working_days(dt.date(2026, 11, 20), -1)
    assert format_vietnamese_date(dt.date(2026, 11, 23)) == "Thứ Hai, 23/11/2026"
    assert format_vietnamese_date(dt.date(2026, 11, 29)) == "Chủ nhật, 29/11/2026"


def test_bad_cutoff_is_refused() -> None:
    with pytest.raises(ValueError):
        ProcessingTime(same_day=True, cutoff="3pm")


def test_a_broken_holidays_file_is_reported_with_its_path(tmp_path: Path) -> None:
    broken = tmp_path / "holidays.toml"
    broken.write_text('[years.2026]\ndays_off = ["not a date"]\n', encoding="utf-8")
    with pytest.raises(HolidayFileError, match="holidays.toml"):
        HolidayCalendar.from_file(broken)
    stray = tmp_path / "stray.toml"
    stray.write_text("[years.2026]\ndays_off = [2027-01-01]\n", encoding="utf-8")
    with pytest.raises(HolidayFileError, match="another year"):
        HolidayCalendar.from_file(stray)


# ---- the command line -----------------------------------------------------------------------------------

@dataclass
class _Procedure:
    name: str
    processing: ProcessingTime


@pytest.fixture
def fake_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    procedures = {"1.001193": _Procedure("Đăng ký khai sinh", SAME_DAY), "1.004873": _Procedure("XNTTHN", days(3))}
    module = types.ModuleType("kiosk.domain.catalog")
    module.load_catalog = lambda path=None: types.SimpleNamespace(get=procedures.get)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kiosk.domain.catalog", module)


def _run(code: str, received: str, as_json: bool = False) -> int:
    from kiosk.cli import appointment

    return appointment.run(argparse.Namespace(procedure=code, received=received, json=as_json))


@pytest.mark.usefixtures("fake_catalog")
def test_command_prints_the_date_with_its_weekday(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("1.001193", "2026-02-13T16:00") == 0
    assert capsys.readouterr().out.strip() == "Thứ Hai, 23/02/2026"


@pytest.mark.usefixtures("fake_catalog")
def test_command_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("1.004873", "2026-11-23T15:01", as_json=True) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["appointment_date"] == "2026-11-27"
    assert out["display"] == "Thứ Sáu, 27/11/2026"
    assert out["calendar"] == "official"


@pytest.mark.usefixtures("fake_catalog")
def test_command_warns_when_the_year_is_not_in_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("1.001193", "2030-01-31T15:30") == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "Thứ Sáu, 08/02/2030"
    assert "2030" in captured.err and "Labour Code" in captured.err


@pytest.mark.usefixtures("fake_catalog")
def test_command_unknown_procedure(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("9.999999", "2026-11-23T10:00") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "9.999999" in captured.err and "unknown procedure" in captured.err


@pytest.mark.usefixtures("fake_catalog")
def test_command_bad_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("1.001193", "hôm qua") == 2
    assert "2026-11-23T15:30" in capsys.readouterr().err


def test_an_extra_statutory_holiday_can_be_configured(tmp_path: Path) -> None:
    # Ngày Văn hóa Việt Nam (24/11) once the amended Labour Code makes it a holiday: Wednesday 24/11/2027.
    file = tmp_path / "holidays.toml"
    file.write_text('[rules]\nextra_fixed = ["11-24"]\n', encoding="utf-8")
    with_day = HolidayCalendar.from_file(file)
    assert not with_day.is_working_day(dt.date(2027, 11, 24))
    assert appointment_date(days(1), at("2027-11-23T09:00"), with_day) == dt.date(2027, 11, 25)
    file.write_text('[rules]\nextra_fixed = ["24/11"]\n', encoding="utf-8")
    with pytest.raises(HolidayFileError, match="extra_fixed"):
        HolidayCalendar.from_file(file)
