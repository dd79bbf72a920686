"""The audit trail and background jobs with their progress bar."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from lien.core.audit import Actor
from lien.core.jobs import start_job
from lien.core.models import AuditEvent, Job
from lien.core.services import update_organization
from lien.core.tasks import export_audit_log

pytestmark = pytest.mark.django_db


def test_a_change_records_who_what_and_the_changed_fields(org, admin_member, admin_client):
    admin_client.post(
        reverse("settings_organization"),
        {"name": "Les Amis du Parc", "city": "Lyon", "postal_code": "69003", "country": "FR"},
    )

    event = AuditEvent.objects.for_org(org).filter(action="update").get()
    assert event.actor_user == admin_member.user
    assert event.actor_kind == "user"
    assert event.changes == {"city": ["", "Lyon"], "postal_code": ["", "69003"]}
    page = admin_client.get(reverse("settings_history")).content.decode()
    assert "Lyon" in page
    assert "Admin" in page


def test_a_non_user_actor_is_named_in_the_history(org):
    update_organization(
        organization=org, actor=Actor(kind="connector", label="HelloAsso"), city="Nantes"
    )

    event = AuditEvent.objects.for_org(org).filter(action="update").get()
    assert event.actor_display == "HelloAsso"
    assert event.actor_user is None


def test_an_unchanged_save_writes_no_event(org, admin_member):
    update_organization(organization=org, actor=Actor.for_user(admin_member.user), name=org.name)

    assert AuditEvent.objects.for_org(org).filter(action="update").count() == 0


def test_history_page_is_paginated_and_htmx_gets_the_table_only(org, admin_member, admin_client):
    for city in range(60):
        update_organization(organization=org, actor=Actor.system(), city=f"Ville {city}")

    page = admin_client.get(reverse("settings_history"))
    partial = admin_client.get(
        reverse("settings_history") + "?page=2", headers={"HX-Request": "true"}
    )

    assert page.context["page"].paginator.count == 61
    assert len(page.context["page"].object_list) == 50
    assert "<html" in page.content.decode()
    assert "<html" not in partial.content.decode()
    assert len(partial.context["page"].object_list) == 11


def test_audit_export_job_reports_progress_and_gives_the_file(
    org, admin_member, admin_client, django_capture_on_commit_callbacks
):
    for city in range(5):
        update_organization(organization=org, actor=Actor.system(), city=f"Ville {city}")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("settings_history_export"))

    job = Job.objects.for_org(org).get()
    assert response.status_code == 302
    assert job.status == Job.Status.SUCCEEDED
    assert (job.progress_done, job.progress_total, job.percent) == (6, 6, 100)
    progress = admin_client.get(reverse("job_progress", args=[job.pk])).content.decode()
    assert 'aria-valuenow="100"' in progress
    assert "hx-trigger" not in progress  # finished: it stops polling
    download = admin_client.get(reverse("job_file", args=[job.pk]))
    rows = list(
        csv.reader(
            io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig")), delimiter=";"
        )
    )
    assert rows[0] == ["Date", "Auteur", "Action", "Type", "Élément", "Changements"]
    assert len(rows) == 7
    default_storage.delete(job.result["file"])


def test_a_running_job_polls_itself(org, admin_client):
    job = start_job(organization=org, kind="audit_export", label="Export", task=export_audit_log)
    Job.objects.filter(pk=job.pk).update(status="running", progress_done=3, progress_total=12)

    html = admin_client.get(reverse("job_progress", args=[job.pk])).content.decode()

    assert 'hx-trigger="every 1s"' in html
    assert 'aria-valuenow="25"' in html
    assert "3 / 12" in html


def test_a_failed_job_says_so(org, monkeypatch):
    job = start_job(organization=org, kind="audit_export", label="Export", task=export_audit_log)

    def boom(job, progress):
        raise RuntimeError("disque plein")

    monkeypatch.setattr("lien.core.tasks.write_audit_export", boom)
    with pytest.raises(RuntimeError):
        export_audit_log.call(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.message == "Échec : disque plein"
