"""The OpenAPI schema generates without a single warning (clients are generated from it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_openapi_schema_has_no_warning(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "spectacular", "--fail-on-warn",
         "--file", str(tmp_path / "schema.yml")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
