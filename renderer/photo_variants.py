"""Variants and second views for the demo shop's photo products, made from the photos that
proofmark_renderer.photo_samples draws (nothing downloaded):

- a close-up view: the same shot drawn at SHARP times the photo's size, cropped around the
  personalization area to the photo's size (so it is as sharp as the main photo, never an
  enlargement), its area corners moved with it (the same millimetre layout lands in the same
  place on it); the main photo is the same big picture reduced, so both views show one shot;
- the dog tag's black variant: the steel photo with the tag recoloured as black-coated steel,
  inside the tag's outline in millimetres mapped onto the photo by the view's own perspective
  corners (so the recolouring follows the tag exactly, in every view).

`write(folder)` writes the same product folders as photo_samples.write, with these added.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from proofmark_renderer import photo_samples, substrates
from proofmark_renderer.photo import homography
from proofmark_renderer.substrates import blur

CLOSE_UP = "close-up"
SHARP = 2  # the close-up's shot is drawn at this many times the photo's size (zoom 1.8 < 2)


def close_up(
    image: Image.Image, view: dict, zoom: float = 1.8, size: tuple[int, int] | None = None
) -> tuple[Image.Image, dict]:
    """The view cropped around its areas: 1/zoom of the picture, resampled to `size` (the
    picture's own size by default). From a picture at least `zoom` times `size` this is a
    reduction, as sharp as the main photo."""
    w, h = image.size
    size = size or (w, h)
    pts = np.array([p for spec in view["areas"].values() for p in spec["corners"]], np.float64)
    cx, cy = pts.mean(axis=0)
    cw, ch = w / zoom, h / zoom
    x0 = float(np.clip(cx - cw / 2, 0, w - cw))
    y0 = float(np.clip(cy - ch / 2, 0, h - ch))
    crop = image.resize(size, Image.Resampling.LANCZOS, box=(x0, y0, x0 + cw, y0 + ch))
    sx, sy = size[0] / cw, size[1] / ch
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
    """Steel turned black-coated: a smooth, matte-satin black. The coat fills the brushing,
    so the steel's streaks are gone: it keeps only the photo's broad light (the steel's
    luminance averaged over a few millimetres inside the tag, the rim's highlight narrower),
    as a soft satin sheen, with the powder's fine even grain."""
    rgb = np.asarray(image, np.float32) / 255
    lum = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    m = np.asarray(mask, np.float32) / 255
    scale = image.width / photo_samples.W  # the picture may be a close-up's larger shot

    def inside_blur(values: np.ndarray, radius: float) -> np.ndarray:
        # Averaged over the tag only: the cloth around it never bleeds in.
        return blur(values * m, radius) / np.maximum(blur(m, radius), 1e-3)

    broad = inside_blur(lum, 14 * scale)
    # Near the outline the rounded edge's own highlight is kept (less blurred).
    edge = 1 - np.clip(blur(m, 6 * scale) * 2 - 1, 0, 1)
    light = broad * (1 - edge) + inside_blur(lum, 3 * scale) * edge
    grain = blur(substrates.rng(61).standard_normal(lum.shape).astype(np.float32), 0.8 * scale) * 0.012
    coat = (0.045 + 0.26 * np.clip(light, 0, 1) ** 2.4 + grain)[..., None]
    coat = coat * np.array([0.96, 0.97, 1.02], np.float32)
    a = m[..., None]
    out = rgb * (1 - a) + coat * a
    return Image.fromarray((np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8))


def samples() -> list[tuple[dict[str, Image.Image], dict]]:
    """Each demo product's files (name -> picture) and its entry, with the added views and
    variants."""
    out = []
    shots = [
        (photo_samples.dog_tag(SHARP), True),
        (photo_samples.tumbler(SHARP), True),
        (photo_samples.sign(), False),
        (photo_samples.plaque(), False),
    ]
    for (image, product), with_close_up in shots:
        main = product["views"][0]
        light = product.pop("_light", None)  # the main view's light layer (photo_samples)
        chain = product.pop("_chain", None)  # the dog tag's chain, which a black coat leaves steel
        chains: dict[str, Image.Image] = {}
        if with_close_up:
            big, big_light, big_view = image, light, _scaled(main, 1.0)
            size = (photo_samples.W, photo_samples.H)
            image = big.resize(size, Image.Resampling.LANCZOS)
            light = big_light.resize(size, Image.Resampling.LANCZOS) if big_light is not None else None
            if chain is not None:
                chains[main["photo"]] = chain.resize(size, Image.Resampling.BILINEAR)
            main = _scaled(main, 1 / SHARP)
        files = {main["photo"]: image}
        if light is not None:
            files[main["light"]] = light
        if with_close_up:
            crop, view = close_up(big, big_view, size=size)
            files[view["photo"]] = crop
            if big_light is not None:  # the same crop of the light layer, so it still lies on the photo
                view["light"] = "closeup-light.png"
                files[view["light"]] = close_up(big_light, big_view, size=size)[0]
            if chain is not None:
                chains[view["photo"]] = close_up(chain, big_view, size=size)[0]
            product["views"] = [main, view]
        if product["id"] == "dog-tag":
            steel_views = product["views"]
            black = {}
            for view in steel_views:
                picture = files[view["photo"]]
                name = f"black-{view['photo']}"
                mask = tag_mask(picture.size, product, view)
                if view["photo"] in chains:  # the chain over the tag stays steel
                    mask = ImageChops.subtract(mask, chains[view["photo"]])
                black[name] = black_coated(picture, mask)
            files.update(black)
            product["variants"] = [
                {"id": "steel", "name": "Steel"},
                {"id": "black", "name": "Black", "photos": [f"black-{v['photo']}" for v in steel_views]},
            ]
        out.append((files, product))
    return out


def _scaled(view: dict, factor: float) -> dict:
    """The view with its area corners scaled (a picture drawn at another size)."""
    areas = {
        area: spec | {"corners": [[round(x * factor, 2), round(y * factor, 2)] for x, y in spec["corners"]]}
        for area, spec in view["areas"].items()
    }
    return view | {"areas": areas}


def write(folder: str | Path) -> list[Path]:
    """One folder per demo product (product.toml and its photos) under `folder`."""
    from proofmark_renderer.productfiles import dump_toml

    written = []
    for files, product in samples():
        target = Path(folder) / product["id"]
        target.mkdir(parents=True, exist_ok=True)
        for name, picture in files.items():
            if name.endswith(".png"):
                picture.save(target / name, "PNG")
            else:
                picture.save(target / name, "JPEG", quality=90)
        (target / "product.toml").write_text(dump_toml({"product": product}), encoding="utf-8")
        written.append(target)
    return written
