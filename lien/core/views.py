"""Core pages: sign-up, invitations, dashboard, settings, jobs. Thin: form → service → redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from lien.core import access, selectors, services
from lien.core.audit import Actor, redact
from lien.core.forms import (
    AcceptInvitationForm,
    ApiTokenForm,
    InvitationForm,
    MembershipForm,
    OrganizationForm,
    ProfileForm,
    SignUpForm,
)
from lien.core.jobs import start_job
from lien.core.middleware import SESSION_KEY
from lien.core.models import (
    ApiToken,
    AuditEvent,
    Invitation,
    Job,
    Membership,
    Organization,
    Profile,
)
from lien.core.rights import ACTIONS, DATA_TYPES, can
from lien.core.tasks import export_audit_log

member_required = access.member_required


def render_page(
    request: HttpRequest, template: str, context: dict, partial: str | None = None
) -> HttpResponse:
    """htmx requests get the partial, others the whole page."""
    if partial and request.htmx and not request.htmx.boosted:
        return TemplateResponse(request, partial, context)
    return TemplateResponse(request, template, context)


def form_errors_to(form, error: ValidationError) -> None:
    """Attach a service's ValidationError to the form, on its field when it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# Public pages -----------------------------------------------------------------------


def sign_up(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.sign_up(
                organization_name=form.cleaned_data["organization_name"],
                full_name=form.cleaned_data["full_name"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            member = Membership.objects.select_related("user").get(organization=organization)
            login(request, member.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_KEY] = organization.pk
            messages.success(request, f"Bienvenue ! L'espace « {organization.name} » est prêt.")
            return redirect("dashboard")
    return render(request, "core/sign_up.html", {"form": form})


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_from_token(token)
    except ValidationError as error:
        return render(
            request, "core/invitation_invalid.html", {"reason": error.messages[0]}, status=404
        )
    existing_account = services.User.objects.filter(email=invitation.email).exists()
    form = None
    if request.user.is_authenticated:
        if request.method == "POST":
            try:
                services.accept_invitation(invitation=invitation, user=request.user)
            except ValidationError as error:
                messages.error(request, error.messages[0])
            else:
                request.session[SESSION_KEY] = invitation.organization_id
                messages.success(request, f"Vous avez rejoint {invitation.organization.name}.")
                return redirect("dashboard")
    elif not existing_account:
        form = AcceptInvitationForm(request.POST or None, email=invitation.email)
        if request.method == "POST" and form.is_valid():
            try:
                membership = services.accept_invitation(
                    invitation=invitation,
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password1"],
                )
            except ValidationError as error:
                form_errors_to(form, error)
            else:
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
                request.session[SESSION_KEY] = invitation.organization_id
                messages.success(request, f"Bienvenue dans {invitation.organization.name} !")
                return redirect("dashboard")
    return render(
        request,
        "core/invitation_accept.html",
        {"invitation": invitation, "form": form, "existing_account": existing_account},
    )


@login_required
def no_organization(request: HttpRequest) -> HttpResponse:
    """A user with no active membership: they may create their own association."""
    if request.membership is not None:
        return redirect("dashboard")
    if request.method == "POST":
        name = request.POST.get("organization_name", "").strip()
        if name:
            organization = services.create_organization(name=name, admin=request.user)
            request.session[SESSION_KEY] = organization.pk
            return redirect("dashboard")
        messages.error(request, "Indiquez le nom de l'association.")
    return render(request, "core/no_organization.html")


@login_required
@require_POST
def switch_organization(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_object_or_404(
        Membership.objects.filter(user=request.user, is_active=True), organization_id=pk
    )
    request.session[SESSION_KEY] = membership.organization_id
    messages.success(request, f"Vous travaillez maintenant dans {membership.organization.name}.")
    return redirect("dashboard")


# Dashboard --------------------------------------------------------------------------


@member_required()
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        "summary": selectors.dashboard_summary(
            organization=request.organization, membership=request.membership
        )
    }
    return render(request, "core/dashboard.html", context)


# Settings: organisation -------------------------------------------------------------


@member_required("settings", "view")
def settings_organization(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    editable = can(request.membership, "change", "settings")
    form = OrganizationForm(instance=organization)
    if request.method == "POST":
        access.require(request, "change", "settings")
        # The form validates a copy: a ModelForm writes into its instance, and the
        # service must see the values before the change to record what changed.
        form = OrganizationForm(
            request.POST, request.FILES, instance=Organization.objects.get(pk=organization.pk)
        )
        if form.is_valid():
            services.update_organization(
                organization=organization,
                actor=Actor.for_user(request.user),
                **{f: form.cleaned_data[f] for f in form.Meta.fields if f != "logo"},
                # False means "clear the logo" in a ModelForm.
                logo=form.cleaned_data["logo"] or "",
            )
            messages.success(request, "Les informations de l'association sont enregistrées.")
            return redirect("settings_organization")
    return render(
        request,
        "core/settings_organization.html",
        {
            "form": form,
            "editable": editable,
            "history": selectors.history(
                organization=organization, target=organization, membership=request.membership
            ),
        },
    )


# Settings: users and invitations ----------------------------------------------------


@member_required("users", "view")
def settings_users(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    form = InvitationForm(organization=organization)
    if request.method == "POST":
        access.require(request, "add", "users")
        form = InvitationForm(request.POST, organization=organization)
        if form.is_valid():
            try:
                invitation = services.invite_user(
                    organization=organization,
                    actor=Actor.for_user(request.user),
                    email=form.cleaned_data["email"],
                    profile=form.cleaned_data["profile"],
                )
            except ValidationError as error:
                form_errors_to(form, error)
            else:
                messages.success(
                    request,
                    f"Invitation enregistrée pour {invitation.email} : "
                    "l'email part dans un instant.",
                )
                return redirect("settings_users")
    members = (
        Membership.objects.for_org(organization)
        .select_related("user", "profile")
        .order_by("-is_active", "user__full_name")
    )
    invitations = (
        Invitation.objects.for_org(organization)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("profile", "invited_by")
    )
    return render(
        request,
        "core/settings_users.html",
        {"members": members, "invitations": invitations, "form": form},
    )


@member_required("users", "view")
def settings_member(request: HttpRequest, pk: int) -> HttpResponse:
    membership = access.get_membership(request, pk)
    form = MembershipForm(
        initial={"profile": membership.profile, "is_active": membership.is_active},
        organization=request.organization,
    )
    if request.method == "POST":
        access.require(request, "change", "users")
        form = MembershipForm(request.POST, organization=request.organization)
        if form.is_valid():
            try:
                services.change_membership(
                    organization=request.organization,
                    actor=Actor.for_user(request.user),
                    membership=membership,
                    profile=form.cleaned_data["profile"],
                    is_active=form.cleaned_data["is_active"],
                )
            except ValidationError as error:
                form_errors_to(form, error)
                membership.refresh_from_db()
            else:
                messages.success(request, f"{membership.user} : modifications enregistrées.")
                return redirect("settings_users")
    return render(
        request,
        "core/settings_member.html",
        {
            "member": membership,
            "form": form,
            "history": selectors.history(
                organization=request.organization,
                target=membership.user,
                membership=request.membership,
            ),
        },
    )


@member_required("users", "delete")
@require_POST
def revoke_invitation(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = access.get_invitation(request, pk, action="delete")
    services.revoke_invitation(
        organization=request.organization, actor=Actor.for_user(request.user), invitation=invitation
    )
    messages.success(request, f"L'invitation de {invitation.email} est annulée.")
    return redirect("settings_users")


# Settings: profiles -----------------------------------------------------------------


@member_required("users", "view")
def settings_profiles(request: HttpRequest) -> HttpResponse:
    profiles = Profile.objects.for_org(request.organization).order_by("-is_builtin", "pk")
    return render(
        request,
        "core/settings_profiles.html",
        {
            "profiles": profiles,
            "data_types": DATA_TYPES,
            "actions": ACTIONS,
        },
    )


@member_required("users", "view")
def settings_profile(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    profile = access.get_profile(request, pk) if pk else None
    form = ProfileForm(profile=profile)
    if request.method == "POST":
        access.require(request, "change" if profile else "add", "users")
        form = ProfileForm(request.POST, profile=profile)
        if form.is_valid():
            try:
                profile = services.save_profile(
                    organization=request.organization,
                    actor=Actor.for_user(request.user),
                    profile=profile,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    rights=form.rights(),
                    hide_payment_data=form.cleaned_data["hide_payment_data"],
                    hide_sensitive_fields=form.cleaned_data["hide_sensitive_fields"],
                )
            except ValidationError as error:
                form_errors_to(form, error)
            else:
                messages.success(request, f"Profil « {profile.name} » enregistré.")
                return redirect("settings_profiles")
    return render(request, "core/settings_profile.html", {"profile": profile, "form": form})


@member_required("users", "delete")
@require_POST
def delete_profile(request: HttpRequest, pk: int) -> HttpResponse:
    profile = access.get_profile(request, pk, action="delete")
    try:
        services.delete_profile(
            organization=request.organization, actor=Actor.for_user(request.user), profile=profile
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"Profil « {profile.name} » supprimé.")
    return redirect("settings_profiles")


# Settings: API tokens ---------------------------------------------------------------


@member_required()
def settings_tokens(request: HttpRequest) -> HttpResponse:
    """Each member manages their own tokens; user administrators see everyone's."""
    form = ApiTokenForm()
    new_key = None
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            _token, new_key = services.create_api_token(
                organization=request.organization,
                actor=Actor.for_user(request.user),
                user=request.user,
                name=form.cleaned_data["name"],
            )
            form = ApiTokenForm()
    tokens = ApiToken.objects.for_org(request.organization).select_related("user")
    if not can(request.membership, "view", "users"):
        tokens = tokens.filter(user=request.user)
    return render(
        request,
        "core/settings_tokens.html",
        {"tokens": tokens, "form": form, "new_key": new_key},
    )


@member_required()
@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = access.get_api_token(request, pk, action="delete")
    services.revoke_api_token(
        organization=request.organization, actor=Actor.for_user(request.user), token=token
    )
    messages.success(request, f"Le jeton « {token.name} » est révoqué.")
    return redirect("settings_tokens")


# Settings: history ------------------------------------------------------------------


@member_required("settings", "view")
def settings_history(request: HttpRequest) -> HttpResponse:
    events = (
        AuditEvent.objects.for_org(request.organization)
        .select_related("actor_user", "target_type")
        .order_by("-created_at", "-id")
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    page.object_list = redact(
        page.object_list, organization=request.organization, membership=request.membership
    )
    jobs = Job.objects.for_org(request.organization).filter(kind="audit_export")[:5]
    return render_page(
        request,
        "core/settings_history.html",
        {"page": page, "jobs": jobs},
        partial="core/partials/_history_table.html",
    )


@member_required("exports", "add")
@require_POST
def export_history(request: HttpRequest) -> HttpResponse:
    job = start_job(
        organization=request.organization,
        kind="audit_export",
        label="Export de l'historique",
        task=export_audit_log,
        created_by=request.user,
    )
    messages.info(request, "L'export est lancé : suivez sa progression ci-dessous.")
    return redirect(f"{reverse('settings_history')}?tache={job.pk}")


# Jobs -------------------------------------------------------------------------------


@member_required()
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """A job's progress bar (it polls itself while the job runs); a whole page outside htmx."""
    job = access.get_job(request, pk)
    return render_page(
        request, "core/job_page.html", {"job": job}, partial="core/partials/_job_progress.html"
    )


# A job's file may hold more than an export right covers: the data type it is made of.
@member_required("exports", "view")
def job_file(request: HttpRequest, pk: int) -> HttpResponse:
    job = access.get_job(request, pk)  # with the rights of the job's kind
    name = job.result.get("file") if job.status == Job.Status.SUCCEEDED else None
    if not name or not default_storage.exists(name):
        raise Http404("Aucun fichier pour cette tâche.")
    return FileResponse(
        default_storage.open(name, "rb"),
        as_attachment=True,
        filename=name.rsplit("/", 1)[-1],
    )
