"""Create an API token for a member from the command line; prints the key once."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from lien.core.audit import Actor
from lien.core.models import Membership, Organization, User
from lien.core.services import create_api_token


class Command(BaseCommand):
    help = (
        "Crée un jeton API pour un membre d'une association. La clé, affichée seule "
        "sur la dernière ligne, n'est plus jamais montrée ensuite."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True, help="Email du membre")
        parser.add_argument(
            "--organization",
            default="",
            help="Identifiant (slug) de l'association ; par défaut, la première du membre",
        )
        parser.add_argument("--name", default="Jeton API", help="Nom du jeton")

    def handle(self, *args, email: str, organization: str, name: str, **options) -> None:
        email = email.strip().lower()
        user = User.objects.filter(email=email).first()
        if user is None:
            raise CommandError(f"Aucun compte n'existe pour {email}.")
        memberships = Membership.objects.filter(user=user, is_active=True).select_related(
            "organization"
        )
        if organization:
            org = Organization.objects.filter(slug=organization).first()
            if org is None:
                raise CommandError(f"Aucune association n'a l'identifiant « {organization} ».")
            if not memberships.filter(organization=org).exists():
                raise CommandError(f"{email} n'est pas membre actif de « {org.slug} ».")
        else:
            membership = memberships.order_by("joined_at", "pk").first()
            if membership is None:
                raise CommandError(f"{email} n'est membre actif d'aucune association.")
            org = membership.organization
        try:
            token, key = create_api_token(
                organization=org,
                actor=Actor.system("Commande api_token"),
                user=user,
                name=name,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"Jeton « {token.name} » créé pour {email} dans « {org.slug} » :")
        self.stdout.write(key)
