"""Automatic labels that follow payments: Donateur, Adhérent, Ancien adhérent, Participant.

Each rule is a set: the people who should carry its label today. Applying a rule
compares that set with the automatic attachments of the label and adds or removes
the difference, in a few set-based statements whatever the number of contacts.
Manual attachments of the same label are a different row (origin « manual ») and
are never touched, so a rule never undoes what a person did. Running the rules
twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from lien.contacts.models import (
    Contact,
    ContactLabel,
    Label,
    LabelOrigin,
    Structure,
    StructureLabel,
)
from lien.contacts.services import _bulk_events, _reprs
from lien.core.audit import Actor
from lien.core.models import ActorKind, AuditEvent, Organization
from lien.payments.models import MembershipPeriod, Payment, PaymentKind, PaymentSettings

AUTO = LabelOrigin.AUTOMATIC
PAID = Payment.Status.PAID


@dataclass(frozen=True)
class Rule:
    key: str  # the PaymentSettings field holding the label
    name: str  # the label's name when the rule creates it
    color: str
    description: str
    # (organization, today) → a queryset of one column "cid": who should carry the label
    wanted: Callable[[Organization, dt.date], QuerySet]
    # (organization, today) → a Q, true for a link row (annotated `cid`) that must stay
    keeps: Callable[[Organization, dt.date], Q]
    structures: Callable[[Organization, dt.date], QuerySet] | None = None
    structure_keeps: Callable[[Organization, dt.date], Q] | None = None


def _payments(organization: Organization, kind: str) -> QuerySet:
    return Payment.objects.for_org(organization).filter(kind=kind, status=PAID)


def _periods(organization: Organization) -> QuerySet:
    return MembershipPeriod.objects.for_org(organization)


# Who should carry each label -------------------------------------------------------------


def _donors(organization: Organization, today: dt.date) -> QuerySet:
    return (
        _payments(organization, PaymentKind.DONATION)
        .filter(payer_contact__isnull=False)
        .annotate(cid=F("payer_contact_id"))
    )


def _donor_keeps(organization: Organization, today: dt.date) -> Q:
    return Q(
        Exists(_payments(organization, PaymentKind.DONATION).filter(payer_contact=OuterRef("cid")))
    )


def _donor_structures(organization: Organization, today: dt.date) -> QuerySet:
    return (
        _payments(organization, PaymentKind.DONATION)
        .filter(payer_structure__isnull=False)
        .annotate(cid=F("payer_structure_id"))
    )


def _donor_structure_keeps(organization: Organization, today: dt.date) -> Q:
    return Q(
        Exists(
            _payments(organization, PaymentKind.DONATION).filter(payer_structure=OuterRef("cid"))
        )
    )


def _members(organization: Organization, today: dt.date) -> QuerySet:
    return _periods(organization).covering(today).annotate(cid=F("contact_id"))


def _member_keeps(organization: Organization, today: dt.date) -> Q:
    return Q(Exists(_periods(organization).covering(today).filter(contact=OuterRef("cid"))))


def _former_members(organization: Organization, today: dt.date) -> QuerySet:
    return (
        _periods(organization)
        .filter(end_date__lt=today)
        .exclude(
            Exists(_periods(organization).filter(contact=OuterRef("contact"), end_date__gte=today))
        )
        .annotate(cid=F("contact_id"))
    )


def _former_keeps(organization: Organization, today: dt.date) -> Q:
    periods = _periods(organization).filter(contact=OuterRef("cid"))
    return Q(Exists(periods.filter(end_date__lt=today))) & ~Q(
        Exists(periods.filter(end_date__gte=today))
    )


def _participants(organization: Organization, today: dt.date) -> QuerySet:
    # The beneficiary is the payer contact unless someone else was named: a ticket bought
    # by a structure for nobody in particular makes no participant.
    return (
        _payments(organization, PaymentKind.TICKETING)
        .filter(beneficiary__isnull=False)
        .annotate(cid=F("beneficiary_id"))
    )


def _participant_keeps(organization: Organization, today: dt.date) -> Q:
    return Q(
        Exists(_payments(organization, PaymentKind.TICKETING).filter(beneficiary=OuterRef("cid")))
    )


RULES = [
    Rule(
        "donor_label", "Donateur / Donatrice", "#b45309",
        "le payeur d'un don payé", _donors, _donor_keeps, _donor_structures,
        _donor_structure_keeps,
    ),
    Rule(
        "member_label", "Adhérent(e)", "#047857",
        "le bénéficiaire d'une adhésion payée, pendant sa validité", _members, _member_keeps,
    ),
    Rule(
        "former_member_label", "Ancien(ne) adhérent(e)", "#6b7280",
        "une adhésion passée et aucune en cours ni à venir", _former_members, _former_keeps,
    ),
    Rule(
        "participant_label", "Participant(e)", "#1d4ed8",
        "le bénéficiaire d'un billet payé", _participants, _participant_keeps,
    ),
]  # fmt: skip


def rule_label(organization: Organization, settings: PaymentSettings, rule: Rule) -> Label:
    """The label a rule maintains: the one chosen in the settings, else one of its name."""
    label = getattr(settings, rule.key)
    if label is not None:
        return label
    label = Label.objects.for_org(organization).filter(name__iexact=rule.name).first()
    if label is None:
        label = Label.objects.create(organization=organization, name=rule.name, color=rule.color)
    setattr(settings, rule.key, label)
    settings.save(update_fields=[rule.key])
    return label


# Applying ----------------------------------------------------------------------------------


def _insert_links(
    link_model, column: str, organization: Organization, label: Label, ids_query: QuerySet
) -> None:
    """INSERT … SELECT: the new attachments never travel through Python."""
    sql, params = ids_query.query.sql_with_params()
    table = link_model._meta.db_table
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(c) for c in ("organization_id", column, "label_id", "origin", "created_at")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(table)} ({columns}) "
            f"SELECT %s, wanted.cid, %s, %s, %s FROM ({sql}) wanted",
            [organization.pk, label.pk, AUTO, timezone.now(), *params],
        )


def _reconcile(
    *,
    organization: Organization,
    actor: Actor,
    model,
    label: Label,
    wanted: QuerySet,
    keeps: Q,
    ids: list[int] | None,
    audit: bool,
) -> tuple[int, int]:
    """Make the automatic attachments of `label` equal `wanted`; (added, removed)."""
    link_model, column = (
        (ContactLabel, "contact_id") if model is Contact else (StructureLabel, "structure_id")
    )
    links = link_model.objects.for_org(organization).filter(label=label, origin=AUTO)
    if ids is not None:
        links = links.filter(**{f"{column}__in": ids})
        wanted = wanted.filter(cid__in=ids)
    has_link = link_model.objects.for_org(organization).filter(
        label=label, origin=AUTO, **{column: OuterRef("cid")}
    )
    to_add = wanted.exclude(Exists(has_link)).values("cid").distinct().order_by()
    stale = links.annotate(cid=F(column)).exclude(keeps)
    removed_ids = list(stale.values_list(column, flat=True))
    if removed_ids:
        link_model.objects.for_org(organization).filter(pk__in=stale.values("pk")).delete()
    added_ids: list[int] = []
    if audit:
        added_ids = list(to_add.values_list("cid", flat=True))
        if added_ids:
            _insert_links(link_model, column, organization, label, to_add.filter(cid__in=added_ids))
    else:
        before = links.count()
        _insert_links(link_model, column, organization, label, to_add)
        added = links.count() - before
    if audit:
        for action_ids, change in [
            (added_ids, {"labels": [None, f"+ {label.name} (automatique)"]}),
            (removed_ids, {"labels": [f"- {label.name} (automatique)", None]}),
        ]:
            for start in range(0, len(action_ids), 5000):
                _bulk_events(
                    organization=organization,
                    actor=actor,
                    model=model,
                    rows=_reprs(model, organization, action_ids[start : start + 5000]),
                    action=AuditEvent.Action.UPDATE,
                    changes=change,
                )
        added = len(added_ids)
    return added, len(removed_ids)


RULE_ACTOR = Actor(kind=ActorKind.RULE, label="Étiquettes automatiques")


def apply_label_rules(
    *,
    organization: Organization,
    actor: Actor | None = None,
    contact_ids: Iterable[int] | None = None,
    structure_ids: Iterable[int] | None = None,
    today: dt.date | None = None,
    audit: bool = True,
    force: bool = False,
) -> dict[str, dict[str, int]]:
    """Apply every rule to the given contacts and structures, or to everyone (nightly).

    Returns {rule key: {"added": n, "removed": n}}. Does nothing when the organisation has
    switched automatic labels off, unless `force`.
    """
    from lien.payments.services import payment_settings

    settings = payment_settings(organization)
    if not settings.auto_labels and not force:
        return {}
    today = today or timezone.localdate()
    whole = contact_ids is None and structure_ids is None
    contact_ids = None if contact_ids is None else list(contact_ids)
    structure_ids = None if structure_ids is None else list(structure_ids)
    rule_actor = (
        RULE_ACTOR
        if actor is None or whole
        else Actor(kind=ActorKind.RULE, user=actor.user, label=RULE_ACTOR.label)
    )
    counts: dict[str, dict[str, int]] = {}
    with transaction.atomic():
        for rule in RULES:
            label = rule_label(organization, settings, rule)
            added = removed = 0
            if contact_ids is None or contact_ids:
                a, r = _reconcile(
                    organization=organization, actor=rule_actor, model=Contact, label=label,
                    wanted=rule.wanted(organization, today), keeps=rule.keeps(organization, today),
                    ids=contact_ids, audit=audit,
                )  # fmt: skip
                added, removed = added + a, removed + r
            if rule.structures and (structure_ids is None or structure_ids):
                a, r = _reconcile(
                    organization=organization, actor=rule_actor, model=Structure, label=label,
                    wanted=rule.structures(organization, today),
                    keeps=rule.structure_keeps(organization, today), ids=structure_ids,
                    audit=audit,
                )  # fmt: skip
                added, removed = added + a, removed + r
            counts[rule.key] = {"added": added, "removed": removed}
        if whole:
            PaymentSettings.objects.filter(pk=settings.pk).update(labels_applied_on=today)
    return counts


def apply_all_label_rules(*, today: dt.date | None = None) -> dict[int, dict]:
    """The nightly pass over every organisation: expiries, and anything missed."""
    return {
        organization.pk: apply_label_rules(organization=organization, today=today)
        for organization in Organization.objects.order_by("pk")
    }
