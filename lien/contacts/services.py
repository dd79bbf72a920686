"""Writes on contacts, structures, labels, custom fields, groups and households.

Every function takes the organisation and the actor explicitly, validates,
writes in one transaction and records the audit trail. Bulk operations are
set-based: one query per step, whatever the size of the selection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from lien.contacts.custom_fields import clean_custom_values, parse_choice
from lien.contacts.models import (
    Contact,
    ContactLabel,
    ContactStructureLink,
    CustomField,
    Group,
    GroupMembership,
    Household,
    Label,
    LabelOrigin,
    Structure,
    StructureLabel,
)
from lien.contacts.normalize import normalize_contact_fields, normalize_name, normalize_phone
from lien.core.audit import Actor, diff, record_event, snapshot
from lien.core.models import AuditEvent, Membership, Organization
from lien.core.params import as_id

TRASH_DAYS = 30

CONTACT_FIELDS = [
    "civility",
    "first_name",
    "last_name",
    "email",
    "email2",
    "mobile",
    "phone",
    "street",
    "street2",
    "postal_code",
    "city",
    "country",
    "birth_date",
    "preferred_language",
    "notes",
    "email_consent",
    "email_consent_date",
    "email_consent_source",
]
STRUCTURE_FIELDS = [
    "name",
    "kind",
    "siren",
    "siret",
    "rna",
    "street",
    "street2",
    "postal_code",
    "city",
    "country",
    "email",
    "phone",
    "website",
    "notes",
]
ADDRESS_FIELDS = ["street", "street2", "postal_code", "city", "country"]


class DuplicateEmail(ValidationError):
    """Creating a contact whose email another contact already has: the caller decides."""

    def __init__(self, existing: Contact):
        self.existing = existing
        super().__init__(
            {
                "email": f"{existing} a déjà l'adresse {existing.email} : "
                "ouvrez sa fiche plutôt que de créer un doublon."
            }
        )


# Audit helpers --------------------------------------------------------------------------


def _bulk_events(
    *,
    organization: Organization,
    actor: Actor,
    model: type[models.Model],
    rows: Iterable[tuple[int, str]],
    action: str,
    changes: dict[str, list[Any]],
) -> None:
    """One audit row per touched record, written in one statement."""
    content_type = ContentType.objects.get_for_model(model)
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                organization=organization,
                created_at=now,
                actor_kind=actor.kind,
                actor_user=actor.user if getattr(actor.user, "pk", None) else None,
                actor_label=actor.label[:200],
                action=action,
                target_type=content_type,
                target_id=pk,
                target_repr=str(label)[:250],
                changes=changes,
            )
            for pk, label in rows
        ],
        batch_size=500,
    )


def _reprs(
    model: type[models.Model], organization: Organization, ids: Iterable[int]
) -> list[tuple[int, str]]:
    """(pk, display name) of many contacts or structures, in one query."""
    rows = model.objects.for_org(organization).filter(pk__in=list(ids))
    if model is Contact:
        return [
            (pk, f"{first} {last}".strip() or email or f"Contact {pk}")
            for pk, first, last, email in rows.values_list("pk", "first_name", "last_name", "email")
        ]
    return [(pk, name) for pk, name in rows.values_list("pk", "name")]


# Field validation -----------------------------------------------------------------------


def _check_phone(errors: dict[str, list[str]], field: str, value: str, country: str) -> None:
    if value and not normalize_phone(value, (country or "FR").upper()):
        errors.setdefault(field, []).append(
            f"« {value} » n'est pas un numéro de téléphone reconnu."
        )


def _check_structure_numbers(structure: Structure, errors: dict[str, list[str]]) -> None:
    for field, module, label in [
        ("siren", stdnum_siren, "SIREN"),
        ("siret", stdnum_siret, "SIRET"),
    ]:
        value = getattr(structure, field)
        if not value:
            continue
        try:
            setattr(structure, field, module.validate(value))
        except StdnumError:
            errors.setdefault(field, []).append(
                f"« {value} » n'est pas un numéro {label} valide (vérifiez les chiffres)."
            )
    if structure.siren and structure.siret and not structure.siret.startswith(structure.siren):
        errors.setdefault("siret", []).append("Le SIRET doit commencer par le SIREN.")
    rna = structure.rna.strip().upper()
    if rna and not (len(rna) == 10 and rna[0] == "W" and rna[1:].isascii() and rna[1:].isdigit()):
        errors.setdefault("rna", []).append(
            f"« {structure.rna} » : un numéro RNA s'écrit W suivi de 9 chiffres."
        )
    structure.rna = rna


def _full_clean(instance: models.Model, errors: dict[str, list[str]], exclude: list[str]) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        _merge_errors(errors, error)


def _apply(instance: models.Model, data: dict[str, Any], allowed: list[str]) -> None:
    for field, value in data.items():
        if field not in allowed:
            raise ValidationError({field: f"Champ inconnu : « {field} »."})
        if value is None and not instance._meta.get_field(field).null:
            value = ""  # text columns store "nothing" as an empty string
        setattr(instance, field, value)


def _merge_errors(errors: dict[str, list[str]], error: ValidationError) -> None:
    for field, messages in error.message_dict.items():
        errors.setdefault(field, []).extend(messages)


def _clean_custom_into(errors: dict[str, list[str]], **kwargs: Any) -> dict[str, Any] | None:
    """Custom values validated, their errors added to the native ones (all said at once)."""
    try:
        return clean_custom_values(**kwargs)
    except ValidationError as error:
        _merge_errors(errors, error)
        return None


# Contacts -------------------------------------------------------------------------------


def find_by_email(*, organization: Organization, email: str, exclude_pk: int | None = None):
    email = (email or "").strip().lower()
    if not email:
        return None
    contacts = Contact.objects.for_org(organization).not_deleted().filter(email_normalized=email)
    if exclude_pk:
        contacts = contacts.exclude(pk=exclude_pk)
    return contacts.order_by("pk").first()


def _validate_contact(contact: Contact, errors: dict[str, list[str]]) -> None:
    _full_clean(contact, errors, exclude=["organization", "household", "custom"])
    _check_phone(errors, "mobile", contact.mobile, contact.country)
    _check_phone(errors, "phone", contact.phone, contact.country)
    if not (contact.first_name.strip() or contact.last_name.strip() or contact.email.strip()):
        errors.setdefault("last_name", []).append(
            "Indiquez au moins un nom, un prénom ou un email."
        )
    if contact.birth_date and contact.birth_date > timezone.localdate():
        errors.setdefault("birth_date", []).append("La date de naissance est dans le futur.")


def _validate_structure(structure: Structure, errors: dict[str, list[str]]) -> None:
    structure.siren = structure.siren.replace(" ", "")
    structure.siret = structure.siret.replace(" ", "")
    _check_structure_numbers(structure, errors)
    _full_clean(structure, errors, exclude=["organization", "custom"])
    _check_phone(errors, "phone", structure.phone, structure.country)
    if not structure.name.strip():
        errors.setdefault("name", []).append("Le nom de la structure est obligatoire.")


@dataclass(frozen=True)
class RecordKind:
    """What differs between writing a contact and writing a structure."""

    model: type[models.Model]
    fields: list[str]
    target: str
    validate: Callable[[Any, dict[str, list[str]]], None]
    normalize: Callable[[Any], Any]


def _state(record: models.Model, fields: list[str]) -> dict[str, Any]:
    """Native fields and custom values, as the audit trail compares them."""
    return {
        **snapshot(record, fields),
        **{f"custom.{key}": value for key, value in record.custom.items()},
    }


def _write_record(
    kind: RecordKind,
    *,
    organization: Organization,
    actor: Actor,
    record: models.Model,
    data: dict[str, Any],
    custom: dict[str, Any] | None,
    membership: Membership | None,
    creating: bool,
    before_save: Callable[[Any], None] | None = None,
) -> models.Model:
    """Validate native and custom values together (every error at once), save, audit."""
    before = {} if creating else _state(record, kind.fields)
    _apply(record, data, kind.fields)
    errors: dict[str, list[str]] = {}
    kind.validate(record, errors)
    if creating or custom is not None:
        record.custom = _clean_custom_into(
            errors,
            organization=organization,
            target=kind.target,
            values=custom or {},
            existing=None if creating else record.custom,
            membership=membership,
            partial=not creating,
        )
    if errors:
        raise ValidationError(errors)
    kind.normalize(record)
    if before_save is not None:
        before_save(record)
    after = _state(record, kind.fields)
    changes = diff(before, after)
    changes.update({k: [v, None] for k, v in before.items() if k not in after})
    if creating or changes:
        if not creating and hasattr(record, "updated_at"):
            record.updated_at = timezone.now()
        record.save()
        record_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE,
            target=record,
            changes=changes,
        )
    return record


def _normalize_structure(structure: Structure) -> Structure:
    structure.name_normalized = normalize_name(structure.name)
    return structure


CONTACT = RecordKind(
    Contact, CONTACT_FIELDS, CustomField.Target.CONTACT, _validate_contact, normalize_contact_fields
)
GROUP = RecordKind(
    Group,
    ["name", "description"],
    CustomField.Target.GROUP,
    lambda group, errors: _full_clean(group, errors, exclude=["organization", "custom"]),
    lambda group: group,
)
STRUCTURE = RecordKind(
    Structure,
    STRUCTURE_FIELDS,
    CustomField.Target.STRUCTURE,
    _validate_structure,
    _normalize_structure,
)


@transaction.atomic
def create_contact(
    *,
    organization: Organization,
    actor: Actor,
    data: dict[str, Any],
    custom: dict[str, Any] | None = None,
    labels: Sequence[Label] = (),
    membership: Membership | None = None,
    allow_duplicate_email: bool = False,
) -> Contact:
    """A new contact. An email another contact already has raises DuplicateEmail."""

    def before_save(contact: Contact) -> None:
        if not allow_duplicate_email:
            existing = find_by_email(organization=organization, email=contact.email)
            if existing is not None:
                raise DuplicateEmail(existing)
        if contact.email_consent and not contact.email_consent_date:
            contact.email_consent_date = timezone.now()

    contact = _write_record(
        CONTACT,
        organization=organization,
        actor=actor,
        record=Contact(organization=organization),
        data=data,
        custom=custom,
        membership=membership,
        creating=True,
        before_save=before_save,
    )
    if labels:
        add_labels(
            organization=organization,
            actor=actor,
            model=Contact,
            ids=[contact.pk],
            labels=labels,
            audit=False,
        )
    return contact


@transaction.atomic
def update_contact(
    *,
    organization: Organization,
    actor: Actor,
    contact: Contact,
    data: dict[str, Any],
    custom: dict[str, Any] | None = None,
    membership: Membership | None = None,
) -> Contact:
    """Change a contact's fields and custom values; the audit row lists what changed."""
    return _write_record(
        CONTACT,
        organization=organization,
        actor=actor,
        record=contact,
        data=data,
        custom=custom,
        membership=membership,
        creating=False,
    )


@transaction.atomic
def create_structure(
    *,
    organization: Organization,
    actor: Actor,
    data: dict[str, Any],
    custom: dict[str, Any] | None = None,
    labels: Sequence[Label] = (),
    membership: Membership | None = None,
) -> Structure:
    structure = _write_record(
        STRUCTURE,
        organization=organization,
        actor=actor,
        record=Structure(organization=organization),
        data=data,
        custom=custom,
        membership=membership,
        creating=True,
    )
    if labels:
        add_labels(
            organization=organization,
            actor=actor,
            model=Structure,
            ids=[structure.pk],
            labels=labels,
            audit=False,
        )
    return structure


@transaction.atomic
def update_structure(
    *,
    organization: Organization,
    actor: Actor,
    structure: Structure,
    data: dict[str, Any],
    custom: dict[str, Any] | None = None,
    membership: Membership | None = None,
) -> Structure:
    return _write_record(
        STRUCTURE,
        organization=organization,
        actor=actor,
        record=structure,
        data=data,
        custom=custom,
        membership=membership,
        creating=False,
    )


# Trash ----------------------------------------------------------------------------------


def _trash_model(model: type[Contact] | type[Structure]):
    if model not in (Contact, Structure):
        raise ValueError(model)
    return model


@transaction.atomic
def trash(
    *, organization: Organization, actor: Actor, model: type[models.Model], ids: Iterable[int]
) -> int:
    """Send contacts or structures to the trash; restorable for 30 days. Returns the count."""
    rows = (
        _trash_model(model).objects.for_org(organization).filter(pk__in=list(ids), is_deleted=False)
    )
    touched = list(rows.values_list("pk", flat=True))
    if not touched:
        return 0
    now = timezone.now()
    model.objects.for_org(organization).filter(pk__in=touched).update(
        is_deleted=True, deleted_at=now, updated_at=now
    )
    _bulk_events(
        organization=organization,
        actor=actor,
        model=model,
        rows=_reprs(model, organization, touched),
        action=AuditEvent.Action.DELETE,
        changes={"is_deleted": [False, True]},
    )
    return len(touched)


@transaction.atomic
def restore(
    *, organization: Organization, actor: Actor, model: type[models.Model], ids: Iterable[int]
) -> int:
    rows = (
        _trash_model(model).objects.for_org(organization).filter(pk__in=list(ids), is_deleted=True)
    )
    touched = list(rows)
    if not touched:
        return 0
    model.objects.for_org(organization).filter(pk__in=[r.pk for r in touched]).update(
        is_deleted=False, deleted_at=None, updated_at=timezone.now()
    )
    _bulk_events(
        organization=organization,
        actor=actor,
        model=model,
        rows=[(r.pk, str(r)) for r in touched],
        action=AuditEvent.Action.UPDATE,
        changes={"is_deleted": [True, False]},
    )
    return len(touched)


def purge_trash(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Nightly: delete for good what has been in the trash for more than 30 days.

    A contact or structure that a protected record still points to (a payment,
    a membership period) stays in the trash: payments are never deleted with
    their payer.
    """
    limit = (now or timezone.now()) - dt.timedelta(days=TRASH_DAYS)
    purged: dict[str, int] = {}
    for model in (Contact, Structure):
        expired = model.objects.filter(is_deleted=True, deleted_at__lt=limit)
        for relation in model._meta.related_objects:
            if relation.on_delete is models.PROTECT:
                expired = expired.exclude(
                    models.Exists(
                        relation.related_model.objects.filter(
                            **{relation.field.name: models.OuterRef("pk")}
                        )
                    )
                )
        with transaction.atomic():
            _count, per_model = expired.delete()
        purged[model._meta.model_name] = per_model.get(model._meta.label, 0)
    return purged


# Labels ---------------------------------------------------------------------------------

LABEL_LINKS = {Contact: (ContactLabel, "contact_id"), Structure: (StructureLabel, "structure_id")}


@transaction.atomic
def save_label(
    *, organization: Organization, actor: Actor, label: Label | None = None, name: str, color: str
) -> Label:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Le nom de l'étiquette est obligatoire."})
    others = Label.objects.for_org(organization).filter(name__iexact=name)
    if label is not None:
        others = others.exclude(pk=label.pk)
    if others.exists():
        raise ValidationError({"name": f"L'étiquette « {name} » existe déjà."})
    creating = label is None
    before = {} if creating else snapshot(label, ["name", "color"])
    label = label or Label(organization=organization)
    label.name, label.color = name, color
    errors: dict[str, list[str]] = {}
    _full_clean(label, errors, exclude=["organization"])
    if errors:
        raise ValidationError(errors)
    label.save()
    changes = diff(before, snapshot(label, ["name", "color"]))
    if changes:
        record_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE,
            target=label,
            changes=changes,
        )
    return label


@transaction.atomic
def delete_label(*, organization: Organization, actor: Actor, label: Label) -> int:
    """Delete a label and detach it everywhere; returns how many records carried it."""
    count = (
        Contact.objects.for_org(organization)
        .not_deleted()
        .filter(label_links__label=label)
        .distinct()
        .count()
        + Structure.objects.for_org(organization)
        .not_deleted()
        .filter(label_links__label=label)
        .distinct()
        .count()
    )
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.DELETE,
        target=label,
        changes={"attachments": [count, 0]},
    )
    label.delete()
    return count


def resolve_labels(*, organization: Organization, refs: Iterable[int | str]) -> list[Label]:
    """Labels given by id or by name (case-insensitive); unknown ones are an error."""
    labels: list[Label] = []
    missing: list[str] = []
    for ref in refs:
        query = Label.objects.for_org(organization)
        if isinstance(ref, int) or as_id(ref) is not None:
            label = query.filter(pk=as_id(ref)).first()
        else:
            label = query.filter(name__iexact=str(ref).strip()).first()
        if label is None:
            missing.append(str(ref))
        elif label not in labels:
            labels.append(label)
    if missing:
        raise ValidationError({"labels": [f"Étiquette inconnue : « {ref} »." for ref in missing]})
    return labels


@transaction.atomic
def add_labels(
    *,
    organization: Organization,
    actor: Actor,
    model: type[models.Model],
    ids: Iterable[int],
    labels: Sequence[Label],
    origin: str = LabelOrigin.MANUAL,
    audit: bool = True,
) -> int:
    """Attach labels to many records at once; already attached ones are left as they are."""
    link_model, column = LABEL_LINKS[model]
    ids = list(
        model.objects.for_org(organization).filter(pk__in=list(ids)).values_list("pk", flat=True)
    )
    if not ids or not labels:
        return 0
    existing = set(
        link_model.objects.for_org(organization)
        .filter(**{f"{column}__in": ids}, label__in=labels, origin=origin)
        .values_list(column, "label_id")
    )
    now = timezone.now()
    new = [
        link_model(
            organization=organization, label=label, origin=origin, created_at=now, **{column: pk}
        )
        for pk in ids
        for label in labels
        if (pk, label.pk) not in existing
    ]
    link_model.objects.bulk_create(new, batch_size=1000)
    if audit and new:
        added = ", ".join(label.name for label in labels)
        touched = sorted({getattr(link, column) for link in new})
        _bulk_events(
            organization=organization,
            actor=actor,
            model=model,
            rows=_reprs(model, organization, touched),
            action=AuditEvent.Action.UPDATE,
            changes={"labels": [None, f"+ {added}"]},
        )
    return len(new)


@transaction.atomic
def remove_labels(
    *,
    organization: Organization,
    actor: Actor,
    model: type[models.Model],
    ids: Iterable[int],
    labels: Sequence[Label],
    origin: str = LabelOrigin.MANUAL,
) -> int:
    """Detach labels of one origin: rules remove automatic ones, people manual ones."""
    link_model, column = LABEL_LINKS[model]
    links = link_model.objects.for_org(organization).filter(
        **{f"{column}__in": list(ids)}, label__in=labels, origin=origin
    )
    touched = sorted(set(links.values_list(column, flat=True)))
    removed = links.delete()[0]
    if touched:
        names = ", ".join(label.name for label in labels)
        _bulk_events(
            organization=organization,
            actor=actor,
            model=model,
            rows=_reprs(model, organization, touched),
            action=AuditEvent.Action.UPDATE,
            changes={"labels": [f"- {names}", None]},
        )
    return removed


# Custom field definitions ---------------------------------------------------------------

DEFINITION_FIELDS = [
    "name",
    "field_type",
    "choices",
    "required",
    "help_text",
    "position",
    "sensitive",
]
TARGET_MODELS = {
    CustomField.Target.CONTACT: Contact,
    CustomField.Target.STRUCTURE: Structure,
    CustomField.Target.GROUP: Group,
}


def target_model(target: str) -> type[models.Model] | None:
    if target == CustomField.Target.PAYMENT:
        from lien.payments.models import Payment

        return Payment
    return TARGET_MODELS.get(target)


def _unique_key(organization: Organization, target: str, name: str) -> str:
    base = slugify(name).replace("-", "_")[:50] or "champ"
    existing = set(
        CustomField.objects.for_org(organization)
        .filter(target=target)
        .values_list("key", flat=True)
    )
    key, n = base, 1
    while key in existing:
        n += 1
        key = f"{base}_{n}"
    return key


def _clean_choices(choices: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for choice in choices:
        choice = " ".join(str(choice).split())
        if choice and choice.casefold() not in {c.casefold() for c in cleaned}:
            cleaned.append(choice)
    return cleaned


@transaction.atomic
def save_custom_field(
    *,
    organization: Organization,
    actor: Actor,
    field: CustomField | None = None,
    target: str | None = None,
    name: str,
    field_type: str,
    choices: Iterable[str] = (),
    required: bool = False,
    help_text: str = "",
    position: int | None = None,
    sensitive: bool = False,
) -> CustomField:
    """Create or change a definition. The key never changes, so renaming keeps every value.

    A choice that disappears from the list is only allowed when no record uses
    it: rename it with `rename_choice` instead, which carries the values along.
    """
    creating = field is None
    if creating:
        if target not in CustomField.Target.values:
            raise ValidationError({"target": "Cible inconnue."})
        field = CustomField(organization=organization, target=target)
        field.key = _unique_key(organization, target, name)
    elif field_type != field.field_type:
        raise ValidationError(
            {"field_type": "Le type d'un champ ne change pas : créez un nouveau champ."}
        )
    before = {} if creating else snapshot(field, DEFINITION_FIELDS)
    choices = _clean_choices(choices)
    if field_type in (CustomField.FieldType.CHOICE, CustomField.FieldType.MULTIPLE_CHOICE):
        if not choices:
            raise ValidationError({"choices": "Indiquez au moins un choix possible."})
        if not creating:
            dropped = [c for c in field.choices if c not in choices]
            in_use = [c for c in dropped if _choice_in_use(field, c)]
            if in_use:
                raise ValidationError(
                    {
                        "choices": "Des fiches utilisent encore "
                        + ", ".join(f"« {c} »" for c in in_use)
                        + " : renommez ce choix plutôt que de le retirer."
                    }
                )
    else:
        choices = []
    field.name = " ".join(name.split())
    if not field.name:
        raise ValidationError({"name": "Le nom du champ est obligatoire."})
    field.field_type = field_type
    field.choices = choices
    field.required = required
    field.help_text = help_text
    field.sensitive = sensitive
    if position is None and creating:
        position = CustomField.objects.for_org(organization).filter(target=field.target).count() + 1
    if position is not None:
        field.position = position
    errors: dict[str, list[str]] = {}
    _full_clean(field, errors, exclude=["organization", "key"])
    if errors:
        raise ValidationError(errors)
    field.save()
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE,
        target=field,
        changes=diff(before, snapshot(field, DEFINITION_FIELDS)),
    )
    return field


def _rows_using(field: CustomField):
    model = target_model(field.target)
    return model.objects.for_org(field.organization_id).filter(custom__has_key=field.key)


def _choice_in_use(field: CustomField, choice: str) -> bool:
    for custom in _rows_using(field).values_list("custom", flat=True).iterator(chunk_size=2000):
        value = custom.get(field.key)
        if value == choice or (isinstance(value, list) and choice in value):
            return True
    return False


def count_values(field: CustomField) -> int:
    """How many records hold a value for this field (said before deleting it)."""
    return _rows_using(field).count()


@transaction.atomic
def rename_choice(
    *, organization: Organization, actor: Actor, field: CustomField, old: str, new: str
) -> int:
    """Rename a choice everywhere it is used; returns how many records changed."""
    new = " ".join(new.split())
    old = parse_choice(field, old)
    if not new:
        raise ValidationError({"new": "Le nouveau nom du choix est obligatoire."})
    if new.casefold() != old.casefold() and any(
        c.casefold() == new.casefold() for c in field.choices
    ):
        raise ValidationError({"new": f"Le choix « {new} » existe déjà."})
    field.choices = [new if c == old else c for c in field.choices]
    field.save(update_fields=["choices"])
    model = target_model(field.target)
    changed = []
    for row in _rows_using(field).only("pk", "custom").iterator(chunk_size=2000):
        value = row.custom.get(field.key)
        if value == old:
            row.custom[field.key] = new
        elif isinstance(value, list) and old in value:
            row.custom[field.key] = [new if v == old else v for v in value]
        else:
            continue
        changed.append(row)
    model.objects.bulk_update(changed, ["custom"], batch_size=1000)
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=field,
        changes={"choices": [old, new], "records": [None, len(changed)]},
    )
    return len(changed)


@transaction.atomic
def delete_custom_field(*, organization: Organization, actor: Actor, field: CustomField) -> int:
    """Delete a definition and its values; returns how many records lost a value."""
    model = target_model(field.target)
    rows = []
    for row in _rows_using(field).only("pk", "custom").iterator(chunk_size=2000):
        row.custom.pop(field.key, None)
        rows.append(row)
    model.objects.bulk_update(rows, ["custom"], batch_size=1000)
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.DELETE,
        target=field,
        changes={"values": [len(rows), 0]},
    )
    field.delete()
    return len(rows)


# Groups ---------------------------------------------------------------------------------


@transaction.atomic
def save_group(
    *,
    organization: Organization,
    actor: Actor,
    group: Group | None = None,
    name: str,
    description: str = "",
    custom: dict[str, Any] | None = None,
    membership: Membership | None = None,
) -> Group:
    """Create or change a group and its own field values (one value per field)."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Le nom du groupe est obligatoire."})
    others = Group.objects.for_org(organization).filter(name__iexact=name)
    if group is not None:
        others = others.exclude(pk=group.pk)
    if others.exists():
        raise ValidationError({"name": f"Le groupe « {name} » existe déjà."})
    return _write_record(
        GROUP,
        organization=organization,
        actor=actor,
        record=group or Group(organization=organization),
        data={"name": name, "description": description},
        custom=custom,
        membership=membership,
        creating=group is None,
    )


@transaction.atomic
def delete_group(*, organization: Organization, actor: Actor, group: Group) -> int:
    """Delete a group (its members stay in the CRM); returns its member count."""
    count = group.memberships.filter(
        Q(contact__is_deleted=False) | Q(structure__is_deleted=False)
    ).count()
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.DELETE,
        target=group,
        changes={"members": [count, 0]},
    )
    group.delete()
    return count


@transaction.atomic
def add_to_group(
    *,
    organization: Organization,
    actor: Actor,
    group: Group,
    contact_ids: Iterable[int] = (),
    structure_ids: Iterable[int] = (),
) -> int:
    """Add many contacts and structures at once; those already in are left alone."""
    added = 0
    for column, model, ids in [
        ("contact_id", Contact, contact_ids),
        ("structure_id", Structure, structure_ids),
    ]:
        valid = set(
            model.objects.for_org(organization)
            .not_deleted()
            .filter(pk__in=list(ids))
            .values_list("pk", flat=True)
        )
        already = set(
            GroupMembership.objects.for_org(organization)
            .filter(group=group, **{f"{column}__in": valid})
            .values_list(column, flat=True)
        )
        new = [
            GroupMembership(organization=organization, group=group, **{column: pk})
            for pk in sorted(valid - already)
        ]
        GroupMembership.objects.bulk_create(new, batch_size=1000)
        added += len(new)
        if new:
            _bulk_events(
                organization=organization,
                actor=actor,
                model=model,
                rows=_reprs(model, organization, [getattr(m, column) for m in new]),
                action=AuditEvent.Action.UPDATE,
                changes={"groups": [None, f"+ {group.name}"]},
            )
    return added


@transaction.atomic
def remove_from_group(
    *,
    organization: Organization,
    actor: Actor,
    group: Group,
    contact_ids: Iterable[int] = (),
    structure_ids: Iterable[int] = (),
) -> int:
    removed = 0
    for column, model, ids in [
        ("contact_id", Contact, list(contact_ids)),
        ("structure_id", Structure, list(structure_ids)),
    ]:
        if not ids:
            continue
        links = GroupMembership.objects.for_org(organization).filter(
            group=group, **{f"{column}__in": ids}
        )
        touched = sorted(set(links.values_list(column, flat=True)))
        removed += links.delete()[0]
        if touched:
            _bulk_events(
                organization=organization,
                actor=actor,
                model=model,
                rows=_reprs(model, organization, touched),
                action=AuditEvent.Action.UPDATE,
                changes={"groups": [f"- {group.name}", None]},
            )
    return removed


# Contact ↔ structure links --------------------------------------------------------------


@transaction.atomic
def save_structure_link(
    *,
    organization: Organization,
    actor: Actor,
    contact: Contact,
    structure: Structure,
    link: ContactStructureLink | None = None,
    role: str = "",
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    is_main: bool = False,
) -> ContactStructureLink:
    """Link a contact to a structure; making it main un-marks the contact's other main link."""
    if contact.organization_id != organization.pk or structure.organization_id != organization.pk:
        raise ValidationError("Contact ou structure inconnu.")
    if start_date and end_date and end_date < start_date:
        raise ValidationError({"end_date": "La date de fin précède la date de début."})
    creating = link is None
    link = link or ContactStructureLink(organization=organization, contact=contact)
    link.structure = structure
    link.role, link.start_date, link.end_date, link.is_main = (
        role.strip(),
        start_date,
        end_date,
        is_main,
    )
    if is_main:
        ContactStructureLink.objects.for_org(organization).filter(
            contact=contact, is_main=True
        ).exclude(pk=link.pk).update(is_main=False)
    link.save()
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=contact,
        changes={
            "structure": [None if creating else "", f"{structure.name} ({link.role or 'lien'})"]
        },
    )
    return link


@transaction.atomic
def delete_structure_link(
    *, organization: Organization, actor: Actor, link: ContactStructureLink
) -> None:
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=link.contact,
        changes={"structure": [link.structure.name, None]},
    )
    link.delete()


# Households -----------------------------------------------------------------------------


@transaction.atomic
def save_household(
    *,
    organization: Organization,
    actor: Actor,
    household: Household | None = None,
    name: str,
    address: dict[str, str] | None = None,
) -> Household:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Le nom du foyer est obligatoire."})
    creating = household is None
    household = household or Household(organization=organization)
    before = {} if creating else snapshot(household, ["name", *ADDRESS_FIELDS])
    household.name = name
    for field, value in (address or {}).items():
        if field not in ADDRESS_FIELDS:
            raise ValidationError({field: f"Champ inconnu : « {field} »."})
        setattr(household, field, value or "")
    household.country = (household.country or "FR").upper()
    errors: dict[str, list[str]] = {}
    _full_clean(household, errors, exclude=["organization"])
    if errors:
        raise ValidationError(errors)
    household.save()
    changes = diff(before, snapshot(household, ["name", *ADDRESS_FIELDS]))
    if changes:
        record_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE,
            target=household,
            changes=changes,
        )
    return household


@transaction.atomic
def set_household(
    *,
    organization: Organization,
    actor: Actor,
    contacts: Sequence[Contact],
    household: Household | None,
) -> int:
    """Put contacts in a household (or take them out with None)."""
    ids = [c.pk for c in contacts if c.organization_id == organization.pk]
    if household is not None and household.organization_id != organization.pk:
        raise ValidationError("Foyer inconnu.")
    rows = Contact.objects.for_org(organization).filter(pk__in=ids)
    before = list(rows.select_related("household"))
    count = rows.update(household=household, updated_at=timezone.now())
    new_name = household.name if household else None
    # One event per contact, each with the household it left.
    content_type = ContentType.objects.get_for_model(Contact)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                organization=organization,
                actor_kind=actor.kind,
                actor_user=actor.user if getattr(actor.user, "pk", None) else None,
                actor_label=actor.label[:200],
                action=AuditEvent.Action.UPDATE,
                target_type=content_type,
                target_id=contact.pk,
                target_repr=str(contact)[:250],
                changes={
                    "household": [contact.household.name if contact.household else None, new_name]
                },
            )
            for contact in before
        ],
        batch_size=500,
    )
    return count


@transaction.atomic
def apply_household_address(
    *, organization: Organization, actor: Actor, household: Household
) -> int:
    """Copy the household's address onto every member, in one statement."""
    address = {field: getattr(household, field) for field in ADDRESS_FIELDS}
    members = Contact.objects.for_org(organization).not_deleted().filter(household=household)
    rows = list(members.values_list("pk", "first_name", "last_name"))
    count = members.update(**address, updated_at=timezone.now())
    _bulk_events(
        organization=organization,
        actor=actor,
        model=Contact,
        rows=[(pk, f"{first} {last}".strip()) for pk, first, last in rows],
        action=AuditEvent.Action.UPDATE,
        changes={"address": [None, ", ".join(v for v in address.values() if v)]},
    )
    return count


@transaction.atomic
def delete_household(*, organization: Organization, actor: Actor, household: Household) -> None:
    """Delete a household; its members stay, without a household."""
    record_event(
        organization=organization, actor=actor, action=AuditEvent.Action.DELETE, target=household
    )
    household.delete()
