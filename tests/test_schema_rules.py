"""Schema rules of ARCHITECTURE.md that every model must keep."""

from __future__ import annotations

from django.apps import apps
from django.db import models

from lien.core.models import TenantModel


def tenant_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantModel) and not model._meta.abstract
    ]


def leading_fields(model: type[models.Model]) -> list[str]:
    firsts = [index.fields[0].lstrip("-") for index in model._meta.indexes if index.fields]
    firsts += [
        constraint.fields[0]
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields
    ]
    return firsts


def test_every_tenant_table_has_an_index_leading_with_organization():
    missing = [
        model._meta.label
        for model in tenant_models()
        if "organization" not in leading_fields(model)
    ]

    assert missing == []


def test_unique_constraints_lead_with_organization():
    wrong = [
        f"{model._meta.label}.{constraint.name}"
        for model in tenant_models()
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint)
        and constraint.fields
        and constraint.fields[0] != "organization"
    ]

    assert wrong == []
