"""Bending flat text onto curved surfaces: an arc, a mug's cylinder, the inside of a ring,
a shirt's folds.

Each surface is an inverse map from output pixels to the flat ("unrolled") text canvas,
evaluated once per product and output size into bilinear gather indices and weights.
The pixels are sorted by where they read from along the text, so a render touches only
the pixels that can receive its text.

Cylinders (a mug, a ring) bend only across: each column of the picture reads one column
of the text, shifted and scaled. Narrow vertical strips, each an exact quad, let
Pillow's MESH transform do those in C (MeshWarp), which is cheaper still.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops

# ColumnWarp's fixed point: 1/256 px down the columns (also the weight of the blend between
# two rows), and the step per row summed at 1/2**24 px before rounding to that.
_FX = 8
_FINE = 24

# inverse(x, y) -> (u, v, valid): output pixel centres to canvas pixel coordinates.
Inverse = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


@dataclass(frozen=True, eq=False)
class Warp:
    canvas_size: tuple[int, int]  # the flat text canvas, in pixels
    box: tuple[int, int, int, int]  # where the bent text lands in the output image
    out_index: np.ndarray  # int32, flat index into the box, sorted by src_x
    src_x: np.ndarray  # float32, ascending
    i00: np.ndarray  # int32, flat index of the top-left source pixel
    weights: np.ndarray  # float32 (4, n): top-left, top-right, bottom-left, bottom-right

    def apply(self, canvas: Image.Image, x_range: tuple[float, float] | None = None) -> Image.Image:
        x0, y0, x1, y1 = self.box
        out = np.zeros((y1 - y0) * (x1 - x0), np.float32)
        lo, hi = 0, len(self.src_x)
        if x_range is not None:
            lo, hi = np.searchsorted(self.src_x, [x_range[0] - 2, x_range[1] + 2])
        if hi > lo:
            flat = np.asarray(canvas, np.float32).ravel()
            i = self.i00[lo:hi]
            cw = self.canvas_size[0]
            w = self.weights[:, lo:hi]
            out[self.out_index[lo:hi]] = (
                flat[i] * w[0] + flat[i + 1] * w[1] + flat[i + cw] * w[2] + flat[i + cw + 1] * w[3]
            )
        return Image.fromarray(out.reshape(y1 - y0, x1 - x0).astype(np.uint8))


def build(
    canvas_size: tuple[int, int],
    box: tuple[int, int, int, int],
    inverse: Inverse,
    visible: np.ndarray | None = None,
) -> Warp:
    """`visible` (0..1 over the box) fades out pixels that something in front hides."""
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    u, v, ok = inverse(xs, ys)
    cw, ch = canvas_size
    ok = ok & (u >= 0) & (v >= 0) & (u < cw - 1) & (v < ch - 1)
    if visible is not None:
        ok &= visible > 0.004
    flat_ok = np.flatnonzero(ok.ravel())
    u, v = u.ravel()[flat_ok], v.ravel()[flat_ok]
    order = np.argsort(u, kind="stable")
    flat_ok, u, v = flat_ok[order], u[order], v[order]
    iu, iv = np.floor(u).astype(np.int32), np.floor(v).astype(np.int32)
    fu, fv = (u - iu).astype(np.float32), (v - iv).astype(np.float32)
    weights = np.stack([(1 - fu) * (1 - fv), fu * (1 - fv), (1 - fu) * fv, fu * fv]).astype(np.float32)
    if visible is not None:
        weights *= visible.ravel()[flat_ok].astype(np.float32)
    return Warp(
        canvas_size=canvas_size,
        box=box,
        out_index=flat_ok.astype(np.int32),
        src_x=u.astype(np.float32),
        i00=(iv * cw + iu).astype(np.int32),
        weights=weights,
    )


@dataclass(frozen=True, eq=False)
class MeshWarp:
    canvas_size: tuple[int, int]
    box: tuple[int, int, int, int]
    quads: tuple  # ((x0, y0, x1, y1), (8 source coordinates)) relative to box
    src_lo: np.ndarray  # float32 per quad: smallest source x
    src_hi: np.ndarray  # float32 per quad: largest source x
    visible: Image.Image | None = None  # L over the box

    def apply(
        self,
        canvas: Image.Image,
        x_range: tuple[float, float] | None = None,
        canvas_scale: float = 1.0,
        y_range: tuple[float, float] | None = None,
    ) -> Image.Image:
        """`canvas_scale` < 1 when the text was rasterised on a smaller canvas; the ranges
        (canvas pixels at full scale) say where the text is, so only those parts are bent."""
        x0, y0, x1, y1 = self.box
        if x_range is None:
            chosen = list(self.quads)
        else:
            keep = np.flatnonzero((self.src_hi >= x_range[0] - 2) & (self.src_lo <= x_range[1] + 2))
            chosen = [self.quads[i] for i in keep]
        if y_range is not None:
            chosen = [q for q in (_rows(q, y_range) for q in chosen) if q is not None]
        if canvas_scale != 1.0:
            chosen = [(box, tuple(c * canvas_scale for c in quad)) for box, quad in chosen]
        if not chosen:
            return Image.new("L", (x1 - x0, y1 - y0), 0)
        out = canvas.transform(
            (x1 - x0, y1 - y0),
            Image.Transform.MESH,
            list(chosen),
            resample=Image.Resampling.BILINEAR,
            fillcolor=0,
        )
        return ImageChops.multiply(out, self.visible) if self.visible is not None else out


def _rows(quad, y_range):
    """Cut a full-height strip down to the rows that read the canvas rows in y_range."""
    (bx0, by0, bx1, by1), (ua, va, ub, vb, uc, vc, ud, vd) = quad
    lo, hi = y_range
    # Left edge reads va (top) .. vb (bottom); right edge vd .. vc; both linear in the row.
    span_l, span_r = vb - va, vc - vd
    if span_l <= 0 or span_r <= 0:
        return quad
    t0 = max(0.0, min((lo - va) / span_l, (lo - vd) / span_r))
    t1 = min(1.0, max((hi - va) / span_l, (hi - vd) / span_r))
    if t1 <= t0:
        return None
    h = by1 - by0
    r0, r1 = by0 + int(t0 * h), by0 + min(h, int(t1 * h) + 1)
    s0, s1 = (r0 - by0) / h, (r1 - by0) / h

    def at(top, bottom, t):
        return top + (bottom - top) * t

    return (
        (bx0, r0, bx1, r1),
        (
            at(ua, ub, s0),
            at(va, vb, s0),
            at(ua, ub, s1),
            at(va, vb, s1),
            at(ud, uc, s1),
            at(vd, vc, s1),
            at(ud, uc, s0),
            at(vd, vc, s0),
        ),
    )


def build_strips(
    canvas_size: tuple[int, int],
    box: tuple[int, int, int, int],
    inverse: Inverse,
    strip: int = 4,
    visible: np.ndarray | None = None,
) -> MeshWarp:
    """For maps where each output column reads along one canvas column, affinely in y."""
    x0, y0, x1, y1 = box
    xs = np.arange(x0, x1 + strip, strip, dtype=np.float64)
    top = np.full_like(xs, y0, dtype=np.float64)
    bottom = np.full_like(xs, y1, dtype=np.float64)
    ut, vt, okt = inverse(xs, top)
    ub, vb, okb = inverse(xs, bottom)
    quads, lo, hi = [], [], []
    cw = canvas_size[0]
    for i in range(len(xs) - 1):
        if not (okt[i] and okt[i + 1] and okb[i] and okb[i + 1]):
            continue
        us = (ut[i], ub[i], ub[i + 1], ut[i + 1])
        if max(us) < 0 or min(us) > cw:
            continue
        bx = int(xs[i] - x0)
        quads.append(
            (
                (bx, 0, bx + strip, y1 - y0),
                (
                    float(ut[i]),
                    float(vt[i]),
                    float(ub[i]),
                    float(vb[i]),
                    float(ub[i + 1]),
                    float(vb[i + 1]),
                    float(ut[i + 1]),
                    float(vt[i + 1]),
                ),
            )
        )
        lo.append(min(us))
        hi.append(max(us))
    vis = None
    if visible is not None:
        vis = Image.fromarray((np.clip(visible, 0, 1) * 255 + 0.5).astype(np.uint8))
    return MeshWarp(canvas_size, box, tuple(quads), np.array(lo, np.float32), np.array(hi, np.float32), vis)


@dataclass(frozen=True, eq=False)
class ColumnWarp:
    """A cylinder seen from the side (a mug, the inside of a ring): each output column reads
    one column of the canvas (at `u`), and down the column the canvas row moves linearly
    (`v_top` at the box's first row, `v_step` per row). Applied with numpy on the text's
    columns and rows only: exact per column, and a few array passes instead of one Pillow
    transform per strip."""

    canvas_size: tuple[int, int]
    box: tuple[int, int, int, int]
    u: np.ndarray  # float32 per box column: canvas x (continuous, pixel i spans i..i+1)
    v_top: np.ndarray  # float32 per box column: canvas y at the first row's centre
    v_step: np.ndarray  # float32 per box column: canvas y per output row
    ok: np.ndarray  # bool per box column: the column shows the canvas at all
    visible: np.ndarray | None = None  # uint8 over the box: what is not hidden

    def apply(
        self,
        canvas: Image.Image,
        x_range: tuple[float, float] | None = None,
        canvas_scale: float = 1.0,
        y_range: tuple[float, float] | None = None,
    ) -> Image.Image:
        """As MeshWarp.apply: `canvas_scale` < 1 when the text was rasterised smaller; the
        ranges (canvas pixels at full scale) say where the text is.

        Two bilinear passes on 8-bit pixels, each a gather and one Pillow blend: across (each
        column's canvas column blended with its right-hand neighbour), then down (each pixel's
        row blended with the row below, two 8-bit gathers). The positions down
        are fixed point with 1/256 px steps, the blend weights 1/255: within 2 levels of an
        exact float bilinear, at about two thirds of its cost."""
        x0, y0, x1, y1 = self.box
        width, height = x1 - x0, y1 - y0
        take = self.ok
        if x_range is not None:
            take = take & (self.u >= x_range[0] - 2) & (self.u <= x_range[1] + 2)
        cols = np.flatnonzero(take)
        if not len(cols):
            return Image.new("L", (width, height), 0)
        c0, c1 = int(cols[0]), int(cols[-1]) + 1
        k = canvas_scale
        vt, dv = self.v_top[c0:c1], self.v_step[c0:c1]
        j0, j1 = 0, height
        if y_range is not None and bool(np.all(dv > 0)):
            j0 = max(0, int(np.floor(np.min((y_range[0] - 2 - vt) / dv))))
            j1 = min(height, int(np.ceil(np.max((y_range[1] + 2 - vt) / dv))) + 1)
        if j1 <= j0:
            return Image.new("L", (width, height), 0)
        n = c1 - c0
        cw, ch = canvas.size
        # Down: row j of column c reads the canvas at v_top * k - 0.5 + j * v_step * k
        # (pixel centres), in fixed point; the step is summed finer and then rounded.
        shift = _FINE - _FX
        a_fx = np.floor((vt.astype(np.float64) * k - 0.5) * (1 << _FX) + 0.5).astype(np.int64)
        b_fine = np.floor(dv.astype(np.float64) * k * (1 << _FINE) + 0.5).astype(np.int64)
        first = a_fx + ((b_fine * j0) >> shift)
        last = a_fx + ((b_fine * (j1 - 1)) >> shift)
        lo = int(min(first.min(), last.min())) >> _FX
        hi = (int(max(first.max(), last.max())) >> _FX) + 2  # canvas rows lo .. hi - 1 are read
        rows = hi - lo
        # Across: from a transposed copy of those rows (zero outside the canvas) with a zero
        # canvas column either side, so reads past the canvas give 0.
        uu = self.u[c0:c1].astype(np.float64) * k + 0.5  # -0.5: pixel centres; +1: the zero column
        iu = np.floor(uu)
        fu = uu - iu
        iu = iu.astype(np.intp)
        show = self.ok[c0:c1] & (iu >= 0) & (iu <= cw)
        padded = np.zeros((cw + 2, rows), np.uint8)
        r0, r1 = max(lo, 0), min(hi, ch)
        if r1 > r0:
            padded[1 : cw + 1, r0 - lo : r1 - lo] = np.asarray(canvas)[r0:r1].T
        left = Image.fromarray(padded[np.where(show, iu, 0)])
        right = Image.fromarray(padded[np.where(show, iu + 1, 0)])
        weight = np.repeat(np.floor(fu * 255 + 0.5).astype(np.uint8)[:, None], rows, axis=1)
        across = np.asarray(Image.composite(right, left, Image.fromarray(weight)))  # (n, rows)
        # Each pixel's row and the row below (never past its column: the last rows are zero).
        flat = across.reshape(-1)
        # Column c's rows start at c * rows in `flat`: folded into the positions.
        base = a_fx - (lo << _FX) + ((np.arange(n, dtype=np.int64) * rows) << _FX)
        j = np.arange(j0, j1, dtype=np.int64)
        top_q = int((base + ((b_fine * (j1 - 1)) >> shift)).max())
        kind = np.int32 if max(top_q, int(base.max())) < 2**31 - 1 else np.int64
        if bool(np.all(b_fine == b_fine[0])):  # one step for every column (the mug): a row term
            q = base.astype(kind)[:, None] + ((int(b_fine[0]) * j) >> shift).astype(kind)[None, :]
        else:
            q = (base[:, None] + ((b_fine[:, None] * j[None, :]) >> shift)).astype(kind)
        index = q >> _FX
        top = Image.fromarray(flat.take(index))
        index += 1
        bottom = Image.fromarray(flat.take(index))
        # The low bits of a position are its weight between the two rows.
        block = Image.composite(bottom, top, Image.fromarray(q.astype(np.uint8)))
        block = block.transpose(Image.Transpose.TRANSPOSE)
        if self.visible is not None:
            block = ImageChops.multiply(block, Image.fromarray(self.visible[j0:j1, c0:c1]))
        out = Image.new("L", (width, height), 0)
        out.paste(block, (c0, j0))
        return out


def build_columns(
    canvas_size: tuple[int, int],
    box: tuple[int, int, int, int],
    inverse: Inverse,
    visible: np.ndarray | None = None,
) -> ColumnWarp:
    """For maps where each output column reads along one canvas column, linearly in y.
    `inverse` maps output pixel coordinates (x, y) (the pixel's centre is x + 0.5) to canvas
    coordinates; evaluated along the box's first and last rows."""
    x0, y0, x1, y1 = box
    # Read half a pixel right of and below each centre, as the strips of Pillow's MESH
    # transform did before (build_strips), so the pictures stay as they were.
    xs = np.arange(x0, x1, dtype=np.float64) + 0.5
    ut, vt, okt = inverse(xs, np.full_like(xs, y0 + 0.5))
    ub, vb, okb = inverse(xs, np.full_like(xs, y1 - 0.5))
    cw, _ = canvas_size
    rows = max(1, y1 - 1 - y0)
    ok = okt & okb & (ut > -2) & (ut < cw + 2)
    vis = None
    if visible is not None:
        vis = (np.clip(visible, 0, 1) * 255 + 0.5).astype(np.uint8)
        if vis.min() == 255:  # nothing hidden (the mug's front): skip a pass per render
            vis = None
    return ColumnWarp(
        canvas_size,
        box,
        ((ut + ub) / 2).astype(np.float32),
        vt.astype(np.float32),
        ((vb - vt) / rows).astype(np.float32),
        np.asarray(ok, bool),
        vis,
    )
