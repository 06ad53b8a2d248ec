"""A minimal vector PDF of filled outlines: one page the size of the artboard, the outlines
as path operators (m, l, c, h, f), no fonts and no images, and the metadata in the
document information dictionary. Deterministic, and fast enough for batch exports (a
general PDF library spends most of its time on the thousands of path points)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

PT_PER_MM = 72 / 25.4


def _num(v: float) -> str:
    return "%.3f" % v  # noqa: UP031 - printf-style is the fastest formatter for 100k+ numbers


def _text(value: str) -> str:
    """A PDF text string in UTF-16BE with its byte-order mark, as hex (any script, no escaping)."""
    return "<FEFF" + value.encode("utf-16-be").hex().upper() + ">"


_PDF_OPS = {"M": "%.3f %.3f m", "L": "%.3f %.3f l", "C": "%.3f %.3f %.3f %.3f %.3f %.3f c", "Z": "h"}


def path_ops(segments) -> str:
    """Path construction operators (m, l, c, h) for segments in millimetres, y down; the
    numbers are written in one formatting pass (a large product has tens of thousands)."""
    template: list[str] = []
    numbers: list[float] = []
    cur_x = cur_y = 0.0
    for seg in segments:
        op = seg[0]
        if op == "M" or op == "L":
            cur_x, cur_y = seg[1]
            numbers += seg[1]
        elif op == "Q":
            # A quadratic as the cubic with the same curve (PDF has only cubics).
            (cx, cy), (px, py) = seg[1], seg[2]
            numbers += (
                cur_x + 2 / 3 * (cx - cur_x),
                cur_y + 2 / 3 * (cy - cur_y),
                px + 2 / 3 * (cx - px),
                py + 2 / 3 * (cy - py),
                px,
                py,
            )
            cur_x, cur_y = px, py
            op = "C"
        elif op == "C":
            numbers += (*seg[1], *seg[2], *seg[3])
            cur_x, cur_y = seg[3]
        elif op != "Z":
            continue
        template.append(_PDF_OPS[op])
    return "\n".join(template) % tuple(numbers)


@dataclass(frozen=True)
class Placed:
    """Path operators made once (a label's outlines at the origin) and drawn moved by dx, dy
    millimetres: a translation in the graphics state, so the numbers are not written again."""

    ops: str
    dx: float
    dy: float


def content(segments, box, mirror: bool) -> bytes:
    """segments: path segments in millimetres (filled together, non-zero winding as the SVG),
    and Placed items among them (each filled on its own)."""
    x0, y0, w, h = box
    k = PT_PER_MM
    # Millimetres with y down (the SVG's) to points with y up, at the artboard's origin.
    if mirror:
        cm = f"{_num(-k)} 0 0 {_num(-k)} {_num((x0 + w) * k)} {_num((y0 + h) * k)} cm"
    else:
        cm = f"{_num(k)} 0 0 {_num(-k)} {_num(-x0 * k)} {_num((y0 + h) * k)} cm"
    out = ["q", cm, "0 g"]
    run: list = []
    for item in segments:
        if isinstance(item, Placed):
            if run:
                out += (path_ops(run), "f")
                run = []
            if item.ops:
                out.append(f"q 1 0 0 1 {_num(item.dx)} {_num(item.dy)} cm\n{item.ops}\nf\nQ")
        else:
            run.append(item)
    if run:
        ops = path_ops(run)
        if ops:
            out += (ops, "f")  # non-zero winding, as the SVG
    out.append("Q")
    return "\n".join(out).encode()


def write(segments, box, mirror: bool, info: dict[str, str]) -> bytes:
    return write_pages([(segments, box, mirror)], info)


def write_pages(pages, info: dict[str, str]) -> bytes:
    """pages: (segments, box, mirror) each; a page is its box's size."""
    n = len(pages)
    # Objects: 1 catalog, 2 pages, 3 info, then a page and its content stream per page.
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode(),
        ("<< " + " ".join(f"/{k} {_text(v)}" for k, v in info.items()) + " >>").encode(),
    ]
    for i, (segments, box, mirror) in enumerate(pages):
        _, _, w, h = box
        stream = zlib.compress(content(segments, box, mirror), 1)
        objects.append(
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_num(w * PT_PER_MM)} {_num(h * PT_PER_MM)}] "
                f"/Contents {5 + 2 * i} 0 R /Resources << >> >>"
            ).encode()
        )
        objects.append(
            f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream + b"\nendstream"
        )
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 3 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
