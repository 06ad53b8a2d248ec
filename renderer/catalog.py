"""The font and product catalogs: data files read once, checked, and cached.

Pure Python (no Flask). The app calls `configure(instance_path)` at start-up so
that a shop's own fonts and product overrides in its instance folder are used.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import tomllib
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

from fontTools.ttLib import TTFont
from fontTools.unicodedata import block

from proofmark_renderer.photo import ProductFileError, parse_view

# Installed beside this package as `proofmark_renderer.fonts` (the folder `fonts/` of the checkout).
FONT_CATALOG = Path(str(resources.files("proofmark_renderer.fonts").joinpath("catalog.toml")))
PRODUCT_CATALOG = Path(__file__).resolve().parent / "products.toml"
FONT_GROUPS = ("script", "serif", "sans", "typewriter", "fallback")


class CatalogError(ValueError):
    """A catalog file is malformed (not: a font file is missing, which is reported, not raised)."""


@dataclass(frozen=True)
class Font:
    id: str
    name: str
    group: str
    path: Path
    license: str

    @cached_property
    def cmap(self) -> frozenset[int]:
        """Code points the font can draw, from its best Unicode cmap."""
        with TTFont(self.path, lazy=True) as ttf:
            return frozenset(ttf.getBestCmap() or {})

    def covers(self, text: str) -> bool:
        return all(ord(ch) in self.cmap for ch in text)

    def blocks(self) -> dict[str, int]:
        """Unicode block name -> number of code points the font draws in it."""
        counts: dict[str, int] = {}
        for cp in sorted(self.cmap):
            name = block(chr(cp))
            counts[name] = counts.get(name, 0) + 1
        return counts


@dataclass(frozen=True)
class Catalog:
    fonts: dict[str, Font]
    products: dict[str, dict]
    # Human-readable problems found while loading (missing files, unknown groups).
    problems: tuple[str, ...] = field(default=())
    # A shop product's id -> the id of its latest published version ("dog-tag" -> "dog-tag@3").
    latest: dict[str, str] = field(default_factory=dict)


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: {exc}") from exc


def default_asset_root() -> Path:
    """The folder whose `node_modules/` holds the npm font packages: $PROOFMARK_ASSET_ROOT,
    else the source checkout this package runs from (an editable install), else the
    working directory (an installed wheel started from the deployment's folder)."""
    configured = os.environ.get("PROOFMARK_ASSET_ROOT")
    if configured:
        return Path(configured).resolve()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "node_modules").is_dir():
        return checkout
    return Path.cwd()


def _resolve_font_file(spec: str, instance_path: Path | None, asset_root: Path) -> Path:
    if spec.startswith("instance:"):
        base = instance_path or asset_root / "instance"
        return base / spec.removeprefix("instance:")
    path = Path(spec)
    return path if path.is_absolute() else asset_root / path


def load(instance_path: str | Path | None = None, asset_root: str | Path | None = None) -> Catalog:
    """Read the font catalog (plus `instance/fonts.toml`) and the product catalog
    (replaced by `instance/products.toml` when that exists). Font files named relative
    to the project (`node_modules/...`) are looked up under `asset_root`."""
    instance = Path(instance_path) if instance_path else None
    root = Path(asset_root) if asset_root else default_asset_root()
    entries = list(_read_toml(FONT_CATALOG).get("font", []))
    if instance and (instance / "fonts.toml").is_file():
        entries += _read_toml(instance / "fonts.toml").get("font", [])

    fonts: dict[str, Font] = {}
    problems: list[str] = []
    for entry in entries:
        missing = [k for k in ("id", "name", "group", "file", "license") if k not in entry]
        if missing:
            problems.append(f"font entry {entry.get('id', '?')!r} lacks {', '.join(missing)}")
            continue
        if entry["group"] not in FONT_GROUPS:
            problems.append(f"font {entry['id']!r}: unknown group {entry['group']!r}")
            continue
        path = _resolve_font_file(entry["file"], instance, root)
        if not path.is_file():
            problems.append(
                f"font {entry['id']!r} ({entry['name']}): file not found: {path} "
                "(run `npm ci`, or drop the shop's file into the instance folder)"
            )
            continue
        fonts[entry["id"]] = Font(entry["id"], entry["name"], entry["group"], path, entry["license"])

    product_file = PRODUCT_CATALOG
    if instance and (instance / "products.toml").is_file():
        product_file = instance / "products.toml"
    products = {}
    if product_file.is_file():
        for p in _read_toml(product_file).get("product", []):
            products[p.get("id", "?")] = p | {"_file": str(product_file)}
    published, latest = published_products(instance)
    products.update(published)
    return Catalog(fonts=fonts, products=products, problems=tuple(problems), latest=latest)


PUBLISHED_DIR = "products"  # instance/products/<id>/<version>/product.toml + photos


def published_products(instance: Path | None) -> tuple[dict[str, dict], dict[str, str]]:
    """Every published version of the shop's own products, as raw entries keyed by
    "<id>@<version>", and each id's latest version. Versions are folders never rewritten."""
    found: dict[str, dict] = {}
    latest: dict[str, str] = {}
    root = instance / PUBLISHED_DIR if instance else None
    if root is None or not root.is_dir():
        return found, latest
    for folder in sorted(d for d in root.iterdir() if d.is_dir()):
        versions = sorted((int(v.name), v) for v in folder.glob("*") if v.name.isdigit() and v.is_dir())
        for number, vdir in versions:
            file = vdir / "product.toml"
            if not file.is_file():
                continue
            raw = dict(_read_toml(file).get("product", {}))
            key = f"{folder.name}@{number}"
            found[key] = raw | {
                "id": key,
                "base_id": folder.name,
                "version": number,
                "view": "photo",
                "_dir": str(vdir),
                "_file": str(file),
            }
            latest[folder.name] = key
    return found, latest


_lock = threading.Lock()
_current: Catalog | None = None
_instance_path: Path | None = None
_asset_root: Path | None = None


def configure(instance_path: str | Path | None, asset_root: str | Path | None = None) -> Catalog:
    """Load the catalogs for an instance folder and make them the current ones."""
    global _current, _instance_path, _asset_root
    with _lock:
        _instance_path = Path(instance_path) if instance_path else None
        _asset_root = Path(asset_root) if asset_root else None
        _current = load(_instance_path, _asset_root)
        global _stamp
        _stamp = _published_stamp(_instance_path)
        return _current


STAMP_FILE = ".published"  # touched after each publish: one stat tells a process to reload


def _published_stamp(instance: Path | None) -> tuple:
    """Changes when a version is published (proofmark.products touches the stamp file)."""
    if instance is None:
        return ()
    try:
        return (os.stat(instance / PUBLISHED_DIR / STAMP_FILE).st_mtime_ns,)
    except OSError:
        return ()


_stamp: tuple = ()


def refresh() -> None:
    """Reload if another process published a product version since the last load."""
    global _current, _stamp
    stamp = _published_stamp(_instance_path)
    if stamp != _stamp:
        with _lock:
            _stamp = stamp
            _current = load(_instance_path, _asset_root)


def current() -> Catalog:
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                _current = load(_instance_path, _asset_root)
    return _current


def fonts() -> list[Font]:
    return list(current().fonts.values())


def font(font_id: str) -> Font | None:
    return current().fonts.get(font_id)


def problems() -> tuple[str, ...]:
    """Font problems found while loading, and products whose entry cannot be used."""
    _parsed_products()
    return current().problems + tuple(_product_problems.get(id(current()), ()))


# --- products ---------------------------------------------------------------------------

REGION_SHAPES = ("rect", "circle", "arc", "band")


@dataclass(frozen=True)
class Region:
    """Where text may go, in mm from the product's top-left corner.

    rect: x, y, w, h. circle: cx, cy, r (lines stacked inside the circle).
    arc: text along a circle of radius r (the baseline), centred at the top, over span_deg.
    band: a rectangle unrolled on a cylinder of radius_mm, centred on the side facing the
    viewer; x runs along the circumference.
    """

    shape: str
    x_mm: float = 0.0
    y_mm: float = 0.0
    w_mm: float = 0.0
    h_mm: float = 0.0
    cx_mm: float = 0.0
    cy_mm: float = 0.0
    r_mm: float = 0.0
    span_deg: float = 0.0
    radius_mm: float = 0.0

    @classmethod
    def from_toml(cls, raw: dict) -> Region:
        shape = str(raw.get("shape", "rect"))
        if shape not in REGION_SHAPES:
            raise CatalogError(f"unknown region shape {shape!r}")
        values = {k: float(v) for k, v in raw.items() if k != "shape" and k in cls.__dataclass_fields__}
        region = cls(shape=shape, **values)
        if shape == "circle":
            # Stacked lines use the circle's bounding square as their box.
            region = cls(
                shape=shape,
                cx_mm=region.cx_mm,
                cy_mm=region.cy_mm,
                r_mm=region.r_mm,
                x_mm=region.cx_mm - region.r_mm,
                y_mm=region.cy_mm - region.r_mm,
                w_mm=2 * region.r_mm,
                h_mm=2 * region.r_mm,
            )
        return region


@dataclass(frozen=True)
class FieldSpec:
    """A named text field with its own region (e.g. the pendant's rim)."""

    id: str
    label: str
    max_chars: int
    min_letter_height_mm: float
    max_letter_height_mm: float
    region: Region


@dataclass(frozen=True)
class Variant:
    """One way the product comes (a metal, a shirt colour), chosen by the shopper.

    A built-in product's scene draws it from `colour` (the metal's or the cloth's colour,
    0..1 RGB) and prints in `ink`; a photo product's variant has its own photo per view
    (`views`: the product's views with this variant's photo, same area mappings). Either may
    change the finish. The first variant is the product's default."""

    id: str
    name: str
    colour: tuple[float, ...] = ()
    ink: tuple[float, ...] = ()
    finish: str = ""
    views: tuple = ()


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    description: str
    finish: str
    substrate: str
    view: str
    width_mm: float
    height_mm: float
    region: Region
    max_lines: int
    max_chars_per_line: int
    min_letter_height_mm: float
    max_letter_height_mm: float
    allowed_fonts: tuple[str, ...]
    default_font: str
    line_spacing: float = 1.5
    field_specs: tuple[FieldSpec, ...] = ()
    # Whether the process can reproduce emoji at all (engraving and stamping cannot).
    emoji: bool = False
    # Production files (products.toml `production = {...}`): the raster files' resolution,
    # whether the artwork is mirrored (stamps, some printing plates), and whether the
    # artboard is the whole product or only its print region.
    production_dpi: int = 300
    production_mirror: bool = False
    production_artboard: str = "product"
    # A shop's own product (view = "photo"): its published version (the id is then
    # "<base_id>@<version>") and its views, each a photo with its areas mapped onto it.
    version: int = 0
    base_id: str = ""
    views: tuple = ()
    ink: str = ""
    # Optional wording per language (`[product.names] de = "..."`, `[product.descriptions]`,
    # `labels = { de = "..." }` on a field): (language, key, text), key "name",
    # "description" or "field:<id>". The site shows them in the page's language.
    texts: tuple[tuple[str, str, str], ...] = ()

    def text_in(self, key: str, language: str) -> str | None:
        return next((t for lang, k, t in self.texts if lang == language and k == key), None)

    # The ways the product comes (products.toml `[[product.variants]]`); the first is the
    # default. `variant` is the one this Product object draws ("" = the product as listed),
    # with its colours in `tint` and `ink_tint` (read by the built-in scenes); see with_variant.
    variants: tuple[Variant, ...] = ()
    variant: str = ""
    tint: tuple[float, ...] = ()
    ink_tint: tuple[float, ...] = ()

    @property
    def photo_sha256(self) -> str:
        return self.views[0].sha256 if self.views else ""

    def variant_spec(self, variant_id: str) -> Variant | None:
        return next((v for v in self.variants if v.id == variant_id), None)

    @property
    def default_variant(self) -> str:
        return self.variants[0].id if self.variants else ""

    @property
    def view_names(self) -> tuple[str, ...]:
        """The product's views, by name: a built-in has one, its drawn scene."""
        return tuple(v.name for v in self.views) if self.views else ("product",)

    def with_variant(self, variant_id: str) -> Product:
        """This product drawn as one of its variants (its colours, finish and photos); the
        result is a Product of its own, so every cache keyed by the product keeps variants
        apart. Unknown ids raise KeyError (validation reports them first)."""
        if not variant_id:
            return self
        return _derive(self, variant_id, 0)

    def with_view(self, index: int) -> Product:
        """This product with its view `index` first: what the scenes draw (view 0 is the
        picture proofs use)."""
        if not index:
            return self
        return _derive(self, "", int(index))

    @property
    def fields(self) -> list[str]:
        return [f.id for f in self.field_specs]

    def field_spec(self, field_id: str) -> FieldSpec | None:
        return next((f for f in self.field_specs if f.id == field_id), None)

    @property
    def size_label(self) -> str:
        if self.view in ("pendant", "ornament"):
            return f"Ø {self.width_mm:g} mm"
        if self.view == "ring":
            return f"Ø {2 * self.region.radius_mm:g} mm inside · {self.height_mm:g} mm band"
        if self.view == "mug":
            return f"Ø {self.width_mm:g} × {self.height_mm:g} mm"
        return f"{self.width_mm:g} × {self.height_mm:g} mm"

    @classmethod
    def from_toml(cls, raw: dict, file: str = "products.toml") -> Product:
        check_entry(raw, file)
        try:
            specs = tuple(
                FieldSpec(
                    id=str(f["id"]),
                    label=str(f.get("label", f["id"])),
                    max_chars=int(f.get("max_chars", 40)),
                    min_letter_height_mm=float(f["min_letter_height_mm"]),
                    max_letter_height_mm=float(f["max_letter_height_mm"]),
                    region=Region.from_toml(f["region"]),
                )
                for f in raw.get("fields", [])
            )
            product = cls(
                id=str(raw["id"]),
                name=str(raw["name"]),
                description=str(raw.get("description", "")),
                finish=str(raw["finish"]),
                substrate=str(raw.get("substrate", raw["finish"])),
                view=str(raw.get("view", "flat")),
                width_mm=float(raw["width_mm"]),
                height_mm=float(raw["height_mm"]),
                region=Region.from_toml(raw["region"]),
                max_lines=int(raw["max_lines"]),
                max_chars_per_line=int(raw["max_chars_per_line"]),
                min_letter_height_mm=float(raw["min_letter_height_mm"]),
                max_letter_height_mm=float(raw.get("max_letter_height_mm", raw["min_letter_height_mm"] * 4)),
                allowed_fonts=tuple(str(x) for x in raw["allowed_fonts"]),
                default_font=str(raw["default_font"]),
                line_spacing=float(raw.get("line_spacing", 1.5)),
                field_specs=specs,
                emoji=bool(raw.get("emoji", False)),
                texts=language_texts(raw),
                **_production_settings(raw.get("production", {})),
                **_photo_settings(raw, specs, file),
            )
            return dataclasses.replace(product, variants=_variants(raw, product, file))
        except ProductFileError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise CatalogError(f"{file}: product {raw.get('id', '?')!r}: {exc!r}") from exc


def language_texts(raw: dict) -> tuple[tuple[str, str, str], ...]:
    """The optional per-language tables of a product entry, as (language, key, text)."""
    out = []
    tables = [("name", raw.get("names")), ("description", raw.get("descriptions"))]
    tables += [
        (f"field:{f.get('id')}", f.get("labels")) for f in raw.get("fields", []) if isinstance(f, dict)
    ]
    for key, table in tables:
        if table is None:
            continue
        if not isinstance(table, dict):
            raise ValueError(f'{key.split(":")[0]}s per language must be a table, e.g. {{ de = "..." }}')
        for lang, text in table.items():
            if not isinstance(text, str) or not text.strip() or len(text) > 500:
                raise ValueError(f"{key} in {lang!r} must be text of 1 to 500 characters")
            out.append((str(lang).lower(), key, text))
    return tuple(out)


@lru_cache(maxsize=512)
def _derive(p: Product, variant_id: str, view: int) -> Product:
    if variant_id:
        spec = p.variant_spec(variant_id)
        if spec is None:
            raise KeyError(f"product {p.id!r} has no variant {variant_id!r}")
        return dataclasses.replace(
            p,
            variant=spec.id,
            tint=spec.colour,
            ink_tint=spec.ink,
            finish=spec.finish or p.finish,
            views=spec.views or p.views,
        )
    if not 0 <= view < len(p.views):
        raise KeyError(f"product {p.id!r} has no view {view}")
    return dataclasses.replace(p, views=(p.views[view],) + p.views[:view] + p.views[view + 1 :])


FINISH_PREFIXES = ("engraved", "stamped", "laser", "print")
VIEWS = ("pendant", "bar", "ring", "ornament", "board", "shirt", "mug", "photo", "flat")
REQUIRED = ("id", "name", "finish", "width_mm", "height_mm", "region", "max_lines", "max_chars_per_line")


def check_entry(raw: dict, file: str = "products.toml") -> None:
    """Refuse what would otherwise come out as a wrong picture or "Preview unavailable":
    each error names the file, the product and the field."""
    pid = raw.get("id", "?")

    def fail(field: str, message: str):
        raise ProductFileError(file, f"product {pid!r}: {field}", message)

    for key in REQUIRED:
        if key not in raw:
            fail(key, "is missing")
    finish = str(raw["finish"])
    if not finish.startswith(FINISH_PREFIXES):
        fail(
            "finish", f"unknown finish {finish!r} (a finish starts with one of: {', '.join(FINISH_PREFIXES)})"
        )
    view = str(raw.get("view", "flat"))
    if view not in VIEWS:
        fail("view", f"unknown view {view!r} (known: {', '.join(VIEWS)})")
    if not isinstance(raw["region"], dict):
        fail("region", 'must be a table, e.g. { shape = "rect", x_mm = 1, y_mm = 1, w_mm = 20, h_mm = 5 }')
    shape = str(raw["region"].get("shape", "rect"))
    if shape not in REGION_SHAPES:
        fail("region.shape", f"unknown shape {shape!r} (known: {', '.join(REGION_SHAPES)})")
    for key in ("width_mm", "height_mm"):
        try:
            ok = float(raw[key]) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            fail(key, f"must be a positive number of millimetres, not {raw[key]!r}")
    fonts = raw.get("allowed_fonts")
    if not isinstance(fonts, list) or not fonts:
        fail("allowed_fonts", "must list at least one font id")
    if "default_font" in raw and raw["default_font"] not in fonts:
        fail("default_font", f"{raw['default_font']!r} is not among allowed_fonts")
    if view == "photo" and not raw.get("views"):
        fail("views", "a photo product needs at least one [[product.views]] with its photo")


def _photo_settings(raw: dict, specs: tuple, file: str) -> dict:
    if str(raw.get("view")) != "photo":
        return {}
    folder = Path(str(raw.get("_dir") or Path(file).parent))
    areas = {"lines": Region.from_toml(raw["region"])} | {f.id: f.region for f in specs}
    views = tuple(parse_view(v, folder, file, i, areas) for i, v in enumerate(raw["views"]))
    version = int(raw.get("version", 0))
    base = str(raw.get("base_id") or raw["id"])
    return {"version": version, "base_id": base, "views": views, "ink": str(raw.get("ink", ""))}


VARIANT_KEYS = ("id", "name", "colour", "ink", "finish", "photo", "photos", "sha256")


def _rgb(value, fail, field: str) -> tuple[float, ...]:
    """A colour as "#rrggbb" or [r, g, b] in 0..1."""
    if isinstance(value, str) and len(value) == 7 and value.startswith("#"):
        try:
            return tuple(round(int(value[i : i + 2], 16) / 255, 4) for i in (1, 3, 5))
        except ValueError:
            pass
    elif isinstance(value, list) and len(value) == 3:
        try:
            rgb = tuple(float(c) for c in value)
        except (TypeError, ValueError):
            rgb = ()
        if rgb and all(0 <= c <= 1 for c in rgb):
            return rgb
    fail(field, f'must be a colour, "#rrggbb" or [r, g, b] from 0 to 1, not {value!r}')
    return ()


def _variants(raw: dict, product: Product, file: str) -> tuple[Variant, ...]:
    """`[[product.variants]]`, checked: every error names the file and the field
    (`variants[1].photo`)."""
    items = raw.get("variants", [])
    photo_product = product.view == "photo"
    prefix = "" if photo_product else f"product {raw.get('id', '?')!r}: "

    def fail(field: str, message: str):
        raise ProductFileError(file, prefix + field, message)

    if not isinstance(items, list) or not all(isinstance(v, dict) for v in items):
        fail("variants", "must be a list of [[product.variants]] tables, each with an id and a name")
    out: list[Variant] = []
    for i, item in enumerate(items):
        where = f"variants[{i}]"
        unknown = [k for k in item if k not in VARIANT_KEYS]
        if unknown:
            fail(f"{where}.{unknown[0]}", f"unknown key (a variant has: {', '.join(VARIANT_KEYS)})")
        vid = item.get("id")
        if not isinstance(vid, str) or not vid:
            fail(f"{where}.id", 'is missing (letters, digits and hyphens, e.g. "rose-gold")')
        if len(vid) > 40 or not vid[0].isalnum() or not all(c.isalnum() or c == "-" for c in vid):
            fail(f"{where}.id", f"{vid!r} must be letters, digits and hyphens (at most 40)")
        if any(v.id == vid for v in out):
            fail(f"{where}.id", f"{vid!r} is used by an earlier variant")
        name = item.get("name", vid)
        if not isinstance(name, str) or not name.strip():
            fail(f"{where}.name", "must be the variant's name as shoppers see it")
        colour = _rgb(item["colour"], fail, f"{where}.colour") if "colour" in item else ()
        ink = _rgb(item["ink"], fail, f"{where}.ink") if "ink" in item else ()
        finish = str(item.get("finish", ""))
        if finish and not finish.startswith(FINISH_PREFIXES):
            fail(
                f"{where}.finish",
                f"unknown finish {finish!r} (a finish starts with one of: {', '.join(FINISH_PREFIXES)})",
            )
        views = _variant_views(item, raw, product, file, where, fail) if photo_product else ()
        if not photo_product and ("photo" in item or "photos" in item):
            key = "photo" if "photo" in item else "photos"
            fail(f"{where}.{key}", "only a photo product's variant has photos (a built-in's has a colour)")
        out.append(Variant(vid, name.strip()[:80], colour, ink, finish, views))
    return tuple(out)


def _variant_views(item: dict, raw: dict, product: Product, file: str, where: str, fail) -> tuple:
    """A photo product's variant: its own photo for each view (same shot, same mapping)."""
    if "photo" in item and "photos" in item:
        fail(f"{where}.photos", "give either `photo` (the first view's) or `photos` (one per view), not both")
    key = "photos" if "photos" in item else "photo"
    photos = item.get(key)
    if photos is None:
        return ()
    if key == "photo":
        photos = [photos]
    if not isinstance(photos, list) or not all(isinstance(x, str) and x for x in photos):
        fail(f"{where}.{key}", "must be the file name of a photo beside product.toml")
    if len(photos) > len(product.views):
        fail(f"{where}.{key}", f"names {len(photos)} photos; the product has {len(product.views)} views")
    shas = item.get("sha256")
    shas = [shas] if isinstance(shas, str) else list(shas or [])
    folder = Path(str(raw.get("_dir") or Path(file).parent))
    areas = {"lines": product.region} | {f.id: f.region for f in product.field_specs}
    views = list(product.views)
    for j, name in enumerate(photos):
        field = f"{where}.{key}" + (f"[{j}]" if key == "photos" else "")
        base_raw = dict(raw["views"][j])
        base_raw.update(photo=name)
        base_raw.pop("sha256", None)
        if j < len(shas):
            base_raw["sha256"] = shas[j]
        # The photo first without the view's light layer: a photo of another size is "not the
        # same shot" (the real fault), not a light layer of the wrong size.
        light = base_raw.pop("light", None)
        try:
            view = parse_view(base_raw, folder, file, j, areas)
        except ProductFileError as exc:
            fail(field, exc.message)
        base = product.views[j]
        if (view.width_px, view.height_px) != (base.width_px, base.height_px):
            fail(
                field,
                f"{name!r} is {view.width_px}x{view.height_px} px, but view {base.name!r} is "
                f"{base.width_px}x{base.height_px} px: a variant's photo must be the same shot",
            )
        if light is not None:
            try:
                view = parse_view(base_raw | {"light": light}, folder, file, j, areas)
            except ProductFileError as exc:
                fail(field, exc.message)
        views[j] = view
    return tuple(views)


PRODUCTION_ARTBOARDS = ("product", "region")


def _production_settings(raw: dict) -> dict:
    if not isinstance(raw, dict):
        raise ValueError("`production` must be a table")
    dpi = int(raw.get("dpi", 300))
    if not 72 <= dpi <= 1200:
        raise ValueError(f"production dpi {dpi} is outside 72..1200")
    board = str(raw.get("artboard", "product"))
    if board not in PRODUCTION_ARTBOARDS:
        raise ValueError(f"production artboard {board!r} is not one of {PRODUCTION_ARTBOARDS}")
    return {
        "production_dpi": dpi,
        "production_mirror": bool(raw.get("mirror", False)),
        "production_artboard": board,
    }


_products_cache: dict[int, dict[str, Product]] = {}
_product_problems: dict[int, list[str]] = {}
_product_errors: dict[int, list[str]] = {}  # entries that could not be read at all


def _parsed_products() -> dict[str, Product]:
    cat = current()
    # Keyed on the Catalog object so that configure() (a new Catalog) re-parses.
    key = id(cat)
    parsed = _products_cache.get(key)
    if parsed is None:
        parsed = {}
        found: list[str] = []
        broken: list[str] = []
        for pid, raw in cat.products.items():
            try:
                product = Product.from_toml(raw, raw.get("_file", "products.toml"))
            except (CatalogError, ProductFileError) as exc:
                found.append(str(exc))
                broken.append(str(exc))
                continue
            unknown = [f for f in product.allowed_fonts if f not in cat.fonts]
            if unknown:
                found.append(f"product {pid!r}: fonts not in the catalog: {', '.join(unknown)}")
            parsed[pid] = product
        _products_cache.clear()
        _product_problems.clear()
        _product_errors.clear()
        _products_cache[key] = parsed
        _product_problems[key] = found
        _product_errors[key] = broken
    return parsed


def products() -> list[Product]:
    """The products a shopper can choose: built-ins and each shop product's latest version."""
    refresh()
    cat = current()
    return [p for p in _parsed_products().values() if not p.base_id or cat.latest.get(p.base_id) == p.id]


def product(product_id: str) -> Product | None:
    """A product by id. A shop product's own id names its latest version; "<id>@<n>" names
    exactly that version (what designs, proofs and approvals keep)."""
    parsed = _parsed_products()
    hit = parsed.get(product_id)
    if hit is None and _instance_path is not None and (_instance_path / PUBLISHED_DIR).is_dir():
        refresh()
        parsed = _parsed_products()
        hit = parsed.get(product_id)
    if hit is None:
        latest = current().latest.get(product_id)
        hit = parsed.get(latest) if latest else None
    if hit is None and product_id.endswith("@draft"):
        hit = _drafts.get(product_id)
    return hit


def variant_name(product_id: str, variant_id: str) -> str:
    """A design's variant by name ("Rose gold"); its id if the product no longer lists it, ""
    for none."""
    if not variant_id:
        return ""
    p = product(product_id)
    spec = p.variant_spec(variant_id) if p else None
    return spec.name if spec else variant_id


def design_name(product_id: str, variant_id: str = "") -> str:
    """What a design is called on pages and files: the product's name and its variant's."""
    p = product(product_id)
    name = p.name if p else product_id
    variant = variant_name(product_id, variant_id)
    return f"{name} · {variant}" if variant else name


_drafts: OrderedDict[str, Product] = OrderedDict()


def register_draft(p: Product) -> None:
    """Make an unpublished product ("<id>@draft") renderable in this process (the staff
    editor's live preview); the newest few are kept."""
    with _lock:
        _drafts[p.id] = p
        _drafts.move_to_end(p.id)
        while len(_drafts) > 8:
            _drafts.popitem(last=False)


def product_errors() -> tuple[str, ...]:
    """Product entries that cannot be used at all (each names its file and field): the app
    refuses to start with one, rather than show "Preview unavailable" to a shopper."""
    _parsed_products()
    return tuple(_product_errors.get(id(current()), ()))
