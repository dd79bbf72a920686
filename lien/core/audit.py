"""The audit trail: one function writes every event, one reads a record's history."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models

from lien.core.models import ActorKind, AuditEvent, Organization


@dataclass(frozen=True)
class Actor:
    """Who does a change: a user, an import, a connector, a nightly rule, the system."""

    kind: str = ActorKind.SYSTEM
    user: Any = None
    label: str = ""

    @classmethod
    def for_user(cls, user, *, via_api: bool = False) -> Actor:
        return cls(kind=ActorKind.API if via_api else ActorKind.USER, user=user)

    @classmethod
    def system(cls, label: str = "Système") -> Actor:
        return cls(kind=ActorKind.SYSTEM, label=label)


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The values of `fields` as JSON-ready data, to diff before and after a change."""
    return {name: _plain(getattr(instance, name)) for name in fields}


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Changed fields as {field: [old, new]}. Empty ↔ empty is no change, and a new
    record lists only the fields it was given (not its empty or false defaults)."""
    changes = {}
    for key, value in after.items():
        old = before.get(key)
        if old == value or (_blank(old) and _blank(value)):
            continue
        if key not in before and value is False:
            continue
        changes[key] = [old, value]
    return changes


def record_event(
    *,
    organization: Organization,
    actor: Actor,
    action: str,
    target: models.Model,
    changes: dict[str, list[Any]] | None = None,
) -> AuditEvent:
    """Write one audit row. Callers run inside the transaction of the change they record."""
    return AuditEvent.objects.create(
        organization=organization,
        actor_kind=actor.kind,
        actor_user=actor.user if getattr(actor.user, "pk", None) else None,
        actor_label=actor.label[:200],
        action=action,
        target_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
        target_id=target.pk,
        target_repr=str(target)[:250],
        changes=changes or {},
    )


# Apps register functions (organization, membership) → change keys the member may not
# read, e.g. the custom fields marked sensitive for a profile that hides them.
REDACTORS: list[Callable[[Organization, Any], set[str]]] = []


def hidden_change_keys(*, organization: Organization, membership) -> set[str]:
    keys: set[str] = set()
    for redactor in REDACTORS:
        keys |= redactor(organization, membership)
    return keys


# Apps register functions (organization, membership) → models ("app_label.model") whose
# events the member may know of but not read, e.g. payments for a profile that hides
# payment data: a payment's very name tells its amount, so keys alone cannot hide it.
HIDDEN_TARGETS: list[Callable[[Organization, Any], set[str]]] = []
HIDDEN_REPR = "détails masqués"


def hidden_target_types(*, organization: Organization, membership) -> set[int]:
    """The content type ids of the models registered as hidden for this member."""
    labels: set[str] = set()
    for hidden in HIDDEN_TARGETS:
        labels |= hidden(organization, membership)
    return {
        ContentType.objects.get_for_model(apps.get_model(label), for_concrete_model=False).pk
        for label in labels
    }


# Apps register functions (organization) → {change key: label}, e.g. the names of
# custom fields for their `custom.<key>` entries.
KEY_LABELERS: list[Callable[[Organization], dict[str, str]]] = []


def redact(events: Iterable[AuditEvent], *, organization: Organization, membership) -> list:
    """Events ready to show: changes the member may not read left out, keys in words.

    An event of a hidden model keeps its date, author and action; its changes and the
    record's name are left out of these copies (they are never saved back).
    """
    events = list(events)
    keys = hidden_change_keys(organization=organization, membership=membership)
    hidden_types = hidden_target_types(organization=organization, membership=membership)
    labels: dict[str, str] = {}
    if events:
        for labeler in KEY_LABELERS:
            labels.update(labeler(organization))
    for event in events:
        event.redacted_keys = keys
        if event.target_type_id in hidden_types:
            event.redacted_keys = keys | set(event.changes)
            event.target_repr = HIDDEN_REPR
        event.key_labels = labels
    return events


def history_for(
    *, organization: Organization, target: models.Model, membership=None, limit: int = 50
):
    """A record's events, newest first, as the member may read them (None: hide the most)."""
    events = (
        AuditEvent.objects.for_org(organization)
        .filter(
            target_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
            target_id=target.pk,
        )
        .select_related("actor_user")
        .order_by("-created_at", "-id")[:limit]
    )
    return redact(events, organization=organization, membership=membership)
