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
from proofmark_renderer.compose import FORMATS, PROOF_PNG_OPTIONS, encode, encode_png, render
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


# --- widths, the scene cache and memory (issue 16) ------------------------------------------

SITE_WIDTHS = (600, 900, 1000, 1600, 2400)


def rss_mb() -> float | None:
    """This process's resident memory (Linux /proc), MB."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return None


def widths(widths: tuple[int, ...] = SITE_WIDTHS, fmt: str = "jpeg", repeat: int = 7) -> dict:
    """Per product and width: the cold render (scene built now) and the warm median, the
    scene's bytes, and RSS along the way."""
    from proofmark_renderer import scene_cache, scenes

    scene_cache.CACHE.clear()
    rows: list[dict] = []
    rss_start = rss_mb()
    for width in widths:
        for product in catalog.products():
            designs = SAMPLES.get(product.id) or ()
            if not designs:
                continue
            t0 = time.perf_counter()
            render(designs[0], width, fmt)
            cold = (time.perf_counter() - t0) * 1000

            def one_round(designs=designs, width=width):
                for d in designs:
                    render(d, width, fmt)

            warm_ms, warm_cpu = (t / len(designs) for t in _median_ms(one_round, repeat))
            rows.append(
                {
                    "product": product.id,
                    "width": width,
                    "cold_ms": round(cold, 1),
                    "warm_median_ms": round(warm_ms, 2),
                    "warm_cpu_ms": round(warm_cpu, 2),
                    "scene_mb": round(scene_cache.scene_bytes(scenes.scene(product, width)) / 2**20, 1),
                    "rss_mb": rss_mb(),
                }
            )
    return {
        "widths": list(widths),
        "format": fmt,
        "repeat": repeat,
        "load_average_1min": _load(),
        "rss_start_mb": rss_start,
        "rss_end_mb": rss_mb(),
        "cache": scene_cache.CACHE.stats(),
        "rows": rows,
    }


def memory(previews: int = 10_000, widths: tuple[int, ...] = SITE_WIDTHS, fmt: str = "jpeg") -> dict:
    """Render `previews` previews cycling every product and width (as a worker does under
    mixed traffic) and report RSS along the way. The target: at most 500 MB at the end."""
    from proofmark_renderer import scene_cache

    designs = [(d, w) for w in widths for ds in SAMPLES.values() for d in ds]
    samples = []
    t0 = time.perf_counter()
    peak = 0.0
    for i in range(previews):
        design, width = designs[(i * 7919) % len(designs)]
        render(design, width, fmt)
        if i % 500 == 0 or i == previews - 1:
            rss = rss_mb() or 0.0
            peak = max(peak, rss)
            samples.append({"previews": i + 1, "rss_mb": rss})
    seconds = time.perf_counter() - t0
    end = rss_mb()
    return {
        "previews": previews,
        "widths": list(widths),
        "seconds": round(seconds, 1),
        "per_second": round(previews / seconds, 1),
        "load_average_1min": _load(),
        "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX"),
        "rss_end_mb": end,
        "rss_peak_sampled_mb": peak,
        "target_mb": 500,
        "meets_target": end is not None and end <= 500,
        "cache": scene_cache.CACHE.stats(),
        "samples": samples,
    }


def proof_encode(width: int = 2400, repeat: int = 5) -> dict:
    """The proof image's encodings on a real proof picture: time and size per PNG level and
    lossless WebP, against today's PNG (level 3)."""
    result = {}
    for product, designs in SAMPLES.items():
        result[product] = _proof_encode_one(designs[0], width, repeat)
    now = [r["encodings"]["png-sub-rle (now)"]["cpu_vs_before"] for r in result.values()]
    return {
        "width": width,
        "load_average_1min": _load(),
        "proof_format": PROOF_PNG_OPTIONS,
        "worst_cpu_vs_before": max(now),
        "target_cpu_vs_before": 0.6,
        "meets_target": max(now) <= 0.6,
        "products": result,
    }


def _proof_encode_one(design, width: int, repeat: int) -> dict:
    picture = render(design, width, "png", keep_picture=True).picture
    options = {
        "png-level-3 (before)": lambda: _save(picture, "PNG", compress_level=3),
        "png-sub-rle (now)": lambda: encode_png(picture),
        "png-level-1": lambda: _save(picture, "PNG", compress_level=1),
        "png-level-0": lambda: _save(picture, "PNG", compress_level=0),
        "webp-lossless-m0": lambda: _save(picture, "WEBP", lossless=True, method=0, quality=0),
    }
    out = {}
    for name, fn in options.items():
        size = len(fn())
        wall, cpu = _median_ms(fn, repeat)
        out[name] = {"ms": round(wall, 1), "cpu_ms": round(cpu, 1), "kb": round(size / 1024)}
    base = out["png-level-3 (before)"]["cpu_ms"]
    for row in out.values():
        row["cpu_vs_before"] = round(row["cpu_ms"] / base, 2) if base else None
    return {"encodings": out}


def _save(picture: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    picture.save(buf, fmt, **options)
    return buf.getvalue()


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(h) for h in headers]] + [[("" if v is None else str(v)) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells)


def run_table(result: dict) -> str:
    rows = [
        [pid, p["finish"], p["median_ms"], p["encode_floor_ms"], p["ratio"], p["cpu_ms"]]
        for pid, p in result["products"].items()
    ]
    head = f"{result['width']} px {result['format']}, load average {result['load_average_1min']}"
    return head + "\n" + _table(["product", "finish", "median ms", "floor ms", "ratio", "cpu ms"], rows)


def widths_table(result: dict) -> str:
    rows = [
        [r["product"], r["width"], r["cold_ms"], r["warm_median_ms"], r["scene_mb"], r["rss_mb"]]
        for r in result["rows"]
    ]
    head = f"load average {result['load_average_1min']}, cache {result['cache']}"
    return head + "\n" + _table(["product", "width", "cold ms", "warm ms", "scene MB", "RSS MB"], rows)


def proof_encode_table(result: dict) -> str:
    rows = []
    for product, r in result["products"].items():
        for name, e in r["encodings"].items():
            rows.append([product, name, e["ms"], e["cpu_ms"], e["cpu_vs_before"], e["kb"]])
    head = f"{result['width']} px proof images, load average {result['load_average_1min']}"
    return head + "\n" + _table(["product", "encoding", "ms", "cpu ms", "cpu vs before", "KB"], rows)
