"""The REST API: token auth, tenancy, rights, schema."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from lien.core.audit import Actor
from lien.core.models import ApiToken, AuditEvent, Invitation, Profile
from lien.core.services import create_api_token, hash_token_key, revoke_api_token
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db


def test_me_describes_the_caller_their_organisation_and_rights(org, admin_member):
    response = api_client_for(admin_member).get(reverse("api-me"))

    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "admin@amis-du-parc.fr"
    assert body["organization"]["name"] == "Les Amis du Parc"
    assert body["profile"]["name"] == "Administrateur"
    assert body["rights"]["users"]["delete"] is True


def test_tokens_are_stored_hashed_and_shown_once(org, admin_member, admin_client):
    response = admin_client.post(reverse("settings_tokens"), {"name": "Site web"})

    key = response.context["new_key"]
    token = ApiToken.objects.get(name="Site web")
    assert key.startswith("lien_")
    assert token.key_hash == hash_token_key(key)
    assert key not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert admin_client.get(reverse("settings_tokens")).context["new_key"] is None


def test_a_revoked_or_unknown_token_is_401(org, admin_member):
    token, key = create_api_token(
        organization=org, actor=Actor.system(), user=admin_member.user, name="x"
    )
    revoke_api_token(organization=org, actor=Actor.system(), token=token)

    revoked = Client(headers={"Authorization": f"Token {key}"}).get(reverse("api-me"))
    unknown = Client(headers={"Authorization": "Token lien_inconnu"}).get(reverse("api-me"))

    assert revoked.status_code == 401
    assert unknown.status_code == 401
    assert revoked.json() == {"detail": "Jeton invalide ou révoqué."}


def test_a_token_of_a_former_member_stops_working(org, admin_member, reader_member):
    _token, key = create_api_token(
        organization=org, actor=Actor.system(), user=reader_member.user, name="x"
    )
    reader_member.is_active = False
    reader_member.save()

    response = Client(headers={"Authorization": f"Token {key}"}).get(reverse("api-me"))

    assert response.status_code == 401


def test_users_list_only_shows_the_organisation_members(
    org, other_org, admin_member, reader_member
):
    response = api_client_for(admin_member).get(reverse("api-users-list"))

    emails = sorted(item["email"] for item in response.json()["results"])
    assert emails == ["admin@amis-du-parc.fr", "lecteur@amis-du-parc.fr"]


def test_change_a_member_profile_through_the_api_is_audited(org, admin_member, reader_member):
    editor = Profile.objects.for_org(org).get(name="Éditeur")

    response = api_client_for(admin_member).patch(
        reverse("api-users-detail", args=[reader_member.pk]),
        data={"profile": editor.pk},
        content_type="application/json",
    )

    assert response.status_code == 200
    reader_member.refresh_from_db()
    assert reader_member.profile == editor
    event = AuditEvent.objects.for_org(org).get(target_id=reader_member.user_id)
    assert event.actor_kind == "api"
    assert event.changes == {"profile": ["Lecteur", "Éditeur"]}


def test_a_profile_of_another_organisation_is_refused(org, other_org, admin_member, reader_member):
    foreign = Profile.objects.for_org(other_org).get(name="Administrateur")

    response = api_client_for(admin_member).patch(
        reverse("api-users-detail", args=[reader_member.pk]),
        data={"profile": foreign.pk},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "profile" in response.json()


def test_invite_through_the_api(org, admin_member, django_capture_on_commit_callbacks):
    reader = Profile.objects.for_org(org).get(name="Lecteur")

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(admin_member).post(
            reverse("api-invitations-list"),
            data={"email": "Nouvelle@Example.org", "profile": reader.pk},
            content_type="application/json",
        )

    assert response.status_code == 201
    invitation = Invitation.objects.get(pk=response.json()["id"])
    assert invitation.email == "nouvelle@example.org"
    assert invitation.email_sent_at is not None


def test_deleting_the_last_administrator_is_refused(org, admin_member):
    response = api_client_for(admin_member).delete(
        reverse("api-users-detail", args=[admin_member.pk])
    )

    assert response.status_code == 400
    assert "administrateur" in response.json()["detail"][0]


def test_the_schema_is_openapi_3_and_documents_token_auth():
    response = Client().get(reverse("api_schema"), headers={"Accept": "application/json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me/" in schema["paths"]
    assert "/api/v1/users/{id}/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["tokenAuth"]["type"] == "apiKey"


def test_the_docs_page_loads_nothing_from_another_origin():
    response = Client().get(reverse("api_docs"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower()
    assert "https://" not in html


@pytest.mark.django_db
def test_too_many_parameters_get_a_json_400_under_the_api(admin_member):
    api = api_client_for(admin_member)
    query = "&".join(f"contact={i}" for i in range(1100))

    response = api.get(f"/api/v1/memberships/status/?{query}")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("Requête invalide")
