"""Where the rows of an export come from: the same selectors as the pages they leave from.

A source is plain JSON (it travels to the background job): a list with its query string,
an advanced search with its tree, a segment, a group, optionally narrowed to ticked ids.
`selection()` turns it into the queryset of the page, with the member's rights checked
now — again when the job runs, so rights lost in between are lost for the export too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, QueryDict

from lien.contacts import selectors as contact_selectors
from lien.contacts.models import Group, Label
from lien.core.models import Membership, Organization
from lien.core.params import as_ids
from lien.core.rights import can
from lien.exports.tables import TABLES, ExportTable
from lien.interactions import selectors as interaction_selectors
from lien.interactions.models import (
    Interaction,
    InteractionCategory,
    InteractionLabel,
    InteractionType,
)
from lien.payments.models import Campaign, PaymentKind
from lien.payments.selectors import PaymentQuery, filtered_payments
from lien.search.criteria import REGISTRIES, TreeError
from lien.search.models import Segment
from lien.search.tree import context, describe_tree, search

KINDS = ("list", "search", "segment", "group")
MAX_IDS = 5000  # ticked rows travel in the form; more is « toute la sélection »
# The lists' filter parameters in words; paging and sorting select no rows.
PARAM_WORDS = {
    "q": "recherche", "etiquette": "étiquette", "groupe": "groupe", "statut": "statut",
    "origine": "origine", "type": "type", "categorie": "catégorie", "libelle": "libellé",
    "du": "du", "au": "au", "date_from": "du", "date_to": "au",
    "amount_min": "montant minimum", "amount_max": "montant maximum", "status": "statut",
    "method": "moyen", "campaign": "campagne", "contact": "contact n°",
    "structure": "structure n°", "payer_label": "étiquette", "recurring": "récurrent",
}  # fmt: skip
# Parameters holding the id of a named row: the summary says its name.
PARAM_MODELS = {
    "etiquette": Label, "payer_label": Label, "groupe": Group, "campaign": Campaign,
    "type": InteractionType, "categorie": InteractionCategory, "libelle": InteractionLabel,
}  # fmt: skip
NOT_FILTERS = {"tri", "taille", "page", "apres", "avant", "sort", "kind"}


@dataclass
class Selection:
    table: ExportTable
    queryset: QuerySet
    title: str  # « Contacts du segment « Donateurs fidèles » »
    summary: str = ""  # the selection in words, for the history of exports


def may_export(membership: Membership | None, table: ExportTable) -> bool:
    """View on the data type and the right to make exports."""
    return can(membership, "view", table.data_type) and can(membership, "add", "exports")


def require_export(membership: Membership | None, table: ExportTable) -> None:
    if not may_export(membership, table):
        raise PermissionDenied("Votre profil ne vous permet pas d'exporter ces données.")


def list_summary(query: str, organization: Organization) -> str:
    """A list's query string in words: « Filtres : recherche « lef », étiquette « Donateur » »
    (one query per kind of named filter)."""
    parts = []
    for key, values in QueryDict(query).lists():
        values = [value.strip() for value in values if value.strip()]
        if key in NOT_FILTERS or not values:
            continue
        word = PARAM_WORDS.get(key, key)
        if key in PARAM_MODELS:
            names = dict(
                PARAM_MODELS[key]
                .objects.for_org(organization)
                .filter(pk__in=as_ids(values))
                .values_list("pk", "name")
            )
            values = [names.get(pk, f"n°{pk}") for pk in as_ids(values)]
        for value in values:
            parts.append(f"{word}{value}" if word.endswith("n°") else f"{word} « {value} »")
    return f"Filtres : {', '.join(parts)}" if parts else "Toute la liste"


def _list(source: dict, organization: Organization, table: ExportTable) -> tuple[QuerySet, str]:
    params = QueryDict(source.get("query", ""))
    if table.key in ("contacts", "structures"):
        base = (
            contact_selectors.CONTACT_COLUMNS
            if table.key == "contacts"
            else contact_selectors.STRUCTURE_COLUMNS
        )
        query = contact_selectors.ListQuery.from_params(params, base)
        select = (
            contact_selectors.filtered_contacts
            if table.key == "contacts"
            else contact_selectors.filtered_structures
        )
        return select(organization=organization, query=query), table.title
    if table.key == "interactions":
        query = interaction_selectors.InteractionQuery.from_params(params)
        rows = interaction_selectors.filtered(
            Interaction.objects.for_org(organization), organization=organization, query=query
        )
        return rows, table.title
    kind = source.get("payment_kind", "")
    if kind not in PaymentKind.values:
        raise Http404("Type de paiement inconnu.")
    query = PaymentQuery.from_params(params, kind=kind)  # ValidationError: a wrong filter
    return filtered_payments(organization, query), f"Paiements — {PaymentKind(kind).label}"


def selection(
    source: dict[str, Any], *, organization: Organization, membership: Membership | None
) -> Selection:
    """The rows a source designates, for this member (PermissionDenied, Http404 or
    ValidationError with a French message otherwise)."""
    kind = source.get("kind")
    table = TABLES.get(source.get("table", ""))
    if kind not in KINDS or table is None:
        raise Http404("Export inconnu.")
    require_export(membership, table)
    if kind == "list":
        rows, title = _list(source, organization, table)
        summary = list_summary(source.get("query", ""), organization)
    elif kind == "search":
        tree = source.get("tree") or {"group": "all", "children": []}
        registry = REGISTRIES[table.key]
        try:
            rows = search(organization, tree, membership=membership, registry=registry)
        except TreeError as error:
            raise ValidationError(f"La recherche n'est pas complète : {error.message}") from error
        title = f"{table.title} — recherche avancée"
        summary = f"Recherche : {_describe(tree, registry, organization, membership)}"
    elif kind == "segment":
        if table.key != "contacts" or not can(membership, "view", "segments"):
            raise PermissionDenied("Votre profil ne vous permet pas de voir les segments.")
        segment = Segment.objects.for_org(organization).filter(pk=source.get("segment")).first()
        if segment is None:
            raise Http404("Ce segment n'existe pas.")
        try:
            rows = search(organization, segment.tree, membership=membership)
        except TreeError as error:
            raise ValidationError(
                f"La définition du segment est à revoir : {error.message}"
            ) from error
        title = f"Contacts du segment « {segment.name} »"
        words = _describe(segment.tree, REGISTRIES["contacts"], organization, membership)
        summary = f"Segment « {segment.name} » : {words}"
    else:
        if table.key not in ("contacts", "structures") or not can(membership, "view", "segments"):
            raise PermissionDenied("Votre profil ne vous permet pas de voir les groupes.")
        group = Group.objects.for_org(organization).filter(pk=source.get("group")).first()
        if group is None:
            raise Http404("Ce groupe n'existe pas.")
        query = contact_selectors.ListQuery(group=group.pk)
        select = (
            contact_selectors.filtered_contacts
            if table.key == "contacts"
            else contact_selectors.filtered_structures
        )
        rows = select(organization=organization, query=query)
        title = f"{table.title} du groupe « {group.name} »"
        summary = f"Groupe « {group.name} »"
    ids = as_ids(source.get("ids") or [])[:MAX_IDS]
    if ids:
        rows = rows.filter(pk__in=ids)
        title = f"{title} (sélection)"
        plural = "s" if len(ids) > 1 else ""
        summary = f"{summary} — {len(ids)} ligne{plural} cochée{plural}"
    if table.related:
        rows = rows.select_related(*table.related)
    return Selection(table, rows, title, summary[:1000])


def _describe(tree: dict, registry, organization: Organization, membership) -> str:
    return describe_tree(tree, registry, context(organization, membership))
