"""A shop's own products: the product's photo is the picture, and each personalization area
(in millimetres, as for every product) is mapped onto the photo by one of a few mappings.

A view is a photo plus, per area it shows, an `AreaMap`:

- `flat`: the area's rectangle lands on an axis-aligned rectangle of the photo (uniform scale;
  the two corners tl and br fix it).
- `perspective`: the area's four corners land on four points of the photo (tl, tr, br, bl); the
  map between is the homography through them (a flat face seen at an angle: a dog tag, a sign).
- `cylinder`: the area is unrolled on a cylinder of `radius_mm` (a mug, a tumbler). The left and
  right corners fix where the area's ends land, the top and bottom corners its height at the
  sides; letters narrow towards the edges (x = cx + R sin φ) and the baseline bends with the
  ellipse the top of a cylinder makes when seen a little from above (`tilt` = ellipse's b/a).

Everything per view (the photo scaled to the output width, the inverse maps as warps, the
material layers the finishes blend in) is built once per (product version, width) by
`scene()` and cached by `proofmark_renderer.scenes` under the frozen `Product`, whose id holds
the version and whose view holds the photo's SHA-256: a new version is a new key, never a
changed one.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

MAPPINGS = ("flat", "perspective", "cylinder")
CORNERS = ("tl", "tr", "br", "bl")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


class ProductFileError(ValueError):
    """A product file is wrong; says which file and which field."""

    def __init__(self, file: str | Path, field: str, message: str) -> None:
        self.file, self.field, self.message = str(file), field, message
        super().__init__(f"{file}: {field}: {message}")


@dataclass(frozen=True)
class AreaMap:
    """How one area's millimetres land on one photo (pixels of the photo as stored)."""

    area: str  # "lines" or a field id
    kind: str  # one of MAPPINGS
    corners: tuple[tuple[float, float], ...]  # tl, tr, br, bl in photo pixels
    radius_mm: float = 0.0  # cylinder only
    tilt: float = 0.12  # cylinder only: the ellipse's minor/major ratio


@dataclass(frozen=True)
class PhotoView:
    name: str
    path: str  # absolute path of the photo file
    sha256: str
    width_px: int
    height_px: int
    areas: tuple[AreaMap, ...]
    mask_path: str = ""  # optional greyscale picture: white where something lies over the text
    mask_sha256: str = ""
    # optional light layer: a greyscale PNG the photo's size (how the renderer uses it: issue 10r)
    light_path: str = ""
    light_sha256: str = ""

    def area(self, area_id: str) -> AreaMap | None:
        return next((a for a in self.areas if a.area == area_id), None)


def sha256_file(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --- geometry ---------------------------------------------------------------------------


def homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3x3 projective map sending the four points src to the four points dst."""
    a, b = [], []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b += [u, v]
    h = np.linalg.solve(np.array(a, np.float64), np.array(b, np.float64))
    return np.append(h, 1.0).reshape(3, 3)


def _apply_h(h: np.ndarray, x, y):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    w = h[2, 0] * x + h[2, 1] * y + h[2, 2]
    return (h[0, 0] * x + h[0, 1] * y + h[0, 2]) / w, (h[1, 0] * x + h[1, 1] * y + h[1, 2]) / w


def region_corners(region) -> np.ndarray:
    x, y, w, h = region.x_mm, region.y_mm, region.w_mm, region.h_mm
    return np.array([(x, y), (x + w, y), (x + w, y + h), (x, y + h)], np.float64)


@dataclass(frozen=True)
class Mapping:
    """One area's map in the pixels of some picture (the photo scaled by `scale`, shifted by `offset`)."""

    amap: AreaMap
    region: object  # catalog.Region
    scale: float = 1.0
    offset: tuple[float, float] = (0.0, 0.0)

    def _pts(self) -> np.ndarray:
        return np.array(self.amap.corners, np.float64) * self.scale + np.array(self.offset)

    # mm -> px
    def forward(self, u, v):
        pts, r = self._pts(), self.region
        kind = self.amap.kind
        if kind == "flat":
            s = (pts[2, 0] - pts[0, 0]) / r.w_mm
            return pts[0, 0] + (np.asarray(u) - r.x_mm) * s, pts[0, 1] + (np.asarray(v) - r.y_mm) * s
        if kind == "perspective":
            return _apply_h(homography(region_corners(r), pts), u, v)
        c = self._cyl()
        phi = (np.asarray(u, np.float64) - c["mid"]) / c["radius"]
        x = c["cx"] + c["rpx"] * np.sin(phi)
        lift = c["b"] * (np.cos(phi) - c["cos_half"])
        yt, yb = c["yt"] + lift, c["yb"] + lift
        t = (np.asarray(v, np.float64) - r.y_mm) / r.h_mm
        return x, yt + t * (yb - yt)

    # px -> mm, and whether the pixel shows the area's surface
    def inverse(self, x, y):
        pts, r = self._pts(), self.region
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        kind = self.amap.kind
        if kind == "flat":
            s = (pts[2, 0] - pts[0, 0]) / r.w_mm
            return r.x_mm + (x - pts[0, 0]) / s, r.y_mm + (y - pts[0, 1]) / s, np.ones(x.shape, bool)
        if kind == "perspective":
            u, v = _apply_h(homography(pts, region_corners(r)), x, y)
            return u, v, np.isfinite(u) & np.isfinite(v)
        c = self._cyl()
        s = (x - c["cx"]) / c["rpx"]
        ok = np.abs(s) < 0.995
        phi = np.arcsin(np.clip(s, -1, 1))
        lift = c["b"] * (np.cos(phi) - c["cos_half"])
        yt, yb = c["yt"] + lift, c["yb"] + lift
        t = (y - yt) / np.where(np.abs(yb - yt) < 1e-9, 1e-9, yb - yt)
        return c["mid"] + phi * c["radius"], r.y_mm + t * r.h_mm, ok

    def _cyl(self) -> dict:
        pts, r = self._pts(), self.region
        radius = self.amap.radius_mm
        half = min(r.w_mm / 2 / radius, math.pi / 2 * 0.98)
        xl, xr = (pts[0, 0] + pts[3, 0]) / 2, (pts[1, 0] + pts[2, 0]) / 2
        rpx = (xr - xl) / 2 / math.sin(half)
        return {
            "radius": radius,
            "mid": r.x_mm + r.w_mm / 2,
            "cx": (xl + xr) / 2,
            "rpx": rpx,
            "b": self.amap.tilt * rpx,
            "cos_half": math.cos(half),
            "yt": (pts[0, 1] + pts[1, 1]) / 2,
            "yb": (pts[3, 1] + pts[2, 1]) / 2,
        }

    def px_per_mm(self) -> float:
        """The scale at the area's centre (for the finishes' reach and the letters' raster size)."""
        r = self.region
        cu, cv = r.x_mm + r.w_mm / 2, r.y_mm + r.h_mm / 2
        x0, y0 = self.forward(cu - 0.5, cv)
        x1, y1 = self.forward(cu + 0.5, cv)
        x2, y2 = self.forward(cu, cv - 0.5)
        x3, y3 = self.forward(cu, cv + 0.5)
        return float(math.sqrt(math.hypot(x1 - x0, y1 - y0) * math.hypot(x3 - x2, y3 - y2)))


# --- reading a view from a product file ---------------------------------------------------------


def parse_view(raw: dict, folder: Path, file: str, index: int, areas: dict) -> PhotoView:
    """`areas`: area id -> Region of the product. Errors name the file and the field."""
    where = f"view[{index}]"
    if not isinstance(raw, dict):
        raise ProductFileError(file, where, "must be a table")
    name = str(raw.get("name", f"view-{index + 1}"))
    photo = raw.get("photo")
    if not isinstance(photo, str) or not photo:
        raise ProductFileError(file, f"{where}.photo", "is missing (the photo's file name)")
    if Path(photo).name != photo or Path(photo).suffix.lower() not in PHOTO_SUFFIXES:
        raise ProductFileError(
            file, f"{where}.photo", f"{photo!r} must be a file name ending in {', '.join(PHOTO_SUFFIXES)}"
        )
    path = folder / photo
    if not path.is_file():
        raise ProductFileError(file, f"{where}.photo", f"the photo {photo!r} is missing from {folder}")
    sha = sha256_file(path)
    want = raw.get("sha256")
    if want is not None and str(want) != sha:
        raise ProductFileError(
            file, f"{where}.sha256", f"the photo {photo!r} has SHA-256 {sha}, the file says {want}"
        )
    try:
        with Image.open(path) as im:
            width_px, height_px = im.size
    except Exception as exc:  # noqa: BLE001 - any unreadable photo is the same error
        raise ProductFileError(
            file, f"{where}.photo", f"{photo!r} is not a readable picture ({exc})"
        ) from exc
    mask_path, mask_sha = "", ""
    if raw.get("mask"):
        mask = str(raw["mask"])
        if Path(mask).name != mask or not (folder / mask).is_file():
            raise ProductFileError(file, f"{where}.mask", f"the mask {mask!r} is missing from {folder}")
        mask_path, mask_sha = str(folder / mask), sha256_file(folder / mask)
    light_path, light_sha = "", ""
    if raw.get("light"):
        light = str(raw["light"])
        if Path(light).name != light or not (folder / light).is_file():
            raise ProductFileError(
                file, f"{where}.light", f"the light layer {light!r} is missing from {folder}"
            )
        try:
            with Image.open(folder / light) as im:
                light_size, light_format = im.size, im.format
        except Exception as exc:  # noqa: BLE001 - any unreadable file is the same error
            raise ProductFileError(file, f"{where}.light", f"{light!r} is not a readable picture") from exc
        if light_format != "PNG" or light_size != (width_px, height_px):
            raise ProductFileError(
                file,
                f"{where}.light",
                f"{light!r} must be a PNG of the photo's size ({width_px}x{height_px} px), "
                f"not a {light_format} of {light_size[0]}x{light_size[1]}",
            )
        light_path, light_sha = str(folder / light), sha256_file(folder / light)
    maps = []
    raw_areas = raw.get("areas", {})
    if not isinstance(raw_areas, dict) or not raw_areas:
        raise ProductFileError(
            file, f"{where}.areas", "must map at least one area (e.g. `lines`) to the photo"
        )
    for area_id, spec in raw_areas.items():
        field = f"{where}.areas.{area_id}"
        if area_id not in areas:
            raise ProductFileError(file, field, f"unknown area {area_id!r} (known: {', '.join(areas)})")
        if not isinstance(spec, dict):
            raise ProductFileError(file, field, "must be a table")
        kind = str(spec.get("mapping", ""))
        if kind not in MAPPINGS:
            raise ProductFileError(
                file, f"{field}.mapping", f"unknown mapping {kind!r} (known: {', '.join(MAPPINGS)})"
            )
        corners = spec.get("corners")
        try:
            pts = tuple((float(p[0]), float(p[1])) for p in corners)
        except (TypeError, ValueError, IndexError, KeyError):
            pts = ()
        if len(pts) != 4 or not all(math.isfinite(c) for p in pts for c in p):
            raise ProductFileError(
                file, f"{field}.corners", "must be four [x, y] points in photo pixels: tl, tr, br, bl"
            )
        region = areas[area_id]
        radius = float(spec.get("radius_mm", getattr(region, "radius_mm", 0.0)) or 0.0)
        tilt = float(spec.get("tilt", 0.12))
        amap = AreaMap(area_id, kind, pts, radius, tilt)
        _check_geometry(amap, region, file, field)
        maps.append(amap)
    return PhotoView(
        name, str(path), sha, width_px, height_px, tuple(maps), mask_path, mask_sha, light_path, light_sha
    )


def _check_geometry(amap: AreaMap, region, file: str, field: str) -> None:
    tl, tr, br, bl = amap.corners
    if region.w_mm <= 0 or region.h_mm <= 0:
        raise ProductFileError(file, field, "the area has no width or height in millimetres")
    if amap.kind == "flat" and (br[0] <= tl[0] or br[1] <= tl[1]):
        raise ProductFileError(file, f"{field}.corners", "br must lie right of and below tl")
    if amap.kind == "perspective":
        # A convex quadrilateral in this order, else the homography folds the text over.
        pts = np.array(amap.corners)

        def turn(a, b) -> float:
            return float(a[0] * b[1] - a[1] * b[0])

        cross = [turn(pts[(i + 1) % 4] - pts[i], pts[(i + 2) % 4] - pts[(i + 1) % 4]) for i in range(4)]
        if not (all(c > 0 for c in cross) or all(c < 0 for c in cross)):
            raise ProductFileError(
                file,
                f"{field}.corners",
                "the four corners must make a convex shape in the order tl, tr, br, bl",
            )
    if amap.kind == "cylinder":
        if amap.radius_mm <= 0:
            raise ProductFileError(file, f"{field}.radius_mm", "a cylinder mapping needs the radius in mm")
        if region.w_mm / amap.radius_mm >= math.pi * 0.98:
            raise ProductFileError(
                file, f"{field}.radius_mm", "the area wraps round more than the visible half of the cylinder"
            )
        if tr[0] <= tl[0] or bl[1] <= tl[1]:
            raise ProductFileError(file, f"{field}.corners", "tr must lie right of tl, and bl below tl")
        if not 0 <= amap.tilt <= 0.6:
            raise ProductFileError(file, f"{field}.tilt", "must be between 0 and 0.6")
