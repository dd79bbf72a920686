"""The imports API: /api/v1/imports/ and /api/v1/import-templates/.

The same job, rules and rights as the wizard (thin over `lien.imports.services`), so an
association can automate a recurring import:

    POST   /imports/                 upload (multipart `file` + `target`, or JSON
                                     `filename` + `content_base64` + `target`)
    GET    /imports/{id}/            detected format, headers, mapping (suggested or the
                                     template's), matching templates, status, counters,
                                     progress of the running job
    GET    /imports/{id}/preview/    the first rows as read with the current settings
    PATCH  /imports/{id}/            mapping, transforms, options, or a `template` id;
                                     `encoding`, `delimiter`, `sheet`, `header_row` re-read
                                     the file
    POST   /imports/{id}/check/      queue the dry run
    POST   /imports/{id}/run/        queue the run (or resume an interrupted one)
    GET    /imports/{id}/errors/     rows in error, paginated
    GET    /imports/{id}/rejected/   the rejected rows file (source format + « Erreur »)
    POST   /imports/{id}/undo/       « Annuler cet import »; 409 with `blockers` if refused

Rights: the « imports » data type (view to read, add to upload/check/run, change to
configure, delete to undo), and writing needs « add » and « change » on the import's
target data type too (contacts, structures, interactions or payments) — the one
`lien.imports.services.may_import` rule. Undo also needs « delete » on the target.
Another organisation's import or template is a 404.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from lien.api.contacts import ScopedViewSet, StrictBooleanField, StrictCharField, id_field
from lien.api.interactions import CONFLICT, Conflict
from lien.api.payments import EnumField, kind_field
from lien.api.views import as_api_error
from lien.core.rights import can
from lien.imports import services
from lien.imports.files import max_bytes
from lien.imports.models import Import, ImportRow, ImportTarget, MappingTemplate, UpdatePolicy
from lien.imports.rows import error_text

MAX_MAPPING = 500  # columns


def target_field(**kwargs) -> EnumField:
    return EnumField("ImportTargetEnum", ImportTarget.choices, **kwargs)


class UndoRefused(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, detail: str, blockers: list[str]):
        super().__init__({"detail": detail, "blockers": blockers})


def _service(call):
    """A field error is a 400; a refusal of the import's state is a 409."""
    try:
        return call()
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise as_api_error(error) from error
        raise Conflict(" ".join(error.messages)) from error


# Serializers ---------------------------------------------------------------------------


class TransformsSerializer(serializers.Serializer):
    date_format = StrictCharField(required=False, allow_blank=True, max_length=40)
    decimal_comma = StrictBooleanField(required=False)
    create_missing_choices = StrictBooleanField(required=False)
    choices = serializers.DictField(
        child=serializers.DictField(child=StrictCharField(max_length=200)),
        required=False,
        help_text="Par champ (`custom.<clé>`, `civility`…) : valeur du fichier → choix.",
    )
    payment_kind = kind_field(
        required=False,
        help_text="Type des paiements quand le fichier n'a pas de colonne « Type ».",
    )


class OptionsSerializer(serializers.Serializer):
    update_policy = EnumField("ImportUpdatePolicyEnum", UpdatePolicy.choices, required=False)
    labels = serializers.ListField(child=id_field(), max_length=50, required=False)
    group = id_field(required=False, allow_null=True)
    skip_errors = StrictBooleanField(required=False)


def _mapping_field(**kwargs) -> serializers.DictField:
    return serializers.DictField(
        child=StrictCharField(max_length=80, allow_blank=True, allow_null=True),
        help_text="Index de colonne (« 0 », « 1 »…) → clé de champ (`email`, "
        "`custom.<clé>`…) ; absente ou vide : colonne ignorée.",
        **kwargs,
    )


class TemplateSerializer(serializers.ModelSerializer):
    mapping = _mapping_field()
    transforms = TransformsSerializer(required=False)
    options = OptionsSerializer(required=False)
    headers = serializers.ListField(child=StrictCharField(max_length=500, allow_blank=True),
                                    max_length=MAX_MAPPING)  # fmt: skip
    name = StrictCharField(max_length=150)
    target = target_field()

    class Meta:
        model = MappingTemplate
        fields = ["id", "name", "target", "headers", "mapping", "transforms", "options",
                  "created_at", "updated_at"]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]


class TemplateRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = MappingTemplate
        fields = ["id", "name"]


class JobProgressSerializer(serializers.Serializer):
    status = serializers.CharField()
    done = serializers.IntegerField(source="progress_done")
    total = serializers.IntegerField(source="progress_total")
    percent = serializers.IntegerField()
    message = serializers.CharField()


class CountersSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    skipped = serializers.IntegerField()
    errors = serializers.IntegerField()


class ImportSerializer(serializers.ModelSerializer):
    target = target_field(read_only=True)
    status = EnumField("ImportStatusEnum", Import.Status.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display")
    counters = CountersSerializer()
    job = JobProgressSerializer(allow_null=True)
    template = TemplateRefSerializer(allow_null=True)
    check_summary = serializers.DictField(child=serializers.JSONField())
    mapping = serializers.DictField(child=serializers.CharField())
    transforms = serializers.DictField(child=serializers.JSONField())
    options = serializers.DictField(child=serializers.JSONField())
    headers = serializers.ListField(child=serializers.CharField())
    suggested_mapping = serializers.SerializerMethodField()
    templates = serializers.SerializerMethodField()
    file_available = serializers.SerializerMethodField()

    class Meta:
        model = Import
        fields = [
            "id", "target", "status", "status_label", "message", "original_name",
            "size_bytes", "file_available", "file_format", "encoding", "delimiter", "sheet",
            "header_row", "headers", "mapping", "suggested_mapping", "transforms", "options",
            "template", "templates", "source", "total_rows", "check_summary", "counters",
            "chunks_done", "rows_done", "job", "created_at", "checked_at", "started_at",
            "finished_at", "undone_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_suggested_mapping(self, imp: Import) -> dict[str, str]:
        if self.context.get("brief"):
            return {}
        return services.suggested_mapping(imp)

    @extend_schema_field(TemplateRefSerializer(many=True))
    def get_templates(self, imp: Import) -> list[dict[str, Any]]:
        if self.context.get("brief"):
            return []
        found = services.matching_templates(
            organization=imp.organization, target=imp.target, headers=imp.headers
        )
        return TemplateRefSerializer(found, many=True).data

    def get_file_available(self, imp: Import) -> bool:
        return bool(imp.file_name)


class UploadSerializer(serializers.Serializer):
    target = target_field()
    file = serializers.FileField(required=False, help_text="En multipart/form-data.")
    filename = StrictCharField(required=False, max_length=255, help_text="En JSON.")
    content_base64 = StrictCharField(
        required=False, help_text="En JSON : le contenu du fichier, en base64."
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("file") is not None:
            return data
        if not data.get("content_base64") or not data.get("filename"):
            raise serializers.ValidationError(
                {
                    "file": [
                        "Un fichier est obligatoire (`file`, ou `filename` et `content_base64`)."
                    ]
                }
            )
        if len(data["content_base64"]) > max_bytes() * 4 // 3 + 4:
            raise serializers.ValidationError({"content_base64": ["Fichier trop volumineux."]})
        try:
            content = base64.b64decode(data["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError(
                {"content_base64": ["Contenu base64 illisible."]}
            ) from None
        data["file"] = ContentFile(content, name=data["filename"])
        return data


class ConfigureSerializer(serializers.Serializer):
    mapping = _mapping_field(required=False)
    transforms = TransformsSerializer(required=False)
    options = OptionsSerializer(required=False)
    template = id_field(required=False, help_text="Un modèle enregistré à appliquer.")
    encoding = StrictCharField(required=False, max_length=40)
    delimiter = StrictCharField(required=False, max_length=1, trim_whitespace=False)
    sheet = StrictCharField(required=False, max_length=200)
    header_row = serializers.IntegerField(required=False, min_value=0, max_value=1000)

    def validate_mapping(self, value: dict) -> dict:
        if len(value) > MAX_MAPPING:
            raise serializers.ValidationError(f"{MAX_MAPPING} colonnes au plus.")
        return value


class RowErrorSerializer(serializers.Serializer):
    column = serializers.CharField()
    value = serializers.CharField()
    message = serializers.CharField()
    text = serializers.CharField(help_text="« ligne 214, colonne « Email » : … »")


class ErrorRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(source="row_number")
    errors = serializers.SerializerMethodField()
    cells = serializers.ListField(child=serializers.CharField())

    @extend_schema_field(RowErrorSerializer(many=True))
    def get_errors(self, row: ImportRow) -> list[dict[str, str]]:
        return [{**e, "text": error_text(row.row_number, e)} for e in row.errors]


class PreviewSerializer(serializers.Serializer):
    info = serializers.DictField(child=serializers.JSONField())
    headers = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.DictField())


UNDO_REFUSED = OpenApiResponse(
    response=inline_serializer(
        "UndoRefused",
        {"detail": serializers.CharField(), "blockers": serializers.ListField(
            child=serializers.CharField())},
    ),
    description="Annulation refusée : `blockers` nomme les fiches modifiées depuis.",
)  # fmt: skip
UNDO_DONE = inline_serializer(
    "UndoResult", {"deleted": serializers.IntegerField(), "restored": serializers.IntegerField()}
)


# Views ---------------------------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(
        request={"multipart/form-data": UploadSerializer, "application/json": UploadSerializer},
        responses={201: ImportSerializer},
        description="Dépose un fichier (CSV, XLSX, XLS, ODS) : format, encodage, "
        "séparateur, feuille et ligne d'en-tête détectés, correspondances suggérées.",
    ),
    partial_update=extend_schema(request=ConfigureSerializer, responses=ImportSerializer),
)
class ImportViewSet(
    ScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
):
    """The organisation's imports, newest first."""

    data_type = "imports"
    serializer_class = ImportSerializer
    queryset = Import.objects.none()
    parser_classes = [JSONParser, MultiPartParser]
    action_rights = {
        "create": "add", "check": "add", "run": "add", "partial_update": "change",
        "undo": "delete", "errors": "view", "rejected": "view", "preview": "view",
    }  # fmt: skip

    def get_queryset(self):
        return (
            Import.objects.for_org(self.organization)
            .select_related("job", "template", "organization")
            .order_by("-created_at", "-id")
        )

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["brief"] = getattr(self, "action", None) == "list"
        return context

    def get_object(self) -> Import:
        imp = super().get_object()
        services.mark_stalled(organization=self.organization)
        imp.refresh_from_db()
        return imp

    def _may_write(self, target: str, *, undo: bool = False) -> None:
        if not services.may_import(self.membership, target) or (
            undo and not can(self.membership, "delete", services.TARGET_DATA_TYPES[target])
        ):
            raise PermissionDenied("Votre profil ne vous permet pas d'importer ces données.")

    def _fresh(self, imp: Import) -> dict[str, Any]:
        return self.get_serializer(self.get_queryset().get(pk=imp.pk)).data

    def create(self, request, *args, **kwargs):
        data = self.write_serializer(UploadSerializer)
        self._may_write(data["target"])
        imp = _service(
            lambda: services.create_import(
                organization=self.organization,
                actor=self.actor(),
                target=data["target"],
                file=data["file"],
                original_name=data.get("filename"),
            )  # fmt: skip
        )
        return Response(self._fresh(imp), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        imp = self.get_object()
        self._may_write(imp.target)
        data = self.write_serializer(ConfigureSerializer, partial=True)
        template = None
        if "template" in data:
            template = (
                MappingTemplate.objects.for_org(self.organization)
                .filter(pk=data["template"])
                .first()
            )
            if template is None:
                raise as_api_error(ValidationError({"template": "Modèle inconnu."}))
        reading = {
            k: data[k] for k in ("encoding", "delimiter", "sheet", "header_row") if k in data
        }

        def configure():
            if reading:
                services.reopen_file(organization=self.organization, imp=imp, **reading)
            return services.configure_import(
                organization=self.organization, imp=imp, mapping=data.get("mapping"),
                transforms=data.get("transforms"), options=data.get("options"),
                template=template,
            )  # fmt: skip

        _service(configure)
        return Response(self._fresh(imp))

    @extend_schema(responses=PreviewSerializer, description="Les 10 premières lignes lues.")
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        imp = self.get_object()
        return Response(_service(lambda: services.preview(imp, 10)))

    @extend_schema(
        request=None,
        responses={200: ImportSerializer, 409: CONFLICT},
        description="Lance la vérification (rien n'est écrit) en arrière-plan.",
    )
    @action(detail=True, methods=["post"])
    def check(self, request, pk=None):
        imp = self.get_object()
        self._may_write(imp.target)
        _service(lambda: services.start_check(organization=self.organization,
                                              actor=self.actor(), imp=imp))  # fmt: skip
        return Response(self._fresh(imp))

    @extend_schema(request=None, responses={200: ImportSerializer, 409: CONFLICT},
                   description="Lance l'import en arrière-plan, ou reprend un import "
                   "interrompu après le dernier lot enregistré.")  # fmt: skip
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        imp = self.get_object()
        self._may_write(imp.target)
        _service(lambda: services.start_run(organization=self.organization,
                                            actor=self.actor(), imp=imp))  # fmt: skip
        return Response(self._fresh(imp))

    @extend_schema(
        responses=ErrorRowSerializer(many=True),
        description="Lignes en erreur de la dernière vérification ou exécution.",
    )
    @action(detail=True, methods=["get"])
    def errors(self, request, pk=None):
        imp = self.get_object()
        page = self.paginate_queryset(services.error_rows(imp))
        return self.get_paginated_response(ErrorRowSerializer(page, many=True).data)

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        description="Les lignes rejetées : colonnes d'origine et « Erreur », au "
        "format du fichier déposé ; corrigées, elles se réimportent telles quelles.",
    )
    @action(detail=True, methods=["get"])
    def rejected(self, request, pk=None):
        imp = self.get_object()
        rejected = services.rejected_rows_file(imp)
        response = HttpResponse(rejected.content, content_type=rejected.content_type)
        # RFC 6266: an accented file name (« données-rejets.csv ») survives.
        response["Content-Disposition"] = content_disposition_header(True, rejected.name)
        return response

    @extend_schema(request=None, responses={200: UNDO_DONE, 409: UNDO_REFUSED},
                   description="« Annuler cet import » : supprime ce qu'il a créé, restaure ce "
                   "qu'il a remplacé, retire les étiquettes et groupes ajoutés ; refusé si "
                   "ces fiches ont changé depuis.")  # fmt: skip
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        imp = self.get_object()
        self._may_write(imp.target, undo=True)
        blockers = services.undo_blockers(organization=self.organization, imp=imp)
        if blockers:
            raise UndoRefused("L'import ne peut pas être annulé : ces fiches ont changé "
                              "depuis.", blockers)  # fmt: skip
        result = _service(lambda: services.undo_import(organization=self.organization,
                                                       actor=self.actor(), imp=imp))  # fmt: skip
        return Response(result)


class TemplateViewSet(
    ScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
):
    """Saved mappings, offered when a file's headers match."""

    data_type = "imports"
    serializer_class = TemplateSerializer
    queryset = MappingTemplate.objects.none()

    def get_queryset(self):
        return MappingTemplate.objects.for_org(self.organization).order_by("name", "pk")

    def _save(self, template: MappingTemplate | None, data: dict[str, Any]) -> MappingTemplate:
        def current(name: str, default: Any) -> Any:
            return data.get(name, getattr(template, name) if template else default)

        return _service(
            lambda: services.save_template(
                organization=self.organization, actor=self.actor(), template=template,
                name=current("name", ""), target=current("target", ""),
                headers=current("headers", []), mapping=current("mapping", {}),
                transforms=current("transforms", {}), options=current("options", {}),
            )
        )  # fmt: skip

    def create(self, request, *args, **kwargs):
        data = self.write_serializer(TemplateSerializer)
        template = self._save(None, data)
        return Response(self.get_serializer(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TemplateSerializer, responses=TemplateSerializer)
    def partial_update(self, request, *args, **kwargs):
        template = self.get_object()
        data = self.write_serializer(TemplateSerializer, instance=template, partial=True)
        return Response(self.get_serializer(self._save(template, data)).data)

    def destroy(self, request, *args, **kwargs):
        services.delete_template(organization=self.organization, template=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
