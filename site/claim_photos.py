"""Photos of the received item, attached to a return claim.

Only real raster images are taken (JPEG, PNG, WebP, one frame), within a byte and a pixel
limit checked from the header before any pixel is decoded (a decompression bomb is refused,
not decoded; see proofmark.uploads, shared with product photos). Each photo is turned upright by its EXIF orientation and saved again as a
JPEG without any metadata (no EXIF: no GPS position, camera serial or date; no XMP, no
comments), and stored under the SHA-256 of those bytes, never overwritten. The claim's
record gets a `claim_photo_added` event with both hashes (upload and stored copy).
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils
from flask import Flask, current_app

from proofmark import uploads
from proofmark.db import transaction
from proofmark.records import append_event, timestamp
from proofmark.uploads import FORMATS, CleanPhoto, PhotoError, clean  # noqa: F401 - the shared checks

MAX_PER_CLAIM = 12


def path_for(sha256: str, app: Flask | None = None) -> Path:
    return uploads.path_for("claims", sha256, app)


def _put(data: bytes) -> str:
    return uploads.put("claims", data)


def get(sha256: str) -> bytes:
    return uploads.get("claims", sha256)


def add(
    db: sqlite_utils.Database,
    claim_id: int,
    uploads: list[tuple[str, bytes]],
    *,
    actor: str,
    ip=None,
    user_agent=None,
) -> list[dict]:
    """Attach photos to a claim: every upload is checked first, and none is kept if one is
    refused. Returns the rows added (a photo already on the claim is not added twice)."""
    config = current_app.config
    if not uploads:
        raise PhotoError("Choose at least one photo.")
    cleaned = [
        clean(
            data,
            max_bytes=int(config["CLAIM_PHOTO_MAX_BYTES"]),
            max_pixels=int(config["CLAIM_PHOTO_MAX_PIXELS"]),
            name=f"“{filename}”" if filename else "the photo",
        )
        for filename, data in uploads
    ]
    claim = db.execute("SELECT id, proof_id FROM claims WHERE id = ?", (claim_id,)).fetchone()
    if claim is None:
        raise PhotoError(f"There is no claim #{claim_id}.")
    stored = [(_put(photo.data), photo) for photo in cleaned]
    added = []
    with transaction(db):
        have = db.execute("SELECT count(*) FROM claim_photos WHERE claim_id = ?", (claim_id,)).fetchone()[0]
        if have + len(stored) > MAX_PER_CLAIM:
            raise PhotoError(f"A claim can have at most {MAX_PER_CLAIM} photos (this one has {have}).")
        now = timestamp()
        for sha, photo in stored:
            cursor = db.execute(
                "INSERT OR IGNORE INTO claim_photos (claim_id, proof_id, sha256, original_sha256, original_format,"
                " original_bytes, width, height, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    claim_id,
                    claim["proof_id"],
                    sha,
                    photo.original_sha256,
                    photo.original_format,
                    photo.original_bytes,
                    photo.width,
                    photo.height,
                    actor,
                    now,
                ),
            )
            if not cursor.rowcount:
                continue
            data = {
                "claim_id": claim_id,
                "sha256": sha,
                "original_sha256": photo.original_sha256,
                "original_format": photo.original_format,
                "size": [photo.width, photo.height],
            }
            append_event(
                db,
                claim["proof_id"],
                "claim_photo_added",
                actor=actor,
                ip=ip,
                user_agent=user_agent,
                data=data,
            )
            added.append(data)
    return added


def for_proof(db: sqlite_utils.Database, proof_id: int) -> dict[int, list[dict]]:
    """claim id -> its photos, oldest first."""
    photos: dict[int, list[dict]] = {}
    for row in db.execute("SELECT * FROM claim_photos WHERE proof_id = ? ORDER BY claim_id, id", (proof_id,)):
        photos.setdefault(row["claim_id"], []).append(dict(row))
    return photos
