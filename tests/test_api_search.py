"""The search and segments API: searches agree with the engine, faulty trees name their
node, hidden criteria and tables are refused, segments are dynamic, and the engine
survives whatever JSON a client sends."""

from __future__ import annotations

import copy
import datetime as dt
import functools

import jsonschema
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lien.api.search import TREE_COMPONENTS, conform_tree
from lien.contacts import services as contacts
from lien.contacts.models import Contact
from lien.core.audit import Actor
from lien.core.models import Membership
from lien.core.services import save_profile
from lien.interactions import services as interactions
from lien.payments import services as payments
from lien.payments.models import Payment
from lien.search import services as segments
from lien.search.criteria import CONTACTS, INTERACTIONS, PAYMENTS, STRUCTURES, TreeError
from lien.search.models import Segment
from lien.search.tree import context, search
from tests.conftest import api_client_for, make_user

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()


def post(client, name, data, **kwargs):
    return client.post(reverse(name, **kwargs), data=data, content_type="application/json")


def patch(client, name, data, **kwargs):
    return client.patch(reverse(name, **kwargs), data=data, content_type="application/json")


def put(client, name, data, **kwargs):
    return client.put(reverse(name, **kwargs), data=data, content_type="application/json")


def has_label(label) -> dict:
    return {"field": "labels", "op": "any", "value": [label.pk]}


def city(name: str) -> dict:
    return {"field": "city", "op": "equals", "value": name}


def names(body: dict) -> list[str]:
    return [row["last_name"] for row in body["results"]]


def member_with(org, email: str, **profile) -> Membership:
    """A member of a profile made for the test (`rights`, `hide_…` flags)."""
    made = save_profile(organization=org, actor=SYSTEM, name=email, **profile)
    return Membership.objects.create(organization=org, user=make_user(email), profile=made)


@pytest.fixture
def api(admin_member):
    return api_client_for(admin_member)


@pytest.fixture
def assoc(org):
    """Four contacts (and one in the trash), two labels, a structure, a donation, a
    sensitive custom field."""

    def person(first, last, town, *labels, **custom):
        contact = contacts.create_contact(
            organization=org,
            actor=SYSTEM,
            data={"first_name": first, "last_name": last, "city": town},
            custom=custom or None,
            labels=list(labels),
        )
        return contact

    donor = contacts.save_label(organization=org, actor=SYSTEM, name="Donateur", color="#2f6f5e")
    volunteer = contacts.save_label(
        organization=org, actor=SYSTEM, name="Bénévole", color="#2f6f5e"
    )
    contacts.save_custom_field(
        organization=org, actor=SYSTEM, target="contact", name="Santé",
        field_type="long_text", sensitive=True,
    )  # fmt: skip
    helene = person("Hélène", "Martin", "Lyon", donor, sante="Asthme")
    marc = person("Marc", "Dupont", "Paris", volunteer)
    emile = person("Émile", "Marchand", "Lyon", donor, volunteer)
    zoe = person("Zoé", "Abadie", "Marseille")
    gone = person("Paul", "Martinez", "Lyon", donor)
    contacts.trash(organization=org, actor=SYSTEM, model=Contact, ids=[gone.pk])
    town_hall = contacts.create_structure(
        organization=org, actor=SYSTEM, data={"name": "Mairie de Lyon", "city": "Lyon"}
    )
    contacts.create_structure(
        organization=org, actor=SYSTEM, data={"name": "Club", "city": "Paris"}
    )
    contacts.save_structure_link(
        organization=org, actor=SYSTEM, contact=helene, structure=town_hall, role="Élue"
    )
    donation = payments.create_payment(
        organization=org, actor=SYSTEM, kind="don", amount="80", paid_on="2026-10-01",
        payer_contact=helene,
    )  # fmt: skip
    payments.create_payment(
        organization=org, actor=SYSTEM, kind="don", amount="20", paid_on="2026-09-01",
        payer_contact=marc,
    )  # fmt: skip
    call = interactions.record_interaction(
        organization=org, actor=SYSTEM, contact=emile, occurred_at="2026-10-12T10:00",
        type="Appel téléphonique",
    )  # fmt: skip
    return {
        "donor": donor,
        "volunteer": volunteer,
        "helene": helene,
        "marc": marc,
        "emile": emile,
        "zoe": zoe,
        "town_hall": town_hall,
        "donation": donation,
        "call": call,
    }


# Searching contacts -----------------------------------------------------------------------


TREES = {
    "a label": lambda a: has_label(a["donor"]),
    "a city, and not a label": lambda a: {
        "group": "all",
        "children": [city("Lyon"), {"group": "none", "children": [has_label(a["volunteer"])]}],
    },
    "given over 50 €": lambda a: {"field": "payments.total", "op": "gte", "value": 50},
    "linked to a structure matching a sub-tree": lambda a: {
        "field": "structures",
        "op": "linked",
        "value": {"field": "name", "op": "contains", "value": "mairie"},
    },
    "either of two names": lambda a: {
        "group": "any",
        "children": [
            {"field": "last_name", "op": "starts_with", "value": "Mar"},
            {"field": "first_name", "op": "equals", "value": "zoe"},
        ],
    },
    "an empty group: everyone": lambda a: {"group": "all", "children": []},
}
EXPECTED = {
    "a label": ["Martin", "Marchand"],
    "a city, and not a label": ["Martin"],
    "given over 50 €": ["Martin"],
    "linked to a structure matching a sub-tree": ["Martin"],
    "either of two names": ["Martin", "Marchand", "Abadie"],
    "an empty group: everyone": ["Martin", "Dupont", "Marchand", "Abadie"],
}


@pytest.mark.parametrize("case", sorted(TREES))
def test_search_finds_what_the_engine_finds(org, api, admin_member, assoc, case):
    tree = TREES[case](assoc)

    response = post(api, "api-contacts-search", {"tree": tree, "limit": 500})

    assert response.status_code == 200, response.json()
    body = response.json()
    engine = search(org, tree, membership=admin_member).order_by("pk")
    assert [row["id"] for row in body["results"]] == [contact.pk for contact in engine]
    assert names(body) == EXPECTED[case]
    assert body["count"] == len(EXPECTED[case])


def test_pages_sorts_and_counts(api, assoc):
    tree = {"group": "all", "children": []}

    first = post(api, "api-contacts-search", {"tree": tree, "ordering": "last_name", "limit": 2})
    second = post(
        api,
        "api-contacts-search",
        {"tree": tree, "ordering": "last_name", "limit": 2, "offset": 2},
    )
    backwards = post(api, "api-contacts-search", {"tree": tree, "ordering": "-first_name"})

    assert (first.json()["count"], names(first.json())) == (4, ["Abadie", "Dupont"])
    assert (second.json()["count"], names(second.json())) == (4, ["Marchand", "Martin"])
    assert names(backwards.json()) == ["Abadie", "Dupont", "Martin", "Marchand"]


def test_results_read_like_the_contacts_list_and_the_tree_is_said_in_french(api, assoc):
    tree = {"group": "all", "children": [has_label(assoc["donor"]), city("Lyon")]}

    body = post(api, "api-contacts-search", {"tree": tree}).json()

    listed = api.get(reverse("api-contacts-list")).json()["results"]
    assert body["results"] == [row for row in listed if row["last_name"] in {"Martin", "Marchand"}]
    assert body["description"] == "a l'étiquette « Donateur » ET Ville est « Lyon »"


def test_a_page_of_results_costs_the_same_queries_whatever_its_size(api, assoc):
    one = {"tree": {"field": "first_name", "op": "equals", "value": "Zoé"}}
    four = {"tree": {"group": "all", "children": []}}
    post(api, "api-contacts-search", one)  # warm the token and session caches

    with CaptureQueriesContext(connection) as small:
        assert post(api, "api-contacts-search", one).json()["count"] == 1
    with CaptureQueriesContext(connection) as large:
        assert post(api, "api-contacts-search", four).json()["count"] == 4

    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_request_itself_is_checked(api, assoc):
    cases = [
        ({}, "tree"),
        ({"tree": {"group": "all"}, "limit": 0}, "limit"),
        ({"tree": {"group": "all"}, "limit": 501}, "limit"),
        ({"tree": {"group": "all"}, "limit": "10"}, "limit"),
        ({"tree": {"group": "all"}, "offset": -1}, "offset"),
        ({"tree": {"group": "all"}, "ordering": "email"}, "ordering"),
        ({"tree": {"group": "all"}, "ordering": 1}, "ordering"),
    ]
    for body, field in cases:
        response = post(api, "api-contacts-search", body)
        assert response.status_code == 400, body
        assert list(response.json()) == [field], body


# Faulty trees ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tree", "path", "words"),
    [
        ({"group": "some", "children": []}, "group", "all, any, none"),
        ({"group": ["all"]}, "group", "Un texte est attendu"),
        ({"group": "all", "children": ["city"]}, "children[0]", "Un groupe"),
        ({"group": "all", "children": [{"field": "pointure", "op": "eq", "value": 4}]},
         "children[0].field", "Champ inconnu"),
        ({"group": "all", "children": [{"group": "any", "children": [
            {"field": "city", "op": "sounds_like", "value": "Lyon"}]}]},
         "children[0].children[0].op", "Opérateur inconnu"),
        ({"group": "all", "children": [city("Lyon"),
                                       {"field": "interactions.count", "op": "gte", "value": "4"}]},
         "children[1].value", "Un nombre est attendu"),
        ({"field": "labels", "op": "any", "value": "Donateur"}, "value",
         "liste d'identifiants"),
        ({"field": "created_at", "op": "in", "value": {"type": "last", "n": 3, "unit": "lunes"}},
         "value.unit", "days, weeks, months, years"),
        ({"field": "created_at", "op": "in", "value": {"type": "last", "n": "3",
                                                        "unit": "months"}},
         "value.n", "nombre entier"),
        ({"field": "birth_date", "op": "before", "value": "0001-01-01"}, "value",
         "hors limites"),
        ({"field": "city", "op": "equals", "value": "Lyon", "colour": "red"}, "colour",
         "Clé inconnue"),
        ({"field": "city"}, "op", "Clé obligatoire"),
        ({"field": "city", "op": "equals", "value": "L" * 201}, "value", "200 caractères"),
        ({"field": "city", "op": "equals", "value": "Ly\x00on"}, "value", "Caractère nul"),
        ({"field": "structures", "op": "linked",
          "value": {"field": "nom", "op": "contains", "value": "x"}},
         "value.field", "Champ inconnu"),
        ({"field": "payments.total", "op": "gt", "value": 10, "where": {"role": "payeur"}},
         "where.role", "payer ou beneficiary"),
        ({"field": "segment", "op": "in", "value": 999999}, "value", "Segment introuvable"),
    ],
)  # fmt: skip
def test_a_faulty_tree_is_a_400_naming_its_node(api, assoc, tree, path, words):
    response = post(api, "api-contacts-search", {"tree": tree})

    assert response.status_code == 400
    body = response.json()
    assert body["path"] == path
    assert body["tree"][0].startswith(f"{path} : ")
    assert words in body["tree"][0]


def test_ids_of_another_organisation_are_refused(api, other_org, assoc):
    theirs = contacts.save_label(
        organization=other_org, actor=SYSTEM, name="Secret", color="#2f6f5e"
    )

    response = post(api, "api-contacts-search", {"tree": has_label(theirs)})

    assert response.status_code == 400
    assert response.json() == {
        "tree": [f"value : Introuvable dans votre association : {theirs.pk}."],
        "path": "value",
    }


def test_the_engine_refuses_shapes_it_used_to_crash_on(org):
    """Checked without the API in front: what reaches the engine by another path."""
    broken = [
        ({"group": ["all"]}, "group"),
        ({"field": "city", "op": ["equals"], "value": "Lyon"}, "op"),
        ({"field": "payments.total", "op": "gt", "value": 1, "where": {"role": []}},
         "where.role"),
        ({"field": "labels", "op": "any", "value": [2**70]}, "value"),
        ({"field": "created_at", "op": "before", "value": "0001-01-01"}, "value"),
        ({"field": "created_at", "op": "after", "value": "9999-12-31"}, "value"),
        ({"field": "created_at", "op": "in",
          "value": {"type": "last", "n": 10000, "unit": "years"}}, "value"),
        # json.loads reads NaN; stored, the segment could no longer be shown as JSON.
        ({"field": "household", "op": "not_empty", "value": float("nan")}, "value"),
        ({"field": "interactions.count", "op": "gt", "value": 1,
          "where": {"period": {"type": "last", "n": float("inf"), "unit": "days"}}}, "where"),
    ]  # fmt: skip
    for tree, path in broken:
        with pytest.raises(TreeError) as error:
            list(search(org, tree))
        assert error.value.path == path, tree


# The published schema is exactly what is accepted -------------------------------------------


@functools.cache
def published_tree_validator() -> jsonschema.Draft4Validator:
    """The tree components as the OpenAPI document publishes them, read as JSON Schema
    (OpenAPI 3.0's `nullable` becomes a null alternative)."""
    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]

    def draft4(node):
        if isinstance(node, list):
            return [draft4(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: draft4(value) for key, value in node.items() if key != "example"}
        if "$ref" in node:
            node["$ref"] = node["$ref"].replace("#/components/schemas/", "#/definitions/")
        if node.pop("nullable", False):
            return {"anyOf": [node, {"type": "null"}]}
        return node

    definitions = {name: draft4(copy.deepcopy(components[name])) for name in TREE_COMPONENTS}
    return jsonschema.Draft4Validator(
        {"$ref": "#/definitions/FilterNode", "definitions": definitions}
    )


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.just(2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "x" * 201, "all", "last", "2026-01-01"]),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["group", "field", "type", "colour"]), st.integers(0, 1)),
)


def near_valid(schema: dict, depth: int):
    """Values of a tree component, with now and then a wrong piece somewhere."""
    if "$ref" in schema:
        schema = TREE_COMPONENTS[schema["$ref"].rsplit("/", 1)[1]]
    options = [st.none()] if schema.get("nullable") else []
    if "oneOf" in schema:
        deep = [b for b in schema["oneOf"] if depth > 0 or not b.get("$ref", "").endswith("Node")]
        options.append(st.one_of([near_valid(branch, depth) for branch in deep]))
    elif "enum" in schema:
        options.append(st.sampled_from(schema["enum"]))
    elif schema["type"] == "string":
        short = st.characters(blacklist_characters="\x00", max_codepoint=300)
        options.append(st.text(short, min_size=schema.get("minLength", 0), max_size=5))
        options.append(st.just("y" * schema.get("maxLength", 1)))
    elif schema["type"] == "number":
        options.append(
            st.one_of(st.integers(-10, 10), st.floats(allow_nan=False, allow_infinity=False))
        )
    elif schema["type"] == "integer":
        low, high = schema["minimum"], schema["maximum"]
        options.append(st.sampled_from([low, high, low + 1]))
    elif schema["type"] == "boolean":
        options.append(st.booleans())
    elif schema["type"] == "array":
        items = schema["items"]
        if depth <= 0 and items.get("$ref", "").endswith("Node"):
            options.append(st.just([]))
        else:
            minimum = schema.get("minItems", 0)
            options.append(st.lists(near_valid(items, depth - 1), min_size=minimum, max_size=2))
    else:
        properties, required = schema["properties"], schema.get("required", [])
        options.append(
            st.fixed_dictionaries(
                {key: near_valid(properties[key], depth - 1) for key in required},
                optional={
                    key: near_valid(value, depth - 1)
                    for key, value in properties.items()
                    if key not in required
                },
            )
        )
    valid = st.one_of(options)
    return st.integers(0, 40).flatmap(lambda draw: JUNK if draw == 0 else valid)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(tree=near_valid({"$ref": "#/components/schemas/FilterNode"}, 3))
def test_a_tree_passes_the_shape_check_exactly_when_the_published_schema_accepts_it(tree):
    try:
        conform_tree(tree)
        accepted = True
    except TreeError:
        accepted = False

    assert accepted == published_tree_validator().is_valid(tree)


# Rights -----------------------------------------------------------------------------------


def test_criteria_the_member_may_not_use_are_refused_by_node(org, assoc):
    discreet = member_with(
        org,
        "discret@amis-du-parc.fr",
        rights={"contacts": ["view"], "payments": ["view"]},
        hide_payment_data=True,
        hide_sensitive_fields=True,
    )
    client = api_client_for(discreet)

    money = post(
        client,
        "api-contacts-search",
        {"tree": {"group": "all", "children": [city("Lyon"), TREES["given over 50 €"](assoc)]}},
    )
    health = post(
        client,
        "api-contacts-search",
        {"tree": {"field": "custom.sante", "op": "contains", "value": "Asthme"}},
    )
    lyon = post(client, "api-contacts-search", {"tree": city("Lyon")})

    assert money.status_code == 400
    assert money.json()["path"] == "children[1].field"
    assert "non autorisé" in money.json()["tree"][0]
    assert health.status_code == 400
    assert health.json()["path"] == "field"
    # Results hide the sensitive values, as the contacts list does for this profile.
    assert [row["custom"] for row in lyon.json()["results"]] == [{}, {}]


def test_a_table_the_member_may_not_see_is_a_403(org, assoc):
    contacts_only = api_client_for(
        member_with(org, "fiches@amis-du-parc.fr", rights={"contacts": ["view"]})
    )
    everything = {"tree": {"group": "all", "children": []}}

    assert post(contacts_only, "api-contacts-search", everything).status_code == 200
    for name in ["api-structures-search", "api-interactions-search", "api-payments-search"]:
        assert post(contacts_only, name, everything).status_code == 403, name
    criteria = reverse("api-search-criteria")
    assert contacts_only.get(criteria, {"table": "payments"}).status_code == 403
    assert contacts_only.get(criteria, {"table": "contacts"}).status_code == 200


def test_the_criteria_a_member_may_use(org, admin_member, assoc):
    discreet = member_with(
        org,
        "discret@amis-du-parc.fr",
        rights={"contacts": ["view"], "structures": ["view"]},
        hide_payment_data=True,
        hide_sensitive_fields=True,
    )
    url = reverse("api-search-criteria")

    full = api_client_for(admin_member).get(url).json()
    narrow = api_client_for(discreet).get(url, {"table": "contacts"}).json()
    structures = api_client_for(discreet).get(url, {"table": "structures"}).json()
    unknown = api_client_for(admin_member).get(url, {"table": "dons"})

    fields = [spec["field"] for spec in full["criteria"]]
    assert full["table"] == "contacts"
    assert fields == list(CONTACTS.all(context(org, admin_member)))
    assert {"payments.total", "membership.status", "custom.sante"} <= set(fields)
    assert full["criteria"][0] == {
        "field": "civility",
        "label": "Civilité",
        "section": "Fiche",
        "ops": {"in": "est parmi", "not_in": "n'est pas parmi"},
        "value": "choices",
        "where": [],
        "choices": {"M.": "M.", "Mme": "Mme", "Mx": "Mx"},
    }
    narrow_fields = {spec["field"] for spec in narrow["criteria"]}
    assert narrow_fields == set(fields) - {
        "payments.total", "payments.count", "payments.first", "payments.last", "payments.max",
        "membership.status", "membership.end", "custom.sante", "interactions.count",
        "interactions.first", "interactions.last", "interactions.gap", "emailing", "segment",
    }  # fmt: skip
    assert [spec["field"] for spec in structures["criteria"]] == list(
        STRUCTURES.all(context(org, discreet))
    )
    assert unknown.status_code == 400
    assert list(unknown.json()) == ["table"]


# The other tables ---------------------------------------------------------------------------


def test_structures_interactions_and_payments_search_like_the_engine(org, api, admin_member, assoc):
    cases = [
        ("api-structures-search", STRUCTURES, city("Lyon")),
        (
            "api-interactions-search",
            INTERACTIONS,
            {"field": "contact", "op": "matches", "value": has_label(assoc["volunteer"])},
        ),
        ("api-payments-search", PAYMENTS, {"field": "amount", "op": "gte", "value": 50}),
    ]
    for name, registry, tree in cases:
        body = post(api, name, {"tree": tree, "ordering": "id"}).json()
        engine = search(org, tree, membership=admin_member, registry=registry).order_by("pk")
        assert [row["id"] for row in body["results"]] == [row.pk for row in engine], name

    structures = post(api, "api-structures-search", {"tree": city("Lyon")}).json()
    calls = post(
        api,
        "api-interactions-search",
        {"tree": {"field": "contact", "op": "matches", "value": has_label(assoc["volunteer"])}},
    ).json()
    gifts = post(
        api, "api-payments-search", {"tree": {"field": "amount", "op": "gte", "value": 50}}
    ).json()

    assert [row["name"] for row in structures["results"]] == ["Mairie de Lyon"]
    # Marc's donation made a « Paiement » interaction; Émile has a call: newest first.
    assert [(row["contact"], row["type"]["name"]) for row in calls["results"]] == [
        (assoc["emile"].pk, "Appel téléphonique"),
        (assoc["marc"].pk, "Paiement"),
    ]
    assert calls["description"] == ("Contact correspond à : a l'étiquette « Bénévole »")
    assert [(row["id"], row["amount"]) for row in gifts["results"]] == [
        (assoc["donation"].pk, "80.00")
    ]
    assert Payment.objects.get(pk=assoc["donation"].pk).payer_contact == assoc["helene"]


def test_a_structure_sub_tree_in_a_payment_tree_points_at_its_node(api, assoc):
    tree = {
        "group": "all",
        "children": [
            {"field": "payer", "op": "matches",
             "value": {"field": "structures", "op": "linked",
                       "value": {"field": "siren", "op": "equals", "value": 5}}},
        ],
    }  # fmt: skip

    response = post(api, "api-payments-search", {"tree": tree})

    assert response.status_code == 400
    assert response.json()["path"] == "children[0].value.value.value"


# Segments -----------------------------------------------------------------------------------


def test_create_read_list_and_change_a_segment(api, assoc):
    created = post(
        api,
        "api-segments-list",
        {
            "name": "  Donateurs   lyonnais ",
            "description": "Pour l'appel de printemps",
            "tree": {"group": "all", "children": [has_label(assoc["donor"]), city("Lyon")]},
        },
    )

    assert created.status_code == 201, created.json()
    body = created.json()
    segment = Segment.objects.get(pk=body["id"])
    assert {key: body[key] for key in body if key not in {"created_at", "updated_at"}} == {
        "id": segment.pk,
        "name": "Donateurs lyonnais",
        "description": "Pour l'appel de printemps",
        "tree": {"group": "all", "children": [has_label(assoc["donor"]), city("Lyon")]},
        "description_text": "a l'étiquette « Donateur » ET Ville est « Lyon »",
        "last_count": None,
        "last_run_on": None,
    }

    changed = patch(
        api, "api-segments-detail", {"description": "Relance"}, kwargs={"pk": segment.pk}
    )
    replaced = put(
        api,
        "api-segments-detail",
        {"name": "Parisiens", "tree": city("Paris")},
        kwargs={"pk": segment.pk},
    )
    post(api, "api-segments-list", {"name": "Bénévoles", "tree": has_label(assoc["volunteer"])})
    listed = api.get(reverse("api-segments-list")).json()

    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["description"]) == (
        "Donateurs lyonnais",
        "Relance",
    )
    assert changed.json()["tree"] == body["tree"]
    assert replaced.status_code == 200
    assert (replaced.json()["name"], replaced.json()["description"]) == ("Parisiens", "")
    assert replaced.json()["description_text"] == "Ville est « Paris »"
    assert [row["name"] for row in listed["results"]] == ["Bénévoles", "Parisiens"]


def test_a_bad_name_and_a_bad_tree_are_told_together(api, assoc):
    post(api, "api-segments-list", {"name": "Donateurs", "tree": has_label(assoc["donor"])})

    response = post(
        api,
        "api-segments-list",
        {"name": "donateurs", "tree": {"group": "all", "children": [city("Lyon"), {
            "field": "labels", "op": "any", "value": [999999]}]}},
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json() == {
        "name": ["Le segment « donateurs » existe déjà."],
        "tree": ["children[1].value : Introuvable dans votre association : 999999."],
        "path": "children[1].value",
    }


def test_a_segment_shape_error_and_a_cycle_name_their_node(api, assoc):
    shape = post(
        api, "api-segments-list", {"name": "Cassé", "tree": {"group": "all", "children": [7]}}
    )
    inner = post(api, "api-segments-list", {"name": "A", "tree": city("Lyon")}).json()
    outer = post(
        api,
        "api-segments-list",
        {"name": "B", "tree": {"field": "segment", "op": "in", "value": inner["id"]}},
    ).json()
    cycle = patch(
        api,
        "api-segments-detail",
        {"tree": {"group": "any", "children": [{"field": "segment", "op": "in",
                                                "value": outer["id"]}]}},
        kwargs={"pk": inner["id"]},
    )  # fmt: skip

    assert shape.status_code == 400
    assert shape.json()["path"] == "children[0]"
    assert cycle.status_code == 400
    assert cycle.json()["path"] == "children[0].value.value"
    assert "lui-même" in cycle.json()["tree"][0]


def test_delete_a_segment_unless_another_uses_it(api, assoc):
    inner = post(api, "api-segments-list", {"name": "A", "tree": city("Lyon")}).json()
    outer = post(
        api,
        "api-segments-list",
        {"name": "B", "tree": {"field": "segment", "op": "not_in", "value": inner["id"]}},
    ).json()

    refused = api.delete(reverse("api-segments-detail", kwargs={"pk": inner["id"]}))
    deleted = api.delete(reverse("api-segments-detail", kwargs={"pk": outer["id"]}))

    assert refused.status_code == 409
    assert "utilisé par : B" in refused.json()["detail"]
    assert deleted.status_code == 204
    assert api.get(reverse("api-segments-detail", kwargs={"pk": outer["id"]})).status_code == 404
    assert api.delete(reverse("api-segments-detail", kwargs={"pk": inner["id"]})).status_code == 204


def test_a_segments_members_follow_the_data(org, api, assoc):
    segment = post(api, "api-segments-list", {"name": "Lyonnais", "tree": city("Lyon")}).json()
    members = reverse("api-segments-contacts", kwargs={"pk": segment["id"]})
    count = reverse("api-segments-count", kwargs={"pk": segment["id"]})

    before = api.get(members, {"ordering": "last_name"}).json()
    contacts.update_contact(
        organization=org, actor=SYSTEM, contact=assoc["marc"], data={"city": "Lyon"}
    )
    contacts.trash(organization=org, actor=SYSTEM, model=Contact, ids=[assoc["helene"].pk])
    after = api.get(members, {"ordering": "last_name"}).json()

    assert (before["count"], names(before)) == (2, ["Marchand", "Martin"])
    assert (after["count"], names(after)) == (2, ["Dupont", "Marchand"])
    assert api.get(count).json() == {"count": 2}
    assert (
        api.get(members, {"limit": 1, "offset": 1, "ordering": "-last_name"}).json()["results"][0][
            "last_name"
        ]
        == "Dupont"
    )
    assert api.get(members, {"ordering": "email"}).status_code == 400


def test_a_segments_history_newest_first(org, api, assoc):
    segment = segments.save_segment(
        organization=org, actor=SYSTEM, name="Donateurs", tree=has_label(assoc["donor"])
    )
    segments.record_segment(segment, today=dt.date(2026, 11, 1))
    contacts.add_labels(
        organization=org, actor=SYSTEM, model=Contact, ids=[assoc["zoe"].pk],
        labels=[assoc["donor"]],
    )  # fmt: skip
    segment.refresh_from_db()
    segments.record_segment(segment, today=dt.date(2026, 11, 2))

    body = api.get(reverse("api-segments-history", kwargs={"pk": segment.pk})).json()
    detail = api.get(reverse("api-segments-detail", kwargs={"pk": segment.pk})).json()

    assert body["results"] == [
        {"day": "2026-11-02", "count": 3, "entered": 1, "left": 0},
        {"day": "2026-11-01", "count": 2, "entered": 0, "left": 0},
    ]
    assert (detail["last_count"], detail["last_run_on"]) == (3, "2026-11-02")


def test_running_a_segment_the_member_may_not_use_is_403_and_a_stale_one_409(org, api, assoc):
    rich = segments.save_segment(
        organization=org, actor=SYSTEM, name="Gros dons",
        tree={"group": "all", "children": [city("Lyon"), TREES["given over 50 €"](assoc)]},
    )  # fmt: skip
    stale = segments.save_segment(
        organization=org, actor=SYSTEM, name="Bénévoles", tree=has_label(assoc["volunteer"])
    )
    contacts.delete_label(organization=org, actor=SYSTEM, label=assoc["volunteer"])
    discreet = api_client_for(
        member_with(
            org,
            "discret@amis-du-parc.fr",
            rights={"contacts": ["view"], "segments": ["view"], "payments": ["view"]},
            hide_payment_data=True,
        )
    )

    hidden = discreet.get(reverse("api-segments-contacts", kwargs={"pk": rich.pk}))
    hidden_count = discreet.get(reverse("api-segments-count", kwargs={"pk": rich.pk}))
    told = discreet.get(reverse("api-segments-detail", kwargs={"pk": rich.pk})).json()
    broken = api.get(reverse("api-segments-count", kwargs={"pk": stale.pk}))

    assert hidden.status_code == 403
    assert "children[1].field" in hidden.json()["detail"]
    assert hidden_count.status_code == 403
    assert told["description_text"].startswith("Inutilisable : children[1].field : ")
    assert told["tree"] is None  # its amounts are payment data this member does not see
    assert api.get(reverse("api-segments-detail", kwargs={"pk": rich.pk})).json()["tree"]
    # Broken for everyone (a deleted label), not hidden: the tree stays readable to fix it.
    assert api.get(reverse("api-segments-detail", kwargs={"pk": stale.pk})).json()["tree"]
    assert broken.status_code == 409
    assert "value : Introuvable" in broken.json()["detail"]
    assert api.get(reverse("api-segments-count", kwargs={"pk": rich.pk})).json() == {"count": 1}


def test_segment_members_need_the_contacts_right(org, assoc):
    segment = segments.save_segment(
        organization=org, actor=SYSTEM, name="Tous", tree={"group": "all"}
    )
    groups_only = api_client_for(
        member_with(org, "segments@amis-du-parc.fr", rights={"segments": ["view"]})
    )

    detail = groups_only.get(reverse("api-segments-detail", kwargs={"pk": segment.pk}))

    assert detail.status_code == 200
    assert (
        groups_only.get(reverse("api-segments-contacts", kwargs={"pk": segment.pk})).status_code
        == 403
    )
    assert (
        groups_only.get(reverse("api-segments-count", kwargs={"pk": segment.pk})).status_code == 403
    )


def test_another_organisations_segment_is_404_and_out_of_its_trees(org, other_org, api, assoc):
    theirs = segments.save_segment(
        organization=other_org, actor=SYSTEM, name="Eux", tree={"group": "all"}
    )

    for name in ["api-segments-detail", "api-segments-contacts", "api-segments-count"]:
        assert api.get(reverse(name, kwargs={"pk": theirs.pk})).status_code == 404, name
    response = post(
        api, "api-contacts-search", {"tree": {"field": "segment", "op": "in", "value": theirs.pk}}
    )
    assert response.status_code == 400
    assert response.json()["path"] == "value"
