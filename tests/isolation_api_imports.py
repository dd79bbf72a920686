"""Isolation cases of the imports API (see tests/isolation.py).

Each detail URL gets a fresh import of the world's organisation, in the state the
endpoint needs: uploaded (configure, check, preview), checked (run), done (undo).
Uploads are sent as JSON (`filename` + `content_base64`), as the suite sends JSON.
"""

from __future__ import annotations

import base64

from django.core.files.base import ContentFile

from lien.core.audit import Actor
from lien.imports import services
from lien.imports.models import MappingTemplate
from tests.isolation import Case, World, Write

IMPORTS = ("view", "imports")
CSV = "Prénom;Nom;Email\nLéa;Isolation;lea.isolation@example.org\n"


def _import(w: World, state: str = "uploaded"):
    actor = Actor.for_user(w.admin.user)
    imp = services.create_import(
        organization=w.organization, actor=actor, target="contacts",
        file=ContentFile(CSV.encode(), name="isolation.csv"),
    )  # fmt: skip
    if state in ("checked", "done"):
        services.check_import(imp=imp)
        imp.refresh_from_db()
    if state == "done":
        services.run_import(imp=imp)
    return imp


def uploaded(w: World) -> dict:
    return {"pk": _import(w).pk}


def checked(w: World) -> dict:
    return {"pk": _import(w, "checked").pk}


def done(w: World) -> dict:
    return {"pk": _import(w, "done").pk}


def template(w: World) -> dict:
    found = MappingTemplate.objects.for_org(w.organization).filter(name="Isolation").first()
    found = found or services.save_template(
        organization=w.organization, actor=Actor.system(), name="Isolation", target="contacts",
        headers=["Prénom", "Nom"], mapping={"0": "first_name", "1": "last_name"},
    )  # fmt: skip
    return {"pk": found.pk}


def upload(w: World) -> dict:
    return {
        "target": "contacts",
        "filename": "api.csv",
        "content_base64": base64.b64encode(CSV.encode()).decode(),
    }


CASES: dict[str, Case] = {
    "api-imports-list": Case(
        api=True, view_right=IMPORTS, writes=[Write("post", ("add", "imports"), upload)]
    ),
    "api-imports-detail": Case(
        api=True,
        kwargs=uploaded,
        view_right=IMPORTS,
        scoped=True,
        writes=[
            Write("patch", ("change", "imports"), lambda w: {"options": {"skip_errors": True}})
        ],
    ),
    "api-imports-preview": Case(api=True, kwargs=uploaded, view_right=IMPORTS, scoped=True),
    "api-imports-errors": Case(api=True, kwargs=checked, view_right=IMPORTS, scoped=True),
    "api-imports-rejected": Case(api=True, kwargs=checked, view_right=IMPORTS, scoped=True),
    "api-imports-check": Case(
        api=True,
        kwargs=uploaded,
        get=False,
        scoped=True,
        writes=[Write("post", ("add", "imports"))],
    ),  # fmt: skip
    "api-imports-run": Case(
        api=True,
        kwargs=checked,
        get=False,
        scoped=True,
        writes=[Write("post", ("add", "imports"))],
    ),  # fmt: skip
    "api-imports-undo": Case(
        api=True,
        kwargs=done,
        get=False,
        scoped=True,
        writes=[Write("post", ("delete", "imports"))],
    ),  # fmt: skip
    "api-import-templates-list": Case(
        api=True,
        view_right=IMPORTS,
        writes=[
            Write(
                "post",
                ("add", "imports"),
                lambda w: {
                    "name": "Nouveau",
                    "target": "contacts",
                    "headers": ["Email"],
                    "mapping": {"0": "email"},
                },
            )  # fmt: skip
        ],
    ),
    "api-import-templates-detail": Case(
        api=True,
        kwargs=template,
        view_right=IMPORTS,
        scoped=True,
        writes=[
            Write("patch", ("change", "imports"), lambda w: {"name": "Renommé"}),
            Write("delete", ("delete", "imports")),
        ],
    ),
}
