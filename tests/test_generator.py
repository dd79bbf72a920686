"""The bench generator, at a tiny size on the test database."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps

from bench.generate import generate
from lien.contacts.models import Contact, Household, Structure
from lien.contacts.normalize import normalize_contact_fields
from lien.contacts.stats import refresh_contact_stats
from lien.core import demo_data
from lien.core.models import Membership, Organization
from lien.interactions.models import Interaction
from lien.payments.models import MembershipPeriod, Payment


@pytest.mark.parametrize(
    ("model", "columns"),
    [
        ("contacts.Household", demo_data.HOUSEHOLD_COLUMNS),
        ("contacts.Contact", demo_data.CONTACT_COLUMNS),
        ("contacts.Structure", demo_data.STRUCTURE_COLUMNS),
        ("contacts.ContactStructureLink", demo_data.LINK_COLUMNS),
        ("contacts.ContactLabel", demo_data.CONTACT_LABEL_COLUMNS),
        ("contacts.StructureLabel", demo_data.STRUCTURE_LABEL_COLUMNS),
        ("contacts.GroupMembership", demo_data.GROUP_MEMBER_COLUMNS),
        ("payments.Payment", demo_data.PAYMENT_COLUMNS),
        ("payments.MembershipPeriod", demo_data.MEMBERSHIP_COLUMNS),
        ("interactions.Interaction", demo_data.INTERACTION_COLUMNS),
    ],
)
def test_raw_rows_name_every_column(model, columns):
    # Raw writers bypass field defaults: each row must give every column but the keys.
    # The search aggregates (stat_*) are computed after the load, by refresh_contact_stats.
    fields = {
        f.attname
        for f in apps.get_model(model)._meta.concrete_fields
        if not f.attname.startswith("stat_")
    }
    assert set(columns) == fields - {"id", "organization_id"}


@pytest.mark.parametrize(
    ("digits", "expected"), [("73282932", "732829320"), ("4040400400", "40404004000")]
)
def test_luhn_complete(digits, expected):
    assert demo_data.luhn_complete(digits) == expected


@pytest.mark.django_db
def test_generator_writes_exact_counts():
    # When the generator builds a tiny association
    out = StringIO()
    written = generate(
        contacts=300, interactions=2000, payments=400, structures=20, slug="bench-test", out=out
    )

    # Then every table holds exactly what was asked
    organization = Organization.objects.get(slug="bench-test")
    assert Contact.objects.for_org(organization).count() == 300
    assert Structure.objects.for_org(organization).count() == 20
    assert Payment.objects.for_org(organization).count() == 400
    assert Interaction.objects.for_org(organization).count() == 2000
    payment_interactions = Interaction.objects.for_org(organization).filter(source="payment")
    # The payer's and a different beneficiary's, for every payment that took place.
    assert set(payment_interactions.values_list("source_id", flat=True)) == set(
        Payment.objects.for_org(organization)
        .exclude(status__in=["annule", "refuse"])
        .values_list("pk", flat=True)
    )
    paid_memberships = Payment.objects.for_org(organization).filter(kind="adhesion", status="paye")
    assert MembershipPeriod.objects.for_org(organization).count() == paid_memberships.count()
    assert written["contacts_contact"] == 300
    assert written["interactions_interaction"] == 2000
    assert Membership.objects.get(organization=organization).user.email == "bench@lien.local"
    assert "Association « bench-test »" in out.getvalue()
    # The search aggregates were computed at the end: a recompute changes nothing.
    before = list(Contact.objects.for_org(organization).order_by("pk").values())
    assert sum(row["stat_interactions"] for row in before) == 2000
    refresh_contact_stats(organization)
    assert list(Contact.objects.for_org(organization).order_by("pk").values()) == before


@pytest.mark.django_db
def test_generated_rows_read_back_through_the_orm():
    generate(contacts=100, interactions=500, slug="bench-orm", out=StringIO())
    organization = Organization.objects.get(slug="bench-orm")

    # Households, JSON and dates written raw come back as the ORM expects.
    for contact in Contact.objects.for_org(organization).select_related("household"):
        assert isinstance(contact.custom, dict)
        if contact.household:
            assert contact.household.organization_id == organization.pk
        stored = (contact.phone_e164, contact.first_name_normalized, contact.last_name_normalized)
        normalize_contact_fields(contact)
        assert stored == (
            contact.phone_e164,
            contact.first_name_normalized,
            contact.last_name_normalized,
        )
    assert Household.objects.for_org(organization).exists()
    latest = Interaction.objects.for_org(organization).newest_first().first()
    assert latest.occurred_at.tzinfo is not None
    # Ids were reserved properly: the ORM can still insert after a raw load.
    assert Contact.objects.create(organization=organization, last_name="Après").pk > max(
        Contact.objects.for_org(organization)
        .exclude(last_name="Après")
        .values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_generator_refuses_to_overwrite_without_reset():
    generate(contacts=10, interactions=30, slug="bench-twice", out=StringIO())

    with pytest.raises(SystemExit) as error:
        generate(contacts=10, interactions=30, slug="bench-twice", out=StringIO())

    assert "--reset" in str(error.value)
    generate(contacts=10, interactions=30, slug="bench-twice", reset=True, out=StringIO())
    organization = Organization.objects.get(slug="bench-twice")
    assert Contact.objects.for_org(organization).count() == 10
    assert Contact.objects.count() == 10
