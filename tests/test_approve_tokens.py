"""Approval links: signed, timed, their own salt. The clock is moved, never slept."""

from __future__ import annotations

import pytest

from proofmark.tokens import (
    TokenExpired,
    TokenInvalid,
    sign_approval,
    sign_design,
    verify_approval,
)
from tests.proofs_support import T0, design, later


def test_round_trip_carries_proof_revision_nonce_and_link(app):
    with app.app_context():
        token = sign_approval(7, 2, "nonce-abc", "link-1", now=T0)
        approval = verify_approval(token, now=later(days=1))
    assert (approval.proof_id, approval.revision, approval.nonce, approval.link_id) == (
        7,
        2,
        "nonce-abc",
        "link-1",
    )
    assert approval.issued_at == T0.timestamp()


def test_expiry_follows_the_configured_age(app):
    app.config["APPROVAL_LINK_MAX_AGE_DAYS"] = 14
    with app.app_context():
        token = sign_approval(7, 1, "n", now=T0)
        assert verify_approval(token, now=later(days=14)).proof_id == 7
        with pytest.raises(TokenExpired) as info:
            verify_approval(token, now=later(days=14, seconds=1))
        # Expired but authentic: the page can still offer a fresh link for this proof.
        assert (info.value.approval.proof_id, info.value.approval.revision) == (7, 1)
        assert "expired" in str(info.value)
        app.config["APPROVAL_LINK_MAX_AGE_DAYS"] = 30
        assert verify_approval(token, now=later(days=29)).proof_id == 7


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: "x" + t[1:],  # payload changed
        lambda t: t[: len(t) // 2],  # truncated
        lambda t: "",
        lambda t: "not a token at all",
        lambda t: "%" * 5000,
    ],
)
def test_tampered_or_garbled_links_are_invalid(app, mangle):
    with app.app_context():
        token = sign_approval(7, 1, "n", now=T0)
        with pytest.raises(TokenInvalid):
            verify_approval(mangle(token), now=later(days=1))


def test_other_keys_and_other_purposes_do_not_pass(app):
    with app.app_context():
        token = sign_approval(7, 1, "n", now=T0)
        d = design()
        design_token = sign_design(d, d.content_key(1200, "jpeg"))
    app.config["SECRET_KEY"] = "another-key"
    with app.app_context(), pytest.raises(TokenInvalid):
        verify_approval(token, now=later(days=1))
    app.config["SECRET_KEY"] = "test-secret-key"
    with app.app_context(), pytest.raises(TokenInvalid):
        verify_approval(design_token, now=later(days=1))
