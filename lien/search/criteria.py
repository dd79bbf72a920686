"""The criteria of the advanced search: one small class per kind, in registries per table.

A criterion node of the tree is {"field": key, "op": operator, "value": …, "where": {…}}.
Each criterion class knows its operators and value, checks a node (French message,
pointing at the node), compiles it to a Django Q on its table's rows, and says it in
French. Related data compile to subqueries on one table filtered by the organisation
(`pk IN (SELECT contact_id … WHERE organization_id = …)`), never to joins over the
whole table; a tree can never reach another organisation's rows.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.fields.json import KT, KeyTransform
from django.db.models.functions import Cast
from django.db.models.lookups import Lookup

from lien.contacts.models import (
    Contact,
    ContactLabel,
    ContactStructureLink,
    CustomField,
    Group,
    GroupMembership,
    Household,
    Label,
    Structure,
    StructureLabel,
)
from lien.contacts.normalize import normalize_email, normalize_name
from lien.contacts.selectors import _prefix_range
from lien.core.models import Membership, Organization
from lien.core.rights import can, hides_sensitive_fields
from lien.imports.models import Import, ImportRow, RowOutcome
from lien.interactions.defaults import (
    EMAILING_CLICK_TYPE,
    EMAILING_OPENED_TYPE,
    EMAILING_RECEIVED_TYPE,
)
from lien.interactions.models import (
    ContactInteractionYear,
    Interaction,
    InteractionCategory,
    InteractionLabel,
    InteractionStatus,
    InteractionType,
)
from lien.payments.models import (
    Campaign,
    ContactPaymentYear,
    MembershipPeriod,
    Payment,
    PaymentKind,
    PaymentLabel,
)
from lien.search import dates

# Errors ----------------------------------------------------------------------------------------


class TreeError(ValueError):
    """A node of the tree is wrong: `path` points at it ("children[1].value")."""

    def __init__(self, path: str, message: str):
        path = path.lstrip(".")
        super().__init__(f"{path} : {message}" if path else message)
        self.path = path
        self.message = message


# Context ---------------------------------------------------------------------------------------


@dataclass
class SearchContext:
    """What a search runs against: the organisation, who asks, and the day it is."""

    organization: Organization
    membership: Membership | None = None
    today: dt.date = field(default_factory=dt.date.today)
    depth: int = 0  # nested segments
    segments_seen: tuple[int, ...] = ()
    _custom: dict[str, dict[str, CustomField]] = field(default_factory=dict)

    def may(self, right: tuple[str, str] | None) -> bool:
        return right is None or self.membership is None or can(self.membership, *right)

    def custom_fields(self, target: str) -> dict[str, CustomField]:
        if target not in self._custom:
            fields = CustomField.objects.for_org(self.organization).filter(target=target)
            if self.membership is not None and hides_sensitive_fields(self.membership):
                fields = fields.filter(sensitive=False)
            self._custom[target] = {f.key: f for f in fields.order_by("position", "name")}
        return self._custom[target]

    def names(self, model, ids: list[int]) -> list[str]:
        found = dict(
            model.objects.for_org(self.organization).filter(pk__in=ids).values_list("pk", "name")
        )
        return [found.get(pk, f"n°{pk}") for pk in ids]


# Operators -------------------------------------------------------------------------------------

TEXT_OPS = {
    "contains": "contient",
    "not_contains": "ne contient pas",
    "equals": "est",
    "not_equals": "n'est pas",
    "starts_with": "commence par",
    "is_empty": "est vide",
    "not_empty": "est renseigné",
}
DATE_OPS = {
    "in": "pendant",
    "not_in": "hors de",
    "before": "avant",
    "after": "après",
    "is_empty": "n'est pas renseignée",
    "not_empty": "est renseignée",
}
NUMBER_OPS = {
    "eq": "=",
    "ne": "≠",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
}
NO_VALUE_OPS = {"is_empty", "not_empty"}
COMPARE = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _number_q(expression: str, op: str, value: Any) -> Q:
    if op == "ne":
        return ~Q(**{expression: value})
    lookup = {"eq": "exact"}.get(op, op)
    return Q(**{f"{expression}__{lookup}": value})


# Value checks ----------------------------------------------------------------------------------


def _need(node: dict, path: str) -> Any:
    if "value" not in node or node["value"] in (None, "", []):
        raise TreeError(f"{path}.value", "Une valeur est attendue.")
    return node["value"]


def _text(node: dict, path: str) -> str:
    value = _need(node, path)
    if not isinstance(value, str):
        raise TreeError(f"{path}.value", "Un texte est attendu.")
    if len(value) > 200:
        raise TreeError(f"{path}.value", "200 caractères au plus.")
    if "\x00" in value:
        raise TreeError(f"{path}.value", "Caractère invalide (octet nul).")
    return value


def _number(node: dict, path: str, *, integer: bool = False) -> float:
    value = _need(node, path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TreeError(f"{path}.value", "Un nombre est attendu.")
    if integer and int(value) != value:
        raise TreeError(f"{path}.value", "Un nombre entier est attendu.")
    if abs(value) > 10**12:
        raise TreeError(f"{path}.value", "Nombre trop grand.")
    return int(value) if integer else value


def _amount_cents(node: dict, path: str) -> int:
    """Amounts in a tree are euros (50, 12.5); compared in cents."""
    value = _number(node, path)
    cents = round(value * 100)
    if abs(cents - value * 100) > 1e-6:
        raise TreeError(f"{path}.value", "Un montant a au plus 2 décimales.")
    return cents


def _ids(node: dict, path: str, model, ctx: SearchContext, *, key: str = "value") -> list[int]:
    value = node.get(key)
    where = f"{path}.{key}"
    if not isinstance(value, list) or not value:
        raise TreeError(where, "Une liste d'identifiants est attendue.")
    if len(value) > 500:
        raise TreeError(where, "500 éléments au plus.")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise TreeError(where, "Des identifiants (nombres entiers) sont attendus.")
    # An id beyond the primary key's range exists nowhere (and overflows SQLite).
    possible = [v for v in value if 0 < v < 2**63]
    found = set(
        model.objects.for_org(ctx.organization).filter(pk__in=possible).values_list("pk", flat=True)
    )
    missing = [v for v in value if v not in found]
    if missing:
        raise TreeError(
            where, f"Introuvable dans votre association : {', '.join(map(str, missing))}."
        )
    return list(dict.fromkeys(value))


def _choices(node: dict, path: str, allowed: list[str], *, key: str = "value") -> list[str]:
    value = node.get(key)
    where = f"{path}.{key}"
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise TreeError(where, "Une liste de valeurs est attendue.")
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise TreeError(
            where, f"Valeur inconnue : « {unknown[0]} » (possibles : {', '.join(allowed)})."
        )
    return list(dict.fromkeys(value))


# Beyond, a relative date leaves the calendar or its midnights the datetime range.
FIRST_DAY, LAST_DAY = dt.date(1000, 1, 1), dt.date(9998, 12, 31)


def _span(value: Any, path: str, ctx: SearchContext) -> dates.Span:
    try:
        span = dates.resolve(value, ctx.today)
    except (dates.DateValueError, KeyError, TypeError, ValueError, OverflowError) as error:
        raise TreeError(
            path, str(error) if isinstance(error, dates.DateValueError) else "Date invalide."
        ) from None
    if any(day and not FIRST_DAY <= day <= LAST_DAY for day in (span.start, span.end)):
        raise TreeError(path, "Date hors limites (entre l'an 1000 et l'an 9998).")
    return span


def _bool(node: dict, path: str) -> bool:
    value = node.get("value")
    if not isinstance(value, bool):
        raise TreeError(f"{path}.value", "true ou false est attendu.")
    return value


# Date conditions on a column -------------------------------------------------------------------


def date_q(column: str, op: str, span: dates.Span | None, *, is_datetime: bool) -> Q:
    """A date operator on a column, as bounds on the column itself (index-friendly)."""
    if op == "is_empty":
        return Q(**{f"{column}__isnull": True})
    if op == "not_empty":
        return Q(**{f"{column}__isnull": False})
    assert span is not None
    start, end = span.bounds() if is_datetime else (span.start, span.end)

    def inside() -> Q:
        q = Q()
        if start is not None:
            q &= Q(**{f"{column}__gte": start})
        if end is not None:
            q &= Q(**{f"{column}__lt" if is_datetime else f"{column}__lte": end})
        return q

    if op == "in":
        return inside()
    if op == "not_in":
        return Q(**{f"{column}__isnull": False}) & ~inside()
    if op == "before":
        return Q(**{f"{column}__lt": start}) if start is not None else Q(pk__in=[])
    if op == "after":
        if end is None:
            return Q(pk__in=[])
        return Q(**{f"{column}__gte" if is_datetime else f"{column}__gt": end})
    raise AssertionError(op)


def describe_date(op: str, value: Any) -> str:
    if op in NO_VALUE_OPS:
        return DATE_OPS[op]
    if isinstance(value, dict) and value.get("type") == "ago" and op in ("before", "after"):
        amount = f"{value.get('n')} {dates.UNITS.get(value.get('unit'), '')}"
        return f"il y a plus de {amount}" if op == "before" else f"il y a moins de {amount}"
    words = dates.describe(value)
    day = words.removeprefix("le ") if words.startswith("le ") else None
    if op == "before":
        return f"avant le {day}" if day else f"avant {words}"
    if op == "after":
        return f"après le {day}" if day else f"après {words}"
    return words if op == "in" else f"hors de la période : {words}"


# The base class --------------------------------------------------------------------------------


class Criterion(ABC):
    key: str = ""
    label: str = ""
    section: str = ""
    ops: dict[str, str] = {}
    value_kind: str = (
        "none"  # the builder's widget: text, number, amount, date, bool, choices, ids…
    )
    right: tuple[str, str] | None = None
    where_keys: tuple[str, ...] = ()

    def check(self, node: dict, path: str, ctx: SearchContext) -> None:
        """Raise TreeError when the node is wrong; the default checks the operator."""
        if not isinstance(node.get("op"), str) or node["op"] not in self.ops:
            raise TreeError(
                f"{path}.op",
                f"Opérateur inconnu pour « {self.label} » : « {node.get('op')} » "
                f"(possibles : {', '.join(self.ops)}).",
            )
        where = node.get("where") or {}
        if not isinstance(where, dict):
            raise TreeError(f"{path}.where", "Un objet est attendu.")
        unknown = [k for k in where if k not in self.where_keys]
        if unknown:
            raise TreeError(
                f"{path}.where.{unknown[0]}", f"Restriction inconnue : « {unknown[0]} »."
            )

    @abstractmethod
    def compile(self, node: dict, path: str, ctx: SearchContext) -> Q:
        """The node as a condition on the registry's rows (the node is already checked)."""

    def describe(self, node: dict, ctx: SearchContext) -> str:
        return f"{self.label} {self.ops.get(node.get('op'), node.get('op'))}"

    def spec(self) -> dict:
        """What the builder and the API documentation show of this criterion."""
        return {
            "field": self.key,
            "label": self.label,
            "section": self.section,
            "ops": self.ops,
            "value": self.value_kind,
            "where": list(self.where_keys),
        }


# Columns of the row itself ---------------------------------------------------------------------


class TextCriterion(Criterion):
    ops = TEXT_OPS
    value_kind = "text"

    def __init__(
        self,
        key: str,
        label: str,
        column: str,
        *,
        normalized: str = "",
        normalizer: Callable[[str], str] = normalize_name,
        section: str = "Fiche",
    ):
        self.key, self.label, self.column, self.section = key, label, column, section
        self.normalized, self.normalizer = normalized, normalizer

    def check(self, node, path, ctx):
        super().check(node, path, ctx)
        if node["op"] not in NO_VALUE_OPS:
            _text(node, path)

    def compile(self, node, path, ctx):
        op = node["op"]
        if op == "is_empty":
            return Q(**{self.column: ""})
        if op == "not_empty":
            return ~Q(**{self.column: ""})
        value = node["value"].strip()
        if self.normalized:
            column, value = self.normalized, self.normalizer(value)
            lookups = {"contains": "contains", "equals": "exact", "starts_with": "startswith"}
        else:
            column = self.column
            lookups = {"contains": "icontains", "equals": "iexact", "starts_with": "istartswith"}
        positive = op.removeprefix("not_")
        if positive == "starts_with" and self.normalized and value:
            # As a range on the normalised copy, like the quick search: the index serves it.
            q = _prefix_range(column, value)
        else:
            q = Q(**{f"{column}__{lookups[positive]}": value})
        return ~q if op.startswith("not_") else q

    def describe(self, node, ctx):
        op = node.get("op")
        if op in NO_VALUE_OPS:
            return f"{self.label} {TEXT_OPS[op]}"
        return f"{self.label} {TEXT_OPS[op]} « {node.get('value')} »"


class DateCriterion(Criterion):
    ops = DATE_OPS
    value_kind = "date"

    def __init__(self, key: str, label: str, column: str, *, is_datetime: bool = False,
                 section: str = "Fiche", nullable: bool = True):  # fmt: skip
        self.key, self.label, self.column, self.section = key, label, column, section
        self.is_datetime = is_datetime
        if not nullable:
            self.ops = {k: v for k, v in DATE_OPS.items() if k not in NO_VALUE_OPS}

    def check(self, node, path, ctx):
        super().check(node, path, ctx)
        if node["op"] not in NO_VALUE_OPS:
            _span(_need(node, path), f"{path}.value", ctx)

    def compile(self, node, path, ctx):
        span = None if node["op"] in NO_VALUE_OPS else _span(node["value"], path, ctx)
        return date_q(self.column, node["op"], span, is_datetime=self.is_datetime)

    def describe(self, node, ctx):
        return f"{self.label} {describe_date(node['op'], node.get('value'))}"


class BooleanCriterion(Criterion):
    ops = {"is": "est"}
    value_kind = "bool"

    def __init__(self, key: str, label: str, column: str, *, section: str = "Fiche"):
        self.key, self.label, self.column, self.section = key, label, column, section

    def check(self, node, path, ctx):
        super().check(node, path, ctx)
        _bool(node, path)

    def compile(self, node, path, ctx):
        return Q(**{self.column: node["value"]})

    def describe(self, node, ctx):
        return f"{self.label} : {'oui' if node.get('value') else 'non'}"


class ChoiceCriterion(Criterion):
    ops = {"in": "est parmi", "not_in": "n'est pas parmi"}
    value_kind = "choices"

    def __init__(self, key: str, label: str, column: str, choices: list[tuple[str, str]], *,
                 section: str = "Fiche"):  # fmt: skip
        self.key, self.label, self.column, self.section = key, label, column, section
        self.choices = dict(choices)

    def check(self, node, path, ctx):
        super().check(node, path, ctx)
        _choices(node, path, list(self.choices))

    def compile(self, node, path, ctx):
        q = Q(**{f"{self.column}__in": node["value"]})
        return ~q if node["op"] == "not_in" else q

    def describe(self, node, ctx):
        values = node["value"] if isinstance(node["value"], list) else [node["value"]]
        names = ", ".join(str(self.choices.get(v, v)) for v in values)
        return f"{self.label} {self.ops[node['op']]} {names}"

    def spec(self):
        return {**super().spec(), "choices": self.choices}


class LabelsCriterion(Criterion):
    label = "Étiquettes"
    section = "Étiquettes et groupes"
    ops = {"any": "a au moins une de", "all": "a toutes", "none": "n'a aucune de"}
    value_kind = "labels"

    def __init__(self, key: str, link_model, column: str):
        self.key, self.link_model, self.column = key, link_model, column

    def check(self, node, path, ctx):
        super().check(node, path, ctx)
        _ids(node, path, Label, ctx)

    def _having(self, ctx, label_ids: list[int]) -> QuerySet:
        return (
            self.link_model.objects.for_org(ctx.organization)
            .filter(label_id__in=label_ids)
            .values(self.column)
        )

    def compile(self, node, path, ctx):
        ids = node["value"]
        if node["op"] == "all":
            q = Q()
            for label_id in ids:
                q &= Q(pk__in=self._having(ctx, [label_id]))
            return q
        q = Q(pk__in=self._having(ctx, ids))
        return ~q if node["op"] == "none" else q

    def describe(self, node, ctx):
        names = ", ".join(f"« {n} »" for n in ctx.names(Label, node["value"]))
        return {
            "any": f"a l'étiquette {names}"
            if len(node["value"]) == 1
            else f"a l'une des étiquettes {names}",
            "all": f"a toutes les étiquettes {names}",
            "none": f"n'a pas l'étiquette {names}"
            if len(node["value"]) == 1
            else f"n'a aucune des étiquettes {names}",
        }[node["op"]]


class GroupsCriterion(Criterion):
    label = "Groupes"
    section = "Étiquettes et groupes"
    ops = {"in": "est dans l'un des groupes", "not_in": "n'est dans aucun des groupes"}
    value_kind = "groups"

    def __init__(self, key: str, column: str):
        self.key, self.column = key, column

    def check(self, node, path, ctx):
        super().check(node, path, ctx)
        _ids(node, path, Group, ctx)

    def compile(self, node, path, ctx):
        members = (
            GroupMembership.objects.for_org(ctx.organization)
            .filter(group_id__in=node["value"], **{f"{self.column}__isnull": False})
            .values(self.column)
        )
        q = Q(pk__in=members)
        return ~q if node["op"] == "not_in" else q

    def describe(self, node, ctx):
        names = ", ".join(f"« {n} »" for n in ctx.names(Group, node["value"]))
        return f"{'est' if node['op'] == 'in' else 'n’est pas'} dans le groupe {names}"


class HouseholdCriterion(Criterion):
    key = "household"
    label = "Foyer"
    section = "Fiche"
    ops = {"not_empty": "fait partie d'un foyer", "is_empty": "ne fait partie d'aucun foyer",
           "in": "fait partie du foyer"}  # fmt: skip
    value_kind = "households"

    def check(self, node, path, ctx):
        super().check(node, path, ctx)
        if node["op"] == "in":
            _ids(node, path, Household, ctx)

    def compile(self, node, path, ctx):
        if node["op"] == "in":
            return Q(household_id__in=node["value"])
        return Q(household__isnull=node["op"] == "is_empty")

    def describe(self, node, ctx):
        if node["op"] == "in":
            return f"fait partie du foyer {', '.join(ctx.names(Household, node['value']))}"
        return self.ops[node["op"]]


# Custom fields ---------------------------------------------------------------------------------


class JSONArrayHasAny(Lookup):
    """`custom__key__lien_any=[…]`: a JSON array value shares at least one item with the list."""

    lookup_name = "lien_any"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def process_rhs(self, compiler, connection):
        return "", list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        marks = ", ".join(["%s"] * len(values))
        if connection.vendor == "postgresql":
            return f"(({lhs}) ?| ARRAY[{marks}]::text[])", [*lhs_params, *values]
        return (
            f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value IN ({marks}))",
            [*lhs_params, *values],
        )


KeyTransform.register_lookup(JSONArrayHasAny)


class Epoch(Func):
    """Seconds since 1970 of a datetime, on both databases (for average gaps)."""

    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"EXTRACT(EPOCH FROM {sql})", params
        return f"CAST(strftime('%%s', {sql}) AS REAL)", params


class CustomFieldCriterion(Criterion):
    section = "Champs personnalisés"

    def __init__(self, definition: CustomField, prefix: str = "custom."):
        self.definition = definition
        self.key = f"{prefix}{definition.key}"
        self.label = definition.name
        kind = definition.field_type
        types = CustomField.FieldType
        self.json = f"custom__{definition.key}"
        if kind in (types.INTEGER, types.DECIMAL):
            self.ops, self.value_kind = (
                {**NUMBER_OPS, **{k: TEXT_OPS[k] for k in NO_VALUE_OPS}},
                "number",
            )
        elif kind == types.DATE:
            self.ops, self.value_kind = DATE_OPS, "date"
        elif kind == types.BOOLEAN:
            self.ops, self.value_kind = {"is": "est"}, "bool"
        elif kind == types.CHOICE:
            self.ops = {
                "in": "est parmi",
                "not_in": "n'est pas parmi",
                **{k: TEXT_OPS[k] for k in NO_VALUE_OPS},
            }
            self.value_kind = "choices"
        elif kind == types.MULTIPLE_CHOICE:
            self.ops = {
                "any": "contient l'un de",
                "all": "contient tous",
                "none": "ne contient aucun de",
                **{k: TEXT_OPS[k] for k in NO_VALUE_OPS},
            }
            self.value_kind = "choices"
        else:
            self.ops, self.value_kind = TEXT_OPS, "text"

    def spec(self):
        spec = super().spec()
        if self.value_kind == "choices":
            spec["choices"] = {c: c for c in self.definition.choices}
        return spec

    def check(self, node, path, ctx):
        super().check(node, path, ctx)
        op = node["op"]
        if op in NO_VALUE_OPS:
            return
        if self.value_kind == "number":
            _number(node, path)
        elif self.value_kind == "date":
            _span(_need(node, path), f"{path}.value", ctx)
        elif self.value_kind == "bool":
            _bool(node, path)
        elif self.value_kind == "choices":
            _choices(node, path, list(self.definition.choices))
        else:
            _text(node, path)

    def _empty(self) -> Q:
        key = self.definition.key
        return (
            ~Q(custom__has_key=key)
            | Q(**{self.json: None})
            | Q(**{self.json: ""})
            | Q(**{self.json: []})
        )

    def compile(self, node, path, ctx):
        op = node["op"]
        if op == "is_empty":
            return self._empty()
        if op == "not_empty":
            return ~self._empty()
        kind = self.value_kind
        if kind == "number":
            expression = Cast(KT(self.json), FloatField())
            lookups = {
                "eq": "exact",
                "ne": "exact",
                "gt": "gt",
                "gte": "gte",
                "lt": "lt",
                "lte": "lte",
            }
            from django.db.models.lookups import (
                Exact,
                GreaterThan,
                GreaterThanOrEqual,
                LessThan,
                LessThanOrEqual,
            )

            classes = {"exact": Exact, "gt": GreaterThan, "gte": GreaterThanOrEqual, "lt": LessThan,
                       "lte": LessThanOrEqual}  # fmt: skip
            q = Q(classes[lookups[op]](expression, Value(float(node["value"]))))
            return Q(custom__has_key=self.definition.key) & (~q if op == "ne" else q)
        if kind == "date":
            span = _span(node["value"], path, ctx)
            text = KT(self.json)
            return _text_date_q(text, op, span) & Q(custom__has_key=self.definition.key)
        # Every lookup on a JSON key is guarded by « has the key »: a missing key must read
        # false, never SQL NULL, or a « aucune » group around it would lose those rows.
        guard = Q(custom__has_key=self.definition.key)
        if kind == "bool":
            return guard & Q(**{self.json: node["value"]})
        if kind == "choices" and self.definition.field_type == CustomField.FieldType.CHOICE:
            q = guard & Q(**{f"{self.json}__in": node["value"]})
            return (~q | self._empty()) if op == "not_in" else q
        if kind == "choices":
            if op == "all":
                q = guard
                for value in node["value"]:
                    q &= Q(**{f"{self.json}__lien_any": [value]})
                return q
            q = guard & Q(**{f"{self.json}__lien_any": node["value"]})
            return (~q | self._empty()) if op == "none" else q
        value = node["value"].strip()
        lookups = {"contains": "icontains", "equals": "iexact", "starts_with": "istartswith"}
        q = guard & Q(**{f"{self.json}__{lookups[op.removeprefix('not_')]}": value})
        return (~q | self._empty()) if op.startswith("not_") else q

    def describe(self, node, ctx):
        op = node["op"]
        if op in NO_VALUE_OPS:
            return f"{self.label} {TEXT_OPS[op]}"
        if self.value_kind == "date":
            return f"{self.label} {describe_date(op, node.get('value'))}"
        if self.value_kind == "bool":
            return f"{self.label} : {'oui' if node.get('value') else 'non'}"
        value = node.get("value")
        shown = ", ".join(f"« {v} »" for v in value) if isinstance(value, list) else f"« {value} »"
        return f"{self.label} {self.ops[op]} {shown}"


def _text_date_q(text, op: str, span: dates.Span) -> Q:
    """Dates stored as ISO text in JSON compare as text (YYYY-MM-DD sorts as dates)."""
    from django.db.models.lookups import GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual

    start = span.start.isoformat() if span.start else None
    end = span.end.isoformat() if span.end else None
    inside = Q()
    if start:
        inside &= Q(GreaterThanOrEqual(text, Value(start)))
    if end:
        inside &= Q(LessThanOrEqual(text, Value(end)))
    if op == "in":
        return inside
    if op == "not_in":
        return ~inside
    if op == "before":
        return Q(LessThan(text, Value(start))) if start else Q(pk__in=[])
    if op == "after":
        return Q(GreaterThan(text, Value(end))) if end else Q(pk__in=[])
    raise AssertionError(op)


# Aggregates over related rows ------------------------------------------------------------------

AGGREGATE_OPS = {**NUMBER_OPS}
FIRST_LAST_OPS = {"in": "pendant", "not_in": "hors de", "before": "avant", "after": "après",
                  "is_empty": "jamais", "not_empty": "au moins une fois"}  # fmt: skip


class RelatedAggregate(Criterion):
    """A measure over related rows of a contact (its interactions, its payments…).

    `rows(node, ctx)` gives the related rows the node's `where` keeps, annotated with a
    non-null `cid` naming the contact; measures are count, sum, max (as numbers),
    first/last (dates) and the average gap between rows (days)."""

    date_column = ""
    date_is_datetime = True
    measure = "count"  # count | sum | max | first | last | gap | exists
    amount_column = ""

    def __init__(self, key: str, label: str, measure: str):
        self.key, self.label, self.measure = key, label, measure
        if measure in ("first", "last"):
            self.ops, self.value_kind = FIRST_LAST_OPS, "date"
        elif measure == "gap":
            self.ops, self.value_kind = (
                {k: NUMBER_OPS[k] for k in ("lt", "lte", "gt", "gte")},
                "days",
            )
        elif measure in ("sum", "max"):
            self.ops, self.value_kind = AGGREGATE_OPS, "amount"
        else:
            self.ops, self.value_kind = AGGREGATE_OPS, "number"

    @abstractmethod
    def rows(self, node: dict, path: str, ctx: SearchContext) -> QuerySet:
        """The related rows the node's `where` keeps, annotated with `cid` (the contact)."""

    def check(self, node, path, ctx):
        super().check(node, path, ctx)
        op = node["op"]
        if self.value_kind == "date" and op not in NO_VALUE_OPS:
            _span(_need(node, path), f"{path}.value", ctx)
        elif self.value_kind == "amount":
            _amount_cents(node, path)
        elif self.value_kind in ("number", "days"):
            value = _number(node, path, integer=True)
            if value < 0:
                raise TreeError(f"{path}.value", "Un nombre positif est attendu.")
        self.rows(node, path, ctx)  # checks `where`

    def _owners(self, rows: QuerySet) -> QuerySet:
        return rows.values("cid").order_by()

    def _grouped(self, rows: QuerySet, expression, op: str, value) -> QuerySet:
        return (
            rows.values("cid")
            .order_by()
            .annotate(measure=expression)
            .filter(_number_q("measure", op, value))
            .values("cid")
        )

    def stat(self, node: dict) -> str | None:
        """The contact's aggregate column (lien/contacts/stats.py) holding this measure for
        this `where`, if there is one: then the criterion reads a column, not the rows."""
        return None

    def compile_stat(self, column: str, node: dict, path: str, ctx: SearchContext) -> Q:
        op = node["op"]
        if self.measure in ("first", "last"):
            span = None if op in NO_VALUE_OPS else _span(node["value"], path, ctx)
            return date_q(column, op, span, is_datetime=self.date_is_datetime)
        if self.measure == "gap":
            count, first, last = column.split(",")
            spread = ExpressionWrapper(Epoch(last) - Epoch(first), output_field=FloatField())
            return Q(**{f"{count}__gte": 2}) & _gap_q(op, node["value"], spread, F(count))
        value = node["value"] if self.measure == "count" else _amount_cents(node, path)
        if self.measure == "max":  # no payment, no largest one: never matches
            return Q(**{f"{column}__isnull": False}) & _number_q(column, op, value)
        return _number_q(column, op, value)

    def compile(self, node, path, ctx):
        column = self.stat(node)
        if column:
            return self.compile_stat(column, node, path, ctx)
        rows = self.rows(node, path, ctx)
        op = node["op"]
        has_any = Q(pk__in=self._owners(rows))
        if self.measure in ("first", "last"):
            if op == "is_empty":
                return ~has_any
            if op == "not_empty":
                return has_any
            span = _span(node["value"], path, ctx)
            column = self.date_column
            inside = date_q(column, "in", span, is_datetime=self.date_is_datetime)
            later = date_q(column, "after", span, is_datetime=self.date_is_datetime)
            earlier = date_q(column, "before", span, is_datetime=self.date_is_datetime)
            last = self.measure == "last"
            beyond = later if last else earlier  # rows past the span on the measure's side
            if op == "in":
                return Q(pk__in=self._owners(rows.filter(inside))) & ~Q(
                    pk__in=self._owners(rows.filter(beyond))
                )
            if op == "not_in":
                return has_any & ~(
                    Q(pk__in=self._owners(rows.filter(inside)))
                    & ~Q(pk__in=self._owners(rows.filter(beyond)))
                )
            if op == ("after" if last else "before"):
                return Q(pk__in=self._owners(rows.filter(beyond)))
            # Last before the span: a row before it and none in or after it (first after: a
            # row after it and none before or in it). The narrow sets keep the subqueries small.
            short = earlier if last else later
            return Q(pk__in=self._owners(rows.filter(short))) & ~Q(
                pk__in=self._owners(rows.filter(inside | beyond))
            )
        if self.measure == "gap":
            days = node["value"]
            n = Count("pk")
            spread = Max(Epoch(self.date_column)) - Min(Epoch(self.date_column))
            grouped = (
                rows.values("cid")
                .order_by()
                .annotate(n=n, spread=spread)
                .filter(n__gte=2)
                .filter(_gap_q(op, days))
                .values("cid")
            )
            return Q(pk__in=grouped)
        if self.measure == "count":
            value = node["value"]
            # « At least one » and « none » need no counting: a plain (anti) semi-join.
            if (op, value) in (("gte", 1), ("gt", 0), ("ne", 0)):
                return has_any
            if (op, value) in (("eq", 0), ("lt", 1), ("lte", 0)):
                return ~has_any
            expression = Count("pk")
        elif self.measure == "max":
            # The largest is ≥ X when one row is ≥ X: rows read through the amount index,
            # without grouping every contact's rows.
            value = _amount_cents(node, path)
            column = self.amount_column
            above = {"gt": "gt", "gte": "gte", "lt": "gte", "lte": "gt", "eq": "gt", "ne": "gt"}
            beyond = Q(pk__in=self._owners(rows.filter(**{f"{column}__{above[op]}": value})))
            if op in ("gt", "gte"):
                return beyond
            if op in ("lt", "lte"):
                return has_any & ~beyond
            reached = Q(pk__in=self._owners(rows.filter(**{column: value}))) & ~beyond
            return reached if op == "eq" else has_any & ~reached
        elif self.measure == "sum":
            value = _amount_cents(node, path)
            expression = Sum(self.amount_column)
        q = Q(pk__in=self._grouped(rows, expression, op, value))
        if COMPARE[op](0, value):
            q |= ~has_any  # none at all counts as 0
        return q

    def describe(self, node, ctx):
        op = node["op"]
        if self.value_kind == "date":
            text = (
                f"{self.label} {FIRST_LAST_OPS[op]}"
                if op in NO_VALUE_OPS
                else (f"{self.label} {describe_date(op, node.get('value'))}")
            )
        elif self.value_kind == "amount":
            text = f"{self.label} {NUMBER_OPS[op]} {node.get('value')} €"
        elif self.value_kind == "days":
            text = f"{self.label} {NUMBER_OPS[op]} {node.get('value')} jours"
        else:
            text = f"{self.label} {NUMBER_OPS[op]} {node.get('value')}"
        restriction = self.describe_where(node.get("where") or {}, ctx)
        return f"{text} ({restriction})" if restriction else text

    def describe_where(self, where: dict, ctx: SearchContext) -> str:
        return ""


def _calendar_years(period: Any, path: str, ctx: SearchContext) -> list[int] | None:
    """The years of a period made of whole calendar years (« en 2024 », « l'an dernier »,
    « du 01/01/2023 au 31/12/2025 »), else None."""
    span = _span(period, path, ctx)
    if not (span.start and span.end):
        return None
    if (span.start.month, span.start.day, span.end.month, span.end.day) != (1, 1, 12, 31):
        return None
    return list(range(span.start.year, span.end.year + 1))


def _from_yearly(
    rows: QuerySet, column: str, measure: str, op: str, value: Any, single: bool
) -> Q:
    """A count or a sum over per-year rows (one per contact and year, or year and kind):
    compared row by row when each contact has at most one, else summed per contact."""
    has_any = Q(pk__in=rows.values("contact_id"))
    if measure == "count":
        if (op, value) in (("gte", 1), ("gt", 0), ("ne", 0)):
            return has_any
        if (op, value) in (("eq", 0), ("lt", 1), ("lte", 0)):
            return ~has_any
    if single:
        q = Q(pk__in=rows.filter(_number_q(column, op, value)).values("contact_id"))
    else:
        totals = (
            rows.values("contact_id")
            .order_by()
            .annotate(total=Sum(column))
            .filter(_number_q("total", op, value))
            .values("contact_id")
        )
        q = Q(pk__in=totals)
    return q | ~has_any if COMPARE[op](0, value) else q


def _gap_q(op: str, days: int, spread=None, n=None) -> Q:
    """Average gap (spread / (n - 1)) compared with `days`, without dividing."""
    from django.db.models.lookups import GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual

    classes = {"gt": GreaterThan, "gte": GreaterThanOrEqual, "lt": LessThan, "lte": LessThanOrEqual}
    n = F("n") if n is None else n
    bound = (n - 1) * Value(days * 86400.0, output_field=FloatField())
    return Q(classes[op](F("spread") if spread is None else spread, bound))


class InteractionAggregate(RelatedAggregate):
    section = "Interactions"
    date_column = "occurred_at"
    where_keys = ("types", "categories", "labels", "status", "period")
    right = ("view", "interactions")

    def stat(self, node):
        where = {k: v for k, v in (node.get("where") or {}).items() if v not in (None, [], "")}
        if not where:
            return {
                "count": "stat_interactions",
                "first": "stat_first_interaction_at",
                "last": "stat_last_interaction_at",
                "gap": "stat_interactions,stat_first_interaction_at,stat_last_interaction_at",
            }[self.measure]
        status = where.get("status")
        if set(where) == {"status"} and status in ("active", ["active"]) and self.measure == "last":
            return "stat_last_active_at"
        return None

    def _whole_years(self, node, path, ctx) -> tuple[list[int], str] | None:
        """A count over whole calendar years (« en 2024 », « l'an dernier »), of all or of
        active interactions: the years and the ContactInteractionYear column that answer."""
        where = {k: v for k, v in (node.get("where") or {}).items() if v not in (None, [], "")}
        status = where.pop("status", None)
        if self.measure != "count" or set(where) != {"period"}:
            return None
        if status not in (None, "active", ["active"]):
            return None
        years = _calendar_years(where["period"], f"{path}.where.period", ctx)
        return (years, "active" if status else "interactions") if years else None

    def compile(self, node, path, ctx):
        years = self._whole_years(node, path, ctx)
        if years is None:
            return super().compile(node, path, ctx)
        years, column = years
        rows = ContactInteractionYear.objects.for_org(ctx.organization).filter(
            year__in=years, **{f"{column}__gt": 0}
        )
        return _from_yearly(
            rows, column, "count", node["op"], node["value"], single=len(years) == 1
        )

    def rows(self, node, path, ctx):
        where = node.get("where") or {}
        rows = Interaction.objects.for_org(ctx.organization).annotate(cid=F("contact_id"))
        if "types" in where:
            rows = rows.filter(
                type_id__in=_ids(where, f"{path}.where", InteractionType, ctx, key="types")
            )
        if "categories" in where:
            rows = rows.filter(
                category_id__in=_ids(
                    where, f"{path}.where", InteractionCategory, ctx, key="categories"
                )
            )
        if "labels" in where:
            rows = rows.filter(
                label_id__in=_ids(where, f"{path}.where", InteractionLabel, ctx, key="labels")
            )
        if "status" in where:
            rows = rows.filter(
                status__in=_choices(where, f"{path}.where", InteractionStatus.values, key="status")
            )
        if "period" in where:
            span = _span(where["period"], f"{path}.where.period", ctx)
            rows = rows.filter(date_q("occurred_at", "in", span, is_datetime=True))
        return rows

    def describe_where(self, where, ctx):
        parts = []
        if where.get("types"):
            parts.append("type " + ", ".join(ctx.names(InteractionType, where["types"])))
        if where.get("categories"):
            parts.append(
                "catégorie " + ", ".join(ctx.names(InteractionCategory, where["categories"]))
            )
        if where.get("labels"):
            parts.append("libellé " + ", ".join(ctx.names(InteractionLabel, where["labels"])))
        if where.get("status"):
            statuses = where["status"] if isinstance(where["status"], list) else [where["status"]]
            parts.append(" ou ".join("actives" if s == "active" else "passives" for s in statuses))
        if where.get("period"):
            parts.append(dates.describe(where["period"]))
        return ", ".join(parts)


PAYMENT_ROLES = {"payer": "payeur", "beneficiary": "bénéficiaire"}


class PaymentAggregate(RelatedAggregate):
    section = "Paiements"
    date_column = "paid_on"
    date_is_datetime = False
    amount_column = "amount_cents"
    where_keys = ("kinds", "campaigns", "statuses", "methods", "period", "role")
    right = ("view", "payments")

    def stat(self, node):
        where = {k: v for k, v in (node.get("where") or {}).items() if v not in (None, [], "")}
        if where.get("role", "payer") == "payer":
            where.pop("role", None)
        if where.get("statuses") in ([Payment.Status.PAID], Payment.Status.PAID):
            where.pop("statuses")
        if where:
            return None
        return {
            "count": "stat_payments",
            "sum": "stat_paid_cents",
            "max": "stat_max_paid_cents",
            "first": "stat_first_paid_on",
            "last": "stat_last_paid_on",
        }[self.measure]

    def _yearly(self, node, path, ctx) -> tuple[QuerySet, bool] | None:
        """Paid payments as payer, by kinds and/or whole calendar years: the per-year rows
        (ContactPaymentYear) that answer a total or a count, and whether each contact has
        at most one of them (one kind, one year)."""
        where = {k: v for k, v in (node.get("where") or {}).items() if v not in (None, [], "")}
        if where.pop("role", "payer") != "payer" or self.measure not in ("sum", "count"):
            return None
        if where.pop("statuses", [Payment.Status.PAID]) not in (
            [Payment.Status.PAID], Payment.Status.PAID
        ):  # fmt: skip
            return None
        if not where or set(where) - {"kinds", "period"}:
            return None
        rows = ContactPaymentYear.objects.for_org(ctx.organization)
        kinds = where.get("kinds") or list(PaymentKind.values)
        if "kinds" in where:
            rows = rows.filter(kind__in=kinds)
        years = None
        if "period" in where:
            years = _calendar_years(where["period"], f"{path}.where.period", ctx)
            if years is None:
                return None
            rows = rows.filter(year__in=years)
        return rows, len(kinds) == 1 and years is not None and len(years) == 1

    def compile(self, node, path, ctx):
        yearly = None if self.stat(node) else self._yearly(node, path, ctx)
        if yearly is None:
            return super().compile(node, path, ctx)
        rows, single = yearly
        if self.measure == "sum":
            return _from_yearly(rows, "paid_cents", "sum", node["op"],
                                _amount_cents(node, path), single)  # fmt: skip
        return _from_yearly(rows, "payments", "count", node["op"], node["value"], single)

    def rows(self, node, path, ctx):
        where = node.get("where") or {}
        role = where.get("role", "payer")
        if not isinstance(role, str) or role not in PAYMENT_ROLES:
            raise TreeError(f"{path}.where.role", "Rôle attendu : payer ou beneficiary.")
        owner = "payer_contact_id" if role == "payer" else "beneficiary_id"
        rows = (
            Payment.objects.for_org(ctx.organization)
            .filter(**{f"{owner}__isnull": False})
            .annotate(cid=F(owner))
        )
        statuses = (
            _choices(where, f"{path}.where", Payment.Status.values, key="statuses")
            if "statuses" in where
            else [Payment.Status.PAID]
        )
        rows = rows.filter(status__in=statuses)
        if "kinds" in where:
            rows = rows.filter(
                kind__in=_choices(where, f"{path}.where", PaymentKind.values, key="kinds")
            )
        if "methods" in where:
            rows = rows.filter(
                method__in=_choices(where, f"{path}.where", Payment.Method.values, key="methods")
            )
        if "campaigns" in where:
            rows = rows.filter(
                campaign_id__in=_ids(where, f"{path}.where", Campaign, ctx, key="campaigns")
            )
        if "period" in where:
            span = _span(where["period"], f"{path}.where.period", ctx)
            rows = rows.filter(date_q("paid_on", "in", span, is_datetime=False))
        return rows

    def describe_where(self, where, ctx):
        parts = []
        kinds = dict(PaymentKind.choices)
        if where.get("kinds"):
            parts.append(", ".join(str(kinds[k]).lower() for k in where["kinds"]))
        if where.get("campaigns"):
            parts.append("campagne " + ", ".join(ctx.names(Campaign, where["campaigns"])))
        if where.get("statuses"):
            statuses = dict(Payment.Status.choices)
            parts.append(", ".join(str(statuses[s]).lower() for s in where["statuses"]))
        if where.get("methods"):
            methods = dict(Payment.Method.choices)
            parts.append(", ".join(str(methods[m]).lower() for m in where["methods"]))
        if where.get("period"):
            parts.append(dates.describe(where["period"]))
        if where.get("role") == "beneficiary":
            parts.append("comme bénéficiaire")
        return ", ".join(parts)


# Memberships -----------------------------------------------------------------------------------

MEMBERSHIP_STATUSES = {
    "a_jour": "à jour",
    "a_renouveler": "à renouveler",
    "expire": "expirée",
    "a_venir": "à venir",
    "jamais": "jamais adhérent",
}


class MembershipStatusCriterion(Criterion):
    key = "membership.status"
    label = "Adhésion"
    section = "Adhésions"
    ops = {"in": "est", "not_in": "n'est pas"}
    value_kind = "choices"
    where_keys = ("on",)
    right = ("view", "payments")

    def spec(self):
        return {**super().spec(), "choices": MEMBERSHIP_STATUSES}

    def check(self, node, path, ctx):
        super().check(node, path, ctx)
        _choices(node, path, list(MEMBERSHIP_STATUSES))
        if "on" in (node.get("where") or {}):
            _span(node["where"]["on"], f"{path}.where.on", ctx)

    def compile(self, node, path, ctx):
        from lien.payments.services import payment_settings

        where = node.get("where") or {}
        day = _span(where["on"], f"{path}.where.on", ctx).start if "on" in where else ctx.today
        day = day or ctx.today
        renewal = payment_settings(ctx.organization).renewal_days
        periods = MembershipPeriod.objects.for_org(ctx.organization)

        def having(**filters) -> Q:
            return Q(pk__in=periods.filter(**filters).values("contact_id").order_by())

        # Only « a period covers the day » reads the periods (the few ending after the day);
        # the rest are the contact's aggregates: the latest end, the latest start, the
        # earliest end (lien/contacts/stats.py).
        # A covering or upcoming period ends on or after the day: saying so lets the
        # database start from the index on the latest end instead of every contact.
        covering = having(start_date__lte=day, end_date__gte=day) & Q(
            stat_membership_max_end__gte=day
        )
        lasting = Q(stat_membership_max_end__gte=day + dt.timedelta(days=renewal))
        upcoming = Q(stat_membership_max_start__gt=day, stat_membership_max_end__gt=day)
        past = Q(stat_membership_min_end__lt=day)
        any_period = Q(stat_membership_max_end__isnull=False)
        conditions = {
            "a_jour": covering & lasting,
            "a_renouveler": covering & ~lasting,
            "a_venir": ~covering & upcoming,
            "expire": ~covering & ~upcoming & past,
            "jamais": ~any_period,
        }
        statuses = set(node["value"] if isinstance(node["value"], list) else [node["value"]])
        q = Q(pk__in=[])
        if {"a_jour", "a_renouveler"} <= statuses:  # together: covered, whatever the end
            q, statuses = covering, statuses - {"a_jour", "a_renouveler"}
        for status in sorted(statuses):
            q |= conditions[status]
        return ~q if node["op"] == "not_in" else q

    def describe(self, node, ctx):
        values = node["value"] if isinstance(node["value"], list) else [node["value"]]
        names = " ou ".join(MEMBERSHIP_STATUSES[v] for v in values)
        on = (node.get("where") or {}).get("on")
        when = f" ({dates.describe(on)})" if on else ""
        return f"adhésion {'' if node['op'] == 'in' else 'non '}{names}{when}"


class MembershipEndCriterion(RelatedAggregate):
    section = "Adhésions"
    date_column = "end_date"
    date_is_datetime = False
    right = ("view", "payments")

    def stat(self, node):
        return {"first": "stat_membership_min_end", "last": "stat_membership_max_end"}.get(
            self.measure
        )

    def rows(self, node, path, ctx):
        return MembershipPeriod.objects.for_org(ctx.organization).annotate(cid=F("contact_id"))


# Emailing --------------------------------------------------------------------------------------

EMAILING_TYPES = {
    "received": EMAILING_RECEIVED_TYPE,
    "opened": EMAILING_OPENED_TYPE,
    "clicked": EMAILING_CLICK_TYPE,
}


class EmailingCriterion(Criterion):
    key = "emailing"
    label = "Emailing"
    section = "Emailing"
    ops = {
        "received": "a reçu",
        "opened": "a ouvert",
        "clicked": "a cliqué dans",
        "not_received": "n'a pas reçu",
        "not_opened": "n'a pas ouvert",
        "not_clicked": "n'a pas cliqué dans",
    }
    value_kind = "emailings"
    where_keys = ("period",)
    right = ("view", "interactions")

    def check(self, node, path, ctx):
        super().check(node, path, ctx)
        if node.get("value") not in (None, [], ""):
            _ids(node, path, InteractionLabel, ctx)
        if "period" in (node.get("where") or {}):
            _span(node["where"]["period"], f"{path}.where.period", ctx)

    def compile(self, node, path, ctx):
        op = node["op"]
        action = op.removeprefix("not_")
        # The type's id read first (one tiny query): the database then sees a plain
        # (type, libellé) range of the interaction index, not a join it may misjudge.
        type_ids = list(
            InteractionType.objects.for_org(ctx.organization)
            .filter(name=EMAILING_TYPES[action])
            .values_list("pk", flat=True)
        )
        rows = Interaction.objects.for_org(ctx.organization).filter(type_id__in=type_ids)
        if node.get("value"):
            rows = rows.filter(label_id__in=node["value"])
        where = node.get("where") or {}
        if "period" in where:
            rows = rows.filter(
                date_q("occurred_at", "in", _span(where["period"], path, ctx), is_datetime=True)
            )
        q = Q(pk__in=rows.values("contact_id").order_by())
        return ~q if op.startswith("not_") else q

    def describe(self, node, ctx):
        what = (
            "l'emailing "
            + ", ".join(f"« {n} »" for n in ctx.names(InteractionLabel, node["value"]))
            if node.get("value")
            else "un emailing"
        )
        period = (node.get("where") or {}).get("period")
        return f"{self.ops[node['op']]} {what}" + (f" ({dates.describe(period)})" if period else "")


# Structures of a contact, segments -------------------------------------------------------------


class StructuresCriterion(Criterion):
    key = "structures"
    label = "Structures"
    section = "Structures"
    ops = {
        "linked": "est rattaché à une structure",
        "not_linked": "n'est rattaché à aucune structure",
    }
    value_kind = "structure_tree"
    where_keys = ("role", "main")
    right = ("view", "structures")

    def check(self, node, path, ctx):
        super().check(node, path, ctx)
        where = node.get("where") or {}
        if "role" in where and (not isinstance(where["role"], str) or len(where["role"]) > 150):
            raise TreeError(f"{path}.where.role", "Un texte est attendu.")
        if "main" in where and not isinstance(where["main"], bool):
            raise TreeError(f"{path}.where.main", "true ou false est attendu.")
        if node.get("value") is not None:
            from lien.search.tree import check_tree

            check_tree(node["value"], STRUCTURES, ctx, path=f"{path}.value")

    def compile(self, node, path, ctx):
        from lien.search.tree import compile_tree

        links = ContactStructureLink.objects.for_org(ctx.organization)
        where = node.get("where") or {}
        if where.get("role"):
            links = links.filter(role__icontains=where["role"].strip())
        if "main" in where:
            links = links.filter(is_main=where["main"])
        if node.get("value") is not None:
            structures = (
                Structure.objects.for_org(ctx.organization)
                .filter(is_deleted=False)
                .filter(compile_tree(node["value"], STRUCTURES, ctx, path=f"{path}.value"))
            )
            links = links.filter(structure_id__in=structures.values("pk"))
        q = Q(pk__in=links.values("contact_id").order_by())
        return ~q if node["op"] == "not_linked" else q

    def describe(self, node, ctx):
        from lien.search.tree import describe_tree

        where = node.get("where") or {}
        text = self.ops[node["op"]]
        if node.get("value") is not None:
            text += f" (structures : {describe_tree(node['value'], STRUCTURES, ctx)})"
        if where.get("role"):
            text += f", fonction « {where['role']} »"
        if where.get("main"):
            text += ", structure principale"
        return text


class SegmentCriterion(Criterion):
    key = "segment"
    label = "Segment"
    section = "Segments"
    ops = {"in": "fait partie du segment", "not_in": "ne fait pas partie du segment"}
    value_kind = "segment"
    right = ("view", "segments")
    MAX_DEPTH = 5

    def _segment(self, node, path, ctx):
        from lien.search.models import Segment

        value = node.get("value")
        if not isinstance(value, int) or isinstance(value, bool):
            raise TreeError(f"{path}.value", "L'identifiant d'un segment est attendu.")
        segment = Segment.objects.for_org(ctx.organization).filter(pk=value).first()
        if segment is None:
            raise TreeError(
                f"{path}.value", f"Segment introuvable dans votre association : {value}."
            )
        if value in ctx.segments_seen or ctx.depth >= self.MAX_DEPTH:
            raise TreeError(f"{path}.value", "Un segment ne peut pas se contenir lui-même.")
        return segment

    def _inner(self, ctx, segment) -> SearchContext:
        return SearchContext(
            organization=ctx.organization, membership=ctx.membership, today=ctx.today,
            depth=ctx.depth + 1, segments_seen=(*ctx.segments_seen, segment.pk),
            _custom=ctx._custom,
        )  # fmt: skip

    def check(self, node, path, ctx):
        from lien.search.tree import check_tree

        super().check(node, path, ctx)
        segment = self._segment(node, path, ctx)
        check_tree(segment.tree, CONTACTS, self._inner(ctx, segment), path=f"{path}.value")

    def compile(self, node, path, ctx):
        from lien.search.tree import compile_tree

        segment = self._segment(node, path, ctx)
        q = compile_tree(segment.tree, CONTACTS, self._inner(ctx, segment), path=f"{path}.value")
        members = Contact.objects.for_org(ctx.organization).filter(q).values("pk")
        return ~Q(pk__in=members) if node["op"] == "not_in" else Q(pk__in=members)

    def describe(self, node, ctx):
        from lien.search.models import Segment

        segment = Segment.objects.for_org(ctx.organization).filter(pk=node.get("value")).first()
        name = f"« {segment.name} »" if segment else f"n°{node.get('value')}"
        return f"{self.ops[node['op']]} {name}"


# Criteria of the interaction and payment tables -----------------------------------------------


class IdsCriterion(Criterion):
    """A foreign key of the row is one of the chosen rows (types, campaigns…)."""

    ops = {"in": "est parmi", "not_in": "n'est pas parmi", "is_empty": "n'est pas renseigné"}
    value_kind = "ids"

    def __init__(self, key: str, label: str, column: str, model, *, section: str = "Fiche"):
        self.key, self.label, self.column, self.model, self.section = (
            key,
            label,
            column,
            model,
            section,
        )

    def check(self, node, path, ctx):
        super().check(node, path, ctx)
        if node["op"] != "is_empty":
            _ids(node, path, self.model, ctx)

    def compile(self, node, path, ctx):
        if node["op"] == "is_empty":
            return Q(**{f"{self.column}__isnull": True})
        q = Q(**{f"{self.column}__in": node["value"]})
        return ~q if node["op"] == "not_in" else q

    def describe(self, node, ctx):
        if node["op"] == "is_empty":
            return f"{self.label} {self.ops['is_empty']}"
        names = ", ".join(f"« {n} »" for n in ctx.names(self.model, node["value"]))
        return f"{self.label} {self.ops[node['op']]} {names}"

    def spec(self):
        return {**super().spec(), "model": self.model._meta.model_name}


class ImportCriterion(IdsCriterion):
    """Contacts an import created or updated (« importés par l'import n°12 »), from the
    import's own record of each row."""

    ops = {"in": "créé ou mis à jour par l'import", "not_in": "ni créé ni mis à jour par l'import"}

    def __init__(self):
        super().__init__("import", "Import", "pk", Import, section="Fiche")

    def compile(self, node, path, ctx):
        rows = ImportRow.objects.for_org(ctx.organization).filter(
            import_run_id__in=node["value"],
            is_check=False,
            object_type=ContentType.objects.get_for_model(Contact),
            outcome__in=[RowOutcome.CREATED, RowOutcome.UPDATED],
        )
        q = Q(pk__in=rows.values("object_id").order_by())
        return ~q if node["op"] == "not_in" else q

    def describe(self, node, ctx):
        return f"{self.ops[node['op']]} " + ", ".join(f"n°{pk}" for pk in node["value"])


class AmountCriterion(Criterion):
    """An amount column (cents) compared with euros."""

    ops = NUMBER_OPS
    value_kind = "amount"

    def __init__(self, key: str, label: str, column: str, *, section: str = "Fiche"):
        self.key, self.label, self.column, self.section = key, label, column, section

    def check(self, node, path, ctx):
        super().check(node, path, ctx)
        _amount_cents(node, path)

    def compile(self, node, path, ctx):
        return _number_q(self.column, node["op"], _amount_cents(node, path))

    def describe(self, node, ctx):
        return f"{self.label} {NUMBER_OPS[node['op']]} {node.get('value')} €"


class PersonTreeCriterion(Criterion):
    """The contact a row belongs to (payer, beneficiary, the interaction's contact) matches a
    contact sub-tree: « paiements des contacts du segment X »."""

    ops = {"matches": "correspond à", "not_matches": "ne correspond pas à"}
    value_kind = "contact_tree"

    def __init__(self, key: str, label: str, column: str, *, section: str = "Contact"):
        self.key, self.label, self.column, self.section = key, label, column, section

    def check(self, node, path, ctx):
        from lien.search.tree import check_tree

        super().check(node, path, ctx)
        if not isinstance(node.get("value"), dict):
            raise TreeError(f"{path}.value", "Un arbre de conditions sur les contacts est attendu.")
        check_tree(node["value"], CONTACTS, ctx, path=f"{path}.value")

    def compile(self, node, path, ctx):
        from lien.search.tree import compile_tree

        people = CONTACTS.rows(ctx).filter(
            compile_tree(node["value"], CONTACTS, ctx, path=f"{path}.value")
        )
        q = Q(**{f"{self.column}__in": people.values("pk")})
        if node["op"] == "not_matches":
            return ~q | Q(**{f"{self.column}__isnull": True})
        return q

    def describe(self, node, ctx):
        from lien.search.tree import describe_tree

        inner = describe_tree(node["value"], CONTACTS, ctx)
        if len(node["value"].get("children") or []) > 1:  # « … : (A ET B) ET C », not ambiguous
            inner = f"({inner})"
        return f"{self.label} {self.ops[node['op']]} : {inner}"


# Registries ------------------------------------------------------------------------------------


@dataclass
class Registry:
    """The criteria of one table: fixed ones, plus its custom fields (per organisation)."""

    name: str
    model: type
    fixed: list[Criterion]
    custom_target: str = ""
    right: tuple[str, str] = ("view", "contacts")  # to search this table at all
    trashable: bool = True  # rows in the trash are never found

    def rows(self, ctx: SearchContext) -> QuerySet:
        rows = self.model.objects.for_org(ctx.organization)
        return rows.filter(is_deleted=False) if self.trashable else rows

    def all(self, ctx: SearchContext) -> dict[str, Criterion]:
        criteria = {c.key: c for c in self.fixed if ctx.may(c.right)}
        if self.custom_target:
            for definition in ctx.custom_fields(self.custom_target).values():
                criterion = CustomFieldCriterion(definition)
                criteria[criterion.key] = criterion
        return criteria

    def get(self, key: str, ctx: SearchContext) -> Criterion | None:
        if key.startswith("custom.") and self.custom_target:
            definition = ctx.custom_fields(self.custom_target).get(key.removeprefix("custom."))
            return CustomFieldCriterion(definition) if definition else None
        for criterion in self.fixed:
            if criterion.key == key:
                return criterion if ctx.may(criterion.right) else None
        return None


def _email_normalizer(value: str) -> str:
    return normalize_email(value)


CONTACTS = Registry(
    "contacts",
    Contact,
    [
        ChoiceCriterion("civility", "Civilité", "civility", list(Contact.Civility.choices)),
        TextCriterion("first_name", "Prénom", "first_name", normalized="first_name_normalized"),
        TextCriterion("last_name", "Nom", "last_name", normalized="last_name_normalized"),
        TextCriterion(
            "email", "Email", "email", normalized="email_normalized", normalizer=_email_normalizer
        ),
        TextCriterion("mobile", "Téléphone portable", "mobile"),
        TextCriterion("phone", "Téléphone fixe", "phone"),
        TextCriterion("street", "Adresse", "street"),
        TextCriterion("postal_code", "Code postal", "postal_code"),
        TextCriterion("city", "Ville", "city"),
        TextCriterion("country", "Pays", "country"),
        TextCriterion("notes", "Notes", "notes"),
        DateCriterion("birth_date", "Date de naissance", "birth_date"),
        BooleanCriterion(
            "email_consent", "Accepte les emails", "email_consent", section="Consentement"
        ),
        DateCriterion(
            "email_consent_date",
            "Date du consentement",
            "email_consent_date",
            is_datetime=True,
            section="Consentement",
        ),  # fmt: skip
        DateCriterion("created_at", "Créé le", "created_at", is_datetime=True, nullable=False),
        DateCriterion("updated_at", "Modifié le", "updated_at", is_datetime=True, nullable=False),
        HouseholdCriterion(),
        LabelsCriterion("labels", ContactLabel, "contact_id"),
        GroupsCriterion("groups", "contact_id"),
        StructuresCriterion(),
        InteractionAggregate("interactions.count", "Nombre d'interactions", "count"),
        InteractionAggregate("interactions.first", "Première interaction", "first"),
        InteractionAggregate("interactions.last", "Dernière interaction", "last"),
        InteractionAggregate("interactions.gap", "Temps moyen entre deux interactions", "gap"),
        EmailingCriterion(),
        PaymentAggregate("payments.total", "Montant total des paiements", "sum"),
        PaymentAggregate("payments.count", "Nombre de paiements", "count"),
        PaymentAggregate("payments.first", "Premier paiement", "first"),
        PaymentAggregate("payments.last", "Dernier paiement", "last"),
        PaymentAggregate("payments.max", "Plus gros paiement", "max"),
        MembershipStatusCriterion(),
        MembershipEndCriterion("membership.end", "Fin de la dernière adhésion", "last"),
        SegmentCriterion(),
        ImportCriterion(),
    ],
    custom_target=CustomField.Target.CONTACT,
)

STRUCTURES = Registry(
    "structures",
    Structure,
    [
        TextCriterion("name", "Nom", "name", normalized="name_normalized"),
        ChoiceCriterion("kind", "Type de structure", "kind", list(Structure.Kind.choices)),
        TextCriterion("email", "Email", "email"),
        TextCriterion("postal_code", "Code postal", "postal_code"),
        TextCriterion("city", "Ville", "city"),
        TextCriterion("siren", "SIREN", "siren"),
        DateCriterion("created_at", "Créée le", "created_at", is_datetime=True, nullable=False),
        LabelsCriterion("labels", StructureLabel, "structure_id"),
        GroupsCriterion("groups", "structure_id"),
    ],
    custom_target=CustomField.Target.STRUCTURE,
    right=("view", "structures"),
)

INTERACTIONS = Registry(
    "interactions",
    Interaction,
    [
        DateCriterion("occurred_at", "Date", "occurred_at", is_datetime=True, nullable=False),
        IdsCriterion("type", "Type", "type_id", InteractionType),
        IdsCriterion("category", "Catégorie", "category_id", InteractionCategory),
        IdsCriterion("label", "Libellé", "label_id", InteractionLabel),
        ChoiceCriterion("status", "Statut", "status", list(InteractionStatus.choices)),
        ChoiceCriterion("source", "Origine", "source", list(Interaction.Source.choices)),
        TextCriterion("description", "Description", "description"),
        IdsCriterion("structure", "Structure", "structure_id", Structure),
        PersonTreeCriterion("contact", "Contact", "contact_id"),
    ],
    right=("view", "interactions"),
    trashable=False,
)

PAYMENTS = Registry(
    "payments",
    Payment,
    [
        DateCriterion("paid_on", "Date", "paid_on", nullable=False),
        ChoiceCriterion("kind", "Type de paiement", "kind", list(PaymentKind.choices)),
        AmountCriterion("amount", "Montant", "amount_cents"),
        ChoiceCriterion("status", "Statut", "status", list(Payment.Status.choices)),
        ChoiceCriterion("method", "Moyen de paiement", "method", list(Payment.Method.choices)),
        IdsCriterion("campaign", "Campagne", "campaign_id", Campaign),
        BooleanCriterion("is_recurring", "Récurrent", "is_recurring"),
        LabelsCriterion("labels", PaymentLabel, "payment_id"),
        PersonTreeCriterion("payer", "Payeur", "payer_contact_id"),
        PersonTreeCriterion("beneficiary", "Bénéficiaire", "beneficiary_id"),
        IdsCriterion("payer_structure", "Structure payeuse", "payer_structure_id", Structure),
    ],
    custom_target=CustomField.Target.PAYMENT,
    right=("view", "payments"),
    trashable=False,
)

REGISTRIES = {
    "contacts": CONTACTS,
    "structures": STRUCTURES,
    "interactions": INTERACTIONS,
    "payments": PAYMENTS,
}
