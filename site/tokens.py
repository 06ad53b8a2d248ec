"""Signed tokens, one itsdangerous serializer per purpose, each with its own salt.

- design token: what the shopper confirmed (design, renderer version, preview content key).
  No expiry: it is a statement of what was shown, not a credential.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from proofmark_renderer import RENDERER_VERSION, Design

DESIGN_SALT = "proofmark.design.v1"


class TokenError(ValueError):
    """A token that cannot be trusted; `str()` is a plain-language reason."""


class TokenInvalid(TokenError):
    pass


@dataclass(frozen=True)
class DesignToken:
    design: Design
    renderer_version: str
    content_key: str  # of the preview the shopper saw
    nonce: str
    options: dict  # e.g. {"date_readings": {"1": "3 April 2025"}} chosen on confirmation


def _design_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=DESIGN_SALT)


def sign_design(design: Design, content_key: str, options: dict | None = None) -> str:
    payload = {
        "d": design.to_dict(),
        "rv": RENDERER_VERSION,
        "ck": content_key,
        "n": secrets.token_urlsafe(9),
        "o": options or {},
    }
    return _design_serializer().dumps(payload)


def verify_design(token: str) -> DesignToken:
    if not token or not isinstance(token, str):
        raise TokenInvalid("No design token was given.")
    try:
        payload = _design_serializer().loads(token.strip())
        return DesignToken(
            design=Design.from_dict(payload["d"]),
            renderer_version=str(payload["rv"]),
            content_key=str(payload["ck"]),
            nonce=str(payload["n"]),
            options=dict(payload.get("o") or {}),
        )
    except BadSignature as exc:
        raise TokenInvalid(
            "This design token is not one we issued, or it was changed after it was issued."
        ) from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise TokenInvalid("This design token is incomplete.") from exc


# --- approval links -------------------------------------------------------------------------
# A timed token per emailed link: the proof, the revision and that revision's nonce, plus an
# id for the link itself (which email it came from). Signed with its own salt, so a design
# token can never pass as an approval link or the other way round.

APPROVAL_SALT = "proofmark.approval.v1"


class TokenExpired(TokenError):
    """Authentic but too old. `approval` still says which proof it was for, so the page can
    offer a fresh link to the email address on file."""

    def __init__(self, message: str, approval: ApprovalToken):
        super().__init__(message)
        self.approval = approval


@dataclass(frozen=True)
class ApprovalToken:
    proof_id: int
    revision: int
    nonce: str
    link_id: str
    issued_at: float  # POSIX seconds, from the signature's timestamp


def _clocked_signer(now: float | None):
    """A TimestampSigner whose clock is `now` (tests move the clock instead of sleeping)."""
    from itsdangerous import TimestampSigner

    if now is None:
        return TimestampSigner

    class _Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(now)

    return _Signer


def _approval_serializer(now: float | None = None):
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=APPROVAL_SALT, signer=_clocked_signer(now)
    )


def _posix(now) -> float | None:
    if now is None or isinstance(now, int | float):
        return now
    return now.timestamp()  # a datetime


def sign_approval(proof_id: int, revision: int, nonce: str, link_id: str | None = None, *, now=None) -> str:
    """`now`: a datetime or POSIX seconds to sign at (default: the real clock)."""
    payload = {
        "p": int(proof_id),
        "r": int(revision),
        "n": str(nonce),
        "l": link_id or secrets.token_urlsafe(6),
    }
    return _approval_serializer(_posix(now)).dumps(payload)


def _approval_from(payload, issued_at) -> ApprovalToken:
    try:
        return ApprovalToken(
            proof_id=int(payload["p"]),
            revision=int(payload["r"]),
            nonce=str(payload["n"]),
            link_id=str(payload.get("l", "")),
            issued_at=issued_at.timestamp() if issued_at is not None else 0.0,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise TokenInvalid("This approval link is incomplete.") from exc


def verify_approval(token: str, *, now=None, max_age_days: float | None = None) -> ApprovalToken:
    """Raises TokenInvalid (garbled, tampered, not ours) or TokenExpired (authentic, too old)."""
    from itsdangerous import SignatureExpired

    if not token or not isinstance(token, str) or len(token) > 2000:
        raise TokenInvalid("This approval link is not complete.")
    if max_age_days is None:
        max_age_days = current_app.config["APPROVAL_LINK_MAX_AGE_DAYS"]
    serializer = _approval_serializer(_posix(now))
    try:
        payload, issued_at = serializer.loads(
            token.strip(), max_age=int(max_age_days * 86400), return_timestamp=True
        )
    except SignatureExpired as exc:
        # The signature was checked before the age, so the payload is ours.
        try:
            payload = serializer.load_payload(exc.payload)
        except BadSignature as inner:
            raise TokenInvalid("This approval link is not one we sent, or it was changed.") from inner
        approval = _approval_from(payload, exc.date_signed)
        raise TokenExpired(
            f"This approval link has expired. Links work for {max_age_days:g} days after we send them.",
            approval,
        ) from exc
    except BadSignature as exc:
        raise TokenInvalid(
            "This approval link is not one we sent, or it was changed after we sent it."
        ) from exc
    except (TypeError, ValueError, UnicodeError) as exc:
        raise TokenInvalid("This approval link is not complete.") from exc
    return _approval_from(payload, issued_at)
