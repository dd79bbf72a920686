"""Pagination that refuses malformed parameters instead of silently ignoring them."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination


class StrictLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 500

    def _parse(self, request, name: str, minimum: int, maximum: int | None = None) -> None:
        raw = request.query_params.getlist(name)
        if not raw:
            return
        if len(raw) > 1:
            raise ValidationError({name: [f"Le paramètre « {name} » est donné plusieurs fois."]})
        try:
            value = int(raw[0])
        except ValueError as error:
            raise ValidationError({name: [f"« {raw[0]} » n'est pas un nombre entier."]}) from error
        if value < minimum:
            raise ValidationError({name: [f"La valeur minimale est {minimum}."]})
        if maximum is not None and value > maximum:
            raise ValidationError({name: [f"La valeur maximale est {maximum}."]})

    def paginate_queryset(self, queryset, request, view=None):
        self._parse(request, self.limit_query_param, 1, self.max_limit)
        self._parse(request, self.offset_query_param, 0)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
            self.offset_query_param: {"minimum": 0},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
