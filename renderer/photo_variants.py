"""Variants and second views for the demo shop's photo products, made from the photos that
proofmark_renderer.photo_samples draws (nothing downloaded):

- a close-up view: the same photo cropped around the personalization area and enlarged, its
  area corners moved with it (the same millimetre layout lands in the same place on it);
- the dog tag's black variant: the steel photo with the tag recoloured as black-coated steel,
  inside the tag's outline in millimetres mapped onto the photo by the view's own perspective
  corners (so the recolouring follows the tag exactly, in every view).

`write(folder)` writes the same product folders as photo_samples.write, with these added.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from proofmark_renderer import photo_samples
from proofmark_renderer.photo import homography

CLOSE_UP = "close-up"


def close_up(image: Image.Image, view: dict, zoom: float = 1.8) -> tuple[Image.Image, dict]:
    """The view cropped around its areas and enlarged by `zoom` to the photo's own size."""
    w, h = image.size
    pts = np.array([p for spec in view["areas"].values() for p in spec["corners"]], np.float64)
    cx, cy = pts.mean(axis=0)
    cw, ch = w / zoom, h / zoom
    x0 = float(np.clip(cx - cw / 2, 0, w - cw))
    y0 = float(np.clip(cy - ch / 2, 0, h - ch))
    crop = image.resize((w, h), Image.Resampling.LANCZOS, box=(x0, y0, x0 + cw, y0 + ch))
    sx, sy = w / cw, h / ch
    areas = {
        area: spec
        | {"corners": [[round((x - x0) * sx, 2), round((y - y0) * sy, 2)] for x, y in spec["corners"]]}
        for area, spec in view["areas"].items()
    }
    return crop, {"name": CLOSE_UP, "photo": "closeup.jpg", "areas": areas}


def tag_mask(size: tuple[int, int], product: dict, view: dict, radius_mm: float = 6.0) -> Image.Image:
    """The dog tag's outline (a rounded rectangle with its hole, in mm) on the photo, through
    the perspective map of the view's `lines` area."""
    s = 20  # px per mm of the flat drawing
    tw, th = float(product["width_mm"]), float(product["height_mm"])
    flat = Image.new("L", (round(tw * s), round(th * s)), 0)
    draw = ImageDraw.Draw(flat)
    draw.rounded_rectangle((0, 0, tw * s - 1, th * s - 1), radius=radius_mm * s, fill=255)
    draw.ellipse(((5.0 - 1.8) * s, (th / 2 - 1.8) * s, (5.0 + 1.8) * s, (th / 2 + 1.8) * s), fill=0)
    r = product["region"]
    region = np.array(
        [
            (r["x_mm"] * s, r["y_mm"] * s),
            ((r["x_mm"] + r["w_mm"]) * s, r["y_mm"] * s),
            ((r["x_mm"] + r["w_mm"]) * s, (r["y_mm"] + r["h_mm"]) * s),
            (r["x_mm"] * s, (r["y_mm"] + r["h_mm"]) * s),
        ],
        np.float64,
    )
    to_flat = homography(np.array(view["areas"]["lines"]["corners"], np.float64), region)
    coeffs = tuple((to_flat / to_flat[2, 2]).ravel()[:8])
    return flat.transform(size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR)


def black_coated(image: Image.Image, mask: Image.Image) -> Image.Image:
    """Steel turned black-coated: dark, a little blue, keeping the photo's highlights."""
    rgb = np.asarray(image, np.float32) / 255
    lum = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    coat = (0.035 + 0.32 * np.clip(lum, 0, 1) ** 2.2)[..., None] * np.array([0.92, 0.95, 1.08], np.float32)
    a = (np.asarray(mask, np.float32) / 255)[..., None]
    out = rgb * (1 - a) + coat * a
    return Image.fromarray((np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8))


def samples() -> list[tuple[dict[str, Image.Image], dict]]:
    """Each demo product's files (name -> picture) and its entry, with the added views and
    variants."""
    out = []
    for image, product in photo_samples.samples():
        files = {view["photo"]: image for view in product["views"][:1]}
        main = product["views"][0]
        if product["id"] in ("dog-tag", "tumbler"):
            crop, view = close_up(image, main)
            files[view["photo"]] = crop
            product["views"] = [main, view]
        if product["id"] == "dog-tag":
            steel_views = product["views"]
            black = {}
            for view in steel_views:
                picture = files[view["photo"]]
                name = f"black-{view['photo']}"
                black[name] = black_coated(picture, tag_mask(picture.size, product, view))
            files.update(black)
            product["variants"] = [
                {"id": "steel", "name": "Steel"},
                {"id": "black", "name": "Black", "photos": [f"black-{v['photo']}" for v in steel_views]},
            ]
        out.append((files, product))
    return out


def write(folder: str | Path) -> list[Path]:
    """One folder per demo product (product.toml and its photos) under `folder`."""
    from proofmark_renderer.productfiles import dump_toml

    written = []
    for files, product in samples():
        target = Path(folder) / product["id"]
        target.mkdir(parents=True, exist_ok=True)
        for name, picture in files.items():
            picture.save(target / name, "JPEG", quality=90)
        light = product.pop("_light", None)
        if light is not None:  # the first view's light layer (photo_samples.LIGHT_FILE)
            light.save(target / photo_samples.LIGHT_FILE)
        (target / "product.toml").write_text(dump_toml({"product": product}), encoding="utf-8")
        written.append(target)
    return written
