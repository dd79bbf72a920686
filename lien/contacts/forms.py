"""Forms for contacts and structures, with their custom fields built from the definitions.

Forms only shape input; the services validate it (the same rules as the API and
imports) and their ValidationError lands on the right form field.
"""

from __future__ import annotations

from typing import Any

from django import forms

from lien.contacts.custom_fields import display_value, is_empty
from lien.contacts.models import Contact, CustomField, Structure
from lien.contacts.services import CONTACT_FIELDS, STRUCTURE_FIELDS

FieldType = CustomField.FieldType
CUSTOM_PREFIX = "custom__"
LANGUAGES = [
    ("fr", "Français"),
    ("en", "Anglais"),
    ("es", "Espagnol"),
    ("de", "Allemand"),
    ("it", "Italien"),
    ("pt", "Portugais"),
    ("ar", "Arabe"),
    ("nl", "Néerlandais"),
]


def custom_form_field(definition: CustomField) -> forms.Field:
    """A form field for one definition. Values are parsed by the service, not here."""
    common: dict[str, Any] = {
        "label": definition.name,
        "required": False,  # required-ness is enforced by the service, with its message
        "help_text": definition.help_text,
    }
    kind = definition.field_type
    if kind == FieldType.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind in (FieldType.INTEGER, FieldType.DECIMAL):
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    if kind == FieldType.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FieldType.BOOLEAN:
        return forms.ChoiceField(choices=[("", "—"), ("oui", "Oui"), ("non", "Non")], **common)
    if kind == FieldType.CHOICE:
        return forms.ChoiceField(
            choices=[("", "—")] + [(c, c) for c in definition.choices], **common
        )
    if kind == FieldType.MULTIPLE_CHOICE:
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in definition.choices],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    if kind == FieldType.EMAIL:
        return forms.CharField(widget=forms.EmailInput, **common)
    if kind == FieldType.PHONE:
        return forms.CharField(widget=forms.TextInput(attrs={"type": "tel"}), **common)
    if kind == FieldType.URL:
        return forms.CharField(widget=forms.URLInput, **common)
    return forms.CharField(**common)


def initial_custom(definition: CustomField, value: Any) -> Any:
    if is_empty(value):
        return None
    if definition.field_type == FieldType.BOOLEAN:
        return "oui" if value else "non"
    if definition.field_type in (FieldType.INTEGER, FieldType.DECIMAL):
        return display_value(definition, value)
    return value


class CustomFieldsMixin:
    """Adds one form field per custom definition, named `custom__<key>`."""

    def add_custom_fields(self, definitions: list[CustomField], values: dict[str, Any]) -> None:
        self.custom_definitions = definitions
        for definition in definitions:
            name = f"{CUSTOM_PREFIX}{definition.key}"
            self.fields[name] = custom_form_field(definition)
            if not self.is_bound:
                self.initial[name] = initial_custom(definition, values.get(definition.key))

    def custom_values(self) -> dict[str, Any]:
        return {
            d.key: self.cleaned_data.get(f"{CUSTOM_PREFIX}{d.key}") for d in self.custom_definitions
        }

    def custom_bound_fields(self):
        return [self[f"{CUSTOM_PREFIX}{d.key}"] for d in self.custom_definitions]

    def native_bound_fields(self):
        return [f for f in self if not f.name.startswith(CUSTOM_PREFIX)]

    def add_service_errors(self, error) -> None:
        """Put a service's ValidationError on the matching fields (custom.<key> included)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, errors in error.error_dict.items():
            name = (
                field.replace("custom.", CUSTOM_PREFIX, 1) if field.startswith("custom.") else field
            )
            self.add_error(name if name in self.fields else None, errors)


class ContactForm(CustomFieldsMixin, forms.ModelForm):
    """Native contact fields plus custom ones; the service does the validation."""

    allow_duplicate = forms.BooleanField(
        label="Créer quand même (c'est une autre personne avec la même adresse)", required=False
    )

    class Meta:
        model = Contact
        fields = CONTACT_FIELDS
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "email_consent_date": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "mobile": forms.TextInput(attrs={"type": "tel"}),
            "phone": forms.TextInput(attrs={"type": "tel"}),
        }

    preferred_language = forms.ChoiceField(label="Langue préférée", choices=LANGUAGES)

    def __init__(self, *args, definitions: list[CustomField], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["civility"].choices = [("", "—"), *Contact.Civility.choices]
        self.add_custom_fields(definitions, self.instance.custom or {})
        if self.instance.pk:
            del self.fields["allow_duplicate"]

    def native_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in CONTACT_FIELDS}

    def _post_clean(self) -> None:
        # The service validates and writes; the ModelForm must not touch the instance.
        pass


class StructureForm(CustomFieldsMixin, forms.ModelForm):
    class Meta:
        model = Structure
        fields = STRUCTURE_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    website = forms.CharField(label="Site web", required=False)

    def __init__(self, *args, definitions: list[CustomField], **kwargs):
        super().__init__(*args, **kwargs)
        self.add_custom_fields(definitions, self.instance.custom or {})

    def native_values(self) -> dict[str, Any]:
        values = {name: self.cleaned_data.get(name) for name in STRUCTURE_FIELDS}
        website = (values.get("website") or "").strip()
        if website and "://" not in website:
            values["website"] = f"https://{website}"
        return values

    def _post_clean(self) -> None:
        pass
