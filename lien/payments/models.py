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
    # A receipt the collecting platform issued itself (HelloAsso): no second tax receipt.
    external_receipt_url = models.URLField(
        _("reçu émis par la plateforme"), max_length=500, blank=True, default="", db_default=""
    )
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
            # The campaign page and ?campaign= tables: newest first, keyset on (date, id).
            models.Index(
                fields=["organization", "campaign", "-paid_on", "-id"],
                name="payment_org_campaign_date",
            ),
            # Tables sorted by amount (per kind, and all kinds).
            models.Index(
                fields=["organization", "kind", "amount_cents", "id"],
                name="payment_org_kind_amount",
            ),
            models.Index(fields=["organization", "amount_cents", "id"], name="payment_org_amount"),
            models.Index(fields=["organization", "-paid_on"], name="payment_org_date"),
            models.Index(
                fields=["organization", "source", "external_id"], name="payment_org_external"
            ),
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
        amount = format_cents(self.amount_cents, self.currency)
        return f"{self.get_kind_display()} {amount} du {self.paid_on:%d/%m/%Y}"

    @property
    def payer(self):
        return self.payer_contact or self.payer_structure


def format_cents(cents: int | None, currency: str = "EUR") -> str:
    """1234550 → « 12 345,50 € » (narrow no-break space between thousands)."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(int(cents)), 100)
    symbol = "€" if currency == "EUR" else currency
    return f"{sign}{euros:,}".replace(",", "\u202f") + f",{rest:02d}\u00a0{symbol}"


class PaymentLabel(TenantModel):
    """An étiquette on a payment (« Gala 2026 », « Legs »…), from the contacts' label list."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="label_links")
    label = models.ForeignKey(
        "contacts.Label", on_delete=models.CASCADE, related_name="payment_links", db_index=False
    )

    class Meta:
        verbose_name = _("étiquette de paiement")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "payment", "label"], name="paymentlabel_unique"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "label", "payment"], name="paymentlabel_org_label")
        ]


class MembershipPeriodMode(models.TextChoices):
    ROLLING = "rolling", _("12 mois à partir du paiement")
    CALENDAR = "calendar", _("Année civile (1er janvier – 31 décembre)")
    SEASON = "season", _("Saison (à partir d'un mois donné, sur 12 mois)")


DEFAULT_INCOME_ACCOUNTS = {
    "don": "754",
    "adhesion": "756",
    "billetterie": "706",
    "crowdfunding": "754",
    "boutique": "707",
    "autre": "758",
}
DEFAULT_TREASURY_ACCOUNTS = {
    "carte": "512",
    "cheque": "512",
    "especes": "530",
    "virement": "512",
    "prelevement": "512",
    "autre": "512",
}


def default_income_accounts() -> dict:
    return dict(DEFAULT_INCOME_ACCOUNTS)


def default_treasury_accounts() -> dict:
    return dict(DEFAULT_TREASURY_ACCOUNTS)


class PaymentSettings(TenantModel):
    """An organisation's payment rules: automatic labels, membership validity, accounts."""

    auto_labels = models.BooleanField(_("étiquettes automatiques"), default=True)
    renewal_days = models.PositiveSmallIntegerField(
        _("« à renouveler » dans les N jours avant la fin"), default=30
    )
    membership_mode = models.CharField(
        _("durée de validité des adhésions"),
        max_length=10,
        choices=MembershipPeriodMode.choices,
        default=MembershipPeriodMode.ROLLING,
    )
    season_start_month = models.PositiveSmallIntegerField(_("mois de début de saison"), default=9)
    donor_label = models.ForeignKey(
        "contacts.Label", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    member_label = models.ForeignKey(
        "contacts.Label", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    former_member_label = models.ForeignKey(
        "contacts.Label", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    participant_label = models.ForeignKey(
        "contacts.Label", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # {"don": "754", …} and {"carte": "512", …}: the chart of accounts of the export.
    income_accounts = models.JSONField(_("comptes de produits"), default=default_income_accounts)
    treasury_accounts = models.JSONField(
        _("comptes de trésorerie"), default=default_treasury_accounts
    )
    journal_code = models.CharField(_("code journal"), max_length=10, default="BQ")
    cash_journal_code = models.CharField(_("code journal de caisse"), max_length=10, default="CA")
    labels_applied_on = models.DateField(_("règles appliquées le"), null=True, blank=True)

    class Meta:
        verbose_name = _("réglages des paiements")
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="paymentsettings_unique_org"),
            models.CheckConstraint(
                condition=Q(season_start_month__gte=1, season_start_month__lte=12),
                name="paymentsettings_month_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Réglages des paiements ({self.organization_id})"


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
            # Start and contact end the key: « a period covers the day » reads the index
            # alone (the search's membership status, the nightly label rules).
            models.Index(
                fields=["organization", "end_date", "start_date", "contact"],
                name="membership_org_end_c",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="membership_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.start_date:%d/%m/%Y} → {self.end_date:%d/%m/%Y}"


class ContactPaymentYear(TenantModel):
    """What a contact paid (as payer, paid payments only) per calendar year and kind.

    Kept exact with the `Contact.stat_*` columns (lien/contacts/stats.py), it answers
    « dons de plus de 200 € l'an dernier » from one row per donor instead of every gift."""

    # Indexed on its own: deleting a contact finds its rows (the cascade and the foreign
    # key check) without reading the whole table.
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="+"
    )
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=PaymentKind.choices)
    payments = models.PositiveIntegerField(default=0)
    paid_cents = models.BigIntegerField(default=0)
    max_cents = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "contact", "year", "kind"], name="paymentyear_org_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "kind", "year", "paid_cents", "contact"],
                name="paymentyear_org_kind_paid",
            ),
            models.Index(
                fields=["organization", "year", "kind", "contact"], name="paymentyear_org_year"
            ),
        ]
