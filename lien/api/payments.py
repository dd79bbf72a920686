"""The payments app's API: payments (with the totals of the filtered rows), campaigns,
membership periods and each contact's membership status.

Thin over `lien.payments.services` and `lien.payments.selectors`: serializers check
the JSON shapes (types, lengths, year range), the services check everything else
(the payer, the campaign, the labels… belong to the caller's organisation; the
amount is positive with 2 decimals at most; the validity ends after it starts) and
answer in French keyed by field. Every queryset starts from `for_org`: another
organisation's row is 404, another organisation's id in a body is a 400.

Decisions:
- Amounts are read twice, `amount_cents` (integer) and `amount` (decimal text
  "12.50"), and written once: `amount` in euros (a JSON number, or a text as people
  type it, « 12,50 € »; 2 decimals at most) or `amount_cents`. Both at once is a 400.
  An error on `amount_cents` is named `amount_cents`, though the service says `amount`.
- The list's envelope carries `totals` {count, total_cents, total} of every filtered
  payment, not only the page's: one aggregate gives it and the envelope's `count`.
- The list's filters are the payment table's (`PaymentQuery.from_params`): `kind`,
  `date_from`/`date_to` (both included), `amount_min`/`amount_max` (euros),
  `status` and `method` (repeatable: any of them), `campaign`, `payer_label` (id or
  name, repeatable: any of them; the payer's labels), `contact` (payer or
  beneficiary), `structure` (payer), `recurring`, `sort` (`date` newest first,
  `-date`, `amount` largest first, `-amount`).
- A payment has one payer: `payer_contact` or `payer_structure` (switching sends the
  other one as null); neither or both is a 400 on `payer`. `beneficiary` defaults to
  the payer contact. `campaign` is read as {id, name} and written by id or name.
  `labels` are read as {id, name, color} and written as ids or names (the list
  replaces them). `custom` holds the payment custom fields, by key, sensitive ones
  hidden as on contacts.
- A paid membership has one validity period, read and written as `valid_from` and
  `valid_until` (null for other payments; by default the organisation's rule).
- PATCH only: the service changes exactly the values given, which is what PATCH says.
- Campaigns carry read-only figures over their paid payments (`collected_cents`,
  `payments_count`, `payers_count`, `percent` of the goal). The goal is written like
  an amount: `goal` (euros) or `goal_cents`. Deleting a campaign that payments use is
  a 409 Conflict with the service's explanation in `detail`.
- `/memberships/` lists the validity periods (read-only; newest first);
  `/memberships/status/?contact=…` answers each contact's status on a day.
- Rights: everything here is the « payments » data type, campaigns and memberships
  included (their figures are payment data): a profile that hides payment data gets
  403 on every endpoint, as `can()` decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Prefetch, Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_choice_description_list
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from lien.api.contacts import (
    MAX_ID,
    CustomValuesField,
    LabelRefField,
    ScopedViewSet,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    _id_param,
    _text_param,
    id_field,
    refuse,
)
from lien.api.interactions import (
    CONFLICT,
    FIRST_YEAR,
    LAST_YEAR,
    MAX_REFS,
    NamedSerializer,
    RefField,
    _date_param,
    conflicts_and_errors,
    is_name,
    required,
)
from lien.api.pagination import StrictLimitOffsetPagination
from lien.api.views import as_api_error
from lien.contacts.models import Contact, CustomField
from lien.contacts.services import resolve_labels
from lien.payments import services
from lien.payments.models import (
    Campaign,
    MembershipPeriod,
    Payment,
    PaymentKind,
    PaymentLabel,
)
from lien.payments.selectors import (
    SORTS,
    STATUS_LABELS,
    PaymentQuery,
    campaigns_with_totals,
    filtered_payments,
    membership_statuses,
    ordered,
    totals,
    with_people,
)

MAX_CENTS = services.MAX_CENTS - 1  # the largest amount the services accept, in cents
MAX_STATUS_CONTACTS = 500  # contacts per status request: one query for all of them
TRUE_WORDS, FALSE_WORDS = {"true", "1", "oui"}, {"false", "0", "non"}  # PaymentQuery's


def euros(cents: int) -> str:
    """1250 → "12.50": exact, whatever the amount."""
    return str(Decimal(cents).scaleb(-2))


@contextmanager
def service_errors(renamed: dict[str, str] | None = None) -> Iterator[None]:
    """Run service calls in one transaction; their ValidationError becomes a 400, with
    the service's field names changed to the ones the client sent (`renamed`)."""
    try:
        with transaction.atomic():
            yield
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise as_api_error(error) from error
        names = renamed or {}
        raise ApiValidationError(
            {
                names.get(field, field): [m for e in errors for m in e.messages]
                for field, errors in error.error_dict.items()
            }
        ) from error


# Fields ---------------------------------------------------------------------------------


@extend_schema_field(
    {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "description": "En euros : « 12.50 »."}
)
class EurosField(serializers.Field):
    """Integer cents read as a decimal text in euros."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: int) -> str:
        return euros(value)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "number"},
            {"type": "string", "minLength": 1, "maxLength": 40},
        ],
        "description": "En euros : un nombre (12.5) ou un texte comme on le tape "
        "(« 12,50 € ») ; 2 décimales au plus.",
    }
)
class AmountField(serializers.Field):
    """Euros as a JSON number or a text; `services.parse_amount` reads it and says what is wrong."""

    default_error_messages = {"invalid": "Un montant en euros : un nombre ou un texte (« 12,50 »)."}

    def to_internal_value(self, data: Any) -> int | float | str:
        if isinstance(data, bool) or not isinstance(data, (int, float, str)):
            self.fail("invalid")
        if isinstance(data, str) and not (0 < len(data) <= 40 and "\x00" not in data):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


def cents_field(**kwargs) -> StrictIntegerField:
    # Negative ones pass: the service says why an amount may not be negative.
    return StrictIntegerField(min_value=-MAX_CENTS, max_value=MAX_CENTS, **kwargs)


class EnumField(serializers.ChoiceField):
    """A choice whose set is one named enum of the schema (see `EnumFieldSchema`)."""

    def __init__(self, enum_name: str, choices, **kwargs):
        self.enum_name = enum_name
        super().__init__(choices=choices, **kwargs)


class EnumFieldSchema(OpenApiSerializerFieldExtension):
    """Each `EnumField` set is a schema component under its own name.

    The enum post-processing names a set after its field (`KindEnum`); with `kind`
    already a structure's, a second set would rename both, with a warning.
    """

    target_class = EnumField

    def get_name(self) -> str:
        return self.target.enum_name

    def map_serializer_field(self, auto_schema, direction) -> dict[str, Any]:
        choices = self.target.choices
        return {
            "type": "string",
            "enum": list(choices),
            "description": build_choice_description_list(choices.items()),
        }


def kind_field(**kwargs) -> EnumField:
    return EnumField("PaymentKindEnum", PaymentKind.choices, **kwargs)


def method_field(**kwargs) -> EnumField:
    return EnumField("PaymentMethodEnum", Payment.Method.choices, **kwargs)


def status_field(**kwargs) -> EnumField:
    return EnumField("PaymentStatusEnum", Payment.Status.choices, **kwargs)


def frequency_field(**kwargs) -> EnumField:
    return EnumField("PaymentFrequencyEnum", Payment.Frequency.choices, **kwargs)


class DayField(serializers.DateField):
    """An ISO date within the years a payment can have: beyond, it is a typo."""

    default_error_messages = {"range": f"La date doit être entre {FIRST_YEAR} et {LAST_YEAR}."}

    def to_internal_value(self, value: Any) -> dt.date:
        day = super().to_internal_value(value)
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            self.fail("range")
        return day


# Serializers ----------------------------------------------------------------------------


class PaymentLabelSerializer(serializers.Serializer):
    """A label on a payment."""

    id = serializers.IntegerField(source="label_id", read_only=True)
    name = serializers.CharField(source="label.name", read_only=True)
    color = serializers.CharField(source="label.color", read_only=True)


def _period(payment: Payment) -> MembershipPeriod | None:
    return payment.api_periods[0] if payment.api_periods else None


class PaymentSerializer(serializers.ModelSerializer):
    """A payment as read: amount twice, campaign as {id, name}, labels, validity period."""

    kind = kind_field(read_only=True)
    amount = EurosField(source="amount_cents")
    method = method_field(read_only=True)
    status = status_field(read_only=True)
    frequency = frequency_field(read_only=True)
    campaign = NamedSerializer(read_only=True, allow_null=True)
    payer_name = serializers.CharField(source="payer", read_only=True)
    labels = PaymentLabelSerializer(source="api_labels", many=True, read_only=True)
    custom = CustomValuesField(read_only=True)
    valid_from = serializers.SerializerMethodField(help_text="Début de validité (adhésion payée).")
    valid_until = serializers.SerializerMethodField(help_text="Fin de validité (adhésion payée).")

    class Meta:
        model = Payment
        fields = [
            "id",
            "kind",
            "amount_cents",
            "amount",
            "currency",
            "paid_on",
            "method",
            "status",
            "campaign",
            "payer_contact",
            "payer_structure",
            "payer_name",
            "beneficiary",
            "is_recurring",
            "frequency",
            "source",
            "external_id",
            "notes",
            "custom",
            "labels",
            "valid_from",
            "valid_until",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_valid_from(self, payment: Payment) -> dt.date | None:
        period = _period(payment)
        return period.start_date if period else None

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_valid_until(self, payment: Payment) -> dt.date | None:
        period = _period(payment)
        return period.end_date if period else None


class PaymentWriteSerializer(serializers.Serializer):
    """A payment as written; the service checks the values against the organisation."""

    kind = kind_field(error_messages=required("Le type de paiement est obligatoire."))
    amount = AmountField(required=False)
    amount_cents = cents_field(required=False, help_text="Montant en centimes, au lieu d'amount.")
    paid_on = DayField(error_messages=required("La date est obligatoire."))
    method = method_field(required=False)
    status = status_field(required=False)
    campaign = RefField(max_length=200, required=False, allow_null=True)
    payer_contact = id_field(required=False, allow_null=True)
    payer_structure = id_field(required=False, allow_null=True)
    beneficiary = id_field(
        required=False, allow_null=True, help_text="Par défaut, le contact payeur."
    )
    is_recurring = StrictBooleanField(required=False)
    frequency = frequency_field(required=False, allow_blank=True)
    source = StrictCharField(required=False, allow_blank=True, max_length=50)
    external_id = StrictCharField(required=False, allow_blank=True, max_length=200)
    notes = StrictCharField(required=False, allow_blank=True, max_length=10_000)
    custom = CustomValuesField(required=False)
    labels = serializers.ListField(
        child=LabelRefField(),
        required=False,
        max_length=200,
        help_text="Ids ou noms d'étiquettes : la liste remplace les étiquettes du paiement.",
    )
    valid_from = DayField(required=False, allow_null=True, help_text="Adhésion payée seulement.")
    valid_until = DayField(required=False, allow_null=True, help_text="Adhésion payée seulement.")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if "amount" in data and "amount_cents" in data:
            raise serializers.ValidationError(
                {"amount_cents": ["Le montant se donne une fois : amount (euros) ou amount_cents."]}
            )
        return data


class CampaignSerializer(serializers.ModelSerializer):
    """A campaign as read, with its figures over its paid payments."""

    kind = kind_field(read_only=True)
    goal = EurosField(source="goal_cents", allow_null=True)
    collected_cents = serializers.SerializerMethodField(help_text="Total des paiements payés.")
    payments_count = serializers.IntegerField(
        source="paid_count", read_only=True, help_text="Paiements payés."
    )
    payers_count = serializers.SerializerMethodField(help_text="Payeurs distincts.")
    percent = serializers.SerializerMethodField(help_text="Part de l'objectif atteinte (%).")

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "kind",
            "start_date",
            "end_date",
            "goal_cents",
            "goal",
            "description",
            "collected_cents",
            "payments_count",
            "payers_count",
            "percent",
            "created_at",
        ]
        read_only_fields = fields

    def get_collected_cents(self, campaign: Campaign) -> int:
        return campaign.collected_cents or 0

    def get_payers_count(self, campaign: Campaign) -> int:
        return campaign.payer_contacts + campaign.payer_structures

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_percent(self, campaign: Campaign) -> int | None:
        goal = campaign.goal_cents
        return round(100 * (campaign.collected_cents or 0) / goal) if goal else None


class CampaignWriteSerializer(serializers.Serializer):
    """A campaign as written: the goal in euros (`goal`) or in cents (`goal_cents`)."""

    name = StrictCharField(
        max_length=200, error_messages=required("Le nom de la campagne est obligatoire.")
    )
    kind = kind_field(required=False)
    start_date = DayField(required=False, allow_null=True)
    end_date = DayField(required=False, allow_null=True)
    goal = AmountField(required=False, allow_null=True)
    goal_cents = cents_field(required=False, allow_null=True)
    description = StrictCharField(required=False, allow_blank=True, max_length=10_000)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if "goal" in data and "goal_cents" in data:
            raise serializers.ValidationError(
                {"goal_cents": ["L'objectif se donne une fois : goal (euros) ou goal_cents."]}
            )
        return data


class MembershipPeriodSerializer(serializers.ModelSerializer):
    """One validity period of a contact's membership, and the payment that made it."""

    class Meta:
        model = MembershipPeriod
        fields = ["id", "contact", "payment", "start_date", "end_date", "created_at"]
        read_only_fields = fields


class MembershipStatusSerializer(serializers.Serializer):
    contact = serializers.IntegerField()
    status = EnumField("MembershipStatusEnum", list(STATUS_LABELS.items()))
    label = serializers.CharField(help_text="Le statut en français.")
    valid_until = serializers.DateField(
        allow_null=True, help_text="À jour : fin de validité, renouvellements compris."
    )
    ended_on = serializers.DateField(allow_null=True, help_text="Dernière fin de validité passée.")
    starts_on = serializers.DateField(allow_null=True, help_text="À venir : début de validité.")


class MembershipStatusesSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="Le jour du statut.")
    results = MembershipStatusSerializer(many=True)


# Pagination -----------------------------------------------------------------------------

TOTALS_SCHEMA = {
    "type": "object",
    "description": "Nombre et somme de tous les paiements filtrés (pas seulement la page).",
    "properties": {
        "count": {"type": "integer"},
        "total_cents": {"type": "integer"},
        "total": {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$"},
    },
    "required": ["count", "total_cents", "total"],
}


class PaymentPagination(StrictLimitOffsetPagination):
    """The page, and the count and sum of every filtered payment from one aggregate."""

    def get_count(self, queryset) -> int:
        self.totals = totals(queryset)
        return self.totals["count"]

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.count,
                "totals": {**self.totals, "total": euros(self.totals["total_cents"])},
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        envelope = super().get_paginated_response_schema(schema)
        envelope["properties"]["totals"] = TOTALS_SCHEMA
        envelope["required"] = [*envelope.get("required", []), "totals"]
        return envelope


# Query parameters -----------------------------------------------------------------------


def _checked_params(request) -> None:
    """What the schema promises and `PaymentQuery` is lenient about, refused first: a
    repeated, empty, too long or NUL value, a date that is not ISO, more than 50 values."""
    for name, max_length in [("kind", 20), ("amount_min", 40), ("amount_max", 40), ("sort", 10)]:
        if _text_param(request, name, max_length) == "":
            raise refuse(name, "Une valeur est attendue.")
    for name in ("date_from", "date_to"):
        _date_param(request, name)
    for name in ("campaign", "contact", "structure"):
        _id_param(request, name)
    recurring = _text_param(request, "recurring", 5)
    if recurring is not None and recurring.strip().lower() not in TRUE_WORDS | FALSE_WORDS:
        raise refuse("recurring", "true ou false attendu.")
    for name in ("status", "method"):
        values = request.query_params.getlist(name)
        if len(values) > MAX_REFS:
            raise refuse(name, f"{MAX_REFS} valeurs au plus.")
        if "" in values:
            raise refuse(name, "Une valeur est attendue.")


def _payer_label_ids(request, organization) -> list[int]:
    refs = request.query_params.getlist("payer_label")
    if len(refs) > MAX_REFS:
        raise refuse("payer_label", f"{MAX_REFS} valeurs au plus.")
    if not all(is_name(ref, 80) for ref in refs):
        raise refuse("payer_label", "Une étiquette se désigne par son id ou son nom.")
    try:
        return [label.pk for label in resolve_labels(organization=organization, refs=refs)]
    except ValidationError as error:
        raise refuse("payer_label", error.messages[0]) from error


def payment_query(request, organization) -> PaymentQuery:
    """The list's filters, read by the payment table's own `PaymentQuery`."""
    _checked_params(request)
    params = request.query_params.copy()
    params.setlist("payer_label", [str(pk) for pk in _payer_label_ids(request, organization)])
    try:
        return PaymentQuery.from_params(params)
    except ValidationError as error:
        raise as_api_error(error) from error


def _enum_array(name: str, values: list[str], description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"type": "array", "maxItems": MAX_REFS, "items": {"type": "string", "enum": values}},
        description=description,
        explode=True,
    )


def _id_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, {"type": "integer", "minimum": 1, "maximum": MAX_ID}, description=description
    )


def _date_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, {"type": "string", "format": "date"}, description=description)


AMOUNT_PARAMETER = {"type": "string", "minLength": 1, "maxLength": 40}
PAYMENT_PARAMETERS = [
    OpenApiParameter("kind", enum=PaymentKind.values, description="Type de paiement."),
    _date_parameter("date_from", "Payés depuis ce jour (inclus)."),
    _date_parameter("date_to", "Payés jusqu'à ce jour (inclus)."),
    OpenApiParameter("amount_min", AMOUNT_PARAMETER, description="Montant minimal, en euros."),
    OpenApiParameter("amount_max", AMOUNT_PARAMETER, description="Montant maximal, en euros."),
    _enum_array("status", Payment.Status.values, "Statut ; répétable (l'un d'eux)."),
    _enum_array("method", Payment.Method.values, "Moyen de paiement ; répétable (l'un d'eux)."),
    _id_parameter("campaign", "Id de campagne."),
    OpenApiParameter(
        "payer_label",
        {
            "type": "array",
            "maxItems": MAX_REFS,
            "items": {"type": "string", "minLength": 1, "maxLength": 80},
        },
        description="Id ou nom d'une étiquette du payeur ; répétable (l'une d'elles).",
        explode=True,
    ),
    _id_parameter("contact", "Id du contact payeur ou bénéficiaire."),
    _id_parameter("structure", "Id de la structure payeuse."),
    OpenApiParameter("recurring", bool, description="Récurrents (true) ou ponctuels (false)."),
    OpenApiParameter(
        "sort",
        enum=list(SORTS),
        description="date : plus récents d'abord (défaut) ; -date : plus anciens ; "
        "amount : plus gros montants d'abord ; -amount : plus petits.",
    ),
]
PERIOD_PARAMETERS = [
    _id_parameter("contact", "Id de l'adhérent."),
    _date_parameter("active_on", "Périodes valides ce jour-là."),
    _date_parameter("ended_after", "Fin de validité ce jour-là ou après."),
    _date_parameter("ended_before", "Fin de validité ce jour-là ou avant."),
]
STATUS_PARAMETERS = [
    OpenApiParameter(
        "contact",
        {
            "type": "array",
            "maxItems": MAX_STATUS_CONTACTS,
            "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        },
        description=f"Id de contact ; répétable ({MAX_STATUS_CONTACTS} au plus).",
        explode=True,
    ),
    _date_parameter("date", "Jour du statut (aujourd'hui par défaut)."),
]


# Views ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(parameters=PAYMENT_PARAMETERS),
    create=extend_schema(request=PaymentWriteSerializer, responses={201: PaymentSerializer}),
    partial_update=extend_schema(request=PaymentWriteSerializer, responses=PaymentSerializer),
    destroy=extend_schema(
        description="Supprime le paiement, ses interactions et sa période d'adhésion."
    ),
)
class PaymentViewSet(
    ScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
):
    """Payments of the organisation, newest first, with the totals of the filtered rows."""

    data_type = "payments"
    custom_target = CustomField.Target.PAYMENT
    serializer_class = PaymentSerializer
    pagination_class = PaymentPagination
    queryset = Payment.objects.none()  # typed for the schema; get_queryset narrows

    def prefetched(self, payments):
        organization = self.organization
        return with_people(payments).prefetch_related(
            Prefetch(
                "label_links",
                queryset=PaymentLabel.objects.for_org(organization)
                .select_related("label")
                .order_by("label__name", "pk"),
                to_attr="api_labels",
            ),
            Prefetch(
                "membership_periods",
                queryset=MembershipPeriod.objects.for_org(organization).order_by("pk"),
                to_attr="api_periods",
            ),
        )

    def get_queryset(self):
        return self.prefetched(ordered(Payment.objects.for_org(self.organization), "date"))

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        query = payment_query(self.request, self.organization)
        payments = filtered_payments(self.organization, query)
        return self.prefetched(ordered(payments, query.sort))

    def create(self, request, *args, **kwargs):
        data = self.write_serializer(PaymentWriteSerializer)
        with service_errors(_renamed(data)):
            payment = services.create_payment(
                organization=self.organization,
                actor=self.actor(),
                membership=self.membership,
                **data,
            )
        return Response(self.fresh(payment.pk), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        payment = self.get_object()
        data = self.write_serializer(PaymentWriteSerializer, instance=payment, partial=True)
        with service_errors(_renamed(data)):
            services.update_payment(
                organization=self.organization,
                actor=self.actor(),
                payment=payment,
                membership=self.membership,
                **data,
            )
        return Response(self.fresh(payment.pk))

    def destroy(self, request, *args, **kwargs):
        payment = self.get_object()
        with service_errors():
            services.delete_payment(
                organization=self.organization, actor=self.actor(), payment=payment
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


def _renamed(data: dict[str, Any]) -> dict[str, str]:
    """The service names every amount error `amount`; the client may have sent cents."""
    return {"amount": "amount_cents"} if "amount_cents" in data else {}


def _goal(data: dict[str, Any], campaign: Campaign | None) -> Any:
    """The goal for `save_campaign`, which takes euros: as sent, or the current one."""
    if "goal" in data:
        return data["goal"]
    cents = data["goal_cents"] if "goal_cents" in data else getattr(campaign, "goal_cents", None)
    return None if cents is None else Decimal(cents).scaleb(-2)


@extend_schema_view(
    create=extend_schema(request=CampaignWriteSerializer, responses={201: CampaignSerializer}),
    partial_update=extend_schema(request=CampaignWriteSerializer, responses=CampaignSerializer),
    destroy=extend_schema(
        description="Seule une campagne sans paiement peut être supprimée.",
        responses={204: None, 409: CONFLICT},
    ),
)
class CampaignViewSet(
    ScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
):
    """Campaigns, latest first, each with what its paid payments brought."""

    data_type = "payments"
    serializer_class = CampaignSerializer
    queryset = Campaign.objects.none()

    def get_queryset(self):
        # One grouped query: the same paid payments as `selectors.campaign_stats`.
        paid = Q(payments__status=Payment.Status.PAID)
        return (
            campaigns_with_totals(self.organization)
            .annotate(
                payer_contacts=Count("payments__payer_contact", filter=paid, distinct=True),
                payer_structures=Count("payments__payer_structure", filter=paid, distinct=True),
            )
            .order_by(F("start_date").desc(nulls_last=True), "name", "pk")
        )

    def _save(self, campaign: Campaign | None, data: dict[str, Any]) -> Response:
        def current(field: str, default: Any) -> Any:
            return data.get(field, getattr(campaign, field) if campaign else default)

        renamed = {"goal": "goal_cents"} if "goal_cents" in data else {}
        with service_errors(renamed):
            saved = services.save_campaign(
                organization=self.organization,
                actor=self.actor(),
                campaign=campaign,
                name=current("name", ""),
                kind=current("kind", PaymentKind.DONATION),
                start_date=current("start_date", None),
                end_date=current("end_date", None),
                goal=_goal(data, campaign),
                description=current("description", ""),
            )
        return self.get_serializer(self.get_queryset().get(pk=saved.pk)).data

    def create(self, request, *args, **kwargs):
        data = self.write_serializer(CampaignWriteSerializer)
        return Response(self._save(None, data), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        campaign = self.get_object()
        data = self.write_serializer(CampaignWriteSerializer, instance=campaign, partial=True)
        return Response(self._save(campaign, data))

    def destroy(self, request, *args, **kwargs):
        campaign = self.get_object()
        conflicts_and_errors(
            lambda: services.delete_campaign(
                organization=self.organization, actor=self.actor(), campaign=campaign
            )
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(list=extend_schema(parameters=PERIOD_PARAMETERS))
class MembershipViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Membership validity periods, newest first; each contact's status on a day."""

    data_type = "payments"
    serializer_class = MembershipPeriodSerializer
    queryset = MembershipPeriod.objects.none()

    def get_queryset(self):
        return MembershipPeriod.objects.for_org(self.organization).order_by("-start_date", "-id")

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        request = self.request
        contact = _id_param(request, "contact")
        if contact is not None:
            queryset = queryset.filter(contact_id=contact)
        active_on = _date_param(request, "active_on")
        if active_on is not None:
            queryset = queryset.covering(active_on)
        ended_after = _date_param(request, "ended_after")
        if ended_after is not None:
            queryset = queryset.filter(end_date__gte=ended_after)
        ended_before = _date_param(request, "ended_before")
        if ended_before is not None:
            queryset = queryset.filter(end_date__lte=ended_before)
        return queryset

    def _contact_ids(self) -> list[int]:
        refs = self.request.query_params.getlist("contact")
        if len(refs) > MAX_STATUS_CONTACTS:
            raise refuse("contact", f"{MAX_STATUS_CONTACTS} contacts au plus par demande.")
        for ref in refs:
            if not (ref.isascii() and ref.isdigit()) or not 1 <= int(ref) <= MAX_ID:
                raise refuse("contact", f"« {ref[:20]} » n'est pas un identifiant.")
        ids = list(dict.fromkeys(int(ref) for ref in refs))
        found = set(
            Contact.objects.for_org(self.organization)
            .not_deleted()
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise refuse(
                "contact",
                "Contacts introuvables dans votre association : "
                + ", ".join(str(pk) for pk in missing)
                + ".",
            )
        return ids

    @extend_schema(
        parameters=STATUS_PARAMETERS,
        responses=MembershipStatusesSerializer,
        description="« À jour », « À renouveler », « À venir », « Expiré » ou « Jamais "
        "adhérent », par contact, dans l'ordre demandé. Sans contact, aucune réponse.",
    )
    @action(detail=False, methods=["get"], url_path="status", url_name="status")
    def statuses(self, request):
        """Each contact's membership status on a day (today by default)."""
        ids = self._contact_ids()
        day = _date_param(request, "date") or timezone.localdate()
        found = membership_statuses(self.organization, ids, day=day) if ids else {}
        results = [
            {
                "contact": pk,
                "status": found[pk].status,
                "label": found[pk].label,
                "valid_until": found[pk].valid_until,
                "ended_on": found[pk].ended_on,
                "starts_on": found[pk].starts_on,
            }
            for pk in ids
        ]
        return Response(MembershipStatusesSerializer({"date": day, "results": results}).data)
