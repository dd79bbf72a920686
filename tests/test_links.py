"""No link leads to a page that does not exist: every internal link of every page works."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

from lien.core.audit import Actor
from lien.core.services import create_api_token, update_organization

pytestmark = pytest.mark.django_db

HREF = re.compile(r'href="([^"]+)"')


def crawl(client, start: str, limit: int = 200) -> dict[str, int]:
    """GET every internal link reachable from `start`; returns url → status."""
    seen: dict[str, int] = {}
    queue = deque([start])
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        for href in HREF.findall(response.content.decode()):
            target = urldefrag(urljoin(url, href.replace("&amp;", "&")))[0]
            parsed = urlparse(target)
            if parsed.scheme or parsed.netloc or not parsed.path.startswith("/"):
                continue  # another site (none should exist) or mailto:
            if parsed.path.startswith("/static/"):
                continue
            queue.append(target)
    return seen


def test_every_link_an_administrator_can_follow_works(
    org, admin_member, admin_client, reader_member
):
    update_organization(organization=org, actor=Actor.system(), city="Lyon")
    create_api_token(organization=org, actor=Actor.system(), user=admin_member.user, name="x")

    statuses = crawl(admin_client, "/")

    broken = {url: status for url, status in statuses.items() if status != 200}
    assert broken == {}
    assert "/parametres/profils/" in statuses
    assert len(statuses) >= 10


def test_every_link_a_reader_can_follow_works(reader_client):
    statuses = crawl(reader_client, "/")

    broken = {url: status for url, status in statuses.items() if status != 200}
    assert broken == {}
