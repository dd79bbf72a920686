"""Automatic labels of payments, as tables: who pays, for whom, when it ends, what changes.

Each case records payments through the service (which applies the rules to the people
it touches) and then checks, on chosen days, what the nightly pass leaves on each person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from lien.contacts import services as contacts
from lien.contacts.models import Contact, ContactLabel, LabelOrigin, Structure, StructureLabel
from lien.core.audit import Actor
from lien.core.models import AuditEvent
from lien.payments import services
from lien.payments.labels import apply_all_label_rules, apply_label_rules
from lien.payments.models import PaymentSettings

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()
TODAY = timezone.localdate()
DONOR, MEMBER, FORMER, PARTICIPANT = (
    "Donateur / Donatrice",
    "Adhérent(e)",
    "Ancien(ne) adhérent(e)",
    "Participant(e)",
)


def day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


@dataclass
class Pay:
    kind: str
    payer: str  # "alice", "bob", or "mairie" (a structure)
    beneficiary: str | None = None
    status: str = "paye"
    paid: int = 0  # days from today
    valid: tuple[int, int] | None = None  # validity (start, end) in days from today


@dataclass
class People:
    org: object
    by_name: dict = field(default_factory=dict)

    def __getitem__(self, name: str):
        return self.by_name[name]


def people(org) -> People:
    crowd = People(org)
    for name in ("alice", "bob"):
        crowd.by_name[name] = contacts.create_contact(
            organization=org, actor=SYSTEM, data={"first_name": name.title(), "last_name": "Test"}
        )
    crowd.by_name["mairie"] = contacts.create_structure(
        organization=org, actor=SYSTEM, data={"name": "Mairie"}
    )
    return crowd


def pay(crowd: People, spec: Pay):
    payer = crowd[spec.payer]
    values = {
        "kind": spec.kind,
        "amount": "30",
        "paid_on": day(spec.paid),
        "status": spec.status,
        "payer_structure" if isinstance(payer, Structure) else "payer_contact": payer,
    }
    if spec.beneficiary:
        values["beneficiary"] = crowd[spec.beneficiary]
    if spec.valid:
        values["valid_from"], values["valid_until"] = day(spec.valid[0]), day(spec.valid[1])
    return services.create_payment(organization=crowd.org, actor=SYSTEM, **values)


def automatic_labels(org, record) -> set[str]:
    if isinstance(record, Contact):
        links = ContactLabel.objects.for_org(org).filter(contact=record)
    else:
        links = StructureLabel.objects.for_org(org).filter(structure=record)
    return set(links.filter(origin=LabelOrigin.AUTOMATIC).values_list("label__name", flat=True))


# (payments, day the nightly pass runs (offset), expected automatic labels per person)
CASES = {
    "a paid donation makes its payer a donor": (
        [Pay("don", "alice")],
        0,
        {"alice": {DONOR}, "bob": set(), "mairie": set()},
    ),
    "a pending donation makes no donor": (
        [Pay("don", "alice", status="en_attente")],
        0,
        {"alice": set()},
    ),
    "a refused donation makes no donor": (
        [Pay("don", "alice", status="refuse")],
        0,
        {"alice": set()},
    ),
    "a structure's donation labels the structure, not its beneficiary": (
        [Pay("don", "mairie", beneficiary="bob")],
        0,
        {"mairie": {DONOR}, "bob": set()},
    ),
    "paying one's own membership": (
        [Pay("adhesion", "alice", valid=(-10, 355))],
        0,
        {"alice": {MEMBER}},
    ),
    "paying for someone else labels only the beneficiary": (
        [Pay("adhesion", "alice", beneficiary="bob", valid=(-10, 355))],
        0,
        {"alice": set(), "bob": {MEMBER}},
    ),
    "a structure paying a membership labels the beneficiary": (
        [Pay("adhesion", "mairie", beneficiary="bob", valid=(-10, 355))],
        0,
        {"bob": {MEMBER}, "mairie": set()},
    ),
    "still a member on the last day of validity": (
        [Pay("adhesion", "alice", paid=-365, valid=(-365, 0))],
        0,
        {"alice": {MEMBER}},
    ),
    "former member the day after the last validity end": (
        [Pay("adhesion", "alice", paid=-365, valid=(-365, 0))],
        1,
        {"alice": {FORMER}},
    ),
    "a renewal keeps the member a member past the first end": (
        [
            Pay("adhesion", "alice", paid=-365, valid=(-365, 0)),
            Pay("adhesion", "alice", valid=(1, 366)),
        ],
        1,
        {"alice": {MEMBER}},
    ),
    "a renewal after expiry removes « ancien »": (
        [
            Pay("adhesion", "alice", paid=-400, valid=(-400, -35)),
            Pay("adhesion", "alice", valid=(0, 365)),
        ],
        0,
        {"alice": {MEMBER}},
    ),
    "a renewal paid ahead (starting later) is neither member nor former yet": (
        [
            Pay("adhesion", "alice", paid=-400, valid=(-400, -35)),
            Pay("adhesion", "alice", valid=(10, 375)),
        ],
        0,
        {"alice": set()},
    ),
    "a pending membership makes no member": (
        [Pay("adhesion", "alice", status="en_attente", valid=(-10, 355))],
        0,
        {"alice": set()},
    ),
    "a ticket makes its beneficiary a participant": (
        [Pay("billetterie", "alice", beneficiary="bob")],
        0,
        {"alice": set(), "bob": {PARTICIPANT}},
    ),
    "one's own ticket": ([Pay("billetterie", "alice")], 0, {"alice": {PARTICIPANT}}),
    "a shop sale labels nobody": ([Pay("boutique", "alice")], 0, {"alice": set()}),
}


@pytest.mark.parametrize("name", CASES)
def test_label_rules(org, name):
    payments, run_on, expected = CASES[name]
    crowd = people(org)
    for spec in payments:
        pay(crowd, spec)

    apply_label_rules(organization=org, today=day(run_on))

    got = {who: automatic_labels(org, crowd[who]) for who in expected}
    assert got == expected
    # The nightly pass is idempotent: a second run changes nothing.
    again = apply_label_rules(organization=org, today=day(run_on))
    assert all(counts == {"added": 0, "removed": 0} for counts in again.values())


# (what happens to an existing paid payment, the payer's automatic labels afterwards)
CHANGES = {
    "cancelled": ({"status": "annule"}, set()),
    "refunded": ({"status": "rembourse"}, set()),
    "refused": ({"status": "refuse"}, set()),
    "amount corrected": ({"amount": "45"}, {DONOR}),
    "turned into a membership": ({"kind": "adhesion"}, {MEMBER}),
}


@pytest.mark.parametrize("name", CHANGES)
def test_a_change_to_a_donation_updates_labels_at_once(org, name):
    change, expected = CHANGES[name]
    crowd = people(org)
    payment = pay(crowd, Pay("don", "alice"))
    assert automatic_labels(org, crowd["alice"]) == {DONOR}

    services.update_payment(organization=org, actor=SYSTEM, payment=payment, **change)

    assert automatic_labels(org, crowd["alice"]) == expected


def test_deleting_the_only_donation_removes_the_donor_label(org):
    crowd = people(org)
    payment = pay(crowd, Pay("don", "alice"))
    pay(crowd, Pay("don", "bob"))

    services.delete_payment(organization=org, actor=SYSTEM, payment=payment)

    assert automatic_labels(org, crowd["alice"]) == set()
    assert automatic_labels(org, crowd["bob"]) == {DONOR}


def test_changing_the_beneficiary_moves_the_member_label(org):
    crowd = people(org)
    payment = pay(crowd, Pay("adhesion", "alice", valid=(-10, 355)))

    services.update_payment(
        organization=org, actor=SYSTEM, payment=payment, beneficiary=crowd["bob"]
    )

    assert automatic_labels(org, crowd["alice"]) == set()
    assert automatic_labels(org, crowd["bob"]) == {MEMBER}


def test_manual_labels_of_the_same_name_are_never_removed(org):
    crowd = people(org)
    payment = pay(crowd, Pay("don", "alice"))
    donor = services.payment_settings(org).donor_label
    contacts.add_labels(
        organization=org, actor=SYSTEM, model=Contact, ids=[crowd["alice"].pk], labels=[donor]
    )

    services.update_payment(organization=org, actor=SYSTEM, payment=payment, status="annule")
    apply_label_rules(organization=org)

    links = ContactLabel.objects.for_org(org).filter(contact=crowd["alice"], label=donor)
    assert list(links.values_list("origin", flat=True)) == [LabelOrigin.MANUAL]


def test_a_renamed_label_keeps_its_rule(org):
    crowd = people(org)
    pay(crowd, Pay("don", "alice"))
    donor = services.payment_settings(org).donor_label
    contacts.save_label(
        organization=org, actor=SYSTEM, label=donor, name="Soutien", color="#123456"
    )

    pay(crowd, Pay("don", "bob"))

    assert automatic_labels(org, crowd["bob"]) == {"Soutien"}


def test_switched_off_rules_leave_labels_alone(org):
    crowd = people(org)
    services.update_payment_settings(organization=org, actor=SYSTEM, auto_labels=False)

    pay(crowd, Pay("don", "alice"))

    assert automatic_labels(org, crowd["alice"]) == set()
    # Switching back on catches up with everything recorded meanwhile.
    services.update_payment_settings(organization=org, actor=SYSTEM, auto_labels=True)
    assert automatic_labels(org, crowd["alice"]) == {DONOR}


def test_expiry_is_recorded_in_the_contact_history_as_a_rule(org):
    crowd = people(org)
    pay(crowd, Pay("adhesion", "alice", paid=-365, valid=(-365, 0)))

    apply_label_rules(organization=org, today=day(1))

    events = AuditEvent.objects.for_org(org).filter(
        target_id=crowd["alice"].pk, target_type__model="contact", actor_kind="rule"
    )
    assert {
        tuple(e.changes["labels"])
        for e in events.filter(created_at__gte=timezone.now() - dt.timedelta(minutes=1))
    } >= {
        (f"- {MEMBER} (automatique)", None),
        (None, f"+ {FORMER} (automatique)"),
    }


def test_the_nightly_pass_touches_every_organisation_and_only_its_own_rows(org, other_org):
    ours, theirs = people(org), people(other_org)
    pay(ours, Pay("adhesion", "alice", paid=-365, valid=(-365, 0)))
    pay(theirs, Pay("adhesion", "alice", paid=-10, valid=(-10, 355)))

    results = apply_all_label_rules(today=day(1))

    assert results[org.pk]["member_label"] == {"added": 0, "removed": 1}
    assert results[other_org.pk]["member_label"] == {"added": 0, "removed": 0}
    assert automatic_labels(other_org, theirs["alice"]) == {MEMBER}
    assert PaymentSettings.objects.for_org(org).get().labels_applied_on == day(1)


def test_the_nightly_task_is_scheduled():
    from lien.core.scheduler import NIGHTLY

    assert "lien.payments.tasks.apply_payment_labels" in NIGHTLY


def test_the_nightly_task_runs(org):
    from lien.payments.tasks import apply_payment_labels

    crowd = people(org)
    pay(crowd, Pay("don", "alice"))
    ContactLabel.objects.for_org(org).delete()

    result = apply_payment_labels.enqueue()

    assert result.return_value[str(org.pk)]["donor_label"] == {"added": 1, "removed": 0}
    assert automatic_labels(org, crowd["alice"]) == {DONOR}
