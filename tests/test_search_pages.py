"""Advanced search and segment pages: the builder edited through its htmx actions (the
tree, the count, errors at their condition), save as a segment and edit it back
unchanged, delete refused while another segment uses it, « pourquoi ce contact »,
criteria hidden by a profile, bulk actions on every result, the contact card section."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lien.contacts import services as contacts
from lien.contacts.models import Contact, ContactLabel, Group, Label
from lien.core.audit import Actor
from lien.core.models import Profile
from lien.interactions.models import Interaction
from lien.payments import services as payments
from lien.search import services as segments
from lien.search.models import Segment, SegmentCount, SegmentEvent
from tests.conftest import add_member, client_for

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
HTMX = {"HTTP_HX_REQUEST": "true"}


# A small browser for the builder's form -------------------------------------------------


class FormFields(HTMLParser):
    """The fields an HTML form (or fragment) would post: hidden and text inputs, ticked
    checkboxes, the selected (or first) option of each select, textareas."""

    def __init__(self, html: str):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.buttons: list[tuple[str, str]] = []
        self.options: dict[str, list[str]] = {}
        self._select: str | None = None
        self._chosen: str | None = None
        self._textarea: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind == "checkbox":
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button"):
                self.fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select, self._chosen = name, None
            self.options[name] = []
        elif tag == "option" and self._select:
            value = a.get("value", "")
            self.options[self._select].append(value)
            if "selected" in a or self._chosen is None and len(self.options[self._select]) == 1:
                self._chosen = value if "selected" in a or self._chosen is None else self._chosen
            if "selected" in a:
                self._chosen = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.append((name, ""))
        elif tag == "button" and name:
            self.buttons.append((name, a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self.fields.append((self._select, self._chosen or ""))
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)
            self._textarea = None


class Builder:
    """Drives /recherche/ as the page does: every post carries the whole form."""

    def __init__(self, client: Client, url: str = "/recherche/", **params):
        self.client = client
        self.url = url
        page = client.get(url, params)
        assert page.status_code == 200
        self.html = page.content.decode()
        self.fields = FormFields(_form_of(self.html))

    def data(self, changes: dict | None = None, action: str | None = None) -> dict:
        """The form's fields, some set (a list for checkboxes), an action button clicked."""
        data: dict[str, list[str]] = {}
        for name, value in self.fields.fields:
            data.setdefault(name, []).append(value)
        for name, value in (changes or {}).items():
            data[name] = value if isinstance(value, list) else [value]
        if action is not None:
            data["action"] = [action]
        return data

    def post(self, changes: dict | None = None, action: str | None = None):
        response = self.client.post(self.url, self.data(changes, action), **HTMX)
        assert response.status_code == 200, response.content[:500]
        self.html = response.content.decode()
        self.fields = FormFields(self.html)
        return response

    @property
    def tree(self) -> dict:
        return json.loads(dict(self.fields.fields)["arbre"])

    def count(self, changes: dict | None = None) -> str:
        response = self.client.post(reverse("search_count"), self.data(changes), **HTMX)
        return _text(response.content.decode())


def _form_of(html: str) -> str:
    start = html.index('<form id="search-form"')
    return html[start : html.index("</form>", start)]


def _text(html: str) -> str:
    """The words of a page, tags dropped, entities read, non-breaking spaces as spaces."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ").split())


def person(org, name: str, **data) -> Contact:
    return contacts.create_contact(organization=org, actor=SYSTEM, data={"last_name": name, **data})


def label(org, name: str) -> Label:
    return contacts.save_label(organization=org, actor=SYSTEM, name=name, color="#336699")


def tag(org, who: Contact, what: Label) -> None:
    contacts.add_labels(organization=org, actor=SYSTEM, model=Contact, ids=[who.pk], labels=[what])


@pytest.fixture
def lyon(org):
    donor = label(org, "Donateur")
    alice = person(org, "Alice", city="Lyon")
    bob = person(org, "Bob", city="Lyon")
    person(org, "Chloé", city="Paris")
    tag(org, alice, donor)
    return {"donor": donor, "alice": alice, "bob": bob}


# Building a tree by clicking ------------------------------------------------------------


def test_a_tree_is_built_by_htmx_actions_and_counted(admin_client, lyon):
    page = Builder(admin_client)
    assert page.tree == {"group": "all", "children": []}

    page.post(action="add:")
    assert page.tree == {"group": "all", "children": [{"field": ""}]}

    page.post({"@children[0]:field": "city"})
    assert page.tree["children"] == [{"field": "city", "op": "contains"}]

    page.post({"@children[0]:op": "equals", "@children[0]:value": "Lyon"})
    assert page.tree["children"] == [{"field": "city", "op": "equals", "value": "Lyon"}]

    page.post(action="group:")
    page.post({"@children[1]:group": "none", "@children[1].children[0]:field": "labels"})
    page.post({"@children[1].children[0]:value": [str(lyon["donor"].pk)]})

    assert page.tree == {
        "group": "all",
        "children": [
            {"field": "city", "op": "equals", "value": "Lyon"},
            {
                "group": "none",
                "children": [{"field": "labels", "op": "any", "value": [lyon["donor"].pk]}],
            },
        ],
    }
    status = page.count()
    assert "1 contact correspond." in status
    assert "Ville est « Lyon » ET NON a l'étiquette « Donateur »" in status


def test_typed_values_count_before_the_builder_redraws(admin_client, lyon):
    page = Builder(admin_client)
    page.post(action="add:")
    page.post({"@children[0]:field": "city"})

    # The text input only asks for the count while typing: the hidden tree is older.
    status = page.count({"@children[0]:op": "equals", "@children[0]:value": "lyon"})

    assert "2 contacts correspondent." in status


def test_remove_and_group_kind(admin_client, lyon):
    tree = {
        "group": "all",
        "children": [
            {"field": "city", "op": "equals", "value": "Lyon"},
            {"group": "any", "children": [{"field": "last_name", "op": "equals", "value": "Bob"}]},
        ],
    }
    page = Builder(admin_client, arbre=json.dumps(tree))

    page.post({"@children[1]:group": "none"})
    assert page.tree["children"][1]["group"] == "none"
    assert "1 contact correspond." in page.count()

    page.post(action="remove:children[0]")
    assert page.tree == {
        "group": "all",
        "children": [
            {"group": "none", "children": [{"field": "last_name", "op": "equals", "value": "Bob"}]}
        ],
    }


def test_a_faulty_tree_shows_the_french_error_at_its_condition(admin_client, lyon):
    tree = {
        "group": "all",
        "children": [
            {"field": "city", "op": "equals", "value": "Lyon"},
            {"field": "interactions.count", "op": "gte", "value": "beaucoup"},
        ],
    }
    page = Builder(admin_client, arbre=json.dumps(tree))

    node = re.search(r'<div class="node condition has-error" data-path="children\[1\]"', page.html)
    assert node is not None
    assert (
        '<p class="node-error" data-error-for="children[1]" role="alert">Un nombre est attendu.'
        in (page.html)
    )
    assert 'data-error-for="children[0]" role="alert"></p>' in page.html

    status = admin_client.post(reverse("search_count"), page.data(), **HTMX).content.decode()
    assert 'data-error-path="children[1]"' in status
    assert "À compléter" in status


def test_a_new_condition_asks_for_its_field(admin_client, lyon):
    page = Builder(admin_client)

    page.post(action="add:")

    assert "Choisissez un champ." in page.html


def test_dates_and_restrictions_read_back_from_their_widgets(admin_client, org, lyon):
    page = Builder(admin_client)
    page.post(action="add:")
    page.post({"@children[0]:field": "interactions.count"})
    page.post({"@children[0]:op": "gte", "@children[0]:value": "2"})
    page.post({"@children[0]:where.period.type": "previous:year"})
    assert page.tree["children"][0] == {
        "field": "interactions.count",
        "op": "gte",
        "value": 2,
        "where": {"period": {"type": "previous", "unit": "year"}},
    }

    page.post({"@children[0]:where.period.type": "last"})
    page.post({"@children[0]:where.period.n": "6", "@children[0]:where.period.unit": "weeks"})

    assert page.tree["children"][0]["where"] == {
        "period": {"type": "last", "n": 6, "unit": "weeks"}
    }


def test_amounts_are_euros_with_a_comma(admin_client, org, lyon):
    page = Builder(admin_client)
    page.post(action="add:")
    page.post({"@children[0]:field": "payments.total"})

    page.post({"@children[0]:op": "gte", "@children[0]:value": "12,50"})

    assert page.tree["children"][0] == {"field": "payments.total", "op": "gte", "value": 12.5}


def test_a_structure_sub_tree_is_a_nested_builder(admin_client, org, lyon):
    mairie = contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie"})
    contacts.save_structure_link(
        organization=org, actor=SYSTEM, contact=lyon["bob"], structure=mairie, role="Élu"
    )
    page = Builder(admin_client)
    page.post(action="add:")
    page.post({"@children[0]:field": "structures"})
    assert page.tree["children"][0] == {"field": "structures", "op": "linked"}

    page.post(action="add:children[0].value")
    page.post({"@children[0].value.children[0]:field": "name"})
    page.post(
        {
            "@children[0].value.children[0]:op": "starts_with",
            "@children[0].value.children[0]:value": "mair",
        }
    )

    assert page.tree["children"][0] == {
        "field": "structures",
        "op": "linked",
        "value": {
            "group": "all",
            "children": [{"field": "name", "op": "starts_with", "value": "mair"}],
        },
    }
    assert "1 contact correspond." in page.count()


def test_a_lone_condition_in_a_sub_tree_stays_alone_until_changed(admin_client, lyon):
    lone = {"field": "city", "op": "equals", "value": "Lyon"}
    tree = {"group": "all", "children": [{"field": "payer", "op": "matches", "value": lone}]}
    page = Builder(admin_client, table="payments", arbre=json.dumps(tree))

    page.post()
    assert page.tree == tree

    page.post({"@children[0].value.children[0]:value": "Paris"})
    assert page.tree["children"][0]["value"] == {
        "group": "all",
        "children": [{"field": "city", "op": "equals", "value": "Paris"}],
    }

    page.post(action="add:children[0].value")
    assert page.tree["children"][0]["value"]["children"][1] == {"field": ""}


def test_every_table_has_its_builder_and_results(admin_client, org, lyon):
    payments.create_payment(
        organization=org,
        actor=SYSTEM,
        kind="don",
        amount="40",
        paid_on="2026-03-02",
        payer_contact=lyon["alice"],
    )
    tree = {"group": "all", "children": [{"field": "amount", "op": "gte", "value": 10}]}

    page = admin_client.get("/recherche/", {"table": "payments", "arbre": json.dumps(tree)})

    html = page.content.decode()
    assert "40,00" in html
    assert reverse("contact_detail", args=[lyon["alice"].pk]) in html
    for table in ("structures", "interactions"):
        assert admin_client.get("/recherche/", {"table": table}).status_code == 200


def test_results_are_keyset_pages_sorted_by_name_or_creation(admin_client, org, lyon):
    tree = json.dumps({"field": "city", "op": "equals", "value": "Lyon"})
    first = admin_client.get(
        "/recherche/",
        {"arbre": tree, "taille": 25, "tri": "-created_at"},
        HTTP_HX_TARGET="search-results",
        **HTMX,
    )

    html = first.content.decode()
    assert html.index("BOB") < html.index("ALICE")
    assert "Suivants" not in html


def test_results_take_the_same_queries_whatever_their_number(admin_client, org, lyon):
    donor = lyon["donor"]
    tree = json.dumps({"field": "labels", "op": "any", "value": [donor.pk]})
    params = {"arbre": tree, "colonnes": ["name", "labels", "city"]}
    headers = {"HTTP_HX_TARGET": "search-results", **HTMX}

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/recherche/", params, **headers).status_code == 200
        return len(captured)

    few = queries()
    for i in range(8):
        tag(org, person(org, f"Nouveau {i}", city="Lyon"), donor)

    assert queries() == few


def test_a_table_the_member_may_not_search_is_refused(org, reader_member):
    volunteer = Profile.objects.for_org(org).get(name="Lecteur")
    volunteer.hide_payment_data = True
    volunteer.save()
    client = client_for(reader_member)

    assert client.get("/recherche/", {"table": "payments"}).status_code == 403


# Rights on criteria ---------------------------------------------------------------------


def test_payment_criteria_are_neither_offered_nor_accepted_when_hidden(org, reader_member):
    profile = Profile.objects.for_org(org).get(name="Lecteur")
    profile.hide_payment_data = True
    profile.save()
    client = client_for(reader_member)
    page = Builder(client)
    page.post(action="add:")

    offered = page.fields.options["@children[0]:field"]
    assert "city" in offered
    assert not [key for key in offered if key.startswith(("payments.", "membership."))]
    assert '"Paiements"' not in page.html

    page.post({"@children[0]:field": "payments.total"})
    assert "Champ inconnu ou non autorisé" in page.html
    tree = {"field": "payments.total", "op": "gte", "value": 10}
    counted = client.post(reverse("search_count"), {"arbre": json.dumps(tree)}, **HTMX)
    assert "Champ inconnu ou non autorisé" in counted.content.decode()


def test_a_segment_on_payments_shows_no_members_to_a_profile_hiding_them(
    org, reader_member, admin_client, lyon
):
    segment = segments.save_segment(
        organization=org,
        actor=SYSTEM,
        name="Grands donateurs",
        tree={"field": "payments.total", "op": "gte", "value": 100},
    )
    profile = Profile.objects.for_org(org).get(name="Lecteur")
    profile.hide_payment_data = True
    profile.save()

    html = _text(
        client_for(reader_member).get(reverse("segment_detail", args=[segment.pk])).content.decode()
    )

    assert "Ce segment ne peut pas être calculé : Champ inconnu ou non autorisé" in html
    assert "Membres" not in html
    assert "Grands donateurs" in html
    # Nor its raw tree (the amount in it): no « Ouvrir dans la recherche » with the tree.
    assert "Ouvrir dans la recherche" not in html and "arbre=" not in html


def test_a_segment_on_hidden_criteria_cannot_be_edited_by_that_profile(org, lyon):
    segment = segments.save_segment(
        organization=org,
        actor=SYSTEM,
        name="Grands donateurs",
        tree={"field": "payments.total", "op": "gte", "value": 100},
    )
    editor = add_member(org, "editrice@amis-du-parc.fr", "Éditeur")
    editor.profile.hide_payment_data = True
    editor.profile.save()
    client = client_for(editor)

    response = client.get(reverse("segment_edit", args=[segment.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("segment_detail", args=[segment.pk])
    html = _text(response.content.decode())
    assert "critères que votre profil ne permet pas de voir" in html
    assert "arbre=" not in response.content.decode()


def test_sensitive_custom_fields_are_hidden_by_profile(org, reader_member, admin_client):
    contacts.save_custom_field(
        organization=org,
        actor=SYSTEM,
        target="contact",
        name="Santé",
        field_type="text",
        sensitive=True,
    )
    profile = Profile.objects.for_org(org).get(name="Lecteur")
    profile.hide_sensitive_fields = True
    profile.save()

    admin = Builder(admin_client)
    admin.post(action="add:")
    reader = Builder(client_for(reader_member))
    reader.post(action="add:")

    assert "Santé" in admin.html
    assert "Santé" not in reader.html


# Segments -------------------------------------------------------------------------------


SAVED = {
    "group": "all",
    "children": [
        {"field": "city", "op": "equals", "value": "Lyon"},
        {"field": "created_at", "op": "in", "value": {"type": "last", "n": 3, "unit": "months"}},
        {
            "group": "any",
            "children": [
                {
                    "field": "interactions.count",
                    "op": "lt",
                    "value": 2,
                    "where": {"period": "2026-01-31"},
                },
                {"field": "email", "op": "not_empty"},
                {"field": "structures", "op": "linked", "where": {"main": True}},
                {"field": "civility", "op": "in", "value": "Mme"},
            ],
        },
    ],
}


def test_save_as_segment_then_its_page(admin_client, org, lyon):
    page = Builder(admin_client, arbre=json.dumps(SAVED))

    response = admin_client.post(
        "/recherche/",
        page.data({"nom": "Lyonnais récents", "description": "Pour la fête"}, action="save"),
        **HTMX,
    )

    segment = Segment.objects.for_org(org).get()
    assert response.headers["HX-Redirect"] == reverse("segment_detail", args=[segment.pk])
    assert (segment.name, segment.description, segment.tree) == (
        "Lyonnais récents",
        "Pour la fête",
        SAVED,
    )
    detail = admin_client.get(reverse("segment_detail", args=[segment.pk])).content.decode()
    assert "Ville est « Lyon » ET Créé le depuis 3 mois" in _text(detail)


def test_saving_needs_a_name_said_beside_the_field(admin_client, org, lyon):
    page = Builder(admin_client, arbre=json.dumps(SAVED))

    page.post({"nom": "  "}, action="save")

    assert "Le nom du segment est obligatoire." in page.html
    assert not Segment.objects.for_org(org).exists()


def test_a_saved_segment_opens_and_saves_back_unchanged(admin_client, org, lyon):
    segment = segments.save_segment(organization=org, actor=SYSTEM, name="Lyon", tree=SAVED)
    url = reverse("segment_edit", args=[segment.pk])
    page = Builder(admin_client, url)
    assert page.tree == SAVED

    response = admin_client.post(url, page.data(action="save"), **HTMX)

    assert response.headers["HX-Redirect"] == reverse("segment_detail", args=[segment.pk])
    segment.refresh_from_db()
    assert segment.tree == SAVED
    assert segment.name == "Lyon"


def test_editing_a_segment_changes_its_tree(admin_client, org, lyon):
    segment = segments.save_segment(organization=org, actor=SYSTEM, name="Lyon", tree=SAVED)
    page = Builder(admin_client, reverse("segment_edit", args=[segment.pk]))

    page.post(action="remove:children[2]")
    page.post({"nom": "Lyon seulement"}, action="save")

    segment.refresh_from_db()
    assert segment.tree == {"group": "all", "children": SAVED["children"][:2]}
    assert segment.name == "Lyon seulement"


def test_delete_is_refused_while_another_segment_uses_it(admin_client, org, lyon):
    inner = segments.save_segment(
        organization=org,
        actor=SYSTEM,
        name="Donateurs",
        tree={"field": "labels", "op": "any", "value": [lyon["donor"].pk]},
    )
    segments.save_segment(
        organization=org,
        actor=SYSTEM,
        name="Donateurs lyonnais",
        tree={"group": "all", "children": [{"field": "segment", "op": "in", "value": inner.pk}]},
    )

    response = admin_client.post(reverse("segment_delete", args=[inner.pk]))

    html = _text(response.content.decode())
    assert "Ce segment ne peut pas être supprimé." in html
    assert "utilisé par : Donateurs lyonnais" in html
    assert Segment.objects.for_org(org).filter(pk=inner.pk).exists()


def test_delete_after_confirmation(admin_client, org, lyon):
    segment = segments.save_segment(organization=org, actor=SYSTEM, name="Lyon", tree=SAVED)

    assert admin_client.get(reverse("segment_delete", args=[segment.pk])).status_code == 200
    response = admin_client.post(reverse("segment_delete", args=[segment.pk]))

    assert response["Location"] == reverse("segment_list")
    assert not Segment.objects.for_org(org).exists()


def test_why_a_contact_is_in_a_segment(admin_client, org, lyon):
    tree = {
        "group": "all",
        "children": [
            {"field": "city", "op": "equals", "value": "Lyon"},
            {"group": "none", "children": [{"field": "last_name", "op": "equals", "value": "Bob"}]},
        ],
    }
    segment = segments.save_segment(organization=org, actor=SYSTEM, name="Lyon", tree=tree)

    alice = _text(
        admin_client.get(
            reverse("segment_why", args=[segment.pk, lyon["alice"].pk])
        ).content.decode()
    )
    bob = _text(
        admin_client.get(reverse("segment_why", args=[segment.pk, lyon["bob"].pk])).content.decode()
    )

    assert "✓ ALICE fait partie du segment aujourd'hui." in alice.replace("Alice", "ALICE")
    assert "✓ Ville est « Lyon »" in alice
    assert "✓ Nom est « Bob » — dans un groupe « aucune » : non remplie, elle compte pour" in alice
    assert "ne fait pas partie du segment" in bob
    assert "✗ Nom est « Bob » — dans un groupe « aucune » : remplie, elle l'écarte" in bob


def test_segment_page_members_count_history_and_journal(admin_client, org, lyon):
    segment = segments.save_segment(
        organization=org,
        actor=SYSTEM,
        name="Donateurs",
        tree={"field": "labels", "op": "any", "value": [lyon["donor"].pk]},
    )
    today = timezone.localdate()
    segments.record_segment(segment, today=today - dt.timedelta(days=8))
    tag(org, lyon["bob"], lyon["donor"])
    segment.refresh_from_db()
    segments.record_segment(segment, today=today - dt.timedelta(days=1))

    html = admin_client.get(reverse("segment_detail", args=[segment.pk])).content.decode()
    text = _text(html)

    assert "a l'étiquette « Donateur »" in text
    assert "ALICE" in text and "BOB" in text
    assert html.count("<rect ") == 2 or html.count("<rect ") == 1
    assert f"BOB est entré(e) le {today - dt.timedelta(days=1):%d/%m/%Y}" in text.replace(
        "Bob", "BOB"
    )
    monthly = admin_client.get(reverse("segment_detail", args=[segment.pk]), {"points": "mois"})
    assert monthly.content.decode().count("<rect ") in (1, 2)
    count = admin_client.get(reverse("segment_count", args=[segment.pk])).content.decode()
    assert "<strong>2</strong> contacts" in count


def test_segment_list_shows_definitions_without_a_query_per_segment(
    admin_client, org, lyon, django_assert_max_num_queries
):
    for i in range(6):
        segments.save_segment(
            organization=org,
            actor=SYSTEM,
            name=f"Segment {i}",
            tree={
                "group": "all",
                "children": [
                    {"field": "labels", "op": "any", "value": [lyon["donor"].pk]},
                    {"field": "city", "op": "equals", "value": f"Ville {i}"},
                ],
            },
        )

    with django_assert_max_num_queries(16):
        html = admin_client.get(reverse("segment_list")).content.decode()

    assert _text(html).count("a l'étiquette « Donateur » ET Ville est") == 6


def test_contact_card_section_lists_segments_and_movements(admin_client, org, lyon):
    segment = segments.save_segment(
        organization=org,
        actor=SYSTEM,
        name="Donateurs à relancer",
        tree={"field": "labels", "op": "any", "value": [lyon["donor"].pk]},
    )
    segments.record_segment(segment, today=dt.date(2026, 11, 2))
    tag(org, lyon["bob"], lyon["donor"])
    segment.refresh_from_db()
    segments.record_segment(segment, today=dt.date(2026, 11, 3))
    ContactLabel.objects.filter(contact=lyon["bob"]).delete()
    segment.refresh_from_db()
    segments.record_segment(segment, today=dt.date(2026, 11, 4))

    html = admin_client.get(reverse("contact_segments", args=[lyon["bob"].pk]), **HTMX)
    text = _text(html.content.decode())

    assert "Dans aucun segment au dernier relevé nocturne." in text
    assert "sorti de « Donateurs à relancer » le 04/11/2026" in text
    assert "entré dans « Donateurs à relancer » le 03/11/2026" in text
    alice = _text(
        admin_client.get(reverse("contact_segments", args=[lyon["alice"].pk])).content.decode()
    )
    assert "Donateurs à relancer" in alice
    assert SegmentEvent.objects.for_org(org).count() == 2
    assert SegmentCount.objects.for_org(org).count() == 3


def test_another_organisations_segment_is_not_found(outsider_client, org, lyon):
    segment = segments.save_segment(organization=org, actor=SYSTEM, name="Lyon", tree=SAVED)

    for name in ("segment_detail", "segment_edit", "segment_delete", "segment_count"):
        assert outsider_client.get(reverse(name, args=[segment.pk])).status_code == 404


# Bulk actions on every result -----------------------------------------------------------


def test_bulk_label_on_all_results_of_a_tree(
    admin_client, org, lyon, django_capture_on_commit_callbacks
):
    volunteer = label(org, "Bénévole")
    tree = {"group": "all", "children": [{"field": "city", "op": "equals", "value": "Lyon"}]}

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("contact_bulk"),
            {"action": "add_label", "label": volunteer.pk, "tous": "1", "arbre": json.dumps(tree)},
        )

    assert response["Location"].startswith(reverse("search_builder") + "?table=contacts&arbre=")
    assert "&tache=" in response["Location"]
    tagged = set(ContactLabel.objects.filter(label=volunteer).values_list("contact_id", flat=True))
    assert tagged == {lyon["alice"].pk, lyon["bob"].pk}


def test_bulk_on_ticked_results_goes_back_to_the_search(admin_client, org, lyon):
    tree = {"field": "city", "op": "equals", "value": "Lyon"}
    group = contacts.save_group(organization=org, actor=SYSTEM, name="Fête")

    response = admin_client.post(
        reverse("contact_bulk"),
        {
            "action": "add_group",
            "group": group.pk,
            "ids": [lyon["bob"].pk],
            "arbre": json.dumps(tree),
        },
    )

    assert response["Location"].startswith(reverse("search_builder"))
    assert list(
        Group.objects.get(pk=group.pk).memberships.values_list("contact_id", flat=True)
    ) == [lyon["bob"].pk]


def test_bulk_on_all_results_refuses_an_incomplete_tree(admin_client, org, lyon):
    volunteer = label(org, "Bénévole")
    tree = {"field": "city", "op": "equals"}

    response = admin_client.post(
        reverse("contact_bulk"),
        {"action": "add_label", "label": volunteer.pk, "tous": "1", "arbre": json.dumps(tree)},
        follow=True,
    )

    assert "La recherche n'est pas complète" in _text(response.content.decode())
    assert not ContactLabel.objects.filter(label=volunteer).exists()


def test_an_interaction_for_every_result(admin_client, org, lyon):
    tree = {"field": "city", "op": "equals", "value": "Lyon"}
    response = admin_client.post(
        reverse("contact_bulk"),
        {"action": "record_interaction", "tous": "1", "arbre": json.dumps(tree)},
    )
    form_url = response["Location"]
    assert form_url.startswith(reverse("search_bulk_interaction"))
    form = admin_client.get(form_url)
    assert "2 contacts" in _text(form.content.decode())
    interaction_type = re.search(r'<option value="(\d+)"[^>]*>Appel', form.content.decode())

    done = admin_client.post(
        reverse("search_bulk_interaction"),
        {
            "arbre": json.dumps(tree),
            "type": interaction_type.group(1),
            "occurred_at": "2026-04-02T09:15",
        },
    )

    assert done.status_code == 302
    assert set(Interaction.objects.for_org(org).values_list("contact_id", flat=True)) == {
        lyon["alice"].pk,
        lyon["bob"].pk,
    }


def test_an_interaction_for_very_many_results_runs_as_a_job(
    admin_client, org, lyon, monkeypatch, django_capture_on_commit_callbacks
):
    from lien.core.models import Job
    from lien.interactions import views as interaction_views

    monkeypatch.setattr(interaction_views, "INLINE_LIMIT", 1)
    tree = {"field": "city", "op": "equals", "value": "Lyon"}
    form = admin_client.get(reverse("search_bulk_interaction"), {"arbre": json.dumps(tree)})
    interaction_type = re.search(r'<option value="(\d+)"[^>]*>Appel', form.content.decode())

    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(
            reverse("search_bulk_interaction"),
            {
                "arbre": json.dumps(tree),
                "type": interaction_type.group(1),
                "occurred_at": "2026-04-02T09:15",
            },
        )

    job = Job.objects.for_org(org).get(kind="bulk_interactions")
    assert done["Location"] == reverse("job_progress", args=[job.pk])
    assert (job.status, job.result["created"]) == ("succeeded", 2)
    assert set(Interaction.objects.for_org(org).values_list("contact_id", flat=True)) == {
        lyon["alice"].pk,
        lyon["bob"].pk,
    }


def test_a_member_without_segment_rights_cannot_save(org, lyon):
    member = add_member(org, "benevole@amis-du-parc.fr", "Lecteur")
    client = client_for(member)
    page = Builder(client, arbre=json.dumps(SAVED))

    assert 'value="save"' not in page.html
    response = client.post("/recherche/", page.data({"nom": "X"}, action="save"), **HTMX)
    assert response.status_code == 403


def test_the_journal_is_paged_newest_first(admin_client, org, lyon):
    segment = segments.save_segment(
        organization=org,
        actor=SYSTEM,
        name="Donateurs",
        tree={"field": "labels", "op": "any", "value": [lyon["donor"].pk]},
    )
    first_day = dt.date(2026, 1, 1)
    SegmentEvent.objects.bulk_create(
        SegmentEvent(
            organization=org,
            segment=segment,
            contact=lyon["alice"],
            kind="entered" if i % 2 == 0 else "left",
            day=first_day + dt.timedelta(days=i),
        )
        for i in range(25)
    )
    url = reverse("segment_detail", args=[segment.pk])

    page = admin_client.get(url).content.decode()
    newest = _text(page)
    assert "le 25/01/2026" in newest and "le 06/01/2026" in newest
    assert "le 05/01/2026" not in newest
    cursor = re.search(r'hx-get="[^"]*\?apres=([^"]+)" hx-target="#segment-journal"', page)

    older = admin_client.get(
        url, {"apres": cursor.group(1)}, HTTP_HX_TARGET="segment-journal", **HTMX
    )

    text = _text(older.content.decode())
    assert text.count("Alice") == 5
    assert "le 05/01/2026" in text and "le 01/01/2026" in text
    assert "Plus anciens" not in text


def test_a_contact_sub_tree_of_several_conditions_is_said_in_brackets(admin_client, lyon):
    tree = {
        "group": "all",
        "children": [
            {
                "field": "payer",
                "op": "matches",
                "value": {
                    "group": "all",
                    "children": [
                        {"field": "city", "op": "equals", "value": "Lyon"},
                        {"field": "email", "op": "not_empty"},
                    ],
                },
            },
            {"field": "amount", "op": "gte", "value": 10},
        ],
    }
    page = Builder(admin_client, table="payments", arbre=json.dumps(tree))

    status = page.count()

    assert (
        "Payeur correspond à : (Ville est « Lyon » ET Email est renseigné) ET Montant ≥ 10 €"
        in status
    )
