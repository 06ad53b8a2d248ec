"""Replication with Litestream (database) and the image copier to a second folder, then a
restore into a new, empty instance that passes full verification."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
import time

from proofmark import replication
from proofmark.db import get_db
from tests.staff_support import approve, create_proof, make_app


def _leaves_in_replica(app, scratch) -> int:
    scratch.unlink(missing_ok=True)
    result = subprocess.run(
        [replication.litestream_binary(), "restore", "-o", str(scratch), replication.replica_url(app)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0 or not scratch.exists():
        return -1
    conn = sqlite3.connect(scratch)
    try:
        return conn.execute("SELECT count(*) FROM ledger_leaves").fetchone()[0]
    except sqlite3.Error:
        return -1
    finally:
        conn.close()


def test_replicate_then_restore_into_an_empty_instance_passes_verification(tmp_path):
    replica = tmp_path / "second-disk"
    source = make_app(tmp_path / "a", REPLICA_DIR=str(replica), REPLICA_IMAGE_SECONDS=0.2)
    replicator = replication.Replicator(source)
    replicator.start()
    copier = threading.Thread(target=replicator.run_images)
    copier.start()
    try:
        first = create_proof(source, order_ref="R-1", lines=("Replicated",))
        approve(source, first)
        create_proof(source, order_ref="R-2", lines=("Second",))
        assert source.test_cli_runner().invoke(args=["anchor"]).exit_code == 0  # a signed head, no TSA
        with source.app_context():
            db = get_db()
            leaves = db.execute("SELECT count(*) FROM ledger_leaves").fetchone()[0]
            images = db.execute("SELECT count(DISTINCT image_sha256) FROM revisions").fetchone()[0]
            # The email JPEGs that outbox rows refer to by hash are stored beside them.
            rows = db.execute("SELECT message_images FROM outbox").fetchall()
            email_images = len({sha for (parts,) in rows for _, sha, _ in json.loads(parts)})
        # Wait (bounded) until Litestream has shipped the last transaction.
        deadline = time.monotonic() + 90
        while _leaves_in_replica(source, tmp_path / "probe.sqlite") != leaves and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        output = replicator.stop()
        copier.join(timeout=30)
    assert "replicate" in output.lower() or output == "" or "litestream" in output.lower()
    assert len(list((replica / "images").glob("*/*.png"))) == images
    assert len(list((replica / "images").glob("*/*.jpg"))) == email_images > 0

    target = make_app(tmp_path / "b", REPLICA_DIR=str(replica))
    runner = target.test_cli_runner()
    result = runner.invoke(args=["restore"])
    assert result.exit_code == 0, result.output
    assert f"{images + email_images} image(s) restored" in result.output
    result = runner.invoke(args=["verify-records"])
    assert result.exit_code == 0, result.output
    assert "2 proof(s) checked: 2 intact, 0 tampered." in result.output
    assert f"log: {leaves} entries" in result.output and "1 signed head(s)" in result.output
    # An instance that has records is never overwritten.
    again = runner.invoke(args=["restore"])
    assert again.exit_code != 0 and "already holds records" in again.output
