"""Procedural materials: brushed and polished metal, maple, cotton jersey, glazed ceramic.

Everything is generated from fixed seeds with numpy, so a product looks the same on
every run and no image from elsewhere is needed. Arrays are float32 in 0..1.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

SILVER = np.array([0.86, 0.87, 0.89], np.float32)
GOLD = np.array([1.00, 0.80, 0.48], np.float32)
ALUMINIUM = np.array([0.78, 0.79, 0.81], np.float32)


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def smooth_noise(
    h: int, w: int, cell: float, seed: int, stretch: tuple[float, float] = (1.0, 1.0)
) -> np.ndarray:
    """Value noise: random numbers on a coarse grid, resized smoothly; zero mean, unit-ish range."""
    gh = max(2, int(h / (cell * stretch[1])) + 2)
    gw = max(2, int(w / (cell * stretch[0])) + 2)
    small = rng(seed).standard_normal((gh, gw)).astype(np.float32)
    im = Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(im, dtype=np.float32)


def fractal(
    h: int, w: int, cell: float, seed: int, octaves: int = 4, stretch: tuple[float, float] = (1.0, 1.0)
) -> np.ndarray:
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        out += amp * smooth_noise(h, w, max(cell / 2**o, 1.0), seed + 101 * o, stretch)
        total += amp
        amp *= 0.5
    return out / total


def brushed(h: int, w: int, seed: int, streak: float = 60.0) -> np.ndarray:
    """Fine parallel scratches: noise stretched along x, in several widths."""
    out = np.zeros((h, w), np.float32)
    for i, (cell, amp) in enumerate(((1.0, 0.55), (2.0, 0.3), (5.0, 0.15))):
        gh = max(2, int(h / cell) + 2)
        gw = max(2, int(w / streak) + 2)
        small = rng(seed + i).standard_normal((gh, gw)).astype(np.float32)
        out += amp * np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BILINEAR), np.float32)
    return out


def scratches(
    h: int, w: int, seed: int, scale: float, count: int = 70, along: float = 0.0, spread: float = 0.35
) -> np.ndarray:
    """Stray hairline scratches from wear: short straight lines, mostly along the direction
    `along` (radians, image coordinates), that catch the light a little. `scale` is px/mm."""
    from PIL import ImageDraw

    r = rng(seed)
    ss = 2
    im = Image.new("L", (w * ss, h * ss), 0)
    draw = ImageDraw.Draw(im)
    for _ in range(count):
        x, y = r.uniform(0, w), r.uniform(0, h)
        length = r.uniform(0.4, 3.0) * scale
        a = along + r.normal(0, spread)
        dx, dy = np.cos(a) * length / 2, np.sin(a) * length / 2
        value = int(r.uniform(40, 140))
        draw.line(
            [((x - dx) * ss, (y - dy) * ss), ((x + dx) * ss, (y + dy) * ss)],
            fill=value,
            width=max(1, round(0.012 * scale * ss)),
        )
    small = im.resize((w, h), Image.Resampling.BOX)
    return np.asarray(small, np.float32) * (0.5 / 255)


def studio_reflection(h: int, w: int, seed: int) -> np.ndarray:
    """What a flat polished surface mirrors in a studio: a soft diagonal window of light
    over a darker room, slightly uneven."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = xx / max(w, 1) * 0.8 + yy / max(h, 1) * 0.6
    u = u + 0.025 * smooth_noise(h, w, max(w, h) / 4, seed)
    # A softbox has crisp edges; a mirror shows them crisp too.
    band = np.clip((0.16 - np.abs(u - 0.47)) / 0.05, 0, 1)
    glow = np.exp(-(((u - 0.47) / 0.3) ** 2))
    second = 0.45 * np.clip((0.035 - np.abs(u - 0.98)) / 0.02, 0, 1)
    return 0.28 + 0.32 * glow + 0.55 * band + second


def wood_grain(
    h: int, w: int, seed: int, scale: float, y0: float = 0.0, height_mm: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Face-grain maple along x. Returns (rgb, latewood) where latewood (0..1) marks the
    denser growth lines that a laser burns darker. `scale` is pixels per millimetre.

    A board is glued up from strips (from y0, over height_mm): each strip has its own shade
    and its own growth rings, whose widths vary year by year, so no two lines are evenly
    spaced and the strips meet in faint glue lines."""
    r = rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ymm = (yy - y0) / scale
    span = height_mm if height_mm is not None else h / scale
    # Strips 30..60 mm wide across the board.
    widths = []
    while sum(widths) < span:
        widths.append(float(r.uniform(30, 60)))
    edges = np.cumsum(widths)[:-1] * (span / sum(widths))
    strip = np.searchsorted(edges, ymm).astype(np.int32)
    n = len(widths)
    shade = (1 + r.normal(0, 0.035, n)).astype(np.float32)  # one lighter, one a little darker
    warmth = r.normal(0, 0.03, n).astype(np.float32)
    offset = r.uniform(0, 500, n).astype(np.float32)  # where in the log each strip was cut
    slope = r.normal(0, 0.012, n).astype(np.float32)  # the rings run a little off the strip
    density = r.uniform(0.8, 1.25, n).astype(np.float32)
    warp = fractal(h, w, 60 * scale, seed, 3, stretch=(6.0, 1.0)) * 5.0 * scale
    wobble = smooth_noise(h, w, 25 * scale, seed + 7, stretch=(8.0, 1.0)) * 1.2 * scale
    v = (yy + warp + wobble) / scale * density[strip] + offset[strip] + slope[strip] * xx / scale
    # Growth rings of uneven width (a wet year, a dry one): 0.8 .. 5 mm, cumulated.
    rings = np.clip(r.lognormal(np.log(2.0), 0.5, 2000), 0.6, 6.0)
    starts = np.concatenate([[0.0], np.cumsum(rings)])
    phase = np.interp(v, starts, np.arange(len(starts), dtype=np.float64)).astype(np.float32)
    ring = phase - np.floor(phase)
    ring_strength = r.uniform(0.35, 1.0, len(starts)).astype(np.float32)
    index = np.clip(phase.astype(np.int32), 0, len(starts) - 1)
    # Earlywood darkens slowly into the latewood, which ends sharply at the next ring.
    along = np.clip(0.55 + 0.6 * smooth_noise(h, w, 40 * scale, seed + 5, stretch=(5.0, 1.0)), 0.1, 1)
    profile = np.clip((ring - 0.35) / 0.65, 0, 1) ** 2.5 * np.clip((1.0 - ring) / 0.05, 0, 1)
    latewood = (profile * ring_strength[index] * along).astype(np.float32)
    fibres = brushed(h, w, seed + 3, streak=30 * scale) * 0.5
    tone = fractal(h, w, 80 * scale, seed + 11, 3, stretch=(4.0, 1.0))
    # Ray flecks: short, faint, darker dashes across the face, as maple shows.
    fleck = np.clip(smooth_noise(h, w, 0.5 * scale, seed + 13, stretch=(5.0, 1.0)) - 1.9, 0, 1)
    base = np.array([0.88, 0.72, 0.51], np.float32)
    dark = np.array([0.70, 0.50, 0.30], np.float32)
    mix = np.clip(0.5 * latewood + 0.08 * fibres + 0.22 * tone + 0.1 + 0.2 * fleck, 0, 1)[..., None]
    rgb = base * (1 - mix) + dark * mix
    rgb *= (shade[strip] * (1.0 + 0.035 * fibres))[..., None]
    rgb[..., 0] *= 1 + warmth[strip]
    rgb[..., 2] *= 1 - warmth[strip]
    # Glue lines between the strips: hairline and a touch darker.
    gap = (
        np.min(np.abs(ymm[..., None] - edges[None, None, :]), axis=2) if len(edges) else np.full_like(ymm, 99)
    )
    rgb *= (1 - 0.12 * np.clip(1 - gap * scale / 0.8, 0, 1))[..., None]
    return rgb.astype(np.float32), latewood.astype(np.float32)


def jersey(h: int, w: int, seed: int, period: float) -> np.ndarray:
    """Cotton jersey knit: columns of small V loops (wales) with heathered fibre noise.
    Returns the height of the fabric surface (0..1, 1 on top of a loop)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    col = xx / period
    row = yy / (period * 0.8)
    # A "V" per loop: the two legs lean opposite ways in alternate half-columns.
    lean = np.where((np.floor(col) % 2) == 0, 1.0, -1.0)
    loops = 0.5 + 0.5 * np.cos(2 * np.pi * (row + 0.5 * lean * (col - np.floor(col))))
    wale = 0.5 + 0.5 * np.cos(2 * np.pi * col * 0.5) ** 2
    fibre = fractal(h, w, 3.0, seed, 2)
    height = 0.45 * loops + 0.3 * wale + 0.25 * (0.5 + 0.5 * fibre)
    return np.clip(height, 0, 1).astype(np.float32)


def folds(
    h: int, w: int, seed: int, creases: list[tuple[float, float, float, float, float, float]]
) -> np.ndarray:
    """Height of a cloth lying flat with soft creases. Each crease is (x, y, angle, length,
    width, height) in pixels: a ridge along a line, fading towards its ends."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = 0.35 * fractal(h, w, max(w, h) / 6, seed, 3)
    for cx, cy, angle, length, width, height in creases:
        ux, uy = np.cos(angle), np.sin(angle)
        along = (xx - cx) * ux + (yy - cy) * uy
        across = -(xx - cx) * uy + (yy - cy) * ux
        out += height * np.exp(-((across / width) ** 2) - (along / (length / 2)) ** 2)
    return out.astype(np.float32)


def _box(a: np.ndarray, r: int, axis: int) -> np.ndarray:
    pad = [(0, 0)] * a.ndim
    pad[axis] = (r + 1, r)
    c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis, dtype=np.float64)
    n = a.shape[axis]
    hi = np.take(c, np.arange(2 * r + 1, 2 * r + 1 + n), axis=axis)
    lo = np.take(c, np.arange(0, n), axis=axis)
    return ((hi - lo) / (2 * r + 1)).astype(np.float32)


def blur(a: np.ndarray, radius: float) -> np.ndarray:
    """Near-Gaussian blur (three box passes per axis); for building substrates only."""
    r = max(1, int(round(radius / 1.73)))
    out = a.astype(np.float32)
    for _ in range(3):
        out = _box(_box(out, r, 0), r, 1)
    return out
