"""`proofmark bench-ledger`: the keyed log at scale, in a throwaway instance folder.

Fills the log to `events` entries (a few real proofs, then notes appended through
proofmark.records.append_event, a thousand per transaction), then times single appends at that
size (each one event + its log entry + the tree nodes it completes, in its own transaction) and
a full `verify-records` pass. Prints the machine's load average with the numbers: on a shared
machine they are noisy."""

from __future__ import annotations

from collections.abc import Iterator


def run(events: int, samples: int = 1000) -> Iterator[str]:
    import os
    import statistics
    import tempfile
    import time

    from proofmark import create_app, ledger
    from proofmark.db import get_db, transaction
    from proofmark.proofs import approve, create_proof, get_proof, statements
    from proofmark.records import append_event
    from proofmark.verification import verify_all
    from proofmark_renderer import Design

    with tempfile.TemporaryDirectory(prefix="proofmark-bench-ledger-") as folder:
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
            ids = []
            for i in range(20):
                design = Design(product="bar-necklace", font="lato", lines=(f"Bench {i:03d}",))
                ids.append(
                    create_proof(
                        db,
                        order_ref=f"B-{i}",
                        customer_name="Bench",
                        customer_email="bench@example.com",
                        design=design,
                        source="staff",
                        actor="staff:bench",
                    )
                )
            for proof_id in ids[::2]:
                rev = get_proof(db, proof_id).revision
                approve(
                    db,
                    proof_id,
                    revision=1,
                    nonce=rev.nonce,
                    statements_ticked=[s["id"] for s in statements()],
                )
            t = time.perf_counter()
            while ledger.size(db) < events - samples:
                with transaction(db):
                    for _ in range(min(1000, events - samples - ledger.size(db))):
                        append_event(
                            db, ids[_ % len(ids)], "note_added", actor="staff:bench", data={"note": "fill"}
                        )
            fill = time.perf_counter() - t
            yield f"filled the log to {ledger.size(db):,} entries in {fill:.1f} s"

            appends, commits = [], []
            for i in range(samples):
                t0 = time.perf_counter()
                with transaction(db):
                    t1 = time.perf_counter()
                    append_event(
                        db, ids[i % len(ids)], "note_added", actor="staff:bench", data={"note": f"s{i}"}
                    )
                    t2 = time.perf_counter()
                commits.append(time.perf_counter() - t0)
                appends.append(t2 - t1)
            yield (
                f"append one event + its log entry + tree nodes at {ledger.size(db):,} entries: median "
                f"{statistics.median(appends) * 1000:.3f} ms, p95 {sorted(appends)[int(samples * 0.95)] * 1000:.3f} ms"
                f" (target < 5 ms); with BEGIN IMMEDIATE and COMMIT (synchronous=FULL, fsync): median "
                f"{statistics.median(commits) * 1000:.3f} ms"
            )
            t, cpu = time.perf_counter(), time.process_time()
            log = ledger.verify_log(db, app)
            results = list(verify_all(db, app, log))
            took, cpu = time.perf_counter() - t, time.process_time() - cpu
            intact = sum(r.intact for r in results)
            yield (
                f"verify-records over {log.entries:,} log entries ({len(results)} proofs, {intact} intact, log "
                f"{'intact' if log.intact else 'NOT intact'}): {took:.1f} s wall clock, {cpu:.1f} s CPU (target < 30 s)"
            )
            yield f"load average (1, 5, 15 min) on {os.cpu_count()} CPUs: {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
