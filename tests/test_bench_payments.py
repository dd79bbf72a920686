"""The payments benchmark runs end to end at a tiny size (a smoke test: no timing checked)."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.db import connection

from bench.generate import generate
from bench.payments import run
from lien.contacts.models import ContactLabel
from lien.core.models import AuditEvent, Organization
from lien.payments.accounting import paid_payments
from lien.payments.models import Payment

TABLE_SUFFIXES = [
    "first_page", "amount_page", "deep_90", "totals",
    "totals_month", "page_month", "totals_campaign", "page_campaign",
    "totals_status_method", "page_status_method", "totals_amount", "page_amount",
    "totals_payer_label", "page_payer_label",
]  # fmt: skip


@pytest.mark.django_db
def test_payments_benchmark_runs_every_case_rolls_back_and_writes_its_plans(tmp_path):
    # Given a tiny generated association (600 payments over three years)
    generate(contacts=300, interactions=3000, structures=20, slug="bench-pay", out=StringIO())
    organization = Organization.objects.get(slug="bench-pay")
    links_before = sorted(
        ContactLabel.objects.for_org(organization).values_list("contact_id", "label_id", "origin")
    )
    events_before = AuditEvent.objects.for_org(organization).count()

    # When the payments benchmark runs on it, every plan wanted
    out = StringIO()
    results = run(
        slug="bench-pay",
        table_slug="bench-pay",
        repeat=2,
        label_repeat=1,
        export_repeat=1,
        explain_cases=None,
        out_dir=tmp_path,
        out=out,
    )

    # Then every case ran: labels, one table per kind present and one for all, export
    by_key = {result.key: result for result in results}
    kinds = sorted(set(Payment.objects.for_org(organization).values_list("kind", flat=True))) + [
        "tous"
    ]
    expected = {"a_labels_steady", "a_labels_plus1", "a_labels_plus30", "a_labels_plus365"}
    expected |= {f"b_{kind}_{suffix}" for kind in kinds for suffix in TABLE_SUFFIXES}
    expected |= {"c_export_csv", "c_export_fec", "c_export_count"}
    assert set(by_key) == expected
    assert len(by_key["a_labels_plus1"].timings_ms) == 1
    assert len(by_key["b_don_first_page"].timings_ms) == 2

    # And the generated labels are what the rules want on the generation day; a year later,
    # memberships have expired
    assert by_key["a_labels_steady"].rows == 0
    assert "aucun changement" in by_key["a_labels_steady"].detail
    assert by_key["a_labels_plus365"].rows > 0

    # And the pages hold 50 rows at most, the totals count the whole table
    assert by_key["b_don_first_page"].rows == 50
    assert all(r.rows <= 50 for r in results if "_page" in r.key or "_deep_" in r.key)
    assert 1 <= by_key["b_tous_deep_90"].rows <= 50
    assert by_key["b_tous_totals"].rows == Payment.objects.for_org(organization).count()
    for kind in kinds[:-1]:
        assert by_key[f"b_{kind}_totals"].rows == (
            Payment.objects.for_org(organization).filter(kind=kind).count()
        )

    # And the export wrote one entry per paid payment of the last complete year
    newest = Payment.objects.for_org(organization).order_by("-paid_on").first().paid_on
    year = newest.year - 1
    paid = paid_payments(organization, dt.date(year, 1, 1), dt.date(year, 12, 31)).count()
    assert by_key["c_export_csv"].rows == by_key["c_export_count"].rows == paid

    # And nothing the label runs (or their plans) wrote was kept
    links_after = sorted(
        ContactLabel.objects.for_org(organization).values_list("contact_id", "label_id", "origin")
    )
    assert links_after == links_before
    assert AuditEvent.objects.for_org(organization).count() == events_before

    # And each case's queries were explained, and the results saved
    plan = (tmp_path / f"explain-{connection.vendor}-payments-a_labels_plus365.txt").read_text()
    assert "requête 1" in plan
    assert not any(
        line.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK"))
        for line in plan.splitlines()
    )  # the transaction's own statements have no plan
    export_plan = tmp_path / f"explain-{connection.vendor}-payments-c_export_csv.txt"
    assert "requête 1" in export_plan.read_text()
    saved = json.loads((tmp_path / f"payments-{connection.vendor}.json").read_text())
    assert [r["key"] for r in saved["results"]] == [r.key for r in results]
