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


def _swap(text: str, index: int) -> str:
    """`text` with the character at `index` replaced by a different base64url character."""
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


def _change_signature(token: str) -> str:
    # A character in the middle: all six of its bits are signature bits. (The last one is
    # partly padding, so changing it can leave the decoded signature the same.)
    head, signature = token.rsplit(".", 1)
    return f"{head}.{_swap(signature, len(signature) // 2)}"


def _change_payload(token: str) -> str:
    payload, rest = token.split(".", 1)
    return f"{_swap(payload, len(payload) // 2)}.{rest}"


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(_change_signature, id="signature-changed"),
        pytest.param(_change_payload, id="payload-changed"),
        pytest.param(lambda t: t[: len(t) // 2], id="truncated"),
        pytest.param(lambda t: "", id="empty"),
        pytest.param(lambda t: "not a token at all", id="not-a-token"),
        pytest.param(lambda t: "%" * 5000, id="too-long"),
    ],
)
def test_tampered_or_garbled_links_are_invalid(app, clock, mangle):
    with app.app_context():
        token = sign_approval(7, 1, "n", now=clock.now)
        clock.advance(days=1)
        # The untouched link is valid at this moment, so the refusal is due to the change alone.
        assert verify_approval(token).proof_id == 7
        mangled = mangle(token)
        assert mangled != token
        with pytest.raises(TokenInvalid):
            verify_approval(mangled)


def test_changed_parts_are_only_the_ones_named():
    token = "eyJwIjo3fQ.aGVsbG8.c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
    payload, stamp, signature = token.split(".")
    changed = _change_signature(token).split(".")
    assert changed[:2] == [payload, stamp] and changed[2] != signature
    assert len(changed[2]) == len(signature)
    changed = _change_payload(token).split(".")
    assert changed[1:] == [stamp, signature] and changed[0] != payload


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
