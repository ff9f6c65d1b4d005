"""Appointment dates (ngày hẹn trả kết quả): when a dossier's result is due, counted in working days.

The date is printed on the receipt and citizens travel to the centre for it, so it must follow the official
calendar: weekends, the days off the Prime Minister approves each year (config/holidays.toml, with swapped
working Saturdays), and the procedure's rule that a dossier received after the cut-off time (usually 15:00)
counts from the next working day. For years the file does not list, the statutory holidays are derived from
the Labour Code 2019 with the Vietnamese lunar calendar, and the result says so.
"""
from __future__ import annotations

import datetime as dt
import logging
import tomllib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import pydantic

from kiosk import resources
from kiosk.domain.clock import to_centre
from kiosk.domain.lunar import lunar_to_solar

__all__ = [
    "ProcessingTime",
    "HolidayCalendar",
    "HolidayFileError",
    "MESSAGES",
    "statutory_days_off",
    "default_calendar",
    "is_working_day",
    "add_working_days",
    "appointment_date",
    "format_vietnamese_date",
]

log = logging.getLogger(__name__)

"""Asia/Ho_Chi_Minh: UTC+7 all year (no daylight saving since 1975), so a fixed offset is exact."""

DEFAULT_HOLIDAYS_FILE = resources.resource_path("config/holidays.toml")

WEEKDAY_NAMES = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")

MESSAGES: dict[str, str] = {
    "unknown_procedure": "Không tìm thấy thủ tục có mã {code}. "
                         "Vui lòng kiểm tra lại mã thủ tục hoặc hỏi cán bộ tại quầy.",
    "bad_received": "Thời điểm tiếp nhận không hợp lệ: {value}. Hãy nhập theo dạng 2026-11-23T15:30.",
    "catalog_unavailable": "Chưa đọc được danh mục thủ tục. Vui lòng báo cán bộ kỹ thuật kiểm tra tệp danh mục.",
    "holidays_unavailable": "Không đọc được lịch nghỉ lễ ({detail}). "
                            "Vui lòng báo cán bộ kỹ thuật kiểm tra tệp holidays.toml.",
    "derived_calendar": "Lưu ý: lịch nghỉ năm {year} chưa có quyết định chính thức trong cấu hình; "
                        "ngày hẹn được tính theo ngày nghỉ lễ của Bộ luật Lao động và có thể thay đổi.",
}
"""Vietnamese texts for what can go wrong, keyed by kind; `{…}` fields are filled with str.format."""


class ProcessingTime(pydantic.BaseModel):
    """How long a procedure takes, as its official page states it."""

    working_days: int = pydantic.Field(0, ge=0)
    same_day: bool = False  # the result is returned on the day the dossier is received
    cutoff: str | None = "15:00"  # received after this local time: counted from the next working day
    max_working_days: int | None = pydantic.Field(None, ge=0)  # when verification is needed ("up to N days")
    note: str = ""

    @pydantic.field_validator("cutoff")
    @classmethod
    def _cutoff_is_a_time(cls, value: str | None) -> str | None:
        if value is not None:
            dt.time.fromisoformat(value)  # raises ValueError (reported by pydantic) for "3pm" or "25:00"
        return value

    def cutoff_time(self) -> dt.time | None:
        return dt.time.fromisoformat(self.cutoff) if self.cutoff else None


class HolidayFileError(ValueError):
    """holidays.toml cannot be read or is malformed; the message names the file and the problem."""


_DayOrRange = dt.date | tuple[dt.date, dt.date]


class _YearTable(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    source: str = ""
    days_off: list[_DayOrRange] = []
    working_days: list[dt.date] = []


_MONTH_DAY = r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"  # "MM-DD"


class _Rules(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    weekend: list[Annotated[int, pydantic.Field(ge=0, le=6)]] = [5, 6]
    extra_fixed: list[Annotated[str, pydantic.StringConstraints(pattern=_MONTH_DAY)]] = []


class _HolidayFile(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    rules: _Rules = _Rules()
    years: dict[int, _YearTable] = {}


def _expand(entries: Iterable[_DayOrRange]) -> set[dt.date]:
    days: set[dt.date] = set()
    for entry in entries:
        first, last = entry if isinstance(entry, tuple) else (entry, entry)
        if last < first:
            raise HolidayFileError(f"range {first}..{last} ends before it starts")
        days.update(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return days


def statutory_days_off(year: int, weekend: Iterable[int] = (5, 6), extra_fixed: Iterable[str] = ()) -> set[dt.date]:
    """Days off that the Labour Code 2019 alone gives in `year` (art. 112 holidays, art. 111(3) make-up days).

    Used only for years without a published decision. The adjacent Quốc khánh day is 3/9 when 2/9 is a
    Thursday (giving a long weekend) and 1/9 otherwise, as the decisions of 2021–2025 did.
    """
    rest_days = set(weekend)
    tet = lunar_to_solar(1, 1, year)
    holidays = {dt.date(year, 1, 1), dt.date(year, 4, 30), dt.date(year, 5, 1), dt.date(year, 9, 2)}
    holidays.update(tet + dt.timedelta(days=offset) for offset in range(-1, 4))
    holidays.add(lunar_to_solar(10, 3, year))
    national_day = dt.date(year, 9, 2)
    holidays.add(national_day + dt.timedelta(days=1 if national_day.weekday() == 3 else -1))
    for month_day in extra_fixed:
        month, day = (int(part) for part in month_day.split("-"))
        holidays.add(dt.date(year, month, day))

    days_off = set(holidays)
    for holiday in sorted(d for d in holidays if d.weekday() in rest_days):
        make_up = holiday + dt.timedelta(days=1)
        while make_up.weekday() in rest_days or make_up in days_off:
            make_up += dt.timedelta(days=1)
        days_off.add(make_up)
    return days_off


class HolidayCalendar:
    """Which days one-stop desks work: weekdays, minus the year's days off, plus swapped working Saturdays."""

    def __init__(
        self,
        official: dict[int, tuple[set[dt.date], set[dt.date]]] | None = None,
        weekend: Iterable[int] = (5, 6),
        extra_fixed: Iterable[str] = (),
    ) -> None:
        """`official` maps a year to (days off, working weekend days) as the Prime Minister decided them."""
        self._official = {year: (frozenset(off), frozenset(worked)) for year, (off, worked) in (official or {}).items()}
        self._weekend = frozenset(weekend)
        self._extra_fixed = tuple(extra_fixed)
        self._derived: dict[int, frozenset[dt.date]] = {}

    @classmethod
    def from_file(cls, path: Path | str | None = None) -> HolidayCalendar:
        """Load config/holidays.toml (or `path`); HolidayFileError says what is wrong with it."""
        path = Path(path) if path else DEFAULT_HOLIDAYS_FILE
        try:
            with path.open("rb") as f:
                raw = tomllib.load(f)
            parsed = _HolidayFile.model_validate(raw)
        except OSError as e:
            raise HolidayFileError(f"{path}: cannot read: {e.strerror}") from e
        except tomllib.TOMLDecodeError as e:
            raise HolidayFileError(f"{path}: not valid TOML: {e}") from e
        except pydantic.ValidationError as e:
            problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
            raise HolidayFileError(f"{path}: {problems}") from None
        official = {}
        for year, table in parsed.years.items():
            days_off, working = _expand(table.days_off), set(table.working_days)
            strays = sorted(d for d in days_off | working if d.year != year)
            if strays:
                raise HolidayFileError(f"{path}: years.{year} lists days of another year: {strays[0]}")
            official[year] = (days_off, working)
        return cls(official, weekend=parsed.rules.weekend, extra_fixed=parsed.rules.extra_fixed)

    def is_official(self, year: int) -> bool:
        """True when `year` follows a published decision; False when its holidays are derived from the law."""
        return year in self._official

    def _days_off(self, year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
        if year in self._official:
            return self._official[year]
        if year not in self._derived:
            log.info("holidays for %d derived from the Labour Code: add the official decision to holidays.toml", year)
            self._derived[year] = frozenset(statutory_days_off(year, self._weekend, self._extra_fixed))
        return self._derived[year], frozenset()

    def is_working_day(self, day: dt.date) -> bool:
        days_off, working_weekend_days = self._days_off(day.year)
        if day in working_weekend_days:
            return True
        return day.weekday() not in self._weekend and day not in days_off

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        day += dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The date `n` working days after `day` (which need not be a working day itself); n=0 gives `day`."""
        if n < 0:
            raise ValueError("n must be >= 0")
        for _ in range(n):
            day = self.next_working_day(day)
        return day


@lru_cache(maxsize=1)
def default_calendar() -> HolidayCalendar:
    """The shipped holidays table, loaded once. A kiosk uses the configured one (kiosk.toml [holidays] path),
    which kiosk.appliance.services loads and hands to the session: the domain reads no configuration."""
    return HolidayCalendar.from_file()


def is_working_day(day: dt.date, calendar: HolidayCalendar | None = None) -> bool:
    return (calendar or default_calendar()).is_working_day(day)


def add_working_days(day: dt.date, n: int, calendar: HolidayCalendar | None = None) -> dt.date:
    return (calendar or default_calendar()).add_working_days(day, n)


_local = to_centre


def appointment_date(
    processing: ProcessingTime, received: dt.datetime, calendar: HolidayCalendar | None = None
) -> dt.date:
    """The day the result is due for a dossier received at `received` (naive = Việt Nam local time).

    A dossier received on a day off, or after the procedure's cut-off time, counts as received on the next
    working day; the result is due that many working days later (same-day procedures: that day). The normal
    time limit is used: `max_working_days` (when verification is needed) is for staff to extend it.
    """
    calendar = calendar or default_calendar()
    local = _local(received)
    counted_from = local.date()
    cutoff = processing.cutoff_time()
    after_cutoff = cutoff is not None and local.time().replace(tzinfo=None) > cutoff
    if not calendar.is_working_day(counted_from) or after_cutoff:
        counted_from = calendar.next_working_day(counted_from)
    if processing.same_day:
        return counted_from
    return calendar.add_working_days(counted_from, processing.working_days)


def format_vietnamese_date(day: dt.date) -> str:
    """'Thứ Hai, 23/11/2026' — how receipts and screens show a date."""
    return f"{WEEKDAY_NAMES[day.weekday()]}, {day:%d/%m/%Y}"
