"""Payment pages: one table per kind (filters, sorts, keyset pages, totals loaded apart),
a payment's page, recording, editing and deleting one, and the payment sections of the
contact and structure cards.

Thin views: access helper → form → service → redirect or partial. A profile that hides
payment data has no right on payments at all (`lien.core.rights.can`): every page here
answers 403 to it and the cards leave their payment sections out.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from lien.contacts import access as contacts_access
from lien.contacts.models import Contact, CustomField, Label, Structure
from lien.contacts.selectors import contact_search, custom_values, structure_search
from lien.core.access import member_required, require
from lien.core.audit import Actor, history_for
from lien.core.models import Organization
from lien.core.pagination import paginate
from lien.core.params import as_id
from lien.core.rights import can
from lien.core.views import render_page
from lien.interactions.models import Interaction
from lien.payments import services
from lien.payments.forms import PaymentForm
from lien.payments.models import (
    Campaign,
    MembershipPeriod,
    MembershipPeriodMode,
    Payment,
    PaymentKind,
    PaymentSettings,
    format_cents,
)
from lien.payments.selectors import (
    PaymentQuery,
    filtered_payments,
    membership_history,
    membership_status,
    totals,
    with_people,
)

PAID = Payment.Status.PAID
CARD_LIMIT = 20
SEARCH_LIMIT = 15
PAGE_SIZES = (25, 50, 100)
# The table's filters, kept in every link of the table (sort, page size and cursors apart).
FILTER_KEYS = [
    "date_from", "date_to", "amount_min", "amount_max", "status", "method", "campaign",
    "payer_label", "recurring", "contact", "structure",
]  # fmt: skip
# Filters whose wrong value is told beside their field; any other is told above the table.
FIELD_FILTERS = [
    "date_from", "date_to", "amount_min", "amount_max", "status", "method", "campaign",
    "payer_label",
]  # fmt: skip
MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
]  # fmt: skip


@dataclass(frozen=True)
class KindTable:
    """The table of one kind of payment: its URL, its title, its « new » button."""

    kind: str
    path: str
    title: str
    new_label: str

    @property
    def url_name(self) -> str:
        return f"payment_list_{self.kind}"


TABLES: dict[str, KindTable] = {
    table.kind: table
    for table in [
        KindTable(PaymentKind.DONATION, "dons", "Dons", "Nouveau don"),
        KindTable(PaymentKind.MEMBERSHIP, "adhesions", "Adhésions", "Nouvelle adhésion"),
        KindTable(PaymentKind.TICKETING, "billetterie", "Billetterie", "Nouveau paiement"),
        KindTable(PaymentKind.CROWDFUNDING, "crowdfunding", "Crowdfunding", "Nouveau paiement"),
        KindTable(PaymentKind.SHOP, "boutique", "Boutique", "Nouvel achat"),
        KindTable(PaymentKind.OTHER, "autres", "Autres paiements", "Nouveau paiement"),
    ]
}


@dataclass(frozen=True)
class SortColumn:
    sort: tuple[str, ...]


# PaymentQuery's sorts: « date » and « amount » newest / largest first, « -… » the reverse.
PAGE_SORTS = {"date": SortColumn(("paid_on",)), "amount": SortColumn(("amount_cents",))}


@dataclass
class PageQuery:
    """Which keyset page of a table: the sort as a column and a direction, the cursor."""

    sort: str
    descending: bool
    after: str = ""
    before: str = ""
    size: int = 25

    @classmethod
    def of(cls, query: PaymentQuery, params) -> PageQuery:
        size = as_id(params.get("taille", "")) or 25
        return cls(
            sort=query.sort.lstrip("-"),
            descending=not query.sort.startswith("-"),
            after=params.get("apres", ""),
            before=params.get("avant", ""),
            size=size if size in PAGE_SIZES else 25,
        )


def _posted(request: HttpRequest):
    """The POST data, even empty (an empty form must be told what it lacks), or None."""
    return request.POST if request.method == "POST" else None


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)


def _back(request: HttpRequest, default: str) -> str:
    """The page a form came from (`retour`), if it is one of ours; else `default`."""
    target = request.POST.get("retour") or request.GET.get("retour") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return default


def get_payment(request: HttpRequest, pk: int, action: str = "view") -> Payment:
    """A payment of the organisation (404 otherwise), if the member has the right (403)."""
    require(request, action, "payments")
    return get_object_or_404(with_people(Payment.objects.for_org(request.organization)), pk=pk)


def _decorate(payments: list[Payment]) -> list[Payment]:
    """Amounts as people read them (« 1 234,50 € »)."""
    for payment in payments:
        payment.amount_display = format_cents(payment.amount_cents, payment.currency)
    return payments


def _summary(payment: Payment) -> str:
    """« don de 50,00 € du 12/03/2026 »: a payment named in a message."""
    amount = format_cents(payment.amount_cents, payment.currency)
    return f"{payment.get_kind_display().lower()} de {amount} du {payment.paid_on:%d/%m/%Y}"


# The tables --------------------------------------------------------------------------------


def _choices(rows, selected: list[str]) -> list[tuple[str, str, bool]]:
    return [(str(value), label, str(value) in selected) for value, label in rows]


def _filter_choices(request: HttpRequest, query: PaymentQuery | None) -> dict[str, Any]:
    """What the filter form offers, each choice marked when the query string has it."""
    organization, params = request.organization, request.GET
    campaigns = Campaign.objects.for_org(organization).order_by("name").values_list("pk", "name")
    labels = Label.objects.for_org(organization).order_by("name").values_list("pk", "name")
    return {
        "statuses": _choices(Payment.Status.choices, params.getlist("status")),
        "methods": _choices(Payment.Method.choices, params.getlist("method")),
        "campaigns": _choices(campaigns, params.getlist("campaign")),
        "labels": _choices(labels, params.getlist("payer_label")),
        "page_sizes": PAGE_SIZES,
        "filtered_contact": (
            Contact.objects.for_org(organization).filter(pk=query.contact).first()
            if query and query.contact
            else None
        ),
        "filtered_structure": (
            Structure.objects.for_org(organization).filter(pk=query.structure).first()
            if query and query.structure
            else None
        ),
    }


@member_required("payments", "view")
def payment_list(request: HttpRequest, kind: str) -> HttpResponse:
    """The payments of one kind: filters, sort by date or amount, keyset pages.

    Wrong filter values are not a page error: the table waits and each message is told
    beside its field (out of band when only the results are swapped).
    """
    table = TABLES[kind]
    params = request.GET
    errors: dict[str, list[str]] = {}
    page = page_query = query = None
    try:
        query = PaymentQuery.from_params(params, kind=kind)
    except ValidationError as error:
        errors = error.message_dict
    else:
        page_query = PageQuery.of(query, params)
        payments = with_people(filtered_payments(request.organization, query))
        if kind == PaymentKind.MEMBERSHIP:
            payments = payments.prefetch_related("membership_periods")
        page = paginate(payments, page_query, PAGE_SORTS)
        for row in _decorate(page.rows):
            periods = row.membership_periods.all() if kind == PaymentKind.MEMBERSHIP else []
            row.period = next(iter(periods), None)
    context = {
        "table": table,
        "page": page,
        "page_query": page_query,
        "sort": query.sort if query else "date",
        "filters": urlencode([(k, v) for k in FILTER_KEYS for v in params.getlist(k) if v]),
        "params": params,
        "errors": errors,
        "field_errors": [(name, " ".join(errors.get(name, []))) for name in FIELD_FILTERS],
        "other_errors": [
            message
            for name, found in errors.items()
            if name not in FIELD_FILTERS
            for message in found
        ],
        # A beneficiary column only where it says something: memberships, or someone else.
        "show_beneficiary": kind == PaymentKind.MEMBERSHIP
        or any(
            r.beneficiary_id not in (None, r.payer_contact_id) for r in getattr(page, "rows", [])
        ),
        "back_url": request.get_full_path(),
    }
    if request.htmx and request.htmx.target == "payment-results":
        context["out_of_band"] = True
        return TemplateResponse(request, "payments/partials/_payment_results.html", context)
    context.update(_filter_choices(request, query))
    return TemplateResponse(request, "payments/payment_list.html", context)


@member_required("payments", "view")
def payment_totals(request: HttpRequest) -> HttpResponse:
    """Count and sum of the filtered rows, fetched apart so a page never waits for them."""
    context: dict[str, Any] = {"invalid": False}
    try:
        query = PaymentQuery.from_params(request.GET)
    except ValidationError:
        context["invalid"] = True
    else:
        payments = filtered_payments(request.organization, query)
        found = totals(payments)
        context.update(count=found["count"], total=format_cents(found["total_cents"]))
        if found["count"] and query.statuses != [PAID]:
            paid = totals(payments.filter(status=PAID))
            if paid["count"] != found["count"]:
                context.update(paid_count=paid["count"], paid=format_cents(paid["total_cents"]))
    return TemplateResponse(request, "payments/partials/_payment_totals.html", context)


# Pickers ---------------------------------------------------------------------------------

CONTACT_PICKERS = {"payer_contact": "Contact payeur", "beneficiary": "Bénéficiaire"}


@member_required("contacts", "view")
def payment_contact_search(request: HttpRequest) -> HttpResponse:
    """Contacts matching a name, email or phone: the payer or the beneficiary of a payment."""
    field = request.GET.get("champ", "")
    field = field if field in CONTACT_PICKERS else "payer_contact"
    q = request.GET.get("q", "").strip()[:100]
    results = (
        Contact.objects.for_org(request.organization)
        .not_deleted()
        .filter(contact_search(q))
        .order_by("last_name_normalized", "first_name_normalized", "pk")[:SEARCH_LIMIT]
        if q
        else []
    )
    return TemplateResponse(
        request,
        "payments/partials/_payment_contact_choices.html",
        {"results": results, "q": q, "field": field, "field_label": CONTACT_PICKERS[field]},
    )


@member_required("structures", "view")
def payment_structure_search(request: HttpRequest) -> HttpResponse:
    """Structures matching a name: the payer of a payment."""
    q = request.GET.get("q", "").strip()[:100]
    results = (
        Structure.objects.for_org(request.organization)
        .not_deleted()
        .filter(structure_search(q))
        .order_by("name_normalized", "pk")[:SEARCH_LIMIT]
        if q
        else []
    )
    return TemplateResponse(
        request, "payments/partials/_payment_structure_choices.html", {"results": results, "q": q}
    )


def _rule(settings: PaymentSettings) -> str:
    """The organisation's membership validity rule, in words."""
    if settings.membership_mode == MembershipPeriodMode.CALENDAR:
        return "l'année civile du paiement (1er janvier – 31 décembre)"
    if settings.membership_mode == MembershipPeriodMode.SEASON:
        return f"la saison, 12 mois à partir du 1er {MONTHS[settings.season_start_month - 1]}"
    return "12 mois à partir de la date du paiement"


def _validity(
    organization: Organization,
    *,
    kind: str,
    paid_on: str,
    valid_from: str = "",
    valid_until: str = "",
    period: MembershipPeriod | None = None,
    errors: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """What the « Adhésion » block of the form shows: the dates typed, the rule, the dates
    the rule gives for the payment's date, the current period of an edited payment."""
    if kind != PaymentKind.MEMBERSHIP:
        return {"show": False}
    settings = services.payment_settings(organization)
    default = None
    if not period:
        with contextlib.suppress(ValidationError):  # no date yet: the rule alone
            default = services.membership_validity(settings, services.parse_date(paid_on))
    errors = errors or {}
    return {
        "show": True,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "rule": _rule(settings),
        "default": default,
        "period": period,
        "from_errors": errors.get("valid_from", []),
        "until_errors": errors.get("valid_until", []),
    }


@member_required("payments", "view")
def payment_validity(request: HttpRequest) -> HttpResponse:
    """The form's « Adhésion » block again, when the type or the date changes."""
    params = request.GET
    period = None
    if as_id(params.get("paiement", "")):
        period = (
            MembershipPeriod.objects.for_org(request.organization)
            .filter(payment_id=as_id(params["paiement"]))
            .first()
        )
    return TemplateResponse(
        request,
        "payments/partials/_payment_validity.html",
        {
            "validity": _validity(
                request.organization,
                kind=params.get("kind", ""),
                paid_on=params.get("paid_on", ""),
                valid_from=params.get("valid_from", ""),
                valid_until=params.get("valid_until", ""),
                period=period,
            ),
        },
    )


# Recording, editing, deleting ------------------------------------------------------------


def _value(form: PaymentForm, name: str) -> str:
    if form.is_bound:
        return (form.data.get(name) or "").strip()
    return str(form.initial.get(name) or "")


def _chosen(organization: Organization, form: PaymentForm) -> dict[str, Any]:
    """The payer and beneficiary already chosen (prefilled, or posted back with errors)."""
    found: dict[str, Any] = {}
    for name, model in [
        ("payer_contact", Contact),
        ("payer_structure", Structure),
        ("beneficiary", Contact),
    ]:
        pk = as_id(_value(form, name))
        found[name] = (
            model.objects.for_org(organization).not_deleted().filter(pk=pk).first() if pk else None
        )
    return found


def _form_page(
    request: HttpRequest,
    form: PaymentForm,
    *,
    title: str,
    back_url: str,
    back_label: str,
    payment: Payment | None = None,
    chosen: dict[str, Any] | None = None,
) -> HttpResponse:
    period = None
    if payment is not None:
        period = MembershipPeriod.objects.for_org(request.organization).filter(payment=payment)
        period = period.first()
    return TemplateResponse(
        request,
        "payments/payment_form.html",
        {
            "form": form,
            "title": title,
            "back_url": back_url,
            "back_label": back_label,
            "payment": payment,
            "chosen": chosen or _chosen(request.organization, form),
            "validity": _validity(
                request.organization,
                kind=_value(form, "kind"),
                paid_on=_value(form, "paid_on"),
                valid_from=_value(form, "valid_from"),
                valid_until=_value(form, "valid_until"),
                period=period,
                errors=form.errors,
            ),
            "payment_id": payment.pk if payment else None,
        },
    )


@member_required("payments", "add")
def payment_create(request: HttpRequest) -> HttpResponse:
    """« Nouveau don », « Nouvelle adhésion »…: from a table, or from a card (payer chosen)."""
    params = request.GET
    kind = params.get("kind", "")
    kind = kind if kind in TABLES else PaymentKind.DONATION
    initial: dict[str, Any] = {"kind": kind}
    for name in ("payer_contact", "payer_structure"):
        if as_id(params.get(name, "")):
            initial[name] = params[name]
    form = PaymentForm(
        _posted(request),
        organization=request.organization,
        membership=request.membership,
        initial=initial,
    )
    back = _back(request, reverse(TABLES[kind].url_name))
    if request.method == "POST" and form.is_valid():
        try:
            payment = services.create_payment(
                organization=request.organization,
                actor=_actor(request),
                membership=request.membership,
                **form.values(),
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(
                request, f"Paiement enregistré : {_summary(payment)}, payé par {payment.payer}."
            )
            if params.get("retour") or request.POST.get("retour"):
                return redirect(back)
            return redirect(TABLES[payment.kind].url_name)
    chosen = _chosen(request.organization, form)
    who = chosen["payer_contact"] or chosen["payer_structure"]
    from_card = bool(params.get("retour") or request.POST.get("retour")) and who
    return _form_page(
        request,
        form,
        title=TABLES[kind].new_label,
        back_url=back,
        back_label=str(who) if from_card else TABLES[kind].title,
        chosen=chosen,
    )


@member_required()
def payment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_payment(request, pk, action="change")
    form = PaymentForm(
        _posted(request),
        organization=request.organization,
        membership=request.membership,
        instance=payment,
    )
    back = _back(request, reverse("payment_detail", args=[payment.pk]))
    if request.method == "POST" and form.is_valid():
        try:
            payment = services.update_payment(
                organization=request.organization,
                actor=_actor(request),
                payment=payment,
                membership=request.membership,
                **form.values(),
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Paiement enregistré : {_summary(payment)}.")
            return redirect(back)
    _decorate([payment])
    return _form_page(
        request,
        form,
        title=f"Modifier le paiement — {payment.amount_display} du {payment.paid_on:%d/%m/%Y}",
        back_url=back,
        back_label="Le paiement",
        payment=payment,
    )


def _payment_interactions(request: HttpRequest, payment: Payment) -> list[Interaction]:
    """The Paiement interactions the payment keeps on its payer and beneficiary."""
    if not can(request.membership, "view", "interactions"):
        return []
    return list(
        Interaction.objects.for_org(request.organization)
        .filter(
            source=Interaction.Source.PAYMENT,
            source_type=ContentType.objects.get_for_model(Payment),
            source_id=payment.pk,
        )
        .select_related("contact", "type")
        .order_by("occurred_at", "pk")
    )


@member_required()
def payment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then delete the payment with its interactions and membership period."""
    payment = get_payment(request, pk, action="delete")
    if request.method == "POST":
        services.delete_payment(
            organization=request.organization, actor=_actor(request), payment=payment
        )
        messages.success(request, f"Paiement supprimé : {_summary(payment)}.")
        return redirect(TABLES[payment.kind].url_name)
    _decorate([payment])
    return TemplateResponse(
        request,
        "payments/payment_delete.html",
        {
            "payment": payment,
            "table": TABLES[payment.kind],
            "period": MembershipPeriod.objects.for_org(request.organization)
            .filter(payment=payment)
            .first(),
            "interaction_count": len(_payment_interactions(request, payment)),
        },
    )


@member_required()
def payment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything about one payment: fields, labels, custom fields, period, history."""
    payment = get_payment(request, pk)
    organization = request.organization
    _decorate([payment])
    return TemplateResponse(
        request,
        "payments/payment_detail.html",
        {
            "payment": payment,
            "table": TABLES[payment.kind],
            "labels": Label.objects.for_org(organization)
            .filter(payment_links__payment=payment)
            .order_by("name"),
            "custom": custom_values(
                organization=organization,
                membership=request.membership,
                target=CustomField.Target.PAYMENT,
                custom=payment.custom,
            ),
            "period": MembershipPeriod.objects.for_org(organization)
            .filter(payment=payment)
            .select_related("contact")
            .first(),
            "interactions": _payment_interactions(request, payment),
            "history": history_for(
                organization=organization,
                target=payment,
                membership=request.membership,
                limit=30,
            ),
        },
    )


# Sections of the contact and structure cards ---------------------------------------------


def _by_kind(payments, param: str, pk: int) -> list[dict[str, Any]]:
    """Links to each kind's table filtered on the contact or structure, with counts."""
    counts = dict(payments.order_by().values_list("kind").annotate(n=Count("id")))
    return [
        {
            "title": table.title,
            "url": f"{reverse(table.url_name)}?{param}={pk}",
            "count": counts[kind],
        }
        for kind, table in TABLES.items()
        if kind in counts
    ]


def _add_url(**params: Any) -> str:
    return f"{reverse('payment_create')}?{urlencode(params)}"


def _section(request: HttpRequest, context: dict[str, Any], payments, paid) -> HttpResponse:
    found = totals(paid)
    context.update(
        rows=_decorate(list(with_people(payments).order_by("-paid_on", "-id")[:CARD_LIMIT])),
        limit=CARD_LIMIT,
        paid_count=found["count"],
        paid_total=format_cents(found["total_cents"]),
    )
    return render_page(
        request,
        "payments/payment_section_page.html",
        context,
        partial="payments/partials/_payment_section.html",
    )


@member_required()
def contact_payments(request: HttpRequest, pk: int) -> HttpResponse:
    """The contact's payments (as payer or beneficiary) and membership, on their card."""
    contact = contacts_access.get_contact(request, pk)
    require(request, "view", "payments")
    organization = request.organization
    payments = filtered_payments(organization, PaymentQuery(contact=contact.pk))
    history = list(membership_history(organization, contact.pk))
    _decorate([period.payment for period in history if period.payment_id])
    back = reverse("contact_detail", args=[contact.pk])
    return _section(
        request,
        {
            "section": "contact",
            "contact": contact,
            "back_url": back,
            "add_url": _add_url(payer_contact=contact.pk, retour=back),
            "by_kind": _by_kind(payments, "contact", contact.pk),
            "membership": membership_status(organization, contact.pk),
            "history": history,
        },
        payments,
        Payment.objects.for_org(organization).paid().filter(payer_contact=contact),
    )


@member_required()
def structure_payments(request: HttpRequest, pk: int) -> HttpResponse:
    """The payments the structure made, on its card."""
    structure = contacts_access.get_structure(request, pk)
    require(request, "view", "payments")
    organization = request.organization
    payments = filtered_payments(organization, PaymentQuery(structure=structure.pk))
    back = reverse("structure_detail", args=[structure.pk])
    return _section(
        request,
        {
            "section": "structure",
            "structure": structure,
            "back_url": back,
            "add_url": _add_url(payer_structure=structure.pk, retour=back),
            "by_kind": _by_kind(payments, "structure", structure.pk),
        },
        payments,
        payments.filter(status=PAID),
    )
