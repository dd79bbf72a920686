"""What can be exported: the tables, their columns, and what each member may see of them.

A column reads a typed value (text, number, amount, date, yes/no, list) from a row and
from its chunk: what is not on the row itself (labels, main structure, groups, payment
totals…) is read once per chunk of rows, in one query per kind of data, never per row.
A column needing a right (the payment columns of contacts) is offered only with it;
sensitive custom fields only to members whose profile shows them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q, Sum

from lien.contacts import custom_fields
from lien.contacts.models import (
    Contact,
    ContactLabel,
    ContactStructureLink,
    CustomField,
    GroupMembership,
    Structure,
    StructureLabel,
)
from lien.core.models import Membership, Organization
from lien.core.rights import can
from lien.exports.cells import Money
from lien.interactions.models import Interaction, InteractionStatus
from lien.payments.models import MembershipPeriod, Payment, PaymentKind, PaymentLabel

# Display names resolved once: a lazy translation per row costs a third of an export.
CIVILITIES = {k: str(v) for k, v in Contact.Civility.choices}
STRUCTURE_KINDS = {k: str(v) for k, v in Structure.Kind.choices}
INTERACTION_STATUSES = {k: str(v) for k, v in InteractionStatus.choices}
INTERACTION_SOURCES = {k: str(v) for k, v in Interaction.Source.choices}
PAYMENT_KINDS = {k: str(v) for k, v in PaymentKind.choices}
PAYMENT_METHODS = {k: str(v) for k, v in Payment.Method.choices}
PAYMENT_STATUSES = {k: str(v) for k, v in Payment.Status.choices}
FREQUENCIES = {k: str(v) for k, v in Payment.Frequency.choices}


class Chunk:
    """A chunk of rows and what its columns read beside them, loaded on first use."""

    def __init__(self, organization: Organization, rows: list) -> None:
        self.organization = organization
        self.rows = rows
        self.ids = [row.pk for row in rows]
        self._loaded: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        if name not in self._loaded:
            self._loaded[name] = PRELOADS[name](self.organization, self.ids)
        return self._loaded[name]


def among(column: str, ids: list[int]) -> Q:
    """`column` is one of `ids` (sorted): a range when the ids are dense (a whole list read
    in id order), which an index serves without a list of 2,000 parameters."""
    if ids and ids[-1] - ids[0] < 2 * len(ids):
        return Q(**{f"{column}__gte": ids[0], f"{column}__lte": ids[-1]})
    return Q(**{f"{column}__in": ids})


def _names_by(queryset, key: str, name: str) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for row_id, value in queryset.order_by(name).values_list(key, name):
        if value not in found[row_id]:
            found[row_id].append(value)
    return found


def _contact_labels(organization: Organization, ids: list[int]) -> dict[int, list[str]]:
    links = ContactLabel.objects.for_org(organization).filter(among("contact_id", ids))
    return _names_by(links, "contact_id", "label__name")


def _structure_labels(organization: Organization, ids: list[int]) -> dict[int, list[str]]:
    links = StructureLabel.objects.for_org(organization).filter(among("structure_id", ids))
    return _names_by(links, "structure_id", "label__name")


def _payment_labels(organization: Organization, ids: list[int]) -> dict[int, list[str]]:
    links = PaymentLabel.objects.for_org(organization).filter(among("payment_id", ids))
    return _names_by(links, "payment_id", "label__name")


def _contact_groups(organization: Organization, ids: list[int]) -> dict[int, list[str]]:
    links = GroupMembership.objects.for_org(organization).filter(among("contact_id", ids))
    return _names_by(links, "contact_id", "group__name")


def _main_structures(organization: Organization, ids: list[int]) -> dict[int, tuple[str, str]]:
    links = ContactStructureLink.objects.for_org(organization).filter(
        among("contact_id", ids), is_main=True, structure__is_deleted=False
    )
    return {
        contact_id: (name, role)
        for contact_id, name, role in links.values_list("contact_id", "structure__name", "role")
    }


def _payment_totals(organization: Organization, ids: list[int]) -> dict[int, dict]:
    paid = (
        Payment.objects.for_org(organization)
        .filter(among("payer_contact_id", ids), status=Payment.Status.PAID)
        .values("payer_contact_id")
        .annotate(count=Count("id"), total=Sum("amount_cents"), last=Max("paid_on"))
        .order_by()
    )
    return {row["payer_contact_id"]: row for row in paid}


def _memberships(organization: Organization, ids: list[int]) -> dict:
    from lien.payments.selectors import membership_statuses

    return membership_statuses(organization, ids)


def _payment_periods(organization: Organization, ids: list[int]) -> dict[int, tuple]:
    periods = MembershipPeriod.objects.for_org(organization).filter(among("payment_id", ids))
    found: dict[int, tuple] = {}
    for payment_id, start, end in periods.order_by("start_date").values_list(
        "payment_id", "start_date", "end_date"
    ):
        found.setdefault(payment_id, (start, end))
    return found


PRELOADS: dict[str, Callable[[Organization, list[int]], Any]] = {
    "contact_labels": _contact_labels,
    "structure_labels": _structure_labels,
    "payment_labels": _payment_labels,
    "contact_groups": _contact_groups,
    "main_structures": _main_structures,
    "payment_totals": _payment_totals,
    "memberships": _memberships,
    "payment_periods": _payment_periods,
}


@dataclass(frozen=True)
class ExportColumn:
    """One column of a file: its header, its group on the form, how to read its value."""

    key: str
    label: str
    group: str
    value: Callable[[Any, Chunk], Any]
    default: bool = False
    right: tuple[str, str] | None = None  # a right the column needs beyond the table's


def reads(*fields: str):
    """Mark a reader with the model fields it needs: a table whose chosen columns all say
    so loads those fields only (a million rows parse fewer dates)."""

    def mark(read: Callable[[Any, Chunk], Any]) -> Callable[[Any, Chunk], Any]:
        read.fields = fields
        return read

    return mark


def attr(name: str) -> Callable[[Any, Chunk], Any]:
    return reads(*(() if name == "pk" else (name,)))(lambda row, chunk: getattr(row, name))


def text(name: str) -> Callable[[Any, Chunk], Any]:
    """A text field; empty stays empty."""
    return reads(name)(lambda row, chunk: getattr(row, name) or None)


def choice(name: str, names: dict[str, str]) -> Callable[[Any, Chunk], Any]:
    return reads(name)(lambda row, chunk: names.get(getattr(row, name), getattr(row, name)) or None)


def preloaded(name: str, pick: Callable[[Any], Any] = lambda v: v, empty: Any = None):
    @reads()
    def read(row, chunk: Chunk) -> Any:
        found = chunk.get(name).get(row.pk)
        return empty if found is None else pick(found)

    return read


def needed_fields(columns: list[ExportColumn]) -> list[str] | None:
    """The model fields the columns read, or None when one of them does not say."""
    fields: list[str] = []
    for column in columns:
        declared = getattr(column.value, "fields", None)
        if declared is None:
            return None
        fields += [f for f in declared if f not in fields]
    return fields


def person(contact: Contact | None) -> str | None:
    if contact is None:
        return None
    return f"{contact.first_name} {contact.last_name}".strip() or contact.email or None


def custom_value(field: CustomField, value: Any) -> Any:
    """A stored custom value, typed for a file: dates as dates, yes/no, numbers, lists."""
    if custom_fields.is_empty(value):
        return None
    kind = field.field_type
    try:
        if kind == CustomField.FieldType.BOOLEAN:
            return bool(value)
        if kind == CustomField.FieldType.DATE:
            return dt.date.fromisoformat(value)
        if kind == CustomField.FieldType.INTEGER and not isinstance(value, bool):
            return int(value)
        if kind == CustomField.FieldType.DECIMAL and not isinstance(value, bool):
            return float(value)
    except (TypeError, ValueError):
        return str(value)
    if kind == CustomField.FieldType.MULTIPLE_CHOICE and isinstance(value, list):
        return [str(item) for item in value]
    return str(value)


def custom_column(definition: CustomField) -> ExportColumn:
    key = definition.key

    @reads("custom")
    def read(row, chunk: Chunk) -> Any:
        return custom_value(definition, (row.custom or {}).get(key))

    return ExportColumn(
        f"custom.{key}", definition.name, "Champs personnalisés", read, default=True
    )


IDENTITY, ADDRESS, LINKS = "Identité", "Adresse", "Liens"
CONSENT, FOLLOW_UP, PAYMENTS = "Consentement", "Suivi", "Paiements"

CONTACT_COLUMNS = [
    ExportColumn("id", "N° Lien", IDENTITY, attr("pk"), default=True),
    ExportColumn("civility", "Civilité", IDENTITY, choice("civility", CIVILITIES), True),
    ExportColumn("first_name", "Prénom", IDENTITY, text("first_name"), True),
    ExportColumn("last_name", "Nom", IDENTITY, text("last_name"), True),
    ExportColumn("email", "Email", IDENTITY, text("email"), True),
    ExportColumn("email2", "Email secondaire", IDENTITY, text("email2")),
    ExportColumn("mobile", "Téléphone portable", IDENTITY, text("mobile"), True),
    ExportColumn("phone", "Téléphone fixe", IDENTITY, text("phone"), True),
    ExportColumn("birth_date", "Date de naissance", IDENTITY, attr("birth_date")),
    ExportColumn("preferred_language", "Langue préférée", IDENTITY, text("preferred_language")),
    ExportColumn("street", "Adresse", ADDRESS, text("street"), True),
    ExportColumn("street2", "Complément d'adresse", ADDRESS, text("street2"), True),
    ExportColumn("postal_code", "Code postal", ADDRESS, text("postal_code"), True),
    ExportColumn("city", "Ville", ADDRESS, text("city"), True),
    ExportColumn("country", "Pays", ADDRESS, text("country"), True),
    ExportColumn("labels", "Étiquettes", LINKS, preloaded("contact_labels", empty=[]), True),
    ExportColumn(
        "main_structure",
        "Structure principale",
        LINKS,
        preloaded("main_structures", lambda found: found[0]),
        True,
    ),
    ExportColumn(
        "main_structure_role",
        "Fonction dans la structure",
        LINKS,
        preloaded("main_structures", lambda found: found[1] or None),
    ),
    ExportColumn(
        "household",
        "Foyer",
        LINKS,
        reads("household__name")(lambda row, chunk: row.household__name),
    ),
    ExportColumn("groups", "Groupes", LINKS, preloaded("contact_groups", empty=[])),
    ExportColumn("email_consent", "Accepte les emails", CONSENT, attr("email_consent"), True),
    ExportColumn("email_consent_date", "Date du consentement", CONSENT, attr("email_consent_date")),
    ExportColumn(
        "email_consent_source", "Origine du consentement", CONSENT, text("email_consent_source")
    ),
    ExportColumn("notes", "Notes", FOLLOW_UP, text("notes")),
    ExportColumn("created_at", "Créé le", FOLLOW_UP, attr("created_at")),
    ExportColumn("updated_at", "Modifié le", FOLLOW_UP, attr("updated_at")),
    ExportColumn(
        "payments_count",
        "Nombre de paiements",
        PAYMENTS,
        preloaded("payment_totals", lambda found: found["count"], empty=0),
        right=("view", "payments"),
    ),
    ExportColumn(
        "payments_total",
        "Total payé (€)",
        PAYMENTS,
        preloaded("payment_totals", lambda found: Money.from_cents(found["total"]), Money(0)),
        right=("view", "payments"),
    ),
    ExportColumn(
        "last_payment",
        "Dernier paiement",
        PAYMENTS,
        preloaded("payment_totals", lambda found: found["last"]),
        right=("view", "payments"),
    ),
    ExportColumn(
        "membership",
        "Adhésion",
        PAYMENTS,
        preloaded("memberships", lambda status: status.label),
        right=("view", "payments"),
    ),
    ExportColumn(
        "membership_until",
        "Adhésion valable jusqu'au",
        PAYMENTS,
        preloaded("memberships", lambda status: status.valid_until),
        right=("view", "payments"),
    ),
]

STRUCTURE_COLUMNS = [
    ExportColumn("id", "N° Lien", IDENTITY, attr("pk"), True),
    ExportColumn("name", "Nom", IDENTITY, text("name"), True),
    ExportColumn("kind", "Type", IDENTITY, choice("kind", STRUCTURE_KINDS), True),
    ExportColumn("siren", "SIREN", IDENTITY, text("siren"), True),
    ExportColumn("siret", "SIRET", IDENTITY, text("siret"), True),
    ExportColumn("rna", "Numéro RNA", IDENTITY, text("rna")),
    ExportColumn("email", "Email", IDENTITY, text("email"), True),
    ExportColumn("phone", "Téléphone", IDENTITY, text("phone"), True),
    ExportColumn("website", "Site web", IDENTITY, text("website")),
    ExportColumn("street", "Adresse", ADDRESS, text("street"), True),
    ExportColumn("street2", "Complément d'adresse", ADDRESS, text("street2"), True),
    ExportColumn("postal_code", "Code postal", ADDRESS, text("postal_code"), True),
    ExportColumn("city", "Ville", ADDRESS, text("city"), True),
    ExportColumn("country", "Pays", ADDRESS, text("country"), True),
    ExportColumn("labels", "Étiquettes", LINKS, preloaded("structure_labels", empty=[]), True),
    ExportColumn("notes", "Notes", FOLLOW_UP, text("notes")),
    ExportColumn("created_at", "Créée le", FOLLOW_UP, attr("created_at")),
    ExportColumn("updated_at", "Modifiée le", FOLLOW_UP, attr("updated_at")),
]

INTERACTION, WHO = "Interaction", "Contact et structure"
INTERACTION_COLUMNS = [
    ExportColumn("id", "N° Lien", INTERACTION, attr("pk"), True),
    ExportColumn("occurred_at", "Date", INTERACTION, attr("occurred_at"), True),
    ExportColumn("type", "Type", INTERACTION, lambda row, chunk: row.type.name, True),
    ExportColumn(
        "category",
        "Catégorie",
        INTERACTION,
        lambda row, chunk: row.category.name if row.category_id else None,
        True,
    ),
    ExportColumn(
        "label",
        "Libellé",
        INTERACTION,
        lambda row, chunk: row.label.name if row.label_id else None,
        True,
    ),
    ExportColumn("status", "Statut", INTERACTION, choice("status", INTERACTION_STATUSES), True),
    ExportColumn("source", "Origine", INTERACTION, choice("source", INTERACTION_SOURCES)),
    ExportColumn("description", "Description", INTERACTION, text("description"), True),
    ExportColumn("contact_id", "N° du contact", WHO, attr("contact_id"), True),
    ExportColumn("contact", "Contact", WHO, lambda row, chunk: person(row.contact), True),
    ExportColumn(
        "contact_email", "Email du contact", WHO, lambda row, chunk: row.contact.email or None
    ),
    ExportColumn("structure_id", "N° de la structure", WHO, attr("structure_id")),
    ExportColumn(
        "structure",
        "Structure",
        WHO,
        lambda row, chunk: row.structure.name if row.structure_id else None,
        True,
    ),
    ExportColumn(
        "recorded_by",
        "Saisie par",
        FOLLOW_UP,
        lambda row, chunk: str(row.recorded_by) if row.recorded_by_id else None,
    ),
    ExportColumn("created_at", "Saisie le", FOLLOW_UP, attr("created_at")),
]

PAYMENT, PAYER = "Paiement", "Payeur et bénéficiaire"
PAYMENT_COLUMNS = [
    ExportColumn("id", "N° Lien", PAYMENT, attr("pk"), True),
    ExportColumn("paid_on", "Date", PAYMENT, attr("paid_on"), True),
    ExportColumn("kind", "Type", PAYMENT, choice("kind", PAYMENT_KINDS), True),
    ExportColumn(
        "amount",
        "Montant",
        PAYMENT,
        lambda row, chunk: Money.from_cents(row.amount_cents),
        True,
    ),
    ExportColumn("currency", "Devise", PAYMENT, text("currency")),
    ExportColumn("method", "Moyen de paiement", PAYMENT, choice("method", PAYMENT_METHODS), True),
    ExportColumn("status", "Statut", PAYMENT, choice("status", PAYMENT_STATUSES), True),
    ExportColumn(
        "campaign",
        "Campagne",
        PAYMENT,
        lambda row, chunk: row.campaign.name if row.campaign_id else None,
        True,
    ),
    ExportColumn("is_recurring", "Récurrent", PAYMENT, attr("is_recurring"), True),
    ExportColumn("frequency", "Fréquence", PAYMENT, choice("frequency", FREQUENCIES)),
    ExportColumn("labels", "Étiquettes", PAYMENT, preloaded("payment_labels", empty=[]), True),
    ExportColumn(
        "period_start",
        "Début de validité",
        PAYMENT,
        preloaded("payment_periods", lambda found: found[0]),
    ),
    ExportColumn(
        "period_end",
        "Fin de validité",
        PAYMENT,
        preloaded("payment_periods", lambda found: found[1]),
    ),
    ExportColumn(
        "payer",
        "Payeur",
        PAYER,
        lambda row, chunk: (
            person(row.payer_contact) if row.payer_contact_id else row.payer_structure.name
        ),
        True,
    ),
    ExportColumn("payer_contact_id", "N° du contact payeur", PAYER, attr("payer_contact_id")),
    ExportColumn(
        "payer_structure_id", "N° de la structure payeuse", PAYER, attr("payer_structure_id")
    ),
    ExportColumn(
        "payer_email",
        "Email du payeur",
        PAYER,
        lambda row, chunk: (row.payer_contact or row.payer_structure).email or None,
        True,
    ),
    ExportColumn("beneficiary", "Bénéficiaire", PAYER, lambda row, chunk: person(row.beneficiary)),
    ExportColumn("beneficiary_id", "N° du bénéficiaire", PAYER, attr("beneficiary_id")),
    ExportColumn("source", "Source", FOLLOW_UP, text("source")),
    ExportColumn("external_id", "Identifiant externe", FOLLOW_UP, text("external_id")),
    ExportColumn("notes", "Notes", FOLLOW_UP, text("notes")),
    ExportColumn("created_at", "Saisi le", FOLLOW_UP, attr("created_at")),
]


@dataclass(frozen=True)
class ExportTable:
    """One kind of row that can be exported, with its columns and what it reads along."""

    key: str
    title: str  # « Contacts »
    data_type: str  # the right to view it
    model: type
    columns: list[ExportColumn]
    custom_target: str = ""
    related: tuple[str, ...] = ()

    def base(self, organization: Organization):
        rows = self.model.objects.for_org(organization)
        return rows.select_related(*self.related) if self.related else rows


TABLES: dict[str, ExportTable] = {
    table.key: table
    for table in [
        ExportTable(
            "contacts",
            "Contacts",
            "contacts",
            Contact,
            CONTACT_COLUMNS,
            CustomField.Target.CONTACT,
            ("household",),
        ),
        ExportTable(
            "structures",
            "Structures",
            "structures",
            Structure,
            STRUCTURE_COLUMNS,
            CustomField.Target.STRUCTURE,
        ),
        ExportTable(
            "interactions",
            "Interactions",
            "interactions",
            Interaction,
            INTERACTION_COLUMNS,
            related=("type", "category", "label", "contact", "structure", "recorded_by"),
        ),
        ExportTable(
            "payments",
            "Paiements",
            "payments",
            Payment,
            PAYMENT_COLUMNS,
            CustomField.Target.PAYMENT,
            ("payer_contact", "payer_structure", "beneficiary", "campaign"),
        ),
    ]
}


def available_columns(
    table: ExportTable, *, organization: Organization, membership: Membership | None
) -> list[ExportColumn]:
    """Every column this member may export from the table, in the form's order.

    `membership=None` is the system (the whole data set for an administrator's archive
    is built with the member, never with None, from a view)."""
    columns = [
        c
        for c in table.columns
        if c.right is None or membership is None or can(membership, *c.right)
    ]
    if table.custom_target:
        columns += [
            custom_column(definition)
            for definition in custom_fields.definitions(
                organization=organization, target=table.custom_target, membership=membership
            )
        ]
    return columns


def chosen_columns(
    table: ExportTable,
    keys: list[str] | None,
    *,
    organization: Organization,
    membership: Membership | None,
) -> list[ExportColumn]:
    """The asked columns the member may see, in the form's order (all defaults if none)."""
    available = available_columns(table, organization=organization, membership=membership)
    if not keys:
        return [c for c in available if c.default]
    wanted = set(keys)
    return [c for c in available if c.key in wanted]
