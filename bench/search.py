"""Advanced search at scale: count and first page of realistic trees, through the real engine.

    .venv/bin/python bench/search.py \\
        --database-url postgres://postgres@127.0.0.1:5432/lien_bench --slug bench-1000000 \\
        [--repeat 3] [--explain slow] [--out bench/out]

Each tree is one question association staff ask (ticket 6); it is compiled by
``lien.search.tree.search`` exactly as the builder, the API and segments do. Two
cases per tree: the COUNT of matching contacts, and the first page of 50 contacts
ordered by name (what the results table shows). Timed with ``time.perf_counter``
after one untimed warm-up; median, min and max in milliseconds. Labels, groups,
emailings and types are picked from the data by name (untimed), so the script
runs on any association the generator made. Relative dates resolve against the
real today, as in use.

Plans: ``--explain slow`` (default) writes the plan of every case slower than
300 ms to ``--out`` (gitignored); ``all`` or ``none`` also work.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Case, explain, setup_django, time_case  # noqa: E402

SLOW_MS = 300


def pick(organization) -> dict:
    from lien.contacts.models import Group, Label
    from lien.interactions.models import InteractionLabel, InteractionType

    labels = dict(Label.objects.for_org(organization).values_list("name", "pk"))
    letters = InteractionLabel.objects.for_org(organization).filter(
        name__startswith="Lettre d'information janvier"
    )
    return {
        "volunteer": labels["Bénévole"],
        "press": labels["Presse"],
        "donor": labels["Donateur / Donatrice"],
        "group": Group.objects.for_org(organization).order_by("pk").values_list("pk", flat=True)[0],
        "emailing": letters.order_by("-name").values_list("pk", flat=True)[0],
        "call": InteractionType.objects.for_org(organization).get(name="Appel téléphonique").pk,
    }


def trees(p: dict) -> dict[str, tuple[str, dict]]:
    ago = lambda n, unit: {"type": "ago", "n": n, "unit": unit}  # noqa: E731
    return {
        "t01": ("≥ 4 interactions en 2024 ET dernière il y a moins de 6 mois", {
            "group": "all", "children": [
                {"field": "interactions.count", "op": "gte", "value": 4,
                 "where": {"period": {"type": "year", "year": 2024}}},
                {"field": "interactions.last", "op": "after", "value": ago(6, "months")},
            ]}),
        "t02": ("dons > 200 € l'an dernier ET aucun paiement depuis 6 mois", {
            "group": "all", "children": [
                {"field": "payments.total", "op": "gt", "value": 200,
                 "where": {"kinds": ["don"], "period": {"type": "previous", "unit": "year"}}},
                {"field": "payments.last", "op": "before", "value": ago(6, "months")},
            ]}),
        "t03": ("étiquette Bénévole ET pas dans le groupe B", {
            "group": "all", "children": [
                {"field": "labels", "op": "any", "value": [p["volunteer"]]},
                {"field": "groups", "op": "not_in", "value": [p["group"]]},
            ]}),
        "t04": ("adhésion finissant ce mois ET a ouvert l'emailing X", {
            "group": "all", "children": [
                {"field": "membership.end", "op": "in", "value": {"type": "this", "unit": "month"}},
                {"field": "emailing", "op": "opened", "value": [p["emailing"]]},
            ]}),
        "t05": ("3 niveaux : (Lyon ET NON sans email) OU (à renouveler ET NON Presse)", {
            "group": "any", "children": [
                {"group": "all", "children": [
                    {"field": "city", "op": "equals", "value": "Lyon"},
                    {"group": "none", "children": [{"field": "email", "op": "is_empty"}]},
                ]},
                {"group": "all", "children": [
                    {"field": "membership.status", "op": "in", "value": ["a_renouveler"]},
                    {"field": "labels", "op": "none", "value": [p["press"]]},
                ]},
            ]}),
        "t06": ("bénévoles venus ces 3 dernières semaines", {
            "group": "all", "children": [
                {"field": "labels", "op": "any", "value": [p["volunteer"]]},
                {"field": "interactions.last", "op": "after", "value": ago(3, "weeks"),
                 "where": {"status": ["active"]}},
            ]}),
        "t07": ("aucune interaction active depuis un an", {
            "field": "interactions.last", "op": "before", "value": ago(1, "years"),
            "where": {"status": ["active"]}}),
        "t08": ("adhérents à jour aujourd'hui", {
            "field": "membership.status", "op": "in", "value": ["a_jour", "a_renouveler"]}),
        "t09": ("adhésion expirée depuis plus de 3 mois", {
            "group": "all", "children": [
                {"field": "membership.status", "op": "in", "value": ["expire"]},
                {"field": "membership.end", "op": "before", "value": ago(3, "months")},
            ]}),
        "t10": ("nom commençant par « dup »", {
            "field": "last_name", "op": "starts_with", "value": "dup"}),
        "t11": ("plus gros don ≥ 500 €", {
            "field": "payments.max", "op": "gte", "value": 500, "where": {"kinds": ["don"]}}),
        "t12": ("appelés en 2025 ET aucun paiement", {
            "group": "all", "children": [
                {"field": "interactions.count", "op": "gte", "value": 1,
                 "where": {"types": [p["call"]], "period": {"type": "year", "year": 2025}}},
                {"field": "payments.count", "op": "eq", "value": 0},
            ]}),
        "t13": ("donateurs sans interaction depuis 6 mois, hors segment des bénévoles", {
            "group": "all", "children": [
                {"field": "labels", "op": "any", "value": [p["donor"]]},
                {"group": "none", "children": [
                    {"field": "interactions.last", "op": "after", "value": ago(6, "months")},
                    {"field": "labels", "op": "any", "value": [p["volunteer"]]},
                ]},
            ]}),
    }  # fmt: skip


def build_cases(organization, picked: dict) -> list[Case]:
    from lien.search.tree import search

    cases = []
    for key, (title, tree) in trees(picked).items():
        rows = search(organization, tree)
        cases.append(Case(f"{key}-count", title, rows.count, "COUNT"))
        cases.append(
            Case(
                f"{key}-page",
                title,
                lambda rows=rows: len(list(rows.order_by("last_name_normalized", "id")[:50])),
                "1re page de 50",
            )
        )
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--slug", default="bench-1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--explain", default="slow", choices=["slow", "all", "none"])
    parser.add_argument("--only", default="", help="clés séparées par des virgules (t01,t02…)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "out"))
    args = parser.parse_args()
    setup_django(args.database_url)
    from django.db import connection

    from lien.core.models import Organization

    organization = Organization.objects.get(slug=args.slug)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    picked = pick(organization)
    cases = build_cases(organization, picked)
    if args.only:
        wanted = set(args.only.split(","))
        cases = [c for c in cases if c.key.split("-")[0] in wanted]
    print(f"{connection.vendor} — {args.slug} — médianes sur {args.repeat} passages (ms)")
    print(f"{'cas':<10} {'lignes':>9} {'médiane':>9} {'min':>8} {'max':>8}  arbre")
    results = []
    for case in cases:
        result = time_case(case, args.repeat)
        results.append(result)
        print(
            f"{case.key:<10} {result.rows:>9} {result.median:>9.0f} "
            f"{min(result.timings_ms):>8.0f} {max(result.timings_ms):>8.0f}  {case.title}",
            flush=True,
        )
        if args.explain == "all" or (args.explain == "slow" and result.median > SLOW_MS):
            explain(case, out, f"médiane {result.median:.0f} ms", name="search-")
    (out / f"search-{connection.vendor}.json").write_text(
        json.dumps(
            [{"key": r.key, "title": r.title, "rows": r.rows, "ms": r.timings_ms} for r in results],
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
