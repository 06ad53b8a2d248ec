"""Tamper detection: a changed event row and a changed image file are both found, by the
command (non-zero exit) and on the staff pages."""

from __future__ import annotations

import json
import sqlite3

from proofmark.db import database_path, get_db
from proofmark.storage import path_for
from tests.staff_support import StaffLogin, approve, create_proof, make_app, make_staff


def _raw_update_event(app, proof_id, kind, new_data):
    """What an attacker with the database file could do: drop the trigger, edit, restore it."""
    conn = sqlite3.connect(database_path(app))
    try:
        trigger_sql = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'events_append_only_update'"
        ).fetchone()[0]
        conn.execute("DROP TRIGGER events_append_only_update")
        conn.execute("UPDATE events SET data = ? WHERE proof_id = ? AND kind = ?", (new_data, proof_id, kind))
        conn.execute(trigger_sql)
        conn.commit()
        return conn.execute(
            "SELECT seq FROM events WHERE proof_id = ? AND kind = ?", (proof_id, kind)
        ).fetchone()[0]
    finally:
        conn.close()


def test_append_only_trigger_refuses_plain_updates(tmp_path, monkeypatch):
    app = make_app(tmp_path / "i", monkeypatch)
    proof_id = create_proof(app)
    conn = sqlite3.connect(database_path(app))
    try:
        try:
            conn.execute("UPDATE events SET actor = 'x' WHERE proof_id = ?", (proof_id,))
            raise AssertionError("the update went through")
        except sqlite3.IntegrityError as exc:
            assert "append-only" in str(exc)
    finally:
        conn.close()


def test_tampering_is_detected_by_the_command_and_the_pages(tmp_path, monkeypatch):
    app = make_app(tmp_path / "i", monkeypatch)
    make_staff(app)
    clean = create_proof(app, order_ref="OK-1", lines=("Intact",))
    edited = create_proof(app, order_ref="EV-2", lines=("Sophie",))
    approve(app, edited)
    swapped = create_proof(app, order_ref="IMG-3", lines=("Noah",))
    runner = app.test_cli_runner()

    result = runner.invoke(args=["verify-records"])
    assert result.exit_code == 0, result.output
    assert "3 proof(s) checked: 3 intact, 0 tampered." in result.output

    # 1. Rewrite what the approval recorded (as if the customer had approved other text).
    with app.app_context():
        data = json.loads(
            get_db()
            .execute("SELECT data FROM events WHERE proof_id = ? AND kind = 'approved'", (edited,))
            .fetchone()[0]
        )
    data["text"]["lines"] = ["Sofie"]
    seq = _raw_update_event(app, edited, "approved", json.dumps(data))
    # 2. Overwrite a stored proof image on disk.
    with app.app_context():
        sha = (
            get_db()
            .execute("SELECT image_sha256 FROM revisions WHERE proof_id = ?", (swapped,))
            .fetchone()[0]
        )
        path = path_for(sha)
    path.write_bytes(path.read_bytes() + b"tampered")

    result = runner.invoke(args=["verify-records"])
    assert result.exit_code == 1
    out = result.output
    assert f"proof {clean} (OK-1): intact" in out
    assert f"proof {edited} (EV-2): TAMPERED" in out
    assert f"event #{seq}" in out and "field data" in out
    assert f"proof {swapped} (IMG-3): TAMPERED" in out and "was modified on disk" in out
    assert "3 proof(s) checked: 1 intact, 2 tampered." in out

    as_json = runner.invoke(args=["verify-records", "--json"])
    reports = {r["proof_id"]: r for r in map(json.loads, as_json.stdout.strip().splitlines())}
    assert reports[edited]["problems"][0]["field"] == "data" and reports[edited]["problems"][0]["seq"] == seq
    assert reports[swapped]["problems"][0]["what"] == "image"

    client = app.test_client()
    StaffLogin(client).login()
    page = client.get(f"/staff/proofs/{edited}").get_data(as_text=True)
    assert "Record tampered" in page and "field data" in page
    evidence = json.loads(client.get(f"/staff/proofs/{edited}/evidence.json").data)
    assert evidence["verification"]["intact"] is False
    assert "2 tampered" in client.get("/staff/verify").get_data(as_text=True)

    # A claim against a tampered record cannot be held against the customer.
    response = client.post(
        f"/staff/proofs/{edited}/claims/new",
        data={"kind": "text", "description": "wrong", "expected_text": "Something else", "action": "assess"},
    )
    assert "Needs inspection" in response.get_data(as_text=True)


def test_deleted_events_are_detected(tmp_path, monkeypatch):
    app = make_app(tmp_path / "i", monkeypatch)
    proof_id = create_proof(app, order_ref="DEL-1")
    approve(app, proof_id)
    conn = sqlite3.connect(database_path(app))
    try:
        conn.execute("DROP TRIGGER events_append_only_delete")
        conn.execute("DELETE FROM events WHERE proof_id = ? AND seq = 2", (proof_id,))
        conn.commit()
    finally:
        conn.close()
    result = app.test_cli_runner().invoke(args=["verify-records", "--quiet"])
    assert result.exit_code == 1 and "TAMPERED" in result.output and "missing" in result.output
