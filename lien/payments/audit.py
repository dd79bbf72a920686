"""What the history hides from a member whose profile may not see payment data."""

from __future__ import annotations

from django.apps import apps

from lien.core.models import Membership, Organization
from lien.core.rights import can


def hidden_payment_targets(organization: Organization, membership: Membership | None) -> set[str]:
    """Every payments model (payments, campaigns, settings, periods) unless the member may
    view payments: their changes are amounts, goals and accounts."""
    if can(membership, "view", "payments"):
        return set()
    return {model._meta.label_lower for model in apps.get_app_config("payments").get_models()}
