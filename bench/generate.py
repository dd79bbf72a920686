"""Scale data for the benchmarks: one association of any size, written set-based.

    .venv/bin/python bench/generate.py --contacts 1000000 --interactions 10000000 \\
        [--database-url postgres://postgres@127.0.0.1:5432/lien_bench] [--reset]

The rows come from lien.core.demo_data (the demo's generator); only the writing
differs: COPY (psycopg 3) on PostgreSQL, executemany in one transaction on
SQLite. On PostgreSQL the foreign keys and secondary indexes of the big tables
are dropped for the load and rebuilt after it (3.4x faster at 10M rows, see
ARCHITECTURE.md). The association gets the slug ``bench-<contacts>`` so it never
touches the demo; its administrator is bench@lien.local / bench-lien-2026.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_EMAIL = "bench@lien.local"
BENCH_PASSWORD = "bench-lien-2026"
# Tables whose foreign keys and secondary indexes are dropped around a PostgreSQL load.
BIG_TABLES = [
    "contacts_contact",
    "contacts_contactlabel",
    "interactions_interaction",
    "payments_payment",
    "payments_membershipperiod",
]


def _setup_django(database_url: str | None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lien.settings")
    import django

    django.setup()


def _writers():
    """The two raw writers; defined after Django is set up (they subclass demo_data.Writer)."""
    from django.db import connection

    from lien.core.demo_data import Writer

    def json_columns(model, columns):
        return [i for i, name in enumerate(columns) if name in {"custom"}]

    class PostgresCopyWriter(Writer):
        """COPY ... FROM STDIN; ids reserved from the table's sequence, so they stay in step."""

        def _insert(self, model, columns, rows):
            table = model._meta.db_table
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                    "nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                    [table, table, len(rows)],
                )
                last = cursor.fetchone()[0]
            first = last - len(rows) + 1
            json_pos = json_columns(model, columns)
            org = self.organization_id
            names = ", ".join(["id", "organization_id", *columns])
            raw = connection.connection.cursor()
            with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                write_row = copy.write_row
                for pk, row in enumerate(rows, start=first):
                    if json_pos:
                        row = list(row)
                        for i in json_pos:
                            row[i] = json.dumps(row[i]) if row[i] else "{}"
                    write_row((pk, org, *row))
            return list(range(first, last + 1))

    class SqliteWriter(Writer):
        """executemany in the surrounding transaction, with explicit ids after the current max."""

        def _insert(self, model, columns, rows):
            table = model._meta.db_table
            raw = connection.connection
            first = (raw.execute(f"SELECT MAX(id) FROM {table}").fetchone()[0] or 0) + 1
            json_pos = set(json_columns(model, columns))
            org = self.organization_id

            def plain(i, value):
                if i in json_pos:
                    return json.dumps(value) if value else "{}"
                if isinstance(value, dt.datetime):
                    # Django keeps SQLite datetimes as naive UTC text.
                    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
                if isinstance(value, dt.date):
                    return value.isoformat()
                return value

            marks = ", ".join(["?"] * (len(columns) + 2))
            names = ", ".join(["id", "organization_id", *columns])
            raw.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",
                (
                    (pk, org, *[plain(i, v) for i, v in enumerate(row)])
                    for pk, row in enumerate(rows, start=first)
                ),
            )
            return list(range(first, first + len(rows)))

    return PostgresCopyWriter, SqliteWriter


def _drop_constraints_and_indexes(cursor) -> tuple[list[str], list[str]]:
    """Drop the big tables' foreign keys and secondary indexes; return the SQL to restore them."""
    # Deferred checks still pending in this transaction would forbid ALTER TABLE: run them now.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)
        """,
        [BIG_TABLES],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.tablename = ANY(%s) AND i.schemaname = current_schema()
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [BIG_TABLES],
    )
    indexes = cursor.fetchall()
    for table, name, _ in foreign_keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    restore_indexes = [definition for _, definition in indexes]
    restore_fks = [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for table, name, definition in foreign_keys
    ]
    return restore_indexes, restore_fks


def generate(
    *,
    contacts: int,
    interactions: int,
    payments: int | None = None,
    structures: int | None = None,
    seed: int = 1,
    slug: str | None = None,
    reset: bool = False,
    out=sys.stdout,
) -> dict[str, int]:
    """Build the bench association into the configured database; returns rows per table."""
    from django.db import connection, transaction

    from lien.core.audit import Actor
    from lien.core.demo_data import Sizes, build_community, delete_organization_rows
    from lien.core.models import Organization, User
    from lien.core.services import create_organization

    started = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {message}", file=out, flush=True)

    slug = slug or f"bench-{contacts}"
    sizes = Sizes(
        contacts=contacts,
        interactions=interactions,
        payments=payments if payments is not None else 2 * contacts,
        structures=structures,
    )
    postgres = connection.vendor == "postgresql"
    PostgresCopyWriter, SqliteWriter = _writers()
    with transaction.atomic():
        existing = Organization.objects.filter(slug=slug).first()
        if existing:
            if not reset:
                raise SystemExit(
                    f"L'association « {slug} » existe déjà : --reset pour la reconstruire."
                )
            say(f"suppression de l'ancienne association « {slug} »")
            delete_organization_rows(existing)
        user = User.objects.filter(email=BENCH_EMAIL).first() or User.objects.create_user(
            email=BENCH_EMAIL, password=BENCH_PASSWORD, full_name="Bench Lien"
        )
        organization = create_organization(
            name=f"Banc d'essai {contacts:,}".replace(",", " "),
            admin=user,
            slug=slug,
            actor=Actor.system("Générateur de banc d'essai"),
        )
        restore_indexes: list[str] = []
        restore_fks: list[str] = []
        if postgres:
            writer = PostgresCopyWriter(organization_id=organization.pk)
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
                cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
                restore_indexes, restore_fks = _drop_constraints_and_indexes(cursor)
            say(
                f"PostgreSQL : {len(restore_fks)} clés étrangères et "
                f"{len(restore_indexes)} index retirés le temps du chargement"
            )
        else:
            writer = SqliteWriter(organization_id=organization.pk)
        build_community(
            organization=organization,
            writer=writer,
            sizes=sizes,
            seed=seed,
            recorded_by=user.pk,
            progress=say,
            chunk=100_000,
        )
        say("données écrites")
        if postgres:
            with connection.cursor() as cursor:
                for sql in restore_indexes:
                    step = time.perf_counter()
                    cursor.execute(sql)
                    say(f"index recréé en {time.perf_counter() - step:.1f} s : {sql[:90]}")
                for sql in restore_fks:
                    step = time.perf_counter()
                    cursor.execute(sql)
                    say(f"clé étrangère recréée en {time.perf_counter() - step:.1f} s : {sql[:70]}")
    if postgres:
        with connection.cursor() as cursor:
            for table in BIG_TABLES:
                cursor.execute(f"ANALYZE {table}")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    total = time.perf_counter() - started
    print(f"\nAssociation « {slug} » (id {organization.pk}) prête en {total:.1f} s", file=out)
    print(f"{'table':32} {'lignes':>12} {'secondes':>9} {'lignes/s':>10}", file=out)
    for table, stat in sorted(writer.stats.items(), key=lambda item: -item[1].rows):
        rate = stat.rows / stat.seconds if stat.seconds else 0
        print(f"{table:32} {stat.rows:12,} {stat.seconds:9.1f} {rate:10,.0f}", file=out)
    print(f"Connexion : {BENCH_EMAIL} / {BENCH_PASSWORD}", file=out)
    return {table: stat.rows for table, stat in writer.stats.items()}


def main(argv: list[str] | None = None) -> dict[str, int]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--payments", type=int, default=None, help="par défaut 2 par contact")
    parser.add_argument("--structures", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slug", default=None, help="par défaut bench-<contacts>")
    parser.add_argument("--reset", action="store_true", help="reconstruit l'association")
    parser.add_argument("--database-url", default=None, help="sinon DATABASE_URL ou SQLite")
    args = parser.parse_args(argv)
    _setup_django(args.database_url)
    return generate(
        contacts=args.contacts,
        interactions=args.interactions,
        payments=args.payments,
        structures=args.structures,
        seed=args.seed,
        slug=args.slug,
        reset=args.reset,
    )


if __name__ == "__main__":
    main()
