"""From a file row to a clean record: the mapping applied, every cell checked.

`RowReader(organization, target, mapping, transforms).read(number, cells)` returns a
`CleanRow`: native values, custom values, labels, the person to reconcile (the
contact itself, or the contact of an interaction or a payment), the row's own
external id, and the errors of its cells, each naming the column, the value and
the reason in French, as the services say it:

    ligne 214, colonne « Email » : « jean.dupont@ » n'est pas une adresse email valide.

The rules are the services' (lien.contacts.services, custom_fields, interactions,
payments): same validators, same limits, same messages, applied per cell and
without a query per row — the reader loads definitions, choices, types, campaigns
once. What needs the database state of a record (required custom fields on
creation, an update's policy) is decided by the writer, after matching.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone

from lien.contacts import custom_fields
from lien.contacts.models import Contact, ContactStructureLink, CustomField, Structure
from lien.core.models import Organization
from lien.imports import values
from lien.imports.headers import is_last_first, split_emails, split_full_name
from lien.imports.matching import Candidate
from lien.imports.models import ImportTarget
from lien.imports.values import CellError
from lien.interactions.models import (
    InteractionCategory,
    InteractionLabel,
    InteractionStatus,
    InteractionType,
)
from lien.payments.models import Campaign, Payment, PaymentKind

CUSTOM_PREFIX = "custom."
# Keys read by their own step (names split, emails split, country before phones…).
NOT_NATIVE = {"full_name", "email", "labels", "country", "mobile", "phone", "postal_code",
              "structure", "structure_role"}  # fmt: skip
CUSTOM_TARGETS = {
    ImportTarget.CONTACTS: CustomField.Target.CONTACT,
    ImportTarget.STRUCTURES: CustomField.Target.STRUCTURE,
    ImportTarget.PAYMENTS: CustomField.Target.PAYMENT,
}

# Field keys of each target (the keys of lien.imports.headers.FIELDS). Person keys
# ("contact_*") of interactions and payments describe the contact to find or create.
PERSON_KEYS = {
    "contact_id": "id",
    "contact_external_id": "external_id",
    "contact_first_name": "first_name",
    "contact_last_name": "last_name",
    "contact_full_name": "full_name",
    "contact_email": "email",
}
CONTACT_KEYS = [
    "id", "external_id", "civility", "first_name", "last_name", "full_name", "email", "email2",
    "mobile", "phone", "street", "street2", "postal_code", "city", "country", "birth_date",
    "preferred_language", "notes", "email_consent", "labels", "structure", "structure_role",
]  # fmt: skip
CONTACT_NATIVE = [k for k in CONTACT_KEYS[3:] if k not in NOT_NATIVE]
STRUCTURE_KEYS = [
    "id", "external_id", "name", "kind", "siren", "siret", "rna", "street", "street2",
    "postal_code", "city", "country", "email", "phone", "website", "notes", "labels",
]  # fmt: skip
INTERACTION_KEYS = [
    "external_id", *PERSON_KEYS, "occurred_at", "type", "category", "label", "description",
    "status",
]  # fmt: skip
PAYMENT_KEYS = [
    "external_id", *PERSON_KEYS, "amount", "paid_on", "kind", "method", "status", "campaign",
    "frequency", "notes", "labels", "valid_from", "valid_until",
]  # fmt: skip
KEYS = {
    ImportTarget.CONTACTS: CONTACT_KEYS,
    ImportTarget.STRUCTURES: STRUCTURE_KEYS,
    ImportTarget.INTERACTIONS: INTERACTION_KEYS,
    ImportTarget.PAYMENTS: PAYMENT_KEYS,
}


@dataclass
class CleanRow:
    """One file row, mapped and checked."""

    number: int
    cells: list[str]
    values: dict[str, Any] = field(default_factory=dict)  # native fields, cleaned
    custom: dict[str, Any] = field(default_factory=dict)  # custom key → stored form
    labels: list[str] = field(default_factory=list)  # label names (contacts, structures)
    structure: str = ""  # contacts: the name of the structure to link the contact to
    structure_role: str = ""  # and the contact's role there
    external_id: str = ""
    record_id: int | None = None  # a Lien id column (contacts, structures)
    person: Candidate | None = None  # contacts, or the contact of an interaction/payment
    person_values: dict[str, Any] = field(default_factory=dict)  # to create that contact
    new_choices: dict[str, set[str]] = field(default_factory=dict)  # custom key → values
    errors: list[dict[str, str]] = field(default_factory=list)

    def error(self, column: str, value: Any, message: str) -> None:
        self.errors.append({"column": column, "value": str(value)[:200], "message": message})


def error_text(number: int, error: dict[str, str]) -> str:
    """« ligne 214, colonne « Email » : « jean.dupont@ » n'est pas une adresse … »"""
    if error.get("column"):
        return f"ligne {number}, colonne « {error['column']} » : {error['message']}"
    return f"ligne {number} : {error['message']}"


def _message(error: ValidationError | CellError) -> str:
    if isinstance(error, CellError):
        return error.message
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return " ".join(m for ms in error.message_dict.values() for m in ms)
        return " ".join(error.messages)
    return str(error)


# Cell parsers --------------------------------------------------------------------------


FRENCH_NUMBER = re.compile(r"0[1-9][0-9]{8}")
PHONE_PUNCTUATION = str.maketrans("", "", " .-/\u00a0")


MEMO_SIZE = 20_000  # distinct texts remembered per column; then the memo starts again


def remember(memo: dict, text: str, answer: tuple) -> None:
    if len(memo) >= MEMO_SIZE:
        memo.clear()
    memo[text] = answer


def french_e164(text: str, region: str) -> str:
    """The E.164 form of a French national number (« 06 12 34 56 78 » → +33612345678)
    without parsing it: what `normalize_phone` answers for such numbers, ten times
    faster; "" for anything else (the caller then asks `normalize_phone`)."""
    if region != "FR":
        return ""
    digits = text.translate(PHONE_PUNCTUATION)
    return "+33" + digits[1:] if FRENCH_NUMBER.fullmatch(digits) else ""


@functools.lru_cache(maxsize=20_000)
def _phone(text: str, region: str) -> str:
    """The phone check, once per distinct number and country (files repeat them)."""
    if french_e164(text, region):
        return " ".join(text.split())
    return values.parse_phone(text, region=region)


class RowReader:
    """Reads the rows of one import: mapping, transforms and reference data loaded once."""

    def __init__(
        self,
        *,
        organization: Organization,
        target: str,
        mapping: dict[str, Any],
        transforms: dict[str, Any] | None = None,
        headers: Sequence[str] = (),
        source: str = "",
    ) -> None:
        self.organization = organization
        self.target = target
        self.transforms = transforms or {}
        self.headers = list(headers)
        self.source = source
        self.date_format = (self.transforms.get("date_format") or "").strip()
        self.decimal_comma = bool(self.transforms.get("decimal_comma"))
        self.create_missing = bool(self.transforms.get("create_missing_choices"))
        self.choice_maps = {
            key: {str(k).strip().casefold(): v for k, v in (values or {}).items()}
            for key, values in (self.transforms.get("choices") or {}).items()
        }
        custom_target = CUSTOM_TARGETS.get(target)
        self.custom_fields = (
            {f.key: f for f in custom_fields.definitions(organization=organization,
                                                         target=custom_target)}
            if custom_target
            else {}
        )  # fmt: skip
        self.columns: list[tuple[int, str, str]] = []  # (index, header, key)
        for index, key in sorted(
            ((int(i), k) for i, k in mapping.items() if k), key=lambda x: x[0]
        ):
            header = self.headers[index] if index < len(self.headers) else f"Colonne {index + 1}"
            self.columns.append((index, header or f"Colonne {index + 1}", key))
        self.model = {
            ImportTarget.CONTACTS: Contact,
            ImportTarget.STRUCTURES: Structure,
            ImportTarget.PAYMENTS: Payment,
        }.get(target)
        self._named: dict[str, dict[str, Any]] = {}
        self._parsers: dict[tuple, tuple[Callable[[Any], Any], dict | None]] = {}
        self._memos: dict[str, dict] = {}
        self.today = timezone.localdate()
        self._typed: dict[str, Any] = {}
        # Set by whoever reads a CSV table (its cells are stripped texts, one per header):
        # read() then takes its short path.
        self.text_cells = False
        if target == ImportTarget.INTERACTIONS:
            for key, model in [
                ("type", InteractionType),
                ("category", InteractionCategory),
                ("label", InteractionLabel),
            ]:
                self._named[key] = {
                    " ".join(name.split()).casefold(): pk
                    for pk, name in model.objects.for_org(organization).values_list("pk", "name")
                }
        if target == ImportTarget.PAYMENTS:
            self._named["campaign"] = {
                name.strip().casefold(): pk
                for pk, name in Campaign.objects.for_org(organization).values_list("pk", "name")
            }

    # Errors known before reading any row: a mapping that names unknown fields.
    def mapping_errors(self) -> list[str]:
        errors = []
        allowed = set(KEYS[self.target])
        seen: dict[str, str] = {}
        for _index, header, key in self.columns:
            if key.startswith(CUSTOM_PREFIX):
                if key[len(CUSTOM_PREFIX) :] not in self.custom_fields:
                    errors.append(f"Colonne « {header} » : champ personnalisé inconnu « {key} ».")
            elif key not in allowed:
                errors.append(f"Colonne « {header} » : champ inconnu « {key} ».")
            if key in seen and key != "labels":
                errors.append(
                    f"Les colonnes « {seen[key]} » et « {header} » vont dans le même champ."
                )
            seen.setdefault(key, header)
        return errors

    # Typed readers ----------------------------------------------------------------------

    def date(self, value: Any, *, what: str = "La date", past: bool = False) -> dt.date:
        return values.parse_date(value, fmt=self.date_format or None, past=past)

    def birth_date(self, value: Any) -> dt.date:
        return self.date(value, past=True)

    def datetime(self, value: Any) -> dt.datetime:
        try:
            moment = values.parse_datetime(value, fmt=self.date_format or None)
        except CellError:
            if not self.date_format:
                raise
            moment = values.parse_datetime(value)  # a date without the chosen time part
        if isinstance(value, str) and ":" not in value and moment.time() == dt.time():
            moment = moment.replace(hour=12)  # a day without a time: noon, as payments do
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)

    def amount(self, value: Any) -> int:
        if self.decimal_comma and isinstance(value, str):
            value = value.replace(".", "").replace(" ", "")
        return values.parse_amount(value)

    def choice(self, key: str, value: Any, choices: Sequence[tuple[str, str]]) -> str:
        """A native choice, by its value, its label or a synonym (accents and case ignored),
        or the user's value mapping."""
        mapped = self.choice_maps.get(key, {}).get(str(value).strip().casefold())
        return values.parse_choice(
            value if mapped is None else mapped, choices, synonyms=values.CHOICE_SYNONYMS.get(key)
        )

    def text(self, model: type[models.Model], name: str, text: Any) -> str:
        text = str(text)
        value = " ".join(text.split()) if "\n" not in text else text.strip()
        limit = model._meta.get_field(name).max_length
        if limit and len(value) > limit:
            raise CellError(f"{limit} caractères au plus ({len(value)} dans la cellule).")
        return value

    @staticmethod
    def _text_reader(limit: int | None) -> Callable[[Any], str]:
        """text() for one field, its length limit looked up once."""

        def read(text: Any) -> str:
            text = str(text)
            value = " ".join(text.split()) if "\n" not in text else text.strip()
            if limit and len(value) > limit:
                raise CellError(f"{limit} caractères au plus ({len(value)} dans la cellule).")
            return value

        return read

    def custom(self, key: str, text: str, row: CleanRow) -> Any:
        definition = self.custom_fields[key]
        full_key = CUSTOM_PREFIX + key
        mapping = self.choice_maps.get(full_key, {})
        value: Any = text
        if definition.field_type == CustomField.FieldType.CHOICE:
            value = mapping.get(text.strip().casefold(), text)
        elif definition.field_type == CustomField.FieldType.MULTIPLE_CHOICE:
            value = [
                mapping.get(part.strip().casefold(), part.strip())
                for part in str(text).replace(";", ",").split(",")
                if part.strip()
            ]
        elif definition.field_type == CustomField.FieldType.DATE:
            value = self.date(self._typed.get(full_key, text)).isoformat()
        elif definition.field_type == CustomField.FieldType.DECIMAL and self.decimal_comma:
            value = text.replace(".", "")
        try:
            return custom_fields.parse_value(definition, value)
        except ValidationError as error:
            if self.create_missing and definition.field_type in (
                CustomField.FieldType.CHOICE,
                CustomField.FieldType.MULTIPLE_CHOICE,
            ):
                items = value if isinstance(value, list) else [str(value).strip()]
                known = {c.casefold(): c for c in definition.choices}
                missing = {i for i in items if i.casefold() not in known}
                row.new_choices.setdefault(key, set()).update(missing)
                chosen = [known.get(i.casefold(), i) for i in items]
                return chosen if isinstance(value, list) else chosen[0]
            raise CellError(_message(error)) from None

    # Rows -------------------------------------------------------------------------------

    def read(self, number: int, cells: Sequence[Any]) -> CleanRow:
        if self.text_cells:  # a CSV's row: stripped texts, padded to the header's width
            row = CleanRow(number=number, cells=list(cells))
            raw: dict[str, tuple[str, str]] = {}  # key → (header, text)
            self._typed = {}
            width = len(cells)
            for index, header, key in self.columns:
                text = cells[index] if index < width else ""
                if not text:
                    continue
                if key in raw:  # several label columns add up (the only key allowed twice)
                    raw[key] = (raw[key][0], f"{raw[key][1]},{text}")
                else:
                    raw[key] = (header, text)
            return self._finish(row, raw)
        row = CleanRow(number=number, cells=["" if c is None else str(c) for c in cells])
        raw = {}
        typed = self._typed = {}
        for index, header, key in self.columns:
            value = cells[index] if index < len(cells) else None
            if value is None or value == "" or isinstance(value, str) and not value.strip():
                continue
            text = values.show(value) if not isinstance(value, str) else value.strip()
            if key == "labels" and key in raw:  # several label columns add up
                raw[key] = (raw[key][0], f"{raw[key][1]},{text}")
                continue
            raw[key] = (header, text)
            if not isinstance(value, str):  # a spreadsheet's number or date, kept typed
                typed[key] = value
        return self._finish(row, raw)

    def _finish(self, row: CleanRow, raw: dict[str, tuple[str, str]]) -> CleanRow:
        reader = {
            ImportTarget.CONTACTS: self._contact,
            ImportTarget.STRUCTURES: self._structure,
            ImportTarget.INTERACTIONS: self._interaction,
            ImportTarget.PAYMENTS: self._payment,
        }[self.target]
        reader(row, raw)
        if len(row.errors) > 1:  # in the file's column order, row-level ones last
            order = {header: position for position, (_i, header, _k) in enumerate(self.columns)}
            row.errors.sort(key=lambda e: order.get(e["column"], len(order)))
        return row

    def _cell(
        self,
        row: CleanRow,
        raw: dict,
        key: str,
        parse: Callable[[str], Any],
        memo: dict | None = None,
    ) -> Any:
        """The parsed cell, or None with the cell's error on the row. With a `memo`, a text
        read before gives the same answer without parsing it again."""
        if key not in raw:
            return None
        header, text = raw[key]
        typed = self._typed.get(key)
        answer = memo.get(text) if memo is not None and typed is None else None
        if answer is None:
            try:
                answer = (True, parse(text if typed is None else typed))
            except (CellError, ValidationError) as error:
                answer = (False, _message(error))
            if memo is not None and typed is None:
                remember(memo, text, answer)
        if answer[0]:
            return answer[1]
        row.error(header, text, answer[1])
        return None

    def _memo(self, name: str) -> dict:
        """The remembered answers of one column's parser (see `_cell`)."""
        return self._memos.setdefault(name, {})

    def _parser(self, model, key: str) -> tuple[Callable[[Any], Any], dict | None]:
        """The reader of one native field, chosen once per import, and its memo when the
        column's values repeat (dates, yes/no, choices: not names, emails or free text)."""
        cache_key = (model, key)
        if cache_key not in self._parsers:
            field = model._meta.get_field(key)
            repeats = True
            if isinstance(field, models.EmailField):
                parse: Callable[[Any], Any] = values.parse_email
                repeats = False
            elif key == "birth_date":
                parse = self.birth_date
            elif isinstance(field, models.DateField):
                parse = self.date
            elif isinstance(field, models.BooleanField):
                parse = values.parse_bool
            elif field.choices:
                parse = functools.partial(self.choice, key, choices=field.choices)
            elif isinstance(field, models.URLField):
                parse = self._url
                repeats = False
            else:
                parse = self._text_reader(model._meta.get_field(key).max_length)
                repeats = False
            self._parsers[cache_key] = (parse, self._memo(key) if repeats else None)
        return self._parsers[cache_key]

    def _native(self, row: CleanRow, raw: dict, model, keys: Sequence[str]) -> None:
        """Text, choice, email, date, boolean and URL fields of `model`."""
        parsers = self._parsers
        values = row.values
        for key in keys:
            if key in raw:
                found = parsers.get((model, key))
                parse, memo = found if found is not None else self._parser(model, key)
                value = self._cell(row, raw, key, parse, memo)
                if value is not None:
                    values[key] = value

    @staticmethod
    def _url(text: str) -> str:
        url = text.strip() if "://" in text else f"https://{text.strip()}"
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise CellError(f"« {text} » n'est pas une adresse web valide.") from None
        return url

    def _customs(self, row: CleanRow, raw: dict) -> None:
        for key, (header, text) in raw.items():
            if not key.startswith(CUSTOM_PREFIX):
                continue
            name = key[len(CUSTOM_PREFIX) :]
            if name not in self.custom_fields:
                continue
            memo = self._memo(key) if key not in self._typed else None
            answer = memo.get(text) if memo is not None else None
            if answer is None:
                probe = CleanRow(number=row.number, cells=[])  # collects the new choices
                try:
                    answer = (True, self.custom(name, text, probe), probe.new_choices.get(name))
                except CellError as error:
                    answer = (False, error.message, None)
                if memo is not None:
                    remember(memo, text, answer)
            ok, value, missing = answer
            if not ok:
                row.error(header, text, value)
                continue
            row.custom[name] = list(value) if isinstance(value, list) else value
            if missing:
                row.new_choices.setdefault(name, set()).update(missing)

    def _labels(self, row: CleanRow, raw: dict) -> None:
        if "labels" in raw:
            names = [" ".join(n.split()) for n in re.split(r"[,;|]", raw["labels"][1])]
            for name in names:
                if len(name) > 80:
                    row.error(raw["labels"][0], name, "Un nom d'étiquette a 80 caractères au plus.")
                elif name and name.casefold() not in {n.casefold() for n in row.labels}:
                    row.labels.append(name)

    def _structure_link(self, row: CleanRow, raw: dict) -> None:
        """A contacts file's « Structure » and « Fonction » columns (found or created, and
        linked, by the engine); one line of text each, repeated names read once."""
        for key, model, name in (
            ("structure", Structure, "name"),
            ("structure_role", ContactStructureLink, "role"),
        ):
            value = self._cell(
                row, raw, key,
                lambda v, model=model, name=name: self.text(model, name, " ".join(str(v).split())),
                self._memo(key),
            )  # fmt: skip
            if value:
                setattr(row, key, value)

    def _ids(self, row: CleanRow, raw: dict) -> None:
        if "id" in raw:
            header, text = raw["id"]
            if text.isascii() and text.isdigit() and len(text) < 19:
                row.record_id = int(text)
            else:
                row.error(header, text, f"« {text} » n'est pas un identifiant Lien (un nombre).")
        if "external_id" in raw:
            header, text = raw["external_id"]
            if len(text) > 200:
                row.error(header, text, "Un identifiant a 200 caractères au plus.")
            else:
                row.external_id = text

    def _phones(self, row: CleanRow, raw: dict, keys: Sequence[str]) -> None:
        """Phones and the postal code, read in the row's country."""
        country = str(row.values.get("country") or "FR").upper()
        for key in keys:
            if key in raw:
                value = self._cell(
                    row, raw, key,
                    lambda v: _phone(v, country) if isinstance(v, str)
                    else values.parse_phone(v, region=country),
                )  # fmt: skip
                if value is not None:
                    row.values[key] = value
        if "postal_code" in raw:
            value = self._cell(
                row, raw, "postal_code",
                lambda v: self.text(Contact, "postal_code",
                                    values.parse_postal_code(v, country=country)),
                self._memo(f"postal_code:{country}"),
            )  # fmt: skip
            if value is not None:
                row.values["postal_code"] = value

    def _country(self, row: CleanRow, raw: dict) -> None:
        value = self._cell(row, raw, "country", values.parse_country, self._memo("country"))
        if value is not None:
            row.values["country"] = value

    def _contact(self, row: CleanRow, raw: dict) -> None:
        self._ids(row, raw)
        if "full_name" in raw:
            header = raw["full_name"][0]
            first, last = split_full_name(raw["full_name"][1], last_first=is_last_first(header))
            raw.setdefault("first_name", (raw["full_name"][0], first))
            raw.setdefault("last_name", (raw["full_name"][0], last))
            if not raw["first_name"][1]:
                raw.pop("first_name")
        emails: list[str] = []
        if "email" in raw:
            header, text = raw["email"]
            parts = split_emails(text)
            for part in parts[:2]:
                try:
                    emails.append(values.parse_email(part))
                except CellError as error:
                    row.error(header, part, error.message)
            if len(parts) > 2:
                row.error(header, text, "Trois adresses ou plus dans une cellule : deux au plus.")
            raw.pop("email")
            if emails:
                row.values["email"] = emails[0]
            if len(emails) > 1 and "email2" not in raw:
                row.values["email2"] = emails[1]
        self._native(row, raw, Contact, CONTACT_NATIVE)
        self._country(row, raw)
        self._phones(row, raw, ["mobile", "phone"])
        if row.values.get("birth_date") and row.values["birth_date"] > self.today:
            row.error(raw["birth_date"][0], raw["birth_date"][1],
                      "La date de naissance est dans le futur.")  # fmt: skip
        self._customs(row, raw)
        self._labels(row, raw)
        self._structure_link(row, raw)
        if not any(raw.get(k) for k in ("first_name", "last_name", "email", "full_name")) and not (
            emails or row.record_id or row.external_id
        ):
            row.error("", "", "Indiquez au moins un nom, un prénom ou un email.")
        row.person = Candidate(
            key=row.number,
            contact_id=row.record_id,
            source=self.source if row.external_id else "",
            external_id=row.external_id,
            emails=emails,
            first_name=row.values.get("first_name", ""),
            last_name=row.values.get("last_name", ""),
        )

    def _structure(self, row: CleanRow, raw: dict) -> None:
        self._ids(row, raw)
        self._native(row, raw, Structure, [k for k in STRUCTURE_KEYS[2:] if k not in NOT_NATIVE])
        self._country(row, raw)
        self._phones(row, raw, ["phone"])
        for key, module_name, label in [("siren", "siren", "SIREN"), ("siret", "siret", "SIRET")]:
            value = row.values.get(key)
            if value:
                from stdnum.exceptions import ValidationError as StdnumError
                from stdnum.fr import siren, siret

                module = {"siren": siren, "siret": siret}[module_name]
                try:
                    row.values[key] = module.validate(value.replace(" ", ""))
                except StdnumError:
                    row.values.pop(key)
                    row.error(
                        raw[key][0],
                        value,
                        f"« {value} » n'est pas un numéro {label} valide (vérifiez les chiffres).",
                    )
        rna = row.values.get("rna", "").upper()
        if rna:
            if not (len(rna) == 10 and rna[0] == "W" and rna[1:].isascii() and rna[1:].isdigit()):
                row.values.pop("rna")
                row.error(
                    raw["rna"][0], rna, f"« {rna} » : un numéro RNA s'écrit W suivi de 9 chiffres."
                )
            else:
                row.values["rna"] = rna
        self._customs(row, raw)
        self._labels(row, raw)
        if not row.values.get("name") and not (row.record_id or row.external_id):
            row.error("", "", "Le nom de la structure est obligatoire.")

    def _person(self, row: CleanRow, raw: dict) -> None:
        """The contact of an interaction or a payment: id, external id, email, names."""
        person: dict[str, Any] = {}
        contact_id = None
        if "contact_id" in raw:
            header, text = raw["contact_id"]
            if text.isascii() and text.isdigit() and len(text) < 19:
                contact_id = int(text)
            else:
                row.error(header, text, f"« {text} » n'est pas un identifiant Lien (un nombre).")
        if "contact_full_name" in raw:
            header = raw["contact_full_name"][0]
            first, last = split_full_name(
                raw["contact_full_name"][1], last_first=is_last_first(header)
            )
            person["first_name"], person["last_name"] = first, last
        for key, name in [("contact_first_name", "first_name"), ("contact_last_name", "last_name")]:
            if key in raw:
                value = self._cell(row, raw, key, lambda t, n=name: self.text(Contact, n, t))
                if value is not None:
                    person[name] = value
        emails = []
        if "contact_email" in raw:
            header, text = raw["contact_email"]
            for part in split_emails(text)[:2]:
                try:
                    emails.append(values.parse_email(part))
                except CellError as error:
                    row.error(header, part, error.message)
        if emails:
            person["email"] = emails[0]
        external = raw.get("contact_external_id", ("", ""))[1]
        row.person_values = person
        if not (
            contact_id or external or emails or person.get("last_name") or person.get("first_name")
        ):
            row.error("", "", "Le contact est obligatoire : un identifiant, un email ou un nom.")
            return
        row.person = Candidate(
            key=row.number,
            contact_id=contact_id,
            source=self.source if external else "",
            external_id=external,
            emails=emails,
            first_name=person.get("first_name", ""),
            last_name=person.get("last_name", ""),
        )

    def _named_ref(self, row: CleanRow, raw: dict, key: str, what: str, create: bool) -> Any:
        """A type, category, label or campaign by name: its id, or the name to create."""
        if key not in raw:
            return None
        header, text = raw[key]
        name = " ".join(text.split())
        pk = self._named[key].get(name.casefold())
        if pk is not None:
            return pk
        if create:
            return name
        row.error(header, text, f"« {name} » : {what} inconnu(e) dans votre association.")
        return None

    def _interaction(self, row: CleanRow, raw: dict) -> None:
        self._ids(row, raw)
        self._person(row, raw)
        when = self._cell(row, raw, "occurred_at", self.datetime)
        if when is not None:
            row.values["occurred_at"] = when
        elif "occurred_at" not in raw:
            row.error("", "", "La date de l'interaction est obligatoire.")
        type_ref = self._named_ref(row, raw, "type", "type d'interaction", self.create_missing)
        if type_ref is not None:
            row.values["type"] = type_ref
        elif "type" not in raw:
            row.error("", "", "Le type de l'interaction est obligatoire.")
        for key, what in [("category", "catégorie"), ("label", "libellé")]:
            ref = self._named_ref(row, raw, key, what, True)
            if ref is not None:
                row.values[key] = ref
        if "description" in raw:
            row.values["description"] = raw["description"][1]
        status = self._cell(
            row, raw, "status", lambda t: self.choice("status", t, InteractionStatus.choices)
        )
        if status:
            row.values["status"] = status

    def _payment(self, row: CleanRow, raw: dict) -> None:
        self._ids(row, raw)
        self._person(row, raw)
        cents = self._cell(row, raw, "amount", self.amount)
        if cents is not None:
            row.values["amount_cents"] = cents
        elif "amount" not in raw:
            row.error("", "", "Le montant est obligatoire.")
        day = self._cell(row, raw, "paid_on", self.date)
        if day is not None:
            row.values["paid_on"] = day
        elif "paid_on" not in raw:
            row.error("", "", "La date du paiement est obligatoire.")
        for key, choices in [
            ("kind", PaymentKind.choices),
            ("method", Payment.Method.choices),
            ("status", Payment.Status.choices),
            ("frequency", Payment.Frequency.choices),
        ]:
            value = self._cell(row, raw, key, lambda t, k=key, c=choices: self.choice(k, t, c))
            if value is not None:
                row.values[key] = value
        if "kind" not in row.values and "kind" not in raw:
            default = self.transforms.get("payment_kind")
            if default in PaymentKind.values:
                row.values["kind"] = default
            else:
                row.error("", "", "Le type de paiement est obligatoire (don, adhésion…).")
        status = row.values.setdefault("status", Payment.Status.PAID)
        if row.values.get("amount_cents") is not None:
            if row.values["amount_cents"] < 0:
                row.error(
                    raw["amount"][0], raw["amount"][1], "Le montant ne peut pas être négatif."
                )
            elif row.values["amount_cents"] == 0 and status == Payment.Status.PAID:
                row.error(raw["amount"][0], raw["amount"][1],
                          "Un paiement payé a un montant supérieur à zéro.")  # fmt: skip
        if row.values.get("frequency"):
            row.values["is_recurring"] = True
        campaign = self._named_ref(row, raw, "campaign", "campagne", self.create_missing)
        if campaign is not None:
            row.values["campaign"] = campaign
        if "notes" in raw:
            row.values["notes"] = raw["notes"][1]
        for key, what in [
            ("valid_from", "Le début de validité"),
            ("valid_until", "La fin de validité"),
        ]:
            day = self._cell(row, raw, key, lambda t, w=what: self.date(t, what=w))
            if day is not None:
                row.values[key] = day
        start, end = row.values.get("valid_from"), row.values.get("valid_until")
        if start and end and end < start:
            row.error(*raw["valid_until"], "La fin de validité est avant son début.")
        self._customs(row, raw)
        self._labels(row, raw)
