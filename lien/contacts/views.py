"""Contact and structure pages: lists, cards, forms, labels, links, bulk actions.

The two entities share one set of list views through `Entity`, which names what
differs (model, columns, selectors, rights, templates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from lien.contacts import access, custom_fields, selectors, services
from lien.contacts.forms import ContactForm, StructureForm
from lien.contacts.models import Contact, CustomField, Group, Label, Structure
from lien.contacts.tasks import apply_bulk_action, bulk_action, bulk_message
from lien.core.access import member_required, require
from lien.core.audit import Actor
from lien.core.jobs import start_job
from lien.core.models import Membership
from lien.core.params import as_ids
from lien.core.rights import can
from lien.search.criteria import TreeError
from lien.search.forms import load_tree, search_url
from lien.search.tree import search


@dataclass(frozen=True)
class Entity:
    key: str  # "contact" / "structure"
    model: type
    data_type: str
    columns: dict[str, selectors.Column]
    default_columns: list[str]
    target: str
    title: str
    singular: str
    new_label: str

    def url(self, name: str) -> str:
        return f"{self.key}_{name}"

    def filtered(self, request, query: selectors.ListQuery):
        if self.model is Contact:
            return selectors.filtered_contacts(organization=request.organization, query=query)
        return selectors.filtered_structures(organization=request.organization, query=query)

    def page(self, request, query, columns) -> selectors.Page:
        builder = selectors.contact_page if self.model is Contact else selectors.structure_page
        return builder(
            organization=request.organization,
            membership=request.membership,
            query=query,
            columns=columns,
        )


CONTACTS = Entity(
    "contact",
    Contact,
    "contacts",
    selectors.CONTACT_COLUMNS,
    selectors.DEFAULT_CONTACT_COLUMNS,
    CustomField.Target.CONTACT,
    "Contacts",
    "contact",
    "Nouveau contact",
)
STRUCTURES = Entity(
    "structure",
    Structure,
    "structures",
    selectors.STRUCTURE_COLUMNS,
    selectors.DEFAULT_STRUCTURE_COLUMNS,
    CustomField.Target.STRUCTURE,
    "Structures",
    "structure",
    "Nouvelle structure",
)
ENTITIES = {"contact": CONTACTS, "structure": STRUCTURES}
BULK_ACTIONS = {
    "add_label": ("change", "Ajouter l'étiquette"),
    "remove_label": ("change", "Retirer l'étiquette"),
    "add_group": ("change", "Ajouter au groupe"),
    "trash": ("delete", "Mettre à la corbeille"),
    "record_interaction": ("add", "Enregistrer une interaction"),
}


def bulk_right(key: str, entity: Entity) -> tuple[str, str] | None:
    """The right a bulk action needs on this list; None where the list does not offer it."""
    action = BULK_ACTIONS[key][0]
    if key == "record_interaction":  # the interactions page records them (many fields)
        return (action, "interactions") if entity.model is Contact else None
    return action, entity.data_type


def actor_of(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)


def chosen_columns(membership: Membership, entity: Entity) -> list[str]:
    return membership.preferences.get(f"{entity.key}.columns") or entity.default_columns


# Lists ----------------------------------------------------------------------------------


def entity_list(request: HttpRequest, entity: Entity) -> HttpResponse:
    require(request, "view", entity.data_type)
    query = selectors.ListQuery.from_params(request.GET, entity.columns)
    columns, available = selectors.list_columns(
        organization=request.organization,
        membership=request.membership,
        base=entity.columns,
        target=entity.target,
        chosen=chosen_columns(request.membership, entity),
    )
    page = entity.page(request, query, columns)
    filters = urlencode(query.filter_params())
    context = {
        "entity": entity,
        "page": page,
        "query": query,
        "filters": filters,
        "available_columns": available.values(),
        "chosen_keys": [c.key for c in columns],
        "labels": Label.objects.for_org(request.organization).order_by("name"),
        "groups": Group.objects.for_org(request.organization).order_by("name"),
        "bulk_actions": [
            (key, label)
            for key, (_action, label) in BULK_ACTIONS.items()
            if (right := bulk_right(key, entity)) and can(request.membership, *right)
        ],
        "page_sizes": selectors.PAGE_SIZES,
    }
    if request.htmx and request.htmx.target == "list-results":
        return TemplateResponse(request, "contacts/partials/_list_results.html", context)
    return TemplateResponse(request, "contacts/list.html", context)


def entity_count(request: HttpRequest, entity: Entity) -> HttpResponse:
    """The total, fetched apart so that showing a page never waits for it."""
    require(request, "view", entity.data_type)
    query = selectors.ListQuery.from_params(request.GET, entity.columns)
    total = entity.filtered(request, query).count()
    return TemplateResponse(
        request, "contacts/partials/_count.html", {"total": total, "entity": entity}
    )


@require_POST
def entity_columns(request: HttpRequest, entity: Entity) -> HttpResponse:
    """Remember the member's column choice for this list."""
    require(request, "view", entity.data_type)
    _columns, available = selectors.list_columns(
        organization=request.organization,
        membership=request.membership,
        base=entity.columns,
        target=entity.target,
        chosen=[],
    )
    chosen = [key for key in request.POST.getlist("colonnes") if key in available]
    membership = request.membership
    membership.preferences[f"{entity.key}.columns"] = chosen or entity.default_columns
    membership.save(update_fields=["preferences"])
    return redirect(f"{reverse(entity.url('list'))}?{request.POST.get('filtres', '')}")


def _search_selection(request: HttpRequest, entity: Entity) -> tuple[dict | None, str]:
    """The tree of the advanced search a bulk form came from (None from a list), and where
    to go back: the search with that tree, or the list with its filters."""
    if entity.model is not Contact or "arbre" not in request.POST:
        return None, f"{reverse(entity.url('list'))}?{request.POST.get('filtres', '')}"
    tree, _problem = load_tree(request.POST.get("arbre"))
    return tree, search_url(tree)


@require_POST
def entity_bulk(request: HttpRequest, entity: Entity) -> HttpResponse:
    """A bulk action on the ticked rows, or on every row the list's filters (or the advanced
    search's tree) match."""
    tree, back = _search_selection(request, entity)
    action = request.POST.get("action", "")
    if action not in BULK_ACTIONS or bulk_right(action, entity) is None:
        messages.error(request, "Choisissez une action.")
        return redirect(back)
    require(request, *bulk_right(action, entity))
    every = request.POST.get("tous") == "1"
    if action == "record_interaction":
        if every and tree is not None:
            return redirect(f"{reverse('search_bulk_interaction')}?{back.partition('?')[2]}")
        selection = (
            [("tous", "1"), ("filtres", request.POST.get("filtres", ""))]
            if every
            else [("ids", pk) for pk in as_ids(request.POST.getlist("ids"))]
        )
        return redirect(f"{reverse('interaction_bulk')}?{urlencode(selection)}")
    organization = request.organization
    label = group = None
    if action in ("add_label", "remove_label"):
        label = get_object_or_404(
            Label.objects.for_org(organization), pk=request.POST.get("label") or 0
        )
    if action == "add_group":
        require(request, "change", "segments")
        group = get_object_or_404(
            Group.objects.for_org(organization), pk=request.POST.get("group") or 0
        )
    if every:
        if tree is not None:
            try:  # the member's rights, now: the job checks them again when it runs
                search(organization, tree, membership=request.membership)
            except TreeError as error:
                messages.error(request, f"La recherche n'est pas complète : {error.message}")
                return redirect(back)
        job = start_job(
            organization=organization,
            kind="bulk_action",
            label=f"{BULK_ACTIONS[action][1]} — {entity.title.lower()}",
            task=bulk_action,
            created_by=request.user,
            model_name=entity.key,
            filters=request.POST.get("filtres", ""),
            action=action,
            label_id=label.pk if label else None,
            group_id=group.pk if group else None,
            user_id=request.user.pk,
            tree=tree,
        )
        messages.info(
            request, "L'action est lancée sur toute la sélection : suivez sa progression."
        )
        return redirect(f"{back}&tache={job.pk}")
    ids = as_ids(request.POST.getlist("ids"))
    if not ids:
        messages.error(request, "Cochez au moins une ligne.")
        return redirect(back)
    changed = apply_bulk_action(
        organization=organization,
        actor=actor_of(request),
        model=entity.model,
        ids=ids,
        action=action,
        label=label,
        group=group,
    )
    messages.success(request, bulk_message(action, changed))
    return redirect(back)


# Create / edit --------------------------------------------------------------------------


def _definitions(request, entity: Entity) -> list[CustomField]:
    return custom_fields.definitions(
        organization=request.organization, target=entity.target, membership=request.membership
    )


def entity_form(request: HttpRequest, entity: Entity, pk: int | None = None) -> HttpResponse:
    get_one = access.get_contact if entity.model is Contact else access.get_structure
    instance = get_one(request, pk, action="change") if pk else None
    if instance is None:
        require(request, "add", entity.data_type)
    form_class = ContactForm if entity.model is Contact else StructureForm
    definitions = _definitions(request, entity)
    form = form_class(
        request.POST or None,
        instance=instance or entity.model(organization=request.organization),
        definitions=definitions,
    )
    duplicate = None
    if request.method == "POST" and form.is_valid():
        common = {
            "organization": request.organization,
            "actor": actor_of(request),
            "data": form.native_values(),
            "custom": form.custom_values(),
            "membership": request.membership,
        }
        try:
            if entity.model is Contact and instance is None:
                saved = services.create_contact(
                    **common, allow_duplicate_email=form.cleaned_data.get("allow_duplicate", False)
                )
            elif entity.model is Contact:
                saved = services.update_contact(**common, contact=instance)
            elif instance is None:
                saved = services.create_structure(**common)
            else:
                saved = services.update_structure(**common, structure=instance)
        except services.DuplicateEmail as error:
            duplicate = error.existing
            form.add_service_errors(error)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"« {saved} » est enregistré.")
            return redirect(entity.url("detail"), pk=saved.pk)
    return render(
        request,
        "contacts/form.html",
        {"entity": entity, "form": form, "instance": instance, "duplicate": duplicate},
    )


# Cards ----------------------------------------------------------------------------------


def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = access.get_contact(request, pk)
    card = selectors.contact_card(
        organization=request.organization, membership=request.membership, contact=contact
    )
    return render(
        request,
        "contacts/contact_detail.html",
        {
            "card": card,
            "contact": contact,
            "all_labels": Label.objects.for_org(request.organization).order_by("name"),
        },
    )


def structure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    structure = access.get_structure(request, pk)
    card = selectors.structure_card(
        organization=request.organization, membership=request.membership, structure=structure
    )
    return render(
        request,
        "contacts/structure_detail.html",
        {
            "card": card,
            "structure": structure,
            "all_labels": Label.objects.for_org(request.organization).order_by("name"),
        },
    )


@require_POST
def entity_delete(request: HttpRequest, entity: Entity, pk: int) -> HttpResponse:
    get_one = access.get_contact if entity.model is Contact else access.get_structure
    instance = get_one(request, pk, action="delete")
    services.trash(
        organization=request.organization,
        actor=actor_of(request),
        model=entity.model,
        ids=[instance.pk],
    )
    messages.success(
        request,
        f"« {instance} » est dans la corbeille : vous pouvez l'y restaurer pendant 30 jours.",
    )
    return redirect(entity.url("list"))


@require_POST
def entity_labels(request: HttpRequest, entity: Entity, pk: int) -> HttpResponse:
    """Add or remove one manual label on a card."""
    get_one = access.get_contact if entity.model is Contact else access.get_structure
    instance = get_one(request, pk, action="change")
    label = get_object_or_404(
        Label.objects.for_org(request.organization), pk=request.POST.get("label") or 0
    )
    operation = services.remove_labels if request.POST.get("retirer") else services.add_labels
    operation(
        organization=request.organization,
        actor=actor_of(request),
        model=entity.model,
        ids=[instance.pk],
        labels=[label],
    )
    return redirect(entity.url("detail"), pk=instance.pk)


# Contact ↔ structure links --------------------------------------------------------------


def _link_values(post) -> dict[str, Any]:
    def date_or_none(name: str):
        value = post.get(name, "").strip()
        if not value:
            return None
        try:
            return custom_fields.parse_date(value)
        except ValidationError as error:
            raise ValidationError({name: error.messages}) from error

    return {
        "role": post.get("role", ""),
        "start_date": date_or_none("start_date"),
        "end_date": date_or_none("end_date"),
        "is_main": post.get("is_main") == "on",
    }


@require_POST
def contact_link_structure(request: HttpRequest, pk: int) -> HttpResponse:
    contact = access.get_contact(request, pk, action="change")
    structure = get_object_or_404(
        Structure.objects.for_org(request.organization).not_deleted(),
        pk=request.POST.get("structure") or 0,
    )
    try:
        services.save_structure_link(
            organization=request.organization,
            actor=actor_of(request),
            contact=contact,
            structure=structure,
            **_link_values(request.POST),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{contact} est lié(e) à {structure}.")
    return redirect("contact_detail", pk=contact.pk)


@require_POST
def structure_link_edit(request: HttpRequest, pk: int) -> HttpResponse:
    link = access.get_structure_link(request, pk)
    try:
        services.save_structure_link(
            organization=request.organization,
            actor=actor_of(request),
            contact=link.contact,
            structure=link.structure,
            link=link,
            **_link_values(request.POST),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return _back_to_card(request, link)


def _back_to_card(request: HttpRequest, link) -> HttpResponse:
    """Links are edited from either card: go back to the one the form came from."""
    if request.POST.get("retour") == "structure":
        return redirect("structure_detail", pk=link.structure_id)
    return redirect("contact_detail", pk=link.contact_id)


@require_POST
def structure_link_delete(request: HttpRequest, pk: int) -> HttpResponse:
    link = access.get_structure_link(request, pk)
    services.delete_structure_link(
        organization=request.organization, actor=actor_of(request), link=link
    )
    messages.success(request, f"Le lien entre {link.contact} et {link.structure} est supprimé.")
    return _back_to_card(request, link)


def structure_search(request: HttpRequest) -> HttpResponse:
    """Structures matching a name, to pick one (htmx)."""
    require(request, "view", "structures")
    q = request.GET.get("q", "").strip()
    results = (
        Structure.objects.for_org(request.organization)
        .not_deleted()
        .filter(selectors.structure_search(q))
        .order_by("name_normalized", "pk")[:15]
        if q
        else []
    )
    return TemplateResponse(
        request, "contacts/partials/_structure_choices.html", {"results": results, "q": q}
    )


# URL-facing wrappers: one per entity, so URL names and rights read plainly ---------------


def _bind(view, entity: Entity):
    def wrapped(request, *args, **kwargs):
        return view(request, entity, *args, **kwargs)

    wrapped.__name__ = f"{entity.key}_{view.__name__}"
    return member_required()(wrapped)


contact_list = _bind(entity_list, CONTACTS)
contact_count = _bind(entity_count, CONTACTS)
contact_columns = _bind(entity_columns, CONTACTS)
contact_bulk = _bind(entity_bulk, CONTACTS)
contact_form = _bind(entity_form, CONTACTS)
contact_delete = _bind(entity_delete, CONTACTS)
contact_labels = _bind(entity_labels, CONTACTS)
structure_list = _bind(entity_list, STRUCTURES)
structure_count = _bind(entity_count, STRUCTURES)
structure_columns = _bind(entity_columns, STRUCTURES)
structure_bulk = _bind(entity_bulk, STRUCTURES)
structure_form = _bind(entity_form, STRUCTURES)
structure_delete = _bind(entity_delete, STRUCTURES)
structure_labels = _bind(entity_labels, STRUCTURES)
contact_detail = member_required()(contact_detail)
structure_detail = member_required()(structure_detail)
contact_link_structure = member_required()(contact_link_structure)
structure_link_edit = member_required()(structure_link_edit)
structure_link_delete = member_required()(structure_link_delete)
structure_search = member_required()(structure_search)
