"""Shared fixtures: organisations and the personas of the isolation and rights tests."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from lien.core.audit import Actor
from lien.core.models import Membership, Organization, Profile, User
from lien.core.services import create_api_token, create_organization

PASSWORD = "mot-de-passe-de-test-2026"


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


@pytest.fixture(scope="session")
def _plans_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("import-plans")


@pytest.fixture(autouse=True)
def _fast_and_quiet(settings, _plans_dir):
    """Tests use the in-process task backend and keep emails in memory; the plans an
    import's check keeps for its run go to a temporary folder."""
    settings.LIEN_IMPORT_PLANS_DIR = _plans_dir
    # Never the real HelloAsso: a closed local port unless a test starts the fake one.
    settings.HELLOASSO_API_URL = "http://127.0.0.1:9"
    settings.HELLOASSO_TOKEN_URL = "http://127.0.0.1:9/oauth2/token"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


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
