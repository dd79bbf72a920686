"""Tenancy (organisations, users, memberships, profiles), audit trail and jobs."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lien.core.rights import ACTIONS, DATA_TYPES


class TenantQuerySet(models.QuerySet):
    def for_org(self, organization: Organization | int) -> TenantQuerySet:
        """The only way views reach tenant rows: everything else is invisible."""
        org_id = organization if isinstance(organization, int) else organization.pk
        return self.filter(organization_id=org_id)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    pass


class TenantModel(models.Model):
    """A row that belongs to exactly one organisation."""

    # No single-column index: every model's own indexes lead with organization,
    # and one more index per table is real weight on tables of 10M rows.
    organization = models.ForeignKey(
        "core.Organization",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("organisation"),
        db_index=False,
    )

    objects = TenantManager()

    class Meta:
        abstract = True


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("Une adresse email est obligatoire.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, email: str) -> User:
        """Emails are stored lower-cased; people type them as they like."""
        return self.get(email=email.strip().lower())

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in; identified by a unique, lower-cased email."""

    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("nom complet"), max_length=150)
    is_active = models.BooleanField(_("actif"), default=True)
    is_staff = models.BooleanField(_("accès opérateur"), default=False)
    date_joined = models.DateTimeField(_("inscrit le"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Organization(models.Model):
    """One association: the unit of tenancy. Every domain row points to one."""

    name = models.CharField(_("nom"), max_length=200)
    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    legal_name = models.CharField(_("dénomination légale"), max_length=200, blank=True)
    street = models.CharField(_("adresse"), max_length=250, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=20, blank=True)
    city = models.CharField(_("ville"), max_length=120, blank=True)
    country = models.CharField(_("pays"), max_length=2, default="FR")
    email = models.EmailField(_("email de contact"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=40, blank=True)
    website = models.URLField(_("site web"), blank=True)
    rna = models.CharField(_("numéro RNA"), max_length=20, blank=True)
    siren = models.CharField(_("SIREN"), max_length=20, blank=True)
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Profile(TenantModel):
    """A role: which actions a member may take on each data type, and what is hidden."""

    name = models.CharField(_("nom"), max_length=80)
    description = models.CharField(_("description"), max_length=250, blank=True)
    # {"contacts": ["view", "add"], "payments": ["view"], ...}
    rights = models.JSONField(_("droits"), default=dict)
    hide_payment_data = models.BooleanField(_("masquer les données de paiement"), default=False)
    hide_sensitive_fields = models.BooleanField(_("masquer les champs sensibles"), default=False)
    is_builtin = models.BooleanField(_("profil par défaut"), default=False)

    class Meta:
        verbose_name = _("profil")
        verbose_name_plural = _("profils")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="profile_unique_name")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def allows(self, action: str, data_type: str) -> bool:
        return (
            action in ACTIONS
            and data_type in DATA_TYPES
            and action in self.rights.get(data_type, [])
        )


class Membership(TenantModel):
    """A user's place in an organisation, with the profile that sets their rights."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    profile = models.ForeignKey(Profile, on_delete=models.PROTECT, related_name="memberships")
    is_active = models.BooleanField(_("actif"), default=True)
    joined_at = models.DateTimeField(_("membre depuis"), auto_now_add=True)
    # Per-member screen choices, e.g. {"contacts.columns": ["name", "email"]}.
    preferences = models.JSONField(_("préférences"), default=dict, blank=True)

    class Meta:
        verbose_name = _("membre")
        verbose_name_plural = _("membres")
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization_id}"


class Invitation(TenantModel):
    """An emailed, signed invitation to join an organisation; valid 7 days."""

    email = models.EmailField(_("email"))
    profile = models.ForeignKey(Profile, on_delete=models.PROTECT, related_name="invitations")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("envoyée le"), auto_now_add=True)
    email_sent_at = models.DateTimeField(_("email envoyé le"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("acceptée le"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("annulée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        indexes = [models.Index(fields=["organization", "email"], name="invitation_org_email")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email

    @property
    def expires_at(self):
        return self.created_at + settings.INVITATION_MAX_AGE

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "acceptée"
        if self.revoked_at:
            return "annulée"
        if timezone.now() > self.expires_at:
            return "expirée"
        return "en attente"


class ApiToken(TenantModel):
    """A personal API key for one member in one organisation; only its hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("nom"), max_length=100)
    prefix = models.CharField(_("début de la clé"), max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    class Meta:
        verbose_name = _("jeton API")
        verbose_name_plural = _("jetons API")
        indexes = [models.Index(fields=["organization", "user"], name="apitoken_org_user")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ActorKind(models.TextChoices):
    USER = "user", _("Utilisateur")
    IMPORT = "import", _("Import")
    CONNECTOR = "connector", _("Connecteur")
    RULE = "rule", _("Règle automatique")
    API = "api", _("API")
    SYSTEM = "system", _("Système")


def _readable(value):
    if value is True:
        return "oui"
    if value is False:
        return "non"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


# Labels of recorded changes that are not fields of the target model.
CHANGE_LABELS = {
    "profile": "profil",
    "email": "email",
    "labels": "étiquettes",
    "groups": "groupes",
    "household": "foyer",
    "address": "adresse",
    "structure": "structure",
    "records": "fiches modifiées",
    "values": "valeurs",
    "attachments": "fiches étiquetées",
    "members": "membres",
}


class AuditEvent(TenantModel):
    """Who changed what and when, with the changed fields: every record's provenance."""

    class Action(models.TextChoices):
        CREATE = "create", _("Création")
        UPDATE = "update", _("Modification")
        DELETE = "delete", _("Suppression")

    created_at = models.DateTimeField(_("date"), default=timezone.now)
    actor_kind = models.CharField(_("auteur"), max_length=16, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("libellé de l'auteur"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    # A content type is never deleted while its model exists: no foreign-key check nor index
    # of its own for the history's millions of rows (audit_org_target serves the lookups).
    target_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", db_constraint=False,
        db_index=False,
    )  # fmt: skip
    target_id = models.BigIntegerField()
    target_repr = models.CharField(_("élément"), max_length=250)
    # {"field": [old, new]} for updates, {"field": [null, value]} for creations.
    changes = models.JSONField(_("changements"), default=dict, blank=True)

    class Meta:
        verbose_name = _("événement d'historique")
        verbose_name_plural = _("historique")
        indexes = [
            models.Index(
                fields=["organization", "target_type", "target_id", "-created_at"],
                name="audit_org_target",
            ),
            models.Index(fields=["organization", "-created_at"], name="audit_org_date"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.target_repr}"

    @property
    def change_rows(self) -> list[tuple[str, object, object]]:
        """(field label, old, new) for display: labels in the interface's words."""
        model = self.target_type.model_class()
        rows = []
        hidden = getattr(self, "redacted_keys", ())
        for name, (old, new) in self.changes.items():
            if name in hidden:
                continue
            try:
                label = str(model._meta.get_field(name).verbose_name) if model else name
            except FieldDoesNotExist:  # not a model field (a custom field, a relation)
                label = getattr(self, "key_labels", {}).get(name) or CHANGE_LABELS.get(name, name)
            rows.append((label[:1].upper() + label[1:], _readable(old), _readable(new)))
        return rows

    @property
    def actor_display(self) -> str:
        if self.actor_user_id and self.actor_user:
            return str(self.actor_user)
        return self.actor_label or self.get_actor_kind_display()


class Job(TenantModel):
    """A piece of background work, with the progress and outcome a page can show."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("En attente")
        RUNNING = "running", _("En cours")
        SUCCEEDED = "succeeded", _("Terminé")
        FAILED = "failed", _("Échec")

    kind = models.CharField(_("type"), max_length=50)
    label = models.CharField(_("libellé"), max_length=200)
    status = models.CharField(
        _("état"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    message = models.CharField(_("message"), max_length=500, blank=True)
    result = models.JSONField(_("résultat"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    task_result_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("tâche de fond")
        verbose_name_plural = _("tâches de fond")
        indexes = [models.Index(fields=["organization", "-created_at"], name="job_org_date")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.label

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED}

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))


class ScheduledRun(models.Model):
    """One run of a scheduled task on one day: the scheduler enqueues each task once a day."""

    name = models.CharField(max_length=200)
    day = models.DateField()
    enqueued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "day"], name="scheduledrun_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.day}"
