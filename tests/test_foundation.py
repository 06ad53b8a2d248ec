from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from proofmark import ConfigurationError, create_app, db

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_reports_database_fonts_and_raqm(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["database"]["reachable"] is True
    assert body["database"]["migration"] == db.latest_version() >= 2
    assert body["fonts"]["loaded"] >= 10
    assert body["fonts"]["problems"] == []
    assert body["raqm"] is True


def test_instance_folder_comes_from_environment(app, tmp_path):
    assert app.instance_path == str(tmp_path / "instance")
    assert (tmp_path / "instance" / "proofmark.sqlite").is_file()


def test_database_is_wal_with_foreign_keys(app):
    with app.app_context():
        conn = db.get_db().conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_migrations_are_recorded_and_idempotent(app, runner):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0
    assert "up to date" in result.output
    with app.app_context():
        versions = [
            r[0] for r in db.get_db().execute("SELECT version FROM schema_migrations ORDER BY version")
        ]
    assert versions == [v for v, _, _ in db.migrations()]


def test_production_without_secret_key_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "prod"))
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="without a SECRET_KEY"):
        create_app({"DEMO": False})


def test_settings_come_from_prefixed_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "env"))
    monkeypatch.setenv("FLASK_SECRET_KEY", "from-env")
    monkeypatch.setenv("FLASK_SMTP_PORT", "2525")
    monkeypatch.setenv("FLASK_EMBED_ALLOWED_ORIGINS", '["https://shop.example/"]')
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SMTP_PORT"] == 2525
    assert app.config["EMBED_ALLOWED_ORIGINS"] == ["https://shop.example"]


def test_settings_come_from_instance_config(tmp_path, monkeypatch):
    instance = tmp_path / "cfg"
    instance.mkdir()
    (instance / "config.py").write_text("SECRET_KEY = 'from-file'\nMAIL_BACKEND = 'smtp'\n")
    monkeypatch.setenv("INSTANCE_PATH", str(instance))
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["MAIL_BACKEND"] == "smtp"


def test_init_instance_generates_a_secret_key_once(tmp_path):
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path / "fresh")}
    env.pop("FLASK_SECRET_KEY", None)
    flask = [sys.executable, "-m", "flask", "--app", "proofmark", "init-instance"]
    first = subprocess.run(flask, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert "wrote a new SECRET_KEY" in first.stdout
    text = (tmp_path / "fresh" / "config.py").read_text()
    second = subprocess.run(flask, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert "already has a SECRET_KEY" in second.stdout
    assert (tmp_path / "fresh" / "config.py").read_text() == text
    assert len(text.split("SECRET_KEY = '")[1].split("'")[0]) == 64


def test_fonts_command_lists_coverage(runner):
    result = runner.invoke(args=["fonts"])
    assert result.exit_code == 0
    assert "great-vibes" in result.output
    hebrew = next(line for line in result.output.splitlines() if line.startswith("noto-sans-hebrew"))
    index = result.output.splitlines().index(hebrew)
    assert "Hebrew (" in result.output.splitlines()[index + 1]


def test_catalog_has_the_required_font_groups():
    from proofmark_renderer import catalog

    groups = [f.group for f in catalog.load().fonts.values()]
    assert groups.count("script") >= 4
    assert groups.count("serif") >= 2
    assert groups.count("sans") >= 2
    assert groups.count("typewriter") >= 1
    assert groups.count("fallback") >= 2


def test_missing_font_file_is_reported_not_raised(tmp_path):
    from proofmark_renderer import catalog

    (tmp_path / "fonts.toml").write_text(
        '[[font]]\nid = "shop-own"\nname = "Shop Own"\ngroup = "script"\n'
        'file = "instance:fonts/ShopOwn.ttf"\nlicense = "proprietary"\n'
    )
    loaded = catalog.load(tmp_path)
    assert "shop-own" not in loaded.fonts
    assert any("shop-own" in p and "file not found" in p for p in loaded.problems)
    assert len(loaded.fonts) >= 10


def test_htmx_is_self_hosted(client):
    page = client.get("/")
    assert page.status_code == 200
    assert b'src="/vendor/htmx.min.js"' in page.data
    with client.get("/vendor/htmx.min.js") as script:
        assert script.status_code == 200
        assert b"htmx" in script.data[:2000]


def test_security_headers(client):
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_migration_failure_rolls_back(tmp_path, monkeypatch):
    """A migration that fails halfway leaves nothing of itself behind and the version where it was."""
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    for path in db.migrations():
        (migrations / path[2].name).write_text(path[2].read_text())
    good = db.latest_version()
    monkeypatch.setattr(db, "MIGRATIONS_DIR", migrations)
    database = db.connect(tmp_path / "x.sqlite", check_writes=True)
    try:
        assert db.migrate(database)[-1] == good
        bad = good + 1
        (migrations / f"{bad:04d}_fails_halfway.sql").write_text(
            "CREATE TABLE half_done (id INTEGER PRIMARY KEY);\n"
            "INSERT INTO half_done (id) VALUES (1);\n"
            "ALTER TABLE proofs ADD COLUMN half_done_flag INTEGER;\n"
            "INSERT INTO no_such_table (x) VALUES (1);\n"  # fails here, after three statements
            "CREATE TABLE never_reached (id INTEGER);\n"
        )
        assert db.latest_version() == bad
        with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
            db.migrate(database)
        assert db.current_version(database) == good
        assert not database["half_done"].exists()
        assert not database["never_reached"].exists()
        assert "half_done_flag" not in database["proofs"].columns_dict
        assert not database.conn.in_transaction
        # Fixed, it applies on the next run.
        (migrations / f"{bad:04d}_fails_halfway.sql").write_text(
            "CREATE TABLE half_done (id INTEGER PRIMARY KEY);\n"
        )
        assert db.migrate(database) == [bad]
        assert db.current_version(database) == bad
    finally:
        database.conn.close()


def test_writes_outside_transaction_are_caught(tmp_path):
    database = db.connect(tmp_path / "w.sqlite", check_writes=True)
    try:
        db.migrate(database)
        assert db.WRITES_OUTSIDE_TRANSACTION == []  # migrations write inside transaction()
        database.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (900, 'raw', 'x')")
        assert db.WRITES_OUTSIDE_TRANSACTION == [
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (900, 'raw', 'x')"
        ]
        db.WRITES_OUTSIDE_TRANSACTION.clear()  # caught on purpose; the autouse guard would fail the test

        with db.transaction(database):
            database.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (901, 'ok', 'x')"
            )
        assert db.WRITES_OUTSIDE_TRANSACTION == []

        with pytest.raises(RuntimeError, match="boom"), db.transaction(database):
            database.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (902, 'gone', 'x')"
            )
            raise RuntimeError("boom")
        assert not database.conn.in_transaction
        versions = {r[0] for r in database.execute("SELECT version FROM schema_migrations")}
        assert {900, 901} <= versions and 902 not in versions
        assert db.WRITES_OUTSIDE_TRANSACTION == []
    finally:
        database.conn.close()


def test_the_test_apps_check_writes(app):
    assert app.config["DB_CHECK_WRITES"] is True
    with app.app_context():
        db.get_db().execute("UPDATE schema_migrations SET name = name WHERE 0")
    assert db.WRITES_OUTSIDE_TRANSACTION == ["UPDATE schema_migrations SET name = name WHERE 0"]
    db.WRITES_OUTSIDE_TRANSACTION.clear()


def test_trusted_proxies_decide_the_recorded_ip(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "proxy"))
    for hops, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        app = create_app({"TESTING": True, "SECRET_KEY": "k", "TRUSTED_PROXIES": hops})

        @app.get("/_ip")
        def _ip():
            from flask import request

            return request.remote_addr or ""

        response = app.test_client().get("/_ip", headers={"X-Forwarded-For": "203.0.113.9"})
        assert response.text == expected


def test_unknown_embed_addresses_stay_frameable_by_allowed_shops(client):
    response = client.get("/embed/no/such/page")
    assert response.status_code == 404
    assert "frame-ancestors http://shop.test" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers


def test_every_operator_command_is_registered_in_proofmark_cli(app):
    """One place lists them all: the app has exactly proofmark.cli's commands, and no other
    module adds one (a command that appears only because some blueprint was imported)."""
    from pathlib import Path

    import proofmark
    from proofmark import cli

    assert set(app.cli.commands) == {command.name for command in cli.COMMANDS}
    package = Path(proofmark.__file__).parent
    elsewhere = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "cli.py"
        and ("add_command(" in path.read_text() or ".cli.command(" in path.read_text())
    ]
    assert elsewhere == []
