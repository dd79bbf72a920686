"""The advanced search and segments API: searches over a JSON filter tree, the criteria
a member may use, and saved segments with their members now.

Thin over `lien.search`: the engine checks a tree against the registry of its table
with the member's rights and compiles it to one query narrowing `for_org`; this module
checks the JSON shapes and pages, and serializes rows exactly as the tables' own list
endpoints do (their prefetches, their hidden sensitive values).

Decisions:
- A tree is checked in two steps, each pointing at the faulty node: its JSON shape
  against the very dicts the OpenAPI document publishes (`FilterNode` and the
  components around it: what the schema says is exactly what is accepted), then its
  meaning by the engine (known field, operator, value, ids of the caller's
  organisation, criteria the member may use). Either failure is a 400
  `{"tree": ["children[1].value : Un nombre est attendu."], "path": "children[1].value"}`;
  `path` is "" when the whole tree is wrong.
- Searches are POSTs (a tree has no sensible query-string form) with offset pages in
  the body: `limit` (1–500, default 50) and `offset`. Not keyset: a result may be
  sorted on any of several columns, and each page re-runs the search anyway. The
  answer is `{"count", "results", "description"}`, the description being the tree in
  plain French. `ordering` is one of the table's sorts (`-` for descending), ties
  broken by id.
- Searching a table needs the right to view it (403 otherwise); a criterion the member
  may not use (payment aggregates for a profile hiding payments, sensitive custom
  fields) is an unknown field: 400 naming the node.
- Segments need the « segments » data type; their members are contacts, so listing or
  counting them also needs « view contacts ». A stored tree that no longer checks
  answers 403 when the member's profile is the reason (a criterion they may not use),
  409 when the tree itself is stale (a label deleted since). Deleting a segment other
  segments use is a 409 with the service's explanation.
- `description_text` of a segment is its tree in French, or « Inutilisable : » and why
  the tree no longer checks for this member.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from lien.api.contacts import (
    MAX_ID,
    ContactSerializer,
    ContactViewSet,
    ScopedViewSet,
    StrictCharField,
    StrictIntegerField,
    StructureSerializer,
    StructureViewSet,
    _text_param,
    refuse,
)
from lien.api.interactions import CONFLICT, Conflict, InteractionSerializer, InteractionViewSet
from lien.api.payments import PaymentSerializer, PaymentViewSet
from lien.api.views import OrganizationScoped, as_api_error
from lien.contacts.models import CustomField
from lien.core.rights import can
from lien.search import dates, services
from lien.search.criteria import (
    CONTACTS,
    INTERACTIONS,
    PAYMENTS,
    REGISTRIES,
    STRUCTURES,
    Registry,
    TreeError,
)
from lien.search.models import Segment, SegmentCount
from lien.search.tree import GROUPS, MAX_NODES, check_tree, context, describe_tree, hidden_from
from lien.search.tree import search as search_rows

MAX_LIMIT = 500
MAX_OFFSET = 10**9
MAX_NESTING = 40  # arrays and objects inside one another: far beyond any real tree

# The tree's JSON schema ------------------------------------------------------------------
# Published as components of the OpenAPI document, and read by `conform` to check bodies.


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
DAY = {
    "type": "string",
    "minLength": 1,
    "maxLength": 10,
    "description": "Un jour : AAAA-MM-JJ ou JJ/MM/AAAA.",
}
CHOICE = {"type": "string", "minLength": 1, "maxLength": 40}


def date_form(kind: str, description: str, **properties: dict) -> dict[str, Any]:
    """One form of date value: an object told apart by its `type` (the `kind` enum)."""
    required = [key for key in properties if not properties[key].get("nullable")]
    return {
        "type": "object",
        "description": description,
        "required": ["type", *required],
        "additionalProperties": False,
        "properties": {"type": ref(kind), **properties},
    }


# Named here rather than left to the enum post-processing, which would name them after
# their properties (`type`, `unit`, `group`) and collide with other components' sets.
ENUMS = {
    "FilterGroupKind": list(GROUPS),
    "DateUnit": list(dates.UNITS),
    "CalendarUnit": list(dates.CALENDAR_UNITS),
    "DateDayType": ["date"],
    "DateBetweenType": ["between"],
    "DateRelativeType": ["last", "next", "ago"],
    "DateCalendarType": ["this", "previous", "following"],
    "DateYearType": ["year"],
    "DateTodayType": ["today"],
}

TREE_EXAMPLE = {
    "group": "all",
    "children": [
        {"field": "last_name", "op": "starts_with", "value": "Mar"},
        {"field": "created_at", "op": "in", "value": {"type": "last", "n": 12, "unit": "months"}},
        {
            "group": "none",
            "children": [{"field": "interactions.count", "op": "eq", "value": 0}],
        },
    ],
}

TREE_COMPONENTS: dict[str, dict[str, Any]] = {
    "FilterNode": {
        "description": "Un nœud de l'arbre de filtres : un groupe (`group`) ou une condition "
        "(`field`). Les erreurs désignent le nœud fautif par son chemin, comme "
        "`children[1].value`.",
        "oneOf": [ref("FilterGroup"), ref("FilterCondition")],
        "example": TREE_EXAMPLE,
    },
    "FilterGroup": {
        "type": "object",
        "description": "Un groupe de conditions : `all` (toutes), `any` (au moins une), "
        "`none` (aucune). Un groupe vide ne pose aucune condition.",
        "required": ["group"],
        "additionalProperties": False,
        "properties": {
            "group": ref("FilterGroupKind"),
            "children": {"type": "array", "maxItems": MAX_NODES, "items": ref("FilterNode")},
        },
    },
    "FilterCondition": {
        "type": "object",
        "description": "Une condition : un critère (`field`), un opérateur (`op`), une valeur "
        "et des restrictions (`where`) selon le critère. Les critères, leurs opérateurs et "
        "le genre de leur valeur : GET /api/v1/search/criteria/?table=….",
        "required": ["field", "op"],
        "additionalProperties": False,
        "properties": {
            "field": {
                "type": "string",
                "minLength": 1,
                "maxLength": 100,
                "description": "Clé du critère : `last_name`, `labels`, "
                "`interactions.count`, `custom.<clé du champ>`…",
            },
            "op": {"type": "string", "minLength": 1, "maxLength": 40},
            "value": ref("FilterValue"),
            "where": ref("FilterWhere"),
        },
    },
    "FilterValue": {
        "description": "La valeur, selon le critère : texte, nombre (montants en euros), "
        "booléen, liste d'ids (étiquettes, groupes…), liste de valeurs (choix), date (jour "
        "ou `DateValue`), id de segment, ou sous-arbre (`FilterNode`) pour les structures "
        "d'un contact ou le contact d'une interaction ou d'un paiement. Absente ou null "
        "pour les opérateurs sans valeur (`is_empty`, `not_empty`…).",
        "nullable": True,
        "oneOf": [
            {"type": "string", "maxLength": 200},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "array", "maxItems": 500, "items": ID},
            {
                "type": "array",
                "minItems": 1,
                "maxItems": 500,
                "items": {"type": "string", "maxLength": 200},
            },
            ref("DateValue"),
            ref("FilterNode"),
        ],
    },
    "FilterWhere": {
        "type": "object",
        "nullable": True,
        "description": "Restrictions d'un critère (celles qu'il accepte : voir `where` dans "
        "/api/v1/search/criteria/) : interactions par type, catégorie, libellé, statut ou "
        "période ; paiements par type, campagne, statut, moyen, période ou rôle (`payer`, "
        "`beneficiary`) ; adhésion à une date (`on`) ; fonction (`role`) et structure "
        "principale (`main`) d'un rattachement.",
        "additionalProperties": False,
        "properties": {
            **{
                key: {"type": "array", "minItems": 1, "maxItems": 500, "items": ID}
                for key in ("types", "categories", "labels", "campaigns")
            },
            **{key: ref("FilterChoices") for key in ("status", "statuses", "kinds", "methods")},
            "period": ref("DateOrDay"),
            "on": ref("DateOrDay"),
            "role": {"type": "string", "maxLength": 150},
            "main": {"type": "boolean"},
        },
    },
    "FilterChoices": {
        "description": "Une valeur, ou une liste de valeurs (l'une d'elles).",
        "oneOf": [CHOICE, {"type": "array", "minItems": 1, "maxItems": 50, "items": CHOICE}],
    },
    "DateOrDay": {
        "description": "Un jour (AAAA-MM-JJ ou JJ/MM/AAAA) ou une date relative.",
        "oneOf": [DAY, ref("DateValue")],
    },
    "DateValue": {
        "description": "Une date, fixe ou relative, résolue au jour de la recherche.",
        "oneOf": [
            ref(name)
            for name in (
                "DateDay",
                "DateBetween",
                "DateRelative",
                "DateCalendar",
                "DateYear",
                "DateToday",
            )
        ],
    },
    "DateDay": date_form("DateDayType", "Ce jour-là.", date=DAY),
    "DateBetween": date_form(
        "DateBetweenType",
        "Du jour `from` au jour `to`, inclus ; l'un des deux peut manquer.",
        **{"from": {**DAY, "nullable": True}, "to": {**DAY, "nullable": True}},
    ),
    "DateRelative": date_form(
        "DateRelativeType",
        "`last` : des n dernières unités à aujourd'hui ; `next` : d'aujourd'hui aux n "
        "prochaines ; `ago` : le jour d'il y a n unités (« avant » : il y a plus de n unités).",
        n={"type": "integer", "minimum": 0, "maximum": dates.MAX_N},
        unit=ref("DateUnit"),
    ),
    "DateCalendar": date_form(
        "DateCalendarType",
        "La semaine, le mois ou l'année en cours, précédent(e) ou suivant(e).",
        unit=ref("CalendarUnit"),
    ),
    "DateYear": date_form(
        "DateYearType",
        "Une année entière.",
        year={"type": "integer", "minimum": 1900, "maximum": 2200},
    ),
    "DateToday": date_form("DateTodayType", "Aujourd'hui."),
    **{name: {"type": "string", "enum": values} for name, values in ENUMS.items()},
}

# What a value failing every form of a `oneOf` is told (when no form claims it).
ONE_OF_MESSAGES = {
    "FilterNode": "Un groupe (« group ») ou une condition (« field ») est attendu.",
    "FilterValue": "Valeur inattendue : texte, nombre, true/false, liste d'ids ou de valeurs, "
    "date ou sous-arbre.",
    "FilterChoices": "Une valeur ou une liste de valeurs est attendue.",
    "DateOrDay": "Un jour (AAAA-MM-JJ) ou une date relative est attendu.",
    "DateValue": "Date attendue : type date, between, last, next, ago, this, previous, "
    "following, year ou today.",
}
TYPES = {
    "string": (lambda v: isinstance(v, str), "Un texte est attendu."),
    "number": (
        lambda v: (
            isinstance(v, int)
            and not isinstance(v, bool)
            or isinstance(v, float)
            and math.isfinite(v)
        ),
        "Un nombre est attendu.",
    ),
    "integer": (
        lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Un nombre entier est attendu.",
    ),
    "boolean": (lambda v: isinstance(v, bool), "true ou false est attendu."),
    "array": (lambda v: isinstance(v, list), "Une liste est attendue."),
    "object": (lambda v: isinstance(v, dict), "Un objet JSON est attendu."),
}


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _component(schema: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = schema["$ref"].rsplit("/", 1)[1]
    return name, TREE_COMPONENTS[name]


def conform(value: Any, schema: dict[str, Any], path: str = "", name: str = "") -> None:
    """Raise TreeError at the first place `value` leaves `schema` (the subset of JSON
    schema the tree components use)."""
    if "$ref" in schema:
        name, schema = _component(schema)
    if value is None:
        if schema.get("nullable"):
            return
        raise TreeError(path, "Une valeur est attendue (pas null).")
    if "oneOf" in schema:
        _one_of(value, schema, path, name)
        return
    matches, message = TYPES[schema["type"]]
    if not matches(value):
        raise TreeError(path, message)
    if "enum" in schema and value not in schema["enum"]:
        raise TreeError(path, f"Valeur attendue : {', '.join(schema['enum'])}.")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            raise TreeError(path, "Une valeur est attendue.")
        if len(value) > schema.get("maxLength", len(value)):
            raise TreeError(path, f"{schema['maxLength']} caractères au plus.")
        if "\x00" in value:
            raise TreeError(path, "Caractère nul interdit.")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if value < schema.get("minimum", value) or value > schema.get("maximum", value):
            raise TreeError(path, f"Entre {schema['minimum']} et {schema['maximum']}.")
    elif isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            raise TreeError(path, "Une liste non vide est attendue.")
        if len(value) > schema.get("maxItems", len(value)):
            raise TreeError(path, f"{schema['maxItems']} éléments au plus.")
        for index, item in enumerate(value):
            conform(item, schema["items"], f"{path}[{index}]")
    elif isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                raise TreeError(_at(path, key), "Clé obligatoire.")
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key not in properties:
                raise TreeError(_at(path, key), "Clé inconnue.")
            conform(item, properties[key], _at(path, key))


def _one_of(value: Any, schema: dict[str, Any], path: str, name: str) -> None:
    failures: list[tuple[dict[str, Any], TreeError]] = []
    for branch in schema["oneOf"]:
        try:
            conform(value, branch, path)
        except TreeError as error:
            failures.append((branch, error))
    matched = len(schema["oneOf"]) - len(failures)
    if matched == 1:
        return
    if matched > 1:  # the forms are disjoint: only a schema bug leads here
        raise TreeError(path, "Valeur ambiguë.")
    # The error of the one form the value is meant as, when there is one: the forms that
    # hold its JSON type (and, for objects, their first required key), narrowed to those
    # whose key has an allowed value when several do (the `type` of a date).
    meant = [(branch, error) for branch, error in failures if _claims(value, branch)]
    if len(meant) > 1:
        meant = [(branch, error) for branch, error in meant if _claims(value, branch, True)]
    if len(meant) == 1:
        raise meant[0][1]
    raise TreeError(path, ONE_OF_MESSAGES.get(name, "Forme de valeur inattendue."))


def _claims(value: Any, schema: dict[str, Any], strict: bool = False) -> bool:
    """Is `value` meant as this form? Same JSON type and, for an object, the form's first
    required key present (`group`, `field`, a date's `type`); `strict`: with a value its
    enum allows."""
    if "$ref" in schema:
        schema = _component(schema)[1]
    if "oneOf" in schema:
        return any(_claims(value, branch, strict) for branch in schema["oneOf"])
    if not TYPES[schema["type"]][0](value):
        return False
    if schema["type"] != "object" or not schema.get("required"):
        return True
    key = schema["required"][0]
    if key not in value:
        return False
    discriminator = schema["properties"][key]
    if "$ref" in discriminator:
        discriminator = _component(discriminator)[1]
    return not strict or value[key] in discriminator.get("enum", [value[key]])


def _nesting(tree: Any) -> None:
    """Refuse trees too big or too deep before walking them recursively."""
    stack, containers = [(tree, 0)], 0
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            containers += 1
            if depth > MAX_NESTING or containers > 20 * MAX_NODES:
                raise TreeError("", "Arbre trop grand ou trop profond.")
            items = node.values() if isinstance(node, dict) else node
            stack.extend((item, depth + 1) for item in items)


def conform_tree(tree: Any) -> None:
    """The tree's JSON shape is the schema's `FilterNode` (TreeError at the faulty node)."""
    _nesting(tree)
    conform(tree, ref("FilterNode"))


def tree_error(error: TreeError) -> ApiValidationError:
    return ApiValidationError({"tree": [str(error)], "path": error.path})


class TreeField(serializers.JSONField):
    """A filter tree; the view checks its shape and meaning (errors name the node)."""


class TreeFieldSchema(OpenApiSerializerFieldExtension):
    """The tree is the `FilterNode` component; every tree component joins the document."""

    target_class = TreeField

    def map_serializer_field(self, auto_schema, direction) -> dict[str, Any]:
        for name, schema in TREE_COMPONENTS.items():
            auto_schema.registry.register_on_missing(
                ResolvedComponent(
                    name=name,
                    type=ResolvedComponent.SCHEMA,
                    object=f"tree:{name}",
                    # A copy: post-processing hooks edit the document in place.
                    schema=copy.deepcopy(schema),
                )
            )
        if getattr(self.target, "allow_null", False):
            return {"allOf": [ref("FilterNode")], "nullable": True}
        return ref("FilterNode")


# Orderings -------------------------------------------------------------------------------


class OrderingField(serializers.ChoiceField):
    """A sort of one table; its set is a schema component under its own name."""

    default_error_messages = {"invalid_choice": "Tri inconnu : « {input} »."}

    def __init__(self, enum_name: str, orderings: dict[str, tuple[str, ...]], **kwargs):
        self.enum_name = enum_name
        super().__init__(choices=list(orderings), **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=str(data)[:40])
        return super().to_internal_value(data)


class OrderingFieldSchema(OpenApiSerializerFieldExtension):
    target_class = OrderingField

    def get_name(self) -> str:
        return self.target.enum_name

    def map_serializer_field(self, auto_schema, direction) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.target.choices)}


def orderings(**sorts: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Each sort and its reverse (`-name`), ties broken by id."""
    result: dict[str, tuple[str, ...]] = {}
    for name, columns in sorts.items():
        columns = (*columns, "pk")
        result[name] = columns
        result[f"-{name}"] = tuple(
            column.removeprefix("-") if column.startswith("-") else f"-{column}"
            for column in columns
        )
    return result


CONTACT_ORDERINGS = orderings(
    id=(),
    last_name=("last_name_normalized", "first_name_normalized"),
    first_name=("first_name_normalized", "last_name_normalized"),
    city=("city",),
    postal_code=("postal_code",),
    created_at=("created_at",),
    updated_at=("updated_at",),
)
STRUCTURE_ORDERINGS = orderings(
    id=(),
    name=("name_normalized",),
    city=("city",),
    postal_code=("postal_code",),
    created_at=("created_at",),
    updated_at=("updated_at",),
)
INTERACTION_ORDERINGS = orderings(id=(), occurred_at=("occurred_at",))
PAYMENT_ORDERINGS = orderings(id=(), paid_on=("paid_on",), amount=("amount_cents",))


# Serializers -----------------------------------------------------------------------------


class SearchSerializer(serializers.Serializer):
    tree = TreeField(help_text="L'arbre de filtres (voir `FilterNode`).")
    limit = StrictIntegerField(min_value=1, max_value=MAX_LIMIT, default=50)
    offset = StrictIntegerField(min_value=0, max_value=MAX_OFFSET, default=0)


class ContactSearchSerializer(SearchSerializer):
    ordering = OrderingField("ContactOrderingEnum", CONTACT_ORDERINGS, default="id")


class StructureSearchSerializer(SearchSerializer):
    ordering = OrderingField("StructureOrderingEnum", STRUCTURE_ORDERINGS, default="id")


class InteractionSearchSerializer(SearchSerializer):
    ordering = OrderingField(
        "InteractionOrderingEnum", INTERACTION_ORDERINGS, default="-occurred_at"
    )


class PaymentSearchSerializer(SearchSerializer):
    ordering = OrderingField("PaymentOrderingEnum", PAYMENT_ORDERINGS, default="-paid_on")


def search_result(name: str, serializer) -> serializers.Serializer:
    return inline_serializer(
        name,
        {
            "count": serializers.IntegerField(help_text="Lignes trouvées (toutes les pages)."),
            "results": serializer(many=True),
            "description": serializers.CharField(help_text="L'arbre dit en français."),
        },
    )


class CriterionSerializer(serializers.Serializer):
    """A criterion as the builder shows it (`spec()` of the engine)."""

    field = serializers.CharField(help_text="Clé à mettre dans `field`.")
    label = serializers.CharField()
    section = serializers.CharField()
    ops = serializers.DictField(
        child=serializers.CharField(), help_text="Opérateurs : clé → libellé."
    )
    value = serializers.CharField(
        help_text="Genre de valeur : text, number, amount (euros), days, date, bool, choices, "
        "labels, groups, households, ids, emailings, segment, structure_tree, contact_tree."
    )
    where = serializers.ListField(
        child=serializers.CharField(), help_text="Restrictions acceptées."
    )
    choices = serializers.DictField(
        child=serializers.CharField(), required=False, help_text="Valeurs possibles → libellé."
    )
    model = serializers.CharField(required=False, help_text="Table des ids (genre `ids`).")


class CriteriaSerializer(serializers.Serializer):
    table = serializers.CharField()
    criteria = CriterionSerializer(many=True)


class SegmentSerializer(serializers.ModelSerializer):
    """A segment as read: its tree, said in French, and its last nightly count."""

    tree = TreeField(
        read_only=True,
        allow_null=True,
        help_text="L'arbre de filtres ; null quand il contient des critères que ce membre ne "
        "peut pas voir (données de paiement ou champs sensibles masqués par son profil).",
    )
    description_text = serializers.SerializerMethodField(
        help_text="La définition en français (ou pourquoi ce membre ne peut pas l'utiliser)."
    )

    class Meta:
        model = Segment
        fields = [
            "id",
            "name",
            "description",
            "tree",
            "description_text",
            "last_count",
            "last_run_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, segment: Segment) -> dict[str, Any]:
        data = super().to_representation(segment)
        ctx = context(self.context["organization"], self.context.get("membership"))
        if hidden_from(segment.tree, CONTACTS, ctx):
            data["tree"] = None
        return data

    def get_description_text(self, segment: Segment) -> str:
        ctx = context(self.context["organization"], self.context.get("membership"))
        try:
            check_tree(segment.tree, CONTACTS, ctx)
        except TreeError as error:
            return f"Inutilisable : {error}"
        return describe_tree(segment.tree, CONTACTS, ctx)


class SegmentWriteSerializer(serializers.Serializer):
    # Untrimmed: the service squeezes spaces, and a raw name over 150 stays refused.
    name = StrictCharField(max_length=150, trim_whitespace=False)
    description = StrictCharField(
        required=False, allow_blank=True, max_length=10_000, trim_whitespace=False
    )
    tree = TreeField(help_text="L'arbre de filtres sur les contacts (voir `FilterNode`).")


class SegmentCountSerializer(serializers.ModelSerializer):
    class Meta:
        model = SegmentCount
        fields = ["day", "count", "entered", "left"]
        read_only_fields = fields


# Views -----------------------------------------------------------------------------------


def listing(view_class: type, request) -> Any:
    """The list endpoint of a table, to serialize rows exactly as it does (its prefetches,
    the sensitive values it hides from this member)."""
    return view_class(request=request, format_kwarg=None, action="list", kwargs={})


class SearchViewSet(ScopedViewSet):
    """POST a tree, get a page of the table's rows that match, counted and said in French."""

    registry: Registry
    listing_class: type  # the table's list endpoint: results are serialized as it does
    serializer_class: type[SearchSerializer]  # the request body
    orderings: dict[str, tuple[str, ...]]
    action_rights = {"search": "view"}

    @property
    def data_type(self) -> str:
        return self.registry.right[1]

    def prepared(self, view, rows: QuerySet) -> QuerySet:
        return view.prefetched(rows)

    def search(self, request):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        tree = data["tree"]
        try:
            conform_tree(tree)
            rows = search_rows(
                self.organization, tree, membership=self.membership, registry=self.registry
            )
        except TreeError as error:
            raise tree_error(error) from error
        ctx = context(self.organization, self.membership)
        view = listing(self.listing_class, request)
        ordered = self.prepared(view, rows).order_by(*self.orderings[data["ordering"]])
        page = ordered[data["offset"] : data["offset"] + data["limit"]]
        return Response(
            {
                "count": rows.count(),
                "results": view.get_serializer(page, many=True).data,
                "description": describe_tree(tree, self.registry, ctx),
            }
        )


def search_schema(name: str, request, serializer, example_tree: dict, ordering: str):
    return extend_schema(
        request=request,
        responses={200: search_result(f"{name}SearchResult", serializer)},
        examples=[
            OpenApiExample(
                "Exemple",
                value={"tree": example_tree, "limit": 20, "offset": 0, "ordering": ordering},
                request_only=True,
            )
        ],
    )


class ContactSearchViewSet(SearchViewSet):
    """Advanced search over contacts (the trash excluded)."""

    registry = CONTACTS
    listing_class = ContactViewSet
    serializer_class = ContactSearchSerializer
    orderings = CONTACT_ORDERINGS

    @search_schema("Contact", ContactSearchSerializer, ContactSerializer, TREE_EXAMPLE, "last_name")
    def search(self, request):
        return super().search(request)


class StructureSearchViewSet(SearchViewSet):
    """Advanced search over structures (the trash excluded)."""

    registry = STRUCTURES
    listing_class = StructureViewSet
    serializer_class = StructureSearchSerializer
    orderings = STRUCTURE_ORDERINGS

    @search_schema(
        "Structure",
        StructureSearchSerializer,
        StructureSerializer,
        {"group": "any", "children": [{"field": "city", "op": "equals", "value": "Lyon"}]},
        "name",
    )
    def search(self, request):
        return super().search(request)


class InteractionSearchViewSet(SearchViewSet):
    """Advanced search over interactions, newest first by default."""

    registry = INTERACTIONS
    listing_class = InteractionViewSet
    serializer_class = InteractionSearchSerializer
    orderings = INTERACTION_ORDERINGS

    def prepared(self, view, rows):
        return rows.select_related("type", "category", "label")

    @search_schema(
        "Interaction",
        InteractionSearchSerializer,
        InteractionSerializer,
        {
            "group": "all",
            "children": [
                {"field": "occurred_at", "op": "in", "value": {"type": "this", "unit": "year"}},
                {"field": "status", "op": "in", "value": ["active"]},
            ],
        },
        "-occurred_at",
    )
    def search(self, request):
        return super().search(request)


class PaymentSearchViewSet(SearchViewSet):
    """Advanced search over payments, latest first by default (amounts in euros)."""

    registry = PAYMENTS
    listing_class = PaymentViewSet
    serializer_class = PaymentSearchSerializer
    orderings = PAYMENT_ORDERINGS

    @search_schema(
        "Payment",
        PaymentSearchSerializer,
        PaymentSerializer,
        {
            "group": "all",
            "children": [
                {"field": "kind", "op": "in", "value": ["don"]},
                {"field": "amount", "op": "gte", "value": 50},
            ],
        },
        "-amount",
    )
    def search(self, request):
        return super().search(request)


TABLE_PARAMETER = OpenApiParameter(
    "table", enum=list(REGISTRIES), description="Table cherchée (contacts par défaut)."
)


class SearchCriteriaView(OrganizationScoped, APIView):
    """The criteria this member may use on a table, for clients that build trees."""

    @property
    def data_type(self) -> str | None:
        registry = REGISTRIES.get(self.request.query_params.get("table", "contacts"))
        return registry.right[1] if registry else None  # unknown: the view answers 400

    @extend_schema(parameters=[TABLE_PARAMETER], responses=CriteriaSerializer)
    def get(self, request):
        table = _text_param(request, "table", 20)
        table = "contacts" if table is None else table
        if table not in REGISTRIES:
            raise refuse("table", f"Table inconnue ; possibles : {', '.join(REGISTRIES)}.")
        ctx = context(self.organization, self.membership)
        criteria = [criterion.spec() for criterion in REGISTRIES[table].all(ctx).values()]
        return Response(CriteriaSerializer({"table": table, "criteria": criteria}).data)


CONTACT_ORDERING_PARAMETER = OpenApiParameter(
    "ordering", enum=list(CONTACT_ORDERINGS), description="Tri (id par défaut)."
)


@extend_schema_view(
    create=extend_schema(request=SegmentWriteSerializer, responses={201: SegmentSerializer}),
    update=extend_schema(request=SegmentWriteSerializer, responses=SegmentSerializer),
    partial_update=extend_schema(request=SegmentWriteSerializer, responses=SegmentSerializer),
    destroy=extend_schema(
        description="Refusé (409) tant que d'autres segments l'utilisent.",
        responses={204: None, 409: CONFLICT},
    ),
)
class SegmentViewSet(ScopedViewSet, viewsets.ModelViewSet):
    """Segments: saved searches over contacts whose members are computed when asked."""

    data_type = "segments"
    custom_target = CustomField.Target.CONTACT  # members are shown as contacts
    serializer_class = SegmentSerializer
    queryset = Segment.objects.none()

    def get_queryset(self):
        return Segment.objects.for_org(self.organization).order_by("name", "pk")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "membership": self.membership}

    def _save(
        self, segment: Segment | None, data: dict[str, Any], *, partial: bool = False
    ) -> Segment:
        if "tree" in data:
            try:
                conform_tree(data["tree"])
            except TreeError as error:
                raise tree_error(error) from error
        if partial:  # a PATCH keeps what it does not send
            data = {"name": segment.name, "description": segment.description, **data}
            data.setdefault("tree", segment.tree)
        tree = data["tree"]
        try:
            with transaction.atomic():
                return services.save_segment(
                    organization=self.organization,
                    actor=self.actor(),
                    segment=segment,
                    name=data["name"],
                    description=data.get("description", ""),
                    tree=tree,
                    membership=self.membership,
                )
        except ValidationError as error:
            body = as_api_error(error).detail
            if "tree" in error.message_dict:
                body["path"] = self._tree_path(tree, segment)
            raise ApiValidationError(body) from error

    def _tree_path(self, tree: Any, segment: Segment | None) -> str:
        """Where the service found the tree wrong: the same check, with the same context."""
        ctx = context(self.organization, self.membership)
        if segment is not None:
            ctx.segments_seen = (segment.pk,)
        try:
            check_tree(tree, CONTACTS, ctx)
        except TreeError as error:
            return error.path
        return ""

    def create(self, request, *args, **kwargs):
        segment = self._save(None, self.write_serializer(SegmentWriteSerializer))
        return Response(self.fresh(segment.pk), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        segment = self.get_object()
        partial = kwargs.get("partial", False)
        data = self.write_serializer(SegmentWriteSerializer, instance=segment, partial=partial)
        self._save(segment, data, partial=partial)
        return Response(self.fresh(segment.pk))

    def destroy(self, request, *args, **kwargs):
        segment = self.get_object()
        try:
            services.delete_segment(
                organization=self.organization, actor=self.actor(), segment=segment
            )
        except ValidationError as error:
            raise Conflict(" ".join(error.messages)) from error
        return Response(status=status.HTTP_204_NO_CONTENT)

    def members(self, segment: Segment) -> QuerySet:
        """The segment's contacts now, as this member may see them."""
        if not can(self.membership, "view", "contacts"):
            raise PermissionDenied("Votre profil ne permet pas de voir les contacts.")
        try:
            return services.members(segment, membership=self.membership)
        except TreeError as error:
            try:
                check_tree(segment.tree, CONTACTS, context(self.organization))
            except TreeError:
                raise Conflict(f"La définition du segment est à revoir : {error}") from error
            raise PermissionDenied(
                f"Ce segment utilise un critère que votre profil ne permet pas : {error}"
            ) from error

    @extend_schema(
        parameters=[CONTACT_ORDERING_PARAMETER],
        responses={200: ContactSerializer(many=True), 409: CONFLICT},
    )
    @action(detail=True, methods=["get"], url_path="contacts", url_name="contacts")
    def contacts(self, request, pk=None):
        """The segment's contacts now, paged like /api/v1/contacts/."""
        segment = self.get_object()
        ordering = _text_param(request, "ordering", 20)
        ordering = "id" if ordering is None else ordering
        if ordering not in CONTACT_ORDERINGS:
            raise refuse("ordering", f"Tri inconnu : « {ordering} ».")
        view = listing(ContactViewSet, request)
        rows = view.prefetched(self.members(segment)).order_by(*CONTACT_ORDERINGS[ordering])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(view.get_serializer(page, many=True).data)

    @extend_schema(
        responses={
            200: inline_serializer(
                "SegmentMembersCount",
                {"count": serializers.IntegerField(help_text="Contacts du segment maintenant.")},
            ),
            409: CONFLICT,
        }
    )
    @action(detail=True, methods=["get"], url_path="count", url_name="count")
    def count(self, request, pk=None):
        """How many contacts the segment holds now."""
        return Response({"count": self.members(self.get_object()).count()})

    @extend_schema(responses=SegmentCountSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="history", url_name="history")
    def history(self, request, pk=None):
        """The nightly counts, newest first, with the entries and exits of each day."""
        segment = self.get_object()
        rows = SegmentCount.objects.for_org(self.organization).filter(segment=segment)
        page = self.paginate_queryset(rows.order_by("-day", "-pk"))
        return self.get_paginated_response(SegmentCountSerializer(page, many=True).data)
