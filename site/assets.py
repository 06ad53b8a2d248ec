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
