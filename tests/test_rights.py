"""Rights: one function decides; profiles, hidden payments, the profile editor, the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lien.core.audit import Actor
from lien.core.models import Membership, Profile
from lien.core.rights import DATA_TYPES, can, clean_rights, rights_table
from lien.core.services import save_profile
from tests.conftest import api_client_for, client_for, make_user

pytestmark = pytest.mark.django_db


def member_with_profile(org, admin_member, **profile_values) -> Membership:
    profile = save_profile(
        organization=org, actor=Actor.for_user(admin_member.user), **profile_values
    )
    return Membership.objects.create(
        organization=org, user=make_user("benevole@amis-du-parc.fr"), profile=profile
    )


def test_default_profiles_grant_what_their_names_say(admin_member, editor_member, reader_member):
    assert all(can(admin_member, a, d) for d in DATA_TYPES for a in ("view", "delete"))
    assert can(editor_member, "delete", "contacts") is True
    assert can(editor_member, "change", "settings") is False
    assert can(editor_member, "view", "users") is False
    assert can(reader_member, "view", "payments") is True
    assert can(reader_member, "add", "contacts") is False
    assert can(reader_member, "view", "exports") is False


def test_view_is_implied_by_any_other_action_and_unknown_names_are_dropped():
    assert clean_rights({"contacts": ["delete"], "nope": ["view"], "payments": ["fly"]}) == {
        "contacts": ["view", "delete"]
    }


def test_an_inactive_member_may_do_nothing(reader_member):
    reader_member.is_active = False
    assert can(reader_member, "view", "contacts") is False
    assert can(None, "view", "contacts") is False


def test_profile_without_payment_view_sees_no_payment_data(org, admin_member):
    member = member_with_profile(
        org,
        admin_member,
        name="Accueil",
        rights={"contacts": ["view", "add"], "interactions": ["view"]},
    )

    assert can(member, "view", "payments") is False
    dashboard = client_for(member).get(reverse("dashboard"))
    tiles = [tile.label for tile in dashboard.context["summary"].tiles]
    assert "Paiements" not in tiles
    me = api_client_for(member).get(reverse("api-me")).json()
    assert me["rights"]["payments"] == {
        "view": False,
        "add": False,
        "change": False,
        "delete": False,
    }
    assert me["rights"]["contacts"]["add"] is True


def test_hide_payment_data_wins_over_payment_rights(org, admin_member):
    member = member_with_profile(
        org,
        admin_member,
        name="Bénévoles",
        rights={"payments": ["view", "add"], "contacts": ["view"]},
        hide_payment_data=True,
    )

    assert rights_table(member)["payments"] == {
        "view": False,
        "add": False,
        "change": False,
        "delete": False,
    }
    assert rights_table(member)["contacts"]["view"] is True


PAYMENT_TABLES = [
    "Dons",
    "Adhésions",
    "Billetterie",
    "Crowdfunding",
    "Boutique",
    "Autres paiements",
]


def test_the_menu_only_shows_what_the_profile_allows(reader_client, admin_client):
    def labels(client):
        menu = client.get(reverse("dashboard")).context["menu"]
        return [entry["label"] for section in menu for entry in section["entries"]]

    assert labels(reader_client) == [
        "Tableau de bord",
        "Contacts",
        "Structures",
        "Interactions",
        "Recherche avancée",
        "Segments",
        "Groupes",
        "Corbeille",
        *PAYMENT_TABLES,
        "Campagnes",
        "Étiquettes",
        "Jetons API",
        "Documentation API",
    ]
    assert labels(admin_client) == [
        "Tableau de bord",
        "Contacts",
        "Structures",
        "Interactions",
        "Recherche avancée",
        "Segments",
        "Groupes",
        "Corbeille",
        "Importer",
        "Mes exports",
        *PAYMENT_TABLES,
        "Campagnes",
        "Export comptable",
        "HelloAsso",
        "Organisation",
        "Étiquettes",
        "Champs personnalisés",
        "Interactions",
        "Paiements",
        "Utilisateurs",
        "Profils et droits",
        "Jetons API",
        "Historique",
        "Exporter mes données",
        "Documentation API",
    ]


def test_profile_editor_saves_the_rights_matrix(org, admin_client):
    response = admin_client.post(
        reverse("settings_profile_new"),
        {
            "name": "Trésorerie",
            "description": "Paiements et reçus",
            "right__payments__change": "on",
            "right__receipts__view": "on",
            "right__contacts__view": "on",
            "hide_sensitive_fields": "on",
        },
    )

    assert response.status_code == 302
    profile = Profile.objects.for_org(org).get(name="Trésorerie")
    assert profile.rights == {
        "contacts": ["view"],
        "payments": ["view", "change"],
        "receipts": ["view"],
    }
    assert profile.hide_sensitive_fields is True
    assert profile.hide_payment_data is False


def test_the_administrator_profile_cannot_be_restricted(org, admin_client):
    admin_profile = Profile.objects.for_org(org).get(name="Administrateur")

    response = admin_client.post(
        reverse("settings_profile", args=[admin_profile.pk]),
        {"name": "Administrateur", "right__contacts__view": "on"},
    )

    assert response.status_code == 200
    assert "garde tous les droits" in response.content.decode()
    admin_profile.refresh_from_db()
    assert admin_profile.rights["settings"] == ["view", "add", "change", "delete"]


def test_a_profile_in_use_cannot_be_deleted(org, admin_member, admin_client):
    member = member_with_profile(org, admin_member, name="Bénévoles", rights={})

    admin_client.post(reverse("settings_profile_delete", args=[member.profile_id]))

    assert Profile.objects.filter(pk=member.profile_id).exists()


def test_a_builtin_profile_cannot_be_deleted(org, admin_client):
    reader = Profile.objects.for_org(org).get(name="Lecteur")

    admin_client.post(reverse("settings_profile_delete", args=[reader.pk]))

    assert Profile.objects.filter(pk=reader.pk).exists()


def test_hiding_payment_data_hides_every_payment_menu_entry(org, editor_member):
    editor_member.profile.hide_payment_data = True
    editor_member.profile.save()

    menu = client_for(editor_member).get(reverse("dashboard")).context["menu"]

    labels = [entry["label"] for section in menu for entry in section["entries"]]
    assert not set(labels) & {*PAYMENT_TABLES, "Campagnes", "Export comptable", "Paiements"}
    assert "Contacts" in labels
