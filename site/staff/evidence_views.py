"""Evidence downloads and on-demand verification."""

from __future__ import annotations

from flask import Response, current_app, render_template, request

from proofmark.db import get_db
from proofmark.evidence import build_facts, pdf_filename, render_pdf, to_json
from proofmark.staff.blueprint import bp
from proofmark.staff.views import _record_or_404
from proofmark.verification import verify_all


@bp.get("/proofs/<int:proof_id>/evidence.json")
def evidence_json(proof_id: int):
    record = _record_or_404(proof_id)
    facts = build_facts(record, current_app.config)
    name = pdf_filename(record).replace(".pdf", ".json")
    disposition = "attachment" if request.args.get("download") else "inline"
    return Response(
        to_json(facts),
        mimetype="application/json",
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )


@bp.get("/proofs/<int:proof_id>/evidence.pdf")
def evidence_pdf(proof_id: int):
    record = _record_or_404(proof_id)
    facts = build_facts(record, current_app.config)
    pdf = render_pdf(record, facts, current_app)
    disposition = "inline" if request.args.get("inline") else "attachment"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'{disposition}; filename="{pdf_filename(record)}"'},
    )


@bp.get("/verify")
def verify():
    from proofmark import ledger

    log = ledger.verify_log(get_db(), current_app)
    results = list(verify_all(get_db(), current_app, log))
    tampered = [r for r in results if not r.intact]
    return render_template(
        "staff/verify.html", results=results, tampered=tampered, log=log, log_problems=log.general()
    )
