"""HelloAsso connector services: set-up, connection test, forms, syncs and notifications."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from lien.connectors.models import HelloAssoConnection, HelloAssoForm, HelloAssoSyncRun
from lien.core.models import Job, Organization
from lien.payments.models import PaymentKind

# Step 1 of the set-up: the preconfigured correspondences, shown read-only.
CORRESPONDENCES: list[tuple[str, str]] = [
    ("Payeur", "Contact (rapproché par email et nom, sinon créé)"),
    ("Bénéficiaire d'un article", "Contact (s'il diffère du payeur)"),
    ("Type de formulaire", "Table des paiements (Dons, Adhésions, Billetterie…)"),
    ("Formulaire (campagne)", "Campagne"),
    ("Article payé", "Paiement (montant, moyen, statut, reçu HelloAsso)"),
]

# HelloAsso formType → payment table; Checkout → None: the table chosen per form.
FORM_TYPE_KINDS: dict[str, str | None] = {
    "Donation": PaymentKind.DONATION.value,
    "Membership": PaymentKind.MEMBERSHIP.value,
    "Event": PaymentKind.TICKETING.value,
    "CrowdFunding": PaymentKind.CROWDFUNDING.value,
    "Shop": PaymentKind.SHOP.value,
    "Checkout": None,
    "PaymentForm": PaymentKind.OTHER.value,
}


class UnknownWebhook(Exception):
    """No connection has this notification token (the view answers 404)."""


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str


def get_connection(organization: Organization) -> HelloAssoConnection | None:
    """The organisation's HelloAsso connection, if it was ever set up."""
    return HelloAssoConnection.objects.for_org(organization).first()


def save_credentials(
    *,
    organization: Organization,
    actor,
    client_id: str,
    client_secret: str | None,
    organization_slug: str,
) -> HelloAssoConnection:
    """Store the credentials (secret encrypted; empty keeps the stored one) and the slug."""
    raise NotImplementedError


def test_connection(*, organization: Organization) -> ConnectionCheck:
    """Ask HelloAsso for a token and the organisation: what is wrong, in French."""
    raise NotImplementedError


def set_start_date(*, organization: Organization, actor, start_date: dt.date | None) -> None:
    """The date from which payments and contacts are brought in."""
    raise NotImplementedError


def refresh_forms(*, organization: Organization) -> list[HelloAssoForm]:
    """List the organisation's forms from the API and keep them (choices are kept)."""
    raise NotImplementedError


def choose_forms(*, organization: Organization, actor, selected: dict[int, str | None]) -> None:
    """Select the forms to bring in (others unselected); Checkout forms need a table."""
    raise NotImplementedError


def set_field_mappings(*, organization: Organization, actor, mappings: dict[str, str]) -> None:
    """Map custom-field labels to a contact field name or « custom:<key> »."""
    raise NotImplementedError


def start_sync(*, organization: Organization, actor, trigger: str = "manuel") -> Job:
    """Queue a sync in the background; refused when the connector is not set up."""
    raise NotImplementedError


def run_sync(*, organization: Organization, trigger: str) -> HelloAssoSyncRun:
    """Run a sync now (task, command): bring in what changed since the last one."""
    raise NotImplementedError


def handle_notification(*, webhook_token: str, payload: dict) -> None:
    """A HelloAsso notification: fetch the object again by id and upsert it."""
    raise NotImplementedError


def sync_runs(organization: Organization) -> QuerySet[HelloAssoSyncRun]:
    """The organisation's sync log, newest first."""
    return HelloAssoSyncRun.objects.for_org(organization).order_by("-started_at", "-id")
