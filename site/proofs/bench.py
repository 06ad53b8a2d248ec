"""`proofmark bench-proofs`: the proof loop timed in a throwaway instance folder.

Creates proofs (render the proof image, store it, one transaction), approves them with 1, 8
and 16 concurrent approvers (threads, each with its own database connection, as the
server's threads have), sends the emails, verifies the chains, and reports the database
bytes per proof. `--json` prints one JSON object; otherwise a table.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] * 1000, 2)


def measure(count: int, concurrency: tuple[int, ...] = (1, 8, 16)) -> dict:
    from proofmark import create_app, mail
    from proofmark.db import database_path, get_db
    from proofmark.proofs import approve, create_proof, get_proof, statements
    from proofmark.records import verify_chain
    from proofmark_renderer import Design

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
        ticked = None
        with app.app_context():
            db = get_db()
            ticked = [s["id"] for s in statements()]
            # The first proof after a start: renders the scene if it was not prepared.
            first = time.perf_counter()
            create_proof(
                db,
                order_ref="B-first",
                customer_name="Bench",
                design=Design(product="bar-necklace", font="lato", lines=("First",)),
                customer_email="bench@example.com",
                source="staff",
                actor="staff:bench",
            )
            first = time.perf_counter() - first
            created, ids = [], []
            total = count * len(concurrency)
            for i in range(total):
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

        approvals = {}
        for n, threads in enumerate(concurrency):
            batch = ids[n * count : (n + 1) * count]
            latencies: list[float] = []
            errors: list[str] = []
            guard = threading.Lock()
            queue = list(batch)

            def approver(queue=queue, guard=guard, errors=errors, latencies=latencies) -> None:
                with app.app_context():
                    db = get_db()
                    while True:
                        with guard:
                            if not queue:
                                return
                            proof_id = queue.pop()
                        rev = get_proof(db, proof_id).revision
                        t = time.perf_counter()
                        try:
                            approve(
                                db, proof_id, revision=rev.number, nonce=rev.nonce, statements_ticked=ticked
                            )
                        except Exception as exc:  # noqa: BLE001 - reported, the run goes on
                            with guard:
                                errors.append(f"{type(exc).__name__}: {exc}")
                            continue
                        elapsed = time.perf_counter() - t
                        with guard:
                            latencies.append(elapsed)

            workers = [threading.Thread(target=approver) for _ in range(threads)]
            t0 = time.perf_counter()
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            wall = time.perf_counter() - t0
            approvals[str(threads)] = {
                "approvals": len(latencies),
                "errors": len(errors),
                "first_error": errors[0] if errors else None,
                "per_second": round(len(latencies) / wall, 1) if wall else None,
                "p50_ms": _pct(latencies, 50),
                "p95_ms": _pct(latencies, 95),
                "max_ms": _pct(latencies, 100),
            }

        with app.app_context():
            db = get_db()
            t = time.perf_counter()
            report = mail.send_due(db, limit=100_000)
            sending = time.perf_counter() - t
            t = time.perf_counter()
            for proof_id in ids[:50]:
                assert verify_chain(db, proof_id).intact
            chain = (time.perf_counter() - t) / min(len(ids), 50)
            db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            proofs = db.execute("SELECT COUNT(*) FROM proofs").fetchone()[0]
            outbox_bytes = db.execute("SELECT COALESCE(SUM(LENGTH(message)), 0) FROM outbox").fetchone()[0]
            db_bytes = database_path(app).stat().st_size
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "load_average": load,
        "proof_image_width": app.config["PROOF_IMAGE_WIDTH"],
        "first_create_ms": round(first * 1000, 1),
        "create": {
            "proofs": len(created),
            "p50_ms": _pct(created, 50),
            "p95_ms": _pct(created, 95),
            "max_ms": _pct(created, 100),
        },
        "approve": approvals,
        "targets": {"approvals_per_second_at_8": 250, "p95_ms_at_8": 50},
        "send_due": {"sent": report.sent, "per_second": round(report.sent / sending, 1) if sending else None},
        "verify_chain_ms_per_proof": round(chain * 1000, 2),
        "db_bytes": db_bytes,
        "db_bytes_per_proof": round(db_bytes / proofs) if db_bytes and proofs else None,
        "outbox_message_bytes_per_proof": round(outbox_bytes / proofs) if proofs else None,
    }


def table(result: dict) -> list[str]:
    c = result["create"]
    lines = [
        f"load average {result['load_average']}; proof image {result['proof_image_width']} px",
        f"first create_proof after start {result['first_create_ms']} ms",
        f"create_proof  {c['proofs']} proofs  p50 {c['p50_ms']} ms  p95 {c['p95_ms']} ms  max {c['max_ms']} ms",
        f"{'approvers':>10}{'approvals':>10}{'errors':>8}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}",
    ]
    for threads, a in result["approve"].items():
        lines.append(
            f"{threads:>10}{a['approvals']:>10}{a['errors']:>8}{a['per_second'] or 0:>8}"
            f"{a['p50_ms'] or 0:>9}{a['p95_ms'] or 0:>9}{a['max_ms'] or 0:>9}"
        )
        if a["first_error"]:
            lines.append(f"{'':>10}first error: {a['first_error']}")
    lines += [
        f"send_due      {result['send_due']['sent']} messages, {result['send_due']['per_second']}/s (file backend)",
        f"verify_chain  {result['verify_chain_ms_per_proof']} ms per proof",
        f"database      {result['db_bytes']} bytes, {result['db_bytes_per_proof']} per proof "
        f"(outbox messages {result['outbox_message_bytes_per_proof']} per proof)",
    ]
    return lines


def run(count: int) -> list[str]:
    """The table lines (kept for callers of the old interface)."""
    return table(measure(count))
