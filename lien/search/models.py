"""Segments: saved trees that re-run whenever used, with their count history and
the journal of who entered and left them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lien.core.models import TenantModel


def empty_tree() -> dict:
    return {"group": "all", "children": []}


class Segment(TenantModel):
    """A named advanced search over contacts: dynamic by construction."""

    name = models.CharField(_("nom"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    tree = models.JSONField(_("définition"), default=empty_tree)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    updated_at = models.DateTimeField(_("modifié le"), default=timezone.now)
    last_count = models.PositiveIntegerField(_("dernier effectif"), null=True, blank=True)
    last_run_on = models.DateField(_("dernier relevé"), null=True, blank=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="segment_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class SegmentCount(TenantModel):
    """The size of a segment on a day (one row per segment and day)."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="counts")
    day = models.DateField(_("jour"))
    count = models.PositiveIntegerField(_("effectif"))
    entered = models.PositiveIntegerField(_("entrées"), default=0)
    left = models.PositiveIntegerField(_("sorties"), default=0)

    class Meta:
        verbose_name = _("effectif de segment")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "segment", "day"], name="segmentcount_unique_day"
            )
        ]


class SegmentMember(TenantModel):
    """Who was in the segment at its last nightly run: the base of the entry/exit journal."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    since = models.DateField(_("depuis le"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "segment", "contact"], name="segmentmember_unique"
            )
        ]


class SegmentEvent(TenantModel):
    """A contact entered or left a segment on a day."""

    class Kind(models.TextChoices):
        ENTERED = "entered", _("entré")
        LEFT = "left", _("sorti")

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="events")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("mouvement"), max_length=8, choices=Kind.choices)
    day = models.DateField(_("jour"))

    class Meta:
        verbose_name = _("entrée ou sortie de segment")
        indexes = [
            models.Index(
                fields=["organization", "segment", "-day"], name="segmentevent_org_seg_day"
            ),
            models.Index(
                fields=["organization", "contact", "-day"], name="segmentevent_org_contact"
            ),
        ]
