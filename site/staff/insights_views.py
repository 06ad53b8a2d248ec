"""The shop owner's view of where mistakes come from."""

from __future__ import annotations

from flask import render_template, request

from proofmark import insights
from proofmark.claims import OUTCOMES
from proofmark.db import get_db
from proofmark.staff.blueprint import bp
from proofmark_renderer import catalog


@bp.get("/insights")
def insights_page():
    period, errors = insights.DateRange.parse(request.args.get("from"), request.args.get("to"))
    data = insights.compute(
        get_db(),
        period,
        product_names={p.id: p.name for p in catalog.products()},
        font_names={f.id: f.name for f in catalog.fonts()},
    )
    pct = insights.percent
    charts = {
        "change_by_product": insights.bar_chart(
            [(r.label, r.change_rate, f"{pct(r.change_rate)} of {r.proofs}") for r in data.by_product],
            title="Change-request rate by product",
            max_value=1,
        ),
        "change_by_font": insights.bar_chart(
            [(r.label, r.change_rate, f"{pct(r.change_rate)} of {r.proofs}") for r in data.by_font],
            title="Change-request rate by font",
            max_value=1,
        ),
        "claim_by_product": insights.bar_chart(
            [(r.label, r.claim_rate, f"{pct(r.claim_rate)} of {r.proofs}") for r in data.by_product],
            title="Claim rate by product",
            max_value=1,
            color=insights.PALETTE[3],
        ),
        "claim_by_font": insights.bar_chart(
            [(r.label, r.claim_rate, f"{pct(r.claim_rate)} of {r.proofs}") for r in data.by_font],
            title="Claim rate by font",
            max_value=1,
            color=insights.PALETTE[3],
        ),
        "corrections": insights.bar_chart(
            [
                (insights.CORRECTION_KINDS[k], n, str(n))
                for k, n in sorted(data.corrections.items(), key=lambda kv: -kv[1])
                if k in insights.CORRECTION_KINDS
            ],
            title="Kinds of correction requested",
            color=insights.PALETTE[1],
        ),
        "decision_time": insights.bar_chart(
            [(label, n, str(n)) for label, n in data.decision_histogram()],
            title="Time from proof email to the customer's decision",
            color=insights.PALETTE[4],
        ),
        "statuses": insights.stacked_bar(
            [
                (label, data.by_status.get(key, 0))
                for key, label in (
                    ("approved", "Approved"),
                    ("awaiting_approval", "Awaiting approval"),
                    ("changes_requested", "Changes requested"),
                    ("expired", "Expired"),
                    ("cancelled", "Cancelled"),
                )
            ],
            title="Proofs by status",
        ),
        "claims": insights.stacked_bar(
            [(OUTCOMES.get(k, k), n) for k, n in sorted(data.claims_by_outcome.items())],
            title="Claims by responsibility",
        ),
    }
    return render_template(
        "staff/insights.html",
        data=data,
        charts=charts,
        errors=errors,
        percent=pct,
        hours_label=insights.hours_label,
        outcomes=OUTCOMES,
    )
