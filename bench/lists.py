"""Contact and structure lists at scale: time one page through the real selectors.

    .venv/bin/python bench/lists.py --database-url postgres://postgres@127.0.0.1:5432/lien_bench \\
        --slug bench-1000000 [--repeat 7] [--depth 200] [--explain all] [--out bench/out]

Each case builds one list page the way the list view does (``contact_page`` /
``structure_page``: the rows, then their labels in one more query) and is timed
with ``time.perf_counter`` after one untimed warm-up; the median, min and max
are printed in milliseconds. The search terms, labels and group are picked from
the data (the most and least common label, a real contact's name, email and
mobile), so the script works on any generated association.

The plans of the cases named by ``--explain`` go to ``--out`` (gitignored):
``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite,
one file per case with every query the page ran. The timings and the chosen
parameters are also written there as JSON.
"""

from __future__ import annotations

import argparse
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
# The cases explained by default: the plain first page, a rare label, a common prefix.
DEFAULT_EXPLAIN = ("a_first_page", "d_label_rare", "e_search_prefix")


def _pick(organization) -> dict:
    """The data-driven parameters: labels, group, search terms (untimed setup queries)."""
    from django.db.models import Count, Q

    from lien.contacts.models import Contact, ContactLabel, GroupMembership, Label

    label_counts = (
        ContactLabel.objects.for_org(organization)
        .values("label_id")
        .annotate(n=Count("contact_id", distinct=True))
        .order_by("-n", "label_id")
    )
    counts = [(row["label_id"], row["n"]) for row in label_counts]
    names = dict(Label.objects.for_org(organization).values_list("pk", "name"))
    group = (
        GroupMembership.objects.for_org(organization)
        .filter(contact__isnull=False)
        .values("group_id")
        .annotate(n=Count("id"))
        .order_by("-n", "group_id")
        .first()
    )
    contacts = Contact.objects.for_org(organization).not_deleted()
    # A real person of the data, deterministic: the first one by id with the three fields.
    person = (
        contacts.exclude(first_name="")
        .exclude(last_name="")
        .exclude(email="")
        .order_by("pk")
        .only("first_name", "last_name", "email")
        .first()
    )
    # The worst pair for the search: the most frequent first name with the most frequent last name.
    common = {}
    for column in ("first_name", "last_name"):
        top = (
            contacts.exclude(**{column: ""})
            .values(f"{column}_normalized")
            .annotate(n=Count("id"))
            .order_by("-n", f"{column}_normalized")
            .first()
        )
        if top:
            common[column] = (
                contacts.filter(**{f"{column}_normalized": top[f"{column}_normalized"]})
                .values_list(column, flat=True)
                .first()
            )
    mobile = (
        contacts.exclude(mobile="").order_by("pk").values_list("mobile", flat=True).first() or ""
    )
    email_prefix = ""
    if person and "@" in person.email:
        local, domain = person.email.split("@", 1)
        email_prefix = f"{local}@{domain[:3]}"
    prefix = "mar"
    prefix_matches = contacts.filter(
        Q(last_name_normalized__startswith=prefix)
        | Q(first_name_normalized__startswith=prefix)
        | Q(email_normalized__startswith=prefix)
    ).count()
    return {
        "label_common": (counts[0][0], names[counts[0][0]], counts[0][1]) if counts else None,
        "label_rare": (counts[-1][0], names[counts[-1][0]], counts[-1][1]) if counts else None,
        "group": (group["group_id"], group["n"]) if group else None,
        "prefix": (prefix, prefix_matches),
        "full_name": f"{person.first_name} {person.last_name}" if person else "",
        "common_full_name": f"{common['first_name']} {common['last_name']}"
        if len(common) == 2
        else "",
        "email_prefix": email_prefix,
        "phone": mobile,
    }


def build_cases(*, organization, membership, depth: int, picked: dict, say) -> list[Case]:
    from lien.contacts import selectors
    from lien.contacts.models import Contact
    from lien.core.pagination import encode_cursor

    contact_columns = [selectors.CONTACT_COLUMNS[k] for k in selectors.DEFAULT_CONTACT_COLUMNS]
    structure_columns = [
        selectors.STRUCTURE_COLUMNS[k] for k in selectors.DEFAULT_STRUCTURE_COLUMNS
    ]

    def contacts(**kwargs) -> Callable[[], int]:
        def run() -> int:
            page = selectors.contact_page(
                organization=organization,
                membership=membership,
                query=selectors.ListQuery(**kwargs),
                columns=contact_columns,
            )
            return len(page.rows)

        return run

    def structures() -> int:
        page = selectors.structure_page(
            organization=organization,
            membership=membership,
            query=selectors.ListQuery(),
            columns=structure_columns,
        )
        return len(page.rows)

    def count() -> int:
        return Contact.objects.for_org(organization).not_deleted().count()

    # The deep page: follow next_cursor `depth` times (untimed), then time the next page.
    started = time.perf_counter()
    cursor, reached = "", 0
    for _ in range(depth):
        page = selectors.contact_page(
            organization=organization,
            membership=membership,
            query=selectors.ListQuery(after=cursor),
            columns=contact_columns,
        )
        if not page.next_cursor:
            break
        cursor, reached = page.next_cursor, reached + 1
    say(f"{reached} pages suivies en {time.perf_counter() - started:.1f} s pour la page profonde")

    cases = [
        Case("a_first_page", "contacts, 1re page (nom)", contacts()),
        Case(
            "b_created_desc",
            "contacts, 1re page (-created_at)",
            contacts(sort="created_at", descending=True),
        ),
        Case(
            "c_deep_page",
            f"contacts, page {reached + 1} (curseur)",
            contacts(after=cursor),
            f"{reached} × next_cursor",
        ),
    ]
    # Far deeper: the cursor a reader holds at 90 % of the list (row found by OFFSET, untimed).
    alive = Contact.objects.for_org(organization).not_deleted()
    position = int(alive.count() * 0.9)
    for key, sort, descending in [
        ("c_deep_90_name", "name", False),
        ("c_deep_90_created", "created_at", True),
    ]:
        fields = [*selectors.CONTACT_COLUMNS[sort].sort, "pk"]
        order = [f"-{f}" if descending else f for f in fields]
        row = alive.order_by(*order).values_list(*fields)[position : position + 1].first()
        if row:
            cases.append(
                Case(
                    key,
                    f"contacts, page à 90 % ({'-created_at' if descending else 'nom'})",
                    contacts(sort=sort, descending=descending, after=encode_cursor(list(row))),
                    f"après la ligne {position + 1:,}",
                )
            )
    for key, which in [("d_label_common", "label_common"), ("d_label_rare", "label_rare")]:
        if picked[which]:
            label_id, name, n = picked[which]
            cases.append(
                Case(
                    key,
                    f"étiquette {'fréquente' if 'common' in key else 'rare'}",
                    contacts(labels=[label_id]),
                    f"« {name} », {n:,} contacts",
                )
            )
    prefix, matches = picked["prefix"]
    searches = [
        ("e_search_prefix", "recherche préfixe de nom", prefix, f"{matches:,} contacts"),
        ("e_search_full_name", "recherche prénom nom", picked["full_name"], ""),
        (
            "e_search_common_name",
            "recherche prénom nom fréquents",
            picked["common_full_name"],
            "",
        ),
        ("e_search_email", "recherche préfixe d'email", picked["email_prefix"], ""),
        ("e_search_phone", "recherche téléphone", picked["phone"], ""),
    ]
    for key, title, q, detail in searches:
        if q:
            cases.append(Case(key, title, contacts(q=q), f"« {q} » {detail}".strip()))
    cases.append(Case("f_structures", "structures, 1re page (nom)", structures))
    if picked["group"]:
        group_id, n = picked["group"]
        cases.append(
            Case("g_group", "contacts d'un groupe", contacts(group=group_id), f"{n} contacts")
        )
    cases.append(Case("h_count", "COUNT des contacts (évité)", count))
    return cases


def run(
    *,
    slug: str,
    repeat: int = 7,
    depth: int = 200,
    explain_cases: tuple[str, ...] | None = DEFAULT_EXPLAIN,
    out_dir: Path = DEFAULT_OUT,
    out=sys.stdout,
) -> list[Result]:
    """Time every case on the association `slug`; prints the table, returns the results."""
    from django.db import connection

    from lien.core.models import Membership, Organization

    def say(message: str) -> None:
        print(message, file=out, flush=True)

    organization = Organization.objects.get(slug=slug)
    membership = Membership.objects.for_org(organization).select_related("user", "profile").first()
    database = f"{connection.vendor} ({connection.settings_dict['NAME']})"
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    say(f"Association « {slug} » sur {database}, {repeat} mesures après 1 tour d'échauffement")
    if load:
        say(f"charge de la machine : {' '.join(f'{x:.2f}' for x in load)} ({os.cpu_count()} cœurs)")
    picked = _pick(organization)
    cases = build_cases(
        organization=organization, membership=membership, depth=depth, picked=picked, say=say
    )
    results = []
    say(f"\n{'cas':34} {'médiane':>9} {'min':>9} {'max':>9} {'lignes':>8}  détail")
    for case in cases:
        result = time_case(case, repeat)
        results.append(result)
        say(
            f"{result.title:34} {result.median:9.1f} {min(result.timings_ms):9.1f} "
            f"{max(result.timings_ms):9.1f} {result.rows:8,}  {result.detail}"
        )
    say("(ms)")
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = {c.key for c in cases} if explain_cases is None else set(explain_cases)
    for case in cases:
        if case.key in wanted:
            say(f"plan : {explain(case, out_dir, database)}")
    path = write_results(
        out_dir,
        f"lists-{connection.vendor}.json",
        {
            "database": database,
            "slug": slug,
            "repeat": repeat,
            "load_average": load,
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
    parser.add_argument("--depth", type=int, default=200, help="pages suivies avant la mesure")
    parser.add_argument(
        "--explain",
        default=",".join(DEFAULT_EXPLAIN),
        help="cas à expliquer, séparés par des virgules, ou « all »",
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
        explain_cases=explain_cases,
        out_dir=args.out,
    )


if __name__ == "__main__":
    main()
