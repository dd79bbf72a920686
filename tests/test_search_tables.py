"""The same engine on the structures, interactions and payments tables."""

from __future__ import annotations

import pytest

from lien.contacts import services as contacts
from lien.contacts.models import Contact
from lien.core.audit import Actor
from lien.interactions import services as interactions
from lien.payments import services as payments
from lien.search import services as segments
from lien.search.criteria import INTERACTIONS, PAYMENTS, STRUCTURES, TreeError
from lien.search.tree import search
from tests.conftest import add_member

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


@pytest.fixture
def crowd(org):
    volunteer = contacts.save_label(
        organization=org, actor=SYSTEM, name="Bénévole", color="#000000"
    )
    alice = contacts.create_contact(organization=org, actor=SYSTEM, data={"last_name": "Alice"})
    bob = contacts.create_contact(organization=org, actor=SYSTEM, data={"last_name": "Bob"})
    contacts.add_labels(
        organization=org, actor=SYSTEM, model=Contact, ids=[alice.pk], labels=[volunteer]
    )
    for who, amount in [(alice, "30"), (bob, "300"), (alice, "5")]:
        payments.create_payment(
            organization=org, actor=SYSTEM, kind="don", amount=amount, paid_on="2026-05-02",
            payer_contact=who,
        )  # fmt: skip
    interactions.record_interaction(
        organization=org, actor=SYSTEM, contact=bob, occurred_at="2026-05-03",
        type="Appel téléphonique",
    )  # fmt: skip
    segment = segments.save_segment(
        organization=org, actor=SYSTEM, name="Bénévoles",
        tree={"field": "labels", "op": "any", "value": [volunteer.pk]},
    )  # fmt: skip
    return {"alice": alice, "bob": bob, "segment": segment}


def test_payments_of_the_contacts_of_a_segment(org, crowd):
    tree = {
        "group": "all",
        "children": [
            {"field": "payer", "op": "matches",
             "value": {"field": "segment", "op": "in", "value": crowd["segment"].pk}},
            {"field": "amount", "op": "gte", "value": 10},
        ],
    }  # fmt: skip

    found = search(org, tree, registry=PAYMENTS)

    assert [(p.payer_contact, p.amount_cents) for p in found] == [(crowd["alice"], 3000)]


def test_interactions_by_type_and_contact(org, crowd):
    tree = {"field": "contact", "op": "not_matches",
            "value": {"field": "segment", "op": "in", "value": crowd["segment"].pk}}  # fmt: skip

    found = search(org, tree, registry=INTERACTIONS)

    assert {i.contact for i in found} == {crowd["bob"]}
    assert {i.type.name for i in found} == {"Paiement", "Appel téléphonique"}


def test_structures_table(org):
    contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie de Lyon"})
    contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Boulangerie"})

    found = search(org, {"field": "name", "op": "contains", "value": "lyon"}, registry=STRUCTURES)

    assert [s.name for s in found] == ["Mairie de Lyon"]


def test_a_table_the_member_may_not_see(org, crowd):
    reader = add_member(org, "bene@example.org", "Lecteur")
    reader.profile.hide_payment_data = True
    reader.profile.save()

    with pytest.raises(TreeError, match="pas accès"):
        search(org, {"group": "all"}, registry=PAYMENTS, membership=reader)
