"""Forms for recording interactions and managing their types, categories and labels.

Forms only shape input; the services check it (the same rules as the API and
imports) and their ValidationError lands on the field it names. A type, category
or label is picked from a list or typed as a new name, created on the fly.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from lien.core.models import Organization
from lien.interactions.models import (
    InteractionCategory,
    InteractionLabel,
    InteractionStatus,
    InteractionType,
)

STATUS_CHOICES = [
    ("", "Statut par défaut du type"),
    (InteractionStatus.ACTIVE, "Active (le contact a agi)"),
    (InteractionStatus.PASSIVE, "Passive (le contact a reçu)"),
]


def _choices(rows, empty: str) -> list[tuple[str, str]]:
    return [("", empty)] + [(str(pk), name) for pk, name in rows]


class InteractionForm(forms.Form):
    """One interaction's fields (the contact is chosen by the page: card, search, selection)."""

    type = forms.ChoiceField(label="Type", required=False)
    new_type = forms.CharField(
        label="ou nouveau type",
        required=False,
        max_length=100,
        help_text="Créé à l'enregistrement s'il n'existe pas encore.",
    )
    occurred_at = forms.CharField(
        label="Date",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    status = forms.ChoiceField(label="Statut", required=False, choices=STATUS_CHOICES)
    category = forms.ChoiceField(label="Catégorie", required=False)
    new_category = forms.CharField(label="ou nouvelle catégorie", required=False, max_length=100)
    label = forms.ChoiceField(label="Libellé", required=False)
    new_label = forms.CharField(label="ou nouveau libellé", required=False, max_length=200)
    structure = forms.ChoiceField(label="Avec la structure", required=False)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self,
        data=None,
        *,
        organization: Organization,
        structures: list[tuple[int, str]] | None = None,
        instance=None,
        choose_contact: bool = False,
        **kwargs: Any,
    ) -> None:
        if instance is not None:
            kwargs["initial"] = {
                "type": str(instance.type_id),
                "occurred_at": timezone.localtime(instance.occurred_at).strftime("%Y-%m-%dT%H:%M"),
                "status": instance.status,
                "category": str(instance.category_id or ""),
                "label": str(instance.label_id or ""),
                "structure": str(instance.structure_id or ""),
                "description": instance.description,
            }
        else:
            kwargs.setdefault("initial", {})
            kwargs["initial"].setdefault(
                "occurred_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M")
            )
        super().__init__(data, **kwargs)
        types = InteractionType.objects.for_org(organization).order_by("position", "name")
        self.fields["type"].choices = _choices(types.values_list("pk", "name"), "Choisir…")
        self.fields["category"].choices = _choices(
            InteractionCategory.objects.for_org(organization).values_list("pk", "name"), "—"
        )
        self.fields["label"].choices = _choices(
            InteractionLabel.objects.for_org(organization).values_list("pk", "name"), "—"
        )
        if choose_contact:  # picked by quick search; the service checks it is ours
            self.fields["contact"] = forms.CharField(label="Contact", required=False)
        if structures is None:
            del self.fields["structure"]
        else:
            self.fields["structure"].choices = _choices(structures, "Aucune")

    def values(self) -> dict[str, Any]:
        """The service's keyword arguments: a typed new name wins over the list."""
        data = self.cleaned_data
        return {
            "occurred_at": data["occurred_at"],
            "type": data["new_type"].strip() or data["type"],
            "category": data["new_category"].strip() or data["category"],
            "label": data["new_label"].strip() or data["label"],
            "status": data["status"] or None,
            "structure": data.get("structure") or None,
            "description": data["description"],
        }


class SettingForm(forms.Form):
    """The name of a type, category or label; a type also has its default status."""

    name = forms.CharField(label="Nom", max_length=200)
    default_status = forms.ChoiceField(
        label="Statut par défaut", choices=STATUS_CHOICES[1:], required=False
    )

    def __init__(self, data=None, *, kind: str, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        if kind != "type":
            del self.fields["default_status"]
        if kind != "label":  # the model's limit: 100 for types and categories, 200 for labels
            self.fields["name"] = forms.CharField(label="Nom", max_length=100)
