"""Run forever: enqueue the nightly tasks once a day (after 3 a.m., Europe/Paris) and the
periodic ones (the HelloAsso sync) every N minutes."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from lien.core.scheduler import enqueue_due, enqueue_periodic


class Command(BaseCommand):
    help = "Planificateur : met en file les tâches de nuit une fois par jour."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="vérifier une fois puis quitter")
        parser.add_argument(
            "--now", action="store_true", help="lancer les tâches de nuit maintenant"
        )
        parser.add_argument(
            "--interval", type=int, default=60, help="secondes entre deux vérifications"
        )

    def handle(self, *args, once: bool, now: bool, interval: int, **options):
        while True:
            for name in enqueue_due(force=now):
                self.stdout.write(f"Tâche de nuit mise en file : {name}")
            for name in enqueue_periodic():
                self.stdout.write(f"Tâche périodique mise en file : {name}")
            if once or now:
                return
            time.sleep(interval)
