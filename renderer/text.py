"""Text as a person sees it and as a font draws it: graphemes, scripts, shaping and metrics.

Fonts are loaded once per (font, pixel size); measurements are taken once per
(font, text) at a large reference size and scaled, which is exact up to hinting.
"""

from __future__ import annotations

import struct
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import regex
from fontTools.ttLib import TTFont
from PIL import ImageFont, features

from proofmark_renderer.catalog import Font

REFERENCE_EM_PX = 256
_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")
# Invisible characters that shaping needs (joiners, direction marks); every other
# format character is refused rather than silently dropped.
ALLOWED_FORMAT = frozenset("\u200c\u200d\u200e\u200f\u061c")


def raqm_available() -> bool:
    return bool(features.check("raqm"))


def layout_engine() -> int:
    return ImageFont.Layout.RAQM if raqm_available() else ImageFont.Layout.BASIC


def graphemes(text: str) -> list[str]:
    return _GRAPHEME.findall(text)


def grapheme_count(text: str) -> int:
    return len(graphemes(text))


def emoji_in(text: str) -> list[str]:
    """Graphemes that are emoji (a family emoji is one)."""
    return [g for g in graphemes(text) if _EMOJI.search(g)]


def is_rtl(text: str) -> bool:
    """Base direction from the first strong character (the Unicode bidi rule P2)."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def unsupported_chars(text: str) -> list[str]:
    """Controls, unassigned, private-use, surrogates and stray format characters."""
    bad = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp") or (cat == "Cf" and ch not in ALLOWED_FORMAT):
            bad.append(ch)
    return bad


def drawable(ch: str) -> bool:
    """Whether the font needs a glyph for this code point (joiners and marks of direction don't)."""
    return ch not in ALLOWED_FORMAT and not ("\ufe00" <= ch <= "\ufe0f") and ch not in " \u00a0"


def missing_chars(font: Font, text: str) -> list[str]:
    seen: list[str] = []
    cmap = font.cmap
    for ch in text:
        if drawable(ch) and ord(ch) not in cmap and ch not in seen:
            seen.append(ch)
    return seen


# --- fonts and metrics -------------------------------------------------------------------

_font_lock = threading.Lock()
_fonts: OrderedDict[tuple[str, float, int], ImageFont.FreeTypeFont] = OrderedDict()
_FONT_CACHE_SIZE = 256


def pil_font(font: Font, size_px: float) -> ImageFont.FreeTypeFont:
    """A cached FreeType face; sizes are quantised to 1/8 px so typing reuses faces. The face
    reads the font without its overlap flags (see `without_overlap_flags`)."""
    size = max(1.0, round(size_px * 8) / 8)
    key = (str(font.path), size, layout_engine())
    with _font_lock:
        face = _fonts.get(key)
        if face is not None:
            _fonts.move_to_end(key)
            return face
    face = ImageFont.truetype(_face_source(key[0]), size, layout_engine=key[2])
    with _font_lock:
        _fonts[key] = face
        while len(_fonts) > _FONT_CACHE_SIZE:
            _fonts.popitem(last=False)
    return face


class _SharedBytes:
    """A font's bytes handed to Pillow, which keeps what read() returns: every face of the
    font then shares one copy instead of holding its own."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, *_args) -> bytes:
        return self.data


@lru_cache(maxsize=64)
def _face_source(path: str) -> str | _SharedBytes:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        patched = without_overlap_flags(data)
    except (OSError, ValueError, IndexError, struct.error):
        return path
    return path if patched is None else _SharedBytes(patched)


def without_overlap_flags(data: bytes) -> bytes | None:
    """The TrueType font `data` with every glyph's OVERLAP_SIMPLE / OVERLAP_COMPOUND flag
    cleared, or None when it has none (or no glyf table).

    Fonts made from variable masters (Playfair Display, Montserrat, EB Garamond, Dancing
    Script, Noto Sans here) set the flag on every glyph, whether its contours overlap or
    not, and FreeType then renders the glyph 4 x 4 oversampled: three to four times the
    time of a plain render. Without it, the nonzero fill still fills overlapping contours
    whole; only the odd edge pixel where two contours' outlines cross differs, by a few
    levels of coverage (a few pixels per line, at most about 50 of 255 on a 100-px em).
    The outlines, metrics and shaping are untouched."""
    if data[:4] not in (b"\x00\x01\x00\x00", b"true"):
        return None
    tables = {}
    for i in range(struct.unpack_from(">H", data, 4)[0]):
        tag, _, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        tables[tag] = (offset, length)
    if not {b"glyf", b"loca", b"head", b"maxp"} <= tables.keys():
        return None
    long_loca = struct.unpack_from(">h", data, tables[b"head"][0] + 50)[0] == 1
    count = struct.unpack_from(">H", data, tables[b"maxp"][0] + 4)[0]
    loca_at, glyf_at = tables[b"loca"][0], tables[b"glyf"][0]
    if long_loca:
        loca = struct.unpack_from(f">{count + 1}I", data, loca_at)
    else:
        loca = [2 * v for v in struct.unpack_from(f">{count + 1}H", data, loca_at)]
    out = bytearray(data)
    changed = False
    for i in range(count):
        if loca[i + 1] <= loca[i]:
            continue
        at = glyf_at + loca[i]
        contours = struct.unpack_from(">h", data, at)[0]
        if contours > 0:
            code_len = struct.unpack_from(">H", data, at + 10 + 2 * contours)[0]
            flag_at = at + 12 + 2 * contours + code_len
            if out[flag_at] & 0x40:
                out[flag_at] &= ~0x40 & 0xFF
                changed = True
        elif contours < 0:
            at += 10
            while True:
                flags = struct.unpack_from(">H", data, at)[0]
                if flags & 0x400:
                    struct.pack_into(">H", out, at, flags & ~0x400)
                    changed = True
                at += 4 + (4 if flags & 0x1 else 2)
                at += 2 if flags & 0x8 else 4 if flags & 0x40 else 8 if flags & 0x80 else 0
                if not flags & 0x20:
                    break
    return bytes(out) if changed else None


@dataclass(frozen=True)
class FontMetrics:
    cap: float  # cap height / em
    ascent: float  # / em
    descent: float  # / em, positive


@lru_cache(maxsize=64)
def _metrics(path: str) -> FontMetrics:
    with TTFont(path, lazy=True) as ttf:
        upem = ttf["head"].unitsPerEm
        os2 = ttf.get("OS/2", None)
        hhea = ttf["hhea"]
        cap = getattr(os2, "sCapHeight", 0) if os2 is not None and os2.version >= 2 else 0
        asc, desc = hhea.ascent, -hhea.descent
        cmap = ttf.getBestCmap() or {}
    face = ImageFont.truetype(path, REFERENCE_EM_PX)
    if ord("H") in cmap:
        # Measured ink beats the OS/2 field, which some script fonts fill in loosely.
        _, top, _, bottom = face.getbbox("H", anchor="ls")
        cap = (bottom - top) / REFERENCE_EM_PX * upem
    if not cap:
        cap = 0.7 * upem
    return FontMetrics(cap=cap / upem, ascent=asc / upem, descent=desc / upem)


def metrics(font: Font) -> FontMetrics:
    return _metrics(str(font.path))


@dataclass(frozen=True)
class Extent:
    """A line's ink extent per 1 mm of letter (cap) height, relative to the pen origin."""

    left: float
    right: float
    top: float  # above the baseline, positive
    bottom: float  # below the baseline, positive

    @property
    def width(self) -> float:
        return self.right - self.left


@lru_cache(maxsize=4096)
def _shaped_extent(path: str, text: str, engine: int) -> tuple[float, float, float, float]:
    face = pil_font_by_path(path, REFERENCE_EM_PX, engine)
    left, top, right, bottom = face.getbbox(text, anchor="ls")
    advance = face.getlength(text)
    # The advance counts too: a trailing space or a narrow swash still takes its room.
    return min(left, 0.0), max(right, advance), -top, bottom


@lru_cache(maxsize=64)
def pil_font_by_path(path: str, size: int, engine: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, layout_engine=engine)


def shaped_extent(font: Font, text: str) -> Extent:
    if not text:
        return Extent(0.0, 0.0, 0.0, 0.0)
    left, right, top, bottom = _shaped_extent(str(font.path), text, layout_engine())
    per_mm = 1.0 / (metrics(font).cap * REFERENCE_EM_PX)
    return Extent(left * per_mm, right * per_mm, top * per_mm, bottom * per_mm)


# Steel punches are struck one at a time: no kerning, no ligatures, fixed gaps.
STAMP_TRACKING = 0.08  # of the letter height


@lru_cache(maxsize=4096)
def _advance(path: str, cluster: str) -> float:
    face = pil_font_by_path(path, REFERENCE_EM_PX, ImageFont.Layout.BASIC)
    return face.getlength(cluster)


def stamp_advances(font: Font, text: str) -> list[tuple[str, float]]:
    """Each grapheme with its advance in mm per mm of letter height, in visual order."""
    per_mm = 1.0 / (metrics(font).cap * REFERENCE_EM_PX)
    clusters = graphemes(text)
    if is_rtl(text):
        clusters.reverse()
    out = []
    for g in clusters:
        adv = _advance(str(font.path), g) * per_mm
        out.append((g, adv + (STAMP_TRACKING if g.strip() else 0.0)))
    return out


def stamped_extent(font: Font, text: str) -> Extent:
    width = sum(a for _, a in stamp_advances(font, text)) - (STAMP_TRACKING if text.strip() else 0.0)
    return Extent(0.0, max(width, 0.0), 1.0, 0.25)
