"""Which messages the code and templates use that a shipped language has no translation for.

    .venv/bin/python scripts/i18n_missing.py          # every language; exit status 1 if any is missing
    .venv/bin/python scripts/i18n_missing.py de fr    # only these

It extracts exactly what `pybabel extract` would (site/babel.cfg: every `_()`, `gettext()`,
`ngettext()` in site/**.py, site/templates/**.html and **.txt), adds the English label tables
that pages translate at display time (`_(label)`: statuses, claim kinds and outcomes, timeline
event labels, correction kinds, the default claim resolutions, email kinds), and lists, per language, each
message that is not in site/translations/<lang>/LC_MESSAGES/messages.po or has an empty or fuzzy
translation, with where it is used. It also lists msgids that appear twice in one .po file (two
branches appending the same message; `pybabel compile` refuses such a file).

Nothing is written: it is a check for merging branches that add strings.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
TRANSLATIONS = SITE / "translations"
LANGUAGES = ("de", "fr", "es", "nl")
METHODS = [("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2"), ("**.py", "python")]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
}


def used_messages() -> dict[tuple[str, str | None], list[str]]:
    """msgid -> ['site/x.py:12', ...] (for a plural, the singular is the key; its places are
    marked "(plural)")."""
    used: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for filename, lineno, message, _comments, context in extract_from_dir(
        SITE,
        method_map=METHODS,
        options_map={"templates/**.html": {"extensions": "jinja2.ext.do"}},
        keywords=KEYWORDS,
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            plural = " (plural)" if isinstance(message, tuple) else ""
            used[msgid, context].append(f"site/{filename}:{lineno}{plural}")
    for msgid, where in display_time_labels().items():
        used[msgid, None].append(where)
    return used


def display_time_labels() -> dict[str, str]:
    """English labels kept in tables (the evidence pack and the API use them in English) and
    translated where a staff page shows them."""
    from proofmark import claims, config, evidence, insights
    from proofmark.staff import search, views

    labels: dict[str, str] = {}
    for where, table in (
        ("proofmark.staff.search.STATUS_LABELS", search.STATUS_LABELS),
        ("proofmark.claims.CLAIM_KINDS", claims.CLAIM_KINDS),
        ("proofmark.claims.OUTCOMES", claims.OUTCOMES),
        ("proofmark.evidence.EVENT_LABELS", evidence.EVENT_LABELS),
        ("proofmark.insights.CORRECTION_KINDS", insights.CORRECTION_KINDS),
    ):
        for label in table.values():
            labels.setdefault(label, where)
    for label, _n in insights.Insights(period=None).decision_histogram():
        labels.setdefault(label, "proofmark.insights.Insights.decision_histogram")
    for item in config.DEFAULTS["CLAIM_RESOLUTIONS"]:
        labels.setdefault(str(item.get("label", item["id"])), "proofmark.config CLAIM_RESOLUTIONS")
    for key in views.SUMMARY_KEYS:  # the timeline's summary names (_macros.html)
        labels.setdefault(key.replace("_", " "), "proofmark.staff.views.SUMMARY_KEYS")
    for template in sorted((SITE / "templates" / "email").glob("[!_]*.txt")):  # the email log's kinds
        labels.setdefault(template.stem.replace("_", " "), "staff/proof.html email kinds")
    for label in ("pending", "sending", "sent", "failed"):  # the email log's statuses (outbox)
        labels.setdefault(label, "staff/proof.html email statuses")
    for label in ("Font", "Product", "Alignment"):  # views.revision_changes
        labels.setdefault(label, "proofmark.staff.views.revision_changes")
    return labels


def duplicates(po: Path) -> list[str]:
    text = po.read_text(encoding="utf-8")
    ids = []
    for match in re.finditer(r'^(?:msgctxt (".*")\n)?msgid ((?:".*"\n)+)', text, flags=re.M):
        msgid = "".join(re.findall(r'"(.*)"', match.group(2)))
        ids.append(f"{msgid} [context {match.group(1)}]" if match.group(1) else msgid)
    return [msgid for msgid, n in Counter(ids).items() if n > 1 and msgid]


def missing(lang: str, used: dict[tuple[str, str | None], list[str]]) -> list[tuple[str, list[str]]]:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    out = []
    for (msgid, context), where in sorted(used.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        entry = catalog.get(msgid, context=context)
        if context:
            msgid = f"{msgid} [context {context!r}]"
        strings = (
            () if entry is None else (entry.string if isinstance(entry.string, tuple) else (entry.string,))
        )
        if entry is None or entry.fuzzy or not all(strings):
            out.append((msgid, where))
            continue
        # gettext() of a msgid the catalog holds as a plural (or the reverse) finds nothing.
        wrong = [w for w in where if w.endswith("(plural)") != entry.pluralizable]
        if wrong:
            kind = "a plural" if entry.pluralizable else "a singular"
            out.append((f"{msgid} [the catalog has {kind}]", wrong))
    return out


def main(argv: list[str]) -> int:
    languages = tuple(argv) or LANGUAGES
    used = used_messages()
    problems = 0
    for lang in languages:
        po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
        for msgid in duplicates(po):
            problems += 1
            print(f"{lang}: msgid twice in {po.relative_to(ROOT)}: {msgid!r}")
        for msgid, where in missing(lang, used):
            problems += 1
            print(f"{lang}: no translation for {msgid!r} ({', '.join(where[:3])})")
    print(
        f"{problems} problem(s); {len(used)} messages used, languages: {', '.join(languages)}",
        file=sys.stderr,
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
