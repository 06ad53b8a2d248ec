"""Evidence a third party can check: the approval's log entry, its inclusion proof into a
signed tree head, that head's RFC 3161 timestamp from a real TSA on loopback, checked by
`proofmark verify-evidence` and by the stand-alone scripts/verify_evidence.py (run with
Proofmark made unimportable). Any one-byte change to the approval, the inclusion proof, the
tree head, its signature or the timestamp token is refused. Anchoring survives a TSA outage
without holding up approvals. The approval email carries the customer's receipt."""

from __future__ import annotations

import ast
import base64
import email
import json
import subprocess
import sys
from email.policy import default as default_policy
from pathlib import Path

import pytest

from proofmark import ledger, mail
from proofmark.db import get_db
from proofmark.verify_evidence import APPROVAL_FIELDS, verify
from tests.staff_support import approve, create_proof, make_app
from tests.support import sign_in
from tests.tsa_support import TSA

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "verify_evidence.py"


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    server = TSA(tmp_path_factory.mktemp("tsa"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory, tsa):
    folder = tmp_path_factory.mktemp("ev") / "instance"
    app = make_app(folder, TSA_URLS=[tsa.url], TSA_ROOTS=[str(tsa.root)])
    proof_id = create_proof(app, order_ref="EV-1", lines=("Zoë Ångström", "12/03/2025"))
    approve(app, proof_id)
    for n in range(3):  # more proofs after it, so the inclusion proof has some length
        create_proof(app, order_ref=f"EV-{n + 2}", lines=(f"Name {n}",))
    assert "anchored 1 head(s)" in app.test_cli_runner().invoke(args=["anchor"]).output
    staff = sign_in(app)
    evidence = staff.get(f"/staff/proofs/{proof_id}/evidence.json").get_json()
    path = folder.parent / "evidence.json"
    path.write_text(json.dumps(evidence, ensure_ascii=False, indent=2))
    return app, proof_id, evidence, path


def run_script(path: Path, *args: str) -> subprocess.CompletedProcess:
    """The stand-alone script, with every `proofmark` import made to fail."""
    code = (
        "import sys, runpy; sys.modules['proofmark'] = None; sys.modules['proofmark_renderer'] = None; "
        f"sys.argv = ['verify_evidence.py', *sys.argv[1:]]; runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-I", "-c", code, str(path), *args], capture_output=True, text=True, timeout=60
    )


def test_the_script_imports_nothing_from_proofmark():
    tree = ast.parse(SCRIPT.read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n.split(".")[0] in ("proofmark", "proofmark_renderer", "flask")]


def test_genuine_pack_is_accepted_by_the_command_and_the_script(world, tsa):
    app, proof_id, evidence, path = world
    ledger_section = evidence["ledger"]
    assert ledger_section["entry"]["kind"] == "approved" and ledger_section["timestamp"]["response"]
    assert ledger_section["tree_head"]["tree_size"] > ledger_section["leaf_index"] + 3
    assert len(ledger_section["inclusion_proof"]) >= 2
    assert evidence["warnings"] == []

    result = app.test_cli_runner().invoke(args=["verify-evidence", str(path), "--tsa-root", str(tsa.root)])
    assert result.exit_code == 0, result.output
    assert "Verdict: VALID" in result.output
    assert "existed no later than" in result.output and "What this does not prove" in result.output

    script = run_script(path, "--tsa-root", str(tsa.root))
    assert script.returncode == 0, script.stdout + script.stderr
    assert "Verdict: VALID" in script.stdout
    # The published key, given separately, must be the one that signed.
    with app.app_context():
        from proofmark import anchoring

        key = anchoring.public_key_b64(app)
    assert run_script(path, "--public-key", key).returncode == 0
    other = base64.b64encode(bytes(32)).decode()
    assert run_script(path, "--public-key", other).returncode == 1


def _mutate_text(value: str) -> str:
    ch = value[-1]
    return value[:-1] + ("0" if ch != "0" else "1")


def _rejected(evidence: dict, tsa) -> bool:
    import cryptography.x509

    roots = cryptography.x509.load_pem_x509_certificates(tsa.root.read_bytes())
    return not verify(evidence, tsa_roots=roots).ok


def test_a_one_character_change_in_any_approval_fact_is_refused(world, tsa):
    _, _, evidence, _ = world
    assert not _rejected(evidence, tsa)
    changed = 0
    for fact in APPROVAL_FIELDS:
        copy = json.loads(json.dumps(evidence))
        parent, _, key = fact.rpartition(".")
        holder = copy["approval"][parent] if parent else copy["approval"]
        value = holder[key]
        if isinstance(value, str) and value:
            holder[key] = _mutate_text(value)
        elif isinstance(value, int):
            holder[key] = value + 1
        elif isinstance(value, list) and value:
            value[0] = _mutate_text(str(value[0]))
        elif isinstance(value, dict) and value:
            first = next(iter(value))
            value[first] = _mutate_text(str(value[first]))
        else:
            continue
        assert _rejected(copy, tsa), fact
        changed += 1
    assert changed >= 12
    # The same change made inside the log entry itself: its leaf hash no longer fits.
    copy = json.loads(json.dumps(evidence))
    copy["ledger"]["entry"]["ip"] = _mutate_text(copy["ledger"]["entry"]["ip"])
    copy["approval"]["ip"] = copy["ledger"]["entry"]["ip"]
    assert _rejected(copy, tsa)


def test_a_one_byte_change_in_the_proof_the_head_the_signature_or_the_token_is_refused(world, tsa):
    _, _, evidence, path = world
    led = evidence["ledger"]
    for i in range(len(led["inclusion_proof"])):
        copy = json.loads(json.dumps(evidence))
        copy["ledger"]["inclusion_proof"][i] = _mutate_text(copy["ledger"]["inclusion_proof"][i])
        assert _rejected(copy, tsa)
    for key in ("tree_size", "root_hash", "timestamp", "log_id"):
        copy = json.loads(json.dumps(evidence))
        value = copy["ledger"]["tree_head"][key]
        copy["ledger"]["tree_head"][key] = value + 1 if isinstance(value, int) else _mutate_text(value)
        assert _rejected(copy, tsa), key
    for key in ("signature", "leaf_hash", "leaf_index"):
        copy = json.loads(json.dumps(evidence))
        value = copy["ledger"][key]
        if isinstance(value, int):
            copy["ledger"][key] = value + 1
        else:
            raw = bytearray(bytes.fromhex(value) if key == "leaf_hash" else base64.b64decode(value))
            raw[5] ^= 0x01
            copy["ledger"][key] = raw.hex() if key == "leaf_hash" else base64.b64encode(raw).decode()
        assert _rejected(copy, tsa), key
    token = base64.b64decode(led["timestamp"]["response"])
    accepted = []
    for i in range(len(token)):
        raw = bytearray(token)
        raw[i] ^= 0x01
        copy = json.loads(json.dumps(evidence))
        copy["ledger"]["timestamp"]["response"] = base64.b64encode(raw).decode()
        if not _rejected(copy, tsa):
            accepted.append(i)
    assert accepted == [], f"token bytes whose change went unnoticed: {accepted}"
    # And through the script, on a file with one changed byte of the token.
    raw = bytearray(token)
    raw[len(raw) // 2] ^= 0x01
    copy = json.loads(json.dumps(evidence))
    copy["ledger"]["timestamp"]["response"] = base64.b64encode(raw).decode()
    changed = path.with_name("changed.json")
    changed.write_text(json.dumps(copy))
    result = run_script(changed, "--tsa-root", str(tsa.root))
    assert result.returncode == 1 and "Verdict: NOT VALID" in result.stdout


def test_the_pdf_shows_the_log_position_the_signed_head_and_the_timestamp(world):
    import io

    from pypdf import PdfReader

    app, proof_id, evidence, _ = world
    staff = sign_in(app, create=False)
    pdf = PdfReader(io.BytesIO(staff.get(f"/staff/proofs/{proof_id}/evidence.pdf").data))
    text = " ".join(" ".join(page.extract_text() for page in pdf.pages).split())
    assert f"entry {evidence['ledger']['leaf_index']} of" in text
    assert evidence["ledger"]["tree_head"]["root_hash"] in text.replace(" ", "") or "Root hash" in text
    assert "Timestamp (RFC 3161)" in text and evidence["ledger"]["timestamp"]["gen_time_utc"] in text


def test_the_approval_email_carries_the_customers_receipt(world):
    app, proof_id, _, _ = world
    with app.app_context():
        db = get_db()
        message = mail.message_bytes(
            db.execute(
                "SELECT * FROM outbox WHERE proof_id = ? AND kind = 'approved'", (proof_id,)
            ).fetchone()
        )
        event = db.execute(
            "SELECT * FROM events WHERE proof_id = ? AND kind = 'approved'", (proof_id,)
        ).fetchone()
        leaf = ledger.leaf_of_event(db, event["id"])
        revision = db.execute("SELECT * FROM revisions WHERE proof_id = ?", (proof_id,)).fetchone()
        public_id = db.execute("SELECT public_id FROM proofs WHERE id = ?", (proof_id,)).fetchone()[0]
    parsed = email.message_from_bytes(message, policy=default_policy)
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    for body in (text, html):
        assert public_id in body and f"no. {proof_id}" in body
        assert "Zoë Ångström" in body and "12/03/2025" in body
        assert revision["image_sha256"] in body
        assert leaf["leaf_hash"] in body
        assert f"Position in the shop's log: {leaf['idx']}" in body
        assert event["at"] in body


def test_anchoring_with_the_tsa_down_then_up(tmp_path, tsa):
    app = make_app(tmp_path / "instance", TSA_URLS=[tsa.url], TSA_ROOTS=[str(tsa.root)])
    runner = app.test_cli_runner()
    tsa.stop()
    try:
        served = tsa.served
        first = create_proof(app, order_ref="OUT-1")
        decision = approve(app, first)  # recorded at once: nothing waits for the TSA
        assert decision.status == "approved" and decision.recorded
        result = runner.invoke(args=["anchor"])
        assert result.exit_code == 0 and "1 head(s) still waiting" in result.output
        assert "Connection refused" in result.output or "refused" in result.output.lower()
        second = create_proof(app, order_ref="OUT-2")
        approve(app, second)
        result = runner.invoke(args=["anchor"])
        assert "2 head(s) still waiting" in result.output
        assert tsa.served == served
        with app.app_context():
            attempts = get_db().execute("SELECT attempts FROM anchor_attempts ORDER BY head_id").fetchall()
        assert [a[0] for a in attempts] == [2, 1]
        staff = sign_in(app)
        pending = staff.get(f"/staff/proofs/{first}/evidence.json").get_json()
        assert pending["ledger"]["timestamp"] is None
        assert any("No timestamped tree head covers the approval yet" in w for w in pending["warnings"])
    finally:
        tsa.start()
    result = runner.invoke(args=["anchor"])
    assert "anchored 2 head(s) now" in result.output and "waiting" not in result.output
    with app.app_context():
        db = get_db()
        assert db.execute("SELECT count(*) FROM tree_heads").fetchone()[0] == 2
        assert db.execute("SELECT count(*) FROM anchors").fetchone()[0] == 2
        assert db.execute("SELECT count(*) FROM anchor_attempts").fetchone()[0] == 0
    # The first approval is now covered by the first (smaller) anchored head.
    evidence = staff.get(f"/staff/proofs/{first}/evidence.json").get_json()
    assert evidence["ledger"]["timestamp"] is not None
    import cryptography.x509

    roots = cryptography.x509.load_pem_x509_certificates(tsa.root.read_bytes())
    assert verify(evidence, tsa_roots=roots).ok
    result = runner.invoke(args=["verify-records"])
    assert result.exit_code == 0 and "2 signed head(s), 2 timestamped: intact" in result.output
