"""The interactions benchmark runs end to end at a tiny size (a smoke test: no timing checked)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.db import connection

from bench.generate import generate
from bench.interactions import BENCH_ROLE, run
from lien.contacts.models import ContactStructureLink
from lien.core.models import Organization
from lien.interactions.models import Interaction

CASES = {
    "a_timeline_busy",
    "a_timeline_typical",
    "b_timeline_deep",
    "c_structure_rollup",
    "d_group",
    "e_table",
    "f_type_common_3m",
    "f_type_rare_1y",
    "f_type_rare_old_year",
    "g_label_common",
    "g_label_rare",
    "h_contact_label_common",
    "h_contact_label_rare",
    "i_table_deep_90",
    "j_count_type_common_3m",
    "j_count_type_rare_1y",
    "j_count_type_rare_old_year",
}


@pytest.mark.django_db
def test_interactions_benchmark_runs_every_case_and_writes_its_plans(tmp_path):
    # Given a tiny generated association
    generate(contacts=300, interactions=3000, structures=20, slug="bench-inter", out=StringIO())
    organization = Organization.objects.get(slug="bench-inter")

    # When the interactions benchmark runs on it, wanting a structure of 40 members
    results = run(
        slug="bench-inter",
        repeat=2,
        depth=2,
        members=40,
        explain_cases=None,
        out_dir=tmp_path,
        out=StringIO(),
    )

    # Then every case ran twice, on pages of 25 rows at most
    by_key = {result.key: result for result in results}
    assert set(by_key) == CASES
    assert [r.key[0] for r in results] == sorted(r.key[0] for r in results)
    assert all(len(result.timings_ms) == 2 for result in results)
    assert by_key["e_table"].rows == 25
    assert by_key["a_timeline_busy"].rows == 25
    assert by_key["b_timeline_deep"].detail == "2 × next_cursor"
    assert all(r.rows <= 25 for r in results if not r.key.startswith("j_"))
    assert 1 <= by_key["i_table_deep_90"].rows <= 25
    assert by_key["c_structure_rollup"].rows >= 1
    # And a count is a count of the organisation's interactions
    total = Interaction.objects.for_org(organization).count()
    assert 0 <= by_key["j_count_type_common_3m"].rows <= total

    # And the structure got its members once: a second run creates no link
    links = ContactStructureLink.objects.for_org(organization)
    structure_id = links.filter(role=BENCH_ROLE).values_list("structure_id", flat=True).first()
    assert links.filter(structure_id=structure_id).count() == 40
    run(
        slug="bench-inter",
        repeat=1,
        depth=1,
        members=40,
        explain_cases=(),
        out_dir=tmp_path,
        out=StringIO(),
    )
    assert links.filter(structure_id=structure_id).count() == 40

    # And each page's queries were explained, and the results saved
    plan = (tmp_path / f"explain-{connection.vendor}-interactions-e_table.txt").read_text()
    assert "requête 1" in plan
    saved = json.loads((tmp_path / f"interactions-{connection.vendor}.json").read_text())
    assert [r["key"] for r in saved["results"]] == [r.key for r in results]
