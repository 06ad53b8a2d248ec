"""Insights: correction kinds, rates by product and font, decision time, SVG charts."""

from __future__ import annotations

from datetime import date

import pytest

from proofmark import insights
from proofmark.db import get_db
from tests.staff_support import StaffLogin, build_world


def d(lines, font="dancing-script", align="center", **fields):
    return {"product": "pendant-round", "font": font, "lines": list(lines), "fields": fields, "align": align}


@pytest.mark.parametrize(
    "before, after, comment, expected",
    [
        (d(["Jonh"]), d(["John"]), "", {"spelling"}),
        (d(["12.03.2024"]), d(["03.12.2024"]), "", {"date"}),
        (d(["Born 12 March"]), d(["Born 12 May"]), "", {"date"}),
        (d(["Anna Maria"]), d(["Anna", "Maria"]), "", {"layout"}),
        (d(["Anna"]), d(["Anna"], align="left"), "", {"layout"}),
        (d(["Anna"]), d(["Anna"], font="great-vibes"), "", {"font"}),
        (None, None, "Could the date be 3 April?", {"date"}),
        (None, None, "The script font is hard to read", {"font"}),
        (None, None, "hmm", {"other"}),
    ],
)
def test_classify_correction(before, after, comment, expected):
    assert insights.classify_correction(before, after, comment) == expected


def test_date_range_parsing():
    period, errors = insights.DateRange.parse(None, None, today=date(2026, 3, 31))
    assert (period.start, period.end, errors) == (date(2026, 1, 1), date(2026, 3, 31), [])
    _, errors = insights.DateRange.parse("nonsense", "2026-13-01", today=date(2026, 3, 31))
    assert len(errors) == 2


def test_bar_chart_is_escaped_svg():
    svg = insights.bar_chart([("<b>Script</b>", 0.5, "50%")], title="Rates", max_value=1)
    assert svg.startswith("<svg") and "&lt;b&gt;Script" in svg and "<b>" not in svg
    assert "No data" in insights.bar_chart([], title="Empty")
    assert "No data" in insights.stacked_bar([("a", 0)], title="Empty")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_world(tmp_path_factory.mktemp("insights-world") / "instance")


def test_compute_over_real_records(world):
    with world.app.app_context():
        data = insights.compute(get_db(), insights.DateRange(date(2000, 1, 1), date(2100, 1, 1)), {}, {})
    assert data.total == 4
    bar = next(r for r in data.by_product if r.key == "bar-necklace")
    assert (bar.proofs, bar.changes) == (1, 1)
    pendant = next(r for r in data.by_product if r.key == "pendant-round")
    assert (pendant.proofs, pendant.changes) == (3, 0)
    assert data.corrections["spelling"] == 1
    # Two decisions on revision emails (one approval, one change request) plus the second approval.
    assert len(data.decision_hours) == 3 and data.median_hours is not None
    assert data.by_status["cancelled"] == 1 and data.expired_share == 0


def test_insights_page_draws_charts(world):
    client = world.app.test_client()
    StaffLogin(client).login()
    html = client.get("/staff/insights?from=2000-01-01&to=2100-01-01").get_data(as_text=True)
    assert html.count("<svg") >= 8
    assert "Bar necklace" in html and "Spelling or wording" in html
    assert "100.0% of 1" in html  # the bar necklace's change-request rate
