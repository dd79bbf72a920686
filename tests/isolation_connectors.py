"""Isolation cases of the HelloAsso connector's pages (see tests/isolation.py).

The connector is one per organisation: its pages take no id, except a sync run of the
log (another organisation's run is a 404). The world gets a connection with the fake
HelloAsso's credentials and one chosen form whose title carries the world's marker, so
an outsider's page would show it if it leaked.

The pages that call HelloAsso (« Tester la connexion », « Actualiser la liste ») are
pointed at one fake HelloAsso (tests/helloasso_fake.py) started for the test process,
for the one request that follows and no longer: never at the real HelloAsso.

The notification URL (`helloasso_webhook`) is public (HelloAsso calls it without a
login): tests/test_helloasso_pages.py checks that one organisation's URL never writes
into another's.
"""

from __future__ import annotations

from django.core.signals import request_finished
from django.test.utils import override_settings

from lien.connectors.helloasso import services
from lien.connectors.models import HelloAssoConnection, HelloAssoForm, HelloAssoSyncRun
from lien.core.audit import Actor
from tests.helloasso_fake import CLIENT_ID, CLIENT_SECRET, ORG_SLUG, FakeHelloAsso
from tests.isolation import Case, World, Write

VIEW = ("view", "connectors")
CHANGE = ("change", "connectors")
FORM_SLUG = "dons-isolation"

_fake: FakeHelloAsso | None = None


def fake_helloasso() -> FakeHelloAsso:
    """One fake HelloAsso for the whole test process, with the world's form."""
    global _fake
    if _fake is None:
        _fake = FakeHelloAsso().start()
        _fake.add_form("Donation", FORM_SLUG, "Dons de l'isolation")
    return _fake


def reach_fake_for_next_request() -> None:
    """Point the connector at the fake HelloAsso until the next request ends."""
    server = fake_helloasso()
    override = override_settings(HELLOASSO_API_URL=server.url, HELLOASSO_TOKEN_URL=server.token_url)
    override.enable()

    def restore(**kwargs) -> None:
        request_finished.disconnect(restore)
        override.disable()

    request_finished.connect(restore, weak=False)


def connection(w: World) -> HelloAssoConnection:
    found = services.get_connection(w.organization)
    if found is None or not found.is_configured:
        found = services.save_credentials(
            organization=w.organization,
            actor=Actor.for_user(w.admin.user),
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            organization_slug=ORG_SLUG,
        )
    return found


def chosen_form(w: World) -> HelloAssoForm:
    """The world's HelloAsso form, chosen, its title carrying the world's marker."""
    found = HelloAssoForm.objects.for_org(w.organization).filter(form_slug=FORM_SLUG).first()
    return found or HelloAssoForm.objects.create(
        organization=w.organization,
        connection=connection(w),
        form_type="Donation",
        form_slug=FORM_SLUG,
        title=f"Dons de {w.marker}",
        state="Public",
        selected=True,
    )


def set_up(w: World) -> dict:
    """A connection and a chosen form; the URL takes no id."""
    chosen_form(w)
    return {}


def set_up_and_reachable(w: World) -> dict:
    set_up(w)
    reach_fake_for_next_request()
    return {}


def form_pk(w: World) -> dict:
    return {"pk": chosen_form(w).pk}


def run_pk(w: World) -> dict:
    run = HelloAssoSyncRun.objects.create(
        organization=w.organization,
        trigger=HelloAssoSyncRun.Trigger.MANUAL,
        status=HelloAssoSyncRun.Status.SUCCEEDED,
        contacts_created=2,
        payments_created=3,
        errors=[{"helloasso_id": "4242", "message": f"Article illisible pour {w.marker}"}],
        message=f"Synchronisation de {w.marker}",
    )
    return {"pk": run.pk}


def _chosen(w: World) -> dict:
    return {f"form_{chosen_form(w).pk}": "on"}


CASES: dict[str, Case] = {
    "helloasso": Case(kwargs=set_up, view_right=VIEW),
    "helloasso_sync": Case(kwargs=set_up, get=False, writes=[Write("post", CHANGE)]),
    "helloasso_run": Case(kwargs=run_pk, view_right=VIEW, scoped=True),
    "helloasso_connection": Case(
        kwargs=set_up,
        view_right=VIEW,
        writes=[
            Write(
                "post",
                CHANGE,
                lambda w: {
                    "client_id": CLIENT_ID,
                    "client_secret": "",
                    "organization_slug": ORG_SLUG,
                },
            )  # fmt: skip
        ],
    ),
    "helloasso_test": Case(kwargs=set_up_and_reachable, get=False, writes=[Write("post", CHANGE)]),
    "helloasso_correspondences": Case(kwargs=set_up, view_right=VIEW),
    "helloasso_start_date": Case(
        kwargs=set_up,
        view_right=VIEW,
        writes=[Write("post", CHANGE, lambda w: {"start_date": "2026-01-01"})],
    ),
    "helloasso_forms": Case(
        kwargs=set_up, view_right=VIEW, writes=[Write("post", CHANGE, _chosen)]
    ),
    "helloasso_forms_refresh": Case(
        kwargs=set_up_and_reachable, get=False, writes=[Write("post", CHANGE)]
    ),
    "helloasso_questions": Case(
        kwargs=set_up,
        view_right=VIEW,
        writes=[
            Write(
                "post",
                CHANGE,
                lambda w: {"question_0": "Ville de l'adhérent", "target_0": "city"},
            )
        ],
    ),
}
