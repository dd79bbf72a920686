"""The import engine: plan a chunk of clean rows (the check), then write it (the run).

A chunk is planned the same way by the check and by the run — reconciliation,
update policy, deduplication — so the check's « N à créer, M à mettre à jour, K
inchangés » is what the run does when nothing changed in between. Writing is
set-based (ARCHITECTURE « Write fast »): per chunk, one bulk insert per table
(records, label links, group memberships, external ids, audit rows, import
rows) and one bulk update of the changed records; never a save() per row.

The writer records, per file row, the object it created or updated, the values it
overwrote and the labels, group membership and external id it added: undo reads
exactly that.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models.base import ModelState
from django.utils import timezone

from lien.contacts.custom_fields import is_empty
from lien.contacts.models import (
    Contact,
    ContactLabel,
    ContactStructureLink,
    CustomField,
    ExternalId,
    Group,
    GroupMembership,
    Label,
    LabelOrigin,
    Structure,
    StructureLabel,
)
from lien.contacts.normalize import (
    DEFAULT_REGION,
    normalize_contact_fields,
    normalize_email,
    normalize_name,
)
from lien.contacts.stats import refresh_contact_stats
from lien.core.audit import Actor
from lien.core.models import ActorKind, AuditEvent, Organization
from lien.imports.matching import (
    AMBIGUOUS,
    IN_BATCH,
    MATCHED,
    NOT_FOUND,
    Match,
    Reconciler,
)
from lien.imports.models import Import, ImportRow, ImportTarget, RowOutcome, UpdatePolicy
from lien.imports.rows import CUSTOM_PREFIX, CleanRow, RowReader, french_e164
from lien.interactions.defaults import PAYMENT_TYPE
from lien.interactions.models import (
    Interaction,
    InteractionCategory,
    InteractionLabel,
    InteractionStatus,
    InteractionType,
)
from lien.payments.models import Campaign, MembershipPeriod, Payment, PaymentKind, PaymentLabel
from lien.payments.services import (
    INTERACTION_STATUSES,
    add_years,
    interaction_description,
    membership_validity,
    payment_settings,
)

BATCH = 1000  # rows per INSERT statement (Django splits further for SQLite)
RECORD_MODELS = {
    ImportTarget.CONTACTS: Contact,
    ImportTarget.STRUCTURES: Structure,
    ImportTarget.INTERACTIONS: Interaction,
    ImportTarget.PAYMENTS: Payment,
}


def import_actor(imp: Import, user=None) -> Actor:
    """Changes made by an import are signed « Import n°12 » (with who started it)."""
    return Actor(kind=ActorKind.IMPORT, user=user, label=f"Import n°{imp.pk}")


def e164(number: str, region: str) -> str:
    """`normalize_phone`, with the French national numbers of a file read without parsing."""
    return french_e164(number, region) if number else ""


def normalize_contact(contact: Contact) -> Contact:
    """`normalize_contact_fields`, with its phone step taking the fast path for French
    numbers (phonenumbers costs ~0.5 ms a number: a minute per 100,000 rows)."""
    region = (contact.country or DEFAULT_REGION).upper()
    fast = e164(contact.mobile, region) or (not contact.mobile and e164(contact.phone, region))
    if not fast:
        return normalize_contact_fields(contact, region)
    contact.email_normalized = normalize_email(contact.email)
    contact.first_name_normalized = normalize_name(contact.first_name)
    contact.last_name_normalized = normalize_name(contact.last_name)
    contact.phone_e164 = fast
    return contact


def fresh(template: models.Model, **values: Any) -> Any:
    """A new unsaved instance like `template` (its defaults), without Model.__init__'s
    per-field work: a chunk builds a thousand of them."""
    obj = template.__class__.__new__(template.__class__)
    obj.__dict__.update(template.__dict__)
    obj._state = ModelState()
    if "custom" in template.__dict__:
        obj.custom = {}
    obj.__dict__.update(values)
    return obj


def json_text(value: Any) -> str:
    """A JSON column's text for COPY (which reads it as jsonb): orjson, ten times the
    standard encoder's speed on an import's history rows; the empty ones without it."""
    if not value and type(value) in (dict, list):
        return "{}" if type(value) is dict else "[]"
    return orjson.dumps(value).decode()


def insert(model: type[models.Model], objs: list[Any], *, ids: bool = False) -> None:
    """Insert new rows (ARCHITECTURE « Write fast »). PostgreSQL: one COPY per table, ids
    reserved from the sequence first when the caller needs them; elsewhere bulk_create.
    The rows are built and checked by the engine: nothing here validates."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=BATCH)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if ids or not f.primary_key]
    # psycopg adapts Python values itself; only JSON needs its wrapper (and Django's
    # get_db_prep_save per value costs more than the COPY).
    json = [isinstance(f, models.JSONField) for f in fields]
    names = [f.attname for f in fields]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(objs)],
            )
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
        columns = ", ".join(quote(f.column) for f in fields)
        values_of = operator.itemgetter(*names)  # a row's values at C speed
        if len(names) == 1:  # itemgetter of one name gives the value itself
            values_of = lambda row, one=values_of: (one(row),)  # noqa: E731
        json_at = [i for i, is_json in enumerate(json) if is_json]
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            write = copy.write_row
            for obj in objs:
                values = values_of(obj.__dict__)
                if json_at:
                    values = list(values)
                    for i in json_at:
                        values[i] = json_text(values[i])
                write(values)
    for obj in objs:
        obj._state.adding, obj._state.db = False, "default"


def update(model: type[models.Model], objs: list[Any], names: list[str]) -> None:
    """UPDATE … WHERE id = %s for many rows, one executemany (a pipeline on PostgreSQL):
    Django's bulk_update builds a CASE per field and row, slower than the write."""
    if not objs:
        return
    fields = [model._meta.get_field(name) for name in names]
    if connection.vendor == "postgresql":
        _update_from_arrays(model, objs, fields)
        return
    real = connections[DEFAULT_DB_ALIAS]  # not the proxy: one lookup, not one per value
    quote = real.ops.quote_name
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE {quote(model._meta.pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                [f.get_db_prep_save(getattr(obj, f.attname), real) for f in fields] + [obj.pk]
                for obj in objs
            ],
        )


def _update_from_arrays(model: type[models.Model], objs: list[Any], fields: list) -> None:
    """PostgreSQL: every row in one statement, the new values as one array per column
    (UPDATE … FROM unnest(…)): no statement per row to build, send and plan."""
    meta = model._meta
    quote = connection.ops.quote_name
    columns, casts, arrays = [], [], []
    for f in [meta.pk, *fields]:
        json = isinstance(f, models.JSONField)
        columns.append(quote(f.column))
        kind = "text" if json else f.db_type(connection)
        casts.append(f"%s::{kind}[]")
        arrays.append(
            [json_text(getattr(o, f.attname)) if json else getattr(o, f.attname) for o in objs]
        )
    sets = ", ".join(
        f"{quote(f.column)} = v.{quote(f.column)}"
        + ("::jsonb" if isinstance(f, models.JSONField) else "")
        for f in fields
    )
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {sets} FROM unnest({', '.join(casts)}) AS v({', '.join(columns)})"
            f" WHERE {table}.{quote(meta.pk.column)} = v.{quote(meta.pk.column)}",
            arrays,
        )


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


@dataclass
class Plan:
    """What one row will do (check) or did (run)."""

    row: CleanRow
    outcome: str
    obj: Any = None  # the record (new, or existing with the row's changes applied)
    creating: bool = False
    before: dict[str, Any] = field(default_factory=dict)  # overwritten values, for undo
    changes: dict[str, list[Any]] = field(default_factory=dict)  # for the audit row
    labels: list[int | str] = field(default_factory=list)  # ids, or names to create
    added_labels: list[int] = field(default_factory=list)
    added_group: int | None = None
    add_external: bool = False
    person: Any = None  # interactions/payments: the contact (existing id or a new Contact)
    person_plan: Plan | None = None  # the plan creating that contact, if new here
    replan: bool = False  # check only: a new person of an earlier chunk, planned by the run
    # Contacts: the structure the row links its contact to (an id, or a new Structure),
    # the role there, whether it becomes the main one; the structure the row created.
    structure: Any = None
    structure_role: str = ""
    structure_main: bool = False
    created_structure: int | None = None


class Engine:
    """Plans and writes the chunks of one import (dry run when `dry_run`)."""

    def __init__(self, *, imp: Import, actor: Actor, dry_run: bool) -> None:
        self.imp = imp
        self.organization: Organization = imp.organization
        self.actor = actor
        self.dry_run = dry_run
        options = imp.options or {}
        self.policy = options.get("update_policy") or UpdatePolicy.FILL
        self.option_labels = list(
            Label.objects.for_org(self.organization)
            .filter(pk__in=options.get("labels") or [])
            .values_list("pk", flat=True)
        )
        self.group = (
            Group.objects.for_org(self.organization).filter(pk=options.get("group")).first()
            if options.get("group")
            else None
        )
        self.reader = RowReader(
            organization=self.organization,
            target=imp.target,
            mapping=imp.mapping or {},
            transforms=imp.transforms or {},
            headers=imp.headers or [],
            source=imp.source,
        )
        self.reconciler = Reconciler(organization=self.organization)
        self.content_types = {
            model: ContentType.objects.get_for_model(model)
            for model in (Contact, Structure, Interaction, Payment, CustomField)
        }
        self.label_ids = {
            name.casefold(): pk
            for pk, name in Label.objects.for_org(self.organization).values_list("pk", "name")
        }
        self.required_custom = [
            key for key, f in self.reader.custom_fields.items() if f.required
        ]  # fmt: skip
        # In-file memory beyond the reconciler's: structures by name, and the external
        # ids / natural keys of interactions and payments already seen in this file.
        self.structures_seen: dict[str, Plan] = {}
        self.records_seen: set[Any] = set()
        # A contacts file's structures: those the file names that do not exist yet (one
        # new Structure per normalised name, planned once for the whole file), and the
        # ids the run gave them (saved plans come back as copies: found again by name).
        self.new_structures: dict[str, Structure] = {}
        self.structure_ids: dict[str, int] = {}
        self.structure_header = next(
            (header for _i, header, key in self.reader.columns if key == "structure"), None
        )
        # Check only: the existing contacts earlier chunks matched (see lien/imports/plans).
        self.matched_before: set[int] = set()
        self.new_choices: dict[str, set[str]] = defaultdict(set)
        self.now = timezone.now()
        self.contact_template = Contact(organization=self.organization)
        self.row_template = ImportRow(organization=self.organization, import_run=imp)
        self.event_template = AuditEvent(organization=self.organization)
        self._type_ids: dict[type, int] = {}
        self._actor_fields = {
            "organization_id": self.organization.pk,
            "actor_kind": actor.kind,
            "actor_user_id": actor.user.pk if getattr(actor.user, "pk", None) else None,
            "actor_label": actor.label[:200],
        }

    # Shared helpers ------------------------------------------------------------------

    def _error(self, row: CleanRow, message: str, column: str = "") -> Plan:
        row.error(column, "", message)
        return Plan(row=row, outcome=RowOutcome.ERROR)

    def _required_custom(self, row: CleanRow, custom: dict[str, Any]) -> bool:
        missing = [k for k in self.required_custom if is_empty(custom.get(k))]
        for key in missing:
            row.error("", "", f"« {self.reader.custom_fields[key].name} » est obligatoire.")
        return not missing

    def _apply(self, plan: Plan, values: dict[str, Any], custom: dict[str, Any]) -> None:
        """The update policy on an existing (or already planned) record; a record this row
        creates takes the row's values as they are (a default such as the country « FR »
        is not a value the file must respect)."""
        obj = plan.obj
        if plan.outcome == RowOutcome.CREATED:
            obj.__dict__.update(values)
            if custom:
                obj.custom = {**(obj.custom or {}), **custom}
            return
        if self.policy == UpdatePolicy.NEVER and not plan.creating:
            return
        for name, new in values.items():
            old = getattr(obj, name)
            if old == new or (self.policy == UpdatePolicy.FILL and not is_empty(old)):
                continue
            if not plan.creating:
                plan.before.setdefault(name, _plain(old))
            plan.changes[name] = [_plain(old), _plain(new)]
            setattr(obj, name, new)
        if custom:
            stored = dict(obj.custom or {})
            for key, new in custom.items():
                old = stored.get(key)
                if old == new or (self.policy == UpdatePolicy.FILL and not is_empty(old)):
                    continue
                if not plan.creating:
                    plan.before.setdefault(CUSTOM_PREFIX + key, old)
                plan.changes[CUSTOM_PREFIX + key] = [old, new]
                stored[key] = new
            obj.custom = stored

    def _label_refs(self, row: CleanRow) -> list[int | str]:
        refs: list[int | str] = list(self.option_labels)
        for name in row.labels:
            pk = self.label_ids.get(name.casefold())
            ref: int | str = pk if pk is not None else name
            if ref not in refs:
                refs.append(ref)
        return refs

    def _plan_links(self, plans: list[Plan], model: type[models.Model]) -> None:
        """Which labels and group membership each row adds: set-based, one query each."""
        link_model, column = (
            (ContactLabel, "contact_id") if model is Contact else (StructureLabel, "structure_id")
        )
        existing_ids = {p.obj.pk for p in plans if p.obj is not None and p.obj.pk}
        label_ids = {ref for p in plans for ref in p.labels if isinstance(ref, int)}
        have: set[tuple[int, int]] = set()
        if existing_ids and label_ids:
            have = set(
                link_model.objects.for_org(self.organization)
                .filter(**{f"{column}__in": existing_ids}, label_id__in=label_ids,
                        origin=LabelOrigin.MANUAL)
                .values_list(column, "label_id")
            )  # fmt: skip
        in_group: set[int] = set()
        if self.group is not None and existing_ids:
            in_group = set(
                GroupMembership.objects.for_org(self.organization)
                .filter(group=self.group, **{f"{column}__in": existing_ids})
                .values_list(column, flat=True)
            )
        seen_labels: set[tuple[int, Any]] = set()
        seen_group: set[int] = set()
        for plan in plans:
            if plan.outcome == RowOutcome.ERROR or plan.obj is None:
                continue
            key = id(plan.obj)
            added = []
            for ref in plan.labels:
                if (plan.obj.pk, ref) in have or (key, ref) in seen_labels:
                    continue
                seen_labels.add((key, ref))
                added.append(ref)
            plan.labels = added
            if added:
                plan.changes["labels"] = [
                    None,
                    "+ " + ", ".join(self._label_name(r) for r in added),
                ]
            if self.group is not None and plan.obj.pk not in in_group and key not in seen_group:
                seen_group.add(key)
                plan.added_group = self.group.pk
                plan.changes["groups"] = [None, f"+ {self.group.name}"]
            if plan.outcome == RowOutcome.UNCHANGED and (added or plan.added_group):
                plan.outcome = RowOutcome.UPDATED

    def _label_name(self, ref: int | str) -> str:
        if isinstance(ref, str):
            return ref
        return self._label_names.get(ref, str(ref))

    @property
    def _label_names(self) -> dict[int, str]:
        if not hasattr(self, "_names_cache"):
            self._names_cache = dict(
                Label.objects.for_org(self.organization).values_list("pk", "name")
            )
        return self._names_cache

    # Planning --------------------------------------------------------------------------

    def plan(self, rows: Sequence[CleanRow]) -> list[Plan]:
        planner = {
            ImportTarget.CONTACTS: self._plan_contacts,
            ImportTarget.STRUCTURES: self._plan_structures,
            ImportTarget.INTERACTIONS: self._plan_interactions,
            ImportTarget.PAYMENTS: self._plan_payments,
        }[self.imp.target]
        plans = planner(rows)
        for plan in plans:
            if plan.outcome != RowOutcome.ERROR:
                for key, values in plan.row.new_choices.items():
                    self.new_choices[key] |= values
        return plans

    def _match_error(self, row: CleanRow, match: Match) -> Plan:
        return self._error(row, match.message[:1].upper() + match.message[1:] + ".")

    def _plan_contacts(self, rows: Sequence[CleanRow]) -> list[Plan]:
        structures = self._find_structures(rows)
        good = [r for r in rows if not r.errors]
        matches = self.reconciler.match([r.person for r in good])
        found = {m.contact_id for m in matches if m.status == MATCHED}
        current = self._load_contacts(found)
        by_row = dict(zip([r.number for r in good], matches, strict=True))
        new_here: dict[Any, Plan] = {}
        plans = []
        for row in rows:
            if row.errors:
                plans.append(Plan(row=row, outcome=RowOutcome.ERROR))
                continue
            match = by_row[row.number]
            if match.status in (AMBIGUOUS, NOT_FOUND):
                plans.append(self._match_error(row, match))
                continue
            if match.status == MATCHED:
                plan = Plan(row=row, outcome=RowOutcome.UNCHANGED, obj=current[match.contact_id])
                # Check only: a contact an earlier chunk changes first; the run plans it again.
                plan.replan = match.contact_id in self.matched_before
            elif match.same_as is not None and match.same_as in new_here:
                owner = new_here[match.same_as]
                plan = Plan(row=row, outcome=RowOutcome.UNCHANGED, obj=owner.obj, creating=True)
            elif match.same_as is not None:  # a new person of an earlier chunk (check only)
                plans.append(Plan(row=row, outcome=RowOutcome.UNCHANGED, replan=True))
                continue
            else:
                if not self._required_custom(row, row.custom):
                    plans.append(Plan(row=row, outcome=RowOutcome.ERROR))
                    continue
                contact = fresh(self.contact_template, created_at=self.now)
                plan = Plan(row=row, outcome=RowOutcome.CREATED, obj=contact, creating=True)
                new_here[row.number] = plan
            self._apply(plan, row.values, row.custom)
            if plan.outcome == RowOutcome.UNCHANGED and plan.changes:
                plan.outcome = RowOutcome.UPDATED
            if plan.creating and plan.outcome != RowOutcome.CREATED:
                plan.before = {}  # undo deletes the record the first row created
            plan.labels = self._label_refs(row)
            plan.add_external = bool(row.external_id) and match.rule != "external_id"
            plans.append(plan)
        self._plan_links(plans, Contact)
        self._plan_structure_links(plans, structures)
        if self.dry_run:
            self.matched_before |= found
        return plans

    def _find_structures(self, rows: Sequence[CleanRow]) -> dict[str, tuple[int, str]]:
        """The existing structures a chunk's « Structure » cells name, by normalised name
        (one query): name → (id, name). A name several structures share is not guessed:
        the row is reported."""
        names = {normalize_name(r.structure) for r in rows if r.structure and not r.errors}
        if not names:
            return {}
        by_name: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for pk, normalized, name in (
            Structure.objects.for_org(self.organization)
            .not_deleted()
            .filter(name_normalized__in=names)
            .values_list("pk", "name_normalized", "name")
        ):
            by_name[normalized].append((pk, name))
        for row in rows:
            found = by_name.get(normalize_name(row.structure)) if row.structure else None
            if found and len(found) > 1 and not row.errors:
                ids_text = ", ".join(f"n°{pk}" for pk, _name in sorted(found))
                row.error(
                    self.structure_header or "", row.structure,
                    f"Plusieurs structures portent ce nom ({ids_text}) : renommez-les ou "
                    "liez ce contact à la main.",
                )  # fmt: skip
        return {name: found[0] for name, found in by_name.items() if len(found) == 1}

    def _contact_structure_links(self, contact_ids: set[int]) -> tuple[set, set[int]]:
        """The (contact, structure) links of these contacts, and those with a main one."""
        pairs: set[tuple[int, int]] = set()
        mains: set[int] = set()
        if contact_ids:
            for contact_id, structure_id, is_main in (
                ContactStructureLink.objects.for_org(self.organization)
                .filter(contact_id__in=contact_ids)
                .values_list("contact_id", "structure_id", "is_main")
            ):
                pairs.add((contact_id, structure_id))
                if is_main:
                    mains.add(contact_id)
        return pairs, mains

    def _plan_structure_links(
        self, plans: list[Plan], structures: dict[str, tuple[int, str]]
    ) -> None:
        """Each row's link to its structure: an existing one, or one the file creates
        (once per name); never twice the same link; the first link of a contact without
        a main structure becomes its main one. Links are added, never removed."""
        wanted = [
            p for p in plans
            if p.row.structure and p.obj is not None and p.outcome != RowOutcome.ERROR
            and not p.replan  # the run plans it again, after the earlier chunk's link
        ]  # fmt: skip
        if not wanted:
            return
        linked, mains = self._contact_structure_links({p.obj.pk for p in wanted if p.obj.pk})
        seen: set[tuple[Any, Any]] = set()
        for plan in wanted:
            row = plan.row
            name = normalize_name(row.structure)
            existing = structures.get(name)
            if existing is not None:
                ref: Any = existing[0]
                shown = existing[1]
            else:
                ref = self.new_structures.get(name)
                if ref is None:
                    ref = self.new_structures[name] = Structure(
                        organization=self.organization, name=row.structure,
                        name_normalized=name, created_at=self.now, updated_at=self.now,
                    )  # fmt: skip
                shown = ref.name
            contact_key = plan.obj.pk or id(plan.obj)
            structure_key = ref if isinstance(ref, int) else name
            if (plan.obj.pk, structure_key) in linked or (contact_key, structure_key) in seen:
                continue
            seen.add((contact_key, structure_key))
            plan.structure, plan.structure_role = ref, row.structure_role
            plan.structure_main = contact_key not in mains
            mains.add(contact_key)
            # As the contact's history shows a link made by hand (save_structure_link).
            plan.changes["structure"] = [None, f"{shown} ({row.structure_role or 'lien'})"]
            if plan.outcome == RowOutcome.UNCHANGED:
                plan.outcome = RowOutcome.UPDATED

    def _load_contacts(self, ids: set[int]) -> dict[int, Contact]:
        """The matched contacts, as in_bulk() would give them, built like `fresh` does:
        Model.__init__ per contact was a tenth of a check."""
        if not ids:
            return {}
        names = [f.attname for f in Contact._meta.concrete_fields]
        found: dict[int, Contact] = {}
        pk_index = names.index(Contact._meta.pk.attname)
        ordered = sorted(ids)
        for start in range(0, len(ordered), IN_BATCH):
            part = ordered[start : start + IN_BATCH]
            for values in (
                Contact.objects.for_org(self.organization).filter(pk__in=part).values_list(*names)
            ):
                obj = Contact.__new__(Contact)
                obj.__dict__.update(zip(names, values, strict=True))
                obj._state = ModelState()
                obj._state.adding, obj._state.db = False, "default"
                found[values[pk_index]] = obj
        return found

    def _plan_structures(self, rows: Sequence[CleanRow]) -> list[Plan]:
        """Structures: Lien id, external id, then the exact normalised name (several →
        ambiguous); two rows of one name are one structure."""
        good = [r for r in rows if not r.errors]
        records = Structure.objects.for_org(self.organization).not_deleted()
        ids = {r.record_id for r in good if r.record_id}
        by_id = records.in_bulk(ids) if ids else {}
        externals = {r.external_id for r in good if r.external_id}
        by_external: dict[str, int] = {}
        if externals:
            by_external = dict(
                ExternalId.objects.for_org(self.organization)
                .filter(source=self.imp.source, content_type=self.content_types[Structure],
                        external_id__in=externals)
                .values_list("external_id", "object_id")
            )  # fmt: skip
        names = {normalize_name(r.values.get("name")) for r in good if r.values.get("name")}
        by_name: dict[str, list[int]] = defaultdict(list)
        if names:
            for pk, name in records.filter(name_normalized__in=names).values_list(
                "pk", "name_normalized"
            ):
                by_name[name].append(pk)
        wanted = set(by_external.values()) | {pk for pks in by_name.values() for pk in pks}
        loaded = {**records.in_bulk(wanted - set(by_id)), **by_id} if wanted else by_id
        plans = []
        for row in rows:
            if row.errors:
                plans.append(Plan(row=row, outcome=RowOutcome.ERROR))
                continue
            name = normalize_name(row.values.get("name"))
            rule = ""
            if row.record_id:
                target = loaded.get(row.record_id)
                if target is None:
                    plans.append(
                        self._error(
                            row, "Aucune structure de votre association n'a cet identifiant."
                        )
                    )
                    continue
                rule = "id"
            elif row.external_id and row.external_id in by_external:
                target, rule = loaded.get(by_external[row.external_id]), "external_id"
            elif name and len(by_name.get(name, [])) > 1:
                ids_text = ", ".join(f"n°{pk}" for pk in by_name[name])
                plans.append(self._error(row, f"Plusieurs structures ont ce nom ({ids_text})."))
                continue
            elif name and by_name.get(name):
                target, rule = loaded.get(by_name[name][0]), "name"
            else:
                target = None
            seen = self.structures_seen.get(("ext", row.external_id)) if row.external_id else None
            seen = seen or (self.structures_seen.get(("name", name)) if name else None)
            if target is not None:
                plan = Plan(row=row, outcome=RowOutcome.UNCHANGED, obj=target)
            elif seen is not None and seen.obj is not None and seen.obj.pk is None:
                plan = Plan(row=row, outcome=RowOutcome.UNCHANGED, obj=seen.obj, creating=True)
            elif seen is not None and seen.obj is not None:
                plan = Plan(row=row, outcome=RowOutcome.UNCHANGED, obj=seen.obj)
            else:
                if not self._required_custom(row, row.custom):
                    plans.append(Plan(row=row, outcome=RowOutcome.ERROR))
                    continue
                structure = Structure(organization=self.organization, created_at=self.now)
                plan = Plan(row=row, outcome=RowOutcome.CREATED, obj=structure, creating=True)
            self._apply(plan, row.values, row.custom)
            if plan.outcome == RowOutcome.UNCHANGED and plan.changes:
                plan.outcome = RowOutcome.UPDATED
            if plan.creating and plan.outcome != RowOutcome.CREATED:
                plan.before = {}
            if plan.outcome == RowOutcome.CREATED or seen is None:
                if name:
                    self.structures_seen.setdefault(("name", name), plan)
                if row.external_id:
                    self.structures_seen.setdefault(("ext", row.external_id), plan)
            plan.labels = self._label_refs(row)
            plan.add_external = bool(row.external_id) and rule != "external_id"
            plans.append(plan)
        self._plan_links(plans, Structure)
        return plans

    def _plan_people(self, rows: Sequence[CleanRow]) -> dict[int, Plan | int | None]:
        """The contact of each interaction/payment row: an id, a plan creating it, or
        None with the row in error (ambiguous, unknown id, too little to create one)."""
        good = [r for r in rows if not r.errors and r.person is not None]
        matches = self.reconciler.match([r.person for r in good])
        people: dict[int, Plan | int | None] = {}
        new_here: dict[Any, Plan] = {}
        for row, match in zip(good, matches, strict=True):
            if match.status == MATCHED:
                people[row.number] = match.contact_id
            elif match.status in (AMBIGUOUS, NOT_FOUND):
                self._match_error(row, match)
                people[row.number] = None
            elif match.same_as is not None and match.same_as in new_here:
                people[row.number] = new_here[match.same_as]
            elif match.same_as is not None:
                people[row.number] = -1  # a contact an earlier chunk creates (check only)
            elif not (
                row.person_values.get("email")
                or row.person_values.get("last_name")
                or row.person_values.get("first_name")
            ):
                row.error("", "", "Contact introuvable, et pas assez d'informations pour le "
                          "créer (un nom ou un email).")  # fmt: skip
                people[row.number] = None
            else:
                contact = fresh(self.contact_template, created_at=self.now, **row.person_values)
                plan = Plan(row=row, outcome=RowOutcome.CREATED, obj=contact, creating=True)
                plan.add_external = bool(row.person.external_id)
                new_here[row.number] = plan
                people[row.number] = plan
        return people

    def _seen(self, key: Any) -> bool:
        if key in self.records_seen:
            return True
        self.records_seen.add(key)
        return False

    def _plan_interactions(self, rows: Sequence[CleanRow]) -> list[Plan]:
        people = self._plan_people(rows)
        good = [r for r in rows if not r.errors]
        externals = {r.external_id for r in good if r.external_id}
        existing_ext: set[str] = set()
        if externals:
            existing_ext = set(
                ExternalId.objects.for_org(self.organization)
                .filter(source=self.imp.source, content_type=self.content_types[Interaction],
                        external_id__in=externals)
                .values_list("external_id", flat=True)
            )  # fmt: skip
        contact_ids = {p for p in people.values() if isinstance(p, int) and p > 0}
        moments = {r.values["occurred_at"] for r in good if "occurred_at" in r.values}
        natural: set[tuple] = set()
        if contact_ids and moments:
            natural = set(
                Interaction.objects.for_org(self.organization)
                .filter(contact_id__in=contact_ids, occurred_at__in=moments)
                .values_list("contact_id", "occurred_at", "type_id", "description")
            )
        plans = []
        for row in rows:
            person = people.get(row.number)
            if row.errors or person is None:
                plans.append(Plan(row=row, outcome=RowOutcome.ERROR))
                continue
            values = row.values
            type_ref = values["type"]
            contact_id = person if isinstance(person, int) else None
            key = (
                ("ext", row.external_id)
                if row.external_id
                else ("nat", contact_id or id(person), values["occurred_at"], type_ref,
                      values.get("description", ""))
            )  # fmt: skip
            if (
                (row.external_id and row.external_id in existing_ext)
                or (
                    not row.external_id
                    and contact_id
                    and (contact_id, values["occurred_at"], type_ref,
                         values.get("description", "")) in natural
                )
                or self._seen(key)
            ):  # fmt: skip
                plans.append(Plan(row=row, outcome=RowOutcome.UNCHANGED))
                continue
            interaction = Interaction(
                organization=self.organization,
                occurred_at=values["occurred_at"],
                description=values.get("description", ""),
                status=values.get("status", ""),
                source=Interaction.Source.IMPORT,
                created_at=self.now,
            )
            plan = Plan(row=row, outcome=RowOutcome.CREATED, obj=interaction, creating=True)
            plan.person = person
            plan.person_plan = person if isinstance(person, Plan) and person.row is row else None
            plan.add_external = bool(row.external_id)
            plans.append(plan)
        return plans

    def _plan_payments(self, rows: Sequence[CleanRow]) -> list[Plan]:
        people = self._plan_people(rows)
        good = [r for r in rows if not r.errors]
        for row in good:
            if people.get(row.number) is not None and not self._required_custom(row, row.custom):
                people[row.number] = None
        externals = {r.external_id for r in good if r.external_id}
        existing_ext: set[str] = set()
        if externals:
            existing_ext = set(
                Payment.objects.for_org(self.organization)
                .filter(source=self.imp.source, external_id__in=externals)
                .values_list("external_id", flat=True)
            )
        contact_ids = {p for p in people.values() if isinstance(p, int) and p > 0}
        days = {r.values["paid_on"] for r in good if "paid_on" in r.values}
        natural: set[tuple] = set()
        if contact_ids and days:
            natural = set(
                Payment.objects.for_org(self.organization)
                .filter(payer_contact_id__in=contact_ids, paid_on__in=days)
                .values_list("payer_contact_id", "paid_on", "amount_cents", "kind")
            )
        plans = []
        for row in rows:
            person = people.get(row.number)
            if row.errors or person is None:
                plans.append(Plan(row=row, outcome=RowOutcome.ERROR))
                continue
            v = row.values
            contact_id = person if isinstance(person, int) else None
            nat = (contact_id or id(person), v["paid_on"], v["amount_cents"], v["kind"])
            key = ("ext", row.external_id) if row.external_id else ("nat", *nat)
            if (
                (row.external_id and row.external_id in existing_ext)
                or (not row.external_id and contact_id and nat in natural)
                or self._seen(key)
            ):
                plans.append(Plan(row=row, outcome=RowOutcome.UNCHANGED))
                continue
            payment = Payment(
                organization=self.organization,
                kind=v["kind"],
                amount_cents=v["amount_cents"],
                paid_on=v["paid_on"],
                method=v.get("method") or Payment.Method.OTHER,
                status=v.get("status") or Payment.Status.PAID,
                is_recurring=bool(v.get("is_recurring")),
                frequency=v.get("frequency") or "",
                source=self.imp.source if row.external_id else "",
                external_id=row.external_id,
                notes=v.get("notes", ""),
                custom=row.custom,
                created_at=self.now,
                updated_at=self.now,
            )
            plan = Plan(row=row, outcome=RowOutcome.CREATED, obj=payment, creating=True)
            plan.person = person
            plan.person_plan = person if isinstance(person, Plan) and person.row is row else None
            plan.labels = self._label_refs(row)
            plans.append(plan)
        return plans

    # Writing ---------------------------------------------------------------------------

    def write(self, plans: list[Plan]) -> None:
        """Write one planned chunk; the caller holds the transaction."""
        self.now = timezone.now()
        self._create_choices()
        writer = {
            ImportTarget.CONTACTS: self._write_records,
            ImportTarget.STRUCTURES: self._write_records,
            ImportTarget.INTERACTIONS: self._write_interactions,
            ImportTarget.PAYMENTS: self._write_payments,
        }[self.imp.target]
        events = writer(plans)
        self._write_import_rows(plans)
        insert(AuditEvent, events)
        self.reconciler.forget()

    def _create_choices(self) -> None:
        """« Créer les choix manquants »: the file's new values join the field's choices."""
        for key, values in list(self.new_choices.items()):
            definition = self.reader.custom_fields[key]
            known = {c.casefold() for c in definition.choices}
            extra = sorted(v for v in values if v.casefold() not in known)
            if extra:
                before = list(definition.choices)
                definition.choices = [*definition.choices, *extra]
                definition.save(update_fields=["choices"])
                AuditEvent.objects.create(
                    **self._event_fields(definition, AuditEvent.Action.UPDATE),
                    changes={"choices": [before, definition.choices]},
                )
        self.new_choices.clear()

    def _event_fields(self, obj: models.Model, action: str) -> dict[str, Any]:
        """An audit row's columns (by attname: `fresh` sets them without descriptors)."""
        cls = obj.__class__
        type_id = self._type_ids.get(cls)
        if type_id is None:
            type_id = self._type_ids[cls] = ContentType.objects.get_for_model(
                obj, for_concrete_model=False
            ).pk
        return {
            **self._actor_fields,
            "created_at": self.now,
            "action": action,
            "target_type_id": type_id,
            "target_id": obj.pk,
            "target_repr": str(obj)[:250],
        }

    def _event(self, obj: models.Model, action: str, changes: dict[str, Any]) -> AuditEvent:
        return fresh(self.event_template, **self._event_fields(obj, action), changes=changes)

    def _resolve_labels(self, plans: list[Plan]) -> None:
        names = {ref for p in plans for ref in p.labels if isinstance(ref, str)}
        for name in sorted(names, key=str.casefold):
            if name.casefold() in self.label_ids:
                continue
            label = Label.objects.create(organization=self.organization, name=name)
            self.label_ids[name.casefold()] = label.pk
            self._label_names[label.pk] = name
        for plan in plans:
            plan.added_labels = [
                ref if isinstance(ref, int) else self.label_ids[ref.casefold()]
                for ref in plan.labels
            ]

    def _create_contacts(self, plans: list[Plan]) -> None:
        """Insert the new contacts of `plans` (one statement per thousand); ids come back."""
        new = [p.obj for p in plans if p.outcome == RowOutcome.CREATED and p.obj.pk is None]
        for contact in new:
            normalize_contact(contact)
            contact.created_at = contact.updated_at = self.now
            if contact.email_consent and not contact.email_consent_date:
                contact.email_consent_date = self.now
        insert(Contact, new, ids=True)
        self.reconciler.created(
            {p.row.number: p.obj.pk for p in plans if p.outcome == RowOutcome.CREATED}
        )

    def _write_records(self, plans: list[Plan]) -> list[AuditEvent]:
        model = Contact if self.imp.target == ImportTarget.CONTACTS else Structure
        live = [p for p in plans if p.obj is not None and p.outcome != RowOutcome.ERROR]
        if model is Contact:
            self._create_contacts(live)
        else:
            new = [p.obj for p in live if p.outcome == RowOutcome.CREATED]
            for structure in new:
                structure.name_normalized = normalize_name(structure.name)
                structure.updated_at = self.now
            insert(Structure, new, ids=True)
        changed: dict[int, Any] = {}
        fields: set[str] = set()
        for plan in live:
            if plan.outcome == RowOutcome.UPDATED and not plan.creating:
                native = [k for k in plan.changes if k in plan.before and "." not in k]
                if native or any(k.startswith(CUSTOM_PREFIX) for k in plan.before):
                    changed[plan.obj.pk] = plan.obj
                    fields.update(native)
                    if any(k.startswith(CUSTOM_PREFIX) for k in plan.before):
                        fields.add("custom")
        if changed:
            for obj in changed.values():
                if model is Contact:
                    normalize_contact(obj)
                else:
                    obj.name_normalized = normalize_name(obj.name)
                obj.updated_at = self.now
            normalized = (
                ["email_normalized", "phone_e164", "first_name_normalized", "last_name_normalized"]
                if model is Contact
                else ["name_normalized"]
            )
            update(model, list(changed.values()), sorted(fields | {"updated_at", *normalized}))
        self._resolve_labels(live)
        link_model, column = (
            (ContactLabel, "contact") if model is Contact else (StructureLabel, "structure")
        )
        # `fresh` copies of one template: a Model() per link costs more than its COPY.
        link = link_model(organization=self.organization, origin=LabelOrigin.MANUAL,
                          created_at=self.now)  # fmt: skip
        insert(
            link_model,
            [
                fresh(link, label_id=label_id, **{f"{column}_id": p.obj.pk})
                for p in live
                for label_id in p.added_labels
            ],
        )
        member = GroupMembership(organization=self.organization, added_at=self.now)
        insert(
            GroupMembership,
            [
                fresh(member, group_id=p.added_group, **{f"{column}_id": p.obj.pk})
                for p in live
                if p.added_group
            ],
        )
        self._write_external_ids(live, model)
        events = self._write_structure_links(live) if model is Contact else []
        for plan in live:
            if plan.outcome == RowOutcome.CREATED:
                action = AuditEvent.Action.CREATE
                created = {k: [None, _plain(getattr(plan.obj, k))] for k in plan.row.values}
                created.update({f"custom.{k}": [None, v] for k, v in plan.obj.custom.items()})
                changes = {**created, **{k: v for k, v in plan.changes.items() if "." not in k}}
            elif plan.outcome == RowOutcome.UPDATED:
                action, changes = AuditEvent.Action.UPDATE, plan.changes
            else:
                continue
            events.append(self._event(plan.obj, action, changes))
        return events

    def _write_structure_links(self, plans: list[Plan]) -> list[AuditEvent]:
        """The structures the chunk's rows create (once per name for the whole file), then
        the links; a link someone made since the check is not made twice, nor a second
        main structure. Returns the structures' audit rows."""
        wanted = [p for p in plans if p.structure is not None]
        if not wanted:
            return []
        new: dict[str, Structure] = {}
        for plan in wanted:
            ref = plan.structure
            if isinstance(ref, int) or ref.pk is not None:
                continue
            if ref.name_normalized in self.structure_ids:
                continue
            if ref.name_normalized not in new:
                new[ref.name_normalized] = ref
                plan.created_structure = -1  # its id once inserted
        for structure in new.values():
            structure.created_at = structure.updated_at = self.now
        insert(Structure, list(new.values()), ids=True)
        self.structure_ids.update({key: s.pk for key, s in new.items()})
        for plan in wanted:
            ref = plan.structure
            if isinstance(ref, Structure):
                plan.structure = ref.pk or self.structure_ids[ref.name_normalized]
                if plan.created_structure:
                    plan.created_structure = plan.structure
        linked, mains = self._contact_structure_links({p.obj.pk for p in wanted})
        template = ContactStructureLink(organization=self.organization)
        links = []
        for plan in wanted:
            pair = (plan.obj.pk, plan.structure)
            if pair in linked:
                plan.structure = None
                continue
            linked.add(pair)
            main = plan.structure_main and plan.obj.pk not in mains
            if main:
                mains.add(plan.obj.pk)
            links.append(
                fresh(template, contact_id=plan.obj.pk, structure_id=plan.structure,
                      role=plan.structure_role, is_main=main)
            )  # fmt: skip
        insert(ContactStructureLink, links)
        return [
            self._event(s, AuditEvent.Action.CREATE, {"name": [None, s.name]})
            for s in new.values()
        ]

    def _write_external_ids(self, plans: list[Plan], model: type[models.Model]) -> None:
        rows = {}
        for plan in plans:
            if plan.add_external and plan.row.external_id and plan.obj is not None:
                rows.setdefault(plan.row.external_id, plan.obj.pk)
        if rows:
            ExternalId.objects.bulk_create(
                [
                    ExternalId(organization=self.organization, source=self.imp.source,
                               external_id=ext, content_type=self.content_types[model],
                               object_id=pk, created_at=self.now)
                    for ext, pk in rows.items()
                ],
                batch_size=BATCH,
                ignore_conflicts=True,
            )  # fmt: skip

    def _write_people(self, plans: list[Plan]) -> list[AuditEvent]:
        """Create the contacts interactions/payments rows need, with their external ids."""
        people = {id(p.person): p.person for p in plans if isinstance(p.person, Plan)}
        person_plans = list(people.values())
        self._create_contacts(person_plans)
        for plan in plans:
            if isinstance(plan.person, Plan):
                plan.person = plan.person.obj.pk
        ext = [
            ExternalId(organization=self.organization, source=self.imp.source,
                       external_id=p.row.person.external_id,
                       content_type=self.content_types[Contact], object_id=p.obj.pk,
                       created_at=self.now)
            for p in person_plans
            if p.row.person.external_id
        ]  # fmt: skip
        ExternalId.objects.bulk_create(ext, batch_size=BATCH, ignore_conflicts=True)
        return [
            AuditEvent(
                **self._event_fields(p.obj, AuditEvent.Action.CREATE),
                changes={k: [None, v] for k, v in p.row.person_values.items()},
            )
            for p in person_plans
        ]

    def _named(self, model, key: str, ref: Any) -> int | None:
        """An interaction type/category/label or a campaign: id, or created by name."""
        if ref is None or isinstance(ref, int):
            return ref
        cache = self.reader._named[key]
        pk = cache.get(ref.casefold())
        if pk is None:
            found = model.objects.for_org(self.organization).filter(name__iexact=ref).first()
            found = found or model.objects.create(organization=self.organization, name=ref)
            pk = cache[ref.casefold()] = found.pk
        return pk

    def _write_interactions(self, plans: list[Plan]) -> list[AuditEvent]:
        live = [p for p in plans if p.outcome == RowOutcome.CREATED]
        events = self._write_people(live)
        types = dict(
            InteractionType.objects.for_org(self.organization).values_list("pk", "default_status")
        )
        source_type = ContentType.objects.get_for_model(Import)
        user = self.actor.user if getattr(self.actor.user, "pk", None) else None
        for plan in live:
            values = plan.row.values
            obj = plan.obj
            obj.contact_id = plan.person
            obj.type_id = self._named(InteractionType, "type", values["type"])
            if obj.type_id not in types:
                types[obj.type_id] = InteractionStatus.ACTIVE
            obj.category_id = self._named(InteractionCategory, "category", values.get("category"))
            obj.label_id = self._named(InteractionLabel, "label", values.get("label"))
            obj.status = obj.status or types[obj.type_id]
            obj.source_type, obj.source_id, obj.recorded_by = source_type, self.imp.pk, user
        insert(Interaction, [p.obj for p in live], ids=True)
        # The search aggregates of the people concerned, as the interaction services keep them.
        refresh_contact_stats(
            self.organization, {p.obj.contact_id for p in live}, families=("interactions", "years")
        )
        self._write_external_ids(live, Interaction)
        names = dict(InteractionType.objects.for_org(self.organization).values_list("pk", "name"))
        for plan in live:
            obj = plan.obj
            events.append(
                AuditEvent(
                    **{**self._event_fields(obj, AuditEvent.Action.CREATE),
                       "target_repr": f"{names[obj.type_id]} — {obj.occurred_at:%d/%m/%Y}"},
                    changes={"type": [None, names[obj.type_id]],
                             "occurred_at": [None, obj.occurred_at.isoformat()]},
                )
            )  # fmt: skip
        return events

    def _write_payments(self, plans: list[Plan]) -> list[AuditEvent]:
        """Payments the way lien.payments.services writes one, for a whole chunk: the
        payment, its labels, its membership period, its Paiement interactions, then the
        automatic label rules once for every contact touched."""
        live = [p for p in plans if p.outcome == RowOutcome.CREATED]
        events = self._write_people(live)
        campaigns = {}
        for plan in live:
            obj = plan.obj
            obj.payer_contact_id = obj.beneficiary_id = plan.person
            obj.campaign_id = self._named(Campaign, "campaign", plan.row.values.get("campaign"))
            campaigns[obj.campaign_id] = None
        campaigns = Campaign.objects.for_org(self.organization).in_bulk(
            [pk for pk in campaigns if pk]
        )
        for plan in live:
            plan.obj.campaign = campaigns.get(plan.obj.campaign_id)
        insert(Payment, [p.obj for p in live], ids=True)
        self._resolve_labels(live)
        insert(
            PaymentLabel,
            [
                PaymentLabel(organization=self.organization, payment=p.obj, label_id=label_id)
                for p in live
                for label_id in dict.fromkeys(p.added_labels)
            ],
        )
        settings = payment_settings(self.organization)
        periods = []
        for plan in live:
            obj, values = plan.obj, plan.row.values
            if obj.kind == PaymentKind.MEMBERSHIP and obj.status == Payment.Status.PAID:
                default_start, default_end = membership_validity(settings, obj.paid_on)
                start = values.get("valid_from") or default_start
                end = values.get("valid_until") or (
                    default_end if start == default_start else add_years(start, 1) - dt.timedelta(1)
                )
                periods.append(
                    MembershipPeriod(organization=self.organization, contact_id=obj.beneficiary_id,
                                     payment=obj, start_date=start, end_date=end,
                                     created_at=self.now)
                )  # fmt: skip
        insert(MembershipPeriod, periods)
        payment_type = self._payment_type()
        payment_ct = self.content_types[Payment]
        insert(
            Interaction,
            [
                Interaction(
                    organization=self.organization, contact_id=p.obj.payer_contact_id,
                    occurred_at=timezone.make_aware(dt.datetime.combine(p.obj.paid_on,
                                                                        dt.time(12, 0))),
                    type=payment_type, description=interaction_description(p.obj),
                    status=InteractionStatus.ACTIVE, source=Interaction.Source.PAYMENT,
                    source_type=payment_ct, source_id=p.obj.pk, created_at=self.now,
                )
                for p in live
                if p.obj.status in INTERACTION_STATUSES
            ],
        )  # fmt: skip
        for plan in live:
            obj = plan.obj
            changes = {
                "kind": [None, obj.kind], "amount_cents": [None, obj.amount_cents],
                "paid_on": [None, obj.paid_on.isoformat()], "method": [None, obj.method],
                "status": [None, obj.status], "payer_contact": [None, obj.payer_contact_id],
            }  # fmt: skip
            if obj.campaign_id:
                changes["campaign"] = [None, obj.campaign.name]
            if obj.external_id:
                changes["external_id"] = [None, obj.external_id]
            events.append(AuditEvent(**self._event_fields(obj, AuditEvent.Action.CREATE),
                                     changes=changes))  # fmt: skip
        touched = sorted({p.obj.payer_contact_id for p in live})
        # The search aggregates of the people concerned, as the payment services keep them.
        refresh_contact_stats(self.organization, touched)
        if touched:
            from lien.payments.labels import apply_label_rules

            apply_label_rules(organization=self.organization, actor=self.actor,
                              contact_ids=touched)  # fmt: skip
        return events

    def _payment_type(self) -> InteractionType:
        found = InteractionType.objects.for_org(self.organization).filter(name=PAYMENT_TYPE).first()
        return found or InteractionType.objects.create(
            organization=self.organization, name=PAYMENT_TYPE,
            default_status=InteractionStatus.ACTIVE, is_system=True,
        )  # fmt: skip

    def _write_import_rows(self, plans: list[Plan]) -> None:
        model = RECORD_MODELS[self.imp.target]
        content_type = self.content_types[model]
        rows = []
        for plan in plans:
            added: dict[str, Any] = {}
            if plan.added_labels and self.imp.target != ImportTarget.PAYMENTS:
                added["labels"] = plan.added_labels
            if plan.added_group:
                added["group"] = plan.added_group
            if plan.add_external and plan.outcome != RowOutcome.CREATED:
                added["external_id"] = plan.row.external_id
            if plan.person_plan is not None:
                added["contacts"] = [plan.person_plan.obj.pk]
            if isinstance(plan.structure, int) and plan.outcome != RowOutcome.ERROR:
                added["structure"] = plan.structure
            if plan.created_structure:
                added["structures"] = [plan.created_structure]
            error = plan.outcome == RowOutcome.ERROR
            has_object = plan.obj is not None and plan.obj.pk and not error
            rows.append(
                fresh(
                    self.row_template,
                    row_number=plan.row.number,
                    outcome=plan.outcome,
                    object_type_id=content_type.pk if has_object else None,
                    object_id=plan.obj.pk if has_object else None,
                    errors=plan.row.errors,
                    cells=plan.row.cells if error else [],
                    before=plan.before,
                    added=added,
                )
            )
        insert(ImportRow, rows)
