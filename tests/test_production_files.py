"""Production files on the site: 409 until the customer approves, then downloads from the
staff page, the API and the CLI, each one recorded in the proof's record and evidence."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from pypdf import PdfReader

from proofmark.db import get_db
from tests.staff_support import approve, create_proof, page_text, request_changes

AWAITING = "awaiting the customer's approval"


def sent_events(app, proof_id):
    with app.app_context():
        rows = get_db().execute(
            "SELECT actor, data FROM events WHERE proof_id = ? AND kind = 'production_file_sent' ORDER BY seq",
            (proof_id,),
        )
        return [(r["actor"], json.loads(r["data"])) for r in rows]


def api_key(app) -> str:
    result = app.test_cli_runner().invoke(args=["create-api-key", "Workshop"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def test_staff_gets_409_before_approval_then_files_each_recorded(app, staff):
    proof_id = create_proof(app, lines=("Zoë",), product="pendant-round")
    url = f"/staff/proofs/{proof_id}/production/face.svg"
    response = staff.client.get(url)
    assert response.status_code == 409
    assert AWAITING in page_text(response.get_data(as_text=True))
    assert "Production files are awaiting the customer's approval." in page_text(
        staff.client.get(f"/staff/proofs/{proof_id}").get_data(as_text=True)
    )
    request_changes(app, proof_id)
    assert staff.client.get(url).status_code == 409
    assert sent_events(app, proof_id) == []

    # A new revision, then approval: the files are made from that approved revision.
    from tests.staff_support import add_revision

    add_revision(app, proof_id, ("Zoë Anne",))
    approve(app, proof_id)
    page = staff.client.get(f"/staff/proofs/{proof_id}").get_data(as_text=True)
    for name in ("face.svg", "face.pdf", "face.png"):
        assert f"/staff/proofs/{proof_id}/production/{name}" in page
    downloads = {}
    for name in ("face.svg", "face.pdf", "face.png"):
        response = staff.client.get(f"/staff/proofs/{proof_id}/production/{name}")
        assert response.status_code == 200, name
        assert "attachment" in response.headers["Content-Disposition"]
        assert "-r2-" in response.headers["Content-Disposition"]
        downloads[name] = hashlib.sha256(response.data).hexdigest()
    svg = staff.client.get(f"/staff/proofs/{proof_id}/production/face.svg").get_data(as_text=True)
    assert "Zoë Anne" in svg and "<text" not in svg
    assert staff.client.get(f"/staff/proofs/{proof_id}/production/face.dxf").status_code == 404
    assert staff.client.get("/staff/proofs/999999/production/face.svg").status_code == 404

    events = sent_events(app, proof_id)
    assert len(events) == 4
    actor, data = events[0]
    assert actor.startswith("staff:") and data["revision"] == 2 and data["via"] == "staff"
    assert data["sha256"] == downloads["face.svg"] and data["file"].endswith("face.svg")
    assert {d["kind"] for _, d in events} == {"svg", "pdf", "png"}

    facts = staff.client.get(f"/staff/proofs/{proof_id}/evidence.json").get_json()
    sent = facts["production_files_sent"]
    assert [s["sha256"] for s in sent[:3]] == [downloads[n] for n in ("face.svg", "face.pdf", "face.png")]
    assert all(s["revision"] == facts["approval"]["revision"] for s in sent)
    assert any(e["kind"] == "production_file_sent" for e in facts["timeline"])
    pdf = PdfReader(io.BytesIO(staff.client.get(f"/staff/proofs/{proof_id}/evidence.pdf").data))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "Production file sent" in text and downloads["face.png"] in text.replace("\n", "")
    verify = app.test_cli_runner().invoke(args=["verify-records"])
    assert verify.exit_code == 0, verify.output


def test_api_lists_and_serves_files_only_after_approval(app):
    key = api_key(app)
    headers = {"Authorization": f"Bearer {key}"}
    proof_id = create_proof(
        app, lines=("IN LOVING", "MEMORY"), product="ornament-stamped", font="courier-prime"
    )
    with app.app_context():
        public_id = get_db().execute("SELECT public_id FROM proofs WHERE id = ?", (proof_id,)).fetchone()[0]
    client = app.test_client()
    for url in (f"/api/proofs/{public_id}/production", f"/api/proofs/{public_id}/production/face.svg"):
        response = client.get(url, headers=headers)
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "awaiting_approval"
        assert AWAITING in response.get_json()["error"]["message"]
    assert client.get(f"/api/proofs/{public_id}/production").status_code == 401
    assert client.get("/api/proofs/pf_nope/production", headers=headers).status_code == 404

    approve(app, proof_id)
    listing = client.get(f"/api/proofs/{public_id}/production", headers=headers).get_json()
    assert listing["revision"] == 1 and listing["metadata"]["text"] == "IN LOVING\nMEMORY"
    names = [f["name"] for f in listing["files"]]
    assert names == ["face.svg", "face.pdf", "face.png", "face.ticket.txt", "face.ticket.pdf"]
    assert sent_events(app, proof_id) == []  # listing hands out nothing
    ticket = next(f for f in listing["files"] if f["name"] == "face.ticket.txt")
    response = client.get(ticket["url"], headers=headers)
    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == ticket["sha256"]
    assert "Total strikes: 14." in response.get_data(as_text=True)
    assert client.get(f"/api/proofs/{public_id}/production/face.dxf", headers=headers).status_code == 404
    [(actor, data)] = sent_events(app, proof_id)
    assert actor == "api:Workshop" and data["via"] == "api" and data["sha256"] == ticket["sha256"]


def test_cli_exports_approved_proofs_since_a_time_and_records_each_file(app, tmp_path):
    runner = app.test_cli_runner()
    waiting = create_proof(app, order_ref="W-1", lines=("Ada",), product="bar-necklace", font="lato")
    approved = create_proof(app, order_ref="A-2", lines=("Grace",), product="bar-necklace", font="lato")
    approve(app, approved)

    result = runner.invoke(
        args=["export-production", "--since", "2000-01-01", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "1 proof(s) exported" in result.output and "W-1" not in result.output
    [run] = list((tmp_path / "out").iterdir())
    files = sorted(p.name for p in run.rglob("*") if p.is_file())
    assert files == ["A-2-r1-face.pdf", "A-2-r1-face.png", "A-2-r1-face.svg"]
    events = sent_events(app, approved)
    assert [d["via"] for _, d in events] == ["export"] * 3 and all(a == "cli" for a, _ in events)
    on_disk = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in run.rglob("*") if p.is_file()}
    assert {d["file"]: d["sha256"] for _, d in events} == on_disk
    assert sent_events(app, waiting) == []

    result = runner.invoke(
        args=["export-production", "--since", "2999-01-01", "--out", str(tmp_path / "later")]
    )
    assert result.exit_code == 0 and "0 proof(s) exported" in result.output

    result = runner.invoke(
        args=["export-production", "--since", "2000-01-01T00:00:00Z", "--zip", "--out", str(tmp_path / "z")]
    )
    assert result.exit_code == 0, result.output
    [archive] = list((tmp_path / "z").iterdir())
    with zipfile.ZipFile(archive) as zf:
        assert sorted(n.split("/")[-1] for n in zf.namelist()) == files

    result = runner.invoke(args=["export-production", "--since", "last tuesday"])
    assert result.exit_code == 2 and "not an ISO 8601" in result.output
