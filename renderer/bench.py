"""`python -m renderer bench`: how fast a preview is, next to the cost of merely encoding it.

For each product the fixed sample designs are rendered repeatedly (scenes are warmed
first, as in a running server); the floor is the time to encode the finished picture
alone, in the same format and settings.
"""
from __future__ import annotations

import io
import platform
import statistics
import time

from PIL import Image, features

from renderer import catalog
from renderer.compose import FORMATS, encode, render
from renderer.model import RENDERER_VERSION
from renderer.samples import SAMPLES


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def run(width: int = 1200, fmt: str = "jpeg", repeat: int = 15) -> dict:
    pil_fmt = FORMATS[fmt]
    products: dict[str, dict] = {}
    for product in catalog.products():
        designs = SAMPLES.get(product.id) or ()
        if not designs:
            continue
        for d in designs:
            render(d, width, fmt)  # warm: scene, fonts, measurements

        def one_round(designs=designs):
            for d in designs:
                render(d, width, fmt)

        render_ms = _median_ms(one_round, repeat) / len(designs)
        pictures = [Image.open(io.BytesIO(render(d, width, fmt).image)).convert("RGB") for d in designs]
        for p in pictures:
            p.load()

        def encode_round(pictures=pictures):
            for p in pictures:
                encode(p, pil_fmt)

        floor_ms = _median_ms(encode_round, repeat) / len(designs)
        products[product.id] = {
            "finish": product.finish,
            "median_ms": round(render_ms, 2),
            "encode_floor_ms": round(floor_ms, 2),
            "ratio": round(render_ms / floor_ms, 2) if floor_ms else None,
            "designs": len(designs),
        }
    worst = max((p["median_ms"] for p in products.values()), default=0.0)
    worst_ratio = max((p["ratio"] or 0 for p in products.values()), default=0.0)
    return {
        "renderer_version": RENDERER_VERSION,
        "width": width,
        "format": fmt,
        "repeat": repeat,
        "python": platform.python_version(),
        "raqm": bool(features.check("raqm")),
        "products": products,
        "max_median_ms": round(worst, 2),
        "max_ratio": round(worst_ratio, 2),
        "targets": {"median_ms": 15, "ratio": 3},
        "meets_targets": worst <= 15 and worst_ratio <= 3,
    }
