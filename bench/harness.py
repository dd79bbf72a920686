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
    # Optional: the result's detail, once timed (what the last run found: counts, sums…).
    describe: Callable[[Result], str] | None = None


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
    if case.describe is not None:
        result.detail = case.describe(result)
    return result


# Statements that have no plan: the savepoints of a case run inside a transaction.
NOT_EXPLAINABLE = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK", "BEGIN", "COMMIT")
# A query with thousands of ids (an IN list, a bulk INSERT) is cut in the plan file.
SHOWN_CHARS = 4000


def _shown(text: str) -> str:
    if len(text) <= SHOWN_CHARS:
        return text
    return f"{text[:SHOWN_CHARS]} … ({len(text):,} caractères)"


def explain(
    case: Case, out_dir: Path, label: str, name: str = "", limit: int | None = None
) -> Path:
    """Run the case once, recording its queries, and write each query's plan.

    `limit`: explain the first `limit` queries only (a case that repeats one query
    shape, like an export read by chunks). On PostgreSQL the plans come from
    EXPLAIN ANALYZE, which runs the statement: a case that writes must be
    explained inside a transaction that the caller rolls back.
    """
    from django.db import connection

    recorder = QueryRecorder()
    with connection.execute_wrapper(recorder):
        case.run()
    postgres = connection.vendor == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    lines = [f"# {case.key}: {case.title} {case.detail}".rstrip(), f"# {label}", ""]
    queries = [
        (sql, params)
        for sql, params in recorder.queries
        if not sql.lstrip().upper().startswith(NOT_EXPLAINABLE)
    ]
    for i, (sql, params) in enumerate(queries, start=1):
        if limit is not None and i > limit:
            lines.append(f"-- {len(queries) - limit} requête(s) suivante(s) non expliquée(s)")
            break
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql, params)
            plan = cursor.fetchall()
        lines += [f"-- requête {i}", _shown(sql), f"-- paramètres : {_shown(repr(params))}", ""]
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


def write_results(out_dir: Path, name: str, meta: dict, results: list[Result]) -> Path:
    """The run's settings and every case's timings as JSON, beside the plans."""
    import datetime as dt
    import json

    summary = {
        **meta,
        "cpus": os.cpu_count(),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "results": [
            {
                "key": r.key,
                "title": r.title,
                "detail": r.detail,
                "rows": r.rows,
                "median_ms": round(r.median, 2),
                "min_ms": round(min(r.timings_ms), 2),
                "max_ms": round(max(r.timings_ms), 2),
                "timings_ms": [round(t, 2) for t in r.timings_ms],
            }
            for r in results
        ],
    }
    path = out_dir / name
    path.write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    return path
