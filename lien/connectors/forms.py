"""The HelloAsso connector's forms: credentials, start date, forms to bring in, questions.

Forms check what was typed (a French message on the field); the services
(lien.connectors.helloasso.services) decide the business rules (a Checkout form
without a table, an unknown custom field).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils import timezone

from lien.connectors.helloasso import services
from lien.connectors.helloasso.sync import CUSTOM_PREFIX
from lien.connectors.models import HelloAssoConnection, HelloAssoForm
from lien.core.models import Organization
from lien.payments.models import PaymentKind

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# « https://www.helloasso.com/associations/les-amis-du-parc/adhesions/2026 » → the slug.
SLUG_IN_URL = re.compile(r"helloasso(?:-sandbox)?\.com/associations/([^/?#\s]+)", re.I)
EXTRA_MAPPING_ROWS = 3


def clean_slug(value: str) -> str:
    """The organisation slug as HelloAsso writes it; a pasted page address is read too."""
    value = (value or "").strip()
    found = SLUG_IN_URL.search(value)
    if found:
        value = found.group(1)
    value = value.strip("/ ").lower()
    if not SLUG.match(value):
        raise forms.ValidationError(
            "Identifiant illisible : c'est la partie de l'adresse de votre page HelloAsso "
            "après « /associations/ », en minuscules et tirets (ex. « les-amis-du-parc »)."
        )
    return value


class CredentialsForm(forms.Form):
    client_id = forms.CharField(
        label="Identifiant client (client id)",
        max_length=200,
        help_text="Sur HelloAsso : Mon compte › Intégrations et API › Mes clés API.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    client_secret = forms.CharField(
        label="Secret client (client secret)",
        max_length=500,
        required=False,
        strip=True,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "new-password", "spellcheck": "false"}
        ),
    )
    organization_slug = forms.CharField(
        label="Identifiant de l'association sur HelloAsso",
        max_length=250,
        help_text="La fin de l'adresse de votre page HelloAsso : pour helloasso.com/"
        "associations/les-amis-du-parc, c'est «\u00a0les-amis-du-parc\u00a0». Vous pouvez coller "
        "l'adresse entière.",
    )

    def __init__(self, *args: Any, connection: HelloAssoConnection | None, **kwargs: Any) -> None:
        if connection is not None:
            kwargs.setdefault(
                "initial",
                {
                    "client_id": connection.client_id,
                    "organization_slug": connection.organization_slug,
                },
            )
        super().__init__(*args, **kwargs)
        self.has_secret = bool(connection and connection.has_secret)
        secret = self.fields["client_secret"]
        if self.has_secret:
            secret.widget.attrs["placeholder"] = "enregistré"
            secret.help_text = (
                "Le secret enregistré n'est jamais réaffiché. Laissez le champ vide pour le "
                "garder, ou saisissez-en un nouveau pour le remplacer."
            )
        else:
            secret.help_text = "Affiché une seule fois par HelloAsso à la création de la clé."

    def clean_client_id(self) -> str:
        value = self.cleaned_data["client_id"].strip()
        if any(c.isspace() for c in value):
            raise forms.ValidationError("L'identifiant client ne contient pas d'espace.")
        return value

    def clean_client_secret(self) -> str:
        value = self.cleaned_data.get("client_secret") or ""
        if not value and not self.has_secret:
            raise forms.ValidationError("Le secret client est obligatoire.")
        return value

    def clean_organization_slug(self) -> str:
        return clean_slug(self.cleaned_data["organization_slug"])


class StartDateForm(forms.Form):
    start_date = forms.DateField(
        label="Importer les paiements et contacts à partir du",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Les commandes HelloAsso antérieures ne sont pas importées. Laissez vide "
        "pour tout reprendre depuis l'ouverture du compte HelloAsso.",
    )

    def clean_start_date(self) -> dt.date | None:
        value = self.cleaned_data.get("start_date")
        if value and value > timezone.localdate():
            raise forms.ValidationError("La date ne peut pas être dans le futur.")
        if value and value.year < 2000:
            raise forms.ValidationError("Indiquez une date à partir de l'an 2000.")
        return value


class FormsChoiceForm(forms.Form):
    """One checkbox a HelloAsso form; for Checkout forms, the payment table they go to."""

    def __init__(self, *args: Any, forms_list: list[HelloAssoForm], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.forms_list = forms_list
        for form in forms_list:
            self.fields[f"form_{form.pk}"] = forms.BooleanField(
                label=form.title or form.form_slug, required=False, initial=form.selected
            )
            if form.form_type == "Checkout":
                label = f"Table des paiements de « {form.title or form.form_slug} »"
                self.fields[f"kind_{form.pk}"] = forms.ChoiceField(
                    label=label,
                    choices=[("", "— choisir la table —"), *table_choices()],
                    required=False,
                    initial=form.checkout_kind,
                    # The table shows no label cell: the select names itself.
                    widget=forms.Select(attrs={"aria-label": label}),
                )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for form in self.forms_list:
            if (
                form.form_type == "Checkout"
                and data.get(f"form_{form.pk}")
                and not data.get(f"kind_{form.pk}")
            ):
                self.add_error(
                    f"kind_{form.pk}",
                    "Choisissez la table où vont les paiements de ce formulaire.",
                )
        return data

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "form": form,
                "selected": self[f"form_{form.pk}"],
                "kind": self[f"kind_{form.pk}"] if form.form_type == "Checkout" else None,
            }
            for form in self.forms_list
        ]

    def selected(self) -> dict[int, str | None]:
        """Form pk → table (Checkout forms only) of the ticked forms."""
        return {
            form.pk: (self.cleaned_data.get(f"kind_{form.pk}") or None)
            if form.form_type == "Checkout"
            else None
            for form in self.forms_list
            if self.cleaned_data.get(f"form_{form.pk}")
        }


def table_choices() -> list[tuple[str, str]]:
    """The payment tables as the menu names them."""
    names = {
        PaymentKind.DONATION: "Dons",
        PaymentKind.MEMBERSHIP: "Adhésions",
        PaymentKind.TICKETING: "Billetterie",
        PaymentKind.CROWDFUNDING: "Crowdfunding",
        PaymentKind.SHOP: "Boutique",
        PaymentKind.OTHER: "Autres paiements",
    }
    return [(kind.value, names[kind]) for kind in PaymentKind]


def mapping_targets(organization: Organization) -> list[tuple[str, Any]]:
    """The select of a question: the contact fields, then the contact custom fields (the
    targets the service accepts, grouped)."""
    fields, customs = [], []
    for value, label in services.mapping_targets(organization):
        (customs if value.startswith(CUSTOM_PREFIX) else fields).append((value, label))
    groups: list[tuple[str, Any]] = [
        ("", "— ne pas reprendre —"),
        ("Champs du contact", fields),
    ]
    if customs:
        groups.append(("Champs personnalisés", customs))
    return groups


class FieldMappingsForm(forms.Form):
    """Rows of (HelloAsso question, Lien field): the saved ones and a few empty ones."""

    def __init__(
        self, *args: Any, organization: Organization, mappings: dict[str, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        targets = mapping_targets(organization)
        known = {value for _g, group in targets[1:] for value, _label in group}
        saved = list(mappings.items())
        # Saved rows, then a few empty ones; saving offers as many empty rows again.
        self.count = len(saved) + EXTRA_MAPPING_ROWS
        for index in range(self.count):
            question, target = saved[index] if index < len(saved) else ("", "")
            choices = targets
            if target and target not in known:
                # A field deleted since: keep it visible so the row can be changed.
                choices = [*targets, ("Champ disparu", [(target, target)])]
            self.fields[f"question_{index}"] = forms.CharField(
                label="Question HelloAsso", required=False, max_length=250, initial=question
            )
            self.fields[f"target_{index}"] = forms.ChoiceField(
                label="Champ de Lien", required=False, choices=choices, initial=target
            )

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"question": self[f"question_{i}"], "target": self[f"target_{i}"]}
            for i in range(self.count)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        seen: dict[str, int] = {}
        for index in range(self.count):
            question = " ".join((data.get(f"question_{index}") or "").split())
            target = data.get(f"target_{index}") or ""
            # A row whose question is emptied is dropped: that is how one is removed.
            if question and not target:
                self.add_error(f"target_{index}", "Choisissez le champ que remplit la réponse.")
            elif question:
                if question.casefold() in seen:
                    self.add_error(f"question_{index}", "Cette question est déjà associée.")
                seen[question.casefold()] = index
        return data

    def mappings(self) -> dict[str, str]:
        result = {}
        for index in range(self.count):
            question = " ".join((self.cleaned_data.get(f"question_{index}") or "").split())
            target = self.cleaned_data.get(f"target_{index}") or ""
            if question and target:
                result[question] = target
        return result
