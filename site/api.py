"""The shop's API: POST /api/proofs creates a proof (JSON in, JSON out), GET
/api/proofs/<public_id> tells whether production may start. Authenticated by an API key
in `Authorization: Bearer <key>`; keys are made by `flask --app proofmark create-api-key NAME`
and stored only as their SHA-256."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from proofmark import api_keys, idempotency, proofs
from proofmark.db import get_db
from proofmark.records import sha256_hex
from proofmark.security import csrf
from proofmark.tokens import TokenError, verify_design
from proofmark_renderer import catalog

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)  # bearer keys, not cookies: there is no session to forge

# A proof request is a few hundred bytes, a design token a few kilobytes: ample room.
MAX_BODY_BYTES = 256 * 1024
# Generous bounds on the design's shape, checked before the renderer so that an error
# message never quotes megabytes back. The renderer applies each product's real limits.
MAX_DESIGN_ID = 64  # product, font, align, size_mode, field names
MAX_DESIGN_LINES = 20
MAX_DESIGN_FIELDS = 20
MAX_DESIGN_TEXT = 500  # one line or field value
MAX_DESIGN_TOKEN = 16 * 1024


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: list | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or []


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    body = {"error": {"code": exc.code, "message": exc.message}}
    if exc.details:
        body["error"]["details"] = exc.details
    response = jsonify(body)
    response.status_code = exc.status
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="proofmark"'
    return response


@bp.errorhandler(404)
def _not_found(exc):
    return _api_error(ApiError(404, "not_found", "No such API endpoint or proof."))


@bp.errorhandler(405)
def _not_allowed(exc):
    return _api_error(ApiError(405, "method_not_allowed", f"{request.method} is not allowed here."))


@bp.before_request
def _authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if not header:
        raise ApiError(401, "unauthorized", "Send your API key in an `Authorization: Bearer <key>` header.")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "unauthorized", "The Authorization header must be `Bearer <key>`.")
    found = api_keys.find(get_db(), key.strip())
    if found is None:
        raise ApiError(401, "unauthorized", "This API key is not valid (unknown or revoked).")
    g.api_key = found
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise ApiError(
            413,
            "too_large",
            f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB; "
            "a proof request is a few hundred bytes. Nothing was created.",
        )
    # A body without a Content-Length is cut off by Werkzeug at the same size (413).
    request.max_content_length = MAX_BODY_BYTES


# --- proofs ---------------------------------------------------------------------------------


def _proof_json(proof: proofs.Proof) -> dict:
    from proofmark.verification import verify_proof

    rev = proof.revision
    # The production signal holds only if the record does: a status set in the database
    # without its event, or an approval forged without the record key, is not an approval.
    check = verify_proof(get_db(), proof.id)
    return {
        "id": proof.id,
        "public_id": proof.public_id,
        "order_ref": proof.order_ref,
        "customer_name": proof.customer_name,
        "customer_email": proof.customer_email,
        "status": proof.status,
        # The one field a production system needs: make it only when this is true.
        "approved": proof.status == "approved" and check.intact,
        "record_verified": check.intact,
        "record_problems": [p.describe() for p in check.problems],
        "revision": proof.current_revision,
        "product": proof.product,
        "font": proof.font,
        "text": proof.text,
        "design": rev.design_dict if rev else None,
        # Null while the proof image is still being rendered (the email goes once it exists).
        "image_sha256": (rev.image_sha256 or None) if rev else None,
        "image_ready": bool(rev and rev.image_sha256),
        "source": proof.source,
        "created_at": proof.created_at,
        "updated_at": proof.updated_at,
        "decided_at": proof.decided_at,
    }


@bp.post("/proofs")
def create():
    """Create a proof. With an `Idempotency-Key` header, a retry of the same request gets
    the first answer again (header `Idempotent-Replayed: true`), never a second proof."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return _create()
    db, api_key_id = get_db(), g.api_key["id"]
    try:
        idempotency.check_key(key)
        stored = idempotency.claim(db, api_key_id, key, sha256_hex(request.get_data(cache=True)))
    except idempotency.IdempotencyConflict as exc:
        raise ApiError(exc.status, exc.code, exc.message) from exc
    if stored is not None:
        response = Response(stored.response, status=stored.status_code, mimetype="application/json")
        response.headers["Idempotent-Replayed"] = "true"
        return response
    try:
        try:
            response = _create()
        except ApiError as exc:
            response = _api_error(exc)
    except BaseException:
        idempotency.release(db, api_key_id, key)
        raise
    idempotency.finish(db, api_key_id, key, response.status_code, response.get_data())
    return response


def _create():
    if not request.is_json:
        raise ApiError(
            415, "unsupported_media_type", "Send a JSON body with `Content-Type: application/json`."
        )
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The body is not a JSON object.")
    new_revision = body.get("new_revision", False)
    if not isinstance(new_revision, bool):
        raise ApiError(422, "invalid_field", "`new_revision` must be true or false.")
    missing = [k for k in ("order_ref", "customer_name", "customer_email") if not body.get(k)]
    if not body.get("design") and not body.get("design_token"):
        missing.append("design (or design_token)")
    if missing:
        raise ApiError(
            422,
            "missing_fields",
            "Required fields are missing: " + ", ".join(missing) + ".",
            [{"field": f, "message": "required"} for f in missing],
        )
    for key in ("order_ref", "customer_name", "customer_email", "design_token"):
        if key in body and body[key] is not None and not isinstance(body[key], str):
            raise ApiError(
                422,
                "invalid_field",
                f"`{key}` must be a string.",
                [{"field": key, "message": "not a string"}],
            )
    if len(body.get("design_token") or "") > MAX_DESIGN_TOKEN:
        raise ApiError(
            400,
            "invalid_design_token",
            "This design token is far longer than any we issue: send it exactly as the personalizer gave it.",
        )
    design_token = None
    design = body.get("design")
    if body.get("design_token"):
        try:
            design_token = verify_design(body["design_token"])
        except TokenError as exc:
            raise ApiError(400, "invalid_design_token", str(exc)) from exc
        if design is not None:
            raise ApiError(422, "ambiguous_design", "Send either `design` or `design_token`, not both.")
        design = design_token.design
        existing = proofs.find_by_design_token(get_db(), design_token.nonce)
        if existing is not None:
            return jsonify(
                {"proof": _proof_json(proofs.get_proof(get_db(), existing)), "created": False}
            ), 200
    elif not isinstance(design, dict):
        raise ApiError(
            422,
            "invalid_field",
            '`design` must be an object like {"product": "bar-necklace", "font": "lato", "lines": ["Ada"]}.',
        )
    else:
        unknown = sorted(
            set(design) - {"product", "font", "lines", "fields", "align", "size_mode", "variant"}
        )
        if unknown:
            raise ApiError(422, "invalid_field", f"`design` has unknown keys: {', '.join(unknown)}.")
        lines, fields = design.get("lines", []), design.get("fields", {})
        # Checked here, not coerced later: a null line must not be engraved as "None".
        if (
            not isinstance(lines, list)
            or not all(isinstance(x, str) for x in lines)
            or not isinstance(fields, dict)
            or not all(isinstance(v, str) for v in fields.values())
        ):
            raise ApiError(
                422,
                "invalid_field",
                "`design.lines` must be a list of strings and `design.fields` an "
                "object whose values are strings.",
            )
        wrong = [
            k
            for k in ("product", "font", "align", "size_mode", "variant")
            if k in design and not isinstance(design[k], str)
        ]
        if wrong:
            raise ApiError(
                422,
                "invalid_field",
                f"`design.{wrong[0]}` must be a string.",
                [{"field": f"design.{k}", "message": "not a string"} for k in wrong],
            )
        _check_design_size(design, lines, fields)
    if new_revision:
        return _new_revision(body, design)
    try:
        proof_id = proofs.create_proof(
            get_db(),
            order_ref=body["order_ref"],
            customer_name=body["customer_name"],
            customer_email=body["customer_email"],
            design=design,
            source="api",
            actor=f"api:{g.api_key['name']}",
            ip=request.remote_addr,
            user_agent=(request.user_agent.string or "")[:500] or None,
            design_token=design_token,
            unique_order_ref=True,
        )
    except proofs.OrderRefTaken as exc:
        existing = proofs.get_proof(get_db(), exc.proof_id)
        raise ApiError(
            409,
            "order_ref_exists",
            str(exc),
            [{"field": "order_ref", "message": "taken", "proof": existing.public_id}],
        ) from exc
    except proofs.ProofError as exc:
        details = [{"field": exc.field, "message": str(exc)}] if exc.field else None
        raise ApiError(422, "invalid_proof", str(exc), details) from exc
    proof = proofs.get_proof(get_db(), proof_id)
    response = jsonify({"proof": _proof_json(proof), "created": True, **_notices(design, proof)})
    response.status_code = 201
    response.headers["Location"] = f"/api/proofs/{proof.public_id}"
    return response


def _notices(sent, proof: proofs.Proof) -> dict:
    """What the proof records that the request did not say: a design that names no variant of
    a product that has variants is made (drawn, recorded, produced) in the product's first one."""
    rev = proof.revision
    recorded = (rev.design_dict or {}).get("variant", "") if rev else ""
    named = sent.get("variant") if isinstance(sent, dict) else getattr(sent, "variant", "")
    if not recorded or named:
        return {}
    product = catalog.product(proof.product)
    name = catalog.variant_name(proof.product, recorded)
    choices = [v.id for v in product.variants] if product else [recorded]
    return {
        "notices": [
            {
                "field": "design.variant",
                "code": "variant_defaulted",
                "message": f"The design names no variant, so it is made in the product's first one: "
                f"{name} ({recorded}). Send design.variant (one of {', '.join(choices)}) to choose.",
                "variant": recorded,
                "variants": choices,
            }
        ]
    }


def _new_revision(body: dict, design) -> Response:
    """`"new_revision": true`: the design becomes the next revision of the live proof with this
    order reference (same customer), emailed again for approval."""
    order_ref = body["order_ref"]
    row = (
        get_db()
        .execute(
            "SELECT id FROM proofs WHERE order_ref = ? AND status != 'cancelled' ORDER BY id LIMIT 1",
            (order_ref,),
        )
        .fetchone()
    )
    if row is None:
        raise ApiError(
            404,
            "not_found",
            f'There is no live proof for order {order_ref} to revise; leave out "new_revision" to create one.',
        )
    proof = proofs.get_proof(get_db(), row["id"])
    changed = [k for k in ("customer_name", "customer_email") if body[k] != getattr(proof, k)]
    if changed:
        raise ApiError(
            422,
            "customer_mismatch",
            f"The proof for order {order_ref} is for another {changed[0].replace('_', ' ')}: a new revision "
            "keeps the customer. Cancel the proof and create a new one to change it.",
            [{"field": f, "message": "differs from the proof"} for f in changed],
        )
    try:
        number = proofs.add_revision(
            get_db(),
            proof.id,
            design,
            actor=f"api:{g.api_key['name']}",
            ip=request.remote_addr,
            user_agent=(request.user_agent.string or "")[:500] or None,
        )
    except proofs.ProofError as exc:
        details = [{"field": exc.field, "message": str(exc)}] if exc.field else None
        raise ApiError(422, "invalid_proof", str(exc), details) from exc
    proof = proofs.get_proof(get_db(), proof.id)
    response = jsonify(
        {"proof": _proof_json(proof), "created": False, "revision": number, **_notices(design, proof)}
    )
    response.headers["Location"] = f"/api/proofs/{proof.public_id}"
    return response


def _check_design_size(design: dict, lines: list, fields: dict) -> None:
    too_long = [
        f"design.{k}"
        for k in ("product", "font", "align", "size_mode")
        if len(design.get(k) or "") > MAX_DESIGN_ID
    ]
    too_long += [f"design.fields name {k[:20]!r}…" for k in fields if len(k) > MAX_DESIGN_ID]
    if too_long:
        raise ApiError(
            422,
            "invalid_field",
            f"`{too_long[0]}` is too long to be a catalog id (at most {MAX_DESIGN_ID} characters).",
            [{"field": f, "message": "too long"} for f in too_long],
        )
    if len(lines) > MAX_DESIGN_LINES or len(fields) > MAX_DESIGN_FIELDS:
        raise ApiError(
            422,
            "invalid_field",
            f"A design has at most {MAX_DESIGN_LINES} lines and "
            f"{MAX_DESIGN_FIELDS} fields (each product allows fewer: see its catalog entry).",
        )
    texts = [(f"design.lines[{i}]", t) for i, t in enumerate(lines)] + [
        (f"design.fields.{k}", v) for k, v in fields.items()
    ]
    long_texts = [name for name, text in texts if len(text) > MAX_DESIGN_TEXT]
    if long_texts:
        raise ApiError(
            422,
            "invalid_field",
            f"`{long_texts[0]}` is too long (at most {MAX_DESIGN_TEXT} characters; "
            "each product allows fewer).",
            [{"field": f, "message": "too long"} for f in long_texts],
        )


@bp.get("/proofs/<public_id>")
def show(public_id: str):
    proof = proofs.get_proof_by_public_id(get_db(), public_id)
    if proof is None:
        raise ApiError(404, "not_found", f"There is no proof {public_id}.")
    return jsonify({"proof": _proof_json(proof)})


# --- production files (only for an approved revision) ----------------------------------------


def _production_set(public_id: str):
    from proofmark import production
    from proofmark_renderer.production.files import ProductionError

    proof = proofs.get_proof_by_public_id(get_db(), public_id)
    if proof is None:
        raise ApiError(404, "not_found", f"There is no proof {public_id}.")
    try:
        return production.production_set(get_db(), proof)
    except production.NotApproved as exc:
        raise ApiError(409, "awaiting_approval", str(exc)) from exc
    except ProductionError as exc:
        raise ApiError(422, "not_producible", str(exc)) from exc


@bp.get("/proofs/<public_id>/production")
def production_files(public_id: str):
    from proofmark import production

    pset = _production_set(public_id)
    files = [
        {
            "name": f.name,
            "filename": production.download_name(pset, f),
            "kind": f.kind,
            "area": f.area,
            "content_type": f.content_type,
            "bytes": len(f.data),
            "sha256": f.sha256,
            "url": f"/api/proofs/{public_id}/production/{f.name}",
        }
        for f in pset.files
    ]
    return jsonify({"proof": public_id, "revision": pset.revision, "metadata": pset.meta, "files": files})


@bp.get("/proofs/<public_id>/production/<name>")
def production_file(public_id: str, name: str):
    from flask import Response

    from proofmark import production

    pset = _production_set(public_id)
    try:
        f = pset.file(name)
    except production.NoSuchFile as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    production.record_sent(
        get_db(),
        pset,
        [f],
        actor=f"api:{g.api_key['name']}",
        via="api",
        ip=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:500] or None,
    )
    return Response(
        f.data,
        content_type=f.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{production.download_name(pset, f)}"',
            "X-Content-SHA256": f.sha256,
        },
    )
