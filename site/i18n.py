"""The shopper's language (Flask-Babel): which one a request is served in, dates written out in
it, and the returns disclosure in it.

The language is, in this order: the shop's own setting (SHOP_LANGUAGE, for a shop that sells in
one language), the `lang` query argument (the embed's `data-lang`; every personalizer URL carries
it on), the browser's Accept-Language, English. Staff pages use the shop's language only.
Only the query string is read here, never a form body: error pages (413, 422) pick a language
too, and must not read the body that was refused.

Catalogs: site/translations/<lang>/LC_MESSAGES/messages.po, compiled to .mo by scripts/setup.sh
and by the wheel build (setup.py); README "Languages" says how to add a string.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_skeleton
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, get_locale, get_translations, gettext, ngettext
from markupsafe import Markup

LANGUAGES = ("en", "de", "fr", "es", "nl")
NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español", "nl": "Nederlands"}
# British English for dates ("3 April 2025"), as the English pages always wrote them.
_DATE_LOCALE = {"en": "en_GB"}
_STAFF_BLUEPRINTS = ("staff",)


def supported(value: str | None) -> str | None:
    """'de', 'de-AT', 'DE_at' -> 'de'; anything else -> None."""
    if not value or not isinstance(value, str):
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None


def shop_language() -> str:
    return supported(current_app.config.get("SHOP_LANGUAGE")) or "en"


def requested_language() -> str | None:
    """The `lang` query argument, when it names a shipped language."""
    return supported(request.args.get("lang")) if has_request_context() else None


def select_locale() -> str:
    if not has_request_context():
        return shop_language()
    if (request.blueprint or "").split(".")[0] in _STAFF_BLUEPRINTS or request.path.startswith("/staff"):
        return shop_language()
    fixed = supported(current_app.config.get("SHOP_LANGUAGE"))
    if fixed:
        return fixed
    asked = requested_language()
    if asked:
        return asked
    # The language the customer confirmed their design in (set by the approval pages).
    recorded = supported(g.get("proofmark_language"))
    if recorded:
        return recorded
    return request.accept_languages.best_match(LANGUAGES) or "en"


def current_language() -> str:
    locale = get_locale()
    return supported(str(locale)) if locale else "en"


def carried_language() -> dict[str, str]:
    """Query arguments that keep the asked-for language on the next page (empty when the
    language comes from the shop or the browser, which the next page sees again)."""
    asked = requested_language()
    return {"lang": asked} if asked and not supported(current_app.config.get("SHOP_LANGUAGE")) else {}


def date_words(iso: str, fallback: str = "") -> str:
    """'2025-04-03' -> 'Thursday 3 April 2025' / 'Donnerstag, 3. April 2025' / 'jeudi 3 avril 2025';
    '--04-03' (no year) -> '3 April' / '3. April' / '3 avril'."""
    lang = current_language()
    if lang == "en" and fallback:
        return fallback  # the English words the pages have always shown
    locale = _DATE_LOCALE.get(lang, lang)
    try:
        if iso.startswith("--"):
            day = dt.date(2000, int(iso[2:4]), int(iso[5:7]))
            return format_skeleton("MMMMd", day, locale=locale)
        return format_date(dt.date.fromisoformat(iso), format="full", locale=locale)
    except (ValueError, TypeError):
        return fallback or iso


def disclosure(lang: str | None = None) -> dict[str, str]:
    """The returns disclosure in a language: {"language", "version", "text"}. Shop configuration
    (DISCLOSURES: {lang: {"version", "text"}}); English, or a language the shop has not
    written one for, falls back to DISCLOSURE_TEXT / DISCLOSURE_VERSION, and says so by its
    `language` (the text is recorded with the language it was shown in)."""
    lang = lang or current_language()
    config = current_app.config
    entry = (config.get("DISCLOSURES") or {}).get(lang)
    if lang != "en" and isinstance(entry, dict) and entry.get("text"):
        return {"language": lang, "version": str(entry.get("version") or ""), "text": str(entry["text"])}
    return {
        "language": "en",
        "version": str(config["DISCLOSURE_VERSION"]),
        "text": str(config["DISCLOSURE_TEXT"]),
    }


def _translations():
    """flask_babel.get_translations(), looked up once per request and locale: a page calls
    gettext a dozen or more times, and each of Flask-Babel's own lookups goes through the
    request's domain, locale and translation cache again (about 15 us each here). A changed
    locale (force_locale, refresh) is a different Locale object, so it is looked up anew."""
    if not has_request_context():
        return get_translations()
    locale = get_locale()
    cached = g.get("_proofmark_translations")
    if cached is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    g._proofmark_translations = (locale, translations)
    return translations


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    # The templates' _() and friends, as Flask-Babel installs them, over _translations().
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["language_names"] = NAMES
    # A name or order number kept in its own direction inside a translated sentence (emails).
    app.jinja_env.globals["bdi"] = lambda value: Markup("<bdi>{}</bdi>").format(value)
    app.jinja_env.filters["date_words"] = date_words
    app.jinja_env.filters["long_date"] = long_date  # replaces the English-only one
    app.jinja_env.globals["carried_language"] = carried_language
    register_filters(app)
    from proofmark import catalog_text

    catalog_text.init_app(app)


# --- the renderer's messages, translated where they are shown ------------------------------
# proofmark_renderer stays pure (no Flask, no catalogs): its Issue carries a stable code and
# machine-readable data, and these build the shopper's sentence from them in the page's
# language. A code not listed here is shown as the renderer wrote it (in English).


def _where(issue, product=None) -> str:
    if issue.line:
        return gettext("Line %(number)d", number=issue.line)
    if issue.field and product is not None:
        from proofmark.catalog_text import field_label

        return gettext("The text “%(label)s”", label=field_label(product, issue.field))
    return gettext("This text")


def _quoted(value) -> str:
    from proofmark_renderer.quoting import quote

    return quote(str(value), 40)


def _chars(issue) -> str:
    from proofmark_renderer.validation import _char_label

    return _char_label(list(issue.data["chars"]))


def _font_name(font_id: str) -> str:
    from proofmark_renderer import catalog

    font = catalog.font(font_id)
    return font.name if font else font_id


# Every code the renderer can give (tests/test_renderer_messages.py reads the renderer's
# source for them and fails on a code missing here or a message without a translation).
# Each builder takes the Issue and the product (None when not known).
_ISSUES = {
    "space-leading": lambda i, p: gettext(
        "%(where)s starts with a space. Is that intended?", where=_where(i, p)
    ),
    "space-trailing": lambda i, p: gettext(
        "%(where)s ends with a space. Is that intended?", where=_where(i, p)
    ),
    "space-doubled": lambda i, p: gettext(
        "%(where)s has two spaces in a row; they will show as a wider gap. Is that intended?",
        where=_where(i, p),
    ),
    "too-many-characters": lambda i, p: gettext(
        "%(where)s has %(count)d characters; this item takes at most %(max)d.",
        where=_where(i, p),
        count=int(i.data["count"]),
        max=int(i.data["max"]),
    ),
    "internal-error": lambda i, p: (
        gettext("The design could not be checked; please try again.")
        if i.message.startswith("The design could not be checked")
        else gettext("The preview could not be drawn; please try again.")
    ),
    "date-ambiguous": lambda i, p: _date_ambiguous(i, p),
    "date-invalid": lambda i, p: gettext(
        "%(where)s: “%(date)s” is not a real date in either day/month order. Please check it.",
        where=_where(i, p),
        date=i.data["text"],
    ),
    "capitals-unusual": lambda i, p: gettext(
        "%(where)s: “%(word)s” has unusual capital letters. It will be made exactly as typed; "
        "please check it is what you want.",
        where=_where(i, p),
        word=i.data["word"],
    ),
    "spelling-check": lambda i, p: gettext(
        "%(where)s: “%(word)s” repeats the letter “%(letter)s” %(count)d times. Please check the "
        "spelling; it will be made exactly as typed.",
        where=_where(i, p),
        word=i.data["word"],
        letter=i.data["letters"][0],
        count=len(i.data["letters"]),
    ),
    "too-wide": lambda i, p: gettext(
        "%(where)s is %(percent)s%% too wide at the smallest legible size. Shorten it or choose a narrower font.",
        where=_where(i, p),
        percent=i.data["percent"],
    ),
    "too-tall": lambda i, p: gettext(
        "The text is %(percent)s%% too tall even at the smallest legible size. Use fewer lines.",
        percent=i.data["percent"],
    ),
    "glyph-missing": lambda i, p: gettext(
        "This font cannot draw %(chars)s (%(where)s).", chars=" ".join(i.data["chars"]), where=_where(i, p)
    ),
    "char-unsupported": lambda i, p: gettext(
        "%(where)s contains characters that cannot be made: %(chars)s. Remove them (each line goes in its "
        "own box).",
        where=_where(i, p),
        chars=_chars(i),
    ),
    "emoji-unsupported": lambda i, p: gettext(
        "%(where)s contains emoji (%(chars)s), which this item cannot reproduce with its finish.",
        where=_where(i, p),
        chars=" ".join(i.data["chars"]),
    ),
    "raqm-missing": lambda i, p: gettext(
        "This server cannot shape text correctly, so the preview would be wrong for kerning, ligatures, "
        "Hebrew and Arabic. Please contact the shop."
    ),
    "product-unknown": lambda i, p: gettext(
        "There is no product %(product)s.", product=_quoted(i.data["product"])
    ),
    "variant-unknown": lambda i, p: gettext(
        "This item does not come as %(variant)s.", variant=_quoted(i.data["variant"])
    ),
    "view-unknown": lambda i, p: gettext("This item has no view %(number)s.", number=i.data["view"] + 1),
    "align-unknown": lambda i, p: gettext(
        "The alignment must be left, centre or right, not %(align)s.", align=_quoted(i.data["align"])
    ),
    "size-mode-unknown": lambda i, p: gettext(
        "The size setting must be automatic or smallest, not %(mode)s.", mode=_quoted(i.data["size_mode"])
    ),
    "font-unknown": lambda i, p: gettext("There is no font %(font)s.", font=_quoted(i.data["font"])),
    "font-not-allowed": lambda i, p: gettext(
        "The font %(font)s is not offered for this item.", font=_font_name(i.data["font"])
    ),
    "text-empty": lambda i, p: gettext("Type the text to be made."),
    "too-many-lines": lambda i, p: ngettext(
        "This item takes at most %(num)d line; this design has %(count)d.",
        "This item takes at most %(num)d lines; this design has %(count)d.",
        int(i.data["max"]),
        count=int(i.data["count"]),
    ),
    "field-unknown": lambda i, p: gettext(
        "This item has no field %(field)s.", field=_quoted(i.data["field"])
    ),
    "format-unknown": lambda i, p: gettext(
        "Unknown image format %(format)s; sending JPEG.", format=_quoted(i.data["format"])
    ),
    "width-out-of-range": lambda i, p: gettext(
        "The width %(width)s is outside the widths we draw; drawn at the nearest.",
        width=_quoted(i.data["width"]),
    ),
}


def _date_ambiguous(issue, product=None) -> str:
    from proofmark.personalizer.letters import numeric_dates

    (mention,) = [m for m in numeric_dates(issue.data["text"]) if m.text == issue.data["text"]][:1]
    first, second = mention.readings[0], mention.readings[1]
    return gettext(
        "%(where)s: “%(date)s” can be read as %(first)s or as %(second)s. Which one do you mean? "
        "Writing the month as a word avoids any doubt.",
        where=_where(issue, product),
        date=issue.data["text"],
        first=date_words(first.iso, first.words),
        second=date_words(second.iso, second.words),
    )


def issue_message(issue, product=None) -> str:
    """The renderer's Issue in the page's language (English: the renderer's own sentence).
    `product` (a Product or its id) names a field by its label."""
    if current_language() == "en":
        return issue.message
    build = _ISSUES.get(issue.code)
    if build is None:
        return issue.message
    if isinstance(product, str):
        from proofmark_renderer import catalog

        product = catalog.product(product)
    try:
        return build(issue, product)
    except (KeyError, TypeError, ValueError, IndexError):
        return issue.message


def letter_note(cell) -> str:
    """What a screen reader says for one letter cell: spaces and invisible characters named in
    the page's language (the Unicode name stays as it is)."""
    if cell.kind == "space":
        return gettext("space") if cell.text == " " else gettext("space (%(name)s)", name=cell.name)
    if cell.kind == "invisible":
        return gettext("invisible character (%(name)s)", name=cell.name)
    return cell.text


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["issue_message"] = issue_message
    app.jinja_env.filters["letter_note"] = letter_note


def shop_timezone() -> ZoneInfo | None:
    """SHOP_TIMEZONE as a zone, or None for UTC (the default)."""
    name = str(current_app.config.get("SHOP_TIMEZONE") or "UTC")
    if name.upper() in ("UTC", "Z", "ETC/UTC"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None  # create_app refuses an unknown name (proofmark.templating.check_timezone)


def long_date(value: str | None) -> str:
    """A stored UTC timestamp written out in the page's language and the shop's time zone
    (SHOP_TIMEZONE), the zone named: 'Thursday 5 November 2026 at 14:03 UTC', 'Donnerstag,
    5. November 2026 um 15:03 (Mitteleuropäische Normalzeit)'. The stored value is not changed."""
    from babel.dates import format_datetime

    if not value:
        return ""
    try:
        moment = dt.datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return value
    lang = current_language()
    zone = shop_timezone()
    if zone is None:
        if lang == "en":  # as proofmark.templating.long_date has always written it
            return f"{moment.strftime('%A')} {moment.day} {moment.strftime('%B %Y at %H:%M')} UTC"
        day = format_date(moment.date(), format="full", locale=lang)
        time = format_datetime(moment, "HH:mm", tzinfo=dt.UTC, locale=lang)
        return gettext("%(day)s at %(time)s UTC", day=day, time=time)
    local = moment.astimezone(zone)
    locale = _DATE_LOCALE.get(lang, lang)
    day = format_date(local.date(), format="full", locale=locale)
    time = format_datetime(moment, "HH:mm", tzinfo=zone, locale=locale)
    name = format_datetime(moment, "zzzz", tzinfo=zone, locale=locale)
    return gettext("%(day)s at %(time)s (%(zone)s)", day=day, time=time, zone=name)
