"""A contacts import at scale: check + run of a generated CSV, with reconciliation.

    .venv/bin/python bench/imports.py \\
        --database-url postgres://postgres@127.0.0.1:5432/lien_bench \\
        --slug bench-1000000 [--rows 100000] [--existing 0.3] [--chunk 1000] \\
        [--keep] [--out bench/out]

Generates a 15-column French CSV in /tmp (UTF-8 with BOM, semicolons): names,
email, mobile, address, postal code, city, country, birth date (JJ/MM/AAAA), notes,
email consent, a labels column and three custom fields of the association (or
created for the bench). A share `--existing` of the rows carry the email and names
of contacts already in the association (they reconcile: filled or unchanged), the
others are new people; 1 % of rows repeat an earlier row (one person, one contact).

Then, through the real services of ``lien/imports/``: ``create_import`` (store,
detect, suggest), ``check_import`` (dry run) and ``run_import`` (chunks), timed with
``time.perf_counter``; rows/s is the file's rows over check + run. Peak memory is
the process's peak RSS (``resource.getrusage``), printed before and after.

Unless ``--keep``, the import is undone at the end (``undo_import``, timed too), so
the bench association is left as it was; the uploaded file is deleted.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import setup_django  # noqa: E402

DEFAULT_OUT = ROOT / "bench" / "out"
HEADERS = [
    "Prénom", "Nom", "Email", "Portable", "Adresse", "Code postal", "Ville", "Pays",
    "Date de naissance", "Notes", "Newsletter", "Étiquettes",
]  # fmt: skip
LABELS = ["Bénévole", "Sympathisant", "Presse", "Élu", "Partenaire"]
FIRST_NAMES = ["Camille", "Léa", "Hugo", "Chloé", "Lucas", "Manon", "Louis", "Inès", "Jules",
               "Zoé", "Gabriel", "Élise", "Arthur", "Jeanne", "Théo", "Anaïs"]  # fmt: skip
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
              "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia",
              "Fournier"]  # fmt: skip


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def server_cpu_s() -> float | None:
    """CPU seconds this connection's PostgreSQL backend has used so far (user + system),
    read from /proc when the server runs on this machine; None otherwise (SQLite, a
    remote server). With it, « le reste attend le serveur » splits into the server's work
    and time neither side computed (a busy host's other tenants, locks, the disk)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


TOUCHED_TABLES = [
    "contacts_contact", "contacts_contactlabel", "contacts_groupmembership",
    "contacts_externalid", "contacts_contactstructurelink", "imports_importrow",
    "core_auditevent",
]  # fmt: skip


def vacuum_touched_tables() -> None:
    """After the undo, the tables' dead rows cleared as autovacuum would: without it (CI's
    PostgreSQL runs with autovacuum off) each run leaves 70,000 dead contacts and their
    index entries, and the next run is slower (here 46 → 67 s over four runs)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in TOUCHED_TABLES:
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def cpu_reference_s() -> float:
    """Seconds for a fixed pure-Python loop: how fast this machine's cores are today, so
    that numbers measured on different machines can be compared (a new machine per
    session; 1.33 to 1.42 s on the machine of 23/11/2026, 5th session)."""
    start = time.perf_counter()
    total = 0
    for i in range(20_000_000):
        total += i
    return round(time.perf_counter() - start, 2)


def custom_fields(organization):
    """Three contact custom fields: a text, a choice and a date (created if missing)."""
    from lien.contacts import services as contacts
    from lien.contacts.models import CustomField
    from lien.core.audit import Actor

    wanted = [
        ("Profession (bench)", "text", []),
        ("Tranche d'âge (bench)", "choice", ["18-25", "26-40", "41-60", "61+"]),
        ("Première venue (bench)", "date", []),
    ]
    found = []
    for name, kind, choices in wanted:
        field = (
            CustomField.objects.for_org(organization).filter(target="contact", name=name).first()
        )
        field = field or contacts.save_custom_field(
            organization=organization, actor=Actor.system(), target="contact", name=name,
            field_type=kind, choices=choices,
        )  # fmt: skip
        found.append(field)
    return found


def generate(path: Path, organization, rows: int, existing: float, seed: int) -> dict:
    from unidecode import unidecode

    from lien.contacts.models import Contact
    from lien.core.demo_data import LOCAL_CITIES, OTHER_CITIES

    rng = random.Random(seed)
    CITIES = LOCAL_CITIES + OTHER_CITIES  # noqa: N806
    known = list(
        Contact.objects.for_org(organization)
        .exclude(email_normalized="")
        .order_by("pk")
        .values_list("first_name", "last_name", "email")[: int(rows * existing) * 3]
    )
    rng.shuffle(known)
    known = known[: int(rows * existing)]
    fields = custom_fields(organization)
    header = HEADERS + [f.name for f in fields]
    matched = 0
    written: list[list[str]] = []
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(header)
        for n in range(rows):
            if written and rng.random() < 0.01:
                writer.writerow(rng.choice(written))
                continue
            if n % max(1, int(1 / existing)) == 0 and known:
                first, last, email = known.pop()
                matched += 1
            else:
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                email = unidecode(f"{first}.{last}.{n}@import-bench.example".lower())
            postal, city_name = rng.choice(CITIES)
            row = [
                first, last, email, f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)} {rng.randint(10, 99)}",
                f"{rng.randint(1, 120)} rue {rng.choice(LAST_NAMES)}", str(postal), city_name,
                "France", f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/"
                f"{rng.randint(1940, 2005)}", rng.choice(["", "", "Rencontré au forum"]),
                rng.choice(["oui", "non", ""]),
                ", ".join(rng.sample(LABELS, rng.randint(0, 2))),
                rng.choice(["Enseignant", "Retraité", "Étudiant", ""]),
                rng.choice(["18-25", "26-40", "41-60", "61+"]),
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2024",
            ]  # fmt: skip
            writer.writerow(row)
            if len(written) < 1000:
                written.append(row)
    return {"rows": rows, "columns": len(header), "existing": matched, "bytes": path.stat().st_size}


def profiled(prefix: Path | None, name: str, work):
    """Run `work`, under cProfile when a prefix is given (stats in <prefix>-<name>.prof)."""
    if prefix is None:
        return work()
    import cProfile

    profiler = cProfile.Profile()
    try:
        return profiler.runcall(work)
    finally:
        profiler.dump_stats(f"{prefix}-{name}.prof")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--slug", default="bench-1000000")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--existing", type=float, default=0.3)
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--profile", type=Path, help="write cProfile stats of the check and the run to this prefix"
    )
    args = parser.parse_args()
    setup_django(args.database_url)
    os.environ.setdefault("LIEN_IMPORT_MAX_BYTES", str(1 << 30))
    from django.conf import settings
    from django.core.files import File
    from django.db import connection

    settings.LIEN_IMPORT_MAX_BYTES = 1 << 30
    from lien.core.audit import Actor
    from lien.core.models import Membership, Organization
    from lien.imports import services
    from lien.imports.models import Import

    organization = Organization.objects.get(slug=args.slug)
    admin = Membership.objects.filter(organization=organization).select_related("user").first()
    actor = Actor.for_user(admin.user if admin else None)
    path = Path(f"/tmp/lien-import-bench-{args.rows}.csv")
    started = time.perf_counter()
    shape = generate(path, organization, args.rows, args.existing, args.seed)
    print(f"fichier : {shape} en {time.perf_counter() - started:.1f} s — {path}")
    rss_before = peak_rss_mb()
    results: dict = {"rows": args.rows, "shape": shape, "rss_before_mb": round(rss_before)}

    start = time.perf_counter()
    with path.open("rb") as handle:
        imp = services.create_import(
            organization=organization, actor=actor, target="contacts",
            file=File(handle, name=path.name),
        )  # fmt: skip
    Import.objects.filter(pk=imp.pk).update(chunk_size=args.chunk)
    imp.refresh_from_db()
    mapping = services.suggested_mapping(imp)
    services.configure_import(organization=organization, imp=imp, mapping=mapping,
                              transforms={"create_missing_choices": True},
                              options={"skip_errors": True})  # fmt: skip
    results["upload_s"] = round(time.perf_counter() - start, 2)
    print(f"dépôt + détection : {results['upload_s']} s ; correspondances : {mapping}")

    results["cpu_reference_s"] = cpu_reference_s()
    print(f"référence de calcul (boucle Python fixe) : {results['cpu_reference_s']} s")

    def server_part(before: float | None, key: str) -> str:
        after = server_cpu_s()
        if before is None or after is None:
            return ""
        results[key] = round(after - before, 2)
        return f", {results[key]} s de calcul de PostgreSQL"

    start, cpu, server = time.perf_counter(), time.process_time(), server_cpu_s()
    summary = profiled(args.profile, "check", lambda: services.check_import(imp=imp))
    results["check_s"] = round(time.perf_counter() - start, 2)
    results["check_cpu_s"] = round(time.process_time() - cpu, 2)
    print(f"vérification : {results['check_s']} s (dont {results['check_cpu_s']} s de calcul"
          f" de ce processus{server_part(server, 'check_server_s')}) — {summary['message']}")
    imp.refresh_from_db()

    start, cpu, server = time.perf_counter(), time.process_time(), server_cpu_s()
    outcome = profiled(
        args.profile, "run", lambda: services.run_import(imp=imp, user=actor.user)
    )
    results["run_s"] = round(time.perf_counter() - start, 2)
    results["run_cpu_s"] = round(time.process_time() - cpu, 2)
    results["plans"] = outcome.get("plans")
    waits = "le reste attend le serveur" if connection.vendor == "postgresql" else "SQLite compris"
    print(f"import : {results['run_s']} s (dont {results['run_cpu_s']} s de calcul de ce"
          f" processus{server_part(server, 'run_server_s')}, {waits}) — {outcome['message']}"
          f" (plans : {results['plans']})")
    total = results["check_s"] + results["run_s"]
    results["rows_per_s"] = round(args.rows / total)
    results["peak_rss_mb"] = round(peak_rss_mb())
    print(
        f"bout à bout (vérification + import) : {total:.1f} s, {results['rows_per_s']} lignes/s ;"
        f" pic de mémoire (RSS) {results['peak_rss_mb']} Mo (avant l'import : {rss_before:.0f} Mo)"
    )
    if not args.keep:
        imp.refresh_from_db()
        start = time.perf_counter()
        undone = services.undo_import(organization=organization, actor=actor, imp=imp)
        results["undo_s"] = round(time.perf_counter() - start, 2)
        print(f"annulation : {results['undo_s']} s — {undone}")
        from django.core.files.storage import default_storage

        default_storage.delete(imp.file_name)
        if connection.vendor == "postgresql":
            start = time.perf_counter()
            vacuum_touched_tables()
            print(f"VACUUM ANALYZE des tables touchées : {time.perf_counter() - start:.1f} s")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "imports.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
