"""A fake HelloAsso: a real local HTTP server speaking the parts of API v5 Lien uses.

Token endpoint (client credentials, 30-minute tokens that tests can expire), the
organisation, its forms (and a form's public details), a form's orders and items
(continuation tokens; the page after the last one carries a token but no data, as
HelloAsso does), an order and a payment by id. Payloads follow HelloAsso's public
documentation: amounts in cents, payer, items with user, customFields, state, payments
with shares, receipt URLs.

Tests drive its state: `add_form`, `add_order`, `refund`, `add_payment` (a monthly
debit), `expire_tokens`, `fail_next(status, times, path=…)` (a 429 or a 500 once), and
read `requests` (what was asked). The `fake_helloasso` fixture points the settings at it.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pytest

CLIENT_ID = "lien-client-id"
CLIENT_SECRET = "lien-client-secret-0123456789"
ORG_SLUG = "amis-du-lien"
DEFAULT_DATE = dt.datetime(2026, 3, 10, 14, 30, tzinfo=dt.UTC)


def iso(moment: dt.datetime) -> str:
    """HelloAsso writes dates with 7 fraction digits and an offset."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0+00:00"


def parse_iso(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass
class Failure:
    status: int
    times: int
    path: str = ""  # only requests whose path contains this
    retry_after: str | None = None


@dataclass
class FakeState:
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    organization_slug: str = ORG_SLUG
    token_life: int = 1800
    tokens: set[str] = field(default_factory=set)
    forms: dict[tuple[str, str], dict] = field(default_factory=dict)
    orders: dict[int, dict] = field(default_factory=dict)
    # order id → when it last changed (HelloAsso's update date, not in the Order model)
    updated: dict[int, dt.datetime] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    requests: list[tuple[str, str, dict]] = field(default_factory=list)
    version: int = 0


class FakeHelloAsso:
    """The server and the handles tests use to shape what it answers."""

    def __init__(self) -> None:
        self.state = FakeState()
        self.lock = threading.RLock()
        self._ids = itertools.count(1001)
        self._cache: dict[tuple, list[dict]] = {}
        self.now = DEFAULT_DATE  # the « current time » stamped on changes
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # Life -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token_url(self) -> str:
        return f"{self.url}/oauth2/token"

    def start(self) -> FakeHelloAsso:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # Shaping the data -------------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    def _touch(self, order_id: int, when: dt.datetime | None = None) -> None:
        when = when or self.now
        self.state.updated[order_id] = when
        self.state.orders[order_id]["meta"]["updatedAt"] = iso(when)
        self.state.version += 1

    def add_form(
        self,
        form_type: str,
        form_slug: str,
        title: str,
        *,
        state: str = "Public",
        validity_type: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> dict:
        form = {
            "currency": "EUR",
            "description": f"{title} — en ligne sur HelloAsso",
            "meta": {"createdAt": iso(DEFAULT_DATE), "updatedAt": iso(DEFAULT_DATE)},
            "state": state,
            "title": title,
            "privateTitle": title,
            "widgetFullUrl": f"https://www.helloasso.com/associations/{ORG_SLUG}/"
            f"{form_type.lower()}/{form_slug}/widget",
            "formSlug": form_slug,
            "formType": form_type,
            "url": f"https://www.helloasso.com/associations/{ORG_SLUG}/{form_slug}",
            "organizationSlug": self.state.organization_slug,
        }
        if start:
            form["startDate"] = f"{start.isoformat()}T00:00:00+01:00"
        if end:
            form["endDate"] = f"{end.isoformat()}T23:59:59+01:00"
        if validity_type:
            form["validityType"] = validity_type
        with self.lock:
            self.state.forms[(form_type, form_slug)] = form
            self.state.version += 1
        return form

    def add_order(
        self,
        form_type: str,
        form_slug: str,
        *,
        payer: dict,
        items: list[dict],
        date: dt.datetime = DEFAULT_DATE,
        state: str = "Authorized",
        means: str = "Card",
        installments: int = 1,
    ) -> dict:
        """An order paid by `installments` payments (each pays its share of every item).
        Items: {"name", "type", "amount", "user"?, "customFields"?, "state"?}."""
        order_id = self.next_id()
        full_items = []
        for spec in items:
            item = {
                "payments": [],
                "name": spec.get("name", "Article"),
                "user": spec.get("user") or {k: payer[k] for k in ("firstName", "lastName")},
                "priceCategory": spec.get("priceCategory", "Fixed"),
                "customFields": [
                    {"id": self.next_id(), "name": name, "type": "TextInput", "answer": answer}
                    for name, answer in (spec.get("customFields") or {}).items()
                ],
                "id": self.next_id(),
                "amount": spec["amount"],
                "type": spec.get("type", "Payment"),
                "initialAmount": spec["amount"],
                "state": spec.get("state", "Processed"),
            }
            full_items.append(item)
        total = sum(i["amount"] for i in full_items)
        payments = []
        if total:
            for number in range(1, installments + 1):
                payments.append(
                    self._payment(
                        order_id, full_items, date, number, installments, state, means, form_type
                    )
                )
        order = {
            "payer": {"country": "FRA", **payer},
            "items": full_items,
            "payments": payments,
            "amount": {"total": total, "vat": 0, "discount": 0},
            "id": order_id,
            "date": iso(date),
            "formSlug": form_slug,
            "formType": form_type,
            "organizationName": "Les Amis du Lien",
            "organizationSlug": self.state.organization_slug,
            "organizationType": "Association1901Rig",
            "organizationIsUnderColucheLaw": False,
            "meta": {"createdAt": iso(date), "updatedAt": iso(date)},
            "isAnonymous": False,
            "isAmountHidden": False,
        }
        with self.lock:
            self.state.orders[order_id] = order
            self._touch(order_id, date)
        return order

    def _payment(
        self,
        order_id: int,
        items: list[dict],
        date: dt.datetime,
        number: int,
        count: int,
        state: str,
        means: str,
        form_type: str,
    ) -> dict:
        payment_id = self.next_id()
        shares = []
        for item in items:
            if not item["amount"]:
                continue
            share = item["amount"] // count + (item["amount"] % count if number == 1 else 0)
            shares.append({"id": item["id"], "shareAmount": share, "shareItemAmount": share})
            item["payments"].append({"id": payment_id, "shareAmount": share})
        when = date + dt.timedelta(days=30 * (number - 1))
        payment = {
            "items": shares,
            "cashOutState": "Transfered",
            "paymentReceiptUrl": f"https://www.helloasso.com/associations/{ORG_SLUG}/"
            f"paiement-attestation/{payment_id}",
            "id": payment_id,
            "amount": sum(s["shareAmount"] for s in shares),
            "amountTip": 0,
            "date": iso(when),
            "paymentMeans": means,
            "installmentNumber": number,
            "state": state,
            "type": "Offline" if means in ("Cash", "Check") else "Installment",
            "meta": {"createdAt": iso(when), "updatedAt": iso(when)},
            "refundOperations": [],
        }
        if form_type in ("Donation", "CrowdFunding"):
            payment["fiscalReceiptUrl"] = (
                f"https://www.helloasso.com/associations/{ORG_SLUG}/recu-fiscal/{payment_id}"
            )
        return payment

    def add_payment(self, order_id: int, *, date: dt.datetime, state: str = "Authorized") -> dict:
        """A new term of an order (a monthly donation's next debit)."""
        with self.lock:
            order = self.state.orders[order_id]
            payment = self._payment(
                order_id, order["items"], date, 1, 1, state, "Card", order["formType"]
            )
            order["payments"].append(payment)
            self._touch(order_id)
        return payment

    def set_payment_state(self, payment_id: int, state: str) -> dict:
        """A payment's state changes on HelloAsso (Refunded, Contested, Canceled…)."""
        with self.lock:
            for order in self.state.orders.values():
                for payment in order["payments"]:
                    if payment["id"] == payment_id:
                        payment["state"] = state
                        if state == "Refunded":
                            payment["refundOperations"] = [
                                {"id": self.next_id(), "amount": payment["amount"],
                                 "amountTip": 0, "status": "Processed",
                                 "meta": {"createdAt": iso(self.now)}}
                            ]  # fmt: skip
                        self._touch(order["id"])
                        return payment
        raise KeyError(payment_id)

    def refund(self, payment_id: int) -> dict:
        return self.set_payment_state(payment_id, "Refunded")

    def expire_tokens(self) -> None:
        """Every token given so far stops working (HelloAsso answers 401)."""
        with self.lock:
            self.state.tokens.clear()

    def fail_next(
        self, status: int, *, times: int = 1, path: str = "/v5/", retry_after: str | None = None
    ) -> None:
        with self.lock:
            self.state.failures.append(Failure(status, times, path, retry_after))

    def api_requests(self, fragment: str = "/v5/") -> list[tuple[str, str, dict]]:
        return [r for r in self.state.requests if fragment in r[1]]

    # Answers ----------------------------------------------------------------------------

    def _item_view(self, order: dict, item: dict) -> dict:
        """An item as the items list gives it: with its order, payer and payments."""
        payments = {p["id"]: p for p in order["payments"]}
        return {
            **item,
            "order": {k: order[k] for k in ("id", "date", "formSlug", "formType",
                                            "organizationName", "organizationSlug")},
            "payer": order["payer"],
            "payments": [
                {k: payments[s["id"]][k] for k in ("id", "amount", "date", "paymentMeans",
                                                   "installmentNumber", "state", "type")}
                | {"shareAmount": s["shareAmount"]}
                for s in item["payments"]
            ],
        }  # fmt: skip

    def listing(self, kind: str, form: tuple[str, str], query: dict[str, str]) -> list[dict]:
        key = (kind, form, query.get("from"), query.get("sortField"), self.state.version)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        since = parse_iso(query["from"]) if query.get("from") else None
        by_update = query.get("sortField") == "UpdateDate"
        rows = []
        for order in self.state.orders.values():
            if (order["formType"], order["formSlug"]) != form:
                continue
            moment = self.state.updated[order["id"]] if by_update else parse_iso(order["date"])
            if since and moment < since:
                continue
            if kind == "orders":
                rows.append((moment, order["id"], order))
            else:
                rows.extend(
                    (moment, item["id"], self._item_view(order, item)) for item in order["items"]
                )
        rows.sort(key=lambda r: (r[0], r[1]), reverse=query.get("sortOrder") != "Asc")
        result = [r[2] for r in rows]
        self._cache = {key: result}
        return result


def _page(rows: list[dict], query: dict[str, str]) -> dict:
    size = min(100, int(query.get("pageSize") or 20))
    token = query.get("continuationToken")
    start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
    data = rows[start : start + size]
    end = start + len(data)
    return {
        "data": data,
        "pagination": {
            "pageSize": size,
            "totalCount": len(rows),
            "pageIndex": start // size + 1,
            "totalPages": (len(rows) + size - 1) // size,
            # Always a token, even after the last page: clients stop at an empty page.
            "continuationToken": base64.urlsafe_b64encode(str(end).encode()).decode(),
        },
    }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeHelloAsso
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet tests
        pass

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _injected(self, path: str) -> bool:
        fake = self.fake
        with fake.lock:
            for failure in fake.state.failures:
                if failure.times > 0 and failure.path in path:
                    failure.times -= 1
                    headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
                    self._reply(failure.status, {"message": "injected"}, headers)
                    return True
        return False

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        path = urlparse(self.path).path
        fake = self.fake
        fake.state.requests.append(("POST", path, {"grant_type": form.get("grant_type")}))
        if self._injected(path):
            return
        if path != "/oauth2/token":
            self._reply(404, {"message": "not found"})
            return
        if form.get("grant_type") != "client_credentials" or (
            form.get("client_id"),
            form.get("client_secret"),
        ) != (fake.state.client_id, fake.state.client_secret):
            self._reply(400, {"error": "unauthorized_client", "error_description": "invalid"})
            return
        token = secrets.token_urlsafe(24)
        with fake.lock:
            fake.state.tokens.add(token)
        self._reply(
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": fake.state.token_life,
                "refresh_token": secrets.token_urlsafe(24),
            },
        )

    def do_GET(self) -> None:  # noqa: N802
        parsed = urlparse(self.path)
        path = parsed.path
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        fake = self.fake
        fake.state.requests.append(("GET", path, query))
        if self._injected(path):
            return
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in fake.state.tokens:
            self._reply(401, {"message": "Unauthorized"})
            return
        parts = [unquote(p) for p in path.split("/") if p]
        with fake.lock:
            status, body = self._route(parts, query)
        self._reply(status, body)

    def _route(self, parts: list[str], query: dict[str, str]) -> tuple[int, Any]:
        fake, state = self.fake, self.fake.state
        if parts[:1] != ["v5"]:
            return 404, {"message": "not found"}
        parts = parts[1:]
        if parts[:1] == ["orders"] and len(parts) == 2 and parts[1].isdigit():
            order = state.orders.get(int(parts[1]))
            return (200, order) if order else (404, {"message": "Order not found"})
        if parts[:1] == ["payments"] and len(parts) == 2 and parts[1].isdigit():
            for order in state.orders.values():
                for payment in order["payments"]:
                    if payment["id"] == int(parts[1]):
                        body = {**payment, "order": {"id": order["id"], "date": order["date"],
                                                     "formSlug": order["formSlug"],
                                                     "formType": order["formType"]},
                                "payer": order["payer"]}  # fmt: skip
                        return 200, body
            return 404, {"message": "Payment not found"}
        if parts[:1] != ["organizations"] or len(parts) < 2:
            return 404, {"message": "not found"}
        if parts[1] != state.organization_slug:
            return 404, {"message": "Organization not found"}
        rest = parts[2:]
        if not rest:
            return 200, {
                "name": "Les Amis du Lien",
                "organizationSlug": state.organization_slug,
                "type": "Association1901Rig",
                "city": "Lyon",
                "zipCode": "69001",
                "isAuthenticated": True,
            }
        if rest == ["forms"]:
            return 200, _page(sorted(state.forms.values(), key=lambda f: f["formSlug"]), query)
        if len(rest) == 4 and rest[0] == "forms":
            form = (rest[1], rest[2])
            if form not in state.forms:
                return 404, {"message": "Form not found"}
            if rest[3] == "public":
                return 200, state.forms[form]
            if rest[3] in ("orders", "items"):
                return 200, _page(fake.listing(rest[3], form, query), query)
        return 404, {"message": "not found"}


@pytest.fixture
def fake_helloasso(settings):
    """A running fake HelloAsso; the settings point the connector at it."""
    from lien.connectors.helloasso.client import forget_tokens

    fake = FakeHelloAsso().start()
    settings.HELLOASSO_API_URL = fake.url
    settings.HELLOASSO_TOKEN_URL = fake.token_url
    forget_tokens()
    try:
        yield fake
    finally:
        forget_tokens()
        fake.stop()
