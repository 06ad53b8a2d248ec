"""Self-hosted third-party assets installed from npm (never from a CDN, never committed)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

from renderer import catalog

bp = Blueprint("assets", __name__)

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
VENDOR = {
    "htmx.min.js": NODE_MODULES / "htmx.org" / "dist",
}


@bp.get("/vendor/<name>")
def vendor(name: str):
    if name not in VENDOR:
        abort(404)
    return send_from_directory(VENDOR[name], name, max_age=86400)


@bp.get("/fonts/<font_id>.ttf")
def font_file(font_id: str):
    """The catalog's font files, so the font picker can show each name in its own font."""
    font = catalog.font(font_id)
    if font is None:
        abort(404)
    return send_from_directory(font.path.parent, font.path.name, mimetype="font/ttf", max_age=86400)
