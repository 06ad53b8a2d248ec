"""Command line: render one design, benchmark, regenerate goldens, draw the contact sheet.

python -m proofmark_renderer render --product P --font F --line "..." [--line "..."] [--field rim="..."] -o out.jpg
python -m proofmark_renderer bench [--width 1200] [--format jpeg] [--repeat 15] [--no-photos] [--widths 600,900,1000,1600,2400]
python -m proofmark_renderer bench-memory [--previews 10000] [--widths 600,900,1000,1200,1600] [--proofs 200]
python -m proofmark_renderer proof-encode [--width 2400]
python -m proofmark_renderer goldens [NAME.png ...]
python -m proofmark_renderer contact-sheet -o docs/contact-sheet.jpg
python -m proofmark_renderer fidelity              # production SVG vs preview mask, IoU per line (JSON)
python -m proofmark_renderer production-bench      # ms to make all production files, per area (JSON)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from proofmark_renderer import catalog
from proofmark_renderer.model import Design


def _render(args: argparse.Namespace) -> int:
    from proofmark_renderer.compose import render

    product = catalog.product(args.product)
    font = args.font or (product.default_font if product else "")
    fields = {}
    for item in args.field or []:
        name, _, value = item.partition("=")
        fields[name] = value
    design = Design(args.product, font, tuple(args.line or ()), fields, align=args.align, size_mode=args.size)
    fmt = args.format or {".png": "png", ".webp": "webp"}.get(Path(args.output).suffix.lower(), "jpeg")
    result = render(design, args.width, fmt, area=args.area)
    Path(args.output).write_bytes(result.image)
    summary = {
        "output": args.output,
        "content_key": result.content_key,
        "size": [result.width, result.height],
        "ok": result.ok,
        "layout": None
        if result.layout is None
        else {
            "font_size_mm": result.layout.font_size_mm,
            "boxes": [b.__dict__ for b in result.layout.boxes],
        },
        "issues": [i.to_dict() for i in result.issues],
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0 if result.ok else 1


def _bench(args: argparse.Namespace) -> int:
    from proofmark_renderer import bench

    widths = tuple(int(w) for w in args.widths.split(",")) if args.widths else (args.width,)
    result = bench.run(args.width, args.format, args.repeat, photos=not args.no_photos, widths=widths)
    print(json.dumps(result))
    print(bench.run_table(result), file=sys.stderr)
    return 0


def _bench_memory(args: argparse.Namespace) -> int:
    from proofmark_renderer import bench

    widths = tuple(int(w) for w in args.widths.split(","))
    result = bench.memory(args.previews, widths, proofs=args.proofs, store_dir=args.store)
    print(json.dumps(result))
    print(
        f"{result['previews']} previews at {widths} and {result['proofs']} proofs at "
        f"{result['proof_width']} px: RSS {result['rss_end_mb']} MB at the end, peak sampled "
        f"{result['rss_peak_sampled_mb']} MB (target <= 500), {result['per_second']}/s, "
        f"cache {result['cache']}, load average {result['load_average_1min']}",
        file=sys.stderr,
    )
    return 0 if result["meets_target"] else 1


def _proof_encode(args: argparse.Namespace) -> int:
    from proofmark_renderer import bench

    result = bench.proof_encode(args.width, args.repeat)
    print(json.dumps(result))
    print(bench.proof_encode_table(result), file=sys.stderr)
    return 0 if result["meets_target"] else 1


def _goldens(args: argparse.Namespace) -> int:
    from proofmark_renderer.sheets import write_goldens

    try:
        written = write_goldens(names=args.names or None)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


def _contact_sheet(args: argparse.Namespace) -> int:
    from proofmark_renderer.sheets import contact_sheet

    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet().save(out, quality=84, optimize=True, progressive=True)
    print(f"{out} ({out.stat().st_size // 1024} KB)")
    return 0


def _fidelity(args: argparse.Namespace) -> int:
    from proofmark_renderer.production import fidelity

    results = fidelity.run()
    print(
        json.dumps(
            {"target_iou": fidelity.TARGET_IOU, "em_px": fidelity.EM_PX, "results": results},
            ensure_ascii=False,
            indent=1,
        )
    )
    return 0 if all(r["pass"] for r in results) else 1


def _production_bench(args: argparse.Namespace) -> int:
    from proofmark_renderer.production.bench import run

    print(json.dumps(run(args.repeat), ensure_ascii=False, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m proofmark_renderer", description="Proofmark's preview renderer"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    r = sub.add_parser("render", help="render one design to a file")
    r.add_argument("--product", required=True)
    r.add_argument("--font", help="font id (default: the product's default font)")
    r.add_argument("--line", action="append", help="a line of text; repeat for more lines")
    r.add_argument("--field", action="append", help="a named field, NAME=TEXT (e.g. rim=...)")
    r.add_argument("--align", default="center", choices=["center", "left", "right"])
    r.add_argument("--size", default="auto", choices=["auto", "min"])
    r.add_argument("--width", type=int, default=1200)
    r.add_argument("--format", choices=["jpeg", "webp", "png"])
    r.add_argument("--area", action="store_true", help="outline every personalization area (show area)")
    r.add_argument("-o", "--output", required=True)
    r.set_defaults(func=_render)

    b = sub.add_parser(
        "bench",
        help="cold and warm ms per preview and the plain-Pillow floor, per product and width, as JSON",
    )
    b.add_argument("--width", type=int, default=1200)
    b.add_argument("--format", default="jpeg", choices=["jpeg", "webp", "png"])
    b.add_argument("--repeat", type=int, default=15)
    b.add_argument("--no-photos", action="store_true", help="only the built-in products")
    b.add_argument(
        "--widths",
        help="comma-separated widths (instead of --width): each product's cold and warm ms, scene build ms, "
        "scene MB and RSS at each",
    )
    b.set_defaults(func=_bench)

    bm = sub.add_parser("bench-memory", help="RSS after many previews cycling products and widths, as JSON")
    bm.add_argument("--previews", type=int, default=10_000)
    bm.add_argument("--widths", default="600,900,1000,1200,1600")
    bm.add_argument(
        "--proofs", type=int, default=0, help="also draw this many 2400-px proof images in between"
    )
    bm.add_argument("--store", help="folder for built scenes (default: a throwaway one)")
    bm.set_defaults(func=_bench_memory)

    pe = sub.add_parser("proof-encode", help="ms and KB of the proof image per lossless encoding, as JSON")
    pe.add_argument("--width", type=int, default=2400)
    pe.add_argument("--repeat", type=int, default=5)
    pe.set_defaults(func=_proof_encode)

    g = sub.add_parser("goldens", help="regenerate tests/renderer/golden/*.png (look at them!)")
    g.add_argument(
        "names", nargs="*", metavar="NAME", help="only these goldens, e.g. mug-0.png (default: all)"
    )
    g.set_defaults(func=_goldens)

    c = sub.add_parser("contact-sheet", help="all products side by side in one image")
    c.add_argument("-o", "--output", default="docs/contact-sheet.jpg")
    c.set_defaults(func=_contact_sheet)

    f = sub.add_parser("fidelity", help="IoU of each production SVG against the preview's text mask, as JSON")
    f.set_defaults(func=_fidelity)

    pb = sub.add_parser("production-bench", help="median ms to make all production files, per area, as JSON")
    pb.add_argument("--repeat", type=int, default=9)
    pb.set_defaults(func=_production_bench)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
