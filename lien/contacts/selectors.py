"""Reads that build the contact and structure screens.

Lists are paginated by keyset (« after this row »), never by OFFSET, and never
count the whole table to show a page: the first page and the ten-thousandth
cost the same. The total is computed apart, on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q

from lien.contacts import custom_fields
from lien.contacts.models import (
    Contact,
    ContactLabel,
    ContactStructureLink,
    CustomField,
    Group,
    GroupMembership,
    Label,
    Structure,
    StructureLabel,
)
from lien.contacts.normalize import normalize_email, normalize_name, normalize_phone
from lien.core.audit import history_for
from lien.core.models import Membership, Organization
from lien.core.pagination import Page, paginate
from lien.core.params import as_id, as_ids

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: tuple[str, ...] | None = None  # model fields, in order, for keyset sorting
    custom: CustomField | None = None


CONTACT_COLUMNS: dict[str, Column] = {
    c.key: c
    for c in [
        Column("name", "Nom", ("last_name_normalized", "first_name_normalized")),
        Column("first_name", "Prénom", ("first_name_normalized", "last_name_normalized")),
        Column("civility", "Civilité"),
        Column("email", "Email", ("email_normalized",)),
        Column("mobile", "Portable"),
        Column("phone", "Téléphone"),
        Column("postal_code", "Code postal", ("postal_code",)),
        Column("city", "Ville", ("city",)),
        Column("labels", "Étiquettes"),
        Column("created_at", "Créé le", ("created_at",)),
        Column("updated_at", "Modifié le", ("updated_at",)),
    ]
}
DEFAULT_CONTACT_COLUMNS = ["name", "email", "mobile", "city", "labels"]

STRUCTURE_COLUMNS: dict[str, Column] = {
    c.key: c
    for c in [
        Column("name", "Nom", ("name_normalized",)),
        Column("kind", "Type"),
        Column("siret", "SIRET"),
        Column("email", "Email"),
        Column("phone", "Téléphone"),
        Column("postal_code", "Code postal", ("postal_code",)),
        Column("city", "Ville", ("city",)),
        Column("labels", "Étiquettes"),
        Column("created_at", "Créée le", ("created_at",)),
    ]
}
DEFAULT_STRUCTURE_COLUMNS = ["name", "kind", "city", "email", "labels"]


@dataclass
class ListQuery:
    """What a list shows: search, filters, sort, page. Parsed from the query string."""

    q: str = ""
    labels: list[int] = field(default_factory=list)
    group: int | None = None
    sort: str = "name"
    descending: bool = False
    after: str = ""
    before: str = ""
    size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def from_params(cls, params, columns: dict[str, Column]) -> ListQuery:
        sort = params.get("tri", "name")
        descending = sort.startswith("-")
        sort = sort.lstrip("-")
        if sort not in columns or columns[sort].sort is None:
            sort, descending = "name", False
        size = as_id(params.get("taille", "")) or DEFAULT_PAGE_SIZE
        return cls(
            q=params.get("q", "").strip()[:100],
            labels=as_ids(params.getlist("etiquette")),
            group=as_id(params.get("groupe", "")),
            sort=sort,
            descending=descending,
            after=params.get("apres", ""),
            before=params.get("avant", ""),
            size=size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE,
        )

    def filter_params(self) -> list[tuple[str, str]]:
        """The query string of the filters (no paging), for links and bulk actions."""
        params: list[tuple[str, str]] = []
        if self.q:
            params.append(("q", self.q))
        params += [("etiquette", str(pk)) for pk in self.labels]
        if self.group:
            params.append(("groupe", str(self.group)))
        return params

    @property
    def sort_param(self) -> str:
        return f"-{self.sort}" if self.descending else self.sort


def _prefix_range(column: str, prefix: str) -> Q:
    """`column` starts with `prefix`, written as a range so a plain index serves it."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{column}__gte": prefix, f"{column}__lt": upper, f"{column}__startswith": prefix})


def contact_search(q: str) -> Q:
    """Quick search: each word starts a first name, last name or email; or a phone number.

    Accents and case are ignored (the normalised copies are searched).
    """
    q = q.strip()
    if not q:
        return Q()
    digits = [c for c in q if c.isdigit()]
    if len(digits) >= 6 and all(c.isdigit() or c in "+ .-()" for c in q):
        phone = normalize_phone(q)
        return Q(phone_e164=phone) if phone else Q(pk__in=[])
    if "@" in q:
        return _prefix_range("email_normalized", normalize_email(q))
    condition = Q()
    for word in normalize_name(q).split():
        condition &= (
            _prefix_range("last_name_normalized", word)
            | _prefix_range("first_name_normalized", word)
            | _prefix_range("email_normalized", word)
        )
    return condition


def structure_search(q: str) -> Q:
    words = normalize_name(q).split()
    if not words:
        return Q()
    siret = q.replace(" ", "")
    if siret.isdigit() and len(siret) in (9, 14):
        return Q(siren=siret[:9]) if len(siret) == 9 else Q(siret=siret)
    return _prefix_range("name_normalized", " ".join(words))


def labels_by_row(*, organization: Organization, model, ids: list[int]) -> dict[int, list[Label]]:
    """The labels of many rows in one query (no query per row)."""
    link_model, column = (
        (ContactLabel, "contact_id") if model is Contact else (StructureLabel, "structure_id")
    )
    result: dict[int, list[Label]] = {}
    links = (
        link_model.objects.for_org(organization)
        .filter(**{f"{column}__in": ids})
        .select_related("label")
        .order_by("label__name")
    )
    for link in links:
        row_labels = result.setdefault(getattr(link, column), [])
        if link.label not in row_labels:
            row_labels.append(link.label)
    return result


# Below this many linked rows (a label on 2 % of 1M contacts), a filter is written
# `pk IN (linked ids)`; above, as a correlated EXISTS. SQLite walks the whole list for
# an EXISTS on a small set (a group of 60 among 1M contacts: 4.9 s) but builds a huge
# IN list for a big one (a label on 565k contacts: 0.8 s); PostgreSQL is faster with
# IN up to tens of thousands too. Measured in bench/README.md.
SMALL_SET = 20_000


def _narrow_to(queryset, links, column: str):
    """Keep rows of `queryset` linked by `links` (rows of a link table keyed by `column`)."""
    if links.values("pk")[:SMALL_SET].count() < SMALL_SET:
        return queryset.filter(pk__in=links.values(column))
    return queryset.filter(Exists(links.filter(**{column: OuterRef("pk")})))


def _narrow(queryset, *, organization: Organization, query: ListQuery, column: str, label_model):
    for label_id in query.labels:
        queryset = _narrow_to(
            queryset,
            label_model.objects.filter(organization_id=organization.pk, label_id=label_id),
            column,
        )
    if query.group:
        queryset = _narrow_to(
            queryset,
            GroupMembership.objects.filter(organization_id=organization.pk, group_id=query.group),
            column,
        )
    return queryset


def filtered_contacts(*, organization: Organization, query: ListQuery, trash: bool = False):
    """Contacts matching the query's search and filters (every filter only narrows)."""
    contacts = Contact.objects.for_org(organization).filter(is_deleted=trash)
    if query.q:
        contacts = contacts.filter(contact_search(query.q))
    return _narrow(
        contacts, organization=organization, query=query, column="contact_id",
        label_model=ContactLabel,
    )  # fmt: skip


def filtered_structures(*, organization: Organization, query: ListQuery, trash: bool = False):
    structures = Structure.objects.for_org(organization).filter(is_deleted=trash)
    if query.q:
        structures = structures.filter(structure_search(query.q))
    return _narrow(
        structures, organization=organization, query=query, column="structure_id",
        label_model=StructureLabel,
    )  # fmt: skip


def list_columns(
    *,
    organization: Organization,
    membership: Membership,
    base: dict[str, Column],
    target: str,
    chosen: list[str],
) -> tuple[list[Column], dict[str, Column]]:
    """The chosen columns, and every column available (custom fields included)."""
    available = dict(base)
    for definition in custom_fields.definitions(
        organization=organization, target=target, membership=membership
    ):
        available[f"custom.{definition.key}"] = Column(
            f"custom.{definition.key}", definition.name, custom=definition
        )
    columns = [available[key] for key in chosen if key in available]
    return columns or [available["name"]], available


def contact_page(
    *, organization: Organization, membership: Membership, query: ListQuery, columns: list[Column]
) -> Page:
    contacts = filtered_contacts(organization=organization, query=query)
    page = paginate(contacts, query, CONTACT_COLUMNS)
    page.columns = columns
    if any(c.key == "labels" for c in columns):
        page.labels_by_row = labels_by_row(
            organization=organization, model=Contact, ids=[c.pk for c in page.rows]
        )
    return page


def structure_page(
    *, organization: Organization, membership: Membership, query: ListQuery, columns: list[Column]
) -> Page:
    structures = filtered_structures(organization=organization, query=query)
    page = paginate(structures, query, STRUCTURE_COLUMNS)
    page.columns = columns
    if any(c.key == "labels" for c in columns):
        page.labels_by_row = labels_by_row(
            organization=organization, model=Structure, ids=[s.pk for s in page.rows]
        )
    return page


@dataclass
class CustomValue:
    field: CustomField
    value: Any
    display: str


def custom_values(
    *, organization: Organization, membership: Membership, target: str, custom: dict[str, Any]
) -> list[CustomValue]:
    """A record's custom values in display order; hidden sensitive fields left out."""
    return [
        CustomValue(f, custom.get(f.key), custom_fields.display_value(f, custom.get(f.key)))
        for f in custom_fields.definitions(
            organization=organization, target=target, membership=membership
        )
    ]


@dataclass
class ContactCard:
    contact: Contact
    labels: list[tuple[Label, str]]
    custom: list[CustomValue]
    structure_links: list[ContactStructureLink]
    household_members: list[Contact]
    groups: list[Group]
    history: list
    duplicates_by_email: list[Contact]


def contact_card(
    *, organization: Organization, membership: Membership, contact: Contact
) -> ContactCard:
    labels = [
        (link.label, link.origin)
        for link in ContactLabel.objects.for_org(organization)
        .filter(contact=contact)
        .select_related("label")
        .order_by("label__name", "origin")
    ]
    household_members = []
    if contact.household_id:
        household_members = list(
            Contact.objects.for_org(organization)
            .not_deleted()
            .filter(household_id=contact.household_id)
            .exclude(pk=contact.pk)
            .order_by("first_name")
        )
    return ContactCard(
        contact=contact,
        labels=labels,
        custom=custom_values(
            organization=organization,
            membership=membership,
            target=CustomField.Target.CONTACT,
            custom=contact.custom,
        ),
        structure_links=list(
            ContactStructureLink.objects.for_org(organization)
            .filter(contact=contact, structure__is_deleted=False)
            .select_related("structure")
            .order_by("-is_main", "structure__name")
        ),
        household_members=household_members,
        groups=list(
            Group.objects.for_org(organization)
            .filter(memberships__contact=contact)
            .order_by("name")
        ),
        history=history_for(
            organization=organization, target=contact, membership=membership, limit=30
        ),
        duplicates_by_email=list(
            Contact.objects.for_org(organization)
            .not_deleted()
            .filter(email_normalized=contact.email_normalized)
            .exclude(pk=contact.pk)[:5]
        )
        if contact.email_normalized
        else [],
    )


@dataclass
class StructureCard:
    structure: Structure
    labels: list[tuple[Label, str]]
    custom: list[CustomValue]
    contact_links: list[ContactStructureLink]
    groups: list[Group]
    history: list


def structure_card(
    *, organization: Organization, membership: Membership, structure: Structure
) -> StructureCard:
    return StructureCard(
        structure=structure,
        labels=[
            (link.label, link.origin)
            for link in StructureLabel.objects.for_org(organization)
            .filter(structure=structure)
            .select_related("label")
            .order_by("label__name", "origin")
        ],
        custom=custom_values(
            organization=organization,
            membership=membership,
            target=CustomField.Target.STRUCTURE,
            custom=structure.custom,
        ),
        contact_links=list(
            ContactStructureLink.objects.for_org(organization)
            .filter(structure=structure, contact__is_deleted=False)
            .select_related("contact")
            .order_by("-is_main", "contact__last_name_normalized")
        ),
        groups=list(
            Group.objects.for_org(organization)
            .filter(memberships__structure=structure)
            .order_by("name")
        ),
        history=history_for(
            organization=organization, target=structure, membership=membership, limit=30
        ),
    )
