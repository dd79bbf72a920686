"""The check's plans, kept for the run of a contacts import.

The check reads, checks and reconciles every row; the run used to do all of it again
before writing. Now the check writes each chunk's plans — the clean rows, the match of
each, the values it will write — to a file beside the data directory, and the run
writes them as they are, when nothing they depend on changed in between:

- the import's settings, its custom fields' definitions and the association's labels
  are those the check saw (a fingerprint in the file's header);
- no contact of the association (nor structure, when the file has a « Structure »
  column) was created or changed since the check began, except by this run itself
  (an indexed query on `updated_at` before each chunk, inside the chunk's
  transaction);
- the run starts from its first chunk (a resumed import plans again).

When one of these fails, the run plans again from the rows kept in the file (no need
to read the upload again), exactly as it did before; without the file (another worker
machine, a deleted file), it reads the upload. Rows the check could only count — a
person met again in a later chunk, who will be a contact by the time that chunk is
written — are always planned again by the run.

The file is ours (written by the check on this server, never uploaded): pickle is
the fast way to keep model instances and rows as they are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import pickle
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection, models
from django.db.models import Q
from django.db.models.base import ModelState
from django.utils import timezone

from lien.contacts.models import Contact, Structure
from lien.imports.models import Import, ImportTarget, RowOutcome

FORMAT = 2  # 2: contacts rows carry their structure
# Writes by others can commit a little after the time they stamp: each chunk's look at
# what changed reaches back this far before the previous look.
MARGIN = dt.timedelta(seconds=30)


def directory() -> Path:
    """LIEN_IMPORT_PLANS_DIR, one folder per database (two deployments may share a disk)."""
    base = getattr(settings, "LIEN_IMPORT_PLANS_DIR", None) or Path(settings.VAR_DIR) / "plans"
    name = str(connection.settings_dict["NAME"])
    return Path(base) / hashlib.sha256(name.encode()).hexdigest()[:12]


def path_of(imp: Import) -> Path:
    return directory() / f"{imp.pk}.plans"


def supported(imp: Import) -> bool:
    return imp.target == ImportTarget.CONTACTS


def header_of(imp: Import) -> Path:
    return directory() / f"{imp.pk}.header"


def discard(imp: Import) -> None:
    """The saved plans are of no use any more (new check, run over, undone, purged)."""
    header_of(imp).unlink(missing_ok=True)
    path_of(imp).unlink(missing_ok=True)


def fingerprint(engine) -> str:
    """What the plans depend on besides the contacts themselves."""
    imp = engine.imp
    fields = sorted(
        (f.key, f.field_type, list(f.choices or []), bool(f.required))
        for f in engine.reader.custom_fields.values()
    )
    parts = [
        FORMAT, imp.target, imp.mapping, imp.transforms, imp.options, imp.headers, imp.source,
        imp.chunk_size, fields, sorted(engine.label_ids.items()), engine.option_labels,
        engine.group.pk if engine.group else None,
    ]  # fmt: skip
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class _Pickler(pickle.Pickler):
    """Model instances as their field values: Django's own pickling of a model (its
    state, version checks) costs more than the rest of a plan."""

    def reducer_override(self, obj):
        if isinstance(obj, models.Model):
            values = {k: v for k, v in obj.__dict__.items() if k != "_state"}
            return _model, (obj.__class__, values, obj._state.adding)
        return NotImplemented


def _model(cls, values: dict, adding: bool):
    obj = cls.__new__(cls)
    obj.__dict__.update(values)
    obj._state = ModelState()
    obj._state.adding, obj._state.db = adding, None if adding else "default"
    return obj


@dataclass
class SavedChunk:
    index: int
    plans: list  # engine.Plan, as the check made them
    read_errors: list[int]  # per row, how many of its errors came from reading it


class PlanWriter:
    """Written by the check, chunk after chunk, by a thread: pickling a chunk overlaps the
    check's waits on the database (its next chunk's reconciliation queries)."""

    def __init__(self, imp: Import, engine, since: dt.datetime) -> None:
        directory().mkdir(parents=True, exist_ok=True)
        self.path = path_of(imp)
        self.partial = self.path.with_suffix(".partial")
        self.handle: IO[bytes] = self.partial.open("wb")
        self.header = {"format": FORMAT, "import": imp.pk, "since": since,
                       "fingerprint": fingerprint(engine)}  # fmt: skip
        self._pending: queue.Queue = queue.Queue(maxsize=2)  # memory: two chunks at most
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._dump, daemon=True)
        self._thread.start()

    def _dump(self) -> None:
        while (chunk := self._pending.get()) is not None:
            if self._failure is None:
                try:
                    _Pickler(self.handle, pickle.HIGHEST_PROTOCOL).dump(chunk)
                except Exception as error:  # noqa: BLE001 - finish() drops the file
                    self._failure = error

    def write(self, index: int, plans: list, read_errors: list[int]) -> None:
        """Queue a chunk's plans; the check never changes them afterwards."""
        if self._failure is None:
            self._pending.put(SavedChunk(index, plans, read_errors))

    def _stop(self) -> None:
        self._pending.put(None)
        self._thread.join()
        self.handle.close()

    def finish(self, checked_at: dt.datetime, imp: Import) -> None:
        """Seal the plans with the check's time (a header beside them, written last): the
        run takes only the latest check's."""
        self._stop()
        if self._failure is not None:  # no plans kept: the run plans again, as without them
            self.partial.unlink(missing_ok=True)
            return
        self.partial.replace(self.path)
        with header_of(imp).open("wb") as header:
            pickle.dump({**self.header, "checked_at": checked_at}, header)

    def abandon(self) -> None:
        if self._thread.is_alive():
            self._stop()
        self.partial.unlink(missing_ok=True)


class PlanReader:
    """Read by the run: the saved plans of each chunk, still valid or planned again."""

    def __init__(self, handle: IO[bytes], header: dict) -> None:
        self.handle = handle
        self.since: dt.datetime = header["since"]
        self.valid = True
        self.looked_at = self.since
        self.stamps: list[dt.datetime] = []  # the `now` of each chunk this run wrote
        self.replanned = 0
        self._stop = threading.Event()
        self._loader: threading.Thread | None = None

    @classmethod
    def open(cls, imp: Import, engine) -> PlanReader | None:
        """The check's plans, if they are there, of the latest check and still fit."""
        if not supported(imp) or imp.chunks_done or imp.checked_at is None:
            return None
        try:
            with header_of(imp).open("rb") as header_file:
                header = pickle.load(header_file)
            handle = path_of(imp).open("rb")
        except FileNotFoundError:
            return None
        except Exception:  # a header cut short: plan as before
            return None
        if (
            header.get("format") != FORMAT
            or header.get("import") != imp.pk
            or header.get("checked_at") != imp.checked_at
        ):
            handle.close()
            return None
        reader = cls(handle, header)
        reader.valid = header.get("fingerprint") == fingerprint(engine)
        return reader

    def chunks(self) -> Iterator[SavedChunk]:
        """The saved chunks, each loaded by a thread while the run writes the one before:
        unpickling is a tenth of a run, and the database's work leaves the GIL free."""
        ahead: queue.Queue = queue.Queue(maxsize=1)
        self._loader = threading.Thread(target=self._load, args=(ahead,), daemon=True)
        self._loader.start()
        while True:
            item = ahead.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _load(self, ahead: queue.Queue) -> None:
        item: Any
        while not self._stop.is_set():
            try:
                item = pickle.load(self.handle)
            except EOFError:
                item = None
            except BaseException as error:  # noqa: BLE001 - raised by chunks()
                item = error
            while not self._stop.is_set():
                try:
                    ahead.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if item is None or isinstance(item, BaseException):
                return

    def close(self) -> None:
        self._stop.set()
        if self._loader is not None:
            self._loader.join()
        self.handle.close()

    def _untouched(self, organization_id: int, *, structures: bool = False) -> bool:
        """No contact (and, with `structures`, no structure) changed since the last look
        but by this run: the ranges of `updated_at` between this run's own stamps, read on
        the index."""
        look = timezone.now()
        start = self.looked_at - MARGIN
        points = sorted(s for s in self.stamps if s >= start)
        if _contacts_changed(organization_id, start, points):
            return False
        # A contacts file with a « Structure » column also depends on the structures
        # (no index on their `updated_at`: one pass over the association's structures).
        if (
            structures
            and Structure.objects.filter(organization_id=organization_id, updated_at__gte=start)
            .exclude(updated_at__in=points)
            .exists()
        ):  # fmt: skip
            return False
        self.looked_at = max(self.looked_at, look)
        return True

    def plan(self, engine, chunk: SavedChunk) -> list:
        """The chunk's plans: the check's, or planned again from its rows."""
        if self.valid and not self._untouched(
            engine.organization.pk, structures=engine.structure_header is not None
        ):
            self.valid = False
        if not self.valid:
            rows = [plan.row for plan in chunk.plans]
            for row, count in zip(rows, chunk.read_errors, strict=True):
                del row.errors[count:]  # the check's match errors: matched again now
            return engine.plan(rows)
        again = [i for i, plan in enumerate(chunk.plans) if plan.replan]
        plans = list(chunk.plans)
        if again:
            rows = [plans[i].row for i in again]
            for i, row in zip(again, rows, strict=True):
                del row.errors[chunk.read_errors[i] :]
            for i, plan in zip(again, engine.plan(rows), strict=True):
                plans[i] = plan
            self.replanned += len(again)
        for plan in plans:
            if plan.outcome != RowOutcome.ERROR and not plan.replan:
                for key, values in plan.row.new_choices.items():
                    engine.new_choices[key] |= values
        return plans

    def wrote(self, now: dt.datetime) -> None:
        self.stamps.append(now)


def _contacts_changed(
    organization_id: int, start: dt.datetime, points: list[dt.datetime]
) -> bool:
    """A contact whose `updated_at` is at or after `start` but none of `points` (this
    run's own stamps): the ranges between the points, each read on the index. On
    PostgreSQL, one statement planned once whatever the number of ranges (an OR of a
    hundred ranges, rebuilt and planned before each chunk, cost a second per 100,000
    rows); elsewhere, that OR."""
    if connection.vendor == "postgresql":
        # Half-open ranges (low, high): `start` itself is in (start − 1 µs, …).
        lows = [start - dt.timedelta(microseconds=1), *points]
        highs = [*points, dt.datetime.max.replace(tzinfo=dt.UTC)]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM unnest(%s::timestamptz[], %s::timestamptz[])"
                " AS r(low, high) WHERE EXISTS (SELECT 1 FROM contacts_contact c"
                " WHERE c.organization_id = %s AND c.updated_at > r.low"
                " AND c.updated_at < r.high))",
                [lows, highs, organization_id],
            )
            return cursor.fetchone()[0]
    ranges = Q(updated_at__gt=points[-1]) if points else Q(updated_at__gte=start)
    for low, high in zip([start, *points], points, strict=False):
        ranges |= (
            Q(updated_at__gte=low, updated_at__lt=high)
            if low == start
            else Q(updated_at__gt=low, updated_at__lt=high)
        )
    return Contact.objects.filter(ranges, organization_id=organization_id).exists()


def read_error_counts(rows: list[Any]) -> list[int]:
    return [len(row.errors) for row in rows]
