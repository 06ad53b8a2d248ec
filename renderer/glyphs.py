"""Lines of text drawn from cached glyph bitmaps, pixel for pixel as Pillow draws them.

Pillow (13, with Raqm) draws a line like this: HarfBuzz shapes it on a FreeType face (glyph
advances unhinted, in 1/64 px); each glyph is rendered by FreeType, hinted, with its origin
on a whole pixel (the pen's 26.6 position, plus the 1/64-px rounded fraction of the start
point, rounded to the pixel); the glyphs are laid over one another ("over" compositing,
a + b - ab/255, rounded) into the line's mask; and the mask is blended onto the picture
with the fill. A glyph's bitmap therefore depends only on (font, size, glyph), never on
where it stands, and can be kept.

Here the same steps are taken with those pieces kept apart:

- the line is shaped with uharfbuzz on the same font bytes, at the scale HarfBuzz's
  FreeType functions use (FreeType's x_scale for the face's size), with FreeType's unhinted
  advances (its arithmetic, done here) instead of HarfBuzz's own, so every position is the
  one Raqm gives Pillow;
- each glyph is rendered once by Pillow itself, through a second face of the same font whose
  character map also maps U+F0000 + glyph id to every glyph (so ligatures and contextual
  forms, which no character reaches, can be drawn by id), and kept in a bounded LRU;
- the line's mask and its blend onto the picture are done as Pillow does them.

tests/renderer/test_glyph_cache.py checks the result against `ImageDraw.text` pixel for
pixel over every catalog font, sizes and fractional positions. Lines this cannot reproduce
(right-to-left or mixed direction, more than one script, combining marks, joiners, emoji,
variation selectors) return False and the caller draws them the usual way.

Nothing here is keyed by a line's text: the cache holds single glyphs, which a shopper's
next text reuses; shaping is done for every line drawn.
"""

from __future__ import annotations

import io
import math
import threading
import unicodedata
from collections import OrderedDict
from functools import lru_cache

import numpy as np
import uharfbuzz as hb
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable
from fontTools.unicodedata import script as script_of
from PIL import Image, ImageDraw, ImageFont

from proofmark_renderer import text as textmod

PUA = 0xF0000  # supplementary private use area A: U+F0000 + glyph id draws that glyph
MAX_GLYPHS = 0xFFFE  # ids past this do not fit the area
# The cache of glyph bitmaps: at most this many bytes of pixels and this many entries. Flat
# surfaces draw letters at full size (compose._text_layers), so a glyph is 1-50 KB in a 1200-px
# preview and up to about 200 KB in a 2400-px proof (Great Vibes "K" on the maple sign); 48 MB
# keeps a few proofs from pushing the previews' glyphs out.
CACHE_BYTES = 48 * 1024 * 1024
CACHE_ENTRIES = 20_000

_COMMON = ("Zyyy", "Zinh", "Zzzz")
# Bidi classes of a line that stays left to right at level 0 (no R, AL, AN, no explicit
# embeddings, overrides, isolates or marks of direction).
_LTR_CLASSES = frozenset(("L", "EN", "ES", "ET", "CS", "ON", "WS", "S", "B", "BN"))


def _divfix(a: int, b: int) -> int:
    """FreeType's FT_DivFix for a >= 0, b > 0: a / b in 16.16, rounded."""
    return (a * 65536 + b // 2) // b


def _muldiv(a: int, b: int, c: int) -> int:
    """FreeType's FT_MulDiv (rounded, sign of the product)."""
    sign = -1 if (a < 0) != (b < 0) else 1
    return sign * ((abs(a) * abs(b) + c // 2) // c)


def _font_bytes(path: str) -> bytes:
    """The bytes `text.pil_font` gives FreeType (without the overlap flags when it has them)."""
    source = textmod._face_source(path)
    if isinstance(source, textmod._SharedBytes):
        return source.data
    with open(path, "rb") as fh:
        return fh.read()


@lru_cache(maxsize=64)
def _glyph_face_bytes(path: str) -> textmod._SharedBytes | None:
    """The font (as `text.pil_font` reads it) with a Unicode character map that also maps
    U+F0000 + id to each glyph, or None when that cannot be made."""
    try:
        font = TTFont(io.BytesIO(_font_bytes(path)), lazy=True)
        order = font.getGlyphOrder()
        if len(order) > MAX_GLYPHS:
            return None
        mapping = dict(font.getBestCmap() or {})
        mapping.update((PUA + gid, name) for gid, name in enumerate(order))
        table = CmapSubtable.newSubtable(12)
        table.platformID, table.platEncID, table.language = 3, 10, 0
        table.cmap = mapping
        cmap = font["cmap"]
        # FreeType picks a full-repertoire Unicode map first: make this the only one.
        cmap.tables = [
            t for t in cmap.tables if (t.platformID, t.platEncID) not in ((3, 10), (0, 4), (0, 6))
        ] + [table]
        out = io.BytesIO()
        font.save(out)
        return textmod._SharedBytes(out.getvalue())
    except Exception:  # noqa: BLE001 - any font this cannot rewrite is drawn the usual way
        return None


def prepare(fonts) -> None:
    """Make the glyph faces of `fonts` now (10-130 ms each, once per process; about 0.5 s for
    the catalogue), so that no shopper's preview waits for one."""
    for font in fonts:
        _glyph_face_bytes(str(font.path))


class _LineFont:
    """One font at one size: the shaper and the face that renders glyphs by id."""

    def __init__(self, path: str, size: float, data: bytes, glyph_data: textmod._SharedBytes) -> None:
        self.key = (path, size)
        face = hb.Face(data)
        upem = face.upem
        # Pillow sets the size with FT_Set_Char_Size(size * 64) at 72 dpi; FreeType's scale
        # from font units to 1/64 px is then x_scale (16.16), and HarfBuzz's FreeType
        # functions set the font's scale from it.
        x_scale = _divfix(int(size * 64), upem)
        scale = (x_scale * upem + (1 << 15)) >> 16
        units = hb.Font(face)  # scale = upem: advances in font units
        parent = hb.Font(face)
        parent.scale = (scale, scale)
        self.font = hb.Font(parent)  # a sub-font: everything but the advances from the parent
        advances: dict[int, int] = {}

        def advance(_font, gid: int, _data) -> int:
            # FT_Get_Advance without hinting: FT_MulDiv(units, x_scale, 64) in 16.16,
            # which HarfBuzz rounds to 26.6.
            value = advances.get(gid)
            if value is None:
                value = (_muldiv(units.get_glyph_h_advance(gid), x_scale, 64) + 512) >> 10
                advances[gid] = value
            return value

        funcs = hb.FontFuncs()
        funcs.set_glyph_h_advance_func(advance, None)
        self.font.funcs = funcs
        self.glyph_count = face.glyph_count
        # Every size of the font shares `glyph_data` (see text._SharedBytes).
        self.face = ImageFont.truetype(glyph_data, size, layout_engine=ImageFont.Layout.BASIC)
        self.lock = threading.Lock()

    def shape(self, text: str, script: str) -> list[tuple[int, int, int]]:
        buf = hb.Buffer()
        buf.add_str(text)
        buf.direction = "ltr"
        if script:
            buf.script = script
        buf.guess_segment_properties()
        with self.lock:
            hb.shape(self.font, buf)
        out = []
        pen = 0
        for info, pos in zip(buf.glyph_infos, buf.glyph_positions, strict=True):
            out.append((info.codepoint, pen + pos.x_offset, pos.y_offset))
            pen += pos.x_advance
        return out

    def render(self, gid: int) -> tuple[np.ndarray, int, int] | None:
        """The glyph's coverage and where its top-left sits from the pen (whole pixels):
        the mask and offset `ImageDraw.text` itself gets from `getmask2`."""
        with self.lock:
            core, (left, top) = self.face.getmask2(chr(PUA + gid), "L", anchor="ls")
        if core.size[0] == 0 or core.size[1] == 0:
            return None
        return np.array(Image.Image()._new(core)), left, top


_fonts_lock = threading.Lock()
_fonts: OrderedDict[tuple[str, float], _LineFont | None] = OrderedDict()
_FONTS = 64
# (font, size) pairs drawn once so far. A size is drawn from the cache from its second line
# on: its glyphs rendered one by one cost 1.3-2 times the whole line drawn by Pillow, which
# pays only when the size comes back (a shopper typing in a line whose size stays; a line
# that shrinks with every letter is drawn by Pillow, at today's cost).
_seen: OrderedDict[tuple[str, float], None] = OrderedDict()
_SEEN = 1024

_cache_lock = threading.Lock()
_cache: OrderedDict[tuple[str, float, int], tuple[np.ndarray, int, int] | None] = OrderedDict()
_cache_bytes = 0
stats = {"hits": 0, "misses": 0}


def _line_font(path: str, size: float, first_time_none: bool = False) -> _LineFont | None:
    """The shaper and glyph face for `path` at `size`; with `first_time_none`, None the first
    time the pair is asked for (see `_seen`)."""
    key = (path, size)
    with _fonts_lock:
        if key in _fonts:
            _fonts.move_to_end(key)
            return _fonts[key]
        if first_time_none and key not in _seen:
            _seen[key] = None
            while len(_seen) > _SEEN:
                _seen.popitem(last=False)
            return None
    glyph_data = _glyph_face_bytes(path)
    made = None
    if glyph_data is not None:
        made = _LineFont(path, size, _font_bytes(path), glyph_data)
    with _fonts_lock:
        _fonts[key] = made
        while len(_fonts) > _FONTS:
            _fonts.popitem(last=False)
    return made


def _glyph(lf: _LineFont, gid: int) -> tuple[np.ndarray, int, int] | None:
    global _cache_bytes
    key = (lf.key[0], lf.key[1], gid)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            stats["hits"] += 1
            return _cache[key]
    made = lf.render(gid)
    size = 64 + (made[0].nbytes if made is not None else 0)
    with _cache_lock:
        stats["misses"] += 1
        if key not in _cache:
            _cache[key] = made
            _cache_bytes += size
            while len(_cache) > CACHE_ENTRIES or _cache_bytes > CACHE_BYTES:
                _, old = _cache.popitem(last=False)
                _cache_bytes -= 64 + (old[0].nbytes if old is not None else 0)
    return made


def clear() -> None:
    global _cache_bytes
    with _fonts_lock:
        _fonts.clear()
        _seen.clear()
    with _cache_lock:
        _cache.clear()
        _cache_bytes = 0
        stats.update(hits=0, misses=0)


def cache_bytes() -> int:
    return _cache_bytes


@lru_cache(maxsize=4096)
def _char_script(ch: str) -> str | None:
    """A character's script ("" for common ones), or None for one this module leaves to
    Pillow: right to left, a mark, a joiner or other format character, an emoji."""
    if unicodedata.bidirectional(ch) not in _LTR_CLASSES:
        return None
    if unicodedata.category(ch) in ("Mn", "Mc", "Me", "Cc", "Cf", "Co", "Cs", "Cn") or textmod._EMOJI.match(
        ch
    ):
        return None
    s = script_of(ch)
    return "" if s in _COMMON else s


def line_script(text: str) -> str | None:
    """The one script of a left-to-right line this module can draw ("" for only common
    characters), or None when it must be drawn the usual way."""
    found = ""
    for ch in text:
        s = _char_script(ch)
        if s is None:
            return None
        if s:
            if found and s != found:
                return None
            found = s
    return found


def _pixel(v: int) -> int:
    """Pillow's PIXEL(): 26.6 to whole pixels, rounded."""
    return (v + 32) >> 6


def draw_line(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font, size_px: float) -> bool:
    """Draw `text` with its left end on the baseline at `xy` (anchor "ls"), filled with 255,
    exactly as `draw.text(xy, text, font=text.pil_font(font, size_px), fill=255, anchor="ls")`
    does. Returns False, drawing nothing, for a line it cannot reproduce."""
    x, y = xy
    if x < 0 or y < 0 or not text or not textmod.raqm_available():
        return False
    script = line_script(text)
    if script is None:
        return False
    size = max(1.0, round(size_px * 8) / 8)  # as text.pil_font
    lf = _line_font(str(font.path), size, first_time_none=True)
    if lf is None:
        return False
    shaped = lf.shape(text, script)
    ix, iy = int(x), int(y)
    sx = math.floor(math.modf(x)[0] * 64 + 0.5)
    sy = math.floor(math.modf(y)[0] * 64 + 0.5)
    parts = []
    for gid, gx, gy in shaped:
        if gid == 0 or gid >= lf.glyph_count:
            return False  # a missing glyph: Pillow draws the font's .notdef box its own way
        made = _glyph(lf, gid)
        if made is None:
            continue
        bitmap, left, top = made
        parts.append((ix + _pixel(sx + gx) + left, iy - _pixel(gy - sy) + top, bitmap))
    if not parts:
        return True
    x0 = min(p[0] for p in parts)
    y0 = min(p[1] for p in parts)
    x1 = max(p[0] + p[2].shape[1] for p in parts)
    y1 = max(p[1] + p[2].shape[0] for p in parts)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    placed: list[tuple[int, int, int, int]] = []  # the boxes of the glyphs laid so far
    for px, py, bitmap in parts:
        h, w = bitmap.shape
        gx0, gy0 = px - x0, py - y0
        gx1, gy1 = gx0 + w, gy0 + h
        # The columns where an earlier glyph's box meets this one's.
        lo, hi = gx1, gx0
        for a0, a1, b0, b1 in placed:
            if a0 < gx1 and a1 > gx0 and b0 < gy1 and b1 > gy0:
                lo, hi = min(lo, max(a0, gx0)), max(hi, min(a1, gx1))
        placed.append((gx0, gx1, gy0, gy1))
        region = mask[gy0:gy1, gx0:gx1]
        if hi <= lo:
            region[...] = bitmap
            continue
        # Pillow lays a glyph over the ones before it: a + b - ab / 255, rounded. Where
        # nothing is under it (a = 0) that is the glyph itself.
        c0, c1 = lo - gx0, hi - gx0
        inked = np.flatnonzero(region[:, c0:c1].any(axis=0))
        if not inked.size:
            region[...] = bitmap
            continue
        c0, c1 = c0 + int(inked[0]), c0 + int(inked[-1]) + 1
        region[:, :c0] = bitmap[:, :c0]
        region[:, c1:] = bitmap[:, c1:]
        under, over = region[:, c0:c1], bitmap[:, c0:c1]
        prod = under.astype(np.uint16) * over
        prod += 128
        prod += prod >> 8
        under += over  # modulo 256: the result below is back in 0..255
        under -= (prod >> 8).astype(np.uint8)
    picture = Image.frombuffer("L", (x1 - x0, y1 - y0), mask, "raw", "L", 0, 1)
    draw.bitmap((x0, y0), picture, fill=255)
    return True
