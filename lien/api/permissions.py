"""The API asks the same `can()` as the pages: a view names its data type."""

from __future__ import annotations

from rest_framework import permissions

from lien.core.rights import can

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class MemberHasRight(permissions.BasePermission):
    """Authenticated, member of an organisation, and allowed on the view's `data_type`."""

    message = "Votre profil ne vous permet pas cette action."

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        membership = getattr(request._request, "membership", None)
        if membership is None:
            return False
        data_type = getattr(view, "data_type", None)
        if data_type is None:
            return True
        action = getattr(view, "action_rights", {}).get(getattr(view, "action", None))
        return can(membership, action or METHOD_ACTIONS.get(request.method, "change"), data_type)
