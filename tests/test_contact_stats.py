"""The per-contact search aggregates (`Contact.stat_*`) stay exact whatever the services do:
after any random sequence of interaction and payment writes, every contact's columns equal
a brute-force reading of its rows (hypothesis draws the sequences)."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lien.contacts import services as contacts
from lien.contacts.models import Contact
from lien.contacts.stats import refresh_contact_stats
from lien.core.audit import Actor
from lien.interactions import services as interactions
from lien.interactions.defaults import seed_interaction_types
from lien.interactions.models import ContactInteractionYear, Interaction, InteractionType
from lien.payments import services as payments
from lien.payments.models import ContactPaymentYear, MembershipPeriod, Payment
from tests.conftest import make_organization

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()
STAT_FIELDS = [f.name for f in Contact._meta.fields if f.name.startswith("stat_")]


def expected_stats(organization) -> dict[int, dict]:
    """Each contact's aggregates, read row by row in Python."""
    result = {}
    for contact in Contact.objects.for_org(organization):
        rows = list(Interaction.objects.filter(contact=contact))
        moments = [i.occurred_at for i in rows]
        active = [i.occurred_at for i in rows if i.status == "active"]
        paid = list(Payment.objects.filter(payer_contact=contact, status=Payment.Status.PAID))
        amounts = [p.amount_cents for p in paid]
        days = [p.paid_on for p in paid]
        periods = list(MembershipPeriod.objects.filter(contact=contact))
        result[contact.pk] = {
            "stat_interactions": len(rows),
            "stat_first_interaction_at": min(moments, default=None),
            "stat_last_interaction_at": max(moments, default=None),
            "stat_last_active_at": max(active, default=None),
            "stat_payments": len(paid),
            "stat_paid_cents": sum(amounts),
            "stat_max_paid_cents": max(amounts, default=None),
            "stat_first_paid_on": min(days, default=None),
            "stat_last_paid_on": max(days, default=None),
            "stat_membership_min_end": min((p.end_date for p in periods), default=None),
            "stat_membership_max_end": max((p.end_date for p in periods), default=None),
            "stat_membership_max_start": max((p.start_date for p in periods), default=None),
        }
    return result


def expected_years(organization) -> set[tuple]:
    """(contact, year, interactions, active) per calendar year in local time."""
    counts: dict[tuple[int, int], list[int]] = {}
    for interaction in Interaction.objects.for_org(organization):
        key = (interaction.contact_id, timezone.localtime(interaction.occurred_at).year)
        count = counts.setdefault(key, [0, 0])
        count[0] += 1
        count[1] += interaction.status == "active"
    return {(*key, n, active) for key, (n, active) in counts.items()}


def expected_payment_years(organization) -> set[tuple]:
    """(payer, year, kind, payments, total, largest) of paid payments."""
    sums: dict[tuple, list[int]] = {}
    for payment in Payment.objects.for_org(organization).filter(status="paye"):
        if payment.payer_contact_id is None:
            continue
        key = (payment.payer_contact_id, payment.paid_on.year, payment.kind)
        row = sums.setdefault(key, [0, 0, 0])
        row[0] += 1
        row[1] += payment.amount_cents
        row[2] = max(row[2], payment.amount_cents)
    return {(*key, *row) for key, row in sums.items()}


def stored_payment_years(organization) -> set[tuple]:
    return set(
        ContactPaymentYear.objects.for_org(organization).values_list(
            "contact_id", "year", "kind", "payments", "paid_cents", "max_cents"
        )
    )


def stored_stats(organization) -> dict[int, dict]:
    return {
        row["pk"]: {k: v for k, v in row.items() if k != "pk"}
        for row in Contact.objects.for_org(organization).values("pk", *STAT_FIELDS)
    }


def stored_years(organization) -> set[tuple]:
    return set(
        ContactInteractionYear.objects.for_org(organization).values_list(
            "contact_id", "year", "interactions", "active"
        )
    )


def test_the_aggregates_cover_every_stat_column():
    assert len(STAT_FIELDS) == 12


def _moment(rng: random.Random) -> dt.datetime:
    day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(900))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(rng.randrange(24), 30)))


def _step(rng: random.Random, org, people: list[Contact], type_names: list[str]) -> None:
    """One write through a service, picked at random."""
    action = rng.choice(
        ["one", "many", "batch", "move", "delete", "pay", "change", "unpay", "remove"]
    )
    manual = list(Interaction.objects.for_org(org).filter(source="manual"))
    payments_made = list(Payment.objects.for_org(org))
    if action == "one":
        interactions.record_interaction(
            organization=org, actor=SYSTEM, contact=rng.choice(people),
            occurred_at=_moment(rng), type=rng.choice(type_names),
            status=rng.choice(["active", "passive", None]),
        )  # fmt: skip
    elif action == "many":
        interactions.record_interactions(
            organization=org, actor=SYSTEM,
            contact_ids=[c.pk for c in rng.sample(people, rng.randint(1, len(people)))],
            occurred_at=_moment(rng), type=rng.choice(type_names),
            status=rng.choice(["active", "passive"]),
        )  # fmt: skip
    elif action == "batch":
        interactions.record_interactions_items(
            organization=org,
            actor=SYSTEM,
            items=[
                {
                    "contact": rng.choice(people).pk,
                    "occurred_at": _moment(rng).isoformat(),
                    "type": rng.choice(type_names),
                    "status": rng.choice(["active", "passive"]),
                }
                for _ in range(rng.randint(1, 4))
            ],
        )
    elif action == "move" and manual:
        interaction = rng.choice(manual)
        change = rng.choice(["contact", "occurred_at", "status"])
        value = {
            "contact": rng.choice(people),
            "occurred_at": _moment(rng),
            "status": rng.choice(["active", "passive"]),
        }[change]
        interactions.update_interaction(
            organization=org, actor=SYSTEM, interaction=interaction, **{change: value}
        )
    elif action == "delete" and manual:
        interactions.delete_interaction(
            organization=org, actor=SYSTEM, interaction=rng.choice(manual)
        )
    elif action == "pay":
        payer = rng.choice(people)
        kind = rng.choice(["don", "adhesion", "billetterie"])
        values = {
            "kind": kind,
            "amount": str(rng.choice([5, 20, 50, 120, 500])),
            "paid_on": (dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(900))).isoformat(),
            "status": rng.choice(["paye", "paye", "en_attente", "rembourse"]),
            "payer_contact": payer,
        }
        if kind == "adhesion" and rng.random() < 0.5:
            values["beneficiary"] = rng.choice(people)
        payments.create_payment(organization=org, actor=SYSTEM, **values)
    elif action == "change" and payments_made:
        payment = rng.choice(payments_made)
        change = rng.choice(["status", "amount", "paid_on", "payer_contact"])
        value = {
            "status": rng.choice(["paye", "annule", "rembourse", "en_attente"]),
            "amount": str(rng.choice([10, 75, 300])),
            "paid_on": (dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(900))).isoformat(),
            "payer_contact": rng.choice(people),
        }[change]
        payments.update_payment(organization=org, actor=SYSTEM, payment=payment, **{change: value})
    elif action == "unpay" and payments_made:
        payments.delete_payment(organization=org, actor=SYSTEM, payment=rng.choice(payments_made))
    elif action == "remove" and payments_made:
        interactions.remove_for_source(organization=org, source_object=rng.choice(payments_made))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32), steps=st.integers(1, 25))
def test_services_keep_the_aggregates_exact(db, seed, steps):
    rng = random.Random(seed)
    org = make_organization(f"Stats {uuid.uuid4().hex[:8]}", f"{uuid.uuid4().hex[:8]}@x.fr")
    seed_interaction_types(org)
    type_names = list(
        InteractionType.objects.for_org(org).filter(is_system=False).values_list("name", flat=True)
    )[:4]
    people = [
        contacts.create_contact(organization=org, actor=SYSTEM, data={"last_name": f"P{i}"})
        for i in range(5)
    ]
    for _ in range(steps):
        # A refused write changes nothing; the aggregates must still hold.
        with contextlib.suppress(ValidationError):
            _step(rng, org, people, type_names)
        assert stored_stats(org) == expected_stats(org)
        assert stored_years(org) == expected_years(org)
        assert stored_payment_years(org) == expected_payment_years(org)


def test_a_full_recompute_repairs_and_writes_only_what_differs(org, django_assert_num_queries):
    seed_interaction_types(org)
    anne = contacts.create_contact(organization=org, actor=SYSTEM, data={"last_name": "Anne"})
    interactions.record_interaction(
        organization=org, actor=SYSTEM, contact=anne, occurred_at="2025-03-01T10:00:00+01:00",
        type="Appel téléphonique",
    )  # fmt: skip
    payments.create_payment(
        organization=org, actor=SYSTEM, kind="don", amount="40", paid_on="2025-03-02",
        payer_contact=anne,
    )  # fmt: skip
    right = stored_stats(org)
    assert right[anne.pk]["stat_paid_cents"] == 4000
    assert right[anne.pk]["stat_interactions"] == 2  # the call and the payment's own
    Contact.objects.filter(pk=anne.pk).update(stat_interactions=0, stat_paid_cents=7)
    refresh_contact_stats(org)
    assert stored_stats(org) == right == expected_stats(org)
    ContactInteractionYear.objects.for_org(org).update(interactions=40)
    refresh_contact_stats(org)
    assert stored_years(org) == expected_years(org) == {(anne.pk, 2025, 2, 2)}


def test_another_organisation_is_never_touched(org, other_org):
    seed_interaction_types(org)
    mine = contacts.create_contact(organization=org, actor=SYSTEM, data={"last_name": "A"})
    theirs = contacts.create_contact(organization=other_org, actor=SYSTEM, data={"last_name": "B"})
    Contact.objects.filter(pk=theirs.pk).update(stat_interactions=99)
    interactions.record_interaction(
        organization=org, actor=SYSTEM, contact=mine, occurred_at="2025-03-01T10:00:00+01:00",
        type="Appel téléphonique",
    )  # fmt: skip
    refresh_contact_stats(org)
    refresh_contact_stats(org, [theirs.pk])  # not of this organisation: nothing happens
    assert Contact.objects.get(pk=theirs.pk).stat_interactions == 99
    assert Contact.objects.get(pk=mine.pk).stat_interactions == 1


def test_the_repair_command_recomputes_one_or_every_organisation(org, other_org):
    from io import StringIO

    from django.core.management import CommandError, call_command

    seed_interaction_types(org)
    anne = contacts.create_contact(organization=org, actor=SYSTEM, data={"last_name": "Anne"})
    interactions.record_interaction(
        organization=org, actor=SYSTEM, contact=anne, occurred_at="2025-03-01T10:00:00+01:00",
        type="Appel téléphonique",
    )  # fmt: skip
    Contact.objects.filter(pk=anne.pk).update(stat_interactions=0)
    out = StringIO()
    call_command("refresh_contact_stats", organization=org.slug, stdout=out)
    assert Contact.objects.get(pk=anne.pk).stat_interactions == 1
    assert f"{org.slug} : résumés recalculés" in out.getvalue()
    call_command("refresh_contact_stats", stdout=out)
    assert other_org.slug in out.getvalue()
    with pytest.raises(CommandError, match="Aucune association"):
        call_command("refresh_contact_stats", organization="nulle-part")
