"""« Exporter toutes mes données »: the organisation's data set as a ZIP of CSV files.

One file per table, with the ids that join them (`contact_id` in `liens_contacts_structures.csv`
is the `id` of `contacts.csv`). Headers are the stable technical names of the fields, so
that a script or another tool can read the archive; values are written like every other
export (French CSV: UTF-8 with BOM, « ; », dates dd/mm/yyyy, Oui/Non, text neutralised).

Each table is included only if the member may view its data type: payments, campaigns
and membership periods are left out for a profile that hides payment data, sensitive
custom fields for one that hides them. Files are streamed into the ZIP (one entry open
at a time, rows read by keyset chunks): memory stays bounded however large the data set.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.utils import timezone

from lien.contacts import custom_fields
from lien.contacts.models import (
    Contact,
    ContactLabel,
    ContactStructureLink,
    CustomField,
    ExternalId,
    Group,
    GroupMembership,
    Household,
    Label,
    Structure,
    StructureLabel,
)
from lien.core.models import Membership, Organization
from lien.core.rights import can, hides_sensitive_fields
from lien.exports.cells import Money, as_text
from lien.exports.services import CHUNK
from lien.exports.tables import custom_value
from lien.interactions.models import (
    Interaction,
    InteractionCategory,
    InteractionLabel,
    InteractionType,
)
from lien.payments.models import Campaign, MembershipPeriod, Payment, PaymentLabel
from lien.search.models import Segment

PROGRESS_EVERY = 20_000  # rows of one file between two progress messages


def euros(cents: Any) -> Any:
    return Money.from_cents(cents)


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Dump:
    """One CSV file of the archive: a table's rows, the fields that make its columns."""

    name: str
    model: type[Model]
    fields: list[str]
    rights: tuple[str, ...]  # the data types the member must be able to view
    custom_target: str = ""
    convert: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # a field's column, if renamed

    @property
    def title(self) -> str:
        return TITLES.get(self.name, self.name)


TITLES = {
    "contacts.csv": "Contacts",
    "structures.csv": "Structures",
    "liens_contacts_structures.csv": "Liens contact – structure",
    "foyers.csv": "Foyers",
    "etiquettes.csv": "Étiquettes",
    "etiquettes_contacts.csv": "Étiquettes des contacts",
    "etiquettes_structures.csv": "Étiquettes des structures",
    "champs_personnalises.csv": "Champs personnalisés",
    "groupes.csv": "Groupes",
    "membres_groupes.csv": "Membres des groupes",
    "types_interaction.csv": "Types d'interaction",
    "categories_interaction.csv": "Catégories d'interaction",
    "libelles_interaction.csv": "Libellés d'interaction",
    "interactions.csv": "Interactions",
    "campagnes.csv": "Campagnes",
    "paiements.csv": "Paiements",
    "etiquettes_paiements.csv": "Étiquettes des paiements",
    "periodes_adhesion.csv": "Périodes d'adhésion",
    "segments.csv": "Segments",
    "identifiants_externes.csv": "Identifiants externes (HelloAsso, fichiers importés…)",
}


CONTACT_FIELDS = [
    "civility", "first_name", "last_name", "email", "email2", "mobile", "phone", "street",
    "street2", "postal_code", "city", "country", "birth_date", "preferred_language", "notes",
    "email_consent", "email_consent_date", "email_consent_source", "household_id",
    "is_deleted", "deleted_at", "created_at", "updated_at",
]  # fmt: skip
STRUCTURE_FIELDS = [
    "name", "kind", "siren", "siret", "rna", "street", "street2", "postal_code", "city",
    "country", "email", "phone", "website", "notes", "is_deleted", "deleted_at", "created_at",
    "updated_at",
]  # fmt: skip
ADDRESS = ["street", "street2", "postal_code", "city", "country"]

DUMPS: list[Dump] = [
    Dump("contacts.csv", Contact, CONTACT_FIELDS, ("contacts",), CustomField.Target.CONTACT),
    Dump(
        "structures.csv",
        Structure,
        STRUCTURE_FIELDS,
        ("structures",),
        CustomField.Target.STRUCTURE,
    ),
    Dump(
        "liens_contacts_structures.csv",
        ContactStructureLink,
        ["contact_id", "structure_id", "role", "start_date", "end_date", "is_main"],
        ("contacts", "structures"),
    ),
    Dump("foyers.csv", Household, ["name", *ADDRESS, "created_at"], ("contacts",)),
    Dump("etiquettes.csv", Label, ["name", "color", "created_at"], ("contacts",)),
    Dump(
        "etiquettes_contacts.csv",
        ContactLabel,
        ["contact_id", "label_id", "origin", "created_at"],
        ("contacts",),
    ),
    Dump(
        "etiquettes_structures.csv",
        StructureLabel,
        ["structure_id", "label_id", "origin", "created_at"],
        ("structures",),
    ),
    Dump(
        "champs_personnalises.csv",
        CustomField,
        [
            "target",
            "name",
            "key",
            "field_type",
            "choices",
            "required",
            "help_text",
            "position",
            "sensitive",
            "created_at",
        ],
        ("settings",),
        convert={"choices": lambda v: " | ".join(v or [])},
    ),  # fmt: skip
    Dump(
        "groupes.csv",
        Group,
        ["name", "description", "created_at"],
        ("segments",),
        CustomField.Target.GROUP,
    ),
    Dump(
        "membres_groupes.csv",
        GroupMembership,
        ["group_id", "contact_id", "structure_id", "added_at"],
        ("segments", "contacts", "structures"),
    ),
    Dump(
        "types_interaction.csv",
        InteractionType,
        ["name", "default_status", "is_system", "position"],
        ("interactions",),
    ),
    Dump("categories_interaction.csv", InteractionCategory, ["name"], ("interactions",)),
    Dump("libelles_interaction.csv", InteractionLabel, ["name"], ("interactions",)),
    Dump(
        "interactions.csv",
        Interaction,
        [
            "contact_id",
            "occurred_at",
            "type_id",
            "category_id",
            "label_id",
            "description",
            "structure_id",
            "status",
            "source",
            "source_id",
            "recorded_by__email",
            "created_at",
        ],
        ("interactions",),
        headers={"recorded_by__email": "recorded_by"},
    ),  # fmt: skip
    Dump(
        "campagnes.csv",
        Campaign,
        ["name", "kind", "start_date", "end_date", "goal_cents", "description", "created_at"],
        ("payments",),
        convert={"goal_cents": euros},
        headers={"goal_cents": "goal"},
    ),
    Dump(
        "paiements.csv",
        Payment,
        [
            "kind",
            "amount_cents",
            "currency",
            "paid_on",
            "method",
            "status",
            "campaign_id",
            "payer_contact_id",
            "payer_structure_id",
            "beneficiary_id",
            "is_recurring",
            "frequency",
            "source",
            "external_id",
            "notes",
            "created_at",
            "updated_at",
        ],
        ("payments",),
        CustomField.Target.PAYMENT,
        convert={"amount_cents": euros},
        headers={"amount_cents": "amount"},
    ),  # fmt: skip
    Dump("etiquettes_paiements.csv", PaymentLabel, ["payment_id", "label_id"], ("payments",)),
    Dump(
        "periodes_adhesion.csv",
        MembershipPeriod,
        ["contact_id", "payment_id", "start_date", "end_date", "created_at"],
        ("payments",),
    ),
    Dump(
        "segments.csv",
        Segment,
        ["name", "description", "tree", "created_at", "updated_at", "last_count", "last_run_on"],
        ("segments",),
        convert={"tree": as_json},
    ),  # fmt: skip
    Dump(
        "identifiants_externes.csv",
        ExternalId,
        ["source", "external_id", "content_type__model", "object_id", "created_at"],
        ("contacts",),
        headers={"content_type__model": "object_type"},
    ),
]

# External ids name rows of these models; each needs the right of its data type.
EXTERNAL_RIGHTS = {
    "contact": "contacts",
    "structure": "structures",
    "household": "contacts",
    "interaction": "interactions",
    "payment": "payments",
    "campaign": "payments",
    "group": "segments",
}

README = """Données de « {name} » exportées de Lien le {day}.

Un fichier CSV par table (UTF-8 avec BOM, séparateur « ; », dates JJ/MM/AAAA,
montants en euros avec une virgule, Oui/Non). Chaque fichier a une colonne « id » ;
les colonnes « …_id » renvoient à l'« id » d'un autre fichier :
contact_id → contacts.csv, structure_id → structures.csv, label_id → etiquettes.csv,
group_id → groupes.csv, household_id → foyers.csv, type_id → types_interaction.csv,
category_id → categories_interaction.csv, label_id (interactions) → libelles_interaction.csv,
campaign_id → campagnes.csv, payment_id → paiements.csv.
Les valeurs des champs personnalisés sont dans les colonnes « custom.<clé> »
(voir champs_personnalises.csv).

Un texte qui commence par =, +, -, @ est précédé d'une apostrophe : ce n'est pas une
formule. Fichiers inclus selon les droits de {who} : {files}.
"""


def dumps_for(membership: Membership | None) -> list[Dump]:
    return [d for d in DUMPS if all(can(membership, "view", right) for right in d.rights)]


def _rows(dump: Dump, organization: Organization, membership: Membership | None):
    """(header, rows) of one file, rows read by keyset chunks on the id."""
    queryset = dump.model.objects.for_org(organization)
    definitions: list[CustomField] = []
    if dump.custom_target:
        definitions = custom_fields.definitions(
            organization=organization, target=dump.custom_target, membership=membership
        )
    if dump.model is CustomField and hides_sensitive_fields(membership):
        queryset = queryset.filter(sensitive=False)
    if dump.model is ExternalId:
        allowed = [m for m, right in EXTERNAL_RIGHTS.items() if can(membership, "view", right)]
        types = ContentType.objects.filter(
            app_label__in=["contacts", "interactions", "payments"], model__in=allowed
        )
        queryset = queryset.filter(content_type__in=types)
    lookups = ["pk", *dump.fields] + (["custom"] if definitions else [])
    header = ["id", *(dump.headers.get(f, f) for f in dump.fields)]
    header += [f"custom.{d.key}" for d in definitions]

    def rows():
        last = 0
        while True:
            chunk = list(queryset.filter(pk__gt=last).order_by("pk").values_list(*lookups)[:CHUNK])
            for values in chunk:
                line = [values[0]]
                for name, value in zip(dump.fields, values[1 : 1 + len(dump.fields)], strict=True):
                    line.append(dump.convert[name](value) if name in dump.convert else value)
                if definitions:
                    custom = values[-1] or {}
                    line += [custom_value(d, custom.get(d.key)) for d in definitions]
                yield line
            if len(chunk) < CHUNK:
                return
            last = chunk[-1][0]

    return header, rows()


def write_archive(
    out: IO[bytes],
    *,
    organization: Organization,
    membership: Membership | None,
    progress: Callable[[int, int, str], None] | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Every table the member may view, one CSV each, into the ZIP file `out`.

    `progress(file index, files, message)` follows the files (the job's bar);
    `on_rows(rows written so far, all files)` is called every PROGRESS_EVERY rows and
    after each file (a benchmark's rate). Returns the number of rows of each file."""
    dumps = dumps_for(membership)
    counts: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, dump in enumerate(dumps):
            if progress is not None:
                progress(index, len(dumps), f"Fichier {dump.name}…")
            header, rows = _rows(dump, organization, membership)
            with archive.open(dump.name, "w", force_zip64=True) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                writer = csv.writer(text, delimiter=";")
                writer.writerow(header)
                count = 0
                for line in rows:
                    writer.writerow([as_text(value) for value in line])
                    count += 1
                    if count % PROGRESS_EVERY == 0:
                        # A million contacts in one file: the bar says the file is moving.
                        done = f"{count:,}".replace(",", "\u202f")
                        if progress is not None:
                            progress(index, len(dumps), f"Fichier {dump.name} : {done} lignes…")
                        if on_rows is not None:
                            on_rows(sum(counts.values()) + count)
                text.flush()
                text.detach()
            counts[dump.name] = count
            if on_rows is not None:
                on_rows(sum(counts.values()))
        who = str(membership.user) if membership is not None else "l'administrateur"
        archive.writestr(
            "LISEZMOI.txt",
            README.format(
                name=organization.name,
                day=timezone.localdate().strftime("%d/%m/%Y"),
                who=who,
                files=", ".join(d.name for d in dumps),
            ),
        )
    if progress is not None:
        progress(len(dumps), len(dumps), "Archive terminée.")
    return counts
