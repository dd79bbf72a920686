"""Per-contact aggregates (`Contact.stat_*`) recomputed from the rows they summarise.

The advanced search reads them for criteria without restriction (« dernière interaction
il y a plus d'un an », « total payé > 200 € », « adhésion expirée »): one indexed column
instead of a scan of millions of interactions or payments. They are never adjusted by
deltas: every service that writes interactions, payments or membership periods calls
`refresh_contact_stats` with the contacts it touched, in the same transaction, and the
columns are recomputed from the source rows — exact by construction. Without ids, every
contact of the organisation is recomputed (generator, imports, repair command); only
rows whose values change are written.

Two set-based statements per family, on both databases (UPDATE … FROM needs SQLite 3.33):
the contacts that have rows get their aggregates, the others go back to zero.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.db import connection

CHUNK = 500

# family → (source SQL selecting `cid` and the aggregates, {column: (aggregate alias, empty)})
FAMILIES: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "interactions": (
        "SELECT contact_id AS cid, COUNT(*) AS n, MIN(occurred_at) AS first_at,"
        " MAX(occurred_at) AS last_at,"
        " MAX(CASE WHEN status = 'active' THEN occurred_at END) AS active_at"
        " FROM {interaction} WHERE organization_id = %s {only:contact_id}"
        " GROUP BY contact_id",
        {
            "stat_interactions": ("n", "0"),
            "stat_first_interaction_at": ("first_at", "NULL"),
            "stat_last_interaction_at": ("last_at", "NULL"),
            "stat_last_active_at": ("active_at", "NULL"),
        },
    ),
    "payments": (
        "SELECT payer_contact_id AS cid, COUNT(*) AS n, SUM(amount_cents) AS total,"
        " MAX(amount_cents) AS biggest, MIN(paid_on) AS first_on, MAX(paid_on) AS last_on"
        " FROM {payment} WHERE organization_id = %s AND status = 'paye'"
        " AND payer_contact_id IS NOT NULL {only:payer_contact_id}"
        " GROUP BY payer_contact_id",
        {
            "stat_payments": ("n", "0"),
            "stat_paid_cents": ("total", "0"),
            "stat_max_paid_cents": ("biggest", "NULL"),
            "stat_first_paid_on": ("first_on", "NULL"),
            "stat_last_paid_on": ("last_on", "NULL"),
        },
    ),
    "memberships": (
        "SELECT contact_id AS cid, MIN(end_date) AS min_end, MAX(end_date) AS max_end,"
        " MAX(start_date) AS max_start"
        " FROM {period} WHERE organization_id = %s {only:contact_id}"
        " GROUP BY contact_id",
        {
            "stat_membership_min_end": ("min_end", "NULL"),
            "stat_membership_max_end": ("max_end", "NULL"),
            "stat_membership_max_start": ("max_start", "NULL"),
        },
    ),
}


def _tables() -> dict[str, str]:
    return {
        "contact": apps.get_model("contacts", "Contact")._meta.db_table,
        "interaction": apps.get_model("interactions", "Interaction")._meta.db_table,
        "payment": apps.get_model("payments", "Payment")._meta.db_table,
        "period": apps.get_model("payments", "MembershipPeriod")._meta.db_table,
    }


def _statements(family: str, ids: list[int] | None) -> list[tuple[str, list]]:
    source, columns = FAMILIES[family]
    tables = _tables()
    only_column = source.split("{only:", 1)[1].split("}", 1)[0]
    placeholders = ", ".join(["%s"] * len(ids)) if ids else ""
    only_sql = f"AND {only_column} IN ({placeholders})" if ids else ""
    source_sql = (
        source.replace(f"{{only:{only_column}}}", only_sql)
        .replace("{interaction}", tables["interaction"])
        .replace("{payment}", tables["payment"])
        .replace("{period}", tables["period"])
    )
    contact = tables["contact"]
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    assignments = ", ".join(f"{column} = s.{alias}" for column, (alias, _) in columns.items())
    changed = " OR ".join(
        f"{contact}.{column} {differs} s.{alias}" for column, (alias, _) in columns.items()
    )
    contact_only = f"AND {contact}.id IN ({placeholders})" if ids else ""
    source_params = ids or []
    fill = (
        f"UPDATE {contact} SET {assignments} FROM ({source_sql}) AS s "
        f"WHERE {contact}.id = s.cid AND {contact}.organization_id = %s AND ({changed})"
    )
    empties = ", ".join(f"{column} = {empty}" for column, (_, empty) in columns.items())
    not_empty = " OR ".join(
        f"{column} IS NOT NULL" if empty == "NULL" else f"{column} <> {empty}"
        for column, (_, empty) in columns.items()
    )
    clear = (
        f"UPDATE {contact} SET {empties} WHERE organization_id = %s {contact_only} "
        f"AND ({not_empty}) AND id NOT IN (SELECT cid FROM ({source_sql}) AS s2)"
    )
    return [
        (fill, [None, *source_params, None]),  # organisation ids filled in by the caller
        (clear, [None, *(ids or []), None, *source_params]),
    ]


def _years_statements(organization_id: int, ids: list[int] | None) -> list[tuple[str, list]]:
    """Each contact's interactions per calendar year (ContactInteractionYear): its rows are
    deleted and rebuilt by one INSERT … SELECT … GROUP BY. The year is read in local time
    by the ORM's ExtractYear, as the search's periods are."""
    from django.db.models import Count, Q
    from django.db.models.functions import ExtractYear

    interaction = apps.get_model("interactions", "Interaction")
    year_model = apps.get_model("interactions", "ContactInteractionYear")
    rows = interaction.objects.filter(organization_id=organization_id)
    kept = year_model.objects.filter(organization_id=organization_id)
    if ids:
        rows = rows.filter(contact_id__in=ids)
        kept = kept.filter(contact_id__in=ids)
    grouped = (
        rows.annotate(year=ExtractYear("occurred_at"))
        .order_by()
        .values("contact_id", "year")
        .annotate(n=Count("id"), active=Count("id", filter=Q(status="active")))
        .values_list("contact_id", "year", "n", "active")
    )
    select_sql, select_params = grouped.query.sql_with_params()
    delete_sql, delete_params = kept.values("pk").query.sql_with_params()
    table = year_model._meta.db_table
    return [
        (f"DELETE FROM {table} WHERE id IN ({delete_sql})", list(delete_params)),
        (
            f"INSERT INTO {table} (organization_id, contact_id, year, interactions, active) "
            f"SELECT %s, s.* FROM ({select_sql}) AS s",
            [organization_id, *select_params],
        ),
    ]


def _payment_years_statements(
    organization_id: int, ids: list[int] | None
) -> list[tuple[str, list]]:
    """Each payer's paid payments per calendar year and kind (ContactPaymentYear)."""
    from django.db.models import Count, Max, Sum
    from django.db.models.functions import ExtractYear

    payment = apps.get_model("payments", "Payment")
    year_model = apps.get_model("payments", "ContactPaymentYear")
    rows = payment.objects.filter(
        organization_id=organization_id, status="paye", payer_contact_id__isnull=False
    )
    kept = year_model.objects.filter(organization_id=organization_id)
    if ids:
        rows = rows.filter(payer_contact_id__in=ids)
        kept = kept.filter(contact_id__in=ids)
    grouped = (
        rows.annotate(year=ExtractYear("paid_on"))
        .order_by()
        .values("payer_contact_id", "year", "kind")
        .annotate(n=Count("id"), total=Sum("amount_cents"), biggest=Max("amount_cents"))
        .values_list("payer_contact_id", "year", "kind", "n", "total", "biggest")
    )
    select_sql, select_params = grouped.query.sql_with_params()
    delete_sql, delete_params = kept.values("pk").query.sql_with_params()
    table = year_model._meta.db_table
    return [
        (f"DELETE FROM {table} WHERE id IN ({delete_sql})", list(delete_params)),
        (
            f"INSERT INTO {table} (organization_id, contact_id, year, kind, payments,"
            f" paid_cents, max_cents) SELECT %s, s.* FROM ({select_sql}) AS s",
            [organization_id, *select_params],
        ),
    ]


YEAR_FAMILIES = {"years": _years_statements, "payment_years": _payment_years_statements}


def refresh_contact_stats(
    organization_id: int, contact_ids: Iterable[int | None] | None = None,
    *, families: Iterable[str] = (
        "interactions", "payments", "memberships", "years", "payment_years"
    ),
) -> None:  # fmt: skip
    """Recompute the aggregates of these contacts (all of the organisation's if None)."""
    organization_id = getattr(organization_id, "pk", organization_id)
    if contact_ids is None:
        batches: list[list[int] | None] = [None]
    else:
        ids = sorted({pk for pk in contact_ids if pk})
        if not ids:
            return
        batches = [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
    with connection.cursor() as cursor:
        for family in families:
            for batch in batches:
                if family in YEAR_FAMILIES:
                    for sql, params in YEAR_FAMILIES[family](organization_id, batch):
                        cursor.execute(sql, params)
                    continue
                for sql, params in _statements(family, batch):
                    cursor.execute(sql, [organization_id if p is None else p for p in params])
