"""Exporting contacts at scale: rows per second and peak memory, CSV and XLSX.

    .venv/bin/python bench/export.py \\
        --database-url postgres://postgres@127.0.0.1:5432/lien_bench \\
        --slug bench-1000000 [--formats csv,xlsx] [--columns default|all] [--limit N] \\
        [--out bench/out]

Through the real code of ``lien/exports/``: the contacts of the organisation (not in the
trash) as its administrator would export them from the contact list
(``sources.selection`` of the list with no filter → ``services.write_export``), with the
form's default columns (identity, address, labels, main structure, consent, and every
custom field) or ``--columns all`` (payment totals, membership status, groups…), into a
temporary file deleted afterwards.

Each format runs once, in its own child process, so that its peak memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is its own: the line says the rows,
the seconds, rows/s, the file size, the child's resident memory before the export and
its peak. Exports are long: one run of each is the measure (no warm-up, no median).
``--limit`` exports the first N contacts only (a quick look, or the smoke test).
``--formats zip`` times « Exporter toutes mes données » instead: every table of the
association, one CSV each, into a ZIP (rows/s over all files), printing its rate every
20,000 rows; ``--timeout S`` stops a run after S seconds and keeps the rate so far.
A JSON summary goes to ``--out`` (gitignored).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue as queue_module
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if str(ROOT) not in sys.path:  # run as a script: make the bench package importable
    sys.path.insert(0, str(ROOT))

from bench.harness import Result, setup_django, write_results  # noqa: E402

DEFAULT_OUT = ROOT / "bench" / "out"
queue_empty = queue_module.Empty
FORMATS = ("csv", "xlsx", "zip")  # zip: the whole data set (« toutes mes données »)


def _rss_mb() -> float:
    """The current resident memory of this process, from /proc (Linux)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def run_export(
    database_url: str | None, slug: str, fmt: str, columns: str, limit: int | None
) -> dict:
    """One export in this process; its measures."""
    setup_django(database_url)
    from django.db import connection

    from lien.core.models import Membership, Organization
    from lien.exports import services, sources
    from lien.exports.tables import available_columns

    organization = Organization.objects.get(slug=slug)
    admin = (
        Membership.objects.for_org(organization)
        .filter(profile__name="Administrateur", is_active=True)
        .select_related("profile", "user")
        .first()
    )
    selected = sources.selection(
        {"kind": "list", "table": "contacts", "query": ""},
        organization=organization,
        membership=admin,
    )
    every = available_columns(selected.table, organization=organization, membership=admin)
    chosen = every if columns == "all" else [c for c in every if c.default]
    queryset = selected.queryset
    if limit:
        last = queryset.order_by("pk").values_list("pk", flat=True)[limit - 1 : limit].first()
        queryset = queryset.filter(pk__lte=last) if last else queryset
    start_rss = _rss_mb()
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        rows = services.write_export(
            out,
            organization=organization,
            queryset=queryset,
            columns=chosen,
            options=services.FileOptions(fmt=fmt),
            sheet="Contacts",
        )
        seconds = time.perf_counter() - started
        size = out.seek(0, os.SEEK_END)
    # kB on Linux; the kernel updates this high-water mark lazily, hence the max.
    peak_mb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, _rss_mb(), start_rss)
    return {
        "format": fmt,
        "vendor": connection.vendor,
        "columns": len(chosen),
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds) if seconds else 0,
        "file_mb": round(size / 1024 / 1024, 1),
        "start_rss_mb": round(start_rss, 1),
        "peak_rss_mb": round(peak_mb, 1),
    }


def run_archive(database_url: str | None, slug: str, *_ignored, report=None) -> dict:
    """« Exporter toutes mes données » as the administrator, in this process; its measures.

    `report(measures so far)` is called every 20,000 rows (and after each file): a run
    stopped by --timeout still says its rate."""
    setup_django(database_url)
    from django.db import connection

    from lien.core.models import Membership, Organization
    from lien.exports.archive import write_archive

    organization = Organization.objects.get(slug=slug)
    admin = (
        Membership.objects.for_org(organization)
        .filter(profile__name="Administrateur", is_active=True)
        .select_related("profile", "user")
        .first()
    )
    start_rss = _rss_mb()
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()

        def on_rows(rows: int) -> None:
            if report is None:
                return
            seconds = time.perf_counter() - started
            report(
                {
                    "rows": rows,
                    "seconds": round(seconds, 1),
                    "rows_per_s": round(rows / seconds) if seconds else 0,
                    "file_mb": round(out.tell() / 1024 / 1024, 1),
                    "peak_rss_mb": round(
                        max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, _rss_mb()),
                        1,
                    ),
                }
            )

        counts = write_archive(out, organization=organization, membership=admin, on_rows=on_rows)
        seconds = time.perf_counter() - started
        size = out.seek(0, os.SEEK_END)
    peak_mb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, _rss_mb(), start_rss)
    rows = sum(counts.values())
    return {
        "format": "zip",
        "vendor": connection.vendor,
        "columns": len(counts),
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds) if seconds else 0,
        "file_mb": round(size / 1024 / 1024, 1),
        "start_rss_mb": round(start_rss, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "files": counts,
    }


def _child(queue, *args) -> None:
    try:
        if args[2] == "zip":
            found = run_archive(*args, report=lambda m: queue.put({"progress": m}))
        else:
            found = run_export(*args)
        queue.put(found)
    except BaseException as error:  # told to the parent, which fails with it
        queue.put({"error": repr(error)})


def _wait(queue, child, fmt: str, timeout: float | None) -> dict:
    """The child's measures; past `timeout` seconds, the child is stopped and the last
    progress it reported stands as a partial measure."""
    deadline = None if timeout is None else time.monotonic() + timeout
    last: dict = {}
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        try:
            if left is not None and left <= 0:
                raise queue_empty
            message = queue.get(timeout=left)
        except queue_empty:
            child.terminate()
            child.join()
            if not last:
                return {"error": f"arrêté après {timeout:.0f} s, sans mesure"}
            return {"format": fmt, "vendor": "?", "columns": 0, "start_rss_mb": 0,
                    **last, "stopped_after_s": timeout}  # fmt: skip
        if "progress" not in message:
            child.join()
            return message
        last = message["progress"]
        print(
            f"  … {last['rows']:>10,} lignes  {last['seconds']:>7.1f} s  "
            f"{last['rows_per_s']:>7,} lignes/s  {last['file_mb']} Mo  "
            f"pic {last['peak_rss_mb']} Mo",
            flush=True,
        )


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None, help="sinon DATABASE_URL ou SQLite")
    parser.add_argument("--slug", default="bench-1000000")
    parser.add_argument("--formats", default="csv,xlsx", help="csv,xlsx,zip")
    parser.add_argument("--columns", choices=["default", "all"], default="default")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--in-process", action="store_true", help="sans processus enfant (tests)")
    parser.add_argument(
        "--timeout", type=float, default=None, help="secondes ; au-delà, arrêt et débit mesuré"
    )
    args = parser.parse_args(argv)
    measures = []
    for fmt in [f for f in args.formats.split(",") if f in FORMATS]:
        call = (args.database_url, args.slug, fmt, args.columns, args.limit)
        if args.in_process:
            found = (run_archive if fmt == "zip" else run_export)(*call)
        else:
            # A fresh process per format: ru_maxrss is a high-water mark of the process.
            context = multiprocessing.get_context("spawn")
            queue = context.Queue()
            child = context.Process(target=_child, args=(queue, *call))
            child.start()
            found = _wait(queue, child, fmt, args.timeout)
        if "error" in found:
            raise SystemExit(f"{fmt} : {found['error']}")
        measures.append(found)
        if "stopped_after_s" in found:
            print(f"{fmt} : arrêté après {found['stopped_after_s']:.0f} s (--timeout)", flush=True)
        print(
            f"{found['format']:4} {found['vendor']:10} {found['rows']:>9,} lignes "
            f"× {found['columns']} {'fichiers' if fmt == 'zip' else 'colonnes'}  "
            f"{found['seconds']:>7.1f} s  "
            f"{found['rows_per_s']:>7,} lignes/s  fichier {found['file_mb']} Mo  "
            f"RSS {found['start_rss_mb']} → pic {found['peak_rss_mb']} Mo",
            flush=True,
        )
    if measures:
        setup_django(args.database_url)
        args.out.mkdir(parents=True, exist_ok=True)
        results = [
            Result(
                m["format"],
                "Toutes les données (ZIP)"
                if m["format"] == "zip"
                else f"Export des contacts ({m['format'].upper()})",
                f"{m['rows_per_s']} lignes/s, pic {m['peak_rss_mb']} Mo",
                m["rows"],
                [m["seconds"] * 1000],
            )
            for m in measures
        ]
        vendor = measures[0]["vendor"]
        write_results(
            args.out,
            f"export-{vendor}.json",
            {"slug": args.slug, "columns": args.columns, "measures": measures},
            results,
        )
    return measures


if __name__ == "__main__":
    main()
