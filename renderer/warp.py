"""Bending flat text onto curved surfaces: an arc, a mug's cylinder, the inside of a ring.

Each surface is an inverse map from output pixels to the flat ("unrolled") text canvas.
The map is sampled on a coarse grid once per product and output size and handed to
Pillow's MESH transform, which bends the text in C with bilinear filtering.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

# inverse(x, y) -> (u, v, valid): output pixel centres to canvas pixels.
Inverse = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Warp:
    canvas_size: tuple[int, int]  # the flat text canvas, in pixels
    box: tuple[int, int, int, int]  # where the bent text lands in the output image
    mesh: tuple  # Pillow MESH data, relative to box

    def apply(self, canvas: Image.Image) -> Image.Image:
        x0, y0, x1, y1 = self.box
        return canvas.transform((x1 - x0, y1 - y0), Image.Transform.MESH, list(self.mesh),
                                resample=Image.Resampling.BILINEAR, fillcolor=0)


def build(canvas_size: tuple[int, int], box: tuple[int, int, int, int], inverse: Inverse, tile: int = 6) -> Warp:
    x0, y0, x1, y1 = box
    xs = np.arange(x0, x1 + tile, tile, dtype=np.float64)
    ys = np.arange(y0, y1 + tile, tile, dtype=np.float64)
    gx, gy = np.meshgrid(xs, ys)
    u, v, ok = inverse(gx, gy)
    w, h = canvas_size
    mesh = []
    for j in range(len(ys) - 1):
        for i in range(len(xs) - 1):
            if not (ok[j, i] and ok[j + 1, i] and ok[j + 1, i + 1] and ok[j, i + 1]):
                continue
            quad = (u[j, i], v[j, i], u[j + 1, i], v[j + 1, i], u[j + 1, i + 1], v[j + 1, i + 1],
                    u[j, i + 1], v[j, i + 1])
            us, vs = quad[0::2], quad[1::2]
            # Tiles whose source lies wholly outside the canvas draw nothing: leave them out.
            if max(us) < 0 or min(us) > w or max(vs) < 0 or min(vs) > h:
                continue
            bx, by = int(xs[i] - x0), int(ys[j] - y0)
            mesh.append(((bx, by, bx + tile, by + tile), tuple(float(q) for q in quad)))
    return Warp(canvas_size, box, tuple(mesh))
