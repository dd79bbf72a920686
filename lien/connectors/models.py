"""Connected applications: the HelloAsso connection, its forms and the log of its syncs."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lien.core.models import TenantModel


def new_webhook_token() -> str:
    """An unguessable token for the organisation's notification URL (256 bits)."""
    return secrets.token_urlsafe(32)


class HelloAssoConnection(TenantModel):
    """An organisation's HelloAsso account: credentials (secret encrypted), slug, sync state."""

    client_id = models.CharField(_("identifiant client"), max_length=200, blank=True)
    # Fernet token of the client secret (lien/connectors/crypto.py); never shown again.
    client_secret_encrypted = models.TextField(_("secret client (chiffré)"), blank=True)
    organization_slug = models.CharField(
        _("identifiant HelloAsso de l'association"), max_length=200, blank=True
    )
    start_date = models.DateField(_("importer à partir du"), null=True, blank=True)
    webhook_token = models.CharField(
        _("jeton de notification"), max_length=64, unique=True, default=new_webhook_token
    )
    enabled = models.BooleanField(_("synchronisation active"), default=True)
    last_sync_at = models.DateTimeField(_("dernière synchronisation"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("dernière réussite"), null=True, blank=True)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    # {"Email de l'adhérent": "email", "Taille de t-shirt": "custom:taille"}
    field_mappings = models.JSONField(_("correspondances des questions"), default=dict, blank=True)
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)
    updated_at = models.DateTimeField(_("modifiée le"), default=timezone.now)

    class Meta:
        verbose_name = _("connexion HelloAsso")
        verbose_name_plural = _("connexions HelloAsso")
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="helloasso_unique_org")
        ]

    def __str__(self) -> str:
        return f"HelloAsso {self.organization_slug or '(non configuré)'}"

    @property
    def has_secret(self) -> bool:
        return bool(self.client_secret_encrypted)

    @property
    def is_configured(self) -> bool:
        """Credentials and slug are all there: the API can be called."""
        return bool(self.client_id and self.client_secret_encrypted and self.organization_slug)


class HelloAssoForm(TenantModel):
    """A HelloAsso form (« campagne »): brought in when selected, filed in its own campaign."""

    connection = models.ForeignKey(
        HelloAssoConnection, on_delete=models.CASCADE, related_name="forms", db_index=False
    )
    # HelloAsso's formType as sent (Donation, Membership, Event, Checkout…), even if unknown.
    form_type = models.CharField(_("type de formulaire"), max_length=40)
    form_slug = models.CharField(_("identifiant du formulaire"), max_length=250)
    title = models.CharField(_("titre"), max_length=250, blank=True)
    state = models.CharField(_("état"), max_length=40, blank=True)
    selected = models.BooleanField(_("importé"), default=False)
    # For Checkout forms: the payment table (a PaymentKind value) they go to.
    checkout_kind = models.CharField(_("table des paiements"), max_length=12, blank=True)
    campaign = models.ForeignKey(
        "payments.Campaign",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("campagne"),
    )
    raw = models.JSONField(_("données HelloAsso"), default=dict, blank=True)
    # Incremental sync: the next run reads what changed since this instant (the start of
    # the last run that brought this form in entirely); empty → from the start date.
    synced_until = models.DateTimeField(_("synchronisé jusqu'au"), null=True, blank=True)
    updated_at = models.DateTimeField(_("modifié le"), default=timezone.now)

    class Meta:
        verbose_name = _("formulaire HelloAsso")
        verbose_name_plural = _("formulaires HelloAsso")
        ordering = ["form_type", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "form_type", "form_slug"], name="helloassoform_unique"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "connection"], name="helloassoform_org_conn")
        ]

    def __str__(self) -> str:
        return self.title or self.form_slug


class HelloAssoSyncRun(TenantModel):
    """One sync run: when, what triggered it, what it wrote and which HelloAsso ids failed."""

    class Trigger(models.TextChoices):
        MANUAL = "manuel", _("Manuelle")
        SCHEDULED = "planifié", _("Planifiée")
        WEBHOOK = "webhook", _("Notification")
        COMMAND = "commande", _("Commande")

    class Status(models.TextChoices):
        RUNNING = "en_cours", _("En cours")
        SUCCEEDED = "réussi", _("Réussie")
        FAILED = "échec", _("Échec")

    started_at = models.DateTimeField(_("début"), default=timezone.now)
    finished_at = models.DateTimeField(_("fin"), null=True, blank=True)
    trigger = models.CharField(_("déclencheur"), max_length=12, choices=Trigger.choices)
    status = models.CharField(
        _("état"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    contacts_created = models.PositiveIntegerField(_("contacts créés"), default=0)
    contacts_updated = models.PositiveIntegerField(_("contacts mis à jour"), default=0)
    payments_created = models.PositiveIntegerField(_("paiements créés"), default=0)
    payments_updated = models.PositiveIntegerField(_("paiements mis à jour"), default=0)
    items_seen = models.PositiveIntegerField(_("éléments lus"), default=0)
    # [{"helloasso_id": "12345", "message": "…"}]
    errors = models.JSONField(_("erreurs"), default=list, blank=True)
    message = models.TextField(_("résumé"), blank=True)

    class Meta:
        verbose_name = _("synchronisation HelloAsso")
        verbose_name_plural = _("synchronisations HelloAsso")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-started_at"], name="helloassorun_org_date")
        ]

    def __str__(self) -> str:
        return f"Synchronisation du {self.started_at:%d/%m/%Y %H:%M}"
