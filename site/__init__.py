"""Proofmark: the Flask app. `create_app()` builds it; `flask --app proofmark` and the
`proofmark` console script find it here."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask


class ConfigurationError(RuntimeError):
    pass


def create_app(test_config: dict | None = None) -> Flask:
    from flask_compress import Compress
    from htmx_flask import Htmx

    from proofmark import (
        api,
        approve,
        assets,
        cli,
        db,
        devtools,
        embed,
        errors,
        health,
        i18n,
        limits,
        mail,
        orders,
        personalizer,
        security,
        shop,
        staff,
        templating,
        theme,
        webhooks,
    )
    from proofmark.config import DEFAULTS
    from proofmark.integrations import worker as integrations_worker
    from proofmark.personalizer import fonts as personalizer_fonts
    from proofmark.personalizer import previews
    from proofmark.proofs import render_jobs
    from proofmark_renderer import catalog

    instance_path = os.environ.get("INSTANCE_PATH") or None
    if instance_path:
        instance_path = os.path.abspath(instance_path)
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env()
    if test_config is not None:
        app.config.from_mapping(test_config)
    _check_config(app)
    os.makedirs(app.instance_path, exist_ok=True)

    fonts = catalog.configure(app.instance_path, app.config["ASSET_ROOT"])
    for problem in fonts.problems:
        app.logger.warning("font catalog: %s", problem)
    broken = catalog.product_errors()
    if broken:
        raise RuntimeError("The product catalog cannot be used:\n" + "\n".join(broken))

    if app.config.get("TRUSTED_PROXIES"):
        # Behind N reverse proxies, the recorded IP (evidence) must be the client's, not the proxy's.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    mail.init_app(app)
    render_jobs.init_app(app)  # proof images, drawn after the order is answered
    integrations_worker.init_app(app)
    security.init_app(app)
    limits.init_app(app)  # request size and encoding, before any view reads the body
    errors.init_app(app)  # before any blueprint: it sets the `int` URL converter
    Htmx(app)
    Compress(app)
    app.after_request(assets.buffer_text_files)  # registered after Compress: runs before it
    templating.init_app(app)
    i18n.init_app(app)  # the shopper's language (Flask-Babel)
    theme.init_app(app)  # the shop's look (SHOP_THEME)
    previews.init_app(app)
    cli.register(app)

    # Shared pieces, then one blueprint per audience.
    app.register_blueprint(assets.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(previews.bp)
    app.register_blueprint(personalizer_fonts.bp)
    # The personalizer, twice: the demo shop's page, and the same views for a shop's iframe
    # (`embed`: its name is what checks the parent's origin and lets the listed shops frame it).
    app.register_blueprint(personalizer.bp, name="shop_personalizer", url_prefix="/p")
    app.register_blueprint(personalizer.bp, name=security.EMBED_BLUEPRINT, url_prefix="/embed")
    app.register_blueprint(shop.bp)  # the demo shop: catalog, cart, /design/verify
    app.register_blueprint(embed.bp)  # /embed.js, the loader a shop pastes into its page
    app.register_blueprint(orders.bp)  # the demo shop's "Place order"
    app.register_blueprint(approve.bp)  # the customer's approval pages
    app.register_blueprint(staff.bp)  # support staff
    app.register_blueprint(api.bp)  # the shop's systems
    app.register_blueprint(webhooks.bp)  # shop platforms' order webhooks
    app.register_blueprint(devtools.bp)  # /dev/outbox, debug and demo only
    return app


def _check_config(app: Flask) -> None:
    production = not (app.debug or app.testing or app.config.get("DEMO"))
    # `init-instance` is how a key comes to exist, so it must be able to load the app.
    creating_key = "init-instance" in sys.argv[1:]
    if not app.config.get("SECRET_KEY"):
        if production and not creating_key:
            raise ConfigurationError(
                "Proofmark refuses to start in production mode without a SECRET_KEY. "
                f"Run `proofmark init-instance` to generate one into {app.instance_path}/config.py, "
                "or set FLASK_SECRET_KEY."
            )
        if not (app.testing or creating_key):
            # Debug or demo without a key: a per-process random key keeps things working
            # but invalidates links on restart, so say so.
            app.config["SECRET_KEY"] = os.urandom(32).hex()
            app.logger.warning("No SECRET_KEY configured: using a temporary one (links break on restart).")
    origins = app.config.get("EMBED_ALLOWED_ORIGINS") or []
    if isinstance(origins, str):
        origins = [o.strip() for o in origins.replace(",", " ").split() if o.strip()]
    app.config["EMBED_ALLOWED_ORIGINS"] = [o.rstrip("/") for o in origins]
    # Staff sessions ride on Flask's signed cookie: Secure whenever the site is served over https,
    # left off for http://127.0.0.1 so that local use still works.
    if str(app.config.get("PUBLIC_URL", "")).startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
    from proofmark.theme import problems as theme_problems

    found = theme_problems(app.config.get("SHOP_THEME") or {})
    if found:
        raise ConfigurationError("; ".join(found))
    from proofmark.templating import check_timezone

    problem = check_timezone(app)
    if problem:
        raise ConfigurationError(problem)
    if not app.config.get("ASSET_ROOT"):
        from proofmark_renderer.catalog import default_asset_root

        app.config["ASSET_ROOT"] = str(default_asset_root())
    app.config["ASSET_ROOT"] = str(Path(app.config["ASSET_ROOT"]).resolve())
