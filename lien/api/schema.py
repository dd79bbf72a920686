"""OpenAPI post-processing: every operation documents the errors it can answer."""

from __future__ import annotations

ERRORS = {
    "400": "Données invalides : le corps de la réponse nomme chaque champ en erreur.",
    "401": "Jeton absent, invalide ou révoqué.",
    "403": "Le profil du membre ne permet pas cette action.",
    "404": "Élément introuvable dans votre association.",
}
ERROR_BODY = {
    "application/json": {
        "schema": {
            "type": "object",
            "additionalProperties": True,
            "description": "`detail` (message) ou un message par champ.",
        }
    }
}


def add_error_responses(result, generator, request, public):
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, description in ERRORS.items():
                operation["responses"].setdefault(
                    code, {"description": description, "content": ERROR_BODY}
                )
    return result
