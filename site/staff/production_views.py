"""Production files on the staff side: one download per file, only for an approved revision."""

from __future__ import annotations

from flask import Response, abort, g, request
from flask_babel import gettext

from proofmark import production, proofs
from proofmark.db import get_db
from proofmark.staff.blueprint import bp
from proofmark_renderer.production.files import ProductionError


@bp.get("/proofs/<int:proof_id>/production/<name>")
def production_file(proof_id: int, name: str):
    db = get_db()
    proof = proofs.get_proof(db, proof_id)
    if proof is None:
        abort(404, gettext("There is no proof #%(id)s.", id=proof_id))
    try:
        pset = production.production_set(db, proof)
        f = pset.file(name)
    except production.NotApproved as exc:
        abort(409, str(exc))
    except production.NoSuchFile as exc:
        abort(404, str(exc))
    except ProductionError as exc:
        abort(422, str(exc))
    production.record_sent(
        db,
        pset,
        [f],
        actor=g.staff.actor,
        via="staff",
        ip=request.remote_addr,
        user_agent=request.user_agent.string or None,
    )
    return Response(
        f.data,
        mimetype=f.content_type.split(";")[0],
        content_type=f.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{production.download_name(pset, f)}"',
            "X-Content-SHA256": f.sha256,
        },
    )
