"""Writes on segments, and the nightly record of their size and of who entered or left.

A segment stores a tree, never a list of contacts: its members are computed each time
it is used. The nightly pass keeps, per segment, the snapshot of yesterday's members
to write the journal of entries and exits, in a few set-based statements.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from lien.contacts.models import Contact
from lien.core.audit import Actor, diff, record_event, snapshot
from lien.core.models import AuditEvent, Membership, Organization
from lien.search.criteria import CONTACTS, TreeError
from lien.search.models import Segment, SegmentCount, SegmentEvent, SegmentMember
from lien.search.tree import check_tree, context, search

logger = logging.getLogger(__name__)
FIELDS = ["name", "description", "tree"]


def _actor_user(actor: Actor):
    return actor.user if getattr(actor.user, "pk", None) else None


@transaction.atomic
def save_segment(
    *,
    organization: Organization,
    actor: Actor,
    segment: Segment | None = None,
    name: str,
    tree: Any,
    description: str = "",
    membership: Membership | None = None,
) -> Segment:
    """Create or change a segment. The tree is checked with the member's rights: a member
    cannot save a criterion they may not use. Errors by field; a tree error says where."""
    errors: dict[str, list[str]] = {}
    name = " ".join(str(name or "").split())
    if not name:
        errors["name"] = ["Le nom du segment est obligatoire."]
    elif len(name) > 150:
        errors["name"] = ["150 caractères au plus."]
    else:
        others = Segment.objects.for_org(organization).filter(name__iexact=name)
        if segment is not None:
            others = others.exclude(pk=segment.pk)
        if others.exists():
            errors["name"] = [f"Le segment « {name} » existe déjà."]
    ctx = context(organization, membership)
    if segment is not None:
        ctx.segments_seen = (segment.pk,)  # a segment may not contain itself
    try:
        check_tree(tree, CONTACTS, ctx)
    except TreeError as error:
        errors["tree"] = [str(error)]
    if errors:
        raise ValidationError(errors)
    creating = segment is None
    before = {} if creating else snapshot(segment, FIELDS)
    segment = segment or Segment(organization=organization, created_by=_actor_user(actor))
    segment.name, segment.tree, segment.description = name, tree, description or ""
    segment.updated_at = timezone.now()
    segment.save()
    changes = diff(before, snapshot(segment, FIELDS))
    if changes:
        record_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE,
            target=segment,
            changes=changes,
        )
    return segment


@transaction.atomic
def delete_segment(*, organization: Organization, actor: Actor, segment: Segment) -> None:
    users = [
        other.name
        for other in Segment.objects.for_org(organization).exclude(pk=segment.pk)
        if _refers_to(other.tree, segment.pk)
    ]
    if users:
        raise ValidationError(
            f"Le segment « {segment.name} » est utilisé par : {', '.join(users)}. "
            "Retirez-le de leurs conditions avant de le supprimer."
        )
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.DELETE,
        target=segment,
        changes={"name": [segment.name, None]},
    )
    segment.delete()


def _refers_to(tree: Any, segment_id: int) -> bool:
    if isinstance(tree, dict):
        if tree.get("field") == "segment" and tree.get("value") == segment_id:
            return True
        return any(_refers_to(child, segment_id) for child in tree.get("children", []))
    return False


def members(
    segment: Segment, *, membership: Membership | None = None, today: dt.date | None = None
) -> QuerySet:
    """The segment's contacts now (a tree that no longer checks raises TreeError)."""
    return search(segment.organization, segment.tree, membership=membership, today=today)


# The nightly record ---------------------------------------------------------------------------


def _insert_select(model, columns: list[str], select_sql: str, params: list) -> int:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) "
            f"{select_sql}",
            params,
        )
        return cursor.rowcount


@transaction.atomic
def record_segment(segment: Segment, *, today: dt.date | None = None) -> SegmentCount:
    """Today's size of the segment and who entered or left since the last run.

    Idempotent: a second run the same day changes nothing. The first run records the
    members as they are, without journal entries."""
    today = today or timezone.localdate()
    organization = segment.organization
    existing = SegmentCount.objects.for_org(organization).filter(segment=segment, day=today).first()
    if existing is not None:
        return existing
    current = members(segment, today=today).values("pk")
    snapshot_rows = SegmentMember.objects.for_org(organization).filter(segment=segment)
    # Read from the database, not the object: a caller may hold a stale segment.
    first_run = not SegmentCount.objects.for_org(organization).filter(segment=segment).exists()
    now_member = Exists(snapshot_rows.filter(contact_id=OuterRef("pk")))
    entering = Contact.objects.for_org(organization).filter(pk__in=current).exclude(now_member)
    leaving = snapshot_rows.exclude(contact_id__in=current)
    left = 0
    if not first_run:
        sql, params = leaving.values("contact_id").query.sql_with_params()
        left = _insert_select(
            SegmentEvent,
            ["organization_id", "segment_id", "contact_id", "kind", "day"],
            f"SELECT %s, %s, gone.contact_id, %s, %s FROM ({sql}) gone",
            [organization.pk, segment.pk, SegmentEvent.Kind.LEFT, today, *params],
        )
    SegmentMember.objects.filter(pk__in=leaving.values("pk")).delete()
    sql, params = entering.annotate(cid=F("pk")).values("cid").query.sql_with_params()
    entered = 0
    if not first_run:
        entered = _insert_select(
            SegmentEvent,
            ["organization_id", "segment_id", "contact_id", "kind", "day"],
            f"SELECT %s, %s, fresh.cid, %s, %s FROM ({sql}) fresh",
            [organization.pk, segment.pk, SegmentEvent.Kind.ENTERED, today, *params],
        )
    added = _insert_select(
        SegmentMember,
        ["organization_id", "segment_id", "contact_id", "since"],
        f"SELECT %s, %s, fresh.cid, %s FROM ({sql}) fresh",
        [organization.pk, segment.pk, today, *params],
    )
    if first_run:
        entered = 0
    count = snapshot_rows.count()
    Segment.objects.filter(pk=segment.pk).update(last_count=count, last_run_on=today)
    logger.debug("segment %s: %s members, +%s -%s", segment.pk, count, added, left)
    return SegmentCount.objects.create(
        organization=organization, segment=segment, day=today, count=count, entered=entered,
        left=left,
    )  # fmt: skip


def record_all_segments(*, today: dt.date | None = None) -> dict[str, int]:
    """The nightly pass over every segment of every organisation. A segment whose tree no
    longer checks (a label deleted since) is skipped and counted, never fatal."""
    done = failed = 0
    for segment in Segment.objects.select_related("organization").order_by("pk"):
        try:
            record_segment(segment, today=today)
            done += 1
        except TreeError:
            logger.warning("segment %s skipped: its tree no longer checks", segment.pk)
            failed += 1
    return {"recorded": done, "skipped": failed}
