"""The accounting export: paid payments as balanced journal entries (CSV journal or FEC).

Each paid payment is one entry of two lines: the treasury account of its method is
debited (512 banque, 530 caisse…) and the income account of its kind is credited
(754 dons, 756 cotisations…). Lien is not an accounting package: the accountant
imports this file. The totals are checked before the file is written: an export
whose debits differ from its credits is never produced.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from lien.core.models import Organization
from lien.payments.models import Payment, PaymentKind, PaymentSettings

CHUNK = 5000
FORMATS = {
    "csv": "Journal CSV (Excel)",
    "fec": "FEC, séparateur tabulation",
    "fec_pipe": "FEC, séparateur barre verticale |",
}
ACCOUNT_NAMES = {
    "512": "Banque",
    "530": "Caisse",
    "754": "Dons manuels",
    "756": "Cotisations",
    "706": "Prestations de services",
    "707": "Ventes de marchandises",
    "758": "Produits divers de gestion courante",
}
FEC_COLUMNS = [
    "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
    "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
    "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise",
]  # fmt: skip
CSV_COLUMNS = [
    "Date", "Journal", "N° écriture", "Compte", "Libellé du compte", "Pièce", "Libellé",
    "Débit", "Crédit",
]  # fmt: skip


@dataclass(frozen=True)
class Line:
    journal: str
    journal_name: str
    number: int
    day: dt.date
    account: str
    account_name: str
    piece: str
    text: str
    debit: int  # cents
    credit: int


def decimal_comma(cents: int) -> str:
    """1234550 → "12345,50": the FEC's amount, no thousands separator."""
    euros, rest = divmod(cents, 100)
    return f"{euros},{rest:02d}"


def _account_name(account: str, fallback: str) -> str:
    return ACCOUNT_NAMES.get(account) or ACCOUNT_NAMES.get(account[:3]) or fallback


def paid_payments(organization: Organization, start: dt.date, end: dt.date):
    return Payment.objects.for_org(organization).filter(
        status=Payment.Status.PAID, paid_on__gte=start, paid_on__lte=end
    )


def journal_lines(
    organization: Organization, settings: PaymentSettings, start: dt.date, end: dt.date,
    progress=None,
) -> Iterator[Line]:  # fmt: skip
    """Two lines per paid payment, in date order, read by chunks (keyset), never all at once."""
    # Plain strings once: lazy translations resolved per entry cost a third of the export.
    kinds = {key: str(label) for key, label in PaymentKind.choices}
    methods = {key: str(label) for key, label in Payment.Method.choices}
    payments = paid_payments(organization, start, end).order_by("paid_on", "id")
    number = 0
    last: tuple[dt.date, int] | None = None
    done = 0
    while True:
        chunk = payments
        if last is not None:
            chunk = chunk.filter(paid_on__gte=last[0]).exclude(paid_on=last[0], id__lte=last[1])
        rows = list(
            chunk.values_list(
                "id", "paid_on", "kind", "method", "amount_cents", "external_id",
                "payer_contact__first_name", "payer_contact__last_name", "payer_structure__name",
            )[:CHUNK]
        )  # fmt: skip
        if not rows:
            break
        for pk, day, kind, method, cents, external_id, first, last_name, structure in rows:
            number += 1
            cash = method == Payment.Method.CASH
            journal = settings.cash_journal_code if cash else settings.journal_code
            journal_name = "Caisse" if cash else "Banque"
            treasury = settings.treasury_accounts.get(method) or "512"
            income = settings.income_accounts.get(kind) or "758"
            payer = structure or f"{first} {last_name}".strip() or f"payeur {pk}"
            text = f"{kinds.get(kind, kind)} {payer}"[:200]
            piece = external_id[:40] if external_id else f"PAI{pk}"
            common = dict(journal=journal, journal_name=journal_name, number=number, day=day,
                          piece=piece, text=text)  # fmt: skip
            yield Line(account=treasury, account_name=_account_name(treasury, methods[method]),
                       debit=cents, credit=0, **common)  # fmt: skip
            yield Line(account=income, account_name=_account_name(income, kinds[kind]),
                       debit=0, credit=cents, **common)  # fmt: skip
        done += len(rows)
        if progress:
            progress(done)
        last = (rows[-1][1], rows[-1][0])


def write_export(
    organization: Organization, *, start: dt.date, end: dt.date, fmt: str, progress=None
) -> tuple[bytes, dict]:
    """The whole file and its summary; raises if debits and credits differ."""
    from lien.payments.services import payment_settings

    if fmt not in FORMATS:
        raise ValidationError({"format": f"Format inconnu : « {fmt} »."})
    if end < start:
        raise ValidationError({"end": "La date de fin est avant la date de début."})
    settings = payment_settings(organization)
    buffer = io.StringIO()
    if fmt == "csv":
        buffer.write("\ufeff")
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
    else:
        separator = "\t" if fmt == "fec" else "|"
        writer = csv.writer(
            buffer, delimiter=separator, lineterminator="\r\n", quoting=csv.QUOTE_NONE,
            escapechar=None, quotechar=None,  # a payer's « "Les Amis" » stays as typed
        )  # fmt: skip
        writer.writerow(FEC_COLUMNS)
    valid = timezone.localdate().strftime("%Y%m%d")
    debit = credit = entries = lines = 0
    entry_balance: dict[int, int] = {}
    for line in journal_lines(organization, settings, start, end, progress):
        debit += line.debit
        credit += line.credit
        lines += 1
        entry_balance[line.number] = entry_balance.get(line.number, 0) + line.debit - line.credit
        entries = line.number
        if fmt == "csv":
            writer.writerow([
                line.day.strftime("%d/%m/%Y"), line.journal, line.number, line.account,
                line.account_name, line.piece, _neutralised(line.text),
                decimal_comma(line.debit) if line.debit else "",
                decimal_comma(line.credit) if line.credit else "",
            ])  # fmt: skip
        else:
            day = line.day.strftime("%Y%m%d")
            writer.writerow([
                line.journal, line.journal_name, line.number, day, line.account,
                line.account_name, "", "", _fec_text(line.piece, separator), day,
                _fec_text(line.text, separator), decimal_comma(line.debit),
                decimal_comma(line.credit), "", "", valid, "", "",
            ])  # fmt: skip
    unbalanced = [number for number, balance in entry_balance.items() if balance]
    if debit != credit or unbalanced:
        raise ValueError(
            f"Export déséquilibré : débits {decimal_comma(debit)}, crédits {decimal_comma(credit)}."
        )
    summary = {
        "entries": entries,
        "lines": lines,
        "debit_cents": debit,
        "credit_cents": credit,
        "message": f"{entries} écritures, {lines} lignes ; débits = crédits = "
        f"{decimal_comma(debit)} €.",
    }
    return buffer.getvalue().encode("utf-8"), summary


def _fec_text(text: str, separator: str) -> str:
    """FEC fields carry no separator, no line break."""
    return " ".join(text.replace(separator, " ").split())


def _neutralised(text: str) -> str:
    """A spreadsheet must not run a payer's name as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def file_name(organization: Organization, *, end: dt.date, fmt: str) -> str:
    if fmt == "csv":
        return f"journal-{end:%Y%m%d}.csv"
    siren = "".join(ch for ch in organization.siren if ch.isdigit()) or "000000000"
    return f"{siren}FEC{end:%Y%m%d}.txt"
