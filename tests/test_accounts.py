"""Sign-up, login, throttling, password reset, invitations, switching organisations."""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from lien.core.audit import Actor
from lien.core.models import AuditEvent, Invitation, Membership, Organization, Profile, User
from lien.core.services import invitation_token, invite_user
from tests.conftest import PASSWORD, client_for, make_user

pytestmark = pytest.mark.django_db


def sign_up_data(**overrides) -> dict:
    return {
        "organization_name": "Les Jardins Partagés",
        "full_name": "Claire Martin",
        "email": "Claire.Martin@Example.org",
        "password1": "un-mot-de-passe-solide",
        "password2": "un-mot-de-passe-solide",
        **overrides,
    }


def test_sign_up_creates_the_organisation_with_its_administrator_logged_in():
    client = Client()

    response = client.post(reverse("sign_up"), sign_up_data())

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    organization = Organization.objects.get(name="Les Jardins Partagés")
    assert organization.slug == "les-jardins-partages"
    membership = Membership.objects.get(organization=organization)
    assert membership.user.email == "claire.martin@example.org"
    assert membership.profile.name == "Administrateur"
    assert sorted(Profile.objects.for_org(organization).values_list("name", flat=True)) == [
        "Administrateur",
        "Lecteur",
        "Éditeur",
    ]
    dashboard = client.get(reverse("dashboard"))
    assert dashboard.status_code == 200
    assert "Les Jardins Partagés" in dashboard.content.decode()


def test_sign_up_refuses_an_existing_email_and_a_weak_password_in_french():
    make_user("claire.martin@example.org")

    response = Client().post(
        reverse("sign_up"), sign_up_data(password1="12345678", password2="12345678")
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["email"] == ["Un compte existe déjà avec cette adresse : connectez-vous."]
    assert "password1" in errors
    assert Organization.objects.count() == 0


def test_two_associations_with_the_same_name_get_distinct_slugs():
    Client().post(reverse("sign_up"), sign_up_data())
    Client().post(reverse("sign_up"), sign_up_data(email="autre@example.org"))

    assert sorted(Organization.objects.values_list("slug", flat=True)) == [
        "les-jardins-partages",
        "les-jardins-partages-2",
    ]


def test_login_with_email_then_logout(admin_member):
    client = Client()

    response = client.post(
        reverse("login"), {"username": "ADMIN@amis-du-parc.fr", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200

    client.post(reverse("logout"))
    assert client.get(reverse("dashboard")).status_code == 302


def test_repeated_failures_lock_the_login_even_with_the_right_password(admin_member, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "admin@amis-du-parc.fr", "password": "faux"})

    response = client.post(
        reverse("login"), {"username": "admin@amis-du-parc.fr", "password": PASSWORD}
    )

    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()


def test_password_reset_sends_a_link_that_sets_a_new_password(admin_member):
    client = Client()

    client.post(reverse("password_reset"), {"email": "admin@amis-du-parc.fr"})

    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/reinitialiser/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(
        set_url, {"new_password1": "nouveau-secret-2026", "new_password2": "nouveau-secret-2026"}
    )
    assert response.status_code == 302
    admin_member.user.refresh_from_db()
    assert admin_member.user.check_password("nouveau-secret-2026")


def test_password_change(admin_client, admin_member):
    response = admin_client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "encore-un-secret-2026",
            "new_password2": "encore-un-secret-2026",
        },
    )

    assert response.status_code == 302
    admin_member.user.refresh_from_db()
    assert admin_member.user.check_password("encore-un-secret-2026")


def invite(org, admin_member, email="benevole@example.org", profile="Lecteur") -> Invitation:
    return invite_user(
        organization=org,
        actor=Actor.for_user(admin_member.user),
        email=email,
        profile=Profile.objects.for_org(org).get(name=profile),
    )


def test_invitation_email_link_creates_the_account_and_joins(
    org, admin_member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(org, admin_member)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["benevole@example.org"]
    path = re.search(r"http://127\.0\.0\.1:8000(/invitation/\S+/)", mail.outbox[0].body).group(1)
    client = Client()
    response = client.post(
        path,
        {
            "full_name": "Paul Bénévole",
            "password1": "secret-benevole-1",
            "password2": "secret-benevole-1",
        },
    )

    assert response.status_code == 302
    membership = Membership.objects.get(organization=org, user__email="benevole@example.org")
    assert membership.profile.name == "Lecteur"
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert invitation.email_sent_at is not None
    assert client.get(reverse("dashboard")).status_code == 200
    # A used link cannot be used twice.
    again = Client().get(path)
    assert again.status_code == 404
    assert "déjà été utilisée" in again.content.decode()


def test_an_invitation_expires_after_seven_days(org, admin_member):
    invitation = invite(org, admin_member)
    token = invitation_token(invitation)

    eight_days_later = time.time() + 8 * 24 * 3600
    with mock.patch("django.core.signing.time.time", return_value=eight_days_later):
        response = Client().get(reverse("accept_invitation", args=[token]))

    assert response.status_code == 404
    assert "a expiré" in response.content.decode()


def test_a_revoked_or_forged_invitation_is_refused(org, admin_member, admin_client):
    invitation = invite(org, admin_member)
    admin_client.post(reverse("settings_invitation_revoke", args=[invitation.pk]))

    revoked = Client().get(reverse("accept_invitation", args=[invitation_token(invitation)]))
    forged = Client().get(reverse("accept_invitation", args=[f"{invitation.pk}:abc:def"]))

    assert "annulée" in revoked.content.decode()
    assert "pas valide" in forged.content.decode()


def test_an_existing_user_joins_a_second_organisation_and_switches(
    org, other_org, admin_member, outsider_member
):
    invitation = invite(org, admin_member, email=outsider_member.user.email, profile="Éditeur")
    client = client_for(outsider_member)

    client.post(reverse("accept_invitation", args=[invitation_token(invitation)]))

    assert Membership.objects.filter(user=outsider_member.user).count() == 2
    assert client.get(reverse("dashboard")).context["organization"] == org
    client.post(reverse("switch_organization", args=[other_org.pk]))
    assert client.get(reverse("dashboard")).context["organization"] == other_org
    # Switching to an organisation one is not a member of is impossible.
    stranger = make_organization_for_switch()
    assert client.post(reverse("switch_organization", args=[stranger.pk])).status_code == 404


def make_organization_for_switch() -> Organization:
    from tests.conftest import make_organization

    return make_organization("Inconnue", "inconnu@example.org")


def test_the_last_administrator_cannot_be_demoted(org, admin_member, admin_client):
    reader = Profile.objects.for_org(org).get(name="Lecteur")

    response = admin_client.post(
        reverse("settings_member", args=[admin_member.pk]),
        {"profile": reader.pk, "is_active": "on"},
    )

    assert response.status_code == 200
    assert "au moins un administrateur" in response.content.decode()
    admin_member.refresh_from_db()
    assert admin_member.profile.name == "Administrateur"


def test_a_deactivated_member_loses_access(org, admin_client, reader_member):
    admin_client.post(
        reverse("settings_member", args=[reader_member.pk]),
        {"profile": reader_member.profile_id},
    )

    reader_member.refresh_from_db()
    assert reader_member.is_active is False
    response = client_for(reader_member).get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("no_organization")
    event = AuditEvent.objects.for_org(org).filter(target_id=reader_member.user_id).first()
    assert event.changes == {"is_active": [True, False]}


def test_user_without_organisation_can_create_one():
    user = make_user("seul@example.org")
    client = Client()
    client.force_login(user)

    client.post(reverse("no_organization"), {"organization_name": "Mon club"})

    assert Membership.objects.get(user=user).organization.name == "Mon club"


def test_users_are_stored_with_argon2(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = User.objects.create_user(email="argon@example.org", password="un-secret-2026")
    assert user.password.startswith("argon2$")
