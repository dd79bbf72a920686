"""Project-wide checks: migrations in step, deploy checks clean in production mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_migrations_match_the_models():
    result = run_manage("makemigrations", "--check", "--dry-run")

    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_checks_are_clean_with_production_variables(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "LIEN_PRODUCTION": "1",
            "LIEN_SECRET_KEY": "x" * 20 + "une-cle-de-production-longue-et-aleatoire-0123456789",
            "LIEN_ALLOWED_HOSTS": "crm.example.org",
            "LIEN_STATIC_ROOT": str(tmp_path),
        },
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", env={"LIEN_PRODUCTION": "1", "LIEN_SECRET_KEY": ""})

    assert result.returncode != 0
    assert "LIEN_SECRET_KEY" in result.stderr
