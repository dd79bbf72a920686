"""The HelloAsso sync at scale: N items from the fake HelloAsso into an empty organisation,
then a re-sync.

    .venv/bin/python bench/helloasso.py \\
        --database-url postgres://postgres@127.0.0.1:5432/lien_ha_bench [--items 50000]

The fake server of the tests (tests/helloasso_fake.py, a real local HTTP server, in a
thread of this process) holds three chosen forms — donations (one item per order, a
tenth monthly), memberships (a third of the orders also pay for a child: payer ≠
beneficiary) and an event (two tickets an order) — and one form left out. About 40 % of
the orders come from payers seen earlier (same email and names: one contact).

Three runs through the real services (`run_sync`), timed with `time.perf_counter`:

1. the first sync of a new organisation (created for the bench: slug
   `bench-helloasso-<time>`) — items/s is the items read over the run's time;
2. a re-sync right after (incremental: what changed since the first);
3. a full re-read: every form's sync point reset (as when the start date moves
   earlier), all N items read and upserted again.

After each re-sync, the rows of every table the sync writes are counted again: the
difference is the rows the re-sync created (it must be 0). The organisation is kept
(the bench database is made for it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import setup_django  # noqa: E402

FIRST = ["Camille", "Léa", "Hugo", "Chloé", "Lucas", "Manon", "Louis", "Inès", "Jules", "Zoé",
         "Gabriel", "Élise", "Arthur", "Jeanne", "Théo", "Anaïs"]  # fmt: skip
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia",
        "Fournier"]  # fmt: skip
CITIES = [("Lyon", "69003"), ("Paris", "75011"), ("Nantes", "44000"), ("Lille", "59000")]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill(fake, items: int, seed: int = 8) -> int:
    """Orders on the fake server until `items` items; returns the number of orders."""
    rng = random.Random(seed)
    fake.add_form("Donation", "dons", "Dons en ligne")
    fake.add_form("Membership", "adhesion", "Adhésion annuelle", validity_type="MovingYear")
    fake.add_form("Event", "gala", "Gala de printemps")
    fake.add_form("Shop", "boutique", "Boutique (non importée)")
    payers: list[dict] = []
    start = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
    made = orders = 0
    while made < items:
        if payers and rng.random() < 0.4:
            payer = rng.choice(payers)
        else:
            n = len(payers)
            city, code = rng.choice(CITIES)
            payer = {
                "firstName": rng.choice(FIRST), "lastName": rng.choice(LAST),
                "email": f"donateur{n}@exemple.org", "address": f"{n % 200 + 1} rue de la Paix",
                "city": city, "zipCode": code, "country": "FRA",
            }  # fmt: skip
            payers.append(payer)
        date = start + dt.timedelta(minutes=7 * orders)
        roll = rng.random()
        if roll < 0.5:
            kind = "MonthlyDonation" if rng.random() < 0.1 else "Donation"
            spec = [{"name": "Don", "type": kind, "amount": rng.choice([1000, 2000, 5000, 10000])}]
            form = ("Donation", "dons")
        elif roll < 0.8:
            spec = [{"name": "Adhésion", "type": "Membership", "amount": 3000}]
            if rng.random() < 0.33:
                spec.append(
                    {"name": "Adhésion enfant", "type": "Membership", "amount": 1500,
                     "user": {"firstName": rng.choice(FIRST), "lastName": payer["lastName"]}}
                )  # fmt: skip
            form = ("Membership", "adhesion")
        else:
            spec = [{"name": "Billet", "type": "Registration", "amount": 2500}] * 2
            spec = [dict(s) for s in spec]
            form = ("Event", "gala")
        spec = spec[: items - made]
        fake.add_order(*form, payer=payer, items=spec, date=date)
        made += len(spec)
        orders += 1
    fake.add_order(
        "Shop", "boutique", payer=payers[0], date=start,
        items=[{"name": "Tote bag", "type": "Product", "amount": 1200}],
    )  # fmt: skip
    return orders


def table_counts(organization) -> dict[str, int]:
    from lien.connectors.models import HelloAssoSyncRun
    from lien.contacts.models import (
        Contact,  # noqa: I001
        ContactLabel,
        ExternalId,
    )
    from lien.core.models import AuditEvent
    from lien.interactions.models import Interaction
    from lien.payments.models import Campaign, MembershipPeriod, Payment

    models = {
        "contacts": Contact, "payments": Payment, "membership_periods": MembershipPeriod,
        "interactions": Interaction, "external_ids": ExternalId, "contact_labels": ContactLabel,
        "campaigns": Campaign, "audit_events": AuditEvent,
    }  # fmt: skip
    counts = {name: model.objects.for_org(organization).count() for name, model in models.items()}
    counts["sync_runs"] = HelloAssoSyncRun.objects.for_org(organization).count()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--items", type=int, default=50_000)
    args = parser.parse_args()
    setup_django(args.database_url)

    from django.conf import settings
    from django.db import connection

    from lien.connectors.helloasso import services
    from lien.connectors.models import HelloAssoForm
    from lien.core.audit import Actor
    from lien.core.models import User
    from lien.core.services import create_organization
    from tests.helloasso_fake import CLIENT_ID, CLIENT_SECRET, ORG_SLUG, FakeHelloAsso

    fake = FakeHelloAsso().start()
    settings.HELLOASSO_API_URL, settings.HELLOASSO_TOKEN_URL = fake.url, fake.token_url
    started = time.perf_counter()
    orders = fill(fake, args.items)
    seconds = time.perf_counter() - started
    print(f"fake HelloAsso: {args.items} items in {orders} orders, {seconds:.1f} s")

    stamp = int(time.time())
    admin, _ = User.objects.get_or_create(
        email=f"bench-helloasso-{stamp}@exemple.org", defaults={"full_name": "Banc HelloAsso"}
    )
    organization = create_organization(name=f"Banc HelloAsso {stamp}", admin=admin)
    actor = Actor.system("Banc HelloAsso")
    services.save_credentials(
        organization=organization, actor=actor, client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET, organization_slug=ORG_SLUG,
    )  # fmt: skip
    services.set_start_date(organization=organization, actor=actor, start_date=dt.date(2026, 1, 1))
    forms = services.refresh_forms(organization=organization)
    services.choose_forms(
        organization=organization, actor=actor,
        selected={f.pk: None for f in forms if f.form_type != "Shop"},
    )  # fmt: skip
    print(f"database: {connection.vendor}, organisation {organization.slug}")

    def timed(label: str):
        before = table_counts(organization)
        requests = len(fake.state.requests)
        t0 = time.perf_counter()
        run = services.run_sync(organization=organization, trigger="commande")
        seconds = time.perf_counter() - t0
        after = table_counts(organization)
        created = {k: after[k] - before[k] for k in after if after[k] != before[k]}
        rate = run.items_seen / seconds if seconds else 0
        print(
            f"{label}: {run.status} in {seconds:.1f} s — {run.items_seen} items "
            f"({rate:,.0f} items/s), {len(fake.state.requests) - requests} HTTP requests; "
            f"contacts +{run.contacts_created} ~{run.contacts_updated}, payments "
            f"+{run.payments_created} ~{run.payments_updated}, errors {len(run.errors)}; "
            f"rows created: {created or 0}; peak RSS {peak_rss_mb():.0f} MB"
        )
        if run.status != "réussi":
            print(f"  {run.message}")
        return run, created

    timed("first sync")
    timed("re-sync (incremental)")
    HelloAssoForm.objects.for_org(organization).update(synced_until=None)
    timed("full re-read")
    print("rows:", table_counts(organization))
    fake.stop()


if __name__ == "__main__":
    main()
