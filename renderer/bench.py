"""`python -m proofmark_renderer bench`: how fast a preview is, cold and warm, per product
and width, next to the plain-Pillow floor of drawing the same text and encoding it.

The process is first prepared as a worker prepares itself at its start (glyph faces, then
scenes); then each product's sample designs are rendered: their first and second render
in the process (cold), then repeatedly (warm), each warm render followed by its floor.
"""

from __future__ import annotations

import io
import math
import os
import platform
import shutil
import statistics
import tempfile
import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

from proofmark_renderer import catalog, photo_samples
from proofmark_renderer import text as textmod
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


# Targets of issue 16 item 6, for a warm 1200-px JPEG preview.
TARGET_MEDIAN_MS = 8.0
TARGET_RATIO = 1.5
TARGET_WIDTH = 1200


def run(
    width: int = TARGET_WIDTH,
    fmt: str = "jpeg",
    repeat: int = 15,
    photos: bool = True,
    widths: tuple[int, ...] | None = None,
) -> dict:
    """Every built-in product, then (with `photos`) the four photo-based demo products,
    published into a throwaway instance folder (their photos are drawn first, untimed), at
    each of `widths` (default: `width` alone).

    First the process is prepared as a worker prepares itself at its start
    (proofmark.personalizer.previews.prepare_scenes): the glyph faces of every catalogue
    font, then the scene of every product the samples draw at every width, each timed.
    Then per width and product: the first and the second render of each sample design in
    the process (cold: the first draws its lines' sizes with Pillow, the second puts their
    glyphs into the glyph cache), and `repeat` warm rounds, each render followed by the
    plain-Pillow floor of the same design; RSS after each product."""
    load_before = _load()
    widths = tuple(widths or (width,))
    with _photo_products(photos) as shop:
        candidates = [(p, SAMPLES.get(p.id) or ()) for p in catalog.products() if not p.base_id]
        candidates += [(p, PHOTO_SAMPLES.get(p.base_id, ())) for p in shop]
        candidates = [(p, designs) for p, designs in candidates if designs]
        prepared = _prepare(candidates, widths)
        by_width = {}
        for w in widths:
            products = {}
            for product, designs in candidates:
                name = f"{product.id} (photo)" if product.base_id else product.id
                row = _run_product(designs, w, fmt, repeat)
                row["finish"] = product.finish
                row["scene_ms"] = prepared["scene_ms"][w][product.id]
                row["scene_mb"] = prepared["scene_mb"][w][product.id]
                row["rss_mb"] = rss_mb()
                products[name] = {"finish": row.pop("finish"), **row}
            by_width[w] = _summary(products)
    target = TARGET_WIDTH if TARGET_WIDTH in by_width else widths[0]
    report = _report(by_width[target]["products"], target, fmt, repeat, load_before)
    report["widths"] = list(widths)
    report["prepare"] = {k: v for k, v in prepared.items() if k not in ("scene_ms", "scene_mb")}
    report["by_width"] = {str(w): r for w, r in by_width.items()}
    report["rss_end_mb"] = rss_mb()
    return report


@contextmanager
def _photo_products(photos: bool):
    """The photo-based demo products, published into a throwaway instance folder (yields
    them; none without `photos`)."""
    if not photos:
        yield []
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / catalog.PUBLISHED_DIR
        for folder in photo_samples.write(Path(tmp) / "src"):
            (root / folder.name).mkdir(parents=True)
            shutil.copytree(folder, root / folder.name / "1")
        previous = catalog._instance_path, catalog._asset_root
        catalog.configure(tmp, previous[1])
        try:
            yield [p for p in catalog.products() if p.base_id]
        finally:
            catalog.configure(*previous)


def _prepare(candidates, widths: tuple[int, ...]) -> dict:
    """What a worker does at its start, with the same functions: the allocator's mmap
    threshold fixed (scene_cache.tune_allocator), the glyph faces of every font
    (glyphs.prepare), then each scene the sample designs draw (scene_cache.prepare),
    width by width, each build timed. The site prepares each product in its default
    variant; a design without a variant draws the product as listed, and the samples have
    none, so their own scenes are the ones prepared here."""
    from proofmark_renderer import glyphs, scene_cache, scenes

    allocator_tuned = scene_cache.tune_allocator()  # as the site's scene_cache.configure() does
    t0 = time.perf_counter()
    glyphs.prepare(catalog.fonts())
    faces_s = time.perf_counter() - t0
    scene_ms: dict[int, dict[str, float]] = {}
    scene_mb: dict[int, dict[str, float]] = {}
    t1 = time.perf_counter()
    for w in sorted(widths):
        scene_ms[w], scene_mb[w] = {}, {}
        for product, designs in candidates:
            drawn = {}
            for d in designs:
                one = catalog.product(d.product).with_variant(d.variant)
                drawn[scene_cache.product_cache_key(one)] = one
            info = scene_cache.prepare(drawn.values(), [w], scenes.scene)
            scene_ms[w][product.id] = round(info["seconds"] * 1000, 1)
            scene_mb[w][product.id] = round(
                sum(scene_cache.scene_bytes(scenes.scene(one, w)) for one in drawn.values()) / 2**20, 1
            )
    return {
        "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX"),
        "mmap_threshold": os.environ.get("MALLOC_MMAP_THRESHOLD_")
        or (scene_cache.MMAP_THRESHOLD if allocator_tuned else None),
        "glyph_faces_s": round(faces_s, 2),
        "scenes_s": round(time.perf_counter() - t1, 2),
        "scenes": sum(len(v) for v in scene_ms.values()),
        "rss_mb": rss_mb(),
        "scene_ms": scene_ms,
        "scene_mb": scene_mb,
    }


def _floor_draw(width: int, design) -> tuple[Image.Image, list]:
    from proofmark_renderer import scenes
    from proofmark_renderer.compose import _em_px
    from proofmark_renderer.validation import check

    product, font = catalog.product(design.product), catalog.font(design.font)
    plan = check(design)[1]
    scene = scenes.scene(product, width)
    ops = []
    for line in plan.lines if plan is not None and font is not None else ():
        surf = scene.surfaces.get(line.field or "lines") or scene.flat()
        x = (line.origin_x_mm - surf.fx0) * surf.cs
        y = (line.baseline_mm - surf.fy0) * surf.cs
        if surf.warp is not None:
            x, y = x + surf.warp.box[0], y + surf.warp.box[1]
        ops.append(((x, y), line.text, _plain_font(str(font.path), _em_px(line, font, surf.cs))))
    return scene.image, ops


@lru_cache(maxsize=64)
def _plain_font(path: str, size_px: float) -> ImageFont.FreeTypeFont:
    """The floor's face: the font file as shipped, loaded as plain Pillow loads it (the
    renderer's own faces read it without its overlap flags; see text.without_overlap_flags)."""
    return ImageFont.truetype(path, max(1.0, round(size_px * 8) / 8), layout_engine=textmod.layout_engine())


def plain_pillow(base: Image.Image, ops: list, pil_fmt: str) -> bytes:
    """The floor: copy the picture, draw the text with ImageDraw, encode with the preview's settings."""
    im = base.copy()
    draw = ImageDraw.Draw(im)
    for xy, text, face in ops:
        draw.text(xy, text, font=face, fill=(40, 34, 30), anchor="ls")
    return encode(im, pil_fmt)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def _timed(fn) -> tuple[float, float]:
    """(wall, cpu) ms of one call."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000


def _run_product(designs, width: int, fmt: str, repeat: int) -> dict:
    """One product at one width: the first and second render of each design (cold), then
    every design rendered `repeat` times, each render followed by the plain-Pillow floor of
    the same design, so both see the same load (warm)."""
    pil_fmt = FORMATS[fmt]
    first, second, floors = [], [], []
    for d in designs:
        first.append(_timed(lambda d=d: render(d, width, fmt)))
        second.append(_timed(lambda d=d: render(d, width, fmt)))
        floors.append(_floor_draw(width, d))
        plain_pillow(*floors[-1], pil_fmt)
    wall, cpu, floor_wall, floor_cpu = [], [], [], []
    for _ in range(repeat):
        for d, (base, ops) in zip(designs, floors, strict=True):
            w, c = _timed(lambda d=d: render(d, width, fmt))
            wall.append(w)
            cpu.append(c)
            w, c = _timed(lambda base=base, ops=ops: plain_pillow(base, ops, pil_fmt))
            floor_wall.append(w)
            floor_cpu.append(c)
    median, floor = statistics.median(wall), statistics.median(floor_wall)
    median_cpu, floor_cpu_median = statistics.median(cpu), statistics.median(floor_cpu)
    return {
        "median_ms": round(median, 2),
        "p95_ms": round(_p95(wall), 2),
        "cpu_ms": round(median_cpu, 2),
        "floor_ms": round(floor, 2),
        "floor_cpu_ms": round(floor_cpu_median, 2),
        "ratio": round(median / floor, 2) if floor else None,
        "cpu_ratio": round(median_cpu / floor_cpu_median, 2) if floor_cpu_median else None,
        # Cold: each design's first render in the process (after the worker's preparation),
        # and its second; the worst design's.
        "first_ms": round(max(w for w, _ in first), 2),
        "first_cpu_ms": round(max(c for _, c in first), 2),
        "second_ms": round(max(w for w, _ in second), 2),
        "second_cpu_ms": round(max(c for _, c in second), 2),
        "designs": len(designs),
        "samples": len(wall),
    }


def _summary(products: dict) -> dict:
    def worst(key: str) -> float:
        return round(max((p[key] or 0 for p in products.values()), default=0.0), 2)

    return {
        "products": products,
        "max_median_ms": worst("median_ms"),
        "max_p95_ms": worst("p95_ms"),
        "max_cpu_ms": worst("cpu_ms"),
        "max_ratio": worst("ratio"),
        "max_cpu_ratio": worst("cpu_ratio"),
        "max_first_ms": worst("first_ms"),
        # Wall clock counts other processes' turns on a loaded machine; CPU time does not.
        "meets_targets_wall": worst("median_ms") <= TARGET_MEDIAN_MS and worst("ratio") <= TARGET_RATIO,
        "meets_targets_cpu": worst("cpu_ms") <= TARGET_MEDIAN_MS and worst("cpu_ratio") <= TARGET_RATIO,
    }


def _report(products: dict, width: int, fmt: str, repeat: int, load_before: float | None = None) -> dict:
    return {
        "renderer_version": RENDERER_VERSION,
        "width": width,
        "format": fmt,
        "repeat": repeat,
        "python": platform.python_version(),
        "raqm": bool(features.check("raqm")),
        "cpus": os.cpu_count(),
        "load_average_1min": _load(),
        "load_average_before": load_before,
        "floor": "plain Pillow: copy the scene's picture, ImageDraw.text each line at its size, "
        "encode with the same settings (measured right after each render)",
        "targets": {"median_ms": TARGET_MEDIAN_MS, "ratio": TARGET_RATIO, "width": TARGET_WIDTH},
        **_summary(products),
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


def memory(
    previews: int = 10_000,
    widths: tuple[int, ...] = SITE_WIDTHS,
    fmt: str = "jpeg",
    proofs: int = 0,
    proof_width: int = 2400,
    store_dir: str | None = None,
) -> dict:
    """Render `previews` previews cycling every product and width (as a worker does under
    mixed traffic) and report RSS along the way. With `proofs`, that many proof images are
    drawn in between, spread evenly, as the site draws them (`proof_width` px, lossless PNG,
    the picture kept for the email JPEG, which is made from it at 1200 px). Scenes are
    stored in `store_dir` (a throwaway folder by default), as a worker stores them in the
    instance folder, so a scene the budget dropped is loaded again, not rebuilt.
    The target: at most 500 MB at the end."""
    from proofmark_renderer import scene_cache

    allocator_tuned = scene_cache.tune_allocator()  # as the site's configure() does
    designs = [(d, w) for w in widths for ds in SAMPLES.values() for d in ds]
    proof_designs = [d for ds in SAMPLES.values() for d in ds]
    every = previews // proofs if proofs else 0
    samples = []
    peak = 0.0
    proof_ms: list[float] = []
    previous_store = scene_cache.CACHE.store_dir
    with tempfile.TemporaryDirectory() as tmp:
        scene_cache.CACHE.store_dir = Path(store_dir or tmp)
        scene_cache.CACHE.store_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        c0 = time.process_time()
        try:
            for i in range(previews):
                design, width = designs[(i * 7919) % len(designs)]
                render(design, width, fmt)
                if every and i % every == every - 1 and len(proof_ms) < proofs:
                    p0 = time.perf_counter()
                    _proof(proof_designs[len(proof_ms) % len(proof_designs)], proof_width)
                    proof_ms.append((time.perf_counter() - p0) * 1000)
                if i % 500 == 0 or i == previews - 1:
                    rss = rss_mb() or 0.0
                    peak = max(peak, rss)
                    samples.append({"previews": i + 1, "proofs": len(proof_ms), "rss_mb": rss})
        finally:
            scene_cache.CACHE.store_dir = previous_store
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0
    end = rss_mb()
    return {
        "previews": previews,
        "widths": list(widths),
        "proofs": len(proof_ms),
        "proof_width": proof_width,
        "proof_median_ms": round(statistics.median(proof_ms), 1) if proof_ms else None,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "per_second": round(previews / seconds, 1),
        "load_average_1min": _load(),
        "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX"),
        "mmap_threshold": os.environ.get("MALLOC_MMAP_THRESHOLD_")
        or (scene_cache.MMAP_THRESHOLD if allocator_tuned else None),
        "scene_budget_mb": round(scene_cache.CACHE.budget / 2**20),
        "rss_end_mb": end,
        "rss_peak_sampled_mb": peak,
        "target_mb": 500,
        "meets_target": end is not None and end <= 500,
        "cache": scene_cache.CACHE.stats(),
        "samples": samples,
    }


def _proof(design, width: int) -> None:
    """One proof image as the site makes it: the PNG, and the email JPEG from the picture."""
    result = render(design, width, "png", keep_picture=True)
    picture = result.picture
    if picture is not None:
        small = picture.reduce(max(1, picture.width // 1200))
        small.save(io.BytesIO(), "JPEG", quality=88, optimize=True, progressive=True)


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
    """One table per width: warm median, p95 and CPU against the floor, then cold (first and
    second render, CPU), the scene's build and size, and RSS."""
    prep = result["prepare"]
    out = [
        f"{result['format']}, load average {result['load_average_before']} before, "
        f"{result['load_average_1min']} after; targets at {result['width']} px: median <= "
        f"{TARGET_MEDIAN_MS} ms and <= {TARGET_RATIO}x the plain-Pillow floor (judge by CPU on a "
        f"loaded machine)",
        f"prepared as a worker at its start: glyph faces {prep['glyph_faces_s']} s, "
        f"{prep['scenes']} scenes {prep['scenes_s']} s, RSS {prep['rss_mb']} MB, "
        f"mmap threshold {prep['mmap_threshold']}, MALLOC_ARENA_MAX {prep['malloc_arena_max']}; "
        f"RSS at the end {result['rss_end_mb']} MB",
    ]
    headers = [
        "product",
        "finish",
        "median ms",
        "p95 ms",
        "floor ms",
        "ratio",
        "cpu ms",
        "floor cpu",
        "cpu ratio",
        "1st cpu",
        "2nd cpu",
        "scene ms",
        "scene MB",
        "RSS MB",
    ]
    keys = headers[2:]
    fields = dict(
        zip(
            keys,
            (
                "median_ms",
                "p95_ms",
                "floor_ms",
                "ratio",
                "cpu_ms",
                "floor_cpu_ms",
                "cpu_ratio",
                "first_cpu_ms",
                "second_cpu_ms",
                "scene_ms",
                "scene_mb",
                "rss_mb",
            ),
            strict=True,
        )
    )
    for width, r in result["by_width"].items():
        rows = [[pid, p["finish"], *(p[fields[k]] for k in keys)] for pid, p in r["products"].items()]
        foot = (
            f"wall: {'met' if r['meets_targets_wall'] else 'NOT met'}; "
            f"cpu: {'met' if r['meets_targets_cpu'] else 'NOT met'}"
            + ("" if int(width) == TARGET_WIDTH else " (the targets are for 1200 px)")
        )
        out += [f"{width} px", _table(headers, rows), foot]
    return "\n".join(out)


def proof_encode_table(result: dict) -> str:
    rows = []
    for product, r in result["products"].items():
        for name, e in r["encodings"].items():
            rows.append([product, name, e["ms"], e["cpu_ms"], e["cpu_vs_before"], e["kb"]])
    head = f"{result['width']} px proof images, load average {result['load_average_1min']}"
    return head + "\n" + _table(["product", "encoding", "ms", "cpu ms", "cpu vs before", "KB"], rows)
