"""The isolation suite: every URL and API endpoint, four personas (see tests/isolation.py)."""

from __future__ import annotations

import copy
import importlib
import pkgutil
from pathlib import Path

import pytest
from django.test import TestCase
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from lien.core.rights import can
from tests.conftest import (
    add_member,
    api_client_for,
    client_for,
    make_organization,
    shared_rows,
)
from tests.isolation import SUCCESS, Case, World, Write, build_world, pk_of

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


def _app_cases() -> None:
    """Merge the CASES of every tests/isolation_<app>.py module."""
    folder = Path(__file__).parent
    for module in pkgutil.iter_modules([str(folder)]):
        if module.name.startswith("isolation_"):
            CASES.update(importlib.import_module(f"tests.{module.name}").CASES)


_app_cases()

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
    "helloasso_webhook",  # called by HelloAsso; its own cases: tests/test_helloasso_pages.py
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


def _build_worlds() -> dict:
    org = make_organization("Les Amis du Parc", "admin@amis-du-parc.fr")
    other_org = make_organization("Club Voisin", "admin@club-voisin.fr")
    reader = add_member(org, "lecteur@amis-du-parc.fr", "Lecteur")
    with TestCase.captureOnCommitCallbacks(execute=True):
        own = build_world(org, "invitee@amis-du-parc.fr")
        other = build_world(other_org, "invitee@club-voisin.fr")
    return {"own": own, "other": other, "reader": reader}


@pytest.fixture(scope="module")
def _shared_worlds(django_db_setup, django_db_blocker):
    # Two worlds cost about a second to build and the suite has ~900 tests: built once,
    # each test's writes rolled back (see shared_rows).
    yield from shared_rows(django_db_blocker, _build_worlds)


@pytest.fixture
def worlds(_shared_worlds, db):
    # A copy per test, like TestCase's class data: a test may change its instances.
    return copy.deepcopy(_shared_worlds)


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
