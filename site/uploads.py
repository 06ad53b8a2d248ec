"""Photos uploaded by staff (claim photos, product photos): hostile until proven otherwise.

Only real raster images are taken (JPEG, PNG, WebP, one frame), within a byte and a pixel
limit checked from the header before any pixel is decoded (a decompression bomb is refused,
not decoded); an SVG, a PDF, a renamed program or an empty file is refused in words. Each
photo is turned upright by its EXIF orientation and saved again without any metadata (no
EXIF: no GPS position, camera serial or date; no XMP, no comments), and stored under the
SHA-256 of those bytes in a folder of the image store, never overwritten.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from PIL import Image, ImageOps, UnidentifiedImageError

from proofmark import storage

FORMATS = {"JPEG", "PNG", "WEBP"}


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
    image, upright = _checked(upload, max_bytes=max_bytes, max_pixels=max_pixels, name=name)
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


def clean_greyscale(
    upload: bytes, *, max_bytes: int, max_pixels: int, name: str = "the picture"
) -> CleanPhoto:
    """The same checks as `clean`, kept as a greyscale PNG (a product view's mask or light
    layer: exact values, no JPEG blur); transparency counts as black."""
    image, upright = _checked(upload, max_bytes=max_bytes, max_pixels=max_pixels, name=name)
    if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info:
        rgba = upright.convert("RGBA")
        grey = Image.new("L", upright.size, 0)
        grey.paste(rgba.convert("L"), mask=rgba.getchannel("A"))
    else:
        grey = upright.convert("L")
    out = io.BytesIO()
    grey.save(out, "PNG", optimize=True)
    return CleanPhoto(
        data=out.getvalue(),
        width=grey.width,
        height=grey.height,
        original_format=image.format,
        original_sha256=hashlib.sha256(upload).hexdigest(),
        original_bytes=len(upload),
    )


def _checked(upload: bytes, *, max_bytes: int, max_pixels: int, name: str):
    """The upload opened, checked and turned upright: (the image as read, the upright one)."""
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
    return image, upright


def path_for(folder: str, sha256: str, app: Flask | None = None, suffix: str = ".jpg") -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return storage.image_root(app) / folder / sha256[:2] / f"{sha256}{suffix}"


def put(folder: str, data: bytes, suffix: str = ".jpg") -> str:
    """Store bytes under their SHA-256 in `folder` of the image store (never overwritten)."""
    sha = hashlib.sha256(data).hexdigest()
    path = path_for(folder, sha, suffix=suffix)
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


def get(folder: str, sha256: str, suffix: str = ".jpg") -> bytes:
    path = path_for(folder, sha256, suffix=suffix)
    if not path.is_file():
        raise storage.StoredImageMissing(sha256)
    return path.read_bytes()
