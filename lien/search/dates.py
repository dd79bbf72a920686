"""Dates in a filter tree: fixed or relative (« les 3 derniers mois », « il y a plus de
6 mois », « l'année dernière »), resolved at run time against a given day.

A date value resolves to a span of whole days [start, end] (either end may be open);
a single day is a span of one day. Criteria compare columns with the span's bounds,
on the column itself so indexes serve: a datetime column is compared with the local
midnights that bound the span.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

UNITS = {"days": "jour(s)", "weeks": "semaine(s)", "months": "mois", "years": "an(s)"}
CALENDAR_UNITS = {"week": "semaine", "month": "mois", "year": "année"}
MAX_N = 10_000


class DateValueError(ValueError):
    """A date value that cannot be read; the message is French and says why."""


@dataclass(frozen=True)
class Span:
    start: dt.date | None
    end: dt.date | None

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """[start midnight, the midnight after end) in the current time zone."""
        start = _midnight(self.start) if self.start else None
        end = _midnight(self.end + dt.timedelta(days=1)) if self.end else None
        return start, end


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def shift(day: dt.date, n: int, unit: str) -> dt.date:
    """`day` moved by n units (n < 0: back in time); months clamp to the month's last day."""
    if unit == "days":
        return day + dt.timedelta(days=n)
    if unit == "weeks":
        return day + dt.timedelta(weeks=n)
    months = n if unit == "months" else 12 * n
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _calendar_span(unit: str, today: dt.date, offset: int) -> Span:
    if unit == "week":
        start = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=offset)
        return Span(start, start + dt.timedelta(days=6))
    if unit == "month":
        start = shift(today.replace(day=1), offset, "months")
        return Span(start, shift(start, 1, "months") - dt.timedelta(days=1))
    start = dt.date(today.year + offset, 1, 1)
    return Span(start, dt.date(start.year, 12, 31))


def parse_day(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise DateValueError(f"« {text} » n'est pas une date (AAAA-MM-JJ ou JJ/MM/AAAA).")


def _count(value: dict) -> tuple[int, str]:
    n, unit = value.get("n"), value.get("unit")
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_N:
        raise DateValueError("Un nombre entier positif est attendu dans « n ».")
    if unit not in UNITS:
        raise DateValueError("Unité attendue : days, weeks, months ou years.")
    return n, unit


def resolve(value: Any, today: dt.date) -> Span:
    """The span a date value means on `today`. Forms:

    "2026-01-31" or {"type": "date", "date": "2026-01-31"}: that day;
    {"type": "between", "from": …, "to": …}: fixed range, either end optional;
    {"type": "last", "n": 3, "unit": "months"}: from 3 months ago to today;
    {"type": "next", "n": 30, "unit": "days"}: from today to 30 days from now;
    {"type": "ago", "n": 6, "unit": "months"}: the day 6 months ago (« before » it = more
    than 6 months ago);
    {"type": "this" | "previous" | "following", "unit": "week" | "month" | "year"};
    {"type": "year", "year": 2020}; {"type": "today"}.
    """
    if isinstance(value, str | dt.date):
        day = parse_day(value)
        return Span(day, day)
    if not isinstance(value, dict):
        raise DateValueError("Une date ou une période est attendue.")
    kind = value.get("type")
    if kind == "date":
        day = parse_day(value.get("date"))
        return Span(day, day)
    if kind == "today":
        return Span(today, today)
    if kind == "between":
        start = parse_day(value["from"]) if value.get("from") else None
        end = parse_day(value["to"]) if value.get("to") else None
        if start is None and end is None:
            raise DateValueError("Une période a au moins une date de début ou de fin.")
        if start and end and end < start:
            raise DateValueError("La fin de la période est avant son début.")
        return Span(start, end)
    if kind in ("last", "next", "ago"):
        n, unit = _count(value)
        if kind == "last":
            return Span(shift(today, -n, unit), today)
        if kind == "next":
            return Span(today, shift(today, n, unit))
        day = shift(today, -n, unit)
        return Span(day, day)
    if kind in ("this", "previous", "following"):
        unit = value.get("unit")
        if unit not in CALENDAR_UNITS:
            raise DateValueError("Unité attendue : week, month ou year.")
        return _calendar_span(unit, today, {"this": 0, "previous": -1, "following": 1}[kind])
    if kind == "year":
        year = value.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2200:
            raise DateValueError("Une année entre 1900 et 2200 est attendue.")
        return Span(dt.date(year, 1, 1), dt.date(year, 12, 31))
    raise DateValueError(
        "Type de date inconnu : date, between, last, next, ago, this, previous, following, "
        "year ou today."
    )


def describe(value: Any) -> str:
    """The value in French words: « les 3 derniers mois », « le 31/01/2026 »…"""
    if isinstance(value, str | dt.date):
        return f"le {parse_day(value):%d/%m/%Y}"
    kind = value.get("type")
    if kind == "date":
        return f"le {parse_day(value['date']):%d/%m/%Y}"
    if kind == "today":
        return "aujourd'hui"
    if kind == "between":
        start = f"{parse_day(value['from']):%d/%m/%Y}" if value.get("from") else None
        end = f"{parse_day(value['to']):%d/%m/%Y}" if value.get("to") else None
        if start and end:
            return f"du {start} au {end}"
        return f"depuis le {start}" if start else f"jusqu'au {end}"
    if kind in ("last", "next", "ago"):
        n, unit = value["n"], UNITS[value["unit"]]
        return {
            "last": f"depuis {n} {unit}",
            "next": f"dans les {n} {unit} à venir",
            "ago": f"il y a {n} {unit}",
        }[kind]
    if kind in ("this", "previous", "following"):
        unit = value["unit"]
        names = {
            ("this", "week"): "cette semaine", ("previous", "week"): "la semaine dernière",
            ("following", "week"): "la semaine prochaine", ("this", "month"): "ce mois-ci",
            ("previous", "month"): "le mois dernier", ("following", "month"): "le mois prochain",
            ("this", "year"): "cette année", ("previous", "year"): "l'année dernière",
            ("following", "year"): "l'année prochaine",
        }  # fmt: skip
        return names[(kind, unit)]
    if kind == "year":
        return f"en {value['year']}"
    return str(value)
