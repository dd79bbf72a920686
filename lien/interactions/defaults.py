"""The interaction types every new organisation starts with, and the function that seeds them."""

from __future__ import annotations

from lien.core.models import Organization
from lien.interactions.models import InteractionStatus, InteractionType

ACTIVE = InteractionStatus.ACTIVE
PASSIVE = InteractionStatus.PASSIVE

PAYMENT_TYPE = "Paiement"
EMAILING_RECEIVED_TYPE = "Emailing reçu"
EMAILING_OPENED_TYPE = "Emailing ouvert"
EMAILING_CLICK_TYPE = "Clic emailing"
FORM_TYPE = "Formulaire"

# (name, default status, used by the app itself). Order is the display order.
DEFAULT_INTERACTION_TYPES: list[tuple[str, str, bool]] = [
    ("Appel téléphonique", ACTIVE, False),
    ("Rencontre", ACTIVE, False),
    ("Email", ACTIVE, False),
    ("Courrier", PASSIVE, False),
    (PAYMENT_TYPE, ACTIVE, True),
    (EMAILING_RECEIVED_TYPE, PASSIVE, True),
    (EMAILING_OPENED_TYPE, ACTIVE, True),
    (EMAILING_CLICK_TYPE, ACTIVE, True),
    (FORM_TYPE, ACTIVE, True),
    ("Candidature bénévolat", ACTIVE, False),
    ("Entretien bénévole", ACTIVE, False),
    ("Rendez-vous mécénat", ACTIVE, False),
    ("Participation événement", ACTIVE, False),
    ("Assemblée générale", ACTIVE, False),
    ("Inscription atelier", ACTIVE, False),
    ("Signature pétition", ACTIVE, False),
    ("Promesse de don", ACTIVE, False),
    ("Parrainage", ACTIVE, False),
]


def seed_interaction_types(organization: Organization) -> list[InteractionType]:
    """Create the default types the organisation lacks; running it twice changes nothing."""
    existing = set(InteractionType.objects.for_org(organization).values_list("name", flat=True))
    missing = [
        InteractionType(
            organization=organization,
            name=name,
            default_status=status,
            is_system=is_system,
            position=position,
        )
        for position, (name, status, is_system) in enumerate(DEFAULT_INTERACTION_TYPES, start=1)
        if name not in existing
    ]
    return InteractionType.objects.bulk_create(missing, batch_size=100)
