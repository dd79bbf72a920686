"""Campaign pages, the payment settings and the accounting export.

Thin views: access helper → form → service → redirect or partial. Long work (the
label rules over a whole organisation, the accounting file) runs as a background job
with the core's progress page, which also offers the file.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from lien.contacts.models import ContactLabel, Label, LabelOrigin, StructureLabel
from lien.core.access import member_required, require
from lien.core.audit import Actor
from lien.core.jobs import start_job
from lien.core.models import Job
from lien.core.params import as_id
from lien.core.rights import can
from lien.core.views import form_errors_to
from lien.payments import accounting, selectors, services, tasks, tasks_admin
from lien.payments.forms_admin import AccountingExportForm, CampaignForm, PaymentSettingsForm
from lien.payments.labels import RULES, Rule
from lien.payments.models import Campaign, Payment, PaymentSettings, format_cents

CAMPAIGN_PAGE_SIZE = 50
PAYMENTS_PAGE_SIZE = 50


def _posted(request: HttpRequest):
    """The POST data, even empty (an empty form must be told what it lacks), or None."""
    return request.POST if request.method == "POST" else None


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)


def percent(collected_cents: int | None, goal_cents: int | None) -> int | None:
    """How much of the goal is collected, in whole percents (None without a goal)."""
    if not goal_cents:
        return None
    return round(100 * (collected_cents or 0) / goal_cents)


def get_campaign(request: HttpRequest, pk: int, action: str = "view") -> Campaign:
    """The campaign of the member's organisation (404 elsewhere), if their profile allows."""
    require(request, action, "payments")
    return get_object_or_404(Campaign.objects.for_org(request.organization), pk=pk)


# Campaigns ---------------------------------------------------------------------------------


@member_required("payments", "view")
def campaign_list(request: HttpRequest) -> HttpResponse:
    """Every campaign with its collected total against its goal: one grouped query a page."""
    campaigns = selectors.campaigns_with_totals(request.organization).order_by(
        F("start_date").desc(nulls_last=True), "name", "pk"
    )
    page = Paginator(campaigns, CAMPAIGN_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for campaign in page.object_list:
        campaign.percent = percent(campaign.collected_cents, campaign.goal_cents)
        campaign.goal_display = format_cents(campaign.goal_cents)
        campaign.collected_display = format_cents(campaign.collected_cents or 0)
    return TemplateResponse(request, "payments/campaign_list.html", {"page": page})


def _save_campaign(request: HttpRequest, campaign: Campaign | None = None) -> HttpResponse:
    form = CampaignForm(_posted(request), instance=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_campaign(
                organization=request.organization,
                actor=_actor(request),
                campaign=campaign,
                **form.values(),
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, f"Campagne « {saved.name} » enregistrée.")
            return redirect("campaign_detail", pk=saved.pk)
    return TemplateResponse(
        request, "payments/campaign_form.html", {"form": form, "campaign": campaign}
    )


@member_required("payments", "add")
def campaign_create(request: HttpRequest) -> HttpResponse:
    return _save_campaign(request)


@member_required()
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _save_campaign(request, get_campaign(request, pk, action="change"))


def _cursor(payment: Payment) -> str:
    return f"{payment.paid_on.isoformat()}.{payment.pk}"


def _after(value: str) -> Q | None:
    """The payments after a cursor « 2026-03-12.42 » (newest first), or None if unreadable."""
    day, _, pk = value.partition(".")
    try:
        paid_on = dt.date.fromisoformat(day)
    except ValueError:
        return None
    if as_id(pk) is None:
        return None
    return Q(paid_on__lt=paid_on) | Q(paid_on=paid_on, pk__lt=as_id(pk))


def _campaign_payments(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    """One keyset page of the campaign's payments, newest first, whatever their status."""
    payments = (
        Payment.objects.for_org(request.organization)
        .filter(campaign=campaign)
        .select_related("payer_contact", "payer_structure")
        .order_by("-paid_on", "-pk")
    )
    after = _after(request.GET.get("apres", ""))
    if after is not None:
        payments = payments.filter(after)
    rows = list(payments[: PAYMENTS_PAGE_SIZE + 1])
    more = len(rows) > PAYMENTS_PAGE_SIZE
    rows = rows[:PAYMENTS_PAGE_SIZE]
    for row in rows:
        row.amount_display = format_cents(row.amount_cents, row.currency)
    return {
        "payments": rows,
        "next_cursor": _cursor(rows[-1]) if more else "",
        "continued": after is not None,
    }


def _stats(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    stats = selectors.campaign_stats(request.organization, campaign)
    collected, goal, count = stats["collected_cents"], stats["goal_cents"], stats["payments"]
    return {
        **stats,
        "bar": min(stats["percent"] or 0, 100),
        "collected_display": format_cents(collected),
        "goal_display": format_cents(goal),
        "remaining_display": format_cents(max((goal or 0) - collected, 0)),
        "average_display": format_cents(round(collected / count)) if count else "",
    }


@member_required()
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Collected against the goal, payers, payments; « voir plus » loads the next ones."""
    campaign = get_campaign(request, pk)
    context: dict[str, Any] = {"campaign": campaign, **_campaign_payments(request, campaign)}
    if request.htmx and request.htmx.target == "campaign-more":
        return TemplateResponse(request, "payments/partials/_campaign_payment_rows.html", context)
    context["stats"] = _stats(request, campaign)
    context["kind_table"] = f"payment_list_{campaign.kind}"  # the payment table of its kind
    return TemplateResponse(request, "payments/campaign_detail.html", context)


@member_required()
def campaign_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then delete; a campaign with payments stays, and the page says why."""
    campaign = get_campaign(request, pk, action="delete")
    if request.method == "POST":
        try:
            services.delete_campaign(
                organization=request.organization, actor=_actor(request), campaign=campaign
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("campaign_detail", pk=campaign.pk)
        messages.success(request, f"Campagne « {campaign.name} » supprimée.")
        return redirect("campaign_list")
    count = Payment.objects.for_org(request.organization).filter(campaign=campaign).count()
    return TemplateResponse(
        request, "payments/campaign_delete.html", {"campaign": campaign, "count": count}
    )


# Payment settings --------------------------------------------------------------------------

# What each rule means for the people who read the page, by the rule's settings key.
RULE_MEANINGS = {
    "donor_label": "Tout contact ou toute structure ayant fait au moins un don payé. "
    "Elle part si ses dons sont tous annulés, remboursés ou supprimés.",
    "member_label": "Le bénéficiaire d'une adhésion payée, tant qu'elle est valide "
    "(voir la durée de validité plus bas). Elle part le lendemain de la fin de validité.",
    "former_member_label": "Quelqu'un dont l'adhésion est terminée, sans adhésion en cours "
    "ni à venir. Elle part dès qu'il adhère de nouveau.",
    "participant_label": "Le bénéficiaire d'un billet payé : la personne qui vient, qui n'est "
    "pas forcément celle qui paie.",
}


def _rule_rows(organization, current: PaymentSettings) -> list[dict[str, Any]]:
    """Each rule with its label (chosen, or found by name; created at the first run) and how
    many carry it automatically: three queries whatever the number of contacts."""
    chosen_ids = [getattr(current, f"{rule.key}_id") for rule in RULES]
    labels = list(
        Label.objects.for_org(organization)
        .annotate(lower=Lower("name"))
        .filter(
            Q(pk__in=[pk for pk in chosen_ids if pk]) | Q(lower__in=[r.name.lower() for r in RULES])
        )
    )
    by_id = {label.pk: label for label in labels}
    by_name = {label.lower: label for label in labels}

    def label_of(rule: Rule, chosen: int | None) -> Label | None:
        return by_id.get(chosen) if chosen else by_name.get(rule.name.lower())

    found = [label_of(rule, chosen) for rule, chosen in zip(RULES, chosen_ids, strict=True)]
    ids = [label.pk for label in found if label]

    def counts(model) -> dict[int, int]:
        return dict(
            model.objects.for_org(organization)
            .filter(label_id__in=ids, origin=LabelOrigin.AUTOMATIC)
            .values_list("label_id")
            .annotate(n=Count("pk"))
            .values_list("label_id", "n")
        )

    contacts, structures = counts(ContactLabel), counts(StructureLabel)
    return [
        {
            "rule": rule,
            "label": label,
            "name": label.name if label else rule.name,
            "meaning": RULE_MEANINGS.get(rule.key, rule.description),
            "contacts": contacts.get(label.pk, 0) if label else 0,
            "structures": structures.get(label.pk, 0) if label else 0,
            "with_structures": rule.structures is not None,
        }
        for rule, label in zip(RULES, found, strict=True)
    ]


@member_required("settings", "view")
def settings_payments(request: HttpRequest) -> HttpResponse:
    """Automatic labels, membership validity and the chart of accounts of the export."""
    require(request, "view", "payments")
    organization = request.organization
    current = services.payment_settings(organization)
    editable = can(request.membership, "change", "settings")
    form = PaymentSettingsForm(instance=current)
    for field in form.fields.values():
        field.disabled = not editable
    if request.method == "POST":
        require(request, "change", "settings")
        form = PaymentSettingsForm(request.POST, instance=current)
        if form.is_valid():
            try:
                saved = services.update_payment_settings(
                    organization=organization, actor=_actor(request), **form.values()
                )
            except ValidationError as error:
                form_errors_to(form, error)
            else:
                done = "Réglages des paiements enregistrés."
                if saved.auto_labels and not current.auto_labels:
                    done += " Les étiquettes automatiques sont réactivées et à jour."
                messages.success(request, done)
                return redirect("settings_payments")
    return TemplateResponse(
        request,
        "payments/settings_payments.html",
        {
            "form": form,
            "settings": current,
            "editable": editable,
            "rules": _rule_rows(organization, current),
            "jobs": Job.objects.for_org(organization)
            .filter(kind="payment_labels")
            .order_by("-created_at", "-pk")[:3],
        },
    )


@member_required("settings", "change")
@require_POST
def settings_payments_apply(request: HttpRequest) -> HttpResponse:
    """« Appliquer les règles maintenant »: every rule over the whole organisation, as a job."""
    require(request, "view", "payments")
    if not services.payment_settings(request.organization).auto_labels:
        messages.error(
            request, "Les étiquettes automatiques sont désactivées : activez-les d'abord."
        )
        return redirect("settings_payments")
    job = start_job(
        organization=request.organization,
        kind="payment_labels",
        label="Application des étiquettes automatiques",
        task=tasks_admin.apply_rules_now,
        created_by=request.user,
        user_id=request.user.pk,
    )
    messages.info(request, "Les règles s'appliquent : suivez la progression ici.")
    return redirect("job_progress", pk=job.pk)


# Accounting export -------------------------------------------------------------------------


def _preview(request: HttpRequest, form: AccountingExportForm) -> dict[str, Any]:
    """The paid payments of the period: count and total, one aggregate query."""
    form.is_valid()
    start, end = form.cleaned_data.get("start"), form.cleaned_data.get("end")
    if not (start and end):
        return {"form": form, "totals": None}
    totals = selectors.totals(accounting.paid_payments(request.organization, start, end))
    return {
        "form": form,
        "totals": totals,
        "total_display": format_cents(totals["total_cents"]),
        "start": start,
        "end": end,
    }


@member_required("payments", "view")
def accounting_export(request: HttpRequest) -> HttpResponse:
    """The paid payments of a period as journal entries, written by a background job."""
    require(request, "view", "exports")
    today = timezone.localdate()
    form = AccountingExportForm(_posted(request), today=today)
    if request.method == "POST":
        require(request, "add", "exports")
        if form.is_valid():
            start, end, fmt = (form.cleaned_data[k] for k in ("start", "end", "fmt"))
            job = start_job(
                organization=request.organization,
                kind="accounting_export",
                label=f"Export comptable du {start:%d/%m/%Y} au {end:%d/%m/%Y} "
                f"({accounting.FORMATS[fmt]})",
                task=tasks.accounting_export,
                created_by=request.user,
                start=start.isoformat(),
                end=end.isoformat(),
                fmt=fmt,
            )
            messages.info(request, "L'export est lancé : le fichier se télécharge ici.")
            return redirect("job_progress", pk=job.pk)
    shown = form if form.is_bound else AccountingExportForm(form.initial, today=today)
    context = {
        "form": form,
        "preview": _preview(request, shown),
        "jobs": Job.objects.for_org(request.organization)
        .filter(kind="accounting_export")
        .order_by("-created_at", "-pk")[:5],
    }
    return TemplateResponse(request, "payments/accounting_export.html", context)


@member_required("payments", "view")
def accounting_export_preview(request: HttpRequest) -> HttpResponse:
    """How many paid payments the chosen period holds, and their total (htmx)."""
    require(request, "view", "exports")
    form = AccountingExportForm(request.GET, today=timezone.localdate())
    return TemplateResponse(
        request, "payments/partials/_accounting_preview.html", {"preview": _preview(request, form)}
    )
