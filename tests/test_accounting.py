"""The accounting export: balanced journal entries, the FEC layout, the chosen accounts."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lien.contacts import services as contacts
from lien.core.audit import Actor
from lien.payments import accounting, services

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()
YEAR = {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 12, 31)}


@pytest.fixture
def ledger(org):
    alice = contacts.create_contact(
        organization=org, actor=SYSTEM, data={"first_name": "Alice", "last_name": "Martin"}
    )
    mairie = contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie"})
    for kind, amount, day, method, status, payer in [
        ("don", "50", "2026-03-12", "cheque", "paye", {"payer_contact": alice}),
        ("adhesion", "25,50", "2026-01-05", "especes", "paye", {"payer_contact": alice}),
        ("billetterie", "12", "2026-06-01", "carte", "paye", {"payer_contact": alice}),
        ("don", "1 000", "2026-12-31", "virement", "paye", {"payer_structure": mairie}),
        ("don", "99", "2026-05-01", "carte", "rembourse", {"payer_contact": alice}),
        ("don", "70", "2025-12-31", "carte", "paye", {"payer_contact": alice}),
    ]:
        services.create_payment(
            organization=org, actor=SYSTEM, kind=kind, amount=amount, paid_on=day, method=method,
            status=status, **payer,
        )  # fmt: skip
    return org


def rows(content: bytes, delimiter: str) -> list[list[str]]:
    text = content.decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def test_fec_has_the_18_columns_and_french_formats(ledger):
    content, summary = accounting.write_export(ledger, fmt="fec", **YEAR)

    table = rows(content, "\t")
    assert table[0] == accounting.FEC_COLUMNS and len(table[0]) == 18
    assert all(len(row) == 18 for row in table)
    lines = table[1:]
    assert len(lines) == 8  # four paid payments in 2026, two lines each
    first = dict(zip(table[0], lines[0], strict=True))
    assert first["JournalCode"] == "CA" and first["EcritureDate"] == "20260105"
    assert (first["CompteNum"], first["Debit"], first["Credit"]) == ("530", "25,50", "0,00")
    second = dict(zip(table[0], lines[1], strict=True))
    assert (second["CompteNum"], second["CompteLib"], second["Credit"]) == (
        "756",
        "Cotisations",
        "25,50",
    )
    assert [r[2] for r in lines] == ["1", "1", "2", "2", "3", "3", "4", "4"]  # EcritureNum
    structure_line = dict(zip(table[0], lines[-2], strict=True))
    assert structure_line["EcritureLib"] == "Don Mairie"
    assert structure_line["Debit"] == "1000,00"  # no thousands separator
    assert summary["debit_cents"] == summary["credit_cents"] == 108750


def total(table: list[list[str]], column: int) -> int:
    return sum(int(row[column].replace(",", "") or 0) for row in table)


def test_debits_equal_credits_in_every_format(ledger):
    for fmt, delimiter, debit, credit in [("fec", "\t", 11, 12), ("fec_pipe", "|", 11, 12),
                                          ("csv", ";", 7, 8)]:  # fmt: skip
        content, _ = accounting.write_export(ledger, fmt=fmt, **YEAR)
        table = rows(content, delimiter)[1:]

        assert total(table, debit) == total(table, credit) == 108750


def test_accounts_follow_the_settings(ledger):
    services.update_payment_settings(
        organization=ledger, actor=SYSTEM,
        income_accounts={**services.payment_settings(ledger).income_accounts, "don": "7541"},
        treasury_accounts={**services.payment_settings(ledger).treasury_accounts, "cheque": "5112"},
    )  # fmt: skip

    content, _ = accounting.write_export(ledger, fmt="csv", **YEAR)

    accounts = {(r[3], r[7] != "") for r in rows(content, ";")[1:]}
    assert ("5112", True) in accounts and ("7541", False) in accounts


def test_the_csv_journal_opens_in_french_excel(ledger):
    content, _ = accounting.write_export(ledger, fmt="csv", **YEAR)

    assert content.startswith("\ufeff".encode())
    table = rows(content, ";")
    assert table[0] == accounting.CSV_COLUMNS
    assert table[1][0] == "05/01/2026" and table[1][7] == "25,50"


def test_a_payer_name_cannot_become_a_formula(org):
    sly = contacts.create_contact(
        organization=org, actor=SYSTEM, data={"first_name": "=HYPERLINK(1)", "last_name": "X"}
    )
    services.create_payment(
        organization=org, actor=SYSTEM, kind="boutique", amount="5", paid_on="2026-02-02",
        payer_contact=sly,
    )  # fmt: skip

    content, _ = accounting.write_export(org, fmt="csv", **YEAR)

    assert rows(content, ";")[1][6] == "Boutique =HYPERLINK(1) X"
    assert not any(cell.startswith("=") for row in rows(content, ";") for cell in row)


def test_bad_range_or_format(org):
    with pytest.raises(ValidationError):
        accounting.write_export(org, fmt="xml", **YEAR)
    with pytest.raises(ValidationError):
        accounting.write_export(org, fmt="fec", start=YEAR["end"], end=YEAR["start"])


def test_file_names(org):
    org.siren = "123 456 789"
    assert accounting.file_name(org, end=dt.date(2026, 12, 31), fmt="fec") == (
        "123456789FEC20261231.txt"
    )


def test_the_export_reads_by_chunks(ledger, monkeypatch):
    monkeypatch.setattr(accounting, "CHUNK", 1)
    seen = []

    content, summary = accounting.write_export(ledger, fmt="fec", progress=seen.append, **YEAR)

    assert seen == [1, 2, 3, 4] and summary["entries"] == 4


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amounts=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=10**9),
            st.sampled_from(
                ["don", "adhesion", "billetterie", "crowdfunding", "boutique", "autre"]
            ),
            st.sampled_from(["carte", "cheque", "especes", "virement", "prelevement", "autre"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_set_of_payments_balances(org, amounts):
    payer = contacts.create_contact(organization=org, actor=SYSTEM, data={"last_name": "P"})
    for cents, kind, method in amounts:
        services.create_payment(
            organization=org, actor=SYSTEM, kind=kind, amount_cents=cents, paid_on="2026-04-01",
            method=method, payer_contact=payer,
        )  # fmt: skip

    _, summary = accounting.write_export(org, fmt="fec", **YEAR)

    assert summary["debit_cents"] == summary["credit_cents"]
    assert summary["debit_cents"] >= sum(cents for cents, _, _ in amounts)
