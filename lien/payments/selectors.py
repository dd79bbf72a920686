"""Reads on payments: the filtered tables with their totals, campaigns, membership status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.utils import timezone

from lien.contacts.models import ContactLabel, StructureLabel
from lien.core.models import Organization
from lien.core.params import as_id, as_ids
from lien.payments.models import Campaign, MembershipPeriod, Payment, PaymentKind

# Payment tables ----------------------------------------------------------------------------

SORTS = {
    "date": ("-paid_on", "-id"),
    "-date": ("paid_on", "id"),
    "amount": ("-amount_cents", "-id"),
    "-amount": ("amount_cents", "id"),
}


@dataclass
class PaymentQuery:
    """The filters of a payment table, from a query string or API parameters."""

    kind: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    statuses: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    campaign: int | None = None
    payer_labels: list[int] = field(default_factory=list)
    contact: int | None = None
    structure: int | None = None
    recurring: bool | None = None
    sort: str = "date"

    @classmethod
    def from_params(cls, params, *, kind: str = "") -> PaymentQuery:
        """Read GET/QueryDict parameters; a wrong value is a French error naming the filter."""
        from lien.payments.services import parse_amount, parse_date

        errors: dict[str, list[str]] = {}
        query = cls(kind=kind or (params.get("kind") or ""))
        if query.kind and query.kind not in PaymentKind.values:
            errors["kind"] = [f"Type inconnu : « {query.kind} »."]
        for name, what in [("date_from", "La date de début"), ("date_to", "La date de fin")]:
            value = (params.get(name) or "").strip()
            if value:
                try:
                    setattr(query, name, parse_date(value, what=what))
                except ValidationError as error:
                    errors[name] = error.messages
        for name in ("amount_min", "amount_max"):
            value = (params.get(name) or "").strip()
            if value:
                try:
                    setattr(query, name, parse_amount(value))
                except ValidationError as error:
                    errors[name] = error.messages
        getlist = params.getlist if hasattr(params, "getlist") else lambda k: params.get(k) or []
        query.statuses = [s for s in getlist("status") if s]
        query.methods = [m for m in getlist("method") if m]
        unknown = [s for s in query.statuses if s not in Payment.Status.values]
        if unknown:
            errors["status"] = [f"Statut inconnu : « {s} »." for s in unknown]
        unknown = [m for m in query.methods if m not in Payment.Method.values]
        if unknown:
            errors["method"] = [f"Moyen de paiement inconnu : « {m} »." for m in unknown]
        for name in ("campaign", "contact", "structure"):
            value = params.get(name)
            if value not in (None, ""):
                if as_id(value) is None:
                    errors[name] = [f"Identifiant invalide : « {value} »."]
                setattr(query, name, as_id(value))
        labels = getlist("payer_label")
        query.payer_labels = as_ids(labels) if labels else []
        if labels and len(query.payer_labels) != len([x for x in labels if x]):
            errors["payer_label"] = ["Identifiant d'étiquette invalide."]
        recurring = (params.get("recurring") or "").strip().lower()
        if recurring in ("1", "true", "oui"):
            query.recurring = True
        elif recurring in ("0", "false", "non"):
            query.recurring = False
        query.sort = params.get("sort") or "date"
        if query.sort not in SORTS:
            errors["sort"] = ["Tri inconnu : date, -date, amount ou -amount."]
        if query.date_from and query.date_to and query.date_to < query.date_from:
            errors["date_to"] = ["La date de fin est avant la date de début."]
        if errors:
            raise ValidationError(errors)
        return query

    @property
    def is_filtered(self) -> bool:
        return any(
            [self.date_from, self.date_to, self.amount_min is not None, self.amount_max is not None,
             self.statuses, self.methods, self.campaign, self.payer_labels, self.contact,
             self.structure, self.recurring is not None]
        )  # fmt: skip


def filtered_payments(organization: Organization, query: PaymentQuery) -> QuerySet:
    """The payments of a table, filtered, not yet ordered: every filter is an index-friendly
    condition on the payment row or an EXISTS on its payer's labels."""
    payments = Payment.objects.for_org(organization)
    if query.kind:
        payments = payments.filter(kind=query.kind)
    if query.date_from:
        payments = payments.filter(paid_on__gte=query.date_from)
    if query.date_to:
        payments = payments.filter(paid_on__lte=query.date_to)
    if query.amount_min is not None or query.amount_max is not None:
        # SQLite (no STAT4) takes any two-sided range as selective and would walk the
        # amount index over a million rows before sorting them; `amount_cents + 0` keeps
        # the date index in charge of the page there (2 s → 15 ms on 2M payments).
        amount = "amount_cents"
        if connection.vendor == "sqlite":
            payments = payments.alias(amount_value=F("amount_cents") + 0)
            amount = "amount_value"
        if query.amount_min is not None:
            payments = payments.filter(**{f"{amount}__gte": query.amount_min})
        if query.amount_max is not None:
            payments = payments.filter(**{f"{amount}__lte": query.amount_max})
    if query.statuses:
        payments = payments.filter(status__in=query.statuses)
    if query.methods:
        payments = payments.filter(method__in=query.methods)
    if query.campaign:
        payments = payments.filter(campaign_id=query.campaign)
    if query.contact:
        payments = payments.filter(
            Q(payer_contact_id=query.contact) | Q(beneficiary_id=query.contact)
        )
    if query.structure:
        payments = payments.filter(payer_structure_id=query.structure)
    if query.recurring is not None:
        payments = payments.filter(is_recurring=query.recurring)
    if query.payer_labels:
        # IN (subquery), not a correlated EXISTS per payment: the labelled people are found
        # once and hashed (an OR of two EXISTS re-ran them for each of millions of rows).
        contact_labels = ContactLabel.objects.for_org(organization).filter(
            label_id__in=query.payer_labels
        )
        structure_labels = StructureLabel.objects.for_org(organization).filter(
            label_id__in=query.payer_labels
        )
        payments = payments.filter(
            Q(payer_contact_id__in=contact_labels.values("contact_id"))
            | Q(payer_structure_id__in=structure_labels.values("structure_id"))
        )
    return payments


def ordered(payments: QuerySet, sort: str) -> QuerySet:
    return payments.order_by(*SORTS.get(sort, SORTS["date"]))


def totals(payments: QuerySet) -> dict[str, int]:
    """Count and sum of the filtered rows, in one aggregate query."""
    result = payments.order_by().aggregate(count=Count("id"), total=Sum("amount_cents"))
    return {"count": result["count"] or 0, "total_cents": result["total"] or 0}


def with_people(payments: QuerySet) -> QuerySet:
    return payments.select_related("payer_contact", "payer_structure", "beneficiary", "campaign")


# Campaigns ---------------------------------------------------------------------------------


def campaign_stats(organization: Organization, campaign: Campaign) -> dict[str, Any]:
    """What the campaign page shows: paid amount against the goal, payers, payments."""
    paid = Payment.objects.for_org(organization).filter(
        campaign=campaign, status=Payment.Status.PAID
    )
    result = paid.aggregate(
        total=Sum("amount_cents"),
        count=Count("id"),
        contacts=Count("payer_contact", distinct=True),
        structures=Count("payer_structure", distinct=True),
    )
    total = result["total"] or 0
    goal = campaign.goal_cents
    return {
        "collected_cents": total,
        "payments": result["count"],
        "payers": result["contacts"] + result["structures"],
        "goal_cents": goal,
        "percent": round(100 * total / goal) if goal else None,
        "all_payments": Payment.objects.for_org(organization).filter(campaign=campaign).count(),
    }


def campaigns_with_totals(organization: Organization) -> QuerySet:
    """Every campaign with its paid total and payment count, in one grouped query."""
    paid = Q(payments__status=Payment.Status.PAID)
    return Campaign.objects.for_org(organization).annotate(
        collected_cents=Sum("payments__amount_cents", filter=paid),
        paid_count=Count("payments", filter=paid),
    )


# Membership status ---------------------------------------------------------------------------

NEVER = "jamais"
CURRENT = "a_jour"
RENEW = "a_renouveler"
EXPIRED = "expire"
UPCOMING = "a_venir"
STATUS_LABELS = {
    NEVER: "Jamais adhérent",
    CURRENT: "À jour",
    RENEW: "À renouveler",
    EXPIRED: "Expiré",
    UPCOMING: "À venir",
}


@dataclass(frozen=True)
class MembershipStatus:
    status: str
    day: dt.date
    valid_until: dt.date | None = None  # the end of the current run of periods, renewals included
    ended_on: dt.date | None = None  # the last end before `day`
    starts_on: dt.date | None = None  # an upcoming period's start

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


def status_from_periods(
    periods: list[tuple[dt.date, dt.date]], *, day: dt.date, renewal_days: int
) -> MembershipStatus:
    """The status on `day` of someone with these (start, end) periods.

    À jour: a period covers `day`; à renouveler when the last end among the current and
    already paid future periods is within `renewal_days`; à venir: only a future period;
    expiré: only past ones; jamais adhérent: none.
    """
    covering = [p for p in periods if p[0] <= day <= p[1]]
    future = [p for p in periods if p[0] > day]
    past = [p for p in periods if p[1] < day]
    if covering:
        until = max(end for _, end in covering + future)
        status = RENEW if (until - day).days < renewal_days else CURRENT
        return MembershipStatus(status, day, valid_until=until)
    if future:
        return MembershipStatus(
            UPCOMING, day, starts_on=min(s for s, _ in future),
            ended_on=max((e for _, e in past), default=None),
        )  # fmt: skip
    if past:
        return MembershipStatus(EXPIRED, day, ended_on=max(e for _, e in past))
    return MembershipStatus(NEVER, day)


def membership_statuses(
    organization: Organization, contact_ids: list[int], *, day: dt.date | None = None
) -> dict[int, MembershipStatus]:
    """Status of many contacts on `day` (today by default), one query for all."""
    from lien.payments.services import payment_settings

    day = day or timezone.localdate()
    renewal_days = payment_settings(organization).renewal_days
    periods: dict[int, list[tuple[dt.date, dt.date]]] = {pk: [] for pk in contact_ids}
    for contact_id, start, end in (
        MembershipPeriod.objects.for_org(organization)
        .filter(contact_id__in=contact_ids)
        .values_list("contact_id", "start_date", "end_date")
    ):
        periods[contact_id].append((start, end))
    return {
        pk: status_from_periods(rows, day=day, renewal_days=renewal_days)
        for pk, rows in periods.items()
    }


def membership_status(organization: Organization, contact_id: int, *, day: dt.date | None = None):
    return membership_statuses(organization, [contact_id], day=day)[contact_id]


def membership_history(organization: Organization, contact_id: int) -> QuerySet:
    return (
        MembershipPeriod.objects.for_org(organization)
        .filter(contact_id=contact_id)
        .select_related("payment", "payment__payer_contact", "payment__payer_structure")
        .order_by("-start_date", "-id")
    )


def last_membership_end(organization: Organization) -> QuerySet:
    """Per contact, the last validity end: the base of « expiring this month » lists."""
    return (
        MembershipPeriod.objects.for_org(organization)
        .values("contact_id")
        .annotate(last_end=Max("end_date"))
    )
