"""Glyph ids and positions of a line, shaped as the preview shapes it.

Pillow draws the preview through Raqm: FriBiDi splits the line into runs of one direction
and script, HarfBuzz shapes each run with the font's default features, and the runs are
put in visual order. Pillow does not hand out those glyph positions, so the same steps are
taken here with HarfBuzz (uharfbuzz) on the same font file, and the bidi levels come from
the Unicode Bidirectional Algorithm (python-bidi). The fidelity check
(proofmark_renderer.production.fidelity) proves the result draws the preview's pixels.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import uharfbuzz as hb
from bidi import algorithm as uba
from fontTools.unicodedata import script as script_of

_COMMON = ("Zyyy", "Zinh", "Zzzz")


@dataclass(frozen=True)
class Glyph:
    gid: int
    x: float  # pen position plus offset, font units, from the line's visual left end
    y: float  # font units, up


@dataclass(frozen=True)
class ShapedLine:
    glyphs: tuple[Glyph, ...]
    advance: float  # font units
    upem: int


_lock = threading.Lock()


@lru_cache(maxsize=64)
def _hb_font(path: str) -> tuple[hb.Font, int]:
    face = hb.Face(hb.Blob.from_file_path(path))
    return hb.Font(face), face.upem


def _levels(text: str) -> list[int]:
    """The resolved bidi level of each code point (rules P2-P3, X1-X10, W1-W7, N1-N2, I1-I2, L1)."""
    storage = uba.get_empty_storage()
    base = uba.get_base_level(text)
    storage["base_level"] = base
    storage["base_dir"] = ("L", "R")[base]
    uba.get_embedding_levels(text, storage, False, False)
    uba.explicit_embed_and_overrides(storage, False)
    uba.resolve_weak_types(storage, False)
    uba.resolve_neutral_types(storage, False)
    uba.resolve_implicit_levels(storage, False)
    resolved = storage["chars"]
    levels: list[int] = []
    j = 0
    for ch in text:
        # Characters that rule X9 removed (joiners) take their neighbour's level.
        if j < len(resolved) and resolved[j]["ch"] == ch:
            levels.append(resolved[j]["level"])
            j += 1
        else:
            levels.append(levels[-1] if levels else base)
    # L1: whitespace at the end of the line goes back to the paragraph level.
    for i in range(len(text) - 1, -1, -1):
        if text[i].isspace():
            levels[i] = base
        else:
            break
    return levels


def _scripts(text: str) -> list[str]:
    """Each code point's script; common and inherited ones take their neighbours' (as Raqm does)."""
    raw = [script_of(ch) for ch in text]
    out: list[str] = []
    last = None
    for s in raw:
        if s not in _COMMON:
            last = s
        out.append(last or "")
    first = next((s for s in raw if s not in _COMMON), "Zyyy")
    return [s or first for s in out]


def _runs(text: str) -> list[tuple[int, int, int, str]]:
    """(start, end, level, script) in logical order."""
    levels, scripts = _levels(text), _scripts(text)
    runs: list[tuple[int, int, int, str]] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or levels[i] != levels[start] or scripts[i] != scripts[start]:
            runs.append((start, i, levels[start], scripts[start]))
            start = i
    return runs


def _visual(runs: list[tuple[int, int, int, str]]) -> list[tuple[int, int, int, str]]:
    """Rule L2: reverse every maximal sequence at or above each level, highest level first."""
    order = list(runs)
    if not order:
        return order
    highest = max(r[2] for r in order)
    odd = [r[2] for r in order if r[2] % 2]
    lowest_odd = min(odd) if odd else highest + 1
    for level in range(highest, lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if order[i][2] >= level:
                j = i
                while j < len(order) and order[j][2] >= level:
                    j += 1
                order[i:j] = order[i:j][::-1]
                i = j
            else:
                i += 1
    return order


@lru_cache(maxsize=4096)
def shape(path: str, text: str) -> ShapedLine:
    font, upem = _hb_font(path)
    codepoints = [ord(c) for c in text]
    glyphs: list[Glyph] = []
    pen = 0.0
    for start, end, level, script in _visual(_runs(text)):
        buf = hb.Buffer()
        # The whole line is context, so Arabic letters join across a run boundary as in Raqm.
        buf.add_codepoints(codepoints, start, end - start)
        buf.direction = "rtl" if level % 2 else "ltr"
        if script and script not in _COMMON:
            buf.script = script
        buf.guess_segment_properties()
        with _lock:
            hb.shape(font, buf)
        for info, pos in zip(buf.glyph_infos, buf.glyph_positions, strict=True):
            glyphs.append(Glyph(info.codepoint, pen + pos.x_offset, float(pos.y_offset)))
            pen += pos.x_advance
    return ShapedLine(tuple(glyphs), pen, upem)
