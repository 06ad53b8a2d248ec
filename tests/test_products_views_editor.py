"""Issue 10: in the staff product editor, views are renamed and reordered (the first view is
the proof's picture, and the editor says so); a mask or light layer is shown by its uploaded
file name and a thumbnail, not a bare hash."""

from __future__ import annotations

import io
import re
from html import unescape

from PIL import Image

from proofmark import products
from proofmark.db import get_db
from proofmark_renderer import catalog


def _picture(size=(400, 300), colour=(180, 180, 185), fmt="JPEG", mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, fmt)
    return out.getvalue()


def _post(staff, url, **data):
    return staff.post(url, data=data, content_type="multipart/form-data")


def _draft(app) -> dict:
    with app.app_context():
        return products.draft(get_db(), "tag")


def test_views_are_renamed_and_reordered_and_the_first_is_the_proof_view(app, staff):
    from tests.test_products import _new_product

    assert _new_product(staff, _picture()).status_code == 303
    edit = "/staff/products/tag"
    close = _picture((800, 600), (150, 150, 160))
    assert (
        _post(staff, f"{edit}/views", name="Close up", photo=(io.BytesIO(close), "c.jpg")).status_code == 303
    )
    back = _picture((400, 300), (90, 90, 100))
    assert _post(staff, f"{edit}/views", name="Back", photo=(io.BytesIO(back), "b.jpg")).status_code == 303
    # A variant with its own photo for view 1 only: it must stay with that view when moved.
    assert _post(staff, f"{edit}/variants", name="Black").status_code == 303
    dark = _picture((400, 300), (40, 40, 45))
    assert (
        _post(staff, f"{edit}/variants/black/photo", view="0", photo=(io.BytesIO(dark), "d.jpg")).status_code
        == 303
    )
    before = _draft(app)
    assert [v["name"] for v in before["views"]] == ["main", "close-up", "back"]

    page = staff.get(f"{edit}?view=1").get_data(as_text=True)
    assert "View 1 is the proof&#39;s picture" in page or "View 1 is the proof's picture" in unescape(page)
    assert 'name="to" value="up"' in page and "Make it the proof view" in page
    assert 'aria-describedby="proof-view-note"' in page and 'id="proof-view-note"' in page
    # On the first view, "earlier" is disabled and the page says it is the proof's picture.
    first = staff.get(f"{edit}?view=0").get_data(as_text=True)
    assert 'value="up"' not in first and 'name="to" value="down"' in first
    assert (
        "This view is the proof&#39;s picture." in first
        or "This view is the proof's picture." in unescape(first)
    )

    # Rename: a slug, unique, never empty.
    renamed = _post(staff, f"{edit}/views/1/rename", name="Close-up detail")
    assert renamed.status_code == 303 and "view=1" in renamed.headers["Location"]
    assert _draft(app)["views"][1]["name"] == "close-up-detail"
    taken = _post(staff, f"{edit}/views/2/rename", name="main")
    assert taken.status_code == 400 and "already one called" in unescape(taken.get_data(as_text=True))
    empty = _post(staff, f"{edit}/views/2/rename", name="  ")
    assert empty.status_code == 400 and "Give the view a name" in empty.get_data(as_text=True)
    assert _post(staff, f"{edit}/views/9/rename", name="x").status_code == 400

    # Reorder: the close-up becomes the proof view; its corners, photo and the variant's
    # photos go with it.
    moved = _post(staff, f"{edit}/views/1/move", to="up")
    assert moved.status_code == 303 and "view=0" in moved.headers["Location"]
    after = _draft(app)
    assert [v["name"] for v in after["views"]] == ["close-up-detail", "main", "back"]
    assert after["views"][0]["sha256"] == before["views"][1]["sha256"]
    assert after["views"][0]["areas"] == before["views"][1]["areas"]
    black = next(v for v in after["variants"] if v["id"] == "black")
    assert black["photos"] == [
        before["views"][1]["photo"],
        before["variants"][0]["photos"][0],
        before["views"][2]["photo"],
    ]
    assert _post(staff, f"{edit}/views/2/move", to="down").status_code == 303  # already last: unchanged
    assert [v["name"] for v in _draft(app)["views"]] == ["close-up-detail", "main", "back"]
    assert _post(staff, f"{edit}/views/0/move", to="sideways").status_code == 400
    # Published, the proof view is the moved one.
    assert staff.post(f"{edit}/publish").status_code == 303
    with app.app_context():
        tag = catalog.product("tag")
        assert tag.view_names == ("close-up-detail", "main", "back")
        assert tag.views[0].width_px == 800
        assert tag.variant_spec("black").views[1].sha256 != tag.views[1].sha256


def test_mask_and_light_show_their_file_name_and_a_thumbnail(app, staff):
    from tests.test_products import _new_product

    assert _new_product(staff, _picture()).status_code == 303
    edit = "/staff/products/tag"
    mask = _picture((400, 300), 0, "PNG", "L")
    assert (
        _post(staff, f"{edit}/views/0/mask", mask=(io.BytesIO(mask), "chain-over-tag.png")).status_code == 303
    )
    light = _picture((400, 300), (128, 128, 128), "PNG")
    assert _post(staff, f"{edit}/views/0/light", light=(io.BytesIO(light), "glint.png")).status_code == 303
    data = _draft(app)
    assert data["file_names"] == {
        data["views"][0]["mask"]: "chain-over-tag.png",
        data["views"][0]["light"]: "glint.png",
    }
    page = unescape(staff.get(edit).get_data(as_text=True))
    assert "<strong>chain-over-tag.png</strong>" in page and "<strong>glint.png</strong>" in page
    thumb = re.search(
        r'<img src="([^"]+)" width="64" height="48" class="layer-thumb"\s+alt="The mask now: chain-over-tag.png"',
        page,
    )
    assert thumb, page[page.find("view-files") : page.find("view-files") + 2000]
    shown = staff.get(thumb.group(1))
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    assert Image.open(io.BytesIO(shown.data)).size == (400, 300)
    assert 'aria-label="Remove the light layer"' in page
    assert staff.get("/staff/products/layer/" + "0" * 64 + ".png").status_code == 404
    assert staff.get("/staff/products/layer/nothex.png").status_code == 404
    # Removing a layer forgets its name; publishing writes no file names into product.toml.
    assert _post(staff, f"{edit}/views/0/mask", remove="1").status_code == 303
    data = _draft(app)
    assert list(data["file_names"].values()) == ["glint.png"]
    assert staff.post(f"{edit}/publish").status_code == 303
    with app.app_context():
        from pathlib import Path

        toml = (Path(app.instance_path) / "products" / "tag" / "1" / "product.toml").read_text()
    assert "file_names" not in toml and "glint" not in toml and 'light = "light-1.png"' in toml
