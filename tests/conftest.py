from __future__ import annotations

import pytest

from tests.support import make_app


@pytest.fixture
def app(tmp_path, monkeypatch):
    yield make_app(tmp_path / "instance", monkeypatch)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
