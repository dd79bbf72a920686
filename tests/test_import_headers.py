"""Import fields and header suggestions: French and English synonyms, one column per field."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lien.imports.headers import (
    FIELDS,
    TARGETS,
    field_keys,
    get_field,
    is_last_first,
    normalize_header,
    split_emails,
    split_full_name,
    suggest,
)


def named(headers, target, custom=()):
    return {headers[column]: key for column, key in suggest(headers, target, custom).items()}


def test_every_target_has_distinct_keys_and_french_labels():
    for target in TARGETS:
        keys = field_keys(target)
        assert len(keys) == len(set(keys)), target
        for item in FIELDS[target]:
            assert item.label and item.type
    assert [f.key for f in FIELDS["payments"] if f.required] == ["amount", "paid_on"]
    assert [f.key for f in FIELDS["interactions"] if f.required] == ["occurred_at", "type"]
    assert [f.key for f in FIELDS["structures"] if f.required] == ["name"]
    assert get_field("contacts", "postal_code").type == "postal_code"
    assert get_field("contacts", "nope") is None


def test_normalize_header_drops_accents_case_and_punctuation():
    assert normalize_header("  Tél. portable ") == "tel portable"
    assert normalize_header("E-MAIL") == "e mail"
    assert normalize_header("N°  d'adhérent") == "n d adherent"


def test_contacts_headers_french():
    headers = ["Civilité", "Prénom", "NOM", "E-mail", "Tél.", "Portable", "Adresse",
               "Code postal", "Ville", "Pays", "Date de naissance", "Étiquettes",
               "Remarques"]  # fmt: skip
    assert named(headers, "contacts") == {
        "Civilité": "civility",
        "Prénom": "first_name",
        "NOM": "last_name",
        "E-mail": "email",
        "Tél.": "phone",
        "Portable": "mobile",
        "Adresse": "street",
        "Code postal": "postal_code",
        "Ville": "city",
        "Pays": "country",
        "Date de naissance": "birth_date",
        "Étiquettes": "labels",
        "Remarques": "notes",
    }


def test_contacts_headers_english_and_variants():
    headers = ["First name", "Last Name", "Email address", "Mobile", "Zip", "City", "Tags"]
    assert named(headers, "contacts") == {
        "First name": "first_name",
        "Last Name": "last_name",
        "Email address": "email",
        "Mobile": "mobile",
        "Zip": "postal_code",
        "City": "city",
        "Tags": "labels",
    }
    assert named(["Courriel", "CP", "Téléphone portable"], "contacts") == {
        "Courriel": "email",
        "CP": "postal_code",
        "Téléphone portable": "mobile",
    }
    assert named(["Mail"], "contacts") == {"Mail": "email"}


def test_full_name_column_and_second_email():
    headers = ["Nom Prénom", "Email", "Email (2)", "Adresse email"]
    # « Adresse email » names `email` but « Email » took it first (same score, leftmost);
    # it is not offered a weaker match (the street) instead.
    assert named(headers, "contacts") == {
        "Nom Prénom": "full_name",
        "Email": "email",
        "Email (2)": "email2",
    }


def test_each_field_gets_one_column_and_the_best_score_wins():
    # « Adresse email » is exactly `email`; « Adresse » alone is the street.
    assert named(["Adresse email", "Adresse"], "contacts") == {
        "Adresse email": "email",
        "Adresse": "street",
    }
    # Two « Prénom » columns: only the first one is suggested.
    assert named(["Prénom", "Prénom (2)"], "contacts") == {"Prénom": "first_name"}


def test_contained_words_and_vague_words():
    assert named(["Ville de résidence"], "contacts") == {"Ville de résidence": "city"}
    # « N° » alone would be an id, but not inside « N° de dossier ».
    assert named(["N°", "N° de dossier"], "contacts") == {"N°": "external_id"}
    assert named(["Profession"], "contacts") == {}


def test_payments_headers():
    headers = ["Date du don", "Montant", "Moyen de paiement", "Campagne", "Nom", "Prénom",
               "Courriel", "N° reçu", "Statut"]  # fmt: skip
    assert named(headers, "payments") == {
        "Date du don": "paid_on",
        "Montant": "amount",
        "Moyen de paiement": "method",
        "Campagne": "campaign",
        "Nom": "contact_last_name",
        "Prénom": "contact_first_name",
        "Courriel": "contact_email",
        "N° reçu": "external_id",
        "Statut": "status",
    }
    assert named(["Date", "Montant du don (€)"], "payments") == {
        "Date": "paid_on",
        "Montant du don (€)": "amount",
    }


def test_interactions_and_structures_headers():
    assert named(["Date", "Type", "Libellé", "Catégorie", "Nom Prénom"], "interactions") == {
        "Date": "occurred_at",
        "Type": "type",
        "Libellé": "label",
        "Catégorie": "category",
        "Nom Prénom": "contact_full_name",
    }
    headers = ["Raison sociale", "SIRET", "Site internet", "Tél", "Organisme"]
    assert named(headers, "structures") == {
        "Raison sociale": "name",
        "SIRET": "siret",
        "Site internet": "website",
        "Tél": "phone",
    }
    assert named(["Structure"], "structures") == {"Structure": "name"}
    assert named(["Société"], "structures") == {"Société": "name"}


def test_custom_fields_by_name_or_key_beat_vague_synonyms():
    class Definition:
        def __init__(self, key, name):
            self.key, self.name = key, name

    custom = [Definition("profession", "Métier"), {"key": "taille_tshirt", "name": "Taille"}]
    assert named(["Métier", "taille_tshirt", "Ville"], "contacts", custom) == {
        "Métier": "custom.profession",
        "taille_tshirt": "custom.taille_tshirt",
        "Ville": "city",
    }
    # A custom field named exactly like a header wins over a built-in synonym.
    assert named(["Commentaire"], "contacts", [{"key": "commentaire", "name": "Commentaire"}]) == {
        "Commentaire": "custom.commentaire"
    }


def test_a_yes_no_column_named_like_a_person_is_not_a_name_in_a_contacts_file():
    assert named(["Adhérent", "Donateur"], "contacts") == {}
    assert named(["Donateur", "Montant"], "payments") == {
        "Donateur": "contact_full_name",
        "Montant": "amount",
    }


def test_custom_fields_without_usable_names_are_skipped():
    assert named(["Ville"], "contacts", [{"key": "___", "name": ""}, {"key": ""}]) == {
        "Ville": "city"
    }


@given(st.lists(st.text(max_size=30), max_size=12))
def test_suggest_never_maps_twice(headers):
    mapping = suggest(headers, "contacts")
    assert len(set(mapping.values())) == len(mapping)
    assert all(0 <= column < len(headers) for column in mapping)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DUPONT Jean", ("Jean", "DUPONT")),
        ("Jean DUPONT", ("Jean", "DUPONT")),
        ("Jean Dupont", ("Jean", "Dupont")),
        ("  jean   dupont ", ("jean", "dupont")),
        ("Jean-Pierre DE LA TOUR", ("Jean-Pierre", "DE LA TOUR")),
        ("Marie-Anne LE GALL", ("Marie-Anne", "LE GALL")),
        ("Jean de LA FONTAINE", ("Jean", "de LA FONTAINE")),
        ("Jean de La Fontaine", ("Jean", "de La Fontaine")),
        ("de Gaulle Charles", ("Charles", "de Gaulle")),
        ("Dupont, Jean", ("Jean", "Dupont")),
        ("J. DUPONT", ("J.", "DUPONT")),
        ("D'ARC Jeanne", ("Jeanne", "D'ARC")),
        ("Dupont", ("", "Dupont")),
        ("", ("", "")),
    ],
)
def test_split_full_name(text, expected):
    assert split_full_name(text) == expected


def test_split_full_name_last_first_for_nom_prenom_columns():
    assert split_full_name("Dupont Jean", last_first=True) == ("Jean", "Dupont")
    assert split_full_name("DUPONT Jean", last_first=True) == ("Jean", "DUPONT")
    assert is_last_first("Nom Prénom")
    assert is_last_first("NOM et prénom")
    assert not is_last_first("Prénom Nom")
    assert not is_last_first("Nom")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a@x.fr; b@y.fr", ["a@x.fr", "b@y.fr"]),
        ("a@x.fr, b@y.fr / c@z.fr", ["a@x.fr", "b@y.fr", "c@z.fr"]),
        ("a@x.fr A@X.FR", ["a@x.fr"]),
        ("Jean <a@x.fr>, Marie <b@y.fr>", ["a@x.fr", "b@y.fr"]),
        ("mailto:a@x.fr", ["a@x.fr"]),
        ("jean.dupont@", ["jean.dupont@"]),  # kept, for the email parser to refuse
        ("  ", []),
    ],
)
def test_split_emails(text, expected):
    assert split_emails(text) == expected
