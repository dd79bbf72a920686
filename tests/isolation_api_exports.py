"""Isolation cases of the exports API (see tests/isolation.py): reading needs `view` on
exports, starting one `add`; another organisation's export is a 404."""

from __future__ import annotations

from tests.isolation import Case, Write
from tests.isolation_exports import finished_export

EXPORTS = ("view", "exports")

CASES: dict[str, Case] = {
    "api-exports-list": Case(
        api=True,
        view_right=EXPORTS,
        writes=[
            Write(
                "post",
                ("add", "exports"),
                lambda w: {"kind": "contacts", "columns": ["id", "last_name"]},
            )
        ],
    ),
    "api-exports-detail": Case(api=True, kwargs=finished_export, view_right=EXPORTS, scoped=True),
    "api-exports-download": Case(api=True, kwargs=finished_export, view_right=EXPORTS, scoped=True),
    "api-exports-columns": Case(api=True, view_right=EXPORTS),
}
