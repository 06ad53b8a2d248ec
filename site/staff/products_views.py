"""Staff "Products": the shop's own products on its own photos (proofmark.products)."""

from __future__ import annotations

import hashlib
import json

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext

from proofmark import catalog_text, products, storage, uploads
from proofmark.db import get_db
from proofmark.staff.blueprint import bp, render
from proofmark.staff.views import who
from proofmark_renderer import catalog
from proofmark_renderer import render as render_design

PREVIEW_WIDTH = 1000
# The new-product form's size problems (English: "width mm: give the size ...").
SIZE_ERRORS = {
    "width_mm": lambda: gettext("width mm: give the size in millimetres (more than 0)."),
    "height_mm": lambda: gettext("height mm: give the size in millimetres (more than 0)."),
}


# How the editor's menus name a finish and a mapping (the value sent stays the code).
PRINT_FINISHES = {
    "print-black": lambda: gettext("printed black"),
    "print-navy": lambda: gettext("printed navy"),
    "print-white": lambda: gettext("printed white"),
}
MAPPING_LABELS = {
    "flat": lambda: gettext("flat"),
    "perspective": lambda: gettext("perspective"),
    "cylinder": lambda: gettext("cylinder"),
    "arc": lambda: gettext("arc"),
}


def _finish_label(finish: str) -> str:
    return PRINT_FINISHES[finish]() if finish in PRINT_FINISHES else catalog_text.finish_name(finish)


def _draft_or_404(product_id: str) -> dict:
    data = products.draft(get_db(), product_id)
    if data is None:
        abort(404, gettext("There is no product %(id)s.", id=repr(product_id)))
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
            errors.append(SIZE_ERRORS[key]())
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


def _editor_values(data: dict, errors: list[str], sample: list[str], args=None) -> dict:
    args = args if args is not None else request.values
    index, area_id = products.editing_target(data, args)
    view = data["views"][index]
    area = view["areas"][area_id]
    photo = products.photo_path(view["sha256"])
    from PIL import Image

    with Image.open(photo) as im:
        size = im.size
    variants = data.get("variants", [])
    variant = str(args.get("variant", ""))
    if variant not in {v["id"] for v in variants}:
        variant = variants[0]["id"] if variants else ""
    return dict(
        p=data,
        area=area,
        area_id=area_id,
        view_index=index,
        view=view,
        variant=variant,
        photo_size=size,
        photo_url=url_for("staff.product_photo", sha256=view["sha256"]),
        errors=errors,
        sample=sample,
        finishes=[(f, _finish_label(f)) for f in products.FINISHES],
        mappings=[(m, MAPPING_LABELS[m]() if m in MAPPING_LABELS else m) for m in products.MAPPINGS],
        fonts=catalog.fonts(),
        versions=products.versions(get_db(), data["id"]),
        preview_src=_preview_url(data, sample, index, variant) if not errors else None,
        corner_names={
            "tl": gettext("top left"),
            "tr": gettext("top right"),
            "br": gettext("bottom right"),
            "bl": gettext("bottom left"),
        },
    )


def _sample(form) -> list[str]:
    return [str(form.get(f"sample_{i}", ""))[:80] for i in (1, 2, 3)]


def _preview_url(data: dict, sample: list[str], view: int = 0, variant: str = "") -> str:
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    args = {f"sample_{i + 1}": s for i, s in enumerate(sample) if s}
    if view:
        args["view"] = str(view)
    if variant:
        args["variant"] = variant
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
        design = products.draft_design(data, _sample(request.args), str(request.args.get("variant", "")))
    except Exception as exc:  # noqa: BLE001 - a draft that cannot be drawn says why
        abort(422, gettext("The draft cannot be drawn: %(error)s", error=exc))
    index, _area = products.editing_target(data, request.args)
    result = render_design(design, PREVIEW_WIDTH, "jpeg", view=index)
    return Response(result.image, mimetype=result.content_type, headers={"Cache-Control": "no-store"})


@bp.post("/products/<product_id>/publish")
def product_publish(product_id: str):
    _draft_or_404(product_id)
    try:
        version = products.publish(get_db(), product_id, who().actor)
    except products.ProductError as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.product_edit", product_id=product_id)), 303
    flash(
        gettext(
            "Published %(id)s version %(version)s: shoppers now see it; earlier proofs keep theirs.",
            id=product_id,
            version=version,
        ),
        "ok",
    )
    return redirect(url_for("staff.product_edit", product_id=product_id)), 303


@bp.get("/products/photo/<sha256>.jpg")
def product_photo(sha256: str):
    try:
        data = uploads.get(products.PHOTO_FOLDER, sha256)
    except (ValueError, storage.StoredImageMissing):
        abort(404, gettext("There is no such product photo."))
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


# --- views, layers and variants (each its own small form beside the editor) --------------------


def _back(product_id: str, **args):
    return redirect(url_for("staff.product_edit", product_id=product_id, **args)), 303


def _upload(field: str = "photo") -> bytes:
    request.max_content_length = int(current_app.config["PRODUCT_PHOTO_MAX_BYTES"]) + 64 * 1024
    upload = request.files.get(field)
    return upload.read() if upload is not None else b""


def _failed(product_id: str, message: str, **args):
    """The editor again, with what was refused (400); nothing was changed."""
    data = _draft_or_404(product_id)
    values = _editor_values(data, [message], [], {k: str(v) for k, v in args.items()})
    return render("staff/product_edit.html", **values), 400


@bp.post("/products/<product_id>/views")
def product_add_view(product_id: str):
    """Add a view: upload its photo; the areas start where they are on the first view."""
    data = _draft_or_404(product_id)
    try:
        photo = products.store_photo(_upload(), name="the view's photo")
        index = products.add_view(get_db(), data, photo, str(request.form.get("name", "")), who().actor)
    except (uploads.PhotoError, products.ProductError) as exc:
        return _failed(product_id, gettext("View not added: %(error)s", error=exc))
    flash(gettext("View added: drag its corners onto this photo."), "ok")
    return _back(product_id, view=index)


@bp.post("/products/<product_id>/views/<int:index>/remove")
def product_remove_view(product_id: str, index: int):
    data = _draft_or_404(product_id)
    try:
        products.remove_view(get_db(), data, index, who().actor)
    except products.ProductError as exc:
        return _failed(product_id, str(exc), view=index)
    return _back(product_id)


@bp.post("/products/<product_id>/views/<int:index>/rename")
def product_rename_view(product_id: str, index: int):
    data = _draft_or_404(product_id)
    try:
        products.rename_view(get_db(), data, index, str(request.form.get("name", ""))[:200], who().actor)
    except products.ProductError as exc:
        return _failed(product_id, gettext("View not renamed: %(error)s", error=exc), view=index)
    return _back(product_id, view=index)


@bp.post("/products/<product_id>/views/<int:index>/move")
def product_move_view(product_id: str, index: int):
    """Move a view one place earlier or later (`to` = "up" or "down"); the first is the proof's."""
    data = _draft_or_404(product_id)
    step = {"up": -1, "down": 1}.get(str(request.form.get("to", "")))
    if step is None:
        return _failed(product_id, gettext("Move a view up or down."), view=index)
    try:
        new_index = products.move_view(get_db(), data, index, index + step, who().actor)
    except products.ProductError as exc:
        return _failed(product_id, gettext("View not moved: %(error)s", error=exc), view=index)
    return _back(product_id, view=new_index)


@bp.get("/products/layer/<sha256>.png")
def product_layer(sha256: str):
    """A stored mask or light layer (greyscale PNG), for the editor's thumbnail."""
    try:
        data = uploads.get(products.PHOTO_FOLDER, sha256, suffix=".png")
    except (ValueError, storage.StoredImageMissing):
        abort(404, gettext("There is no such picture."))
    return Response(data, mimetype="image/png", headers={"Cache-Control": "private, max-age=3600"})


@bp.post("/products/<product_id>/views/<int:index>/mask", defaults={"kind": "mask"})
@bp.post("/products/<product_id>/views/<int:index>/light", defaults={"kind": "light"})
def product_view_layer(product_id: str, index: int, kind: str):
    """A view's mask (white where something lies over the text) or light layer (a greyscale
    picture of the photo's size), through the upload checks; `remove` takes it off."""
    data = _draft_or_404(product_id)
    try:
        name = None if request.form.get("remove") else products.store_layer(_upload(kind), name=f"the {kind}")
        upload = request.files.get(kind)
        products.set_layer(
            get_db(),
            data,
            index,
            kind,
            name,
            who().actor,
            file_name=(upload.filename or "") if upload else "",
        )
    except (uploads.PhotoError, products.ProductError) as exc:
        message = gettext("Mask not saved: %(error)s", error=exc) if kind == "mask" else None
        message = message or gettext("Light not saved: %(error)s", error=exc)
        return _failed(product_id, message, view=index)
    return _back(product_id, view=index)


@bp.post("/products/<product_id>/variants")
def product_add_variant(product_id: str):
    data = _draft_or_404(product_id)
    try:
        vid = products.add_variant(get_db(), data, str(request.form.get("name", "")), who().actor)
    except products.ProductError as exc:
        return _failed(product_id, gettext("Variant not added: %(error)s", error=exc))
    return _back(product_id, variant=vid)


@bp.post("/products/<product_id>/variants/<vid>/remove")
def product_remove_variant(product_id: str, vid: str):
    data = _draft_or_404(product_id)
    try:
        products.remove_variant(get_db(), data, vid, who().actor)
    except products.ProductError as exc:
        return _failed(product_id, str(exc))
    return _back(product_id)


@bp.post("/products/<product_id>/variants/<vid>/photo")
def product_variant_photo(product_id: str, vid: str):
    """The variant's photo for one view (the same shot: the same pixel size)."""
    data = _draft_or_404(product_id)
    index, _area = products.editing_target(data, request.form)
    try:
        photo = products.store_photo(_upload(), name="the variant's photo")
        products.set_variant_photo(get_db(), data, vid, index, photo[0], who().actor)
    except (uploads.PhotoError, products.ProductError) as exc:
        return _failed(product_id, gettext("Photo not saved: %(error)s", error=exc), view=index, variant=vid)
    return _back(product_id, view=index, variant=vid)
