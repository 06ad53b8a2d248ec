"""Content-addressed image storage in the instance folder: a file is named by the SHA-256
of its bytes and never overwritten, so a stored proof image is what was shown."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from flask import Flask, current_app


class StoredImageMissing(FileNotFoundError):
    pass


def image_root(app: Flask | None = None) -> Path:
    app = app or current_app
    root = Path(app.config["IMAGE_DIR"])
    return root if root.is_absolute() else Path(app.instance_path) / root


# The suffixes a stored file may have: proof images are PNG; the email JPEGs and logos that the
# outbox refers to by hash (proofmark.mail) are stored the same way.
SUFFIXES = (".png", ".jpg", ".gif")


def path_for(sha256: str, app: Flask | None = None, *, suffix: str = ".png") -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    if suffix not in SUFFIXES:
        raise ValueError(f"not a stored image suffix: {suffix!r}")
    return image_root(app) / sha256[:2] / f"{sha256}{suffix}"


def put(data: bytes, app: Flask | None = None, *, suffix: str = ".png") -> str:
    sha = hashlib.sha256(data).hexdigest()
    path = path_for(sha, app, suffix=suffix)
    if path.exists():
        return sha  # written (and fsynced) by an earlier put
    path.parent.mkdir(parents=True, exist_ok=True)
    # Unique per writer (threads of one process too): another writer's cleanup never
    # removes this one's file between its write and its link.
    tmp = path.with_suffix(f".tmp{os.getpid()}-{secrets.token_hex(4)}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        # link() fails if another writer got there first: never overwrite.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    # The file's name is durable only once its directory is: before the transaction that
    # refers to this image commits, so a power loss cannot leave a record without its image.
    fsync_dir(path.parent)
    fsync_dir(path.parent.parent)
    return sha


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def get(sha256: str, app: Flask | None = None, *, suffix: str = ".png") -> bytes:
    path = path_for(sha256, app, suffix=suffix)
    if not path.is_file():
        raise StoredImageMissing(sha256)
    return path.read_bytes()


def verify(sha256: str, app: Flask | None = None, *, suffix: str = ".png") -> str | None:
    """None if the stored file exists and hashes to its name, else what is wrong."""
    path = path_for(sha256, app, suffix=suffix)
    if not path.is_file():
        return f"image {sha256[:12]}… is missing from {path.parent}"
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != sha256:
        return f"image {sha256[:12]}… was modified on disk (now hashes to {actual[:12]}…)"
    return None
