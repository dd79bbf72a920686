"""Segments: saved trees that stay up to date, their nightly count and entry/exit journal,
relative dates at a fixed day, rights, and trees that point at the wrong node."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from lien.contacts import services as contacts
from lien.contacts.models import Contact, Label
from lien.core.audit import Actor
from lien.core.models import Profile
from lien.payments import services as payments
from lien.search import services
from lien.search.criteria import CONTACTS, TreeError
from lien.search.models import SegmentCount, SegmentEvent, SegmentMember
from lien.search.tree import context, describe_tree, explain, search
from tests.conftest import add_member

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()
DAY = dt.date(2026, 11, 3)
THREE_MONTHS_AGO = {"type": "ago", "n": 3, "unit": "months"}


def person(org, name: str, **data) -> Contact:
    return contacts.create_contact(organization=org, actor=SYSTEM, data={"last_name": name, **data})


def label(org, name: str) -> Label:
    return contacts.save_label(organization=org, actor=SYSTEM, name=name, color="#336699")


def tag(org, who: Contact, what: Label) -> None:
    contacts.add_labels(organization=org, actor=SYSTEM, model=Contact, ids=[who.pk], labels=[what])


def has_label(what: Label) -> dict:
    return {"field": "labels", "op": "any", "value": [what.pk]}


def test_a_segment_is_dynamic(org):
    volunteer = label(org, "Bénévole")
    segment = services.save_segment(
        organization=org, actor=SYSTEM, name="Bénévoles de Lyon",
        tree={"group": "all", "children": [has_label(volunteer),
                                           {"field": "city", "op": "equals", "value": "Lyon"}]},
    )  # fmt: skip
    alice = person(org, "Alice", city="Lyon")
    tag(org, alice, volunteer)
    assert list(services.members(segment)) == [alice]

    bob = person(org, "Bob", city="lyon")
    tag(org, bob, volunteer)

    assert set(services.members(segment)) == {alice, bob}


@pytest.mark.parametrize(
    ("tree", "path", "words"),
    [
        ({"group": "some", "children": []}, "group", "all, any ou none"),
        ({"group": "all", "children": [{"field": "pointure", "op": "eq", "value": 4}]},
         "children[0].field", "Champ inconnu"),
        ({"group": "all", "children": [{"group": "any", "children": [
            {"field": "city", "op": "sounds_like", "value": "Lyon"}]}]},
         "children[0].children[0].op", "Opérateur inconnu"),
        ({"group": "all", "children": [{"field": "interactions.count", "op": "gte", "value": "4"}]},
         "children[0].value", "nombre"),
        ({"field": "created_at", "op": "in", "value": {"type": "last", "n": 3, "unit": "lunes"}},
         "value", "Unité"),
        ({"field": "labels", "op": "any", "value": [999999]}, "value", "Introuvable"),
        ({"field": "payments.total", "op": "gt", "value": 10, "where": {"kinds": ["legs"]}},
         "where.kinds", "Valeur inconnue"),
        ({"field": "city", "op": "equals", "value": "Lyon", "colour": "red"},
         "colour", "Clé inconnue"),
    ],
)  # fmt: skip
def test_a_faulty_tree_says_which_node(org, tree, path, words):
    with pytest.raises(TreeError) as error:
        search(org, tree)

    assert error.value.path == path
    assert words in error.value.message


def test_ids_of_another_organisation_are_refused(org, other_org):
    theirs = label(other_org, "Secret")

    with pytest.raises(TreeError, match="Introuvable"):
        search(org, has_label(theirs))


def test_relative_dates_resolve_at_the_given_day(org):
    recent = person(org, "Récent")
    old = person(org, "Ancien")
    Contact.objects.filter(pk=recent.pk).update(
        created_at=dt.datetime(2026, 10, 20, 12, tzinfo=dt.UTC)
    )
    Contact.objects.filter(pk=old.pk).update(created_at=dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC))
    last_month = {
        "field": "created_at",
        "op": "in",
        "value": {"type": "last", "n": 1, "unit": "months"},
    }

    assert list(search(org, last_month, today=DAY)) == [recent]
    assert list(search(org, last_month, today=dt.date(2026, 6, 20))) == [old]


def test_segments_in_trees_and_no_cycles(org):
    volunteer = label(org, "Bénévole")
    alice = person(org, "Alice")
    tag(org, alice, volunteer)
    person(org, "Bob")
    inner = services.save_segment(
        organization=org, actor=SYSTEM, name="B", tree=has_label(volunteer)
    )
    outer = services.save_segment(
        organization=org, actor=SYSTEM, name="Pas B",
        tree={"field": "segment", "op": "not_in", "value": inner.pk},
    )  # fmt: skip
    assert [c.last_name for c in services.members(outer)] == ["Bob"]

    with pytest.raises(ValidationError) as error:
        services.save_segment(
            organization=org, actor=SYSTEM, segment=inner, name="B",
            tree={"field": "segment", "op": "in", "value": outer.pk},
        )  # fmt: skip
    assert "lui-même" in str(error.value.message_dict["tree"])
    with pytest.raises(ValidationError, match="utilisé par : Pas B"):
        services.delete_segment(organization=org, actor=SYSTEM, segment=inner)


def test_save_refuses_a_bad_name_and_tree_at_once(org):
    services.save_segment(organization=org, actor=SYSTEM, name="Donateurs", tree={"group": "all"})

    with pytest.raises(ValidationError) as error:
        services.save_segment(
            organization=org, actor=SYSTEM, name="donateurs", tree={"field": "x", "op": "y"}
        )

    assert set(error.value.message_dict) == {"name", "tree"}


def test_a_member_who_cannot_see_payments_cannot_use_payment_criteria(org):
    profile = Profile.objects.for_org(org).get(name="Éditeur")
    profile.hide_payment_data = True
    profile.save()
    editor = add_member(org, "editrice@example.org", "Éditeur")
    tree = {"field": "payments.total", "op": "gt", "value": 10}

    with pytest.raises(TreeError, match="non autorisé"):
        search(org, tree, membership=editor)
    assert "payments.total" not in CONTACTS.all(context(org, editor))
    assert "payments.total" in CONTACTS.all(context(org))


def test_the_nightly_record_counts_and_journals_movements(org):
    volunteer = label(org, "Bénévole")
    alice, bob, carol = person(org, "Alice"), person(org, "Bob"), person(org, "Carol")
    tag(org, alice, volunteer)
    tag(org, bob, volunteer)
    segment = services.save_segment(
        organization=org, actor=SYSTEM, name="B", tree=has_label(volunteer)
    )

    first = services.record_segment(segment, today=DAY)
    assert (first.count, first.entered, first.left) == (2, 0, 0)  # the baseline
    assert not SegmentEvent.objects.exists()
    assert services.record_segment(segment, today=DAY) == first  # idempotent on the day

    contacts.remove_labels(
        organization=org, actor=SYSTEM, model=Contact, ids=[bob.pk], labels=[volunteer]
    )
    tag(org, carol, volunteer)
    segment.refresh_from_db()
    second = services.record_segment(segment, today=DAY + dt.timedelta(days=1))

    assert (second.count, second.entered, second.left) == (2, 1, 1)
    moves = set(SegmentEvent.objects.for_org(org).values_list("contact__last_name", "kind", "day"))
    assert moves == {
        ("Carol", "entered", dt.date(2026, 11, 4)),
        ("Bob", "left", dt.date(2026, 11, 4)),
    }
    assert set(SegmentMember.objects.for_org(org).values_list("contact__last_name", flat=True)) == {
        "Alice",
        "Carol",
    }
    segment.refresh_from_db()
    assert (segment.last_count, segment.last_run_on) == (2, dt.date(2026, 11, 4))


def test_the_nightly_task_skips_a_broken_segment(org):
    volunteer = label(org, "Bénévole")
    good = services.save_segment(organization=org, actor=SYSTEM, name="Tous", tree={"group": "all"})
    services.save_segment(organization=org, actor=SYSTEM, name="Cassé", tree=has_label(volunteer))
    volunteer.delete()
    from lien.search.tasks import record_segments

    result = record_segments.enqueue().return_value

    assert result == {"recorded": 1, "skipped": 1}
    assert SegmentCount.objects.for_org(org).get().segment == good


def test_plain_french_and_why(org):
    donor = label(org, "Donateur")
    alice = person(org, "Alice")
    tag(org, alice, donor)
    payments.create_payment(
        organization=org, actor=SYSTEM, kind="don", amount="80", paid_on="2026-10-01",
        payer_contact=alice,
    )  # fmt: skip
    tree = {
        "group": "all",
        "children": [
            has_label(donor),
            {"group": "none", "children": [
                {"field": "payments.last", "op": "after", "value": THREE_MONTHS_AGO},
            ]},
        ],
    }  # fmt: skip

    text = describe_tree(tree, CONTACTS, context(org, today=DAY))
    why = explain(org, tree, alice.pk, today=DAY)

    assert text == "a l'étiquette « Donateur » ET NON Dernier paiement il y a moins de 3 mois"
    assert [(w["satisfied"], w["supports"]) for w in why] == [(True, True), (True, False)]
    assert list(search(org, tree, today=DAY)) == []
    assert list(search(org, tree, today=DAY + dt.timedelta(days=120))) == [alice]


def test_a_null_byte_in_a_text_value_is_refused_at_its_node(org):
    with pytest.raises(TreeError) as error:
        search(
            org, {"group": "all", "children": [{"field": "city", "op": "equals", "value": "a\x00"}]}
        )

    assert error.value.path == "children[0].value"
