"""Background tasks of the core: thin, they load ids and call a service."""

from __future__ import annotations

import csv
import io

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

from lien.core.audit import redact
from lien.core.models import AuditEvent, Invitation, Job, Membership


@task()
def send_invitation_email(*, invitation_id: int) -> None:
    """Email an invitation link. Sending twice is harmless: the link is the same."""
    from django.conf import settings

    from lien.core.services import invitation_token

    invitation = Invitation.objects.select_related("organization", "invited_by").get(
        pk=invitation_id
    )
    if invitation.accepted_at or invitation.revoked_at:
        return
    link = f"{settings.SITE_URL}/invitation/{invitation_token(invitation)}/"
    context = {"invitation": invitation, "link": link}
    send_mail(
        subject=f"Invitation à rejoindre {invitation.organization.name} sur Lien",
        message=render_to_string("emails/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )
    Invitation.objects.filter(pk=invitation_id).update(email_sent_at=timezone.now())


AUDIT_EXPORT_CHUNK = 2000


def write_audit_export(job: Job, progress) -> dict:
    """The organisation's history as a CSV file (UTF-8 with BOM, semicolons: opens in Excel)."""
    events = AuditEvent.objects.for_org(job.organization_id).select_related(
        "actor_user", "target_type"
    )
    author = (
        Membership.objects.filter(organization_id=job.organization_id, user_id=job.created_by_id)
        .select_related("profile")
        .first()
    )
    total = events.count()
    progress.update(0, total, "Export de l'historique…")
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["Date", "Auteur", "Action", "Type", "Élément", "Changements"])
    done = 0
    last_id = None
    while True:
        # Keyset pagination: stays fast however long the history is.
        chunk = events.order_by("-id")
        if last_id is not None:
            chunk = chunk.filter(id__lt=last_id)
        # What the member may read, as on the history page (payments hidden, for one).
        rows = redact(chunk[:AUDIT_EXPORT_CHUNK], organization=job.organization, membership=author)
        if not rows:
            break
        for event in rows:
            writer.writerow(
                [
                    timezone.localtime(event.created_at).strftime("%d/%m/%Y %H:%M:%S"),
                    event.actor_display,
                    event.get_action_display(),
                    event.target_type.name,
                    event.target_repr,
                    "; ".join(
                        f"{k} : {v[0]} → {v[1]}"
                        for k, v in event.changes.items()
                        if k not in event.redacted_keys
                    ),
                ]
            )
        done += len(rows)
        last_id = rows[-1].id
        progress.update(done, total)
    name = default_storage.save(
        f"exports/{job.organization_id}/historique-{job.pk}.csv",
        ContentFile(buffer.getvalue().encode("utf-8")),
    )
    return {
        "file": name,
        "rows": done,
        "message": f"{done:,} lignes exportées.".replace(",", "\u202f"),
    }


@task()
def export_audit_log(*, job_id: int) -> dict:
    from lien.core.jobs import run_job

    return run_job(job_id, write_audit_export)
