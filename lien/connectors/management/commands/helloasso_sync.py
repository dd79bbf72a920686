"""Run a HelloAsso sync of one organisation now, for operators."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from lien.connectors.helloasso.services import run_sync
from lien.connectors.models import HelloAssoSyncRun
from lien.core.models import Organization


class Command(BaseCommand):
    help = "Synchronise maintenant les campagnes HelloAsso choisies d'une organisation."

    def add_arguments(self, parser):
        parser.add_argument(
            "--organization", required=True, help="identifiant (slug) de l'organisation dans Lien"
        )

    def handle(self, *args, organization: str, **options):
        found = Organization.objects.filter(slug=organization).first()
        if found is None:
            raise CommandError(f"Aucune organisation « {organization} » dans Lien.")
        try:
            run = run_sync(organization=found, trigger=HelloAssoSyncRun.Trigger.COMMAND)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        for problem in run.errors:
            self.stderr.write(f"HelloAsso n°{problem['helloasso_id']} : {problem['message']}")
        if run.status != HelloAssoSyncRun.Status.SUCCEEDED:
            raise CommandError(run.message)
        self.stdout.write(self.style.SUCCESS(run.message))
