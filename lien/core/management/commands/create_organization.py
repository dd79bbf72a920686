"""Create an association and its administrator from the command line (operators, first run)."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from lien.core.audit import Actor
from lien.core.models import User
from lien.core.services import create_organization


def _messages(error: ValidationError) -> str:
    return " ".join(error.messages)


class Command(BaseCommand):
    help = (
        "Crée une association et son administrateur (créé s'il n'existe pas ; "
        "un compte existant garde son mot de passe). Affiche l'identifiant de "
        "l'association sur la dernière ligne."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="Nom de l'association")
        parser.add_argument("--admin-email", required=True, help="Email de l'administrateur")
        parser.add_argument(
            "--admin-password",
            default="",
            help="Mot de passe de l'administrateur (obligatoire si le compte n'existe pas)",
        )
        parser.add_argument("--admin-name", default="", help="Nom complet de l'administrateur")

    def handle(
        self, *args, name: str, admin_email: str, admin_password: str, admin_name: str, **options
    ) -> None:
        email = admin_email.strip().lower()
        if not email or "@" not in email:
            raise CommandError(f"Adresse email invalide : « {admin_email} ».")
        if not name.strip():
            raise CommandError("Le nom de l'association est obligatoire.")
        try:
            with transaction.atomic():
                user = User.objects.filter(email=email).first()
                if user is None:
                    if not admin_password:
                        raise CommandError(
                            f"Aucun compte n'existe pour {email} : "
                            "indiquez son mot de passe avec --admin-password."
                        )
                    validate_password(admin_password, User(email=email))
                    user = User.objects.create_user(
                        email=email,
                        password=admin_password,
                        full_name=admin_name.strip() or email.split("@")[0],
                    )
                    self.stdout.write(f"Compte créé : {email}")
                else:
                    self.stdout.write(f"Compte existant utilisé : {email} (mot de passe inchangé)")
                organization = create_organization(
                    name=name, admin=user, actor=Actor.system("Commande create_organization")
                )
        except ValidationError as error:
            raise CommandError(_messages(error)) from error
        self.stdout.write(f"Association créée : {organization.name}")
        self.stdout.write(organization.slug)
