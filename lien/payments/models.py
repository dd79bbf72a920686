"""Payments, campaigns and membership periods: the money side of the CRM."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lien.core.models import TenantModel, TenantQuerySet


class PaymentKind(models.TextChoices):
    DONATION = "don", _("Don")
    MEMBERSHIP = "adhesion", _("Adhésion")
    TICKETING = "billetterie", _("Billetterie")
    CROWDFUNDING = "crowdfunding", _("Crowdfunding")
    SHOP = "boutique", _("Boutique")
    OTHER = "autre", _("Autre")


class Campaign(TenantModel):
    """A fundraising or membership campaign; payments link to it to measure it against its goal."""

    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(
        _("type"), max_length=12, choices=PaymentKind.choices, default=PaymentKind.DONATION
    )
    start_date = models.DateField(_("début"), null=True, blank=True)
    end_date = models.DateField(_("fin"), null=True, blank=True)
    goal_cents = models.BigIntegerField(_("objectif (centimes)"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)

    class Meta:
        verbose_name = _("campagne")
        verbose_name_plural = _("campagnes")
        ordering = ["-start_date", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="campaign_unique_name"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="campaign_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(goal_cents__isnull=True) | Q(goal_cents__gte=0),
                name="campaign_goal_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PaymentQuerySet(TenantQuerySet):
    def paid(self) -> PaymentQuerySet:
        return self.filter(status=Payment.Status.PAID)

    def of_kind(self, kind: str) -> PaymentQuerySet:
        return self.filter(kind=kind)


class Payment(TenantModel):
    """Money received from exactly one payer (a contact or a structure), in integer cents."""

    class Method(models.TextChoices):
        CARD = "carte", _("Carte")
        CHEQUE = "cheque", _("Chèque")
        CASH = "especes", _("Espèces")
        TRANSFER = "virement", _("Virement")
        DIRECT_DEBIT = "prelevement", _("Prélèvement")
        OTHER = "autre", _("Autre")

    class Status(models.TextChoices):
        PAID = "paye", _("Payé")
        PENDING = "en_attente", _("En attente")
        REFUNDED = "rembourse", _("Remboursé")
        CANCELLED = "annule", _("Annulé")
        REFUSED = "refuse", _("Refusé")

    class Frequency(models.TextChoices):
        NONE = "", _("Ponctuel")
        MONTHLY = "mensuel", _("Mensuel")
        YEARLY = "annuel", _("Annuel")

    kind = models.CharField(_("type"), max_length=12, choices=PaymentKind.choices)
    amount_cents = models.BigIntegerField(_("montant (centimes)"))
    currency = models.CharField(_("devise"), max_length=3, default="EUR")
    paid_on = models.DateField(_("date"))
    method = models.CharField(
        _("moyen de paiement"), max_length=12, choices=Method.choices, default=Method.OTHER
    )
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.PAID
    )
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="payments",
        db_index=False,
        verbose_name=_("campagne"),
    )
    payer_contact = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("payeur (contact)"),
    )
    payer_structure = models.ForeignKey(
        "contacts.Structure",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("payeur (structure)"),
    )
    beneficiary = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="benefited_payments",
        verbose_name=_("bénéficiaire"),
    )
    is_recurring = models.BooleanField(_("récurrent"), default=False)
    frequency = models.CharField(
        _("fréquence"), max_length=8, choices=Frequency.choices, default="", blank=True
    )
    source = models.CharField(_("source"), max_length=50, blank=True)
    external_id = models.CharField(_("identifiant externe"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    custom = models.JSONField(_("champs personnalisés"), default=dict, blank=True)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    updated_at = models.DateTimeField(_("modifié le"), default=timezone.now)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("paiement")
        verbose_name_plural = _("paiements")
        indexes = [
            models.Index(fields=["organization", "kind", "-paid_on"], name="payment_org_kind_date"),
            models.Index(
                fields=["organization", "payer_contact", "-paid_on"], name="payment_org_payer"
            ),
            models.Index(fields=["organization", "campaign"], name="payment_org_campaign"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(payer_contact__isnull=False, payer_structure__isnull=True)
                | Q(payer_contact__isnull=True, payer_structure__isnull=False),
                name="payment_exactly_one_payer",
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gte=0), name="payment_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(is_recurring=False, frequency="")
                | Q(is_recurring=True, frequency__in=["mensuel", "annuel"]),
                name="payment_recurring_has_frequency",
            ),
        ]

    def __str__(self) -> str:
        euros, cents = divmod(self.amount_cents, 100)
        amount = f"{euros},{cents:02d} {self.currency}"
        return f"{self.get_kind_display()} {amount} du {self.paid_on:%d/%m/%Y}"


class MembershipPeriodQuerySet(TenantQuerySet):
    def covering(self, day) -> MembershipPeriodQuerySet:
        """The periods valid on `day` (both ends included)."""
        return self.filter(start_date__lte=day, end_date__gte=day)


class MembershipPeriod(TenantModel):
    """One validity period of a contact's membership; renewals add rows, never rewrite them."""

    contact = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.CASCADE,
        related_name="membership_periods",
        verbose_name=_("adhérent"),
    )
    payment = models.ForeignKey(
        Payment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="membership_periods",
        verbose_name=_("paiement"),
    )
    start_date = models.DateField(_("début de validité"))
    end_date = models.DateField(_("fin de validité"))
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)

    objects = MembershipPeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("période d'adhésion")
        verbose_name_plural = _("périodes d'adhésion")
        indexes = [
            models.Index(
                fields=["organization", "contact", "end_date"], name="membership_org_contact_end"
            ),
            models.Index(fields=["organization", "end_date"], name="membership_org_end"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="membership_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.start_date:%d/%m/%Y} → {self.end_date:%d/%m/%Y}"
