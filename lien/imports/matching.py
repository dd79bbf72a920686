"""Reconciliation: which contact of the organisation is this person? The one matcher.

Imports and connectors (HelloAsso) hand over a batch of candidate people and get,
for each, the matched contact, « new », or « ambiguous » with the contacts it could
be. The rules, in order (docs/imports.md):

1. A Lien id: that contact (an id unknown in the organisation is `NOT_FOUND`).
2. An external id (source, id): the contact it was attached to by an earlier import
   or sync.
3. An email, case-insensitive, against the contacts' main email: the contacts with
   that email whose first/last name couple is *not different* from the candidate's
   — each of first name and last name equal after normalisation, or empty on one
   side. One → that contact; several → ambiguous. Same email but a different name
   (a couple sharing one address, a parent paying for a child) → a new contact,
   as the reference product does.
4. Only when neither side has an email: first name + last name, both given and
   equal after normalisation. One → that contact; several → ambiguous.
5. Otherwise a new contact.

Two candidates of one batch that are the same person by these rules are one: the
later ones say `same_as` the first. A `Reconciler` keeps that memory across the
batches of one file, so a check (nothing written) and a run (each chunk written)
see the same people.

Set-based: one query per key per batch (ids, external ids, emails, names), never
one per candidate. Normalisation is `lien.contacts.normalize`'s, the one the
contacts' stored copies are made with.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection

from lien.contacts.models import Contact, ExternalId
from lien.contacts.normalize import normalize_email, normalize_name
from lien.core.models import Organization

MATCHED = "matched"
NEW = "new"
AMBIGUOUS = "ambiguous"
NOT_FOUND = "not_found"

# IN lists are split so that no statement exceeds SQLite's or PostgreSQL's parameters.
IN_BATCH = 900


@dataclass
class Candidate:
    """A person as a file row or a connector describes them; every part optional."""

    key: Any = None  # the caller's handle (a row number, a HelloAsso id…)
    contact_id: int | None = None
    source: str = ""
    external_id: str = ""
    emails: Sequence[str] = ()
    first_name: str = ""
    last_name: str = ""

    def __post_init__(self) -> None:
        self.email_keys = [e for e in dict.fromkeys(normalize_email(x) for x in self.emails) if e]
        self.first_key = normalize_name(self.first_name)
        self.last_key = normalize_name(self.last_name)


@dataclass
class Match:
    """The answer for one candidate."""

    status: str  # MATCHED, NEW, AMBIGUOUS or NOT_FOUND
    contact_id: int | None = None
    candidates: list[int] = field(default_factory=list)  # when ambiguous
    rule: str = ""  # "id", "external_id", "email", "name", "" for new ones
    # For a NEW candidate that is the same person as an earlier new one (same batch or
    # an earlier batch of the same Reconciler): that one's key.
    same_as: Any = None

    @property
    def message(self) -> str:
        """What to tell the user about a match that cannot be written, in French."""
        if self.status == AMBIGUOUS:
            ids = ", ".join(f"n°{pk}" for pk in self.candidates)
            return f"plusieurs contacts correspondent ({ids}) : choisissez lequel dans le fichier"
        if self.status == NOT_FOUND:
            return "aucun contact de votre association n'a cet identifiant"
        return ""


def names_compatible(first_a: str, last_a: str, first_b: str, last_b: str) -> bool:
    """Not different: each of first and last name equal, or empty on one side (normalised)."""
    return (not first_a or not first_b or first_a == first_b) and (
        not last_a or not last_b or last_a == last_b
    )


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    values = list(values)
    for start in range(0, len(values), IN_BATCH):
        yield values[start : start + IN_BATCH]


@dataclass
class _Person:
    """A known person for in-file deduplication: a new one of this file, or a contact."""

    key: Any
    first: str
    last: str
    contact_id: int | None = None


class Reconciler:
    """Matches batches of candidates for one organisation, remembering the new people
    of earlier batches (one file's rows, one sync's payers) so they are not created twice.

    `match(batch)` answers each candidate; after a run has written the new contacts,
    `created({key: contact_id})` tells the reconciler, and later matches to those people
    answer MATCHED with the new id.
    """

    def __init__(self, *, organization: Organization | int) -> None:
        self.organization_id = organization if isinstance(organization, int) else organization.pk
        self.content_type = ContentType.objects.get_for_model(Contact)
        self._by_email: dict[str, list[_Person]] = defaultdict(list)
        self._by_name: dict[tuple[str, str], _Person] = {}
        self._by_external: dict[tuple[str, str], _Person] = {}
        self._people: dict[Any, _Person] = {}

    # Queries: one per key and batch --------------------------------------------------

    def _contacts(self):
        return Contact.objects.filter(organization_id=self.organization_id, is_deleted=False)

    def _existing_ids(self, ids: set[int]) -> set[int]:
        found: set[int] = set()
        for part in _chunks(ids):
            found.update(self._contacts().filter(pk__in=part).values_list("pk", flat=True))
        return found

    def _external(self, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        by_source: dict[str, set[str]] = defaultdict(set)
        for source, external in pairs:
            by_source[source].add(external)
        found: dict[tuple[str, str], int] = {}
        for source, externals in by_source.items():
            for part in _chunks(externals):
                rows = ExternalId.objects.filter(
                    organization_id=self.organization_id,
                    source=source,
                    content_type=self.content_type,
                    external_id__in=part,
                ).values_list("external_id", "object_id")
                found.update({(source, ext): pk for ext, pk in rows})
        if found:  # an external id of a contact since deleted (trash) matches nothing
            alive = self._existing_ids(set(found.values()))
            found = {pair: pk for pair, pk in found.items() if pk in alive}
        return found

    def _by_emails(self, emails: set[str]) -> dict[str, list[tuple[int, str, str]]]:
        found: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        if connection.vendor == "postgresql":
            # One array parameter instead of IN (%s, …): a thousand emails cost one short
            # statement to build and parse, on the same contact_org_email index.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT email_normalized, id, first_name_normalized, last_name_normalized"
                    " FROM contacts_contact WHERE organization_id = %s AND NOT is_deleted"
                    " AND email_normalized = ANY(%s) ORDER BY id",
                    [self.organization_id, sorted(emails)],
                )
                rows = cursor.fetchall()
        else:
            rows = [
                row
                for part in _chunks(emails)
                for row in self._contacts()
                .filter(email_normalized__in=part)
                .order_by("pk")
                .values_list("email_normalized", "pk", "first_name_normalized",
                             "last_name_normalized")
            ]  # fmt: skip
        for email, pk, first, last in rows:
            found[email].append((pk, first, last))
        return found

    def _by_names(self, names: set[tuple[str, str]]) -> dict[tuple[str, str], list[int]]:
        """Contacts without an email, by (first, last): the contact_org_name index serves
        last IN (…) AND first IN (…); the exact pairs are kept here."""
        found: dict[tuple[str, str], list[int]] = defaultdict(list)
        by_last: dict[str, set[str]] = defaultdict(set)
        for first, last in names:
            by_last[last].add(first)
        lasts = sorted(by_last)
        for part in _chunks(lasts):
            firsts = sorted({f for last in part for f in by_last[last]})
            for fpart in _chunks(firsts):
                rows = (
                    self._contacts()
                    .filter(last_name_normalized__in=part, first_name_normalized__in=fpart,
                            email_normalized="")
                    .order_by("pk")
                    .values_list("pk", "first_name_normalized", "last_name_normalized")
                )  # fmt: skip
                for pk, first, last in rows:
                    if (first, last) in names:
                        found[(first, last)].append(pk)
        return found

    # Matching -------------------------------------------------------------------------

    def match(self, candidates: Sequence[Candidate]) -> list[Match]:
        """The match of each candidate, in order: 4 queries at most, whatever the batch."""
        ids = {c.contact_id for c in candidates if c.contact_id}
        existing = self._existing_ids(ids) if ids else set()
        pairs = {(c.source, c.external_id) for c in candidates if c.source and c.external_id}
        pairs -= set(self._by_external)
        external = self._external(pairs) if pairs else {}
        emails = {e for c in candidates if not c.contact_id for e in c.email_keys}
        by_email = self._by_emails(emails) if emails else {}
        names = {
            (c.first_key, c.last_key)
            for c in candidates
            if not c.contact_id and not c.email_keys and c.first_key and c.last_key
        }
        by_name = self._by_names(names) if names else {}
        return [self._one(c, existing, external, by_email, by_name) for c in candidates]

    def _one(self, c: Candidate, existing, external, by_email, by_name) -> Match:
        if c.contact_id:
            if c.contact_id in existing:
                return self._found(c, c.contact_id, "id")
            return Match(NOT_FOUND, rule="id")
        pair = (c.source, c.external_id)
        if c.source and c.external_id:
            if pair in external:
                return self._found(c, external[pair], "external_id")
            person = self._by_external.get(pair)
            if person is not None:
                return self._same(c, person, "external_id")
        if c.email_keys:
            hits = sorted(
                {
                    pk
                    for email in c.email_keys
                    for pk, first, last in by_email.get(email, ())
                    if names_compatible(c.first_key, c.last_key, first, last)
                }
            )
            if len(hits) == 1:
                return self._found(c, hits[0], "email")
            if len(hits) > 1:
                return Match(AMBIGUOUS, candidates=hits, rule="email")
            people = {
                id(p): p
                for email in c.email_keys
                for p in self._by_email.get(email, ())
                if names_compatible(c.first_key, c.last_key, p.first, p.last)
            }
            if len(people) == 1:
                return self._same(c, next(iter(people.values())), "email")
            if len(people) > 1:
                ids = sorted(p.contact_id for p in people.values() if p.contact_id)
                return Match(AMBIGUOUS, candidates=ids, rule="email")
            return self._new(c)
        if c.first_key and c.last_key:
            hits = by_name.get((c.first_key, c.last_key), [])
            if len(hits) == 1:
                return self._found(c, hits[0], "name")
            if len(hits) > 1:
                return Match(AMBIGUOUS, candidates=list(hits), rule="name")
            person = self._by_name.get((c.first_key, c.last_key))
            if person is not None:
                return self._same(c, person, "name")
        return self._new(c)

    def _found(self, c: Candidate, contact_id: int, rule: str) -> Match:
        if c.source and c.external_id:
            # A later row with this external id but no email finds the same contact.
            self._by_external.setdefault(
                (c.source, c.external_id), _Person(c.key, c.first_key, c.last_key, contact_id)
            )
        return Match(MATCHED, contact_id=contact_id, rule=rule)

    def _same(self, c: Candidate, person: _Person, rule: str) -> Match:
        if person.contact_id is not None:
            return Match(MATCHED, contact_id=person.contact_id, rule=rule)
        # The new person learns the names and ids this row adds (« empty on one side »).
        person.first = person.first or c.first_key
        person.last = person.last or c.last_key
        self._remember(c, person)
        return Match(NEW, rule=rule, same_as=person.key)

    def _new(self, c: Candidate) -> Match:
        person = _Person(c.key, c.first_key, c.last_key)
        self._people[c.key] = person
        self._remember(c, person)
        return Match(NEW)

    def _remember(self, c: Candidate, person: _Person) -> None:
        for email in c.email_keys:
            if all(p is not person for p in self._by_email[email]):
                self._by_email[email].append(person)
        if not c.email_keys and c.first_key and c.last_key:
            self._by_name.setdefault((c.first_key, c.last_key), person)
        if c.source and c.external_id:
            self._by_external.setdefault((c.source, c.external_id), person)

    def forget(self) -> None:
        """Drop the memory of earlier batches once they are written: their people are in
        the database now, where the next batch finds them by the same rules (a run's
        memory stays one chunk deep, whatever the file's size)."""
        self._by_email.clear()
        self._by_name.clear()
        self._by_external.clear()
        self._people.clear()

    def created(self, contact_ids: dict[Any, int]) -> None:
        """The new people (by the key of their first candidate) now have these contacts."""
        for key, pk in contact_ids.items():
            person = self._people.get(key)
            if person is not None:
                person.contact_id = pk


def match_contacts(
    *, organization: Organization | int, candidates: Sequence[Candidate]
) -> list[Match]:
    """One batch, reconciled on its own (a connector's page of payers, an API call)."""
    return Reconciler(organization=organization).match(candidates)
