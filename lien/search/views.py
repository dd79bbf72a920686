"""Advanced search and segment pages.

The builder edits a filter tree by clicking: each action posts the current tree (hidden
JSON) and the widgets, and the server sends the builder back re-rendered; the server is
the source of truth (see forms.py). The count, the plain-French description and the
results are loaded apart, so that editing never waits for them. A segment is a saved
contacts tree: its page shows its definition, its members now, its nightly count history,
who entered and left it, and why a contact is (or is not) in it.

Thin views: access → form layer → engine or service → partial or page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from lien.contacts import access as contacts_access
from lien.contacts.models import Contact, Group, Label
from lien.contacts.selectors import (
    CONTACT_COLUMNS,
    PAGE_SIZES,
    STRUCTURE_COLUMNS,
    Column,
    labels_by_row,
)
from lien.core.access import member_required, require
from lien.core.audit import Actor
from lien.core.pagination import Page, paginate
from lien.core.params import as_id
from lien.core.rights import can
from lien.core.views import render_page
from lien.interactions import views as interaction_views
from lien.interactions.models import InteractionCategory, InteractionType
from lien.payments.models import Campaign, format_cents
from lien.search import forms, services
from lien.search.criteria import (
    CONTACTS,
    INTERACTIONS,
    PAYMENTS,
    STRUCTURES,
    Registry,
    SearchContext,
    TreeError,
)
from lien.search.models import Segment, SegmentCount, SegmentEvent, SegmentMember
from lien.search.tree import check_tree, compile_tree, describe_tree, explain, hidden_from

DEFAULT_SIZE = 50
SORTS = ("name", "created_at", "date", "amount")  # the sorts a results table offers
JOURNAL_SIZE = 20
CARD_JOURNAL_SIZE = 10


# The tables a search runs on ------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    key: str
    registry: Registry
    title: str  # « Contacts »
    one: str  # « contact »
    many: str  # « contacts »
    columns: dict[str, Column]  # what may be shown; a column with `sort` may sort
    default_columns: tuple[str, ...]
    default_sort: str
    feminine: bool = False
    entity: str = ""  # the card a row links to (contact / structure), for `cell`

    @property
    def none_text(self) -> str:
        article = "Aucune" if self.feminine else "Aucun"
        return f"{article} {self.one} ne correspond"

    def count_text(self, total: int) -> str:
        if total == 0:
            return f"{self.none_text}."
        noun = self.one if total == 1 else self.many
        verb = "correspond" if total == 1 else "correspondent"
        return f"{total:,} {noun} {verb}".replace(",", "\u202f") + "."


def _columns(base: dict[str, Column], keys: list[str]) -> dict[str, Column]:
    return {key: base[key] for key in keys}


TABLES = {
    "contacts": Table(
        "contacts",
        CONTACTS,
        "Contacts",
        "contact",
        "contacts",
        _columns(
            CONTACT_COLUMNS,
            ["name", "email", "mobile", "phone", "postal_code", "city", "labels", "created_at"],
        ),
        ("name", "email", "city", "labels"),
        "name",
        entity="contact",
    ),
    "structures": Table(
        "structures",
        STRUCTURES,
        "Structures",
        "structure",
        "structures",
        _columns(STRUCTURE_COLUMNS, ["name", "kind", "email", "city", "labels", "created_at"]),
        ("name", "kind", "city", "labels"),
        "name",
        feminine=True,
        entity="structure",
    ),
    "interactions": Table(
        "interactions",
        INTERACTIONS,
        "Interactions",
        "interaction",
        "interactions",
        {
            "date": Column("date", "Date", ("occurred_at",)),
            "created_at": Column("created_at", "Saisie le", ("created_at",)),
        },
        (),
        "-date",
        feminine=True,
    ),
    "payments": Table(
        "payments",
        PAYMENTS,
        "Paiements",
        "paiement",
        "paiements",
        {
            "date": Column("date", "Date", ("paid_on",)),
            "amount": Column("amount", "Montant", ("amount_cents",)),
            "created_at": Column("created_at", "Saisi le", ("created_at",)),
        },
        (),
        "-date",
    ),
}


def _table(request: HttpRequest, params) -> Table:
    """The table asked for (contacts by default); 403 without the right to search it."""
    table = TABLES.get(params.get("table", ""), TABLES["contacts"])
    require(request, *table.registry.right)
    return table


def tables_for(request: HttpRequest) -> list[Table]:
    return [t for t in TABLES.values() if can(request.membership, *t.registry.right)]


# The search context of a page -----------------------------------------------------------


@dataclass
class PageContext(SearchContext):
    """A search context that reads each name once per page (descriptions name many rows)."""

    _names: dict[Any, dict[int, str]] = field(default_factory=dict)
    _complete: set = field(default_factory=set)

    def preload(self, *models) -> None:
        """Read every name of these (small) tables at once: a list of many descriptions."""
        for model in models:
            rows = model.objects.for_org(self.organization).values_list("pk", "name")
            self._names[model] = dict(rows)
            self._complete.add(model)

    def names(self, model, ids: list[int]) -> list[str]:
        known = self._names.setdefault(model, {})
        missing = [pk for pk in ids if pk not in known]
        if missing and model not in self._complete:
            rows = model.objects.for_org(self.organization).filter(pk__in=missing)
            known.update(rows.values_list("pk", "name"))
        return [known.get(pk, f"n°{pk}") for pk in ids]


def page_context(request: HttpRequest) -> PageContext:
    return PageContext(
        organization=request.organization,
        membership=request.membership,
        today=timezone.localdate(),
    )


def check(tree: Any, registry: Registry, ctx: SearchContext) -> TreeError | None:
    """The first fault of a tree for this member, or None."""
    try:
        check_tree(tree, registry, ctx)
    except TreeError as error:
        return error
    return None


def describe(tree: dict, registry: Registry, ctx: SearchContext) -> tuple[str, str]:
    """(the tree in French, the problem that keeps it from running)."""
    error = check(tree, registry, ctx)
    if error is not None:
        return "", forms.error_message(error, tree)
    return describe_tree(tree, registry, ctx), ""


# Results --------------------------------------------------------------------------------


@dataclass
class ResultsQuery:
    """Sort, page and columns of a results table, from the query string."""

    table: Table
    sort: str
    descending: bool
    after: str = ""
    before: str = ""
    size: int = DEFAULT_SIZE
    columns: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params, table: Table) -> ResultsQuery:
        raw = params.get("tri") or table.default_sort
        sort = raw.lstrip("-")
        if sort not in table.columns or table.columns[sort].sort is None:
            raw = table.default_sort
            sort = raw.lstrip("-")
        size = as_id(params.get("taille", "")) or DEFAULT_SIZE
        columns = [c for c in params.getlist("colonnes") if c in table.columns]
        return cls(
            table=table,
            sort=sort,
            descending=raw.startswith("-"),
            after=params.get("apres", ""),
            before=params.get("avant", ""),
            size=size if size in PAGE_SIZES else DEFAULT_SIZE,
            columns=columns or list(table.default_columns),
        )

    @property
    def sort_param(self) -> str:
        return f"-{self.sort}" if self.descending else self.sort

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """The query string of this view (without the tree), with some values changed."""
        values = {"tri": self.sort_param, "taille": str(self.size), **changes}
        found = [(k, v) for k, v in values.items() if v]
        if self.table.entity:
            found += [("colonnes", c) for c in self.columns]
        return found

    def sort_link(self, key: str) -> str:
        same = self.sort == key
        return f"{'-' if same and not self.descending else ''}{key}"


def _results(request: HttpRequest, table: Table, tree: dict, query: ResultsQuery) -> Page:
    ctx = page_context(request)
    rows = table.registry.rows(ctx).filter(compile_tree(tree, table.registry, ctx))
    if table.key == "interactions":
        rows = rows.select_related("type", "label", "category", "contact", "structure")
    elif table.key == "payments":
        rows = rows.select_related("payer_contact", "payer_structure", "beneficiary", "campaign")
    page = paginate(rows, query, table.columns)
    if table.entity:
        page.columns = [table.columns[key] for key in query.columns]
        if "labels" in query.columns:
            page.labels_by_row = labels_by_row(
                organization=request.organization,
                model=table.registry.model,
                ids=[row.pk for row in page.rows],
            )
    if table.key == "payments":
        for row in page.rows:
            row.amount_display = format_cents(row.amount_cents, row.currency)
    return page


def _results_context(request: HttpRequest, table: Table, tree: dict) -> dict[str, Any]:
    query = ResultsQuery.from_params(request.GET, table)
    ctx = page_context(request)
    error = check(tree, table.registry, ctx)
    tree_json = forms.dump_tree(tree)
    base = f"{reverse('search_builder')}?{urlencode({'table': table.key, 'arbre': tree_json})}"

    def link(**changes: str) -> str:
        return f"{base}&{urlencode(query.params(**changes))}"

    context: dict[str, Any] = {
        "table": table,
        "query": query,
        "tree_json": tree_json,
        "entity": SimpleNamespace(key=table.entity),
        "problem": forms.error_message(error, tree) if error else "",
        "page": None,
    }
    if error is None:
        page = _results(request, table, tree, query)
        context.update(
            page=page,
            sort_links=[
                (key, column.label, link(tri=query.sort_link(key)), key == query.sort)
                for key, column in table.columns.items()
                if key in SORTS
            ],
            next_url=link(apres=page.next_cursor) if page.next_cursor else "",
            previous_url=link(avant=page.previous_cursor) if page.previous_cursor else "",
            first_url=link() if query.after or query.before else "",
        )
    if table.key == "contacts":
        context.update(_bulk_context(request))
    return context


def _bulk_context(request: HttpRequest) -> dict[str, Any]:
    """The bulk actions of the contact list a member may run on search results."""
    membership = request.membership
    actions = []
    if can(membership, "change", "contacts"):
        actions += [("add_label", "Ajouter l'étiquette"), ("remove_label", "Retirer l'étiquette")]
        if can(membership, "change", "segments"):
            actions.append(("add_group", "Ajouter au groupe"))
    if can(membership, "add", "interactions"):
        actions.append(("record_interaction", "Enregistrer une interaction"))
    if not actions:
        return {"bulk_actions": []}
    return {
        "bulk_actions": actions,
        "labels": Label.objects.for_org(request.organization).order_by("name"),
        "groups": Group.objects.for_org(request.organization).order_by("name"),
    }


# The builder ----------------------------------------------------------------------------


@member_required()
def search_builder(request: HttpRequest) -> HttpResponse:
    """/recherche/: the builder of one table, its count, its description and its results."""
    params = request.POST if request.method == "POST" else request.GET
    return _builder_page(request, table=_table(request, params), segment=None)


@member_required()
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The builder opened on a segment's tree; « Enregistrer » saves it back."""
    segment = get_segment(request, pk, action="change")
    if hidden_from(segment.tree, CONTACTS, page_context(request)):
        messages.error(
            request,
            "Ce segment utilise des critères que votre profil ne permet pas de voir (données "
            "de paiement ou champs sensibles) : seul un membre qui les voit peut le modifier.",
        )
        return redirect("segment_detail", pk=segment.pk)
    return _builder_page(request, table=_table(request, {}), segment=segment)


def _builder_page(request: HttpRequest, *, table: Table, segment: Segment | None) -> HttpResponse:
    if request.method == "GET" and request.htmx and request.htmx.target == "search-results":
        tree, _problem = forms.load_tree(request.GET.get("arbre"))
        return TemplateResponse(
            request, "search/partials/_results.html", _results_context(request, table, tree)
        )
    ctx = page_context(request)
    builder = forms.Builder(
        table.registry, ctx, forms.Choices(ctx, exclude_segment=segment.pk if segment else None)
    )
    save = {
        "name": segment.name if segment else "",
        "description": segment.description if segment else "",
        "errors": [],
        "open": segment is not None,
    }
    if request.method == "POST":
        tree, problem = builder.read(request.POST)
        action = request.POST.get("action", "")
        save.update(
            name=request.POST.get("nom", save["name"]),
            description=request.POST.get("description", save["description"]),
        )
        if action == "save" and table.key == "contacts":
            saved = _save_segment(request, segment, tree, save)
            if saved is not None:
                url = reverse("segment_detail", args=[saved.pk])
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        else:
            tree = builder.apply(tree, action)
    else:
        tree, problem = forms.load_tree(segment.tree if segment else request.GET.get("arbre"))
    error = check(tree, table.registry, ctx)
    context = {
        "table": table,
        "tables": tables_for(request),
        "segment": segment,
        "view": forms.render_tree(builder, tree, error),
        "tree_json": forms.dump_tree(tree),
        "problem": problem,
        "save": save,
        "may_save": table.key == "contacts"
        and can(request.membership, "change" if segment else "add", "segments"),
        "builder_url": reverse("segment_edit", args=[segment.pk])
        if segment
        else reverse("search_builder"),
    }
    if request.htmx and request.method == "POST":
        return TemplateResponse(request, "search/partials/_builder.html", context)
    context.update(_results_context(request, table, tree))
    context["initial"] = True
    context["job"] = as_id(request.GET.get("tache", ""))
    return TemplateResponse(request, "search/builder.html", context)


def _save_segment(
    request: HttpRequest, segment: Segment | None, tree: dict, save: dict
) -> Segment | None:
    require(request, "change" if segment else "add", "segments")
    try:
        saved = services.save_segment(
            organization=request.organization,
            actor=Actor.for_user(request.user),
            segment=segment,
            name=save["name"],
            description=save["description"],
            tree=tree,
            membership=request.membership,
        )
    except ValidationError as error:
        save["open"] = True
        save["errors"] = error.message_dict.get("name", [])
        if "tree" in error.message_dict and not save["errors"]:
            save["errors"] = ["Corrigez d'abord la condition signalée."]
        return None
    messages.success(request, f"Segment « {saved.name} » enregistré.")
    return saved


@member_required()
def search_count(request: HttpRequest) -> HttpResponse:
    """The live count and the plain-French description of the tree being built; then the
    results follow (a loader in the answer), unless the page has just shown them."""
    params = request.POST if request.method == "POST" else request.GET
    table = _table(request, params)
    ctx = page_context(request)
    if request.method == "POST":
        builder = forms.Builder(table.registry, ctx, forms.Choices(ctx))
        tree, problem = builder.read(request.POST)
    else:
        tree, problem = forms.load_tree(request.GET.get("arbre"))
    error = check(tree, table.registry, ctx)
    context: dict[str, Any] = {
        "table": table,
        "problem": problem,
        "tree_json": forms.dump_tree(tree),
        "initial": request.GET.get("initial") == "1",
        "editing": bool(params.get("segment")),
    }
    if error is not None:
        context["error"] = forms.error_message(error, tree)
        context["error_path"] = forms.error_node(error, forms.tree_paths(tree, table.registry, ctx))
    else:
        rows = table.registry.rows(ctx).filter(compile_tree(tree, table.registry, ctx))
        context["count_text"] = table.count_text(rows.count())
        context["description"] = describe_tree(tree, table.registry, ctx)
        context["results_params"] = urlencode({"table": table.key, "arbre": context["tree_json"]})
    return TemplateResponse(request, "search/partials/_status.html", context)


@member_required()
def search_bulk_interaction(request: HttpRequest) -> HttpResponse:
    """« Enregistrer une interaction » for every contact of a search's results: the form of
    the contact list's bulk action, on the contacts the tree finds."""
    require(request, "view", "contacts")
    params = request.POST if request.method == "POST" else request.GET
    tree, _problem = forms.load_tree(params.get("arbre"))
    ctx = page_context(request)
    back = forms.search_url(tree)
    error = check(tree, CONTACTS, ctx)
    if error is not None:
        require(request, "add", "interactions")
        messages.error(request, forms.error_message(error, tree))
        return redirect(back)
    contacts = CONTACTS.rows(ctx).filter(compile_tree(tree, CONTACTS, ctx))
    # The bulk form of the interactions app; beyond its inline limit, its background job
    # finds the same contacts again by the tree.
    return interaction_views._many(
        request,
        contacts=contacts,
        title="Interaction pour les résultats de la recherche",
        back_url=back,
        back_label="Recherche avancée",
        hidden=[("arbre", forms.dump_tree(tree))],
        done_url=back,
        spec={"tree": tree},
    )


# Segments -------------------------------------------------------------------------------


def get_segment(request: HttpRequest, pk: int, action: str = "view") -> Segment:
    """A segment of the member's organisation (404 otherwise), with the right for `action`."""
    require(request, action, "segments")
    return get_object_or_404(Segment.objects.for_org(request.organization), pk=pk)


def _definition(segment: Segment, ctx: SearchContext) -> tuple[str, str]:
    return describe(segment.tree, CONTACTS, ctx)


def _said(segment: Segment, ctx: SearchContext) -> str:
    """A segment's definition in French without checking it (a list of many segments: the
    names come from the page's cache, no query per segment)."""
    try:
        return describe_tree(segment.tree, CONTACTS, ctx)
    except (KeyError, TypeError, ValueError, AttributeError):
        return "Définition à revoir."


def _members(segment: Segment, ctx: SearchContext) -> QuerySet:
    return CONTACTS.rows(ctx).filter(compile_tree(segment.tree, CONTACTS, ctx))


@member_required("segments", "view")
def segment_list(request: HttpRequest) -> HttpResponse:
    """Every segment: name, definition in French, live count (lazy), last nightly count."""
    ctx = page_context(request)
    ctx.preload(Label, Group, InteractionType, InteractionCategory)
    if can(request.membership, "view", "payments"):
        ctx.preload(Campaign)
    segments = Segment.objects.for_org(request.organization).order_by("name", "pk")
    page = Paginator(segments, 50).get_page(request.GET.get("page"))
    rows = [(segment, _said(segment, ctx)) for segment in page]
    return TemplateResponse(
        request,
        "search/segment_list.html",
        {"page": page, "rows": rows},
    )


@member_required()
def segment_count(request: HttpRequest, pk: int) -> HttpResponse:
    """A segment's size now (a lazy piece of the list and of the segment page)."""
    segment = get_segment(request, pk)
    require(request, "view", "contacts")
    ctx = page_context(request)
    error = check(segment.tree, CONTACTS, ctx)
    total = _members(segment, ctx).count() if error is None else None
    return TemplateResponse(
        request,
        "search/partials/_segment_count.html",
        {"total": total, "error": forms.error_message(error, segment.tree) if error else ""},
    )


@dataclass
class Point:
    start: dt.date
    label: str
    count: int | None = None  # None: no nightly record in this period
    entered: int = 0
    left: int = 0
    x: float = 0
    y: float = 0
    height: float = 0


@dataclass
class Chart:
    points: list[Point]
    step: str
    width: int = 640
    height: int = 160
    bar: float = 0
    top: int = 0

    @property
    def recorded(self) -> list[Point]:
        return [p for p in self.points if p.count is not None]


STEPS = {"semaine": 26, "mois": 24}  # periods shown at most
MIN_SLOTS = 8  # periods shown at least, so a young segment's bars stay narrow


def _period_start(day: dt.date, step: str) -> dt.date:
    return day - dt.timedelta(days=day.weekday()) if step == "semaine" else day.replace(day=1)


def _next_period(start: dt.date, step: str) -> dt.date:
    if step == "semaine":
        return start + dt.timedelta(weeks=1)
    return (start + dt.timedelta(days=32)).replace(day=1)


def count_history(segment: Segment, step: str) -> Chart:
    """The nightly counts as one bar per week or month, the latest period at the right:
    the last count of each period, its entries and exits summed; a period without a
    record stays empty."""
    current = _period_start(timezone.localdate(), step)
    first, shortest = current, current
    for i in range(STEPS[step] - 1):
        first = _period_start(first - dt.timedelta(days=1), step)
        if i < MIN_SLOTS - 1:
            shortest = first
    rows = (
        SegmentCount.objects.for_org(segment.organization)
        .filter(segment=segment, day__gte=first)
        .order_by("day")
        .values_list("day", "count", "entered", "left")
    )
    recorded: dict[dt.date, Point] = {}
    for day, count, entered, left in rows:
        start = _period_start(day, step)
        label = f"semaine du {start:%d/%m/%Y}" if step == "semaine" else f"{start:%m/%Y}"
        point = recorded.setdefault(start, Point(start, label))
        point.count = count
        point.entered += entered
        point.left += left
    chart = Chart([], step)
    if not recorded:
        return chart
    start = min(min(recorded), shortest)  # at least MIN_SLOTS periods, however young
    while start <= current:
        label = f"semaine du {start:%d/%m/%Y}" if step == "semaine" else f"{start:%m/%Y}"
        chart.points.append(recorded.get(start, Point(start, label)))
        start = _next_period(start, step)
    chart.top = max(p.count for p in chart.recorded) or 1
    slot = chart.width / len(chart.points)
    chart.bar = round(slot * 0.7, 1)
    usable = chart.height - 20
    for i, point in enumerate(chart.points):
        point.x = round(i * slot + slot * 0.15, 1)
        if point.count is not None:
            point.height = round(usable * point.count / chart.top, 1)
            point.y = round(chart.height - point.height, 1)
    return chart


def _members_context(request: HttpRequest, segment: Segment, ctx: SearchContext) -> dict:
    query = ResultsQuery.from_params(request.GET, TABLES["contacts"])
    query.columns = ["name", "email", "city", "labels"]
    page = paginate(_members(segment, ctx), query, TABLES["contacts"].columns)
    page.columns = [CONTACT_COLUMNS[key] for key in query.columns]
    page.labels_by_row = labels_by_row(
        organization=request.organization, model=Contact, ids=[c.pk for c in page.rows]
    )
    next_url = f"?{urlencode({'apres': page.next_cursor})}" if page.next_cursor else ""
    return {
        "members": page,
        "members_next": next_url,
        "members_first": "?" if query.after else "",
        "entity": SimpleNamespace(key="contact"),
    }


class JournalQuery:
    """Newest movements first, by keyset on (day, pk)."""

    sort = "day"
    descending = True
    before = ""
    size = JOURNAL_SIZE

    def __init__(self, after: str, size: int = JOURNAL_SIZE):
        self.after, self.size = after, size


JOURNAL_SORT = {"day": Column("day", "Jour", ("day",))}


def _journal(request: HttpRequest, events: QuerySet, size: int = JOURNAL_SIZE) -> Page:
    return paginate(
        events.select_related("contact", "segment"),
        JournalQuery(request.GET.get("apres", ""), size),
        JOURNAL_SORT,
    )


@member_required()
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    segment = get_segment(request, pk)
    ctx = page_context(request)
    events = SegmentEvent.objects.for_org(request.organization).filter(segment=segment)
    journal = {
        "segment": segment,
        "journal": _journal(request, events),
        "mode": "segment",
        "journal_url": reverse("segment_detail", args=[segment.pk]),
        "journal_target": "#segment-journal",
    }
    if request.htmx and request.htmx.target == "segment-journal":
        return TemplateResponse(request, "search/partials/_journal.html", journal)
    definition, problem = _definition(segment, ctx)
    may_view_contacts = can(request.membership, "view", "contacts")
    context: dict[str, Any] = {
        **journal,
        "definition": definition,
        "problem": problem,
        "may_view_contacts": may_view_contacts,
        # Criteria this member may not see stay unseen: no raw tree in the page.
        "tree_json": ""
        if hidden_from(segment.tree, CONTACTS, ctx)
        else forms.dump_tree(segment.tree),
    }
    if may_view_contacts and not problem:
        context.update(_members_context(request, segment, ctx))
    if request.htmx and request.htmx.target == "segment-members":
        return TemplateResponse(request, "search/partials/_members.html", context)
    step = request.GET.get("points") if request.GET.get("points") in STEPS else "semaine"
    context["chart"] = count_history(segment, step)
    return TemplateResponse(request, "search/segment_detail.html", context)


@member_required()
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then delete; a segment another one uses stays, and the page says why."""
    segment = get_segment(request, pk, action="delete")
    refusal = ""
    if request.method == "POST":
        try:
            services.delete_segment(
                organization=request.organization,
                actor=Actor.for_user(request.user),
                segment=segment,
            )
        except ValidationError as error:
            refusal = " ".join(error.messages)
        else:
            messages.success(request, f"Segment « {segment.name} » supprimé.")
            return redirect("segment_list")
    return TemplateResponse(
        request, "search/segment_delete.html", {"segment": segment, "refusal": refusal}
    )


@member_required()
def segment_why(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    """« Pourquoi ce contact est-il là ? »: each condition, met or not, for one contact."""
    segment = get_segment(request, pk)
    contact = contacts_access.get_contact(request, contact_pk)
    ctx = page_context(request)
    error = check(segment.tree, CONTACTS, ctx)
    lines, member = [], False
    if error is None:
        explained = explain(
            request.organization, segment.tree, contact.pk, membership=request.membership
        )
        lines = why_rows(segment.tree, {line["path"]: line for line in explained})
        member = _members(segment, ctx).filter(pk=contact.pk).exists()
    return render_page(
        request,
        "search/segment_why.html",
        {
            "segment": segment,
            "contact": contact,
            "lines": lines,
            "member": member,
            "problem": forms.error_message(error, segment.tree) if error else "",
        },
    )


GROUP_HEADINGS = {
    "all": "toutes ces conditions :",
    "any": "au moins une de ces conditions :",
    "none": "aucune de ces conditions :",
}


def why_rows(tree: dict, lines: dict[str, dict]) -> list[dict]:
    """explain()'s conditions in the tree's order, under headings for the nested groups,
    each group marked as met or not (an empty group sets no condition)."""
    rows: list[dict] = []

    def visit(node: Any, path: str, depth: int, negated: bool) -> bool | None:
        if not (isinstance(node, dict) and "group" in node):
            line = lines.get(path)
            if line is None:
                return None
            rows.append({**line, "depth": depth})
            return line["satisfied"]
        kind = node["group"]
        heading: dict[str, Any] = {"heading": GROUP_HEADINGS.get(kind, ""), "depth": depth}
        if path:
            rows.append(heading)
        inner = negated != (kind == "none")
        met = [
            result
            for i, child in enumerate(node.get("children") or [])
            if (result := visit(child, f"{path}.children[{i}]".lstrip("."), depth + 1, inner))
            is not None
        ]
        if not met:
            heading["satisfied"] = None
            return None
        satisfied = all(met) if kind == "all" else any(met) if kind == "any" else not any(met)
        heading.update(satisfied=satisfied, supports=satisfied != negated)
        return satisfied

    visit(tree, "", 0, False)
    return rows


@member_required()
def contact_segments(request: HttpRequest, pk: int) -> HttpResponse:
    """The contact card's section: the segments it is in (at the last nightly run) and
    its journal of entries and exits."""
    contact = contacts_access.get_contact(request, pk)
    require(request, "view", "segments")
    organization = request.organization
    current = (
        SegmentMember.objects.for_org(organization)
        .filter(contact=contact)
        .select_related("segment")
        .order_by("segment__name")
    )
    events = SegmentEvent.objects.for_org(organization).filter(contact=contact)
    return render_page(
        request,
        "search/contact_segments_page.html",
        {
            "contact": contact,
            "current": current,
            "journal": _journal(request, events, CARD_JOURNAL_SIZE),
            "section_url": reverse("contact_segments", args=[contact.pk]),
        },
        partial="search/partials/_contact_segments.html",
    )
