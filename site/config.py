"""Default settings. Each key can be overridden by `instance/config.py` or by an
environment variable `FLASK_<KEY>` (values parsed as JSON where they parse, so
`FLASK_SMTP_PORT=2525` is an int and `FLASK_EMBED_ALLOWED_ORIGINS='["https://a"]'` a list).
The README documents every key."""
from __future__ import annotations

DEFAULTS: dict = {
    # Signing key for sessions, design tokens and approval links. Generated into
    # instance/config.py by `flask --app site init-instance`; never hard-coded.
    "SECRET_KEY": None,
    # SQLite file; relative paths are inside the instance folder.
    "DATABASE": "proofmark.sqlite",
    # "file" writes each message as .eml into OUTBOX_DIR; "smtp" delivers via SMTP_*.
    "MAIL_BACKEND": "file",
    "OUTBOX_DIR": "outbox",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": 25,
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": False,
    "SMTP_TIMEOUT": 10,
    "MAIL_FROM": "Proofmark <proofs@localhost>",
    # Base for links in emails (approval links are absolute).
    "PUBLIC_URL": "http://127.0.0.1:5000",
    # Origins allowed to frame /embed/* (CSP frame-ancestors) and to receive postMessage.
    "EMBED_ALLOWED_ORIGINS": [],
    # Stored images (preview cache, proof images), relative to the instance folder.
    "IMAGE_DIR": "images",
    # Demo mode: seeds a demo shop and staff login and shows /dev/outbox.
    "DEMO": False,
    "SHOP_NAME": "Proofmark Demo Shop",
    # The disclosure shown before ordering and approving (EU CRD Art. 6(1)(k), 16(c)).
    # Its version is recorded with every confirmation and approval.
    "DISCLOSURE_VERSION": "2026-11-01",
    "DISCLOSURE_TEXT": (
        "This item is made to your specifications and personalised with the text you provide. "
        "Personalised items cannot be returned or exchanged for a change of mind: the 14-day "
        "right of withdrawal does not apply (EU Directive 2011/83/EU, Art. 16(c); UK Consumer "
        "Contracts Regulations 2013). If we make a mistake, we remake the item at our cost."
    ),
    # Approval links and reminders.
    "APPROVAL_LINK_MAX_AGE_DAYS": 14,
    "REMINDER_AFTER_DAYS": 3,
    "EXPIRE_AFTER_DAYS": 14,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
}
