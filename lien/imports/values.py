"""Cell parsers of the import: one value as people type it → Lien's value, or CellError.

Each parser takes a non-empty cell (text from a CSV; text, int, float, bool, date
or datetime from a workbook) and raises `CellError` with a French message that
quotes the value; the import prefixes the row and the column:

    ligne 214, colonne « Email » : « jean.dupont@ » n'est pas une adresse email valide.

What is reused: amounts go through `lien.payments.services.parse_amount` (the same
grammar and limits as a payment typed in Lien) after the import's extra reading
(thousands dots « 1.234 », « euros », spreadsheet float noise); phones through
`lien.contacts.normalize.normalize_phone`; yes/no words are `custom_fields`'.
Dates are parsed here: the services' `parse_date` knows five numeric formats, the
import must also read « 3 novembre 2021 », Excel serial numbers, two-digit years
of birth dates and a format chosen by the user.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from unidecode import unidecode

from lien.contacts.custom_fields import FALSE_WORDS, TRUE_WORDS
from lien.contacts.normalize import DEFAULT_REGION, normalize_phone
from lien.payments import services as payment_services

MIN_YEAR, MAX_YEAR = 1900, 2200
# Excel's day 0 (its 1900 calendar counts a 29 February 1900 that never was).
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
MAX_SERIAL = (dt.datetime(MAX_YEAR, 12, 31) - EXCEL_EPOCH).days + 1

# The formats the wizard offers (label → strptime pattern); a pattern is accepted too.
DATE_FORMATS = {
    "JJ/MM/AAAA": "%d/%m/%Y",
    "MM/JJ/AAAA": "%m/%d/%Y",
    "AAAA-MM-JJ": "%Y-%m-%d",
    "JJ-MM-AAAA": "%d-%m-%Y",
    "JJ.MM.AAAA": "%d.%m.%Y",
    "JJ/MM/AA": "%d/%m/%y",
    "AAAAMMJJ": "%Y%m%d",
}

MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1, "january": 1,
    "fevrier": 2, "fevr": 2, "fev": 2, "february": 2, "feb": 2,
    "mars": 3, "mar": 3, "march": 3,
    "avril": 4, "avr": 4, "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juin": 6, "june": 6, "jun": 6,
    "juillet": 7, "juil": 7, "july": 7, "jul": 7,
    "aout": 8, "august": 8, "aug": 8,
    "septembre": 9, "sept": 9, "sep": 9, "september": 9,
    "octobre": 10, "oct": 10, "october": 10,
    "novembre": 11, "nov": 11, "november": 11,
    "decembre": 12, "dec": 12, "december": 12,
}  # fmt: skip
WEEKDAYS = re.compile(
    r"^(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lun|mar|mer|jeu|ven|sam|dim|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)"
    r"\.?,?\s+"
)
# Matched on folded (lower-case) text: « 2021-11-03T14:30:00Z » reads « …t14:30:00z ».
_TIME = r"(?:[ t]+(\d{1,2})[:h](\d{2})(?::(\d{2})(?:\.\d+)?)?(z|[+-]\d{2}:?\d{2})?)?"
NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})" + _TIME + "$")
ISO_DATE = re.compile(r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})" + _TIME + "$")
WORD_DATE = re.compile(r"^(\d{1,2})(?:er)?\s+([a-z]+)\.?\s+(\d{2}|\d{4})" + _TIME + "$")
ENGLISH_WORD_DATE = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")
COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
SERIAL = re.compile(r"^\d{5}(?:[.,]\d+)?$")


class CellError(ValueError):
    """A cell that cannot be read; `message` is French and quotes the value."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def is_blank(value: Any) -> bool:
    """An empty cell: None, or text with nothing but spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def show(value: Any) -> str:
    """A cell as quoted in messages: dates the French way, long text shortened."""
    if isinstance(value, dt.datetime):
        text = value.strftime("%d/%m/%Y %H:%M")
    elif isinstance(value, dt.date):
        text = value.strftime("%d/%m/%Y")
    else:
        text = str(value).strip()
    return text if len(text) <= 80 else text[:79] + "…"


def _fold(text: str) -> str:
    """Unaccented, lower-case, single spaces: how choices and words are compared."""
    return " ".join(unidecode(text).lower().split())


# Dates --------------------------------------------------------------------------------------


def date_pattern(fmt: str | None) -> str | None:
    """A wizard label (« JJ/MM/AAAA ») or a strptime pattern → the pattern."""
    if not fmt:
        return None
    pattern = DATE_FORMATS.get(fmt.strip().upper(), fmt.strip())
    if "%" not in pattern:
        raise CellError(f"Format de date inconnu : « {fmt} ».")
    return pattern


def parse_datetime(
    value: Any, *, fmt: str | None = None, day_first: bool = True, past: bool = False
) -> dt.datetime:
    """A date and maybe a time: « 03/11/2021 14:30 », 2021-11-03T14:30, a serial number.

    Naive (local time) unless the text gives its offset (« 2021-11-03T14:30Z »).

    Day first unless `day_first=False` (03/11 = 3 November); `fmt` forces one
    format. `past` reads two-digit years as the latest year not in the future
    (birth dates: « 03/11/45 » is 1945). Years 1900–2200.
    """
    if isinstance(value, bool):
        raise CellError(f"« {show(value)} » n'est pas une date.")
    if isinstance(value, dt.datetime):
        return _in_range(value, value)
    if isinstance(value, dt.date):
        return _in_range(dt.datetime(value.year, value.month, value.day), value)
    if isinstance(value, int | float | Decimal):
        return _from_serial(float(value), value)
    text = str(value).strip()
    if not text:
        raise CellError("une date est attendue.")
    pattern = date_pattern(fmt)
    if pattern:
        # The chosen date format, possibly followed by a time of day.
        for suffix in ("", " %H:%M", " %H:%M:%S", "T%H:%M:%S", " %Hh%M"):
            try:
                moment = dt.datetime.strptime(text, pattern + suffix)
            except ValueError:
                continue
            return _in_range(_pivot(moment, pattern, past), text)
        shown = next((k for k, v in DATE_FORMATS.items() if v == pattern), pattern)
        raise CellError(f"« {show(text)} » n'est pas une date au format {shown}.")
    return _in_range(_read_text_date(text, day_first=day_first, past=past), text)


def parse_date(
    value: Any, *, fmt: str | None = None, day_first: bool = True, past: bool = False
) -> dt.date:
    """A day, read like `parse_datetime` (any time of day is dropped)."""
    return parse_datetime(value, fmt=fmt, day_first=day_first, past=past).date()


def _read_text_date(text: str, *, day_first: bool, past: bool) -> dt.datetime:
    folded = WEEKDAYS.sub("", _fold(text))
    if match := NUMERIC_DATE.match(folded):
        first, second, year = (int(match[1]), int(match[2]), match[3])
        day, month = (first, second) if day_first else (second, first)
        return _build(text, _year(year, past), month, day, match.groups()[3:])
    if match := ISO_DATE.match(folded):
        return _build(text, int(match[1]), int(match[2]), int(match[3]), match.groups()[3:])
    if match := WORD_DATE.match(folded):
        month = MONTHS.get(match[2])
        if month:
            return _build(text, _year(match[3], past), month, int(match[1]), match.groups()[3:])
    if match := ENGLISH_WORD_DATE.match(folded):
        month = MONTHS.get(match[1])
        if month:
            return _build(text, int(match[3]), month, int(match[2]), ())
    if match := COMPACT_DATE.match(folded):
        return _build(text, int(match[1]), int(match[2]), int(match[3]), ())
    if SERIAL.match(folded):
        return _from_serial(float(folded.replace(",", ".")), text)
    raise CellError(f"« {show(text)} » n'est pas une date reconnue (JJ/MM/AAAA attendu).")


def _year(text: str, past: bool) -> int:
    year = int(text)
    if len(text) == 4:
        return year
    if past:
        today = dt.date.today()
        year += 2000
        return year - 100 if year > today.year else year
    return year + (2000 if year < 69 else 1900)  # as strptime's %y


def _pivot(moment: dt.datetime, pattern: str, past: bool) -> dt.datetime:
    if past and "%y" in pattern and moment.year > dt.date.today().year:
        return moment.replace(year=moment.year - 100)
    return moment


def _build(text: str, year: int, month: int, day: int, clock: tuple) -> dt.datetime:
    """The datetime; aware only when the text gave its offset (« …Z », « …+01:00 »)."""
    hour, minute, second, offset = (*clock, None, None, None, None)[:4]
    hour, minute, second = (int(part) if part else 0 for part in (hour, minute, second))
    try:
        tzinfo = None
        if offset == "z":
            tzinfo = dt.UTC
        elif offset:
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            tzinfo = dt.timezone(sign * delta)
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=tzinfo)
    except ValueError:
        raise CellError(f"« {show(text)} » n'est pas une date qui existe.") from None


def _from_serial(number: float, value: Any) -> dt.datetime:
    """Excel's serial day number (44503 = 03/11/2021), as a workbook cell may hold."""
    if not 1 <= number <= MAX_SERIAL:
        raise CellError(f"« {show(value)} » n'est pas une date (ni un numéro de jour Excel).")
    # A fraction of a day is a time of day, rounded to the second (floats carry noise).
    moment = EXCEL_EPOCH + dt.timedelta(seconds=round(number * 86_400))
    return _in_range(moment, value)


def _in_range(moment: dt.datetime, value: Any) -> dt.datetime:
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise CellError(
            f"« {show(value)} » : l'année {moment.year} n'est pas entre {MIN_YEAR} et {MAX_YEAR}."
        )
    return moment


# Numbers and amounts --------------------------------------------------------------------------

CURRENCY = re.compile(r"(€|eur(?:os?)?\b|euros?\b)", re.IGNORECASE)
SPACES = re.compile(r"[\s\u00a0\u202f']")
# « 1.234 » or « 12.345.678 »: dots between groups of three digits are thousands.
THOUSANDS_DOTS = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d*)?$")
_GROUPS = {mark: re.compile(rf"^[-+]?\d{{1,3}}(\{mark}\d{{3}})+$") for mark in ".,"}


def _number_text(value: Any, decimal_mark: str | None = None) -> str:
    """A typed number made plain for Decimal: « 1 234,50 € » → « 1234.50 ».

    Without `decimal_mark`, a dot between groups of three digits is a thousands
    dot (« 1.234 » = 1234) and, when both marks occur, the last one is decimal.
    With it (the file's convention, chosen in the wizard), the other mark is a
    thousands separator: with ".", « 1,234 » is 1234.
    """
    text = SPACES.sub("", CURRENCY.sub("", str(value))).strip()
    if decimal_mark in (",", "."):
        thousands = "." if decimal_mark == "," else ","
        whole = text.rpartition(decimal_mark)[0] if decimal_mark in text else text
        if thousands in whole and not _GROUPS[thousands].match(whole):
            return "?"  # « 12.5 » in a decimal-comma file: neither mark fits
        return text.replace(thousands, "").replace(",", ".")
    if THOUSANDS_DOTS.match(text):
        text = text.replace(".", "")
    if "," in text and "." in text:  # 1.234,50 or 1,234.50: the last one is the decimal mark
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    return text.replace(",", ".")


def parse_decimal(value: Any, *, decimal_mark: str | None = None) -> Decimal:
    """A number with a decimal comma or point and thousands spaces: « 1 234,5 » → 1234.5."""
    if isinstance(value, bool):
        raise CellError(f"« {show(value)} » n'est pas un nombre.")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CellError(f"« {show(value)} » n'est pas un nombre.")
        return Decimal(repr(value))
    try:
        number = Decimal(_number_text(value, decimal_mark))
    except InvalidOperation:
        raise CellError(f"« {show(value)} » n'est pas un nombre.") from None
    if not number.is_finite():
        raise CellError(f"« {show(value)} » n'est pas un nombre.")
    return number


def parse_integer(value: Any, *, decimal_mark: str | None = None) -> int:
    """A whole number: « 1 200 » → 1200; « 12,5 » is refused."""
    number = parse_decimal(value, decimal_mark=decimal_mark)
    if number != number.to_integral_value():
        raise CellError(f"« {show(value)} » n'est pas un nombre entier.")
    return int(number)


def parse_amount(value: Any, *, decimal_mark: str | None = None) -> int:
    """Euros as typed (« 1 234,50 € », "1.234,50", "1234.5", 12.5) → integer cents.

    Read as a payment typed in Lien is (same limits and messages), after the
    import's extras: « EUR »/« euros », thousands dots, and the float noise of a
    spreadsheet formula (12.300000000000001 is 12,30). `decimal_mark` (« , » or
    « . ») settles « 1,234 »: see `_number_text`.
    """
    if is_blank(value):
        raise CellError("un montant est attendu.")
    typed = value
    if isinstance(value, float) and not math.isfinite(value):
        raise CellError(f"« {show(value)} » n'est pas un montant.")
    if (
        isinstance(value, float)
        and abs(value) < 1e15  # beyond, the services' limit answers
        and abs(value * 100 - round(value * 100)) < 1e-6
    ):
        value = round(value, 2)
    if isinstance(value, str):
        value = _number_text(value, decimal_mark)
        if not value or not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?", value, re.I):
            raise CellError(f"« {show(typed)} » n'est pas un montant.")
    try:
        return payment_services.parse_amount(value)
    except ValidationError as error:
        reason = " ".join(error.messages).rstrip(".")
        if "n'est pas un montant" in reason:
            raise CellError(f"« {show(typed)} » n'est pas un montant.") from None
        raise CellError(f"« {show(typed)} » : {reason[0].lower()}{reason[1:]}.") from None


# Yes / no, emails, phones ------------------------------------------------------------------------


def parse_bool(value: Any) -> bool:
    """oui/non, yes/no, vrai/faux, 1/0, x (a ticked box) → True/False."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    word = _fold(str(value)).rstrip(".")
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(f"« {show(value)} » : oui ou non attendu.")


_email_validator = EmailValidator()


# A subset of what Django's EmailValidator accepts (dot-atom ASCII user, ASCII domain
# labels, letters-only TLD): addresses of this shape skip the slower full check.
PLAIN_EMAIL = re.compile(
    r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)


def parse_email(value: Any) -> str:
    """A valid address, trimmed and lower-cased (« Jean@X.fr » → « jean@x.fr »)."""
    email = str(value).strip().removeprefix("mailto:").strip("<>").strip().lower()
    if len(email) <= 254 and PLAIN_EMAIL.fullmatch(email):
        return email  # the common shape, which the validator below accepts too
    try:
        _email_validator(email)
    except ValidationError:
        raise CellError(f"« {show(value)} » n'est pas une adresse email valide.") from None
    return email


def parse_phone(value: Any, *, region: str | None = None) -> str:
    """The number as typed (trimmed), if it can be a real one; national numbers are read
    in `region` (France by default). A spreadsheet number lost its leading zero:
    612345678 is given back as « 0612345678 » in France."""
    region = (region or DEFAULT_REGION).upper()
    if isinstance(value, bool):
        raise CellError(f"« {show(value)} » n'est pas un numéro de téléphone reconnu.")
    if isinstance(value, int | float) and float(value).is_integer():
        text = str(int(value))
        if region == "FR" and len(text) == 9:
            text = "0" + text
    else:
        text = " ".join(str(value).split())
    if not normalize_phone(text, region):
        raise CellError(f"« {show(value)} » n'est pas un numéro de téléphone reconnu.")
    return text


# Addresses ---------------------------------------------------------------------------------------

FR_POSTAL = re.compile(r"^\d{5}$")


def parse_postal_code(value: Any, *, country: str | None = None) -> str:
    """A postal code kept as text: in France five digits, the leading zero put back when a
    spreadsheet dropped it (1000 → « 01000 »)."""
    country = (country or "FR").upper()
    if isinstance(value, bool):
        raise CellError(f"« {show(value)} » n'est pas un code postal.")
    if isinstance(value, int | float) and float(value).is_integer():
        text = str(int(value))
    else:
        text = " ".join(str(value).split())
    if country != "FR":
        if len(text) > 20:
            raise CellError(f"« {show(value)} » : un code postal a 20 caractères au plus.")
        return text
    text = text.replace(" ", "")
    if text.isdigit() and len(text) == 4:
        text = "0" + text
    if not FR_POSTAL.match(text):
        raise CellError(f"« {show(value)} » n'est pas un code postal français (5 chiffres).")
    return text


# ISO 3166 alpha-3 codes and names people write that the phone library's list lacks.
COUNTRY_ALIASES = {
    "fra": "FR", "bel": "BE", "che": "CH", "lux": "LU", "deu": "DE", "esp": "ES",
    "ita": "IT", "gbr": "GB", "usa": "US", "can": "CA", "nld": "NL", "prt": "PT",
    "mco": "MC", "mar": "MA", "dza": "DZ", "tun": "TN", "sen": "SN", "civ": "CI",
    "uk": "GB", "angleterre": "GB", "grande bretagne": "GB", "royaume uni": "GB",
    "england": "GB", "great britain": "GB", "united kingdom": "GB", "ecosse": "GB",
    "pays de galles": "GB", "etats unis d amerique": "US", "etats unis": "US",
    "united states of america": "US", "amerique": "US", "hollande": "NL",
    "pays bas": "NL", "republique tcheque": "CZ", "tchequie": "CZ",
    "cote d ivoire": "CI", "russie": "RU", "coree du sud": "KR", "france metropolitaine": "FR",
}  # fmt: skip
COUNTRY_LANGUAGES = ("fr", "en", "de", "es", "it", "nl", "pt")


@cache
def _countries() -> dict[str, str]:
    """Folded country names (French, English and neighbours' languages) → ISO code."""
    from phonenumbers.geodata.locale import LOCALE_DATA

    names = {code.lower(): code for code in LOCALE_DATA}
    for language in COUNTRY_LANGUAGES:  # French names first, then English, then others
        for code, by_language in LOCALE_DATA.items():
            name = by_language.get(language, "")
            if name.startswith("*"):
                name = by_language.get(name[1:], "")
            if name:
                names.setdefault(_fold(re.sub(r"[-'’.]", " ", name)), code)
    names.update(COUNTRY_ALIASES)
    return names


def parse_country(value: Any) -> str:
    """« France », « FR », « Belgique », « Allemagne », « USA » → the ISO 3166 code."""
    folded = _fold(re.sub(r"[-'’.]", " ", str(value)))
    code = _countries().get(folded)
    if not code:
        raise CellError(f"« {show(value)} » n'est pas un pays reconnu (nom ou code ISO : FR).")
    return code


# Choices -----------------------------------------------------------------------------------------

# Words people use for Lien's choices, by field key (folded → stored value).
CHOICE_SYNONYMS: dict[str, dict[str, str]] = {
    "civility": {
        "m": "M.", "mr": "M.", "monsieur": "M.", "mister": "M.", "homme": "M.", "h": "M.",
        "mme": "Mme", "madame": "Mme", "mlle": "Mme", "mademoiselle": "Mme", "mrs": "Mme",
        "ms": "Mme", "miss": "Mme", "femme": "Mme", "f": "Mme", "mx": "Mx",
    },
    "method": {
        "cb": "carte", "carte bancaire": "carte", "carte bleue": "carte", "card": "carte",
        "credit card": "carte", "paypal": "carte", "chq": "cheque", "check": "cheque",
        "cheque bancaire": "cheque", "espece": "especes", "liquide": "especes",
        "cash": "especes", "vir": "virement", "virement bancaire": "virement",
        "transfer": "virement", "bank transfer": "virement", "sepa": "prelevement",
        "prelevement automatique": "prelevement", "prelevement sepa": "prelevement",
        "direct debit": "prelevement",
    },
    "kind": {
        "cotisation": "adhesion", "adhesion": "adhesion", "membership": "adhesion",
        "donation": "don", "dons": "don", "billet": "billetterie", "ticket": "billetterie",
        "inscription": "billetterie", "achat": "boutique", "vente": "boutique",
        "shop": "boutique", "financement participatif": "crowdfunding",
    },
    "status": {
        "paid": "paye", "regle": "paye", "encaisse": "paye", "valide": "paye",
        "ok": "paye", "pending": "en_attente", "attente": "en_attente",
        "refunded": "rembourse", "cancelled": "annule", "canceled": "annule",
        "refused": "refuse", "rejete": "refuse",
    },
    "frequency": {
        "ponctuel": "", "unique": "", "mensuelle": "mensuel", "monthly": "mensuel",
        "tous les mois": "mensuel", "annuelle": "annuel", "yearly": "annuel",
        "annually": "annuel", "tous les ans": "annuel",
    },
}  # fmt: skip


def parse_choice(
    value: Any,
    choices: Iterable[Any],
    *,
    synonyms: dict[str, str] | None = None,
) -> str:
    """The stored value of the choice the cell names, by value or label, accents and case
    ignored: « Chèque », « CHEQUE » → "cheque". `choices` are values, (value, label)
    pairs or a Django `TextChoices`; `synonyms` maps more words (folded) to values."""
    pairs = _choice_pairs(choices)
    wanted = _fold(str(value))
    for stored, label in pairs:
        if wanted in (_fold(stored), _fold(label)):
            return stored
    if synonyms:
        stored = synonyms.get(wanted.rstrip("."), synonyms.get(wanted))
        if stored is not None and any(stored == s for s, _ in pairs):
            return stored
    allowed = ", ".join(f"« {label} »" for _, label in pairs if label) or "aucun choix défini"
    raise CellError(f"« {show(value)} » n'est pas un choix possible ({allowed}).")


def _choice_pairs(choices: Iterable[Any]) -> list[tuple[str, str]]:
    if hasattr(choices, "choices"):  # a Django TextChoices class
        choices = choices.choices
    pairs = []
    for choice in choices:
        if isinstance(choice, list | tuple):
            pairs.append((str(choice[0]), str(choice[1])))
        else:
            pairs.append((str(choice), str(choice)))
    return pairs
