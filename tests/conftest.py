"""Shared fixtures: organisations and the personas of the isolation and rights tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client, override_settings
from hypothesis import settings as hypothesis_settings

from lien.core.audit import Actor
from lien.core.models import Membership, Organization, Profile, User
from lien.core.services import create_api_token, create_organization

PASSWORD = "mot-de-passe-de-test-2026"

# No deadline for any property test, those that set none of their own included: the
# 200 ms default fails an example for the machine's load, not for the code.
hypothesis_settings.register_profile("lien", deadline=None)
hypothesis_settings.load_profile("lien")


def make_user(email: str, full_name: str = "") -> User:
    return User.objects.create_user(
        email=email, password=PASSWORD, full_name=full_name or email.split("@")[0].title()
    )


def make_organization(name: str, admin_email: str) -> Organization:
    return create_organization(name=name, admin=make_user(admin_email))


def add_member(organization: Organization, email: str, profile_name: str) -> Membership:
    profile = Profile.objects.for_org(organization).get(name=profile_name)
    return Membership.objects.create(
        organization=organization, user=make_user(email), profile=profile
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Tests marked `long` first, the order being otherwise pytest-django's (which runs
    transactional tests after the others: never mark one of those `long`). Started last,
    a long test keeps one worker busy for minutes after the other has finished."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(scope="session")
def _plans_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("import-plans")


def testing_settings(plans_dir) -> dict:
    """Tests use the in-process task backend and keep emails in memory; the plans an
    import's check keeps for its run go to a temporary folder."""
    return {
        "LIEN_IMPORT_PLANS_DIR": plans_dir,
        # Never the real HelloAsso: a closed local port unless a test starts the fake one.
        "HELLOASSO_API_URL": "http://127.0.0.1:9",
        "HELLOASSO_TOKEN_URL": "http://127.0.0.1:9/oauth2/token",
        "TASKS": {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    }


@pytest.fixture(scope="session", autouse=True)
def _test_settings_for_the_session(_plans_dir):
    """The same settings for fixtures wider than a test (see `shared_rows`), which are set
    up before any test's own fixtures."""
    with override_settings(**testing_settings(_plans_dir)):
        yield


@pytest.fixture(autouse=True)
def _fast_and_quiet(settings, _plans_dir):
    for name, value in testing_settings(_plans_dir).items():
        setattr(settings, name, value)
    cache.clear()


T = TypeVar("T")


def shared_rows(django_db_blocker, build: Callable[[], T]) -> Iterator[T]:
    """`setUpTestData` for pytest: the rows `build()` writes once serve every test of a
    module-scoped fixture.

    They are written in a transaction that is rolled back after the module's last test;
    each test still runs in its own savepoint inside it (pytest-django's `db`), so what a
    test writes never reaches the next one. Not for modules with transactional tests.
    Use from a module-scoped generator fixture: `yield from shared_rows(...)`.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        # Like TestCase's class-wide transaction: services' durable blocks nest in it.
        outer._from_testcase = True
        outer.__enter__()
        try:
            rows = build()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield rows
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def org(db) -> Organization:
    return make_organization("Les Amis du Parc", "admin@amis-du-parc.fr")


@pytest.fixture
def other_org(db) -> Organization:
    return make_organization("Club Voisin", "admin@club-voisin.fr")


@pytest.fixture
def admin_member(org) -> Membership:
    return Membership.objects.select_related("user", "profile").get(
        organization=org, user__email="admin@amis-du-parc.fr"
    )


@pytest.fixture
def reader_member(org) -> Membership:
    return add_member(org, "lecteur@amis-du-parc.fr", "Lecteur")


@pytest.fixture
def editor_member(org) -> Membership:
    return add_member(org, "editeur@amis-du-parc.fr", "Éditeur")


@pytest.fixture
def outsider_member(other_org) -> Membership:
    return Membership.objects.select_related("user").get(organization=other_org)


def client_for(membership: Membership | None) -> Client:
    client = Client()
    if membership is not None:
        client.force_login(membership.user)
        session = client.session
        session["organization_id"] = membership.organization_id
        session.save()
    return client


@pytest.fixture
def admin_client(admin_member) -> Client:
    return client_for(admin_member)


@pytest.fixture
def reader_client(reader_member) -> Client:
    return client_for(reader_member)


@pytest.fixture
def outsider_client(outsider_member) -> Client:
    return client_for(outsider_member)


def api_client_for(membership: Membership) -> Client:
    _token, key = create_api_token(
        organization=membership.organization,
        actor=Actor.system(),
        user=membership.user,
        name="tests",
    )
    return Client(headers={"Authorization": f"Token {key}"})
