"""Export pages: one per place an « Exporter » button leaves from, and the whole data set.

Each page shows the form (format, CSV flavour, columns) for the rows of the page it came
from — the same filters, tree, segment or group. Up to DIRECT_LIMIT rows the file is
made during the request and downloaded at once; beyond, a background job makes it and
the member follows its progress bar (the core job page) to the download link.

Every export leaves a row in the history (lien.exports.records): « Mes exports » lists
them — the whole organisation's for an administrator — with the file while it is kept.

Rights: `view` on the data type and `add` on exports (see sources.may_export); a segment
or a group needs `view` on segments too. Thin views: source → selection → form → file.
"""

from __future__ import annotations

import tempfile
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from lien.contacts.models import Group
from lien.core.access import member_required, require
from lien.core.models import Job
from lien.core.params import as_ids
from lien.core.views import render_page
from lien.exports import archive, records, services, sources, tasks
from lien.exports.access import file_response, get_export
from lien.exports.forms import ExportForm
from lien.exports.models import ExportRecord
from lien.exports.tables import TABLES, available_columns
from lien.payments.models import PaymentKind
from lien.payments.views import TABLES as PAYMENT_TABLES
from lien.search.forms import dump_tree, load_tree, search_url
from lien.search.models import Segment

RECENT = 5  # the member's last exports under the form
PAGE_SIZE = 30  # rows of « Mes exports »


def _downloadable(request: HttpRequest, rows) -> list[ExportRecord]:
    """The records, each knowing whether this member may download its file and read its
    selection."""
    rows = list(rows)
    for record in rows:
        record.downloadable = records.may_download(request.membership, record)
        record.details_hidden = records.details_hidden(request.membership, record)
    return rows


def _recent(request: HttpRequest, kind: str) -> list[ExportRecord]:
    """The member's own last exports of this kind, shown under the form."""
    return _downloadable(
        request,
        ExportRecord.objects.for_org(request.organization)
        .filter(kind=kind, created_by=request.user)
        .select_related("job", "created_by")
        .order_by("-created_at", "-pk")[:RECENT],
    )


def _count_text(bounded: int) -> str:
    if bounded > services.DIRECT_LIMIT:
        limit = f"{services.DIRECT_LIMIT:,}".replace(",", "\u202f")
        return (
            f"Plus de {limit} lignes : le fichier se prépare en arrière-plan, "
            "vous suivez sa progression puis le téléchargez."
        )
    if bounded == 0:
        return "Aucune ligne à exporter : le fichier ne contiendra que les en-têtes."
    plural = "s" if bounded > 1 else ""
    return f"{bounded} ligne{plural} : le fichier se télécharge tout de suite."


def _export_page(
    request: HttpRequest,
    source: dict[str, Any],
    *,
    back_url: str,
    back_label: str,
    hidden: list[tuple[str, str]] | None = None,
) -> HttpResponse:
    organization, membership = request.organization, request.membership
    table = TABLES[source["table"]]
    problem = ""
    try:
        selected = sources.selection(source, organization=organization, membership=membership)
    except ValidationError as error:
        selected, problem = None, " ".join(error.messages)
    columns = available_columns(table, organization=organization, membership=membership)
    submitted = request.method == "POST" and request.POST.get("exporter") == "1"
    form = ExportForm(request.POST if submitted else None, columns=columns)
    bounded = 0
    if selected is not None:
        # Counted up to the limit only: a million rows cost no more than 2,001.
        bounded = selected.queryset.values("pk")[: services.DIRECT_LIMIT + 1].count()
    if submitted and selected is not None and form.is_valid():
        chosen = [c for c in columns if c.key in set(form.cleaned_data["columns"])]
        options = form.options()
        export = records.TableExport(organization, request.user, source, selected, chosen, options)
        if bounded <= services.DIRECT_LIMIT:
            # Closed by the FileResponse once sent.
            out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
            records.export_now(out, export)
            out.seek(0)
            return FileResponse(
                out,
                as_attachment=True,
                filename=tasks.file_name(selected.title, options.extension),
                content_type=services.CONTENT_TYPES[options.fmt],
            )
        record = records.start_export(export)
        messages.info(
            request, "L'export est lancé : le fichier se télécharge ici dès qu'il est prêt."
        )
        return redirect("job_progress", pk=record.job_id)
    context = {
        "table": table,
        "title": selected.title if selected else table.title,
        "form": form,
        "groups": form.groups(),
        "count_text": _count_text(bounded) if selected else "",
        "problem": problem,
        "back_url": back_url,
        "back_label": back_label,
        "hidden": hidden or [],
        "action": request.path if hidden else request.get_full_path(),
        "recent": _recent(request, table.key),
    }
    return TemplateResponse(request, "exports/export.html", context)


def _list_source(request: HttpRequest, table: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "list", "table": table, "query": request.GET.urlencode(), **extra}


def _back(name: str, request: HttpRequest, *args: Any) -> str:
    query = request.GET.urlencode()
    return reverse(name, args=args) + (f"?{query}" if query else "")


def _list_export(table: str, list_url_name: str, back_label: str):
    """The export page of a list (contacts, structures, interactions) with its filters."""

    @member_required()
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest) -> HttpResponse:
        return _export_page(
            request,
            _list_source(request, table),
            back_url=_back(list_url_name, request),
            back_label=back_label,
        )

    view.__name__ = view.__qualname__ = f"export_{table}"
    return view


export_contacts = _list_export("contacts", "contact_list", "Contacts")
export_structures = _list_export("structures", "structure_list", "Structures")
export_interactions = _list_export("interactions", "interaction_list", "Interactions")


@member_required()
@require_http_methods(["GET", "POST"])
def export_payments(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in PaymentKind.values:
        raise Http404("Type de paiement inconnu.")
    return _export_page(
        request,
        _list_source(request, "payments", payment_kind=kind),
        back_url=_back(PAYMENT_TABLES[kind].url_name, request),
        back_label=PAYMENT_TABLES[kind].title,
    )


@member_required()
@require_http_methods(["GET", "POST"])
def export_search(request: HttpRequest) -> HttpResponse:
    """The results of an advanced search (every table it runs on), or the ticked rows."""
    params = request.POST if request.method == "POST" else request.GET
    table = params.get("table") if params.get("table") in TABLES else "contacts"
    tree, _problem = load_tree(params.get("arbre"))
    ids = [] if params.get("tous") == "1" else as_ids(params.getlist("ids"))
    tree_json = dump_tree(tree)
    return _export_page(
        request,
        {"kind": "search", "table": table, "tree": tree, "ids": ids},
        back_url=search_url(tree, table),
        back_label="Recherche avancée",
        hidden=[("table", table), ("arbre", tree_json), *[("ids", str(pk)) for pk in ids]],
    )


@member_required()
@require_http_methods(["GET", "POST"])
def export_segment(request: HttpRequest, pk: int) -> HttpResponse:
    require(request, "view", "segments")
    segment = get_object_or_404(Segment.objects.for_org(request.organization), pk=pk)
    return _export_page(
        request,
        {"kind": "segment", "table": "contacts", "segment": segment.pk},
        back_url=reverse("segment_detail", args=[segment.pk]),
        back_label=f"Segment « {segment.name} »",
    )


@member_required()
@require_http_methods(["GET", "POST"])
def export_group(request: HttpRequest, pk: int) -> HttpResponse:
    """The group's contacts (or, with ?table=structures, its structures)."""
    require(request, "view", "segments")
    group = get_object_or_404(Group.objects.for_org(request.organization), pk=pk)
    table = "structures" if request.GET.get("table") == "structures" else "contacts"
    return _export_page(
        request,
        {"kind": "group", "table": table, "group": group.pk},
        back_url=reverse("group_detail", args=[group.pk]),
        back_label=f"Groupe « {group.name} »",
    )


@member_required("settings", "view")
@require_http_methods(["GET", "POST"])
def export_all(request: HttpRequest) -> HttpResponse:
    """« Exporter toutes mes données »: a ZIP of CSV files, one per table, by a job."""
    require(request, "add", "exports")
    if request.method == "POST":
        record = records.start_archive(
            organization=request.organization, membership=request.membership
        )
        messages.info(
            request, "L'archive se prépare : elle se télécharge ici dès qu'elle est prête."
        )
        return redirect("job_progress", pk=record.job_id)
    return TemplateResponse(
        request,
        "exports/export_all.html",
        {"files": archive.dumps_for(request.membership), "recent": _recent(request, "all")},
    )


# « Mes exports » ------------------------------------------------------------------------


@member_required("exports", "view")
def export_list(request: HttpRequest) -> HttpResponse:
    """The member's exports (the whole organisation's for an administrator), newest first,
    with the file to download while it is kept."""
    membership = request.membership
    rows = records.visible_exports(organization=request.organization, membership=membership)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _downloadable(request, page.object_list)
    return render_page(
        request,
        "exports/export_list.html",
        {
            "page": page,
            "sees_all": records.sees_all_exports(membership),
            "retention_days": records.retention_days(),
        },
        partial="exports/partials/_export_table.html",
    )


@member_required("exports", "view")
def export_file(request: HttpRequest, pk: int) -> FileResponse | HttpResponse:
    """An export's file: its author's, or an administrator's who may see all it holds."""
    record = get_export(request, pk)
    if not record.file_name:
        messages.warning(request, _file_gone(record))
        return redirect("export_list")
    return file_response(request.membership, record)


def _file_gone(record: ExportRecord) -> str:
    if record.file_deleted_at:
        return (
            f"Le fichier de cet export a été supprimé le {record.file_deleted_at:%d/%m/%Y}, "
            f"après {records.retention_days()} jours : relancez l'export."
        )
    if record.is_immediate:
        return "Cet export a été téléchargé tout de suite : Lien n'en garde pas de copie."
    if record.status == Job.Status.FAILED:
        return f"Cet export a échoué : {record.job.message}"
    return "Le fichier de cet export n'est pas encore prêt."
