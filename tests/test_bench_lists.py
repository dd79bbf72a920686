"""The list benchmark runs end to end at a tiny size (a smoke test: no timing is checked)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.db import connection

from bench.generate import generate
from bench.lists import run
from lien.contacts.models import Contact
from lien.core.models import Organization


@pytest.mark.django_db
def test_list_benchmark_runs_every_case_and_writes_its_plans(tmp_path):
    # Given a tiny generated association
    generate(contacts=400, interactions=1200, structures=30, slug="bench-lists", out=StringIO())

    # When the list benchmark runs on it, following a few pages for the deep one
    out = StringIO()
    results = run(
        slug="bench-lists", repeat=2, depth=3, explain_cases=None, out_dir=tmp_path, out=out
    )

    # Then every case ran, with the data-driven searches finding their contact
    by_key = {result.key: result for result in results}
    assert set(by_key) >= {
        "a_first_page",
        "b_created_desc",
        "c_deep_page",
        "c_deep_90_name",
        "c_deep_90_created",
        "d_label_common",
        "d_label_rare",
        "e_search_prefix",
        "e_search_full_name",
        "e_search_common_name",
        "e_search_email",
        "e_search_phone",
        "f_structures",
        "g_group",
        "h_count",
    }
    assert all(len(result.timings_ms) == 2 for result in results)
    assert by_key["a_first_page"].rows == 50
    assert by_key["c_deep_page"].detail == "3 × next_cursor"
    organization = Organization.objects.get(slug="bench-lists")
    assert by_key["h_count"].rows == Contact.objects.for_org(organization).not_deleted().count()
    for key in ("c_deep_90_name", "c_deep_90_created"):
        assert 1 <= by_key[key].rows <= 50, key
    # (the most frequent first and last names may never meet at this size: no check there)
    for key in ("e_search_full_name", "e_search_email", "e_search_phone"):
        assert by_key[key].rows >= 1, key
    # And each page's queries were explained, and the results saved
    plan = (tmp_path / f"explain-{connection.vendor}-a_first_page.txt").read_text()
    assert "requête 2" in plan  # the rows, then their labels
    saved = json.loads((tmp_path / f"lists-{connection.vendor}.json").read_text())
    assert [r["key"] for r in saved["results"]] == [r.key for r in results]
