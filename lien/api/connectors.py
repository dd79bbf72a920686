"""The HelloAsso connector API: /api/v1/connectors/helloasso/.

The same services, rules and rights as the pages (lien/connectors/views.py), so the
whole set-up and the syncs can be driven by a script:

    GET    /connectors/helloasso/                 settings and state (the secret never:
                                                  `has_secret` only), notification URL
    PATCH  /connectors/helloasso/                 `client_id`, `client_secret` (write
                                                  only; absent keeps it), `organization_slug`,
                                                  `start_date`, `field_mappings`
    POST   /connectors/helloasso/test/            « Tester la connexion » → `ok`, `message`
    GET    /connectors/helloasso/forms/           the HelloAsso forms as last read
    POST   /connectors/helloasso/forms/refresh/   read them again from HelloAsso
    PATCH  /connectors/helloasso/forms/{id}/      `selected`, `checkout_kind` (Checkout)
    POST   /connectors/helloasso/syncs/           « Synchroniser maintenant » → 201, its job
    GET    /connectors/helloasso/syncs/{id}/      the job's progress (poll it)
    GET    /connectors/helloasso/runs/            the sync log, newest first
    GET    /connectors/helloasso/runs/{id}/       one run, with its errors

Rights: the « connectors » data type: `view` to read, `change` for every write and to
sync. Another organisation's form, job or run is a 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from lien.api.contacts import ScopedViewSet, StrictBooleanField, StrictCharField
from lien.api.payments import EnumField, kind_field
from lien.api.views import OrganizationScoped, as_api_error
from lien.connectors.forms import clean_slug
from lien.connectors.helloasso import services
from lien.connectors.models import HelloAssoConnection, HelloAssoForm, HelloAssoSyncRun
from lien.connectors.views import (
    FORM_TYPE_LABELS,
    SYNC_JOB_KIND,
    JSONArrayLength,
    uses_sandbox,
    webhook_url,
)
from lien.core.models import Job
from lien.core.rights import can

MAX_MAPPINGS = 200


class ConnectorRight(permissions.BasePermission):
    """Reading needs `view` « connectors »; any write, a test or a sync needs `change`."""

    message = "Votre profil ne vous permet pas cette action."

    def has_permission(self, request, view) -> bool:
        membership = getattr(request._request, "membership", None)
        if not request.user or not request.user.is_authenticated or membership is None:
            return False
        action_name = "view" if request.method in permissions.SAFE_METHODS else "change"
        return can(membership, action_name, "connectors")


def _service(call):
    try:
        return call()
    except ValidationError as error:
        raise as_api_error(error) from error


# Serializers ----------------------------------------------------------------------------


class SettingsSerializer(serializers.Serializer):
    configured = serializers.BooleanField(
        help_text="Identifiant, secret et identifiant de l'association enregistrés."
    )
    client_id = serializers.CharField()
    has_secret = serializers.BooleanField(help_text="Un secret est enregistré (jamais renvoyé).")
    organization_slug = serializers.CharField()
    start_date = serializers.DateField(allow_null=True)
    enabled = serializers.BooleanField()
    field_mappings = serializers.DictField(
        child=serializers.CharField(),
        help_text="Question HelloAsso → champ du contact (`email`…) ou `custom:<clé>`.",
    )
    webhook_url = serializers.CharField(
        allow_null=True, help_text="L'adresse de notification à coller sur HelloAsso."
    )
    last_sync_at = serializers.DateTimeField(allow_null=True)
    last_success_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(help_text="Vide si la dernière synchronisation a réussi.")
    api_url = serializers.CharField(help_text="L'API HelloAsso interrogée (production ou test).")
    sandbox = serializers.BooleanField()


class SettingsWriteSerializer(serializers.Serializer):
    client_id = StrictCharField(max_length=200, required=False)
    client_secret = StrictCharField(
        max_length=500,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Jamais renvoyé ; absent ou vide : le secret enregistré est gardé.",
    )
    organization_slug = StrictCharField(max_length=250, required=False)
    start_date = serializers.DateField(
        required=False, allow_null=True, help_text="null : tout l'historique."
    )
    field_mappings = serializers.DictField(
        child=StrictCharField(max_length=100),
        required=False,
        help_text="Remplace toutes les correspondances : question HelloAsso → `email`, "
        "`city`… ou `custom:<clé>` d'un champ personnalisé des contacts.",
    )

    def validate_client_id(self, value: str) -> str:
        value = value.strip()
        if not value or any(c.isspace() for c in value):
            raise serializers.ValidationError("Identifiant client vide ou avec des espaces.")
        return value

    def validate_organization_slug(self, value: str) -> str:
        try:
            return clean_slug(value)
        except ValidationError as error:
            raise serializers.ValidationError(error.messages) from error

    def validate_start_date(self, value):
        from django.utils import timezone

        if value and value > timezone.localdate():
            raise serializers.ValidationError("La date ne peut pas être dans le futur.")
        return value

    def validate_field_mappings(self, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_MAPPINGS:
            raise serializers.ValidationError(f"{MAX_MAPPINGS} questions au plus.")
        return value


class TestResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()


class FormSerializer(serializers.ModelSerializer):
    form_type_label = serializers.SerializerMethodField()
    table = serializers.SerializerMethodField()
    checkout_kind = serializers.CharField(
        help_text="Pour un formulaire Checkout : la table de ses paiements (vide sinon)."
    )
    campaign_name = serializers.CharField(source="campaign.name", allow_null=True, default=None)

    class Meta:
        model = HelloAssoForm
        fields = ["id", "form_type", "form_type_label", "form_slug", "title", "state",
                  "selected", "checkout_kind", "table", "campaign", "campaign_name",
                  "updated_at"]  # fmt: skip
        read_only_fields = fields

    def get_form_type_label(self, form: HelloAssoForm) -> str:
        return FORM_TYPE_LABELS.get(form.form_type, form.form_type)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_table(self, form: HelloAssoForm) -> str | None:
        """The payment table its payments go to (null: a Checkout form without a table)."""
        if form.form_type == "Checkout":
            return form.checkout_kind or None
        return services.FORM_TYPE_KINDS.get(form.form_type) or "autre"


class FormWriteSerializer(serializers.Serializer):
    selected = StrictBooleanField(required=False)
    checkout_kind = kind_field(
        required=False,
        allow_null=True,
        help_text="Pour un formulaire Checkout : la table où vont ses paiements.",
    )


class JobSerializer(serializers.ModelSerializer):
    status = EnumField("JobStatusEnum", Job.Status.choices)
    status_label = serializers.CharField(source="get_status_display")
    percent = serializers.IntegerField()
    done = serializers.IntegerField(source="progress_done")
    total = serializers.IntegerField(source="progress_total")
    result = serializers.DictField(child=serializers.JSONField())

    class Meta:
        model = Job
        fields = ["id", "label", "status", "status_label", "percent", "done", "total",
                  "message", "result", "created_at", "started_at", "finished_at"]  # fmt: skip
        read_only_fields = fields


class RunErrorSerializer(serializers.Serializer):
    helloasso_id = serializers.CharField()
    message = serializers.CharField()


class RunSerializer(serializers.ModelSerializer):
    trigger = EnumField("HelloAssoTriggerEnum", HelloAssoSyncRun.Trigger.choices)
    status = EnumField("HelloAssoRunStatusEnum", HelloAssoSyncRun.Status.choices)
    error_count = serializers.IntegerField()

    class Meta:
        model = HelloAssoSyncRun
        fields = ["id", "started_at", "finished_at", "trigger", "status", "contacts_created",
                  "contacts_updated", "payments_created", "payments_updated", "items_seen",
                  "error_count", "message"]  # fmt: skip
        read_only_fields = fields


class RunDetailSerializer(RunSerializer):
    errors = serializers.SerializerMethodField()

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "errors"]
        read_only_fields = fields

    @extend_schema_field(RunErrorSerializer(many=True))
    def get_errors(self, run: HelloAssoSyncRun) -> list[dict[str, str]]:
        return [
            {"helloasso_id": str(e.get("helloasso_id") or ""), "message": str(e.get("message"))}
            for e in run.errors or []
            if isinstance(e, dict)
        ]


# Views ----------------------------------------------------------------------------------


def settings_data(connection: HelloAssoConnection | None) -> dict[str, Any]:
    return {
        "configured": bool(connection and connection.is_configured),
        "client_id": connection.client_id if connection else "",
        "has_secret": bool(connection and connection.has_secret),
        "organization_slug": connection.organization_slug if connection else "",
        "start_date": connection.start_date if connection else None,
        "enabled": connection.enabled if connection else False,
        "field_mappings": (connection.field_mappings or {}) if connection else {},
        "webhook_url": webhook_url(connection) if connection else None,
        "last_sync_at": connection.last_sync_at if connection else None,
        "last_success_at": connection.last_success_at if connection else None,
        "last_error": connection.last_error if connection else "",
        "api_url": settings.HELLOASSO_API_URL,
        "sandbox": uses_sandbox(),
    }


class HelloAssoSettingsView(OrganizationScoped, APIView):
    """The organisation's HelloAsso connection: credentials, slug, start date, questions."""

    permission_classes = [ConnectorRight]
    parser_classes = [JSONParser]  # JSON bodies only, as the rest of the API

    @extend_schema(responses=SettingsSerializer)
    def get(self, request):
        connection = services.get_connection(self.organization)
        return Response(SettingsSerializer(settings_data(connection)).data)

    @extend_schema(request=SettingsWriteSerializer, responses=SettingsSerializer)
    def patch(self, request):
        serializer = SettingsWriteSerializer(
            data=request.data, context={"organization": self.organization}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            self._save(data)
        connection = services.get_connection(self.organization)
        return Response(SettingsSerializer(settings_data(connection)).data)

    def _save(self, data: dict[str, Any]) -> None:
        organization, actor = self.organization, self.actor()
        connection = services.get_connection(organization)
        credentials = {"client_id", "client_secret", "organization_slug"} & set(data)
        if credentials:
            client_id = data.get("client_id", connection.client_id if connection else "")
            slug = data.get("organization_slug", connection.organization_slug if connection else "")
            secret = data.get("client_secret") or None
            missing = {
                "client_id": "L'identifiant client est obligatoire." if not client_id else "",
                "client_secret": "Le secret client est obligatoire."
                if not secret and not (connection and connection.has_secret)
                else "",
                "organization_slug": "L'identifiant de l'association est obligatoire."
                if not slug
                else "",
            }
            if any(missing.values()):
                raise ApiValidationError({k: [v] for k, v in missing.items() if v})
            connection = _service(
                lambda: services.save_credentials(
                    organization=organization, actor=actor, client_id=client_id,
                    client_secret=secret, organization_slug=slug,
                )
            )  # fmt: skip
        if ("start_date" in data or "field_mappings" in data) and connection is None:
            raise ApiValidationError(
                {"detail": ["Enregistrez d'abord les identifiants de l'API HelloAsso."]}
            )
        if "start_date" in data:
            _service(
                lambda: services.set_start_date(
                    organization=organization, actor=actor, start_date=data["start_date"]
                )
            )
        if "field_mappings" in data:
            try:
                services.set_field_mappings(
                    organization=organization, actor=actor, mappings=data["field_mappings"]
                )
            except ValidationError as error:
                raise ApiValidationError({"field_mappings": error.messages}) from error


class HelloAssoTestView(OrganizationScoped, APIView):
    """« Tester la connexion » with the saved credentials: what is wrong, in French."""

    permission_classes = [ConnectorRight]

    @extend_schema(request=None, responses=TestResultSerializer)
    def post(self, request):
        connection = services.get_connection(self.organization)
        if connection is None or not connection.is_configured:
            result = {
                "ok": False,
                "message": "Enregistrez d'abord l'identifiant, le secret et l'identifiant "
                "de l'association.",
            }
        else:
            check = services.test_connection(organization=self.organization)
            result = {"ok": check.ok, "message": check.message}
        return Response(TestResultSerializer(result).data)


def _configured(organization) -> HelloAssoConnection:
    connection = services.get_connection(organization)
    if connection is None or not connection.is_configured:
        raise ApiValidationError(
            {"detail": ["Enregistrez d'abord les identifiants de l'API HelloAsso."]}
        )
    return connection


class HelloAssoFormViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The HelloAsso forms (« campagnes ») as last read, and which are brought in."""

    permission_classes = [ConnectorRight]
    serializer_class = FormSerializer
    queryset = HelloAssoForm.objects.none()

    def get_queryset(self):
        return (
            HelloAssoForm.objects.for_org(self.organization)
            .select_related("campaign")
            .order_by("form_type", "title", "pk")
        )

    @extend_schema(request=FormWriteSerializer, responses=FormSerializer)
    def partial_update(self, request, *args, **kwargs):
        form = self.get_object()
        data = self.write_serializer(FormWriteSerializer, partial=True)
        # The service takes the whole selection: the current one, with this form changed.
        selection = {
            pk: (kind or None) if form_type == "Checkout" else None
            for pk, form_type, kind in self.get_queryset()
            .filter(selected=True)
            .values_list("pk", "form_type", "checkout_kind")
        }
        selected = data.get("selected", form.selected)
        kind = data.get("checkout_kind", form.checkout_kind)
        if form.form_type != "Checkout" and data.get("checkout_kind"):
            raise ApiValidationError(
                {"checkout_kind": ["Seul un formulaire Checkout se range dans la table choisie."]}
            )
        if selected:
            selection[form.pk] = (kind or None) if form.form_type == "Checkout" else None
        else:
            selection.pop(form.pk, None)
        if form.form_type == "Checkout" and selected and not kind:
            raise ApiValidationError(
                {"checkout_kind": ["Choisissez la table où vont les paiements de ce formulaire."]}
            )
        _service(
            lambda: services.choose_forms(
                organization=self.organization, actor=self.actor(), selected=selection
            )
        )
        return Response(self.fresh(form.pk))

    @extend_schema(request=None, responses=FormSerializer(many=True))
    @action(detail=False, methods=["post"])
    def refresh(self, request):
        """Read the forms from HelloAsso again; the choices made are kept."""
        _configured(self.organization)
        _service(lambda: services.refresh_forms(organization=self.organization))
        return Response(self.get_serializer(self.get_queryset(), many=True).data)


class HelloAssoSyncViewSet(
    ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Syncs run on demand: each is a background job whose progress can be polled."""

    permission_classes = [ConnectorRight]
    serializer_class = JobSerializer
    queryset = Job.objects.none()

    def get_queryset(self):
        return (
            Job.objects.for_org(self.organization)
            .filter(kind=SYNC_JOB_KIND)
            .order_by("-created_at", "-id")
        )

    @extend_schema(request=None, responses={201: JobSerializer})
    def create(self, request, *args, **kwargs):
        """« Synchroniser maintenant »: queue a sync; poll /syncs/{id}/ for its progress."""
        _configured(self.organization)
        with transaction.atomic():
            job = _service(
                lambda: services.start_sync(
                    organization=self.organization, actor=self.actor(), trigger="manuel"
                )
            )
        return Response(self.fresh(job.pk), status=status.HTTP_201_CREATED)


class HelloAssoRunViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The sync log: when, what triggered it, what was written, errors by HelloAsso id."""

    permission_classes = [ConnectorRight]
    serializer_class = RunSerializer
    queryset = HelloAssoSyncRun.objects.none()

    def get_queryset(self):
        runs = services.sync_runs(self.organization).annotate(error_count=JSONArrayLength("errors"))
        return runs.defer("errors") if getattr(self, "action", None) == "list" else runs

    def get_serializer_class(self):
        if getattr(self, "action", None) == "retrieve":
            return RunDetailSerializer
        return RunSerializer
