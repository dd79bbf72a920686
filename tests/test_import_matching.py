"""Reconciliation rules (lien.imports.matching), table-driven: one person in, one answer out."""

from __future__ import annotations

import pytest

from lien.contacts import services as contacts
from lien.contacts.models import Contact, ExternalId
from lien.core.audit import Actor
from lien.imports.matching import (
    AMBIGUOUS,
    MATCHED,
    NEW,
    NOT_FOUND,
    Candidate,
    Reconciler,
    match_contacts,
    names_compatible,
)

ACTOR = Actor.system()


@pytest.fixture
def people(org):
    """The base: Jean Dupont, a couple sharing an email, two homonyms without email."""

    def make(**data):
        return contacts.create_contact(
            organization=org, actor=ACTOR, data=data, allow_duplicate_email=True
        )

    jean = make(first_name="Jean", last_name="Dupont", email="Jean.Dupont@Example.org")
    claire = make(first_name="Claire", last_name="Martin", email="famille@example.org")
    paul = make(first_name="Paul", last_name="Martin", email="famille@example.org")
    no_first = make(last_name="Durand", email="durand@example.org")
    homonym1 = make(first_name="Marie", last_name="Curie")
    homonym2 = make(first_name="Marie", last_name="Curie")
    alone = make(first_name="Hélène", last_name="Léger")
    ExternalId.objects.create(
        organization=org, source="import:adherents", external_id="A-17",
        content_type_id=_contact_type(), object_id=alone.pk,
    )  # fmt: skip
    return {
        "jean": jean.pk, "claire": claire.pk, "paul": paul.pk, "durand": no_first.pk,
        "curie1": homonym1.pk, "curie2": homonym2.pk, "helene": alone.pk,
    }  # fmt: skip


def _contact_type() -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Contact).pk


# (case, candidate, expected status, expected contact name or candidate names, rule)
CASES = [
    ("lien id", dict(contact_id="jean"), MATCHED, "jean", "id"),
    ("unknown lien id", dict(contact_id=999_999), NOT_FOUND, None, "id"),
    ("external id", dict(source="import:adherents", external_id="A-17"), MATCHED, "helene",
     "external_id"),
    ("external id of another source", dict(source="import:autre", external_id="A-17",
                                            first_name="Hélène", last_name="Léger"),
     MATCHED, "helene", "name"),
    ("email, other case, same names", dict(emails=["JEAN.dupont@example.org "],
                                           first_name="jean", last_name="DUPONT"),
     MATCHED, "jean", "email"),
    ("email, names empty in the file", dict(emails=["jean.dupont@example.org"]), MATCHED,
     "jean", "email"),
    ("email, first name empty in the base", dict(emails=["durand@example.org"],
                                                 first_name="Luc", last_name="Durand"),
     MATCHED, "durand", "email"),
    ("email, accents ignored", dict(emails=["jean.dupont@example.org"], first_name="Jéan",
                                    last_name="Dupont"), MATCHED, "jean", "email"),
    ("email, different first name → new", dict(emails=["jean.dupont@example.org"],
                                               first_name="Pierre", last_name="Dupont"),
     NEW, None, ""),
    ("shared email, first name decides", dict(emails=["famille@example.org"],
                                              first_name="Paul", last_name="Martin"),
     MATCHED, "paul", "email"),
    ("shared email, no name → ambiguous", dict(emails=["famille@example.org"]), AMBIGUOUS,
     ["claire", "paul"], "email"),
    ("second email of the cell matches", dict(emails=["autre@example.org",
                                                      "jean.dupont@example.org"]),
     MATCHED, "jean", "email"),
    ("names, no email on either side", dict(first_name="Hélène", last_name="LEGER"), MATCHED,
     "helene", "name"),
    ("names, homonyms → ambiguous", dict(first_name="Marie", last_name="Curie"), AMBIGUOUS,
     ["curie1", "curie2"], "name"),
    ("names, but the base has an email → new", dict(first_name="Jean", last_name="Dupont"),
     NEW, None, ""),
    ("names, but the file has an email → new", dict(emails=["h@example.org"],
                                                    first_name="Hélène", last_name="Léger"),
     NEW, None, ""),
    ("last name only → new", dict(last_name="Léger"), NEW, None, ""),
    ("nothing matches → new", dict(emails=["nouveau@example.org"], first_name="Ana"), NEW,
     None, ""),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("case, given, status, expected, rule", CASES, ids=[c[0] for c in CASES])
def test_reconciliation_rules(org, people, case, given, status, expected, rule):
    given = dict(given)
    if isinstance(given.get("contact_id"), str):
        given["contact_id"] = people[given["contact_id"]]
    [match] = match_contacts(organization=org, candidates=[Candidate(key=1, **given)])
    assert match.status == status
    assert match.rule == rule
    if status == MATCHED:
        assert match.contact_id == people[expected]
    elif status == AMBIGUOUS:
        assert match.candidates == sorted(people[name] for name in expected)
        assert "plusieurs contacts correspondent" in match.message
    else:
        assert match.contact_id is None


@pytest.mark.parametrize(
    "a, b, compatible",
    [
        (("jean", "dupont"), ("jean", "dupont"), True),
        (("", "dupont"), ("jean", "dupont"), True),
        (("jean", ""), ("", "dupont"), True),
        (("", ""), ("jean", "dupont"), True),
        (("jean", "dupont"), ("pierre", "dupont"), False),
        (("jean", "dupont"), ("jean", "durand"), False),
    ],
)
def test_names_not_different(a, b, compatible):
    assert names_compatible(*a, *b) is compatible


# In-file duplicates: (rows of one batch, expected answers: NEW or "same as row N")
IN_FILE = [
    ("same email twice", [dict(emails=["a@x.fr"], first_name="Ana"),
                          dict(emails=["A@X.fr"], first_name="ana", last_name="Roy")],
     [None, 1]),
    ("same email, other first name", [dict(emails=["a@x.fr"], first_name="Ana"),
                                      dict(emails=["a@x.fr"], first_name="Bob")], [None, None]),
    ("same names without email", [dict(first_name="Ana", last_name="Roy"),
                                  dict(first_name="ANA", last_name="roy")], [None, 1]),
    ("names, one has an email", [dict(first_name="Ana", last_name="Roy"),
                                 dict(first_name="Ana", last_name="Roy", emails=["a@x.fr"])],
     [None, None]),
    ("same external id", [dict(source="s", external_id="7", emails=["a@x.fr"]),
                          dict(source="s", external_id="7")], [None, 1]),
    ("three rows, one person", [dict(emails=["a@x.fr"]), dict(emails=["a@x.fr"], last_name="Roy"),
                                dict(emails=["a@x.fr"], first_name="Ana", last_name="Roy")],
     [None, 1, 1]),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("case, rows, same_as", IN_FILE, ids=[c[0] for c in IN_FILE])
def test_in_file_duplicates_are_one_person(org, case, rows, same_as):
    candidates = [Candidate(key=n, **row) for n, row in enumerate(rows, start=1)]
    matches = match_contacts(organization=org, candidates=candidates)
    assert [m.status for m in matches] == [NEW] * len(rows)
    assert [m.same_as for m in matches] == same_as


@pytest.mark.django_db
def test_reconciler_remembers_across_batches_and_learns_created_ids(org):
    reconciler = Reconciler(organization=org)
    [first] = reconciler.match([Candidate(key=1, emails=["a@x.fr"], first_name="Ana")])
    [second] = reconciler.match([Candidate(key=2, emails=["a@x.fr"])])
    assert (first.status, second.status, second.same_as) == (NEW, NEW, 1)
    reconciler.created({1: 42})
    [third] = reconciler.match([Candidate(key=3, emails=["a@x.fr"], last_name="Roy")])
    assert (third.status, third.contact_id) == (MATCHED, 42)


@pytest.mark.django_db
def test_one_query_per_key_whatever_the_batch(org, people, django_assert_max_num_queries):
    candidates = [
        Candidate(key=n, emails=[f"p{n}@example.org"], first_name="A", last_name=f"B{n}")
        for n in range(300)
    ] + [Candidate(key=1000 + n, first_name="X", last_name=f"Y{n}") for n in range(300)]
    candidates += [Candidate(key=5000, contact_id=people["jean"])]
    candidates += [Candidate(key=5001, source="import:adherents", external_id="A-17")]
    # ids, external ids (+ their contacts still alive), emails, names, and the content type
    with django_assert_max_num_queries(6):
        matches = match_contacts(organization=org, candidates=candidates)
    assert matches[-1].contact_id == people["helene"]


@pytest.mark.django_db
def test_other_organisation_is_never_matched(org, other_org, people):
    [match] = match_contacts(
        organization=other_org,
        candidates=[Candidate(key=1, emails=["jean.dupont@example.org"], first_name="Jean")],
    )
    assert match.status == NEW
    [by_id] = match_contacts(
        organization=other_org, candidates=[Candidate(key=1, contact_id=people["jean"])]
    )
    assert by_id.status == NOT_FOUND


@pytest.mark.django_db
def test_trashed_contacts_are_not_matched(org, people):
    contacts.trash(organization=org, actor=ACTOR, model=Contact, ids=[people["helene"]])
    [match] = match_contacts(
        organization=org,
        candidates=[Candidate(key=1, source="import:adherents", external_id="A-17")],
    )
    assert match.status == NEW


@pytest.mark.django_db
def test_a_forgetful_reconciler_finds_written_people_in_the_database(org):
    reconciler = Reconciler(organization=org)
    [first] = reconciler.match([Candidate(key=1, emails=["a@x.fr"], first_name="Ana")])
    contact = contacts.create_contact(
        organization=org, actor=ACTOR, data={"first_name": "Ana", "email": "a@x.fr"}
    )
    reconciler.created({1: contact.pk})
    reconciler.forget()
    [second] = reconciler.match([Candidate(key=2, emails=["A@x.fr"], last_name="Roy")])
    assert (first.status, second.status, second.contact_id) == (NEW, MATCHED, contact.pk)
