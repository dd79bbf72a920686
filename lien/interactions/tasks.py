"""Background work of interactions: one interaction for a very large set of contacts."""

from __future__ import annotations

from django.http import QueryDict
from django_tasks import task

from lien.contacts.models import Contact, GroupMembership
from lien.contacts.selectors import CONTACT_COLUMNS, ListQuery, filtered_contacts
from lien.core.audit import Actor
from lien.core.jobs import run_job
from lien.core.models import User
from lien.interactions import services


def contacts_of(organization, spec: dict, user_id: int | None = None):
    """The contacts a bulk recording targets: a contact list's filters, a group, or an
    advanced search's tree (read with the rights of the member who asked)."""
    if "tree" in spec:
        from lien.core.models import Membership
        from lien.search.criteria import CONTACTS, SearchContext
        from lien.search.tree import compile_tree

        membership = Membership.objects.filter(
            organization=organization, user_id=user_id, is_active=True
        ).first()
        ctx = SearchContext(organization=organization, membership=membership)
        return CONTACTS.rows(ctx).filter(compile_tree(spec["tree"], CONTACTS, ctx))
    if "group" in spec:
        members = GroupMembership.objects.for_org(organization).filter(
            group_id=spec["group"], contact__isnull=False
        )
        return (
            Contact.objects.for_org(organization)
            .not_deleted()
            .filter(pk__in=members.values("contact_id"))
        )
    query = ListQuery.from_params(QueryDict(spec.get("filters", "")), CONTACT_COLUMNS)
    return filtered_contacts(organization=organization, query=query)


@task()
def record_for_contacts(*, job_id: int, spec: dict, values: dict, user_id: int | None) -> dict:
    """Record the same interaction for every targeted contact, in one transaction."""

    def work(job, progress) -> dict:
        contacts = contacts_of(job.organization, spec, user_id)
        total = contacts.count()
        progress.update(0, total, "Enregistrement des interactions…")
        created = services.record_interactions(
            organization=job.organization,
            actor=Actor.for_user(User.objects.filter(pk=user_id).first()),
            contact_ids=contacts.values_list("pk", flat=True),
            create_missing=True,
            **values,
        )
        progress.update(created, total)
        return {
            "created": created,
            "message": f"Interaction enregistrée pour {created} contact(s).",
        }

    return run_job(job_id, work)
