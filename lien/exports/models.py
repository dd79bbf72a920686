"""The history of exports: every file made (on a page or through the API) leaves a row.

A row says who exported what — the kind of data, the selection in words and as its
source (filters, tree, segment, group, ticked rows), the columns, the format — how many
rows the file held and, for a background export, where its file is kept. The file is
deleted after LIEN_EXPORT_RETENTION_DAYS; the row stays, marked « fichier supprimé ».
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lien.core.models import Job, TenantModel


class ExportKind(models.TextChoices):
    CONTACTS = "contacts", _("Contacts")
    STRUCTURES = "structures", _("Structures")
    INTERACTIONS = "interactions", _("Interactions")
    PAYMENTS = "payments", _("Paiements")
    ALL = "all", _("Toutes les données")


class ExportRecord(TenantModel):
    """One export made: its author, selection, columns, format, rows, and file while kept."""

    class Via(models.TextChoices):
        PAGE = "page", _("Page")
        API = "api", _("API")

    kind = models.CharField(_("données"), max_length=16, choices=ExportKind.choices)
    # The source of sources.selection ({"kind": "list", "table": …, "query": …}, a tree,
    # a segment, a group, ticked ids); {} for the whole data set.
    source = models.JSONField(_("sélection"), default=dict, blank=True)
    title = models.CharField(_("export"), max_length=200)
    summary = models.CharField(_("filtres"), max_length=1000, blank=True)
    # [{"key": …, "label": …}] as offered when the export was made.
    columns = models.JSONField(_("colonnes"), default=list, blank=True)
    fmt = models.CharField(_("format"), max_length=8)
    delimiter = models.CharField(_("séparateur"), max_length=1, blank=True)
    via = models.CharField(_("depuis"), max_length=8, choices=Via.choices, default=Via.PAGE)
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("le"), default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(_("lignes"), null=True, blank=True)
    # The file in default_storage under exports/<organisation>/ (background exports);
    # "" for a file downloaded at once, or once deleted (file_deleted_at says when).
    file_name = models.CharField(max_length=300, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    file_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="export_org_date"),
            models.Index(
                fields=["organization", "created_by", "-created_at"], name="export_org_author"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def status(self) -> str:
        """A background export follows its job; a file made during the request is done."""
        if self.job_id is None:
            return Job.Status.SUCCEEDED
        return self.job.status

    @property
    def is_immediate(self) -> bool:
        return self.job_id is None

    @property
    def file_available(self) -> bool:
        return bool(self.file_name)

    @property
    def format_label(self) -> str:
        if self.fmt == "csv":
            return f"CSV « {self.delimiter or ';'} »"
        return {"xlsx": "Excel (.xlsx)", "zip": "ZIP de CSV"}.get(self.fmt, self.fmt)

    @property
    def column_labels(self) -> list[str]:
        return [column.get("label", column.get("key", "")) for column in self.columns]

    @property
    def columns_text(self) -> str:
        return ", ".join(self.column_labels)
