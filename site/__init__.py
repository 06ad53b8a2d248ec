"""Proofmark: the Flask app.

`flask --app site ...` and `gunicorn 'site:create_app()'` find this package even though
the standard library has a module of the same name: see scripts/proofmark_sitefix.py.
"""
from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

# Nothing heavy is imported at module level: any `import site` in this virtualenv
# (pip asking for `site.getsitepackages()`, say) lands here; see __getattr__.


class ConfigurationError(RuntimeError):
    pass


def create_app(test_config: dict | None = None) -> Flask:
    from flask import Flask

    from site.config import DEFAULTS

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

    from renderer import catalog

    fonts = catalog.configure(app.instance_path)
    for problem in fonts.problems:
        app.logger.warning("font catalog: %s", problem)

    from site import assets, cli, db, errors, health, security

    if app.config.get("TRUSTED_PROXIES"):
        # Behind N reverse proxies, the recorded IP (evidence) must be the client's, not the proxy's.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    cli.init_app(app)
    security.init_app(app)
    errors.init_app(app)  # before any blueprint: it sets the `int` URL converter
    app.register_blueprint(assets.bp)
    app.register_blueprint(health.bp)
    _register_audiences(app)
    return app


def _register_audiences(app: Flask) -> None:
    """One blueprint per audience (shop, embed, approve, staff, api)."""
    import importlib

    for name in ("shop", "embed", "orders", "approve", "staff", "api", "devtools"):
        try:
            module = importlib.import_module(f"site.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"site.{name}":
                raise
            continue
        module.init_app(app) if hasattr(module, "init_app") else app.register_blueprint(module.bp)


def _check_config(app: Flask) -> None:
    production = not (app.debug or app.testing or app.config.get("DEMO"))
    # `init-instance` is how a key comes to exist, so it must be able to load the app.
    creating_key = "init-instance" in sys.argv[1:]
    if not app.config.get("SECRET_KEY"):
        if production and not creating_key:
            raise ConfigurationError(
                "Proofmark refuses to start in production mode without a SECRET_KEY. "
                f"Run `flask --app site init-instance` to generate one into {app.instance_path}/config.py, "
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


def __getattr__(name: str):
    # Keep the shadowed standard-library `site` usable for tools that call it.
    stdlib_site = sys.modules.get("_stdlib_site")
    if stdlib_site is not None and hasattr(stdlib_site, name):
        return getattr(stdlib_site, name)
    raise AttributeError(f"module 'site' has no attribute {name!r}")
