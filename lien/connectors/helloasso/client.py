"""A thin HelloAsso API v5 client of our own, on httpx.

- OAuth2 client credentials: the token is cached per (token URL, client id) for its life
  (HelloAsso gives 30 minutes) less a margin, and asked again on expiry or on a 401.
  Neither the token nor the secret is ever logged or put in an error message.
- 429 and 5xx (and network errors) are retried with exponential backoff, honouring
  Retry-After; `sleep` is injectable so tests do not wait.
- Lists are read by continuation token, stopping at the first page without data
  (HelloAsso answers a last page that still carries a token).
- Errors come out as `HelloAssoError` subclasses with a French message saying what is
  wrong: credentials, unknown organisation, network, HelloAsso unavailable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings

from lien.connectors.helloasso.schemas import Form, Order, Page

PAGE_SIZE = 100  # HelloAsso's largest page
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
RETRIES = 5
BACKOFF = 1.0  # seconds, doubled at each retry
MAX_WAIT = 60.0
TOKEN_MARGIN = 60.0  # seconds: a token is renewed this long before its end
USER_AGENT = "Lien-CRM (connecteur HelloAsso)"


class HelloAssoError(Exception):
    """Something went wrong talking to HelloAsso; `str()` is a French message for people."""


class BadCredentials(HelloAssoError):
    pass


class NotFound(HelloAssoError):
    pass


class Unavailable(HelloAssoError):
    """Network error or HelloAsso still answering 429/5xx after the retries."""


@dataclass
class _Token:
    value: str
    expires_at: float


_tokens: dict[tuple[str, str], _Token] = {}
_tokens_lock = threading.Lock()


def forget_tokens() -> None:
    """Drop every cached token (tests, and after credentials change)."""
    with _tokens_lock:
        _tokens.clear()


class HelloAssoClient:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_url: str | None = None,
        token_url: str | None = None,
        sleep: Callable[[float], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        retries: int = RETRIES,
    ) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.api_url = (api_url or settings.HELLOASSO_API_URL).rstrip("/")
        self.token_url = token_url or settings.HELLOASSO_TOKEN_URL
        self.sleep = sleep or time.sleep
        self.retries = retries
        self.requests = 0  # HTTP requests made (the bench and tests read it)
        self._http = httpx.Client(
            timeout=TIMEOUT, transport=transport, headers={"User-Agent": USER_AGENT}
        )

    def __repr__(self) -> str:  # never the secret
        return f"<HelloAssoClient {self.client_id} @ {self.api_url}>"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HelloAssoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # HTTP with retries ------------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, retried on 429, 5xx and network errors with backoff."""
        attempt = 0
        while True:
            self.requests += 1
            response = None
            try:
                response = self._http.request(method, url, **kwargs)
            except httpx.TransportError as error:
                if attempt >= self.retries:
                    raise Unavailable(
                        f"HelloAsso est injoignable ({type(error).__name__}) : vérifiez la "
                        "connexion réseau du serveur ou l'adresse de l'API."
                    ) from None
            else:
                if response.status_code != 429 and response.status_code < 500:
                    return response
                if attempt >= self.retries:
                    what = (
                        "limite le nombre de requêtes (429)"
                        if response.status_code == 429
                        else f"répond une erreur {response.status_code}"
                    )
                    raise Unavailable(
                        f"HelloAsso {what} après {attempt + 1} essais : la synchronisation "
                        "reprendra à la prochaine tentative."
                    )
            self.sleep(self._wait(attempt, response))
            attempt += 1

    @staticmethod
    def _wait(attempt: int, response: httpx.Response | None) -> float:
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after:
            try:
                return min(MAX_WAIT, max(0.0, float(retry_after)))
            except ValueError:
                pass
        return min(MAX_WAIT, BACKOFF * 2**attempt)

    # Token ------------------------------------------------------------------------------

    def _token(self, *, renew: bool = False) -> str:
        key = (self.token_url, self.client_id)
        with _tokens_lock:
            cached = _tokens.get(key)
            if cached and not renew and cached.expires_at > time.monotonic():
                return cached.value
            _tokens.pop(key, None)
        response = self._send(
            "POST",
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._secret,
            },
        )
        if response.status_code in (400, 401, 403):
            raise BadCredentials(
                "HelloAsso refuse l'identifiant client ou le secret : vérifiez-les dans "
                "votre espace HelloAsso (Mon compte → Intégrations et API)."
            )
        if response.status_code != 200:
            raise HelloAssoError(
                f"HelloAsso a répondu {response.status_code} à la demande de jeton d'accès."
            )
        try:
            body = response.json()
            value = str(body["access_token"])
            life = float(body.get("expires_in") or 1800)
        except (ValueError, KeyError, TypeError):
            raise HelloAssoError(
                "La réponse de HelloAsso à la demande de jeton d'accès est illisible."
            ) from None
        with _tokens_lock:
            _tokens[key] = _Token(value, time.monotonic() + max(0.0, life - TOKEN_MARGIN))
        return value

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET /v5{path} as JSON; a 401 renews the token once (expired or revoked)."""
        url = f"{self.api_url}/v5{path}"
        renew = False
        for _ in range(2):
            token = self._token(renew=renew)
            response = self._send(
                "GET", url, params=params, headers={"Authorization": f"Bearer {token}"}
            )
            if response.status_code != 401:
                break
            renew = True
        if response.status_code == 401:
            raise BadCredentials(
                "HelloAsso refuse le jeton d'accès de ces identifiants : vérifiez-les."
            )
        if response.status_code == 403:
            raise BadCredentials(
                "Ces identifiants HelloAsso n'ont pas accès à cette association : "
                "vérifiez l'identifiant de l'association et les droits de la clé API."
            )
        if response.status_code == 404:
            raise NotFound(f"HelloAsso ne connaît pas cette ressource ({path}).")
        if response.status_code >= 400:
            raise HelloAssoError(f"HelloAsso a répondu {response.status_code} ({path}).")
        try:
            return response.json()
        except ValueError:
            raise HelloAssoError(f"La réponse de HelloAsso est illisible ({path}).") from None

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Page]:
        """The pages of a list, by continuation token, until a page without data."""
        params = {**(params or {}), "pageSize": PAGE_SIZE}
        seen: set[str] = set()
        while True:
            page = Page.from_json(self.get(path, params))
            if not page.data:
                return
            yield page
            token = page.continuation_token
            if not token or token in seen:  # no next page, or a server going round
                return
            seen.add(token)
            params["continuationToken"] = token

    # Endpoints --------------------------------------------------------------------------

    @staticmethod
    def _slug(value: str) -> str:
        return quote(value, safe="")

    def organization(self, slug: str) -> dict:
        return self.get(f"/organizations/{self._slug(slug)}")

    def forms(self, slug: str) -> list[Form]:
        return [
            Form.from_json(raw)
            for page in self.pages(f"/organizations/{self._slug(slug)}/forms")
            for raw in page.data
        ]

    def form_public(self, slug: str, form_type: str, form_slug: str) -> Form:
        return Form.from_json(
            self.get(
                f"/organizations/{self._slug(slug)}/forms/{self._slug(form_type)}/"
                f"{self._slug(form_slug)}/public"
            )
        )

    def _form_path(self, slug: str, form_type: str, form_slug: str, what: str) -> str:
        return (
            f"/organizations/{self._slug(slug)}/forms/{self._slug(form_type)}/"
            f"{self._slug(form_slug)}/{what}"
        )

    def form_orders(
        self, slug: str, form_type: str, form_slug: str, *, since: str | None = None
    ) -> Iterator[list[Order]]:
        """The form's orders (with items, payer, payments and custom fields), page by page,
        oldest first, from `since` (ISO date-time) on."""
        params: dict[str, Any] = {"withDetails": "true", "sortOrder": "Asc"}
        if since:
            params["from"] = since
        for page in self.pages(self._form_path(slug, form_type, form_slug, "orders"), params):
            yield [Order.from_json(raw) for raw in page.data]

    def form_changed_order_ids(
        self, slug: str, form_type: str, form_slug: str, *, since: str
    ) -> Iterator[int]:
        """The orders of the form whose items changed since `since` (by update date)."""
        params = {"sortField": "UpdateDate", "sortOrder": "Asc", "from": since}
        for page in self.pages(self._form_path(slug, form_type, form_slug, "items"), params):
            for raw in page.data:
                order = raw.get("order") if isinstance(raw.get("order"), dict) else {}
                if order.get("id"):
                    yield int(order["id"])

    def order(self, order_id: int) -> Order:
        return Order.from_json(self.get(f"/orders/{int(order_id)}"))

    def payment(self, payment_id: int) -> dict:
        return self.get(f"/payments/{int(payment_id)}")
