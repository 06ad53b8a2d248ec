"""Support staff: sign-in, the records, evidence packs, return claims and insights (/staff)."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    # Imported for their routes on the shared blueprint.
    from site.staff import auth, claims_views, editing, evidence_views, insights_views, views  # noqa: F401
    from site.staff.blueprint import bp
    from site.staff.cli import create_staff_command, verify_records_command

    # Staff sessions ride on Flask's signed cookie: Secure whenever the site is served over https,
    # left off for http://127.0.0.1 so that local use still works.
    if str(app.config.get("PUBLIC_URL", "")).startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
    app.register_blueprint(bp)
    app.cli.add_command(create_staff_command)
    app.cli.add_command(verify_records_command)
