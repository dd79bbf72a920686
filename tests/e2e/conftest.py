"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

The browser is never downloaded (`playwright install` is not used): the tests drive
/usr/bin/chromium, or the binary named by LIEN_CHROMIUM, and are skipped when it is
missing. Every page's console is watched: an error there (a Content-Security-Policy
violation above all) fails the test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connections

CHROMIUM = os.environ.get("LIEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_MISSING = "Chromium de Debian absent (apt-get install chromium) : tests navigateur ignorés"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"
# Long enough for a slow CI machine, short enough that a broken page fails fast.
TIMEOUT_MS = 15_000


@dataclass
class ConsoleWatcher:
    """Console errors and uncaught exceptions of every page of a browser context."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)

    def on_console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")

    def on_page_error(self, error) -> None:
        self.errors.append(f"exception: {error}")

    def allow(self, pattern: str) -> None:
        """Accept errors matching `pattern` (an expected 4xx answer logs one in Chromium)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]

    def assert_clean(self) -> None:
        errors = self.unexpected()
        assert not errors, "Erreurs dans la console du navigateur :\n" + "\n".join(errors)


class Browsing:
    """Opens browser contexts (one per person) on the live server, and takes screenshots."""

    def __init__(self, browser, base_url: str, artifacts: Path) -> None:
        self.browser = browser
        self.base_url = base_url
        self.artifacts = artifacts
        self.console = ConsoleWatcher()
        self.contexts: list = []
        self.shots = 0

    def new_page(self):
        context = self.browser.new_context(
            base_url=self.base_url,
            locale="fr-FR",
            timezone_id="Europe/Paris",
            viewport={"width": 1280, "height": 800},
            accept_downloads=True,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.on("console", self.console.on_console)
        context.on("weberror", lambda web_error: self.console.on_page_error(web_error.error))
        self.contexts.append(context)
        return context.new_page()

    def screenshot(self, page, step: str) -> Path:
        self.shots += 1
        path = self.artifacts / f"{self.shots:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(request, live_server, transactional_db, settings, tmp_path) -> Iterator[Browsing]:
    """A browser session on the live server; screenshots in test-artifacts/<test name>/.

    Chromium is started for each test, after the database is ready and stopped before
    it is flushed: Playwright's sync API runs an event loop in this thread, and Django
    refuses ORM calls while one runs unless DJANGO_ALLOW_ASYNC_UNSAFE is set. The
    variable is set only while the browser lives; the calls stay plain synchronous ones.
    """
    if not Path(CHROMIUM).is_file():
        pytest.skip(CHROMIUM_MISSING)
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions (Playwright's own default is 5 s): on a loaded CI
    # machine a page's answer once came after 5 s and the step failed, not the page.
    expect.set_options(timeout=TIMEOUT_MS)
    settings.SITE_URL = live_server.url
    settings.MEDIA_ROOT = str(tmp_path / "media")
    artifacts = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    artifacts.mkdir(parents=True, exist_ok=True)
    for old in artifacts.glob("*.png"):
        old.unlink()
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            session = Browsing(browser, live_server.url, artifacts)
            try:
                yield session
            finally:
                session.close()
                browser.close()
                # While the event loop runs, the ORM keeps its connections apart from
                # the ones opened before it: close them, or PostgreSQL cannot drop
                # the test database at the end ("being accessed by other users").
                connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
    session.console.assert_clean()
