from __future__ import annotations

import pytest

from site import create_app


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "WTF_CSRF_ENABLED": False,
            "MAIL_BACKEND": "file",
            "PUBLIC_URL": "http://proofs.test",
            "EMBED_ALLOWED_ORIGINS": ["http://shop.test"],
        }
    )
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
