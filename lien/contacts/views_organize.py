"""Pages that organise the community: labels, custom fields, groups, households, trash.

Thin views: access helper → form → service → redirect. Every row is reached
through `lien.contacts.access` (404 outside the organisation, 403 without the
right); every list is read in a constant number of queries.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from lien.contacts import access, services
from lien.contacts.custom_fields import definitions
from lien.contacts.forms_organize import (
    CustomFieldForm,
    GroupForm,
    HouseholdForm,
    LabelForm,
    RenameChoiceForm,
    address_of,
)
from lien.contacts.models import (
    Contact,
    ContactLabel,
    CustomField,
    Group,
    GroupMembership,
    Household,
    Label,
    Structure,
    StructureLabel,
)
from lien.contacts.selectors import (
    Column,
    ListQuery,
    contact_search,
    custom_values,
    paginate,
    structure_search,
)
from lien.core.access import require
from lien.core.audit import Actor, history_for
from lien.core.params import as_id, as_ids
from lien.core.rights import can
from lien.core.views import form_errors_to, member_required, render_page

SEARCH_LIMIT = 20
MEMBERS_PAGE_SIZE = 50
TRASH_PAGE_SIZE = 50


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)


def _card_url(url_name: str, pk: int) -> str:
    """The card of a contact or structure, or "" while that page does not exist."""
    try:
        return reverse(url_name, args=[pk])
    except NoReverseMatch:
        return ""


def _ids(request: HttpRequest, name: str) -> list[int]:
    return as_ids(request.POST.getlist(name))


# Labels ---------------------------------------------------------------------------------


def _labels_with_counts(organization, pks: list[int] | None = None):
    """Labels with how many contacts and structures (not in the trash) carry them.

    One query: a grouped, correlated subquery per kind rather than two joins,
    whose product would explode on a label carried by 100,000 contacts.
    """

    def carried(link_model, column: str, row: str):
        return Coalesce(
            Subquery(
                link_model.objects.filter(
                    organization_id=organization.pk,
                    label_id=OuterRef("pk"),
                    **{f"{row}__is_deleted": False},
                )
                .values("label_id")
                .annotate(n=Count(column, distinct=True))
                .values("n"),
                output_field=IntegerField(),
            ),
            0,
        )

    labels = Label.objects.for_org(organization).annotate(
        contact_count=carried(ContactLabel, "contact_id", "contact"),
        structure_count=carried(StructureLabel, "structure_id", "structure"),
    )
    if pks is not None:
        labels = labels.filter(pk__in=pks)
    return list(labels.order_by("name"))


@member_required("contacts", "view")
def label_list(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(
        request,
        "organize/label_list.html",
        {"labels": _labels_with_counts(request.organization), "form": LabelForm()},
    )


@member_required("settings", "add")
def label_create(request: HttpRequest) -> HttpResponse:
    return _label_form(request, None)


@member_required("settings", "change")
def label_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _label_form(request, access.get_label(request, pk, action="change"))


def _label_form(request: HttpRequest, label: Label | None) -> HttpResponse:
    initial = {"name": label.name, "color": label.color} if label else None
    form = LabelForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            label = services.save_label(
                organization=request.organization,
                actor=_actor(request),
                label=label,
                name=form.cleaned_data["name"],
                color=form.cleaned_data["color"],
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, f"Étiquette « {label.name} » enregistrée.")
            return redirect("label_list")
    return TemplateResponse(request, "organize/label_form.html", {"label": label, "form": form})


@member_required("settings", "delete")
@require_POST
def label_delete(request: HttpRequest, pk: int) -> HttpResponse:
    label = access.get_label(request, pk, action="delete")
    [counted] = _labels_with_counts(request.organization, [label.pk])
    services.delete_label(organization=request.organization, actor=_actor(request), label=label)
    messages.success(
        request,
        f"Étiquette « {label.name} » supprimée : retirée de {counted.contact_count} contact(s) "
        f"et {counted.structure_count} structure(s).",
    )
    return redirect("label_list")


# Custom fields --------------------------------------------------------------------------


@member_required("settings", "view")
def custom_field_list(request: HttpRequest) -> HttpResponse:
    by_target: dict[str, list[CustomField]] = {value: [] for value in CustomField.Target.values}
    for field in CustomField.objects.for_org(request.organization).order_by("position", "name"):
        by_target[field.target].append(field)
    sections = [
        {"target": value, "label": label, "fields": by_target[value]}
        for value, label in [
            (CustomField.Target.CONTACT, "Contacts"),
            (CustomField.Target.STRUCTURE, "Structures"),
            (CustomField.Target.GROUP, "Groupes"),
            (CustomField.Target.PAYMENT, "Paiements"),
        ]
    ]
    return TemplateResponse(request, "organize/custom_field_list.html", {"sections": sections})


@member_required("settings", "add")
def custom_field_create(request: HttpRequest) -> HttpResponse:
    target = request.GET.get("cible", "")
    initial = {"target": target if target in CustomField.Target.values else "contact"}
    form = CustomFieldForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            field = services.save_custom_field(
                organization=request.organization,
                actor=_actor(request),
                target=form.cleaned_data["target"],
                **_definition(form),
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, f"Champ « {field.name} » créé.")
            return redirect("custom_field_list")
    return TemplateResponse(
        request, "organize/custom_field_form.html", {"field": None, "form": form}
    )


def _definition(form: CustomFieldForm) -> dict:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "field_type": data["field_type"],
        "choices": form.choice_list() if "choices" in form.fields else [],
        "required": data["required"],
        "help_text": data["help_text"],
        "position": data["position"],
        "sensitive": data["sensitive"],
    }


@member_required("settings", "change")
def custom_field_edit(request: HttpRequest, pk: int) -> HttpResponse:
    field = access.get_custom_field(request, pk, action="change")
    form = CustomFieldForm(request.POST or None, field=field)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_custom_field(
                organization=request.organization,
                actor=_actor(request),
                field=field,
                **_definition(form),
            )
        except ValidationError as error:
            form_errors_to(form, error)
            field.refresh_from_db()
        else:
            messages.success(request, f"Champ « {field.name} » enregistré.")
            return redirect("custom_field_list")
    return _custom_field_page(request, field, form, RenameChoiceForm(field=field))


def _custom_field_page(request, field, form, rename_form) -> HttpResponse:
    has_choices = field.field_type in (
        CustomField.FieldType.CHOICE,
        CustomField.FieldType.MULTIPLE_CHOICE,
    )
    return TemplateResponse(
        request,
        "organize/custom_field_form.html",
        {
            "field": field,
            "form": form,
            "rename_form": rename_form if has_choices else None,
            "history": history_for(organization=request.organization, target=field, limit=20),
        },
    )


@member_required("settings", "change")
@require_POST
def custom_field_rename_choice(request: HttpRequest, pk: int) -> HttpResponse:
    field = access.get_custom_field(request, pk, action="change")
    rename_form = RenameChoiceForm(request.POST, field=field)
    if rename_form.is_valid():
        old, new = rename_form.cleaned_data["old"], rename_form.cleaned_data["new"]
        try:
            changed = services.rename_choice(
                organization=request.organization,
                actor=_actor(request),
                field=field,
                old=old,
                new=new,
            )
        except ValidationError as error:
            form_errors_to(rename_form, error)
            field.refresh_from_db()
        else:
            messages.success(
                request,
                f"Choix « {old} » renommé en « {' '.join(new.split())} » : "
                f"{changed} fiche(s) mise(s) à jour.",
            )
            return redirect("custom_field_edit", pk=field.pk)
    return _custom_field_page(request, field, CustomFieldForm(field=field), rename_form)


@member_required("settings", "delete")
def custom_field_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: say how many values go with the field; POST: delete it."""
    field = access.get_custom_field(request, pk, action="delete")
    if request.method == "POST":
        removed = services.delete_custom_field(
            organization=request.organization, actor=_actor(request), field=field
        )
        messages.success(
            request, f"Champ « {field.name} » supprimé, avec {removed} valeur(s) enregistrée(s)."
        )
        return redirect("custom_field_list")
    return TemplateResponse(
        request,
        "organize/custom_field_delete.html",
        {"field": field, "count": services.count_values(field)},
    )


# Groups ---------------------------------------------------------------------------------

# Members in the trash are neither shown nor counted (they come back if restored).
_live_member = Q(memberships__contact__is_deleted=False) | Q(
    memberships__structure__is_deleted=False
)
_live_membership = Q(contact__isnull=False, contact__is_deleted=False) | Q(
    structure__isnull=False, structure__is_deleted=False
)


@member_required("segments", "view")
def group_list(request: HttpRequest) -> HttpResponse:
    groups = (
        Group.objects.for_org(request.organization)
        .annotate(member_count=Count("memberships", filter=_live_member))
        .order_by("name", "pk")
    )
    page = Paginator(groups, 50).get_page(request.GET.get("page"))
    return TemplateResponse(request, "organize/group_list.html", {"page": page})


def _group_definitions(request: HttpRequest) -> list[CustomField]:
    return definitions(
        organization=request.organization,
        target=CustomField.Target.GROUP,
        membership=request.membership,
    )


@member_required("segments", "add")
def group_create(request: HttpRequest) -> HttpResponse:
    form = GroupForm(request.POST or None, definitions=_group_definitions(request))
    if request.method == "POST" and form.is_valid():
        try:
            group = services.save_group(
                organization=request.organization,
                actor=_actor(request),
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                custom=form.custom_values(),
                membership=request.membership,
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Groupe « {group.name} » créé.")
            return redirect("group_detail", pk=group.pk)
    return TemplateResponse(request, "organize/group_form.html", {"form": form})


MEMBER_COLUMNS = {"added": Column("added", "Ajouté le", ("added_at",))}


@member_required("segments", "view")
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    group = access.get_group(request, pk)
    group_definitions = _group_definitions(request)
    form = GroupForm(definitions=group_definitions, group=group)
    if request.method == "POST":
        require(request, "change", "segments")
        form = GroupForm(request.POST, definitions=group_definitions, group=group)
        if form.is_valid():
            try:
                services.save_group(
                    organization=request.organization,
                    actor=_actor(request),
                    group=group,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    custom=form.custom_values(),
                    membership=request.membership,
                )
            except ValidationError as error:
                form.add_service_errors(error)
                group.refresh_from_db()
            else:
                messages.success(request, f"Groupe « {group.name} » enregistré.")
                return redirect("group_detail", pk=group.pk)
    members = _member_page(request, group)
    member_count = (
        GroupMembership.objects.for_org(request.organization)
        .filter(group=group)
        .filter(_live_membership)
        .count()
    )
    return render_page(
        request,
        "organize/group_detail.html",
        {
            "group": group,
            "form": form,
            "values": custom_values(
                organization=request.organization,
                membership=request.membership,
                target=CustomField.Target.GROUP,
                custom=group.custom,
            ),
            "members": members,
            "member_count": member_count,
        },
        partial="organize/partials/_group_members.html",
    )


def _member_page(request: HttpRequest, group: Group):
    """One keyset page of the members, newest first; trashed records left out."""
    query = ListQuery(
        sort="added",
        descending=True,
        after=request.GET.get("apres", ""),
        before=request.GET.get("avant", ""),
        size=MEMBERS_PAGE_SIZE,
    )
    memberships = (
        GroupMembership.objects.for_org(request.organization)
        .filter(group=group)
        .filter(_live_membership)
        .select_related("contact", "structure")
    )
    page = paginate(memberships, query, MEMBER_COLUMNS)
    for row in page.rows:
        row.card_url = (
            _card_url("contact_detail", row.contact_id)
            if row.contact_id
            else _card_url("structure_detail", row.structure_id)
        )
    return page


@member_required("segments", "view")
def group_member_search(request: HttpRequest, pk: int) -> HttpResponse:
    """The htmx search box of a group page: contacts and structures to add."""
    group = access.get_group(request, pk)
    q = request.GET.get("q", "").strip()[:100]
    contacts, structures = [], []
    if q:
        in_group = GroupMembership.objects.filter(
            organization_id=request.organization.pk, group_id=group.pk
        )
        contacts = list(
            Contact.objects.for_org(request.organization)
            .not_deleted()
            .filter(contact_search(q))
            .annotate(in_group=Exists(in_group.filter(contact_id=OuterRef("pk"))))
            .order_by("last_name_normalized", "first_name_normalized", "pk")[:SEARCH_LIMIT]
        )
        structures = list(
            Structure.objects.for_org(request.organization)
            .not_deleted()
            .filter(structure_search(q))
            .annotate(in_group=Exists(in_group.filter(structure_id=OuterRef("pk"))))
            .order_by("name_normalized", "pk")[:SEARCH_LIMIT]
        )
    return TemplateResponse(
        request,
        "organize/partials/_group_search.html",
        {"group": group, "q": q, "contacts": contacts, "structures": structures},
    )


def _change_members(request: HttpRequest, pk: int, operation, done: str, nothing: str):
    """Add or remove the posted contacts and structures of a group, in one statement each."""
    group = access.get_group(request, pk, action="change")
    count = operation(
        organization=request.organization,
        actor=_actor(request),
        group=group,
        contact_ids=_ids(request, "contacts"),
        structure_ids=_ids(request, "structures"),
    )
    if count:
        messages.success(request, done.format(count=count))
    else:
        messages.info(request, nothing)
    return redirect("group_detail", pk=group.pk)


@member_required("segments", "change")
@require_POST
def group_add_members(request: HttpRequest, pk: int) -> HttpResponse:
    return _change_members(
        request,
        pk,
        services.add_to_group,
        "{count} membre(s) ajouté(s) au groupe.",
        "Aucun membre ajouté : ils étaient déjà dans le groupe.",
    )


@member_required("segments", "change")
@require_POST
def group_remove_members(request: HttpRequest, pk: int) -> HttpResponse:
    return _change_members(
        request,
        pk,
        services.remove_from_group,
        "{count} membre(s) retiré(s) du groupe.",
        "Cochez les membres à retirer.",
    )


@member_required("segments", "delete")
@require_POST
def group_delete(request: HttpRequest, pk: int) -> HttpResponse:
    group = access.get_group(request, pk, action="delete")
    count = services.delete_group(
        organization=request.organization, actor=_actor(request), group=group
    )
    messages.success(
        request, f"Groupe « {group.name} » supprimé ; ses {count} membre(s) restent dans le CRM."
    )
    return redirect("group_list")


# Households -----------------------------------------------------------------------------


@member_required("contacts", "view")
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household = access.get_household(request, pk)
    form = HouseholdForm(initial=HouseholdForm.initial_from(household))
    if request.method == "POST":
        require(request, "change", "contacts")
        form = HouseholdForm(request.POST)
        if form.is_valid():
            try:
                services.save_household(
                    organization=request.organization,
                    actor=_actor(request),
                    household=household,
                    name=form.cleaned_data["name"],
                    address=form.address(),
                )
            except ValidationError as error:
                form_errors_to(form, error)
                household.refresh_from_db()
            else:
                messages.success(request, f"Foyer « {household.name} » enregistré.")
                return redirect("household_detail", pk=household.pk)
    members = list(
        Contact.objects.for_org(request.organization)
        .not_deleted()
        .filter(household=household)
        .order_by("first_name_normalized", "last_name_normalized", "pk")
    )
    address = address_of(household)
    for member in members:
        member.card_url = _card_url("contact_detail", member.pk)
        member.same_address = address_of(member) == address
    has_address = any(v for k, v in address.items() if k != "country")
    return TemplateResponse(
        request,
        "organize/household_detail.html",
        {
            "household": household,
            "form": form,
            "members": members,
            "has_address": has_address,
            "different_address": sum(not m.same_address for m in members) if has_address else 0,
            "history": history_for(organization=request.organization, target=household, limit=20),
        },
    )


@member_required("contacts", "add")
def household_create(request: HttpRequest) -> HttpResponse:
    """A new household; from a contact (?contact=<id>) it takes their address and them."""
    raw = request.GET.get("contact") or request.POST.get("contact") or ""
    contact_id = as_id(raw)
    contact = access.get_contact(request, contact_id, action="change") if contact_id else None
    initial = (
        HouseholdForm.initial_from(contact, name=f"Foyer {contact.last_name or contact}")
        if contact
        else None
    )
    form = HouseholdForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            household = services.save_household(
                organization=request.organization,
                actor=_actor(request),
                name=form.cleaned_data["name"],
                address=form.address(),
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            if contact is not None:
                services.set_household(
                    organization=request.organization,
                    actor=_actor(request),
                    contacts=[contact],
                    household=household,
                )
            messages.success(request, f"Foyer « {household.name} » créé.")
            return redirect("household_detail", pk=household.pk)
    return TemplateResponse(
        request,
        "organize/household_form.html",
        {
            "form": form,
            "contact": contact,
            "contact_url": _card_url("contact_detail", contact.pk) if contact else "",
        },
    )


@member_required("contacts", "change")
def household_choose(request: HttpRequest, contact: int) -> HttpResponse:
    """Put a contact in an existing household, found by name (htmx), or create one."""
    person = access.get_contact(request, contact, action="change")
    q = request.GET.get("q", "").strip()[:100]
    households = []
    if q:
        households = list(
            Household.objects.for_org(request.organization)
            .filter(name__icontains=q)
            .annotate(member_count=Count("members", filter=Q(members__is_deleted=False)))
            .order_by("name", "pk")[:SEARCH_LIMIT]
        )
    return render_page(
        request,
        "organize/household_choose.html",
        {
            "contact": person,
            "contact_url": _card_url("contact_detail", person.pk),
            "q": q,
            "households": households,
        },
        partial="organize/partials/_household_results.html",
    )


@member_required("contacts", "change")
def household_member_search(request: HttpRequest, pk: int) -> HttpResponse:
    """The htmx search box of a household page: contacts to add."""
    household = access.get_household(request, pk, action="change")
    q = request.GET.get("q", "").strip()[:100]
    contacts = []
    if q:
        contacts = list(
            Contact.objects.for_org(request.organization)
            .not_deleted()
            .filter(contact_search(q))
            .select_related("household")
            .order_by("last_name_normalized", "first_name_normalized", "pk")[:SEARCH_LIMIT]
        )
    return TemplateResponse(
        request,
        "organize/partials/_household_search.html",
        {"household": household, "q": q, "contacts": contacts},
    )


def _posted_contact(request: HttpRequest) -> Contact:
    raw = request.POST.get("contact", "")
    if as_id(raw) is None:
        raise Http404("Contact manquant.")
    return access.get_contact(request, as_id(raw), action="change")


@member_required("contacts", "change")
@require_POST
def household_add_member(request: HttpRequest, pk: int) -> HttpResponse:
    household = access.get_household(request, pk, action="change")
    contact = _posted_contact(request)
    services.set_household(
        organization=request.organization,
        actor=_actor(request),
        contacts=[contact],
        household=household,
    )
    messages.success(request, f"{contact} fait maintenant partie du foyer « {household.name} ».")
    return redirect("household_detail", pk=household.pk)


@member_required("contacts", "change")
@require_POST
def household_remove_member(request: HttpRequest, pk: int) -> HttpResponse:
    household = access.get_household(request, pk, action="change")
    contact = _posted_contact(request)
    if contact.household_id == household.pk:
        services.set_household(
            organization=request.organization,
            actor=_actor(request),
            contacts=[contact],
            household=None,
        )
        messages.success(request, f"{contact} ne fait plus partie du foyer.")
    else:
        messages.info(request, f"{contact} ne faisait pas partie de ce foyer.")
    return redirect("household_detail", pk=household.pk)


@member_required("contacts", "change")
@require_POST
def household_apply_address(request: HttpRequest, pk: int) -> HttpResponse:
    household = access.get_household(request, pk, action="change")
    count = services.apply_household_address(
        organization=request.organization, actor=_actor(request), household=household
    )
    messages.success(request, f"Adresse du foyer appliquée à {count} contact(s).")
    return redirect("household_detail", pk=household.pk)


@member_required("contacts", "delete")
@require_POST
def household_delete(request: HttpRequest, pk: int) -> HttpResponse:
    household = access.get_household(request, pk, action="delete")
    # Back to a member's card (they stay in the CRM), or the dashboard if it had none.
    first_member = (
        Contact.objects.for_org(request.organization)
        .not_deleted()
        .filter(household=household)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    services.delete_household(
        organization=request.organization, actor=_actor(request), household=household
    )
    messages.success(
        request, f"Foyer « {household.name} » supprimé ; ses membres restent dans le CRM."
    )
    card = _card_url("contact_detail", first_member) if first_member else ""
    return redirect(card or "dashboard")


# Trash ----------------------------------------------------------------------------------

TRASH_KINDS = {
    "contacts": (Contact, "contacts", "contact"),
    "structures": (Structure, "structures", "structure"),
}
TRASH_COLUMNS = {"deleted": Column("deleted", "Supprimé le", ("deleted_at",))}


@member_required()
def trash(request: HttpRequest) -> HttpResponse:
    """Contacts and structures in the trash, most recently deleted first."""
    visible = [
        k
        for k, (_m, data_type, _n) in TRASH_KINDS.items()
        if can(request.membership, "view", data_type)
    ]
    if not visible:
        raise PermissionDenied("Votre profil ne vous permet pas cette action.")
    kind = request.GET.get("quoi", visible[0])
    if kind not in visible:
        kind = visible[0]
    model, data_type, model_param = TRASH_KINDS[kind]
    query = ListQuery(
        sort="deleted",
        descending=True,
        after=request.GET.get("apres", ""),
        before=request.GET.get("avant", ""),
        size=TRASH_PAGE_SIZE,
    )
    rows = model.objects.for_org(request.organization).in_trash().filter(deleted_at__isnull=False)
    page = paginate(rows, query, TRASH_COLUMNS)
    for row in page.rows:
        row.purge_on = row.deleted_at + dt.timedelta(days=services.TRASH_DAYS)
    counts = {
        k: TRASH_KINDS[k][0].objects.for_org(request.organization).in_trash().count()
        for k in visible
    }
    return render_page(
        request,
        "organize/trash.html",
        {
            "kind": kind,
            "model_param": model_param,
            "tabs": [
                (k, "Contacts" if k == "contacts" else "Structures", counts[k]) for k in visible
            ],
            "page": page,
            "can_restore": can(request.membership, "change", data_type),
            "trash_days": services.TRASH_DAYS,
        },
        partial="organize/partials/_trash_table.html",
    )


@member_required()
@require_POST
def trash_restore(request: HttpRequest) -> HttpResponse:
    models_by_param = {
        param: (model, data_type) for model, data_type, param in TRASH_KINDS.values()
    }
    param = request.POST.get("model", "")
    if param not in models_by_param:
        messages.error(request, "Type de fiche inconnu.")
        return redirect("trash")
    model, data_type = models_by_param[param]
    require(request, "change", data_type)
    restored = services.restore(
        organization=request.organization,
        actor=_actor(request),
        model=model,
        ids=_ids(request, "ids"),
    )
    if restored:
        messages.success(request, f"{restored} fiche(s) restaurée(s).")
    else:
        messages.info(request, "Cochez les fiches à restaurer.")
    return redirect(f"{reverse('trash')}?quoi={data_type}")
