from __future__ import annotations

from flask import Blueprint, jsonify
from PIL import features

from proofmark import db
from proofmark_renderer import catalog

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    status = {"status": "ok"}
    try:
        version = db.current_version(db.get_db())
        status["database"] = {"reachable": True, "migration": version, "latest": db.latest_version()}
    except Exception as exc:  # noqa: BLE001 - health reports, never raises
        status["status"] = "error"
        status["database"] = {"reachable": False, "error": str(exc)}
    status["fonts"] = {"loaded": len(catalog.fonts()), "problems": list(catalog.problems())}
    status["raqm"] = bool(features.check("raqm"))
    if not status["raqm"]:
        status["status"] = "degraded"
    return jsonify(status), 200 if status["status"] != "error" else 503
