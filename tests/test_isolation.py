"""The isolation suite: every URL pattern and API endpoint, four personas.

- anonymous → login redirect (pages) or 401 (API);
- a member of another organisation → 404 on this organisation's rows, and never
  this organisation's data on list pages;
- a read-only member (profile « Lecteur ») → 403 where the profile lacks the right;
- an administrator → success.

Each later issue adds its URLs to CASES. `test_every_url_is_covered` fails when
a URL name has no case, so a new page cannot ship untested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from lien.core.audit import Actor
from lien.core.jobs import start_job
from lien.core.models import ApiToken, Invitation, Job, Membership, Organization, Profile
from lien.core.rights import can
from lien.core.services import create_api_token, invite_user, save_profile
from lien.core.tasks import export_audit_log
from tests.conftest import add_member, api_client_for, client_for

SUCCESS = {200, 201, 204, 302}


@dataclass
class World:
    """The rows of one organisation that URLs point at."""

    organization: Organization
    admin: Membership
    member: Membership
    profile: Profile
    invitation: Invitation
    token: ApiToken
    job: Job
    marker: str  # text only this organisation's pages show


def build_world(organization: Organization, marker_email: str) -> World:
    admin = Membership.objects.select_related("user", "profile").get(
        organization=organization, profile__name="Administrateur"
    )
    member = add_member(organization, f"editeur.{organization.slug}@example.org", "Éditeur")
    actor = Actor.for_user(admin.user)
    profile = save_profile(
        organization=organization,
        actor=actor,
        name="Bénévoles",
        rights={"contacts": ["view"]},
    )
    invitation = invite_user(
        organization=organization, actor=actor, email=marker_email, profile=profile
    )
    token, _key = create_api_token(
        organization=organization, actor=actor, user=admin.user, name="outil"
    )
    job = start_job(
        organization=organization, kind="audit_export", label="Export", task=export_audit_log
    )
    return World(organization, admin, member, profile, invitation, token, job, marker_email)


@dataclass
class Write:
    method: str
    right: tuple[str, str] | None  # (action, data_type); None: any member may
    data: Callable[[World], dict] = lambda w: {}


@dataclass
class Case:
    """How to reach one URL name and what it requires."""

    kwargs: Callable[[World], dict] = lambda w: {}
    view_right: tuple[str, str] | None = None  # None: any member may GET
    writes: list[Write] = field(default_factory=list)
    get: bool = True
    api: bool = False
    scoped: bool = False  # points at one row of the organisation (→ 404 for outsiders)


def pk_of(attr: str) -> Callable[[World], dict]:
    return lambda w: {"pk": getattr(w, attr).pk}


CASES: dict[str, Case] = {
    # Core pages
    "dashboard": Case(),
    "settings_organization": Case(
        view_right=("view", "settings"),
        writes=[
            Write(
                "post",
                ("change", "settings"),
                lambda w: {"name": w.organization.name, "country": "FR"},
            )
        ],
    ),
    "settings_users": Case(
        view_right=("view", "users"),
        writes=[
            Write(
                "post",
                ("add", "users"),
                lambda w: {"email": "nouveau@example.org", "profile": w.profile.pk},
            )
        ],
    ),
    "settings_member": Case(
        kwargs=pk_of("member"),
        view_right=("view", "users"),
        scoped=True,
        writes=[
            Write(
                "post",
                ("change", "users"),
                lambda w: {"profile": w.member.profile_id, "is_active": "on"},
            )
        ],
    ),
    "settings_invitation_revoke": Case(
        kwargs=pk_of("invitation"),
        get=False,
        scoped=True,
        writes=[Write("post", ("delete", "users"))],
    ),
    "settings_profiles": Case(view_right=("view", "users")),
    "settings_profile_new": Case(
        view_right=("view", "users"),
        writes=[Write("post", ("add", "users"), lambda w: {"name": "Nouveau profil"})],
    ),
    "settings_profile": Case(
        kwargs=pk_of("profile"),
        view_right=("view", "users"),
        scoped=True,
        writes=[Write("post", ("change", "users"), lambda w: {"name": "Bénévoles actifs"})],
    ),
    "settings_profile_delete": Case(
        kwargs=pk_of("profile"),
        get=False,
        scoped=True,
        writes=[Write("post", ("delete", "users"))],
    ),
    # Personal: each member manages their own tokens.
    "settings_tokens": Case(writes=[Write("post", None, lambda w: {"name": "Mon outil"})]),
    "settings_token_revoke": Case(
        kwargs=pk_of("token"), get=False, scoped=True, writes=[Write("post", None)]
    ),
    "settings_history": Case(view_right=("view", "settings")),
    "settings_history_export": Case(get=False, writes=[Write("post", ("add", "exports"))]),
    "job_progress": Case(kwargs=pk_of("job"), scoped=True),
    "job_file": Case(kwargs=pk_of("job"), view_right=("view", "exports"), scoped=True),
    # API
    "api-me": Case(api=True),
    "api-users-list": Case(api=True, view_right=("view", "users")),
    "api-users-detail": Case(
        api=True,
        kwargs=pk_of("member"),
        view_right=("view", "users"),
        scoped=True,
        writes=[
            Write("patch", ("change", "users"), lambda w: {"is_active": True}),
            Write("delete", ("delete", "users")),
        ],
    ),
    "api-invitations-list": Case(
        api=True,
        view_right=("view", "users"),
        writes=[
            Write(
                "post",
                ("add", "users"),
                lambda w: {"email": "api-invite@example.org", "profile": w.profile.pk},
            )
        ],
    ),
    "api-invitations-detail": Case(
        api=True,
        kwargs=pk_of("invitation"),
        view_right=("view", "users"),
        scoped=True,
        writes=[Write("delete", ("delete", "users"))],
    ),
}

# Reachable without an organisation: public pages, and the user's own account pages.
PUBLIC = {
    "sign_up",
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "accept_invitation",
    "api_schema",
    "api_docs",
}
ACCOUNT = {"password_change", "password_change_done", "no_organization", "switch_organization"}


def all_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_url_is_covered():
    uncovered = all_url_names() - set(CASES) - PUBLIC - ACCOUNT
    assert uncovered == set(), f"URL sans cas d'isolation : {sorted(uncovered)}"


@pytest.fixture
def worlds(org, other_org, reader_member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        own = build_world(org, "invitee@amis-du-parc.fr")
        other = build_world(other_org, "invitee@club-voisin.fr")
    return {"own": own, "other": other, "reader": reader_member}


def call(client, method: str, url: str, data: dict, api: bool):
    if api:
        return getattr(client, method)(url, data=data, content_type="application/json")
    if method == "get":
        return client.get(url)
    return client.post(url, data=data)


def requests_of(case: Case, world: World) -> list[tuple[str, dict, tuple[str, str] | None]]:
    calls = [("get", {}, case.view_right)] if case.get else []
    return calls + [(w.method, w.data(world), w.right) for w in case.writes]


def url_of(name: str, case: Case, world: World) -> str:
    return reverse(name, kwargs=case.kwargs(world))


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(CASES))
def test_anonymous_is_sent_to_login(name, worlds):
    case = CASES[name]
    world = worlds["own"]
    for method, data, _right in requests_of(case, world):
        response = call(client_for(None), method, url_of(name, case, world), data, case.api)
        if case.api:
            assert response.status_code == 401, (name, method)
        else:
            assert response.status_code == 302, (name, method)
            assert response["Location"].startswith(reverse("login")), (name, method)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(CASES))
def test_other_organisation_gets_404_or_nothing(name, worlds):
    case = CASES[name]
    own, other = worlds["own"], worlds["other"]
    outsider = other.admin
    client = api_client_for(outsider) if case.api else client_for(outsider)
    for method, data, _right in requests_of(case, own):
        response = call(client, method, url_of(name, case, own), data, case.api)
        if case.scoped:
            assert response.status_code == 404, (name, method, response.status_code)
        elif method == "get" and response.status_code == 200:
            assert own.marker not in response.content.decode(), name
            assert own.organization.name not in response.content.decode(), name


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(CASES))
def test_read_only_profile_gets_403_where_it_lacks_the_right(name, worlds):
    case = CASES[name]
    own, reader = worlds["own"], worlds["reader"]
    client = api_client_for(reader) if case.api else client_for(reader)
    for method, data, right in requests_of(case, own):
        response = call(client, method, url_of(name, case, own), data, case.api)
        if right is not None and not can(reader, *right):
            assert response.status_code == 403, (name, method, response.status_code)
        elif case.scoped and name == "settings_token_revoke":
            # Someone else's token is not the reader's to see: 404, not 403.
            assert response.status_code == 404, (name, method)
        else:
            assert response.status_code in SUCCESS, (name, method, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(CASES))
def test_administrator_succeeds(name, worlds):
    case = CASES[name]
    own = worlds["own"]
    client = api_client_for(own.admin) if case.api else client_for(own.admin)
    for method, data, _right in requests_of(case, own):
        response = call(client, method, url_of(name, case, own), data, case.api)
        assert response.status_code in SUCCESS, (name, method, response.status_code)
