"""Payments at scale: the nightly label rules, the payment tables and the accounting export.

    .venv/bin/python bench/payments.py \\
        --database-url postgres://postgres@127.0.0.1:5432/lien_bench \\
        --slug bench-1000000 --table-slug bench-payments-5m \\
        [--repeat 7] [--label-repeat 3] [--export-repeat 3] [--shifts 0,1,30,365] \\
        [--only labels,table,export] [--explain slow] [--out bench/out]

Three parts, each through the real code of ``lien/payments/``:

(a) labels, on ``--slug``: the nightly task's ``apply_label_rules(organization=…,
    audit=True)`` with ``today`` the newest payment day of the data (the day the
    generator ran: nothing to change) and then shifted by ``--shifts`` days
    (memberships expire: the rules delete and insert links and write audit rows).
    Each run is inside a transaction that is rolled back, so every run starts from
    the generated data; on PostgreSQL the touched tables are vacuumed (untimed)
    between two cases, so the dead rows of one case's rollbacks do not slow the next.
(b) tables, on ``--table-slug``: for each kind present in the data, and for all
    kinds together, one page of 50 rows the way the table shows it
    (``filtered_payments`` → ``with_people`` → ``ordered``, keyset condition of
    ``lien.core.pagination``): the first page by date and by amount, the page at
    90 % of the table (cursor built from the row found with ``OFFSET``, untimed),
    then ``totals`` (count + sum) unfiltered and with each filter (last complete
    month, the kind's biggest campaign, paid by cheque, 20–100 €, payer label),
    and the first page with that filter. ``--kinds don,tous`` measures some tables only.
(c) export, on ``--slug``: ``write_export`` of the last complete year (CSV journal and
    FEC), and the job's count of its payments; rows/s = entries (payments) per second.

Each case runs once untimed (warm-up), then ``--repeat`` times (``--label-repeat``,
``--export-repeat`` for the long ones) with ``time.perf_counter``; the median, min
and max are printed in ms. Plans: ``--explain slow`` (default) explains the cases
whose median is over ``--slow-ms`` (300); ``all``, or case keys separated by
commas. ``EXPLAIN (ANALYZE, BUFFERS)`` runs the statements, so the label cases are
explained inside a transaction rolled back too; the export explains its first
chunks only. Plans and a JSON of the timings go to ``--out`` (gitignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
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
PAGE_SIZE = 50
SHIFTS = (0, 1, 30, 365)
SECTIONS = ("labels", "table", "export")
SLOW_MS = 300.0
AMOUNT_RANGE = (2_000, 10_000)  # 20 € to 100 €, in cents: some rows of every kind
STATUS_METHOD = (["paye"], ["cheque"])
EXPORT_CHUNKS_EXPLAINED = 3


def _label_setup(organization) -> dict[str, int]:
    """Untimed, committed, idempotent: the settings row and the rules' labels exist.

    The first nightly run would create them; the timed runs then find them.
    """
    from lien.payments.labels import RULES, rule_label
    from lien.payments.services import payment_settings

    settings = payment_settings(organization)
    return {rule.key: rule_label(organization, settings, rule).pk for rule in RULES}


def _pick(organization, table_organization, *, sections) -> dict:
    """The data-driven parameters (untimed setup queries, some over the whole table)."""
    from django.db.models import Count, Max

    from lien.contacts.models import ContactLabel, Label, LabelOrigin
    from lien.payments.models import Campaign, Payment

    picked: dict = {}
    newest = Payment.objects.for_org(organization).aggregate(day=Max("paid_on"))["day"]
    picked["today"] = newest or dt.date.today()
    picked["export_year"] = picked["today"].year - 1
    if "table" not in sections:
        return picked
    payments = Payment.objects.for_org(table_organization)
    kinds = list(payments.order_by().values("kind").annotate(n=Count("id")).order_by("-n", "kind"))
    picked["kinds"] = [(row["kind"], row["n"]) for row in kinds]
    by_campaign = (
        payments.exclude(campaign=None)
        .order_by()
        .values("kind", "campaign_id")
        .annotate(n=Count("id"))
        .order_by("kind", "campaign_id")  # ties go to the oldest campaign, every run
    )
    names = dict(Campaign.objects.for_org(table_organization).values_list("pk", "name"))
    best: dict[str, tuple[int, int]] = {}
    overall: dict[int, int] = {}
    for row in by_campaign:
        overall[row["campaign_id"]] = overall.get(row["campaign_id"], 0) + row["n"]
        if row["n"] > best.get(row["kind"], (0, 0))[1]:
            best[row["kind"]] = (row["campaign_id"], row["n"])
    if overall:
        best[""] = max(overall.items(), key=lambda item: (item[1], -item[0]))
    picked["campaigns"] = {kind: (pk, names[pk], n) for kind, (pk, n) in best.items()}
    table_newest = payments.aggregate(day=Max("paid_on"))["day"] or picked["today"]
    month_end = table_newest.replace(day=1) - dt.timedelta(days=1)
    picked["month"] = (month_end.replace(day=1), month_end)
    # The payer label: the most common hand-set contact label (« Bénévole » in the data).
    label = (
        ContactLabel.objects.for_org(table_organization)
        .filter(origin=LabelOrigin.MANUAL)
        .values("label_id")
        .annotate(n=Count("id"))
        .order_by("-n", "label_id")
        .first()
    )
    if label:
        name = Label.objects.for_org(table_organization).get(pk=label["label_id"]).name
        picked["payer_label"] = (label["label_id"], name, label["n"])
    else:
        picked["payer_label"] = None
    return picked


# (a) labels ---------------------------------------------------------------------------------


def label_cases(*, organization, today: dt.date, shifts) -> list[Case]:
    from django.db import transaction

    from lien.payments.labels import apply_label_rules

    cases = []
    for shift in shifts:
        day = today + dt.timedelta(days=shift)
        last: dict = {}

        def run(day=day, last=last) -> int:
            with transaction.atomic():
                counts = apply_label_rules(organization=organization, today=day, audit=True)
                transaction.set_rollback(True)  # every run starts from the generated data
            last.update(counts)
            return sum(c["added"] + c["removed"] for c in counts.values())

        key = "a_labels_steady" if shift == 0 else f"a_labels_plus{shift}"
        title = "étiquettes auto, régime établi" if shift == 0 else f"étiquettes auto, J+{shift}"
        detail = f"today = {day.isoformat()}"
        cases.append(
            Case(
                key, title, run, detail,
                describe=lambda result, detail=detail, last=last: (
                    f"{detail} ; {_describe_counts(last)}"
                ),
            )
        )  # fmt: skip
    return cases


def _describe_counts(counts: dict) -> str:
    short = {
        "donor_label": "don",
        "member_label": "adh",
        "former_member_label": "anc",
        "participant_label": "part",
    }
    parts = [
        f"{short.get(key, key)} +{c['added']:,}/-{c['removed']:,}"
        for key, c in counts.items()
        if c["added"] or c["removed"]
    ]
    return ", ".join(parts) or "aucun changement"


def _vacuum_label_tables() -> None:
    """PostgreSQL: clear the dead rows the rolled-back runs left (untimed, between cases)."""
    from django.db import connection

    from lien.contacts.models import ContactLabel, StructureLabel
    from lien.core.models import AuditEvent
    from lien.payments.models import PaymentSettings

    if connection.vendor != "postgresql" or connection.in_atomic_block:  # (tests: no VACUUM)
        return
    tables = ", ".join(
        m._meta.db_table for m in (ContactLabel, StructureLabel, AuditEvent, PaymentSettings)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {tables}")


# (b) tables ---------------------------------------------------------------------------------


def _page_runner(organization, query, after: list | None = None) -> Callable[[], int]:
    """One page of the table: the selectors' queryset, the keyset condition, 50 rows (+1)."""
    from lien.core.pagination import _after
    from lien.payments import selectors

    order = selectors.SORTS[query.sort]
    fields = [f.lstrip("-") for f in order]
    descending = order[0].startswith("-")

    def run() -> int:
        payments = selectors.with_people(selectors.filtered_payments(organization, query))
        if after is not None:
            payments = payments.filter(_after(fields, after, descending))
        rows = list(selectors.ordered(payments, query.sort)[: PAGE_SIZE + 1])
        return len(rows[:PAGE_SIZE])

    return run


def _totals_case(organization, key: str, title: str, query, detail: str) -> Case:
    """Count and sum of the filtered table, as shown above it (``selectors.totals``)."""
    from lien.payments import selectors

    last: dict = {}

    def run() -> int:
        result = selectors.totals(selectors.filtered_payments(organization, query))
        last.update(result)
        return result["count"]

    def describe(result: Result) -> str:
        euros = f"{last['total_cents'] // 100:,} €"
        return f"{detail} ; {euros}" if detail else euros

    return Case(key, title, run, detail, describe=describe)


def table_cases(
    *, organization, picked: dict, say, kinds: tuple[str, ...] | None = None
) -> list[Case]:
    from lien.payments import selectors
    from lien.payments.models import PaymentKind

    kind_names = dict(PaymentKind.choices)
    month_from, month_to = picked["month"]
    cases: list[Case] = []
    for kind in [k for k, _ in picked["kinds"]] + [""]:
        if kinds is not None and (kind or "tous") not in kinds:
            continue
        slug = kind or "tous"
        name = kind_names.get(kind, "tous types")

        query = functools.partial(selectors.PaymentQuery, kind=kind)
        cases.append(Case(f"b_{slug}_first_page", f"{name} : 1re page (date)",
                          _page_runner(organization, query())))  # fmt: skip
        cases.append(Case(f"b_{slug}_amount_page", f"{name} : 1re page (montant)",
                          _page_runner(organization, query(sort="amount"))))  # fmt: skip
        # The page at 90 % of the table by date: the cursor of the row found by OFFSET.
        started = time.perf_counter()
        base = selectors.filtered_payments(organization, query())
        count = base.count()
        position = int(count * 0.9)
        row = (
            selectors.ordered(base, "date")
            .values_list("paid_on", "id")[position : position + 1]
            .first()
        )
        say(f"{name} : curseur à 90 % trouvé en {time.perf_counter() - started:.1f} s")
        if row:
            cases.append(
                Case(
                    f"b_{slug}_deep_90",
                    f"{name} : page à 90 % (date)",
                    _page_runner(organization, query(), after=list(row)),
                    f"après la ligne {position + 1:,} sur {count:,}",
                )
            )
        filters: list[tuple[str, str, dict, str]] = [
            ("", "", {}, ""),
            ("month", "filtre mois", {"date_from": month_from, "date_to": month_to},
             f"{month_from:%m/%Y}"),
        ]  # fmt: skip
        campaign = picked["campaigns"].get(kind)
        if campaign:
            filters.append(
                ("campaign", "filtre campagne", {"campaign": campaign[0]}, f"« {campaign[1]} »")
            )
        statuses, methods = STATUS_METHOD
        filters.append(
            ("status_method", "filtre statut+moyen", {"statuses": statuses, "methods": methods},
             f"{'/'.join(statuses)} + {'/'.join(methods)}")
        )  # fmt: skip
        low, high = AMOUNT_RANGE
        filters.append(
            ("amount", "filtre montant", {"amount_min": low, "amount_max": high},
             f"{low // 100}–{high // 100} €")
        )  # fmt: skip
        if picked["payer_label"]:
            label_id, label_name, n = picked["payer_label"]
            filters.append(
                ("payer_label", "filtre étiquette payeur", {"payer_labels": [label_id]},
                 f"« {label_name} » ({n:,} contacts)")
            )  # fmt: skip
        for key, title, kwargs, detail in filters:
            q = query(**kwargs)
            suffix = f"_{key}" if key else ""
            cases.append(_totals_case(organization, f"b_{slug}_totals{suffix}",
                                      f"{name} : totaux{', ' + title if title else ''}", q,
                                      detail))  # fmt: skip
            if key:
                cases.append(Case(f"b_{slug}_page_{key}", f"{name} : 1re page, {title}",
                                  _page_runner(organization, q), detail))  # fmt: skip
    return cases


# (c) export ---------------------------------------------------------------------------------


def export_cases(*, organization, year: int) -> list[Case]:
    from lien.payments.accounting import paid_payments, write_export

    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    cases = []
    for fmt in ("csv", "fec"):
        last: dict = {}

        def run(fmt=fmt, last=last) -> int:
            content, summary = write_export(organization, start=start, end=end, fmt=fmt)
            last.update(summary, bytes=len(content))
            return summary["entries"]

        def describe(result: Result, last=last) -> str:
            rate = result.rows / (result.median / 1000) if result.median else 0
            return (
                f"{last['lines']:,} lignes, {last['bytes'] / 1e6:.0f} Mo ; {rate:,.0f} écritures/s"
            )

        cases.append(
            Case(f"c_export_{fmt}", f"export comptable {year} ({fmt.upper()})", run,
                 describe=describe)
        )  # fmt: skip
    cases.append(
        Case(
            "c_export_count",
            f"export {year} : COUNT du job",
            lambda: paid_payments(organization, start, end).count(),
        )
    )
    return cases


# Running ------------------------------------------------------------------------------------


def run(
    *,
    slug: str,
    table_slug: str | None = None,
    repeat: int = 7,
    label_repeat: int = 3,
    export_repeat: int = 3,
    shifts: tuple[int, ...] = SHIFTS,
    sections: tuple[str, ...] = SECTIONS,
    kinds: tuple[str, ...] | None = None,
    explain_cases: tuple[str, ...] | str | None = "slow",
    slow_ms: float = SLOW_MS,
    out_dir: Path = DEFAULT_OUT,
    out=sys.stdout,
) -> list[Result]:
    """Time every case; prints the table, returns the results.

    `explain_cases`: "slow" (the cases over `slow_ms`), None (all), or case keys.
    """
    from django.db import connection, transaction

    from lien.core.models import Organization

    def say(message: str) -> None:
        print(message, file=out, flush=True)

    organization = Organization.objects.get(slug=slug)
    table_organization = Organization.objects.get(slug=table_slug or slug)
    database = f"{connection.vendor} ({connection.settings_dict['NAME']})"
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    say(
        f"Associations « {slug} » (étiquettes, export) et « {table_organization.slug} » "
        f"(tables) sur {database}, après 1 tour d'échauffement : {repeat} mesures "
        f"({label_repeat} pour les étiquettes, {export_repeat} pour l'export)"
    )
    if load:
        say(f"charge de la machine : {' '.join(f'{x:.2f}' for x in load)} ({os.cpu_count()} cœurs)")
    started = time.perf_counter()
    picked = _pick(organization, table_organization, sections=sections)
    if "labels" in sections:
        picked["rule_labels"] = _label_setup(organization)
    say(f"paramètres choisis en {time.perf_counter() - started:.1f} s")

    planned: list[tuple[Case, int]] = []
    if "labels" in sections:
        for case in label_cases(organization=organization, today=picked["today"], shifts=shifts):
            planned.append((case, label_repeat))
    if "table" in sections:
        for case in table_cases(
            organization=table_organization, picked=picked, say=say, kinds=kinds
        ):
            planned.append((case, repeat))
    if "export" in sections:
        for case in export_cases(organization=organization, year=picked["export_year"]):
            planned.append((case, export_repeat if case.key != "c_export_count" else repeat))

    results: list[Result] = []
    say(f"\n{'cas':50} {'médiane':>9} {'min':>9} {'max':>9} {'lignes':>10}  détail")
    for case, times in planned:
        result = time_case(case, times)
        if case.key.startswith("a_"):
            _vacuum_label_tables()
        results.append(result)
        say(
            f"{result.title:50} {result.median:9.1f} {min(result.timings_ms):9.1f} "
            f"{max(result.timings_ms):9.1f} {result.rows:10,}  {result.detail}"
        )
    say("(ms)")
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    if load_after:
        say(f"charge de la machine à la fin : {' '.join(f'{x:.2f}' for x in load_after)}")

    out_dir.mkdir(parents=True, exist_ok=True)
    medians = {r.key: r.median for r in results}
    if explain_cases == "slow":
        wanted = {key for key, median in medians.items() if median > slow_ms}
    elif explain_cases is None:
        wanted = set(medians)
    else:
        wanted = set(explain_cases)
    for case, _ in planned:
        if case.key not in wanted:
            continue
        if case.key.startswith("a_"):  # EXPLAIN ANALYZE writes: roll it back too
            with transaction.atomic():
                path = explain(case, out_dir, database, "payments-")
                transaction.set_rollback(True)
            _vacuum_label_tables()
        elif case.key.startswith("c_export_") and case.key != "c_export_count":
            path = explain(case, out_dir, database, "payments-", limit=EXPORT_CHUNKS_EXPLAINED)
        else:
            path = explain(case, out_dir, database, "payments-")
        say(f"plan : {path}")
    path = write_results(
        out_dir,
        f"payments-{connection.vendor}.json",
        {
            "database": database,
            "slug": slug,
            "table_slug": table_organization.slug,
            "repeat": repeat,
            "label_repeat": label_repeat,
            "export_repeat": export_repeat,
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
    parser.add_argument("--slug", default="bench-1000000", help="étiquettes et export")
    parser.add_argument(
        "--table-slug", default=None, help="tables de paiements (par défaut : --slug)"
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--label-repeat", type=int, default=3)
    parser.add_argument("--export-repeat", type=int, default=3)
    parser.add_argument(
        "--shifts", default=",".join(map(str, SHIFTS)), help="décalages de today, en jours"
    )
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help="parties à mesurer : labels,table,export"
    )
    parser.add_argument(
        "--explain",
        default="slow",
        help="« slow » (cas au-dessus de --slow-ms), « all », « none » ou des clés de cas",
    )
    parser.add_argument(
        "--kinds", default="", help="tables mesurées (don,adhesion,…,tous), par défaut toutes"
    )
    parser.add_argument("--slow-ms", type=float, default=SLOW_MS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if min(args.repeat, args.label_repeat, args.export_repeat) < 1:
        parser.error("les nombres de mesures doivent valoir au moins 1")
    sections = tuple(s for s in args.only.split(",") if s)
    if not sections or set(sections) - set(SECTIONS):
        parser.error(f"--only : parmi {', '.join(SECTIONS)}")
    setup_django(args.database_url)
    if args.explain in ("slow", "all", "none"):
        explain_cases = {"slow": "slow", "all": None, "none": ()}[args.explain]
    else:
        explain_cases = tuple(filter(None, args.explain.split(",")))
    return run(
        slug=args.slug,
        table_slug=args.table_slug,
        repeat=args.repeat,
        label_repeat=args.label_repeat,
        export_repeat=args.export_repeat,
        shifts=tuple(int(s) for s in args.shifts.split(",") if s.strip()),
        sections=sections,
        kinds=tuple(k for k in args.kinds.split(",") if k) or None,
        explain_cases=explain_cases,
        slow_ms=args.slow_ms,
        out_dir=args.out,
    )


if __name__ == "__main__":
    main()
