from __future__ import annotations

from urllib.parse import urlparse


def test_home_page_loads_with_self_hosted_htmx(live_server, page, artifacts):
    response = page.goto(live_server.url + "/")
    assert response.status == 200
    script_src = page.eval_on_selector("script[src*='htmx']", "el => el.src")
    assert urlparse(script_src).netloc == urlparse(live_server.url).netloc
    page.wait_for_function("typeof window.htmx !== 'undefined'")
    assert page.evaluate("typeof htmx.ajax") == "function"
    page.screenshot(path=str(artifacts / "home.png"), full_page=True)
    assert (artifacts / "home.png").stat().st_size > 1000


def test_healthz_from_the_live_server(live_server, page):
    response = page.goto(live_server.url + "/healthz")
    body = response.json()
    assert body["database"]["reachable"] is True
    assert body["raqm"] is True
