"""Isolation cases of the interactions app's API (see tests/isolation.py).

The rows the detail URLs point at are made here, once per world, when the World
has none of its own: a manual interaction, and an unused type, category and label
(so that deleting them succeeds).
"""

from __future__ import annotations

from collections.abc import Callable

from lien.core.audit import Actor
from lien.interactions import services
from lien.interactions.models import Interaction
from tests.isolation import Case, World, Write

INTERACTIONS = ("view", "interactions")


def interaction_of(w: World) -> Interaction:
    existing = getattr(w, "interaction", None)
    if existing is not None and Interaction.objects.filter(pk=existing.pk).exists():
        return existing
    found = (
        Interaction.objects.for_org(w.organization)
        .filter(contact=w.contact, source=Interaction.Source.MANUAL)
        .first()
    )
    return found or services.record_interaction(
        organization=w.organization,
        actor=Actor.system(),
        contact=w.contact,
        occurred_at="2026-03-12T14:30",
        type="Rencontre",
        description=f"Rencontre avec {w.marker}",
    )


def setting_of(kind: str) -> Callable[[World], dict]:
    """An unused type, category or label of the world's organisation, by its pk."""

    def kwargs(w: World) -> dict:
        model = services.SETTINGS_MODELS[kind]
        name = f"Isolation {kind} {w.organization.pk}"
        found = model.objects.for_org(w.organization).filter(name=name).first()
        found = found or services.save_setting(
            organization=w.organization, actor=Actor.system(), kind=kind, name=name
        )
        return {"pk": found.pk}

    return kwargs


def item(w: World) -> dict:
    return {"contact": w.contact.pk, "occurred_at": "2026-03-14", "type": "Rencontre"}


def settings_cases(basename: str, kind: str, data: dict) -> dict[str, Case]:
    return {
        f"{basename}-list": Case(
            api=True,
            view_right=INTERACTIONS,
            writes=[Write("post", ("add", "settings"), lambda w: {"name": f"Nouveau {kind}"})],
        ),
        f"{basename}-detail": Case(
            api=True,
            kwargs=setting_of(kind),
            view_right=INTERACTIONS,
            scoped=True,
            writes=[
                Write("patch", ("change", "settings"), lambda w: data),
                Write("delete", ("delete", "settings")),
            ],
        ),
    }


CASES: dict[str, Case] = {
    "api-interactions-list": Case(
        api=True,
        view_right=INTERACTIONS,
        writes=[Write("post", ("add", "interactions"), item)],
    ),
    "api-interactions-detail": Case(
        api=True,
        kwargs=lambda w: {"pk": interaction_of(w).pk},
        view_right=INTERACTIONS,
        scoped=True,
        writes=[
            Write("patch", ("change", "interactions"), lambda w: {"description": "Rappeler"}),
            Write("put", ("change", "interactions"), item),
            Write("delete", ("delete", "interactions")),
        ],
    ),
    "api-interactions-bulk": Case(
        api=True,
        get=False,
        writes=[Write("post", ("add", "interactions"), lambda w: {"items": [item(w), item(w)]})],
    ),
    **settings_cases("api-interaction-types", "type", {"default_status": "passive"}),
    **settings_cases("api-interaction-categories", "category", {"name": "Collecte"}),
    **settings_cases("api-interaction-labels", "label", {"name": "Forum 2026"}),
}
