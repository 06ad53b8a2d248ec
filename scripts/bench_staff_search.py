"""Benchmark the staff records search on 100,000 proofs.

    .venv/bin/python scripts/bench_staff_search.py [--proofs 100000] [--repeat 20]

Seeds a temporary database (public ids shaped like the real ones: P- and 8 of 30 letters
and digits; names with accents: Zoë, Müller, García, Łucja) (raw inserts: this measures the search, not proof creation)
through the real migrations, so the trigram index is filled by the real triggers, then
prints the median and worst latency in milliseconds of each kind of query staff run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from proofmark import db as site_db
from proofmark.staff.search import SearchQuery, search

FIRST = [
    "Sophie",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Mateo",
    "Zoë",
    "Łucja",
    "Amara",
    "Jonah",
    "Grace",
    "Yusuf",
]
LAST = ["Smith", "García", "Kowalski", "Nguyen", "Okafor", "Müller", "Rossi", "Haddad", "Lee", "Brown"]
WORDS = ["Forever", "Always", "Love", "Grandma", "Papa", "Mom", "Est.", "Together", "Baby", "Memories"]
PRODUCTS = [
    "pendant-round",
    "bar-necklace",
    "ring-band",
    "ornament-stamped",
    "cutting-board",
    "tshirt",
    "mug",
]
FONTS = ["great-vibes", "dancing-script", "playfair-display", "montserrat", "lato", "eb-garamond"]
STATUSES = ["approved"] * 6 + ["awaiting_approval", "changes_requested", "expired", "cancelled"]


ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # as proofs.service makes public ids


def seed(database, n: int) -> None:
    rng = random.Random(7)
    public_ids: set[str] = set()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with site_db.transaction(database):
        for i in range(1, n + 1):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            lines = [
                f"{rng.choice(FIRST)} {rng.choice(WORDS)}",
                f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.20{rng.randint(10, 26)}",
            ]
            text = " / ".join(lines)
            at = (start + timedelta(minutes=i * 5 + rng.randint(0, 4))).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            product, font = rng.choice(PRODUCTS), rng.choice(FONTS)
            public_id = "P-" + "".join(rng.choice(ALPHABET) for _ in range(8))
            while public_id in public_ids:
                public_id = "P-" + "".join(rng.choice(ALPHABET) for _ in range(8))
            public_ids.add(public_id)
            database.execute(
                "INSERT INTO proofs (id, public_id, order_ref, customer_name, customer_email, product, font, text,"
                " status, current_revision, source, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,1,'shop',?,?)",
                (
                    i,
                    public_id,
                    f"#{100000 + i}",
                    f"{first} {last}",
                    f"{first.lower()}.{last.lower()}{i}@example.com",
                    product,
                    font,
                    text,
                    rng.choice(STATUSES),
                    at,
                    at,
                ),
            )
            database.execute(
                "INSERT INTO revisions (proof_id, number, design, text, font, image_sha256, renderer_version, nonce,"
                " created_by, created_at) VALUES (?, 1, ?, ?, ?, ?, '1', 'n', 'customer', ?)",
                (i, json.dumps({"product": product, "font": font, "lines": lines}), text, font, "0" * 64, at),
            )


def measure(database, query: SearchQuery, repeat: int) -> tuple[float, float, int]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        page = search(database, query)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), max(times), page.total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proofs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = site_db.connect(Path(tmp) / "bench.sqlite")
        site_db.migrate(database)
        t = time.perf_counter()
        seed(database, args.proofs)
        print(
            f"seeded {args.proofs:,} proofs (with revisions and search index) in {time.perf_counter() - t:.1f} s"
        )
        first_page = search(database, SearchQuery())
        cursor = first_page.next_cursor
        for _ in range(200):  # walk 200 pages deep for the keyset case
            cursor = search(database, SearchQuery(after=cursor)).next_cursor
        some_email, some_public_id = database.execute(
            "SELECT customer_email, public_id FROM proofs WHERE id = ?", (args.proofs // 2,)
        ).fetchone()
        cases = [
            ("newest first, no filter", SearchQuery()),
            ("page 201 (keyset cursor)", SearchQuery(after=cursor)),
            ("order ref exact", SearchQuery(q=f"#{100000 + args.proofs // 2}")),
            ("email", SearchQuery(q=some_email)),
            ("customer name", SearchQuery(q="Kowalski")),
            ("public id as quoted (P-XXXXXXXX)", SearchQuery(q=some_public_id)),
            ("public id, lower case, no dash", SearchQuery(q=some_public_id[2:].lower())),
            ("'muller' (finds Müller)", SearchQuery(q="muller")),
            ("'zoe' (finds Zoë)", SearchQuery(q="zoe")),
            ("'zoe muller' (two folded terms)", SearchQuery(q="zoe muller")),
            ("text fragment (common)", SearchQuery(q="ophie")),
            ("text fragment (rare)", SearchQuery(q="Grace Memories")),
            ("text fragment, no match", SearchQuery(q="Xylophone")),
            ("two letters (LIKE fallback)", SearchQuery(q="Zo")),
            ("status filter", SearchQuery(status="expired")),
            (
                "product + date range",
                SearchQuery(product="mug", date_from=date(2025, 3, 1), date_to=date(2025, 3, 31)),
            ),
            ("text + status + product", SearchQuery(q="Love", status="approved", product="pendant-round")),
        ]
        # The machine is shared: the load average says how noisy these numbers are.
        print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
        print(f"{'query':<36} {'median ms':>10} {'max ms':>8} {'matches':>9}")
        for label, query in cases:
            median, worst, total = measure(database, query, args.repeat)
            print(f"{label:<36} {median:>10.2f} {worst:>8.2f} {total:>9,}")
        print("load average after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
        database.conn.close()


if __name__ == "__main__":
    main()
