"""Forms of the campaign pages, the payment settings and the accounting export.

Forms only shape input; the services check it (the same rules as the API and imports)
and their ValidationError lands on the field it names. Dates and amounts are typed as
people write them (« 31/12/2026 », « 5 000 ») and parsed by the services' parsers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.validators import RegexValidator

from lien.payments.accounting import FORMATS
from lien.payments.models import (
    Campaign,
    MembershipPeriodMode,
    Payment,
    PaymentKind,
    PaymentSettings,
)
from lien.payments.services import ACCOUNT_RE, parse_date

MONTHS = [
    (1, "janvier"), (2, "février"), (3, "mars"), (4, "avril"), (5, "mai"), (6, "juin"),
    (7, "juillet"), (8, "août"), (9, "septembre"), (10, "octobre"), (11, "novembre"),
    (12, "décembre"),
]  # fmt: skip


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"})


def euros(cents: int | None) -> str:
    """5000000 → "50000", 5050 → "50,50": an amount as a person would type it back."""
    if cents is None:
        return ""
    whole, rest = divmod(cents, 100)
    return f"{whole},{rest:02d}" if rest else str(whole)


class CampaignForm(forms.Form):
    """A campaign's fields; the service checks the dates, the goal and the name's uniqueness."""

    name = forms.CharField(label="Nom", max_length=200)
    kind = forms.ChoiceField(label="Type de paiements", choices=PaymentKind.choices)
    start_date = forms.CharField(label="Début", required=False, widget=_date_input())
    end_date = forms.CharField(label="Fin", required=False, widget=_date_input())
    goal = forms.CharField(
        label="Objectif (€)",
        required=False,
        max_length=30,
        help_text="Le montant à collecter, par exemple 5 000. Laissez vide s'il n'y en a pas.",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, data=None, *, instance: Campaign | None = None, **kwargs: Any) -> None:
        if instance is not None:
            kwargs["initial"] = {
                "name": instance.name,
                "kind": instance.kind,
                "start_date": instance.start_date.isoformat() if instance.start_date else "",
                "end_date": instance.end_date.isoformat() if instance.end_date else "",
                "goal": euros(instance.goal_cents),
                "description": instance.description,
            }
        super().__init__(data, **kwargs)

    def values(self) -> dict[str, Any]:
        """The keyword arguments of `save_campaign`."""
        return {name: self.cleaned_data[name] for name in self.fields}


# Payment settings ------------------------------------------------------------------------

ACCOUNT_NUMBER = RegexValidator(
    ACCOUNT_RE,
    "Un numéro de compte : chiffres et lettres, sans espace, 20 caractères au plus.",
)
JOURNAL_CODE = RegexValidator(ACCOUNT_RE, "Un code journal de 1 à 10 lettres ou chiffres.")


def _account_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=20,
        validators=[ACCOUNT_NUMBER],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "style": "max-width: 10rem"}),
    )


class PaymentSettingsForm(forms.Form):
    """The organisation's payment rules: labels, membership validity, the chart of accounts."""

    auto_labels = forms.BooleanField(
        label="Poser et retirer automatiquement ces étiquettes", required=False
    )
    membership_mode = forms.ChoiceField(
        label="Durée de validité d'une adhésion", choices=MembershipPeriodMode.choices
    )
    season_start_month = forms.TypedChoiceField(
        label="Mois de début de saison",
        choices=MONTHS,
        coerce=int,
        help_text="Seulement pour une validité par saison (septembre : saison 2026-2027 "
        "du 1er septembre 2026 au 31 août 2027).",
    )
    renewal_days = forms.IntegerField(
        label="Délai « à renouveler » (jours)",
        min_value=0,
        max_value=366,
        help_text="Un adhérent passe « à renouveler » ce nombre de jours avant la fin de "
        "son adhésion.",
        error_messages={
            "invalid": "Un nombre de jours.",
            "min_value": "Entre 0 et 366 jours.",
            "max_value": "Entre 0 et 366 jours.",
        },
    )
    journal_code = forms.CharField(
        label="Code journal (banque)",
        max_length=10,
        validators=[JOURNAL_CODE],
        widget=forms.TextInput(attrs={"style": "max-width: 10rem"}),
    )
    cash_journal_code = forms.CharField(
        label="Code journal de caisse (espèces)",
        max_length=10,
        validators=[JOURNAL_CODE],
        widget=forms.TextInput(attrs={"style": "max-width: 10rem"}),
    )

    def __init__(self, data=None, *, instance: PaymentSettings, **kwargs: Any) -> None:
        kwargs["initial"] = {
            "auto_labels": instance.auto_labels,
            "membership_mode": instance.membership_mode,
            "season_start_month": instance.season_start_month,
            "renewal_days": instance.renewal_days,
            "journal_code": instance.journal_code,
            "cash_journal_code": instance.cash_journal_code,
            **{f"income_{k}": instance.income_accounts.get(k, "") for k in PaymentKind.values},
            **{
                f"treasury_{m}": instance.treasury_accounts.get(m, "")
                for m in Payment.Method.values
            },
        }
        super().__init__(data, **kwargs)
        for kind, label in PaymentKind.choices:
            self.fields[f"income_{kind}"] = _account_field(label)
        for method, label in Payment.Method.choices:
            self.fields[f"treasury_{method}"] = _account_field(label)

    def income_fields(self) -> list[forms.BoundField]:
        return [self[f"income_{kind}"] for kind in PaymentKind.values]

    def treasury_fields(self) -> list[forms.BoundField]:
        return [self[f"treasury_{method}"] for method in Payment.Method.values]

    def values(self) -> dict[str, Any]:
        """The keyword arguments of `update_payment_settings`."""
        data = self.cleaned_data
        return {
            "auto_labels": data["auto_labels"],
            "membership_mode": data["membership_mode"],
            "season_start_month": data["season_start_month"],
            "renewal_days": data["renewal_days"],
            "journal_code": data["journal_code"],
            "cash_journal_code": data["cash_journal_code"],
            "income_accounts": {k: data[f"income_{k}"] for k in PaymentKind.values},
            "treasury_accounts": {m: data[f"treasury_{m}"] for m in Payment.Method.values},
        }


# Accounting export ---------------------------------------------------------------------------


def last_full_year(today: dt.date) -> tuple[dt.date, dt.date]:
    return dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)


class AccountingExportForm(forms.Form):
    """The period and the format of an export of the paid payments."""

    start = forms.CharField(label="Du", widget=_date_input())
    end = forms.CharField(label="Au", widget=_date_input())
    fmt = forms.ChoiceField(
        label="Format",
        choices=list(FORMATS.items()),
        widget=forms.RadioSelect,
        help_text="Le FEC (fichier des écritures comptables) s'importe dans la plupart des "
        "logiciels comptables ; le journal CSV s'ouvre dans un tableur.",
    )

    def __init__(self, data=None, *, today: dt.date, **kwargs: Any) -> None:
        start, end = last_full_year(today)
        kwargs.setdefault(
            "initial", {"start": start.isoformat(), "end": end.isoformat(), "fmt": "fec"}
        )
        super().__init__(data, **kwargs)
        self.fields["start"].error_messages["required"] = "La date de début est obligatoire."
        self.fields["end"].error_messages["required"] = "La date de fin est obligatoire."

    def clean_start(self) -> dt.date:
        return parse_date(self.cleaned_data["start"], what="La date de début")

    def clean_end(self) -> dt.date:
        return parse_date(self.cleaned_data["end"], what="La date de fin")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "La date de fin est avant la date de début.")
        return data
