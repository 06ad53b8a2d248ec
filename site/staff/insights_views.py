"""The shop owner's view of where mistakes come from."""

from __future__ import annotations

from babel.numbers import format_decimal, format_percent
from flask import render_template, request
from flask_babel import get_locale, gettext

from proofmark import catalog_text, insights
from proofmark.claims import OUTCOMES
from proofmark.db import get_db
from proofmark.staff.blueprint import bp, translated
from proofmark.staff.search import STATUS_LABELS
from proofmark_renderer import catalog


def percent(value: float) -> str:
    """12.5% / 12,5 % in the shop's language (English as insights.percent writes it)."""
    if str(get_locale() or "en") == "en":
        return insights.percent(value)
    locale = get_locale()
    pattern = locale.percent_formats[None].pattern.replace("#,##0", "#,##0.0", 1)  # "#,##0 %" in German
    return format_percent(value, pattern, locale=locale)


def whole_percent(value: float) -> str:
    if str(get_locale() or "en") == "en":
        return f"{value:.0%}"
    return format_percent(value, locale=get_locale())


def hours_label(hours: float | None) -> str:
    if hours is None or str(get_locale() or "en") == "en":
        return insights.hours_label(hours)
    if hours < 1:
        return gettext("%(value)s min", value=format_decimal(round(hours * 60), locale=get_locale()))
    if hours < 48:
        return gettext("%(value)s h", value=format_decimal(round(hours, 1), "0.0", locale=get_locale()))
    return gettext("%(value)s days", value=format_decimal(round(hours / 24, 1), "0.0", locale=get_locale()))


def of_total(rate: float, total: int) -> str:
    return gettext("%(percent)s of %(total)s", percent=percent(rate), total=total)


@bp.get("/insights")
def insights_page():
    period, errors = insights.DateRange.parse(request.args.get("from"), request.args.get("to"))
    data = insights.compute(
        get_db(),
        period,
        product_names={p.id: catalog_text.product_name(p) for p in catalog.products()},
        font_names={f.id: f.name for f in catalog.fonts()},
    )
    pct = percent
    statuses, outcomes = translated(STATUS_LABELS), translated(OUTCOMES)
    no_data = gettext("No data in this period")
    charts = {
        "change_by_product": insights.bar_chart(
            [(r.label, r.change_rate, of_total(r.change_rate, r.proofs)) for r in data.by_product],
            empty=no_data,
            title=gettext("Change-request rate by product"),
            max_value=1,
        ),
        "change_by_font": insights.bar_chart(
            [(r.label, r.change_rate, of_total(r.change_rate, r.proofs)) for r in data.by_font],
            empty=no_data,
            title=gettext("Change-request rate by font"),
            max_value=1,
        ),
        "claim_by_product": insights.bar_chart(
            [(r.label, r.claim_rate, of_total(r.claim_rate, r.proofs)) for r in data.by_product],
            empty=no_data,
            title=gettext("Claim rate by product"),
            max_value=1,
            color=insights.PALETTE[3],
        ),
        "claim_by_font": insights.bar_chart(
            [(r.label, r.claim_rate, of_total(r.claim_rate, r.proofs)) for r in data.by_font],
            empty=no_data,
            title=gettext("Claim rate by font"),
            max_value=1,
            color=insights.PALETTE[3],
        ),
        "corrections": insights.bar_chart(
            [
                (gettext(insights.CORRECTION_KINDS[k]), n, str(n))
                for k, n in sorted(data.corrections.items(), key=lambda kv: -kv[1])
                if k in insights.CORRECTION_KINDS
            ],
            empty=no_data,
            title=gettext("Kinds of correction requested"),
            color=insights.PALETTE[1],
        ),
        "decision_time": insights.bar_chart(
            [(gettext(label), n, str(n)) for label, n in data.decision_histogram()],
            empty=no_data,
            title=gettext("Time from proof email to the customer's decision"),
            color=insights.PALETTE[4],
        ),
        "statuses": insights.stacked_bar(
            [
                (statuses[key], data.by_status.get(key, 0))
                for key in ("approved", "awaiting_approval", "changes_requested", "expired", "cancelled")
            ],
            empty=no_data,
            title=gettext("Proofs by status"),
            share=whole_percent,
        ),
        "claims": insights.stacked_bar(
            [(outcomes.get(k, k), n) for k, n in sorted(data.claims_by_outcome.items())],
            empty=no_data,
            title=gettext("Claims by responsibility"),
            share=whole_percent,
        ),
    }
    return render_template(
        "staff/insights.html",
        data=data,
        charts=charts,
        errors=errors,
        percent=pct,
        hours_label=hours_label,
        outcomes=outcomes,
    )
