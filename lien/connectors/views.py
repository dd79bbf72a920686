"""The HelloAsso connector's pages (Applis → HelloAsso) and its notification endpoint.

Thin views over `lien.connectors.helloasso.services`, the same calls and rights as the
API (lien/api/connectors.py):

- the connector page: status, last error, « Synchroniser maintenant » and the sync's
  progress bar (the core job component; the page finds the running sync again after a
  reload and reloads itself when it ends, lien/static/lien/connectors.js), the
  notification URL to copy, the sync log;
- the set-up: the credentials (the secret is never shown back) and « Tester la
  connexion », then the three steps users know: (1) the correspondences, read-only,
  (2) the start date, (3) the HelloAsso forms to bring in and, for Checkout forms,
  their payment table; the answers to form questions mapped to contact fields;
- the webhook: POST /connecteurs/helloasso/webhook/<token>/, no login, no CSRF.

Rights: the « connectors » data type (« Applications connectées »): view to read,
change to set up and to sync. Rows of another organisation (a sync run) are a 404.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Func, IntegerField
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from lien.connectors.forms import (
    CUSTOM_PREFIX,
    CredentialsForm,
    FieldMappingsForm,
    FormsChoiceForm,
    StartDateForm,
    mapping_targets,
    table_choices,
)
from lien.connectors.helloasso import services
from lien.connectors.models import HelloAssoConnection, HelloAssoForm, HelloAssoSyncRun
from lien.core.access import get_job, member_required, require
from lien.core.audit import Actor
from lien.core.models import Job, Organization
from lien.core.rights import can
from lien.core.views import form_errors_to, render_page
from lien.payments.models import PaymentKind

logger = logging.getLogger(__name__)

SYNC_JOB_KIND = "helloasso_sync"
RUNS_PAGE_SIZE = 20
WEBHOOK_MAX_BYTES = 256 * 1024  # a HelloAsso notification is a few kilobytes
SANDBOX_HOST = "helloasso-sandbox.com"
STEPS = [
    ("connexion", "Connexion", ""),
    ("correspondances", "Correspondances", "1"),
    ("date", "Date de début", "2"),
    ("campagnes", "Campagnes", "3"),
]
STEP_URLS = {
    "connexion": "helloasso_connection",
    "correspondances": "helloasso_correspondences",
    "date": "helloasso_start_date",
    "campagnes": "helloasso_forms",
}
# HelloAsso's formType and state, as the association knows them on HelloAsso.
FORM_TYPE_LABELS = services.FORM_TYPE_LABELS
FORM_STATE_LABELS = {
    "Public": "Public",
    "Private": "Privé",
    "Draft": "Brouillon",
    "Disabled": "Désactivé",
}


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "Erreur inconnue."


def webhook_url(connection: HelloAssoConnection) -> str:
    """The address to paste in HelloAsso (the deployment's public address, LIEN_SITE_URL)."""
    return settings.SITE_URL + reverse("helloasso_webhook", args=[connection.webhook_token])


def uses_sandbox() -> bool:
    return SANDBOX_HOST in settings.HELLOASSO_API_URL


def _steps(current: str, connection: HelloAssoConnection | None) -> list[dict[str, Any]]:
    keys = [key for key, _label, _number in STEPS]
    configured = bool(connection and connection.is_configured)
    return [
        {
            "key": key,
            "label": label,
            "number": number,
            "current": key == current,
            "done": keys.index(key) < keys.index(current),
            # The steps after the connection need the credentials.
            "url": reverse(STEP_URLS[key]) if key == "connexion" or configured else "",
        }
        for key, label, number in STEPS
    ]


def _connection_or_redirect(request: HttpRequest) -> HelloAssoConnection | HttpResponse:
    """The set-up steps after the connection need saved credentials."""
    connection = services.get_connection(request.organization)
    if connection is None or not connection.is_configured:
        messages.info(request, "Enregistrez d'abord les identifiants de l'API HelloAsso.")
        return redirect("helloasso_connection")
    return connection


def _status(connection: HelloAssoConnection | None, job: Job | None) -> dict[str, str]:
    """The badge at the top of the connector page."""
    if connection is None or not connection.is_configured:
        return {"key": "off", "label": "Non connecté"}
    if job is not None and not job.is_finished:
        return {"key": "running", "label": "Synchronisation en cours"}
    if connection.last_error:
        return {"key": "error", "label": "En erreur"}
    if connection.last_success_at is None:
        return {"key": "ready", "label": "Connecté, jamais synchronisé"}
    if not connection.enabled:
        return {"key": "paused", "label": "Synchronisation suspendue"}
    return {"key": "ok", "label": "Connecté"}


def _sync_job(request: HttpRequest) -> Job | None:
    """The sync to follow: the one named in ?tache=, else the one running now.

    Looking for the running one is what makes the progress bar survive a reload or a
    later visit."""
    named = request.GET.get("tache", "")
    if named.isascii() and named.isdigit() and len(named) < 19:
        job = get_job(request, int(named))
        if job.kind == SYNC_JOB_KIND:
            return job
    return (
        Job.objects.for_org(request.organization)
        .filter(kind=SYNC_JOB_KIND, status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
        .order_by("-created_at", "-id")
        .first()
    )


class JSONArrayLength(Func):
    """The length of a JSON list column, computed by the database (SQLite and PostgreSQL)."""

    function = "json_array_length"
    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="jsonb_array_length", **extra)


def _runs_page(request: HttpRequest):
    """A page of the sync log; the errors are counted in SQL, not loaded."""
    runs = (
        services.sync_runs(request.organization)
        .defer("errors")
        .annotate(error_count=JSONArrayLength("errors"))
    )
    return Paginator(runs, RUNS_PAGE_SIZE).get_page(request.GET.get("page"))


def _selected_summary(organization: Organization) -> dict[str, int]:
    forms = HelloAssoForm.objects.for_org(organization)
    return {"total": forms.count(), "selected": forms.filter(selected=True).count()}


# The connector page ------------------------------------------------------------------


@member_required("connectors", "view")
def helloasso(request: HttpRequest) -> HttpResponse:
    """Status, last error, sync now and its progress, notification URL, sync log."""
    connection = services.get_connection(request.organization)
    job = _sync_job(request)
    runs = _runs_page(request)
    if request.htmx and request.GET.get("page"):
        return TemplateResponse(request, "connectors/partials/_runs.html", {"runs": runs})
    return render_page(
        request,
        "connectors/helloasso.html",
        {
            "connection": connection,
            "status": _status(connection, job),
            "job": job,
            "runs": runs,
            "forms": _selected_summary(request.organization) if connection else None,
            "webhook_url": webhook_url(connection) if connection else "",
            "editable": can(request.membership, "change", "connectors"),
            "sandbox": uses_sandbox(),
            "api_url": settings.HELLOASSO_API_URL,
            "sync_minutes": settings.HELLOASSO_SYNC_MINUTES,
        },
    )


@member_required("connectors", "change")
@require_POST
def helloasso_sync(request: HttpRequest) -> HttpResponse:
    """« Synchroniser maintenant »: queue the sync, then follow it on the connector page."""
    try:
        # Atomic: the task is queued on commit, after its job row exists.
        with transaction.atomic():
            job = services.start_sync(
                organization=request.organization, actor=_actor(request), trigger="manuel"
            )
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect("helloasso")
    messages.info(request, "La synchronisation est lancée : suivez-la ci-dessous.")
    return redirect(f"{reverse('helloasso')}?tache={job.pk}")


@member_required("connectors", "view")
def helloasso_run(request: HttpRequest, pk: int) -> HttpResponse:
    """One sync of the log: its counts and each error with the HelloAsso id concerned."""
    run = get_object_or_404(HelloAssoSyncRun.objects.for_org(request.organization), pk=pk)
    return TemplateResponse(request, "connectors/helloasso_run.html", {"run": run})


# Set-up: the connection -----------------------------------------------------------------


@member_required("connectors", "view")
@require_http_methods(["GET", "POST"])
def helloasso_connection(request: HttpRequest) -> HttpResponse:
    """The API credentials and the organisation slug; the secret is never shown back."""
    connection = services.get_connection(request.organization)
    editable = can(request.membership, "change", "connectors")
    form = CredentialsForm(request.POST or None, connection=connection)
    if request.method == "POST":
        require(request, "change", "connectors")
        if form.is_valid():
            try:
                services.save_credentials(
                    organization=request.organization,
                    actor=_actor(request),
                    client_id=form.cleaned_data["client_id"],
                    client_secret=form.cleaned_data["client_secret"] or None,
                    organization_slug=form.cleaned_data["organization_slug"],
                )
            except ValidationError as error:
                form_errors_to(form, error)
            else:
                messages.success(
                    request,
                    "Identifiants enregistrés. Testez la connexion, puis passez aux "
                    "correspondances.",
                )
                return redirect("helloasso_connection")
    return TemplateResponse(
        request,
        "connectors/helloasso_connection.html",
        {
            "form": form,
            "connection": connection,
            "editable": editable,
            "steps": _steps("connexion", connection),
            "sandbox": uses_sandbox(),
            "api_url": settings.HELLOASSO_API_URL,
        },
    )


@member_required("connectors", "change")
@require_POST
def helloasso_test(request: HttpRequest) -> HttpResponse:
    """« Tester la connexion » with the saved credentials: what is wrong, in French."""
    connection = services.get_connection(request.organization)
    if connection is None or not connection.is_configured:
        check = services.ConnectionCheck(
            ok=False, message="Enregistrez d'abord l'identifiant, le secret et l'identifiant "
            "de l'association.",
        )  # fmt: skip
    else:
        check = services.test_connection(organization=request.organization)
    if request.htmx:
        return TemplateResponse(request, "connectors/partials/_test_result.html", {"check": check})
    (messages.success if check.ok else messages.error)(request, check.message)
    return redirect("helloasso_connection")


# Set-up: the three steps -------------------------------------------------------------------


@member_required("connectors", "view")
def helloasso_correspondences(request: HttpRequest) -> HttpResponse:
    """Step 1: how HelloAsso's objects become Lien's, preconfigured and read-only."""
    connection = _connection_or_redirect(request)
    if isinstance(connection, HttpResponse):
        return connection
    tables = dict(table_choices())
    kinds = [
        (FORM_TYPE_LABELS.get(form_type, form_type), tables[kind] if kind else "")
        for form_type, kind in services.FORM_TYPE_KINDS.items()
    ]
    return TemplateResponse(
        request,
        "connectors/helloasso_correspondences.html",
        {
            "connection": connection,
            "steps": _steps("correspondances", connection),
            "correspondences": services.CORRESPONDENCES,
            "kinds": kinds,
        },
    )


@member_required("connectors", "view")
@require_http_methods(["GET", "POST"])
def helloasso_start_date(request: HttpRequest) -> HttpResponse:
    """Step 2: the date from which payments and contacts are brought in."""
    connection = _connection_or_redirect(request)
    if isinstance(connection, HttpResponse):
        return connection
    form = StartDateForm(request.POST or None, initial={"start_date": connection.start_date})
    if request.method == "POST":
        require(request, "change", "connectors")
        if form.is_valid():
            try:
                services.set_start_date(
                    organization=request.organization,
                    actor=_actor(request),
                    start_date=form.cleaned_data["start_date"],
                )
            except ValidationError as error:
                form_errors_to(form, error)
            else:
                # Step 3 then reads the forms from HelloAsso, in a request of its own.
                return redirect(f"{reverse('helloasso_forms')}?lire=1")
    return TemplateResponse(
        request,
        "connectors/helloasso_start_date.html",
        {
            "form": form,
            "connection": connection,
            "editable": can(request.membership, "change", "connectors"),
            "steps": _steps("date", connection),
        },
    )


def _refresh_forms(request: HttpRequest) -> bool:
    """Read the forms from HelloAsso; a failure is a message, the stored list stays."""
    try:
        found = services.refresh_forms(organization=request.organization)
    except ValidationError as error:
        messages.error(
            request, f"La liste des formulaires n'a pas pu être lue : {_error_text(error)}"
        )
        return False
    plural = "s" if len(found) > 1 else ""
    messages.success(request, f"{len(found)} formulaire{plural} lu{plural} sur HelloAsso.")
    return True


@member_required("connectors", "view")
@require_http_methods(["GET", "POST"])
def helloasso_forms(request: HttpRequest) -> HttpResponse:
    """Step 3: the HelloAsso forms to bring in; a Checkout form names its payment table."""
    connection = _connection_or_redirect(request)
    if isinstance(connection, HttpResponse):
        return connection
    forms_list = list(
        HelloAssoForm.objects.for_org(request.organization)
        .select_related("campaign")
        .order_by("form_type", "title", "pk")
    )
    form = FormsChoiceForm(request.POST or None, forms_list=forms_list)
    if request.method == "POST":
        require(request, "change", "connectors")
        if form.is_valid():
            try:
                services.choose_forms(
                    organization=request.organization,
                    actor=_actor(request),
                    selected=form.selected(),
                )
            except ValidationError as error:
                form_errors_to(form, error)
            else:
                count = len(form.selected())
                messages.success(
                    request,
                    f"{count} formulaire{'s' if count > 1 else ''} à importer. Lancez la "
                    "synchronisation quand vous êtes prêt.",
                )
                return redirect("helloasso")
    tables = dict(table_choices())
    for item in forms_list:
        item.type_label = FORM_TYPE_LABELS.get(item.form_type, item.form_type)
        item.state_label = FORM_STATE_LABELS.get(item.state, item.state)
        kind = item.checkout_kind if item.form_type == "Checkout" else None
        kind = kind or services.FORM_TYPE_KINDS.get(item.form_type, PaymentKind.OTHER.value)
        item.table_label = tables.get(kind or "", "")
    return TemplateResponse(
        request,
        "connectors/helloasso_forms.html",
        {
            "form": form,
            "connection": connection,
            "editable": can(request.membership, "change", "connectors"),
            "steps": _steps("campagnes", connection),
            # Coming from step 2: the page asks HelloAsso for the forms as it opens.
            "read_now": request.GET.get("lire") == "1"
            and can(request.membership, "change", "connectors"),
            "unknown_types": sorted(
                {f.form_type for f in forms_list if f.form_type not in services.FORM_TYPE_KINDS}
            ),
        },
    )


@member_required("connectors", "change")
@require_POST
def helloasso_forms_refresh(request: HttpRequest) -> HttpResponse:
    """« Actualiser la liste »: read the forms from HelloAsso again (choices are kept)."""
    connection = _connection_or_redirect(request)
    if isinstance(connection, HttpResponse):
        return connection
    _refresh_forms(request)
    if request.htmx:
        # Step 3 asked for the list on opening: show it, with the message.
        response = HttpResponse("")
        response["HX-Redirect"] = reverse("helloasso_forms")
        return response
    return redirect("helloasso_forms")


@member_required("connectors", "view")
@require_http_methods(["GET", "POST"])
def helloasso_questions(request: HttpRequest) -> HttpResponse:
    """The answers to form questions (custom fields) that fill a contact's fields."""
    connection = _connection_or_redirect(request)
    if isinstance(connection, HttpResponse):
        return connection
    form = FieldMappingsForm(
        request.POST or None,
        organization=request.organization,
        mappings=connection.field_mappings or {},
    )
    if request.method == "POST":
        require(request, "change", "connectors")
        if form.is_valid():
            try:
                services.set_field_mappings(
                    organization=request.organization,
                    actor=_actor(request),
                    mappings=form.mappings(),
                )
            except ValidationError as error:
                form_errors_to(form, error)
            else:
                messages.success(request, "Les correspondances des questions sont enregistrées.")
                return redirect("helloasso_questions")
    labels = {value: label for _g, group in mapping_targets(request.organization)[1:]
              for value, label in group}  # fmt: skip
    return TemplateResponse(
        request,
        "connectors/helloasso_questions.html",
        {
            "form": form,
            "connection": connection,
            "editable": can(request.membership, "change", "connectors"),
            "saved": [
                (question, labels.get(target, target.removeprefix(CUSTOM_PREFIX)))
                for question, target in (connection.field_mappings or {}).items()
            ],
        },
    )


# The notification endpoint -------------------------------------------------------------------


@csrf_exempt
@require_POST
def helloasso_webhook(request: HttpRequest, token: str) -> HttpResponse:
    """A HelloAsso notification for the connection whose token is in the URL.

    No login (HelloAsso calls it) and no CSRF; the token, unguessable and unique, names
    the organisation, so a URL can only ever write into its own organisation. The body is
    never trusted: the service fetches the object again from the API by id and upserts it
    (a replay changes nothing). The work is done here, in the request (a token and one or
    two API calls): HelloAsso gets a 200 once it is recorded. A failure of HelloAsso's
    API is still a 200 with its reason: the scheduled sync brings the object in anyway,
    and a notification answered with an error would only be sent again.
    """
    if not HelloAssoConnection.objects.filter(webhook_token=token).exists():
        raise Http404("Adresse de notification inconnue.")
    if len(request.body) > WEBHOOK_MAX_BYTES:
        return JsonResponse({"detail": "Notification trop volumineuse."}, status=413)
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"detail": "Le corps de la notification n'est pas du JSON."},
                            status=400)  # fmt: skip
    if not isinstance(payload, dict):
        return JsonResponse({"detail": "La notification doit être un objet JSON."}, status=400)
    try:
        services.handle_notification(webhook_token=token, payload=payload)
    except services.UnknownWebhook as error:
        raise Http404("Adresse de notification inconnue.") from error
    except ValidationError as error:
        return JsonResponse({"detail": _error_text(error)}, status=400)
    return JsonResponse({"detail": "Notification reçue."})
