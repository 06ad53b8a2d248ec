"""`proofmark bench-proofs`: the proof loop timed in a throwaway instance folder.

Creates proofs (render the proof image, store it, one transaction), approves them with 1, 8
and 16 concurrent approvers (threads, each with its own database connection, as the
server's threads have) through the service and through the approval page (POST
/approve/<token>/approve through the app's WSGI stack, the page opened first, not timed),
with wall-clock latency, throughput, the process's CPU time per approval, group commits per
approval and the load average (`--processes`: the same again with approvers as forked
processes); sends the emails, verifies the chains, and reports the database bytes per proof
(and what they would be with whole messages in the outbox, as before migration 0080).
`--json` prints one JSON object; otherwise a table.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import tempfile
import threading
import time


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] * 1000, 2)


def _phase_result(
    latencies: list, errors: list, wall: float, cpu: float, confirmed: float | None = None, delays=()
) -> dict:
    """One phase's figures. `wall`: until the last approver had its answer; `confirmed`: until
    every confirmation email was queued too (the confirmation thread's work after the answers),
    and `cpu` counts that work. CPU per approval is the steadier figure on a shared machine;
    1000 / cpu_ms_per_approval is what one core could do. `delays`: from each decision's
    commit to its confirmation queued, when a confirmation thread queued them."""
    confirmed = max(wall, confirmed or 0.0)
    return {
        "approvals": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "per_second": round(len(latencies) / wall, 1) if wall else None,
        # Approvals per second counting until the last confirmation was queued: the rate that
        # holds when approvals keep coming.
        "per_second_confirmed": round(len(latencies) / confirmed, 1) if confirmed else None,
        "p50_ms": _pct(latencies, 50),
        "p95_ms": _pct(latencies, 95),
        "max_ms": _pct(latencies, 100),
        "cpu_ms_per_approval": round(cpu * 1000 / len(latencies), 2) if latencies else None,
        "confirmation_queued_after_ms": {
            "p50": _pct(delays, 50),
            "p95": _pct(delays, 95),
            "max": _pct(delays, 100),
        }
        if delays
        else None,
        "load_average": _load(),
    }


def _cpu() -> float:
    """CPU seconds of this process (all threads), user + system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _take_and_time(queue: list, guard: threading.Lock, work, latencies: list, errors: list) -> None:
    """One approver: take items from `queue` until none are left, timing each alone; an item
    that fails is reported in `errors` and the run goes on."""
    while True:
        with guard:
            if not queue:
                return
            item = queue.pop()
        t = time.perf_counter()
        try:
            work(item)
        except Exception as exc:  # noqa: BLE001 - reported, the run goes on
            with guard:
                errors.append(f"{type(exc).__name__}: {exc}")
            continue
        elapsed = time.perf_counter() - t
        with guard:
            latencies.append(elapsed)


def _run_approvers(threads: int, items: list, work, settle) -> dict:
    """`threads` approvers take items until none are left; each item timed alone. `settle()`
    waits until this process has queued every confirmation and returns their delays."""
    latencies: list[float] = []
    errors: list[str] = []
    guard = threading.Lock()
    queue = list(items)

    def approver() -> None:
        _take_and_time(queue, guard, work, latencies, errors)

    workers = [threading.Thread(target=approver) for _ in range(threads)]
    cpu0, t0 = _cpu(), time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - t0
    delays = settle()
    confirmed, cpu = time.perf_counter() - t0, _cpu() - cpu0
    return _phase_result(latencies, errors, wall, cpu, confirmed, delays)


def _commits() -> tuple[int, int]:
    """(transactions committed, writes in them) by this process's group commit so far."""
    from proofmark import db as dbmod

    with dbmod._committers_lock:
        found = [c for (pid, _), c in dbmod._committers.items() if pid == os.getpid()]
    return sum(c.batches for c in found), sum(c.writes for c in found)


def _with_commits(result: dict, before: tuple[int, int], after: tuple[int, int]) -> dict:
    batches, writes = after[0] - before[0], after[1] - before[1]
    approvals = result["approvals"] or 1
    # Group commit: writes (a decision, its confirmation) per COMMIT, and so fsyncs per approval.
    result["group_commits_per_approval"] = round(batches / approvals, 3)
    result["writes_per_group_commit"] = round(writes / batches, 2) if batches else None
    return result


_INHERITED: list = []  # a forked approver's copies of the parent's idle connections: never used, never closed


def _run_processes(
    processes: int, items: list, work, settle, after_fork=None, warm: list | None = None, threads: int = 1
) -> dict:
    """The same as _run_approvers with `processes` forked processes, each with `threads`
    approver threads (1: one approver per process; the site runs 2 worker processes of 4
    threads), its own connections and its own group commit. `warm`: one item per approver."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    go = context.Event()
    pipes = []
    children = []
    for index in range(processes):
        mine = list(items[index::processes])
        receive, send = context.Pipe(duplex=False)

        def child(mine=mine, send=send, index=index) -> None:
            if after_fork is not None:
                after_fork()
            latencies, errors, guard = [], [], threading.Lock()
            ready, start = threading.Barrier(threads + 1), threading.Event()

            def approver(number: int) -> None:
                if warm:
                    # One approval first, not counted: a worker process of the site is warm (its
                    # connection has read the schema, its caches are filled).
                    with contextlib.suppress(Exception):  # the counted approvals report errors
                        work(warm[index * threads + number])
                    settle()
                ready.wait()
                start.wait()
                _take_and_time(mine, guard, work, latencies, errors)

            workers = [threading.Thread(target=approver, args=(n,)) for n in range(threads)]
            for w in workers:
                w.start()
            ready.wait()
            go.wait()
            cpu_before = _cpu()  # the whole process: its approvers, its group commit's writer
            before = _commits()
            start.set()
            for w in workers:
                w.join()
            answered = time.perf_counter()  # CLOCK_MONOTONIC: comparable across processes
            delays = settle()
            confirmed = time.perf_counter()
            after = _commits()
            used = _cpu() - cpu_before
            send.send(
                (
                    latencies,
                    errors,
                    after[0] - before[0],
                    after[1] - before[1],
                    used,
                    answered,
                    confirmed,
                    delays,
                )
            )
            send.close()

        process = context.Process(target=child, daemon=True)
        process.start()
        pipes.append(receive)
        children.append(process)
    t0 = time.perf_counter()
    go.set()
    latencies, errors, batches, writes, cpu, ends, delays = [], [], 0, 0, 0.0, [], []
    for receive in pipes:
        got, errs, b, w, used, answered, confirmed, waited = receive.recv()
        latencies += got
        errors += errs
        batches += b
        writes += w
        cpu += used  # each approver's own CPU over its counted approvals
        ends.append((answered, confirmed))
        delays += waited
    wall = max(a for a, _ in ends) - t0
    confirmed = max(c for _, c in ends) - t0
    for process in children:
        process.join()
    result = _phase_result(latencies, errors, wall, cpu, confirmed, delays)
    return _with_commits(result, (0, 0), (batches, writes))


def measure(
    count: int,
    concurrency: tuple[int, ...] = (1, 8, 16),
    proof_width: int | None = None,
    page: bool = True,
    processes: bool = False,
    workers: int = 2,
    confirm: str = "thread",
) -> dict:
    """Create count x len(concurrency) proofs per way of approving (the service, and the
    approval page through the app's WSGI stack when `page`), approve them, and measure.
    Each way three times: approvers as threads of this process; spread over `workers`
    forked processes with threads in each (as the site serves: 2 worker processes of 4
    threads; 0 leaves this out); with `processes`, each approver a forked process.
    `confirm`: PROOF_CONFIRM_AFTER_DECISION ("thread": confirmation emails built and queued
    by each process's confirmation thread after the answers, "inline": by the approvers)."""
    import re

    from proofmark import create_app, mail
    from proofmark.db import connect, database_path, get_db
    from proofmark.proofs import approve, confirmations, create_proof, get_proof, statements
    from proofmark.records import verify_chain
    from proofmark.tokens import sign_approval
    from proofmark_renderer import Design

    load_at_start = _load()
    with tempfile.TemporaryDirectory(prefix="proofmark-bench-") as folder:
        previous = os.environ.get("INSTANCE_PATH")
        os.environ["INSTANCE_PATH"] = folder
        config = {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "MAIL_BACKEND": "file",
            "MAIL_SEND_AFTER_REQUEST": "off",
            "PROOF_CONFIRM_AFTER_DECISION": confirm,
        }
        if proof_width:
            config["PROOF_IMAGE_WIDTH"] = proof_width
        try:
            app = create_app(config)
        finally:
            os.environ.pop("INSTANCE_PATH") if previous is None else os.environ.update(INSTANCE_PATH=previous)
        ticked = None
        ways = ("service", "page") if page else ("service",)
        base = ways
        if workers:
            # The approvers spread over `workers` processes, threads in each (as the site runs).
            ways += tuple(f"{way}-{workers}procs" for way in base)
        if processes:
            # The same again with each approver its own process.
            ways += tuple(f"{way}-processes" for way in base)
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
            total = count * len(concurrency) * len(ways)
            # One uncounted approval per forked approver (see _run_processes).
            total += sum(concurrency) * sum(1 for way in ways if way != "service" and way != "page")
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
            revisions = {proof_id: get_proof(db, proof_id).revision for proof_id in ids}
            db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            before = _bytes(db, database_path(app), app, mail)

        connections = threading.local()

        def settle() -> list[float]:
            """Wait until this process's confirmation thread has queued every confirmation
            handed to it; their delays (decision committed to email queued), in seconds."""
            if confirm != "thread":
                return []
            worker = confirmations.worker_for(app)
            worker.wait_idle(120)
            return worker.take_delays()

        def by_service(proof_id: int) -> None:
            if not hasattr(connections, "db"):
                # Per approver thread, as a server thread has: an app context and a connection.
                connections.context = app.app_context()
                connections.context.push()
                connections.db = connect(database_path(app))
            rev = revisions[proof_id]
            approve(connections.db, proof_id, revision=rev.number, nonce=rev.nonce, statements_ticked=ticked)

        def by_page(item) -> None:
            client, token, form = item
            response = client.post(f"/approve/{token}/approve", data=form)
            if response.status_code != 303:
                raise RuntimeError(f"approval page answered {response.status_code}")

        def after_fork() -> None:
            """In a forked approver: SQLite connections must not cross a fork, so the parent's
            idle pooled ones are set aside (kept, not closed) and the approver opens its own."""
            from proofmark.db import POOL_KEY

            _INHERITED.append(app.extensions.pop(POOL_KEY, None))

        def page_items(batch: list[int]) -> list:
            """Each customer's page opened first (not timed): its session, CSRF token and hash."""
            items = []
            for proof_id in batch:
                rev = revisions[proof_id]
                with app.app_context():
                    token = sign_approval(proof_id, rev.number, rev.nonce, "bench")
                client = app.test_client()
                html = client.get(f"/approve/{token}").get_data(as_text=True)
                csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
                shown = re.search(r'name="shown" value="([^"]+)"', html).group(1)
                items.append((client, token, {"csrf_token": csrf, "shown": shown, "statement": ticked}))
            return items

        approvals: dict[str, dict] = {}
        position = 0
        for way in ways:
            approvals[way] = {}
            for threads in concurrency:
                batch = ids[position : position + count]
                position += count
                by = by_service if way.startswith("service") else by_page
                items = batch if way.startswith("service") else page_items(batch)
                if way not in ("service", "page"):
                    warm = ids[position : position + threads]
                    position += threads
                    warm = warm if way.startswith("service") else page_items(warm)
                    if way.endswith("-processes"):
                        phase = _run_processes(threads, items, by, settle, after_fork, warm)
                    else:
                        spread = max(1, min(workers, threads))
                        phase = _run_processes(
                            spread,
                            items,
                            by,
                            settle,
                            after_fork,
                            warm[: threads - threads % spread],
                            threads // spread,
                        )
                        phase["processes_x_threads"] = f"{spread}x{threads // spread}"
                    approvals[way][str(threads)] = phase
                else:
                    before = _commits()
                    phase = _run_approvers(threads, items, by, settle)
                    approvals[way][str(threads)] = _with_commits(phase, before, _commits())

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
            after = _bytes(db, database_path(app), app, mail)
    return {
        "load_average": _load(),
        "load_average_at_start": load_at_start,
        "cpu_count": os.cpu_count(),
        "synchronous": "FULL",
        "confirmations": confirm,
        "group_commit": bool(app.config.get("DB_GROUP_COMMIT", True)),
        "proof_image_width": app.config["PROOF_IMAGE_WIDTH"],
        "first_create_ms": round(first * 1000, 1),
        "create": {
            "proofs": len(created),
            "p50_ms": _pct(created, 50),
            "p95_ms": _pct(created, 95),
            "max_ms": _pct(created, 100),
        },
        "approve": approvals,
        "targets": {
            "service_approvals_per_second_at_8": 250,
            "service_p95_ms_at_8": 50,
            "page_approvals_per_second_at_8": 120,
        },
        "send_due": {"sent": report.sent, "per_second": round(report.sent / sending, 1) if sending else None},
        "verify_chain_ms_per_proof": round(chain * 1000, 2),
        "bytes": {"after_create": before, "after_approve": after},
        # Kept for readers of the earlier JSON.
        "db_bytes": after["db_bytes"],
        "db_bytes_per_proof": after["db_bytes_per_proof"],
        "outbox_message_bytes_per_proof": after["outbox_stored_bytes_per_proof"],
    }


def _bytes(db, path, app, mail) -> dict:
    """The database per proof, and the outbox as stored (messages without their images, and
    the email images in the store, each once) against whole messages (what each row held
    before migration 0080)."""
    from proofmark import storage

    proofs = db.execute("SELECT COUNT(*) FROM proofs").fetchone()[0] or 1
    stored = whole = 0
    images: dict[str, int] = {}
    for row in db.execute("SELECT message, message_images FROM outbox"):
        stored += len(row["message"])
        whole += len(mail.message_bytes(row, app))
        for _, sha, suffix in json.loads(row["message_images"] or "[]"):
            images[sha] = storage.path_for(sha, app, suffix=suffix).stat().st_size
    db_bytes = path.stat().st_size
    files: dict[int, int] = {}  # by inode: a cache entry linked to a stored file counts once
    for file in storage.image_root(app).rglob("*"):
        if file.is_file():
            info = file.stat()
            files[info.st_ino] = info.st_size
    return {
        "proofs": proofs,
        "db_bytes": db_bytes,
        "db_bytes_per_proof": round(db_bytes / proofs),
        "outbox_stored_bytes_per_proof": round(stored / proofs),
        "outbox_whole_message_bytes_per_proof": round(whole / proofs),
        "email_images_stored_bytes_per_proof": round(sum(images.values()) / proofs),
        "db_bytes_per_proof_if_messages_whole": round((db_bytes - stored + whole) / proofs),
        "image_folder_bytes_per_proof": round(sum(files.values()) / proofs),
    }


def table(result: dict) -> list[str]:
    c = result["create"]
    lines = [
        f"load average {result.get('load_average_at_start')} at the start, {result['load_average']} at the end "
        f"({result.get('cpu_count')} CPUs; wall-clock figures are inflated by load, CPU ms per approval less so); "
        f"proof image {result['proof_image_width']} px; synchronous={result.get('synchronous')}, "
        f"group commit {'on' if result.get('group_commit') else 'off'}; "
        f"confirmation emails: {result.get('confirmations')}",
        f"first create_proof after start {result['first_create_ms']} ms",
        f"create_proof  {c['proofs']} proofs  p50 {c['p50_ms']} ms  p95 {c['p95_ms']} ms  max {c['max_ms']} ms",
        f"{'way':>18}{'approvers':>10}{'approvals':>10}{'errors':>7}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'max ms':>9}{'CPU ms':>8}{'commits':>9}{'conf/s':>8}{'conf p95':>9}  load",
    ]
    for way, levels in result["approve"].items():
        for threads, a in levels.items():
            lines.append(
                f"{way:>18}{threads:>10}{a['approvals']:>10}{a['errors']:>7}{a['per_second'] or 0:>8}"
                f"{a['p50_ms'] or 0:>9}{a['p95_ms'] or 0:>9}{a['max_ms'] or 0:>9}"
                f"{a['cpu_ms_per_approval'] or 0:>8}{a.get('group_commits_per_approval', 0):>9}"
                f"{a.get('per_second_confirmed') or 0:>8}{(a.get('confirmation_queued_after_ms') or {}).get('p95') or '-':>9}"
                f"  {a['load_average']}"
            )
            if a["first_error"]:
                lines.append(f"{'':>18}first error: {a['first_error']}")
    lines.append(
        f"{'':>18}(commits: group commits per approval, i.e. fsyncs of the decision and its confirmation; "
        "CPU ms includes building and queueing the confirmation emails wherever they ran; "
        "conf/s: approvals per second counted until every confirmation was queued; conf p95: "
        "ms from a decision's commit to its confirmation queued by the confirmation thread; "
        "targets at 8 approvers: service >= 250/s with p95 <= 50 ms, page >= 120/s)"
    )
    b = result["bytes"]["after_approve"]
    lines += [
        f"send_due      {result['send_due']['sent']} messages, {result['send_due']['per_second']}/s (file backend)",
        f"verify_chain  {result['verify_chain_ms_per_proof']} ms per proof",
        f"database      {b['db_bytes']} bytes, {b['db_bytes_per_proof']} per proof "
        f"(outbox as stored {b['outbox_stored_bytes_per_proof']} per proof; "
        f"as whole messages, the layout before migration 0080: {b['outbox_whole_message_bytes_per_proof']} per proof, "
        f"so {b['db_bytes_per_proof_if_messages_whole']} per proof)",
        f"image store   email images {b['email_images_stored_bytes_per_proof']} bytes per proof (each stored once); "
        f"whole image folder (proof PNGs too) {b['image_folder_bytes_per_proof']} per proof",
    ]
    return lines


def run(count: int) -> list[str]:
    """The table lines (kept for callers of the old interface)."""
    return table(measure(count))
