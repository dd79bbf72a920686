"""The export form: format, CSV flavour, and the columns (only those the member may see)."""

from __future__ import annotations

from django import forms

from lien.exports.services import FORMATS, FileOptions
from lien.exports.tables import ExportColumn

FLAVOURS = {
    "fr": "Excel en français : séparateur « ; », UTF-8 avec BOM",
    "intl": "Autres logiciels : séparateur « , », UTF-8 sans BOM",
}


class ColumnsField(forms.MultipleChoiceField):
    """Ticked columns; a key the member may not see (or no longer exists) is left out
    quietly, never an error: the form only offers what the member may see."""

    def valid_value(self, value: str) -> bool:
        return True

    def clean(self, value):
        known = {key for key, _label in self.choices}
        return super().clean([v for v in (value or []) if v in known])


class ExportForm(forms.Form):
    fmt = forms.ChoiceField(
        label="Format", choices=list(FORMATS.items()), initial="csv", widget=forms.RadioSelect
    )
    flavour = forms.ChoiceField(
        label="Variante CSV",
        choices=list(FLAVOURS.items()),
        initial="fr",
        required=False,
        widget=forms.RadioSelect,
    )
    columns = ColumnsField(
        label="Colonnes",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choisissez au moins une colonne."},
    )

    def __init__(self, *args, columns: list[ExportColumn], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.export_columns = columns
        self.fields["columns"].choices = [(c.key, c.label) for c in columns]
        self.fields["columns"].initial = [c.key for c in columns if c.default]

    def options(self) -> FileOptions:
        intl = self.cleaned_data.get("flavour") == "intl"
        return FileOptions(
            fmt=self.cleaned_data["fmt"], delimiter="," if intl else ";", bom=not intl
        )

    def groups(self) -> list[tuple[str, list[tuple[ExportColumn, bool]]]]:
        """The columns by group, each with whether it is ticked, for the template."""
        if self.is_bound:
            ticked = set(self.data.getlist("columns")) if hasattr(self.data, "getlist") else set()
        else:
            ticked = set(self.fields["columns"].initial)
        groups: dict[str, list[tuple[ExportColumn, bool]]] = {}
        for column in self.export_columns:
            groups.setdefault(column.group, []).append((column, column.key in ticked))
        return list(groups.items())
