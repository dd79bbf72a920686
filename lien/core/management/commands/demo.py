"""Build the demo association « Les Amis du Quartier » (idempotent; --reset rebuilds it)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from lien.core.audit import Actor, record_event
from lien.core.demo_data import OrmWriter, Sizes, build_community, delete_organization_rows
from lien.core.models import AuditEvent, Membership, Organization, Profile, User
from lien.core.services import create_organization

DEMO_SLUG = "demo"
DEMO_NAME = "Les Amis du Quartier"
DEMO_EMAIL = "demo@lien.local"
DEMO_PASSWORD = "demo-lien-2026"
READER_EMAIL = "lecteur@lien.local"
DEMO_SEED = 2026


class Command(BaseCommand):
    help = (
        "Crée l'association de démonstration « Les Amis du Quartier » (identifiant « demo ») "
        "avec ses contacts, paiements et interactions. Sans effet si elle existe déjà ; "
        "--reset la supprime et la recrée."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--reset", action="store_true", help="Supprime et recrée la démo")
        parser.add_argument("--contacts", type=int, default=2000, help="Nombre de contacts")
        parser.add_argument("--seed", type=int, default=DEMO_SEED, help="Graine aléatoire")

    def handle(self, *args, reset: bool, contacts: int, seed: int, **options) -> None:
        if contacts < 0:
            raise CommandError("Le nombre de contacts doit être positif.")
        started = time.perf_counter()
        existing = Organization.objects.filter(slug=DEMO_SLUG).first()
        if existing and not reset:
            self.stdout.write(
                f"L'association de démonstration existe déjà ({existing.name}, "
                f"identifiant « {DEMO_SLUG} ») : rien à faire. --reset pour la recréer."
            )
            self._print_login()
            return
        with transaction.atomic():
            if existing:
                delete_organization_rows(existing)
                self.stdout.write("Ancienne démonstration supprimée.")
            counts = self._build(contacts=contacts, seed=seed)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Démonstration créée en {elapsed:.1f} s : "
            f"{counts.get('contacts_contact', 0)} contacts, "
            f"{counts.get('contacts_structure', 0)} structures, "
            f"{counts.get('payments_payment', 0)} paiements, "
            f"{counts.get('interactions_interaction', 0)} interactions."
        )
        self._print_login()

    def _build(self, *, contacts: int, seed: int) -> dict[str, int]:
        admin = self._user(DEMO_EMAIL, "Camille Demo")
        organization = create_organization(
            name=DEMO_NAME,
            admin=admin,
            slug=DEMO_SLUG,
            actor=Actor.system("Jeu de démonstration"),
        )
        Organization.objects.filter(pk=organization.pk).update(
            legal_name="Association Les Amis du Quartier",
            street="12 rue des Tilleuls",
            postal_code="69003",
            city="Lyon",
            email="contact@amis-du-quartier.example",
            rna="W691234567",
        )
        reader = self._user(READER_EMAIL, "Louis Lecteur")
        Membership.objects.create(
            organization=organization,
            user=reader,
            profile=Profile.objects.for_org(organization).get(name="Lecteur"),
        )
        writer = OrmWriter(organization_id=organization.pk)
        counts = build_community(
            organization=organization,
            writer=writer,
            sizes=Sizes(contacts=contacts),
            seed=seed,
            recorded_by=admin.pk,
        )
        record_event(
            organization=organization,
            actor=Actor.system("Jeu de démonstration"),
            action=AuditEvent.Action.CREATE,
            target=organization,
            changes={table: [None, rows] for table, rows in counts.items()},
        )
        return counts

    def _user(self, email: str, full_name: str) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=DEMO_PASSWORD, full_name=full_name
            )
        return user

    def _print_login(self) -> None:
        self.stdout.write(f"Connexion : {DEMO_EMAIL} / {DEMO_PASSWORD}")
        self.stdout.write(f"Lecture seule : {READER_EMAIL} / {DEMO_PASSWORD}")
