"""Schemathesis drives every API operation from the OpenAPI schema.

Generated requests (valid and invalid) must never cause a server error and every
response must match the schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from lien.core.audit import Actor
from lien.core.services import create_api_token
from lien.wsgi import application


@pytest.fixture
def api_schema(db):
    # Like Django's test client: keep the test's connection open across requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(admin_member, reader_member) -> str:
    _token, key = create_api_token(
        organization=admin_member.organization,
        actor=Actor.system(),
        user=admin_member.user,
        name="schemathesis",
    )
    return key


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=6,  # × 140 operations: the longest test of the suite (one worker)
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_matches_its_schema(case, api_key):
    # A well-typed id that points at nothing is refused with 400, which this check
    # would count as "valid data rejected": everything else is checked.
    case.call_and_validate(
        headers={"Authorization": f"Token {api_key}"},
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
