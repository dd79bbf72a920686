"""Tasks run by the real worker process (`manage.py db_worker`), not in-process.

The test queues work with the database task backend and commits it; a separate
`db_worker --batch` process, pointed at the test database, then runs it.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from lien.core.audit import Actor
from lien.core.jobs import start_job
from lien.core.models import ActorKind, AuditEvent, Job, Organization, Profile
from lien.core.services import invitation_from_token, invite_user
from lien.core.tasks import AUDIT_EXPORT_CHUNK, export_audit_log

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WORKER_TIMEOUT_S = 60


def test_database_url() -> str:
    """A DATABASE_URL for the database this test runs on (the test database)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    if connection.vendor == "postgresql":
        credentials = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            credentials += ":" + quote(db["PASSWORD"], safe="")
        host = db["HOST"] or "localhost"
        port = f":{db['PORT']}" if db["PORT"] else ""
        return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"
    raise NotImplementedError(connection.vendor)


# Not a test despite its name.
test_database_url.__test__ = False


@pytest.fixture
def db_backend(settings, tmp_path):
    """Queue tasks in the database (the shared autouse fixture runs them in-process)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return settings


def run_worker(media_root: str) -> str:
    """Run `db_worker --batch` on the test database until the queue is empty; its output."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LIEN_EMAIL_") and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        DATABASE_URL=test_database_url(),
        LIEN_TASK_BACKEND="db",
        LIEN_MEDIA_ROOT=media_root,
        LIEN_EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        PYTHONUNBUFFERED="1",
    )
    process = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = process.communicate(timeout=WORKER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"db_worker still running after {WORKER_TIMEOUT_S} s:\n{output}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    return output


def test_worker_sends_the_invitation_email(db_backend, org, admin_member):
    # Given an invitation: its email task is queued in the database, not yet run
    invitation = invite_user(
        organization=org,
        actor=Actor.for_user(admin_member.user),
        email="sacha@exemple.org",
        profile=Profile.objects.for_org(org).get(name="Lecteur"),
    )
    queued = DBTaskResult.objects.get()
    assert queued.status == TaskResultStatus.READY
    assert queued.task_path == "lien.core.tasks.send_invitation_email"
    invitation.refresh_from_db()
    assert invitation.email_sent_at is None

    # When the worker process runs
    output = run_worker(db_backend.MEDIA_ROOT)

    # Then the email went out (console backend) with a valid link, and it is recorded
    queued.refresh_from_db()
    assert queued.status == TaskResultStatus.SUCCESSFUL, output
    invitation.refresh_from_db()
    assert invitation.email_sent_at is not None
    assert "To: sacha@exemple.org" in output
    tokens = re.findall(r"/invitation/([^/\s]+)/", output)
    assert len(tokens) == 1, output
    assert invitation_from_token(tokens[0]) == invitation


def add_history(organization: Organization, count: int) -> None:
    """`count` history rows, written in bulk (enough to span several export chunks)."""
    content_type = ContentType.objects.get_for_model(Organization)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                organization=organization,
                actor_kind=ActorKind.IMPORT,
                actor_label="Import test",
                action=AuditEvent.Action.UPDATE,
                target_type=content_type,
                target_id=organization.pk,
                target_repr=organization.name,
                changes={"city": [None, f"Ville {n}"]},
            )
            for n in range(count)
        ],
        batch_size=500,
    )


def test_worker_runs_the_history_export(db_backend, org, other_org, admin_member):
    # Given a history longer than one export chunk, and another organisation's history
    add_history(org, AUDIT_EXPORT_CHUNK + 345)
    add_history(other_org, 10)
    expected = AuditEvent.objects.for_org(org).count()
    assert expected > AUDIT_EXPORT_CHUNK
    job = start_job(
        organization=org,
        kind="audit_export",
        label="Export de l'historique",
        task=export_audit_log,
        created_by=admin_member.user,
    )
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    assert DBTaskResult.objects.get(id=job.task_result_id).status == TaskResultStatus.READY

    # When the worker process runs
    output = run_worker(db_backend.MEDIA_ROOT)

    # Then the job succeeded, counted every row of this organisation, and wrote them all
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, f"{job.message}\n{output}"
    assert job.progress_done == job.progress_total == expected
    assert job.result["rows"] == expected
    assert job.finished_at is not None
    path = Path(db_backend.MEDIA_ROOT) / job.result["file"]
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file, delimiter=";"))
    assert rows[0] == ["Date", "Auteur", "Action", "Type", "Élément", "Changements"]
    assert len(rows) - 1 == expected
    assert DBTaskResult.objects.get(id=job.task_result_id).status == TaskResultStatus.SUCCESSFUL
