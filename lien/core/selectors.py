"""Cross-model reads that build core screens."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.core.cache import cache
from django.db import models

from lien.core.audit import history_for, redact
from lien.core.models import AuditEvent, Membership, Organization
from lien.core.rights import can


@dataclass
class Tile:
    label: str
    value: int | str
    hint: str = ""


@dataclass
class DashboardSummary:
    tiles: list[Tile] = field(default_factory=list)
    recent_events: list[AuditEvent] = field(default_factory=list)
    member_count: int = 0


DASHBOARD_COUNT_SECONDS = 300

# (app label, model, label, data type) — counted when the model exists.
COUNTED = [
    ("contacts", "Contact", "Contacts", "contacts"),
    ("contacts", "Structure", "Structures", "structures"),
    ("interactions", "Interaction", "Interactions", "interactions"),
    ("payments", "Payment", "Paiements", "payments"),
]


def dashboard_summary(*, organization: Organization, membership: Membership) -> DashboardSummary:
    summary = DashboardSummary()
    for app_label, model_name, label, data_type in COUNTED:
        if not can(membership, "view", data_type):
            continue
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            continue
        # Counting 10M interactions takes over a second on PostgreSQL: the tiles
        # are cached a few minutes per organisation, which a dashboard can afford.
        count = cache.get_or_set(
            f"dashboard-count:{organization.pk}:{model._meta.label_lower}",
            lambda model=model: model.objects.for_org(organization).count(),
            DASHBOARD_COUNT_SECONDS,
        )
        summary.tiles.append(Tile(label, count))
    summary.member_count = Membership.objects.for_org(organization).filter(is_active=True).count()
    if can(membership, "view", "settings"):
        summary.recent_events = redact(
            AuditEvent.objects.for_org(organization)
            .select_related("actor_user", "target_type")
            .order_by("-created_at", "-id")[:8],
            organization=organization,
            membership=membership,
        )
    return summary


def history(*, organization: Organization, target: models.Model, membership, limit: int = 50):
    return history_for(organization=organization, target=target, membership=membership, limit=limit)
