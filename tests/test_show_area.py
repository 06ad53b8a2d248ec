"""The "show area" toggle: every preview can outline where text can go (issue 10, item 7)."""

from __future__ import annotations

import io
import re
from html import unescape
from urllib.parse import parse_qs, urlparse

import numpy as np
from PIL import Image

from proofmark.personalizer import previews
from proofmark_renderer import Design, catalog, render, scenes

HX = {"HX-Request": "true"}


def _src(html: str) -> str:
    match = re.search(r'class="pz-img" src="([^"]+)"', html)
    assert match, "no preview image in the page"
    return unescape(match.group(1))


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.int16)


def test_page_has_an_accessible_area_checkbox_that_sends_area_with_the_form(client):
    html = client.get("/p/mug").get_data(as_text=True)
    box = re.search(r'<label class="pz-area"><input type="checkbox"([^>]*)>\s*([^<]+)</label>', html, re.S)
    assert box, "no show-area checkbox"
    attrs, label = box.group(1), box.group(2)
    assert label.strip() == "Show where text can go"
    assert 'name="area"' in attrs and 'value="1"' in attrs and 'form="pz-form"' in attrs
    assert "checked" not in attrs
    assert "area=1" not in _src(html)


def test_ticked_the_preview_url_asks_for_the_outline_and_the_box_stays_ticked(client):
    # htmx posts the whole form with the box; a no-JavaScript post sends the same fields.
    for headers in (HX, {}):
        response = client.post(
            "/p/bar-necklace/preview",
            data={"line-1": "Forever", "font": "lato", "area": "1"},
            headers=headers,
        )
        html = response.get_data(as_text=True)
        src = urlparse(_src(html))
        design = Design(product="bar-necklace", font="lato", lines=("Forever",))
        assert src.path == f"/preview/{design.content_key(1000, 'jpeg', area=True)}.jpg"
        assert parse_qs(src.query)["area"] == ["1"]
        if not headers:
            assert re.search(r'<input type="checkbox"[^>]*data-pz-area\s+checked', html)


def test_area_preview_is_its_own_picture_with_its_own_key_and_cache_entry(app, client):
    design = Design(product="cutting-board", font="lato", lines=("Kowalski",))
    previews.clear_memory_cache()
    with app.test_request_context():
        plain_url = previews.preview_url(design, 600, "png")
        area_url = previews.preview_url(design, 600, "png", area=True)
    assert plain_url != area_url
    plain, area = client.get(plain_url), client.get(area_url)
    assert plain.status_code == area.status_code == 200
    assert area.headers["ETag"] == f'"{design.content_key(600, "png", area=True)}"'
    assert area.data == render(design, 600, "png", area=True).image
    # The outline is drawn where the region is and nowhere else.
    diff = np.abs(_pixels(area.data) - _pixels(plain.data)).sum(axis=2) > 30
    ys, xs = np.nonzero(diff)
    scene = scenes.scene(catalog.product("cutting-board"), 600)
    scale, (ox, _) = scene.scale, scene.origin
    assert diff.sum() > 500
    region = catalog.product("cutting-board").region
    assert abs((xs.min() - ox) / scale - region.x_mm) < 2
    assert abs((xs.max() - ox) / scale - (region.x_mm + region.w_mm)) < 2
    previews.flush_disk_writes()  # the disk cache is written off the request, by one thread
    cached = sorted(
        p.name for p in (previews.Path(app.instance_path) / "images" / "previews").glob("*/*.png")
    )
    assert len(cached) == 2
    # Served again from the fast path's memory with the key checked against area=1.
    assert client.get(area_url).data == area.data
    # The flag cannot be dropped from, or added to, an address.
    assert client.get(area_url.replace("&area=1", "").replace("area=1&", "")).status_code == 400
    assert client.get(plain_url + "&area=1").status_code == 400


def test_confirm_page_links_the_outlined_preview(client):
    html = client.get("/p/mug/confirm", query_string={"line-1": "Opa", "font": "lato"}).get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)"[^>]*>show where text can go</a>', html)
    assert link, "no show-area link on the confirmation page"
    url = unescape(link.group(1))
    assert "area=1" in url
    assert client.get(url).status_code == 200
