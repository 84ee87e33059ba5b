"""Chinese (lunisolar) calendar helpers for customer occasions and shop festivals.

Pure Python, no Odoo import. Every lunar computation goes through the maintained ``lunar-python``
package (import name ``lunar_python``); this module holds no table of lunar years. It adds what a
shop needs on top of it: plain :class:`datetime.date` values, clear :class:`ValueError` messages,
the rules for yearly occasions (see :func:`next_occurrence`) and the festivals a shop plans for
(see :func:`festival_dates`).

Conventions:

* A lunar date is ``(year, month, day, leap)``: ``year`` is the lunar year (the one that starts at
  Chinese New Year, so lunar 12/20 of lunar year 2024 is 2025-01-19), ``month`` is 1-12, ``day`` is
  1-30 and ``leap`` tells the leap (intercalary) month from the ordinary month of the same number.
  ``lunar_python`` itself writes a leap month as a negative month number; that never leaks out of
  this module.
* Supported years are :data:`MIN_YEAR` to :data:`MAX_YEAR` (lunar years for lunar input, solar years
  for solar input), well inside the Gregorian era and the library's range.
"""

import calendar
import datetime
import functools
from dataclasses import dataclass

from lunar_python import LunarYear, Solar

__all__ = [
    "FESTIVAL_CODES",
    "MAX_YEAR",
    "MIN_YEAR",
    "Festival",
    "LunarDate",
    "festival_date",
    "festival_dates",
    "leap_month",
    "lunar_month_days",
    "lunar_to_solar",
    "next_occurrence",
    "solar_to_lunar",
]

MIN_YEAR = 1700
MAX_YEAR = 2300

# Traditional month names, as on Chinese calendars (and as lunar-python writes them): 正月 for the
# first month, 冬月 and 腊月 for the eleventh and twelfth.
_MONTH_ZH = ("", "正", "二", "三", "四", "五", "六", "七", "八", "九", "十", "冬", "腊")
_DIGIT_ZH = ("", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十")


def _day_zh(day: int) -> str:
    """Return the Chinese name of lunar day ``day`` (1-30): 初一 ... 初十, 十一 ... 二十, 廿一 ... 三十."""
    if day <= 10:
        return "初" + _DIGIT_ZH[day]
    if day < 20:
        return "十" + _DIGIT_ZH[day - 10]
    if day == 20:
        return "二十"
    if day < 30:
        return "廿" + _DIGIT_ZH[day - 20]
    return "三十"


@dataclass(frozen=True)
class LunarDate:
    """A date of the Chinese lunar calendar.

    ``year`` is the lunar year, ``month`` 1-12, ``day`` 1-30, ``leap`` True for a leap month.
    """

    year: int
    month: int
    day: int
    leap: bool = False

    def label_zh(self) -> str:
        """Return the Chinese label without the year, e.g. ``农历八月十五`` or ``农历闰四月初一``."""
        return f"农历{'闰' if self.leap else ''}{_MONTH_ZH[self.month]}月{_day_zh(self.day)}"

    def label(self) -> str:
        """Return a neutral label without the year, e.g. ``Lunar 8/15`` or ``Lunar leap 4/1``."""
        return f"Lunar {'leap ' if self.leap else ''}{self.month}/{self.day}"

    def to_solar(self) -> datetime.date:
        """Return the solar (Gregorian) :class:`datetime.date` of this lunar date."""
        return lunar_to_solar(self.year, self.month, self.day, self.leap)


@dataclass(frozen=True)
class _Month:
    """One month of a lunar year: its number, whether it is the leap month, first day and length."""

    month: int
    leap: bool
    start: datetime.date
    days: int


# ---------------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------------


def _check_int(name: str, value, low: int, high: int) -> None:
    """Raise ValueError unless ``value`` is an int (not a bool) within ``low``..``high``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")


def _check_year(year, what: str = "year") -> None:
    """Raise ValueError unless ``year`` is an integer in the supported range."""
    _check_int(what, year, MIN_YEAR, MAX_YEAR)


def _as_date(value, name: str) -> datetime.date:
    """Return ``value`` as a plain date (a datetime is cut to its date); ValueError for anything else."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    raise ValueError(f"{name} must be a date, got {value!r}")


# ---------------------------------------------------------------------------------------------
# Lunar months, through lunar-python
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _months(lunar_year: int) -> tuple[_Month, ...]:
    """Return the months of lunar year ``lunar_year`` in order, as a tuple of :class:`_Month`.

    Computed by ``lunar_python.LunarYear`` (which only caches the last year it computed, so this
    cache keeps loops over many customers and years cheap).
    """
    months = []
    for month in LunarYear.fromYear(lunar_year).getMonthsInYear():
        first = Solar.fromJulianDay(month.getFirstJulianDay())
        months.append(
            _Month(
                month=abs(month.getMonth()),
                leap=month.isLeap(),
                start=datetime.date(first.getYear(), first.getMonth(), first.getDay()),
                days=month.getDayCount(),
            )
        )
    return tuple(months)


def _find_month(lunar_year: int, month: int, leap: bool) -> _Month | None:
    """Return the :class:`_Month` ``month`` (leap or not) of ``lunar_year``, or None if it does not exist."""
    for item in _months(lunar_year):
        if item.month == month and item.leap == leap:
            return item
    return None


def leap_month(year: int) -> int:
    """Return the number (1-12) of the leap month of lunar year ``year``, or 0 when it has none."""
    _check_year(year)
    for item in _months(year):
        if item.leap:
            return item.month
    return 0


def lunar_month_days(year: int, month: int, leap: bool = False) -> int:
    """Return the number of days (29 or 30) of lunar month ``month`` (leap or not) of lunar year ``year``.

    Raises ValueError for a month number outside 1-12 or a leap month the year does not have.
    """
    _check_year(year)
    _check_int("month", month, 1, 12)
    item = _find_month(year, month, bool(leap))
    if item is None:
        raise ValueError(_no_leap_message(year, month))
    return item.days


def _no_leap_message(year: int, month: int) -> str:
    """Explain that lunar year ``year`` has no leap month ``month``."""
    actual = leap_month(year)
    detail = f"its leap month is {actual}" if actual else "it has no leap month"
    return f"lunar year {year} has no leap month {month} ({detail})"


def lunar_to_solar(year: int, month: int, day: int, leap: bool = False) -> datetime.date:
    """Return the solar :class:`datetime.date` of lunar date ``day`` of ``month`` of lunar year ``year``.

    ``leap=True`` asks for the leap month numbered ``month``. Raises ValueError when the month is not
    1-12, the day not 1-30, the year has no such leap month, or the day is 30 in a 29-day month.
    """
    _check_year(year)
    _check_int("month", month, 1, 12)
    _check_int("day", day, 1, 30)
    item = _find_month(year, month, bool(leap))
    if item is None:
        raise ValueError(_no_leap_message(year, month))
    if day > item.days:
        raise ValueError(
            f"lunar {'leap ' if leap else ''}month {month} of lunar year {year} has only {item.days} days,"
            f" not {day}"
        )
    return item.start + datetime.timedelta(days=day - 1)


def solar_to_lunar(date: datetime.date) -> LunarDate:
    """Return the :class:`LunarDate` of the solar date ``date`` (a datetime is cut to its date).

    The lunar year of a January or February date is the previous one until Chinese New Year.
    """
    date = _as_date(date, "date")
    _check_year(date.year, "solar year")
    # Chinese New Year falls between Jan 21 and Feb 20, so the lunar year is date.year - 1 or date.year.
    for lunar_year in (date.year, date.year - 1):
        for item in _months(lunar_year):
            if item.start <= date < item.start + datetime.timedelta(days=item.days):
                return LunarDate(lunar_year, item.month, (date - item.start).days + 1, item.leap)
    raise ValueError(f"no lunar date found for {date}")  # pragma: no cover - library inconsistency


# ---------------------------------------------------------------------------------------------
# Yearly occasions
# ---------------------------------------------------------------------------------------------


def _solar_in_year(year: int, month: int, day: int) -> datetime.date:
    """Return ``month``/``day`` in solar ``year``; Feb 29 becomes Feb 28 in a common year."""
    return datetime.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _lunar_in_year(lunar_year: int, month: int, day: int, leap: bool) -> datetime.date:
    """Return when a yearly lunar occasion falls in ``lunar_year`` (rules: see :func:`next_occurrence`)."""
    item = _find_month(lunar_year, month, True) if leap else None
    if item is None:
        item = _find_month(lunar_year, month, False)
    return item.start + datetime.timedelta(days=min(day, item.days) - 1)


def next_occurrence(
    kind: str | None,
    month: int | None,
    day: int | None,
    leap: bool,
    after: datetime.date,
    yearly: bool = True,
    once_date: datetime.date | None = None,
) -> datetime.date | None:
    """Return the first date on or after ``after`` on which an occasion falls, or None if there is none.

    ``kind`` is ``'solar'`` (``month``/``day`` of the Gregorian calendar) or ``'lunar'`` (lunar
    ``month``/``day``, ``leap`` for a leap month). A datetime ``after`` is cut to its date.

    When ``yearly`` is False the occasion happens once, on ``once_date``: the answer is ``once_date``
    if it is on or after ``after``, else None (``kind``, ``month``, ``day`` and ``leap`` are then
    ignored and may be None).

    Rules for yearly occasions:

    * Solar: Feb 29 falls on Feb 28 in years that are not leap years. ``leap`` is ignored. A day
      that no year has (Feb 30, Apr 31, ...) raises ValueError.
    * Lunar, day 30: in a year where that lunar month has only 29 days, the occasion falls on the 29th
      (its last day).
    * Lunar, leap month: in a year that has that leap month the occasion falls in the leap month; in
      any other year it falls in the ordinary month of the same number.
    * Lunar, ordinary month: always the ordinary month, never the leap month of the same number.
    * Lunar year boundary: a lunar month 11 or 12 occasion may fall in January or February of the next
      solar year, so lunar years ``after.year - 1``, ``after.year`` and ``after.year + 1`` are tried and
      the earliest date on or after ``after`` wins.

    Raises ValueError for an unknown ``kind``, a month outside 1-12, a day outside 1-31 (solar) or 1-30
    (lunar), or a year outside :data:`MIN_YEAR`..:data:`MAX_YEAR`.
    """
    after = _as_date(after, "after")
    if not yearly:
        if once_date is None:
            return None
        once_date = _as_date(once_date, "once_date")
        return once_date if once_date >= after else None
    if kind not in ("solar", "lunar"):
        raise ValueError(f"kind must be 'solar' or 'lunar', got {kind!r}")
    _check_year(after.year, "year of 'after'")
    _check_int("month", month, 1, 12)
    if kind == "solar":
        _check_int("day", day, 1, 31)
        if day > calendar.monthrange(2000, month)[1]:  # 2000 is a leap year: every real day exists
            raise ValueError(f"there is no solar date {month}/{day}")
        for year in (after.year, after.year + 1):
            candidate = _solar_in_year(year, month, day)
            if candidate >= after:
                return candidate
        raise AssertionError("unreachable: next year's date is always later")  # pragma: no cover
    _check_int("day", day, 1, 30)
    _check_year(after.year + 1, "lunar year")
    candidates = [
        _lunar_in_year(lunar_year, month, day, bool(leap))
        for lunar_year in (after.year - 1, after.year, after.year + 1)
    ]
    return min(candidate for candidate in candidates if candidate >= after)


# ---------------------------------------------------------------------------------------------
# Festivals
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Festival:
    """A festival on a given solar date.

    ``calendar`` tells how the date is defined: ``'lunar'`` (a lunar month/day), ``'solar'`` (a fixed
    Gregorian month/day) or ``'rule'`` (such as the second Sunday of May).
    """

    code: str
    date: datetime.date
    name_en: str
    name_zh: str
    calendar: str


# code: (name_en, name_zh, calendar, spec). spec is (month, day) for 'lunar' and 'solar',
# (month, weekday, n) for 'rule': the n-th given weekday (Monday=0) of the month.
_FESTIVALS = {
    "spring_festival": ("Spring Festival", "春节", "lunar", (1, 1)),
    "lantern": ("Lantern Festival", "元宵节", "lunar", (1, 15)),
    "valentines": ("Valentine's Day", "情人节", "solar", (2, 14)),
    "womens_day": ("Women's Day", "妇女节", "solar", (3, 8)),
    "mothers_day": ("Mother's Day", "母亲节", "rule", (5, calendar.SUNDAY, 2)),
    "520": ("520 Day", "520", "solar", (5, 20)),
    "dragon_boat": ("Dragon Boat Festival", "端午节", "lunar", (5, 5)),
    "fathers_day": ("Father's Day", "父亲节", "rule", (6, calendar.SUNDAY, 3)),
    "qixi": ("Qixi Festival", "七夕", "lunar", (7, 7)),
    "teachers_day": ("Teachers' Day", "教师节", "solar", (9, 10)),
    "mid_autumn": ("Mid-Autumn Festival", "中秋节", "lunar", (8, 15)),
    "double_ninth": ("Double Ninth Festival", "重阳节", "lunar", (9, 9)),
    "christmas": ("Christmas", "圣诞节", "solar", (12, 25)),
}

#: Festival codes, in the order they usually come in a year.
FESTIVAL_CODES = tuple(_FESTIVALS)
#: code -> (English name, Chinese name)
FESTIVAL_NAMES = {code: spec[:2] for code, spec in _FESTIVALS.items()}


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> datetime.date:
    """Return the ``n``-th ``weekday`` (Monday=0) of ``month`` in ``year``."""
    first = datetime.date(year, month, 1)
    return first + datetime.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def festival_date(code: str, year: int) -> datetime.date:
    """Return the solar date of festival ``code`` (one of :data:`FESTIVAL_CODES`) in solar ``year``.

    A lunar festival is the one whose date falls in solar ``year`` (all the lunar festivals here are in
    lunar months 1-9, so this is the festival of lunar year ``year``). Raises ValueError for an unknown
    code or a year outside the supported range.
    """
    if code not in _FESTIVALS:
        raise ValueError(f"unknown festival code {code!r}; known: {', '.join(FESTIVAL_CODES)}")
    _check_year(year)
    kind, spec = _FESTIVALS[code][2:]
    if kind == "solar":
        return datetime.date(year, *spec)
    if kind == "rule":
        return _nth_weekday(year, *spec)
    for lunar_year in (year, year - 1):
        candidate = lunar_to_solar(lunar_year, *spec)
        if candidate.year == year:
            return candidate
    raise ValueError(f"festival {code!r} has no date in {year}")  # pragma: no cover


def festival_dates(year: int) -> list[Festival]:
    """Return the :class:`Festival` list of solar ``year``, sorted by date (ties in FESTIVAL_CODES order)."""
    festivals = []
    for code in FESTIVAL_CODES:
        name_en, name_zh, kind = _FESTIVALS[code][:3]
        festivals.append(Festival(code, festival_date(code, year), name_en, name_zh, kind))
    return sorted(festivals, key=lambda festival: festival.date)
