"""What every template may call: the letter-by-letter helpers, preview URLs, dates."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app
from markupsafe import Markup, escape

from proofmark import orders
from proofmark.personalizer import letters, previews
from proofmark.personalizer.state import view_label


def long_date(value: str | None) -> str:
    """'2026-11-05T14:03:11.123456Z' -> 'Thursday 5 November 2026 at 14:03 UTC'."""
    if not value:
        return ""
    try:
        moment = datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return value
    return f"{moment.strftime('%A')} {moment.day} {moment.strftime('%B %Y at %H:%M')} UTC"


def shop_zone(name: str | None = None) -> ZoneInfo:
    """The shop's time zone (SHOP_TIMEZONE); an unknown name is refused at start-up."""
    return ZoneInfo(name or current_app.config.get("SHOP_TIMEZONE") or "UTC")


def local_time(value: str | None, *, zone: ZoneInfo | None = None) -> Markup:
    """A stored UTC timestamp as staff read it: in the shop's time zone, readably, with the
    exact UTC time on hover (and in the `datetime` attribute)."""
    if not value:
        return Markup("")
    try:
        moment = datetime.strptime(
            value.rstrip("Z")[:26], "%Y-%m-%dT%H:%M:%S.%f" if "." in value else "%Y-%m-%dT%H:%M:%S"
        )
    except ValueError:
        return Markup(escape(value))
    moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone or shop_zone())
    shown = f"{local.strftime('%a')} {local.day} {local.strftime('%b %Y, %H:%M')} {local.tzname()}"
    lang = _page_language()
    if lang != "en":  # the staff page's language (the shop's): 'Mo., 5. Nov. 2026, 14:03 CET'
        from babel.dates import format_skeleton

        shown = f"{format_skeleton('yMMMEd', local, locale=lang)}, {local.strftime('%H:%M')} {local.tzname()}"
    exact = moment.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(value, exact, shown)


def _page_language() -> str:
    from flask import has_request_context
    from flask_babel import get_locale

    locale = get_locale() if has_request_context() else None
    return locale.language if locale else "en"


def check_timezone(app: Flask) -> str | None:
    """A problem with SHOP_TIMEZONE, or None."""
    try:
        ZoneInfo(app.config.get("SHOP_TIMEZONE") or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        return f"SHOP_TIMEZONE {app.config.get('SHOP_TIMEZONE')!r} is not a time zone name ({exc})."
    return None


def init_app(app: Flask) -> None:
    app.jinja_env.globals["local_time"] = local_time
    app.jinja_env.globals.update(letters.jinja_globals())
    app.jinja_env.globals["preview_url"] = previews.preview_url
    app.jinja_env.globals["view_label"] = view_label
    app.jinja_env.globals["shop_orders_open"] = orders.orders_open
    app.jinja_env.filters["long_date"] = long_date
