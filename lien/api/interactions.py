"""The interactions app's API: interactions (one, or a batch), and their types,
categories and labels.

Thin over `lien.interactions.services`: serializers check the JSON shapes
(types, lengths), the services check everything else (the contact, the
structure, the type… belong to the caller's organisation; the date exists) and
answer in French keyed by field. Every queryset starts from `for_org`: another
organisation's row is 404, another organisation's id in a body is 400 before
anything is written.

Decisions:
- `type`, `category` and `label` are read as `{id, name}` and written as an id
  or a name (any case). An unknown name is a 400 naming the field, unless the
  body says `create_missing: true`: then it is created on the fly.
- `occurred_at` takes an ISO date-time or a bare date (midnight, Paris time).
- `status` left out (or null) is the type's default status.
- Interactions created by a payment, an emailing, a form or a connected app
  belong to it: changing or deleting one by hand answers 409 Conflict with the
  French explanation in `detail` (the request is well formed; the record's state
  forbids it). Deleting a system type or a type in use is a 409 for the same
  reason; renaming a system type is a 400 on `name`.
- `POST /interactions/bulk/` takes `{"items": [...], "create_missing": false}`,
  at most 1,000 items, all or nothing in one transaction. Any invalid item and
  nothing is written: 400 `{"errors": [{"index": 3, "errors": {"contact": [...]}}]}`
  (shapes first: a batch with a wrongly typed item is refused before the
  organisation's data is looked at). Success: 201 `{"created": n, "ids": [...]}`.
- The list is newest first (`-occurred_at`, `-id`); filters `contact`, `type`,
  `category`, `label` (ids or names, repeatable: any of them), `status`,
  `source`, `from` and `to` (ISO dates, both included, Paris time).
- Rights: « interactions » for interactions; types, categories and labels are
  read with « view interactions » and written with « settings ».
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from lien.api.contacts import (
    MAX_ID,
    ScopedViewSet,
    StrictBooleanField,
    StrictCharField,
    StrictModelSerializer,
    _id_param,
    _text_param,
    count_body,
    id_field,
    refuse,
)
from lien.api.views import as_api_error
from lien.core.rights import can
from lien.interactions import services
from lien.interactions.models import (
    Interaction,
    InteractionCategory,
    InteractionLabel,
    InteractionStatus,
    InteractionType,
)
from lien.interactions.selectors import InteractionQuery, filtered

MAX_BULK = 1000  # items per batch: one request stays well under a few seconds
MAX_REFS = 50  # values of one filter parameter
FIRST_YEAR, LAST_YEAR = 1900, 2200  # beyond, a date is a typo (and overflows some backends)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Cet élément ne peut pas être modifié dans son état actuel."
    default_code = "conflict"


CONFLICT = OpenApiResponse(
    response=inline_serializer("Conflict", {"detail": serializers.CharField()}),
    description="Refusé à cause de l'état de l'élément (créé par une source, type système "
    "ou utilisé) ; `detail` explique pourquoi.",
)


def conflicts_and_errors(call):
    """Run a service call; a field error is a 400, a refusal of the record's state a 409."""
    try:
        return call()
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise as_api_error(error) from error
        raise Conflict(" ".join(error.messages)) from error


# Fields ---------------------------------------------------------------------------------


def is_name(text: str, max_length: int) -> bool:
    """A usable name reference: not blank, no NUL, not too long, digits only if ASCII ones."""
    # The raw length: the schema's maxLength counts the spaces a client sent.
    if len(text) > max_length:
        return False
    text = text.strip()
    return bool(text) and "\x00" not in text and (text.isascii() or not text.isdigit())


class RefField(serializers.Field):
    """A type, category or label given by its id (number) or its name (text, any case)."""

    default_error_messages = {"invalid": "Se désigne par son id (nombre) ou son nom (texte)."}

    def __init__(self, *, max_length: int, **kwargs):
        self.max_length = max_length
        super().__init__(**kwargs)
        extend_schema_field(
            {
                "oneOf": [
                    {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                    {"type": "string", "minLength": 1, "maxLength": max_length},
                ]
            }
        )(self)

    def to_internal_value(self, data: Any) -> int | str:
        if isinstance(data, int) and not isinstance(data, bool) and 1 <= data <= MAX_ID:
            return data
        if isinstance(data, str) and is_name(data, self.max_length):
            return data.strip()
        self.fail("invalid")

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(
    {
        "type": "string",
        "minLength": 1,
        "maxLength": 40,
        "description": "Date ISO avec heure (2026-03-14T18:30:00+01:00) ou date seule "
        "(2026-03-14 : minuit, heure de Paris).",
    }
)
class OccurredAtField(serializers.Field):
    """An ISO date-time, or a bare date; read through the service's own parser."""

    default_error_messages = {
        "invalid": "« {value} » n'est pas une date valide (AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SS).",
        "range": f"La date doit être entre {FIRST_YEAR} et {LAST_YEAR}.",
    }

    def to_internal_value(self, data: Any) -> dt.datetime:
        if not isinstance(data, str) or not data.strip() or len(data) > 40 or "\x00" in data:
            self.fail("invalid", value=str(data)[:40].replace("\x00", ""))
        try:
            # fromisoformat happily reads far-away years; Python itself fails on a few.
            value = services.as_datetime(data)
        except (ValidationError, ValueError, OverflowError):
            self.fail("invalid", value=data.strip())
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            self.fail("range")
        return value

    def to_representation(self, value: dt.datetime) -> str:
        return serializers.DateTimeField().to_representation(value)


# Serializers ----------------------------------------------------------------------------


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class InteractionSerializer(serializers.ModelSerializer):
    """An interaction as read: type, category and label as {id, name}."""

    type = NamedSerializer(read_only=True)
    category = NamedSerializer(read_only=True, allow_null=True)
    label = NamedSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "contact",
            "occurred_at",
            "type",
            "category",
            "label",
            "status",
            "description",
            "structure",
            "source",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        # A payment's interaction tells its amount: masked without the right to see payments.
        if instance.source == Interaction.Source.PAYMENT and not can(
            getattr(request, "membership", None), "view", "payments"
        ):
            data["description"] = MASKED_PAYMENT
        return data


MASKED_PAYMENT = "Paiement (détails masqués)"


def required(message: str) -> dict[str, str]:
    return {"required": message, "null": message}


class InteractionItemSerializer(serializers.Serializer):
    """An interaction as written (one item of a batch)."""

    contact = id_field(error_messages=required("Le contact est obligatoire."))
    occurred_at = OccurredAtField(error_messages=required("La date est obligatoire."))
    type = RefField(max_length=100, error_messages=required("Le type est obligatoire."))
    category = RefField(max_length=100, required=False, allow_null=True)
    label = RefField(max_length=200, required=False, allow_null=True)
    status = serializers.ChoiceField(
        choices=InteractionStatus.choices,
        required=False,
        allow_null=True,
        error_messages={"invalid_choice": "Statut inconnu : « active » ou « passive »."},
        help_text="Absent ou null : le statut par défaut du type.",
    )
    description = StrictCharField(
        required=False, allow_blank=True, max_length=10_000, trim_whitespace=False
    )
    structure = id_field(required=False, allow_null=True)


class InteractionWriteSerializer(InteractionItemSerializer):
    create_missing = StrictBooleanField(
        default=False,
        write_only=True,
        help_text="Créer les types, catégories et libellés inconnus donnés par leur nom.",
    )


class BulkSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=InteractionItemSerializer(), min_length=1, max_length=MAX_BULK
    )
    create_missing = StrictBooleanField(
        default=False,
        help_text="Créer les types, catégories et libellés inconnus donnés par leur nom.",
    )


class BulkEnvelopeSerializer(serializers.Serializer):
    """The batch as read at run time: items are checked one by one, each with its index."""

    items = serializers.ListField(child=serializers.JSONField(), min_length=1, max_length=MAX_BULK)
    create_missing = StrictBooleanField(default=False)


class BulkCreatedSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Interactions créées.")
    ids = serializers.ListField(child=serializers.IntegerField())


# The service squeezes spaces itself; trimming first would let a name longer than the
# schema's maxLength through.
UNTRIMMED_NAME = {"name": {"trim_whitespace": False}}


class InteractionTypeSerializer(StrictModelSerializer):
    class Meta:
        model = InteractionType
        fields = ["id", "name", "default_status", "is_system", "position"]
        read_only_fields = ["is_system", "position"]
        extra_kwargs = UNTRIMMED_NAME


class InteractionCategorySerializer(StrictModelSerializer):
    class Meta:
        model = InteractionCategory
        fields = ["id", "name"]
        extra_kwargs = UNTRIMMED_NAME


class InteractionLabelSerializer(StrictModelSerializer):
    class Meta:
        model = InteractionLabel
        fields = ["id", "name"]
        extra_kwargs = UNTRIMMED_NAME


# Query parameters -----------------------------------------------------------------------


def _ref_params(request, name: str, resolve, max_length: int) -> list[int]:
    refs = request.query_params.getlist(name)
    if len(refs) > MAX_REFS:
        raise refuse(name, f"{MAX_REFS} valeurs au plus.")
    if not all(is_name(ref, max_length) for ref in refs):
        raise refuse(name, "Se désigne par son id ou son nom.")
    ids = []
    for ref in refs:
        try:
            ids.append(resolve(organization=request._request.organization, ref=ref).pk)
        except ValidationError as error:
            raise as_api_error(error) from error
    return ids


def _choice_param(request, name: str, choices: list[str]) -> str:
    value = _text_param(request, name, 20)
    if value is None:
        return ""
    if value not in choices:
        raise refuse(name, f"« {value} » : valeur inconnue ({', '.join(choices)}).")
    return value


def _date_param(request, name: str) -> dt.date | None:
    value = _text_param(request, name, 10)
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as error:
        raise refuse(name, f"« {value} » n'est pas une date (AAAA-MM-JJ).") from error
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise refuse(name, f"La date doit être entre {FIRST_YEAR} et {LAST_YEAR}.")
    return day


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _ref_parameter(name: str, description: str, max_length: int) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {
            "type": "array",
            "maxItems": MAX_REFS,
            "items": {"type": "string", "minLength": 1, "maxLength": max_length},
        },
        description=description,
        explode=True,
    )


LIST_PARAMETERS = [
    OpenApiParameter(
        "contact", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, description="Id."
    ),
    _ref_parameter("type", "Id ou nom de type ; répétable (l'un d'eux).", 100),
    _ref_parameter("category", "Id ou nom de catégorie ; répétable (l'une d'elles).", 100),
    _ref_parameter("label", "Id ou nom de libellé ; répétable (l'un d'eux).", 200),
    OpenApiParameter("status", enum=InteractionStatus.values, description="Statut."),
    OpenApiParameter("source", enum=Interaction.Source.values, description="Origine."),
    OpenApiParameter(
        "from", {"type": "string", "format": "date"}, description="Depuis ce jour (inclus)."
    ),
    OpenApiParameter(
        "to", {"type": "string", "format": "date"}, description="Jusqu'à ce jour (inclus)."
    ),
]


# Views ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(parameters=LIST_PARAMETERS),
    create=extend_schema(
        request=InteractionWriteSerializer, responses={201: InteractionSerializer}
    ),
    update=extend_schema(
        request=InteractionWriteSerializer, responses={200: InteractionSerializer, 409: CONFLICT}
    ),
    partial_update=extend_schema(
        request=InteractionWriteSerializer, responses={200: InteractionSerializer, 409: CONFLICT}
    ),
    destroy=extend_schema(responses={204: None, 409: CONFLICT}),
)
class InteractionViewSet(
    ScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """Interactions of the organisation, newest first."""

    data_type = "interactions"
    action_rights = {"bulk": "add"}
    serializer_class = InteractionSerializer
    queryset = Interaction.objects.none()  # typed for the schema; get_queryset narrows

    def get_queryset(self):
        return (
            Interaction.objects.for_org(self.organization)
            .select_related("type", "category", "label")
            .order_by("-occurred_at", "-id")
        )

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        request = self.request
        query = InteractionQuery(
            types=_ref_params(request, "type", services.resolve_type, 100),
            categories=_ref_params(request, "category", services.resolve_category, 100),
            labels=_ref_params(request, "label", services.resolve_label, 200),
            status=_choice_param(request, "status", InteractionStatus.values),
            source=_choice_param(request, "source", Interaction.Source.values),
        )
        queryset = filtered(queryset, organization=self.organization, query=query)
        contact = _id_param(request, "contact")
        if contact is not None:
            queryset = queryset.filter(contact_id=contact)
        # A range on the column itself, so the (organisation, date) index serves it.
        date_from, date_to = _date_param(request, "from"), _date_param(request, "to")
        if date_from:
            queryset = queryset.filter(occurred_at__gte=_midnight(date_from))
        if date_to:
            queryset = queryset.filter(occurred_at__lt=_midnight(date_to + dt.timedelta(days=1)))
        return queryset

    def create(self, request, *args, **kwargs):
        data = self.write_serializer(InteractionWriteSerializer)
        create_missing = data.pop("create_missing", False)
        interaction = conflicts_and_errors(
            lambda: services.record_interaction(
                organization=self.organization,
                actor=self.actor(),
                create_missing=create_missing,
                **data,
            )
        )
        return Response(self.fresh(interaction.pk), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        interaction = self.get_object()
        data = self.write_serializer(
            InteractionWriteSerializer, instance=interaction, partial=kwargs.get("partial", False)
        )
        create_missing = data.pop("create_missing", False)
        conflicts_and_errors(
            lambda: services.update_interaction(
                organization=self.organization,
                actor=self.actor(),
                interaction=interaction,
                create_missing=create_missing,
                **data,
            )
        )
        return Response(self.fresh(interaction.pk))

    def destroy(self, request, *args, **kwargs):
        interaction = self.get_object()
        conflicts_and_errors(
            lambda: services.delete_interaction(
                organization=self.organization, actor=self.actor(), interaction=interaction
            )
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=BulkSerializer, responses={201: BulkCreatedSerializer})
    @action(detail=False, methods=["post"], url_path="bulk", url_name="bulk")
    def bulk(self, request):
        """Record up to 1,000 interactions at once: all of them, or none."""
        items = request.data.get("items") if isinstance(request.data, dict) else None
        if isinstance(items, list) and len(items) > MAX_BULK:
            # Checked before the items are: a huge batch is refused at once.
            raise refuse(
                "items",
                f"{MAX_BULK} interactions au plus par envoi ({len(items)} reçues) : "
                "découpez la liste.",
            )
        envelope = BulkEnvelopeSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        # Each item's shape is checked here, its data by the service: one report of both.
        items: list[dict[str, Any] | None] = []
        invalid: dict[int, dict[str, Any]] = {}
        for index, raw in enumerate(envelope.validated_data["items"]):
            item = InteractionItemSerializer(data=raw)
            if item.is_valid():
                items.append(dict(item.validated_data))
            else:
                items.append(None)
                invalid[index] = item.errors
        try:
            created = services.record_interactions_items(
                organization=self.organization,
                actor=self.actor(),
                items=items,
                create_missing=envelope.validated_data["create_missing"],
                invalid=invalid,
            )
        except services.InvalidItems as error:
            return Response(
                {
                    "errors": [
                        {"index": index, "errors": errors}
                        for index, errors in error.by_index.items()
                    ]
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        except ValidationError as error:
            raise as_api_error(error) from error
        return Response(
            {"created": len(created), "ids": [row.pk for row in created]},
            status=status.HTTP_201_CREATED,
        )


class InteractionSettingViewSet(ScopedViewSet, viewsets.ModelViewSet):
    """Types, categories and labels: read with « view interactions », managed with « settings »."""

    kind: str
    model: type[models.Model]
    ordering: tuple[str, ...] = ("name", "pk")

    @property
    def data_type(self) -> str:
        return "interactions" if self.request.method in permissions.SAFE_METHODS else "settings"

    def get_queryset(self):
        return self.model.objects.for_org(self.organization).order_by(*self.ordering)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = conflicts_and_errors(
            lambda: services.save_setting(
                organization=self.organization,
                actor=self.actor(),
                kind=self.kind,
                name=data["name"],
                default_status=data.get("default_status"),
            )
        )

    def perform_update(self, serializer):
        instance, data = serializer.instance, serializer.validated_data
        serializer.instance = conflicts_and_errors(
            lambda: services.save_setting(
                organization=self.organization,
                actor=self.actor(),
                kind=self.kind,
                instance=instance,
                name=data.get("name", instance.name),
                default_status=data.get("default_status"),
            )
        )

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        lost = conflicts_and_errors(
            lambda: services.delete_setting(
                organization=self.organization, actor=self.actor(), instance=instance
            )
        )
        return Response({"interactions": lost})


LOST = count_body("InteractionsLost", "interactions", "Interactions qui le portaient.")


@extend_schema_view(
    update=extend_schema(responses={200: InteractionTypeSerializer, 409: CONFLICT}),
    partial_update=extend_schema(responses={200: InteractionTypeSerializer, 409: CONFLICT}),
    destroy=extend_schema(
        description="Seul un type non système et inutilisé peut être supprimé.",
        responses={204: None, 409: CONFLICT},
    ),
)
class InteractionTypeViewSet(InteractionSettingViewSet):
    """Interaction types, each with the status its interactions get by default."""

    kind = "type"
    model = InteractionType
    ordering = ("position", "name", "pk")
    serializer_class = InteractionTypeSerializer
    queryset = InteractionType.objects.none()

    def destroy(self, request, *args, **kwargs):
        super().destroy(request, *args, **kwargs)  # refused unless unused: nothing lost
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(destroy=extend_schema(responses={200: LOST}))
class InteractionCategoryViewSet(InteractionSettingViewSet):
    """Interaction categories; deleting one leaves its interactions without a category."""

    kind = "category"
    model = InteractionCategory
    serializer_class = InteractionCategorySerializer
    queryset = InteractionCategory.objects.none()


@extend_schema_view(destroy=extend_schema(responses={200: LOST}))
class InteractionLabelViewSet(InteractionSettingViewSet):
    """Interaction labels (« libellés »); deleting one leaves its interactions without one."""

    kind = "label"
    model = InteractionLabel
    serializer_class = InteractionLabelSerializer
    queryset = InteractionLabel.objects.none()
