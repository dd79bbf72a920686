"""Forms of the organising pages: labels, custom fields, groups, households.

They only shape input; the services validate it and their ValidationError
lands on the matching field (see `lien.core.views.form_errors_to`).
"""

from __future__ import annotations

from typing import Any

from django import forms

from lien.contacts.forms import CustomFieldsMixin
from lien.contacts.models import CustomField, Group, Household
from lien.contacts.services import ADDRESS_FIELDS


class LabelForm(forms.Form):
    name = forms.CharField(label="Nom", max_length=80)
    color = forms.CharField(
        label="Couleur",
        max_length=7,
        initial="#2f6f5e",
        widget=forms.TextInput(attrs={"type": "color"}),
    )


class CustomFieldForm(forms.Form):
    """A definition; its type is fixed once created (the service refuses a change)."""

    target = forms.ChoiceField(label="S'applique à", choices=CustomField.Target.choices)
    name = forms.CharField(label="Nom", max_length=100)
    field_type = forms.ChoiceField(label="Type", choices=CustomField.FieldType.choices)
    choices = forms.CharField(
        label="Choix possibles",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Un choix par ligne (listes déroulantes et choix multiples).",
    )
    required = forms.BooleanField(label="Obligatoire", required=False)
    sensitive = forms.BooleanField(
        label="Sensible (masqué aux profils qui masquent les champs sensibles)", required=False
    )
    help_text = forms.CharField(label="Aide affichée sous le champ", max_length=250, required=False)
    position = forms.IntegerField(
        label="Ordre",
        min_value=0,
        required=False,
        help_text="Les champs s'affichent du plus petit au plus grand.",
    )

    def __init__(self, *args, field: CustomField | None = None, **kwargs):
        if field is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": field.name,
                "field_type": field.field_type,
                "choices": "\n".join(field.choices),
                "required": field.required,
                "sensitive": field.sensitive,
                "help_text": field.help_text,
                "position": field.position,
            }
        super().__init__(*args, **kwargs)
        if field is not None:
            del self.fields["target"]
            # Shown but not editable: the type of an existing field never changes.
            self.fields["field_type"].disabled = True
            self.fields[
                "field_type"
            ].help_text = (
                "Le type ne change pas après la création : créez un autre champ si besoin."
            )
            if field.field_type not in (
                CustomField.FieldType.CHOICE,
                CustomField.FieldType.MULTIPLE_CHOICE,
            ):
                del self.fields["choices"]
            else:
                self.fields["choices"].help_text = (
                    "Un choix par ligne. Pour corriger un choix déjà utilisé, "
                    "renommez-le ci-contre : les fiches suivent."
                )

    def choice_list(self) -> list[str]:
        return (self.cleaned_data.get("choices") or "").splitlines()


class RenameChoiceForm(forms.Form):
    old = forms.ChoiceField(label="Choix à renommer")
    new = forms.CharField(label="Nouveau nom", max_length=100)

    def __init__(self, *args, field: CustomField, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old"].choices = [(c, c) for c in field.choices]


class GroupForm(CustomFieldsMixin, forms.Form):
    """A group's name, description and its own custom values (one per field)."""

    name = forms.CharField(label="Nom", max_length=150)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, definitions: list[CustomField], group: Group | None = None, **kwargs):
        if group is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": group.name, "description": group.description}
        super().__init__(*args, **kwargs)
        self.add_custom_fields(definitions, group.custom if group else {})


class HouseholdForm(forms.Form):
    name = forms.CharField(label="Nom du foyer", max_length=200)
    street = forms.CharField(label="Adresse", max_length=250, required=False)
    street2 = forms.CharField(label="Complément d'adresse", max_length=250, required=False)
    postal_code = forms.CharField(label="Code postal", max_length=20, required=False)
    city = forms.CharField(label="Ville", max_length=120, required=False)
    country = forms.CharField(
        label="Pays", max_length=2, initial="FR", help_text="Code à deux lettres (FR)."
    )

    @classmethod
    def initial_from(cls, source: Any, name: str = "") -> dict[str, Any]:
        """Initial values from a household or a contact (its address)."""
        return {"name": name or getattr(source, "name", ""), **address_of(source)}

    def address(self) -> dict[str, str]:
        return {f: self.cleaned_data.get(f) or "" for f in ADDRESS_FIELDS}

    def clean_country(self) -> str:
        return (self.cleaned_data.get("country") or "FR").strip().upper()


def address_of(row: Household | Any) -> dict[str, str]:
    return {f: getattr(row, f) for f in ADDRESS_FIELDS}
