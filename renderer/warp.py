"""Bending flat text onto curved surfaces: an arc, a mug's cylinder, the inside of a ring,
a shirt's folds.

Each surface is an inverse map from output pixels to the flat ("unrolled") text canvas,
evaluated once per product and output size into bilinear gather indices and weights.
The pixels are sorted by where they read from along the text, so a render touches only
the pixels that can receive its text.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

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


def build(canvas_size: tuple[int, int], box: tuple[int, int, int, int], inverse: Inverse,
          visible: np.ndarray | None = None) -> Warp:
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
