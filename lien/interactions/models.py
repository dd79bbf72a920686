"""Interactions: every touchpoint with a contact, with its type, category and label."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lien.core.models import TenantModel, TenantQuerySet


class InteractionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PASSIVE = "passive", _("Passive")


class InteractionType(TenantModel):
    """A kind of touchpoint (Appel, Paiement…) with the status its interactions get by default."""

    name = models.CharField(_("nom"), max_length=100)
    default_status = models.CharField(
        _("statut par défaut"),
        max_length=8,
        choices=InteractionStatus.choices,
        default=InteractionStatus.ACTIVE,
    )
    # System types (Paiement, Emailing reçu…) are used by the app itself and cannot be deleted.
    is_system = models.BooleanField(_("type système"), default=False)
    position = models.PositiveIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("type d'interaction")
        verbose_name_plural = _("types d'interaction")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="interactiontype_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class InteractionCategory(TenantModel):
    """A broad theme to sort interactions (Vie associative, Collecte…); unique per organisation."""

    name = models.CharField(_("nom"), max_length=100)

    class Meta:
        verbose_name = _("catégorie d'interaction")
        verbose_name_plural = _("catégories d'interaction")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="interactioncategory_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class InteractionLabel(TenantModel):
    """A « libellé »: the precise object (emailing, event, topic); names unique per organisation."""

    name = models.CharField(_("nom"), max_length=200)

    class Meta:
        verbose_name = _("libellé d'interaction")
        verbose_name_plural = _("libellés d'interaction")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="interactionlabel_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class InteractionQuerySet(TenantQuerySet):
    def of_contact(self, contact) -> InteractionQuerySet:
        return self.filter(contact=contact)

    def created_by_source(self, source: models.Model) -> InteractionQuerySet:
        """The interactions a payment, an emailing or an import created."""
        return self.filter(
            source_type=ContentType.objects.get_for_model(source, for_concrete_model=False),
            source_id=source.pk,
        )

    def newest_first(self) -> InteractionQuerySet:
        return self.order_by("-occurred_at", "-id")


class Interaction(TenantModel):
    """One moment in contact with someone; one created by a source goes with that source."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Saisie manuelle")
        IMPORT = "import", _("Import")
        PAYMENT = "payment", _("Paiement")
        EMAILING = "emailing", _("Emailing")
        FORM = "form", _("Formulaire")
        CONNECTOR = "connector", _("Application connectée")

    contact = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.CASCADE,
        related_name="interactions",
        verbose_name=_("contact"),
    )
    occurred_at = models.DateTimeField(_("date"))
    type = models.ForeignKey(
        InteractionType,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # served by interaction_org_type
        verbose_name=_("type"),
    )
    category = models.ForeignKey(
        InteractionCategory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # few categories: a filter on one reads by date anyway
        verbose_name=_("catégorie"),
    )
    label = models.ForeignKey(
        InteractionLabel,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # served by interaction_org_label
        verbose_name=_("libellé"),
    )
    description = models.TextField(_("description"), blank=True)
    structure = models.ForeignKey(
        "contacts.Structure",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
        db_index=False,  # served by interaction_org_structure
        verbose_name=_("structure"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("saisie par"),
    )
    status = models.CharField(
        _("statut"),
        max_length=8,
        choices=InteractionStatus.choices,
        default=InteractionStatus.ACTIVE,
    )
    source = models.CharField(
        _("origine"), max_length=10, choices=Source.choices, default=Source.MANUAL
    )
    # The object that created this interaction (a payment, an emailing…), if any.
    source_type = models.ForeignKey(
        ContentType,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    source_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)

    objects = InteractionQuerySet.as_manager()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(
                fields=["organization", "-occurred_at", "-id"], name="interaction_org_date"
            ),
            models.Index(
                fields=["organization", "contact", "-occurred_at"], name="interaction_org_contact"
            ),
            # The contact ends the key so search criteria by type or libellé (« appelés en
            # 2025 », « a ouvert l'emailing X ») read the index alone, not 10M rows' heap.
            models.Index(
                fields=["organization", "type", "-occurred_at", "contact"],
                name="interaction_org_type_c",
            ),
            models.Index(
                fields=["organization", "source_type", "source_id"], name="interaction_org_source"
            ),
            models.Index(
                fields=["organization", "structure", "-occurred_at"],
                name="interaction_org_structure",
            ),
            models.Index(
                fields=["organization", "label", "-occurred_at", "contact"],
                name="interaction_org_label_c",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} — {self.occurred_at:%d/%m/%Y}"


class ContactInteractionYear(TenantModel):
    """How many interactions (and active ones) a contact had in a calendar year (local time).

    Kept exact with the `Contact.stat_*` columns (lien/contacts/stats.py), it answers
    « au moins 4 interactions en 2024 » from one row per contact instead of 10M rows."""

    # Indexed on its own: deleting a contact finds its rows (the cascade and the foreign
    # key check) without reading the whole table.
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="+"
    )
    year = models.PositiveSmallIntegerField()
    interactions = models.PositiveIntegerField(default=0)
    active = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "contact", "year"], name="contactyear_org_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "year", "interactions", "contact"],
                name="contactyear_org_year_n",
            ),
            models.Index(
                fields=["organization", "year", "active", "contact"],
                name="contactyear_org_year_active",
            ),
        ]
