"""Isolation cases of the HelloAsso connector API (see tests/isolation.py).

The same world as the pages' cases (tests/isolation_connectors.py): a connection with
the fake HelloAsso's credentials and one chosen form carrying the world's marker. The
endpoints that call HelloAsso are pointed at the process's fake HelloAsso for the one
request that follows. Forms, sync jobs and runs of another organisation are a 404.
"""

from __future__ import annotations

from lien.connectors.helloasso import services
from lien.connectors.views import SYNC_JOB_KIND
from lien.core.audit import Actor
from lien.core.models import Job
from tests.isolation import Case, World, Write
from tests.isolation_connectors import (
    CHANGE,
    VIEW,
    form_pk,
    run_pk,
    set_up,
    set_up_and_reachable,
)


def sync_job_pk(w: World) -> dict:
    """A sync job of the world's organisation (queued: the tests run no worker here)."""
    set_up(w)
    job = Job.objects.for_org(w.organization).filter(kind=SYNC_JOB_KIND).first()
    job = job or services.start_sync(
        organization=w.organization, actor=Actor.for_user(w.admin.user), trigger="manuel"
    )
    return {"pk": job.pk}


CASES: dict[str, Case] = {
    "api-helloasso": Case(
        api=True,
        kwargs=set_up,
        view_right=VIEW,
        writes=[
            Write(
                "patch",
                CHANGE,
                lambda w: {"start_date": "2026-01-01", "field_mappings": {"Ville": "city"}},
            )
        ],
    ),
    "api-helloasso-test": Case(
        api=True, kwargs=set_up_and_reachable, get=False, writes=[Write("post", CHANGE)]
    ),
    "api-helloasso-forms-list": Case(api=True, kwargs=set_up, view_right=VIEW),
    "api-helloasso-forms-detail": Case(
        api=True,
        kwargs=form_pk,
        view_right=VIEW,
        scoped=True,
        writes=[Write("patch", CHANGE, lambda w: {"selected": True})],
    ),
    "api-helloasso-forms-refresh": Case(
        api=True, kwargs=set_up_and_reachable, get=False, writes=[Write("post", CHANGE)]
    ),
    "api-helloasso-syncs-list": Case(
        api=True, kwargs=set_up, view_right=VIEW, writes=[Write("post", CHANGE)]
    ),
    "api-helloasso-syncs-detail": Case(api=True, kwargs=sync_job_pk, view_right=VIEW, scoped=True),
    "api-helloasso-runs-list": Case(api=True, kwargs=set_up, view_right=VIEW),
    "api-helloasso-runs-detail": Case(api=True, kwargs=run_pk, view_right=VIEW, scoped=True),
}
