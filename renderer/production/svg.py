"""The SVG production file: 1:1 in millimetres, every letter a closed outline, one group
per layer with stable ids (`guide`, `cut`, `engrave`)."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape, quoteattr

from proofmark_renderer.production.geometry import Area, _fmt

METADATA_NS = "urn:proofmark:production:1"
ENGRAVE_COLOUR = "#000000"
GUIDE_COLOUR = "#1e88e5"
CUT_COLOUR = "#e53935"
HAIRLINE_MM = 0.05


def _mirror(area: Area) -> str:
    x, _, w, _ = area.box
    return f' transform="translate({_fmt(2 * x + w)} 0) scale(-1 1)"' if area.mirror else ""


def write(area: Area, meta: dict, *, guides: bool = True) -> str:
    x, y, w, h = area.box
    mirror = _mirror(area)
    title = f"Order {meta.get('order_ref', '')} · proof {meta.get('proof_id', '')} revision {meta.get('revision', '')} · {meta.get('product', '')} · {area.id}"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{_fmt(w)}mm" height="{_fmt(h)}mm" '
        f'viewBox="{_fmt(x)} {_fmt(y)} {_fmt(w)} {_fmt(h)}">\n',
        f"<title>{escape(title)}</title>\n",
        f"<desc>{escape(meta.get('text', ''))}</desc>\n",
        f'<metadata><proofmark xmlns="{METADATA_NS}">{escape(json.dumps(meta, ensure_ascii=False, sort_keys=True))}</proofmark></metadata>\n',
    ]
    if guides:
        out.append(
            f'<g id="guide" fill="none" stroke="{GUIDE_COLOUR}" stroke-width="{HAIRLINE_MM}"{mirror}>'
            f'<rect id="guide-artboard" x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(w)}" height="{_fmt(h)}"/>'
            + "".join(f"<path id={quoteattr(gid)} d={quoteattr(d)}/>" for gid, d in area.guides)
            + "</g>\n"
        )
        # Nothing of a catalog product is cut out today; the layer is there so that a maker's
        # job set-up (engrave this, cut that) never depends on whether it is.
        out.append(f'<g id="cut" fill="none" stroke="{CUT_COLOUR}" stroke-width="{HAIRLINE_MM}"{mirror}/>\n')
    out.append(f'<g id="engrave" fill="{ENGRAVE_COLOUR}" fill-rule="nonzero" stroke="none"{mirror}>\n')
    for line in area.lines:
        if line.path.d:
            out.append(
                f"<path id={quoteattr(line.name)} d={quoteattr(line.path.d)}><title>{escape(line.text)}</title></path>\n"
            )
    out.append("</g>\n</svg>\n")
    return "".join(out)
