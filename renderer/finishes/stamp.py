"""Hand stamping: each letter struck with a steel punch, blackened, and the face buffed.

The per-letter turn, drop and depth are drawn by compose (seeded from the design); here
the punched walls get the key light like an engraving's, deeper and softer, and the
displaced metal a faint raised lip around each letter, lit the other way round."""

from __future__ import annotations

import threading

import numpy as np
from PIL import Image, ImageChops, ImageFilter

from proofmark_renderer.finishes.common import _wall_lut, blur_factor, tint, wall_light, wide_blur

# A shallow strike holds less blackening: the mask carries each letter's depth.
_FILL = [min(255, int(min(1.0, v / 85) * (0.45 + 0.6 * v / 255) * 255)) for v in range(256)]


# --- Each struck letter's irregularity: numpy's default_rng(seed), seeded faster ---------
#
# np.random.default_rng(seed) hashes the seed through a SeedSequence and seeds a PCG64
# with its state: about 30-70 us a letter, mostly numpy scalar work. letter_rng gives the
# very same generator state (and so the same draws) from the same published algorithms in
# plain integers, and sets it on a generator kept per thread. Tests compare both on
# thousands of seeds.
_M32 = 0xFFFFFFFF
_M128 = (1 << 128) - 1
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_PCG_MULT = (2549297995355413924 << 64) | 4865540595714422341


def _hash_consts(start: int, mult: int, count: int) -> tuple[int, ...]:
    out = [start]
    for _ in range(count):
        out.append((out[-1] * mult) & _M32)
    return tuple(out)


_HASH_A = _hash_consts(0x43B0D7E5, 0x931E8875, 20)  # SeedSequence's mixing constants, in order
_HASH_B = _hash_consts(0x8B51F9DD, 0x58F38DED, 8)  # ... and those of generate_state
_local = threading.local()


def _pcg64_state(seed: int) -> tuple[int, int]:
    """PCG64(SeedSequence(seed)).state's (state, inc) for 0 <= seed < 2**64."""
    words = [seed & _M32] if seed >> 32 == 0 else [seed & _M32, seed >> 32]
    ha = _HASH_A
    pool = []
    for i in range(4):
        v = (((words[i] if i < len(words) else 0) ^ ha[i]) * ha[i + 1]) & _M32
        pool.append(v ^ (v >> 16))
    h = 4
    for src in range(4):
        for dst in range(4):
            if src != dst:
                v = ((pool[src] ^ ha[h]) * ha[h + 1]) & _M32
                h += 1
                r = (_MIX_L * pool[dst] - _MIX_R * (v ^ (v >> 16))) & _M32
                pool[dst] = r ^ (r >> 16)
    hb = _HASH_B
    w = []
    for i in range(8):
        v = ((pool[i & 3] ^ hb[i]) * hb[i + 1]) & _M32
        w.append(v ^ (v >> 16))
    initstate = (w[1] << 96) | (w[0] << 64) | (w[3] << 32) | w[2]
    inc = ((((w[5] << 96) | (w[4] << 64) | (w[7] << 32) | w[6]) << 1) | 1) & _M128
    return ((inc + initstate) * _PCG_MULT + inc) & _M128, inc


def letter_rng(seed: int) -> np.random.Generator:
    """The same generator, in the same state, as np.random.default_rng(seed) (0 <= seed <
    2**64); valid until the next call in this thread."""
    if not 0 <= seed < 1 << 64:
        return np.random.default_rng(seed)
    gen = getattr(_local, "gen", None)
    if gen is None:
        gen = _local.gen = np.random.Generator(np.random.PCG64(0))
    state, inc = _pcg64_state(seed)
    gen.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": state, "inc": inc},
        "has_uint32": 0,
        "uinteger": 0,
    }
    return gen


def step_for(scale: float) -> int:
    return 2 if scale > 15 else 1


def lip_radius(step: int) -> float:
    return 2.5 * step + 2


def lip_slope(mask: Image.Image, step: int) -> Image.Image:
    """The lip's slope towards the light, as common.wall_light measures it (128 + half the
    difference of the values `step` px towards and away from the light, diagonally) on the
    wide blur of the mask (common.wide_blur), without the full-size shifts.

    The wide blur is a blur of a copy `f` times smaller, enlarged bilinearly, and `step` is
    half a pixel of that copy (2 of 4, 1 of 2). Enlarging is linear, so the difference of the
    enlarged copy at +-half a pixel is the enlarged difference of neighbouring pixels of the
    small copy, read half a pixel earlier: two shifts and a subtraction on a 16th (a 4th) of
    the pixels. Within 1-2 levels of the full-size way."""
    radius = lip_radius(step)
    f = blur_factor(radius)
    if f != 2 * step or min(mask.size) < 4 * f:
        blurred = wide_blur(mask, radius)
        return ImageChops.subtract(
            ImageChops.offset(blurred, step, step), ImageChops.offset(blurred, -step, -step), 2.0, 128
        )
    small = mask.reduce(f).filter(ImageFilter.GaussianBlur(radius / f))
    diff = ImageChops.subtract(small, ImageChops.offset(small, -1, -1), 2.0, 128)
    # Read half a pixel up and left: a flat border row and column first (resize's box cannot
    # start before the picture).
    sw, sh = small.size
    padded = Image.new("L", (sw + 1, sh + 1), 128)
    padded.paste(diff, (1, 1))
    return padded.resize(mask.size, Image.Resampling.BILINEAR, box=(0.5, 0.5, sw + 0.5, sh + 0.5))


def apply(scene, box: tuple[int, int, int, int], mask: Image.Image, seed: int) -> Image.Image:
    out = scene.image.crop(box)
    out.paste(scene.layers["floor"].crop(box), (0, 0), mask.point(_FILL))
    step = step_for(scene.scale)
    # The walls' light and shade, already scaled to how strongly they tint (the scales sit
    # in the lookup tables: a pass each fewer than scaling the maps afterwards).
    lit, shade = wall_light(mask, step, lit_scale=0.8, shade_scale=0.6)
    # The lip rises where the cut falls: the light meets it the other way round, outside the letters.
    slope = lip_slope(mask, step)
    toward, away = slope.point(_wall_lut(True, 0.24)), slope.point(_wall_lut(False, 0.4))
    # Inside the letters the walls, outside the lip, shared by coverage along the edges.
    tint(out, (0, 0, 0), Image.composite(shade, toward, mask))
    tint(out, scene.spark, Image.composite(lit, away, mask))
    return out


__all__ = ["apply", "Image"]
