"""Values that cross the renderer's border: what to make, what came out, what is wrong."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import asdict, dataclass

# Bump whenever output changes for the same design: it is part of every content key (so cached
# previews are never stale) and is recorded in design tokens and revisions.
RENDERER_VERSION = "7"

ALIGNMENTS = ("center", "left", "right")


@dataclass(frozen=True)
class Design:
    """What the shopper asked for: exactly their text, never corrected."""

    product: str
    font: str
    lines: tuple[str, ...] = ()
    # Named fields for products that have them (e.g. {"rim": "..."} on the round pendant).
    fields: tuple[tuple[str, str], ...] = ()
    align: str = "center"
    size_mode: str = "auto"  # "auto" fits the largest size; "min" uses the product's minimum
    # The product's variant (metal, colour), by id; "" for a product without variants. Left out
    # of the canonical JSON when empty, so every design made before variants keeps its key.
    variant: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", tuple(self.lines))
        fields = self.fields.items() if isinstance(self.fields, dict) else self.fields
        object.__setattr__(self, "fields", tuple(sorted((str(k), str(v)) for k, v in fields)))

    def field(self, name: str, default: str = "") -> str:
        return dict(self.fields).get(name, default)

    def to_dict(self) -> dict:
        return {
            "product": self.product,
            "font": self.font,
            "lines": list(self.lines),
            "fields": dict(self.fields),
            "align": self.align,
            "size_mode": self.size_mode,
        } | ({"variant": self.variant} if self.variant else {})

    @classmethod
    def from_dict(cls, data: dict) -> Design:
        return cls(
            product=str(data.get("product", "")),
            font=str(data.get("font", "")),
            lines=tuple(str(x) for x in data.get("lines", ())),
            fields=tuple((str(k), str(v)) for k, v in dict(data.get("fields", {})).items()),
            align=str(data.get("align", "center")),
            size_mode=str(data.get("size_mode", "auto")),
            variant=str(data.get("variant", "") or ""),
        )

    def canonical_json(self) -> str:
        # Made once per design: a preview request asks for it three times (the address's
        # check, its content key, the renderer's key). Kept outside the fields, so equality,
        # hashing and `asdict` do not see it.
        text = self.__dict__.get("_canonical_json")
        if text is None:
            text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            self.__dict__["_canonical_json"] = text
        return text

    def content_key(self, width: int, fmt: str, area: bool = False, view: int = 0) -> str:
        """Hash of the design, the output options and the renderer version. `area` (the
        personalization areas outlined over the picture) is a different picture, so a
        different key, and so is any view but the product's first; without them the key is
        as it always was."""
        extra = ("|area" if area else "") + (f"|view={int(view)}" if view else "")
        blob = f"{RENDERER_VERSION}|{width}|{fmt}|{self.canonical_json()}{extra}".encode()
        return hashlib.sha256(blob).hexdigest()[:32]

    def text_summary(self) -> str:
        parts = [line for line in self.lines]
        parts += [f"{k}: {v}" for k, v in self.fields if v]
        return " / ".join(parts)


@dataclass(frozen=True)
class Issue:
    code: str  # stable, e.g. "glyph-missing", "too-wide", "date-ambiguous"
    severity: str  # "error" blocks ordering; "warning" asks the shopper to check
    message: str  # plain language, for the shopper
    line: int | None = None  # 1-based line number, None for the whole design
    field: str | None = None  # named field this concerns, if any
    suggestions: tuple[dict, ...] = ()  # e.g. {"kind": "font", "font": "noto-sans", "label": "Noto Sans"}
    data: dict = dataclasses.field(default_factory=dict)  # machine-readable detail (chars, readings, percent)

    @property
    def blocking(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LineBox:
    line: int
    text: str
    # Box on the product, in millimetres from the product's top-left corner.
    x_mm: float
    y_mm: float
    width_mm: float
    height_mm: float
    # Named field this box belongs to (line is then 0), e.g. "rim".
    field: str | None = None
    # Letter (cap) height of this line; a named field may differ from the main lines.
    letter_height_mm: float = 0.0


@dataclass(frozen=True)
class Layout:
    font_size_mm: float  # cap-to-baseline letter height used
    boxes: tuple[LineBox, ...] = ()


@dataclass(frozen=True)
class RenderResult:
    image: bytes
    content_type: str
    content_key: str
    layout: Layout | None
    issues: tuple[Issue, ...]
    width: int
    height: int
    # The drawn picture itself (PIL RGB image), only when asked for with render(keep_picture=True):
    # what else is made from the same picture (the email JPEG of a proof) starts from it
    # instead of decoding `image` again.
    picture: object = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return not any(i.blocking for i in self.issues)
