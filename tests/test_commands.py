"""Operator commands: create_organization and api_token."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from lien.core.models import ApiToken, Membership, Organization, User
from lien.core.services import hash_token_key


def run(*args, **options) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue().strip().splitlines()


@pytest.mark.django_db
def test_create_organization_creates_admin_and_prints_slug_last():
    # Given no account for the email
    # When the operator creates the association
    lines = run(
        "create_organization",
        "Les Jardins Partagés",
        admin_email="Marie@Example.org",
        admin_password="un-mot-de-passe-solide",
        admin_name="Marie Curie",
    )

    # Then the slug is alone on the last line and the new user administers it
    assert lines[-1] == "les-jardins-partages"
    organization = Organization.objects.get(slug="les-jardins-partages")
    membership = Membership.objects.get(organization=organization)
    assert membership.user.email == "marie@example.org"
    assert membership.user.full_name == "Marie Curie"
    assert membership.profile.name == "Administrateur"
    assert membership.user.check_password("un-mot-de-passe-solide")


@pytest.mark.django_db
def test_create_organization_reuses_existing_user_without_changing_password():
    # Given an existing account
    user = User.objects.create_user(email="paul@example.org", password="ancien-mot-de-passe")

    # When a second association is created for them with another password
    lines = run(
        "create_organization",
        "Club Photo",
        admin_email="paul@example.org",
        admin_password="autre-mot-de-passe",
    )

    # Then the same user administers it and keeps their password
    assert lines[-1] == "club-photo"
    assert Membership.objects.get(organization__slug="club-photo").user == user
    user.refresh_from_db()
    assert user.check_password("ancien-mot-de-passe")
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_create_organization_without_password_for_new_user_fails_clearly():
    # Given no account, when no password is given
    with pytest.raises(CommandError) as error:
        run("create_organization", "Club Photo", admin_email="new@example.org")

    # Then nothing is created and the message says what to do
    assert "--admin-password" in str(error.value)
    assert Organization.objects.count() == 0
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_create_organization_rejects_a_short_password():
    with pytest.raises(CommandError) as error:
        run("create_organization", "Club", admin_email="a@example.org", admin_password="court")

    assert "trop court" in str(error.value)
    assert Organization.objects.count() == 0


@pytest.mark.django_db
def test_api_token_prints_a_key_whose_hash_is_stored():
    # Given an administrator of one association
    run(
        "create_organization",
        "Les Amis",
        admin_email="admin@example.org",
        admin_password="un-mot-de-passe-solide",
    )

    # When the operator creates a token
    lines = run("api_token", email="admin@example.org", name="Synchronisation")

    # Then the key alone is on the last line, and only its hash is stored
    key = lines[-1]
    assert key.startswith("lien_")
    token = ApiToken.objects.get()
    assert token.key_hash == hash_token_key(key)
    assert token.name == "Synchronisation"
    assert token.organization.slug == "les-amis"
    assert token.user.email == "admin@example.org"


@pytest.mark.django_db
def test_api_token_for_a_named_organization():
    # Given a user administering two associations
    for name in ["Les Amis", "Club Photo"]:
        run(
            "create_organization",
            name,
            admin_email="admin@example.org",
            admin_password="un-mot-de-passe-solide",
        )

    # When the token is asked for the second one
    key = run("api_token", email="admin@example.org", organization="club-photo")[-1]

    # Then it belongs to that association
    assert ApiToken.objects.get(key_hash=hash_token_key(key)).organization.slug == "club-photo"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"email": "nobody@example.org"}, "Aucun compte n'existe pour nobody@example.org."),
        (
            {"email": "admin@example.org", "organization": "inconnue"},
            "Aucune association n'a l'identifiant « inconnue ».",
        ),
        (
            {"email": "outsider@example.org", "organization": "les-amis"},
            "outsider@example.org n'est pas membre actif de « les-amis ».",
        ),
        (
            {"email": "outsider@example.org"},
            "outsider@example.org n'est membre actif d'aucune association.",
        ),
    ],
)
def test_api_token_errors(options, message):
    run(
        "create_organization",
        "Les Amis",
        admin_email="admin@example.org",
        admin_password="un-mot-de-passe-solide",
    )
    User.objects.create_user(email="outsider@example.org", password="x" * 12)

    with pytest.raises(CommandError) as error:
        run("api_token", **options)

    assert str(error.value) == message
    assert ApiToken.objects.count() == 0
