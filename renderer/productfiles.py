"""A product as a folder: `product.toml` (one `[product]` table, views as `[[product.views]]`)
and its photos beside it. `read` checks a folder completely (every error names the file and
the field); `dump_toml` writes the small TOML subset these files use.
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

from proofmark_renderer import catalog
from proofmark_renderer.photo import ProductFileError

PRODUCT_FILE = "product.toml"


def read(folder: str | Path, fonts: set[str] | None = None) -> tuple[dict, catalog.Product]:
    """The raw entry and the checked Product of a product folder. Fonts are checked against
    `fonts` (default: the current font catalog)."""
    folder = Path(folder)
    file = folder / PRODUCT_FILE
    if not file.is_file():
        raise ProductFileError(file, "-", "there is no product.toml in the folder")
    try:
        with file.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ProductFileError(file, "-", f"not valid TOML ({exc})") from exc
    raw = data.get("product")
    if not isinstance(raw, dict):
        raise ProductFileError(file, "product", "the file needs one [product] table")
    raw = dict(raw)
    raw.setdefault("view", "photo")
    if raw["view"] != "photo":
        raise ProductFileError(
            file, "product.view", f"a product folder is a photo product, not {raw['view']!r}"
        )
    pid = str(raw.get("id", ""))
    if not pid or not all(c.isalnum() or c == "-" for c in pid) or not pid[0].isalnum() or len(pid) > 60:
        raise ProductFileError(
            file, "product.id", f"{pid!r} must be letters, digits and hyphens (at most 60)"
        )
    product = catalog.Product.from_toml(raw | {"_dir": str(folder)}, str(file))
    known = fonts if fonts is not None else {f.id for f in catalog.fonts()}
    for i, font in enumerate(product.allowed_fonts):
        if font not in known:
            raise ProductFileError(file, f"product.allowed_fonts[{i}]", f"unknown font {font!r}")
    return raw, product


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError("TOML numbers here must be finite")
        return repr(round(v, 4))
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _key(k: str) -> str:
    return k if k and all(c.isalnum() or c in "-_" for c in k) else json.dumps(k)


def dump_toml(data: dict) -> str:
    """`{"product": {...}}` -> TOML: scalars and inline tables in [product], lists of
    tables (views, fields) as [[product.<name>]]."""
    out = []
    for table, body in data.items():
        out.append(f"[{_key(table)}]")
        arrays = {}
        for k, v in body.items():
            if k.startswith("_"):
                continue
            if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                arrays[k] = v
            else:
                out.append(f"{_key(k)} = {_value(v)}")
        for k, items in arrays.items():
            for item in items:
                out.append("")
                out.append(f"[[{_key(table)}.{_key(k)}]]")
                out += [f"{_key(ik)} = {_value(iv)}" for ik, iv in item.items()]
    return "\n".join(out) + "\n"
