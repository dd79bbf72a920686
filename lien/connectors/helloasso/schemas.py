"""Tolerant models of the HelloAsso API v5 objects we read: forms, orders, items, payments.

Plain dataclasses built from the JSON by hand: a missing key is empty, an unknown enum
value is kept as the string HelloAsso sent (the official SDK refuses them, which breaks a
sync the day HelloAsso adds a state), and every object keeps its raw JSON.
Amounts are integer cents, as HelloAsso sends them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def parse_datetime(value: Any) -> dt.datetime | None:
    """HelloAsso's ISO 8601 dates (« 2026-03-14T10:12:55.12+01:00 », 7 decimals at times)."""
    text = _text(value)
    if not text:
        return None
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if dot:  # Python reads 6 fraction digits at most
        count = len(rest) - len(rest.lstrip("0123456789"))
        digits, zone = rest[:count], rest[count:]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    return moment


def local_date(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localtime(moment).date() if moment else None


@dataclass
class Person:
    """A payer or an item's beneficiary (« user »); HelloAsso gives them no id."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    address: str = ""
    city: str = ""
    zip_code: str = ""
    country: str = ""
    company: str = ""
    birth_date: dt.date | None = None
    raw: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Person:
        data = _dict(data)
        born = parse_datetime(data.get("dateOfBirth"))
        return cls(
            first_name=_text(data.get("firstName")),
            last_name=_text(data.get("lastName")),
            email=_text(data.get("email")),
            address=_text(data.get("address")),
            city=_text(data.get("city")),
            zip_code=_text(data.get("zipCode")),
            country=_text(data.get("country")),
            company=_text(data.get("company")),
            birth_date=born.date() if born else None,
            raw=data,
        )

    @property
    def is_empty(self) -> bool:
        return not (self.first_name or self.last_name or self.email)


@dataclass
class CustomField:
    """An extra question of the form and its answer."""

    name: str
    answer: str
    type: str = ""
    raw: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> CustomField:
        data = _dict(data)
        return cls(
            name=_text(data.get("name")),
            answer=_text(data.get("answer")),
            type=_text(data.get("type")),
            raw=data,
        )


@dataclass
class PaymentInfo:
    """A payment of an order (one term of it): state, means, date and HelloAsso's receipts."""

    id: int
    amount: int = 0
    state: str = ""
    means: str = ""
    date: dt.datetime | None = None
    installment_number: int = 0
    receipt_url: str = ""
    fiscal_receipt_url: str = ""
    # item id → the part of this payment that pays that item (cents)
    shares: dict[int, int] = field(default_factory=dict)
    order_id: int = 0
    raw: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> PaymentInfo:
        data = _dict(data)
        shares = _shares(data.get("items"))
        return cls(
            id=_int(data.get("id")),
            amount=_int(data.get("amount")),
            state=_text(data.get("state")),
            means=_text(data.get("paymentMeans") or data.get("paymentOffLineMean")),
            date=parse_datetime(data.get("date")),
            installment_number=_int(data.get("installmentNumber")),
            receipt_url=_text(data.get("paymentReceiptUrl")),
            fiscal_receipt_url=_text(data.get("fiscalReceiptUrl")),
            shares=shares,
            order_id=_int(_dict(data.get("order")).get("id")),
            raw=data,
        )


def _shares(entries: Any) -> dict[int, int]:
    """id → shareAmount (cents) of a payment's items, or of an item's payments."""
    shares = {}
    for entry in _list(entries):
        entry = _dict(entry)
        if _int(entry.get("id")):
            shares[_int(entry["id"])] = _int(entry.get("shareAmount"))
    return shares


@dataclass
class Item:
    """One line of an order: a membership, a ticket, a donation… with its beneficiary."""

    id: int
    name: str = ""
    type: str = ""  # tier type: Donation, MonthlyDonation, Membership, Registration…
    state: str = ""
    amount: int = 0
    user: Person = field(default_factory=Person)
    custom_fields: list[CustomField] = field(default_factory=list)
    # payment id → share of that payment for this item (cents)
    shares: dict[int, int] = field(default_factory=dict)
    raw: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Item:
        data = _dict(data)
        shares = _shares(data.get("payments"))
        return cls(
            id=_int(data.get("id")),
            name=_text(data.get("name")),
            type=_text(data.get("type")),
            state=_text(data.get("state")),
            amount=_int(data.get("amount")),
            user=Person.from_json(data.get("user")),
            custom_fields=[CustomField.from_json(c) for c in _list(data.get("customFields"))],
            shares=shares,
            raw=data,
        )


@dataclass
class Order:
    """An order: one payer, its items and the payments that pay them."""

    id: int
    date: dt.datetime | None = None
    form_slug: str = ""
    form_type: str = ""
    organization_slug: str = ""
    payer: Person = field(default_factory=Person)
    items: list[Item] = field(default_factory=list)
    payments: list[PaymentInfo] = field(default_factory=list)
    updated_at: dt.datetime | None = None
    raw: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Order:
        data = _dict(data)
        meta = _dict(data.get("meta"))
        return cls(
            id=_int(data.get("id")),
            date=parse_datetime(data.get("date")),
            form_slug=_text(data.get("formSlug")),
            form_type=_text(data.get("formType")),
            organization_slug=_text(data.get("organizationSlug")),
            payer=Person.from_json(data.get("payer")),
            items=[Item.from_json(i) for i in _list(data.get("items"))],
            payments=[PaymentInfo.from_json(p) for p in _list(data.get("payments"))],
            updated_at=parse_datetime(meta.get("updatedAt")),
            raw=data,
        )


@dataclass
class Form:
    """A HelloAsso form (« campagne »), with its membership validity when it has one."""

    form_type: str
    form_slug: str
    title: str = ""
    state: str = ""
    start_date: dt.datetime | None = None
    end_date: dt.datetime | None = None
    validity_type: str = ""
    raw: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Form:
        data = _dict(data)
        return cls(
            form_type=_text(data.get("formType")),
            form_slug=_text(data.get("formSlug")),
            title=_text(data.get("title") or data.get("privateTitle")),
            state=_text(data.get("state")),
            start_date=parse_datetime(data.get("startDate")),
            end_date=parse_datetime(data.get("endDate")),
            validity_type=_text(data.get("validityType")),
            raw=data,
        )


@dataclass
class Page:
    """One page of a list: its objects (raw) and the token of the next page."""

    data: list[dict]
    continuation_token: str = ""

    @classmethod
    def from_json(cls, data: Any) -> Page:
        data = _dict(data)
        pagination = _dict(data.get("pagination"))
        return cls(
            data=[d for d in _list(data.get("data")) if isinstance(d, dict)],
            continuation_token=_text(pagination.get("continuationToken")),
        )
