"""Background work of the contacts app: bulk actions on « all matching » selections."""

from __future__ import annotations

from django.http import QueryDict
from django_tasks import task

from lien.contacts import selectors, services
from lien.contacts.models import Contact, Group, Label, Structure
from lien.core.audit import Actor
from lien.core.jobs import run_job
from lien.core.models import Job, Membership, User
from lien.search.criteria import CONTACTS, STRUCTURES
from lien.search.tree import search

BULK_CHUNK = 2000
MODELS = {"contact": Contact, "structure": Structure}


def run_bulk_action(
    *,
    job: Job,
    progress,
    model_name: str,
    filters: str,
    action: str,
    label_id: int | None,
    group_id: int | None,
    user_id: int | None,
    tree: dict | None = None,
) -> dict:
    """Apply one bulk action to every row a list's filters (or an advanced search's tree)
    match, chunk by chunk."""
    organization = job.organization
    model = MODELS[model_name]
    if tree is not None:
        filtered = _tree_rows(organization, model_name, tree, user_id)
    else:
        columns = selectors.CONTACT_COLUMNS if model is Contact else selectors.STRUCTURE_COLUMNS
        query = selectors.ListQuery.from_params(QueryDict(filters), columns)
        filtered = (
            selectors.filtered_contacts(organization=organization, query=query)
            if model is Contact
            else selectors.filtered_structures(organization=organization, query=query)
        )
    ids = list(filtered.order_by("pk").values_list("pk", flat=True))
    actor = Actor.for_user(User.objects.filter(pk=user_id).first())
    label = Label.objects.for_org(organization).filter(pk=label_id).first() if label_id else None
    group = Group.objects.for_org(organization).filter(pk=group_id).first() if group_id else None
    progress.update(0, len(ids), "Traitement de la sélection…")
    changed = 0
    for start in range(0, len(ids), BULK_CHUNK):
        chunk = ids[start : start + BULK_CHUNK]
        changed += apply_bulk_action(
            organization=organization,
            actor=actor,
            model=model,
            ids=chunk,
            action=action,
            label=label,
            group=group,
        )
        progress.update(min(start + BULK_CHUNK, len(ids)), len(ids))
    return {"rows": len(ids), "changed": changed, "message": bulk_message(action, changed)}


def _tree_rows(organization, model_name: str, tree: dict, user_id: int | None):
    """The rows a tree finds with the rights its member has when the job runs (a member
    gone from the association finds nothing)."""
    membership = (
        Membership.objects.for_org(organization)
        .filter(user_id=user_id, is_active=True)
        .select_related("profile")
        .first()
    )
    registry = CONTACTS if model_name == "contact" else STRUCTURES
    if membership is None:
        return registry.model.objects.none()
    return search(organization, tree, membership=membership, registry=registry)


def apply_bulk_action(*, organization, actor, model, ids, action, label, group) -> int:
    """One bulk action on explicit ids; the same code path for a page and a whole list."""
    if action == "add_label" and label:
        return services.add_labels(
            organization=organization, actor=actor, model=model, ids=ids, labels=[label]
        )
    if action == "remove_label" and label:
        return services.remove_labels(
            organization=organization, actor=actor, model=model, ids=ids, labels=[label]
        )
    if action == "add_group" and group:
        key = "contact_ids" if model is Contact else "structure_ids"
        return services.add_to_group(
            organization=organization, actor=actor, group=group, **{key: ids}
        )
    if action == "trash":
        return services.trash(organization=organization, actor=actor, model=model, ids=ids)
    raise ValueError(f"unknown bulk action {action}")


def bulk_message(action: str, changed: int) -> str:
    return {
        "add_label": f"Étiquette ajoutée à {changed} fiche(s).",
        "remove_label": f"Étiquette retirée de {changed} fiche(s).",
        "add_group": f"{changed} fiche(s) ajoutée(s) au groupe.",
        "trash": f"{changed} fiche(s) mise(s) à la corbeille.",
    }.get(action, "Terminé.")


@task()
def bulk_action(
    *,
    job_id: int,
    model_name: str,
    filters: str,
    action: str,
    label_id: int | None = None,
    group_id: int | None = None,
    user_id: int | None = None,
    tree: dict | None = None,
) -> dict:
    return run_job(
        job_id,
        lambda job, progress: run_bulk_action(
            job=job,
            progress=progress,
            model_name=model_name,
            filters=filters,
            action=action,
            label_id=label_id,
            group_id=group_id,
            user_id=user_id,
            tree=tree,
        ),
    )


@task()
def purge_trash() -> dict:
    """Nightly: what has been in the trash for 30 days goes for good."""
    return services.purge_trash()
