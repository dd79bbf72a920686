"""Writes on interactions and their settings (types, categories, labels).

An interaction created by another object (a payment, an emailing, a form, a
connector) belongs to it: it is written and removed through that source, never
deleted by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from lien.contacts.models import Contact, Structure
from lien.contacts.stats import refresh_contact_stats
from lien.core.audit import Actor, diff, record_event, snapshot
from lien.core.models import AuditEvent, Organization
from lien.core.params import as_id
from lien.interactions.models import (
    Interaction,
    InteractionCategory,
    InteractionLabel,
    InteractionStatus,
    InteractionType,
)

Source = Interaction.Source
# Sources whose interactions live and die with their source object.
OWNED_SOURCES = {Source.PAYMENT, Source.EMAILING, Source.FORM, Source.CONNECTOR}
SOURCE_OWNERS = {
    Source.PAYMENT: "le paiement",
    Source.EMAILING: "l'emailing",
    Source.FORM: "le formulaire",
    Source.CONNECTOR: "l'application connectée",
}
FIELDS = ["occurred_at", "type", "category", "label", "description", "structure", "status"]
BULK_BATCH = 1000


# The per-contact aggregates these services keep exact (lien/contacts/stats.py).
STATS = ("interactions", "years")


def _actor_user(actor: Actor):
    return actor.user if getattr(actor.user, "pk", None) else None


def as_datetime(value: Any, *, field: str = "occurred_at") -> dt.datetime:
    """A date (midnight, Paris time) or a datetime, made timezone-aware; else a French error."""
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, dt.date):
        return timezone.make_aware(dt.datetime.combine(value, dt.time.min))
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d",
                "%d/%m/%Y %H:%M", "%d/%m/%Y"):  # fmt: skip
        try:
            return timezone.make_aware(dt.datetime.strptime(text, fmt))
        except ValueError:
            continue
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as error:
        message = (
            f"« {text} » n'est pas une date valide (JJ/MM/AAAA ou JJ/MM/AAAA HH:MM)."
            if text
            else "La date est obligatoire."
        )
        raise ValidationError({field: message}) from error
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


# Settings: types, categories, labels ----------------------------------------------------


def _named(model, *, organization: Organization, ref: Any, create: bool, field: str):
    """A type/category/label by id or name; a new name is created when `create` is set."""
    if ref in (None, ""):
        return None
    if isinstance(ref, model):
        if ref.organization_id != organization.pk:
            raise ValidationError({field: "Valeur inconnue."})
        return ref
    rows = model.objects.for_org(organization)
    pk = as_id(ref)
    found = rows.filter(pk=pk).first() if pk is not None else None
    if found is None:
        name = " ".join(str(ref).split())
        found = rows.filter(name__iexact=name).first()
        if found is None and create and name and pk is None:
            found = model.objects.create(
                organization=organization, name=name[: model._meta.get_field("name").max_length]
            )
    if found is None:
        raise ValidationError(
            {field: f"« {ref} » : {model._meta.verbose_name} inconnu(e) dans votre association."}
        )
    return found


def resolve_type(*, organization: Organization, ref: Any, create: bool = False):
    return _named(InteractionType, organization=organization, ref=ref, create=create, field="type")


def resolve_category(*, organization: Organization, ref: Any, create: bool = False):
    return _named(
        InteractionCategory, organization=organization, ref=ref, create=create, field="category"
    )


def resolve_label(*, organization: Organization, ref: Any, create: bool = False):
    return _named(
        InteractionLabel, organization=organization, ref=ref, create=create, field="label"
    )


SETTINGS_MODELS = {
    "type": InteractionType,
    "category": InteractionCategory,
    "label": InteractionLabel,
}


@transaction.atomic
def save_setting(
    *,
    organization: Organization,
    actor: Actor,
    kind: str,
    instance: models.Model | None = None,
    name: str,
    default_status: str | None = None,
) -> models.Model:
    """Create or rename a type (with its default status), a category or a label."""
    model = SETTINGS_MODELS[kind]
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Le nom est obligatoire."})
    others = model.objects.for_org(organization).filter(name__iexact=name)
    if instance is not None:
        others = others.exclude(pk=instance.pk)
    if others.exists():
        raise ValidationError({"name": f"« {name} » existe déjà."})
    creating = instance is None
    instance = instance or model(organization=organization)
    fields = ["name"]
    if creating and instance.pk is None and kind == "type":
        instance.position = model.objects.for_org(organization).count() + 1
    before = (
        {}
        if creating
        else snapshot(instance, fields + (["default_status"] if kind == "type" else []))
    )
    if instance.pk and kind == "type" and instance.is_system and instance.name != name:
        raise ValidationError({"name": "Ce type est utilisé par Lien lui-même : il garde son nom."})
    instance.name = name
    if kind == "type":
        fields.append("default_status")
        if default_status is not None:
            if default_status not in InteractionStatus.values:
                raise ValidationError({"default_status": "Statut inconnu."})
            instance.default_status = default_status
    instance.save()
    changes = diff(before, snapshot(instance, fields))
    if changes:
        record_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE,
            target=instance,
            changes=changes,
        )
    return instance


def usage_count(instance: models.Model) -> int:
    column = {InteractionType: "type", InteractionCategory: "category", InteractionLabel: "label"}[
        type(instance)
    ]
    return (
        Interaction.objects.for_org(instance.organization_id).filter(**{column: instance}).count()
    )


@transaction.atomic
def delete_setting(*, organization: Organization, actor: Actor, instance: models.Model) -> int:
    """Delete a category or label (interactions keep everything else), or an unused type."""
    used = usage_count(instance)
    if isinstance(instance, InteractionType):
        if instance.is_system:
            raise ValidationError(
                "Ce type est utilisé par Lien lui-même : il ne peut pas être supprimé."
            )
        if used:
            raise ValidationError(
                f"{used} interaction(s) ont ce type : il ne peut pas être supprimé."
            )
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.DELETE,
        target=instance,
        changes={"records": [used, 0]},
    )
    instance.delete()
    return used


# Interactions ---------------------------------------------------------------------------


def _check_contact(organization: Organization, contact: Any) -> Contact:
    if isinstance(contact, Contact):
        if contact.organization_id != organization.pk or contact.is_deleted:
            raise ValidationError({"contact": "Contact inconnu dans votre association."})
        return contact
    pk = as_id(contact)
    found = (
        Contact.objects.for_org(organization).not_deleted().filter(pk=pk).first()
        if pk is not None
        else None
    )
    if found is None:
        message = (
            "Le contact est obligatoire."
            if contact in (None, "")
            else ("Contact inconnu dans votre association.")
        )
        raise ValidationError({"contact": message})
    return found


def _check_structure(organization: Organization, structure: Any) -> Structure | None:
    if structure in (None, ""):
        return None
    pk = structure.pk if isinstance(structure, Structure) else as_id(structure)
    found = Structure.objects.for_org(organization).not_deleted().filter(pk=pk).first()
    if found is None:
        raise ValidationError({"structure": "Structure inconnue dans votre association."})
    return found


def _required_type(organization: Organization, ref: Any, create: bool) -> InteractionType:
    found = resolve_type(organization=organization, ref=ref, create=create)
    if found is None:
        raise ValidationError({"type": "Le type est obligatoire."})
    return found


def _prepared(
    *,
    organization: Organization,
    occurred_at: Any,
    type: Any,
    category: Any = None,
    label: Any = None,
    structure: Any = None,
    status: str | None = None,
    create_missing: bool = False,
) -> dict[str, Any]:
    """Every field checked, errors all reported at once, keyed by field."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    checks = [
        ("occurred_at", lambda: as_datetime(occurred_at)),
        ("type", lambda: _required_type(organization, type, create_missing)),
        (
            "category",
            lambda: resolve_category(
                organization=organization, ref=category, create=create_missing
            ),
        ),
        (
            "label",
            lambda: resolve_label(organization=organization, ref=label, create=create_missing),
        ),
        ("structure", lambda: _check_structure(organization, structure)),
    ]
    for name, check in checks:
        try:
            values[name] = check()
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if status not in (None, "") and status not in InteractionStatus.values:
        errors.setdefault("status", []).append("Statut inconnu : « active » ou « passive ».")
    if errors:
        raise ValidationError(errors)
    values["status"] = status or values["type"].default_status
    return values


@transaction.atomic
def record_interaction(
    *,
    organization: Organization,
    actor: Actor,
    contact: Any,
    occurred_at: Any,
    type: Any,
    category: Any = None,
    label: Any = None,
    description: str = "",
    structure: Any = None,
    status: str | None = None,
    source: str = Source.MANUAL,
    source_object: models.Model | None = None,
    create_missing: bool = False,
) -> Interaction:
    """Record one interaction. `create_missing` creates unknown type/category/label names."""
    errors: dict[str, list[str]] = {}
    try:
        contact = _check_contact(organization, contact)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        values = _prepared(
            organization=organization, occurred_at=occurred_at, type=type, category=category,
            label=label, structure=structure, status=status, create_missing=create_missing,
        )  # fmt: skip
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    interaction = Interaction.objects.create(
        organization=organization,
        contact=contact,
        description=description or "",
        recorded_by=_actor_user(actor),
        source=source,
        source_type=ContentType.objects.get_for_model(source_object) if source_object else None,
        source_id=source_object.pk if source_object else None,
        **values,
    )
    refresh_contact_stats(organization, [contact.pk], families=STATS)
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=interaction,
        changes=diff({}, snapshot(interaction, FIELDS)),
    )
    return interaction


@transaction.atomic
def record_interactions(
    *,
    organization: Organization,
    actor: Actor,
    contact_ids: Iterable[int],
    occurred_at: Any,
    type: Any,
    category: Any = None,
    label: Any = None,
    description: str = "",
    structure: Any = None,
    status: str | None = None,
    create_missing: bool = False,
) -> int:
    """The same interaction for many contacts at once (« Invitation gala envoyée » to a
    whole group): one transaction, one statement per thousand rows, all or nothing."""
    values = _prepared(
        organization=organization, occurred_at=occurred_at, type=type, category=category,
        label=label, structure=structure, status=status, create_missing=create_missing,
    )  # fmt: skip
    contacts = list(
        Contact.objects.for_org(organization)
        .not_deleted()
        # A queryset stays a subquery: « toute la liste » may hold more ids than one
        # statement takes (SQLite 32,766 parameters, PostgreSQL 65,535).
        .filter(pk__in=contact_ids if isinstance(contact_ids, QuerySet) else list(contact_ids))
        .values_list("pk", "first_name", "last_name")
    )
    if not contacts:
        raise ValidationError({"contact": "Aucun contact de votre association dans la sélection."})
    now = timezone.now()
    created = Interaction.objects.bulk_create(
        [
            Interaction(
                organization=organization,
                contact_id=pk,
                description=description or "",
                recorded_by=_actor_user(actor),
                source=Source.MANUAL,
                created_at=now,
                **values,
            )
            for pk, _first, _last in contacts
        ],
        batch_size=BULK_BATCH,
    )
    refresh_contact_stats(organization, [pk for pk, _, _ in contacts], families=STATS)
    names = {pk: f"{first} {last}".strip() for pk, first, last in contacts}
    content_type = ContentType.objects.get_for_model(Interaction)
    summary = {"type": [None, values["type"].name]}
    if values["label"]:
        summary["label"] = [None, values["label"].name]
    # Databases that do not return ids from a bulk insert (none we use) get one
    # summary row instead of a row per interaction.
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                organization=organization,
                created_at=now,
                actor_kind=actor.kind,
                actor_user=_actor_user(actor),
                actor_label=actor.label[:200],
                action=AuditEvent.Action.CREATE,
                target_type=content_type,
                target_id=interaction.pk,
                target_repr=f"{values['type'].name} — {names[interaction.contact_id]}"[:250],
                changes=summary,
            )
            for interaction in created
            if interaction.pk
        ],
        batch_size=BULK_BATCH,
    )
    return len(created)


def _refuse_if_owned(interaction: Interaction, verb: str) -> None:
    if interaction.source in OWNED_SOURCES:
        owner = SOURCE_OWNERS[interaction.source]
        raise ValidationError(
            f"Cette interaction a été créée par {owner} : elle ne peut pas être {verb} à la main. "
            f"Elle change ou disparaît avec {owner}."
        )


@transaction.atomic
def update_interaction(
    *,
    organization: Organization,
    actor: Actor,
    interaction: Interaction,
    create_missing: bool = False,
    **changes: Any,
) -> Interaction:
    """Change a manual or imported interaction; the audit row lists what changed."""
    _refuse_if_owned(interaction, "modifiée")
    unknown = set(changes) - set(FIELDS) - {"contact"}
    if unknown:
        raise ValidationError({field: "Champ inconnu." for field in unknown})
    before = snapshot(interaction, FIELDS + ["contact"])
    current = {
        "occurred_at": interaction.occurred_at,
        "type": interaction.type,
        "category": interaction.category,
        "label": interaction.label,
        "structure": interaction.structure,
        "status": interaction.status,
    }
    current.update({k: v for k, v in changes.items() if k in current})
    values = _prepared(organization=organization, create_missing=create_missing, **current)
    if "contact" in changes:
        values["contact"] = _check_contact(organization, changes["contact"])
    if "description" in changes:
        values["description"] = changes["description"] or ""
    before_contact = interaction.contact_id
    for field, value in values.items():
        setattr(interaction, field, value)
    interaction.save()
    refresh_contact_stats(
        organization, [before_contact, interaction.contact_id], families=STATS
    )
    delta = diff(before, snapshot(interaction, FIELDS + ["contact"]))
    if delta:
        record_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=interaction,
            changes=delta,
        )
    return interaction


@transaction.atomic
def delete_interaction(
    *, organization: Organization, actor: Actor, interaction: Interaction
) -> None:
    """Delete a manual or imported interaction; one created by a source goes with it."""
    _refuse_if_owned(interaction, "supprimée")
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.DELETE,
        target=interaction,
        changes={"contact": [str(interaction.contact), None]},
    )
    contact_id = interaction.contact_id
    interaction.delete()
    refresh_contact_stats(organization, [contact_id], families=STATS)


@transaction.atomic
def remove_for_source(*, organization: Organization, source_object: models.Model) -> int:
    """When a payment, emailing or form goes, its interactions go too."""
    rows = Interaction.objects.for_org(organization).created_by_source(source_object)
    contact_ids = list(rows.values_list("contact_id", flat=True).distinct())
    removed = rows.delete()[0]
    refresh_contact_stats(organization, contact_ids, families=STATS)
    return removed


class InvalidItems(ValidationError):
    """Some items of a batch are invalid: `by_index` maps each one's index to its errors."""

    def __init__(self, by_index: dict[int, dict[str, list[str]]]):
        self.by_index = by_index
        super().__init__(f"{len(by_index)} interaction(s) invalide(s) : rien n'a été enregistré.")


def _memoised(resolver):
    """`resolver(ref)` run once per distinct reference (id, or name whatever its case)."""
    cache: dict[Any, tuple[Any, ValidationError | None]] = {}

    def resolve(ref: Any):
        key = (
            ref.pk
            if isinstance(ref, models.Model)
            else " ".join(str(ref).split()).casefold()
            if ref is not None
            else None
        )
        if key not in cache:
            try:
                cache[key] = (resolver(ref), None)
            except ValidationError as error:
                cache[key] = (None, error)
        found, error = cache[key]
        if error is not None:
            raise error
        return found

    return resolve


@transaction.atomic
def record_interactions_items(
    *,
    organization: Organization,
    actor: Actor,
    items: list[dict[str, Any] | None],
    create_missing: bool = False,
    invalid: dict[int, dict[str, list[str]]] | None = None,
) -> list[Interaction]:
    """Many different interactions at once (an API batch), all or nothing.

    Each item has the keys of `record_interaction` (contact, occurred_at, type,
    category, label, description, structure, status). Contacts and structures
    are read in one query each, every distinct type/category/label once; every
    item is checked before anything is written, and `InvalidItems` reports the
    errors of each invalid item by its index. The caller's own errors (a JSON
    shape, say) come in `invalid`, their items as None: they join the report and
    any of them makes the batch write nothing. Rows go in with one statement
    per thousand, with an audit row each.
    """
    invalid = dict(invalid or {})
    given = [(index, item) for index, item in enumerate(items) if item is not None]
    contact_refs = {as_id(item.get("contact")) for _index, item in given} - {None}
    contacts = {
        pk: f"{first} {last}".strip()
        for pk, first, last in Contact.objects.for_org(organization)
        .not_deleted()
        .filter(pk__in=contact_refs)
        .values_list("pk", "first_name", "last_name")
    }
    structure_refs = {as_id(item.get("structure")) for _index, item in given} - {None}
    structures = Structure.objects.for_org(organization).not_deleted().in_bulk(structure_refs)
    type_of = _memoised(lambda ref: _required_type(organization, ref, create_missing))
    category_of = _memoised(
        lambda ref: resolve_category(organization=organization, ref=ref, create=create_missing)
    )
    label_of = _memoised(
        lambda ref: resolve_label(organization=organization, ref=ref, create=create_missing)
    )

    def contact_of(ref: Any) -> int:
        pk = as_id(ref) if ref not in (None, "") else None
        if pk not in contacts:
            raise ValidationError(
                {
                    "contact": "Le contact est obligatoire."
                    if ref in (None, "")
                    else "Contact inconnu dans votre association."
                }
            )
        return pk

    def structure_of(ref: Any) -> Structure | None:
        if ref in (None, ""):
            return None
        found = structures.get(as_id(ref))
        if found is None:
            raise ValidationError({"structure": "Structure inconnue dans votre association."})
        return found

    checks = [
        ("contact_id", "contact", contact_of),
        ("occurred_at", "occurred_at", as_datetime),
        ("type", "type", type_of),
        ("category", "category", category_of),
        ("label", "label", label_of),
        ("structure", "structure", structure_of),
    ]
    rows: list[Interaction] = []
    now = timezone.now()
    user = _actor_user(actor)
    for index, item in given:
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        for attribute, key, check in checks:
            try:
                values[attribute] = check(item.get(key))
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    errors.setdefault(field, []).extend(messages)
        status = item.get("status")
        if status not in (None, "") and status not in InteractionStatus.values:
            errors.setdefault("status", []).append("Statut inconnu : « active » ou « passive ».")
        if errors:
            invalid[index] = errors
            continue
        rows.append(
            Interaction(
                organization=organization,
                description=item.get("description") or "",
                status=status or values["type"].default_status,
                recorded_by=user,
                source=Source.MANUAL,
                created_at=now,
                **values,
            )
        )
    if invalid:
        raise InvalidItems(dict(sorted(invalid.items())))
    created = Interaction.objects.bulk_create(rows, batch_size=BULK_BATCH)
    refresh_contact_stats(organization, {row.contact_id for row in rows}, families=STATS)
    content_type = ContentType.objects.get_for_model(Interaction)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                organization=organization,
                created_at=now,
                actor_kind=actor.kind,
                actor_user=user,
                actor_label=actor.label[:200],
                action=AuditEvent.Action.CREATE,
                target_type=content_type,
                target_id=interaction.pk,
                target_repr=f"{interaction.type.name} — {contacts[interaction.contact_id]}"[:250],
                changes=diff({}, snapshot(interaction, FIELDS)),
            )
            for interaction in created
            if interaction.pk
        ],
        batch_size=BULK_BATCH,
    )
    return created
