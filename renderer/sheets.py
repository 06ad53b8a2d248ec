"""The contact sheet (every product side by side, for the README) and the golden images
(the fixed samples at test size, which tests compare against)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

from proofmark_renderer import catalog, scenes
from proofmark_renderer.compose import render
from proofmark_renderer.model import Design
from proofmark_renderer.samples import SAMPLES

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "tests" / "renderer" / "golden"
GOLDEN_WIDTH = 600


def golden_name(product_id: str, index: int) -> str:
    return f"{product_id}-{index}.png"


# What the golden images show, by file name: the first sample of each product (one per
# product and finish keeps the repo light), plus right-to-left scripts, whose shaping
# (bidi order, Arabic joining) a Latin sample never exercises.
GOLDENS: dict[str, Design] = {golden_name(pid, 0): designs[0] for pid, designs in SAMPLES.items()} | {
    "pendant-round-hebrew.png": Design("pendant-round", "noto-sans-hebrew", ("אהבה לנצח",)),
    "bar-necklace-arabic.png": Design("bar-necklace", "noto-sans-arabic", ("حب إلى الأبد",)),
}


def write_goldens(
    directory: Path = GOLDEN_DIR, width: int = GOLDEN_WIDTH, names: list[str] | None = None
) -> list[Path]:
    """Render the goldens into `directory`: all of them, or only those in `names`."""
    unknown = sorted(set(names or ()) - set(GOLDENS))
    if unknown:
        raise KeyError(f"no such golden: {', '.join(unknown)} (known: {', '.join(GOLDENS)})")
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, design in GOLDENS.items():
        if names and name not in names:
            continue
        path = directory / name
        path.write_bytes(render(design, width, "png").image)
        written.append(path)
    return written


def contact_sheet(tile_width: int = 560, columns: int = 4) -> Image.Image:
    """One image with every product's first sample, labelled with its name and finish."""
    products = [p for p in catalog.products() if p.id in SAMPLES]
    tiles = []
    for p in products:
        result = render(SAMPLES[p.id][0], tile_width, "png")
        tiles.append((p, Image.open(io.BytesIO(result.image)).convert("RGB")))
    th = scenes.frame(tile_width)[1]
    caption = max(28, tile_width // 14)
    rows = (len(tiles) + columns - 1) // columns
    gap = 8
    sheet = Image.new(
        "RGB",
        (columns * tile_width + (columns + 1) * gap, rows * (th + caption) + (rows + 1) * gap),
        (250, 249, 247),
    )
    draw = ImageDraw.Draw(sheet)
    font = scenes.ui_font(caption * 0.5)
    for i, (p, tile) in enumerate(tiles):
        x = gap + (i % columns) * (tile_width + gap)
        y = gap + (i // columns) * (th + caption + gap)
        sheet.paste(tile, (x, y))
        draw.text(
            (x + 8, y + th + caption / 2), f"{p.name} · {p.finish}", fill=(60, 58, 55), font=font, anchor="lm"
        )
    if len(tiles) % columns:
        # The empty cell explains what the sheet is.
        i = len(tiles)
        x = gap + (i % columns) * (tile_width + gap)
        y = gap + (i // columns) * (th + caption + gap)
        note = [
            "Proofmark renderer",
            "procedural substrates,",
            "Raqm-shaped text,",
            "every finish side by side",
        ]
        for k, text in enumerate(note):
            draw.text(
                (x + tile_width / 2, y + th / 2 + (k - 1.5) * caption * 0.75),
                text,
                fill=(120, 116, 110),
                font=font,
                anchor="mm",
            )
    return sheet
