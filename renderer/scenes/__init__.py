"""The product as a studio photo: drawn once per product and output width, then cached.

A Scene holds the picture without any text, the mapping from millimetres on the product to
pixels (flat surfaces) or the bend (curved ones), and the lighting maps the finishes need
to put text into the picture. Everything is built procedurally from fixed seeds.

One module per product family; `SCENES` maps a product's `view` (products.toml) to the
function that draws it. A view no scene knows is drawn as a plain card.
"""

from __future__ import annotations

from collections.abc import Callable

from proofmark_renderer import finishes, scene_cache
from proofmark_renderer.catalog import Product
from proofmark_renderer.scenes import bar, board, discs, mug, photo, ring, shirt
from proofmark_renderer.scenes.common import Scene, Surface, crop_layers, frame, plain, ui_font

__all__ = ["SCENES", "Scene", "Surface", "frame", "scene", "ui_font"]

SCENES: dict[str, Callable[[Product, int], Scene]] = {
    "pendant": discs.pendant,
    "bar": bar.bar,
    "ring": ring.ring,
    "ornament": discs.ornament,
    "board": board.board,
    "shirt": shirt.shirt,
    "mug": mug.mug,
    # A shop's own product: its photo is the picture (proofmark_renderer.photo).
    "photo": photo.photo,
}
# The scenes drawn here (not a shop's photo), whose layers are kept only where text lands.
BUILT_IN = frozenset(SCENES) - {"photo"}


def scene(product: Product, width: int) -> Scene:
    """The cached picture of a product at an output width (built on first use, once across
    threads; see proofmark_renderer.scene_cache)."""
    return scene_cache.CACHE.get(product, width, _build)


def _build(product: Product, width: int) -> Scene:
    built = SCENES.get(product.view, plain)(product, width)
    if product.view in BUILT_IN:
        # What the finish spreads past the letters, plus the compose's own margin.
        pad = finishes.reach(product.finish, built.scale) + 0.6 * built.scale + 8
        crop_layers(built, pad)
    return built
