"""A shop's own products: drafts edited by staff, published as immutable versions.

A draft is the `[product]` entry of a product file (see proofmark_renderer.productfiles) kept
as JSON, its photos named by SHA-256 in the image store (`images/products/`, put there by
proofmark.uploads after the hostile-upload checks). Publishing checks the draft exactly as
an imported file is checked, writes `instance/products/<id>/<version>/` (product.toml with
the photo's SHA-256, and the photo) once, never rewriting it, and records the version.
The renderer reads those folders; designs, proofs and approvals name "<id>@<version>".
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import sqlite_utils
from flask import current_app
from flask_babel import gettext
from PIL import Image

from proofmark import uploads
from proofmark.db import transaction
from proofmark.records import timestamp
from proofmark_renderer import catalog, productfiles
from proofmark_renderer.photo import MAPPINGS, ProductFileError

PHOTO_FOLDER = "products"
FINISHES = (
    "engraved-steel",
    "engraved-silver",
    "engraved-gold",
    "laser-wood",
    "print-black",
    "print-navy",
    "print-white",
    "print-ceramic",
    "print-cotton",
    "stamped-aluminium",
)


class ProductError(ValueError):
    pass


def _instance() -> Path:
    return Path(current_app.instance_path)


def photo_path(sha256: str) -> Path:
    return uploads.path_for(PHOTO_FOLDER, sha256)


def store_photo(data: bytes, *, name: str = "the photo") -> tuple[str, int, int]:
    """Check an uploaded photo (proofmark.uploads) and store the clean copy by its SHA-256."""
    config = current_app.config
    photo = uploads.clean(
        data,
        max_bytes=int(config["PRODUCT_PHOTO_MAX_BYTES"]),
        max_pixels=int(config["PRODUCT_PHOTO_MAX_PIXELS"]),
        name=name,
    )
    return uploads.put(PHOTO_FOLDER, photo.data), photo.width, photo.height


def store_layer(data: bytes, *, name: str = "the picture") -> str:
    """A view's mask or light layer: the upload checks, kept as a greyscale PNG by SHA-256;
    returns the draft's name for it ("<sha256>.png")."""
    config = current_app.config
    layer = uploads.clean_greyscale(
        data,
        max_bytes=int(config["PRODUCT_PHOTO_MAX_BYTES"]),
        max_pixels=int(config["PRODUCT_PHOTO_MAX_PIXELS"]),
        name=name,
    )
    return uploads.put(PHOTO_FOLDER, layer.data, suffix=".png") + ".png"


def _checked_draft(data: dict) -> dict:
    """The changed draft if it reads as a product; ProductError (naming the field) if not."""
    try:
        draft_product(data)
    except (ProductFileError, catalog.CatalogError) as exc:
        raise ProductError(str(exc).split(": ", 1)[-1]) from exc
    return data


def _slug(text: str, taken: set[str], fallback: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in text.strip().lower()).strip("-")[:40] or fallback
    while "--" in slug:
        slug = slug.replace("--", "-")
    if slug in taken:
        raise ProductError(gettext("There is already one called %(name)s.", name=repr(slug)))
    return slug


def add_view(
    db: sqlite_utils.Database, data: dict, photo: tuple[str, int, int], name: str, actor: str
) -> int:
    """A new view from an uploaded photo: every area placed where it is on the first view,
    scaled to the new photo (then moved by staff). Returns the new view's index."""
    out = json.loads(json.dumps(data))
    first = out["views"][0]
    sha, w, h = photo
    with Image.open(photo_path(first["sha256"])) as im:
        w0, h0 = im.size
    view_name = _slug(name, {v["name"] for v in out["views"]}, f"view-{len(out['views']) + 1}")
    areas = {
        area: spec | {"corners": [[round(x * w / w0, 1), round(y * h / h0, 1)] for x, y in spec["corners"]]}
        for area, spec in first["areas"].items()
    }
    out["views"].append({"name": view_name, "photo": f"{sha}.jpg", "sha256": sha, "areas": areas})
    # A variant shows the new view in the view's own photo until one is uploaded for it.
    save_draft(db, _checked_draft(out), actor)
    return len(out["views"]) - 1


def remove_view(db: sqlite_utils.Database, data: dict, index: int, actor: str) -> None:
    out = json.loads(json.dumps(data))
    if index == 0 or not 0 < index < len(out["views"]):
        raise ProductError(gettext("The first view is the proof's picture: it cannot be removed."))
    out["views"].pop(index)
    for variant in out.get("variants", []):
        if len(variant.get("photos") or []) > index:
            variant["photos"].pop(index)
    save_draft(db, _checked_draft(out), actor)


def rename_view(db: sqlite_utils.Database, data: dict, index: int, name: str, actor: str) -> str:
    """Give view `index` a new name (a short slug: "close-up"); returns it."""
    out = json.loads(json.dumps(data))
    if not 0 <= index < len(out["views"]):
        raise ProductError(gettext("There is no view %(number)s.", number=index + 1))
    if not name.strip():
        raise ProductError(gettext("Give the view a name, e.g. front or close-up."))
    taken = {v["name"] for i, v in enumerate(out["views"]) if i != index}
    out["views"][index]["name"] = _slug(name, taken, out["views"][index]["name"])
    save_draft(db, _checked_draft(out), actor)
    return out["views"][index]["name"]


def move_view(db: sqlite_utils.Database, data: dict, index: int, to: int, actor: str) -> int:
    """Move view `index` to place `to` (the first view is the proof's picture); each variant's
    photos move with their view. Returns the view's new index."""
    out = json.loads(json.dumps(data))
    views = out["views"]
    if not 0 <= index < len(views):
        raise ProductError(gettext("There is no view %(number)s.", number=index + 1))
    to = max(0, min(len(views) - 1, to))
    if to == index:
        return index
    order = list(range(len(views)))
    order.insert(to, order.pop(index))
    out["views"] = [views[i] for i in order]
    for variant in out.get("variants", []):
        photos = list(variant.get("photos") or ([variant["photo"]] if variant.get("photo") else []))
        if not photos:
            continue
        # A variant without its own photo for a view shows the view's: made explicit so
        # that moving keeps each photo with its view.
        photos += [views[i]["photo"] for i in range(len(photos), len(views))]
        variant.pop("photo", None)
        variant.pop("sha256", None)
        variant["photos"] = [photos[i] for i in order]
    save_draft(db, _checked_draft(out), actor)
    return to


def set_layer(
    db: sqlite_utils.Database,
    data: dict,
    index: int,
    kind: str,
    name: str | None,
    actor: str,
    file_name: str = "",
) -> None:
    """Set (or with `name` None, remove) a view's mask or light layer; `file_name` is the
    uploaded file's own name, kept (in `file_names`) to show it in the editor."""
    if kind not in ("mask", "light"):
        raise ProductError(f"Unknown layer {kind!r}: a view has a mask and a light layer.")
    out = json.loads(json.dumps(data))
    if not 0 <= index < len(out["views"]):
        raise ProductError(gettext("There is no view %(number)s.", number=index + 1))
    view = out["views"][index]
    if name is None:
        view.pop(kind, None)
    else:
        with Image.open(stored_path(name)) as layer, Image.open(photo_path(view["sha256"])) as ph:
            if layer.size != ph.size:
                raise ProductError(
                    gettext(
                        "view[%(index)s].%(kind)s: the picture is %(width)sx%(height)s px; it must be "
                        "the size of the view's photo, %(photo_width)sx%(photo_height)s px.",
                        index=index,
                        kind=kind,
                        width=layer.size[0],
                        height=layer.size[1],
                        photo_width=ph.size[0],
                        photo_height=ph.size[1],
                    )
                )
        view[kind] = name
        if file_name:
            out.setdefault("file_names", {})[name] = _file_name(file_name)
    # Only the names of files the draft still uses are kept.
    used = {v.get(k) for v in out["views"] for k in ("mask", "light")}
    if out.get("file_names"):
        out["file_names"] = {k: v for k, v in out["file_names"].items() if k in used}
    save_draft(db, _checked_draft(out), actor)


def _file_name(name: str) -> str:
    """An uploaded file's own name, as shown (the last path part, printable, at most 80)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in name if c.isprintable())[:80]


def add_variant(db: sqlite_utils.Database, data: dict, name: str, actor: str) -> str:
    out = json.loads(json.dumps(data))
    variants = out.setdefault("variants", [])
    if len(variants) >= 24:
        raise ProductError(gettext("A product has at most 24 variants."))
    if not name.strip():
        raise ProductError(gettext("Give the variant a name, e.g. Black or Rose gold."))
    vid = _slug(name, {v["id"] for v in variants}, f"variant-{len(variants) + 1}")
    variants.append({"id": vid, "name": name.strip()[:80]})
    save_draft(db, _checked_draft(out), actor)
    return vid


def remove_variant(db: sqlite_utils.Database, data: dict, vid: str, actor: str) -> None:
    out = json.loads(json.dumps(data))
    variants = [v for v in out.get("variants", []) if v["id"] != vid]
    if len(variants) == len(out.get("variants", [])):
        raise ProductError(gettext("There is no variant %(id)s.", id=repr(vid)))
    if variants:
        out["variants"] = variants
    else:
        out.pop("variants", None)
    save_draft(db, _checked_draft(out), actor)


def set_variant_photo(
    db: sqlite_utils.Database, data: dict, vid: str, index: int, sha: str, actor: str
) -> None:
    """The variant's photo for view `index` (earlier views it has none for show the view's own)."""
    out = json.loads(json.dumps(data))
    variant = next((v for v in out.get("variants", []) if v["id"] == vid), None)
    if variant is None:
        raise ProductError(gettext("There is no variant %(id)s.", id=repr(vid)))
    if not 0 <= index < len(out["views"]):
        raise ProductError(gettext("There is no view %(number)s.", number=index + 1))
    photos = list(variant.pop("photos", None) or ([variant.pop("photo")] if variant.get("photo") else []))
    variant.pop("photo", None)
    variant.pop("sha256", None)
    while len(photos) <= index:
        photos.append(out["views"][len(photos)]["photo"])
    photos[index] = f"{sha}.jpg"
    variant["photos"] = photos
    save_draft(db, _checked_draft(out), actor)


def new_draft(
    db: sqlite_utils.Database,
    product_id: str,
    name: str,
    photo: tuple[str, int, int],
    actor: str,
    width_mm: float,
    height_mm: float,
) -> dict:
    if not product_id or len(product_id) > 60 or not all(c.isalnum() or c == "-" for c in product_id):
        raise ProductError(gettext("The product id may hold letters, digits and hyphens (at most 60)."))
    if not product_id[0].isalnum() or product_id != product_id.lower():
        raise ProductError(gettext("The product id must be lower case and start with a letter or digit."))
    if catalog.product(product_id) is not None and not catalog.product(product_id).base_id:
        raise ProductError(gettext("%(id)s is a built-in product; choose another id.", id=repr(product_id)))
    if db.execute("SELECT 1 FROM product_drafts WHERE id = ?", (product_id,)).fetchone():
        raise ProductError(gettext("There is already a product %(id)s.", id=repr(product_id)))
    sha, w, h = photo
    # A first guess: the area in the middle third of the photo, flat.
    rw, rh = width_mm * 0.8, height_mm * 0.5
    region = {"shape": "rect", "x_mm": width_mm * 0.1, "y_mm": height_mm * 0.25, "w_mm": rw, "h_mm": rh}
    corners = [
        [w * 0.3, h * 0.4],
        [w * 0.7, h * 0.4],
        [w * 0.7, h * 0.4 + h * 0.4 * rh / rw],
        [w * 0.3, h * 0.4 + h * 0.4 * rh / rw],
    ]
    data = {
        "id": product_id,
        "name": name or product_id,
        "description": "",
        "finish": "engraved-steel",
        "width_mm": width_mm,
        "height_mm": height_mm,
        "max_lines": 2,
        "max_chars_per_line": 16,
        "min_letter_height_mm": max(1.0, round(rh / 6, 1)),
        "max_letter_height_mm": max(2.0, round(rh / 2, 1)),
        "line_spacing": 1.4,
        "allowed_fonts": ["montserrat", "lato", "playfair-display", "dancing-script"],
        "default_font": "montserrat",
        "region": region,
        "views": [
            {
                "name": "main",
                "photo": f"{sha}.jpg",
                "sha256": sha,
                "areas": {"lines": {"mapping": "perspective", "corners": corners}},
            }
        ],
    }
    save_draft(db, data, actor)
    return data


def save_draft(db: sqlite_utils.Database, data: dict, actor: str) -> None:
    with transaction(db):
        db.execute(
            "INSERT INTO product_drafts (id, data, updated_at, updated_by) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at,"
            " updated_by = excluded.updated_by",
            (data["id"], json.dumps(data, sort_keys=True), timestamp(), actor),
        )


def draft(db: sqlite_utils.Database, product_id: str) -> dict | None:
    row = db.execute("SELECT data FROM product_drafts WHERE id = ?", (product_id,)).fetchone()
    return json.loads(row["data"]) if row else None


def drafts(db: sqlite_utils.Database) -> list[dict]:
    out = []
    for row in db.execute("SELECT id, data, updated_at FROM product_drafts ORDER BY id"):
        data = json.loads(row["data"])
        latest = db.execute(
            "SELECT max(version) FROM product_versions WHERE product_id = ?", (row["id"],)
        ).fetchone()[0]
        out.append(
            {
                "id": row["id"],
                "name": data.get("name", row["id"]),
                "updated_at": row["updated_at"],
                "version": latest,
            }
        )
    return out


def versions(db: sqlite_utils.Database, product_id: str) -> list[dict]:
    return [
        dict(r)
        for r in db.execute(
            "SELECT * FROM product_versions WHERE product_id = ? ORDER BY version DESC", (product_id,)
        )
    ]


def draft_files(data: dict) -> list[str]:
    """Every stored file a draft names: each view's photo, mask and light layer, and each
    variant's photos ("<sha256>.jpg" / "<sha256>.png")."""
    names = []
    for view in data.get("views", []):
        names += [view[k] for k in ("photo", "mask", "light") if view.get(k)]
    for variant in data.get("variants", []):
        names += list(variant.get("photos") or ([variant["photo"]] if variant.get("photo") else []))
    return names


def stored_path(name: str) -> Path:
    """The stored file of a draft's file name "<sha256><suffix>"."""
    return uploads.path_for(PHOTO_FOLDER, name[:64], suffix=name[64:] or ".jpg")


def _draft_folder(data: dict) -> Path:
    """One folder holding (as links) every file the draft names, so the renderer reads the
    draft like a product folder; the files themselves stay where they are stored, by hash."""
    names = sorted(set(draft_files(data)))
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:20]
    folder = uploads.path_for(PHOTO_FOLDER, "0" * 64).parent.parent / "drafts" / digest
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".links-", dir=folder.parent))
    for name in names:
        try:
            path = stored_path(name)
        except ValueError:
            continue  # not a stored file's name: the product check says which field
        if path.is_file():
            os.symlink(path, tmp / name)
    try:
        os.rename(tmp, folder)
    except OSError:  # another request made it first
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def draft_product(data: dict) -> catalog.Product:
    """The draft as the renderer's Product (checked like a file; ProductFileError says where).
    Its id is "<id>@draft" so its previews never share a cache entry with a published version."""
    folder = _draft_folder(data)
    raw = data | {"id": f"{data['id']}@draft", "base_id": data["id"], "view": "photo", "_dir": str(folder)}
    product = catalog.Product.from_toml(raw, f"draft {data['id']}")
    known = {f.id for f in catalog.fonts()}
    for i, font in enumerate(product.allowed_fonts):
        if font not in known:
            raise ProductFileError(f"draft {data['id']}", f"allowed_fonts[{i}]", f"unknown font {font!r}")
    return product


def publish(db: sqlite_utils.Database, product_id: str, actor: str) -> int:
    """Write the draft as the next immutable version; returns its number."""
    data = draft(db, product_id)
    if data is None:
        raise ProductError(gettext("There is no product %(id)s.", id=repr(product_id)))
    try:
        draft_product(data)
    except (ProductFileError, catalog.CatalogError) as exc:
        raise ProductError(gettext("Not published: %(error)s", error=exc)) from exc
    return write_version(db, data, {name: stored_path(name) for name in draft_files(data)}, actor)


def write_version(db: sqlite_utils.Database, data: dict, photos: dict[str, Path], actor: str) -> int:
    """Write a version folder (atomically: a new folder renamed into place, never over one)."""
    product_id = data["id"]
    root = _instance() / catalog.PUBLISHED_DIR / product_id
    root.mkdir(parents=True, exist_ok=True)
    with transaction(db):
        version = (
            db.execute(
                "SELECT max(version) FROM product_versions WHERE product_id = ?", (product_id,)
            ).fetchone()[0]
            or 0
        ) + 1
        tmp = Path(tempfile.mkdtemp(prefix=".publish-", dir=root))

        def copy(source: str, name: str) -> tuple[str, str]:
            name += Path(source).suffix.lower() or ".jpg"
            shutil.copyfile(photos[source], tmp / name)
            return name, hashlib.sha256((tmp / name).read_bytes()).hexdigest()

        views = []
        for i, view in enumerate(data["views"]):
            name, sha = copy(view["photo"], f"photo-{i + 1}")
            extra = {}
            for layer in ("mask", "light"):  # optional per-view pictures, copied beside the photo
                if view.get(layer):
                    extra[layer] = copy(view[layer], f"{layer}-{i + 1}")[0]
            views.append(view | {"photo": name, "sha256": sha} | extra)
        variants = []
        for variant in data.get("variants", []):
            files = variant.get("photos") or ([variant["photo"]] if variant.get("photo") else [])
            copied = [copy(f, f"variant-{variant['id']}-{j + 1}") for j, f in enumerate(files)]
            entry_v = {k: v for k, v in variant.items() if k not in ("photo", "photos", "sha256")}
            if copied:
                entry_v |= {"photos": [n for n, _ in copied], "sha256": [h for _, h in copied]}
            variants.append(entry_v)
        entry = {
            k: v
            for k, v in data.items()
            if k not in ("views", "version", "base_id", "view", "variants", "file_names")
        }
        entry |= {"view": "photo", "version": version, "views": views}
        if variants:
            entry["variants"] = variants
        text = productfiles.dump_toml({"product": entry})
        (tmp / productfiles.PRODUCT_FILE).write_text(text, encoding="utf-8")
        try:
            productfiles.read(tmp)
        except (ProductFileError, catalog.CatalogError) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ProductError(gettext("Not published: %(error)s", error=exc)) from exc
        db.execute(
            "INSERT INTO product_versions (product_id, version, toml_sha256, photo_sha256, published_at, published_by)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                product_id,
                version,
                hashlib.sha256(text.encode()).hexdigest(),
                views[0]["sha256"],
                timestamp(),
                actor,
            ),
        )
        os.rename(tmp, root / str(version))  # fails rather than replace an existing version
    stamp = root.parent / catalog.STAMP_FILE
    stamp.write_text(f"{product_id}@{version}\n", encoding="utf-8")  # other processes reload
    os.utime(stamp, ns=(time.time_ns(), time.time_ns()))
    catalog.refresh()
    return version


def import_folder(db: sqlite_utils.Database, folder: Path, actor: str) -> tuple[str, int]:
    """A product folder (proofmark products import): checked, then draft + published version."""
    raw, _product = productfiles.read(folder)
    data = {k: v for k, v in raw.items() if k not in ("version", "base_id", "view")}
    photos = {}

    def stored(file: str) -> str:
        sha = store_photo((folder / file).read_bytes(), name=str(folder / file))[0]
        photos[f"{sha}.jpg"] = photo_path(sha)
        return f"{sha}.jpg"

    def stored_layer(file: str) -> str:
        # A mask or light layer is kept as it is (greyscale PNG), by its SHA-256.
        sha = uploads.put(PHOTO_FOLDER, (folder / file).read_bytes(), suffix=".png")
        photos[f"{sha}.png"] = uploads.path_for(PHOTO_FOLDER, sha, suffix=".png")
        return f"{sha}.png"

    views = []
    for view in raw["views"]:
        name = stored(view["photo"])
        layers = {k: stored_layer(view[k]) for k in ("mask", "light") if view.get(k)}
        views.append(view | {"photo": name, "sha256": name[:64]} | layers)
    data["views"] = views
    variants = []
    for variant in raw.get("variants", []):
        files = variant.get("photos") or ([variant["photo"]] if variant.get("photo") else [])
        entry = {k: v for k, v in variant.items() if k not in ("photo", "photos", "sha256")}
        if files:
            entry["photos"] = [stored(f) for f in files]
        variants.append(entry)
    if variants:
        data["variants"] = variants
    save_draft(db, data, actor)
    return data["id"], write_version(db, data, photos, actor)


def export(product_id: str, target: Path) -> Path:
    """Copy the latest published version's folder (product.toml + photos) to `target`."""
    product = catalog.product(product_id)
    if product is None or not product.base_id:
        raise ProductError(f"There is no published shop product {product_id!r}.")
    src = _instance() / catalog.PUBLISHED_DIR / product.base_id / str(product.version)
    dest = target / product.base_id
    if dest.exists():
        raise ProductError(f"{dest} exists already; choose another folder.")
    shutil.copytree(src, dest)
    return dest


__all__ = ["FINISHES", "MAPPINGS", "ProductError", "draft", "publish", "store_photo"]


# --- the staff editor's form ------------------------------------------------------------------

FIELD_NUMBERS = {
    "width_mm": float,
    "height_mm": float,
    "max_lines": int,
    "max_chars_per_line": int,
    "min_letter_height_mm": float,
    "max_letter_height_mm": float,
    "line_spacing": float,
}
REGION_NUMBERS = ("x_mm", "y_mm", "w_mm", "h_mm")
# How a problem names each number (English: the field's name with spaces).
FIELD_LABELS = {
    "width_mm": lambda: gettext("width mm"),
    "height_mm": lambda: gettext("height mm"),
    "max_lines": lambda: gettext("max lines"),
    "max_chars_per_line": lambda: gettext("max chars per line"),
    "min_letter_height_mm": lambda: gettext("min letter height mm"),
    "max_letter_height_mm": lambda: gettext("max letter height mm"),
    "line_spacing": lambda: gettext("line spacing"),
}


def _number(form, key: str, kind, errors: list[str], label: str):
    raw = str(form.get(key, "")).strip()
    try:
        value = kind(raw)
    except ValueError:
        errors.append(gettext("%(field)s: %(value)s is not a number.", field=label, value=repr(raw)))
        return None
    if kind is float and not (value == value and abs(value) < 1e6):
        errors.append(gettext("%(field)s: %(value)s is not a usable number.", field=label, value=repr(raw)))
        return None
    return value


def apply_form(data: dict, form) -> tuple[dict, list[str]]:
    """The draft changed by the editor's form, and what is wrong with the form (the draft is
    only saved when nothing is)."""
    errors: list[str] = []
    out = json.loads(json.dumps(data))
    out["name"] = str(form.get("name", out["name"]))[:120] or out["id"]
    out["description"] = str(form.get("description", out.get("description", "")))[:500]
    finish = str(form.get("finish", out["finish"]))
    if finish not in FINISHES:
        errors.append(gettext("Finish: unknown finish %(value)s.", value=repr(finish)))
    out["finish"] = finish
    for key, kind in FIELD_NUMBERS.items():
        if key in form:
            value = _number(form, key, kind, errors, FIELD_LABELS[key]())
            if value is not None:
                out[key] = value
    for key in REGION_NUMBERS:
        if f"region_{key}" in form:
            value = _number(form, f"region_{key}", float, errors, gettext("area %(key)s", key=key))
            if value is not None:
                out["region"][key] = value
    fonts = (
        [f for f in form.getlist("allowed_fonts") if f] if hasattr(form, "getlist") else out["allowed_fonts"]
    )
    if fonts:
        out["allowed_fonts"] = fonts
    default = str(form.get("default_font", out["default_font"]))
    out["default_font"] = default if default in out["allowed_fonts"] else out["allowed_fonts"][0]
    index, area_id = editing_target(out, form)
    area = out["views"][index]["areas"][area_id]
    for i, variant in enumerate(out.get("variants", [])):
        if f"variant_name_{i}" in form:
            variant["name"] = str(form.get(f"variant_name_{i}", "")).strip()[:80] or variant["id"]
    mapping = str(form.get("mapping", area["mapping"]))
    if mapping not in MAPPINGS:
        errors.append(gettext("Mapping: unknown mapping %(value)s.", value=repr(mapping)))
    area["mapping"] = mapping
    corners = []
    for corner in ("tl", "tr", "br", "bl"):
        point = []
        for axis in ("x", "y"):
            key = f"{corner}_{axis}"
            label = gettext("corner %(corner)s %(axis)s", corner=corner, axis=axis)
            value = _number(form, key, float, errors, label) if key in form else None
            point.append(value)
        corners.append(point)
    if all(None not in p for p in corners):
        area["corners"] = corners
    if area_id != "lines":
        # A named field's mapping: its region stays the product's.
        if mapping == "cylinder" and form.get("radius_mm"):
            area["radius_mm"] = _number(form, "radius_mm", float, errors, gettext("cylinder radius"))
    elif mapping == "cylinder":
        radius = (
            _number(form, "radius_mm", float, errors, gettext("cylinder radius"))
            if form.get("radius_mm")
            else None
        )
        area["radius_mm"] = radius or area.get("radius_mm") or out["width_mm"] / 2
        out["region"]["radius_mm"] = area["radius_mm"]
        tilt = _number(form, "tilt", float, errors, gettext("tilt")) if form.get("tilt") else None
        area["tilt"] = tilt if tilt is not None else area.get("tilt", 0.12)
        out["region"]["shape"] = "band"
    else:
        area.pop("radius_mm", None)
        area.pop("tilt", None)
        out["region"].pop("radius_mm", None)
        out["region"]["shape"] = "rect"
    if mapping == "arc":
        bend = _number(form, "bend_deg", float, errors, gettext("arc bend")) if form.get("bend_deg") else None
        area["bend_deg"] = bend if bend is not None else area.get("bend_deg", 30.0)
    else:
        area.pop("bend_deg", None)
    if not errors:
        try:
            draft_product(out)
        except (ProductFileError, catalog.CatalogError) as exc:
            errors.append(str(exc).split(": ", 1)[-1])
    return out, errors


def editing_target(data: dict, args) -> tuple[int, str]:
    """Which view (index) and which of its areas the editor works on (`view`, `area`): the
    first view's main lines unless asked for another that exists."""
    raw = str(args.get("view", "0"))
    index = int(raw) if raw.isdigit() and int(raw) < len(data["views"]) else 0
    areas = data["views"][index]["areas"]
    area_id = str(args.get("area", "lines"))
    if area_id not in areas:
        area_id = "lines" if "lines" in areas else next(iter(areas))
    return index, area_id


def draft_design(data: dict, sample: list[str], variant: str = ""):
    """The draft's sample design (registers the draft with the renderer in this process)."""
    from proofmark_renderer import Design

    product = draft_product(data)
    catalog.register_draft(product)
    lines = [line[:80] for line in sample if line][: product.max_lines] or [
        product.name[: product.max_chars_per_line]
    ]
    variant = variant if product.variant_spec(variant) else product.default_variant
    return Design(product=product.id, font=product.default_font, lines=tuple(lines), variant=variant)
