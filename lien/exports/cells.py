"""Cells of an exported file: formula injection neutralised, values written the French way.

A spreadsheet reads a cell that starts with « = », « + », « - » or « @ » (and, in some
versions, a tab or a carriage return) as a formula: a contact named
`=HYPERLINK("http://…")` would run when a volunteer opens the export. Every text cell
of every export (CSV and XLSX) goes through `neutralise()`, which puts an apostrophe
before such a text. Numbers, dates and amounts are typed values, never text: they stay
numbers (« -12,50 » is an amount, not a formula). A phone number « +33 6 12… » is text
and is therefore written « '+33 6 12… »: Excel shows the apostrophe in a CSV, which is
the price of never running a formula; the importer removes it (`unneutralise()`).

A text that already starts with apostrophes followed by one of those characters gets
one more apostrophe, so that `unneutralise(neutralise(text)) == text` for every text.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.utils import timezone

DANGEROUS = frozenset("=+-@\t\r")


FIRST = DANGEROUS | {"'"}  # a text starting otherwise is left as it is (the fast path)


def neutralise(text: str) -> str:
    """The text as a spreadsheet may show it without running it."""
    if text[:1] in FIRST and text.lstrip("'")[:1] in DANGEROUS:
        return "'" + text
    return text


def unneutralise(text: str) -> str:
    """The text an exported cell stood for (the inverse of `neutralise`)."""
    if text[:1] == "'" and text.lstrip("'")[:1] in DANGEROUS:
        return text[1:]
    return text


class Money(decimal.Decimal):
    """An amount in euros (from integer cents): a number with two decimals in files."""

    @classmethod
    def from_cents(cls, cents: int | None) -> Money | None:
        return None if cents is None else cls(decimal.Decimal(int(cents)).scaleb(-2))


def local(value: dt.datetime) -> dt.datetime:
    """A stored (aware) date and time in the organisation's time zone, without its zone.

    The zone is the default one (TIME_ZONE): Lien never activates another, and asking
    for the « current » zone costs 9 µs a cell (10M interactions: 3 minutes)."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.get_default_timezone())
    return value.replace(tzinfo=None)


# As strftime("%d/%m/%Y …"), several times faster (measured: %-formatting beats both
# strftime and f-strings here): a million rows hold millions of dates.
def _day(value: dt.date) -> str:
    return "%02d/%02d/%d" % (value.day, value.month, value.year)  # noqa: UP031


def _moment(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(timezone.get_default_timezone())
    parts = (value.day, value.month, value.year, value.hour, value.minute)
    return "%02d/%02d/%d %02d:%02d" % parts  # noqa: UP031


def as_text(value: Any, *, decimal_comma: bool = True) -> str:
    """A typed value as text in a CSV cell, the French way (neutralised when text)."""
    if type(value) is str:  # the most common cell first
        return neutralise(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Money):
        text = f"{value:.2f}"
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, float | decimal.Decimal):
        text = format(value, "f") if isinstance(value, decimal.Decimal) else repr(value)
        if "e" in text or "E" in text:
            text = format(decimal.Decimal(repr(value)), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, dt.datetime):
        return _moment(value)
    if isinstance(value, dt.date):
        return _day(value)
    if isinstance(value, list | tuple):
        return neutralise(", ".join(str(item) for item in value))
    return neutralise(str(value))
