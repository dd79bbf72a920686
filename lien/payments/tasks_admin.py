"""Background work of the payment settings: applying the automatic labels on demand."""

from __future__ import annotations

from django_tasks import task

from lien.core.audit import Actor
from lien.core.jobs import run_job
from lien.core.models import User
from lien.payments.labels import RULES, apply_label_rules
from lien.payments.services import payment_settings


def _summary(organization, counts: dict[str, dict[str, int]]) -> dict:
    if not counts:  # switched off between the click and the run
        return {
            "added": 0,
            "removed": 0,
            "message": "Les étiquettes automatiques sont désactivées : rien n'a changé.",
        }
    settings = payment_settings(organization)
    added = sum(c["added"] for c in counts.values())
    removed = sum(c["removed"] for c in counts.values())
    details = ", ".join(
        f"{getattr(settings, rule.key)} +{counts[rule.key]['added']} −{counts[rule.key]['removed']}"
        for rule in RULES
        if rule.key in counts
    )
    return {
        "added": added,
        "removed": removed,
        "rules": counts,
        "message": f"Règles appliquées : {added} étiquette(s) posée(s), {removed} retirée(s) "
        f"({details}).",
    }


@task()
def apply_rules_now(*, job_id: int, user_id: int | None) -> dict:
    """Every rule over the whole organisation, as the nightly pass does; safe to run twice."""

    def work(job, progress) -> dict:
        progress.update(0, len(RULES), "Application des règles…")
        counts = apply_label_rules(
            organization=job.organization,
            actor=Actor.for_user(User.objects.filter(pk=user_id).first()),
        )
        progress.update(len(RULES), len(RULES))
        return _summary(job.organization, counts)

    return run_job(job_id, work)
