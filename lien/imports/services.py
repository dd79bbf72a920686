"""Imports: the operations the wizard, the API and tasks call (ARCHITECTURE « Work off the
request »).

The life of an import::

    create_import()        the file is stored, its format, encoding, delimiter, sheet and
                           header row detected, a mapping suggested
    configure_import()     mapping, transforms, options (or a saved template)
    start_check()          → check_import() in a task: every row read, checked and
                           reconciled, nothing written; counts and error rows kept
    start_run()            → run_import() in a task: chunks of `chunk_size` rows, each in
                           its own transaction; the import records the chunks committed
    resume: start_run()    on an interrupted import, continues at the next chunk
    undo_import()          « Annuler cet import » (or roll back an interrupted one):
                           deletes what it created, restores what it overwrote, removes
                           the labels and group memberships it added — refused, with
                           the blocking records named, when something else changed
                           them since

Every function takes the organisation explicitly; messages are French and meant
for the user as they are. Decisions are in docs/imports.md.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import pickle
import signal
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import get_valid_filename

from lien.contacts.models import (
    Contact,
    ContactLabel,
    ContactStructureLink,
    ExternalId,
    Group,
    GroupMembership,
    Label,
    LabelOrigin,
    Structure,
    StructureLabel,
)
from lien.contacts.normalize import normalize_name
from lien.contacts.services import _reprs
from lien.contacts.stats import refresh_contact_stats
from lien.core.audit import Actor
from lien.core.collector import few_collections
from lien.core.models import ActorKind, AuditEvent, Job, Membership, Organization
from lien.core.rights import can
from lien.imports import headers as header_rules
from lien.imports import plans as saved_plans
from lien.imports.engine import (
    RECORD_MODELS,
    Engine,
    Plan,
    _plain,
    fresh,
    import_actor,
    insert,
    normalize_contact,
    update,
)
from lien.imports.files import FileError, open_table
from lien.imports.models import (
    Import,
    ImportRow,
    ImportTarget,
    MappingTemplate,
    RowOutcome,
    UpdatePolicy,
)
from lien.imports.rows import CUSTOM_PREFIX, RowReader, error_text
from lien.interactions.models import Interaction
from lien.payments.models import MembershipPeriod, Payment

Progress = Callable[[int, int | None, str | None], None]
DEFAULT_CHUNK = 1000
PICKLE_PROTOCOL = pickle.HIGHEST_PROTOCOL
PIPE_BYTES = 8 << 20  # reading beside: what the pipe may hold (a few chunks)
# The data type whose « add » and « change » rights an import of each target needs.
TARGET_DATA_TYPES = {
    ImportTarget.CONTACTS: "contacts",
    ImportTarget.STRUCTURES: "structures",
    ImportTarget.INTERACTIONS: "interactions",
    ImportTarget.PAYMENTS: "payments",
}
EDITABLE = {Import.Status.UPLOADED, Import.Status.CHECKED, Import.Status.FAILED}
UNDOABLE = {Import.Status.DONE, Import.Status.INTERRUPTED, Import.Status.FAILED}
SPREADSHEETS = {"xlsx", "xlsb", "xls", "ods"}


def retention_days() -> int:
    """Days an uploaded file is kept (LIEN_IMPORT_RETENTION_DAYS, 30 by default)."""
    value = getattr(settings, "LIEN_IMPORT_RETENTION_DAYS", None)
    return int(value if value is not None else os.environ.get("LIEN_IMPORT_RETENTION_DAYS", 30))


def stall_minutes() -> int:
    """A running import silent this long (no chunk committed) is interrupted: its worker is
    gone (LIEN_IMPORT_STALL_MINUTES, 15 by default: a chunk takes seconds)."""
    value = getattr(settings, "LIEN_IMPORT_STALL_MINUTES", None)
    return int(value if value is not None else os.environ.get("LIEN_IMPORT_STALL_MINUTES", 15))


def may_import(membership: Membership | None, target: str) -> bool:
    """The « imports » right, plus adding and changing the target's data type."""
    data_type = TARGET_DATA_TYPES.get(target)
    return (
        data_type is not None
        and can(membership, "add", "imports")
        and can(membership, "add", data_type)
        and can(membership, "change", data_type)
    )


def _user(actor_or_user: Any):
    user = getattr(actor_or_user, "user", actor_or_user)
    return user if getattr(user, "pk", None) else None


# Files ---------------------------------------------------------------------------------


@contextlib.contextmanager
def local_path(name: str) -> Iterator[str]:
    """A path to read a stored file from: the file itself on a disk storage, a temporary
    copy on object storage (S3)."""
    try:
        path = default_storage.path(name)
    except NotImplementedError:  # remote storages have no local path: Django's contract
        path = None
    if path is not None:
        yield path
        return
    with default_storage.open(name, "rb") as source, tempfile.NamedTemporaryFile() as copy:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            copy.write(chunk)
        copy.flush()
        yield copy.name


@contextlib.contextmanager
def opened(imp: Import) -> Iterator[Any]:
    """The import's file as a Table, with the settings detected or chosen."""
    if not imp.file_name:
        raise ValidationError(
            "Le fichier de cet import a été supprimé après "
            f"{retention_days()} jours : déposez-le à nouveau."
        )
    with local_path(imp.file_name) as path:
        try:
            table = open_table(
                path,
                filename=imp.original_name,
                encoding=imp.encoding or None,
                delimiter=imp.delimiter or None,
                sheet=imp.sheet or None,
                header_row=imp.header_row,
            )
        except FileError as error:
            raise ValidationError(error.message) from None
        try:
            yield table
        finally:
            table.close()


REJECTED_SUFFIX = "-rejets"


def source_of(name: str) -> str:
    """The external ids' source of a file imported without a template: « import:<name> ».
    A rejected-rows file, corrected and imported again, keeps its original's source, so
    its id column meets the same records."""
    path = Path(name)
    stem = path.stem.removesuffix(REJECTED_SUFFIX)
    return f"import:{stem}{path.suffix}"[:50]


def headers_signature(headers: list[str]) -> str:
    """The same headers (accents, case, punctuation aside) give the same signature."""
    text = "\x1f".join(header_rules.normalize_header(h) for h in headers)
    return hashlib.sha256(text.encode()).hexdigest()[:64]


def _describe(imp: Import, table) -> None:
    info = table.info
    imp.file_format = info.kind
    imp.encoding = info.encoding or ""
    imp.delimiter = info.delimiter or ""
    imp.sheet = info.sheet or ""
    imp.header_row = info.header_row
    imp.headers = [str(h) for h in table.headers]


def _custom_definitions(organization: Organization, target: str):
    from lien.contacts.custom_fields import definitions
    from lien.imports.rows import CUSTOM_TARGETS

    custom_target = CUSTOM_TARGETS.get(target)
    return definitions(organization=organization, target=custom_target) if custom_target else []


def suggested_mapping(imp: Import) -> dict[str, str]:
    """The mapping suggested from the headers: {"<column>": "<field key>"}."""
    suggestion = header_rules.suggest(
        list(imp.headers), imp.target, _custom_definitions(imp.organization, imp.target)
    )
    return {str(column): key for column, key in suggestion.items()}


def matching_templates(
    *, organization: Organization, target: str, headers: list[str]
) -> QuerySet[MappingTemplate]:
    """Saved templates made from a file with the same headers: offered to the user."""
    return MappingTemplate.objects.for_org(organization).filter(
        target=target, headers_signature=headers_signature(headers)
    )


@transaction.atomic
def create_import(
    *,
    organization: Organization,
    actor: Actor,
    target: str,
    file: File,
    original_name: str | None = None,
) -> Import:
    """Store an uploaded file and read what it is: format, encoding, delimiter, sheet,
    header row, headers; the mapping starts as the suggested one (or the template whose
    headers match, when there is exactly one)."""
    if target not in ImportTarget.values:
        raise ValidationError({"target": f"Type de données inconnu : « {target} »."})
    name = original_name or Path(getattr(file, "name", "") or "fichier").name
    size = getattr(file, "size", None)
    from lien.imports.files import format_mo, max_bytes

    if size is not None and size > max_bytes():
        raise ValidationError(
            {"file": f"Le fichier « {name} » pèse {format_mo(size)} : "
             f"la limite est de {format_mo(max_bytes())}."}
        )  # fmt: skip
    stored = default_storage.save(
        f"imports/{organization.pk}/{uuid.uuid4().hex}-{get_valid_filename(name)[-120:]}", file
    )
    imp = Import(
        organization=organization,
        target=target,
        file_name=stored,
        original_name=name[:255],
        size_bytes=default_storage.size(stored),
        created_by=_user(actor),
        chunk_size=DEFAULT_CHUNK,
    )
    try:
        with opened(imp) as table:
            _describe(imp, table)
    except ValidationError as error:
        default_storage.delete(stored)
        raise ValidationError({"file": error.messages}) from None
    imp.source = source_of(name)
    templates = list(
        matching_templates(organization=organization, target=target, headers=imp.headers)[:2]
    )
    if len(templates) == 1:
        _use_template(imp, templates[0])
    else:
        imp.mapping = suggested_mapping(imp)
        imp.options = {"update_policy": UpdatePolicy.FILL}
    imp.save()
    return imp


def preview(imp: Import, rows: int = 10) -> dict[str, Any]:
    """What the wizard shows after the upload: detected settings, headers, first rows."""
    with opened(imp) as table:
        first = table.preview(rows)
        return {
            "info": table.info.as_dict(),
            "headers": list(table.headers),
            "rows": [{"row": row.number, "cells": [str(c) for c in row.cells]} for row in first],
        }


def _editable(imp: Import) -> None:
    if imp.status not in EDITABLE or imp.chunks_done:
        raise ValidationError(
            f"L'import est « {imp.get_status_display().lower()} » : il ne peut plus être modifié."
        )


@transaction.atomic
def reopen_file(
    *,
    organization: Organization,
    imp: Import,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
) -> Import:
    """Read the file again with the settings the user chose (a detection can be wrong)."""
    _editable(imp)
    changed = {
        "encoding": encoding, "delimiter": delimiter, "sheet": sheet, "header_row": header_row,
    }  # fmt: skip
    for name, value in changed.items():
        if value is not None:
            setattr(imp, name, value)
    old_headers = list(imp.headers)
    with opened(imp) as table:
        _describe(imp, table)
    if imp.headers != old_headers:
        imp.mapping = suggested_mapping(imp)
    _reset_check(imp)
    imp.save()
    return imp


def _reset_check(imp: Import) -> None:
    saved_plans.discard(imp)
    imp.status = Import.Status.UPLOADED
    imp.check_summary = {}
    imp.checked_at = None
    ImportRow.objects.filter(import_run=imp, is_check=True).delete()


def _clean_options(organization: Organization, options: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    policy = options.get("update_policy") or UpdatePolicy.FILL
    if policy not in UpdatePolicy.values:
        errors["update_policy"] = [f"Règle de mise à jour inconnue : « {policy} »."]
    labels = [int(pk) for pk in options.get("labels") or [] if is_id(pk)]
    if len(labels) != len(options.get("labels") or []):
        errors["labels"] = ["Les étiquettes se donnent par leur identifiant."]
    found = set(
        Label.objects.for_org(organization).filter(pk__in=labels).values_list("pk", flat=True)
    )
    if set(labels) - found:
        errors.setdefault("labels", []).append("Étiquette inconnue dans votre association.")
    group = options.get("group")
    if group not in (None, ""):
        if (
            not is_id(group)
            or not Group.objects.for_org(organization).filter(pk=int(group)).exists()
        ):
            errors["group"] = ["Groupe inconnu dans votre association."]
        group = int(group) if is_id(group) else None
    if errors:
        raise ValidationError(errors)
    return {
        "update_policy": policy,
        "labels": sorted(set(labels)),
        "group": group or None,
        "skip_errors": bool(options.get("skip_errors")),
    }


def is_id(value: Any) -> bool:
    """A whole number as an id or a column number is written: ASCII digits that fit a
    bigint (« 4³ » is a digit string to str.isdigit, and int() refuses it)."""
    text = str(value)
    return text.isascii() and text.isdigit() and len(text) < 19


def _clean_mapping(imp: Import, mapping: dict[str, Any], transforms: dict[str, Any]) -> dict:
    width = len(imp.headers)
    cleaned: dict[str, str] = {}
    errors = []
    for column, key in (mapping or {}).items():
        if not is_id(column) or int(column) >= max(width, 1):
            errors.append(f"Colonne inconnue : « {column} ».")
            continue
        if key:
            cleaned[str(int(column))] = str(key)
    reader = RowReader(
        organization=imp.organization, target=imp.target, mapping=cleaned,
        transforms=transforms, headers=imp.headers,
    )  # fmt: skip
    errors += reader.mapping_errors()
    date_format = (transforms or {}).get("date_format") or ""
    if date_format and "%" not in date_format:
        errors.append(f"Format de date incompris : « {date_format} » (ex. %d/%m/%Y).")
    if errors:
        raise ValidationError({"mapping": errors})
    return cleaned


def _use_template(imp: Import, template: MappingTemplate) -> None:
    imp.template = template
    imp.mapping = {k: v for k, v in template.mapping.items() if int(k) < len(imp.headers)}
    imp.transforms = dict(template.transforms)
    imp.options = {"update_policy": UpdatePolicy.FILL, **template.options}
    imp.source = f"import:{template.name}"[:50]


@transaction.atomic
def configure_import(
    *,
    organization: Organization,
    imp: Import,
    mapping: dict[str, Any] | None = None,
    transforms: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    template: MappingTemplate | None = None,
) -> Import:
    """Set the mapping, transforms and options, or apply a saved template (then the given
    values on top). Any change asks for a new check."""
    _editable(imp)
    if template is not None:
        if template.organization_id != organization.pk or template.target != imp.target:
            raise ValidationError({"template": "Modèle inconnu pour ce type d'import."})
        _use_template(imp, template)
    if transforms is not None:
        imp.transforms = {
            "date_format": str(transforms.get("date_format") or ""),
            "decimal_comma": bool(transforms.get("decimal_comma")),
            "create_missing_choices": bool(transforms.get("create_missing_choices")),
            "choices": {
                str(k): {str(a): str(b) for a, b in (v or {}).items()}
                for k, v in (transforms.get("choices") or {}).items()
            },
            **({"payment_kind": transforms["payment_kind"]} if transforms.get("payment_kind")
               else {}),
        }  # fmt: skip
    if mapping is not None:
        imp.mapping = mapping
    imp.mapping = _clean_mapping(imp, imp.mapping, imp.transforms)
    if options is not None:
        imp.options = _clean_options(organization, {**imp.options, **options})
    else:
        imp.options = _clean_options(organization, imp.options)
    _reset_check(imp)
    imp.updated_at = timezone.now()
    imp.save()
    return imp


@transaction.atomic
def save_template(
    *,
    organization: Organization,
    actor: Actor,
    name: str,
    target: str,
    headers: list[str],
    mapping: dict[str, Any],
    transforms: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    template: MappingTemplate | None = None,
) -> MappingTemplate:
    """Save a mapping to reuse: a file with the same headers will be offered it."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Le nom du modèle est obligatoire."})
    if target not in ImportTarget.values:
        raise ValidationError({"target": f"Type de données inconnu : « {target} »."})
    others = MappingTemplate.objects.for_org(organization).filter(target=target, name__iexact=name)
    if template is not None:
        others = others.exclude(pk=template.pk)
    if others.exists():
        raise ValidationError({"name": f"Le modèle « {name} » existe déjà."})
    probe = Import(organization=organization, target=target, headers=list(headers))
    cleaned = _clean_mapping(probe, mapping, transforms or {})
    template = template or MappingTemplate(organization=organization, created_by=_user(actor))
    template.name, template.target = name[:150], target
    template.headers = [str(h) for h in headers]
    template.headers_signature = headers_signature(template.headers)
    template.mapping, template.transforms = cleaned, dict(transforms or {})
    template.options = _clean_options(organization, options or {})
    template.updated_at = timezone.now()
    template.save()
    return template


def delete_template(*, organization: Organization, template: MappingTemplate) -> None:
    MappingTemplate.objects.for_org(organization).filter(pk=template.pk).delete()


# Check and run -------------------------------------------------------------------------


def _chunks(imp: Import, table) -> Iterator[tuple[int, list[tuple[int, list[Any], list]]]]:
    """(chunk index, [(row number, cells, issues)]) over the file's data rows."""
    size = imp.chunk_size or DEFAULT_CHUNK
    chunk: list[tuple[int, list[Any], list]] = []
    index = 0
    for row in table.rows():
        chunk.append((row.number, row.cells, list(getattr(row, "errors", []))))
        if len(chunk) >= size:
            yield index, chunk
            index += 1
            chunk = []
    if chunk:
        yield index, chunk


def _read(engine: Engine, chunk) -> list:
    rows = []
    for number, cells, issues in chunk:
        row = engine.reader.read(number, cells)
        for issue in issues:
            column = imp_header(engine, issue.column)
            row.error(column, "", issue.message.split(" : ", 1)[-1])
        rows.append(row)
    return rows


def read_chunks(imp: Import, engine: Engine) -> Iterator[tuple[int, list]]:
    """(chunk index, clean rows) over the file: read and checked in this process, or, for
    a file of LIEN_IMPORT_READ_BESIDE_BYTES or more, in a second process beside it."""
    threshold = getattr(settings, "LIEN_IMPORT_READ_BESIDE_BYTES", 1 << 20)
    if hasattr(os, "fork") and threshold is not None and imp.size_bytes >= threshold:
        yield from _read_beside(imp, engine)
        return
    with opened(imp) as table:
        engine.reader.text_cells = table.info.kind == "csv"
        for index, chunk in _chunks(imp, table):
            yield index, _read(engine, chunk)


@dataclass
class _ReadFailed:
    message: str
    user_error: bool


def _widen_pipe(fd: int) -> None:
    """Linux: a pipe that holds a few chunks (the default holds 64 KiB, a tenth of one).
    With the default, the child waited for this process to take every byte of a chunk
    before reading the next, so reading and planning took turns instead of overlapping
    (100,000 rows: the check waited 6 s for the child; 2 s with this)."""
    try:
        import fcntl

        setting = fcntl.F_SETPIPE_SZ
    except (ImportError, AttributeError):  # not Linux
        return
    for size in (PIPE_BYTES, 1 << 20):  # above /proc/sys/fs/pipe-max-size: root only
        try:
            fcntl.fcntl(fd, setting, size)
            return
        except OSError:
            continue


def _read_beside(imp: Import, engine: Engine) -> Iterator[tuple[int, list]]:
    """Reading and checking the cells is most of a check's work and needs nothing from the
    database (the engine's reader holds the fields, choices and names, loaded before):
    a forked child does it on the second core while this process reconciles and plans,
    and sends each chunk's clean rows through a pipe (pickle: both ends are this code).
    The pipe holds a few chunks (8 MiB): the child never runs far ahead. The child never uses
    the database connection it inherits and leaves by os._exit (no clean-up that would
    close it under the parent)."""
    readable, writable = os.pipe()
    _widen_pipe(writable)
    pid = os.fork()
    if pid == 0:  # the child
        status = 0
        try:
            # The worker's own signal handlers (a graceful stop) are not the child's.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.close(readable)
            with os.fdopen(writable, "wb", buffering=1 << 16) as out:
                try:
                    with opened(imp) as table:
                        engine.reader.text_cells = table.info.kind == "csv"
                        for index, chunk in _chunks(imp, table):
                            pickle.dump((index, _read(engine, chunk)), out, PICKLE_PROTOCOL)
                    pickle.dump(None, out, PICKLE_PROTOCOL)
                except BrokenPipeError:
                    status = 1  # the parent stopped reading: nothing to say
                except BaseException as error:  # noqa: BLE001 - said to the parent
                    user_error = isinstance(error, ValidationError)
                    message = error.messages[0] if user_error else repr(error)
                    pickle.dump(_ReadFailed(message, user_error), out, PICKLE_PROTOCOL)
        except BaseException:  # noqa: BLE001 - a child never returns into the caller
            status = 1
        finally:
            os._exit(status)
    os.close(writable)
    try:
        with os.fdopen(readable, "rb", buffering=1 << 16) as source:
            while True:
                try:
                    item = pickle.load(source)
                except EOFError:
                    raise RuntimeError("La lecture du fichier s'est arrêtée net.") from None
                if item is None:
                    return
                if isinstance(item, _ReadFailed):
                    if item.user_error:
                        raise ValidationError(item.message)
                    raise RuntimeError(f"Lecture du fichier : {item.message}")
                yield item
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)


def imp_header(engine: Engine, column: int | None) -> str:
    if column is None:
        return ""
    headers = engine.imp.headers
    return headers[column] if column < len(headers) else f"Colonne {column + 1}"


def _counts(plans: list[Plan]) -> dict[str, int]:
    counts = defaultdict(int)
    for plan in plans:
        counts[plan.outcome] += 1
    return counts


@few_collections()
def check_import(*, imp: Import, progress: Progress | None = None) -> dict[str, Any]:
    """The dry run: every row read, checked and reconciled; nothing of the organisation's
    data is written. Keeps the counts and the error rows (for the errors table)."""
    organization = imp.organization
    if imp.status not in EDITABLE | {Import.Status.CHECKING} or imp.chunks_done:
        raise ValidationError("Cet import a déjà été lancé : sa vérification est faite.")
    Import.objects.filter(pk=imp.pk).update(status=Import.Status.CHECKING)
    ImportRow.objects.filter(import_run=imp, is_check=True).delete()
    engine = Engine(imp=imp, actor=import_actor(imp), dry_run=True)
    error_row = ImportRow(organization=organization, import_run=imp,
                          outcome=RowOutcome.ERROR, is_check=True)  # fmt: skip
    totals: dict[str, int] = defaultdict(int)
    done = 0
    saved_plans.discard(imp)
    writer = (
        saved_plans.PlanWriter(imp, engine, since=timezone.now())
        if saved_plans.supported(imp)
        else None
    )
    try:
        with contextlib.closing(read_chunks(imp, engine)) as chunks:
            for index, rows in chunks:
                read_errors = saved_plans.read_error_counts(rows)
                plans = engine.plan(rows)
                if writer is not None:
                    writer.write(index, plans, read_errors)
                for outcome, count in _counts(plans).items():
                    totals[outcome] += count
                # `fresh` copies of one template: ImportRow() per error row (its foreign
                # keys set through their descriptors) was 2.5 s of a profiled 100,000-row check.
                insert(
                    ImportRow,
                    [
                        fresh(error_row, row_number=p.row.number, errors=p.row.errors,
                              cells=p.row.cells)
                        for p in plans
                        if p.outcome == RowOutcome.ERROR
                    ],
                )  # fmt: skip
                done += len(rows)
                # A long check is alive, not stalled (see mark_stalled).
                Import.objects.filter(pk=imp.pk).update(heartbeat_at=timezone.now())
                if progress:
                    progress(done, None, f"{done:,} lignes vérifiées…".replace(",", "\u202f"))
    except BaseException:
        if writer is not None:
            writer.abandon()
        Import.objects.filter(pk=imp.pk).update(status=Import.Status.UPLOADED)
        raise
    summary = {
        "rows": done,
        "create": totals[RowOutcome.CREATED],
        "update": totals[RowOutcome.UPDATED],
        "unchanged": totals[RowOutcome.UNCHANGED],
        "error": totals[RowOutcome.ERROR],
    }
    summary["message"] = summary_text(summary)
    imp.status = Import.Status.CHECKED
    imp.check_summary = summary
    imp.total_rows = done
    imp.checked_at = timezone.now()
    if writer is not None:
        writer.finish(imp.checked_at, imp)
    imp.save(update_fields=["status", "check_summary", "total_rows", "checked_at"])
    return summary


def _n(count: int) -> str:
    return f"{count:,}".replace(",", "\u202f")


def summary_text(summary: dict[str, int]) -> str:
    """« 120 à créer, 30 à mettre à jour, 4 inchangés, 2 en erreur »."""
    return (
        f"{_n(summary['create'])} à créer, {_n(summary['update'])} à mettre à jour, "
        f"{_n(summary['unchanged'])} inchangé{'s' if summary['unchanged'] > 1 else ''}, "
        f"{_n(summary['error'])} en erreur"
    )


def _ready_to_run(imp: Import, *, queued: bool = False) -> None:
    if imp.status in (Import.Status.INTERRUPTED, Import.Status.FAILED) and imp.chunks_done:
        return  # a resume
    if queued and imp.status == Import.Status.RUNNING:
        return  # start_run() checked it and queued this run
    if imp.status != Import.Status.CHECKED:
        raise ValidationError("Vérifiez le fichier avant de lancer l'import.")
    errors = imp.check_summary.get("error", 0)
    if errors and not imp.options.get("skip_errors"):
        raise ValidationError(
            f"{_n(errors)} ligne{'s' if errors > 1 else ''} en erreur : corrigez le fichier, "
            "ou choisissez d'ignorer les lignes en erreur."
        )


@few_collections()
def run_import(
    *,
    imp: Import,
    user=None,
    progress: Progress | None = None,
    fail_after_rows: int | None = None,
) -> dict[str, Any]:
    """Write the file's rows, chunk by chunk, each chunk in one transaction.

    Starts at chunk `chunks_done` (0, or where an interrupted run stopped). Any error
    leaves the committed chunks and the status « interrompu »: resume or undo.
    `fail_after_rows` is for tests: it raises inside the chunk holding that row, after
    its writes, to simulate a worker killed in the middle of a transaction.
    """
    _ready_to_run(imp, queued=True)
    imp.refresh_from_db()
    now = timezone.now()
    if not imp.chunks_done:
        ImportRow.objects.filter(import_run=imp).delete()
        imp.started_at = now
    imp.status = Import.Status.RUNNING
    imp.heartbeat_at = now
    imp.message = ""
    imp.save(update_fields=["status", "heartbeat_at", "started_at", "message"])
    engine = Engine(imp=imp, actor=import_actor(imp, user), dry_run=False)
    done = imp.rows_done
    try:
        with contextlib.ExitStack() as stack:
            saved = saved_plans.PlanReader.open(imp, engine)
            if saved is not None:  # the check's plans (see lien/imports/plans.py)
                stack.callback(saved.close)
                chunks: Iterator = ((c.index, c) for c in saved.chunks())
            else:
                chunks = stack.enter_context(contextlib.closing(read_chunks(imp, engine)))
            for index, chunk in chunks:
                if index < imp.chunks_done:
                    continue
                with transaction.atomic():
                    _commit_without_waiting()
                    plans = saved.plan(engine, chunk) if saved else engine.plan(chunk)
                    if not imp.options.get("skip_errors"):
                        # Rows in error since the check (a contact changed…): never half a file.
                        late = [p for p in plans if p.outcome == RowOutcome.ERROR]
                        if late:
                            raise ValidationError(
                                "Des lignes sont en erreur depuis la vérification : "
                                + error_text(late[0].row.number, late[0].row.errors[0])
                            )
                    engine.write(plans)
                    if saved is not None:
                        saved.wrote(engine.now)
                    if fail_after_rows is not None and plans[-1].row.number >= fail_after_rows:
                        raise RuntimeError("Interruption simulée.")
                    counts = _counts(plans)
                    done += len(plans)
                    Import.objects.filter(pk=imp.pk).update(
                        created_count=imp.created_count + counts[RowOutcome.CREATED],
                        updated_count=imp.updated_count + counts[RowOutcome.UPDATED],
                        unchanged_count=imp.unchanged_count + counts[RowOutcome.UNCHANGED],
                        error_count=imp.error_count + counts[RowOutcome.ERROR],
                        chunks_done=index + 1,
                        rows_done=done,
                        heartbeat_at=timezone.now(),
                    )
                    imp.refresh_from_db()
                if progress:
                    progress(done, imp.total_rows or None,
                             f"{_n(done)} lignes importées…")  # fmt: skip
    except Exception as error:
        message = error.messages[0] if isinstance(error, ValidationError) else str(error)
        status = Import.Status.INTERRUPTED if imp.chunks_done else Import.Status.FAILED
        Import.objects.filter(pk=imp.pk).update(
            status=status,
            message=f"Import arrêté après {_n(imp.rows_done)} lignes : {message}"[:500],
        )
        raise
    saved_plans.discard(imp)
    imp.status = Import.Status.DONE
    imp.finished_at = timezone.now()
    imp.message = result_text(imp)
    imp.save(update_fields=["status", "finished_at", "message"])
    # How the rows were planned: the check's plans all along, or planned again.
    plans_used = "check" if saved is not None and saved.valid else "again"
    return {"message": imp.message, **imp.counters, "plans": plans_used}


def _commit_without_waiting() -> None:
    """PostgreSQL: this chunk's COMMIT does not wait for its WAL flush. A crash may then
    lose the last chunks committed, never part of one: the chunk and the import's
    progress are in the same transaction, so the import resumes at the first chunk
    lost; and the final « terminé », committed normally, flushes every chunk before it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def result_text(imp: Import) -> str:
    return (
        f"{_n(imp.created_count)} créé(s), {_n(imp.updated_count)} mis à jour, "
        f"{_n(imp.unchanged_count)} inchangé(s), {_n(imp.error_count)} en erreur."
    )


@transaction.atomic  # the task is queued at commit, after the status below
def start_check(*, organization: Organization, actor: Actor, imp: Import) -> Job:
    """Queue the check (a task: a big file takes a while)."""
    from lien.core.jobs import start_job
    from lien.imports.tasks import check_import_task

    if imp.status not in EDITABLE or imp.chunks_done:
        raise ValidationError("Cet import a déjà été lancé : sa vérification est faite.")
    job = start_job(
        organization=organization, kind="import_check", label=f"Vérification de {imp}",
        task=check_import_task, created_by=_user(actor), import_id=imp.pk,
    )  # fmt: skip
    Import.objects.filter(pk=imp.pk).update(
        job=job, status=Import.Status.CHECKING, heartbeat_at=timezone.now()
    )
    imp.job, imp.status = job, Import.Status.CHECKING
    return job


@transaction.atomic  # the task is queued at commit, after the status below
def start_run(*, organization: Organization, actor: Actor, imp: Import) -> Job:
    """Queue the run, or the resume of an interrupted import."""
    from lien.core.jobs import start_job
    from lien.imports.tasks import run_import_task

    _ready_to_run(imp)
    job = start_job(
        organization=organization, kind="import_run", label=f"{imp}",
        task=run_import_task, created_by=_user(actor), import_id=imp.pk,
    )  # fmt: skip
    Import.objects.filter(pk=imp.pk).update(
        job=job, status=Import.Status.RUNNING, heartbeat_at=timezone.now()
    )
    imp.job, imp.status = job, Import.Status.RUNNING
    return job


def mark_stalled(*, organization: Organization | None = None, now=None) -> int:
    """Running imports whose worker is gone (no chunk for `stall_minutes()`) are
    interrupted: the user may resume them or roll them back."""
    limit = (now or timezone.now()) - timezone.timedelta(minutes=stall_minutes())
    running = Import.objects.filter(
        status__in=[Import.Status.RUNNING, Import.Status.CHECKING], heartbeat_at__lt=limit
    )
    if organization is not None:
        running = running.for_org(organization)
    interrupted = running.filter(status=Import.Status.RUNNING).update(
        status=Import.Status.INTERRUPTED,
        message="L'import s'est arrêté (le traitement en arrière-plan ne répond plus) : "
        "reprenez-le ou annulez-le.",
    )
    running.filter(status=Import.Status.CHECKING).update(status=Import.Status.UPLOADED)
    return interrupted


# Undo ----------------------------------------------------------------------------------


@dataclass
class _Touched:
    rows: list[ImportRow]
    created: dict[type, set[int]]  # model → ids created
    updated: dict[type, set[int]]  # model → ids updated (not created)


def _touched(imp: Import) -> _Touched:
    rows = list(
        ImportRow.objects.for_org(imp.organization_id)
        .filter(import_run=imp, is_check=False, object_id__isnull=False)
        .exclude(outcome__in=[RowOutcome.ERROR, RowOutcome.SKIPPED])
        .order_by("row_number")
    )
    model = RECORD_MODELS[imp.target]
    created: dict[type, set[int]] = defaultdict(set)
    updated: dict[type, set[int]] = defaultdict(set)
    for row in rows:
        if row.outcome == RowOutcome.CREATED:
            created[model].add(row.object_id)
        elif row.before or row.added:
            updated[model].add(row.object_id)
        created[Contact].update(row.added.get("contacts", []))
        created[Structure].update(row.added.get("structures", []))
    updated[model] -= created[model]
    return _Touched(rows, created, updated)


def _batches(ids: list[int], size: int = 5000):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def undo_blockers(
    *, organization: Organization, imp: Import, touched: _Touched | None = None
) -> list[str]:
    """The records changed by someone else since the import (they block its undo)."""
    touched = touched or _touched(imp)
    since = imp.started_at or imp.created_at
    # This import's own rows, and those of later imports already undone (an import and
    # its undo cancel out: undoing the latest first leaves the earlier one undoable).
    undone = Import.objects.for_org(organization).filter(
        status=Import.Status.UNDONE, started_at__gte=since
    )
    labels = [import_actor(imp).label]
    for pk in undone.values_list("pk", flat=True):
        labels += [f"Import n°{pk}", f"Annulation de l'import n°{pk}"]
    own = Q(actor_kind=ActorKind.IMPORT, actor_label__in=labels)
    automatic = Q(actor_kind=ActorKind.RULE)
    blockers: list[str] = []
    for model in {*touched.created, *touched.updated}:
        ids = touched.created.get(model, set()) | touched.updated.get(model, set())
        content_type = ContentType.objects.get_for_model(model)
        seen: set[int] = set()
        for part in _batches(sorted(ids)):
            events = (
                AuditEvent.objects.for_org(organization)
                .filter(target_type=content_type, target_id__in=part, created_at__gte=since)
                .exclude(own | automatic)
                .select_related("actor_user")
                .order_by("target_id", "created_at")
            )
            for event in events[:200]:
                if event.target_id in seen or len(seen) >= 200:
                    continue
                seen.add(event.target_id)
                blockers.append(
                    f"{model._meta.verbose_name.capitalize()} « {event.target_repr} » (n°"
                    f"{event.target_id}) : {event.get_action_display().lower()} le "
                    f"{timezone.localtime(event.created_at):%d/%m/%Y à %H:%M} par "
                    f"{event.actor_display}."
                )
    blockers += _structure_link_blockers(organization, touched)
    contacts = sorted(touched.created.get(Contact, set()))
    if contacts:
        payment_ct = ContentType.objects.get_for_model(Payment)
        # The payments this import created, as a subquery (no list of ids to send).
        mine = (
            ImportRow.objects.filter(
                import_run=imp, is_check=False, outcome=RowOutcome.CREATED
            ).values("object_id")
            if imp.target == ImportTarget.PAYMENTS
            else Payment.objects.none().values("pk")
        )
        for part in _batches(contacts):
            # No LIMIT in the SQL: with one, PostgreSQL hopes to meet 50 rows early and
            # scans every payment of the association (≈ 1 s a batch at 2,000,000 payments)
            # when, as usual, there are none; without, two index scans.
            others = list(
                Payment.objects.for_org(organization)
                .filter(Q(payer_contact_id__in=part) | Q(beneficiary_id__in=part))
                .exclude(pk__in=mine)
                .values_list("pk", "payer_contact_id")
            )
            for pk, contact_id in others[:50]:
                blockers.append(
                    f"Le paiement n°{pk} a été ajouté depuis au contact n°{contact_id}."
                )
            interactions = (
                Interaction.objects.for_org(organization)
                .filter(contact_id__in=part)
                .exclude(source_type=ContentType.objects.get_for_model(Import), source_id=imp.pk)
                .exclude(source_type=payment_ct, source_id__in=mine)
                .values_list("pk", "contact_id")[:50]
            )
            for pk, contact_id in interactions:
                blockers.append(
                    f"L'interaction n°{pk} a été ajoutée depuis au contact n°{contact_id}."
                )
    return blockers


def _structure_links_made(touched: _Touched) -> set[tuple[int, int]]:
    """The (contact, structure) links a contacts import made."""
    return {(row.object_id, row.added["structure"]) for row in touched.rows
            if row.added.get("structure")}  # fmt: skip


def _structure_link_blockers(organization: Organization, touched: _Touched) -> list[str]:
    """A structure the import created that someone has since linked another contact to
    (its deletion would take that link away)."""
    created = sorted(touched.created.get(Structure, set()))
    if not created:
        return []
    made = _structure_links_made(touched)
    blockers: list[str] = []
    for part in _batches(created):
        links = (
            ContactStructureLink.objects.for_org(organization)
            .filter(structure_id__in=part)
            .values_list("contact_id", "structure_id", "structure__name")
            .order_by("structure_id", "contact_id")
        )
        for contact_id, structure_id, name in links:
            if (contact_id, structure_id) not in made and len(blockers) < 50:
                blockers.append(
                    f"La structure « {name} » (n°{structure_id}) a été liée depuis au "
                    f"contact n°{contact_id}."
                )
    return blockers


@transaction.atomic
@few_collections()
def undo_import(*, organization: Organization, actor: Actor, imp: Import) -> dict[str, int]:
    """« Annuler cet import » (or roll back an interrupted one): what it created goes,
    what it overwrote comes back, the labels and group memberships it added go; refused
    (ValidationError listing the blocking records) when anything else changed them."""
    imp = Import.objects.for_org(organization).select_for_update().get(pk=imp.pk)
    if imp.status not in UNDOABLE or not imp.chunks_done:
        raise ValidationError(
            f"Un import « {imp.get_status_display().lower()} » ne peut pas être annulé."
        )
    touched = _touched(imp)  # read once: its rows are the whole import
    blockers = undo_blockers(organization=organization, imp=imp, touched=touched)
    if blockers:
        raise ValidationError(
            "L'import ne peut pas être annulé : ces fiches ont changé depuis. " + " ".join(blockers)
        )
    saved_plans.discard(imp)
    model = RECORD_MODELS[imp.target]
    now = timezone.now()
    events: list[AuditEvent] = []
    undo_actor = Actor(
        kind=ActorKind.IMPORT, user=_user(actor), label=f"Annulation de l'import n°{imp.pk}"
    )

    def event(target_model, pk: int, label: str, action: str, changes: dict) -> AuditEvent:
        return AuditEvent(
            organization=organization, created_at=now, actor_kind=undo_actor.kind,
            actor_user=undo_actor.user, actor_label=undo_actor.label, action=action,
            target_type=ContentType.objects.get_for_model(target_model), target_id=pk,
            target_repr=label[:250], changes=changes,
        )  # fmt: skip

    # 1. Restore overwritten values, the latest rows first so the oldest value wins.
    restored = 0
    if model in (Contact, Structure):
        updated_ids = touched.updated.get(model, set())
        records = model.objects.for_org(organization).in_bulk(updated_ids)
        fields: set[str] = set()
        changes: dict[int, dict[str, list]] = defaultdict(dict)
        for row in reversed(touched.rows):
            record = records.get(row.object_id)
            if record is None or not row.before:
                continue
            for key, old in row.before.items():
                if key.startswith(CUSTOM_PREFIX):
                    custom = dict(record.custom or {})
                    name = key[len(CUSTOM_PREFIX) :]
                    changes[record.pk][key] = [custom.get(name), old]
                    if old is None:
                        custom.pop(name, None)
                    else:
                        custom[name] = old
                    record.custom = custom
                    fields.add("custom")
                else:
                    field = model._meta.get_field(key)
                    value = field.to_python(old) if old is not None else old
                    changes[record.pk][key] = [_plain(getattr(record, key)), old]
                    setattr(record, key, value)
                    fields.add(key)
        if fields:
            for record in records.values():
                if model is Contact:
                    normalize_contact(record)
                else:
                    record.name_normalized = normalize_name(record.name)
                record.updated_at = now
            extra = (
                ["email_normalized", "phone_e164", "first_name_normalized", "last_name_normalized"]
                if model is Contact
                else ["name_normalized"]
            )
            changed = [records[pk] for pk in changes]
            update(model, changed, sorted(fields | {"updated_at", *extra}))
            restored = len(changed)
            events += [
                event(model, r.pk, str(r), AuditEvent.Action.UPDATE, changes[r.pk]) for r in changed
            ]
        # 2. Labels, group memberships and external ids the rows added.
        link_model, column = (
            (ContactLabel, "contact_id") if model is Contact else (StructureLabel, "structure_id")
        )
        label_pairs: dict[int, set[int]] = defaultdict(set)  # label → records
        group_pairs: dict[int, set[int]] = defaultdict(set)
        external: list[str] = []
        for row in touched.rows:
            if row.object_id in touched.created.get(model, set()):
                continue
            for label_id in row.added.get("labels", []):
                label_pairs[label_id].add(row.object_id)
            if row.added.get("group"):
                group_pairs[row.added["group"]].add(row.object_id)
            if row.added.get("external_id"):
                external.append(row.added["external_id"])
        for label_id, ids in label_pairs.items():  # one statement per label, not per link
            for part in _batches(sorted(ids)):
                link_model.objects.for_org(organization).filter(
                    label_id=label_id, origin=LabelOrigin.MANUAL, **{f"{column}__in": part}
                ).delete()
        for group_id, ids in group_pairs.items():
            for part in _batches(sorted(ids)):
                GroupMembership.objects.for_org(organization).filter(
                    group_id=group_id, **{f"{column}__in": part}
                ).delete()
        if external:
            ExternalId.objects.for_org(organization).filter(
                source=imp.source, content_type=ContentType.objects.get_for_model(model),
                external_id__in=external,
            ).delete()  # fmt: skip
        # The links to structures the rows added to existing contacts (those of the
        # contacts and structures it created go with them).
        made = {
            (contact_id, structure_id)
            for contact_id, structure_id in _structure_links_made(touched)
            if contact_id not in touched.created.get(Contact, set())
        }
        by_contact = sorted({contact_id for contact_id, _s in made})
        for part in _batches(by_contact):
            links = ContactStructureLink.objects.for_org(organization).filter(
                contact_id__in=part
            )
            shown = dict(_reprs(Contact, organization, part))  # names, one query
            ids = []
            for pk, contact_id, structure_id, name in links.values_list(
                "pk", "contact_id", "structure_id", "structure__name"
            ):
                if (contact_id, structure_id) in made:
                    ids.append(pk)
                    events.append(
                        event(Contact, contact_id, shown[contact_id],
                              AuditEvent.Action.UPDATE, {"structure": [name, None]})
                    )  # fmt: skip
            ContactStructureLink.objects.for_org(organization).filter(pk__in=ids).delete()
    # 3. Delete what the import created: payments (with their periods, interactions and
    # labels), interactions, then records and the contacts made for them.
    deleted = 0
    created_payments = sorted(touched.created.get(Payment, set()))
    contacts_to_rule: set[int] = set()
    payment_ct = ContentType.objects.get_for_model(Payment)
    for part in _batches(created_payments):
        payments = Payment.objects.for_org(organization).filter(pk__in=part)
        contacts_to_rule |= set(payments.values_list("payer_contact_id", flat=True))
        events += [event(Payment, pk, f"Paiement n°{pk}", AuditEvent.Action.DELETE, {})
                   for pk in part]  # fmt: skip
        MembershipPeriod.objects.for_org(organization).filter(payment_id__in=part).delete()
        Interaction.objects.for_org(organization).filter(
            source=Interaction.Source.PAYMENT, source_type=payment_ct, source_id__in=part
        ).delete()
        deleted += payments.delete()[1].get("payments.Payment", 0)
    interaction_ct = ContentType.objects.get_for_model(Interaction)
    for part in _batches(sorted(touched.created.get(Interaction, set()))):
        events += [event(Interaction, pk, f"Interaction n°{pk}", AuditEvent.Action.DELETE, {})
                   for pk in part]  # fmt: skip
        ExternalId.objects.for_org(organization).filter(
            content_type=interaction_ct, object_id__in=part
        ).delete()
        created = Interaction.objects.for_org(organization).filter(pk__in=part)
        contacts_to_rule |= set(created.values_list("contact_id", flat=True))
        deleted += created.delete()[0]
    for record_model in (Structure, Contact):
        record_ct = ContentType.objects.get_for_model(record_model)
        ids = touched.created.get(record_model, set())
        contacts_to_rule -= ids if record_model is Contact else set()
        for part in _batches(sorted(ids)):
            events += [
                event(record_model, pk, label, AuditEvent.Action.DELETE, {})
                for pk, label in _reprs(record_model, organization, part)
            ]
            ExternalId.objects.for_org(organization).filter(
                content_type=record_ct, object_id__in=part
            ).delete()
            if record_model is Contact:
                Interaction.objects.for_org(organization).filter(contact_id__in=part).delete()
            deleted += (
                record_model.objects.for_org(organization)
                .filter(pk__in=part)
                .delete()[1]
                .get(record_model._meta.label, 0)
            )
    # The search aggregates of the people who keep existing, as the services keep them.
    refresh_contact_stats(organization, contacts_to_rule)
    if contacts_to_rule:
        from lien.payments.labels import apply_label_rules

        apply_label_rules(
            organization=organization, actor=undo_actor, contact_ids=sorted(contacts_to_rule)
        )
    insert(AuditEvent, events)
    imp.status = Import.Status.UNDONE
    imp.undone_at = now
    imp.message = (
        f"Import annulé : {_n(deleted)} fiche(s) supprimée(s), {_n(restored)} restaurée(s)."
    )
    imp.save(update_fields=["status", "undone_at", "message"])
    return {"deleted": deleted, "restored": restored}


# Results -------------------------------------------------------------------------------


def error_rows(imp: Import) -> QuerySet[ImportRow]:
    """The rows in error of the latest pass (the run's once it started, else the check's)."""
    has_run = imp.chunks_done > 0 or imp.status in (Import.Status.DONE, Import.Status.UNDONE)
    return (
        ImportRow.objects.for_org(imp.organization_id)
        .filter(import_run=imp, is_check=not has_run, outcome=RowOutcome.ERROR)
        .order_by("row_number")
    )


@dataclass
class RejectedFile:
    name: str
    content: bytes
    content_type: str


def rejected_rows_file(imp: Import) -> RejectedFile:
    """The rejected rows with the file's own columns plus « Erreur », in the source's format
    (a CSV keeps its encoding and delimiter): corrected, it imports as it is."""
    header = [*imp.headers, "Erreur"]
    stem = Path(imp.original_name).stem or "import"
    rows = (
        [*row.cells[: len(imp.headers)], *[""] * (len(imp.headers) - len(row.cells)),
         " ; ".join(error_text(row.row_number, e) for e in row.errors)]
        for row in error_rows(imp).iterator(chunk_size=2000)
    )  # fmt: skip
    if imp.file_format in SPREADSHEETS:
        import xlsxwriter

        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                                "strings_to_formulas": False})  # fmt: skip
        sheet = workbook.add_worksheet((imp.sheet or "Rejets")[:31])
        for r, values in enumerate([header, *rows]):
            for c, value in enumerate(values):
                sheet.write_string(r, c, str(value))
        workbook.close()
        return RejectedFile(
            f"{stem}{REJECTED_SUFFIX}.xlsx",
            buffer.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    encoding = imp.encoding or "utf-8-sig"
    text = io.StringIO()
    writer = csv.writer(text, delimiter=imp.delimiter or ";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return RejectedFile(
        f"{stem}{REJECTED_SUFFIX}.csv",
        text.getvalue().encode(encoding, errors="replace"),
        f"text/csv; charset={encoding}",
    )


def purge_old_files(*, now=None) -> int:
    """Uploaded files older than the retention period are deleted (the import and its
    results stay)."""
    limit = (now or timezone.now()) - timezone.timedelta(days=retention_days())
    purged = 0
    for pk, name in (
        Import.objects.filter(created_at__lt=limit)
        .exclude(file_name="")
        .values_list("pk", "file_name")
    ):
        with contextlib.suppress(FileNotFoundError):
            default_storage.delete(name)
        Import.objects.filter(pk=pk).update(file_name="", file_deleted_at=timezone.now())
        purged += 1
    # Saved plans a check left behind (an import checked and never run).
    if saved_plans.directory().is_dir():
        for path in saved_plans.directory().iterdir():
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < limit.timestamp():
                    path.unlink()
    return purged
