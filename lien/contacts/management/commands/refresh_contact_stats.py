"""Recompute the per-contact search aggregates (after rows were loaded around the services)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from lien.contacts.stats import refresh_contact_stats
from lien.core.models import Organization


class Command(BaseCommand):
    help = (
        "Recalcule les résumés par contact utilisés par la recherche avancée (interactions, "
        "paiements, adhésions). Sans --organization : toutes les associations."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--organization", default="", help="Identifiant (slug)")

    def handle(self, *args, organization: str, **options) -> None:
        organizations = Organization.objects.order_by("pk")
        if organization:
            organizations = organizations.filter(slug=organization)
            if not organizations.exists():
                raise CommandError(f"Aucune association n'a l'identifiant « {organization} ».")
        for org in organizations:
            started = time.perf_counter()
            with transaction.atomic():
                refresh_contact_stats(org)
            self.stdout.write(
                f"{org.slug} : résumés recalculés en {time.perf_counter() - started:.1f} s"
            )
