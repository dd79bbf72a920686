"""Access helpers for interactions and their settings: 404 outside the organisation, 403
without the right."""

from __future__ import annotations

from django.db import models
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from lien.core.access import require
from lien.interactions.models import (
    Interaction,
    InteractionCategory,
    InteractionLabel,
    InteractionType,
)

# URL slug of a settings kind → (service kind, model).
SETTING_KINDS: dict[str, tuple[str, type[models.Model]]] = {
    "types": ("type", InteractionType),
    "categories": ("category", InteractionCategory),
    "libelles": ("label", InteractionLabel),
}


def get_interaction(request: HttpRequest, pk: int, action: str = "view") -> Interaction:
    require(request, action, "interactions")
    return get_object_or_404(
        Interaction.objects.for_org(request.organization).select_related(
            "contact", "type", "category", "label", "structure"
        ),
        pk=pk,
    )


def setting_kind(slug: str) -> tuple[str, type[models.Model]]:
    if slug not in SETTING_KINDS:
        raise Http404
    return SETTING_KINDS[slug]


def get_setting(request: HttpRequest, slug: str, pk: int, action: str = "view") -> models.Model:
    """A type, category or label of the organisation; writing them is a setting."""
    require(request, action, "settings")
    _kind, model = setting_kind(slug)
    return get_object_or_404(model.objects.for_org(request.organization), pk=pk)
