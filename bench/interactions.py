"""Interactions at scale: time one page of each interaction list through the real selectors.

    .venv/bin/python bench/interactions.py \\
        --database-url postgres://postgres@127.0.0.1:5432/lien_bench --slug bench-1000000 \\
        [--repeat 7] [--depth 20] [--members 500] [--explain all] [--out bench/out]

Each case builds one page the way a page of interactions will (``timeline``,
``structure_rollup``, ``group_interactions``, ``table`` of
``lien/interactions/selectors.py`` with an ``InteractionQuery``: one keyset page
of 25 rows with their contact, type, category, label, structure and author) and
is timed with ``time.perf_counter`` after one untimed warm-up; the median, min
and max are printed in milliseconds. The contacts, structure, group, types and
labels are picked from the data (untimed), so the script works on any
generated association.

Setup (untimed, idempotent): the generator links at most three contacts to a
structure; the roll-up is measured on a structure with ``--members`` linked
contacts, so if none has that many, the structure with the most links gets the
missing ones (contacts spread evenly over the id range, ``bulk_create`` in one
transaction; a second run finds them and creates nothing).

The plans of the cases named by ``--explain`` (default: all) go to ``--out``
(gitignored): ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL, ``EXPLAIN QUERY
PLAN`` on SQLite, one file per case with every query the page ran. The timings
and the chosen parameters are also written there as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if str(ROOT) not in sys.path:  # run as a script: make the bench package importable
    sys.path.insert(0, str(ROOT))

from bench.harness import Case, Result, explain, setup_django, time_case, write_results  # noqa: E402

DEFAULT_OUT = ROOT / "bench" / "out"
ROLLUP_MEMBERS = 500
BENCH_ROLE = "Membre (bench)"


def ensure_rollup_structure(organization, *, members: int, say) -> tuple[int, int, int]:
    """A structure with `members` linked contacts: (structure id, links, links created).

    Untimed setup. The structure with the most links (then the lowest id) is
    completed with contacts spread evenly over the id range that are not linked
    to it yet, in one bulk_create; run again, it finds them and creates nothing.
    """
    from django.db import connection, transaction
    from django.db.models import Count

    from lien.contacts.models import Contact, ContactStructureLink

    links = ContactStructureLink.objects.for_org(organization)
    top = (
        links.values("structure_id")
        .annotate(n=Count("contact_id", distinct=True))
        .order_by("-n", "structure_id")
        .first()
    )
    if top is None:
        from lien.contacts.models import Structure

        structure_id = (
            Structure.objects.for_org(organization)
            .not_deleted()
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if structure_id is None:
            return 0, 0, 0
        have = 0
    else:
        structure_id, have = top["structure_id"], top["n"]
    if have >= members:
        return structure_id, have, 0
    linked = set(links.filter(structure_id=structure_id).values_list("contact_id", flat=True))
    ids = list(
        Contact.objects.for_org(organization)
        .not_deleted()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    candidates = [pk for pk in ids if pk not in linked]
    wanted = min(members - have, len(candidates))
    step = len(candidates) / wanted if wanted else 1
    chosen = [candidates[int(i * step)] for i in range(wanted)]
    with transaction.atomic():
        ContactStructureLink.objects.bulk_create(
            [
                ContactStructureLink(
                    organization=organization,
                    contact_id=pk,
                    structure_id=structure_id,
                    role=BENCH_ROLE,
                    is_main=False,
                )
                for pk in chosen
            ],
            batch_size=500,
        )
    # Fresh statistics, or the planner still believes the structure has three members.
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {ContactStructureLink._meta.db_table}")
    say(f"structure {structure_id} : {len(chosen)} liens contact-structure créés (préparation)")
    return structure_id, have + len(chosen), len(chosen)


def _pick(organization, *, members: int, say) -> dict:
    """The data-driven parameters (untimed setup queries, some of them over the whole table)."""
    from django.db.models import Count, Max

    from lien.contacts.models import ContactLabel, GroupMembership, Label
    from lien.interactions.models import Interaction, InteractionLabel, InteractionType

    started = time.perf_counter()
    interactions = Interaction.objects.for_org(organization)
    # Interactions per contact: the busiest contact, and the median one (a typical contact).
    per_contact = sorted(
        interactions.order_by()
        .values("contact_id")
        .annotate(n=Count("id"))
        .values_list("n", "contact_id"),
        key=lambda row: (-row[0], row[1]),
    )
    busiest = per_contact[0] if per_contact else None
    typical = per_contact[len(per_contact) // 2] if per_contact else None
    type_names = dict(InteractionType.objects.for_org(organization).values_list("pk", "name"))
    types = list(
        interactions.values("type_id")
        .annotate(n=Count("id"))
        .order_by("-n", "type_id")
        .values_list("type_id", "n")
    )
    label_names = dict(InteractionLabel.objects.for_org(organization).values_list("pk", "name"))
    labels = list(
        interactions.exclude(label_id=None)
        .values("label_id")
        .annotate(n=Count("id"))
        .order_by("-n", "label_id")
        .values_list("label_id", "n")
    )
    contact_label_names = dict(Label.objects.for_org(organization).values_list("pk", "name"))
    contact_labels = list(
        ContactLabel.objects.for_org(organization)
        .values("label_id")
        .annotate(n=Count("contact_id", distinct=True))
        .order_by("-n", "label_id")
        .values_list("label_id", "n")
    )
    group = (
        GroupMembership.objects.for_org(organization)
        .filter(contact__isnull=False)
        .values("group_id")
        .annotate(n=Count("id"))
        .order_by("-n", "group_id")
        .first()
    )
    newest = interactions.aggregate(newest=Max("occurred_at"))["newest"]
    total = interactions.count()
    say(f"paramètres choisis en {time.perf_counter() - started:.1f} s")
    structure_id, linked, created = ensure_rollup_structure(organization, members=members, say=say)

    def named(rows, names):
        return [(pk, names.get(pk, str(pk)), n) for pk, n in rows]

    return {
        "busiest_contact": (busiest[1], busiest[0]) if busiest else None,
        "typical_contact": (typical[1], typical[0]) if typical else None,
        "types": named(types, type_names),
        "labels": named(labels, label_names),
        "contact_labels": named(contact_labels, contact_label_names),
        "group": (group["group_id"], group["n"]) if group else None,
        "structure": (structure_id, linked, created) if structure_id else None,
        # "Today" for the date filters: the day of the newest interaction (the data ends there).
        "today": _local_day(newest) if newest else None,
        "total": total,
    }


def _local_day(moment: dt.datetime) -> dt.date:
    from django.utils import timezone

    return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()


def build_cases(*, organization, depth: int, picked: dict, say) -> list[Case]:
    from lien.contacts.models import Contact, Group, Structure
    from lien.core.pagination import encode_cursor
    from lien.interactions import selectors
    from lien.interactions.models import Interaction

    def query(**kwargs) -> selectors.InteractionQuery:
        return selectors.InteractionQuery(**kwargs)

    def page(select, **kwargs) -> Callable[[], int]:
        def run() -> int:
            return len(select(organization=organization, query=query(**kwargs)).rows)

        return run

    def timeline(contact, **kwargs):
        return page(lambda **kw: selectors.timeline(contact=contact, **kw), **kwargs)

    def table(**kwargs):
        return page(selectors.table, **kwargs)

    def count(**kwargs) -> Callable[[], int]:
        def run() -> int:
            return selectors.filtered(
                Interaction.objects.for_org(organization),
                organization=organization,
                query=query(**kwargs),
            ).count()

        return run

    cases: list[Case] = []
    busiest = typical = None
    if picked["busiest_contact"]:
        contact_id, n = picked["busiest_contact"]
        busiest = Contact.objects.get(pk=contact_id)
        cases.append(
            Case(
                "a_timeline_busy",
                "fil d'un contact très actif",
                timeline(busiest),
                f"contact {contact_id}, {n:,} interactions",
            )
        )
    if picked["typical_contact"]:
        contact_id, n = picked["typical_contact"]
        typical = Contact.objects.get(pk=contact_id)
        cases.append(
            Case(
                "a_timeline_typical",
                "fil d'un contact médian",
                timeline(typical),
                f"contact {contact_id}, {n:,} interactions",
            )
        )
    if busiest is not None:
        # The deeper page: follow next_cursor `depth` times (untimed), then time the next page.
        cursor, reached = "", 0
        for _ in range(depth):
            current = selectors.timeline(
                organization=organization, contact=busiest, query=query(after=cursor)
            )
            if not current.next_cursor:
                break
            cursor, reached = current.next_cursor, reached + 1
        cases.append(
            Case(
                "b_timeline_deep",
                f"fil du contact actif, page {reached + 1}",
                timeline(busiest, after=cursor),
                f"{reached} × next_cursor",
            )
        )
    if picked["structure"]:
        structure_id, linked, created = picked["structure"]
        structure = Structure.objects.get(pk=structure_id)
        note = f", dont {created} créés par ce script" if created else ""
        cases.append(
            Case(
                "c_structure_rollup",
                "structure + ses contacts",
                page(lambda **kw: selectors.structure_rollup(structure=structure, **kw)),
                f"structure {structure_id}, {linked} contacts liés{note}",
            )
        )
    if picked["group"]:
        group_id, n = picked["group"]
        group = Group.objects.get(pk=group_id)
        cases.append(
            Case(
                "d_group",
                "interactions d'un groupe",
                page(lambda **kw: selectors.group_interactions(group=group, **kw)),
                f"groupe {group_id}, {n} contacts",
            )
        )
    cases.append(Case("e_table", "tableau, 1re page", table()))
    today, types = picked["today"], picked["types"]
    if today and types:
        common, rare = types[0], types[-1]
        three_months = today - dt.timedelta(days=91)
        one_year = today - dt.timedelta(days=365)
        # A past year (the calendar year before last): the range far from the newest rows.
        old_from, old_to = dt.date(today.year - 2, 1, 1), dt.date(today.year - 2, 12, 31)
        filters = [
            ("f_type_common_3m", "type fréquent, 3 derniers mois", common, three_months, today),
            ("f_type_rare_1y", "type rare, 12 derniers mois", rare, one_year, today),
            ("f_type_rare_old_year", f"type rare, année {old_from.year}", rare, old_from, old_to),
        ]
        for key, title, (type_id, name, n), date_from, date_to in filters:
            detail = f"« {name} » ({n:,} en tout), du {date_from} au {date_to}"
            kwargs = {"types": [type_id], "date_from": date_from, "date_to": date_to}
            cases.append(Case(key, f"tableau, {title}", table(**kwargs), detail))
            cases.append(Case(f"j_count_{key[2:]}", f"COUNT, {title}", count(**kwargs), detail))
    labels = picked["labels"]
    if labels:
        for key, which, (label_id, name, n) in [
            ("g_label_common", "fréquent", labels[0]),
            ("g_label_rare", "rare", labels[-1]),
        ]:
            cases.append(
                Case(
                    key,
                    f"tableau, libellé {which}",
                    table(labels=[label_id]),
                    f"« {name} », {n:,} interactions",
                )
            )
    contact_labels = picked["contact_labels"]
    if contact_labels:
        for key, which, (label_id, name, n) in [
            ("h_contact_label_common", "fréquente", contact_labels[0]),
            ("h_contact_label_rare", "rare", contact_labels[-1]),
        ]:
            cases.append(
                Case(
                    key,
                    f"tableau, étiquette {which}",
                    table(contact_labels=[label_id]),
                    f"« {name} », {n:,} contacts",
                )
            )
    # The cursor a reader holds at 90 % of the table (row found by OFFSET, untimed).
    position = int(picked["total"] * 0.9)
    row = (
        Interaction.objects.for_org(organization)
        .order_by("-occurred_at", "-pk")
        .values_list("occurred_at", "pk")[position : position + 1]
        .first()
    )
    if row:
        cases.append(
            Case(
                "i_table_deep_90",
                "tableau, page à 90 %",
                table(after=encode_cursor(list(row))),
                f"après la ligne {position + 1:,}",
            )
        )
    order = {"a": 0, "b": 1, "c": 2, "d": 3, "e": 4, "f": 5, "g": 6, "h": 7, "i": 8, "j": 9}
    cases.sort(key=lambda case: order[case.key[0]])  # stable: the table's order (a)…(j)
    return cases


def run(
    *,
    slug: str,
    repeat: int = 7,
    depth: int = 20,
    members: int = ROLLUP_MEMBERS,
    explain_cases: tuple[str, ...] | None = None,
    out_dir: Path = DEFAULT_OUT,
    out=sys.stdout,
) -> list[Result]:
    """Time every case on the association `slug`; prints the table, returns the results.

    `explain_cases` None explains every case; an empty tuple, none.
    """
    from django.db import connection

    from lien.core.models import Organization

    def say(message: str) -> None:
        print(message, file=out, flush=True)

    organization = Organization.objects.get(slug=slug)
    database = f"{connection.vendor} ({connection.settings_dict['NAME']})"
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    say(f"Association « {slug} » sur {database}, {repeat} mesures après 1 tour d'échauffement")
    if load:
        say(f"charge de la machine : {' '.join(f'{x:.2f}' for x in load)} ({os.cpu_count()} cœurs)")
    picked = _pick(organization, members=members, say=say)
    cases = build_cases(organization=organization, depth=depth, picked=picked, say=say)
    results = []
    say(f"\n{'cas':42} {'médiane':>9} {'min':>9} {'max':>9} {'lignes':>10}  détail")
    for case in cases:
        result = time_case(case, repeat)
        results.append(result)
        say(
            f"{result.title:42} {result.median:9.1f} {min(result.timings_ms):9.1f} "
            f"{max(result.timings_ms):9.1f} {result.rows:10,}  {result.detail}"
        )
    say("(ms)")
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    if load_after:
        say(f"charge de la machine à la fin : {' '.join(f'{x:.2f}' for x in load_after)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = {c.key for c in cases} if explain_cases is None else set(explain_cases)
    for case in cases:
        if case.key in wanted:
            say(f"plan : {explain(case, out_dir, database, 'interactions-')}")
    path = write_results(
        out_dir,
        f"interactions-{connection.vendor}.json",
        {
            "database": database,
            "slug": slug,
            "repeat": repeat,
            "load_average": load,
            "load_average_after": load_after,
            "picked": picked,
        },
        results,
    )
    say(f"résultats : {path}")
    return results


def main(argv: list[str] | None = None) -> list[Result]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None, help="sinon DATABASE_URL ou SQLite")
    parser.add_argument("--slug", default="bench-1000000")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--depth", type=int, default=20, help="pages du fil suivies avant (b)")
    parser.add_argument(
        "--members", type=int, default=ROLLUP_MEMBERS, help="contacts liés à la structure (c)"
    )
    parser.add_argument(
        "--explain", default="all", help="cas à expliquer, séparés par des virgules, ou « all »"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat doit valoir au moins 1")
    setup_django(args.database_url)
    explain_cases = None if args.explain == "all" else tuple(filter(None, args.explain.split(",")))
    return run(
        slug=args.slug,
        repeat=args.repeat,
        depth=args.depth,
        members=args.members,
        explain_cases=explain_cases,
        out_dir=args.out,
    )


if __name__ == "__main__":
    main()
