"""The demo shop that the run command seeds, so a newcomer can walk the whole loop."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import sqlite_utils
from flask import current_app, has_app_context

from proofmark.db import transaction

DEMO_STAFF_EMAIL = "staff@demo.proofmark.test"


def seed(database: sqlite_utils.Database) -> Iterator[str]:
    """Idempotent: each step checks what exists and keeps it."""
    with transaction(database):
        database.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('demo_seeded', datetime('now'))")
    yield "Demo shop ready: the catalog is in renderer/products.toml."
    yield from seed_staff(database)
    yield from seed_products(database)


def seed_products(database: sqlite_utils.Database) -> Iterator[str]:
    """Four of the shop's own products on photos the project draws itself
    (proofmark_renderer.photo_samples), imported like any product folder: a dog tag
    (perspective), a tumbler (cylinder), a maple sign (flat, laser) and a round plaque whose
    name arches along its rim (arc, laser). Demo mode only."""
    import tempfile
    from pathlib import Path

    from proofmark import products
    from proofmark_renderer import photo_variants

    if not has_app_context() or not current_app.config.get("DEMO"):
        return
    have = {r[0] for r in database.execute("SELECT DISTINCT product_id FROM product_versions")}
    if {"dog-tag", "tumbler", "maple-sign", "round-plaque"} <= have:
        return
    with tempfile.TemporaryDirectory() as tmp:
        # The photo samples with their added views (close-ups) and the dog tag's black variant.
        for folder in photo_variants.write(Path(tmp)):
            if folder.name in have:
                continue
            product_id, version = products.import_folder(database, folder, "demo")
            yield f"Demo product on its own photo: {product_id} version {version} (staff: Products)."


def seed_staff(database: sqlite_utils.Database) -> Iterator[str]:
    """A demo staff login, created on the first demo start and printed that once: the password
    is random and stored only as a hash, so a later start cannot show it again."""
    from proofmark.staff import accounts

    if has_app_context() and not current_app.config.get("DEMO"):
        # Production never gets a built-in account.
        return
    public_url = current_app.config["PUBLIC_URL"] if has_app_context() else "http://127.0.0.1:5000"
    if accounts.find(database, DEMO_STAFF_EMAIL) is not None:
        yield (
            f"Demo staff login: {DEMO_STAFF_EMAIL} (password shown when it was created; set a new one with "
            f"`flask --app proofmark create-staff {DEMO_STAFF_EMAIL} --reset-password`)."
        )
        return
    password = "demo-" + secrets.token_urlsafe(9)
    accounts.create(database, DEMO_STAFF_EMAIL, password)
    yield f"Demo staff login (shown once): {DEMO_STAFF_EMAIL} / {password} at {public_url}/staff/login"
