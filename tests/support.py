"""What every test app shares: its settings and how to make one on its own instance folder."""

from __future__ import annotations

from pathlib import Path

import pytest

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "WTF_CSRF_ENABLED": False,
    "DB_CHECK_WRITES": True,
    "MAIL_BACKEND": "file",
    "PUBLIC_URL": "http://proofs.test",
    "EMBED_ALLOWED_ORIGINS": ["http://shop.test"],
}


def make_app(instance_path: str | Path, monkeypatch: pytest.MonkeyPatch | None = None, **config):
    """An app whose instance folder is `instance_path`; INSTANCE_PATH is read only while it is made."""
    from proofmark import create_app

    if monkeypatch is not None:
        monkeypatch.setenv("INSTANCE_PATH", str(instance_path))
        return create_app({**TEST_CONFIG, **config})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INSTANCE_PATH", str(instance_path))
        return create_app({**TEST_CONFIG, **config})
