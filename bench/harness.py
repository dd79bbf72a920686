"""What the benchmarks share: Django set-up, cases, timing, and the plans of a case's queries.

Benchmarks are not tests: nothing here checks a timing.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(database_url: str | None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lien.settings")
    import django

    django.setup()


@dataclass
class Case:
    key: str
    title: str
    run: Callable[[], int]  # builds the page (or the count); returns the rows shown (or counted)
    detail: str = ""


@dataclass
class Result:
    key: str
    title: str
    detail: str
    rows: int
    timings_ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.timings_ms)


class QueryRecorder:
    """Collects (sql, params) of every query run inside it (connection.execute_wrapper)."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, tuple]] = []

    def __call__(self, execute, sql, params, many, context):
        self.queries.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)


def time_case(case: Case, repeat: int) -> Result:
    rows = case.run()  # warm-up, untimed
    result = Result(case.key, case.title, case.detail, rows)
    for _ in range(repeat):
        start = time.perf_counter()
        case.run()
        result.timings_ms.append((time.perf_counter() - start) * 1000)
    return result


def explain(case: Case, out_dir: Path, label: str, name: str = "") -> Path:
    """Run the case once, recording its queries, and write each query's plan."""
    from django.db import connection

    recorder = QueryRecorder()
    with connection.execute_wrapper(recorder):
        case.run()
    postgres = connection.vendor == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    lines = [f"# {case.key}: {case.title} {case.detail}".rstrip(), f"# {label}", ""]
    for i, (sql, params) in enumerate(recorder.queries, start=1):
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql, params)
            plan = cursor.fetchall()
        lines += [f"-- requête {i}", sql, f"-- paramètres : {params!r}", ""]
        if postgres:
            lines += [row[0] for row in plan]
        else:  # (id, parent, notused, detail): indent by depth like the sqlite3 shell
            depth: dict[int, int] = {0: -1}
            for node, parent, _, detail in plan:
                depth[node] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node] + detail)
        lines.append("")
    path = out_dir / f"explain-{connection.vendor}-{name}{case.key}.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
