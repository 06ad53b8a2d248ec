"""The shop's look, from settings (SHOP_THEME) without code: colours, the font of the page chrome,
the buttons' corners and a logo, as CSS custom properties on every page (the personalizer, its
embed, the approval pages) and as inline styles and an inline logo in the emails.

SHOP_THEME = {"accent": "#0b5", "ink": "#111", "background": "#fff", "font": "Georgia, serif",
"button_radius": "0px", "logo": "logo.png"}; every key optional. The logo is a PNG, JPEG or
SVG file in the instance folder (no address on another host: the pages load nothing from
elsewhere). A value that is not a plain colour, font list or length is refused at start-up.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, send_file
from markupsafe import Markup

bp = Blueprint("theme", __name__)

COLOUR = re.compile(r"^(#[0-9a-fA-F]{3,8}|rgba?\([0-9., %]+\)|hsla?\([0-9., %deg]+\)|[a-zA-Z]{3,20})$")
FONT = re.compile(r"^[a-zA-Z0-9 ,\"'-]{1,120}$")
LENGTH = re.compile(r"^[0-9]{1,3}(\.[0-9]+)?(px|rem|em)$")
LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}

# setting -> (CSS custom property, pattern)
PROPERTIES = {
    "accent": ("--accent", COLOUR),
    "ink": ("--ink", COLOUR),
    "background": ("--bg", COLOUR),
    "font": ("--chrome-font", FONT),
    "button_radius": ("--button-radius", LENGTH),
}


def problems(theme: dict) -> list[str]:
    found = []
    if not isinstance(theme, dict):
        return ["SHOP_THEME must be a mapping of settings"]
    for key, value in theme.items():
        if key == "logo":
            if value and Path(str(value)).suffix.lower() not in LOGO_TYPES:
                found.append(
                    f"SHOP_THEME logo {value!r} must be a .png, .jpg or .svg file in the instance folder"
                )
            continue
        if key not in PROPERTIES:
            found.append(f"SHOP_THEME has no setting {key!r} (known: {', '.join([*PROPERTIES, 'logo'])})")
        elif value and not PROPERTIES[key][1].match(str(value)):
            found.append(f"SHOP_THEME {key} {value!r} is not a plain CSS value")
    return found


def settings() -> dict:
    return dict(current_app.config.get("SHOP_THEME") or {})


def css_variables() -> Markup:
    """`:root { --accent: ...; }` for the page's <style>, from the checked settings."""
    theme = settings()
    parts = [
        f"{prop}: {theme[key]};"
        for key, (prop, pattern) in PROPERTIES.items()
        if theme.get(key) and pattern.match(str(theme[key]))
    ]
    return Markup(":root { " + " ".join(parts) + " }") if parts else Markup("")


def logo_path() -> Path | None:
    name = settings().get("logo")
    if not name:
        return None
    root = Path(current_app.instance_path).resolve()
    path = (root / str(name)).resolve()
    if root not in path.parents or path.suffix.lower() not in LOGO_TYPES or not path.is_file():
        return None
    return path


def logo_image() -> tuple[bytes, str] | None:
    """The logo's bytes and MIME subtype, for an email's inline image."""
    path = logo_path()
    if path is None:
        return None
    return path.read_bytes(), LOGO_TYPES[path.suffix.lower()].split("/")[1]


def email_colours() -> dict:
    """The shop's colours for the emails' inline styles (only those that are set)."""
    theme = settings()
    return {
        key: str(theme[key])
        for key in ("accent", "ink", "background")
        if theme.get(key) and COLOUR.match(str(theme[key]))
    }


@bp.get("/shop-logo")
def logo():
    path = logo_path()
    if path is None:
        abort(404)
    mimetype = LOGO_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    return send_file(path, mimetype=mimetype, max_age=300)


def init_app(app: Flask) -> None:
    # SHOP_THEME itself is checked at start-up by create_app (`problems`).
    app.jinja_env.globals["theme_css"] = css_variables
    app.jinja_env.globals["shop_logo"] = lambda: logo_path() is not None
    app.register_blueprint(bp)
