"""The export benchmark runs end to end at a tiny size (a smoke test: no timing checked)."""

from __future__ import annotations

import json

import pytest

from bench.export import main
from lien.contacts.models import Contact
from lien.core.models import Organization
from tests.conftest import make_organization


@pytest.mark.django_db
def test_export_benchmark_measures_csv_and_xlsx(tmp_path, capsys):
    # Given a small association of 120 contacts, one of them in the trash
    organization = make_organization("Bench Export", "admin@bench-export.fr")
    Organization.objects.filter(pk=organization.pk).update(slug="bench-exp")
    Contact.objects.bulk_create(
        [
            Contact(organization=organization, first_name=f"P{i}", last_name="Nom",
                    is_deleted=i == 0)
            for i in range(120)
        ]
    )  # fmt: skip
    total = 119

    # When the benchmark exports its contacts in both formats (in this process: the test
    # database is not visible to a child process)
    measures = main(["--slug", "bench-exp", "--in-process", "--out", str(tmp_path)])

    # Then each format exported every contact and said its speed and memory
    assert [m["format"] for m in measures] == ["csv", "xlsx"]
    assert all(m["rows"] == total and m["rows_per_s"] > 0 for m in measures)
    assert all(m["peak_rss_mb"] >= m["start_rss_mb"] > 0 for m in measures), measures
    printed = capsys.readouterr().out
    assert "lignes/s" in printed and "pic" in printed
    summary = json.loads((tmp_path / f"export-{measures[0]['vendor']}.json").read_text())
    assert [r["key"] for r in summary["results"]] == ["csv", "xlsx"]

    # And the whole data set as a ZIP
    (archive,) = main(["--slug", "bench-exp", "--in-process", "--formats", "zip",
                       "--out", str(tmp_path)])  # fmt: skip
    assert archive["files"]["contacts.csv"] == 120  # the trash included: all the data


def test_a_run_past_its_timeout_is_stopped_and_keeps_its_rate(capsys):
    import queue

    from bench.export import _wait

    class Child:
        stopped = False

        def terminate(self):
            self.stopped = True

        def join(self):
            pass

    # Given a child that reported 40,000 rows in 10 s, then nothing more
    reports = queue.Queue()
    progress = {"rows": 40_000, "seconds": 10.0, "rows_per_s": 4000, "file_mb": 3.2,
                "peak_rss_mb": 80.5}  # fmt: skip
    reports.put({"progress": progress})
    child = Child()

    # When the run passes its timeout
    found = _wait(reports, child, "zip", 0.2)

    # Then the child is stopped and the rate so far is the measure
    assert child.stopped
    assert found["rows"] == 40_000 and found["rows_per_s"] == 4000
    assert found["stopped_after_s"] == 0.2
    assert "40,000 lignes" in capsys.readouterr().out
