"""The HelloAsso sync against the fake HelloAsso server: contacts, payments, statuses,
labels, resumption, webhooks — the scenarios of the connector's issue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from lien.connectors import crypto
from lien.connectors.helloasso import services
from lien.connectors.helloasso.sync import person_key
from lien.connectors.models import HelloAssoConnection, HelloAssoForm, HelloAssoSyncRun
from lien.contacts.models import Contact, ContactLabel, CustomField, ExternalId
from lien.core.audit import Actor
from lien.core.models import AuditEvent
from lien.interactions.models import Interaction
from lien.payments.models import Campaign, MembershipPeriod, Payment
from tests.helloasso_fake import CLIENT_ID, CLIENT_SECRET, ORG_SLUG, fake_helloasso  # noqa: F401

pytestmark = pytest.mark.django_db

ADMIN = Actor.system("Test")
MARIE = {
    "firstName": "Marie", "lastName": "Curie", "email": "marie@example.org",
    "address": "12 rue des Lilas", "city": "Lyon", "zipCode": "69003", "country": "FRA",
}  # fmt: skip
PAUL = {"firstName": "Paul", "lastName": "Martin", "email": "paul.martin@example.org"}
MARCH = dt.datetime(2026, 3, 10, 14, 30, tzinfo=dt.UTC)


def connect(org, fake, forms: dict[tuple[str, str], str | None], *, start=dt.date(2026, 1, 1)):
    """Credentials, start date and the chosen forms, through the services."""
    services.save_credentials(
        organization=org, actor=ADMIN, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        organization_slug=ORG_SLUG,
    )  # fmt: skip
    services.set_start_date(organization=org, actor=ADMIN, start_date=start)
    listed = {(f.form_type, f.form_slug): f.pk for f in services.refresh_forms(organization=org)}
    services.choose_forms(
        organization=org, actor=ADMIN, selected={listed[key]: kind for key, kind in forms.items()}
    )


def sync(org) -> HelloAssoSyncRun:
    return services.run_sync(organization=org, trigger="manuel")


def counts(run: HelloAssoSyncRun) -> tuple[int, int, int, int]:
    return (run.contacts_created, run.contacts_updated, run.payments_created, run.payments_updated)


def table_counts(org) -> dict[str, int]:
    return {
        "contacts": Contact.objects.for_org(org).count(),
        "payments": Payment.objects.for_org(org).count(),
        "periods": MembershipPeriod.objects.for_org(org).count(),
        "interactions": Interaction.objects.for_org(org).count(),
        "external_ids": ExternalId.objects.for_org(org).count(),
        "campaigns": Campaign.objects.for_org(org).count(),
        "events": AuditEvent.objects.for_org(org).count(),
    }


def labels_of(contact: Contact) -> set[str]:
    return set(ContactLabel.objects.filter(contact=contact).values_list("label__name", flat=True))


@pytest.fixture
def donations(org, fake_helloasso):  # noqa: F811
    fake = fake_helloasso
    fake.add_form("Donation", "dons-2026", "Dons 2026")
    fake.add_form("Event", "gala", "Gala de printemps")  # listed, not chosen
    connect(org, fake, {("Donation", "dons-2026"): None})
    return fake


def test_first_sync_brings_payers_and_donations_filed_by_campaign(org, donations):
    fake = donations
    first = fake.add_order(
        "Donation", "dons-2026", payer=MARIE,
        items=[{"name": "Don", "type": "Donation", "amount": 5000}], date=MARCH,
    )  # fmt: skip
    fake.add_order(
        "Donation", "dons-2026", payer=PAUL,
        items=[{"name": "Don", "type": "Donation", "amount": 2550}],
        date=MARCH + dt.timedelta(days=1), means="Sepa",
    )  # fmt: skip
    fake.add_order(  # before the start date: not brought in
        "Donation", "dons-2026", payer=PAUL,
        items=[{"name": "Don", "type": "Donation", "amount": 900}],
        date=dt.datetime(2025, 12, 20, tzinfo=dt.UTC),
    )  # fmt: skip

    run = sync(org)

    assert run.status == "réussi", run.message
    assert counts(run) == (2, 0, 2, 0)
    assert run.items_seen == 2 and run.errors == []
    marie = Contact.objects.for_org(org).get(email="marie@example.org")
    assert (marie.first_name, marie.last_name, marie.city, marie.postal_code, marie.country) == (
        "Marie", "Curie", "Lyon", "69003", "FR",
    )  # fmt: skip
    payment = Payment.objects.for_org(org).get(payer_contact=marie)
    item, share = first["items"][0], first["payments"][0]
    assert (payment.kind, payment.amount_cents, payment.status, payment.method) == (
        "don", 5000, "paye", "carte",
    )  # fmt: skip
    assert payment.paid_on == dt.date(2026, 3, 10)
    assert (payment.source, payment.external_id) == ("helloasso", f"{item['id']}-{share['id']}")
    assert payment.external_receipt_url == share["fiscalReceiptUrl"]
    assert payment.campaign.name == "Dons 2026" and payment.campaign.kind == "don"
    paul_payment = Payment.objects.for_org(org).get(payer_contact__email="paul.martin@example.org")
    assert (paul_payment.amount_cents, paul_payment.method) == (2550, "prelevement")
    assert "Donateur / Donatrice" in labels_of(marie)
    assert marie.__class__.objects.get(pk=marie.pk).stat_paid_cents == 5000
    assert ExternalId.objects.for_org(org).filter(
        source="helloasso", object_id=marie.pk,
        external_id=person_key("marie@example.org", "Marie", "Curie"),
    ).exists()  # fmt: skip
    assert Interaction.objects.for_org(org).filter(contact=marie, source="payment").count() == 1
    connection = services.get_connection(org)
    assert connection.last_success_at is not None and connection.last_error == ""
    assert HelloAssoForm.objects.for_org(org).get(form_slug="gala").campaign is None


def test_a_resync_creates_and_changes_nothing(org, donations):
    fake = donations
    for n in range(3):
        fake.add_order(
            "Donation", "dons-2026", payer={**PAUL, "email": f"p{n}@example.org"},
            items=[{"name": "Don", "type": "Donation", "amount": 1000 + n}],
            date=MARCH + dt.timedelta(hours=n),
        )  # fmt: skip
    sync(org)
    before = table_counts(org)

    again = sync(org)

    assert again.status == "réussi"
    assert counts(again) == (0, 0, 0, 0)
    assert table_counts(org) == before
    # The second run asked only what changed: orders since the last run, items by update.
    assert fake.api_requests("/items")[-1][2]["sortField"] == "UpdateDate"


def test_payer_already_in_lien_is_found_by_email_and_completed_not_overwritten(org, donations):
    fake = donations
    known = Contact.objects.create(
        organization=org, first_name="Marie", last_name="", email="Marie@Example.org",
        email_normalized="marie@example.org", first_name_normalized="marie", city="Paris",
    )  # fmt: skip
    fake.add_order(
        "Donation", "dons-2026", payer=MARIE,
        items=[{"name": "Don", "type": "Donation", "amount": 5000}], date=MARCH,
    )  # fmt: skip

    run = sync(org)

    assert counts(run) == (0, 1, 1, 0)
    known.refresh_from_db()
    assert (known.city, known.street, known.postal_code) == ("Paris", "12 rue des Lilas", "69003")
    assert Payment.objects.for_org(org).get().payer_contact == known


def test_a_refund_updates_the_status_and_the_labels(org, donations):
    fake = donations
    order = fake.add_order(
        "Donation", "dons-2026", payer=MARIE,
        items=[{"name": "Don", "type": "Donation", "amount": 5000}], date=MARCH,
    )  # fmt: skip
    sync(org)
    marie = Contact.objects.for_org(org).get(email="marie@example.org")
    assert "Donateur / Donatrice" in labels_of(marie)

    fake.now = dt.datetime.now(dt.UTC)
    fake.refund(order["payments"][0]["id"])
    run = sync(org)

    assert counts(run) == (0, 0, 0, 1)
    payment = Payment.objects.for_org(org).get()
    assert payment.status == "rembourse"
    assert "Donateur / Donatrice" not in labels_of(marie)
    assert Contact.objects.get(pk=marie.pk).stat_paid_cents == 0
    assert (
        AuditEvent.objects.for_org(org)
        .filter(target_id=payment.pk, action="update", changes__status=["paye", "rembourse"])
        .exists()
    )


def test_a_contested_payment_is_refused_with_a_note(org, donations):
    fake = donations
    order = fake.add_order(
        "Donation", "dons-2026", payer=MARIE,
        items=[{"name": "Don", "type": "Donation", "amount": 5000}], date=MARCH,
    )  # fmt: skip
    sync(org)
    fake.now = dt.datetime.now(dt.UTC)
    fake.set_payment_state(order["payments"][0]["id"], "Contested")

    sync(org)

    payment = Payment.objects.for_org(org).get()
    assert payment.status == "refuse"
    assert "contesté" in payment.notes


def test_token_expiry_mid_sync_is_renewed(org, donations):
    fake = donations
    for n in range(150):  # two pages
        fake.add_order(
            "Donation", "dons-2026", payer={**PAUL, "email": f"p{n}@example.org"},
            items=[{"name": "Don", "type": "Donation", "amount": 1000}],
            date=MARCH + dt.timedelta(minutes=n),
        )  # fmt: skip
    original = fake.listing

    def expire_after_first_page(kind, form, query):
        if query.get("continuationToken"):
            fake.expire_tokens()  # the token given for page 1 dies before page 2
        return original(kind, form, query)

    fake.listing = expire_after_first_page
    tokens_before = len(fake.api_requests("/oauth2/token"))

    run = sync(org)

    assert run.status == "réussi", run.message
    assert run.payments_created == 150
    assert len(fake.api_requests("/oauth2/token")) > tokens_before


def test_a_429_then_success(org, donations, monkeypatch):
    fake = donations
    fake.add_order(
        "Donation", "dons-2026", payer=MARIE,
        items=[{"name": "Don", "type": "Donation", "amount": 5000}], date=MARCH,
    )  # fmt: skip
    waits = []
    monkeypatch.setattr("lien.connectors.helloasso.client.time.sleep", waits.append)
    fake.fail_next(429, path="/orders", retry_after="2")

    run = sync(org)

    assert run.status == "réussi" and run.payments_created == 1
    assert waits == [2.0]


def test_a_500_mid_sync_fails_cleanly_then_the_next_run_resumes(org, donations, monkeypatch):
    fake = donations
    for n in range(250):  # three pages of orders
        fake.add_order(
            "Donation", "dons-2026", payer={**PAUL, "email": f"p{n}@example.org"},
            items=[{"name": "Don", "type": "Donation", "amount": 1000 + n}],
            date=MARCH + dt.timedelta(minutes=n),
        )  # fmt: skip
    monkeypatch.setattr("lien.connectors.helloasso.client.time.sleep", lambda s: None)
    monkeypatch.setattr("lien.connectors.helloasso.sync.WRITE_BATCH", 100)  # a page a batch
    original = fake.listing
    calls = {"n": 0}

    def fail_on_third_page(kind, form, query):
        calls["n"] += 1
        if calls["n"] == 2:  # page 2 is served, page 3 is refused
            fake.fail_next(500, times=10, path="/orders")
        return original(kind, form, query)

    fake.listing = fail_on_third_page

    failed = sync(org)

    assert failed.status == "échec"
    assert "500" in failed.message and "reprendra" in failed.message
    assert failed.payments_created == 200  # two whole pages, never half of one
    assert Payment.objects.for_org(org).count() == 200
    assert services.get_connection(org).last_error == failed.message
    assert HelloAssoForm.objects.for_org(org).get(form_slug="dons-2026").synced_until is None

    fake.listing = original
    fake.state.failures.clear()
    resumed = sync(org)

    assert resumed.status == "réussi"
    assert (resumed.payments_created, resumed.payments_updated) == (50, 0)
    assert Payment.objects.for_org(org).count() == 250
    assert services.get_connection(org).last_error == ""


def test_membership_paid_for_someone_else(org, fake_helloasso):  # noqa: F811
    fake = fake_helloasso
    season = (dt.date.today() - dt.timedelta(days=100), dt.date.today() + dt.timedelta(days=265))
    fake.add_form(
        "Membership", "adhesion-2026", "Adhésion 2026", validity_type="Custom",
        start=season[0], end=season[1],
    )  # fmt: skip
    CustomField.objects.create(
        organization=org, key="taille", name="Taille de t-shirt", target="contact",
        field_type="text",
    )  # fmt: skip
    connect(org, fake, {("Membership", "adhesion-2026"): None})
    services.set_field_mappings(
        organization=org, actor=ADMIN,
        mappings={"Email de l'adhérent": "email", "Taille de t-shirt": "custom:taille"},
    )  # fmt: skip
    fake.add_order(
        "Membership", "adhesion-2026", payer=MARIE, date=MARCH,
        items=[
            {"name": "Adhésion enfant", "type": "Membership", "amount": 1500,
             "user": {"firstName": "Léo", "lastName": "Curie"},
             "customFields": {"Email de l'adhérent": "leo@example.org",
                              "Taille de t-shirt": "M"}},
            {"name": "Adhésion adulte", "type": "Membership", "amount": 3000},
        ],
    )  # fmt: skip

    run = sync(org)

    assert counts(run) == (2, 0, 2, 0), run.errors
    leo = Contact.objects.for_org(org).get(first_name="Léo")
    marie = Contact.objects.for_org(org).get(first_name="Marie")
    assert (leo.email, leo.custom) == ("leo@example.org", {"taille": "M"})
    child = Payment.objects.for_org(org).get(beneficiary=leo)
    assert (child.kind, child.payer_contact, child.amount_cents) == ("adhesion", marie, 1500)
    period = MembershipPeriod.objects.for_org(org).get(payment=child)
    assert (period.contact, period.start_date, period.end_date) == (leo, *season)
    own = Payment.objects.for_org(org).get(beneficiary=marie)
    assert own.payer_contact == marie
    # Interactions on the payer and the different beneficiary, as the payment service does.
    assert set(
        Interaction.objects.for_org(org)
        .filter(source_id=child.pk)
        .values_list("contact_id", flat=True)
    ) == {marie.pk, leo.pk}
    assert "Adhérent(e)" in labels_of(leo) and "Adhérent(e)" in labels_of(marie)


def test_monthly_donations_are_recurring_one_payment_per_debit(org, donations):
    fake = donations
    order = fake.add_order(
        "Donation", "dons-2026", payer=MARIE,
        items=[{"name": "Don mensuel", "type": "MonthlyDonation", "amount": 1000}], date=MARCH,
    )  # fmt: skip
    sync(org)
    fake.now = dt.datetime.now(dt.UTC)
    fake.add_payment(order["id"], date=MARCH + dt.timedelta(days=31))

    run = sync(org)

    assert counts(run) == (0, 0, 1, 0)
    payments = Payment.objects.for_org(org).order_by("paid_on")
    assert [(p.amount_cents, p.is_recurring, p.frequency) for p in payments] == [
        (1000, True, "mensuel"), (1000, True, "mensuel"),
    ]  # fmt: skip


def test_checkout_goes_to_the_chosen_table(org, fake_helloasso):  # noqa: F811
    fake = fake_helloasso
    fake.add_form("Checkout", "federation-licences", "Licences fédération")
    with pytest.raises(ValidationError, match="table des paiements"):
        connect(org, fake, {("Checkout", "federation-licences"): None})
    form = HelloAssoForm.objects.for_org(org).get(form_slug="federation-licences")
    services.choose_forms(organization=org, actor=ADMIN, selected={form.pk: "adhesion"})
    fake.add_order(
        "Checkout", "federation-licences", payer=PAUL, date=MARCH,
        items=[{"name": "Licence", "type": "Payment", "amount": 4200}],
    )  # fmt: skip

    sync(org)

    payment = Payment.objects.for_org(org).get()
    assert (payment.kind, payment.campaign.name) == ("adhesion", "Licences fédération")
    assert MembershipPeriod.objects.for_org(org).filter(payment=payment).exists()


def test_webhook_refetches_the_order_and_a_replay_changes_nothing(org, donations):
    fake = donations
    order = fake.add_order(
        "Donation", "dons-2026", payer=MARIE,
        items=[{"name": "Don", "type": "Donation", "amount": 5000}], date=MARCH,
    )  # fmt: skip
    token = services.get_connection(org).webhook_token
    # What is in the notification is not trusted: the order is fetched again by id.
    lying = {"eventType": "Order", "data": {**order, "amount": {"total": 999999}, "items": []}}

    services.handle_notification(webhook_token=token, payload=lying)

    payment = Payment.objects.for_org(org).get()
    assert payment.amount_cents == 5000
    assert fake.api_requests(f"/v5/orders/{order['id']}")
    runs = services.sync_runs(org)
    assert [(r.trigger, r.payments_created) for r in runs] == [("webhook", 1)]
    before = table_counts(org)

    services.handle_notification(webhook_token=token, payload=lying)
    fake.refund(order["payments"][0]["id"])
    payment_event = {"eventType": "Payment", "data": {"id": order["payments"][0]["id"],
                                                      "state": "Authorized"}}  # fmt: skip
    services.handle_notification(webhook_token=token, payload=payment_event)
    services.handle_notification(webhook_token=token, payload=payment_event)

    assert table_counts(org)["payments"] == before["payments"]
    assert Payment.objects.for_org(org).get().status == "rembourse"
    runs = [(r.trigger, r.payments_created, r.payments_updated) for r in services.sync_runs(org)]
    assert runs == [("webhook", 0, 1), ("webhook", 1, 0)]


def test_webhook_of_an_unknown_token_is_refused(org, donations):
    with pytest.raises(services.UnknownWebhook):
        services.handle_notification(webhook_token="nope", payload={"eventType": "Order"})
    with pytest.raises(services.UnknownWebhook):
        services.handle_notification(webhook_token="", payload={})


def test_webhook_form_event_refreshes_the_form(org, donations):
    fake = donations
    fake.add_form("Donation", "dons-2026", "Dons 2026 (prolongée)", state="Public")
    token = services.get_connection(org).webhook_token

    services.handle_notification(
        webhook_token=token,
        payload={"eventType": "Form", "data": {"formType": "Donation", "formSlug": "dons-2026"}},
    )

    form = HelloAssoForm.objects.for_org(org).get(form_slug="dons-2026")
    assert (form.title, form.selected) == ("Dons 2026 (prolongée)", True)


def test_wrong_credentials(org, fake_helloasso):  # noqa: F811
    fake = fake_helloasso
    services.save_credentials(
        organization=org, actor=ADMIN, client_id=CLIENT_ID, client_secret="faux",
        organization_slug=ORG_SLUG,
    )  # fmt: skip

    check = services.test_connection(organization=org)

    assert not check.ok and "identifiant client ou le secret" in check.message
    with pytest.raises(ValidationError, match="identifiant client ou le secret"):
        services.refresh_forms(organization=org)
    assert fake.api_requests("/v5/") == []


def test_unknown_slug_and_network_errors_are_told_apart(org, fake_helloasso, settings):  # noqa: F811
    services.save_credentials(
        organization=org, actor=ADMIN, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        organization_slug="pas-mon-asso",
    )  # fmt: skip
    check = services.test_connection(organization=org)
    assert not check.ok and "ne connaît pas l'association « pas-mon-asso »" in check.message

    services.save_credentials(
        organization=org, actor=ADMIN, client_id=CLIENT_ID, client_secret="",
        organization_slug=ORG_SLUG,
    )  # fmt: skip
    assert services.test_connection(organization=org) == services.ConnectionCheck(
        True, "Connexion réussie : HelloAsso connaît l'association « Les Amis du Lien »."
    )
    settings.HELLOASSO_TOKEN_URL = "http://127.0.0.1:9/oauth2/token"  # nothing listens
    from lien.connectors.helloasso.client import forget_tokens

    forget_tokens()
    check = services.test_connection(organization=org)
    assert not check.ok and "injoignable" in check.message


def test_a_failed_run_because_of_credentials_is_logged_in_french(org, donations):
    connection = services.get_connection(org)
    connection.client_secret_encrypted = crypto.encrypt("faux")
    connection.save()
    from lien.connectors.helloasso.client import forget_tokens

    forget_tokens()

    run = sync(org)

    assert run.status == "échec"
    assert "identifiant client ou le secret" in run.message
    assert services.get_connection(org).last_error == run.message


def test_secret_is_encrypted_at_rest_and_kept_when_left_empty(org, settings):
    connection = services.save_credentials(
        organization=org, actor=ADMIN, client_id="id", client_secret="s3cret-value",
        organization_slug="https://www.helloasso.com/associations/Mon-Asso",
    )  # fmt: skip
    assert connection.organization_slug == "mon-asso"
    assert "s3cret" not in connection.client_secret_encrypted
    assert crypto.decrypt(connection.client_secret_encrypted) == "s3cret-value"
    services.save_credentials(
        organization=org, actor=ADMIN, client_id="id2", client_secret=None,
        organization_slug="mon-asso",
    )  # fmt: skip
    connection.refresh_from_db()
    assert crypto.decrypt(connection.client_secret_encrypted) == "s3cret-value"
    assert connection.has_secret and connection.webhook_token
    events = AuditEvent.objects.for_org(org).filter(target_id=connection.pk)
    assert all("s3cret" not in str(e.changes) for e in events)
    settings.ENCRYPTION_KEY = "another key"
    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt(connection.client_secret_encrypted)


def test_setup_refusals_are_french_and_by_field(org):
    with pytest.raises(ValidationError) as error:
        services.save_credentials(
            organization=org, actor=ADMIN, client_id="", client_secret="",
            organization_slug="Mon asso !",
        )  # fmt: skip
    assert set(error.value.message_dict) == {"client_id", "client_secret", "organization_slug"}
    with pytest.raises(ValidationError, match="pas encore connecté"):
        services.start_sync(organization=org, actor=ADMIN)
    services.save_credentials(
        organization=org, actor=ADMIN, client_id="id", client_secret="x", organization_slug="a",
    )  # fmt: skip
    with pytest.raises(ValidationError, match="au moins une campagne"):
        services.start_sync(organization=org, actor=ADMIN)
    with pytest.raises(ValidationError, match="futur"):
        services.set_start_date(
            organization=org, actor=ADMIN, start_date=dt.date.today() + dt.timedelta(days=2)
        )
    with pytest.raises(ValidationError, match="n'est pas un champ des contacts"):
        services.set_field_mappings(organization=org, actor=ADMIN, mappings={"Q": "salaire"})


def test_start_sync_runs_in_the_background_and_the_command(
    org, donations, django_capture_on_commit_callbacks
):
    fake = donations
    fake.add_order(
        "Donation", "dons-2026", payer=MARIE,
        items=[{"name": "Don", "type": "Donation", "amount": 5000}], date=MARCH,
    )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):  # the immediate backend runs it
        job = services.start_sync(organization=org, actor=ADMIN)

    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert "1 paiement(s) créé(s)" in job.message
    chosen = HelloAssoForm.objects.for_org(org).filter(selected=True).count()
    assert (job.progress_done, job.progress_total) == (chosen, chosen) != (0, 0)  # a moving bar
    call_command("helloasso_sync", organization=org.slug)
    assert [r.trigger for r in services.sync_runs(org)] == ["commande", "manuel"]
    with pytest.raises(CommandError, match="Aucune organisation"):
        call_command("helloasso_sync", organization="inconnue")


def test_other_organisations_are_untouched(org, other_org, donations):
    fake = donations
    fake.add_order(
        "Donation", "dons-2026", payer=MARIE,
        items=[{"name": "Don", "type": "Donation", "amount": 5000}], date=MARCH,
    )  # fmt: skip
    Contact.objects.create(
        organization=other_org, first_name="Marie", last_name="Curie",
        email="marie@example.org", email_normalized="marie@example.org",
        first_name_normalized="marie", last_name_normalized="curie",
    )  # fmt: skip

    sync(org)

    assert Payment.objects.for_org(other_org).count() == 0
    assert Payment.objects.for_org(org).get().payer_contact.organization_id == org.pk
    assert HelloAssoConnection.objects.for_org(other_org).count() == 0


def test_periodic_sync_is_scheduled_every_n_minutes(org, donations, settings):
    from django.utils import timezone

    from lien.core.scheduler import enqueue_periodic

    settings.HELLOASSO_SYNC_MINUTES = 30
    at = timezone.make_aware(dt.datetime(2026, 11, 23, 10, 5))
    assert enqueue_periodic(now=at) == ["lien.connectors.helloasso.tasks.sync_all_helloasso"]
    assert enqueue_periodic(now=at + dt.timedelta(minutes=20)) == []
    assert enqueue_periodic(now=at + dt.timedelta(minutes=26)) == [
        "lien.connectors.helloasso.tasks.sync_all_helloasso"
    ]
    # The immediate backend ran the task: the organisation's scheduled runs are logged.
    assert [r.trigger for r in services.sync_runs(org)] == ["planifié", "planifié"]
    settings.HELLOASSO_SYNC_MINUTES = 0
    assert enqueue_periodic(now=at + dt.timedelta(hours=2)) == []
