"""The 16 kinds of tampering (README, "Tampering that is detected"), each done with raw SQL
on a real SQLite file by someone who can write the whole database but does not hold the
record key: triggers dropped, every unkeyed hash recomputed with the public algorithm (the
per-proof chain, the log's leaf hashes and its whole Merkle tree). Each is found by
`proofmark verify-records`, with a message that names what changed."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from proofmark import ledger, records
from proofmark.db import database_path, get_db
from proofmark.verify_evidence import node_hash
from tests.staff_support import add_revision, approve, create_proof, make_app
from tests.support import TEST_CONFIG, sign_in
from tests.tsa_support import TSA

TRIGGERED = ("events", "ledger_leaves", "ledger_nodes", "tree_heads", "anchors")


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    server = TSA(tmp_path_factory.mktemp("tsa"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def base(tmp_path_factory, tsa):
    """An instance with: an approved proof with a claim (SOPHIE), a proof awaiting approval
    (NOAH), a second approved proof (MIA), and the newest proof (LAST), all anchored."""
    folder = tmp_path_factory.mktemp("base") / "instance"
    app = make_app(folder, TSA_URLS=[tsa.url], TSA_ROOTS=[str(tsa.root)])
    ids = {}
    ids["sophie"] = create_proof(app, order_ref="SOPHIE", lines=("Sophie",))
    approve(app, ids["sophie"])
    ids["noah"] = create_proof(app, order_ref="NOAH", lines=("Noah",))
    ids["mia"] = create_proof(app, order_ref="MIA", lines=("Mia",))
    approve(app, ids["mia"])
    session = sign_in(app)
    response = session.post(
        f"/staff/proofs/{ids['sophie']}/claims/new",
        data={
            "kind": "text",
            "description": "The name is wrong",
            "expected_text": "Sofie",
            "action": "record",
        },
    )
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)[:300]
    ids["last"] = create_proof(app, order_ref="LAST", lines=("Last",))
    result = app.test_cli_runner().invoke(args=["anchor"])
    assert "anchored 1 head(s)" in result.output, result.output
    result = app.test_cli_runner().invoke(args=["verify-records"])
    assert result.exit_code == 0, result.output
    return folder, ids


@pytest.fixture
def inst(base, tmp_path, tsa):
    """A copy of the base instance (database by SQLite's backup API, images, config)."""
    folder, ids = base
    copy = tmp_path / "instance"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("proofmark.sqlite*"))
    src = sqlite3.connect(folder / "proofmark.sqlite")
    dst = sqlite3.connect(copy / "proofmark.sqlite")
    src.backup(dst)
    src.close()
    dst.close()
    app = make_app(copy, TSA_URLS=[tsa.url], TSA_ROOTS=[str(tsa.root)])
    return app, ids


# --- the attacker's tools: raw SQL and the public (unkeyed) algorithms --------------------


def raw(app) -> sqlite3.Connection:
    conn = sqlite3.connect(database_path(app), isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def tamper(app, *statements: tuple[str, tuple], recompute: bool = True) -> None:
    """Run `statements` with every append-only trigger dropped, then recompute every hash that
    needs no key, so that nothing but the keyed parts can tell."""
    conn = raw(app)
    try:
        conn.execute("BEGIN")
        triggers = conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN {TRIGGERED}"
        ).fetchall()
        for trigger in triggers:
            conn.execute(f"DROP TRIGGER {trigger['name']}")
        for sql, params in statements:
            conn.execute(sql, params)
        if recompute:
            recompute_unkeyed(conn)
        for trigger in triggers:
            conn.execute(trigger["sql"])
        conn.execute("COMMIT")
    finally:
        conn.close()


def recompute_unkeyed(conn: sqlite3.Connection) -> None:
    # Each proof's chain (proofmark.records' algorithm).
    for (proof_id,) in conn.execute("SELECT DISTINCT proof_id FROM events").fetchall():
        prev = records.GENESIS
        for row in conn.execute(
            "SELECT * FROM events WHERE proof_id = ? ORDER BY seq", (proof_id,)
        ).fetchall():
            hashes = records.canonical_json(records._field_hashes(dict(row)))
            digest = records._chain_hash(prev, hashes)
            conn.execute(
                "UPDATE events SET field_hashes = ?, prev_hash = ?, hash = ? WHERE id = ?",
                (hashes, prev, digest, row["id"]),
            )
            prev = digest
    # The log's leaf hashes over the entries as they now read (MACs kept: no key to redo them).
    prev = ledger.GENESIS
    leaves = []
    for leaf in conn.execute("SELECT * FROM ledger_leaves ORDER BY idx").fetchall():
        event = conn.execute("SELECT * FROM events WHERE id = ?", (leaf["event_id"],)).fetchone()
        if event is not None:
            values = ledger._values(None, leaf, prev, event=event)
            entry = ledger.entry_for(values, leaf["key_id"], json.loads(leaf["macs"]))
            digest = ledger.leaf_hash(ledger.entry_bytes(entry)).hex()
            conn.execute("UPDATE ledger_leaves SET leaf_hash = ? WHERE idx = ?", (digest, leaf["idx"]))
        else:
            digest = leaf["leaf_hash"]
        leaves.append(bytes.fromhex(digest))
        prev = digest
    # The whole tree, rebuilt.
    conn.execute("DELETE FROM ledger_nodes")
    level, current = 0, leaves
    while current:
        for i, h in enumerate(current):
            conn.execute("INSERT INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)", (level, i, h))
        current = [node_hash(current[i], current[i + 1]) for i in range(0, len(current) - 1, 2)]
        level += 1


def verify(app) -> str:
    result = app.test_cli_runner().invoke(args=["verify-records"])
    assert result.exit_code == 1, result.output
    return result.output


def event_of(app, proof_id, kind) -> dict:
    conn = raw(app)
    try:
        row = conn.execute(
            "SELECT * FROM events WHERE proof_id = ? AND kind = ? ORDER BY seq DESC LIMIT 1", (proof_id, kind)
        ).fetchone()
        return dict(row)
    finally:
        conn.close()


def public_id(app, proof_id) -> str:
    conn = raw(app)
    try:
        return conn.execute("SELECT public_id FROM proofs WHERE id = ?", (proof_id,)).fetchone()[0]
    finally:
        conn.close()


# --- 1. a forged approval -------------------------------------------------------------------


def forge_approval(app, proof_id):
    """An `approved` event for NOAH by plain INSERT: customer actor, invented IP and phone
    user agent, data copied from a real approval, a log entry with made-up MACs, every hash
    recomputed, and the proof's status set to match."""
    real = event_of(app, 1, "approved")
    data = json.loads(real["data"])
    last = event_of(app, proof_id, "email_queued")
    conn = raw(app)
    try:
        size = conn.execute("SELECT max(idx) + 1 FROM ledger_leaves").fetchone()[0]
        event_id = conn.execute("SELECT max(id) + 1 FROM events").fetchone()[0]
    finally:
        conn.close()
    at = "2026-11-30T23:59:00.000000Z"
    fake_macs = json.dumps({name: "0" * 64 for name in ledger.MAC_FIELDS})
    tamper(
        app,
        (
            "INSERT INTO events (id, proof_id, seq, kind, at, actor, ip, user_agent, data, field_hashes, prev_hash,"
            " hash) VALUES (?, ?, ?, 'approved', ?, 'customer', '198.51.100.77',"
            " 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)', ?, '', '', '')",
            (event_id, proof_id, last["seq"] + 1, at, records.canonical_json(data)),
        ),
        (
            "INSERT INTO ledger_leaves (idx, event_id, proof_id, kind, logged_at, key_id, macs, leaf_hash)"
            " SELECT ?, ?, ?, 'approved', ?, key_id, ?, '' FROM ledger_leaves LIMIT 1",
            (size, event_id, proof_id, at, fake_macs),
        ),
        ("UPDATE proofs SET status = 'approved', decided_at = ? WHERE id = ?", (at, proof_id)),
    )


def test_1_forged_approval_is_detected_refused_by_the_api_and_flagged_in_the_evidence(inst):
    app, ids = inst
    forge_approval(app, ids["noah"])
    out = verify(app)
    assert "proof 2 (NOAH): TAMPERED" in out
    assert "does not match its keyed MAC" in out and "made without the record key" in out
    assert "proof 1 (SOPHIE): intact" in out and "proof 3 (MIA): intact" in out

    from proofmark import api_keys

    with app.app_context():
        key = api_keys.create(get_db(), "production")
    client = app.test_client()
    shown = client.get(
        f"/api/proofs/{public_id(app, ids['noah'])}", headers={"Authorization": f"Bearer {key}"}
    ).get_json()["proof"]
    assert shown["status"] == "approved"  # what the database says...
    assert shown["approved"] is False and shown["record_verified"] is False  # ...is not a production signal
    genuine = client.get(
        f"/api/proofs/{public_id(app, ids['mia'])}", headers={"Authorization": f"Bearer {key}"}
    ).get_json()["proof"]
    assert genuine["approved"] is True

    staff = sign_in(app, create=False)
    evidence = staff.get(f"/staff/proofs/{ids['noah']}/evidence.json").get_json()
    assert evidence["approval"]["ip"] == "198.51.100.77"
    assert evidence["approval"]["verified"] is False
    assert evidence["verification"]["intact"] is False
    assert evidence["warnings"][0].startswith("The approval below FAILED verification")
    # The next anchoring run refuses to sign over it...
    anchored = app.test_cli_runner().invoke(args=["anchor"])
    assert (
        anchored.exit_code == 1
        and "refused to sign the tree head: the log does not verify" in anchored.output
    )
    conn = raw(app)
    assert conn.execute("SELECT count(*) FROM tree_heads").fetchone()[0] == 1
    conn.close()
    # ...so it cannot pass the independent check: no signed, timestamped head contains the forgery.
    from proofmark.verify_evidence import verify as verify_pack

    assert not verify_pack(evidence).ok


def test_1b_forged_approval_without_a_log_entry(inst):
    app, ids = inst
    last = event_of(app, ids["noah"], "email_queued")
    data = event_of(app, ids["sophie"], "approved")["data"]
    tamper(
        app,
        (
            "INSERT INTO events (proof_id, seq, kind, at, actor, ip, user_agent, data, field_hashes, prev_hash, hash)"
            " VALUES (?, ?, 'approved', '2026-12-01T00:00:00.000000Z', 'customer', '198.51.100.7', 'x', ?, '', '', '')",
            (ids["noah"], last["seq"] + 1, data),
        ),
        ("UPDATE proofs SET status = 'approved' WHERE id = ?", (ids["noah"],)),
    )
    out = verify(app)
    assert "the 'approved' event is not in the log: it was inserted without the application (forged)" in out


# --- 2. an approval edited -----------------------------------------------------------------


def test_2_approval_edited_names_the_fields(inst):
    app, ids = inst
    approval = event_of(app, ids["sophie"], "approved")
    data = json.loads(approval["data"])
    data["statements"] = data["statements"][:1]
    tamper(
        app,
        (
            "UPDATE events SET ip = '192.0.2.1', at = '2020-01-01T00:00:00.000000Z', data = ? WHERE id = ?",
            (records.canonical_json(data), approval["id"]),
        ),
    )
    out = verify(app)
    assert "proof 1 (SOPHIE): TAMPERED" in out
    for name in ("ip", "at", "data"):
        assert f"field '{name}' does not match its keyed MAC" in out
    assert "is before the previous event's" in out  # a time before the proof existed


# --- 3, 4, 5. deletions --------------------------------------------------------------------


def test_3_tail_truncation_of_a_proofs_chain(inst):
    app, ids = inst
    approval = event_of(app, ids["sophie"], "approved")
    tamper(
        app,
        ("DELETE FROM events WHERE proof_id = ? AND seq >= ?", (ids["sophie"], approval["seq"])),
        (
            "DELETE FROM ledger_leaves WHERE proof_id = ? AND kind NOT IN ('proof_created', 'revision_added')"
            " AND idx >= (SELECT idx FROM ledger_leaves WHERE event_id = ?)",
            (ids["sophie"], approval["id"]),
        ),
        ("UPDATE proofs SET status = 'awaiting_approval' WHERE id = ?", (ids["sophie"],)),
    )
    out = verify(app)
    assert "proof 1 (SOPHIE): TAMPERED" in out
    assert "are missing from the log (deleted)" in out


def test_3b_tail_truncation_with_the_log_renumbered(inst):
    """Deleting the entries and closing the gap: every later entry is then out of place."""
    app, ids = inst
    approval = event_of(app, ids["sophie"], "approved")
    conn = raw(app)
    leaf = conn.execute("SELECT idx FROM ledger_leaves WHERE event_id = ?", (approval["id"],)).fetchone()[0]
    conn.close()
    tamper(
        app,
        ("DELETE FROM events WHERE id = ?", (approval["id"],)),
        ("DELETE FROM ledger_leaves WHERE idx = ?", (leaf,)),
        ("UPDATE ledger_leaves SET idx = idx - 1 WHERE idx > ?", (leaf,)),
        ("UPDATE proofs SET status = 'awaiting_approval' WHERE id = ?", (ids["sophie"],)),
    )
    out = verify(app)
    assert "is not at the position it was recorded at (entries were renumbered)" in out
    assert (
        "a tree head of 21 entries was signed on" in out
        and "entries at the end of the log were removed" in out
    )


def test_4_all_events_of_a_proof_deleted(inst):
    app, ids = inst
    tamper(
        app,
        ("DELETE FROM events WHERE proof_id = ?", (ids["mia"],)),
        ("DELETE FROM ledger_leaves WHERE proof_id = ?", (ids["mia"],)),
    )
    out = verify(app)
    assert "proof 3 (MIA): TAMPERED" in out
    assert "proofs table: the proof has no events at all (all of them were deleted)" in out
    assert "are missing from the log (deleted)" in out


def test_4b_all_events_deleted_but_their_log_entries_kept(inst):
    app, ids = inst
    tamper(app, ("DELETE FROM events WHERE proof_id = ?", (ids["mia"],)))
    out = verify(app)
    assert "the 'approved' event of proof 3 recorded here is missing from the events table (deleted)" in out


def test_5_whole_proof_deleted_at_the_end_of_the_log(inst):
    """The newest proof, every row and every log entry of it: the log is then a valid shorter
    log, and only the signed, timestamped head of the longer one tells."""
    app, ids = inst
    last = ids["last"]
    tamper(
        app,
        ("DELETE FROM outbox WHERE proof_id = ?", (last,)),
        ("DELETE FROM revisions WHERE proof_id = ?", (last,)),
        ("DELETE FROM events WHERE proof_id = ?", (last,)),
        ("DELETE FROM ledger_leaves WHERE proof_id = ?", (last,)),
        ("DELETE FROM proofs WHERE id = ?", (last,)),
    )
    out = verify(app)
    assert "LAST" not in out  # the proof is gone from the listing...
    assert "entries at the end of the log were removed" in out  # ...but not from the signed head
    assert "log: " in out and "TAMPERED" in out
    page = sign_in(app, create=False).get("/staff/verify").get_data(as_text=True)
    assert "TAMPERED" in page and "entries at the end of the log were removed" in page


def test_5b_whole_proof_deleted_in_the_middle(inst):
    app, ids = inst
    noah = ids["noah"]
    tamper(
        app,
        ("DELETE FROM outbox WHERE proof_id = ?", (noah,)),
        ("DELETE FROM revisions WHERE proof_id = ?", (noah,)),
        ("DELETE FROM events WHERE proof_id = ?", (noah,)),
        ("DELETE FROM proofs WHERE id = ?", (noah,)),
    )
    out = verify(app)
    assert f"proof {noah} (?): TAMPERED" in out
    assert "is in the log but its row was deleted" in out


# --- 6-10. rows that are not events --------------------------------------------------------


def test_6_status_set_to_approved_alone(inst):
    app, ids = inst
    tamper(app, ("UPDATE proofs SET status = 'approved' WHERE id = ?", (ids["noah"],)), recompute=False)
    out = verify(app)
    assert (
        "the proof's status is 'approved' but the log recorded 'awaiting_approval' (set without an event)"
        in out
    )


def test_7_revision_text_changed(inst):
    app, ids = inst
    tamper(app, ("UPDATE revisions SET text = 'Sofie' WHERE proof_id = ?", (ids["sophie"],)), recompute=False)
    out = verify(app)
    assert "revision 1: text is 'Sofie' but the log recorded 'Sophie'" in out


def test_8_revision_design_changed(inst):
    app, ids = inst
    conn = raw(app)
    design = json.loads(
        conn.execute("SELECT design FROM revisions WHERE proof_id = ?", (ids["sophie"],)).fetchone()[0]
    )
    conn.close()
    design["lines"] = ["Sofie"]
    tamper(
        app,
        (
            "UPDATE revisions SET design = ? WHERE proof_id = ?",
            (records.canonical_json(design), ids["sophie"]),
        ),
        recompute=False,
    )
    out = verify(app)
    assert "revision 1: design is" in out and "its design does not hash to its design SHA-256" in out


def test_9_image_hash_pointed_at_another_proofs_image(inst):
    app, ids = inst
    tamper(
        app,
        (
            "UPDATE revisions SET image_sha256 = (SELECT image_sha256 FROM revisions WHERE proof_id = ?)"
            " WHERE proof_id = ?",
            (ids["mia"], ids["sophie"]),
        ),
        recompute=False,
    )
    out = verify(app)
    assert "proof 1 (SOPHIE): TAMPERED" in out and "revision 1: image SHA-256 is" in out


def test_9b_rendered_image_unbound_to_look_still_pending(inst):
    """The image hash is bound by the `image_rendered` event its render job appended: blanking
    it (as if the image were still being drawn) or deleting that event is found."""
    app, ids = inst
    tamper(
        app, ("UPDATE revisions SET image_sha256 = '' WHERE proof_id = ?", (ids["noah"],)), recompute=False
    )
    out = verify(app)
    assert "proof 2 (NOAH): TAMPERED" in out
    assert "revision 1: image SHA-256 is '' but the log recorded" in out


def test_9c_image_rendered_event_deleted(inst):
    app, ids = inst
    rendered = event_of(app, ids["noah"], "image_rendered")
    tamper(app, ("DELETE FROM events WHERE id = ?", (rendered["id"],)))
    out = verify(app)
    assert "proof 2 (NOAH): TAMPERED" in out
    assert "revision 1: image SHA-256 is '" in out and "but the log recorded ''" in out


def test_10_stored_email_edited(inst):
    app, ids = inst
    tamper(
        app,
        (
            "UPDATE outbox SET message = replace(message, CAST('Sophie' AS BLOB), CAST('Sofie' AS BLOB))"
            " WHERE proof_id = ? AND kind = 'proof'",
            (ids["sophie"],),
        ),
        recompute=False,
    )
    out = verify(app)
    assert "(proof): the stored message was changed after it was queued" in out


def _email_image(app, proof_id) -> Path:
    """The stored file of the proof email's inline image (the outbox row refers to it by hash)."""
    conn = raw(app)
    try:
        parts = conn.execute(
            "SELECT message_images FROM outbox WHERE proof_id = ? AND kind = 'proof'", (proof_id,)
        ).fetchone()[0]
    finally:
        conn.close()
    ((_, sha, suffix),) = json.loads(parts)
    return Path(app.instance_path) / app.config["IMAGE_DIR"] / sha[:2] / f"{sha}{suffix}"


def test_10c_stored_email_image_replaced(inst):
    """The outbox keeps each email without its image; the image file is swapped for another
    JPEG. The message rebuilt from the row and the store no longer has the logged SHA-256."""
    app, ids = inst
    path = _email_image(app, ids["noah"])
    other = _email_image(app, ids["mia"])
    path.write_bytes(other.read_bytes())
    out = verify(app)
    assert "proof 2 (NOAH): TAMPERED" in out
    assert "was modified in the image store (it no longer has its hash)" in out


def test_10d_stored_email_image_deleted(inst):
    app, ids = inst
    _email_image(app, ids["noah"]).unlink()
    out = verify(app)
    assert "proof 2 (NOAH): TAMPERED" in out and "is missing from the image store" in out


def test_10b_claim_edited(inst):
    app, ids = inst
    tamper(
        app,
        ("UPDATE claims SET outcome = 'shop_error' WHERE proof_id = ?", (ids["sophie"],)),
        recompute=False,
    )
    out = verify(app)
    assert (
        "claims table: claim 1: outcome is 'shop_error' but the log recorded 'customer_responsibility'" in out
    )


# --- 11, 12. the record moved on after the approval ----------------------------------------


def test_11_revision_after_approval_is_a_warning_in_the_evidence(inst):
    app, ids = inst
    add_revision(app, ids["mia"], ("Mia Rose",))
    staff = sign_in(app, create=False)
    evidence = staff.get(f"/staff/proofs/{ids['mia']}/evidence.json").get_json()
    assert evidence["warnings"][0].startswith("After the customer approved revision 1 on")
    assert "added revision 2" in evidence["warnings"][0]
    pdf = staff.get(f"/staff/proofs/{ids['mia']}/evidence.pdf").data
    import io

    from pypdf import PdfReader

    first_page = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Warning: After the customer approved revision 1" in " ".join(first_page.split())


def test_12_cancellation_after_approval_is_a_warning_in_the_evidence(inst):
    from proofmark import proofs

    app, ids = inst
    with app.app_context():
        proofs.cancel(get_db(), ids["mia"], actor="staff:s@shop.test", reason="Customer phoned")
    staff = sign_in(app, create=False)
    evidence = staff.get(f"/staff/proofs/{ids['mia']}/evidence.json").get_json()
    assert any("cancelled this proof" in w and "Customer phoned" in w for w in evidence["warnings"])


# --- 13. times ----------------------------------------------------------------------------


def test_13_event_times_not_increasing(inst):
    app, ids = inst
    viewed = event_of(app, ids["noah"], "email_queued")
    tamper(app, ("UPDATE events SET at = '2026-01-01T00:00:00.000000Z' WHERE id = ?", (viewed["id"],)))
    out = verify(app)
    assert "its time 2026-01-01T00:00:00.000000Z is before the previous event's" in out
    assert "field 'at' does not match its keyed MAC" in out


def test_13b_log_times_not_increasing(inst):
    app, ids = inst
    tamper(app, ("UPDATE ledger_leaves SET logged_at = '2020-01-01T00:00:00.000000Z' WHERE idx = 3", ()))
    out = verify(app)
    assert "times in the log must not go back" in out


def test_clock_stepping_back_is_recorded_in_order(app):
    from datetime import timedelta

    from proofmark.db import transaction

    proof_id = create_proof(app)
    with app.app_context():
        db = get_db()
        first = db.execute("SELECT max(at) FROM events WHERE proof_id = ?", (proof_id,)).fetchone()[0]
        with transaction(db):
            event = records.append_event(
                db, proof_id, "note_added", actor="staff:a@b.test", at=records.utcnow() - timedelta(days=3)
            )
        assert event["at"] == first  # never earlier than the event before it
    assert app.test_cli_runner().invoke(args=["verify-records"]).exit_code == 0


# --- 14. the log itself and the record key ---------------------------------------------------


def test_14_entry_made_with_another_key_and_head_signed_with_another_key(inst, tsa):
    """Someone who sets up their own key (a copy of the app with another SECRET_KEY) can make
    entries and sign heads, but neither counts for this instance."""
    app, ids = inst
    other = make_app(
        Path(app.instance_path), TSA_URLS=[tsa.url], TSA_ROOTS=[str(tsa.root)], SECRET_KEY="someone-else"
    )
    with other.app_context():
        from proofmark import anchoring
        from proofmark.db import transaction

        db = get_db()
        with transaction(db):
            records.append_event(db, ids["noah"], "note_added", actor="staff:x", data={"note": "planted"})
        anchoring.sign_head(db, other)
    out = verify(app)
    assert "which this instance does not have: the entry cannot be authenticated" in out
    assert "signed with a key that is not this log's" in out


def test_record_key_rotation_is_recorded_and_old_entries_still_verify(inst, tsa):
    app, ids = inst
    with app.app_context():
        old_id, _ = ledger.record_keys(app)
        old_secret = ledger.derived_key(TEST_CONFIG["SECRET_KEY"]).hex()
    rotated = make_app(
        Path(app.instance_path),
        TSA_URLS=[tsa.url],
        TSA_ROOTS=[str(tsa.root)],
        RECORD_KEYS={old_id: old_secret, "2026-12": "ab" * 32},
        RECORD_KEY_ID="2026-12",
    )
    approve(rotated, ids["noah"])
    conn = raw(rotated)
    kinds = [r[0] for r in conn.execute("SELECT kind FROM ledger_leaves ORDER BY idx DESC LIMIT 4")]
    rotation = conn.execute("SELECT key_id, entry FROM ledger_leaves WHERE kind = 'key_rotated'").fetchone()
    conn.close()
    assert "key_rotated" in kinds
    assert (
        rotation["key_id"] == "2026-12"
        and json.loads(json.loads(rotation["entry"])["data"])["from"] == old_id
    )
    result = rotated.test_cli_runner().invoke(args=["verify-records"])
    assert result.exit_code == 0, result.output
    # Without the old key, its entries cannot be authenticated any more: say so.
    forgetful = make_app(
        Path(app.instance_path), RECORD_KEYS={"2026-12": "ab" * 32}, RECORD_KEY_ID="2026-12", SECRET_KEY="new"
    )
    out = verify(forgetful)
    assert f"made with record key '{old_id}', which this instance does not have" in out


def test_tree_node_edited(inst):
    app, ids = inst
    tamper(
        app, ("UPDATE ledger_nodes SET hash = zeroblob(32) WHERE level = 1 AND idx = 0", ()), recompute=False
    )
    out = verify(app)
    assert "stored tree node(s) do not match the entries" in out


# --- 15, 16. durability ------------------------------------------------------------------


def test_15_decisions_commit_with_synchronous_full(app):
    with app.app_context():
        assert get_db().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert get_db().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_16_image_file_and_its_folder_are_fsynced_before_the_record_commits(app, monkeypatch):
    import os

    from proofmark import storage

    synced: list[tuple[int, int]] = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        info = os.fstat(fd)
        synced.append((info.st_dev, info.st_ino))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    with app.app_context():
        sha = storage.put(b"\x89PNG fake image bytes for fsync")
        path = storage.path_for(sha)
    for target in (path, path.parent):
        info = os.stat(target)
        assert (info.st_dev, info.st_ino) in synced, target


def test_events_from_before_the_keyed_log_are_adopted_once(app):
    """An instance upgraded from before the log: its events have no log entries. They show
    as not in the log until `adopt-records` puts them there, after an `adopted` entry."""
    proof_id = create_proof(app, order_ref="OLD-1")
    approve(app, proof_id)
    tamper(app, ("DELETE FROM ledger_leaves", ()), ("DELETE FROM ledger_nodes", ()), recompute=False)
    out = verify(app)
    assert "predates the keyed log: see `proofmark adopt-records`" in out
    runner = app.test_cli_runner()
    assert "Adopted" in runner.invoke(args=["adopt-records"]).output
    result = runner.invoke(args=["verify-records"])
    assert result.exit_code == 0, result.output
    conn = raw(app)
    first = conn.execute("SELECT kind, entry FROM ledger_leaves WHERE idx = 0").fetchone()
    conn.close()
    assert (
        first["kind"] == "adopted" and json.loads(json.loads(first["entry"])["data"])["first_event_id"] == 1
    )
    assert "Every event is in the log already." in runner.invoke(args=["adopt-records"]).output
