"""The font and product catalogs: data files read once, checked, and cached.

Pure Python (no Flask). The app calls `configure(instance_path)` at start-up so
that a shop's own fonts and product overrides in its instance folder are used.
"""
from __future__ import annotations

import threading
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from fontTools.ttLib import TTFont
from fontTools.unicodedata import block

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FONT_CATALOG = PROJECT_ROOT / "fonts" / "catalog.toml"
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


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: {exc}") from exc


def _resolve_font_file(spec: str, instance_path: Path | None) -> Path:
    if spec.startswith("instance:"):
        base = instance_path or PROJECT_ROOT / "instance"
        return base / spec.removeprefix("instance:")
    path = Path(spec)
    return path if path.is_absolute() else PROJECT_ROOT / path


def load(instance_path: str | Path | None = None) -> Catalog:
    """Read the font catalog (plus `instance/fonts.toml`) and the product catalog
    (replaced by `instance/products.toml` when that exists)."""
    instance = Path(instance_path) if instance_path else None
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
        path = _resolve_font_file(entry["file"], instance)
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
        products = {p["id"]: p for p in _read_toml(product_file).get("product", [])}
    return Catalog(fonts=fonts, products=products, problems=tuple(problems))


_lock = threading.Lock()
_current: Catalog | None = None
_instance_path: Path | None = None


def configure(instance_path: str | Path | None) -> Catalog:
    """Load the catalogs for an instance folder and make them the current ones."""
    global _current, _instance_path
    with _lock:
        _instance_path = Path(instance_path) if instance_path else None
        _current = load(_instance_path)
        return _current


def current() -> Catalog:
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                _current = load(_instance_path)
    return _current


def fonts() -> list[Font]:
    return list(current().fonts.values())


def font(font_id: str) -> Font | None:
    return current().fonts.get(font_id)


def problems() -> tuple[str, ...]:
    return current().problems
