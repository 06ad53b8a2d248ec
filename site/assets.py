"""Self-hosted third-party assets installed from npm (never from a CDN, never committed)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory

bp = Blueprint("assets", __name__)

# name -> its folder under node_modules (installed by `npm ci` into ASSET_ROOT).
VENDOR = {
    "htmx.min.js": "htmx.org/dist",
}


@bp.get("/vendor/<name>")
def vendor(name: str):
    if name not in VENDOR:
        abort(404)
    folder = Path(current_app.config["ASSET_ROOT"]) / "node_modules" / VENDOR[name]
    return send_from_directory(folder, name, max_age=86400)


# Text files small enough to compress whole (htmx is 53 KB; the site's CSS and JS a few KB).
COMPRESSIBLE_FILE_BYTES = 1024 * 1024


def buffer_text_files(response):
    """Files (static, vendor) are sent as a stream, which flask-compress would compress as a
    stream and leave the file open; a small text file is read into memory instead, so it is
    compressed like any page (and the file closed when the response is)."""
    if (
        response.status_code == 200
        and response.direct_passthrough
        and response.mimetype in current_app.config["COMPRESS_MIMETYPES"]
        and (response.content_length or 0) <= COMPRESSIBLE_FILE_BYTES
    ):
        response.direct_passthrough = False
        response.get_data()
    return response
