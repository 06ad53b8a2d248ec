"""How text becomes part of the material: one module per making process.

Every finish gets the scene, the box around the text (in picture pixels) and the text's
coverage there (an 8-bit mask), and returns the picture's pixels in that box with the
text made into them. Per-pixel colour work is done by Pillow's C blends on layers that
the scene precomputed; numpy only shapes single-channel maps.
"""

from __future__ import annotations

from proofmark_renderer.finishes import engrave, ink, laser, stamp

_BY_PREFIX = {
    "engraved": engrave.apply,
    "stamped": stamp.apply,
    "laser": laser.apply,
    "print-cotton": ink.apply_cotton,
    "print": ink.apply,
}


def for_finish(finish: str):
    for prefix in sorted(_BY_PREFIX, key=len, reverse=True):
        if finish.startswith(prefix):
            return _BY_PREFIX[prefix]
    return ink.apply


def parts_for_finish(finish: str):
    """The finish as patches: (scene, box, mask, seed) -> [(pixels, box in the picture)].
    A finish that works per group of letters (the laser) hands back each group's patch;
    the others their whole box."""
    if finish.startswith("laser"):
        return laser.apply_parts
    apply = for_finish(finish)

    def whole(scene, box, mask, seed):
        return [(apply(scene, box, mask, seed), box)]

    return whole


def reach(finish: str, scale: float) -> float:
    """How far (picture pixels) a finish's effect spreads past the letters: the box a finish
    gets must hold all of it, or the effect is cut off in a visible step at the box's edge."""
    if finish.startswith("stamped"):
        step = stamp.step_for(scale)
        return 3 * stamp.lip_radius(step) + 2 * step + 2
    if finish.startswith("laser"):
        return laser.reach(scale)
    return 4.0
