"""Background work of the search app: the nightly record of segment sizes and movements."""

from __future__ import annotations

from django_tasks import task

from lien.search.services import record_all_segments


@task()
def record_segments() -> dict:
    """Nightly: each segment's size, and who entered or left it since yesterday."""
    return record_all_segments()
