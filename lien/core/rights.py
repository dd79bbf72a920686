"""Rights: the data types, the actions, the default profiles and the one decision function.

Every page, API endpoint, export and the search builder ask `can()`; nothing
else decides whether a member may do something.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from lien.core.models import Membership

ACTIONS: dict[str, str] = {
    "view": _("Voir"),
    "add": _("Ajouter"),
    "change": _("Modifier"),
    "delete": _("Supprimer"),
}

DATA_TYPES: dict[str, str] = {
    "contacts": _("Contacts"),
    "structures": _("Structures"),
    "interactions": _("Interactions"),
    "payments": _("Paiements"),
    "receipts": _("Reçus fiscaux"),
    "segments": _("Segments et groupes"),
    "imports": _("Imports"),
    "exports": _("Exports"),
    "settings": _("Paramètres"),
    "users": _("Utilisateurs"),
    "connectors": _("Applications connectées"),
}

ALL = list(ACTIONS)
VIEW = ["view"]
DATA = ["contacts", "structures", "interactions", "payments", "receipts", "segments"]

DEFAULT_PROFILES: list[dict] = [
    {
        "name": "Administrateur",
        "description": "Tous les droits, y compris les paramètres et les utilisateurs.",
        "rights": {data_type: ALL for data_type in DATA_TYPES},
    },
    {
        "name": "Éditeur",
        "description": "Gère les données (contacts, paiements, imports, exports), "
        "consulte les paramètres.",
        "rights": {
            **{data_type: ALL for data_type in DATA},
            "imports": ALL,
            "exports": ALL,
            "settings": VIEW,
        },
    },
    {
        "name": "Lecteur",
        "description": "Consulte les données sans rien modifier.",
        "rights": {data_type: VIEW for data_type in DATA},
    },
]
ADMIN_PROFILE = "Administrateur"


def can(membership: Membership | None, action: str, data_type: str) -> bool:
    """May this member do `action` on `data_type`? The single answer for the whole app."""
    if membership is None or not membership.is_active:
        return False
    profile = membership.profile
    if data_type == "payments" and profile.hide_payment_data:
        return False
    return profile.allows(action, data_type)


def hides_sensitive_fields(membership: Membership | None) -> bool:
    return membership is None or membership.profile.hide_sensitive_fields


def rights_table(membership: Membership | None) -> dict[str, dict[str, bool]]:
    """Every right of a member, for templates and /api/v1/me/."""
    return {
        data_type: {action: can(membership, action, data_type) for action in ACTIONS}
        for data_type in DATA_TYPES
    }


def clean_rights(raw: dict) -> dict[str, list[str]]:
    """Keep only known data types and actions; `view` is implied by any other action."""
    cleaned: dict[str, list[str]] = {}
    for data_type in DATA_TYPES:
        actions = [a for a in ACTIONS if a in (raw.get(data_type) or [])]
        if actions and "view" not in actions:
            actions.insert(0, "view")
        if actions:
            cleaned[data_type] = actions
    return cleaned
