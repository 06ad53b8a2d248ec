"""Photos of the received item, attached to a return claim.

Only real raster images are taken (JPEG, PNG, WebP, one frame), within a byte and a pixel
limit checked from the header before any pixel is decoded (a decompression bomb is refused,
not decoded). Each photo is turned upright by its EXIF orientation and saved again as a
JPEG without any metadata (no EXIF: no GPS position, camera serial or date; no XMP, no
comments), and stored under the SHA-256 of those bytes, never overwritten. The claim's
record gets a `claim_photo_added` event with both hashes (upload and stored copy).
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils
from flask import Flask, current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from proofmark import storage
from proofmark.db import transaction
from proofmark.records import append_event, timestamp

FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_PER_CLAIM = 12


class PhotoError(ValueError):
    pass


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes  # the JPEG that is stored
    width: int
    height: int
    original_format: str
    original_sha256: str
    original_bytes: int


def clean(upload: bytes, *, max_bytes: int, max_pixels: int, name: str = "the photo") -> CleanPhoto:
    """Check and re-encode one upload (see the module docstring); PhotoError says why not."""
    if not upload:
        raise PhotoError(f"{name} is empty.")
    if len(upload) > max_bytes:
        raise PhotoError(
            f"{name} is {len(upload) / 1e6:.1f} MB; at most {max_bytes / 1e6:.0f} MB is accepted."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(upload), formats=sorted(FORMATS))
            if image.format not in FORMATS:
                raise PhotoError(f"{name} is not a JPEG, PNG or WebP photo.")
            width, height = image.size
            if width < 1 or height < 1 or width * height > max_pixels:
                raise PhotoError(
                    f"{name} is {width}×{height} pixels; at most {max_pixels / 1e6:.0f} megapixels are accepted."
                )
            if getattr(image, "n_frames", 1) > 1:
                raise PhotoError(f"{name} is an animation; upload a still photo.")
            image.load()
            upright = ImageOps.exif_transpose(image)
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoError(
            f"{name} claims more pixels than any photo has; at most {max_pixels / 1e6:.0f} megapixels are accepted."
        ) from exc
    except UnidentifiedImageError as exc:
        raise PhotoError(f"{name} is not a JPEG, PNG or WebP photo we can read ({exc}).") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise PhotoError(f"{name} could not be read: it is damaged or not a photo ({exc}).") from exc
    if upright.mode not in ("RGB", "L"):
        background = Image.new("RGB", upright.size, "white")
        rgba = upright.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        upright = background
    out = io.BytesIO()
    # No exif=, no icc_profile=, no comment: nothing from the original file is carried over.
    upright.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
    return CleanPhoto(
        data=out.getvalue(),
        width=upright.width,
        height=upright.height,
        original_format=image.format,
        original_sha256=hashlib.sha256(upload).hexdigest(),
        original_bytes=len(upload),
    )


def path_for(sha256: str, app: Flask | None = None) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return storage.image_root(app) / "claims" / sha256[:2] / f"{sha256}.jpg"


def _put(data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    path = path_for(sha)
    if path.exists():
        return sha
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}-{secrets.token_hex(4)}")
    tmp.write_bytes(data)
    try:
        os.link(tmp, path)  # never overwrite what another writer stored
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return sha


def get(sha256: str) -> bytes:
    path = path_for(sha256)
    if not path.is_file():
        raise storage.StoredImageMissing(sha256)
    return path.read_bytes()


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
