"""What every template may call: the letter-by-letter helpers, preview URLs, dates."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from proofmark import orders
from proofmark.personalizer import letters, previews


def long_date(value: str | None) -> str:
    """'2026-11-05T14:03:11.123456Z' -> 'Thursday 5 November 2026 at 14:03 UTC'."""
    if not value:
        return ""
    try:
        moment = datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return value
    return f"{moment.strftime('%A')} {moment.day} {moment.strftime('%B %Y at %H:%M')} UTC"


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(letters.jinja_globals())
    app.jinja_env.globals["preview_url"] = previews.preview_url
    app.jinja_env.globals["shop_orders_open"] = orders.orders_open
    app.jinja_env.filters["long_date"] = long_date
