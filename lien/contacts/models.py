"""Contacts, structures, households, labels, custom fields, groups and external ids."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lien.core.models import TenantModel, TenantQuerySet


class Household(TenantModel):
    """A « foyer »: contacts who live together and share one postal address."""

    name = models.CharField(_("nom"), max_length=200)
    street = models.CharField(_("adresse"), max_length=250, blank=True)
    street2 = models.CharField(_("complément d'adresse"), max_length=250, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=20, blank=True)
    city = models.CharField(_("ville"), max_length=120, blank=True)
    country = models.CharField(_("pays"), max_length=2, default="FR")
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)

    class Meta:
        verbose_name = _("foyer")
        verbose_name_plural = _("foyers")
        indexes = [models.Index(fields=["organization", "name"], name="household_org_name")]

    def __str__(self) -> str:
        return self.name


class ContactQuerySet(TenantQuerySet):
    def not_deleted(self) -> ContactQuerySet:
        return self.filter(is_deleted=False)

    def in_trash(self) -> ContactQuerySet:
        return self.filter(is_deleted=True)

    def with_label(self, label: Label | str) -> ContactQuerySet:
        """Contacts carrying `label` (a Label or its name), manual or automatic."""
        links = ContactLabel.objects.filter(
            organization_id=models.OuterRef("organization_id"), contact_id=models.OuterRef("pk")
        )
        if isinstance(label, Label):
            links = links.filter(label_id=label.pk)
        else:
            links = links.filter(label__name=label)
        return self.filter(models.Exists(links))


class Contact(TenantModel):
    """A person the association knows; deleting sends it to the trash for 30 days."""

    class Civility(models.TextChoices):
        MR = "M.", _("M.")
        MRS = "Mme", _("Mme")
        MX = "Mx", _("Mx")

    civility = models.CharField(_("civilité"), max_length=8, choices=Civility.choices, blank=True)
    first_name = models.CharField(_("prénom"), max_length=150, blank=True)
    last_name = models.CharField(_("nom"), max_length=150, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    email2 = models.EmailField(_("email secondaire"), max_length=254, blank=True)
    mobile = models.CharField(_("téléphone portable"), max_length=40, blank=True)
    phone = models.CharField(_("téléphone fixe"), max_length=40, blank=True)
    street = models.CharField(_("adresse"), max_length=250, blank=True)
    street2 = models.CharField(_("complément d'adresse"), max_length=250, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=20, blank=True)
    city = models.CharField(_("ville"), max_length=120, blank=True)
    country = models.CharField(_("pays"), max_length=2, default="FR")
    birth_date = models.DateField(_("date de naissance"), null=True, blank=True)
    preferred_language = models.CharField(_("langue préférée"), max_length=8, default="fr")
    notes = models.TextField(_("notes"), blank=True)
    email_consent = models.BooleanField(_("accepte les emails"), default=False)
    email_consent_date = models.DateTimeField(_("date du consentement"), null=True, blank=True)
    email_consent_source = models.CharField(
        _("origine du consentement"), max_length=100, blank=True
    )
    household = models.ForeignKey(
        Household,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("foyer"),
    )
    custom = models.JSONField(_("champs personnalisés"), default=dict, blank=True)
    # Normalised copies for matching and quick search; see lien.contacts.normalize.
    email_normalized = models.CharField(max_length=254, blank=True, editable=False)
    phone_e164 = models.CharField(max_length=20, blank=True, editable=False)
    first_name_normalized = models.CharField(max_length=150, blank=True, editable=False)
    last_name_normalized = models.CharField(max_length=150, blank=True, editable=False)
    is_deleted = models.BooleanField(_("dans la corbeille"), default=False)
    deleted_at = models.DateTimeField(_("supprimé le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    updated_at = models.DateTimeField(_("modifié le"), default=timezone.now)

    # Per-contact aggregates for the advanced search, kept exact by the services that write
    # interactions, payments and membership periods (lien/contacts/stats.py): a criterion
    # without restriction reads one indexed column instead of millions of related rows.
    stat_interactions = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    stat_first_interaction_at = models.DateTimeField(null=True, editable=False)
    stat_last_interaction_at = models.DateTimeField(null=True, editable=False)
    stat_last_active_at = models.DateTimeField(null=True, editable=False)
    stat_payments = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    stat_paid_cents = models.BigIntegerField(default=0, db_default=0, editable=False)
    stat_max_paid_cents = models.BigIntegerField(null=True, editable=False)
    stat_first_paid_on = models.DateField(null=True, editable=False)
    stat_last_paid_on = models.DateField(null=True, editable=False)
    stat_membership_min_end = models.DateField(null=True, editable=False)
    stat_membership_max_end = models.DateField(null=True, editable=False)
    stat_membership_max_start = models.DateField(null=True, editable=False)

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["organization", "email_normalized"], name="contact_org_email"),
            models.Index(
                fields=["organization", "last_name_normalized", "first_name_normalized"],
                name="contact_org_name",
            ),
            models.Index(
                fields=["organization", "first_name_normalized"], name="contact_org_first"
            ),
            models.Index(fields=["organization", "phone_e164"], name="contact_org_phone"),
            models.Index(fields=["organization", "city"], name="contact_org_city"),
            models.Index(fields=["organization", "postal_code"], name="contact_org_postal"),
            models.Index(fields=["organization", "-updated_at"], name="contact_org_updated"),
            models.Index(fields=["organization", "-created_at"], name="contact_org_created"),
            *(
                # is_deleted ends the key: a count of the contacts out of the trash reads
                # the index alone.
                models.Index(
                    fields=["organization", f"stat_{field}", "is_deleted"],
                    name=f"contact_org_s_{name}",
                )
                for field, name in (
                    ("last_interaction_at", "last"),
                    ("last_active_at", "active"),
                    ("paid_cents", "paid"),
                    ("last_paid_on", "lastpaid"),
                    ("membership_max_end", "memberend"),
                )
            ),
        ]

    def __str__(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return full or self.email or f"Contact {self.pk}"


class StructureQuerySet(TenantQuerySet):
    def not_deleted(self) -> StructureQuerySet:
        return self.filter(is_deleted=False)

    def in_trash(self) -> StructureQuerySet:
        return self.filter(is_deleted=True)


class Structure(TenantModel):
    """An organisation the association deals with (company, foundation, public body…)."""

    class Kind(models.TextChoices):
        COMPANY = "entreprise", _("Entreprise")
        FOUNDATION = "fondation", _("Fondation")
        ASSOCIATION = "association", _("Association")
        PUBLIC_BODY = "organisme_public", _("Organisme public")
        OTHER = "autre", _("Autre")

    name = models.CharField(_("nom"), max_length=250)
    name_normalized = models.CharField(max_length=250, blank=True, editable=False)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    siren = models.CharField(_("SIREN"), max_length=9, blank=True)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    rna = models.CharField(_("numéro RNA"), max_length=10, blank=True)
    street = models.CharField(_("adresse"), max_length=250, blank=True)
    street2 = models.CharField(_("complément d'adresse"), max_length=250, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=20, blank=True)
    city = models.CharField(_("ville"), max_length=120, blank=True)
    country = models.CharField(_("pays"), max_length=2, default="FR")
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("téléphone"), max_length=40, blank=True)
    website = models.URLField(_("site web"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    custom = models.JSONField(_("champs personnalisés"), default=dict, blank=True)
    is_deleted = models.BooleanField(_("dans la corbeille"), default=False)
    deleted_at = models.DateTimeField(_("supprimée le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)
    updated_at = models.DateTimeField(_("modifiée le"), default=timezone.now)

    objects = StructureQuerySet.as_manager()

    class Meta:
        verbose_name = _("structure")
        verbose_name_plural = _("structures")
        indexes = [
            models.Index(fields=["organization", "name_normalized"], name="structure_org_name"),
            models.Index(fields=["organization", "city"], name="structure_org_city"),
            models.Index(fields=["organization", "postal_code"], name="structure_org_postal"),
            models.Index(fields=["organization", "siren"], name="structure_org_siren"),
            models.Index(fields=["organization", "-created_at"], name="structure_org_created"),
        ]

    def __str__(self) -> str:
        return self.name


class ContactStructureLink(TenantModel):
    """A contact's role in a structure over a period; at most one main structure each."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="structure_links", verbose_name=_("contact")
    )
    structure = models.ForeignKey(
        Structure,
        on_delete=models.CASCADE,
        related_name="contact_links",
        verbose_name=_("structure"),
    )
    role = models.CharField(_("fonction"), max_length=150, blank=True)
    start_date = models.DateField(_("depuis le"), null=True, blank=True)
    end_date = models.DateField(_("jusqu'au"), null=True, blank=True)
    is_main = models.BooleanField(_("structure principale"), default=False)

    class Meta:
        verbose_name = _("lien contact-structure")
        verbose_name_plural = _("liens contact-structure")
        indexes = [
            models.Index(fields=["organization", "structure"], name="csl_org_structure"),
            models.Index(fields=["organization", "contact"], name="csl_org_contact"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "contact"],
                condition=Q(is_main=True),
                name="csl_one_main_structure",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="csl_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} — {self.structure}"


class Label(TenantModel):
    """An « étiquette »: a broad, coloured category; detail belongs in custom fields."""

    name = models.CharField(_("nom"), max_length=80)
    color = models.CharField(
        _("couleur"),
        max_length=7,
        default="#6b7280",
        validators=[RegexValidator(r"^#[0-9A-Fa-f]{6}$", _("Couleur attendue : #RRGGBB."))],
    )
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)

    class Meta:
        verbose_name = _("étiquette")
        verbose_name_plural = _("étiquettes")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="label_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class LabelOrigin(models.TextChoices):
    MANUAL = "manual", _("Manuelle")
    AUTOMATIC = "automatic", _("Automatique")


class ContactLabel(TenantModel):
    """A label on a contact; rules only ever add or remove the automatic attachments."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="label_links")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="contact_links")
    origin = models.CharField(
        _("origine"), max_length=10, choices=LabelOrigin.choices, default=LabelOrigin.MANUAL
    )
    created_at = models.DateTimeField(_("ajoutée le"), default=timezone.now)

    class Meta:
        verbose_name = _("étiquette d'un contact")
        verbose_name_plural = _("étiquettes des contacts")
        constraints = [
            # A manual and an automatic attachment of one label may coexist.
            models.UniqueConstraint(
                fields=["organization", "contact", "label", "origin"],
                name="contactlabel_unique",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "label", "contact"], name="contactlabel_org_label")
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} · {self.label_id} ({self.origin})"


class StructureLabel(TenantModel):
    """A label on a structure, manual or automatic like a contact's."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="label_links")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="structure_links")
    origin = models.CharField(
        _("origine"), max_length=10, choices=LabelOrigin.choices, default=LabelOrigin.MANUAL
    )
    created_at = models.DateTimeField(_("ajoutée le"), default=timezone.now)

    class Meta:
        verbose_name = _("étiquette d'une structure")
        verbose_name_plural = _("étiquettes des structures")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "structure", "label", "origin"],
                name="structurelabel_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "label", "structure"], name="structurelabel_org_label"
            )
        ]

    def __str__(self) -> str:
        return f"{self.structure_id} · {self.label_id} ({self.origin})"


class CustomField(TenantModel):
    """A custom field definition; values live in the target row's `custom` JSON by `key`."""

    class Target(models.TextChoices):
        CONTACT = "contact", _("Contact")
        STRUCTURE = "structure", _("Structure")
        GROUP = "group", _("Groupe")
        PAYMENT = "payment", _("Paiement")

    class FieldType(models.TextChoices):
        TEXT = "text", _("Texte court")
        LONG_TEXT = "long_text", _("Texte long")
        INTEGER = "integer", _("Nombre entier")
        DECIMAL = "decimal", _("Nombre décimal")
        DATE = "date", _("Date")
        BOOLEAN = "boolean", _("Oui / non")
        CHOICE = "choice", _("Liste déroulante")
        MULTIPLE_CHOICE = "multiple_choice", _("Choix multiples")
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Téléphone")
        URL = "url", _("Adresse web")

    target = models.CharField(_("s'applique à"), max_length=10, choices=Target.choices)
    name = models.CharField(_("nom"), max_length=100)
    # Stable: renaming the field never changes its key, so values are never lost.
    key = models.SlugField(_("clé"), max_length=60)
    field_type = models.CharField(_("type"), max_length=16, choices=FieldType.choices)
    choices = models.JSONField(_("choix possibles"), default=list, blank=True)
    required = models.BooleanField(_("obligatoire"), default=False)
    help_text = models.CharField(_("aide"), max_length=250, blank=True)
    position = models.PositiveIntegerField(_("ordre"), default=0)
    sensitive = models.BooleanField(_("sensible"), default=False)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)

    class Meta:
        verbose_name = _("champ personnalisé")
        verbose_name_plural = _("champs personnalisés")
        ordering = ["target", "position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "target", "key"], name="customfield_unique_key"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Group(TenantModel):
    """A static, hand-made collection of contacts and structures with its own field values."""

    name = models.CharField(_("nom"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    # One value per group-target custom field, for the whole group.
    custom = models.JSONField(_("champs personnalisés"), default=dict, blank=True)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)

    class Meta:
        verbose_name = _("groupe")
        verbose_name_plural = _("groupes")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="group_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class GroupMembership(TenantModel):
    """A contact or a structure (exactly one) in a group, at most once."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="group_memberships"
    )
    structure = models.ForeignKey(
        Structure,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="group_memberships",
    )
    added_at = models.DateTimeField(_("ajouté le"), default=timezone.now)

    class Meta:
        verbose_name = _("membre d'un groupe")
        verbose_name_plural = _("membres des groupes")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "group", "contact"],
                condition=Q(contact__isnull=False),
                name="groupmembership_unique_contact",
            ),
            models.UniqueConstraint(
                fields=["organization", "group", "structure"],
                condition=Q(structure__isnull=False),
                name="groupmembership_unique_structure",
            ),
            models.CheckConstraint(
                condition=Q(contact__isnull=False, structure__isnull=True)
                | Q(contact__isnull=True, structure__isnull=False),
                name="groupmembership_one_member",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "contact"], name="groupmembership_org_contact"),
            models.Index(
                fields=["organization", "structure"], name="groupmembership_org_structure"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group_id} ∋ {self.contact_id or self.structure_id}"


class ExternalId(TenantModel):
    """An object's id in another system (HelloAsso, an imported file): re-syncs update."""

    source = models.CharField(_("source"), max_length=50)
    external_id = models.CharField(_("identifiant externe"), max_length=200)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)

    class Meta:
        verbose_name = _("identifiant externe")
        verbose_name_plural = _("identifiants externes")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "content_type", "external_id"],
                name="externalid_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "content_type", "object_id"], name="externalid_org_object"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"
