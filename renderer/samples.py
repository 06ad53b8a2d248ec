"""The fixed designs used by the benchmark, the golden images and the contact sheet."""

from __future__ import annotations

from proofmark_renderer.model import Design

SAMPLES: dict[str, tuple[Design, ...]] = {
    "pendant-round": (
        Design("pendant-round", "dancing-script", ("Emma", "12.03.2019"), {"rim": "forever in our hearts"}),
        Design("pendant-round", "eb-garamond", ("Noah", "& Lily")),
        Design("pendant-round", "noto-sans-hebrew", ("שרה",)),
    ),
    "bar-necklace": (
        Design("bar-necklace", "playfair-display", ("Olivia & James",)),
        Design("bar-necklace", "great-vibes", ("Amélie",)),
        Design("bar-necklace", "montserrat", ("40°42′N 74°00′W",)),
    ),
    "ring-band": (
        Design("ring-band", "eb-garamond", ("Always & Forever · 2021",)),
        Design("ring-band", "allura", ("Mon amour",)),
        Design("ring-band", "noto-sans-arabic", ("حبيبي",)),
    ),
    "ornament-stamped": (
        Design("ornament-stamped", "courier-prime", ("IN LOVING", "MEMORY OF", "GRANDPA")),
        Design("ornament-stamped", "special-elite", ("Baby's", "First", "Christmas")),
        Design("ornament-stamped", "courier-prime", ("ZOE", "2024")),
    ),
    "cutting-board": (
        Design("cutting-board", "playfair-display", ("The Millers", "Est. 2019")),
        Design("cutting-board", "great-vibes", ("Nonna's Kitchen",)),
        Design("cutting-board", "montserrat", ("KOWALSKI", "ŁÓDŹ · 1987")),
    ),
    "tshirt": (
        Design("tshirt", "montserrat", ("BRIDE", "SQUAD")),
        Design("tshirt", "special-elite", ("Team Lucía",)),
        Design("tshirt", "dancing-script", ("Birthday", "Girl")),
    ),
    "mug": (
        Design("mug", "dancing-script", ("World's Best", "Grandma")),
        Design("mug", "playfair-display", ("Dad",)),
        Design("mug", "lato", ("Coffee first,", "talk later")),
    ),
}


def first(product_id: str) -> Design:
    return SAMPLES[product_id][0]


# The demo shop's photo-based products (proofmark_renderer.photo_samples), for the benchmark.
PHOTO_SAMPLES: dict[str, tuple[Design, ...]] = {
    "dog-tag": (
        Design("dog-tag", "montserrat", ("REX", "07700 900123")),
        Design("dog-tag", "courier-prime", ("IF FOUND", "CALL 555-0199", "REWARD")),
    ),
    "tumbler": (
        Design("tumbler", "dancing-script", ("Hannah",)),
        Design("tumbler", "montserrat", ("COFFEE", "FIRST")),
    ),
    "maple-sign": (
        Design("maple-sign", "playfair-display", ("The Millers", "Est. 2019")),
        Design("maple-sign", "great-vibes", ("Home Sweet Home",)),
    ),
    "round-plaque": (
        Design("round-plaque", "playfair-display", ("The Millers' Cabin",)),
        Design("round-plaque", "great-vibes", ("Anna & Jonas",)),
    ),
}
