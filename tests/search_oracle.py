"""A small random association and a brute-force Python reading of the search criteria.

The compiled SQL of every criterion must agree with this plain evaluation, row by row
(tests/test_search_criteria.py). It is written from the criteria's documented meaning,
not from the compiler's code.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.utils import timezone

from lien.contacts.models import (
    Contact,
    ContactLabel,
    ContactStructureLink,
    CustomField,
    Group,
    GroupMembership,
    Household,
    Label,
    Structure,
)
from lien.contacts.normalize import normalize_contact_fields, normalize_email, normalize_name
from lien.contacts.stats import refresh_contact_stats
from lien.interactions.models import Interaction, InteractionLabel, InteractionType
from lien.payments.models import Campaign, MembershipPeriod, Payment
from lien.search import dates

TODAY = dt.date(2026, 6, 15)
FIRST_NAMES = ["Anne", "Élodie", "Jean", "jean-Luc", "Zoé", "Marc", ""]
LAST_NAMES = ["Martin", "Dupont", "Durand", "Lefèvre", "Muller", "Ngo"]
CITIES = ["Lyon", "Villeurbanne", "Saint-Étienne", "Paris", ""]
CHOICES = ["Bus", "Train", "Vélo"]


@dataclass
class Person:
    contact: Contact
    labels: set[int] = field(default_factory=set)
    groups: set[int] = field(default_factory=set)
    links: list[tuple[int, str, bool]] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    paid: list[Payment] = field(default_factory=list)
    benefited: list[Payment] = field(default_factory=list)
    periods: list[tuple[dt.date, dt.date]] = field(default_factory=list)


@dataclass
class Dataset:
    organization: object
    people: dict[int, Person]
    label_ids: list[int]
    group_ids: list[int]
    type_ids: list[int]
    type_names: dict[int, str]
    interaction_label_ids: list[int]
    campaign_ids: list[int]
    structure_kinds: dict[int, str]
    household_ids: list[int]


def _moment(rng: random.Random) -> dt.datetime:
    day = TODAY - dt.timedelta(days=rng.randrange(0, 4 * 365))
    naive = dt.datetime.combine(day, dt.time(rng.choice([0, 9, 12, 23]), rng.choice([0, 30])))
    return timezone.make_aware(naive)


def build(organization, seed: int, size: int = 24) -> Dataset:
    """Rows written with bulk inserts, then read back into Python."""
    rng = random.Random(seed)
    org = organization
    labels = Label.objects.bulk_create(
        [Label(organization=org, name=f"L{i}-{seed}") for i in range(4)]
    )
    groups = Group.objects.bulk_create([Group(organization=org, name=f"G{i}") for i in range(3)])
    households = Household.objects.bulk_create(
        [Household(organization=org, name=f"F{i}") for i in range(2)]
    )
    CustomField.objects.bulk_create(
        [
            CustomField(organization=org, target="contact", name="Âge", key="age",
                        field_type="integer"),
            CustomField(organization=org, target="contact", name="Transport", key="transport",
                        field_type="choice", choices=CHOICES),
            CustomField(organization=org, target="contact", name="Moyens", key="moyens",
                        field_type="multiple_choice", choices=CHOICES),
            CustomField(organization=org, target="contact", name="Arrivée", key="arrivee",
                        field_type="date"),
            CustomField(organization=org, target="contact", name="Majeur", key="majeur",
                        field_type="boolean"),
            CustomField(organization=org, target="contact", name="Surnom", key="surnom",
                        field_type="text"),
        ]
    )  # fmt: skip
    structures = Structure.objects.bulk_create(
        [
            Structure(organization=org, name=f"S{i}", name_normalized=f"s{i}",
                      kind=rng.choice(["association", "entreprise", "organisme_public"]))
            for i in range(4)
        ]
    )  # fmt: skip
    contacts = []
    for _ in range(size):
        custom: dict = {}
        if rng.random() < 0.6:
            custom["age"] = rng.randrange(10, 90)
        if rng.random() < 0.6:
            custom["transport"] = rng.choice(CHOICES)
        if rng.random() < 0.6:
            custom["moyens"] = rng.sample(CHOICES, rng.randrange(0, 3))
        if rng.random() < 0.6:
            custom["arrivee"] = (TODAY - dt.timedelta(days=rng.randrange(0, 900))).isoformat()
        if rng.random() < 0.6:
            custom["majeur"] = rng.random() < 0.5
        if rng.random() < 0.5:
            custom["surnom"] = rng.choice(["Doudou", "Le Grand", "", "Titi"])
        contact = Contact(
            organization=org,
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            email=rng.choice(["", f"x{rng.randrange(99)}@Exemple.org", "a@b.fr"]),
            city=rng.choice(CITIES),
            civility=rng.choice(["", "Mme", "M."]),
            birth_date=rng.choice([None, TODAY - dt.timedelta(days=rng.randrange(5000, 30000))]),
            email_consent=rng.random() < 0.5,
            created_at=_moment(rng),
            household=rng.choice([None, *households]),
            custom=custom,
        )
        normalize_contact_fields(contact)
        contacts.append(contact)
    contacts = Contact.objects.bulk_create(contacts)
    people = {c.pk: Person(c) for c in contacts}

    label_links, group_links, structure_links = [], [], []
    for person in people.values():
        for label in rng.sample(labels, rng.randrange(0, 3)):
            label_links.append(ContactLabel(organization=org, contact=person.contact, label=label))
            person.labels.add(label.pk)
        for group in rng.sample(groups, rng.randrange(0, 2)):
            group_links.append(
                GroupMembership(organization=org, group=group, contact=person.contact)
            )
            person.groups.add(group.pk)
        for structure in rng.sample(structures, rng.randrange(0, 2)):
            role, main = rng.choice(["Trésorière", "Président", ""]), rng.random() < 0.5
            structure_links.append(
                ContactStructureLink(organization=org, contact=person.contact,
                                     structure=structure, role=role, is_main=main)
            )  # fmt: skip
            person.links.append((structure.pk, role, main))
    ContactLabel.objects.bulk_create(label_links)
    GroupMembership.objects.bulk_create(group_links)
    ContactStructureLink.objects.bulk_create(structure_links)

    types = list(InteractionType.objects.for_org(org).order_by("position")[:9])
    interaction_labels = InteractionLabel.objects.bulk_create(
        [InteractionLabel(organization=org, name=f"Lettre {i}") for i in range(3)]
    )
    interactions = []
    ids = list(people)
    for _ in range(size * 6):
        contact_id = rng.choice(ids)
        kind = rng.choice(types)
        interactions.append(
            Interaction(
                organization=org, contact_id=contact_id, occurred_at=_moment(rng), type=kind,
                label=rng.choice([None, *interaction_labels]),
                status=rng.choice(["active", "passive"]),
            )
        )  # fmt: skip
    for interaction in Interaction.objects.bulk_create(interactions):
        people[interaction.contact_id].interactions.append(interaction)

    campaigns = Campaign.objects.bulk_create(
        [Campaign(organization=org, name=f"C{i}") for i in range(2)]
    )
    payments = []
    for _ in range(size * 2):
        payer = rng.choice(ids)
        beneficiary = rng.choice([payer, payer, rng.choice(ids)])
        payments.append(
            Payment(
                organization=org, kind=rng.choice(["don", "adhesion", "billetterie"]),
                amount_cents=rng.choice([500, 2000, 5000, 12050, 30000]),
                paid_on=TODAY - dt.timedelta(days=rng.randrange(0, 3 * 365)),
                method=rng.choice(["carte", "cheque"]),
                status=rng.choice(["paye", "paye", "paye", "rembourse", "en_attente"]),
                campaign=rng.choice([None, *campaigns]), payer_contact_id=payer,
                beneficiary_id=beneficiary,
            )
        )  # fmt: skip
    for payment in Payment.objects.bulk_create(payments):
        people[payment.payer_contact_id].paid.append(payment)
        people[payment.beneficiary_id].benefited.append(payment)
    periods = []
    for _ in range(size):
        contact_id = rng.choice(ids)
        start = TODAY + dt.timedelta(days=rng.randrange(-900, 60))
        end = start + dt.timedelta(days=rng.choice([30, 364]))
        periods.append(
            MembershipPeriod(organization=org, contact_id=contact_id, start_date=start,
                             end_date=end)
        )  # fmt: skip
        people[contact_id].periods.append((start, end))
    MembershipPeriod.objects.bulk_create(periods)
    # Rows went in around the services (as the generator's do): aggregates computed once.
    refresh_contact_stats(org)
    return Dataset(
        organization=org,
        people=people,
        label_ids=[label.pk for label in labels],
        group_ids=[group.pk for group in groups],
        type_ids=[t.pk for t in types],
        type_names={t.pk: t.name for t in types},
        interaction_label_ids=[label.pk for label in interaction_labels],
        campaign_ids=[c.pk for c in campaigns],
        structure_kinds={s.pk: s.kind for s in structures},
        household_ids=[h.pk for h in households],
    )


# The oracle ---------------------------------------------------------------------------------

CMP = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _day(value) -> dt.date:
    return timezone.localtime(value).date() if isinstance(value, dt.datetime) else value


def date_matches(value, op: str, raw, today: dt.date) -> bool:
    if op == "is_empty":
        return value in (None, "")
    if op == "not_empty":
        return value not in (None, "")
    if value in (None, ""):
        return False
    day = dt.date.fromisoformat(value) if isinstance(value, str) else _day(value)
    span = dates.resolve(raw, today)
    inside = (span.start is None or day >= span.start) and (span.end is None or day <= span.end)
    if op == "in":
        return inside
    if op == "not_in":
        return not inside
    if op == "before":
        return span.start is not None and day < span.start
    if op == "after":
        return span.end is not None and day > span.end
    raise AssertionError(op)


def text_matches(value: str, op: str, raw: str, normalizer) -> bool:
    if op == "is_empty":
        return value == ""
    if op == "not_empty":
        return value != ""
    value, raw = normalizer(value), normalizer(raw.strip())
    positive = {
        "contains": raw in value,
        "equals": value == raw,
        "starts_with": value.startswith(raw),
    }[op.removeprefix("not_")]
    return not positive if op.startswith("not_") else positive


def _casefold(text: str) -> str:
    return text.casefold()


def custom_matches(contact: Contact, key: str, kind: str, node: dict, today: dt.date) -> bool:
    op, raw = node["op"], node.get("value")
    present = key in contact.custom and contact.custom[key] not in (None, "", [])
    value = contact.custom.get(key)
    if op == "is_empty":
        return not present
    if op == "not_empty":
        return present
    if kind == "number":
        return present and CMP[op](float(value), float(raw))
    if kind == "date":
        return present and date_matches(value, op, raw, today)
    if kind == "bool":
        return value is raw
    if kind == "choice":
        hit = present and value in raw
        return not hit if op == "not_in" else hit
    if kind == "multiple":
        items = set(value or [])
        return {"any": bool(items & set(raw)), "all": set(raw) <= items,
                "none": not items & set(raw)}[op]  # fmt: skip
    hit = present and text_matches(value, op.removeprefix("not_"), raw, _casefold)
    return (not hit) if op.startswith("not_") else hit


def _interactions(person: Person, where: dict, today: dt.date) -> list[Interaction]:
    rows = person.interactions
    if "types" in where:
        rows = [i for i in rows if i.type_id in where["types"]]
    if "labels" in where:
        rows = [i for i in rows if i.label_id in where["labels"]]
    if "status" in where:
        rows = [i for i in rows if i.status in where["status"]]
    if "period" in where:
        rows = [i for i in rows if date_matches(i.occurred_at, "in", where["period"], today)]
    return rows


def _payments(person: Person, where: dict, today: dt.date) -> list[Payment]:
    rows = person.benefited if where.get("role") == "beneficiary" else person.paid
    rows = [p for p in rows if p.status in where.get("statuses", ["paye"])]
    if "kinds" in where:
        rows = [p for p in rows if p.kind in where["kinds"]]
    if "campaigns" in where:
        rows = [p for p in rows if p.campaign_id in where["campaigns"]]
    if "period" in where:
        rows = [p for p in rows if date_matches(p.paid_on, "in", where["period"], today)]
    return rows


def aggregate_matches(days: list, values: list[int], measure: str, node: dict, today) -> bool:
    """`days`: the dates of the related rows; `values`: their amounts (cents)."""
    op, raw = node["op"], node.get("value")
    if measure in ("first", "last"):
        if op == "is_empty":
            return not days
        if op == "not_empty":
            return bool(days)
        if not days:
            return False
        chosen = min(days) if measure == "first" else max(days)
        return date_matches(chosen, op, raw, today)
    if measure == "gap":
        if len(days) < 2:
            return False
        seconds = [d.timestamp() for d in days]
        average = (max(seconds) - min(seconds)) / (len(days) - 1)
        return CMP[op](average, raw * 86400.0)
    if measure == "count":
        return CMP[op](len(days), raw)
    cents = round(raw * 100)
    if measure == "sum":
        return CMP[op](sum(values), cents)
    return bool(values) and CMP[op](max(values), cents)


def membership_status(periods, day: dt.date, renewal_days: int) -> str:
    covering = [p for p in periods if p[0] <= day <= p[1]]
    if covering:
        until = max(end for _, end in periods if end >= day)
        return "a_renouveler" if (until - day).days < renewal_days else "a_jour"
    if any(start > day for start, _ in periods):
        return "a_venir"
    return "expire" if periods else "jamais"


def is_empty_group(node: dict) -> bool:
    """A group without any condition, however deep: it sets no condition at all."""
    return "group" in node and all(is_empty_group(c) for c in node.get("children", []))


def evaluate(data: Dataset, person: Person, node: dict, today: dt.date) -> bool:
    """The tree's meaning for one contact, in plain Python."""
    if "group" in node:
        results = [
            evaluate(data, person, child, today)
            for child in node.get("children", [])
            if not is_empty_group(child)
        ]
        if not results:
            return True
        return {"all": all(results), "any": any(results), "none": not any(results)}[node["group"]]
    contact, key, op, raw = person.contact, node["field"], node["op"], node.get("value")
    where = node.get("where") or {}
    if key in ("first_name", "last_name"):
        return text_matches(getattr(contact, key), op, raw or "", normalize_name)
    if key == "email":
        return text_matches(contact.email, op, raw or "", normalize_email)
    if key == "city":
        return text_matches(contact.city, op, raw or "", _casefold)
    if key == "civility":
        return (contact.civility in raw) != (op == "not_in")
    if key in ("birth_date", "created_at"):
        return date_matches(getattr(contact, key), op, raw, today)
    if key == "email_consent":
        return contact.email_consent is raw
    if key == "household":
        if op == "in":
            return contact.household_id in raw
        return (contact.household_id is None) == (op == "is_empty")
    if key == "labels":
        return {"any": bool(person.labels & set(raw)), "all": set(raw) <= person.labels,
                "none": not person.labels & set(raw)}[op]  # fmt: skip
    if key == "groups":
        return bool(person.groups & set(raw)) == (op == "in")
    if key == "structures":
        links = person.links
        if where.get("role"):
            links = [link for link in links if where["role"].casefold() in link[1].casefold()]
        if "main" in where:
            links = [link for link in links if link[2] == where["main"]]
        if raw is not None:
            kinds = set(raw["children"][0]["value"])
            links = [link for link in links if data.structure_kinds[link[0]] in kinds]
        return bool(links) == (op == "linked")
    if key.startswith("custom."):
        kinds = {"age": "number", "transport": "choice", "moyens": "multiple", "arrivee": "date",
                 "majeur": "bool", "surnom": "text"}  # fmt: skip
        name = key.removeprefix("custom.")
        return custom_matches(contact, name, kinds[name], node, today)
    if key.startswith("interactions."):
        rows = _interactions(person, where, today)
        return aggregate_matches(
            [i.occurred_at for i in rows], [], key.removeprefix("interactions."), node, today
        )
    if key.startswith("payments."):
        rows = _payments(person, where, today)
        measure = {"total": "sum", "count": "count", "first": "first", "last": "last",
                   "max": "max"}[key.removeprefix("payments.")]  # fmt: skip
        return aggregate_matches(
            [p.paid_on for p in rows], [p.amount_cents for p in rows], measure, node, today
        )
    if key == "emailing":
        names = {"received": "Emailing reçu", "opened": "Emailing ouvert",
                 "clicked": "Clic emailing"}  # fmt: skip
        rows = [
            i for i in person.interactions
            if data.type_names[i.type_id] == names[op.removeprefix("not_")]
            and (not raw or i.label_id in raw)
            and ("period" not in where or date_matches(i.occurred_at, "in", where["period"], today))
        ]  # fmt: skip
        return bool(rows) != op.startswith("not_")
    if key == "membership.end":
        return aggregate_matches([end for _, end in person.periods], [], "last", node, today)
    if key == "membership.status":
        day = dates.resolve(where["on"], today).start if "on" in where else today
        status = membership_status(person.periods, day, 30)
        return (status in raw) == (op == "in")
    raise AssertionError(key)
