"""Writes on payments, campaigns and payment settings.

A payment keeps three things in step with itself, in the same transaction:
its Paiement interactions (on the payer and on the beneficiary), its membership
period (a paid membership only) and the automatic labels of the people it
touches. Nothing else writes them.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from lien.contacts.custom_fields import clean_custom_values
from lien.contacts.models import Contact, CustomField, Label, Structure
from lien.contacts.services import resolve_labels
from lien.contacts.stats import refresh_contact_stats
from lien.core.audit import Actor, diff, record_event, snapshot
from lien.core.models import AuditEvent, Membership, Organization
from lien.core.params import as_id
from lien.interactions.defaults import PAYMENT_TYPE
from lien.interactions.models import Interaction, InteractionStatus, InteractionType
from lien.payments.models import (
    Campaign,
    MembershipPeriod,
    MembershipPeriodMode,
    Payment,
    PaymentKind,
    PaymentLabel,
    PaymentSettings,
    format_cents,
)

Status = Payment.Status
FIELDS = [
    "kind", "amount_cents", "paid_on", "method", "status", "campaign", "payer_contact",
    "payer_structure", "beneficiary", "is_recurring", "frequency", "source", "external_id",
    "notes",
]  # fmt: skip
# Statuses whose payment is a real touchpoint: it keeps its Paiement interactions.
INTERACTION_STATUSES = {Status.PAID, Status.PENDING, Status.REFUNDED}
MAX_CENTS = 10**13  # 100 milliards d'euros: a typo, not a gift.


# Settings --------------------------------------------------------------------------------


def payment_settings(organization: Organization) -> PaymentSettings:
    """The organisation's payment settings, created with the defaults on first use."""
    found = PaymentSettings.objects.for_org(organization).first()
    if found is not None:
        return found
    with transaction.atomic():
        found, _ = PaymentSettings.objects.get_or_create(organization=organization)
    return found


SETTINGS_FIELDS = [
    "auto_labels", "renewal_days", "membership_mode", "season_start_month",
    "income_accounts", "treasury_accounts", "journal_code", "cash_journal_code",
]  # fmt: skip
ACCOUNT_RE = re.compile(r"^[0-9A-Za-z]{1,20}$")


@transaction.atomic
def update_payment_settings(
    *, organization: Organization, actor: Actor, **values: Any
) -> PaymentSettings:
    settings = payment_settings(organization)
    before = snapshot(settings, SETTINGS_FIELDS)
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if name not in SETTINGS_FIELDS:
            raise TypeError(f"unknown setting {name}")
        setattr(settings, name, value)
    for field, low, high, message in [
        ("renewal_days", 0, 366, "Un nombre de jours entre 0 et 366."),
        ("season_start_month", 1, 12, "Un mois entre 1 et 12."),
    ]:
        value = getattr(settings, field)
        number = as_id(value) if not isinstance(value, int) or isinstance(value, bool) else value
        if number is None or not low <= number <= high:
            errors.setdefault(field, []).append(message)
        else:
            setattr(settings, field, number)
    if settings.membership_mode not in MembershipPeriodMode.values:
        errors.setdefault("membership_mode", []).append("Mode de validité inconnu.")
    for field, keys, what in [
        ("income_accounts", PaymentKind.values, "type de paiement"),
        ("treasury_accounts", Payment.Method.values, "moyen de paiement"),
    ]:
        accounts = getattr(settings, field)
        if not isinstance(accounts, dict):
            errors.setdefault(field, []).append("Un compte par clé est attendu.")
            continue
        for key in keys:
            account = str(accounts.get(key, "")).strip()
            if not ACCOUNT_RE.match(account):
                errors.setdefault(field, []).append(
                    f"Compte du {what} « {key} » : « {account} » n'est pas un numéro de compte "
                    "(chiffres et lettres, 20 caractères au plus)."
                )
            accounts[key] = account
    for field in ("journal_code", "cash_journal_code"):
        code = str(getattr(settings, field)).strip()
        if not ACCOUNT_RE.match(code):
            errors.setdefault(field, []).append("Un code journal de 1 à 10 lettres ou chiffres.")
        setattr(settings, field, code)
    if errors:
        raise ValidationError(errors)
    settings.save()
    changes = diff(before, snapshot(settings, SETTINGS_FIELDS))
    if changes:
        record_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=settings,
            changes=changes,
        )
    if "auto_labels" in changes and settings.auto_labels:
        from lien.payments.labels import apply_label_rules

        apply_label_rules(organization=organization, actor=actor)
    return settings


def membership_validity(settings: PaymentSettings, paid_on: dt.date) -> tuple[dt.date, dt.date]:
    """The default validity of a membership paid on `paid_on`, by the organisation's rule."""
    if settings.membership_mode == MembershipPeriodMode.CALENDAR:
        return dt.date(paid_on.year, 1, 1), dt.date(paid_on.year, 12, 31)
    if settings.membership_mode == MembershipPeriodMode.SEASON:
        month = settings.season_start_month
        year = paid_on.year if paid_on.month >= month else paid_on.year - 1
        start = dt.date(year, month, 1)
        return start, add_years(start, 1) - dt.timedelta(days=1)
    return paid_on, add_years(paid_on, 1) - dt.timedelta(days=1)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# Parsing ---------------------------------------------------------------------------------


def parse_amount(value: Any) -> int:
    """Euros as typed by people (« 1 234,50 € », "12.5", 12) → integer cents; else a French
    error. An int or a Decimal is taken as euros too."""
    if isinstance(value, bool):
        raise ValidationError("Montant invalide.")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, (Decimal, float)):
        amount = Decimal(str(value))
    else:
        text = str(value or "").strip().replace("€", "").replace("EUR", "")
        text = re.sub(r"[\s\u00a0\u202f]", "", text)
        if "," in text and "." in text:  # 1.234,50 or 1,234.50: the last one is decimal
            if text.rfind(",") > text.rfind("."):
                text = text.replace(".", "").replace(",", ".")
            else:
                text = text.replace(",", "")
        else:
            text = text.replace(",", ".")
        if not text:
            raise ValidationError("Le montant est obligatoire.")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValidationError(f"« {value} » n'est pas un montant.") from None
    if not amount.is_finite():
        raise ValidationError(f"« {value} » n'est pas un montant.")
    # Before quantize, which raises InvalidOperation beyond 28 digits (« 1e30 »).
    if abs(amount) >= Decimal(MAX_CENTS) / 100:
        raise ValidationError("Montant trop grand.")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError("Un montant a au plus 2 décimales (des centimes).")
    return int(amount * 100)


def parse_date(value: Any, *, what: str = "La date") -> dt.date:
    """A date as typed (31/12/2026, 2026-12-31…), between 1900 and 2200; else a French error."""
    day = _read_date(value, what)
    if not 1900 <= day.year <= 2200:
        raise ValidationError(f"{what} doit être entre 1900 et 2200.")
    return day


def _read_date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValidationError(f"{what} est obligatoire.")
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValidationError(f"« {text} » n'est pas une date (JJ/MM/AAAA).")


def _optional_date(value: Any, what: str) -> dt.date | None:
    if value in (None, ""):
        return None
    return parse_date(value, what=what)


# Campaigns -------------------------------------------------------------------------------

CAMPAIGN_FIELDS = ["name", "kind", "start_date", "end_date", "goal_cents", "description"]


@transaction.atomic
def save_campaign(
    *,
    organization: Organization,
    actor: Actor,
    campaign: Campaign | None = None,
    name: str,
    kind: str = PaymentKind.DONATION,
    start_date: Any = None,
    end_date: Any = None,
    goal: Any = None,
    description: str = "",
) -> Campaign:
    """Create or change a campaign; every error at once, by field."""
    errors: dict[str, list[str]] = {}
    name = " ".join(str(name or "").split())
    if not name:
        errors["name"] = ["Le nom de la campagne est obligatoire."]
    elif len(name) > 200:
        errors["name"] = ["200 caractères au plus."]
    else:
        others = Campaign.objects.for_org(organization).filter(name__iexact=name)
        if campaign is not None:
            others = others.exclude(pk=campaign.pk)
        if others.exists():
            errors["name"] = [f"La campagne « {name} » existe déjà."]
    if kind not in PaymentKind.values:
        errors["kind"] = [f"Type inconnu : « {kind} »."]
    dates = {}
    for field, value, what in [
        ("start_date", start_date, "La date de début"),
        ("end_date", end_date, "La date de fin"),
    ]:
        try:
            dates[field] = _optional_date(value, what)
        except ValidationError as error:
            errors[field] = error.messages
    if (
        dates.get("start_date")
        and dates.get("end_date")
        and dates["end_date"] < dates["start_date"]
    ):
        errors["end_date"] = ["La date de fin est avant la date de début."]
    goal_cents = None
    if goal not in (None, ""):
        try:
            goal_cents = parse_amount(goal)
            if goal_cents <= 0:
                errors["goal"] = ["L'objectif doit être un montant positif."]
        except ValidationError as error:
            errors["goal"] = error.messages
    if errors:
        raise ValidationError(errors)
    creating = campaign is None
    before = {} if creating else snapshot(campaign, CAMPAIGN_FIELDS)
    campaign = campaign or Campaign(organization=organization)
    campaign.name, campaign.kind, campaign.goal_cents = name, kind, goal_cents
    campaign.start_date, campaign.end_date = dates["start_date"], dates["end_date"]
    campaign.description = description or ""
    campaign.save()
    changes = diff(before, snapshot(campaign, CAMPAIGN_FIELDS))
    if changes:
        record_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE,
            target=campaign,
            changes=changes,
        )
    return campaign


@transaction.atomic
def delete_campaign(*, organization: Organization, actor: Actor, campaign: Campaign) -> None:
    """Only an unused campaign goes: detaching payments would lose what they were for."""
    used = Payment.objects.for_org(organization).filter(campaign=campaign).count()
    if used:
        raise ValidationError(
            f"{used} paiement(s) sont rattachés à la campagne « {campaign.name} » : "
            "rattachez-les à une autre campagne avant de la supprimer."
        )
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.DELETE,
        target=campaign,
        changes={"name": [campaign.name, None]},
    )
    campaign.delete()


def _campaign_of(organization: Organization, ref: Any) -> Campaign | None:
    if ref in (None, ""):
        return None
    if isinstance(ref, Campaign):
        found = ref if ref.organization_id == organization.pk else None
    elif as_id(ref) is not None:
        found = Campaign.objects.for_org(organization).filter(pk=as_id(ref)).first()
    else:
        found = Campaign.objects.for_org(organization).filter(name__iexact=str(ref).strip()).first()
    if found is None:
        raise ValidationError(f"Campagne inconnue : « {ref} ».")
    return found


# Payments --------------------------------------------------------------------------------


def _record_of(model, organization: Organization, ref: Any, what: str):
    if ref in (None, ""):
        return None
    pk = ref.pk if isinstance(ref, model) else as_id(ref)
    found = (
        model.objects.for_org(organization).filter(pk=pk, is_deleted=False).first()
        if pk is not None
        else None
    )
    if found is None:
        raise ValidationError(f"{what} introuvable dans votre association.")
    return found


UNSET = object()


def _clean_payment(
    *,
    organization: Organization,
    payment: Payment,
    values: dict[str, Any],
    membership: Membership | None,
    creating: bool,
) -> tuple[dict[str, Any], list[str]]:
    """Apply `values` to `payment` after checking them; every error at once, by field.

    Returns the validity (start, end) asked for and the error dict, raising it if not empty.
    """
    errors: dict[str, list[str]] = {}

    def check(field: str, fn):
        try:
            return fn()
        except ValidationError as error:
            errors.setdefault(field, []).extend(error.messages)
            return None

    if "kind" in values:
        if values["kind"] not in PaymentKind.values:
            errors["kind"] = [f"Type de paiement inconnu : « {values['kind']} »."]
        else:
            payment.kind = values["kind"]
    elif creating:
        errors["kind"] = ["Le type de paiement est obligatoire."]
    if "amount" in values or "amount_cents" in values:
        cents = (
            check("amount", lambda: parse_amount(values["amount"]))
            if "amount" in values
            else values["amount_cents"]
        )
        if cents is not None:
            if not isinstance(cents, int) or isinstance(cents, bool):
                errors.setdefault("amount", []).append("Montant invalide.")
            elif abs(cents) >= MAX_CENTS:  # the bound `parse_amount` applies to euros
                errors.setdefault("amount", []).append("Montant trop grand.")
            else:
                payment.amount_cents = cents
    elif creating:
        errors["amount"] = ["Le montant est obligatoire."]
    if "paid_on" in values:
        day = check("paid_on", lambda: parse_date(values["paid_on"]))
        if day is not None:
            payment.paid_on = day
    elif creating:
        errors["paid_on"] = ["La date est obligatoire."]
    for field, choices, what in [
        ("method", Payment.Method, "Moyen de paiement"),
        ("status", Status, "Statut"),
        ("frequency", Payment.Frequency, "Fréquence"),
    ]:
        if field in values:
            value = values[field] or ""
            if value not in choices.values:
                errors[field] = [f"{what} inconnu : « {value} »."]
            else:
                setattr(payment, field, value)
    if "is_recurring" in values:
        payment.is_recurring = bool(values["is_recurring"])
    if payment.is_recurring and not payment.frequency:
        payment.frequency = Payment.Frequency.MONTHLY
    if not payment.is_recurring:
        payment.frequency = ""
    if "campaign" in values:
        payment.campaign = check("campaign", lambda: _campaign_of(organization, values["campaign"]))
    # A beneficiary that only echoed the payer follows a change of payer.
    echoed = payment.pk is not None and payment.beneficiary_id == payment.payer_contact_id
    for field, model, what in [
        ("payer_contact", Contact, "Contact payeur"),
        ("payer_structure", Structure, "Structure payeuse"),
        ("beneficiary", Contact, "Bénéficiaire"),
    ]:
        if field in values:
            setattr(
                payment,
                field,
                check(
                    field,
                    lambda m=model, f=field, w=what: _record_of(m, organization, values[f], w),
                ),  # fmt: skip
            )
    if (
        echoed
        and "beneficiary" not in values
        and ("payer_contact" in values or "payer_structure" in values)
    ):
        payment.beneficiary = payment.payer_contact
    for field in ("source", "external_id", "notes"):
        if field in values:
            setattr(payment, field, str(values[field] or "").strip())
    if "payer_contact" not in errors and "payer_structure" not in errors:
        if payment.payer_contact_id and payment.payer_structure_id:
            errors["payer"] = ["Un paiement a un seul payeur : un contact OU une structure."]
        elif not payment.payer_contact_id and not payment.payer_structure_id:
            errors["payer"] = ["Le payeur est obligatoire : un contact ou une structure."]
    if payment.beneficiary_id is None and payment.payer_contact_id and "beneficiary" not in errors:
        payment.beneficiary = payment.payer_contact
    if "amount" not in errors and payment.amount_cents is not None:
        if payment.amount_cents < 0:
            errors["amount"] = ["Le montant ne peut pas être négatif."]
        elif payment.amount_cents == 0 and payment.status == Status.PAID:
            errors["amount"] = ["Un paiement payé a un montant supérieur à zéro."]
    if "custom" in values:
        custom = check(
            "custom",
            lambda: clean_custom_values(
                organization=organization,
                target=CustomField.Target.PAYMENT,
                values=values["custom"] or {},
                existing=payment.custom,
                membership=membership,
                partial=not creating,
            ),
        )
        if custom is not None:
            payment.custom = custom
    validity: dict[str, Any] = {}
    for field, what in [
        ("valid_from", "Le début de validité"),
        ("valid_until", "La fin de validité"),
    ]:
        if field in values:
            validity[field] = check(field, lambda f=field, w=what: _optional_date(values[f], w))
    labels = None
    if "labels" in values:
        labels = check("labels", lambda: resolve_labels(
            organization=organization, refs=values["labels"] or []
        ))  # fmt: skip
    if errors:
        raise ValidationError(errors)
    return validity, labels


def _period_bounds(
    payment: Payment, validity: dict[str, Any], current: MembershipPeriod | None
) -> tuple[dt.date, dt.date]:
    default_start, default_end = membership_validity(
        payment_settings(payment.organization), payment.paid_on
    )
    start = validity.get("valid_from") or (current.start_date if current else default_start)
    end = validity.get("valid_until") or (current.end_date if current else None)
    if end is None:
        end = default_end if start == default_start else add_years(start, 1) - dt.timedelta(1)
    return start, end


def _sync_period(payment: Payment, validity: dict[str, Any]) -> list[int]:
    """A paid membership has exactly one period, for its beneficiary; anything else has none.
    Returns the contacts whose membership may have changed."""
    periods = MembershipPeriod.objects.for_org(payment.organization_id).filter(payment=payment)
    current = periods.first()
    touched = [current.contact_id] if current else []
    wanted = (
        payment.kind == PaymentKind.MEMBERSHIP
        and payment.status == Status.PAID
        and payment.beneficiary_id is not None
    )
    if not wanted:
        if (
            validity.get("valid_until")
            and validity.get("valid_from")
            and (validity["valid_until"] < validity["valid_from"])
        ):
            raise ValidationError({"valid_until": "La fin de validité est avant son début."})
        periods.delete()
        return touched
    start, end = _period_bounds(payment, validity, current)
    if end < start:
        raise ValidationError({"valid_until": "La fin de validité est avant son début."})
    if current is None:
        MembershipPeriod.objects.create(
            organization_id=payment.organization_id,
            contact_id=payment.beneficiary_id,
            payment=payment,
            start_date=start,
            end_date=end,
        )
    elif (current.contact_id, current.start_date, current.end_date) != (
        payment.beneficiary_id, start, end
    ):  # fmt: skip
        current.contact_id, current.start_date, current.end_date = (
            payment.beneficiary_id, start, end
        )  # fmt: skip
        current.save(update_fields=["contact", "start_date", "end_date"])
    return [*touched, payment.beneficiary_id]


def interaction_description(payment: Payment) -> str:
    parts = [f"{payment.get_kind_display()} de {format_cents(payment.amount_cents)}"]
    if payment.campaign_id:
        parts.append(f"campagne « {payment.campaign.name} »")
    if payment.status != Status.PAID:
        parts.append(payment.get_status_display().lower())
    return " — ".join(parts)


def _sync_interactions(payment: Payment) -> None:
    """One Paiement interaction on the payer contact and one on a different beneficiary;
    none once the payment is cancelled or refused."""
    organization_id = payment.organization_id
    existing = {
        i.contact_id: i
        for i in Interaction.objects.for_org(organization_id).filter(
            source=Interaction.Source.PAYMENT,
            source_type=ContentType.objects.get_for_model(Payment),
            source_id=payment.pk,
        )
    }
    wanted: list[int] = []
    if payment.status in INTERACTION_STATUSES:
        for contact_id in (payment.payer_contact_id, payment.beneficiary_id):
            if contact_id and contact_id not in wanted:
                wanted.append(contact_id)
    for contact_id, interaction in existing.items():
        if contact_id not in wanted:
            interaction.delete()
    if not wanted:
        return
    type_ = InteractionType.objects.for_org(organization_id).filter(name=PAYMENT_TYPE).first()
    if type_ is None:
        type_ = InteractionType.objects.create(
            organization_id=organization_id,
            name=PAYMENT_TYPE,
            default_status=InteractionStatus.ACTIVE,
            is_system=True,
        )
    occurred_at = timezone.make_aware(dt.datetime.combine(payment.paid_on, dt.time(12, 0)))
    description = interaction_description(payment)
    for contact_id in wanted:
        interaction = existing.get(contact_id)
        if interaction is None:
            Interaction.objects.create(
                organization_id=organization_id,
                contact_id=contact_id,
                occurred_at=occurred_at,
                type=type_,
                description=description,
                structure_id=payment.payer_structure_id,
                status=InteractionStatus.ACTIVE,
                source=Interaction.Source.PAYMENT,
                source_type=ContentType.objects.get_for_model(Payment),
                source_id=payment.pk,
            )
        elif (interaction.occurred_at, interaction.description, interaction.structure_id) != (
            occurred_at, description, payment.payer_structure_id
        ):  # fmt: skip
            interaction.occurred_at, interaction.description = occurred_at, description
            interaction.structure_id = payment.payer_structure_id
            interaction.save(update_fields=["occurred_at", "description", "structure"])


def _set_labels(payment: Payment, labels: list[Label] | None) -> dict[str, Any]:
    if labels is None:
        return {}
    links = PaymentLabel.objects.for_org(payment.organization_id).filter(payment=payment)
    before = sorted(links.values_list("label__name", flat=True))
    wanted = {label.pk for label in labels}
    links.exclude(label_id__in=wanted).delete()
    have = set(links.values_list("label_id", flat=True))
    PaymentLabel.objects.bulk_create(
        PaymentLabel(organization_id=payment.organization_id, payment=payment, label_id=pk)
        for pk in wanted - have
    )
    after = sorted(label.name for label in labels)
    return (
        {"labels": [", ".join(before) or None, ", ".join(after) or None]} if before != after else {}
    )


def _people(payment: Payment) -> set[int]:
    return {pk for pk in (payment.payer_contact_id, payment.beneficiary_id) if pk}


def _write_payment(
    *,
    organization: Organization,
    actor: Actor,
    payment: Payment,
    values: dict[str, Any],
    membership: Membership | None,
) -> Payment:
    creating = payment.pk is None
    before = {} if creating else snapshot(payment, FIELDS)
    before_people = set() if creating else _people(payment)
    before_payer_structure = payment.payer_structure_id
    before_custom = dict(payment.custom or {})
    validity, labels = _clean_payment(
        organization=organization,
        payment=payment,
        values=values,
        membership=membership,
        creating=creating,
    )
    payment.updated_at = timezone.now()
    try:
        payment.full_clean(exclude=["organization", "custom"])
    except ValidationError as error:
        raise ValidationError(error.message_dict) from None
    payment.save()
    touched = set(_sync_period(payment, validity))
    _sync_interactions(payment)
    changes = diff(before, snapshot(payment, FIELDS))
    changes.update(_set_labels(payment, labels))
    if not creating and payment.custom != before_custom:
        changes["custom"] = [None, "modifiés"]
    if any(day is not None for day in validity.values()):  # empty fields ask for nothing
        changes["validity"] = [
            None,
            f"{validity.get('valid_from')} → {validity.get('valid_until')}",
        ]
    if changes:
        record_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE,
            target=payment,
            changes=changes,
        )
    from lien.payments.labels import apply_label_rules

    people = touched | before_people | _people(payment)
    refresh_contact_stats(organization, people)
    apply_label_rules(
        organization=organization,
        actor=actor,
        contact_ids=sorted(people),
        structure_ids=sorted(
            {pk for pk in (before_payer_structure, payment.payer_structure_id) if pk}
        ),
    )
    return payment


@transaction.atomic
def create_payment(
    *,
    organization: Organization,
    actor: Actor,
    membership: Membership | None = None,
    **values: Any,
) -> Payment:
    """Record a payment. Values: kind, amount (euros, « 12,50 ») or amount_cents, paid_on,
    method, status, campaign, payer_contact or payer_structure, beneficiary, is_recurring,
    frequency, source, external_id, notes, custom, labels, valid_from, valid_until."""
    payment = Payment(organization=organization, status=Status.PAID, method=Payment.Method.OTHER)
    return _write_payment(
        organization=organization, actor=actor, payment=payment, values=values,
        membership=membership,
    )  # fmt: skip


@transaction.atomic
def update_payment(
    *,
    organization: Organization,
    actor: Actor,
    payment: Payment,
    membership: Membership | None = None,
    **values: Any,
) -> Payment:
    """Change a payment; only the values given change. Cancelling is `status="annule"`."""
    payment = Payment.objects.for_org(organization).select_for_update().get(pk=payment.pk)
    return _write_payment(
        organization=organization, actor=actor, payment=payment, values=values,
        membership=membership,
    )  # fmt: skip


@transaction.atomic
def delete_payment(*, organization: Organization, actor: Actor, payment: Payment) -> None:
    """Delete a payment with its interactions and membership period; labels follow."""
    people = _people(payment)
    people |= set(
        MembershipPeriod.objects.for_org(organization)
        .filter(payment=payment)
        .values_list("contact_id", flat=True)
    )
    structure = payment.payer_structure_id
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.DELETE,
        target=payment,
        changes={"amount_cents": [payment.amount_cents, None], "kind": [payment.kind, None]},
    )
    Interaction.objects.for_org(organization).filter(
        source=Interaction.Source.PAYMENT,
        source_type=ContentType.objects.get_for_model(Payment),
        source_id=payment.pk,
    ).delete()
    payment.delete()
    refresh_contact_stats(organization, people)
    from lien.payments.labels import apply_label_rules

    apply_label_rules(
        organization=organization,
        actor=actor,
        contact_ids=sorted(people),
        structure_ids=[structure] if structure else [],
    )
