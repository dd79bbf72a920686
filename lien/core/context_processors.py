"""What every page of the shell needs: the organisation, the member, their rights, the menu."""

from __future__ import annotations

from lien.core.menu import menu_for
from lien.core.rights import rights_table


def shell(request) -> dict:
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    return {
        "organization": request.organization,
        "membership": membership,
        "rights": rights_table(membership),
        "menu": menu_for(request),
        "other_memberships": [
            m
            for m in request.user.memberships.filter(is_active=True)
            .select_related("organization")
            .order_by("organization__name")
            if m.pk != membership.pk
        ],
    }
