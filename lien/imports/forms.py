"""The import wizard's forms: the upload, the reading settings, the mapping and options.

Forms validate what the user typed (400-like field messages); the services decide the
business rules (an unknown field, a mapping that sends two columns to one field).
"""

from __future__ import annotations

from typing import Any

from django import forms

from lien.contacts.models import Group, Label
from lien.core.models import Organization
from lien.imports.files import DELIMITER_LABELS, ENCODING_LABELS, format_mo, max_bytes
from lien.imports.models import Import, ImportTarget, UpdatePolicy
from lien.imports.wizard import CUSTOM_TYPES, DATE_FORMATS, IGNORE, NEW_FIELD, field_choices
from lien.payments.models import PaymentKind


class UploadForm(forms.Form):
    target = forms.ChoiceField(
        label="Type de données à importer",
        choices=ImportTarget.choices,
        widget=forms.RadioSelect,
        initial=ImportTarget.CONTACTS,
    )
    file = forms.FileField(
        label="Fichier",
        help_text="",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx,.xlsb,.xls,.ods"}),
    )

    def __init__(self, *args: Any, targets: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [c for c in ImportTarget.choices if c[0] in targets]
        self.fields["file"].help_text = (
            "CSV (tout séparateur, tout encodage courant), Excel (XLSX, XLS) ou "
            f"OpenDocument (ODS), {format_mo(max_bytes())} au plus."
        )

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > max_bytes():
            raise forms.ValidationError(
                f"Le fichier pèse {format_mo(file.size)} : la limite est de "
                f"{format_mo(max_bytes())}."
            )
        return file


class ReadingForm(forms.Form):
    """How the file is read: what was detected, changeable."""

    encoding = forms.ChoiceField(label="Encodage", required=False)
    delimiter = forms.ChoiceField(label="Séparateur", required=False)
    sheet = forms.ChoiceField(label="Feuille", required=False)
    header_row = forms.IntegerField(
        label="Ligne des en-têtes",
        min_value=0,
        max_value=1000,
        help_text="0 : le fichier n'a pas de ligne d'en-têtes.",
    )

    def __init__(self, *args: Any, imp: Import, sheets: list[str], **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "encoding": imp.encoding,
                "delimiter": imp.delimiter,
                "sheet": imp.sheet,
                "header_row": imp.header_row,
            },
        )
        super().__init__(*args, **kwargs)
        self.is_csv = imp.file_format == "csv"
        encodings = dict(ENCODING_LABELS)
        if imp.encoding and imp.encoding not in encodings:
            encodings[imp.encoding] = imp.encoding
        self.fields["encoding"].choices = list(encodings.items())
        delimiters = {d: f"{label} ( {d} )" for d, label in DELIMITER_LABELS.items()}
        delimiters["\t"] = "tabulation"
        self.fields["delimiter"].choices = list(delimiters.items())
        self.fields["sheet"].choices = [(s, s) for s in sheets]
        if self.is_csv:
            del self.fields["sheet"]
        else:
            del self.fields["encoding"]
            del self.fields["delimiter"]

    def reading(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")} | {
            "header_row": self.cleaned_data["header_row"]
        }


class MappingForm(forms.Form):
    """One select per column, the new custom fields, the transforms and the options."""

    date_format = forms.ChoiceField(label="Format des dates", choices=DATE_FORMATS, required=False)
    decimal_comma = forms.ChoiceField(
        label="Marque décimale des montants et nombres",
        choices=[
            ("", "Automatique (« 12,50 » comme « 12.50 »)"),
            ("1", "Virgule : « 1.234,50 » se lit mille deux cent trente-quatre"),
        ],
        required=False,
    )
    create_missing_choices = forms.BooleanField(
        label="Créer les choix manquants",
        required=False,
        help_text="Les valeurs inconnues d'une liste déroulante (ou d'un type, d'une "
        "catégorie, d'une campagne) sont ajoutées à ses choix à l'import.",
    )
    update_policy = forms.ChoiceField(
        label="Fiches déjà présentes dans Lien",
        choices=UpdatePolicy.choices,
        widget=forms.RadioSelect,
        initial=UpdatePolicy.FILL,
    )
    labels = forms.MultipleChoiceField(
        label="Étiquettes à ajouter à chaque ligne",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    group = forms.ChoiceField(label="Groupe où ajouter chaque ligne", required=False)
    skip_errors = forms.BooleanField(
        label="Ignorer les lignes en erreur",
        required=False,
        help_text="Sinon l'import ne se lance que sur un fichier sans erreur.",
    )
    template_name = forms.CharField(
        label="Enregistrer comme modèle",
        required=False,
        max_length=150,
        help_text="Un nom (ex. « Adhérents HelloAsso ») : un fichier aux mêmes en-têtes "
        "se verra proposer ces correspondances.",
    )

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        imp: Import,
        columns: list,
        choice_fields: list,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.imp = imp
        self.columns = columns
        self.choice_fields = choice_fields
        options = imp.options or {}
        transforms = imp.transforms or {}
        choices = field_choices(organization, imp.target)
        self.has_custom = any(value == NEW_FIELD for _g, group in choices[1:] for value, _ in group)
        for column in columns:
            name = f"col_{column.index}"
            self.fields[name] = forms.ChoiceField(
                label=column.header or f"Colonne {column.index + 1}",
                choices=choices,
                required=False,
                initial=column.key,
            )
            self.fields[name].widget.attrs["data-new-field"] = f"new-{column.index}"
            if self.has_custom:
                self.fields[f"new_name_{column.index}"] = forms.CharField(
                    label="Nom du nouveau champ",
                    required=False,
                    max_length=100,
                    initial=column.header,
                )
                self.fields[f"new_type_{column.index}"] = forms.ChoiceField(
                    label="Type", choices=CUSTOM_TYPES, required=False, initial="text"
                )
        for item_index, item in enumerate(choice_fields):
            for value_index, (_text, chosen, _auto) in enumerate(item.values):
                self.fields[f"choice_{item_index}_{value_index}"] = forms.ChoiceField(
                    label=_text,
                    choices=[("", "— valeur du fichier —"), *item.choices],
                    required=False,
                    initial=chosen,
                )
        self.fields["labels"].choices = [
            (str(pk), name)
            for pk, name in Label.objects.for_org(organization)
            .order_by("name")
            .values_list("pk", "name")
        ]
        self.fields["group"].choices = [("", "— aucun —")] + [
            (str(pk), name)
            for pk, name in Group.objects.for_org(organization)
            .order_by("name")
            .values_list("pk", "name")
        ]
        self.initial.update(
            {
                "date_format": transforms.get("date_format", ""),
                "decimal_comma": "1" if transforms.get("decimal_comma") else "",
                "create_missing_choices": bool(transforms.get("create_missing_choices")),
                "update_policy": options.get("update_policy") or UpdatePolicy.FILL,
                "labels": [str(pk) for pk in options.get("labels") or []],
                "group": str(options.get("group") or ""),
                "skip_errors": bool(options.get("skip_errors")),
            }
        )
        if imp.target == ImportTarget.PAYMENTS:
            self.fields["payment_kind"] = forms.ChoiceField(
                label="Type des paiements",
                choices=[("", "— colonne « Type » du fichier —"), *PaymentKind.choices],
                required=False,
                initial=transforms.get("payment_kind", ""),
                help_text="Quand le fichier n'a pas de colonne « Type ».",
            )
        if imp.template_id:
            self.fields["template_name"].help_text += (
                " Pour mettre à jour le modèle appliqué, reprenez son nom : "
                f"« {imp.template.name} »."
            )
        date_format = transforms.get("date_format") or ""
        if date_format not in dict(DATE_FORMATS):
            self.fields["date_format"].choices = [*DATE_FORMATS, (date_format, date_format)]

    # Rows of the page: each column with its select and the new-field inputs.
    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "column": column,
                "field": self[f"col_{column.index}"],
                "new_name": self[f"new_name_{column.index}"] if self.has_custom else None,
                "new_type": self[f"new_type_{column.index}"] if self.has_custom else None,
            }
            for column in self.columns
        ]

    def value_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "item": item,
                "values": [
                    {"text": text, "auto": auto, "field": self[f"choice_{i}_{j}"]}
                    for j, (text, _chosen, auto) in enumerate(item.values)
                ],
            }
            for i, item in enumerate(self.choice_fields)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for column in self.columns:
            if (
                data.get(f"col_{column.index}") == NEW_FIELD
                and not (data.get(f"new_name_{column.index}") or "").strip()
            ):
                self.add_error(f"new_name_{column.index}", "Le nom du champ est obligatoire.")
        return data

    def new_fields(self) -> dict[int, tuple[str, str]]:
        """Column → (name, type) of the custom fields to create."""
        return {
            column.index: (
                self.cleaned_data[f"new_name_{column.index}"].strip(),
                self.cleaned_data.get(f"new_type_{column.index}") or "text",
            )
            for column in self.columns
            if self.cleaned_data.get(f"col_{column.index}") == NEW_FIELD
        }

    def mapping(self, created: dict[int, str]) -> dict[str, str]:
        mapping = {}
        for column in self.columns:
            key = self.cleaned_data.get(f"col_{column.index}") or IGNORE
            key = created.get(column.index, key)
            if key and key != NEW_FIELD:
                mapping[str(column.index)] = key
        return mapping

    def transforms(self) -> dict[str, Any]:
        choices: dict[str, dict[str, str]] = {}
        for i, item in enumerate(self.choice_fields):
            for j, (text, _chosen, _auto) in enumerate(item.values):
                chosen = self.cleaned_data.get(f"choice_{i}_{j}")
                if chosen:
                    choices.setdefault(item.key, {})[text] = chosen
        # Keep the value mappings of values not shown (beyond the sample) as they were.
        for key, mapped in (self.imp.transforms.get("choices") or {}).items():
            shown = {t for item in self.choice_fields if item.key == key for t, _, _ in item.values}
            for text, chosen in mapped.items():
                if text not in shown:
                    choices.setdefault(key, {})[text] = chosen
        result = {
            "date_format": self.cleaned_data.get("date_format") or "",
            "decimal_comma": self.cleaned_data.get("decimal_comma") == "1",
            "create_missing_choices": bool(self.cleaned_data.get("create_missing_choices")),
            "choices": choices,
        }
        if self.cleaned_data.get("payment_kind"):
            result["payment_kind"] = self.cleaned_data["payment_kind"]
        return result

    def options(self) -> dict[str, Any]:
        return {
            "update_policy": self.cleaned_data.get("update_policy") or UpdatePolicy.FILL,
            "labels": [int(pk) for pk in self.cleaned_data.get("labels") or []],
            "group": int(self.cleaned_data["group"]) if self.cleaned_data.get("group") else None,
            "skip_errors": bool(self.cleaned_data.get("skip_errors")),
        }


class RunForm(forms.Form):
    skip_errors = forms.BooleanField(label="Ignorer les lignes en erreur", required=False)
