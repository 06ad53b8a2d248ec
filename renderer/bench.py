"""`python -m proofmark_renderer bench`: how fast a preview is, next to the cost of merely encoding it.

For each product the fixed sample designs are rendered repeatedly (scenes are warmed
first, as in a running server); the floor is the time to encode the finished picture
alone, in the same format and settings.
"""

from __future__ import annotations

import io
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from PIL import Image, features

from proofmark_renderer import catalog, photo_samples
from proofmark_renderer.compose import FORMATS, encode, render
from proofmark_renderer.model import RENDERER_VERSION
from proofmark_renderer.samples import PHOTO_SAMPLES, SAMPLES


def _median_ms(fn, repeat: int) -> tuple[float, float]:
    """(wall, cpu) medians. CPU time is reported too: on a shared machine the wall clock
    also counts other processes' turns."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def run(width: int = 1200, fmt: str = "jpeg", repeat: int = 15, photos: bool = True) -> dict:
    """Every built-in product, then (with `photos`) the three photo-based demo products,
    published into a throwaway instance folder (their photos are drawn first, untimed)."""
    products = _run(catalog.products(), SAMPLES, width, fmt, repeat)
    if photos:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / catalog.PUBLISHED_DIR
            for folder in photo_samples.write(Path(tmp) / "src"):
                (root / folder.name).mkdir(parents=True)
                shutil.copytree(folder, root / folder.name / "1")
            previous = catalog._instance_path, catalog._asset_root
            catalog.configure(tmp, previous[1])
            try:
                shop = [p for p in catalog.products() if p.base_id]
                samples = {f"{p.base_id}@1": PHOTO_SAMPLES.get(p.base_id, ()) for p in shop}
                products |= {
                    f"{pid} (photo)": v for pid, v in _run(shop, samples, width, fmt, repeat).items()
                }
            finally:
                catalog.configure(*previous)
    return _report(products, width, fmt, repeat)


def _run(candidates, samples, width: int, fmt: str, repeat: int) -> dict[str, dict]:
    pil_fmt = FORMATS[fmt]
    products: dict[str, dict] = {}
    for product in candidates:
        designs = samples.get(product.id) or ()
        if not designs:
            continue
        for d in designs:
            render(d, width, fmt)  # warm: scene, fonts, measurements

        def one_round(designs=designs):
            for d in designs:
                render(d, width, fmt)

        render_ms, render_cpu = (t / len(designs) for t in _median_ms(one_round, repeat))
        pictures = [Image.open(io.BytesIO(render(d, width, fmt).image)).convert("RGB") for d in designs]
        for p in pictures:
            p.load()

        def encode_round(pictures=pictures):
            for p in pictures:
                encode(p, pil_fmt)

        floor_ms, floor_cpu = (t / len(designs) for t in _median_ms(encode_round, repeat))
        products[product.id] = {
            "finish": product.finish,
            "median_ms": round(render_ms, 2),
            "encode_floor_ms": round(floor_ms, 2),
            "ratio": round(render_ms / floor_ms, 2) if floor_ms else None,
            "cpu_ms": round(render_cpu, 2),
            "encode_floor_cpu_ms": round(floor_cpu, 2),
            "designs": len(designs),
        }
    return products


def _report(products: dict, width: int, fmt: str, repeat: int) -> dict:
    worst = max((p["median_ms"] for p in products.values()), default=0.0)
    worst_ratio = max((p["ratio"] or 0 for p in products.values()), default=0.0)
    try:
        load = round(os.getloadavg()[0], 2)
    except OSError:
        load = None
    return {
        "renderer_version": RENDERER_VERSION,
        "width": width,
        "format": fmt,
        "repeat": repeat,
        "python": platform.python_version(),
        "raqm": bool(features.check("raqm")),
        "cpus": os.cpu_count(),
        "load_average_1min": load,
        "products": products,
        "max_median_ms": round(worst, 2),
        "max_ratio": round(worst_ratio, 2),
        "targets": {"median_ms": 15, "ratio": 3},
        "meets_targets": worst <= 15 and worst_ratio <= 3,
    }
