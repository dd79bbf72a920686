"""Reading ids from query strings and forms: only ASCII digits are ids (« ² » is not)."""

from __future__ import annotations

from typing import Any


def as_id(value: Any) -> int | None:
    text = str(value).strip()
    if text.isascii() and text.isdigit() and len(text) < 19:
        return int(text)
    return None


def as_ids(values: Any) -> list[int]:
    return [pk for pk in (as_id(v) for v in values) if pk is not None]
