"""The font picker's stylesheet: each catalog font's name drawn in that font.

A shopper on a phone should not download a dozen whole font families (3 MB for the
pendant) to see a list of names, so each @font-face points at a subset holding only the
glyphs of the font's sample text (a few kilobytes), made once per process with fontTools.
"""

from __future__ import annotations

import hashlib
import io
import threading
from functools import lru_cache

from flask import Blueprint, Response, abort, request
from fontTools import subset
from fontTools.ttLib import TTFont

from proofmark.personalizer.state import font_sample
from proofmark_renderer import catalog

bp = Blueprint("personalize_fonts", __name__)

GENERIC = {
    "script": "cursive",
    "serif": "serif",
    "sans": "sans-serif",
    "typewriter": "monospace",
    "fallback": "sans-serif",
}
_lock = threading.Lock()


@lru_cache(maxsize=128)
def _subset(path: str, text: str) -> bytes:
    options = subset.Options()
    options.layout_features = ["*"]  # keep kerning and the script fonts' joining forms
    options.name_IDs = ["*"]
    options.notdef_outline = True
    with TTFont(path, lazy=False) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(font)
        out = io.BytesIO()
        font.save(out)
        return out.getvalue()


def sample_font_bytes(font_id: str) -> bytes | None:
    font = catalog.font(font_id)
    if font is None:
        return None
    with _lock:
        return _subset(str(font.path), font_sample(font))


def family(font_id: str) -> str:
    return f"pm-{font_id}"


def stylesheet() -> str:
    from flask import url_for

    rules = []
    for font in catalog.fonts():
        src = url_for("personalize_fonts.sample", font_id=font.id, v=_sample_version(font.id))
        rules.append(
            f'@font-face {{ font-family: "{family(font.id)}"; src: url("{src}") format("truetype"); '
            "font-display: swap; }\n"
            f'.fs-{font.id} {{ font-family: "{family(font.id)}", {GENERIC.get(font.group, "serif")}; }}\n'
        )
    return "".join(rules)


def _sample_version(font_id: str) -> str:
    font = catalog.font(font_id)
    if font is None:
        return "0"
    blob = f"{font.path}|{font.path.stat().st_mtime_ns}|{font_sample(font)}".encode()
    return hashlib.sha256(blob).hexdigest()[:12]


@bp.get("/personalize/fonts.css")
def fonts_css():
    css = stylesheet()
    etag = hashlib.sha256(css.encode()).hexdigest()[:16]
    response = Response(css, mimetype="text/css")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response.make_conditional(request)


@bp.get("/personalize/font-sample/<font_id>.ttf")
def sample(font_id: str):
    data = sample_font_bytes(font_id)
    if data is None:
        abort(404)
    response = Response(data, mimetype="font/ttf")
    # The URL carries a version of the file and the sample, so it can be kept.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
