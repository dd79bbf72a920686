"""HelloAsso connector services: set-up, connection test, forms, syncs and notifications.

Pages, the API, the task and the command all call these; the sync rules themselves are
in lien/connectors/helloasso/sync.py (its docstring lists the decisions).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from lien.connectors import crypto
from lien.connectors.helloasso import sync
from lien.connectors.helloasso.client import (
    BadCredentials,
    HelloAssoClient,
    HelloAssoError,
    NotFound,
    forget_tokens,
)
from lien.connectors.helloasso.schemas import Order
from lien.connectors.models import HelloAssoConnection, HelloAssoForm, HelloAssoSyncRun
from lien.contacts.models import CustomField
from lien.core.audit import Actor, record_event
from lien.core.models import AuditEvent, Job, Organization
from lien.payments.models import PaymentKind

logger = logging.getLogger(__name__)

# Step 1 of the set-up: the preconfigured correspondences, shown read-only.
CORRESPONDENCES: list[tuple[str, str]] = [
    ("Payeur", "Contact (retrouvé par email et nom comme à l'import, sinon créé)"),
    ("Bénéficiaire d'un article", "Contact (s'il n'est pas le payeur)"),
    ("Type de formulaire", "Table des paiements (Dons, Adhésions, Billetterie…)"),
    ("Formulaire (campagne)", "Campagne"),
    ("Article payé", "Paiement (montant, moyen, statut, reçu HelloAsso)"),
]

# HelloAsso formType → payment table; Checkout → None: the table chosen per form.
FORM_TYPE_KINDS: dict[str, str | None] = sync.FORM_TYPE_KINDS
# How each form type is named to people.
FORM_TYPE_LABELS = {
    "Donation": "Don",
    "Membership": "Adhésion",
    "Event": "Billetterie",
    "CrowdFunding": "Crowdfunding",
    "Shop": "Boutique",
    "Checkout": "Checkout",
    "PaymentForm": "Vente / paiement",
}
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# A run still « en cours » after this long died with its worker: another may start.
STALE_RUN = dt.timedelta(hours=2)


class UnknownWebhook(Exception):
    """No connection has this notification token (the view answers 404)."""


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str


def get_connection(organization: Organization) -> HelloAssoConnection | None:
    """The organisation's HelloAsso connection, if it was ever set up."""
    return HelloAssoConnection.objects.for_org(organization).first()


def _connection(organization: Organization) -> HelloAssoConnection:
    connection = get_connection(organization)
    if connection is None:
        raise ValidationError(
            "HelloAsso n'est pas encore connecté : saisissez d'abord les identifiants de l'API."
        )
    return connection


def make_client(connection: HelloAssoConnection, **kwargs: Any) -> HelloAssoClient:
    """An API client with the connection's credentials (the secret decrypted here only)."""
    return HelloAssoClient(
        client_id=connection.client_id,
        client_secret=crypto.decrypt(connection.client_secret_encrypted),
        **kwargs,
    )


def _record(
    organization: Organization, actor: Actor, target: Any, changes: dict[str, list[Any]]
) -> None:
    if changes:
        record_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=target,
            changes=changes,
        )


# Set-up ----------------------------------------------------------------------------------


@transaction.atomic
def save_credentials(
    *,
    organization: Organization,
    actor: Actor,
    client_id: str,
    client_secret: str | None,
    organization_slug: str,
) -> HelloAssoConnection:
    """Store the credentials (secret encrypted; empty keeps the stored one) and the slug."""
    connection = get_connection(organization)
    client_id = (client_id or "").strip()
    secret = (client_secret or "").strip()
    slug = (organization_slug or "").strip().strip("/").lower()
    if "/" in slug:  # the address of the association's page, pasted whole
        slug = slug.rsplit("/", 1)[-1]
    errors: dict[str, list[str]] = {}
    if not client_id:
        errors["client_id"] = ["L'identifiant client (client id) est obligatoire."]
    elif len(client_id) > 200:
        errors["client_id"] = ["200 caractères au plus."]
    if not secret and not (connection and connection.has_secret):
        errors["client_secret"] = ["Le secret client (client secret) est obligatoire."]
    elif len(secret) > 500:
        errors["client_secret"] = ["500 caractères au plus."]
    if not slug:
        errors["organization_slug"] = ["L'identifiant HelloAsso de l'association est obligatoire."]
    elif not SLUG_RE.match(slug) or len(slug) > 200:
        errors["organization_slug"] = [
            f"« {slug} » n'est pas un identifiant HelloAsso : des lettres minuscules, des "
            "chiffres et des tirets, comme à la fin de l'adresse de votre page "
            "(helloasso.com/associations/mon-association)."
        ]
    if errors:
        raise ValidationError(errors)
    creating = connection is None
    connection = connection or HelloAssoConnection(organization=organization)
    changes: dict[str, list[Any]] = {}
    if connection.client_id != client_id:
        changes["client_id"] = [connection.client_id or None, client_id]
    if connection.organization_slug != slug:
        changes["organization_slug"] = [connection.organization_slug or None, slug]
        if not creating:  # another association: its forms are not these
            HelloAssoForm.objects.for_org(organization).filter(connection=connection).delete()
    connection.client_id = client_id
    connection.organization_slug = slug
    if secret:
        connection.client_secret_encrypted = crypto.encrypt(secret)
        changes["client_secret"] = [None, "modifié"]  # never the secret itself
    connection.last_error = ""
    connection.updated_at = timezone.now()
    connection.save()
    forget_tokens()
    if creating:
        record_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.CREATE,
            target=connection,
            changes=changes,
        )
    else:
        _record(organization, actor, connection, changes)
    return connection


def test_connection(*, organization: Organization) -> ConnectionCheck:
    """Ask HelloAsso for a token and the organisation: what is wrong, in French."""
    connection = get_connection(organization)
    if connection is None or not connection.is_configured:
        return ConnectionCheck(
            False, "Saisissez d'abord l'identifiant client, le secret et l'identifiant "
            "HelloAsso de l'association."
        )  # fmt: skip
    try:
        with make_client(connection, retries=1) as client:
            found = client.organization(connection.organization_slug)
    except crypto.SecretUnreadable as error:
        return ConnectionCheck(False, str(error))
    except NotFound:
        return ConnectionCheck(
            False,
            f"Identifiants acceptés, mais HelloAsso ne connaît pas l'association "
            f"« {connection.organization_slug} » : vérifiez son identifiant (la fin de "
            "l'adresse de votre page HelloAsso).",
        )
    except BadCredentials as error:
        return ConnectionCheck(False, str(error))
    except HelloAssoError as error:
        return ConnectionCheck(False, str(error))
    name = found.get("name") if isinstance(found, dict) else ""
    name = name or connection.organization_slug
    return ConnectionCheck(True, f"Connexion réussie : HelloAsso connaît l'association « {name} ».")


@transaction.atomic
def set_start_date(*, organization: Organization, actor: Actor, start_date: dt.date | None) -> None:
    """The date from which payments and contacts are brought in."""
    connection = _connection(organization)
    if isinstance(start_date, str):
        try:
            start_date = dt.date.fromisoformat(start_date.strip()) if start_date.strip() else None
        except ValueError:
            raise ValidationError(
                {"start_date": [f"« {start_date} » n'est pas une date (AAAA-MM-JJ)."]}
            ) from None
    if start_date is not None and start_date > timezone.localdate():
        raise ValidationError({"start_date": ["La date de début ne peut pas être dans le futur."]})
    if start_date is not None and start_date.year < 2000:
        raise ValidationError({"start_date": ["HelloAsso n'a pas de paiements avant l'an 2000."]})
    before = connection.start_date
    if before == start_date:
        return
    connection.start_date = start_date
    connection.updated_at = timezone.now()
    connection.save(update_fields=["start_date", "updated_at"])
    if start_date is None or before is None or start_date < before:
        # Earlier payments to bring in: every form is read again from the new date.
        HelloAssoForm.objects.for_org(organization).filter(connection=connection).update(
            synced_until=None
        )
    _record(
        organization,
        actor,
        connection,
        {"start_date": [before and before.isoformat(), start_date and start_date.isoformat()]},
    )


def refresh_forms(*, organization: Organization) -> list[HelloAssoForm]:
    """List the organisation's forms from the API and keep them (choices are kept).
    Raises ValidationError with HelloAsso's problem in French."""
    connection = _connection(organization)
    if not connection.is_configured:
        raise ValidationError("Saisissez d'abord les identifiants de l'API HelloAsso.")
    try:
        with make_client(connection, retries=1) as client:
            forms = client.forms(connection.organization_slug)
            details = {
                (f.form_type, f.form_slug): client.form_public(
                    connection.organization_slug, f.form_type, f.form_slug
                ).raw
                for f in forms
                if f.form_type == "Membership" and f.form_slug
            }
    except (HelloAssoError, crypto.SecretUnreadable) as error:
        raise ValidationError(str(error)) from None
    existing = {
        (f.form_type, f.form_slug): f
        for f in HelloAssoForm.objects.for_org(organization).filter(connection=connection)
    }
    now = timezone.now()
    with transaction.atomic():
        for form in forms:
            if not form.form_type or not form.form_slug:
                continue
            key = (form.form_type, form.form_slug)
            raw = {**form.raw, **details.get(key, {})}
            row = existing.get(key)
            if row is None:
                row = existing[key] = HelloAssoForm(
                    organization=organization,
                    connection=connection,
                    form_type=form.form_type[:40],
                    form_slug=form.form_slug[:250],
                )
            row.title, row.state, row.raw, row.updated_at = (
                form.title[:250],
                form.state[:40],
                raw,
                now,
            )
            row.save()
    return list(
        HelloAssoForm.objects.for_org(organization)
        .filter(connection=connection)
        .order_by("form_type", "title", "pk")
    )


@transaction.atomic
def choose_forms(
    *, organization: Organization, actor: Actor, selected: dict[int, str | None]
) -> None:
    """Select the forms to bring in (others unselected); Checkout forms need a table."""
    connection = _connection(organization)
    forms = {
        f.pk: f
        for f in HelloAssoForm.objects.for_org(organization)
        .filter(connection=connection)
        .select_for_update()
    }
    errors: list[str] = []
    chosen: dict[int, str] = {}
    for pk, kind in (selected or {}).items():
        try:
            form = forms[int(pk)]
        except (KeyError, TypeError, ValueError):
            errors.append(f"Formulaire HelloAsso inconnu : n°{pk}.")
            continue
        if form.form_type == "Checkout":
            if kind not in PaymentKind.values:
                errors.append(
                    f"Choisissez la table des paiements du formulaire Checkout « {form} » "
                    "(adhésions, dons, billetterie…)."
                )
                continue
            chosen[form.pk] = kind
        else:
            chosen[form.pk] = ""
    if errors:
        raise ValidationError(errors)
    changes: dict[str, list[Any]] = {}
    for form in forms.values():
        wanted = form.pk in chosen
        kind = chosen.get(form.pk, form.checkout_kind if not wanted else "")
        if form.selected == wanted and form.checkout_kind == kind:
            continue
        if wanted and not form.selected:
            form.synced_until = None  # newly chosen: from the start date
        changes[f"form.{form.form_slug}"] = [
            _choice(form.selected, form.checkout_kind),
            _choice(wanted, kind),
        ]
        form.selected, form.checkout_kind, form.updated_at = wanted, kind, timezone.now()
        form.save(update_fields=["selected", "checkout_kind", "synced_until", "updated_at"])
    _record(organization, actor, connection, changes)


def _choice(selected: bool, kind: str) -> str:
    if not selected:
        return "non importé"
    return f"importé ({PaymentKind(kind).label})" if kind else "importé"


def mapping_targets(organization: Organization) -> list[tuple[str, str]]:
    """What a form's question may fill: contact fields, then the contacts' custom fields."""
    custom = CustomField.objects.for_org(organization).filter(target=CustomField.Target.CONTACT)
    return [
        *sync.CONTACT_TARGETS.items(),
        *((f"{sync.CUSTOM_PREFIX}{f.key}", f.name) for f in custom.order_by("position", "name")),
    ]


@transaction.atomic
def set_field_mappings(
    *, organization: Organization, actor: Actor, mappings: dict[str, str]
) -> None:
    """Map custom-field labels to a contact field name or « custom:<key> »."""
    connection = _connection(organization)
    targets = dict(mapping_targets(organization))
    clean: dict[str, str] = {}
    errors: list[str] = []
    for question, target in (mappings or {}).items():
        question = " ".join(str(question or "").split())
        target = str(target or "").strip()
        if not question:
            errors.append("Une question HelloAsso sans libellé ne peut pas être associée.")
        elif len(question) > 250:
            errors.append(f"« {question[:40]}… » : 250 caractères au plus.")
        elif not target:
            continue  # an empty target removes the correspondence
        elif target not in targets:
            errors.append(f"« {question} » : « {target} » n'est pas un champ des contacts.")
        elif question.casefold() in {q.casefold() for q in clean}:
            errors.append(f"La question « {question} » est associée deux fois.")
        else:
            clean[question] = target
    if errors:
        raise ValidationError(errors)
    before = connection.field_mappings or {}
    if before == clean:
        return
    connection.field_mappings = clean
    connection.updated_at = timezone.now()
    connection.save(update_fields=["field_mappings", "updated_at"])
    _record(organization, actor, connection, {"field_mappings": [before or None, clean or None]})


# Syncs -----------------------------------------------------------------------------------


def _ready(connection: HelloAssoConnection) -> None:
    if not connection.is_configured:
        raise ValidationError("Saisissez d'abord les identifiants de l'API HelloAsso.")
    if (
        not HelloAssoForm.objects.for_org(connection.organization_id)
        .filter(connection=connection, selected=True)
        .exists()
    ):
        raise ValidationError("Choisissez d'abord au moins une campagne HelloAsso à importer.")


def start_sync(*, organization: Organization, actor: Actor, trigger: str = "manuel") -> Job:
    """Queue a sync in the background; refused when the connector is not set up."""
    from lien.connectors.helloasso.tasks import sync_helloasso
    from lien.core.jobs import start_job

    connection = _connection(organization)
    _ready(connection)
    if trigger not in HelloAssoSyncRun.Trigger.values:
        raise ValidationError(f"Déclencheur inconnu : « {trigger} ».")
    return start_job(
        organization=organization,
        kind="helloasso_sync",
        label="Synchronisation HelloAsso",
        task=sync_helloasso,
        created_by=getattr(actor, "user", None) if getattr(actor.user, "pk", None) else None,
        trigger=trigger,
    )


def _open_run(connection: HelloAssoConnection, trigger: str) -> HelloAssoSyncRun:
    """The run's row, unless another run of this organisation is going on."""
    with transaction.atomic():
        HelloAssoConnection.objects.select_for_update().filter(pk=connection.pk).first()
        running = HelloAssoSyncRun.objects.for_org(connection.organization_id).filter(
            status=HelloAssoSyncRun.Status.RUNNING,
            started_at__gte=timezone.now() - STALE_RUN,
        )
        if running.exists():
            raise ValidationError(
                "Une synchronisation HelloAsso est déjà en cours : attendez qu'elle se termine."
            )
        return HelloAssoSyncRun.objects.create(
            organization_id=connection.organization_id, trigger=trigger
        )


def _summary(counts: sync.Counts) -> str:
    parts = [
        f"{counts.items_seen} article(s) lus",
        f"{counts.contacts_created} contact(s) créé(s)",
        f"{counts.contacts_updated} complété(s)",
        f"{counts.payments_created} paiement(s) créé(s)",
        f"{counts.payments_updated} mis à jour",
    ]
    text = ", ".join(parts) + "."
    if counts.errors:
        text += f" {len(counts.errors)} élément(s) à vérifier."
    return text


def run_sync(
    *,
    organization: Organization,
    trigger: str,
    progress: Callable[[int, int, str], None] | None = None,
) -> HelloAssoSyncRun:
    """Run a sync now (task, command): bring in what changed since the last one.
    A HelloAsso failure ends the run « échec » with its French message (also shown on
    the connector page); what was written stays, and the next run resumes."""
    connection = _connection(organization)
    _ready(connection)
    run = _open_run(connection, trigger)
    now = timezone.now()
    try:
        with make_client(connection) as client:
            counts = sync.sync_connection(
                connection=connection, client=client, run=run, progress=progress
            )
    except (HelloAssoError, crypto.SecretUnreadable) as error:
        message = str(error)
        _close(run, connection, ok=False, message=message, at=now)
        return run
    except Exception as error:
        logger.exception("HelloAsso sync of organisation %s failed", organization.pk)
        _close(
            run, connection, ok=False, at=now,
            message=f"Erreur inattendue pendant la synchronisation ({type(error).__name__}) : "
            "elle reprendra à la prochaine tentative.",
        )  # fmt: skip
        return run
    _close(run, connection, ok=True, message=_summary(counts), at=now)
    return run


def _close(
    run: HelloAssoSyncRun,
    connection: HelloAssoConnection,
    *,
    ok: bool,
    message: str,
    at: dt.datetime,
) -> None:
    run.status = HelloAssoSyncRun.Status.SUCCEEDED if ok else HelloAssoSyncRun.Status.FAILED
    run.finished_at = timezone.now()
    if ok:
        run.message = message
    else:
        done = ""
        if run.payments_created or run.payments_updated:
            done = (
                f" Déjà écrit : {run.payments_created} paiement(s) créé(s), "
                f"{run.payments_updated} mis à jour."
            )
        run.message = f"{message}{done}"
    run.save(update_fields=["status", "finished_at", "message"])
    fields: dict[str, Any] = {"last_sync_at": at}
    if ok:
        fields.update(last_success_at=at, last_error="")
    else:
        fields["last_error"] = run.message
    HelloAssoConnection.objects.filter(pk=connection.pk).update(**fields)


def sync_due_connections() -> list[int]:
    """The organisations whose connector is enabled and ready: the periodic sync's list."""
    ids = (
        HelloAssoConnection.objects.filter(enabled=True)
        .exclude(client_id="")
        .exclude(client_secret_encrypted="")
        .exclude(organization_slug="")
        .filter(forms__selected=True)
        .values_list("organization_id", flat=True)
        .distinct()
    )
    return sorted(ids)


# Notifications ---------------------------------------------------------------------------


def handle_notification(*, webhook_token: str, payload: dict) -> None:
    """A HelloAsso notification: never trusted as is, the object is fetched again from the
    API by its id and upserted (a replay changes nothing). Order and Payment bring the
    order in; Form refreshes that form. A run is logged when something was written or
    went wrong."""
    token = str(webhook_token or "")
    connection = (
        HelloAssoConnection.objects.select_related("organization")
        .filter(webhook_token=token)
        .first()
        if token
        else None
    )
    if connection is None:
        raise UnknownWebhook(token)
    if not connection.enabled or not connection.is_configured:
        return
    payload = payload if isinstance(payload, dict) else {}
    event = str(payload.get("eventType") or "")
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    try:
        # One retry only: HelloAsso waits on this answer; the next sync catches up.
        with make_client(connection, retries=1) as client:
            if event == "Form":
                _notified_form(connection, client, data)
                return
            order_id = _order_id(client, event, data)
            if not order_id:
                return
            order = client.order(order_id)
            if order.organization_slug and order.organization_slug != connection.organization_slug:
                return  # not this association's order
            counts = _write_notified(connection, client, order)
    except (HelloAssoError, crypto.SecretUnreadable) as error:
        HelloAssoSyncRun.objects.create(
            organization_id=connection.organization_id,
            trigger=HelloAssoSyncRun.Trigger.WEBHOOK,
            status=HelloAssoSyncRun.Status.FAILED,
            finished_at=timezone.now(),
            errors=[{"helloasso_id": str(data.get("id", "")), "message": str(error)}],
            message=f"Notification {event or 'inconnue'} non traitée : {error} "
            "La prochaine synchronisation la rattrapera.",
        )
        return
    if counts.written or counts.errors:
        now = timezone.now()
        HelloAssoSyncRun.objects.create(
            organization_id=connection.organization_id,
            started_at=now,
            finished_at=now,
            trigger=HelloAssoSyncRun.Trigger.WEBHOOK,
            status=HelloAssoSyncRun.Status.SUCCEEDED,
            contacts_created=counts.contacts_created,
            contacts_updated=counts.contacts_updated,
            payments_created=counts.payments_created,
            payments_updated=counts.payments_updated,
            items_seen=counts.items_seen,
            errors=counts.errors,
            message=f"Notification {event} (commande n°{order.id}) : {_summary(counts)}",
        )


def _order_id(client: HelloAssoClient, event: str, data: dict) -> int:
    def as_int(value: Any) -> int:
        try:
            return int(value)
        except (TypeError, ValueError):
            return 0

    if event == "Order":
        return as_int(data.get("id"))
    if event == "Payment":
        order = data.get("order") if isinstance(data.get("order"), dict) else {}
        if as_int(order.get("id")):
            return as_int(order.get("id"))
        payment_id = as_int(data.get("id"))
        if payment_id:  # the payment, fetched again, names its order
            fetched = client.payment(payment_id)
            order = fetched.get("order") if isinstance(fetched.get("order"), dict) else {}
            return as_int(order.get("id"))
    return 0


def _write_notified(
    connection: HelloAssoConnection, client: HelloAssoClient, order: Order
) -> sync.Counts:
    return sync.write_orders(connection=connection, client=client, orders=[order])


def _notified_form(connection: HelloAssoConnection, client: HelloAssoClient, data: dict) -> None:
    form_type, form_slug = str(data.get("formType") or ""), str(data.get("formSlug") or "")
    if not form_type or not form_slug:
        return
    form = client.form_public(connection.organization_slug, form_type, form_slug)
    if not form.form_slug:
        return
    row, created = HelloAssoForm.objects.get_or_create(
        organization_id=connection.organization_id,
        form_type=form.form_type or form_type,
        form_slug=form.form_slug,
        defaults={"connection": connection, "title": form.title[:250], "state": form.state[:40],
                  "raw": form.raw},
    )  # fmt: skip
    if not created and (row.title, row.state, row.raw) != (
        form.title[:250],
        form.state[:40],
        form.raw,
    ):
        row.title, row.state, row.raw = form.title[:250], form.state[:40], form.raw
        row.updated_at = timezone.now()
        row.save(update_fields=["title", "state", "raw", "updated_at"])


def sync_runs(organization: Organization) -> QuerySet[HelloAssoSyncRun]:
    """The organisation's sync log, newest first."""
    return HelloAssoSyncRun.objects.for_org(organization).order_by("-started_at", "-id")
