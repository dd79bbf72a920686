"""Reads that show interactions: a contact's timeline, a structure's roll-up, a group's,
and the organisation's table. Every list is a keyset page (newest first by default)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from lien.contacts.models import ContactLabel, ContactStructureLink, GroupMembership
from lien.contacts.selectors import SMALL_SET
from lien.core.models import Organization
from lien.core.pagination import Page, paginate
from lien.core.params import as_id, as_ids
from lien.interactions.models import Interaction, InteractionStatus


@dataclass(frozen=True)
class SortOption:
    key: str
    label: str
    sort: tuple[str, ...]


SORTS = {
    "date": SortOption("date", "Date", ("occurred_at",)),
    "saisie": SortOption("saisie", "Saisie le", ("created_at",)),
}
PAGE_SIZES = (25, 50, 100)


@dataclass
class InteractionQuery:
    """Filters of an interaction list, read from a query string (French parameter names)."""

    types: list[int] = field(default_factory=list)
    categories: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    status: str = ""
    source: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    contact_labels: list[int] = field(default_factory=list)
    sort: str = "date"
    descending: bool = True
    after: str = ""
    before: str = ""
    size: int = 25

    @classmethod
    def from_params(cls, params) -> InteractionQuery:
        def day(name: str) -> dt.date | None:
            try:
                return dt.date.fromisoformat(params.get(name, "").strip())
            except ValueError:
                return None

        sort = params.get("tri", "-date")
        ascending = not sort.startswith("-")
        sort = sort.lstrip("-")
        if sort not in SORTS:
            sort, ascending = "date", False
        size = as_id(params.get("taille", "")) or 25
        status = params.get("statut", "")
        source = params.get("origine", "")
        return cls(
            types=as_ids(params.getlist("type")),
            categories=as_ids(params.getlist("categorie")),
            labels=as_ids(params.getlist("libelle")),
            status=status if status in InteractionStatus.values else "",
            source=source if source in Interaction.Source.values else "",
            date_from=day("du"),
            date_to=day("au"),
            contact_labels=as_ids(params.getlist("etiquette")),
            sort=sort,
            descending=not ascending,
            after=params.get("apres", ""),
            before=params.get("avant", ""),
            size=size if size in PAGE_SIZES else 25,
        )

    def filter_params(self) -> list[tuple[str, str]]:
        params = [("type", str(v)) for v in self.types]
        params += [("categorie", str(v)) for v in self.categories]
        params += [("libelle", str(v)) for v in self.labels]
        params += [("etiquette", str(v)) for v in self.contact_labels]
        for name, value in [
            ("statut", self.status),
            ("origine", self.source),
            ("du", self.date_from.isoformat() if self.date_from else ""),
            ("au", self.date_to.isoformat() if self.date_to else ""),
        ]:
            if value:
                params.append((name, value))
        return params

    @property
    def sort_param(self) -> str:
        return f"-{self.sort}" if self.descending else self.sort


def filtered(queryset, *, organization: Organization, query: InteractionQuery):
    """Narrow interactions by the query's filters (each filter only narrows)."""
    if query.types:
        queryset = queryset.filter(type_id__in=query.types)
    if query.categories:
        queryset = queryset.filter(category_id__in=query.categories)
    if query.labels:
        queryset = queryset.filter(label_id__in=query.labels)
    if query.status:
        queryset = queryset.filter(status=query.status)
    if query.source:
        queryset = queryset.filter(source=query.source)
    # Local day bounds on the column itself (not `occurred_at__date`, which wraps the
    # column in a conversion): the (organization, type, date) index then serves the
    # range — a 3-month count on 10M rows went from 1.2 s to 0.1 s (bench/README.md).
    if query.date_from:
        queryset = queryset.filter(occurred_at__gte=_day_start(query.date_from))
    if query.date_to:
        queryset = queryset.filter(occurred_at__lt=_day_start(query.date_to + dt.timedelta(days=1)))
    for label_id in query.contact_labels:
        links = ContactLabel.objects.filter(organization_id=organization.pk, label_id=label_id)
        if links.values("pk")[:SMALL_SET].count() < SMALL_SET:
            queryset = queryset.filter(contact_id__in=links.values("contact_id"))
        else:
            queryset = queryset.filter(Exists(links.filter(contact_id=OuterRef("contact_id"))))
    return queryset


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _page(queryset, query: InteractionQuery) -> Page:
    rows = queryset.select_related(
        "contact", "type", "category", "label", "structure", "recorded_by"
    )
    return paginate(rows, query, SORTS)


def table(*, organization: Organization, query: InteractionQuery) -> Page:
    """Every interaction of the organisation, filtered."""
    return _page(
        filtered(Interaction.objects.for_org(organization), organization=organization, query=query),
        query,
    )


def timeline(*, organization: Organization, contact, query: InteractionQuery) -> Page:
    """A contact's interactions, newest first."""
    return _page(
        filtered(
            Interaction.objects.for_org(organization).filter(contact=contact),
            organization=organization,
            query=query,
        ),
        query,
    )


def structure_rollup(*, organization: Organization, structure, query: InteractionQuery) -> Page:
    """Interactions recorded with the structure and those of every contact linked to it.

    One query over one table: an interaction that is both (a linked contact's,
    recorded with the structure) is one row, counted once.
    """
    members = ContactStructureLink.objects.filter(
        organization_id=organization.pk, structure=structure
    ).values("contact_id")
    rows = Interaction.objects.for_org(organization).filter(
        Q(structure=structure) | Q(contact_id__in=members)
    )
    return _page(filtered(rows, organization=organization, query=query), query)


def group_interactions(*, organization: Organization, group, query: InteractionQuery) -> Page:
    """The interactions of a group's contacts (who received, who opened the invitation…)."""
    members = GroupMembership.objects.filter(
        organization_id=organization.pk, group=group, contact__isnull=False
    ).values("contact_id")
    rows = Interaction.objects.for_org(organization).filter(contact_id__in=members)
    return _page(filtered(rows, organization=organization, query=query), query)
