"""Access helpers for contacts and neighbours: 404 outside the organisation, 403 without right."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from lien.contacts.models import (
    Contact,
    ContactStructureLink,
    CustomField,
    Group,
    Household,
    Label,
    Structure,
)
from lien.core.access import require


def get_contact(
    request: HttpRequest, pk: int, action: str = "view", *, trash: bool = False
) -> Contact:
    require(request, action, "contacts")
    return get_object_or_404(
        Contact.objects.for_org(request.organization).filter(is_deleted=trash), pk=pk
    )


def get_structure(
    request: HttpRequest, pk: int, action: str = "view", *, trash: bool = False
) -> Structure:
    require(request, action, "structures")
    return get_object_or_404(
        Structure.objects.for_org(request.organization).filter(is_deleted=trash), pk=pk
    )


def get_structure_link(
    request: HttpRequest, pk: int, action: str = "change"
) -> ContactStructureLink:
    require(request, action, "contacts")
    return get_object_or_404(
        ContactStructureLink.objects.for_org(request.organization).select_related(
            "contact", "structure"
        ),
        pk=pk,
    )


def get_label(request: HttpRequest, pk: int, action: str = "view") -> Label:
    require(request, action, "settings" if action != "view" else "contacts")
    return get_object_or_404(Label.objects.for_org(request.organization), pk=pk)


def get_custom_field(request: HttpRequest, pk: int, action: str = "view") -> CustomField:
    require(request, action, "settings")
    return get_object_or_404(CustomField.objects.for_org(request.organization), pk=pk)


def get_group(request: HttpRequest, pk: int, action: str = "view") -> Group:
    require(request, action, "segments")
    return get_object_or_404(Group.objects.for_org(request.organization), pk=pk)


def get_household(request: HttpRequest, pk: int, action: str = "view") -> Household:
    require(request, action, "contacts")
    return get_object_or_404(Household.objects.for_org(request.organization), pk=pk)
