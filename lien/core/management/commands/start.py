"""Quick start: migrate, load the demo, serve Lien with its background worker.

Ctrl-C stops both. Safe to run again: migrations and the demo are idempotent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Prépare la base, charge l'association de démonstration et lance Lien avec son worker."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="adresse:port du serveur")
        parser.add_argument("--no-demo", action="store_true", help="ne pas charger la démo")

    def handle(self, *args, addr: str, no_demo: bool, **options):
        # Ctrl-C and a service manager's SIGTERM both stop the server and the worker,
        # even when a parent shell started us with SIGINT ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _interrupt)
        self.stdout.write("Migration de la base…")
        call_command("migrate", interactive=False, verbosity=0)
        if not no_demo:
            call_command("demo")
        manage = Path(settings.BASE_DIR) / "manage.py"
        # Their own sessions: Ctrl-C reaches this command only, which then stops
        # them cleanly (SIGTERM) instead of interrupting them mid-import.
        worker, scheduler = (
            subprocess.Popen(
                [sys.executable, str(manage), *command],
                env=os.environ.copy(),
                start_new_session=True,
            )
            for command in (["db_worker", "--no-startup-delay"], ["scheduler"])
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"\nLien est prêt sur http://{addr}/ "
                f"(worker de tâches lancé, pid {worker.pid} ; planificateur lancé).\n"
                "Connexion de démonstration : demo@lien.local / demo-lien-2026\n"
                "Ctrl-C arrête le serveur et le worker.\n"
            )
        )
        try:
            call_command("runserver", addr, use_reloader=False, use_threading=True)
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            for process in (worker, scheduler):
                process.terminate()
            for process in (worker, scheduler):
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
            self.stdout.write("Lien est arrêté.")
