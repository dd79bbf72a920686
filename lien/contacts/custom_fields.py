"""Custom field values: validated against their definitions on every write path.

Values live in the target row's `custom` JSON, keyed by the definition's stable
`key`. Each type has one canonical stored form:

    text, long_text, choice, email, url → str      integer → int
    decimal → float        date → "YYYY-MM-DD"      boolean → bool
    multiple_choice → [str, …]                      phone → E.164 str

Forms, the API and imports all call `clean_custom_values()`, so a value is
accepted or refused with the same French message wherever it comes from.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

from lien.contacts.models import CustomField
from lien.contacts.normalize import normalize_phone
from lien.core.models import Membership, Organization
from lien.core.rights import hides_sensitive_fields

FieldType = CustomField.FieldType
TEXT_LIMITS = {FieldType.TEXT: 500, FieldType.LONG_TEXT: 10_000}
TRUE_WORDS = {"1", "true", "vrai", "oui", "o", "yes", "y", "x"}
FALSE_WORDS = {"0", "false", "faux", "non", "n", "no"}
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y"]


def definitions(
    *, organization: Organization, target: str, membership: Membership | None = None
) -> list[CustomField]:
    """The target's definitions in display order, without the sensitive ones if hidden."""
    fields = CustomField.objects.for_org(organization).filter(target=target)
    if membership is not None and hides_sensitive_fields(membership):
        fields = fields.filter(sensitive=False)
    return list(fields.order_by("position", "name"))


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def parse_value(field: CustomField, value: Any) -> Any:
    """The canonical stored form of `value`, or ValidationError with a French reason."""
    kind = field.field_type
    if kind in TEXT_LIMITS:
        text = str(value).strip()
        if len(text) > TEXT_LIMITS[kind]:
            raise ValidationError(f"{TEXT_LIMITS[kind]} caractères au plus.")
        return text
    if kind == FieldType.INTEGER:
        if isinstance(value, bool):
            raise ValidationError("un nombre entier est attendu.")
        if isinstance(value, int):
            return value
        text = str(value).strip().replace("\u202f", "").replace(" ", "")
        try:
            return int(text)
        except ValueError as error:
            raise ValidationError(f"« {value} » n'est pas un nombre entier.") from error
    if kind == FieldType.DECIMAL:
        if isinstance(value, bool):
            raise ValidationError("un nombre est attendu.")
        text = str(value).strip().replace("\u202f", "").replace(" ", "").replace(",", ".")
        try:
            number = decimal.Decimal(text)
        except decimal.InvalidOperation as error:
            raise ValidationError(f"« {value} » n'est pas un nombre.") from error
        if not number.is_finite():
            raise ValidationError(f"« {value} » n'est pas un nombre.")
        return float(number)
    if kind == FieldType.DATE:
        return parse_date(value).isoformat()
    if kind == FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValidationError(f"« {value} » : oui ou non attendu.")
    if kind == FieldType.CHOICE:
        return parse_choice(field, value)
    if kind == FieldType.MULTIPLE_CHOICE:
        items = (
            value if isinstance(value, list | tuple) else str(value).replace(";", ",").split(",")
        )
        chosen = [parse_choice(field, item) for item in items if str(item).strip()]
        return list(dict.fromkeys(chosen))
    if kind == FieldType.EMAIL:
        email = str(value).strip()
        try:
            EmailValidator()(email)
        except ValidationError as error:
            raise ValidationError(f"« {email} » n'est pas une adresse email valide.") from error
        return email
    if kind == FieldType.PHONE:
        phone = normalize_phone(str(value))
        if not phone:
            raise ValidationError(f"« {value} » n'est pas un numéro de téléphone reconnu.")
        return phone
    if kind == FieldType.URL:
        url = str(value).strip()
        if "://" not in url:
            url = f"https://{url}"
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError as error:
            raise ValidationError(f"« {value} » n'est pas une adresse web valide.") from error
        return url
    raise ValidationError(f"type de champ inconnu : {kind}.")


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValidationError(f"« {value} » n'est pas une date valide (JJ/MM/AAAA).")


def parse_choice(field: CustomField, value: Any) -> str:
    text = str(value).strip()
    for choice in field.choices:
        if choice.casefold() == text.casefold():
            return choice
    allowed = ", ".join(f"« {c} »" for c in field.choices) or "aucun choix défini"
    raise ValidationError(f"« {text} » n'est pas un choix possible ({allowed}).")


def clean_custom_values(
    *,
    organization: Organization,
    target: str,
    values: dict[str, Any],
    existing: dict[str, Any] | None = None,
    membership: Membership | None = None,
    partial: bool = True,
) -> dict[str, Any]:
    """Merge `values` into `existing` after validating each one; the new JSON to store.

    Keys are definition keys. An empty value clears the field. With
    `partial=False` (creation), required fields must be given. A member who may
    not see sensitive fields can neither read nor write them: their keys are
    unknown to them, and the stored sensitive values are kept untouched.
    """
    visible = {
        f.key: f
        for f in definitions(organization=organization, target=target, membership=membership)
    }
    result = dict(existing or {})
    errors: dict[str, list[str]] = {}
    for key, value in (values or {}).items():
        field = visible.get(key)
        if field is None:
            errors.setdefault(f"custom.{key}", []).append(
                f"Champ personnalisé inconnu : « {key} »."
            )
            continue
        if is_empty(value):
            result.pop(key, None)
            continue
        try:
            result[key] = parse_value(field, value)
        except ValidationError as error:
            errors.setdefault(f"custom.{key}", []).append(f"« {field.name} » : {error.messages[0]}")
    for key, field in visible.items():
        if field.required and is_empty(result.get(key)) and (not partial or key in values):
            errors.setdefault(f"custom.{key}", []).append(f"« {field.name} » est obligatoire.")
    if errors:
        raise ValidationError(errors)
    return result


def visible_values(
    *,
    organization: Organization,
    target: str,
    custom: dict[str, Any],
    membership: Membership | None,
) -> dict[str, Any]:
    """The stored values a member may see: sensitive ones dropped when hidden."""
    if membership is None or not hides_sensitive_fields(membership):
        return dict(custom)
    hidden = set(
        CustomField.objects.for_org(organization)
        .filter(target=target, sensitive=True)
        .values_list("key", flat=True)
    )
    return {k: v for k, v in custom.items() if k not in hidden}


def display_value(field: CustomField, value: Any) -> str:
    """A stored value as people read it in French."""
    if is_empty(value):
        return ""
    kind = field.field_type
    if kind == FieldType.BOOLEAN:
        return "Oui" if value else "Non"
    if kind == FieldType.DATE:
        try:
            return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
        except (TypeError, ValueError):
            return str(value)
    if kind == FieldType.MULTIPLE_CHOICE:
        return ", ".join(value) if isinstance(value, list) else str(value)
    if kind == FieldType.DECIMAL:
        return f"{value:g}".replace(".", ",") if isinstance(value, int | float) else str(value)
    return str(value)


def sensitive_change_keys(organization: Organization, membership: Membership | None) -> set[str]:
    """History entries (`custom.<key>`) of sensitive fields, for a member who may not see them."""
    if membership is not None and not hides_sensitive_fields(membership):
        return set()
    return {
        f"custom.{key}"
        for key in CustomField.objects.for_org(organization)
        .filter(sensitive=True)
        .values_list("key", flat=True)
    }


def custom_change_labels(organization: Organization) -> dict[str, str]:
    """History keys `custom.<key>` → the field's current name."""
    return {
        f"custom.{key}": name
        for key, name in CustomField.objects.for_org(organization).values_list("key", "name")
    }
