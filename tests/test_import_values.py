"""Cell parsers of the import: values as people type them, or a French reason."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.validators import EmailValidator
from hypothesis import given, settings
from hypothesis import strategies as st

from lien.contacts.models import Contact, Structure
from lien.imports import values
from lien.imports.values import (
    CHOICE_SYNONYMS,
    EXCEL_EPOCH,
    CellError,
    is_blank,
    parse_amount,
    parse_bool,
    parse_choice,
    parse_country,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_email,
    parse_integer,
    parse_phone,
    parse_postal_code,
)
from lien.payments.models import Payment


def error(parser, value, **kwargs) -> str:
    with pytest.raises(CellError) as caught:
        parser(value, **kwargs)
    return caught.value.message


# Dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "03/11/2021", "3/11/21", "2021-11-03", "03-11-2021", "03.11.2021", "2021/11/03",
        "3 novembre 2021", "3 Novembre 2021", "mercredi 3 nov. 2021", "03 NOV 2021",
        "November 3, 2021", "20211103", 44503, 44503.0, "44503",
        dt.date(2021, 11, 3), dt.datetime(2021, 11, 3, 10, 30), " 03/11/2021 ",
    ],
)  # fmt: skip
def test_dates_as_people_type_them(value):
    assert parse_date(value) == dt.date(2021, 11, 3)


def test_first_of_the_month_and_times():
    assert parse_date("1er janvier 2020") == dt.date(2020, 1, 1)
    assert parse_datetime("03/11/2021 14h30") == dt.datetime(2021, 11, 3, 14, 30)
    assert parse_datetime("03/11/2021 9:05:07") == dt.datetime(2021, 11, 3, 9, 5, 7)
    assert parse_datetime(44503.75) == dt.datetime(2021, 11, 3, 18, 0)
    assert parse_datetime("2021-11-03T14:30:00Z") == dt.datetime(2021, 11, 3, 14, 30, tzinfo=dt.UTC)
    assert parse_datetime("2021-11-03 14:30+01:00").utcoffset() == dt.timedelta(hours=1)
    assert parse_datetime(dt.date(2021, 11, 3)) == dt.datetime(2021, 11, 3)


def test_day_first_unless_told():
    assert parse_date("11/03/2021") == dt.date(2021, 3, 11)
    assert parse_date("11/03/2021", day_first=False) == dt.date(2021, 11, 3)
    assert parse_date("11/03/2021", fmt="MM/JJ/AAAA") == dt.date(2021, 11, 3)
    assert parse_date("2021.03.11", fmt="%Y.%m.%d") == dt.date(2021, 3, 11)
    assert parse_datetime("11/03/2021 14:30", fmt="MM/JJ/AAAA") == dt.datetime(2021, 11, 3, 14, 30)
    assert error(parse_date, "03/11/2021", fmt="AAAA-MM-JJ") == (
        "« 03/11/2021 » n'est pas une date au format AAAA-MM-JJ."
    )
    assert (
        error(parse_date, "03/11/2021", fmt="n'importe")
        == "Format de date inconnu : « n'importe »."
    )


def test_two_digit_years():
    assert parse_date("03/11/45") == dt.date(2045, 11, 3)
    assert parse_date("03/11/45", past=True) == dt.date(1945, 11, 3)
    assert parse_date("03/11/21", past=True) == dt.date(2021, 11, 3)
    assert parse_date("03/11/45", fmt="JJ/MM/AA", past=True) == dt.date(1945, 11, 3)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("31/02/2021", "« 31/02/2021 » n'est pas une date qui existe."),
        ("03/11/1850", "« 03/11/1850 » : l'année 1850 n'est pas entre 1900 et 2200."),
        ("03/11/2999", "« 03/11/2999 » : l'année 2999 n'est pas entre 1900 et 2200."),
        ("hier", "« hier » n'est pas une date reconnue (JJ/MM/AAAA attendu)."),
        (
            "3 brumaire 2021",
            "« 3 brumaire 2021 » n'est pas une date reconnue (JJ/MM/AAAA attendu).",
        ),
        (-5, "« -5 » n'est pas une date (ni un numéro de jour Excel)."),
        (10**9, "« 1000000000 » n'est pas une date (ni un numéro de jour Excel)."),
        (True, "« True » n'est pas une date."),
        ("  ", "une date est attendue."),
    ],
)
def test_dates_refused_in_french(value, message):
    assert error(parse_date, value) == message


@given(st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2200, 12, 31)))
def test_any_date_reads_back_from_every_written_form(day):
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
              "septembre", "octobre", "novembre", "décembre"]  # fmt: skip
    serial = (dt.datetime.combine(day, dt.time()) - EXCEL_EPOCH).days
    for written in (
        day.strftime("%d/%m/%Y"),
        f"{day.day}/{day.month}/{day.year}",
        day.isoformat(),
        day.strftime("%d-%m-%Y"),
        day.strftime("%d.%m.%Y"),
        f"{day.day} {months[day.month - 1]} {day.year}",
        serial,
        str(serial) if 10_000 <= serial < 100_000 else day.isoformat(),  # 5 digits in text
        day,
    ):
        assert parse_date(written) == day, written
    assert parse_date(day.strftime("%m/%d/%Y"), fmt="MM/JJ/AAAA") == day


# Amounts and numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        ("1 234,50 €", 123450), ("1\u00a0234,50\u00a0€", 123450), ("1\u202f234,50 €", 123450),
        ("1.234,50", 123450), ("1234.5", 123450), ("1,234.50", 123450), ("1.234", 123400),
        ("12,5 EUR", 1250), ("12 euros", 1200), ("€ 3", 300), ("0,99", 99), (" 12 ", 1200),
        (12, 1200), (12.5, 1250), (12.300000000000001, 1230), (Decimal("7.10"), 710),
    ],
)  # fmt: skip
def test_amounts_to_cents(value, cents):
    assert parse_amount(value) == cents


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12,345", "« 12,345 » : un montant a au plus 2 décimales (des centimes)."),
        ("abc", "« abc » n'est pas un montant."),
        ("12,50 $ ou 13", "« 12,50 $ ou 13 » n'est pas un montant."),
        ("1e30", "« 1e30 » : montant trop grand."),
        ("", "un montant est attendu."),
        (True, "« True » : montant invalide."),
    ],
)
def test_amounts_refused_in_french(value, message):
    assert error(parse_amount, value) == message


@given(
    cents=st.integers(min_value=0, max_value=10**11),
    thousands=st.sampled_from(["", " ", "\u00a0", "\u202f", ".", ","]),
    decimal_mark=st.sampled_from([",", "."]),
    euro=st.sampled_from(["", " €", "\u00a0€", "€", " EUR"]),
    told=st.booleans(),
)
def test_amount_round_trip(cents, thousands, decimal_mark, euro, told):
    if thousands == decimal_mark:
        decimal_mark = "," if thousands == "." else "."
    euros, rest = divmod(cents, 100)
    grouped = f"{euros:,}".replace(",", "\x00").replace("\x00", thousands)
    written = f"{grouped}{decimal_mark}{rest:02d}{euro}"
    assert parse_amount(written, decimal_mark=decimal_mark if told else None) == cents
    if told and rest == 0 and thousands not in (".", ","):  # whole euros, no decimals
        assert parse_amount(f"{grouped}{euro}", decimal_mark=decimal_mark) == cents


def test_the_file_decimal_mark_settles_ambiguous_numbers():
    assert error(parse_amount, "1,234") == (
        "« 1,234 » : un montant a au plus 2 décimales (des centimes)."
    )
    assert parse_amount("1,234", decimal_mark=".") == 123400
    assert parse_amount("1,234.5", decimal_mark=".") == 123450
    assert parse_amount("1.234", decimal_mark=",") == 123400
    assert error(parse_amount, "12.5", decimal_mark=",") == "« 12.5 » n'est pas un montant."
    assert error(parse_amount, "1,23,4", decimal_mark=".") == "« 1,23,4 » n'est pas un montant."
    assert parse_decimal("1,5", decimal_mark=",") == Decimal("1.5")
    assert parse_integer("1,000", decimal_mark=".") == 1000


def test_decimals_and_integers():
    assert parse_decimal("1 234,5") == Decimal("1234.5")
    assert parse_decimal(2.5) == Decimal("2.5")
    assert parse_integer("1 200") == 1200
    assert parse_integer(3.0) == 3
    assert error(parse_integer, "12,5") == "« 12,5 » n'est pas un nombre entier."
    assert error(parse_decimal, "douze") == "« douze » n'est pas un nombre."
    assert error(parse_decimal, "NaN") == "« NaN » n'est pas un nombre."


# Yes/no, emails, phones, addresses -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("oui", True), ("Oui", True), ("OUI.", True), ("yes", True), ("vrai", True), ("1", True),
     ("x", True), ("X", True), (1, True), (1.0, True), (True, True), ("non", False),
     ("No", False), ("faux", False), ("0", False), (0, False), (False, False)],
)  # fmt: skip
def test_booleans(value, expected):
    assert parse_bool(value) is expected


def test_booleans_refused():
    assert error(parse_bool, "peut-être") == "« peut-être » : oui ou non attendu."
    assert error(parse_bool, 2) == "« 2 » : oui ou non attendu."


def test_emails():
    assert parse_email("  Jean.Dupont@Exemple.FR ") == "jean.dupont@exemple.fr"
    assert parse_email("mailto:a@x.fr") == "a@x.fr"
    assert error(parse_email, "jean.dupont@") == (
        "« jean.dupont@ » n'est pas une adresse email valide."
    )
    assert error(parse_email, "a@x.fr; b@y.fr") == (
        "« a@x.fr; b@y.fr » n'est pas une adresse email valide."
    )


def test_phones_kept_as_typed_but_checked():
    assert parse_phone(" 06 12 34 56 78 ") == "06 12 34 56 78"
    assert parse_phone("+32 2 123 45 67") == "+32 2 123 45 67"
    assert parse_phone(612345678) == "0612345678"  # a spreadsheet number lost its 0
    assert parse_phone("022 123 45 67", region="CH") == "022 123 45 67"
    assert error(parse_phone, "12 34") == "« 12 34 » n'est pas un numéro de téléphone reconnu."
    assert error(parse_phone, "appeler le soir") == (
        "« appeler le soir » n'est pas un numéro de téléphone reconnu."
    )


def test_postal_codes_keep_their_leading_zero():
    assert parse_postal_code(1000) == "01000"
    assert parse_postal_code(1000.0) == "01000"
    assert parse_postal_code("1000") == "01000"
    assert parse_postal_code("75 001") == "75001"
    assert parse_postal_code("97400") == "97400"
    assert parse_postal_code("1000", country="BE") == "1000"
    assert parse_postal_code("SW1A 1AA", country="gb") == "SW1A 1AA"
    assert error(parse_postal_code, "750") == (
        "« 750 » n'est pas un code postal français (5 chiffres)."
    )
    assert error(parse_postal_code, "Paris") == (
        "« Paris » n'est pas un code postal français (5 chiffres)."
    )


@pytest.mark.parametrize(
    ("value", "code"),
    [("France", "FR"), ("FR", "FR"), ("fr", "FR"), ("FRA", "FR"), ("france ", "FR"),
     ("Belgique", "BE"), ("Belgium", "BE"), ("Suisse", "CH"), ("Allemagne", "DE"),
     ("Deutschland", "DE"), ("Royaume-Uni", "GB"), ("Angleterre", "GB"), ("USA", "US"),
     ("États-Unis", "US"), ("Côte d'Ivoire", "CI"), ("Luxembourg", "LU"), ("Maroc", "MA")],
)  # fmt: skip
def test_countries(value, code):
    assert parse_country(value) == code


def test_unknown_country():
    assert error(parse_country, "Narnia") == (
        "« Narnia » n'est pas un pays reconnu (nom ou code ISO : FR)."
    )


# Choices ------------------------------------------------------------------------------------------


def test_choices_by_value_or_label_accents_and_case_ignored():
    assert parse_choice("Chèque", Payment.Method) == "cheque"
    assert parse_choice("CHEQUE", Payment.Method) == "cheque"
    assert parse_choice("prélèvement", Payment.Method.choices) == "prelevement"
    assert parse_choice("Organisme public", Structure.Kind) == "organisme_public"
    assert parse_choice("rouge", ["Rouge", "Vert"]) == "Rouge"
    assert parse_choice("m.", Contact.Civility) == "M."


def test_choice_synonyms():
    assert parse_choice("CB", Payment.Method, synonyms=CHOICE_SYNONYMS["method"]) == "carte"
    assert parse_choice("Madame", Contact.Civility, synonyms=CHOICE_SYNONYMS["civility"]) == "Mme"
    assert parse_choice("Mr.", Contact.Civility, synonyms=CHOICE_SYNONYMS["civility"]) == "M."
    assert parse_choice("Cotisation", Payment._meta.get_field("kind").choices,
                        synonyms=CHOICE_SYNONYMS["kind"]) == "adhesion"  # fmt: skip


def test_choices_refused_with_the_possible_ones():
    assert error(parse_choice, "Bitcoin", choices=Payment.Method) == (
        "« Bitcoin » n'est pas un choix possible (« Carte », « Chèque », « Espèces », "
        "« Virement », « Prélèvement », « Autre »)."
    )
    assert error(parse_choice, "x", choices=[]) == (
        "« x » n'est pas un choix possible (aucun choix défini)."
    )


def test_blank():
    assert is_blank(None) and is_blank("  ") and not is_blank(0) and not is_blank("x")


@given(st.one_of(st.text(max_size=20), st.integers(), st.floats(), st.booleans()))
def test_parsers_answer_a_value_or_a_cell_error_never_anything_else(value):
    for parser in (parse_amount, parse_date, parse_datetime, parse_bool, parse_email,
                   parse_phone, parse_postal_code, parse_country, parse_decimal,
                   parse_integer):  # fmt: skip
        try:
            parser(value)
        except CellError as caught:
            assert caught.message


@settings(max_examples=300, deadline=None)
@given(st.from_regex(values.PLAIN_EMAIL, fullmatch=True))
def test_plain_email_fast_path_is_a_subset_of_the_validator(email):
    """Addresses the fast path accepts without the validator are ones it accepts too."""
    if len(email) <= 254:
        EmailValidator()(email)
        assert values.parse_email(email.upper()) == email
