"""The builder's form layer: a filter tree as form widgets, and posted widgets back as a tree.

The page keeps the whole tree as JSON in one hidden field (`arbre`); each group and
condition posts its widgets under names `@<path>:<part>`, the path being the one a
TreeError names ("children[1].value.children[0]"). The server reads the hidden tree,
lays the posted widgets over its nodes, applies the clicked action and renders the
builder again: the server is the source of truth, the page holds no logic.

A condition whose widgets post back exactly what they were given keeps its JSON as it
was: a tree opens in the builder and saves back unchanged, whatever shape its values
take (a date as "2026-01-31" or {"type": "date", …}, a choice as a string or a list).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from lien.contacts.models import Group, Household, Label, Structure
from lien.imports.models import Import
from lien.interactions.models import (
    InteractionCategory,
    InteractionLabel,
    InteractionStatus,
    InteractionType,
)
from lien.payments.models import Campaign, Payment, PaymentKind
from lien.search.criteria import (
    CONTACTS,
    NO_VALUE_OPS,
    STRUCTURES,
    Criterion,
    IdsCriterion,
    PaymentAggregate,
    Registry,
    SearchContext,
    TreeError,
)
from lien.search.dates import CALENDAR_UNITS
from lien.search.models import Segment
from lien.search.tree import GROUPS, MAX_NODES

MAX_JSON = 100_000  # characters of a posted tree; far beyond MAX_NODES conditions
EMPTY = {"group": "all", "children": []}
TREE_KINDS = {"structure_tree": STRUCTURES, "contact_tree": CONTACTS}
MANY_CHOICES = 12  # beyond this many, a choice list gets a filter box
ROW_LIMIT = 500  # rows offered in one choice list (structures, households)

GROUP_KINDS = [
    ("all", "toutes ces conditions"),
    ("any", "au moins une de ces conditions"),
    ("none", "aucune de ces conditions"),
]
JOINERS = {"all": "et", "any": "ou", "none": "ni"}
DATE_TYPES = [
    ("last", "les N derniers…"),
    ("ago", "il y a N…"),
    ("next", "les N prochains…"),
    ("date", "une date précise"),
    ("between", "entre deux dates"),
    ("this:month", "ce mois-ci"),
    ("previous:month", "le mois dernier"),
    ("this:year", "cette année"),
    ("previous:year", "l'année dernière"),
    ("this:week", "cette semaine"),
    ("previous:week", "la semaine dernière"),
    ("following:month", "le mois prochain"),
    ("following:year", "l'année prochaine"),
    ("year", "une année"),
    ("today", "aujourd'hui"),
]
UNITS = [("days", "jours"), ("weeks", "semaines"), ("months", "mois"), ("years", "années")]
BOOLS = [("true", "oui"), ("false", "non")]
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")


# Reading the hidden tree --------------------------------------------------------------------


def load_tree(raw: Any) -> tuple[dict, str]:
    """The tree a page or a link carries, and a French problem when it cannot be read.

    A tree whose top is a single condition is shown inside an « all » group (the
    builder always starts with a group); it means the same."""
    if raw in (None, ""):
        return copy.deepcopy(EMPTY), ""
    if isinstance(raw, str):
        if len(raw) > MAX_JSON:
            return copy.deepcopy(EMPTY), "La définition de la recherche est trop longue."
        try:
            raw = json.loads(raw)
        except ValueError:
            return copy.deepcopy(EMPTY), "La définition de la recherche est illisible."
    if not isinstance(raw, dict):
        return copy.deepcopy(EMPTY), "La définition de la recherche est illisible."
    if "group" not in raw:
        return {"group": "all", "children": [raw]}, ""
    return raw, ""


def dump_tree(tree: dict) -> str:
    return json.dumps(tree, ensure_ascii=False, separators=(",", ":"))


def search_url(tree: dict, table: str = "contacts") -> str:
    """The advanced search page opened on a tree (a link, a way back after a bulk action)."""
    query = urlencode({"table": table, "arbre": dump_tree(tree)})
    return f"{reverse('search_builder')}?{query}"


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


def _is_group(node: Any) -> bool:
    return isinstance(node, dict) and "group" in node


def posted_widgets(data: QueryDict) -> dict[str, dict[str, list[str]]]:
    """`@path:part` fields of a post, by node path then part."""
    found: dict[str, dict[str, list[str]]] = {}
    for key in data:
        if key.startswith("@") and ":" in key:
            path, part = key[1:].split(":", 1)
            found.setdefault(path, {})[part] = data.getlist(key)
    return found


# Widgets ----------------------------------------------------------------------------------


@dataclass
class Widget:
    """One input of a node: what it shows, and so what it posts back unchanged."""

    part: str
    kind: str  # select | text | number | date | checks | check
    values: list[str]
    label: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    optgroups: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    rerender: bool = False  # a change redraws the builder; otherwise only the count follows
    suffix: str = ""
    step: str = ""
    placeholder: str = ""
    hint: str = ""

    def posted(self) -> list[str]:
        if self.kind in ("checks", "check"):
            return list(self.values)
        return [self.values[0] if self.values else ""]

    @property
    def value(self) -> str:
        return self.values[0] if self.values else ""

    @property
    def filterable(self) -> bool:
        return self.kind == "checks" and len(self.options) > MANY_CHOICES

    @property
    def input_type(self) -> str:
        """A date input shows only ISO days; another spelling stays visible as text."""
        if self.kind == "date":
            return "date" if not self.value or ISO_DAY.match(self.value) else "text"
        return "text"


@dataclass
class Row:
    """Widgets shown together, with a label (« Période », « Types »…)."""

    label: str
    widgets: list[Widget]
    key: str = ""


class Choices:
    """The organisation's rows offered by the builder, read once per request when needed."""

    def __init__(self, ctx: SearchContext, exclude_segment: int | None = None):
        self.ctx = ctx
        self.exclude_segment = exclude_segment

    def _rows(self, model, order=("name",), limit: int | None = None) -> list[tuple[str, str]]:
        rows = model.objects.for_org(self.ctx.organization)
        if hasattr(model, "is_deleted"):
            rows = rows.filter(is_deleted=False)
        rows = rows.order_by(*order, "pk").values_list("pk", "name")
        if limit:
            rows = rows[:limit]
        return [(str(pk), name) for pk, name in rows]

    @cached_property
    def labels(self):
        return self._rows(Label)

    @cached_property
    def groups(self):
        return self._rows(Group)

    @cached_property
    def households(self):
        return self._rows(Household, limit=ROW_LIMIT)

    @cached_property
    def structures(self):
        return self._rows(Structure, order=("name_normalized",), limit=ROW_LIMIT)

    @cached_property
    def interaction_types(self):
        return self._rows(InteractionType, order=("position", "name"))

    @cached_property
    def interaction_categories(self):
        return self._rows(InteractionCategory)

    @cached_property
    def interaction_labels(self):
        return self._rows(InteractionLabel)

    @cached_property
    def campaigns(self):
        return self._rows(Campaign)

    @cached_property
    def segments(self):
        rows = Segment.objects.for_org(self.ctx.organization).order_by("name", "pk")
        if self.exclude_segment:
            rows = rows.exclude(pk=self.exclude_segment)
        return [(str(pk), name) for pk, name in rows.values_list("pk", "name")]

    @cached_property
    def imports(self):
        """The latest contact imports that wrote something, newest first."""
        rows = (
            Import.objects.for_org(self.ctx.organization)
            .filter(target="contacts", status__in=["done", "interrupted"])
            .order_by("-pk")
            .values_list("pk", "original_name", "created_at")[:ROW_LIMIT]
        )
        return [
            (str(pk), f"n°{pk} — {name} ({timezone.localtime(when):%d/%m/%Y})")
            for pk, name, when in rows
        ]

    def of_model(self, model) -> list[tuple[str, str]]:
        return {
            Import: lambda: self.imports,
            InteractionType: lambda: self.interaction_types,
            InteractionCategory: lambda: self.interaction_categories,
            InteractionLabel: lambda: self.interaction_labels,
            Structure: lambda: self.structures,
            Campaign: lambda: self.campaigns,
            Label: lambda: self.labels,
            Group: lambda: self.groups,
            Household: lambda: self.households,
        }[model]()


def _texts(value: Any) -> list[str]:
    """A list value as the strings its checkboxes post (a lone value as one)."""
    if value is None or value == "" or value == []:
        return []
    items = value if isinstance(value, list) else [value]
    return [_text(item) for item in items]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _with_unknown(options: list[tuple[str, str]], chosen: list[str]) -> list[tuple[str, str]]:
    """Chosen values missing from the options stay shown (and posted), marked unknown."""
    known = {value for value, _label in options}
    extra = [(v, f"« {v} » (introuvable)" if v else "—") for v in chosen if v not in known]
    return options + extra


def checks(part: str, label: str, options, value: Any, hint: str = "") -> Widget:
    chosen = _texts(value)
    return Widget(part, "checks", chosen, label, _with_unknown(list(options), chosen), hint=hint)


def select(part: str, label: str, options, value: str, *, rerender: bool = False) -> Widget:
    options = _with_unknown(list(options), [value])
    return Widget(part, "select", [value], label, options, rerender=rerender)


def date_widgets(part: str, value: Any, *, optional: str = "") -> list[Widget]:
    """The widgets of a date value: its kind, then the inputs that kind needs. `optional`
    names the « no date » choice (a restriction left out)."""
    types = ([("", optional)] if optional else []) + DATE_TYPES
    kind, inputs = "", []
    if value is None and optional:
        kind = ""
    elif value is None or value == "":
        kind, inputs = "date", [Widget(f"{part}.date", "date", [""], "Date")]
    elif isinstance(value, str):
        kind, inputs = "date", [Widget(f"{part}.date", "date", [value], "Date")]
    elif isinstance(value, dict):
        t = value.get("type")
        if t == "date":
            day = _text(value.get("date"))
            kind, inputs = "date", [Widget(f"{part}.date", "date", [day], "Date")]
        elif t == "between":
            kind = "between"
            inputs = [
                Widget(f"{part}.from", "date", [_text(value.get("from"))], "Du"),
                Widget(f"{part}.to", "date", [_text(value.get("to"))], "au"),
            ]
        elif t in ("last", "next", "ago"):
            kind = t
            unit = _text(value.get("unit"))
            inputs = [
                Widget(f"{part}.n", "number", [_text(value.get("n"))], "Nombre", step="1"),
                select(f"{part}.unit", "Unité", UNITS, unit),
            ]
        elif t in ("this", "previous", "following") and value.get("unit") in CALENDAR_UNITS:
            kind = f"{t}:{value['unit']}"
        elif t == "year":
            kind = "year"
            year = _text(value.get("year"))
            inputs = [Widget(f"{part}.year", "number", [year], "Année", step="1")]
        elif t == "today":
            kind = "today"
    if kind == "" and not optional:
        types = [("", "(valeur non reconnue)"), *types]
    return [select(f"{part}.type", "Période", types, kind, rerender=True), *inputs]


def read_date(fields: dict[str, list[str]], part: str, *, optional: bool = False) -> Any:
    """A date value from its widgets; None when « no date » is chosen (optional ones)."""

    def one(name: str) -> str | None:
        values = fields.get(f"{part}.{name}")
        return values[0].strip() if values else None

    kind = one("type") or ""
    if kind == "":
        return None
    if kind == "date":
        return one("date") or ""
    if kind == "between":
        value: dict[str, Any] = {"type": "between"}
        for end in ("from", "to"):
            if one(end):
                value[end] = one(end)
        return value
    if kind in ("last", "next", "ago"):
        n = one("n")
        return {
            "type": kind,
            "n": 3 if n is None else _integer(n),
            "unit": one("unit") or "months",
        }
    if ":" in kind:
        relative, unit = kind.split(":", 1)
        return {"type": relative, "unit": unit}
    if kind == "year":
        year = one("year")
        return {"type": "year", "year": _integer(year) if year else ""}
    return {"type": kind}


def _integer(text: str) -> Any:
    """Digits as an int; anything else kept as typed, for the engine to say what is wrong."""
    text = text.strip()
    return int(text) if re.fullmatch(r"-?\d{1,12}", text) else text


def _number(text: str) -> Any:
    """« 12,5 » → 12.5, « 4 » → 4; anything else kept as typed (the engine says why)."""
    text = text.strip().replace("\u202f", "").replace(" ", "")
    if not NUMBER.match(text):
        return text
    text = text.replace(",", ".")
    return int(text) if "." not in text else float(text)


# Conditions -------------------------------------------------------------------------------


def takes_value(criterion: Criterion, op: Any) -> bool:
    return op not in NO_VALUE_OPS and criterion.value_kind not in TREE_KINDS


def value_widgets(criterion: Criterion, node: dict, choices: Choices) -> list[Widget]:
    kind = criterion.value_kind
    value = node.get("value")
    if kind == "text":
        return [Widget("value", "text", [_text(value)], "Valeur", placeholder="texte")]
    if kind in ("number", "amount", "days"):
        suffix = {"amount": "€", "days": "jours"}.get(kind, "")
        step = "1" if kind in ("days",) else "any"
        return [Widget("value", "number", [_text(value)], "Valeur", suffix=suffix, step=step)]
    if kind == "bool":
        options = BOOLS if isinstance(value, bool) else [("", "—"), *BOOLS]
        return [select("value", "Valeur", options, _text(value) if value is not None else "")]
    if kind == "choices":
        spec = criterion.spec().get("choices") or {}
        return [checks("value", "Valeurs", [(str(k), str(v)) for k, v in spec.items()], value)]
    if kind == "labels":
        return [checks("value", "Étiquettes", choices.labels, value)]
    if kind == "groups":
        return [checks("value", "Groupes", choices.groups, value)]
    if kind == "households":
        return [checks("value", "Foyers", choices.households, value)]
    if kind == "ids" and isinstance(criterion, IdsCriterion):
        return [checks("value", criterion.label, choices.of_model(criterion.model), value)]
    if kind == "emailings":
        hint = "Aucun coché : n'importe quel emailing."
        return [checks("value", "Emailings", choices.interaction_labels, value, hint=hint)]
    if kind == "segment":
        options = [("", "Choisir un segment…"), *choices.segments]
        return [select("value", "Segment", options, _text(value))]
    if kind == "date":
        return date_widgets("value", value)
    return []


def read_value(criterion: Criterion, fields: dict[str, list[str]]) -> Any:
    """The value the widgets say; None when nothing is given (the key is left out)."""
    kind = criterion.value_kind
    first = (fields.get("value") or [""])[0]
    if kind == "text":
        return first if first.strip() else None
    if kind in ("number", "amount", "days"):
        return _number(first) if first.strip() else None
    if kind == "bool":
        return {"true": True, "false": False}.get(first)
    if kind == "choices":
        return fields.get("value") or None
    if kind in ("labels", "groups", "households", "ids", "emailings"):
        return [_integer(v) for v in fields.get("value", [])] or None
    if kind == "segment":
        return _integer(first) if first else None
    if kind == "date":
        return read_date(fields, "value")
    return None


def where_rows(criterion: Criterion, where: dict, choices: Choices) -> list[Row]:
    """The « préciser » block of an aggregate: one row per restriction it accepts."""
    rows = []
    for key in criterion.where_keys:
        value, part = where.get(key), f"where.{key}"
        if key == "types":
            widgets = [checks(part, "Types", choices.interaction_types, value)]
            label = "Types"
        elif key == "categories":
            widgets = [checks(part, "Catégories", choices.interaction_categories, value)]
            label = "Catégories"
        elif key == "labels":
            widgets = [checks(part, "Libellés", choices.interaction_labels, value)]
            label = "Libellés"
        elif key == "status":
            widgets = [checks(part, "Statut", InteractionStatus.choices, value)]
            label = "Statut"
        elif key == "kinds":
            widgets = [checks(part, "Types de paiement", PaymentKind.choices, value)]
            label = "Types de paiement"
        elif key == "campaigns":
            widgets = [checks(part, "Campagnes", choices.campaigns, value)]
            label = "Campagnes"
        elif key == "statuses":
            hint = "Aucun coché : les paiements payés."
            widgets = [checks(part, "Statuts", Payment.Status.choices, value, hint=hint)]
            label = "Statuts"
        elif key == "methods":
            widgets = [checks(part, "Moyens de paiement", Payment.Method.choices, value)]
            label = "Moyens de paiement"
        elif key == "period":
            widgets = date_widgets(part, value, optional="toute période")
            label = "Période"
        elif key == "on":
            widgets = date_widgets(part, value, optional="aujourd'hui")
            label = "À la date"
        elif key == "role" and isinstance(criterion, PaymentAggregate):
            roles = [("payer", "payeur"), ("beneficiary", "bénéficiaire")]
            widgets = [select(part, "Rôle", roles, _text(value or "payer"))]
            label = "En tant que"
        elif key == "role":
            widgets = [Widget(part, "text", [_text(value)], "Fonction", placeholder="contient…")]
            label = "Fonction"
        elif key == "main":
            checked = ["1"] if value else []
            widgets = [Widget(part, "check", checked, "Structure principale seulement")]
            label = ""
        else:
            continue
        rows.append(Row(label, widgets, key))
    return rows


def read_where(criterion: Criterion, fields: dict[str, list[str]]) -> dict:
    where: dict[str, Any] = {}
    for key in criterion.where_keys:
        part = f"where.{key}"
        if key in ("types", "categories", "labels", "campaigns"):
            value = [_integer(v) for v in fields.get(part, [])] or None
        elif key in ("status", "kinds", "statuses", "methods"):
            value = fields.get(part) or None
        elif key in ("period", "on"):
            value = read_date(fields, part, optional=True)
        elif key == "role" and isinstance(criterion, PaymentAggregate):
            chosen = (fields.get(part) or [""])[0]
            value = chosen if chosen and chosen != "payer" else None
        elif key == "role":
            value = (fields.get(part) or [""])[0].strip() or None
        elif key == "main":
            value = True if fields.get(part) else None
        else:
            value = None
        if value is not None:
            where[key] = value
    return where


def field_widget(node: dict, offered: dict[str, Criterion]) -> Widget:
    key = node.get("field")
    current = key if isinstance(key, str) else _text(key)
    sections: dict[str, list[tuple[str, str]]] = {}
    for criterion in offered.values():
        sections.setdefault(criterion.section or "Autres", []).append(
            (criterion.key, criterion.label)
        )
    known = set(offered) | {""}
    widget = Widget("field", "select", [current], "Champ", rerender=True)
    widget.options = [("", "Choisir un champ…")]
    if current not in known:
        widget.options.append((current, f"« {current} » (non autorisé)"))
    widget.optgroups = list(sections.items())
    return widget


def op_widget(criterion: Criterion, node: dict) -> Widget:
    op = node.get("op")
    return select("op", "Opérateur", list(criterion.ops.items()), _text(op), rerender=True)


def default_value(criterion: Criterion) -> Any:
    """What a new condition starts with: a value that reads well, or None (to be typed)."""
    kind = criterion.value_kind
    if kind == "date":
        return {"type": "last", "n": 3, "unit": "months"}
    if kind == "bool":
        return True
    if kind == "contact_tree":
        return copy.deepcopy(EMPTY)
    return None


def default_leaf(key: str, registry: Registry, ctx: SearchContext) -> dict:
    """A condition on a newly chosen field: its first operator and a sensible value."""
    criterion = registry.get(key, ctx) if key else None
    if criterion is None:
        return {"field": key}
    node: dict[str, Any] = {"field": key, "op": next(iter(criterion.ops))}
    value = default_value(criterion)
    if value is not None and (takes_value(criterion, node["op"]) or kind_is_tree(criterion)):
        node["value"] = value
    return node


def kind_is_tree(criterion: Criterion) -> bool:
    return criterion.value_kind in TREE_KINDS


def _comparable(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """Posted fields compared as sets of values (checkboxes post in page order)."""
    return {k: sorted(v) for k, v in fields.items() if v}


def leaf_widgets(
    node: dict, criterion: Criterion | None, choices: Choices
) -> tuple[list[Widget], list[Row]]:
    """Every widget of a condition except the field: operator and value, and the
    « préciser » rows."""
    if criterion is None:
        return [], []
    widgets = [op_widget(criterion, node)]
    if takes_value(criterion, node.get("op")):
        widgets += value_widgets(criterion, node, choices)
    where = node.get("where") if isinstance(node.get("where"), dict) else {}
    return widgets, where_rows(criterion, where, choices)


def encode_leaf(node: dict, criterion: Criterion | None, choices: Choices, field_: Widget):
    widgets, rows = leaf_widgets(node, criterion, choices)
    encoded = {field_.part: field_.posted()}
    for widget in widgets + [w for row in rows for w in row.widgets]:
        encoded[widget.part] = widget.posted()
    return _comparable(encoded)


# Laying posted widgets over the tree ------------------------------------------------------


@dataclass
class Builder:
    """Reads and renders one tree for one member (their criteria, their organisation)."""

    registry: Registry
    ctx: SearchContext
    choices: Choices
    _offered: dict[str, dict[str, Criterion]] = field(default_factory=dict)

    def offered(self, registry: Registry) -> dict[str, Criterion]:
        """The criteria of a table this member may use, in the registry's order."""
        if registry.name not in self._offered:
            self._offered[registry.name] = registry.all(self.ctx)
        return self._offered[registry.name]

    def criterion(self, node: dict, registry: Registry) -> Criterion | None:
        key = node.get("field")
        return registry.get(key, self.ctx) if isinstance(key, str) and key else None

    # Reading -------------------------------------------------------------------------------

    def read(self, data: QueryDict) -> tuple[dict, str]:
        """The tree of a post: the hidden tree with every posted widget laid over it."""
        tree, problem = load_tree(data.get("arbre", ""))
        return self.overlay(tree, "", self.registry, posted_widgets(data)), problem

    def overlay(self, node: Any, path: str, registry: Registry, posted) -> Any:
        if _is_group(node):
            group = dict(node)
            kind = (posted.get(path, {}).get("group") or [None])[0]
            if kind is not None and kind != node.get("group"):
                group["group"] = kind
            if isinstance(node.get("children"), list):
                group["children"] = [
                    self.overlay(child, _join(path, f"children[{i}]"), registry, posted)
                    for i, child in enumerate(node["children"])
                ]
            return group
        if not isinstance(node, dict):
            return node
        fields = posted.get(path)
        criterion = self.criterion(node, registry)
        if fields and "field" in fields:
            chosen = fields["field"][0]
            if chosen != node.get("field"):
                return default_leaf(chosen, registry, self.ctx)
            field_ = field_widget(node, self.offered(registry))
            if criterion is not None and _comparable(fields) != encode_leaf(
                node, criterion, self.choices, field_
            ):
                node = self.decode(node, criterion, fields)
        if criterion is not None and criterion.value_kind in TREE_KINDS:
            inner = TREE_KINDS[criterion.value_kind]
            value_path = _join(path, "value")
            value = node.get("value")
            if value is None and posted.get(value_path, {}).get("group", ["all"])[0] != "all":
                value = {"group": posted[value_path]["group"][0], "children": []}
            elif isinstance(value, dict) and not _is_group(value):
                # A lone condition shown inside a group: back alone when left as it was.
                wrapped = {"group": "all", "children": [value]}
                laid = self.overlay(wrapped, value_path, inner, posted)
                value = value if laid == wrapped else laid
            elif value is not None:
                value = self.overlay(value, value_path, inner, posted)
            if value is not None or "value" in node:
                node = {**node, "value": value}
        return node

    def decode(self, node: dict, criterion: Criterion, fields: dict[str, list[str]]) -> dict:
        op = (fields.get("op") or [node.get("op")])[0]
        result: dict[str, Any] = {"field": node["field"], "op": op}
        if criterion.value_kind in TREE_KINDS:
            if "value" in node:
                result["value"] = node["value"]
        elif takes_value(criterion, op):
            if takes_value(criterion, node.get("op")) and "op" in fields:
                value = read_value(criterion, fields)
            else:  # the value widget was not on the page yet: start from a default
                value = default_value(criterion)
            if value is not None:
                result["value"] = value
        where = read_where(criterion, fields)
        if where:
            result["where"] = where
        return result

    # Actions -------------------------------------------------------------------------------

    def apply(self, tree: dict, action: str) -> dict:
        """« add:<path> », « group:<path> », « remove:<path> » on the group or condition
        at that path; anything else changes nothing."""
        verb, _sep, path = action.partition(":")
        if verb not in ("add", "group", "remove"):
            return tree
        tree = copy.deepcopy(tree)
        if verb == "remove":
            parent_path, index = _split_child(path)
            parent = _group_at(tree, parent_path)
            if parent is not None and index is not None and index < len(parent["children"]):
                del parent["children"][index]
            return tree
        target = _group_at(tree, path)
        if target is None or _count_nodes(tree) >= MAX_NODES:
            return tree
        if verb == "add":
            target["children"].append({"field": ""})
        else:
            target["children"].append({"group": "any", "children": [{"field": ""}]})
        return tree


def _group_at(tree: dict, path: str) -> dict | None:
    """The group at `path`; a condition's sub-tree is made a group first (none yet, or a
    lone condition)."""
    if path == "value" or path.endswith(".value"):
        leaf = _find(tree, path.removesuffix("value").removesuffix("."))
        if not isinstance(leaf, dict) or _is_group(leaf):
            return None
        value = leaf.get("value")
        if value is None:
            leaf["value"] = {"group": "all", "children": []}
        elif isinstance(value, dict) and "field" in value:
            leaf["value"] = {"group": "all", "children": [value]}
    node = _find(tree, path)
    if _is_group(node) and isinstance(node.get("children"), list):
        return node
    return None


def _split_child(path: str) -> tuple[str, int | None]:
    match = re.fullmatch(r"(?:(.*)\.)?children\[(\d+)\]", path)
    if not match:
        return path, None
    return match.group(1) or "", int(match.group(2))


def _find(tree: Any, path: str) -> Any:
    """The node at a builder path. A sub-tree that is a lone condition is shown inside a
    group, so « value.children[0] » also names that condition."""
    node, previous = tree, ""
    for step in [s for s in path.split(".") if s] if path else []:
        match = re.fullmatch(r"children\[(\d+)\]", step)
        if match and _is_group(node) and isinstance(node.get("children"), list):
            index = int(match.group(1))
            node = node["children"][index] if index < len(node["children"]) else None
        elif match and previous == "value" and step == "children[0]" and isinstance(node, dict):
            pass  # the lone condition itself
        elif step == "value" and isinstance(node, dict):
            node = node.get("value")
        else:
            return None
        previous = step
    return node


def _count_nodes(node: Any) -> int:
    if _is_group(node):
        return 1 + sum(_count_nodes(c) for c in node.get("children") or [])
    if isinstance(node, dict) and _is_group(node.get("value")):
        return 1 + _count_nodes(node["value"])
    return 1


# What the template shows ------------------------------------------------------------------


@dataclass
class NodeView:
    path: str
    is_group: bool
    depth: int
    error: str = ""
    # groups
    kind: str = ""
    kind_widget: Widget | None = None
    children: list[NodeView] = field(default_factory=list)
    joiner: str = ""
    is_root: bool = False
    nested: bool = False  # the sub-tree of a condition (its structures, its contact)
    # conditions
    field_widget: Widget | None = None
    widgets: list[Widget] = field(default_factory=list)
    where: list[Row] = field(default_factory=list)
    where_open: bool = False
    sub_tree: NodeView | None = None
    sub_title: str = ""
    empty_text: str = ""  # an empty sub-tree: what it means
    label: str = ""

    @property
    def dom_id(self) -> str:
        return "node-" + (re.sub(r"[^a-z0-9]+", "-", self.path).strip("-") or "root")


def tree_paths(tree: Any, registry: Registry, ctx: SearchContext) -> set[str]:
    """The paths of the nodes the builder shows for a tree (without building widgets)."""
    found: set[str] = set()

    def walk(node: Any, path: str, registry: Registry) -> None:
        found.add(path)
        if _is_group(node):
            children = node.get("children")
            for i, child in enumerate(children if isinstance(children, list) else []):
                walk(child, _join(path, f"children[{i}]"), registry)
            return
        key = node.get("field") if isinstance(node, dict) else None
        criterion = registry.get(key, ctx) if isinstance(key, str) and key else None
        if criterion is not None and criterion.value_kind in TREE_KINDS:
            value = node.get("value")
            inner = TREE_KINDS[criterion.value_kind]
            if _is_group(value):
                walk(value, _join(path, "value"), inner)
            else:
                found.add(_join(path, "value"))
                if isinstance(value, dict):
                    walk(value, _join(path, "value.children[0]"), inner)

    walk(tree, "", registry)
    return found


def node_paths(view: NodeView) -> set[str]:
    found = {view.path}
    for child in view.children:
        found |= node_paths(child)
    if view.sub_tree is not None:
        found |= node_paths(view.sub_tree)
    return found


def error_node(error: TreeError, paths: set[str]) -> str:
    """The node a TreeError points into: its path, shortened to the nearest node shown."""
    path = error.path
    while path not in paths and path:
        path = path.rpartition(".")[0]
    return path


def error_message(error: TreeError, tree: dict) -> str:
    """The engine's message, said for a condition whose field is not chosen yet."""
    if error.path.endswith("field") or error.path == "field":
        node = _find(tree, error.path.removesuffix("field").removesuffix("."))
        if isinstance(node, dict) and node.get("field") == "":
            return "Choisissez un champ."
    return error.message


def render_tree(builder: Builder, tree: dict, error: TreeError | None = None) -> NodeView:
    view = _view(builder, tree, "", builder.registry, 0, root=True)
    if error is not None:
        target = error_node(error, node_paths(view))
        _mark(view, target, error_message(error, tree))
    return view


def _mark(view: NodeView, path: str, message: str) -> None:
    if view.path == path:
        view.error = message
        return
    for child in view.children:
        _mark(child, path, message)
    if view.sub_tree is not None:
        _mark(view.sub_tree, path, message)


def _view(
    builder: Builder,
    node: Any,
    path: str,
    registry: Registry,
    depth: int,
    *,
    root: bool = False,
    nested: bool = False,
) -> NodeView:
    if _is_group(node):
        kind = node.get("group")
        kind_text = kind if isinstance(kind, str) else _text(kind)
        options = GROUP_KINDS if kind_text in GROUPS else [(kind_text, "(inconnu)"), *GROUP_KINDS]
        children = node.get("children") if isinstance(node.get("children"), list) else []
        return NodeView(
            path=path,
            is_group=True,
            depth=depth,
            kind=kind_text,
            kind_widget=select("group", "Type de groupe", options, kind_text, rerender=True),
            joiner=JOINERS.get(kind_text, "et"),
            is_root=root,
            nested=nested,
            children=[
                _view(builder, child, _join(path, f"children[{i}]"), registry, depth + 1)
                for i, child in enumerate(children)
            ],
        )
    if not isinstance(node, dict):
        node = {"field": _text(node)}
    criterion = builder.criterion(node, registry)
    field_ = field_widget(node, builder.offered(registry))
    widgets, rows = leaf_widgets(node, criterion, builder.choices)
    view = NodeView(
        path=path,
        is_group=False,
        depth=depth,
        field_widget=field_,
        widgets=widgets,
        where=rows,
        where_open=bool(node.get("where")),
        label=criterion.label if criterion else "",
    )
    if criterion is not None and criterion.value_kind in TREE_KINDS:
        inner = TREE_KINDS[criterion.value_kind]
        value = node.get("value")
        structures = inner is STRUCTURES
        view.sub_title = "une structure qui remplit" if structures else "un contact qui remplit"
        if not _is_group(value):
            value = {"group": "all", "children": [value] if isinstance(value, dict) else []}
        view.sub_tree = _view(builder, value, _join(path, "value"), inner, depth + 1, nested=True)
        view.sub_tree.empty_text = (
            "Aucune condition : n'importe quelle structure."
            if structures
            else "Aucune condition : n'importe quel contact."
        )
    return view
