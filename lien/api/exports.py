"""The exports API: /api/v1/exports/.

The same exports, rules and rights as the pages (thin over `lien.exports`), so that an
association can fetch its data on a schedule:

    POST /exports/                 start an export (always in the background): `kind`
                                   (contacts, structures, interactions, payments — a list
                                   with its `query` string —, search with a `tree`,
                                   segment, group, or all: « toutes mes données » as a
                                   ZIP), `format` (csv, xlsx), `delimiter`, `bom`,
                                   `columns` (keys; the form's defaults when omitted),
                                   `ids` (only these rows)
    GET  /exports/                 my exports (the organisation's for an administrator),
                                   newest first
    GET  /exports/{id}/            status, progress, row count, whether the file is kept
    GET  /exports/{id}/download/   the file (409 while it is being made; 404 once deleted)
    GET  /exports/columns/?table=  the columns this member may export from a table

Rights: « view » exports to read, « add » exports to start, and the view right on the
exported data (contacts, structures, interactions, payments; segments for a segment or
a group; the settings for everything). A profile that hides payment data exports no
payment and sees no payment column; one that hides sensitive fields sees none of them.
Another organisation's export — or, for a member who is not an administrator, someone
else's — is a 404.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import include, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from lien.api.contacts import ScopedViewSet, StrictBooleanField, StrictCharField, id_field
from lien.api.imports import JobProgressSerializer
from lien.api.interactions import CONFLICT, Conflict
from lien.api.payments import EnumField, kind_field
from lien.api.search import TreeField, conform_tree, tree_error
from lien.exports import records, services, sources
from lien.exports.access import file_response
from lien.exports.models import ExportKind, ExportRecord
from lien.exports.tables import TABLES, available_columns
from lien.search.criteria import REGISTRIES, TreeError
from lien.search.tree import check_tree, context

REQUEST_KINDS = {
    "contacts": "La liste des contacts (filtres : `query`)",
    "structures": "La liste des structures (filtres : `query`)",
    "interactions": "La liste des interactions (filtres : `query`)",
    "payments": "Un tableau de paiements (`payment_kind`, filtres : `query`)",
    "search": "Les résultats d'une recherche avancée (`tree`, `table`)",
    "segment": "Les contacts d'un segment (`segment`)",
    "group": "Les contacts ou structures d'un groupe (`group`, `table`)",
    "all": "Toutes les données de l'association : une archive ZIP de CSV",
}
TABLE_CHOICES = {key: str(table.title) for key, table in TABLES.items()}
MAX_COLUMNS = 300


def _table_field(**kwargs) -> EnumField:
    return EnumField("ExportTableEnum", TABLE_CHOICES, **kwargs)


# Serializers ---------------------------------------------------------------------------


class StartSerializer(serializers.Serializer):
    kind = EnumField("ExportRequestKindEnum", REQUEST_KINDS)
    format = EnumField(
        "ExportFormatEnum", {"csv": "CSV", "xlsx": "Excel (.xlsx)"}, required=False, default="csv"
    )
    delimiter = EnumField(
        "ExportDelimiterEnum", {";": "point-virgule", ",": "virgule"}, required=False, default=";"
    )
    bom = StrictBooleanField(
        required=False, help_text="UTF-8 avec BOM (par défaut avec « ; », sans avec « , »)."
    )
    columns = serializers.ListField(
        child=StrictCharField(max_length=80),
        required=False,
        max_length=MAX_COLUMNS,
        help_text="Clés des colonnes (voir `/exports/columns/`) ; par défaut celles cochées "
        "d'office sur le formulaire.",
    )
    query = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Les filtres d'une liste, comme dans l'adresse de sa page : "
        "« q=dupont&etiquette=3 ».",
    )
    payment_kind = kind_field(required=False, help_text="Pour `payments`.")
    table = _table_field(
        required=False, help_text="Pour `search` (contacts par défaut) et `group`."
    )
    tree = TreeField(required=False, help_text="Pour `search` : l'arbre de filtres.")
    segment = id_field(required=False, help_text="Pour `segment`.")
    group = id_field(required=False, help_text="Pour `group`.")
    ids = serializers.ListField(
        child=id_field(),
        required=False,
        max_length=sources.MAX_IDS,
        help_text="Seulement ces lignes (parmi la sélection).",
    )

    REQUIRED = {
        "payments": "payment_kind",
        "search": "tree",
        "segment": "segment",
        "group": "group",
    }

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        kind = data["kind"]
        if data.get("tree") is not None:  # a tree given is well formed, whatever the kind
            try:
                conform_tree(data["tree"])
            except TreeError as error:
                raise tree_error(error) from error
        needed = self.REQUIRED.get(kind)
        if needed and data.get(needed) is None:
            raise serializers.ValidationError({needed: [f"Obligatoire pour « {kind} »."]})
        if kind == "all" and data["format"] != "csv":
            raise serializers.ValidationError(
                {"format": ["Toutes les données s'exportent en une archive ZIP de fichiers CSV."]}
            )
        if kind == "group" and data.get("table", "contacts") not in ("contacts", "structures"):
            raise serializers.ValidationError(
                {"table": ["Un groupe s'exporte en contacts ou en structures."]}
            )
        return data


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class AvailableColumnSerializer(ColumnSerializer):
    group = serializers.CharField()
    default = serializers.BooleanField()


class ExportSerializer(serializers.ModelSerializer):
    kind = EnumField("ExportKindEnum", ExportKind.choices, read_only=True)
    status = EnumField(
        "ExportStatusEnum",
        {"queued": "En attente", "running": "En cours", "succeeded": "Terminé", "failed": "Échec"},
        read_only=True,
    )
    format = serializers.CharField(source="fmt", help_text="csv, xlsx ou zip.")
    via = EnumField("ExportViaEnum", ExportRecord.Via.choices, read_only=True)
    columns = serializers.SerializerMethodField()
    source = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    created_by = serializers.SerializerMethodField()
    file_available = serializers.BooleanField()
    downloadable = serializers.SerializerMethodField()

    class Meta:
        model = ExportRecord
        fields = [
            "id", "kind", "title", "summary", "source", "columns", "format", "delimiter",
            "via", "status", "progress", "rows", "file_available", "downloadable",
            "file_size", "file_deleted_at", "created_by", "created_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields

    def _hidden(self, record: ExportRecord) -> bool:
        return records.details_hidden(self.context["membership"], record)

    @extend_schema_field(ColumnSerializer(many=True))
    def get_columns(self, record: ExportRecord) -> list[dict[str, str]]:
        return [] if self._hidden(record) else record.columns

    @extend_schema_field(
        {"type": "object", "additionalProperties": True, "description": "La sélection."}
    )
    def get_source(self, record: ExportRecord) -> dict[str, Any]:
        return {} if self._hidden(record) else record.source

    def get_summary(self, record: ExportRecord) -> str:
        return records.HIDDEN_DETAILS if self._hidden(record) else record.summary

    @extend_schema_field(JobProgressSerializer(allow_null=True))
    def get_progress(self, record: ExportRecord) -> dict[str, Any] | None:
        return JobProgressSerializer(record.job).data if record.job_id else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_created_by(self, record: ExportRecord) -> str | None:
        return record.created_by.email if record.created_by_id else None

    def get_downloadable(self, record: ExportRecord) -> bool:
        return records.may_download(self.context["membership"], record)


# Views ---------------------------------------------------------------------------------


def _selection_errors(call):
    """The rows of a request's source: a refused right is a 403, a missing segment or
    group or a wrong filter a 400 naming the field."""
    try:
        return call()
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error)) from error
    except Http404 as error:
        raise ApiValidationError({"detail": [str(error)]}) from error
    except ValidationError as error:
        if hasattr(error, "error_dict"):  # a list filter: « date_from : … »
            messages = [f"{k} : {m}" for k, v in error.message_dict.items() for m in v]
            raise ApiValidationError({"query": messages}) from error
        raise ApiValidationError({"query": error.messages}) from error


@extend_schema_view(
    create=extend_schema(
        request=StartSerializer,
        responses={201: ExportSerializer},
        description="Lance un export en arrière-plan ; suivez `status` et `progress` sur "
        "`/exports/{id}/`, puis téléchargez `/exports/{id}/download/`.",
    ),
)
class ExportViewSet(
    ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """My exports (the whole organisation's for an administrator), newest first."""

    data_type = "exports"
    serializer_class = ExportSerializer
    queryset = ExportRecord.objects.none()
    action_rights = {"create": "add", "download": "view", "columns": "view"}

    def get_queryset(self):
        return records.visible_exports(organization=self.organization, membership=self.membership)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["membership"] = self.membership
        return context

    def _source(self, data: dict[str, Any]) -> dict[str, Any]:
        kind = data["kind"]
        if kind in ("contacts", "structures", "interactions", "payments"):
            source = {"kind": "list", "table": kind, "query": data.get("query", "")}
            if kind == "payments":
                source["payment_kind"] = data["payment_kind"]
        elif kind == "search":
            table = data.get("table", "contacts")
            try:  # the tree's shape, then its meaning for this member: errors name the node
                conform_tree(data["tree"])
                check_tree(
                    data["tree"], REGISTRIES[table], context(self.organization, self.membership)
                )
            except TreeError as error:
                raise tree_error(error) from error
            source = {"kind": "search", "table": table, "tree": data["tree"]}
        elif kind == "segment":
            source = {"kind": "segment", "table": "contacts", "segment": data["segment"]}
        else:
            source = {"kind": "group", "table": data.get("table", "contacts"),
                      "group": data["group"]}  # fmt: skip
        if data.get("ids"):
            source["ids"] = data["ids"]
        return source

    def create(self, request, *args, **kwargs):
        data = self.write_serializer(StartSerializer)
        if data["kind"] == "all":
            record = _selection_errors(
                lambda: records.start_archive(
                    organization=self.organization,
                    membership=self.membership,
                    via=ExportRecord.Via.API,
                )
            )
            return Response(self.fresh(record.pk), status=status.HTTP_201_CREATED)
        source = self._source(data)
        selected = _selection_errors(
            lambda: sources.selection(
                source, organization=self.organization, membership=self.membership
            )
        )
        offered = available_columns(
            selected.table, organization=self.organization, membership=self.membership
        )
        if "columns" in data:
            by_key = {column.key: column for column in offered}
            unknown = [key for key in data["columns"] if key not in by_key]
            if unknown:
                raise ApiValidationError(
                    {"columns": [f"Colonne inconnue ou non autorisée : « {k} »." for k in unknown]}
                )
            if not data["columns"]:
                raise ApiValidationError({"columns": ["Choisissez au moins une colonne."]})
            chosen = [by_key[key] for key in dict.fromkeys(data["columns"])]
        else:
            chosen = [column for column in offered if column.default]
        delimiter = data["delimiter"]
        options = services.FileOptions(
            fmt=data["format"], delimiter=delimiter, bom=data.get("bom", delimiter == ";")
        )
        export = records.TableExport(
            self.organization, request.user, source, selected, chosen, options,
            via=ExportRecord.Via.API,
        )  # fmt: skip
        record = records.start_export(export)
        return Response(self.fresh(record.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 409: CONFLICT},
        description="Le fichier de l'export (CSV, XLSX ou ZIP). 409 tant qu'il se prépare ; "
        "404 une fois supprimé (après la durée de conservation).",
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        record = self.get_object()
        if not record.file_name:
            if record.file_deleted_at:
                raise NotFound(
                    f"Le fichier a été supprimé le {record.file_deleted_at:%d/%m/%Y}, après "
                    f"{records.retention_days()} jours de conservation : relancez l'export."
                )
            if record.status == "failed":
                raise Conflict(f"L'export a échoué : {record.job.message}")
            if record.is_immediate:
                raise NotFound("Cet export a été téléchargé tout de suite : pas de copie gardée.")
            raise Conflict("Le fichier se prépare : suivez `status` et `progress`.")
        return file_response(self.membership, record)  # DRF turns its 403/404 into JSON

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "table",
                {"type": "string", "enum": list(TABLE_CHOICES), "default": "contacts"},
                description="contacts (par défaut), structures, interactions ou payments.",
            )  # fmt: skip
        ],
        responses=AvailableColumnSerializer(many=True),
        description="Les colonnes que votre profil permet d'exporter de cette table, "
        "rangées par thème ; `default` : cochée d'office.",
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def columns(self, request):
        table = TABLES.get(request.query_params.get("table", "contacts"))
        if table is None:
            raise ApiValidationError(
                {"table": ["contacts, structures, interactions ou payments attendu."]}
            )
        if not sources.may_export(self.membership, table):
            raise PermissionDenied("Votre profil ne vous permet pas d'exporter ces données.")
        offered = available_columns(
            table, organization=self.organization, membership=self.membership
        )
        return Response(
            [
                {"key": c.key, "label": c.label, "group": c.group, "default": c.default}
                for c in offered
            ]
        )


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("exports", ExportViewSet, basename="api-exports")

urlpatterns = [path("v1/", include(router.urls))]
