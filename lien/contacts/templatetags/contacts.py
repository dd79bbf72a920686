"""Template helpers for contact and structure lists and cards."""

from __future__ import annotations

import datetime as dt

from django import forms, template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from lien.contacts.custom_fields import display_value

register = template.Library()


def label_badges(labels) -> str:
    return format_html_join(
        " ",
        '<span class="label-badge" style="--label: {}">{}</span>',
        ((label.color, label.name) for label in labels),
    )


@register.simple_tag
def cell(row, column, page, entity) -> str:
    """One list cell: names link to the card, labels are badges, dates read in French."""
    if column.key == "name":
        return format_html(
            '<a href="{}">{}</a>', reverse(f"{entity.key}_detail", args=[row.pk]), _name(row)
        )
    if column.key == "labels":
        return label_badges(page.labels_by_row.get(row.pk, []))
    if column.custom is not None:
        return display_value(column.custom, (row.custom or {}).get(column.custom.key))
    value = getattr(row, column.key, "")
    if column.key == "kind":
        return row.get_kind_display()
    if column.key == "first_name":
        return format_html(
            '<a href="{}">{}</a>', reverse(f"{entity.key}_detail", args=[row.pk]), value or "—"
        )
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y")
    return value or ""


def _name(row) -> str:
    if hasattr(row, "last_name"):
        full = f"{row.last_name.upper()} {row.first_name}".strip()
        return full or row.email or f"Contact {row.pk}"
    return row.name


@register.simple_tag
def badges(labels) -> str:
    return label_badges(labels)


@register.filter
def single_checkbox(bound_field) -> bool:
    """A lone yes/no checkbox (label beside it), not a list of choices."""
    widget = bound_field.field.widget
    return isinstance(widget, forms.CheckboxInput)
