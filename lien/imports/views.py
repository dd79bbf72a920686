"""The import wizard: upload → reading and preview → mapping → check → run → result.

Thin views over `lien.imports.services` (the same calls, rights and rules as the API in
lien/api/imports.py). The import page (`import_detail`) shows the step the import is at:
a check or a run in progress is the core job progress bar, which polls itself; the page
reloads when the job ends (lien/static/lien/imports.js), so a reload or a later visit
finds the import where it is.

Rights: the « imports » data type (view to read, add to upload, check and run, change to
configure, delete to undo), plus `lien.imports.services.may_import` (add and change on
the imported data type) for every write; undo also needs delete on that data type.
Another organisation's import is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST

from lien.contacts import services as contact_services
from lien.contacts.models import Contact, Structure
from lien.core.access import member_required, require
from lien.core.audit import Actor
from lien.core.rights import can
from lien.core.views import form_errors_to, render_page
from lien.imports import services, wizard
from lien.imports.files import (
    DELIMITER_LABELS,
    ENCODING_LABELS,
    KIND_LABELS,
    format_mo,
    max_bytes,
)
from lien.imports.forms import MappingForm, ReadingForm, RunForm, UploadForm
from lien.imports.models import Import, ImportRow, ImportTarget, MappingTemplate, RowOutcome
from lien.imports.rows import CUSTOM_TARGETS, error_text
from lien.interactions.models import Interaction
from lien.payments.models import Payment
from lien.search.forms import search_url

LIST_PAGE_SIZE = 30
ERROR_PAGE_SIZE = 25
ROWS_PAGE_SIZE = 50
PREVIEW_ROWS = 10
IN_PROGRESS = {Import.Status.CHECKING, Import.Status.RUNNING}
RECORD_URLS = {
    ImportTarget.CONTACTS: "contact_detail",
    ImportTarget.STRUCTURES: "structure_detail",
    ImportTarget.PAYMENTS: "payment_detail",
    ImportTarget.INTERACTIONS: "interaction_edit",
}
STEPS = [
    ("file", "Fichier"),
    ("mapping", "Correspondances"),
    ("check", "Vérification"),
    ("run", "Import"),
    ("result", "Résultat"),
]


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)


def get_import(request: HttpRequest, pk: int, action: str = "view") -> Import:
    """The import of the member's organisation (404 elsewhere), if their profile allows;
    a running import whose worker is gone is marked interrupted first."""
    require(request, action, "imports")
    imp = get_object_or_404(Import.objects.for_org(request.organization), pk=pk)
    if imp.status in IN_PROGRESS:
        services.mark_stalled(organization=request.organization)
        imp.refresh_from_db()
    return imp


def _may_write(request: HttpRequest, target: str, *, undo: bool = False) -> None:
    if not services.may_import(request.membership, target) or (
        undo and not can(request.membership, "delete", services.TARGET_DATA_TYPES[target])
    ):
        raise PermissionDenied("Votre profil ne vous permet pas d'importer ces données.")


def _step_of(imp: Import) -> str:
    if imp.status == Import.Status.UPLOADED:
        return "file"
    if imp.status in (Import.Status.CHECKING, Import.Status.CHECKED):
        return "check"
    if imp.status == Import.Status.RUNNING:
        return "run"
    return "result"


def _steps(current: str) -> list[dict[str, Any]]:
    keys = [key for key, _ in STEPS]
    return [
        {"label": label, "number": i + 1, "current": key == current,
         "done": keys.index(key) < keys.index(current)}
        for i, (key, label) in enumerate(STEPS)
    ]  # fmt: skip


def _context(imp: Import, step: str, **extra: Any) -> dict[str, Any]:
    return {"imp": imp, "steps": _steps(step), "step": step, **extra}


# List and upload ---------------------------------------------------------------------


@member_required("imports", "view")
def import_list(request: HttpRequest) -> HttpResponse:
    """The organisation's imports, newest first: one query a page (author joined)."""
    imports = (
        Import.objects.for_org(request.organization)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )
    page = Paginator(imports, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    targets = [t for t in ImportTarget.values if services.may_import(request.membership, t)]
    templates = MappingTemplate.objects.for_org(request.organization).order_by("name", "pk")
    return render_page(
        request,
        "imports/import_list.html",
        {"page": page, "may_import": bool(targets), "templates": templates},
        partial="imports/partials/_import_table.html",
    )


@member_required("imports", "delete")
@require_POST
def import_template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a saved template; the imports made with it keep their own mapping."""
    template = get_object_or_404(MappingTemplate.objects.for_org(request.organization), pk=pk)
    services.delete_template(organization=request.organization, template=template)
    messages.success(request, f"Le modèle « {template.name} » est supprimé.")
    return redirect("import_list")


@member_required("imports", "add")
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    """Step 1: the data type and the file; what Lien reads of it is shown next."""
    targets = [t for t in ImportTarget.values if services.may_import(request.membership, t)]
    if not targets:
        raise PermissionDenied("Votre profil ne vous permet d'importer aucun type de données.")
    form = UploadForm(
        request.POST or None, request.FILES or None, targets=targets,
        initial={"target": request.GET.get("type") or ImportTarget.CONTACTS},
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            imp = services.create_import(
                organization=request.organization,
                actor=_actor(request),
                target=form.cleaned_data["target"],
                file=form.cleaned_data["file"],
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            if imp.template_id:
                messages.info(
                    request,
                    f"Le modèle « {imp.template.name} » correspond à ce fichier : ses "
                    "correspondances sont appliquées.",
                )
            return redirect("import_file", pk=imp.pk)
    return TemplateResponse(
        request,
        "imports/import_new.html",
        {"form": form, "steps": _steps("file"), "limit": format_mo(max_bytes())},
    )


# Step 1: reading and preview ------------------------------------------------------------


@member_required("imports", "view")
@require_http_methods(["GET", "POST"])
def import_file(request: HttpRequest, pk: int) -> HttpResponse:
    """What was detected (format, encoding, delimiter, sheet, header row), changeable,
    and the first rows as read."""
    imp = get_import(request, pk, "change" if request.method == "POST" else "view")
    problem = ""
    preview: dict[str, Any] = {}
    try:
        preview = services.preview(imp, PREVIEW_ROWS)
    except ValidationError as error:
        problem = " ".join(error.messages)
    info = preview.get("info", {})
    form = ReadingForm(
        request.POST if request.method == "POST" else None,
        imp=imp,
        sheets=info.get("sheets") or ([imp.sheet] if imp.sheet else []),
    )
    if request.method == "POST":
        _may_write(request, imp.target)
        if form.is_valid():
            try:
                services.reopen_file(organization=request.organization, imp=imp, **form.reading())
            except ValidationError as error:
                imp.refresh_from_db()  # the settings that were refused stay unsaved
                form_errors_to(form, error)
            else:
                messages.success(request, "Le fichier est relu avec ces réglages.")
                return redirect("import_file", pk=imp.pk)
    templates = services.matching_templates(
        organization=request.organization, target=imp.target, headers=imp.headers
    )
    return TemplateResponse(
        request,
        "imports/import_file.html",
        _context(
            imp, "file", form=form, preview=preview, info=info, problem=problem,
            templates=templates, editable=imp.status in services.EDITABLE,
            kind_label=KIND_LABELS.get(imp.file_format, imp.file_format),
            encoding_label=ENCODING_LABELS.get(imp.encoding, imp.encoding),
            delimiter_label=DELIMITER_LABELS.get(imp.delimiter, imp.delimiter),
        ),
    )  # fmt: skip


@member_required("imports", "change")
@require_POST
def import_template_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply a saved template (its mapping, transforms and options) to the import."""
    imp = get_import(request, pk, "change")
    _may_write(request, imp.target)
    template = get_object_or_404(
        MappingTemplate.objects.for_org(request.organization), pk=request.POST.get("template")
        if services.is_id(request.POST.get("template", "")) else 0,
    )  # fmt: skip
    try:
        services.configure_import(organization=request.organization, imp=imp, template=template)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("import_file", pk=imp.pk)
    messages.success(request, f"Le modèle « {template.name} » est appliqué.")
    return redirect("import_mapping", pk=imp.pk)


# Step 2: mapping -------------------------------------------------------------------------


def _create_fields(request: HttpRequest, imp: Import, new: dict[int, tuple[str, str]],
                   form: MappingForm) -> dict[int, str]:  # fmt: skip
    """The custom fields « créés ici »: a dropdown gets the column's distinct values as
    its choices. Column → « custom.<key> »."""
    created: dict[int, str] = {}
    distinct: dict[int, list[str]] = {}
    if any(kind in ("choice", "multiple_choice") for _name, kind in new.values()):
        distinct = _distinct(imp, list(new))
    for column, (name, kind) in new.items():
        choices = distinct.get(column, []) if kind in ("choice", "multiple_choice") else []
        field = contact_services.save_custom_field(
            organization=request.organization, actor=_actor(request),
            target=CUSTOM_TARGETS[imp.target], name=name, field_type=kind, choices=choices,
        )  # fmt: skip
        created[column] = f"custom.{field.key}"
    return created


def _distinct(imp: Import, columns: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {c: [] for c in columns}
    with services.opened(imp) as table:
        for count, row in enumerate(table.rows()):
            if count >= wizard.SAMPLE_ROWS:
                break
            for column, seen in found.items():
                cell = row.cells[column] if column < len(row.cells) else ""
                for part in str(cell or "").replace(";", ",").split(","):
                    part = part.strip()
                    if part and part not in seen and len(seen) < 200:
                        seen.append(part)
    return found


@member_required("imports", "view")
@require_http_methods(["GET", "POST"])
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 2: each column → a field (suggested), a new custom field or nothing; the
    transforms, the options; « Vérifier le fichier » saves and starts the check."""
    imp = get_import(request, pk, "change" if request.method == "POST" else "view")
    if imp.status not in services.EDITABLE or imp.chunks_done:
        return redirect("import_detail", pk=imp.pk)
    try:
        preview = services.preview(imp, 5)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("import_file", pk=imp.pk)
    columns = wizard.columns(imp, preview)
    form = MappingForm(
        request.POST if request.method == "POST" else None, organization=request.organization,
        imp=imp, columns=columns, choice_fields=wizard.value_choices(imp),
    )  # fmt: skip
    if request.method == "POST":
        _may_write(request, imp.target)
        if form.is_valid() and _save_mapping(request, imp, form):
            if request.POST.get("action") == "verifier":
                return _start_check(request, imp)
            messages.success(request, "Les correspondances sont enregistrées.")
            return redirect("import_mapping", pk=imp.pk)
    labels = wizard.field_labels(request.organization, imp.target)
    suggested = services.suggested_mapping(imp)
    for column in columns:
        column.suggested_key = suggested.get(str(column.index), "")
        column.suggested = labels.get(column.suggested_key, "")
    templates = services.matching_templates(
        organization=request.organization, target=imp.target, headers=imp.headers
    )
    return TemplateResponse(
        request,
        "imports/import_mapping.html",
        _context(
            imp, "mapping", form=form, templates=templates, editable=True,
        ),
    )  # fmt: skip


def _save_mapping(request: HttpRequest, imp: Import, form: MappingForm) -> bool:
    """Create the new custom fields, configure the import, save the template: all or
    nothing (a refused mapping creates no field)."""
    try:
        with transaction.atomic():
            created = _create_fields(request, imp, form.new_fields(), form)
            services.configure_import(
                organization=request.organization, imp=imp, mapping=form.mapping(created),
                transforms=form.transforms(), options=form.options(),
            )  # fmt: skip
            name = " ".join((form.cleaned_data.get("template_name") or "").split())
            if name:
                current = imp.template if imp.template_id else None
                same = current if current and current.name.casefold() == name.casefold() else None
                template = services.save_template(
                    organization=request.organization, actor=_actor(request), name=name,
                    target=imp.target, headers=imp.headers, mapping=imp.mapping,
                    transforms=imp.transforms, options=imp.options, template=same,
                )  # fmt: skip
                Import.objects.filter(pk=imp.pk).update(template=template)
                imp.template = template
                messages.success(request, f"Le modèle « {template.name} » est enregistré.")
    except ValidationError as error:
        _errors_to_form(form, error)
        imp.refresh_from_db()
        return False
    return True


def _errors_to_form(form: MappingForm, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    aliases = {"name": "template_name", "choices": None, "field_type": None}
    for field, errors in error.error_dict.items():
        target = aliases.get(field, field)
        form.add_error(target if target in form.fields else None, errors)


# Steps 3 and 4: check and run -------------------------------------------------------------


def _start_check(request: HttpRequest, imp: Import) -> HttpResponse:
    try:
        # Atomic: the task is queued on commit, after the import is marked « checking »
        # (without a transaction an immediate backend would run it before that mark).
        with transaction.atomic():
            services.start_check(organization=request.organization, actor=_actor(request), imp=imp)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("import_detail", pk=imp.pk)


@member_required("imports", "add")
@require_POST
def import_check(request: HttpRequest, pk: int) -> HttpResponse:
    """Check the file again with the current mapping (nothing is written)."""
    imp = get_import(request, pk, "add")
    _may_write(request, imp.target)
    return _start_check(request, imp)


@member_required("imports", "add")
@require_POST
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    """« Lancer l'import » (or resume an interrupted one), skipping the rows in error
    when asked."""
    imp = get_import(request, pk, "add")
    _may_write(request, imp.target)
    form = RunForm(request.POST)
    form.is_valid()
    try:
        with transaction.atomic():
            _run(request, imp, form)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("import_detail", pk=imp.pk)


def _run(request: HttpRequest, imp: Import, form: RunForm) -> None:
    """Inside a transaction: the run is queued once the import is marked « running »."""
    if imp.status == Import.Status.CHECKED:
        skip = bool(form.cleaned_data.get("skip_errors"))
        if skip != bool(imp.options.get("skip_errors")):
            imp = wizard.allow_error_rows(organization=request.organization, imp=imp, skip=skip)
    services.start_run(organization=request.organization, actor=_actor(request), imp=imp)


# The import page ----------------------------------------------------------------------------


def _error_page(request: HttpRequest, imp: Import):
    rows = services.error_rows(imp).only("row_number", "errors")
    page = Paginator(rows, ERROR_PAGE_SIZE).get_page(request.GET.get("page"))
    page.lines = [
        {"row": row.row_number, "column": e.get("column", ""), "value": e.get("value", ""),
         "message": e.get("message", ""), "text": error_text(row.row_number, e)}
        for row in page.object_list for e in row.errors
    ]  # fmt: skip
    return page


def _rows_page(request: HttpRequest, imp: Import):
    """The records the run created or updated, a page at a time, with their links."""
    rows = (
        ImportRow.objects.for_org(request.organization)
        .filter(import_run=imp, is_check=False, object_id__isnull=False,
                outcome__in=[RowOutcome.CREATED, RowOutcome.UPDATED])
        .only("row_number", "outcome", "object_id")
        .order_by("row_number")
    )  # fmt: skip
    page = Paginator(rows, ROWS_PAGE_SIZE).get_page(request.GET.get("lignes"))
    model = {
        ImportTarget.CONTACTS: Contact, ImportTarget.STRUCTURES: Structure,
        ImportTarget.PAYMENTS: Payment, ImportTarget.INTERACTIONS: Interaction,
    }[imp.target]  # fmt: skip
    ids = [row.object_id for row in page.object_list]
    names = {
        record.pk: str(record)
        for record in model.objects.for_org(request.organization).filter(pk__in=ids)
    }
    url_name = RECORD_URLS[imp.target]
    page.lines = [
        {"row": row.row_number, "outcome": row.get_outcome_display(),
         "name": names.get(row.object_id), "url": reverse(url_name, args=[row.object_id])
         if row.object_id in names else ""}
        for row in page.object_list
    ]  # fmt: skip
    return page


@member_required("imports", "view")
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The import where it is: the check in progress or its summary and errors, the run
    in progress, the result; htmx pages of the errors table get the table only."""
    imp = get_import(request, pk)
    step = _step_of(imp)
    if step == "file":
        return redirect("import_file", pk=imp.pk)
    job = imp.job if imp.status in IN_PROGRESS else None
    errors = _error_page(request, imp) if imp.status != Import.Status.CHECKING else None
    rows = (
        _rows_page(request, imp)
        if imp.status in (Import.Status.DONE, Import.Status.INTERRUPTED, Import.Status.FAILED)
        else None
    )
    if request.htmx and request.GET.get("lignes"):
        return TemplateResponse(
            request, "imports/partials/_rows.html", _context(imp, step, rows=rows)
        )
    labels = wizard.field_labels(request.organization, imp.target)
    may_write = services.may_import(request.membership, imp.target)
    may_undo = (
        may_write
        and can(request.membership, "delete", "imports")
        and can(request.membership, "delete", services.TARGET_DATA_TYPES[imp.target])
    )
    return render_page(
        request,
        "imports/import_detail.html",
        _context(
            imp, step, job=job, errors=errors, rows=rows, may_write=may_write,
            may_undo=may_undo and imp.status in services.UNDOABLE and imp.chunks_done > 0,
            run_form=RunForm(initial={"skip_errors": imp.options.get("skip_errors")}),
            # « Importés par l'import n°12 »: the advanced search on what it wrote.
            search_link=search_url({"field": "import", "op": "in", "value": [imp.pk]})
            if imp.target == "contacts" and imp.chunks_done
            and imp.status != Import.Status.UNDONE and can(request.membership, "view", "contacts")
            else "",
            mapped=[(imp.headers[int(c)] if int(c) < len(imp.headers) else c, labels.get(k, k))
                    for c, k in sorted(imp.mapping.items(), key=lambda i: int(i[0]))],
        ),
        partial="imports/partials/_errors.html",
    )  # fmt: skip


@member_required("imports", "view")
def import_rejected(request: HttpRequest, pk: int) -> HttpResponse:
    """The rejected rows: the file's own columns plus « Erreur », in the file's format."""
    imp = get_import(request, pk)
    rejected = services.rejected_rows_file(imp)
    response = HttpResponse(rejected.content, content_type=rejected.content_type)
    # RFC 6266: « adhérents-rejets.csv » keeps its accent (filename*=utf-8'').
    response["Content-Disposition"] = content_disposition_header(True, rejected.name)
    return response


@member_required("imports", "delete")
@require_http_methods(["GET", "POST"])
def import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    """« Annuler cet import »: a confirmation page naming what blocks it, if anything."""
    imp = get_import(request, pk, "delete")
    _may_write(request, imp.target, undo=True)
    possible = imp.status in services.UNDOABLE and imp.chunks_done > 0
    blockers = (
        services.undo_blockers(organization=request.organization, imp=imp) if possible else []
    )
    if request.method == "POST" and possible and not blockers:
        try:
            result = services.undo_import(
                organization=request.organization, actor=_actor(request), imp=imp
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"Import annulé : {result['deleted']} fiche(s) supprimée(s), "
                f"{result['restored']} restaurée(s).",
            )
            return redirect("import_detail", pk=imp.pk)
    elif request.method == "POST":
        messages.error(request, "Cet import ne peut pas être annulé.")
    return TemplateResponse(
        request,
        "imports/import_undo.html",
        _context(imp, "result", blockers=blockers, possible=possible),
    )
