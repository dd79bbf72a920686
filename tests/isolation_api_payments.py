"""Isolation cases of the payments app's API (see tests/isolation.py).

The world's donation, membership payment and campaign are the rows the detail URLs
point at; the campaign deleted here is an unused one made once per world (the
world's own has a payment: deleting it is a 409).
"""

from __future__ import annotations

from lien.core.audit import Actor
from lien.payments import services
from lien.payments.models import Campaign, MembershipPeriod
from tests.isolation import Case, World, Write, pk_of

PAYMENTS = ("view", "payments")


def unused_campaign(w: World) -> dict:
    name = f"Isolation {w.organization.pk}"
    found = Campaign.objects.for_org(w.organization).filter(name=name).first()
    found = found or services.save_campaign(
        organization=w.organization, actor=Actor.system(), name=name
    )
    return {"pk": found.pk}


def period_of(w: World) -> dict:
    period = MembershipPeriod.objects.for_org(w.organization).get(payment=w.membership_payment)
    return {"pk": period.pk}


def donation(w: World) -> dict:
    return {"kind": "don", "amount": "20", "paid_on": "2026-03-01", "payer_contact": w.contact.pk}


CASES: dict[str, Case] = {
    "api-payments-list": Case(
        api=True,
        view_right=PAYMENTS,
        writes=[Write("post", ("add", "payments"), donation)],
    ),
    "api-payments-detail": Case(
        api=True,
        kwargs=pk_of("payment"),
        view_right=PAYMENTS,
        scoped=True,
        writes=[
            Write("patch", ("change", "payments"), lambda w: {"amount": "55,00"}),
            Write("delete", ("delete", "payments")),
        ],
    ),
    "api-campaigns-list": Case(
        api=True,
        view_right=PAYMENTS,
        writes=[Write("post", ("add", "payments"), lambda w: {"name": "Nouvelle campagne"})],
    ),
    "api-campaigns-detail": Case(
        api=True,
        kwargs=unused_campaign,
        view_right=PAYMENTS,
        scoped=True,
        writes=[
            Write("patch", ("change", "payments"), lambda w: {"goal_cents": 100_000}),
            Write("delete", ("delete", "payments")),
        ],
    ),
    "api-memberships-list": Case(api=True, view_right=PAYMENTS),
    "api-memberships-detail": Case(api=True, kwargs=period_of, view_right=PAYMENTS, scoped=True),
    "api-memberships-status": Case(api=True, view_right=PAYMENTS),
}
