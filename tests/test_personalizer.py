"""The personalizer pages, the live-preview partial and the preview image cache."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest

from proofmark.personalizer import previews
from proofmark_renderer import Design, catalog, render

HX = {"HX-Request": "true"}


def preview_src(html: str) -> str:
    match = re.search(r'class="pz-img" src="([^"]+)"', html)
    assert match, "no preview image in the page"
    return unescape(match.group(1))


def slot(html: str, slot_id: str) -> str:
    """The contents of one element by id (issue slots hold no nested divs of their own id)."""
    match = re.search(
        rf'<(div|span) id="{re.escape(slot_id)}"[^>]*>(.*?)</\1>\s*(?=<(?:div|span) id=|$)', html, re.S
    )
    assert match, f"no #{slot_id}"
    return match.group(2)


def test_catalog_lists_every_product_with_a_sample_preview(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for product in catalog.products():
        assert f'href="/p/{product.id}"' in html
        assert product.name in html
    assert html.count('src="/preview/') == len(catalog.products())


def test_personalize_page_has_lines_fields_fonts_and_preview(client):
    product = catalog.product("pendant-round")
    html = client.get("/p/pendant-round").get_data(as_text=True)
    for n in range(1, product.max_lines + 1):
        assert f'name="line-{n}"' in html
    assert 'name="field-rim"' in html
    for font_id in product.allowed_fonts:
        assert f'value="{font_id}"' in html
        assert f'class="font-name fs-{font_id}"' in html
    # htmx wiring: debounce, newest request wins, loading indicator.
    assert 'hx-trigger="input changed delay:250ms, change"' in html
    assert 'hx-sync="this:replace"' in html
    assert 'hx-indicator="#pz-stage"' in html
    assert "/personalize/fonts.css" in html
    # An empty design is not scolded while the shopper has not typed yet.
    assert "Type the text to be made" not in html
    assert "Type your text to continue" in html


def test_live_preview_partial_is_keyed_by_content(client):
    response = client.post("/p/bar-necklace/preview", data={"line-1": "Forever", "font": "lato"}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and 'id="pz-preview"' in html
    src = urlparse(preview_src(html))
    design = Design(product="bar-necklace", font="lato", lines=("Forever",))
    key = design.content_key(1000, "jpeg")
    assert src.path == f"/preview/{key}.jpg"
    assert parse_qs(src.query)["w"] == ["1000"]
    assert previews.decode_design(parse_qs(src.query)["d"][0]) == design
    # Every issue slot and the continue button come along out of band.
    for oob in ("issues-line-1", "issues-general", "count-line-1", "font-status-lato", "pz-continue"):
        assert f'id="{oob}" hx-swap-oob="innerHTML"' in html
    assert 'alt="Bar necklace with “Forever” in Lato"' in html


def test_missing_glyph_shows_error_with_font_suggestion_and_the_suggestion_fixes_it(client):
    data = {"line-1": "שרה", "font": "great-vibes"}
    html = client.post("/p/pendant-round/preview", data=data, headers=HX).get_data(as_text=True)
    issues = slot(html, "issues-line-1")
    assert 'data-code="glyph-missing"' in issues and "Great Vibes cannot draw" in issues
    assert 'name="use_font" value="noto-sans-hebrew"' in issues
    assert "can’t write" in slot(html, "font-status-great-vibes")
    assert "disabled" in slot(html, "pz-continue")
    # Without JavaScript the suggestion is a submit button: the page comes back with the font.
    fixed = client.post("/p/pendant-round", data={**data, "use_font": "noto-sans-hebrew"}).get_data(
        as_text=True
    )
    assert "<html" in fixed
    assert re.search(r'value="noto-sans-hebrew" checked', fixed)
    assert 'data-code="glyph-missing"' not in fixed
    assert "Check and confirm →" in fixed


def test_no_js_form_post_returns_the_whole_page_with_the_preview(client):
    response = client.post("/p/mug", data={"line-1": "Best Dad", "font": "montserrat", "align": "left"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert 'value="Best Dad"' in html
    design = Design(product="mug", font="montserrat", lines=("Best Dad",), align="left")
    assert f"/preview/{design.content_key(1000, 'jpeg')}.jpg" in preview_src(html)


def test_query_string_prefills_the_personalizer(client):
    html = client.get("/p/mug?line-1=Grandpa&font=lato").get_data(as_text=True)
    assert 'value="Grandpa"' in html and re.search(r'value="lato" checked', html)


def test_text_is_never_changed(client):
    typed = "  jOHN  smith "
    html = client.post("/p/cutting-board/preview", data={"line-1": typed}, headers=HX).get_data(as_text=True)
    design = previews.decode_design(parse_qs(urlparse(preview_src(html)).query)["d"][0])
    assert design.lines == (typed,)
    issues = slot(html, "issues-line-1")
    assert 'data-code="capitals-unusual"' in issues and 'data-code="space-leading"' in issues


def test_absurdly_long_input_is_refused_in_words_and_kept(client):
    long_text = "A" * 5000
    response = client.post("/p/pendant-round", data={"line-1": long_text})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "5,000 characters long" in html
    assert f'value="{long_text}"' in html
    assert "disabled" in html


def test_unknown_product_is_a_clear_404(client):
    response = client.get("/p/no-such-thing")
    assert response.status_code == 404
    assert "There is no product “\u2068no-such-thing\u2069”" in response.get_data(as_text=True)


def test_unknown_font_in_the_form_is_an_error_not_a_crash(client):
    html = client.post("/p/mug/preview", data={"line-1": "Hi", "font": "comic-sans"}, headers=HX).get_data(
        as_text=True
    )
    assert "There is no font “\u2068comic-sans\u2069”" in slot(html, "issues-general")


def test_font_stylesheet_and_subset_samples(client):
    css = client.get("/personalize/fonts.css").get_data(as_text=True)
    for font in catalog.fonts():
        assert f'font-family: "pm-{font.id}"' in css
    url = re.search(r'url\("(/personalize/font-sample/great-vibes\.ttf[^"]*)"\)', css).group(1)
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "font/ttf"
    assert "immutable" in response.headers["Cache-Control"]
    # A subset of the name's glyphs, not the 400 kB family.
    assert len(response.data) < 40_000
    import io

    from fontTools.ttLib import TTFont

    with TTFont(io.BytesIO(response.data)) as font:
        cmap = font.getBestCmap()
    assert all(ord(ch) in cmap for ch in "Great Vibes" if ch != " ")


def test_hebrew_fallback_font_shows_a_native_sample(client):
    html = client.get("/p/pendant-round").get_data(as_text=True)
    assert "Noto Sans Hebrew · שלום" in html


# --- preview images -------------------------------------------------------------------------


@pytest.fixture
def design():
    return Design(product="bar-necklace", font="playfair-display", lines=("Mila",))


def test_preview_image_is_cacheable_and_rendered_once(app, client, design):
    previews.clear_memory_cache()
    with app.test_request_context():
        url = previews.preview_url(design, 1000, "jpeg")
    with client.get(url) as first:
        assert first.status_code == 200
        assert first.mimetype == "image/jpeg"
        assert first.headers["ETag"] == f'"{design.content_key(1000, "jpeg")}"'
        assert first.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        body = first.data
    # Deterministic: the same bytes the renderer makes for this design.
    assert body == render(design, width=1000, fmt="jpeg").image
    previews.flush_disk_writes()  # the disk cache is written off the request, by one thread
    cached = list((previews.Path(app.instance_path) / "images" / "previews").glob("*/*.jpg"))
    assert [p.name for p in cached] == [f"{design.content_key(1000, 'jpeg')}.jpg"]
    mtime = cached[0].stat().st_mtime_ns
    previews.clear_memory_cache()
    with client.get(url) as again:
        assert again.data == body
    assert cached[0].stat().st_mtime_ns == mtime  # served from disk, not rendered again
    with client.get(url, headers={"If-None-Match": first.headers["ETag"]}) as not_modified:
        assert not_modified.status_code == 304
        assert not_modified.data == b""


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda u: u.replace("/preview/", "/preview/0"), "does not match its design"),
        (lambda u: u.replace("w=1000", "w=1001"), "widths"),
        (lambda u: u.replace("w=1000", "w=abc"), "needs a width"),
        (lambda u: re.sub(r"d=[^&]+", "d=%%%", u), "cannot be read"),
        (lambda u: re.sub(r"d=[^&]+", "d=", u), "no design"),
        (lambda u: re.sub(r"d=[^&]+", "d=" + "A" * 5000, u), "too long"),
        (lambda u: re.sub(r"d=[^&]+", "d=W10", u), "cannot be read"),
    ],
)
def test_tampered_preview_addresses_are_400_in_words(app, client, design, mutate, message):
    with app.test_request_context():
        url = previews.preview_url(design, 1000, "jpeg")
    with client.get(mutate(url)) as response:
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store"


def test_other_design_same_key_is_refused(app, client, design):
    other = Design(product="bar-necklace", font="playfair-display", lines=("Milo",))
    with app.test_request_context():
        url = previews.preview_url(design, 1000, "jpeg")
        other_url = previews.preview_url(other, 1000, "jpeg")
    forged = url.split("?")[0] + "?" + other_url.split("?")[1]
    with client.get(forged) as response:
        assert response.status_code == 400


def test_prune_keeps_the_cache_within_its_size(app, client):
    with app.test_request_context():
        urls = [previews.preview_url(Design("mug", "lato", (f"Mug {i}",)), 600, "jpeg") for i in range(3)]
    for url in urls:
        with client.get(url) as r:
            assert r.status_code == 200
    with app.app_context():
        removed, freed = previews.prune(1)
    assert removed == 3 and freed > 0
    result = app.test_cli_runner().invoke(args=["prune-previews"])
    assert "removed 0 cached previews" in result.output


def test_cached_previews_take_the_fast_path_with_the_same_headers(app, client):
    design = Design(product="mug", font="lato", lines=("Fast",))
    with app.test_request_context():
        url = previews.preview_url(design, 1000, "jpeg")
    with client.get(url) as through_flask:
        first = {k: v for k, v in through_flask.headers.items() if k != "Date"}
        body = through_flask.data
    assert isinstance(app.wsgi_app, previews.CachedPreviewFastPath)
    assert app.wsgi_app.headers is not None  # learned from Flask's answer
    with client.get(url) as fast:
        assert fast.status_code == 200 and fast.data == body
        assert {k: v for k, v in fast.headers.items() if k != "Date"} == first
    assert "frame-ancestors 'none'" in first["Content-Security-Policy"]
    # The same checks as Flask: a URL whose design does not give the key is refused.
    other = Design(product="mug", font="lato", lines=("Slow",))
    forged = url.split("?")[0] + "?w=1000&d=" + previews.encode_design(other)
    with client.get(forged) as refused:
        assert refused.status_code == 400
    with client.get(url, headers={"If-None-Match": f'W/"x", "{design.content_key(1000, "jpeg")}"'}) as cached:
        assert cached.status_code == 304
        assert cached.headers["X-Content-Type-Options"] == "nosniff"


def _asgi_get(adapter, url: str, headers=()) -> tuple[int, dict, bytes]:
    import asyncio

    path, _, query = url.partition("?")
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query.encode(),
        "headers": [(k.encode(), v.encode()) for k, v in headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 5000),
        "scheme": "http",
        "http_version": "1.1",
    }
    asyncio.run(adapter(scope, receive, send))
    return sent[0]["status"], {k.decode(): v.decode() for k, v in sent[0]["headers"]}, sent[1]["body"]


def test_a_repeated_preview_is_answered_from_the_event_loop_with_the_same_answer(app, caplog):
    """The server adapter sends a preview this worker answered before without a thread or
    Flask: the same status, headers and bytes, the same refusal of a forged address, and
    an access-log line with the design redacted."""
    from proofmark import accesslog
    from proofmark.serving import BufferedWSGI

    fast = app.wsgi_app
    assert isinstance(fast, previews.CachedPreviewFastPath)
    answered: list = []

    def shortcut(path, query, if_none_match):
        answer = fast.loop_answer(path, query, if_none_match)
        answered.append(answer is not None)
        return answer

    adapter = BufferedWSGI(app, max_body=1 << 20, threads=2, shortcut=shortcut, access_log=accesslog.logger)
    design = Design(product="mug", font="lato", lines=("Loop answer",))
    with app.test_request_context():
        url = previews.preview_url(design, 1000, "jpeg")
    try:
        first = _asgi_get(adapter, url)
        assert first[0] == 200 and answered == [False]  # Flask rendered it
        with caplog.at_level("INFO", logger="proofmark.access"):
            second = _asgi_get(adapter, url)
        assert answered == [False, True]
        assert second[0] == 200 and second[2] == first[2]
        assert second[1] == first[1]
        assert second[1]["content-length"] == str(len(first[2]))
        assert "frame-ancestors 'none'" in second[1]["content-security-policy"]
        logged = [r.getMessage() for r in caplog.records if r.name == "proofmark.access"]
        assert logged and "d=[redacted]" in logged[-1] and '" 200 ' in logged[-1]
        assert previews.encode_design(design) not in logged[-1]
        # Another design's query under the same key is not answered from the loop: Flask refuses it.
        other = previews.encode_design(Design(product="mug", font="lato", lines=("Other",)))
        forged = url.split("?")[0] + "?w=1000&d=" + other
        assert _asgi_get(adapter, forged)[0] == 400 and answered[-1] is False
        # Rendered by another worker (on the shared disk, not in this one's memory): read and
        # checked on the loop, the same answer.
        previews.flush_disk_writes()
        previews.clear_memory_cache()
        from_disk = _asgi_get(adapter, url)
        assert answered[-1] is True and from_disk[2] == first[2] and from_disk[1] == first[1]
        # A revalidation is a 304 from the loop.
        key = design.content_key(1000, "jpeg")
        status, headers, body = _asgi_get(adapter, url, [("if-none-match", f'"{key}"')])
        assert (status, body, answered[-1]) == (304, b"", True)
        assert headers["etag"] == f'"{key}"' and "immutable" in headers["cache-control"]
    finally:
        adapter.executor.shutdown()


def test_a_new_preview_is_rendered_by_the_fast_path_with_flasks_checks(app, client):
    """Once the fast path has learned the headers, a checked address never rendered is
    rendered without Flask; an address Flask would refuse still goes to Flask."""
    fast = app.wsgi_app
    flask_calls: list[str] = []
    inner = fast.wsgi_app

    def counting(environ, start_response):
        flask_calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    fast.wsgi_app = counting
    with app.test_request_context():
        learn = previews.preview_url(Design(product="mug", font="lato", lines=("Learn",)), 1000, "jpeg")
        fresh_design = Design(product="mug", font="lato", lines=("Fresh one",))
        fresh = previews.preview_url(fresh_design, 1000, "jpeg")
        odd_width = previews.preview_url(fresh_design, 1001, "jpeg")
        far = previews.preview_url(Design(product="mug", font="lato", lines=("Far away",)), 1000, "jpeg")
    assert client.get(learn).status_code == 200 and len(flask_calls) == 1
    with client.get(fresh) as response:
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert response.data == render(fresh_design, width=1000, fmt="jpeg").image
    assert len(flask_calls) == 1  # rendered by the fast path
    # A width the site does not serve: Flask answers, in words.
    with client.get(odd_width) as refused:
        assert refused.status_code == 400 and b"widths" in refused.data
    assert len(flask_calls) == 2
    # Demo mode serves this computer only: a new preview for another address goes to Flask (403).
    app.config["DEMO"] = True
    with client.get(far, environ_base={"REMOTE_ADDR": "203.0.113.9"}) as refused:
        assert refused.status_code == 403
    assert len(flask_calls) == 3


def test_the_access_log_line_of_a_fast_path_answer_is_redacted_like_any_other(app, client):
    """The fast path hands the access log the address it has already redacted (for its own
    ready answers); the line is the one the log would have written itself."""
    import logging

    from proofmark import accesslog

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    log = logging.getLogger("proofmark.test-fast-access")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    original = app.wsgi_app
    app.wsgi_app = accesslog.AccessLog(original, log)
    try:
        with app.test_request_context():
            learn = previews.preview_url(Design(product="mug", font="lato", lines=("Learn",)), 1000, "jpeg")
            fresh = previews.preview_url(
                Design(product="mug", font="lato", lines=("Secret Ada",)), 1000, "jpeg", area=True
            )
        assert client.get(learn, buffered=True).status_code == 200  # Flask: the fast path learns the headers
        assert client.get(fresh, buffered=True).status_code == 200  # rendered by the fast path
        assert client.get(fresh, buffered=True).status_code == 200  # from its memory
    finally:
        app.wsgi_app = original
        log.removeHandler(handler)
    path, _, query = fresh.partition("?")
    lines = [r.getMessage() for r in records]
    assert len(lines) == 3
    expected = accesslog.redact(path, query)
    assert "d=[redacted]" in expected and "area=1" in expected
    assert all(f'"GET {expected} HTTP/1.1" 200 ' in line for line in lines[1:])
    assert not any(
        previews.encode_design(Design(product="mug", font="lato", lines=("Secret Ada",))) in line
        for line in lines
    )
