"""Access helpers: every view reaches rows through these (404 outside, 403 without right)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect

from lien.core.models import ApiToken, Invitation, Job, Membership, Profile
from lien.core.rights import can


def member_required(data_type: str | None = None, action: str = "view"):
    """Login, an active membership, and (if given) the right for `action` on `data_type`.

    With `data_type`, writes (POST) need `change` unless the view asks for more.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if request.membership is None:
                return redirect("no_organization")
            if data_type is not None:
                require(request, action, data_type)
            return view(request, *args, **kwargs)

        wrapper.lien_rights = (data_type, action)
        return wrapper

    return decorator


def require(request: HttpRequest, action: str, data_type: str) -> None:
    if not can(request.membership, action, data_type):
        raise PermissionDenied("Votre profil ne vous permet pas cette action.")


def get_membership(request: HttpRequest, pk: int, action: str = "view") -> Membership:
    require(request, action, "users")
    return get_object_or_404(
        Membership.objects.for_org(request.organization).select_related("user", "profile"), pk=pk
    )


def get_profile(request: HttpRequest, pk: int, action: str = "view") -> Profile:
    require(request, action, "users")
    return get_object_or_404(Profile.objects.for_org(request.organization), pk=pk)


def get_invitation(request: HttpRequest, pk: int, action: str = "view") -> Invitation:
    require(request, action, "users")
    return get_object_or_404(Invitation.objects.for_org(request.organization), pk=pk)


def get_api_token(request: HttpRequest, pk: int, action: str = "view") -> ApiToken:
    """A member sees their own tokens; an administrator of users sees everyone's."""
    tokens = ApiToken.objects.for_org(request.organization)
    if not can(request.membership, action, "users"):
        tokens = tokens.filter(user=request.user)
    return get_object_or_404(tokens, pk=pk)


# Jobs whose progress, message or file tell about a data type need its right too.
JOB_RIGHTS: dict[str, tuple[str, str]] = {
    "accounting_export": ("view", "payments"),
    "export_contacts": ("view", "contacts"),
    "export_structures": ("view", "structures"),
    "export_interactions": ("view", "interactions"),
    "export_payments": ("view", "payments"),
    "export_all": ("view", "settings"),
    "import_check": ("view", "imports"),
    "import_run": ("view", "imports"),
    "helloasso_sync": ("view", "connectors"),
}
# Jobs whose file holds what their author may see (sensitive fields, payments): only the
# author follows them; for anyone else they do not exist.
PERSONAL_JOBS = {
    "export_contacts", "export_structures", "export_interactions", "export_payments",
    "export_all",
}  # fmt: skip


def get_job(request: HttpRequest, pk: int) -> Job:
    """A member follows the jobs of their organisation, when they may see what a job is about."""
    job = get_object_or_404(Job.objects.for_org(request.organization), pk=pk)
    if job.kind in PERSONAL_JOBS and job.created_by_id != request.user.pk:
        raise Http404("Cette tâche n'existe pas.")
    if job.kind in JOB_RIGHTS:
        require(request, *JOB_RIGHTS[job.kind])
    return job
