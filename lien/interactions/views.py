"""Interaction pages: the organisation's table, the sections of the contact, structure and
group pages, recording one interaction or the same one for many contacts, editing, and
the settings of types, categories and labels.

Thin views: access helper → form → service → redirect or partial. Every list is a
keyset page read in a constant number of queries. The card sections are partials
loaded by htmx; opened without htmx they are whole pages, so every link works.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from lien.contacts import access as contacts_access
from lien.contacts.models import Contact, ContactStructureLink, GroupMembership, Label
from lien.contacts.selectors import (
    CONTACT_COLUMNS,
    ListQuery,
    contact_search,
    filtered_contacts,
)
from lien.core.access import member_required, require
from lien.core.audit import Actor
from lien.core.jobs import start_job
from lien.core.params import as_ids
from lien.core.rights import can
from lien.core.views import form_errors_to, render_page
from lien.interactions import access, selectors, services
from lien.interactions.forms import InteractionForm, SettingForm
from lien.interactions.models import (
    Interaction,
    InteractionCategory,
    InteractionLabel,
    InteractionStatus,
    InteractionType,
)
from lien.interactions.tasks import record_for_contacts

CARD_PAGE_SIZE = 10
SEARCH_LIMIT = 15
KIND_TITLES = {"type": "Type", "category": "Catégorie", "label": "Libellé"}


def _posted(request: HttpRequest):
    """The POST data, even empty (an empty form must be told what it lacks), or None."""
    return request.POST if request.method == "POST" else None


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)


def _back(request: HttpRequest, default: str) -> str:
    """The page a form came from (`retour`), if it is one of ours; else `default`."""
    target = request.POST.get("retour") or request.GET.get("retour") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return default


def _decorate(rows: list[Interaction]) -> list[Interaction]:
    """Mark the rows a source owns: they change and go with it, never by hand."""
    for row in rows:
        row.owner = services.SOURCE_OWNERS.get(row.source, "")
    return rows


def _filter_choices(request: HttpRequest) -> dict[str, Any]:
    organization = request.organization
    return {
        "types": InteractionType.objects.for_org(organization).order_by("position", "name"),
        "categories": InteractionCategory.objects.for_org(organization).order_by("name"),
        "statuses": InteractionStatus.choices,
    }


def _linked_structures(organization, contact: Contact, extra=None) -> list[tuple[int, str]]:
    """The structures a contact is linked to: the ones an interaction may be recorded with."""
    rows = list(
        ContactStructureLink.objects.for_org(organization)
        .filter(contact=contact, structure__is_deleted=False)
        .order_by("structure__name", "structure_id")
        .values_list("structure_id", "structure__name")
    )
    if extra is not None and extra.pk not in {pk for pk, _name in rows}:
        rows.append((extra.pk, extra.name))
    return rows


# Sections of the contact, structure and group pages --------------------------------------


def _section(request: HttpRequest, page, query, context: dict[str, Any]) -> HttpResponse:
    _decorate(page.rows)
    context.update(
        page=page,
        query=query,
        filters=urlencode(query.filter_params()),
        **_filter_choices(request),
    )
    return render_page(
        request,
        "interactions/section_page.html",
        context,
        partial="interactions/partials/_section.html",
    )


def _card_query(request: HttpRequest) -> selectors.InteractionQuery:
    query = selectors.InteractionQuery.from_params(request.GET)
    if "taille" not in request.GET:
        query.size = CARD_PAGE_SIZE
    return query


@member_required()
def contact_interactions(request: HttpRequest, pk: int) -> HttpResponse:
    """A contact's timeline, newest first, with the form to add one."""
    contact = contacts_access.get_contact(request, pk)
    require(request, "view", "interactions")
    query = _card_query(request)
    page = selectors.timeline(organization=request.organization, contact=contact, query=query)
    form = None
    if can(request.membership, "add", "interactions"):
        form = InteractionForm(
            organization=request.organization,
            structures=_linked_structures(request.organization, contact),
            auto_id="id_new_%s",
        )
    return _section(
        request,
        page,
        query,
        {
            "section": "contact",
            "contact": contact,
            "section_url": reverse("contact_interactions", args=[contact.pk]),
            "target": "contact-interactions",
            "back_url": reverse("contact_detail", args=[contact.pk]),
            "add_form": form,
        },
    )


@member_required()
def structure_interactions(request: HttpRequest, pk: int) -> HttpResponse:
    """The structure's roll-up: recorded with it, or by a contact linked to it."""
    structure = contacts_access.get_structure(request, pk)
    require(request, "view", "interactions")
    query = _card_query(request)
    page = selectors.structure_rollup(
        organization=request.organization, structure=structure, query=query
    )
    return _section(
        request,
        page,
        query,
        {
            "section": "structure",
            "structure": structure,
            "section_url": reverse("structure_interactions", args=[structure.pk]),
            "target": "structure-interactions",
            "back_url": reverse("structure_detail", args=[structure.pk]),
        },
    )


@member_required()
def group_interactions(request: HttpRequest, pk: int) -> HttpResponse:
    """The interactions of a group's contacts (who received, who opened the invitation…)."""
    group = contacts_access.get_group(request, pk)
    require(request, "view", "interactions")
    query = _card_query(request)
    page = selectors.group_interactions(organization=request.organization, group=group, query=query)
    return _section(
        request,
        page,
        query,
        {
            "section": "group",
            "group": group,
            "section_url": reverse("group_interactions", args=[group.pk]),
            "target": "group-interactions",
            "back_url": reverse("group_detail", args=[group.pk]),
        },
    )


# Recording ------------------------------------------------------------------------------


@member_required()
def contact_interaction_create(request: HttpRequest, pk: int) -> HttpResponse:
    """« Ajouter une interaction » on the contact card."""
    contact = contacts_access.get_contact(request, pk)
    require(request, "add", "interactions")
    form = InteractionForm(
        _posted(request),
        organization=request.organization,
        structures=_linked_structures(request.organization, contact),
    )
    if request.method == "POST" and form.is_valid():
        try:
            interaction = services.record_interaction(
                organization=request.organization,
                actor=_actor(request),
                contact=contact,
                create_missing=True,
                **form.values(),
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, f"Interaction « {interaction.type} » enregistrée.")
            return redirect(f"{reverse('contact_detail', args=[contact.pk])}#interactions")
    return TemplateResponse(
        request,
        "interactions/form.html",
        {
            "form": form,
            "contact": contact,
            "title": f"Nouvelle interaction avec {contact}",
            "back_url": reverse("contact_detail", args=[contact.pk]),
        },
    )


@member_required("interactions", "add")
def interaction_create(request: HttpRequest) -> HttpResponse:
    """« Nouvelle interaction » from the table: the contact is chosen by quick search."""
    form = InteractionForm(_posted(request), organization=request.organization, choose_contact=True)
    chosen = (
        Contact.objects.for_org(request.organization)
        .not_deleted()
        .filter(pk__in=as_ids([request.POST.get("contact") or request.GET.get("contact", "")]))
        .first()
    )
    if request.method == "POST" and form.is_valid():
        try:
            interaction = services.record_interaction(
                organization=request.organization,
                actor=_actor(request),
                contact=request.POST.get("contact", ""),
                create_missing=True,
                **form.values(),
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(
                request,
                f"Interaction « {interaction.type} » enregistrée pour {interaction.contact}.",
            )
            return redirect("interaction_list")
    return TemplateResponse(
        request,
        "interactions/form.html",
        {
            "form": form,
            "choose_contact": True,
            "chosen": chosen,
            "title": "Nouvelle interaction",
            "back_url": reverse("interaction_list"),
        },
    )


@member_required("contacts", "view")
def interaction_contact_search(request: HttpRequest) -> HttpResponse:
    """Contacts matching a name, email or phone, to pick the one an interaction is with."""
    q = request.GET.get("q", "").strip()[:100]
    results = (
        Contact.objects.for_org(request.organization)
        .not_deleted()
        .filter(contact_search(q))
        .order_by("last_name_normalized", "first_name_normalized", "pk")[:SEARCH_LIMIT]
        if q
        else []
    )
    return TemplateResponse(
        request, "interactions/partials/_contact_choices.html", {"results": results, "q": q}
    )


# Above this many contacts, a bulk recording runs as a background job.
INLINE_LIMIT = 2000


def _job_values(values: dict) -> dict:
    """The form's values as JSON for a task: the date checked now, objects as ids."""
    return {
        **values,
        "occurred_at": services.as_datetime(values["occurred_at"]).isoformat(),
        "structure": values["structure"].pk if values["structure"] else None,
        **{
            key: values[key].pk if hasattr(values[key], "pk") else values[key]
            for key in ("type", "category", "label")
        },
    }


def _many(
    request: HttpRequest,
    *,
    contacts,
    title: str,
    back_url: str,
    back_label: str,
    hidden: list[tuple[str, str]],
    done_url: str,
    spec: dict | None = None,
) -> HttpResponse:
    """The same interaction for many contacts: one form, one transaction, all or nothing.

    `spec` says how a background job finds the same contacts again ({"group": id} or
    {"filters": query string}); beyond INLINE_LIMIT contacts the work goes to one.
    """
    require(request, "add", "interactions")
    count = contacts.count()
    form = InteractionForm(_posted(request), organization=request.organization)
    big = request.method == "POST" and spec is not None and count > INLINE_LIMIT
    if big and form.is_valid():
        # Thousands of contacts: a background job (one transaction) with a progress bar.
        try:
            values = _job_values(form.values())
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            job = start_job(
                organization=request.organization,
                kind="bulk_interactions",
                label=f"{title} ({count} contacts)",
                task=record_for_contacts,
                created_by=request.user,
                spec=spec,
                values=values,
                user_id=request.user.pk,
            )
            messages.info(request, "L'enregistrement est lancé : suivez sa progression ici.")
            return redirect("job_progress", pk=job.pk)
    if request.method == "POST" and not big and form.is_valid():
        try:
            created = services.record_interactions(
                organization=request.organization,
                actor=_actor(request),
                contact_ids=contacts.values_list("pk", flat=True),
                create_missing=True,
                **form.values(),
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            plural = "s" if created > 1 else ""
            messages.success(request, f"Interaction enregistrée pour {created} contact{plural}.")
            return redirect(done_url)
    return TemplateResponse(
        request,
        "interactions/bulk_form.html",
        {
            "form": form,
            "count": count,
            "title": title,
            "back_url": back_url,
            "back_label": back_label,
            "hidden": hidden,
        },
    )


@member_required()
def group_interaction_create(request: HttpRequest, pk: int) -> HttpResponse:
    """« Enregistrer une interaction pour tout le groupe »: every contact member."""
    group = contacts_access.get_group(request, pk)
    members = GroupMembership.objects.for_org(request.organization).filter(
        group=group, contact__isnull=False
    )
    contacts = (
        Contact.objects.for_org(request.organization)
        .not_deleted()
        .filter(pk__in=members.values("contact_id"))
    )
    back = reverse("group_detail", args=[group.pk])
    return _many(
        request,
        contacts=contacts,
        title=f"Interaction pour tout le groupe « {group.name} »",
        back_url=back,
        back_label=group.name,
        hidden=[],
        done_url=f"{back}#interactions",
        spec={"group": group.pk},
    )


@member_required()
def interaction_bulk(request: HttpRequest) -> HttpResponse:
    """The bulk action of the contact list: the ticked contacts, or the whole filtered list."""
    params = request.POST if request.method == "POST" else request.GET
    if params.get("tous") == "1":
        filters = params.get("filtres", "")
        query = ListQuery.from_params(QueryDict(filters), CONTACT_COLUMNS)
        contacts = filtered_contacts(organization=request.organization, query=query)
        hidden = [("tous", "1"), ("filtres", filters)]
        back = f"{reverse('contact_list')}?{filters}"
    else:
        ids = as_ids(params.getlist("ids"))
        contacts = Contact.objects.for_org(request.organization).not_deleted().filter(pk__in=ids)
        hidden = [("ids", str(pk)) for pk in ids]
        back = reverse("contact_list")
    if request.method == "GET" and not hidden:
        require(request, "add", "interactions")
        messages.error(request, "Cochez au moins un contact dans la liste.")
        return redirect("contact_list")
    return _many(
        request,
        contacts=contacts,
        title="Interaction pour les contacts sélectionnés",
        back_url=back,
        back_label="Contacts",
        hidden=hidden,
        done_url=back,
        spec={"filters": params.get("filtres", "")} if params.get("tous") == "1" else None,
    )


# The table ------------------------------------------------------------------------------


@member_required("interactions", "view")
def interaction_list(request: HttpRequest) -> HttpResponse:
    """Every interaction of the organisation: filters, sort by date, keyset pages."""
    query = selectors.InteractionQuery.from_params(request.GET)
    page = selectors.table(organization=request.organization, query=query)
    _decorate(page.rows)
    context = {
        "page": page,
        "query": query,
        "filters": urlencode(query.filter_params()),
        "labels": InteractionLabel.objects.for_org(request.organization).order_by("name"),
        "contact_labels": Label.objects.for_org(request.organization).order_by("name"),
        "sources": Interaction.Source.choices,
        "page_sizes": selectors.PAGE_SIZES,
        "back_url": request.get_full_path(),
        **_filter_choices(request),
    }
    if request.htmx and request.htmx.target == "interaction-results":
        return TemplateResponse(request, "interactions/partials/_table_results.html", context)
    return TemplateResponse(request, "interactions/list.html", context)


@member_required("interactions", "view")
def interaction_count(request: HttpRequest) -> HttpResponse:
    """The total, fetched apart so that showing a page never waits for it."""
    query = selectors.InteractionQuery.from_params(request.GET)
    total = selectors.filtered(
        Interaction.objects.for_org(request.organization),
        organization=request.organization,
        query=query,
    ).count()
    return TemplateResponse(request, "interactions/partials/_count.html", {"total": total})


# Edit and delete ------------------------------------------------------------------------


@member_required()
def interaction_edit(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = access.get_interaction(request, pk, action="change")
    back = _back(request, reverse("contact_detail", args=[interaction.contact_id]))
    form = InteractionForm(
        _posted(request),
        organization=request.organization,
        structures=_linked_structures(
            request.organization, interaction.contact, extra=interaction.structure
        ),
        instance=interaction,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_interaction(
                organization=request.organization,
                actor=_actor(request),
                interaction=interaction,
                create_missing=True,
                **form.values(),
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, f"Interaction « {interaction.type} » enregistrée.")
            return redirect(back)
    return TemplateResponse(
        request,
        "interactions/form.html",
        {
            "form": form,
            "interaction": interaction,
            "owner": services.SOURCE_OWNERS.get(interaction.source, ""),
            "contact": interaction.contact,
            "title": f"Interaction avec {interaction.contact}",
            "back_url": back,
        },
    )


@member_required()
@require_POST
def interaction_delete(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = access.get_interaction(request, pk, action="delete")
    back = _back(request, reverse("contact_detail", args=[interaction.contact_id]))
    try:
        services.delete_interaction(
            organization=request.organization, actor=_actor(request), interaction=interaction
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Interaction « {interaction.type} » supprimée.")
    return redirect(back)


# Settings: types, categories, labels ----------------------------------------------------


def _agreement(kind: str) -> str:
    """« supprimée » for a category, « supprimé » for a type or a label."""
    return "e" if kind == "category" else ""


def _usage(request: HttpRequest, column: str) -> dict[int | None, int]:
    """How many interactions use each type (category, label): one grouped query."""
    return dict(
        Interaction.objects.for_org(request.organization)
        .values_list(column)
        .annotate(n=Count("pk"))
        .values_list(column, "n")
    )


@member_required("settings", "view")
def settings_interactions(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    sections = []
    for slug, (kind, model) in access.SETTING_KINDS.items():
        usage = _usage(request, kind)
        rows = list(model.objects.for_org(organization))
        for row in rows:
            row.usage = usage.get(row.pk, 0)
        sections.append(
            {
                "slug": slug,
                "kind": kind,
                "rows": rows,
                "form": SettingForm(kind=kind, auto_id=f"id_{slug}_%s"),
            }
        )
    return TemplateResponse(request, "interactions/settings.html", {"sections": sections})


def _setting_page(request, *, slug: str, kind: str, form, instance=None) -> HttpResponse:
    return TemplateResponse(
        request,
        "interactions/setting_form.html",
        {"form": form, "instance": instance, "slug": slug, "kind_title": KIND_TITLES[kind]},
    )


def _save_setting(request: HttpRequest, slug: str, instance=None) -> HttpResponse:
    kind, _model = access.setting_kind(slug)
    initial = None
    if instance is not None:
        initial = {"name": instance.name, "default_status": getattr(instance, "default_status", "")}
    form = SettingForm(_posted(request), kind=kind, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_setting(
                organization=request.organization,
                actor=_actor(request),
                kind=kind,
                instance=instance,
                name=form.cleaned_data["name"],
                default_status=form.cleaned_data.get("default_status") or None,
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            e = _agreement(kind)
            messages.success(request, f"{KIND_TITLES[kind]} « {saved.name} » enregistré{e}.")
            return redirect(f"{reverse('settings_interactions')}#{slug}")
    return _setting_page(request, slug=slug, kind=kind, form=form, instance=instance)


@member_required("settings", "add")
def settings_interaction_create(request: HttpRequest, kind: str) -> HttpResponse:
    return _save_setting(request, kind)


@member_required()
def settings_interaction_edit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    instance = access.get_setting(request, kind, pk, action="change")
    return _save_setting(request, kind, instance)


@member_required()
def settings_interaction_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Confirm (with how many interactions lose it), then delete; a used type stays."""
    instance = access.get_setting(request, kind, pk, action="delete")
    service_kind, _model = access.setting_kind(kind)
    if request.method == "POST":
        try:
            used = services.delete_setting(
                organization=request.organization, actor=_actor(request), instance=instance
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            e = _agreement(service_kind)
            lost = f" : retiré{e} de {used} interaction(s)" if service_kind != "type" else ""
            messages.success(
                request, f"{KIND_TITLES[service_kind]} « {instance.name} » supprimé{e}{lost}."
            )
        return redirect(f"{reverse('settings_interactions')}#{kind}")
    return TemplateResponse(
        request,
        "interactions/setting_delete.html",
        {
            "instance": instance,
            "slug": kind,
            "kind": service_kind,
            "kind_title": KIND_TITLES[service_kind],
            "count": services.usage_count(instance),
        },
    )
