"""What the import wizard's pages need besides the services: the fields a column can go
to, grouped for a select; the file's distinct values of the dropdown columns; the choice
of skipping the rows in error once a check is done.

The services (lien.imports.services) stay the only writers of an import's mapping and
rows; `allow_error_rows` is the one write here, and it only sets the option the run
reads (a check's counts do not depend on it, so the check stays valid).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from lien.contacts.custom_fields import definitions
from lien.contacts.models import Contact, CustomField, Structure
from lien.core.models import Organization
from lien.imports import headers as header_rules
from lien.imports import services, values
from lien.imports.models import Import, ImportTarget
from lien.imports.rows import CUSTOM_PREFIX, CUSTOM_TARGETS
from lien.interactions.models import InteractionStatus
from lien.payments.models import Payment, PaymentKind

IGNORE = ""
NEW_FIELD = "__nouveau__"
SAMPLE_ROWS = 2000  # rows read for the distinct values of a dropdown column
MAX_DISTINCT = 30
TARGET_TITLES = {
    ImportTarget.CONTACTS: "contacts",
    ImportTarget.STRUCTURES: "structures",
    ImportTarget.INTERACTIONS: "interactions",
    ImportTarget.PAYMENTS: "paiements",
}
# Native fields read as a choice among fixed values (a value mapping applies to them).
NATIVE_CHOICES: dict[str, dict[str, Any]] = {
    ImportTarget.CONTACTS: {"civility": Contact.Civility.choices},
    ImportTarget.STRUCTURES: {"kind": Structure.Kind.choices},
    ImportTarget.INTERACTIONS: {"status": InteractionStatus.choices},
    ImportTarget.PAYMENTS: {
        "kind": PaymentKind.choices,
        "method": Payment.Method.choices,
        "status": Payment.Status.choices,
        "frequency": Payment.Frequency.choices,
    },
}
DATE_FORMATS = [
    ("", "Détection automatique"),
    ("%d/%m/%Y", "JJ/MM/AAAA (31/12/2024)"),
    ("%d/%m/%y", "JJ/MM/AA (31/12/24)"),
    ("%d-%m-%Y", "JJ-MM-AAAA (31-12-2024)"),
    ("%d.%m.%Y", "JJ.MM.AAAA (31.12.2024)"),
    ("%Y-%m-%d", "AAAA-MM-JJ (2024-12-31)"),
    ("%m/%d/%Y", "MM/JJ/AAAA, à l'américaine (12/31/2024)"),
]
CUSTOM_TYPES = [
    (value, label)
    for value, label in CustomField.FieldType.choices
    if value not in (CustomField.FieldType.LONG_TEXT,)
]


def custom_fields(organization: Organization, target: str) -> list[CustomField]:
    custom_target = CUSTOM_TARGETS.get(target)
    return definitions(organization=organization, target=custom_target) if custom_target else []


def field_choices(organization: Organization, target: str) -> list[tuple[str, Any]]:
    """The select of a column: « Ignorer », the target's fields, its custom fields, and
    « Créer un champ personnalisé » where the target has some."""
    groups: list[tuple[str, Any]] = [(IGNORE, "Ignorer cette colonne")]
    groups.append(
        (
            f"Champs des {TARGET_TITLES[target]}",
            [(item.key, item.label) for item in header_rules.FIELDS[target]],
        )
    )
    if target in CUSTOM_TARGETS:
        customs = [(f"{CUSTOM_PREFIX}{f.key}", f.name) for f in custom_fields(organization, target)]
        if customs:
            groups.append(("Champs personnalisés", customs))
        groups.append(("Nouveau", [(NEW_FIELD, "Créer un champ personnalisé…")]))
    return groups


def field_labels(organization: Organization, target: str) -> dict[str, str]:
    labels = {item.key: item.label for item in header_rules.FIELDS[target]}
    for custom in custom_fields(organization, target):
        labels[f"{CUSTOM_PREFIX}{custom.key}"] = custom.name
    return labels


@dataclass
class Column:
    """One column of the file as the mapping page shows it."""

    index: int
    header: str
    samples: list[str]
    key: str = IGNORE


@dataclass
class ValueChoice:
    """The file's distinct values of a dropdown column and the choice each goes to."""

    key: str
    header: str
    label: str
    choices: list[tuple[str, str]]
    values: list[tuple[str, str, str]] = field(default_factory=list)  # (value, chosen, auto)
    more: bool = False


def columns(imp: Import, preview: dict[str, Any]) -> list[Column]:
    """Each column with up to three non-empty sample values of the preview."""
    result = []
    for index, header in enumerate(imp.headers):
        samples: list[str] = []
        for row in preview.get("rows", []):
            cells = row["cells"]
            text = cells[index].strip() if index < len(cells) else ""
            if text and text not in samples:
                samples.append(text)
            if len(samples) >= 3:
                break
        result.append(Column(index, header, samples, imp.mapping.get(str(index), IGNORE)))
    return result


def _choices_of(organization: Organization, imp: Import, key: str) -> list[tuple[str, str]]:
    if key.startswith(CUSTOM_PREFIX):
        wanted = key[len(CUSTOM_PREFIX) :]
        for custom in custom_fields(organization, imp.target):
            if custom.key == wanted and custom.field_type in (
                CustomField.FieldType.CHOICE,
                CustomField.FieldType.MULTIPLE_CHOICE,
            ):
                return [(c, c) for c in custom.choices]
        return []
    return [(str(v), str(label)) for v, label in NATIVE_CHOICES[imp.target].get(key, [])]


def _automatic(key: str, text: str, choices: list[tuple[str, str]]) -> str:
    """The choice a value goes to without any mapping, or ""."""
    try:
        return values.parse_choice(
            text, choices, synonyms=values.CHOICE_SYNONYMS.get(key.removeprefix("contact_"))
        )
    except values.CellError:
        return ""


def value_choices(imp: Import) -> list[ValueChoice]:
    """The dropdown columns of the mapping, each with the distinct values of the file's
    first SAMPLE_ROWS rows (MAX_DISTINCT at most) and the choice each goes to."""
    organization = imp.organization
    labels = field_labels(organization, imp.target)
    wanted: dict[int, ValueChoice] = {}
    for column, key in sorted(imp.mapping.items(), key=lambda item: int(item[0])):
        choices = _choices_of(organization, imp, key)
        if choices:
            header = imp.headers[int(column)] if int(column) < len(imp.headers) else column
            wanted[int(column)] = ValueChoice(key, header, labels.get(key, key), choices)
    if not wanted:
        return []
    seen: dict[int, list[str]] = {index: [] for index in wanted}
    multiple = {
        index
        for index, item in wanted.items()
        if item.key.startswith(CUSTOM_PREFIX)
        and any(
            f.key == item.key[len(CUSTOM_PREFIX) :]
            and f.field_type == CustomField.FieldType.MULTIPLE_CHOICE
            for f in custom_fields(organization, imp.target)
        )
    }
    try:
        with services.opened(imp) as table:
            for count, row in enumerate(table.rows()):
                if count >= SAMPLE_ROWS:
                    break
                for index, found in seen.items():
                    cell = row.cells[index] if index < len(row.cells) else ""
                    text = "" if cell is None else str(cell).strip()
                    parts = (
                        [p.strip() for p in text.replace(";", ",").split(",")]
                        if index in multiple
                        else [text]
                    )
                    for part in parts:
                        if not part or part in found:
                            continue
                        if len(found) >= MAX_DISTINCT:
                            wanted[index].more = True
                            continue
                        found.append(part)
    except ValidationError:
        return []
    chosen_maps = imp.transforms.get("choices") or {}
    for index, item in wanted.items():
        given = chosen_maps.get(item.key) or {}
        mapped = {str(k).strip().casefold(): v for k, v in given.items()}
        for text in sorted(seen[index], key=str.casefold):
            item.values.append(
                (text, mapped.get(text.casefold(), ""), _automatic(item.key, text, item.choices))
            )
    return [item for item in wanted.values() if item.values]


@transaction.atomic
def allow_error_rows(*, organization: Organization, imp: Import, skip: bool) -> Import:
    """« Ignorer les lignes en erreur », chosen after the check: the option is set without
    asking for a new check (the check's counts and errors do not depend on it)."""
    locked = Import.objects.for_org(organization).select_for_update().get(pk=imp.pk)
    if locked.status != Import.Status.CHECKED:
        raise ValidationError("Vérifiez le fichier avant de lancer l'import.")
    locked.options = {**locked.options, "skip_errors": bool(skip)}
    locked.save(update_fields=["options"])
    return locked
