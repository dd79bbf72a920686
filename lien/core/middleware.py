"""Resolve the organisation once per request: request.organization, request.membership."""

from __future__ import annotations

from lien.core.models import Membership

SESSION_KEY = "organization_id"


class OrganizationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organization = None
        request.membership = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            membership = current_membership(user, request.session.get(SESSION_KEY))
            if membership is not None:
                request.membership = membership
                request.organization = membership.organization
                request.session[SESSION_KEY] = membership.organization_id
        return self.get_response(request)


def current_membership(user, organization_id: int | None) -> Membership | None:
    """The member's chosen organisation if still valid, else their first one."""
    memberships = (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("organization", "profile")
        .order_by("organization__name")
    )
    if organization_id:
        chosen = memberships.filter(organization_id=organization_id).first()
        if chosen is not None:
            return chosen
    return memberships.first()
