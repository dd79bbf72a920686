"""The HelloAsso HTTP client against the fake server: token, retries, pages, models."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from lien.connectors.helloasso.client import (
    BadCredentials,
    HelloAssoClient,
    NotFound,
    Unavailable,
)
from lien.connectors.helloasso.schemas import Order, parse_datetime
from tests.helloasso_fake import CLIENT_ID, CLIENT_SECRET, ORG_SLUG, fake_helloasso  # noqa: F401

PAYER = {"firstName": "Marie", "lastName": "Curie", "email": "marie@example.org"}


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(fake_helloasso, waits):  # noqa: F811
    with HelloAssoClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, sleep=waits.append
    ) as client:
        yield client


def token_requests(fake) -> int:
    return len(fake.api_requests("/oauth2/token"))


def test_the_token_is_asked_once_and_reused(client, fake_helloasso):  # noqa: F811
    client.organization(ORG_SLUG)
    client.organization(ORG_SLUG)
    client.forms(ORG_SLUG)

    assert token_requests(fake_helloasso) == 1
    assert len(fake_helloasso.api_requests("/v5/")) == 3


def test_an_expired_token_is_renewed_on_401(client, fake_helloasso):  # noqa: F811
    client.organization(ORG_SLUG)
    fake_helloasso.expire_tokens()

    assert client.organization(ORG_SLUG)["name"] == "Les Amis du Lien"
    assert token_requests(fake_helloasso) == 2


def test_a_token_past_its_life_is_renewed_before_use(fake_helloasso, waits):  # noqa: F811
    fake_helloasso.state.token_life = 30  # shorter than the renewal margin
    with HelloAssoClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as client:
        client.organization(ORG_SLUG)
        client.organization(ORG_SLUG)

    assert token_requests(fake_helloasso) == 2  # the first one was already too old to use


def test_wrong_credentials_say_so_in_french(fake_helloasso):  # noqa: F811
    client = HelloAssoClient(client_id=CLIENT_ID, client_secret="faux")
    with pytest.raises(BadCredentials, match="identifiant client ou le secret"):
        client.organization(ORG_SLUG)


def test_unknown_organisation_is_not_found(client):
    with pytest.raises(NotFound):
        client.organization("inconnue")


def test_429_and_5xx_are_retried_with_backoff(client, fake_helloasso, waits):  # noqa: F811
    fake_helloasso.fail_next(429, times=2)
    fake_helloasso.fail_next(503, times=1)

    assert client.organization(ORG_SLUG)["organizationSlug"] == ORG_SLUG
    assert waits == [1.0, 2.0, 4.0]


def test_retry_after_is_honoured(client, fake_helloasso, waits):  # noqa: F811
    fake_helloasso.fail_next(429, retry_after="7")

    client.organization(ORG_SLUG)

    assert waits == [7.0]


def test_a_server_still_failing_after_the_retries_is_unavailable(client, fake_helloasso, waits):  # noqa: F811
    fake_helloasso.fail_next(500, times=100)

    with pytest.raises(Unavailable, match="erreur 500 après 6 essais"):
        client.organization(ORG_SLUG)
    assert len(waits) == 5


def test_network_errors_are_told_in_french(settings, waits):
    client = HelloAssoClient(
        client_id="x", client_secret="y", api_url="http://127.0.0.1:9",
        token_url="http://127.0.0.1:9/oauth2/token", sleep=waits.append, retries=1,
    )  # fmt: skip
    with pytest.raises(Unavailable, match="injoignable"):
        client.organization(ORG_SLUG)
    assert waits == [1.0]


def test_pages_follow_the_continuation_token_and_stop_at_an_empty_page(client, fake_helloasso):  # noqa: F811
    fake = fake_helloasso
    fake.add_form("Donation", "dons", "Dons")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for n in range(230):
        fake.add_order(
            "Donation", "dons", payer=PAYER, date=start + dt.timedelta(hours=n),
            items=[{"name": "Don", "type": "Donation", "amount": 100 + n}],
        )  # fmt: skip

    pages = list(client.form_orders(ORG_SLUG, "Donation", "dons"))

    assert [len(p) for p in pages] == [100, 100, 30]
    amounts = [o.items[0].amount for page in pages for o in page]
    assert amounts == list(range(100, 330))  # oldest first, each once
    asked = fake.api_requests("/orders")
    assert len(asked) == 4  # the fourth page has a token but no data: the end
    assert asked[0][2]["withDetails"] == "true" and asked[0][2]["pageSize"] == "100"
    assert "continuationToken" in asked[3][2]


def test_orders_since_a_date_and_items_changed_since(client, fake_helloasso):  # noqa: F811
    fake = fake_helloasso
    fake.add_form("Membership", "adh", "Adhésion")
    old = fake.add_order(
        "Membership", "adh", payer=PAYER, date=dt.datetime(2025, 6, 1, tzinfo=dt.UTC),
        items=[{"name": "Adhésion", "type": "Membership", "amount": 2000}],
    )  # fmt: skip
    fake.add_order(
        "Membership", "adh", payer=PAYER, date=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
        items=[{"name": "Adhésion", "type": "Membership", "amount": 2000}],
    )  # fmt: skip
    fake.now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    fake.refund(old["payments"][0]["id"])

    recent = [o for page in client.form_orders(
        ORG_SLUG, "Membership", "adh", since="2026-01-01T00:00:00") for o in page]  # fmt: skip
    changed = list(
        client.form_changed_order_ids(ORG_SLUG, "Membership", "adh", since="2026-02-15T00:00:00")
    )

    assert [o.date.date() for o in recent] == [dt.date(2026, 2, 1)]
    assert changed == [old["id"]]
    assert client.order(old["id"]).payments[0].state == "Refunded"


def test_tolerant_models_keep_raw_json_and_unknown_values():
    raw = {
        "id": 12,
        "date": "2026-03-14T10:12:55.1234567+01:00",
        "formSlug": "dons",
        "formType": "SomethingNew",
        "payer": {"firstName": "Ana", "email": "ana@example.org", "dateOfBirth": None},
        "items": [
            {"id": 5, "amount": "1500", "state": "Frozen", "type": "Gift",
             "payments": [{"id": 9, "shareAmount": 1500}],
             "customFields": [{"name": "Taille", "answer": "M"}, "junk"]},
            "junk",
        ],
        "payments": [{"id": 9, "amount": 1500, "state": "Teleported", "items": [None]}],
        "meta": {"updatedAt": "2026-03-15T08:00:00Z"},
        "unexpected": {"kept": True},
    }  # fmt: skip

    order = Order.from_json(raw)

    assert order.form_type == "SomethingNew" and order.raw["unexpected"] == {"kept": True}
    assert order.date == dt.datetime(2026, 3, 14, 9, 12, 55, 123456, tzinfo=dt.UTC)
    assert order.updated_at == dt.datetime(2026, 3, 15, 8, tzinfo=dt.UTC)
    item = order.items[0]
    assert (item.state, item.type, item.amount, item.shares) == ("Frozen", "Gift", 1500, {9: 1500})
    assert [(c.name, c.answer) for c in item.custom_fields] == [("Taille", "M"), ("", "")]
    assert order.payments[0].state == "Teleported"
    assert (order.payer.last_name, order.payer.birth_date) == ("", None)
    assert parse_datetime("not a date") is None and parse_datetime(None) is None


def test_secrets_and_tokens_are_never_logged(fake_helloasso, caplog, waits):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    fake_helloasso.fail_next(429)
    with HelloAssoClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, sleep=waits.append
    ) as client:
        client.organization(ORG_SLUG)
        text = caplog.text + repr(client)
    tokens = fake_helloasso.state.tokens

    assert tokens and caplog.records
    assert CLIENT_SECRET not in text
    assert not any(token in text for token in tokens)
