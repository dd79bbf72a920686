"""Normalised copies of a contact's identity, used for matching and quick search.

Pure functions: the services, the demo, imports and the bench generator all
compute the same values from the same inputs.
"""

from __future__ import annotations

import functools
from typing import Any

import phonenumbers
from unidecode import unidecode

DEFAULT_REGION = "FR"


def normalize_email(email: str | None) -> str:
    """Trimmed and lower-cased: two spellings of one address match."""
    return (email or "").strip().lower()


@functools.lru_cache(maxsize=1 << 16)  # names repeat: an import normalises each once
def normalize_name(name: str | None) -> str:
    """Unaccented, lower-cased, single-spaced: « Hélène  DURAND » → « helene durand »."""
    return " ".join(unidecode(name or "").lower().split())


def normalize_phone(phone: str | None, region: str = DEFAULT_REGION) -> str:
    """E.164 (+33612345678), or "" when the number cannot be a real one."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_contact_fields(contact: Any, region: str | None = None) -> Any:
    """Fill the contact's normalised copies from its current values; returns the contact.

    The phone copy is the mobile's, or the landline's when there is no usable
    mobile; numbers without a country prefix are read in the contact's country.
    """
    region = region or (getattr(contact, "country", "") or DEFAULT_REGION).upper()
    contact.email_normalized = normalize_email(contact.email)
    contact.first_name_normalized = normalize_name(contact.first_name)
    contact.last_name_normalized = normalize_name(contact.last_name)
    contact.phone_e164 = normalize_phone(contact.mobile, region) or normalize_phone(
        contact.phone, region
    )
    return contact
