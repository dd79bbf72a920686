"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from the settings.

The key is derived from settings.ENCRYPTION_KEY (env LIEN_ENCRYPTION_KEY, else SECRET_KEY)
by HKDF, so any string works as a setting and the secret key itself is never used raw.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted (the encryption key changed)."""


@lru_cache(maxsize=4)
def _fernet(key_material: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"lien-connectors", info=b"secrets-at-rest"
    ).derive(key_material.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(plain: str) -> str:
    """The Fernet token (ASCII) of `plain`; "" stays ""."""
    if not plain:
        return ""
    return _fernet(settings.ENCRYPTION_KEY).encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The plain text of a stored token; raises SecretUnreadable if the key changed."""
    if not token:
        return ""
    try:
        return _fernet(settings.ENCRYPTION_KEY).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        raise SecretUnreadable(
            "Le secret enregistré ne peut plus être déchiffré (la clé de chiffrement a changé) : "
            "saisissez-le à nouveau."
        ) from error
