"""Isolation cases of the import wizard's pages (see tests/isolation.py).

Each page of one import gets a fresh import of the world's organisation in the state it
needs (the helpers of the imports API's cases): uploaded (reading, mapping, check),
checked (result of the check, run, rejected rows), done (undo).
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.isolation import Case, World, Write
from tests.isolation_api_imports import CSV, checked, done, template, uploaded

IMPORTS = ("view", "imports")


def _upload(w: World) -> dict:
    return {
        "target": "contacts",
        "file": SimpleUploadedFile("pages.csv", CSV.encode(), content_type="text/csv"),
    }


def _mapping(w: World) -> dict:
    return {
        "col_0": "first_name", "col_1": "last_name", "col_2": "email",
        "update_policy": "fill", "action": "enregistrer",
    }  # fmt: skip


CASES: dict[str, Case] = {
    "import_list": Case(view_right=IMPORTS),
    "import_new": Case(
        view_right=("add", "imports"), writes=[Write("post", ("add", "imports"), _upload)]
    ),
    "import_template_delete": Case(
        kwargs=template, get=False, scoped=True, writes=[Write("post", ("delete", "imports"))]
    ),
    "import_detail": Case(kwargs=checked, view_right=IMPORTS, scoped=True),
    "import_file": Case(
        kwargs=uploaded,
        view_right=IMPORTS,
        scoped=True,
        writes=[
            Write(
                "post",
                ("change", "imports"),
                lambda w: {"encoding": "utf-8", "delimiter": ";", "header_row": "1"},
            )
        ],
    ),
    "import_template_apply": Case(
        kwargs=uploaded,
        get=False,
        scoped=True,
        writes=[Write("post", ("change", "imports"), lambda w: {"template": template(w)["pk"]})],
    ),
    "import_mapping": Case(
        kwargs=uploaded,
        view_right=IMPORTS,
        scoped=True,
        writes=[Write("post", ("change", "imports"), _mapping)],
    ),
    "import_check": Case(
        kwargs=uploaded, get=False, scoped=True, writes=[Write("post", ("add", "imports"))]
    ),
    "import_run": Case(
        kwargs=checked, get=False, scoped=True, writes=[Write("post", ("add", "imports"))]
    ),
    "import_rejected": Case(kwargs=checked, view_right=IMPORTS, scoped=True),
    "import_undo": Case(
        kwargs=done,
        view_right=("delete", "imports"),
        scoped=True,
        writes=[Write("post", ("delete", "imports"))],
    ),
}
