"""The HelloAsso sync: orders of the chosen forms become contacts and payments in Lien.

Decisions (also in the connector's docs):

- What is read. For each chosen form, its orders with details (payer, items with their
  beneficiary « user » and custom fields, payments with their state, means, date and
  HelloAsso's receipt URLs), oldest first, by continuation token. The first sync of a
  form reads from the connector's start date; the next ones read the orders created
  since the last run and, by update date, the items changed since then (refunds,
  cancellations, a monthly donation's new debit), whose orders are fetched again by id.
  A webhook notification fetches its order again by id. All go through `write_orders`.
- Payer and beneficiary keys. HelloAsso gives payers no stable id. A person's external
  id (lien.contacts ExternalId, source « helloasso ») is
  `normalised email|normalised first name|normalised last name`; a beneficiary without
  an email of their own (a child registered by a parent) takes the payer's email in the
  key, so the same child of the same payer is one contact year after year. A key first
  goes through the import's Reconciler (lien/imports/matching.py: external id, then
  same email with a first/last name that is not different, then names when neither has
  an email), so a payer already in Lien is found and a new one is created once.
  The beneficiary is the payer when their names match (or the item has no user).
- Item → payment. One Lien payment per item and per HelloAsso payment that pays it
  (source « helloasso », external id `<item id>-<payment id>`, amount = the item's share
  of that payment in cents): one payment per item in the usual case, one per term for
  payments in instalments and monthly donations (each debit is a gift of its own, with
  its own receipt). An item registered by the association without an online payment
  (state Registered, amount > 0, no payment) is one payment with external id
  `<item id>`. Free items make no payment (their people are still brought in).
- Table and campaign. Form type → table: Donation → Dons, Membership → Adhésions,
  Event → Billetterie, CrowdFunding → Crowdfunding, Shop → Boutique, PaymentForm →
  Autres, Checkout → the table chosen for that form; an unknown type → Autres. Each
  form gets its campaign (an existing campaign of the same name is reused).
- Statuses. HelloAsso payment state → Lien: Authorized/Registered/Processed → Payé;
  Pending/Waiting*/Init/unknown → En attente; Refunded/Refunding → Remboursé;
  Refused/Error/Inconsistent/Contested → Refusé (contested: « paiement contesté » in the
  notes); Canceled/Deleted/Abandoned/NoDonation → Annulé. An item Canceled/Refused/
  Deleted/Abandoned cancels its payments. A payment is created only for money that was
  really there (paid, pending, refunded, contested): an abandoned card payment is not
  one. A re-sync updates only what HelloAsso owns (amount, date, method, status,
  recurrence, receipt URL); payer, table, campaign and notes stay as people left them.
- Memberships. A paid membership gets its validity period: the form's own dates when
  its validity type is Custom, a year from the payment for MovingYear, else the
  organisation's rule. Monthly items (MonthlyDonation, MonthlyPayment) are recurring.
- Writes are set-based, per batch of API pages (about a thousand items), in one
  transaction: contacts (COPY on PostgreSQL), external ids, payments, membership periods,
  Paiement interactions, audit rows, then the per-contact search aggregates and the
  automatic labels of the people touched — as lien/imports/engine.py does. A failure
  rolls back its batch only; a form's sync point moves only once the form is read
  entirely, and every write is an upsert by external id, so the next run resumes where it
  stopped without duplicating anything.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from lien.connectors.helloasso.client import HelloAssoClient, HelloAssoError
from lien.connectors.helloasso.schemas import Item, Order, PaymentInfo, Person, local_date
from lien.connectors.models import HelloAssoConnection, HelloAssoForm, HelloAssoSyncRun
from lien.contacts.custom_fields import parse_value
from lien.contacts.models import Contact, CustomField, ExternalId
from lien.contacts.normalize import normalize_email, normalize_name
from lien.contacts.stats import refresh_contact_stats
from lien.core.audit import Actor
from lien.core.models import ActorKind, AuditEvent
from lien.imports.engine import insert, normalize_contact, update
from lien.imports.matching import AMBIGUOUS, MATCHED, Candidate, Reconciler
from lien.interactions.defaults import PAYMENT_TYPE
from lien.interactions.models import Interaction, InteractionStatus, InteractionType
from lien.payments.models import Campaign, MembershipPeriod, Payment, PaymentKind
from lien.payments.services import (
    INTERACTION_STATUSES,
    add_years,
    interaction_description,
    membership_validity,
    parse_date,
    payment_settings,
    save_campaign,
)

logger = logging.getLogger(__name__)

SOURCE = "helloasso"
ACTOR = Actor(kind=ActorKind.CONNECTOR, label="HelloAsso")
# Re-read a little before the last sync point: clocks differ, and upserts are idempotent.
OVERLAP = dt.timedelta(minutes=10)
ORDERS_BY_ID_BATCH = 100
# PostgreSQL: after this many rows created, the planner statistics of the tables written
# are refreshed (ANALYZE), so a first sync into an empty organisation keeps index plans
# for the label rules' set queries as its tables grow from nothing (autovacuum lags).
ANALYZE_EVERY = 5000
ANALYZED_MODELS = (
    "contacts.Contact", "contacts.ContactLabel", "contacts.ExternalId", "payments.Payment",
    "payments.MembershipPeriod", "interactions.Interaction",
)  # fmt: skip
# Items written per transaction: several API pages, so the per-batch work (reconciliation
# queries, aggregates, label rules) is paid once per thousand items, not per hundred.
WRITE_BATCH = 1000
IN_BATCH = 900
MAX_ERRORS = 500

FORM_TYPE_KINDS: dict[str, str | None] = {
    "Donation": PaymentKind.DONATION.value,
    "Membership": PaymentKind.MEMBERSHIP.value,
    "Event": PaymentKind.TICKETING.value,
    "CrowdFunding": PaymentKind.CROWDFUNDING.value,
    "Shop": PaymentKind.SHOP.value,
    "Checkout": None,
    "PaymentForm": PaymentKind.OTHER.value,
}

Status = Payment.Status
PAYMENT_STATES = {
    **dict.fromkeys(["Authorized", "AuthorizedPreprod", "Registered", "Processed"], Status.PAID),
    **dict.fromkeys(
        ["Pending", "Waiting", "WaitingBankValidation", "WaitingBankWithdraw",
         "WaitingAuthentication", "Init", "Unknown"],
        Status.PENDING,
    ),
    **dict.fromkeys(["Refunded", "Refunding"], Status.REFUNDED),
    **dict.fromkeys(["Refused", "Error", "Inconsistent", "Contested"], Status.REFUSED),
    **dict.fromkeys(["Canceled", "Deleted", "Abandoned", "NoDonation"], Status.CANCELLED),
}  # fmt: skip
CANCELLING_ITEM_STATES = {"Canceled", "Refused", "Deleted", "Abandoned"}
# Created only for money that was really there; other states only update.
CREATED_STATES = {"Authorized", "AuthorizedPreprod", "Registered", "Processed", "Pending",
                  "Waiting", "WaitingBankValidation", "WaitingBankWithdraw", "Refunded",
                  "Refunding", "Contested"}  # fmt: skip
MEANS = {
    "Card": Payment.Method.CARD,
    "Sepa": Payment.Method.DIRECT_DEBIT,
    "Check": Payment.Method.CHEQUE,
    "Cash": Payment.Method.CASH,
    "BankTransfer": Payment.Method.TRANSFER,
}
MONTHLY_TYPES = {"MonthlyDonation", "MonthlyPayment"}
COUNTRIES = {
    "FRA": "FR", "BEL": "BE", "CHE": "CH", "LUX": "LU", "MCO": "MC", "DEU": "DE", "ESP": "ES",
    "ITA": "IT", "PRT": "PT", "NLD": "NL", "GBR": "GB", "IRL": "IE", "USA": "US", "CAN": "CA",
    "MAR": "MA", "DZA": "DZ", "TUN": "TN", "SEN": "SN", "CIV": "CI", "REU": "RE", "GLP": "GP",
    "MTQ": "MQ", "GUF": "GF", "MYT": "YT", "NCL": "NC", "PYF": "PF",
}  # fmt: skip
# Contact fields a form's question may fill (set_field_mappings offers these).
CONTACT_TARGETS = {
    "email": "Email",
    "email2": "Email secondaire",
    "mobile": "Téléphone portable",
    "phone": "Téléphone fixe",
    "street": "Adresse",
    "street2": "Complément d'adresse",
    "postal_code": "Code postal",
    "city": "Ville",
    "birth_date": "Date de naissance",
}
CUSTOM_PREFIX = "custom:"
# Contact fields the sync fills when empty in Lien (it never overwrites).
FILLED_FIELDS = ["email", "street", "postal_code", "city", "country", "birth_date"]


def person_key(email: str, first: str, last: str) -> str:
    """The external id of a HelloAsso person (HelloAsso has none): see the module doc."""
    return f"{normalize_email(email)}|{normalize_name(first)}|{normalize_name(last)}"[:200]


def form_kind(form: HelloAssoForm) -> str:
    if form.form_type == "Checkout":
        return form.checkout_kind or PaymentKind.OTHER.value
    return FORM_TYPE_KINDS.get(form.form_type) or PaymentKind.OTHER.value


def payment_status(payment_state: str, item_state: str) -> str:
    if item_state in CANCELLING_ITEM_STATES:
        return Status.CANCELLED
    return PAYMENT_STATES.get(payment_state, Status.PENDING)


@dataclass
class PersonPlan:
    """A HelloAsso person of a page: who they are, and the contact they end up being."""

    key: str
    person: Person
    email: str
    order_id: int = 0  # the first order it was seen in: what an error names
    extra: dict[str, Any] = field(default_factory=dict)  # mapped answers: field → value
    contact_id: int | None = None
    alias: str | None = None  # same new person as this key


@dataclass
class Share:
    """One Lien payment to be: an item paid (in part) by one HelloAsso payment."""

    external_id: str
    order: Order
    item: Item
    form: HelloAssoForm
    payment: PaymentInfo | None
    amount: int
    payer_key: str
    beneficiary_key: str


@dataclass
class Counts:
    contacts_created: int = 0
    contacts_updated: int = 0
    payments_created: int = 0
    payments_updated: int = 0
    items_seen: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)

    def error(self, helloasso_id: Any, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"helloasso_id": str(helloasso_id), "message": message})

    @property
    def written(self) -> int:
        return (
            self.contacts_created + self.contacts_updated
            + self.payments_created + self.payments_updated
        )  # fmt: skip


class Syncer:
    """Writes HelloAsso orders into one organisation; one instance per run."""

    def __init__(self, *, connection: HelloAssoConnection, client: HelloAssoClient) -> None:
        self.connection = connection
        self.organization = connection.organization
        self.client = client
        self.counts = Counts()
        self.started_at = timezone.now()
        self.forms = {
            (f.form_type, f.form_slug): f
            for f in HelloAssoForm.objects.for_org(self.organization).filter(
                connection=connection, selected=True
            )
        }
        self.settings = payment_settings(self.organization)
        self.contact_ct = ContentType.objects.get_for_model(Contact)
        self.payment_ct = ContentType.objects.get_for_model(Payment)
        self.mappings = {
            str(k).strip().casefold(): str(v)
            for k, v in (connection.field_mappings or {}).items()
            if str(v).strip()
        }
        self.custom_fields = {
            f.key: f
            for f in CustomField.objects.for_org(self.organization).filter(
                target=CustomField.Target.CONTACT
            )
        }
        self._payment_type: InteractionType | None = None
        self._analyzed_at = 0

    # Reading ----------------------------------------------------------------------------

    def sync_form(self, form: HelloAssoForm) -> None:
        """Bring one chosen form up to date, then move its sync point."""
        slug = self.connection.organization_slug
        self.ensure_campaign(form)
        if form.synced_until is None:
            start = self.connection.start_date
            since = f"{start.isoformat()}T00:00:00" if start else None
        else:
            since = (form.synced_until - OVERLAP).astimezone(dt.UTC).isoformat()
        seen: set[int] = set()
        batch: list[Order] = []
        for orders in self.client.form_orders(slug, form.form_type, form.form_slug, since=since):
            batch.extend(orders)
            seen.update(o.id for o in orders)
            if sum(len(o.items) for o in batch) >= WRITE_BATCH:
                self.write_orders(batch)
                batch = []
        self.write_orders(batch)
        if form.synced_until is not None and since:
            changed = [
                pk
                for pk in dict.fromkeys(
                    self.client.form_changed_order_ids(
                        slug, form.form_type, form.form_slug, since=since
                    )
                )
                if pk not in seen
            ]
            for start in range(0, len(changed), ORDERS_BY_ID_BATCH):
                batch = changed[start : start + ORDERS_BY_ID_BATCH]
                self.write_orders([self.client.order(pk) for pk in batch])
        HelloAssoForm.objects.filter(pk=form.pk).update(synced_until=self.started_at)
        form.synced_until = self.started_at

    def ensure_campaign(self, form: HelloAssoForm) -> Campaign:
        """The form's campaign: created once (an existing one of the same name is reused)."""
        if form.campaign_id:
            found = Campaign.objects.for_org(self.organization).filter(pk=form.campaign_id).first()
            if found:
                return found
        name = " ".join((form.title or form.form_slug).split())[:200]
        campaign = Campaign.objects.for_org(self.organization).filter(name__iexact=name).first()
        if campaign is None:
            raw = form.raw or {}
            dates = {"start_date": raw.get("startDate"), "end_date": raw.get("endDate")}
            dates = {k: (v or "")[:10] or None for k, v in dates.items()}
            try:
                campaign = save_campaign(
                    organization=self.organization, actor=ACTOR, name=name,
                    kind=form_kind(form), description=f"Formulaire HelloAsso « {form.title} »",
                    **dates,
                )  # fmt: skip
            except ValidationError:  # dates HelloAsso has but Lien refuses: keep the name
                campaign = save_campaign(
                    organization=self.organization, actor=ACTOR, name=name, kind=form_kind(form)
                )
        HelloAssoForm.objects.filter(pk=form.pk).update(campaign=campaign)
        form.campaign = campaign
        return campaign

    # Writing one page -------------------------------------------------------------------

    def write_orders(self, orders: Iterable[Order]) -> None:
        """Upsert a batch of orders in one transaction: all of it is written, or nothing."""
        shares, people = self._plan(orders)
        if not people:
            return
        self._analyze_if_grown()
        with transaction.atomic():
            self.now = timezone.now()
            events: list[AuditEvent] = []
            touched: set[int] = set()
            self._write_people(people, events)
            self._write_payments(shares, people, events, touched)
            insert(AuditEvent, events)
            # Aggregates and labels of the people whose payments changed (new contacts
            # included): a page read again without change writes nothing.
            if touched:
                from lien.payments.labels import apply_label_rules

                refresh_contact_stats(self.organization, touched)
                apply_label_rules(
                    organization=self.organization, actor=ACTOR, contact_ids=sorted(touched)
                )

    def _analyze_if_grown(self) -> None:
        created = self.counts.contacts_created + self.counts.payments_created
        if connection.vendor != "postgresql" or created - self._analyzed_at < ANALYZE_EVERY:
            return
        self._analyzed_at = created
        with connection.cursor() as cursor:
            for label in ANALYZED_MODELS:
                cursor.execute(
                    f"ANALYZE {connection.ops.quote_name(apps.get_model(label)._meta.db_table)}"
                )

    def _plan(self, orders: Iterable[Order]) -> tuple[list[Share], dict[str, PersonPlan]]:
        """The shares and people of a page, from the orders of chosen forms only."""
        start = self.connection.start_date
        shares: list[Share] = []
        people: dict[str, PersonPlan] = {}
        for order in orders:
            form = self.forms.get((order.form_type, order.form_slug))
            if form is None:
                continue  # a form not chosen (a notification about it, say)
            if start and order.date and local_date(order.date) < start:
                continue
            if order.payer.is_empty:
                self.counts.error(order.id, "Commande sans payeur : ignorée.")
                continue
            payer_key = person_key(order.payer.email, order.payer.first_name, order.payer.last_name)
            people.setdefault(
                payer_key,
                PersonPlan(
                    key=payer_key, person=order.payer, email=order.payer.email, order_id=order.id
                ),
            )
            payments = {p.id: p for p in order.payments}
            for item in order.items:
                self.counts.items_seen += 1
                beneficiary_key = self._beneficiary(order, item, payer_key, people)
                item_shares = dict(item.shares)
                for payment in order.payments:  # shares the item itself did not list
                    if item.id in payment.shares:
                        item_shares.setdefault(payment.id, payment.shares[item.id])
                for payment_id, amount in sorted(item_shares.items()):
                    shares.append(
                        Share(
                            external_id=f"{item.id}-{payment_id}", order=order, item=item,
                            form=form, payment=payments.get(payment_id), amount=amount,
                            payer_key=payer_key, beneficiary_key=beneficiary_key,
                        )
                    )  # fmt: skip
                if not item_shares and item.amount > 0 and item.state == "Registered":
                    shares.append(
                        Share(
                            external_id=str(item.id), order=order, item=item, form=form,
                            payment=None, amount=item.amount, payer_key=payer_key,
                            beneficiary_key=beneficiary_key,
                        )
                    )  # fmt: skip
        return shares, people

    def _answers(self, item: Item) -> dict[str, Any]:
        """The item's answers to mapped questions: {contact field or custom:key: answer}."""
        answers: dict[str, Any] = {}
        for custom in item.custom_fields:
            target = self.mappings.get(custom.name.strip().casefold())
            if not target or not custom.answer:
                continue
            if target in CONTACT_TARGETS:
                value: Any = custom.answer
                if target == "birth_date":
                    try:
                        value = parse_date(custom.answer, what="La date de naissance")
                    except ValidationError as error:
                        self.counts.error(item.id, f"« {custom.name} » : {error.messages[0]}")
                        continue
                answers[target] = value
            elif target.startswith(CUSTOM_PREFIX):
                definition = self.custom_fields.get(target[len(CUSTOM_PREFIX) :])
                if definition is None:
                    self.counts.error(
                        item.id, f"« {custom.name} » : le champ personnalisé « {target} » "
                        "n'existe plus ; corrigez la correspondance."
                    )  # fmt: skip
                    continue
                try:
                    answers[target] = parse_value(definition, custom.answer)
                except ValidationError as error:
                    self.counts.error(item.id, f"« {custom.name} » : {error.messages[0]}")
        return answers

    def _beneficiary(
        self, order: Order, item: Item, payer_key: str, people: dict[str, PersonPlan]
    ) -> str:
        """The key of the item's beneficiary (the payer's when it is the payer)."""
        user, payer = item.user, order.payer
        answers = self._answers(item)
        own_email = str(answers.get("email") or user.email or "")
        same_names = normalize_name(user.first_name) == normalize_name(
            payer.first_name
        ) and normalize_name(user.last_name) == normalize_name(payer.last_name)
        same_email = not own_email or normalize_email(own_email) == normalize_email(payer.email)
        if user.is_empty or (same_names and same_email):
            plan = people[payer_key]
            for name, value in answers.items():
                plan.extra.setdefault(name, value)
            return payer_key
        key = person_key(own_email or payer.email, user.first_name, user.last_name)
        plan = people.setdefault(
            key, PersonPlan(key=key, person=user, email=own_email, order_id=order.id)
        )
        for name, value in answers.items():
            plan.extra.setdefault(name, value)
        return key

    # People -----------------------------------------------------------------------------

    def _write_people(self, people: dict[str, PersonPlan], events: list[AuditEvent]) -> None:
        plans = list(people.values())
        reconciler = Reconciler(organization=self.organization)
        matches = reconciler.match(
            [
                Candidate(
                    key=p.key, source=SOURCE, external_id=p.key,
                    emails=[p.email] if p.email else [],
                    first_name=p.person.first_name, last_name=p.person.last_name,
                )
                for p in plans
            ]
        )  # fmt: skip
        new: list[PersonPlan] = []
        for plan, match in zip(plans, matches, strict=True):
            if match.status == MATCHED:
                plan.contact_id = match.contact_id
            elif match.status == AMBIGUOUS:
                plan.contact_id = match.candidates[0]
                ids = ", ".join(f"n°{pk}" for pk in match.candidates)
                self.counts.error(
                    plan.order_id,
                    f"{self._name(plan)} : plusieurs contacts correspondent ({ids}) ; "
                    f"rattaché au n°{plan.contact_id}. Fusionnez les doublons.",
                )
            elif match.same_as is not None and match.same_as in people:
                plan.alias = match.same_as
            else:
                new.append(plan)
        contacts = [self._new_contact(plan) for plan in new]
        insert(Contact, contacts, ids=True)
        for plan, contact in zip(new, contacts, strict=True):
            plan.contact_id = contact.pk
            events.append(
                self._event(
                    contact, AuditEvent.Action.CREATE,
                    {k: [None, _plain(getattr(contact, k))]
                     for k in ("first_name", "last_name", "email", "city") if getattr(contact, k)},
                )
            )  # fmt: skip
        self.counts.contacts_created += len(new)
        for plan in plans:
            if plan.alias:
                plan.contact_id = people[plan.alias].contact_id
        self._fill_blanks([p for p in plans if p not in new and p.contact_id], events)
        ExternalId.objects.bulk_create(
            [
                ExternalId(
                    organization=self.organization, source=SOURCE, external_id=p.key,
                    content_type=self.contact_ct, object_id=p.contact_id, created_at=self.now,
                )
                for p in plans
                if p.contact_id
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )  # fmt: skip

    @staticmethod
    def _name(plan: PersonPlan) -> str:
        person = plan.person
        return f"{person.first_name} {person.last_name}".strip() or plan.email or plan.key

    def _values(self, plan: PersonPlan) -> dict[str, Any]:
        """What HelloAsso says of this person, as contact fields (empty ones left out)."""
        person = plan.person
        values: dict[str, Any] = {
            "email": plan.email,
            "street": person.address[:250],
            "postal_code": person.zip_code[:20],
            "city": person.city[:120],
            "country": COUNTRIES.get(person.country.upper(), "")
            if len(person.country) == 3
            else person.country.upper()[:2],
            "birth_date": person.birth_date,
        }
        for name, value in plan.extra.items():
            if name.startswith(CUSTOM_PREFIX):
                continue
            values[name] = value
        return {k: v for k, v in values.items() if v not in ("", None)}

    def _custom(self, plan: PersonPlan) -> dict[str, Any]:
        return {
            k[len(CUSTOM_PREFIX) :]: v for k, v in plan.extra.items() if k.startswith(CUSTOM_PREFIX)
        }

    def _new_contact(self, plan: PersonPlan) -> Contact:
        values = self._values(plan)
        contact = Contact(
            organization=self.organization,
            first_name=plan.person.first_name[:150],
            last_name=plan.person.last_name[:150],
            created_at=self.now,
            updated_at=self.now,
            **values,
        )
        contact.custom = self._custom(plan)
        return normalize_contact(contact)

    def _fill_blanks(self, plans: list[PersonPlan], events: list[AuditEvent]) -> None:
        """Known contacts: HelloAsso fills what Lien does not have yet; it never overwrites."""
        ids = sorted({p.contact_id for p in plans})
        contacts: dict[int, Contact] = {}
        for start in range(0, len(ids), IN_BATCH):
            contacts.update(
                Contact.objects.for_org(self.organization).in_bulk(ids[start : start + IN_BATCH])
            )
        changes: dict[int, dict[str, list[Any]]] = {}
        for plan in plans:
            contact = contacts.get(plan.contact_id)
            if contact is None:
                continue
            change = changes.setdefault(contact.pk, {})
            for name, value in self._values(plan).items():
                current = getattr(contact, name)
                empty = current in ("", None) or (name == "country" and not contact.street)
                if empty and current != value and name not in change:
                    if (
                        name == "email"
                        and contact.email2
                        and normalize_email(contact.email2) == normalize_email(value)
                    ):
                        continue
                    change[name] = [_plain(current), _plain(value)]
                    setattr(contact, name, value)
            for key, value in self._custom(plan).items():
                if contact.custom.get(key) in (None, "", []):
                    contact.custom = {**contact.custom, key: value}
                    change[f"custom.{key}"] = [None, _plain(value)]
        changed = [contacts[pk] for pk, change in changes.items() if change]
        if not changed:
            return
        fields = {name for pk in changes for name in changes[pk] if "." not in name}
        if any("." in name for pk in changes for name in changes[pk]):
            fields.add("custom")
        for contact in changed:
            normalize_contact(contact)
            contact.updated_at = self.now
        update(
            Contact,
            changed,
            sorted(fields | {"updated_at", "email_normalized", "phone_e164",
                             "first_name_normalized", "last_name_normalized"}),
        )  # fmt: skip
        for contact in changed:
            events.append(self._event(contact, AuditEvent.Action.UPDATE, changes[contact.pk]))
        self.counts.contacts_updated += len(changed)

    # Payments ---------------------------------------------------------------------------

    def _validity(self, form: HelloAssoForm, paid_on: dt.date) -> tuple[dt.date, dt.date]:
        raw = form.raw or {}
        kind = raw.get("validityType") or ""
        start, end = (raw.get("startDate") or "")[:10], (raw.get("endDate") or "")[:10]
        if kind == "Custom" and start and end:
            try:
                first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
            except ValueError:
                first = last = None
            if first and last and first <= last:
                return first, last
        if kind == "MovingYear":
            return paid_on, add_years(paid_on, 1) - dt.timedelta(days=1)
        return membership_validity(self.settings, paid_on)

    def _wanted(self, share: Share) -> dict[str, Any] | None:
        """The HelloAsso-owned values of a share's payment (None: nothing to record)."""
        payment, item = share.payment, share.item
        state = payment.state if payment else "Registered"
        status = payment_status(state, item.state)
        moment = (payment.date if payment else None) or share.order.date
        if moment is None:
            self.counts.error(item.id, "Article sans date de paiement : ignoré.")
            return None
        recurring = item.type in MONTHLY_TYPES
        receipt = (payment.fiscal_receipt_url or payment.receipt_url) if payment else ""
        return {
            "amount_cents": max(0, share.amount),
            "paid_on": local_date(moment),
            "method": MEANS.get(payment.means, Payment.Method.OTHER)
            if payment
            else Payment.Method.OTHER,
            "status": status,
            "is_recurring": recurring,
            "frequency": Payment.Frequency.MONTHLY if recurring else "",
            "external_receipt_url": receipt[:500],
            "_state": state,
        }

    def _write_payments(
        self,
        shares: list[Share],
        people: dict[str, PersonPlan],
        events: list[AuditEvent],
        touched: set[int],
    ) -> None:
        existing: dict[str, Payment] = {}
        keys = [s.external_id for s in shares]
        for start in range(0, len(keys), IN_BATCH):
            for payment in Payment.objects.for_org(self.organization).filter(
                source=SOURCE, external_id__in=keys[start : start + IN_BATCH]
            ):
                existing[payment.external_id] = payment
        created: list[Payment] = []
        changed: dict[int, tuple[Payment, dict[str, list[Any]], str]] = {}
        new_keys: set[str] = set()
        for share in shares:
            wanted = self._wanted(share)
            if wanted is None:
                continue
            state = wanted.pop("_state")
            note = "Paiement contesté sur HelloAsso." if state == "Contested" else ""
            current = existing.get(share.external_id)
            if current is None:
                if share.external_id in new_keys:
                    continue
                if state not in CREATED_STATES or share.item.state in CANCELLING_ITEM_STATES:
                    continue
                if wanted["status"] == Status.PAID and wanted["amount_cents"] == 0:
                    continue  # a free item: no money, no payment
                payer = people[share.payer_key].contact_id
                beneficiary = people[share.beneficiary_key].contact_id or payer
                notes = (
                    f"HelloAsso — {share.form.title or share.form.form_slug} : "
                    f"{share.item.name or 'article'} (commande n°{share.order.id})."
                )
                payment = Payment(
                    organization=self.organization, kind=form_kind(share.form),
                    campaign_id=share.form.campaign_id, payer_contact_id=payer,
                    beneficiary_id=beneficiary, source=SOURCE, external_id=share.external_id,
                    notes=f"{notes} {note}".strip(), created_at=self.now, updated_at=self.now,
                    **wanted,
                )  # fmt: skip
                payment._share = share
                created.append(payment)
                new_keys.add(share.external_id)
                continue
            change = {
                name: [_plain(getattr(current, name)), _plain(value)]
                for name, value in wanted.items()
                if getattr(current, name) != value
            }
            if wanted["status"] == Status.PAID and wanted["amount_cents"] == 0:
                change.pop("amount_cents", None)  # the check constraint of a paid payment
                wanted["amount_cents"] = current.amount_cents
            if not change:
                continue
            if note and note not in current.notes:
                current.notes = f"{current.notes}\n{note}".strip()
                change["notes"] = [None, note]
            previous_status = current.status
            for name, value in wanted.items():
                setattr(current, name, value)
            current.updated_at = self.now
            current._share = share
            changed[current.pk] = (current, change, previous_status)
        campaigns = Campaign.objects.for_org(self.organization).in_bulk(
            {p.campaign_id for p in created if p.campaign_id}
        )
        for payment in created:
            payment.campaign = campaigns.get(payment.campaign_id)
        insert(Payment, created, ids=True)
        updated = [entry[0] for entry in changed.values()]
        update(
            Payment,
            updated,
            ["amount_cents", "paid_on", "method", "status", "is_recurring", "frequency",
             "external_receipt_url", "notes", "updated_at"],
        )  # fmt: skip
        self.counts.payments_created += len(created)
        self.counts.payments_updated += len(updated)
        self._periods(created, updated, touched)
        self._interactions(created, updated)
        for payment in created:
            touched.update(pk for pk in (payment.payer_contact_id, payment.beneficiary_id) if pk)
            events.append(
                self._event(
                    payment, AuditEvent.Action.CREATE,
                    {"kind": [None, payment.kind], "amount_cents": [None, payment.amount_cents],
                     "paid_on": [None, payment.paid_on.isoformat()],
                     "method": [None, payment.method], "status": [None, payment.status],
                     "payer_contact": [None, payment.payer_contact_id],
                     "campaign": [None, payment.campaign.name if payment.campaign else None],
                     "external_id": [None, payment.external_id]},
                )
            )  # fmt: skip
        for payment, change, _previous in changed.values():
            touched.update(pk for pk in (payment.payer_contact_id, payment.beneficiary_id) if pk)
            events.append(self._event(payment, AuditEvent.Action.UPDATE, change))

    def _periods(self, created: list[Payment], updated: list[Payment], touched: set[int]) -> None:
        """A paid membership has one period for its beneficiary; a changed one is redone."""
        if updated:
            ids = [p.pk for p in updated]
            periods = MembershipPeriod.objects.for_org(self.organization).filter(payment_id__in=ids)
            touched.update(periods.values_list("contact_id", flat=True))
            periods.delete()
        rows = []
        for payment in [*created, *updated]:
            if (
                payment.kind == PaymentKind.MEMBERSHIP
                and payment.status == Status.PAID
                and payment.beneficiary_id
            ):
                start, end = self._validity(payment._share.form, payment.paid_on)
                rows.append(
                    MembershipPeriod(
                        organization=self.organization, contact_id=payment.beneficiary_id,
                        payment=payment, start_date=start, end_date=end, created_at=self.now,
                    )
                )  # fmt: skip
        insert(MembershipPeriod, rows)

    def _interactions(self, created: list[Payment], updated: list[Payment]) -> None:
        """The Paiement interactions on the payer and a different beneficiary, as
        lien.payments.services keeps them (none for a cancelled or refused payment)."""
        if updated:
            Interaction.objects.for_org(self.organization).filter(
                source=Interaction.Source.PAYMENT,
                source_type=self.payment_ct,
                source_id__in=[p.pk for p in updated],
            ).delete()
        rows = []
        for payment in [*created, *updated]:
            if payment.status not in INTERACTION_STATUSES:
                continue
            occurred_at = timezone.make_aware(dt.datetime.combine(payment.paid_on, dt.time(12)))
            description = interaction_description(payment)
            for contact_id in dict.fromkeys([payment.payer_contact_id, payment.beneficiary_id]):
                if contact_id:
                    rows.append(
                        Interaction(
                            organization=self.organization, contact_id=contact_id,
                            occurred_at=occurred_at, type=self.payment_type(),
                            description=description, status=InteractionStatus.ACTIVE,
                            source=Interaction.Source.PAYMENT, source_type=self.payment_ct,
                            source_id=payment.pk, created_at=self.now,
                        )
                    )  # fmt: skip
        insert(Interaction, rows)

    def payment_type(self) -> InteractionType:
        if self._payment_type is None:
            found = (
                InteractionType.objects.for_org(self.organization).filter(name=PAYMENT_TYPE).first()
            )
            self._payment_type = found or InteractionType.objects.create(
                organization=self.organization, name=PAYMENT_TYPE,
                default_status=InteractionStatus.ACTIVE, is_system=True,
            )  # fmt: skip
        return self._payment_type

    def _event(self, obj: Any, action: str, changes: dict[str, Any]) -> AuditEvent:
        return AuditEvent(
            organization_id=self.organization.pk,
            created_at=self.now,
            actor_kind=ACTOR.kind,
            actor_label=ACTOR.label,
            action=action,
            target_type=self.contact_ct if isinstance(obj, Contact) else self.payment_ct,
            target_id=obj.pk,
            target_repr=str(obj)[:250],
            changes=changes,
        )


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def sync_connection(
    *,
    connection: HelloAssoConnection,
    client: HelloAssoClient,
    run: HelloAssoSyncRun,
    progress: Callable[[int, int, str], None] | None = None,
) -> Counts:
    """Sync every chosen form of the connection; the run row gets the counts as it goes,
    and `progress(forms done, forms, message)` is told after each form.
    An API error stops the run (raised); what was written stays, and resumes next time."""
    syncer = Syncer(connection=connection, client=client)
    forms = sorted(syncer.forms.values(), key=lambda f: (f.form_type, f.form_slug))
    try:
        for done, form in enumerate(forms, start=1):
            if progress:
                progress(done - 1, len(forms), f"Formulaire « {form.title} »…")
            syncer.sync_form(form)
            _save_counts(run, syncer.counts)
            if progress:
                progress(done, len(forms), f"{syncer.counts.items_seen} article(s) lus.")
    finally:
        _save_counts(run, syncer.counts)
    return syncer.counts


def write_orders(
    *, connection: HelloAssoConnection, client: HelloAssoClient, orders: list[Order]
) -> Counts:
    """Upsert given orders (a notification's), with the same rules as a sync."""
    syncer = Syncer(connection=connection, client=client)
    for order in orders:
        form = syncer.forms.get((order.form_type, order.form_slug))
        if form is not None and not form.campaign_id:
            syncer.ensure_campaign(form)
    syncer.write_orders(orders)
    return syncer.counts


def _save_counts(run: HelloAssoSyncRun, counts: Counts) -> None:
    for name in ("contacts_created", "contacts_updated", "payments_created",
                 "payments_updated", "items_seen"):  # fmt: skip
        setattr(run, name, getattr(counts, name))
    run.errors = counts.errors
    HelloAssoSyncRun.objects.filter(pk=run.pk).update(
        contacts_created=run.contacts_created, contacts_updated=run.contacts_updated,
        payments_created=run.payments_created, payments_updated=run.payments_updated,
        items_seen=run.items_seen, errors=run.errors,
    )  # fmt: skip


__all__ = [
    "FORM_TYPE_KINDS",
    "CONTACT_TARGETS",
    "HelloAssoError",
    "SOURCE",
    "person_key",
    "sync_connection",
    "write_orders",
]
