"""Staff "Products": the shop's own products on its own photos (proofmark.products)."""

from __future__ import annotations

import hashlib
import json

from flask import Response, abort, current_app, flash, redirect, request, url_for

from proofmark import products, storage, uploads
from proofmark.db import get_db
from proofmark.staff.blueprint import bp, render
from proofmark.staff.views import who
from proofmark_renderer import catalog
from proofmark_renderer import render as render_design

PREVIEW_WIDTH = 1000


def _draft_or_404(product_id: str) -> dict:
    data = products.draft(get_db(), product_id)
    if data is None:
        abort(404, f"There is no product {product_id!r}.")
    return data


@bp.get("/products")
def products_list():
    db = get_db()
    return render("staff/products.html", items=products.drafts(db), errors=[])


@bp.post("/products")
def products_new():
    db = get_db()
    # Bounded before the form is parsed: one photo at the size limit plus the fields.
    request.max_content_length = int(current_app.config["PRODUCT_PHOTO_MAX_BYTES"]) + 64 * 1024
    form = request.form
    upload = request.files.get("photo")
    errors = []
    product_id = str(form.get("id", "")).strip()
    sizes = []
    for key in ("width_mm", "height_mm"):
        try:
            value = float(str(form.get(key, "")).strip())
            if not 0 < value < 5000:
                raise ValueError
            sizes.append(value)
        except ValueError:
            errors.append(f"{key.replace('_', ' ')}: give the size in millimetres (more than 0).")
    data = upload.read() if upload is not None else b""
    if not errors:
        try:
            photo = products.store_photo(
                data, name=f"“{upload.filename}”" if upload and upload.filename else "the photo"
            )
            products.new_draft(
                db, product_id, str(form.get("name", "")).strip(), photo, who().actor, sizes[0], sizes[1]
            )
        except (uploads.PhotoError, products.ProductError) as exc:
            errors.append(str(exc))
    if errors:
        return render("staff/products.html", items=products.drafts(db), errors=errors, form=form), 400
    return redirect(url_for("staff.product_edit", product_id=product_id)), 303


def _editor_values(data: dict, errors: list[str], sample: list[str]) -> dict:
    view = data["views"][0]
    area = view["areas"]["lines"]
    photo = products.photo_path(view["sha256"])
    from PIL import Image

    with Image.open(photo) as im:
        size = im.size
    return dict(
        p=data,
        area=area,
        photo_size=size,
        photo_url=url_for("staff.product_photo", sha256=view["sha256"]),
        errors=errors,
        sample=sample,
        finishes=products.FINISHES,
        mappings=products.MAPPINGS,
        fonts=catalog.fonts(),
        versions=products.versions(get_db(), data["id"]),
        preview_src=_preview_url(data, sample) if not errors else None,
        corner_names={"tl": "top left", "tr": "top right", "br": "bottom right", "bl": "bottom left"},
    )


def _sample(form) -> list[str]:
    return [str(form.get(f"sample_{i}", ""))[:80] for i in (1, 2, 3)]


def _preview_url(data: dict, sample: list[str]) -> str:
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    args = {f"sample_{i + 1}": s for i, s in enumerate(sample) if s}
    return url_for("staff.product_preview", product_id=data["id"], v=digest, **args)


@bp.get("/products/<product_id>")
def product_edit(product_id: str):
    data = _draft_or_404(product_id)
    return render("staff/product_edit.html", **_editor_values(data, [], _sample(request.args) or []))


@bp.post("/products/<product_id>")
def product_save(product_id: str):
    """The editor's form, posted by htmx while adjusting (or by the Save button)."""
    db = get_db()
    data = _draft_or_404(product_id)
    changed, errors = products.apply_form(data, request.form)
    if not errors:
        products.save_draft(db, changed, who().actor)
    values = _editor_values(changed if not errors else data, errors, _sample(request.form))
    if errors:
        values["preview_src"] = None
    status = 422 if errors else 200
    return render("staff/product_edit.html", "staff/_product_preview.html", **values), status


@bp.get("/products/<product_id>/preview.jpg")
def product_preview(product_id: str):
    data = _draft_or_404(product_id)
    try:
        design = products.draft_design(data, _sample(request.args))
    except Exception as exc:  # noqa: BLE001 - a draft that cannot be drawn says why
        abort(422, f"The draft cannot be drawn: {exc}")
    result = render_design(design, PREVIEW_WIDTH, "jpeg")
    return Response(result.image, mimetype=result.content_type, headers={"Cache-Control": "no-store"})


@bp.post("/products/<product_id>/publish")
def product_publish(product_id: str):
    _draft_or_404(product_id)
    try:
        version = products.publish(get_db(), product_id, who().actor)
    except products.ProductError as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.product_edit", product_id=product_id)), 303
    flash(f"Published {product_id} version {version}: shoppers now see it; earlier proofs keep theirs.", "ok")
    return redirect(url_for("staff.product_edit", product_id=product_id)), 303


@bp.get("/products/photo/<sha256>.jpg")
def product_photo(sha256: str):
    try:
        data = uploads.get(products.PHOTO_FOLDER, sha256)
    except (ValueError, storage.StoredImageMissing):
        abort(404, "There is no such product photo.")
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})
