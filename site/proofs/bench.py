"""`proofmark bench-proofs`: the proof loop timed in a throwaway instance folder."""

from __future__ import annotations

from collections.abc import Iterator


def run(count: int) -> Iterator[str]:
    """Create (render + store + queue), approve, send and verify `count` proofs; yield report lines."""
    import os
    import statistics
    import tempfile
    import time

    from proofmark import create_app, mail
    from proofmark.db import get_db
    from proofmark.proofs import approve, create_proof, get_proof, statements
    from proofmark.records import verify_chain
    from proofmark_renderer import Design

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:8.1f} ms"

    with tempfile.TemporaryDirectory(prefix="proofmark-bench-") as folder:
        previous = os.environ.get("INSTANCE_PATH")
        os.environ["INSTANCE_PATH"] = folder
        try:
            app = create_app(
                {
                    "TESTING": True,
                    "SECRET_KEY": "bench",
                    "MAIL_BACKEND": "file",
                    "MAIL_SEND_AFTER_REQUEST": "off",
                }
            )
        finally:
            os.environ.pop("INSTANCE_PATH") if previous is None else os.environ.update(INSTANCE_PATH=previous)
        with app.app_context():
            db = get_db()
            created, approved, ids = [], [], []
            for i in range(count):
                design = Design(product="bar-necklace", font="lato", lines=(f"Bench {i:03d}",))
                t = time.perf_counter()
                ids.append(
                    create_proof(
                        db,
                        order_ref=f"B-{i}",
                        customer_name="Bench",
                        design=design,
                        customer_email="bench@example.com",
                        source="staff",
                        actor="staff:bench",
                    )
                )
                created.append(time.perf_counter() - t)
            for proof_id in ids:
                rev = get_proof(db, proof_id).revision
                t = time.perf_counter()
                approve(
                    db,
                    proof_id,
                    revision=rev.number,
                    nonce=rev.nonce,
                    statements_ticked=[s["id"] for s in statements()],
                )
                approved.append(time.perf_counter() - t)
            t = time.perf_counter()
            report = mail.send_due(db, limit=1000)
            sending = time.perf_counter() - t
            t = time.perf_counter()
            for proof_id in ids:
                assert verify_chain(db, proof_id).intact
            chain = (time.perf_counter() - t) / len(ids)
        yield (
            f"create_proof  median {ms(statistics.median(created))}  max {ms(max(created))}"
            "  (validate, render the 2400 px PNG, store it; then one transaction: rows, events, email)"
        )
        yield (
            f"approve       median {ms(statistics.median(approved))}  max {ms(max(approved))}"
            "  (what the customer waits for after clicking Approve)"
        )
        yield (
            f"send_due      {report.sent} messages in {ms(sending)}"
            f"  = {report.sent / sending:.0f} messages/s (file backend)"
        )
        yield (f"verify_chain  {ms(chain)} per proof")
