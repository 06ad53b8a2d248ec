"""Signed tokens, one itsdangerous serializer per purpose, each with its own salt.

- design token: what the shopper confirmed (design, renderer version, preview content key).
  No expiry: it is a statement of what was shown, not a credential.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from renderer import RENDERER_VERSION, Design

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
