"""Proof images rendered after the answer (proofmark.proofs.render_jobs): an order is recorded
without its image, nobody can approve until the image exists, the pages show progress and
update themselves, the job survives a dead worker (lease) and a failing render (retries, then
staff see it and can start it again), and the log binds the image to its revision.

These apps run with RENDER_AFTER_REQUEST="off", so that the jobs wait until a test (or the
`render-proofs` command) runs them; the rest of the suite renders inline."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from proofmark import proofs, storage
from proofmark.db import get_db, transaction
from proofmark.proofs import render_jobs
from proofmark.tokens import sign_design
from tests.proofs_support import T0, all_statements, count, design, kinds, link_for, make_app, new_proof
from tests.support import sign_in


@pytest.fixture
def rapp(tmp_path):
    return make_app(tmp_path / "instance", RENDER_AFTER_REQUEST="off", DEMO=True)


def _order(app, text="Ada Lovelace", ref="SHOP-7") -> str:
    """Place a demo-shop order through POST /orders; the order-placed page's URL."""
    with app.app_context():
        d = design(text)
        token = sign_design(d, d.content_key(1200, "jpeg"), {"date_readings": {}})
    response = app.test_client().post(
        "/orders",
        data={
            "design_token": token,
            "customer_name": "Ada Lovelace",
            "customer_email": "ada@example.com",
            "order_ref": ref,
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def test_an_order_is_recorded_before_its_image_and_the_pages_say_it_is_being_prepared(rapp):
    placed = _order(rapp)
    client = rapp.test_client()
    with rapp.app_context():
        db = get_db()
        proof_id = db.execute("SELECT id FROM proofs WHERE order_ref = 'SHOP-7'").fetchone()[0]
        proof = proofs.get_proof(db, proof_id)
        # Recorded: the proof, its revision (no image yet) and what was ordered, in the log.
        assert proof.revision.image_sha256 == "" and proof.emailed_at is None
        assert kinds(db, proof_id) == ["proof_created", "revision_added"]
        added = proofs.get_events(db, proof_id)[1]["data"]
        assert added["image_sha256"] is None and added["design_sha256"] == proof.revision.design_sha256
        assert count(db, "outbox") == 0  # the email waits for the image
        assert count(db, "render_jobs", "status = 'queued'") == 1
        token = link_for(db, proof_id)

    # The order-placed page: progress that asks again (htmx every 2 s; meta refresh without JS).
    html = client.get(placed).get_data(as_text=True)
    assert "Preparing your proof..." in html and "Check your email" not in html
    progress_url = placed + "/progress"
    assert f'hx-get="{progress_url}" hx-trigger="every 2s"' in html
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html
    assert "Preparing your proof..." in client.get(progress_url).get_data(as_text=True)

    # Nobody can approve a picture that does not exist yet: the page says so, the service refuses.
    page = client.get(f"/approve/{token}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Preparing your proof..." in text and "Approve this proof" not in text
    assert client.get(f"/approve/{token}/image.png").status_code == 404
    with rapp.app_context(), pytest.raises(proofs.ProofError, match="still being prepared"):
        proofs.approve(
            get_db(), proof_id, revision=1, nonce=proof.revision.nonce, statements_ticked=all_statements(rapp)
        )

    # The operator's command renders it: the image is bound to the revision, the email queued.
    result = rapp.test_cli_runner().invoke(args=["render-proofs"])
    assert result.exit_code == 0, result.output
    assert "1 claimed, 1 rendered, 0 to retry, 0 failed" in result.output
    with rapp.app_context():
        db = get_db()
        proof = proofs.get_proof(db, proof_id)
        assert storage.verify(proof.revision.image_sha256) is None
        assert proof.revision.image_width == rapp.config["PROOF_IMAGE_WIDTH"]
        assert proof.emailed_at is not None
        # No view was logged for the page that showed no picture; the command also sent the mail.
        assert kinds(db, proof_id) == [
            "proof_created",
            "revision_added",
            "image_rendered",
            "email_queued",
            "email_sent",
        ]
        rendered = proofs.get_events(db, proof_id)[2]["data"]
        assert rendered["image_sha256"] == proof.revision.image_sha256 and rendered["revision"] == 1
        assert [o["kind"] for o in proofs.outbox_for(db, proof_id)] == ["proof"]
    done = client.get(progress_url).get_data(as_text=True)
    assert "Check your email" in done and "hx-trigger" not in done  # polling stops
    assert "Preparing your proof..." not in client.get(placed).get_data(as_text=True)
    assert "Approve this proof" in client.get(f"/approve/{token}").get_data(as_text=True)
    assert rapp.test_cli_runner().invoke(args=["verify-records"]).exit_code == 0
    again = rapp.test_cli_runner().invoke(args=["render-proofs"])
    assert "0 claimed" in again.output


def test_a_staff_revision_answers_before_its_image_and_a_replaced_one_sends_nothing(rapp):
    with rapp.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        render_jobs.run_due(db, now=T0)
        assert [o["kind"] for o in proofs.outbox_for(db, proof_id)] == ["proof"]
        proofs.add_revision(db, proof_id, design("Ada King"), actor="staff:a@shop.test", now=T0)
        proofs.add_revision(db, proof_id, design("Ada K."), actor="staff:a@shop.test", now=T0)
        proof = proofs.get_proof(db, proof_id)
        assert proof.current_revision == 3 and proof.revision.image_sha256 == "" and proof.emailed_at is None
        report = render_jobs.run_due(db, now=T0)
        assert (report.claimed, report.done) == (2, 2)
        # Both images exist and are logged; only the current revision (3) is emailed.
        images = [r["image_sha256"] for r in db.execute("SELECT image_sha256 FROM revisions ORDER BY number")]
        assert all(images) and len(set(images)) == 3
        assert [(o["kind"], o["revision"]) for o in proofs.outbox_for(db, proof_id)] == [
            ("proof", 1),
            ("revision", 3),
        ]
        assert kinds(db, proof_id).count("image_rendered") == 3


def test_a_dead_workers_job_is_taken_over_after_its_lease(rapp):
    lease = rapp.config["RENDER_LEASE_SECONDS"]
    with rapp.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        dead = render_jobs._claim(db, T0)  # a worker took the job and then died
        assert dead is not None and dead["attempts"] == 1
        assert render_jobs.run_due(db, now=T0 + timedelta(seconds=lease - 1)).claimed == 0
        report = render_jobs.run_due(db, now=T0 + timedelta(seconds=lease + 1))
        assert (report.claimed, report.done) == (1, 1)
        job = db.execute("SELECT status, attempts FROM render_jobs").fetchone()
        assert tuple(job) == ("done", 2)
        # The first worker wakes up and finishes late: its lease is gone, nothing is logged twice.
        assert render_jobs.run_job(db, dead, now=T0) == "lost"
        assert kinds(db, proof_id).count("image_rendered") == 1


def test_a_failing_render_is_retried_then_shown_to_staff_who_can_start_it_again(rapp):
    with rapp.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        good = db.execute("SELECT design FROM revisions WHERE proof_id = ?", (proof_id,)).fetchone()[0]
        with transaction(db):  # the stored design made unreadable: every attempt fails
            db.execute("UPDATE revisions SET design = '{' WHERE proof_id = ?", (proof_id,))
        now = T0
        for attempt in range(1, rapp.config["RENDER_MAX_ATTEMPTS"] + 1):
            report = render_jobs.run_due(db, now=now)
            assert report.claimed == 1, attempt
            now += timedelta(seconds=rapp.config["RENDER_RETRY_MAX_SECONDS"] + 1)
        assert report.failed == 1 and render_jobs.run_due(db, now=now).claimed == 0
        job = db.execute("SELECT status, attempts, last_error FROM render_jobs").fetchone()
        assert job["status"] == "failed" and job["attempts"] == rapp.config["RENDER_MAX_ATTEMPTS"]
        assert "JSONDecodeError" in job["last_error"]
        assert count(db, "outbox") == 0
        with transaction(db):
            db.execute("UPDATE revisions SET design = ? WHERE proof_id = ?", (good, proof_id))

    staff = sign_in(rapp)
    html = staff.get(f"/staff/proofs/{proof_id}").get_data(as_text=True)
    assert "could not be rendered" in html and "after 4 attempts" in html and "JSONDecodeError" in html
    assert "Try rendering again" in html
    response = staff.post(f"/staff/proofs/{proof_id}/revisions/1/render")
    assert response.status_code == 303
    html = staff.get(f"/staff/proofs/{proof_id}").get_data(as_text=True)
    assert "Preparing the proof image..." in html
    assert re.search(r'hx-get="/staff/proofs/\d+/revisions/1/progress" hx-trigger="every 2s"', html)
    assert "Preparing the proof image..." in staff.get(
        f"/staff/proofs/{proof_id}/revisions/1/progress"
    ).get_data(as_text=True)
    assert rapp.test_cli_runner().invoke(args=["render-proofs"]).exit_code == 0
    fragment = staff.get(f"/staff/proofs/{proof_id}/revisions/1/progress").get_data(as_text=True)
    assert f"/staff/proofs/{proof_id}/revisions/1.png" in fragment and "hx-trigger" not in fragment
    with rapp.app_context():
        assert [o["kind"] for o in proofs.outbox_for(get_db(), proof_id)] == ["proof"]


def test_a_design_the_renderer_refuses_fails_at_once_with_its_reason(rapp):
    """A design is checked in the request; one that passes the checks but cannot be drawn
    is not tried again (the same refusal would come back)."""
    with rapp.app_context():
        db = get_db()
        new_proof(db, now=T0)
        with transaction(db):
            db.execute("UPDATE revisions SET design = json_set(design, '$.product', 'no-such-product')")
        report = render_jobs.run_due(db, now=T0)
        assert (report.claimed, report.failed) == (1, 1)
        assert "cannot be made" in report.errors[0]
        assert db.execute("SELECT attempts FROM render_jobs").fetchone()[0] == 1
    result = rapp.test_cli_runner().invoke(args=["render-proofs"])
    assert "0 claimed" in result.output


def test_a_revision_from_before_render_jobs_still_verifies_by_its_revision_added_event(rapp):
    """Revisions recorded before this change carry their image hash in `revision_added` and
    have no `image_rendered` event: verify-records accepts them, and still finds a changed hash."""
    from proofmark.bindings import check_proof
    from proofmark.records import append_event

    with rapp.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        render_jobs.run_due(db, now=T0)
        rev = proofs.get_proof(db, proof_id).revision
        added = proofs.get_events(db, proof_id)[1]["data"]
        # The same revision as the old code recorded it: a second proof whose revision_added
        # holds the image hash, and no render job or image_rendered event.
        with transaction(db):
            db.execute(
                "INSERT INTO proofs (public_id, order_ref, customer_name, customer_email, product, font, text,"
                " status, current_revision, source, created_at, updated_at, emailed_at)"
                " SELECT 'P-OLD00001', 'OLD-1', customer_name, customer_email, product, font, text, status,"
                " 1, source, created_at, updated_at, emailed_at FROM proofs WHERE id = ?",
                (proof_id,),
            )
            old_id = db.execute("SELECT id FROM proofs WHERE public_id = 'P-OLD00001'").fetchone()[0]
            db.execute(
                "INSERT INTO revisions (proof_id, number, design, text, font, image_sha256, renderer_version,"
                " nonce, created_by, created_at, design_sha256, options, warnings, note, image_width, image_height)"
                " SELECT ?, number, design, text, font, image_sha256, renderer_version, 'n', created_by,"
                " created_at, design_sha256, options, warnings, note, image_width, image_height FROM revisions"
                " WHERE id = ?",
                (old_id, rev.id),
            )
            created = dict(
                proofs.get_events(db, proof_id)[0]["data"], public_id="P-OLD00001", order_ref="OLD-1"
            )
            append_event(db, old_id, "proof_created", actor="staff:old", at=T0, data=created)
            old_added = {
                **added,
                "image_sha256": rev.image_sha256,
                "image_size": [rev.image_width, rev.image_height],
            }
            append_event(db, old_id, "revision_added", actor="staff:old", at=T0, data=old_added)
        assert check_proof(db, old_id) == []
        with transaction(db):
            db.execute("UPDATE revisions SET image_sha256 = '' WHERE proof_id = ?", (old_id,))
        assert "image SHA-256 is '' but the log recorded" in check_proof(db, old_id)[0].message
