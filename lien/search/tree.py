"""The filter tree: check it, compile it to one Q, say it in French, explain a match.

A tree is a group {"group": "all" | "any" | "none", "children": [node, …]} whose
children are groups or criteria {"field": …, "op": …, "value": …, "where": {…}}.
An empty group sets no condition. Errors point at the faulty node with a path
such as "children[1].children[0].value".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from lien.core.models import Membership, Organization
from lien.search.criteria import CONTACTS, REGISTRIES, Registry, SearchContext, TreeError

GROUPS = {
    "all": "toutes ces conditions",
    "any": "au moins une de ces conditions",
    "none": "aucune de ces conditions",
}
JOINERS = {"all": " ET ", "any": " OU ", "none": " OU "}
MAX_DEPTH = 10
MAX_NODES = 200
EMPTY_TREE = {"group": "all", "children": []}


def _where(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_group(node: Any) -> bool:
    return isinstance(node, dict) and "group" in node


def _finite(value: Any) -> bool:
    """NaN and infinities are not JSON: a tree holding one could be neither stored nor shown
    (Python's json reads them, even where the criterion ignores the value)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(item) for item in value.values())
    if isinstance(value, list):
        return all(_finite(item) for item in value)
    return True


def check_tree(tree: Any, registry: Registry, ctx: SearchContext, *, path: str = "") -> None:
    """Raise TreeError at the first faulty node; nothing is compiled."""
    count = [0]

    def visit(node: Any, where: str, depth: int) -> None:
        count[0] += 1
        if count[0] > MAX_NODES:
            raise TreeError(where, f"{MAX_NODES} conditions au plus.")
        if not isinstance(node, dict):
            raise TreeError(where, "Un groupe ou une condition (objet JSON) est attendu.")
        if _is_group(node):
            if not isinstance(node["group"], str) or node["group"] not in GROUPS:
                raise TreeError(_where(where, "group"), "Groupe attendu : all, any ou none.")
            children = node.get("children", [])
            if not isinstance(children, list):
                raise TreeError(_where(where, "children"), "Une liste est attendue.")
            if depth >= MAX_DEPTH:
                raise TreeError(where, f"{MAX_DEPTH} niveaux de groupes au plus.")
            extra = set(node) - {"group", "children"}
            if extra:
                raise TreeError(_where(where, sorted(extra)[0]), "Clé inconnue dans un groupe.")
            for index, child in enumerate(children):
                visit(child, _where(where, f"children[{index}]"), depth + 1)
            return
        key = node.get("field")
        if not isinstance(key, str):
            raise TreeError(where, "Une condition a un champ (« field ») ou un groupe (« group »).")
        extra = set(node) - {"field", "op", "value", "where"}
        if extra:
            raise TreeError(_where(where, sorted(extra)[0]), "Clé inconnue dans une condition.")
        for part in ("value", "where"):
            if not _finite(node.get(part)):
                raise TreeError(_where(where, part), "Nombre invalide (NaN ou infini).")
        criterion = registry.get(key, ctx)
        if criterion is None:
            raise TreeError(_where(where, "field"), f"Champ inconnu ou non autorisé : « {key} ».")
        criterion.check(node, where, ctx)

    visit(tree, path, 0)


def hidden_from(tree: Any, registry: Registry, ctx: SearchContext) -> bool:
    """True when the tree holds criteria this member may not see (payment data or sensitive
    fields hidden by their profile): the tree itself, with its amounts and choices, is then
    not shown to them either. A tree broken for everyone (a deleted label) is not hidden."""
    if ctx.membership is None:
        return False
    try:
        check_tree(tree, registry, ctx)
        return False
    except TreeError:
        pass
    unrestricted = dataclasses.replace(ctx, membership=None, _custom={})
    try:
        check_tree(tree, registry, unrestricted)
    except TreeError:
        return False
    return True


def compile_tree(tree: dict, registry: Registry, ctx: SearchContext, *, path: str = "") -> Q:
    """One Q for the whole tree (call check_tree first). An empty group sets no condition:
    it is left out of its parent, whatever the parent's kind."""
    return _compile(tree, registry, ctx, path) or Q()


def _compile(tree: dict, registry: Registry, ctx: SearchContext, path: str) -> Q | None:
    if _is_group(tree):
        children = [
            q
            for i, child in enumerate(tree.get("children", []))
            if (q := _compile(child, registry, ctx, _where(path, f"children[{i}]"))) is not None
        ]
        if not children:
            return None
        combined = children[0]
        for child in children[1:]:
            combined = combined & child if tree["group"] == "all" else combined | child
        return ~combined if tree["group"] == "none" else combined
    criterion = registry.get(tree["field"], ctx)
    if criterion is None:  # rights changed since the check
        raise TreeError(
            _where(path, "field"), f"Champ inconnu ou non autorisé : « {tree['field']} »."
        )
    return criterion.compile(tree, path, ctx)


def describe_tree(tree: dict, registry: Registry, ctx: SearchContext, *, top: bool = True) -> str:
    """The tree in French: « a l'étiquette « Donateur » ET aucun paiement depuis 3 mois »."""
    if _is_group(tree):
        children = tree.get("children", [])
        if not children:
            return "tous" if top else "(aucune condition)"
        parts = [describe_tree(child, registry, ctx, top=False) for child in children]
        parts = [f"({p})" if _is_group(c) and len(c.get("children", [])) > 1 else p
                 for p, c in zip(parts, children, strict=True)]  # fmt: skip
        text = JOINERS[tree["group"]].join(parts)
        if tree["group"] == "none":
            return f"aucune de ces conditions : {text}" if len(parts) > 1 else f"NON {text}"
        return text
    criterion = registry.get(tree["field"], ctx)
    if criterion is None:
        return f"« {tree['field']} » (champ non autorisé)"
    return criterion.describe(tree, ctx)


def leaves(tree: dict, path: str = "", negated: bool = False) -> list[tuple[str, dict, bool]]:
    """Every condition of the tree with its path and whether a « aucune » group negates it."""
    if _is_group(tree):
        inner = negated != (tree["group"] == "none")
        found: list[tuple[str, dict, bool]] = []
        for index, child in enumerate(tree.get("children", [])):
            found += leaves(child, _where(path, f"children[{index}]"), inner)
        return found
    return [(path, tree, negated)]


def context(
    organization: Organization, membership: Membership | None = None, today: dt.date | None = None
) -> SearchContext:
    return SearchContext(
        organization=organization, membership=membership, today=today or timezone.localdate()
    )


def search(
    organization: Organization,
    tree: dict,
    *,
    membership: Membership | None = None,
    today: dt.date | None = None,
    registry: Registry = CONTACTS,
) -> QuerySet:
    """The rows of `registry`'s table (not in the trash) matching the tree, unordered.

    Raises TreeError on a faulty tree. `membership` limits the criteria to what that
    member may see; `today` fixes relative dates (tests, count history)."""
    ctx = context(organization, membership, today)
    check_tree(tree, registry, ctx)
    if membership is not None and not ctx.may(registry.right):
        raise TreeError("", "Vous n'avez pas accès à ces données.")
    return registry.rows(ctx).filter(compile_tree(tree, registry, ctx))


def explain(
    organization: Organization,
    tree: dict,
    record_id: int,
    *,
    membership: Membership | None = None,
    today: dt.date | None = None,
    registry: Registry = CONTACTS,
) -> list[dict]:
    """« Pourquoi ce contact est-il là ? »: each condition, said in French, whether the
    record satisfies it, and whether that speaks for the match (a condition under an
    « aucune » group speaks for it when it is NOT satisfied). One small query per
    condition, for one record."""
    ctx = context(organization, membership, today)
    check_tree(tree, registry, ctx)
    rows = registry.model.objects.for_org(organization).filter(pk=record_id)
    result = []
    for path, node, negated in leaves(tree):
        criterion = registry.get(node["field"], ctx)
        satisfied = rows.filter(criterion.compile(node, path, ctx)).exists()
        result.append(
            {
                "path": path,
                "text": criterion.describe(node, ctx),
                "satisfied": satisfied,
                "negated": negated,
                "supports": satisfied != negated,
            }
        )
    return result


def registry_named(name: str) -> Registry:
    return REGISTRIES[name]
