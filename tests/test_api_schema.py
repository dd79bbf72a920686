"""Schemathesis drives every API operation from the OpenAPI schema.

Generated requests (valid and invalid) must never cause a server error and every
response must match the schema.

Its coverage phase sends every case the schema defines (about 45,000 requests for the
140 operations, 1,500 for a search endpoint alone): one test for all of them ran for
15 minutes on one worker. The operations are split by resource into a few tests that
pytest-xdist shares out; the last one takes every operation the others leave, so a new
resource is always covered.
"""

from __future__ import annotations

import contextlib

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from lien.core.audit import Actor
from lien.core.services import create_api_token
from lien.wsgi import application
from tests.conftest import shared_rows


@contextlib.contextmanager
def _connection_kept_across_requests():
    # Like Django's test client: keep the test's connection open across requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _load_schema():
    with _connection_kept_across_requests():
        return schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture(scope="module")
def _published_schema(django_db_setup, django_db_blocker):
    # Generating the schema takes seconds: once for the module's tests.
    yield from shared_rows(django_db_blocker, _load_schema)


@pytest.fixture
def api_schema(_published_schema, db):
    with _connection_kept_across_requests():
        yield _published_schema


@pytest.fixture
def api_key(admin_member, reader_member) -> str:
    _token, key = create_api_token(
        organization=admin_member.organization,
        actor=Actor.system(),
        user=admin_member.user,
        name="schemathesis",
    )
    return key


pytestmark = pytest.mark.long

schema = schemathesis.pytest.from_fixture("api_schema")

# max_examples only bounds the fuzzing phase (random cases on top of the coverage phase's
# exhaustive ones): 10 random cases per operation cost about 0.2 s.
SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Resources whose operations have a test of their own (the slowest first), or share one.
PARTS = {
    "segments": ["segments"],
    "structures": ["structures"],
    "contacts": ["contacts"],
    "exports": ["exports"],
    "interactions": ["interactions"],
    "payments": ["payments"],
    "imports_and_connectors": ["imports", "import-templates", "connectors", "custom-fields"],
}


def _paths_of(resources: list[str]) -> str:
    return rf"^/api/v1/({'|'.join(resources)})/"


def check_operation(case, api_key):
    # A well-typed id that points at nothing is refused with 400, which this check
    # would count as "valid data rejected": everything else is checked.
    excluded = [schemathesis.checks.positive_data_acceptance]
    if (case.media_type or "").startswith("multipart/"):
        # In a multipart form every value is text: a « number » sent where the schema
        # wants a string (`filename: 4.38e-233`) is the string "4.38e-233", which the
        # API rightly takes. Server errors and response schemas are still checked.
        excluded.append(schemathesis.checks.negative_data_rejection)
    case.call_and_validate(
        headers={"Authorization": f"Token {api_key}"}, excluded_checks=excluded
    )


@schema.include(path_regex=_paths_of(PARTS["segments"])).parametrize()
@SETTINGS
def test_segments_api_matches_its_schema(case, api_key):
    check_operation(case, api_key)


@schema.include(path_regex=_paths_of(PARTS["structures"])).parametrize()
@SETTINGS
def test_structures_api_matches_its_schema(case, api_key):
    check_operation(case, api_key)


@schema.include(path_regex=_paths_of(PARTS["contacts"])).parametrize()
@SETTINGS
def test_contacts_api_matches_its_schema(case, api_key):
    check_operation(case, api_key)


@schema.include(path_regex=_paths_of(PARTS["exports"])).parametrize()
@SETTINGS
def test_exports_api_matches_its_schema(case, api_key):
    check_operation(case, api_key)


@schema.include(path_regex=_paths_of(PARTS["interactions"])).parametrize()
@SETTINGS
def test_interactions_api_matches_its_schema(case, api_key):
    check_operation(case, api_key)


@schema.include(path_regex=_paths_of(PARTS["payments"])).parametrize()
@SETTINGS
def test_payments_api_matches_its_schema(case, api_key):
    check_operation(case, api_key)


@schema.include(path_regex=_paths_of(PARTS["imports_and_connectors"])).parametrize()
@SETTINGS
def test_imports_and_connectors_api_matches_its_schema(case, api_key):
    check_operation(case, api_key)


@schema.exclude(path_regex=_paths_of([r for part in PARTS.values() for r in part])).parametrize()
@SETTINGS
def test_the_rest_of_the_api_matches_its_schema(case, api_key):
    check_operation(case, api_key)


def test_each_operation_is_checked_by_exactly_one_test(api_schema):
    def labels(part) -> list[str]:
        return [result.ok().label for result in part.get_all_operations()]

    every = [resource for part in PARTS.values() for resource in part]
    parts = [api_schema.include(path_regex=_paths_of(part)) for part in PARTS.values()]
    parts.append(api_schema.exclude(path_regex=_paths_of(every)))

    checked = [labels(part) for part in parts]

    assert all(checked), "a test without operations"
    assert sorted(sum(checked, [])) == sorted(labels(api_schema))
