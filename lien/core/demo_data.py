"""Realistic French association data: one generator for the demo and the bench.

`build_community()` writes a whole association (contacts, households,
structures, labels, custom fields, groups, campaigns, payments with their
membership periods and Paiement interactions, other interactions) through a
*writer*. The demo uses `OrmWriter` (bulk_create); bench/generate.py uses
writers on COPY (PostgreSQL) or executemany (SQLite). Rows are tuples built
by fast pure Python from name pools that Faker fills once with a fixed seed,
so the same seed gives the same association, and 10M rows take minutes.
"""

from __future__ import annotations

import datetime as dt
import html
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from lien.contacts.models import (
    Contact,
    ContactLabel,
    ContactStructureLink,
    CustomField,
    Group,
    GroupMembership,
    Household,
    Label,
    LabelOrigin,
    Structure,
    StructureLabel,
)
from lien.contacts.normalize import normalize_name
from lien.contacts.stats import refresh_contact_stats
from lien.core.models import Organization
from lien.interactions.defaults import PAYMENT_TYPE, seed_interaction_types
from lien.interactions.models import (
    Interaction,
    InteractionCategory,
    InteractionLabel,
    InteractionType,
)
from lien.payments.models import Campaign, MembershipPeriod, Payment, PaymentKind

UTC = dt.UTC
YEARS = 3
CHUNK = 50_000

# Reference data --------------------------------------------------------------------

# (name, colour): few and broad, as the product recommends.
# The four automatic ones carry the names the payment rules give them (lien.payments.labels).
LABELS = [
    ("Adhérent(e)", "#7c3aed"),
    ("Ancien(ne) adhérent(e)", "#a78bfa"),
    ("Bénévole", "#16a34a"),
    ("Donateur / Donatrice", "#2563eb"),
    ("Participant(e)", "#0891b2"),
    ("Partenaire", "#ea580c"),
    ("Presse", "#64748b"),
]

CUSTOM_FIELDS: list[dict[str, Any]] = [
    {"target": "contact", "name": "Profession", "key": "profession", "field_type": "text"},
    {
        "target": "contact",
        "name": "Comment nous avez-vous connus ?",
        "key": "origine",
        "field_type": "choice",
        "choices": ["Bouche à oreille", "Forum des associations", "Site web", "Presse", "Mairie"],
    },
    {
        "target": "contact",
        "name": "Compétences",
        "key": "competences",
        "field_type": "multiple_choice",
        "choices": ["Bricolage", "Cuisine", "Informatique", "Comptabilité", "Animation"],
    },
    {
        "target": "contact",
        "name": "Informations de santé",
        "key": "sante",
        "field_type": "long_text",
        "sensitive": True,
        "help_text": "Allergies, traitements : utile pour les sorties. Donnée sensible.",
    },
    {
        "target": "structure",
        "name": "Secteur",
        "key": "secteur",
        "field_type": "choice",
        "choices": ["Commerce", "Social", "Culture", "Éducation", "Collectivité"],
    },
    {
        "target": "group",
        "name": "Moyen de transport",
        "key": "transport",
        "field_type": "choice",
        "choices": ["Bus", "Covoiturage", "Train", "À pied"],
    },
    {
        "target": "group",
        "name": "Envoi invitation",
        "key": "envoi_invitation",
        "field_type": "date",
    },
    {
        "target": "payment",
        "name": "Message du donateur",
        "key": "message",
        "field_type": "long_text",
    },
]

INTERACTION_CATEGORIES = [
    "Vie associative",
    "Collecte",
    "Bénévolat",
    "Communication",
    "Partenariats",
]
# (type name, category, label pattern or None): what everyday interactions look like.
INTERACTION_PATTERNS: list[tuple[str, str, str | None]] = [
    ("Emailing reçu", "Communication", "Lettre d'information {month}"),
    ("Emailing reçu", "Communication", "Lettre d'information {month}"),
    ("Emailing ouvert", "Communication", "Lettre d'information {month}"),
    ("Clic emailing", "Communication", "Lettre d'information {month}"),
    ("Appel téléphonique", "Vie associative", None),
    ("Rencontre", "Vie associative", "Forum des associations {year}"),
    ("Email", "Vie associative", None),
    ("Courrier", "Collecte", "Appel aux dons {year}"),
    ("Participation événement", "Vie associative", "Fête de quartier {year}"),
    ("Assemblée générale", "Vie associative", "Assemblée générale {year}"),
    ("Inscription atelier", "Vie associative", "Atelier réparation vélo"),
    ("Candidature bénévolat", "Bénévolat", None),
    ("Entretien bénévole", "Bénévolat", None),
    ("Signature pétition", "Communication", "Pétition pour la piste cyclable"),
    ("Formulaire", "Communication", "Formulaire de contact"),
    ("Rendez-vous mécénat", "Partenariats", None),
    ("Promesse de don", "Collecte", None),
    ("Parrainage", "Vie associative", None),
]
PATTERN_WEIGHTS = [30, 10, 14, 5, 6, 4, 6, 4, 5, 3, 3, 2, 1, 3, 2, 1, 1, 1]
MONTHS_FR = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip

DESCRIPTIONS = [
    "",
    "",
    "",
    "A demandé des nouvelles du projet.",
    "Intéressé(e) par le bénévolat le samedi.",
    "Rappeler en fin de mois.",
    "Très satisfait(e) de la dernière sortie.",
    "Souhaite recevoir le programme papier.",
]
NOTES = [
    "Préfère être contacté(e) par téléphone.",
    "Ne pas appeler le dimanche.",
    "Ancien membre du bureau.",
    "Connaît bien le quartier, relais précieux.",
    "Disponible pour tenir le stand lors des fêtes.",
]
CONSENT_SOURCES = ["Formulaire d'adhésion", "Site web", "Forum des associations", "Import"]
ROLES = ["Directeur·rice", "Chargé·e de mission", "Président·e", "Trésorier·e", "Contact", ""]
EMAIL_DOMAINS = [
    ("gmail.com", 40), ("orange.fr", 14), ("free.fr", 9), ("laposte.net", 6),
    ("hotmail.fr", 8), ("yahoo.fr", 6), ("sfr.fr", 5), ("outlook.fr", 5),
    ("wanadoo.fr", 4), ("icloud.com", 3),
]  # fmt: skip
# Where members live: the association's city first, then the neighbours.
LOCAL_CITIES = [
    ("69001", "Lyon"), ("69003", "Lyon"), ("69004", "Lyon"), ("69007", "Lyon"),
    ("69100", "Villeurbanne"), ("69500", "Bron"), ("69200", "Vénissieux"),
    ("69300", "Caluire-et-Cuire"), ("69130", "Écully"), ("69160", "Tassin-la-Demi-Lune"),
    ("69600", "Oullins"), ("69120", "Vaulx-en-Velin"),
]  # fmt: skip
OTHER_CITIES = [
    ("75011", "Paris"), ("75018", "Paris"), ("13001", "Marseille"), ("31000", "Toulouse"),
    ("33000", "Bordeaux"), ("44000", "Nantes"), ("59000", "Lille"), ("67000", "Strasbourg"),
    ("38000", "Grenoble"), ("42000", "Saint-Étienne"), ("01000", "Bourg-en-Bresse"),
    ("73000", "Chambéry"), ("26000", "Valence"), ("21000", "Dijon"), ("35000", "Rennes"),
    ("34000", "Montpellier"), ("06000", "Nice"), ("63000", "Clermont-Ferrand"),
]  # fmt: skip

DONATION_EUROS = [5, 10, 15, 20, 30, 40, 50, 75, 100, 150, 200, 300, 500, 1000]
DONATION_WEIGHTS = [4, 18, 10, 20, 14, 5, 12, 3, 8, 2, 2, 1, 1, 0.3]
MEMBERSHIP_EUROS = [(25, 70), (15, 20), (40, 10)]  # normal, reduced, family
TICKET_EUROS = [8, 12, 15, 20]


@dataclass
class Sizes:
    """How big an association to build; the defaults are the demo's."""

    contacts: int = 2000
    structures: int | None = None
    payments: int | None = None
    interactions: int | None = None
    groups: int | None = None

    def __post_init__(self) -> None:
        if self.structures is None:
            self.structures = max(1, round(self.contacts * 0.075)) if self.contacts else 0
        if self.payments is None:
            self.payments = round(self.contacts * 1.3)
        if self.interactions is None:
            self.interactions = self.payments + self.contacts * 6
        # Every payment brings its Paiement interaction: the total includes them.
        self.payments = min(self.payments, self.interactions)
        if not self.contacts:
            self.payments = 0
            self.interactions = 0
        if self.groups is None:
            self.groups = min(8, max(1, self.contacts // 250)) if self.contacts else 0


# Pools ------------------------------------------------------------------------------


@dataclass
class Pools:
    """Names and places drawn once with Faker; rows pick from them (fast, reproducible)."""

    # (civility, first name, normalised, email part)
    first_names: list[tuple[str, str, str, str]]
    # (last name, normalised, email part)
    last_names: list[tuple[str, str, str]]
    streets: list[str]
    cities: list[tuple[str, str]]
    city_weights: list[float]
    jobs: list[str]
    company_names: list[str]


def _email_part(normalized: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in normalized).strip("-")


def build_pools(seed: int) -> Pools:
    from faker import Faker
    from faker.providers.person.fr_FR import Provider as Person

    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    first_names = [
        ("Mme", name, normalize_name(name), _email_part(normalize_name(name)))
        for name in Person.first_names_female
    ] + [
        ("M.", name, normalize_name(name), _email_part(normalize_name(name)))
        for name in Person.first_names_male
    ]
    last_names = [(name, normalize_name(name), _email_part(normalize_name(name))) for name in
                  Person.last_names]  # fmt: skip
    streets = sorted({fake.street_name() for _ in range(1500)})
    fake_cities = sorted({(fake.postcode(), fake.city()) for _ in range(300)})
    cities = LOCAL_CITIES + OTHER_CITIES + fake_cities
    city_weights = (
        [45 / len(LOCAL_CITIES)] * len(LOCAL_CITIES)
        + [25 / len(OTHER_CITIES)] * len(OTHER_CITIES)
        + [30 / len(fake_cities)] * len(fake_cities)
    )
    jobs = sorted({html.unescape(fake.job()) for _ in range(300)})
    company_names = sorted({fake.company() for _ in range(600)})
    return Pools(first_names, last_names, streets, cities, city_weights, jobs, company_names)


def luhn_complete(digits: str) -> str:
    """`digits` plus the check digit that makes it Luhn-valid (SIREN and SIRET use Luhn)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return digits + str((10 - total % 10) % 10)


# Row generation ---------------------------------------------------------------------

HOUSEHOLD_COLUMNS = ("name", "street", "street2", "postal_code", "city", "country", "created_at")
CONTACT_COLUMNS = (
    "civility", "first_name", "last_name", "email", "email2", "mobile", "phone", "street",
    "street2", "postal_code", "city", "country", "birth_date", "preferred_language", "notes",
    "email_consent", "email_consent_date", "email_consent_source", "household_id", "custom",
    "email_normalized", "phone_e164", "first_name_normalized", "last_name_normalized",
    "is_deleted", "deleted_at", "created_at", "updated_at",
)  # fmt: skip
CONTACT_HOUSEHOLD = CONTACT_COLUMNS.index("household_id")
STRUCTURE_COLUMNS = (
    "name", "name_normalized", "kind", "siren", "siret", "rna", "street", "street2",
    "postal_code", "city", "country", "email", "phone", "website", "notes", "custom",
    "is_deleted", "deleted_at", "created_at", "updated_at",
)  # fmt: skip
LINK_COLUMNS = ("contact_id", "structure_id", "role", "start_date", "end_date", "is_main")
PAYMENT_COLUMNS = (
    "kind", "amount_cents", "currency", "paid_on", "method", "status", "campaign_id",
    "payer_contact_id", "payer_structure_id", "beneficiary_id", "is_recurring", "frequency",
    "source", "external_id", "external_receipt_url", "notes", "custom", "created_at",
    "updated_at",
)  # fmt: skip
MEMBERSHIP_COLUMNS = ("contact_id", "payment_id", "start_date", "end_date", "created_at")
INTERACTION_COLUMNS = (
    "contact_id", "occurred_at", "type_id", "category_id", "label_id", "description",
    "structure_id", "recorded_by_id", "status", "source", "source_type_id", "source_id",
    "created_at",
)  # fmt: skip
CONTACT_LABEL_COLUMNS = ("contact_id", "label_id", "origin", "created_at")
STRUCTURE_LABEL_COLUMNS = ("structure_id", "label_id", "origin", "created_at")
GROUP_MEMBER_COLUMNS = ("group_id", "contact_id", "structure_id", "added_at")


class CommunityGenerator:
    """Pure-Python rows for one association, reproducible from `seed` and `today`."""

    def __init__(self, *, seed: int, today: dt.date, pools: Pools | None = None) -> None:
        self.rng = random.Random(seed)
        self.pools = pools or build_pools(seed)
        self.today = today
        self.start = today.replace(year=today.year - YEARS)
        # The evening before: no row is stamped in the future (a check's « nothing changed
        # since » and the « modifié le » columns would see generated rows as fresh edits).
        self.now = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(18, 0), tzinfo=UTC)
        self.start_ts = dt.datetime.combine(self.start, dt.time(0, 0), tzinfo=UTC).timestamp()
        self.span_seconds = self.now.timestamp() - self.start_ts
        self.span_days = (today - self.start).days
        domains, weights = zip(*EMAIL_DOMAINS, strict=True)
        self._domains = list(domains)
        self._domain_weights = list(weights)
        self._cum_city = list(_accumulate(self.pools.city_weights))

    # helpers
    def _moment(self) -> dt.datetime:
        seconds = self.rng.random() * self.span_seconds
        return dt.datetime.fromtimestamp(int(self.start_ts + seconds) // 60 * 60, tz=UTC)

    def _day(self) -> dt.date:
        return self.start + dt.timedelta(days=self.rng.randrange(self.span_days + 1))

    def _phone(self, first: str) -> tuple[str, str]:
        rest = self.rng.randrange(100_000_000)
        digits = f"{first}{rest:08d}"
        pretty = " ".join(["0" + digits[0]] + [digits[i : i + 2] for i in range(1, 9, 2)])
        return pretty, "+33" + digits

    def _city(self) -> tuple[str, str]:
        return self.rng.choices(self.pools.cities, cum_weights=self._cum_city)[0]

    def _address(self) -> tuple[str, str, str]:
        number = self.rng.randrange(1, 160)
        postal_code, city = self._city()
        return f"{number} {self.rng.choice(self.pools.streets)}", postal_code, city

    # contacts
    def contacts(self, n: int) -> tuple[list[tuple], list[tuple | None]]:
        """`n` contact rows and, per row, the household it starts (or None).

        A row's household column holds the *position* of its household in the
        returned list's running order (the writer replaces it with an id):
        partners follow the person who started the household.
        """
        rng = self.rng
        pools = self.pools
        rows: list[tuple] = []
        households: list[tuple | None] = []
        household_no = -1
        partner_of: tuple | None = None
        for _ in range(n):
            created_at = self._moment()
            if partner_of is not None:
                civility, first, first_norm, first_mail = rng.choice(pools.first_names)
                last, last_norm, last_mail = partner_of[0]
                street, postal_code, city = partner_of[1]
                household = household_no
                partner_of = None
                households.append(None)
            else:
                civility, first, first_norm, first_mail = rng.choice(pools.first_names)
                last, last_norm, last_mail = rng.choice(pools.last_names)
                if rng.random() < 0.8:
                    street, postal_code, city = self._address()
                else:
                    street = postal_code = city = ""
                household = None
                if street and rng.random() < 0.12:
                    household_no += 1
                    household = household_no
                    partner_of = ((last, last_norm, last_mail), (street, postal_code, city))
                    households.append(
                        (f"Foyer {last}", street, "", postal_code, city, "FR", created_at)
                    )
                else:
                    households.append(None)
            if rng.random() < 0.05:
                civility = ""
            email = ""
            if rng.random() < 0.85:
                suffix = str(rng.randrange(10, 99)) if rng.random() < 0.3 else ""
                domain = rng.choices(self._domains, self._domain_weights)[0]
                email = f"{first_mail}.{last_mail}{suffix}@{domain}"
            email2 = f"{first_mail[0]}{last_mail}@laposte.net" if rng.random() < 0.04 else ""
            mobile = mobile_e164 = phone = phone_e164 = ""
            if rng.random() < 0.7:
                mobile, mobile_e164 = self._phone(rng.choice("67"))
            if rng.random() < 0.2:
                phone, phone_e164 = self._phone(rng.choice("12345"))
            birth_date = None
            if rng.random() < 0.6:
                birth_date = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(24_000))
            consent = bool(email) and rng.random() < 0.7
            custom: dict[str, Any] = {}
            if rng.random() < 0.4:
                custom["profession"] = rng.choice(pools.jobs)
            if rng.random() < 0.5:
                custom["origine"] = rng.choice(CUSTOM_FIELDS[1]["choices"])
            if rng.random() < 0.15:
                custom["competences"] = sorted(rng.sample(CUSTOM_FIELDS[2]["choices"], 2))
            if rng.random() < 0.03:
                custom["sante"] = rng.choice(["Allergie aux arachides", "Asthme", "Diabétique"])
            deleted = rng.random() < 0.005
            rows.append(
                (
                    civility, first, last, email, email2, mobile, phone, street, "",
                    postal_code, city, "FR", birth_date, "fr",
                    rng.choice(NOTES) if rng.random() < 0.05 else "",
                    consent, created_at if consent else None,
                    rng.choice(CONSENT_SOURCES) if consent else "",
                    household, custom, email, mobile_e164 or phone_e164, first_norm, last_norm,
                    deleted, self.now if deleted else None, created_at, created_at,
                )
            )  # fmt: skip
        return rows, households

    # structures
    def structures(self, n: int) -> list[tuple]:
        rng = self.rng
        rows = []
        kinds = ["entreprise", "association", "fondation", "organisme_public", "autre"]
        weights = [50, 28, 6, 12, 4]
        for _ in range(n):
            kind = rng.choices(kinds, weights)[0]
            street, postal_code, city = self._address()
            siren = siret = rna = ""
            if kind == "entreprise":
                name = rng.choice(self.pools.company_names)
                siren = luhn_complete(f"{rng.randrange(10**8):08d}")
                siret = luhn_complete(siren + f"{rng.randrange(1, 10**4):04d}")
            elif kind == "association":
                name = (
                    f"Association {rng.choice(['sportive', 'culturelle', 'des parents'])} de {city}"
                )
                rna = f"W{rng.randrange(10**9):09d}"
            elif kind == "fondation":
                name = f"Fondation {rng.choice(self.pools.last_names)[0]}"
            elif kind == "organisme_public":
                name = rng.choice(["Mairie de ", "Centre social de ", "Médiathèque de "]) + city
            else:
                name = f"Collectif {rng.choice(self.pools.streets)}"
            slug = _email_part(normalize_name(name))[:40] or "structure"
            created_at = self._moment()
            custom = (
                {"secteur": rng.choice(CUSTOM_FIELDS[4]["choices"])} if rng.random() < 0.6 else {}
            )
            rows.append(
                (
                    name, normalize_name(name), kind, siren, siret, rna, street, "", postal_code,
                    city, "FR", f"contact@{slug}.fr" if rng.random() < 0.7 else "",
                    self._phone(rng.choice("12345"))[0] if rng.random() < 0.6 else "",
                    f"https://www.{slug}.fr" if rng.random() < 0.4 else "", "", custom,
                    False, None, created_at, created_at,
                )
            )  # fmt: skip
        return rows

    def structure_links(self, contact_ids: Sequence[int], structure_ids: Sequence[int]) -> list:
        """Each structure gets a main contact (distinct contacts), some get one or two more."""
        rng = self.rng
        if not contact_ids or not structure_ids:
            return []
        mains = rng.sample(range(len(contact_ids)), min(len(contact_ids), len(structure_ids)))
        rows = []
        for structure_id, contact_pos in zip(structure_ids, mains, strict=False):
            start = self._day() if rng.random() < 0.5 else None
            rows.append(
                (contact_ids[contact_pos], structure_id, rng.choice(ROLES), start, None, True)
            )
            for _ in range(rng.choice([0, 0, 1, 2])):
                other = contact_ids[rng.randrange(len(contact_ids))]
                if other != contact_ids[contact_pos]:
                    rows.append((other, structure_id, rng.choice(ROLES), None, None, False))
        return rows

    # payments
    def payments(
        self,
        n: int,
        *,
        contact_ids: Sequence[int],
        structure_payers: Sequence[tuple[int, int]],
        campaigns: dict[tuple[str, int], int],
    ) -> list[tuple]:
        """`n` payment rows; `structure_payers` are (structure id, its main contact id)."""
        rng = self.rng
        rows = []
        kinds = [PaymentKind.DONATION, PaymentKind.MEMBERSHIP, PaymentKind.TICKETING]
        count = len(contact_ids)
        for _ in range(n):
            kind = rng.choices(kinds, [55, 30, 15])[0]
            paid_on = self._day()
            if kind == PaymentKind.DONATION and rng.random() < 0.35:
                # Year-end appeal: donations cluster in November and December.
                paid_on = paid_on.replace(month=rng.choice([11, 12]), day=rng.randrange(1, 29))
                if paid_on > self.today:
                    paid_on = paid_on.replace(year=paid_on.year - 1)
            # Engaged people give again: the first contacts pay more often.
            payer = contact_ids[int(count * rng.random() ** 2)]
            payer_structure = None
            beneficiary = payer
            if kind == PaymentKind.DONATION:
                euros = rng.choices(DONATION_EUROS, DONATION_WEIGHTS)[0]
                if structure_payers and rng.random() < 0.03:
                    payer_structure, beneficiary = rng.choice(structure_payers)
                    payer = None
                    euros *= 10
            elif kind == PaymentKind.MEMBERSHIP:
                euros = rng.choices(
                    [e for e, _ in MEMBERSHIP_EUROS], [w for _, w in MEMBERSHIP_EUROS]
                )[0]
                if rng.random() < 0.08:
                    beneficiary = contact_ids[rng.randrange(count)]
            else:
                euros = rng.choice(TICKET_EUROS) * rng.choice([1, 1, 2, 2, 3, 4])
            campaign_kind = "don-fin" if paid_on.month >= 11 and kind == "don" else kind
            campaign = campaigns.get((campaign_kind, paid_on.year)) or campaigns.get(
                (kind, paid_on.year)
            )
            status = rng.choices(["paye", "en_attente", "rembourse", "annule", "refuse"],
                                 [95, 1.5, 1, 1.5, 1])[0]  # fmt: skip
            recurring = kind == PaymentKind.DONATION and rng.random() < 0.12
            method = (
                "prelevement"
                if recurring
                else rng.choices(["carte", "cheque", "especes", "virement"], [50, 25, 10, 15])[0]
            )
            custom = {}
            if kind == PaymentKind.DONATION and rng.random() < 0.05:
                custom["message"] = "Merci pour votre action dans le quartier !"
            created_at = dt.datetime.combine(paid_on, dt.time(10, 0), tzinfo=UTC)
            rows.append(
                (
                    kind, euros * 100, "EUR", paid_on, method, status, campaign, payer,
                    payer_structure, beneficiary, recurring, "mensuel" if recurring else "",
                    "", "", "", "", custom, created_at, created_at,
                )
            )  # fmt: skip
        return rows

    # interactions
    def other_interactions(
        self,
        n: int,
        *,
        contact_ids: Sequence[int],
        type_ids: dict[str, int],
        category_ids: dict[str, int],
        label_ids: Callable[[str], int],
        recorded_by: int | None,
    ) -> list[tuple]:
        rng = self.rng
        count = len(contact_ids)
        patterns = [
            (type_ids[t], category_ids[c], label, t in {"Emailing reçu", "Courrier"})
            for t, c, label in INTERACTION_PATTERNS
        ]
        cum = list(_accumulate(PATTERN_WEIGHTS))
        rows = []
        for _ in range(n):
            type_id, category_id, label_pattern, passive = rng.choices(patterns, cum_weights=cum)[0]
            occurred_at = self._moment()
            label_id = None
            if label_pattern:
                label_id = label_ids(
                    label_pattern.format(
                        month=f"{MONTHS_FR[occurred_at.month - 1]} {occurred_at.year}",
                        year=occurred_at.year,
                    )
                )
            manual = not passive and rng.random() < 0.5
            rows.append(
                (
                    contact_ids[int(count * rng.random() ** 1.6)], occurred_at, type_id,
                    category_id, label_id, rng.choice(DESCRIPTIONS) if manual else "", None,
                    recorded_by if manual else None, "passive" if passive else "active",
                    "manual" if manual else "emailing" if type_id == patterns[0][0] else "import",
                    None, None, occurred_at,
                )
            )  # fmt: skip
        return rows

    def payment_interactions(
        self, payments: Iterable[tuple[int, tuple]], *, type_id: int, category_id: int,
        payment_type_id: int,
    ) -> list[tuple]:  # fmt: skip
        """One Paiement interaction per payment, on the payer (or the structure's contact)."""
        kind_pos = PAYMENT_COLUMNS.index("kind")
        amount_pos = PAYMENT_COLUMNS.index("amount_cents")
        date_pos = PAYMENT_COLUMNS.index("paid_on")
        payer_pos = PAYMENT_COLUMNS.index("payer_contact_id")
        structure_pos = PAYMENT_COLUMNS.index("payer_structure_id")
        beneficiary_pos = PAYMENT_COLUMNS.index("beneficiary_id")
        labels = dict(PaymentKind.choices)
        rows = []
        for payment_id, row in payments:
            moment = dt.datetime.combine(row[date_pos], dt.time(10, 0), tzinfo=UTC)
            euros, cents = divmod(row[amount_pos], 100)
            # On the payer contact and on a different beneficiary, as the payment service does;
            # a structure's payment shows on its beneficiary.
            if row[PAYMENT_COLUMNS.index("status")] in ("annule", "refuse"):
                continue  # no touchpoint, as the payment service decides
            for contact_id in dict.fromkeys([row[payer_pos], row[beneficiary_pos]]):
                if contact_id is None:
                    continue
                rows.append(
                    (
                        contact_id, moment, type_id, category_id, None,
                        f"{labels[row[kind_pos]]} de {euros},{cents:02d} €", row[structure_pos],
                        None, "active", "payment", payment_type_id, payment_id, moment,
                    )
                )  # fmt: skip
        return rows

    def membership_periods(self, payments: Iterable[tuple[int, tuple]]) -> list[tuple]:
        """One year of validity per paid membership, for its beneficiary."""
        date_pos = PAYMENT_COLUMNS.index("paid_on")
        rows = []
        for payment_id, row in payments:
            if row[0] != PaymentKind.MEMBERSHIP or row[5] != "paye":
                continue
            start = row[date_pos]
            end = _add_year(start) - dt.timedelta(days=1)
            created = dt.datetime.combine(start, dt.time(10, 0), tzinfo=UTC)
            rows.append(
                (row[PAYMENT_COLUMNS.index("beneficiary_id")], payment_id, start, end, created)
            )
        return rows


def _accumulate(weights: Iterable[float]) -> Iterable[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


def _add_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


# Writers ----------------------------------------------------------------------------


@dataclass
class TableStat:
    rows: int = 0
    seconds: float = 0.0


@dataclass
class Writer(ABC):
    """Inserts rows of one model; returns their ids in order. Subclasses pick the path."""

    organization_id: int
    stats: dict[str, TableStat] = field(default_factory=dict)

    def insert(
        self, model: type[models.Model], columns: Sequence[str], rows: list[tuple]
    ) -> list[int]:
        started = time.perf_counter()
        ids = self._insert(model, columns, rows) if rows else []
        stat = self.stats.setdefault(model._meta.db_table, TableStat())
        stat.rows += len(rows)
        stat.seconds += time.perf_counter() - started
        return ids

    @abstractmethod
    def _insert(self, model, columns, rows) -> list[int]:
        """Write `rows` (tuples in `columns` order) and return their ids."""


class OrmWriter(Writer):
    """bulk_create: the ORM's set-based path (demo sizes)."""

    def _insert(self, model, columns, rows) -> list[int]:
        org = self.organization_id
        objects = [
            model(organization_id=org, **dict(zip(columns, row, strict=True))) for row in rows
        ]
        created = model.objects.bulk_create(objects, batch_size=2000)
        return [obj.pk for obj in created]


def delete_organization_rows(organization: Organization) -> None:
    """Remove an organisation and all its rows, big tables first and without the collector."""
    from lien.core.models import Membership

    for model in (
        Interaction, MembershipPeriod, Payment, ContactLabel, StructureLabel, GroupMembership,
        ContactStructureLink, Contact, Household, Structure,
    ):  # fmt: skip
        model.objects.for_org(organization)._raw_delete(model.objects.db)
    # Membership.profile is PROTECT: members go before their profiles.
    Membership.objects.for_org(organization).delete()
    organization.delete()


# Orchestration ----------------------------------------------------------------------


def build_community(
    *,
    organization: Organization,
    writer: Writer,
    sizes: Sizes,
    seed: int = 2026,
    today: dt.date | None = None,
    recorded_by: int | None = None,
    progress: Callable[[str], None] = lambda message: None,
    chunk: int = CHUNK,
) -> dict[str, int]:
    """Write a whole association's data through `writer`; returns rows written per table."""
    today = today or dt.date.today()
    gen = CommunityGenerator(seed=seed, today=today)
    org = organization

    # Reference data, through the ORM: a few dozen rows.
    labels = {
        label.name: label.pk
        for label in Label.objects.bulk_create(
            [Label(organization=org, name=name, color=color) for name, color in LABELS]
        )
    }
    CustomField.objects.bulk_create(
        [CustomField(organization=org, position=i, **spec) for i, spec in enumerate(CUSTOM_FIELDS)]
    )
    seed_interaction_types(org)
    type_ids = dict(InteractionType.objects.for_org(org).values_list("name", "pk"))
    category_ids = {
        c.name: c.pk
        for c in InteractionCategory.objects.bulk_create(
            [InteractionCategory(organization=org, name=name) for name in INTERACTION_CATEGORIES]
        )
    }
    interaction_labels: dict[str, int] = {}

    def label_id(name: str) -> int:
        if name not in interaction_labels:
            interaction_labels[name] = InteractionLabel.objects.create(
                organization=org, name=name
            ).pk
        return interaction_labels[name]

    campaigns: dict[tuple[str, int], int] = {}
    for year in range(gen.start.year, today.year + 1):
        for key, name, kind, start, end, goal in [
            ("adhesion", f"Adhésions {year}", "adhesion", (1, 1), (12, 31), 1_000_000),
            ("don", f"Dons {year}", "don", (1, 1), (10, 31), None),
            ("don-fin", f"Appel de fin d'année {year}", "don", (11, 1), (12, 31), 2_500_000),
            ("billetterie", f"Fête de quartier {year}", "billetterie", (5, 1), (6, 30), None),
        ]:
            campaign = Campaign.objects.create(
                organization=org,
                name=name,
                kind=kind,
                start_date=dt.date(year, *start),
                end_date=dt.date(year, *end),
                goal_cents=goal,
            )
            campaigns[(key, year)] = campaign.pk

    # Contacts and households, by chunks.
    contact_ids: list[int] = []
    remaining = sizes.contacts
    while remaining > 0:
        n = min(chunk, remaining)
        rows, starts = gen.contacts(n)
        household_ids = writer.insert(Household, HOUSEHOLD_COLUMNS, [h for h in starts if h])
        # A chunk may end with a household whose partner is generated in the next chunk:
        # that household keeps one member; partners never point across chunks.
        rows = [
            row if row[CONTACT_HOUSEHOLD] is None
            else row[:CONTACT_HOUSEHOLD] + (household_ids[row[CONTACT_HOUSEHOLD]],)
            + row[CONTACT_HOUSEHOLD + 1 :]
            for row in rows
        ]  # fmt: skip
        contact_ids.extend(writer.insert(Contact, CONTACT_COLUMNS, rows))
        remaining -= n
        progress(f"contacts : {len(contact_ids)}/{sizes.contacts}")

    structure_ids = writer.insert(Structure, STRUCTURE_COLUMNS, gen.structures(sizes.structures))
    links = gen.structure_links(contact_ids, structure_ids)
    writer.insert(ContactStructureLink, LINK_COLUMNS, links)
    structure_payers = [(link[1], link[0]) for link in links if link[5]]
    progress(f"structures : {len(structure_ids)}")

    # Payments, each with its Paiement interaction and, for memberships, its period.
    payment_ct = ContentType.objects.get_for_model(Payment).pk
    payment_type = type_ids[PAYMENT_TYPE]
    donors: set[int] = set()
    donor_structures: set[int] = set()
    payment_interactions = 0
    members_until: dict[int, dt.date] = {}
    ticket_holders: set[int] = set()
    done = 0
    while done < sizes.payments:
        n = min(chunk, sizes.payments - done)
        rows = gen.payments(
            n, contact_ids=contact_ids, structure_payers=structure_payers, campaigns=campaigns
        )
        pairs = list(zip(writer.insert(Payment, PAYMENT_COLUMNS, rows), rows, strict=True))
        periods = gen.membership_periods(pairs)
        writer.insert(MembershipPeriod, MEMBERSHIP_COLUMNS, periods)
        payment_interactions += len(
            writer.insert(
                Interaction,
                INTERACTION_COLUMNS,
                gen.payment_interactions(
                    pairs,
                    type_id=payment_type,
                    category_id=category_ids["Collecte"],
                    payment_type_id=payment_ct,
                ),
            )
        )
        for _, row in pairs:
            if row[5] == "paye" and row[0] == PaymentKind.DONATION:
                if row[7]:
                    donors.add(row[7])
                else:
                    donor_structures.add(row[8])
            elif row[5] == "paye" and row[0] == PaymentKind.TICKETING and row[9]:
                ticket_holders.add(row[9])
        for contact_id, _, _, end, _ in periods:
            if end > members_until.get(contact_id, dt.date.min):
                members_until[contact_id] = end
        done += n
        progress(f"paiements : {done}/{sizes.payments}")

    remaining = max(0, sizes.interactions - payment_interactions)
    written = 0
    while written < remaining:
        n = min(chunk, remaining - written)
        writer.insert(
            Interaction,
            INTERACTION_COLUMNS,
            gen.other_interactions(
                n,
                contact_ids=contact_ids,
                type_ids=type_ids,
                category_ids=category_ids,
                label_ids=label_id,
                recorded_by=recorded_by,
            ),
        )
        written += n
        progress(f"interactions : {written + payment_interactions}/{sizes.interactions}")

    # Labels: automatic ones follow the payments, manual ones are a few broad categories.
    now = gen.now
    rng = gen.rng
    auto = LabelOrigin.AUTOMATIC
    manual = LabelOrigin.MANUAL
    label_rows = [(c, labels["Donateur / Donatrice"], auto, now) for c in sorted(donors)]
    label_rows += [(c, labels["Participant(e)"], auto, now) for c in sorted(ticket_holders)]
    for contact_id, end in sorted(members_until.items()):
        name = "Adhérent(e)" if end >= today else "Ancien(ne) adhérent(e)"
        label_rows.append((contact_id, labels[name], auto, now))
    if contact_ids:
        for name, share in [("Bénévole", 0.08), ("Presse", 0.01), ("Donateur / Donatrice", 0.01)]:
            for contact_id in rng.sample(contact_ids, max(1, int(len(contact_ids) * share))):
                label_rows.append((contact_id, labels[name], manual, now))
    for start in range(0, len(label_rows), chunk):
        writer.insert(ContactLabel, CONTACT_LABEL_COLUMNS, label_rows[start : start + chunk])
    partner_rows = [
        (s, labels["Partenaire"], manual, now) for s in structure_ids if rng.random() < 0.3
    ]
    partner_rows += [
        (s, labels["Donateur / Donatrice"], auto, now) for s in sorted(donor_structures)
    ]
    writer.insert(StructureLabel, STRUCTURE_LABEL_COLUMNS, partner_rows)

    # Groups: hand-made lists with their own field values.
    group_specs = [
        ("Conseil d'administration", "Les administrateurs élus à l'assemblée générale.", {}, 12),
        ("Sortie au musée des Confluences", "Inscrits à la sortie d'octobre.",
         {"transport": "Bus", "envoi_invitation": f"{today.year}-09-15"}, 45),
        ("Équipe fête de quartier", "Bénévoles de l'organisation de la fête.",
         {"transport": "À pied"}, 30),
        ("Atelier réparation vélo", "Participants réguliers de l'atelier.", {}, 25),
        ("Distribution alimentaire", "Bénévoles du samedi matin.", {}, 40),
        ("Comité des fêtes", "Préparation des événements de l'année.", {}, 15),
        ("Soutien scolaire", "Bénévoles et familles accompagnées.", {}, 60),
        ("Chorale du quartier", "Choristes et chef de chœur.", {"transport": "Covoiturage"}, 35),
    ]  # fmt: skip
    group_count = sizes.groups or 0
    member_rows = []
    for i in range(group_count):
        name, description, custom, size = group_specs[i % len(group_specs)]
        if i >= len(group_specs):
            name = f"{name} ({i // len(group_specs) + 1})"
        group = Group.objects.create(
            organization=org, name=name, description=description, custom=custom
        )
        for contact_id in rng.sample(contact_ids, min(size, len(contact_ids))):
            member_rows.append((group.pk, contact_id, None, now))
        if structure_ids and i % 3 == 0:
            member_rows.append((group.pk, None, rng.choice(structure_ids), now))
    writer.insert(GroupMembership, GROUP_MEMBER_COLUMNS, member_rows)
    # Rows went in around the services: the search aggregates are computed once, at the end.
    progress("agrégats par contact")
    refresh_contact_stats(org)
    return {table: stat.rows for table, stat in writer.stats.items()}
