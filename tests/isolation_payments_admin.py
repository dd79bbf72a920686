"""Isolation cases of the campaign pages, the payment settings and the accounting export."""

from __future__ import annotations

from tests.isolation import Case, World, Write, pk_of


def _campaign(w: World) -> dict:
    return {"name": f"Gala {w.marker}", "kind": "billetterie", "goal": "2 000"}


def _settings(w: World) -> dict:
    return {
        "auto_labels": "on",
        "membership_mode": "calendar",
        "season_start_month": "9",
        "renewal_days": "30",
        "journal_code": "BQ",
        "cash_journal_code": "CA",
        **{f"income_{k}": "754" for k in ("don", "crowdfunding")},
        "income_adhesion": "756",
        "income_billetterie": "706",
        "income_boutique": "707",
        "income_autre": "758",
        **{f"treasury_{m}": "512" for m in ("carte", "cheque", "virement", "prelevement", "autre")},
        "treasury_especes": "530",
    }


CASES: dict[str, Case] = {
    "campaign_list": Case(view_right=("view", "payments")),
    "campaign_create": Case(
        view_right=("add", "payments"),
        writes=[Write("post", ("add", "payments"), _campaign)],
    ),
    "campaign_detail": Case(kwargs=pk_of("campaign"), view_right=("view", "payments"), scoped=True),
    "campaign_edit": Case(
        kwargs=pk_of("campaign"),
        view_right=("change", "payments"),
        scoped=True,
        writes=[Write("post", ("change", "payments"), _campaign)],
    ),
    # The world's campaign has payments: the service refuses, the page says why (302).
    "campaign_delete": Case(
        kwargs=pk_of("campaign"),
        view_right=("delete", "payments"),
        scoped=True,
        writes=[Write("post", ("delete", "payments"))],
    ),
    "settings_payments": Case(
        view_right=("view", "settings"),
        writes=[Write("post", ("change", "settings"), _settings)],
    ),
    "settings_payments_apply": Case(get=False, writes=[Write("post", ("change", "settings"))]),
    "accounting_export": Case(
        view_right=("view", "exports"),
        writes=[
            Write(
                "post",
                ("add", "exports"),
                lambda w: {"start": "2026-01-01", "end": "2026-12-31", "fmt": "fec"},
            )
        ],
    ),
    "accounting_export_preview": Case(view_right=("view", "exports")),
}
