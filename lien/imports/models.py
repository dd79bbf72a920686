"""Imports: one uploaded file, its mapping and options, its job, and each row's outcome.

An import is the unit of safety: it keeps its file (until the retention period),
its mapping, the counters of its check and run, the last chunk it committed (so a
killed worker's import can be resumed or rolled back) and, per file row, what it
did — the object it created or updated and the values it overwrote, which is what
« Annuler cet import » restores.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lien.core.models import TenantModel


class ImportTarget(models.TextChoices):
    CONTACTS = "contacts", _("Contacts")
    STRUCTURES = "structures", _("Structures")
    INTERACTIONS = "interactions", _("Interactions")
    PAYMENTS = "payments", _("Paiements")


class UpdatePolicy(models.TextChoices):
    FILL = "fill", _("Compléter les champs vides seulement")
    OVERWRITE = "overwrite", _("Remplacer par les valeurs non vides du fichier")
    NEVER = "never", _("Ne jamais modifier les fiches existantes")


class MappingTemplate(TenantModel):
    """A saved mapping (and options), offered again when a file's headers match it."""

    name = models.CharField(_("nom"), max_length=150)
    target = models.CharField(_("type de données"), max_length=12, choices=ImportTarget.choices)
    # The normalised headers of the file it was made from, joined: a file whose headers
    # give the same signature is offered this template.
    headers_signature = models.CharField(max_length=64)
    headers = models.JSONField(_("en-têtes"), default=list)
    mapping = models.JSONField(_("correspondances"), default=dict)
    transforms = models.JSONField(_("transformations"), default=dict, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    updated_at = models.DateTimeField(_("modifié le"), default=timezone.now)

    class Meta:
        verbose_name = _("modèle d'import")
        verbose_name_plural = _("modèles d'import")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "target", "name"], name="mappingtemplate_unique_name"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "target", "headers_signature"],
                name="mappingtemplate_org_sig",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Import(TenantModel):
    """One file brought into the organisation: uploaded → checked → running → done / undone."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Fichier déposé")
        CHECKING = "checking", _("Vérification en cours")
        CHECKED = "checked", _("Vérifié")
        RUNNING = "running", _("En cours")
        DONE = "done", _("Terminé")
        FAILED = "failed", _("Échec")
        INTERRUPTED = "interrupted", _("Interrompu")
        UNDONE = "undone", _("Annulé")

    target = models.CharField(_("type de données"), max_length=12, choices=ImportTarget.choices)
    status = models.CharField(
        _("état"), max_length=12, choices=Status.choices, default=Status.UPLOADED
    )
    # The file, in default_storage under imports/<organisation>/; "" once deleted.
    file_name = models.CharField(max_length=300, blank=True)
    original_name = models.CharField(_("fichier"), max_length=255)
    size_bytes = models.PositiveBigIntegerField(_("taille"), default=0)
    file_deleted_at = models.DateTimeField(null=True, blank=True)
    # What was detected (and may be changed by the user).
    file_format = models.CharField(_("format"), max_length=8, blank=True)
    encoding = models.CharField(_("encodage"), max_length=40, blank=True)
    delimiter = models.CharField(_("séparateur"), max_length=4, blank=True)
    sheet = models.CharField(_("feuille"), max_length=200, blank=True)
    header_row = models.PositiveIntegerField(_("ligne d'en-tête"), null=True, blank=True)
    headers = models.JSONField(_("en-têtes"), default=list, blank=True)
    # {"<column index>": "<field key>" | "custom.<key>" | null (ignored)}
    mapping = models.JSONField(_("correspondances"), default=dict, blank=True)
    # {"date_format": "%d/%m/%Y", "decimal_comma": true, "create_missing_choices": false,
    #  "choices": {"custom.<key>": {"<file value>": "<choice>"}}}
    transforms = models.JSONField(_("transformations"), default=dict, blank=True)
    # {"update_policy": "fill", "labels": [ids], "group": id, "skip_errors": false}
    options = models.JSONField(_("options"), default=dict, blank=True)
    template = models.ForeignKey(
        MappingTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The source of the external ids this import reads and writes (see docs/imports.md).
    source = models.CharField(_("source des identifiants"), max_length=50, blank=True)
    total_rows = models.PositiveIntegerField(_("lignes"), default=0)
    # The last check's counts {"create", "update", "unchanged", "error", "ambiguous"}.
    check_summary = models.JSONField(default=dict, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    created_count = models.PositiveIntegerField(_("créés"), default=0)
    updated_count = models.PositiveIntegerField(_("mis à jour"), default=0)
    unchanged_count = models.PositiveIntegerField(_("inchangés"), default=0)
    skipped_count = models.PositiveIntegerField(_("ignorés"), default=0)
    error_count = models.PositiveIntegerField(_("en erreur"), default=0)
    chunk_size = models.PositiveIntegerField(default=1000)
    # Chunks committed so far: a resumed import starts at chunk `chunks_done`.
    chunks_done = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    job = models.ForeignKey(
        "core.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.CharField(_("message"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    updated_at = models.DateTimeField(_("modifié le"), default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="import_org_date"),
        ]

    def __str__(self) -> str:
        return f"Import n°{self.pk} ({self.original_name})"

    @property
    def counters(self) -> dict[str, int]:
        return {
            "created": self.created_count,
            "updated": self.updated_count,
            "unchanged": self.unchanged_count,
            "skipped": self.skipped_count,
            "errors": self.error_count,
        }


class RowOutcome(models.TextChoices):
    CREATED = "created", _("Créé")
    UPDATED = "updated", _("Mis à jour")
    UNCHANGED = "unchanged", _("Inchangé")
    SKIPPED = "skipped", _("Ignoré")
    ERROR = "error", _("En erreur")


class ImportRow(TenantModel):
    """What an import did with one file row: the record, the errors, the overwritten values.

    A check stores only its error rows; a run stores every row (undo reads them).
    """

    import_run = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField(_("ligne"))
    outcome = models.CharField(_("résultat"), max_length=10, choices=RowOutcome.choices)
    # True for the rows of a check (dry run), replaced by the run's.
    is_check = models.BooleanField(default=False)
    object_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        db_constraint=False, db_index=False,  # as AuditEvent.target_type: one per row written
    )  # fmt: skip
    object_id = models.BigIntegerField(null=True, blank=True)
    # [{"column": "Email", "value": "jean.dupont@", "message": "…"}]
    errors = models.JSONField(default=list, blank=True)
    # The file's cells of a rejected row, for the rejected-rows file.
    cells = models.JSONField(default=list, blank=True)
    # {"first_name": "Jean", "custom.x": null, …}: what this row overwrote.
    before = models.JSONField(default=dict, blank=True)
    # What this row added besides its record: {"labels": [ids], "group": id,
    # "contacts": [ids created for an interaction or a payment]}.
    added = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("ligne importée")
        verbose_name_plural = _("lignes importées")
        indexes = [
            models.Index(
                fields=["organization", "import_run", "is_check", "outcome", "row_number"],
                name="importrow_org_outcome",
            ),
            models.Index(
                fields=["organization", "object_type", "object_id"], name="importrow_org_object"
            ),
        ]

    def __str__(self) -> str:
        return f"ligne {self.row_number} : {self.get_outcome_display()}"
