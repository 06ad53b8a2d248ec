"""The ring's inside wall: a ColumnWarp whose reads down the columns are worked out once.

The ring's band is seen at one tilt, so every column of the picture reads its column of the
text with the same vertical step; only the start differs (the wall curves away). Which two
canvas rows each picture pixel reads, and with what weights (the visibility folded in), are
therefore the same for every text: `TabledColumnWarp` keeps them per scene, so a render does
the two gathers and a weighted sum instead of working the rows, weights and visibility out
again (about a third of the array passes). The result equals ColumnWarp.apply's within a
level (float rounding order). Kept apart from warp.py (the mug's ColumnWarp) on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from proofmark_renderer.warp import ColumnWarp

TABLE_MAX_PIXELS = 400_000  # box pixels: 2.8 MB of tables at 1200 px (232,000 px), 4.8 MB here


@dataclass(frozen=True, eq=False)
class TabledColumnWarp(ColumnWarp):
    """A ColumnWarp with its per-pixel reads for a full-size canvas (canvas_scale 1) in
    tables over the box; other scales fall back to ColumnWarp.apply."""

    left: np.ndarray | None = None  # intp per box column: the canvas column to its left
    right: np.ndarray | None = None  # intp per box column: the one to its right
    w_left: np.ndarray | None = None  # float32 per box column: weight of `left` (0 outside)
    w_right: np.ndarray | None = None  # float32 per box column: weight of `right`
    index: np.ndarray | None = None  # int32 (rows, columns): flat index of the upper row read
    w_top: np.ndarray | None = None  # float32 (rows, columns): its weight, visibility folded in
    w_bottom: np.ndarray | None = None  # float32 (rows, columns): the next row's weight

    def apply(
        self,
        canvas: Image.Image,
        x_range: tuple[float, float] | None = None,
        canvas_scale: float = 1.0,
        y_range: tuple[float, float] | None = None,
    ) -> Image.Image:
        if canvas_scale != 1.0 or canvas.size != self.canvas_size or self.index is None:
            return super().apply(canvas, x_range, canvas_scale, y_range)
        x0, y0, x1, y1 = self.box
        width, height = x1 - x0, y1 - y0
        out = np.zeros((height, width), np.uint8)
        ink = canvas.getbbox()  # the text's own rows and columns, tighter than the ranges
        if ink is None:
            return Image.fromarray(out)
        lo, hi = ink[0], ink[2]
        if x_range is not None:
            lo, hi = max(lo, x_range[0]), min(hi, x_range[1])
        take = self.ok & (self.u >= lo - 2) & (self.u <= hi + 2)
        cols = np.flatnonzero(take)
        if not len(cols):
            return Image.fromarray(out)
        c0, c1 = int(cols[0]), int(cols[-1]) + 1
        cw_, ch = self.canvas_size
        r0, r1 = max(0, ink[1] - 1), min(ch, ink[3] + 1)
        # Across: the ink's canvas rows, each picture column's canvas column interpolated
        # between its two neighbours, into a zero-padded copy (row 0 and rows past the
        # canvas are 0, as in ColumnWarp).
        src = np.asarray(canvas)[r0:r1]
        columns = np.zeros((ch + 3, width), np.float32)
        part = columns[1 + r0 : 1 + r1, c0:c1]
        np.multiply(src[:, self.left[c0:c1]], self.w_left[c0:c1], out=part)
        part += src[:, self.right[c0:c1]] * self.w_right[c0:c1]
        # Down: only the picture rows that can read an ink row.
        vt, dv = self.v_top[c0:c1], self.v_step[c0:c1]
        j0 = max(0, int(np.floor(np.min((r0 - 2 - vt) / dv))))
        j1 = min(height, int(np.ceil(np.max((r1 + 2 - vt) / dv))) + 1)
        if j1 <= j0:
            return Image.fromarray(out)
        flat = columns.ravel()
        index = self.index[j0:j1, c0:c1]
        block = flat.take(index)
        block *= self.w_top[j0:j1, c0:c1]
        below = flat[width:].take(index)
        below *= self.w_bottom[j0:j1, c0:c1]
        block += below
        block += 0.5
        out[j0:j1, c0:c1] = block  # weights sum to at most 1: within 0..255.5
        return Image.fromarray(out)


def tabled(warp: ColumnWarp) -> TabledColumnWarp:
    """`warp` with its reads tabulated; a warp whose rows do not all move down (v_step <= 0
    somewhere) or whose box is larger than TABLE_MAX_PIXELS is returned as it is."""
    if not bool(np.all(warp.v_step > 0)):
        return warp
    if (warp.box[2] - warp.box[0]) * (warp.box[3] - warp.box[1]) > TABLE_MAX_PIXELS:
        return warp  # 12 bytes a box pixel: large proofs (1600 px and up) keep the plain warp
    x0, y0, x1, y1 = warp.box
    width, height = x1 - x0, y1 - y0
    cw, ch = warp.canvas_size
    uu = warp.u - 0.5
    iu = np.floor(uu)
    fu = (uu - iu).astype(np.float32)
    iu = iu.astype(np.intp)
    inside = ((iu >= -1) & (iu < cw)).astype(np.float32)
    w_left = (np.where(iu >= 0, 1 - fu, 0) * inside).astype(np.float32)
    w_right = (np.where(iu + 1 < cw, fu, 0) * inside).astype(np.float32)
    rows = np.arange(height, dtype=np.float32)[:, None]
    vv = (warp.v_top - 0.5 + 1)[None, :] + warp.v_step[None, :] * rows  # +1: the zero row above
    np.clip(vv, 0, ch + 1, out=vv)
    iv = vv.astype(np.int32)
    fv = vv - iv
    seen = np.broadcast_to(warp.ok[None, :].astype(np.float32), (height, width))
    if warp.visible is not None:
        seen = seen * (warp.visible.astype(np.float32) * np.float32(1 / 255))
    index = iv * np.int32(width) + np.arange(width, dtype=np.int32)[None, :]
    return TabledColumnWarp(
        warp.canvas_size,
        warp.box,
        warp.u,
        warp.v_top,
        warp.v_step,
        warp.ok,
        warp.visible,
        np.clip(iu, 0, cw - 1),
        np.clip(iu + 1, 0, cw - 1),
        w_left,
        w_right,
        index.astype(np.int32),
        ((1 - fv) * seen).astype(np.float32),
        (fv * seen).astype(np.float32),
    )
