"""Isolation cases of the payment tables, the payment pages and the card sections."""

from __future__ import annotations

from tests.isolation import Case, World, Write, pk_of

KINDS = ["don", "adhesion", "billetterie", "crowdfunding", "boutique", "autre"]


def _payment(w: World) -> dict:
    return {
        "kind": "don",
        "amount": "25,50",
        "paid_on": "2026-04-02",
        "status": "paye",
        "method": "carte",
        "payer_contact": w.contact.pk,
    }


CASES: dict[str, Case] = {
    **{f"payment_list_{kind}": Case(view_right=("view", "payments")) for kind in KINDS},
    "payment_totals": Case(view_right=("view", "payments")),
    "payment_validity": Case(view_right=("view", "payments")),
    "payment_contact_search": Case(view_right=("view", "contacts")),
    "payment_structure_search": Case(view_right=("view", "structures")),
    "payment_create": Case(
        view_right=("add", "payments"),
        writes=[Write("post", ("add", "payments"), _payment)],
    ),
    "payment_detail": Case(kwargs=pk_of("payment"), view_right=("view", "payments"), scoped=True),
    "payment_edit": Case(
        kwargs=pk_of("payment"),
        view_right=("change", "payments"),
        scoped=True,
        writes=[Write("post", ("change", "payments"), _payment)],
    ),
    "payment_delete": Case(
        kwargs=pk_of("membership_payment"),
        view_right=("delete", "payments"),
        scoped=True,
        writes=[Write("post", ("delete", "payments"))],
    ),
    "contact_payments": Case(kwargs=pk_of("contact"), view_right=("view", "payments"), scoped=True),
    "structure_payments": Case(
        kwargs=pk_of("structure"), view_right=("view", "payments"), scoped=True
    ),
}
