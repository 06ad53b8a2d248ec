"""The shop's API: POST /api/proofs creates a proof (JSON in, JSON out), GET
/api/proofs/<public_id> tells whether production may start. Authenticated by an API key
in `Authorization: Bearer <key>`; keys are made by `flask --app proofmark create-api-key NAME`
and stored only as their SHA-256."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from proofmark import api_keys, proofs
from proofmark.db import get_db
from proofmark.security import csrf
from proofmark.tokens import TokenError, verify_design

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
        "image_sha256": rev.image_sha256 if rev else None,
        "source": proof.source,
        "created_at": proof.created_at,
        "updated_at": proof.updated_at,
        "decided_at": proof.decided_at,
    }


@bp.post("/proofs")
def create():
    if not request.is_json:
        raise ApiError(
            415, "unsupported_media_type", "Send a JSON body with `Content-Type: application/json`."
        )
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The body is not a JSON object.")
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
        unknown = sorted(set(design) - {"product", "font", "lines", "fields", "align", "size_mode"})
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
            for k in ("product", "font", "align", "size_mode")
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
        )
    except proofs.ProofError as exc:
        details = [{"field": exc.field, "message": str(exc)}] if exc.field else None
        raise ApiError(422, "invalid_proof", str(exc), details) from exc
    proof = proofs.get_proof(get_db(), proof_id)
    response = jsonify({"proof": _proof_json(proof), "created": True})
    response.status_code = 201
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
