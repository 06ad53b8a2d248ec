"""The records search: order reference, customer, personalized text (any revision), with
filters, newest first, keyset-paginated.

Terms of three or more characters go through the trigram FTS5 index `proof_search`
(substring matches, case-insensitive); shorter terms fall back to LIKE. Every term also
matches the start of a word in `proof_search_folded` (accents and case folded: "muller"
finds "Müller", "zoe" finds "Zoë"), and a term shaped like a public id ("P-8HCQV69N",
"p8hcqv69n") finds that proof by its id.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlite_utils
from flask_babel import gettext

STATUSES = ("awaiting_approval", "approved", "changes_requested", "expired", "cancelled")
STATUS_LABELS = {
    "awaiting_approval": "Awaiting approval",
    "approved": "Approved",
    "changes_requested": "Changes requested",
    "expired": "Expired",
    "cancelled": "Cancelled",
}
PAGE_SIZE = 25
COUNT_CAP = 10_000
SQLITE_MAX_INT = 2**63 - 1  # a larger id in a cursor cannot be bound as a parameter


@dataclass
class SearchQuery:
    q: str = ""
    status: str = ""
    product: str = ""
    date_from: date | None = None
    date_to: date | None = None
    after: str = ""  # opaque cursor: the last row of the previous page
    limit: int = PAGE_SIZE
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args, products: list[str]) -> SearchQuery:
        # Control characters cannot be in any record (they are refused on the way in), and a
        # NUL cuts an FTS5 query string short ("unterminated string"): drop them.
        q = "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in args.get("q") or "")
        query = cls(q=q.strip()[:200])
        errors = query.errors
        status = args.get("status") or ""
        if status and status not in STATUSES:
            errors.append(gettext("Unknown status %(value)r.", value=status))
        else:
            query.status = status
        product = args.get("product") or ""
        if product and product not in products:
            errors.append(gettext("Unknown product %(value)r.", value=product))
        else:
            query.product = product
        for name in ("date_from", "date_to"):
            raw = (args.get(name) or "").strip()
            if raw:
                try:
                    setattr(query, name, date.fromisoformat(raw))
                except ValueError:
                    errors.append(
                        gettext("From date %(value)r is not a date (use YYYY-MM-DD).", value=raw)
                        if name == "date_from"
                        else gettext("To date %(value)r is not a date (use YYYY-MM-DD).", value=raw)
                    )
        if query.date_from and query.date_to and query.date_from > query.date_to:
            errors.append(gettext("The From date is after the To date."))
        after = args.get("after") or ""
        if after and _decode_cursor(after) is None:
            errors.append(gettext("That page link is no longer valid; showing the newest proofs."))
        else:
            query.after = after
        return query

    def args(self, **changes) -> dict:
        values = {
            "q": self.q,
            "status": self.status,
            "product": self.product,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v}

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.status or self.product or self.date_from or self.date_to)


@dataclass
class ResultPage:
    rows: list[dict]
    next_cursor: str | None
    total: int
    total_capped: bool


def _encode_cursor(created_at: str, proof_id: int) -> str:
    return base64.urlsafe_b64encode(f"{created_at}|{proof_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, _, proof_id = raw.rpartition("|")
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z?", created_at):
            return None
        proof_id = int(proof_id)
        if not 0 < proof_id <= SQLITE_MAX_INT:
            return None
        return created_at, proof_id
    except (ValueError, UnicodeDecodeError):
        return None


def terms(q: str) -> list[str]:
    """Words of the query; a quoted "two words" stays one term."""
    return [a or b for a, b in re.findall(r'"([^"]+)"|(\S+)', q) if (a or b).strip()]


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# The alphabet of public ids (proofs.service): no 0/O, 1/I/L, U.
PUBLIC_ID = re.compile(r"(?:P[-\s]?)?([23456789ABCDEFGHJKMNPQRSTVWXYZ]{8})", re.IGNORECASE)


def public_id(term: str) -> str | None:
    """The public id a term names ("P-8HCQV69N", "p8hcqv69n", "8HCQV69N"), or None."""
    found = PUBLIC_ID.fullmatch(term.strip())
    return "P-" + found.group(1).upper() if found else None


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _folded_match(term: str) -> str | None:
    """A prefix query on the accent-folded word index, or None when the term has no word
    characters (unicode61 would find no token in it)."""
    words = re.findall(r"\w+", term)
    if not words or "@" in term:  # an email address is found whole by the trigram index
        return None
    return " ".join(_fts_phrase(w) + "*" for w in words)


def _term_ids(term: str, params: list) -> str:
    """A SELECT of the ids of proofs a term of three or more characters finds: substring
    (trigram), accent-folded word prefix, or public id."""
    selects = ["SELECT rowid FROM proof_search WHERE proof_search MATCH ?"]
    params.append(_fts_phrase(term))
    folded = _folded_match(term)
    if folded:
        selects.append("SELECT rowid FROM proof_search_folded WHERE proof_search_folded MATCH ?")
        params.append(folded)
    pid = public_id(term)
    if pid:
        selects.append("SELECT id FROM proofs WHERE public_id = ?")
        params.append(pid)
    return " UNION ".join(selects)


def _where(query: SearchQuery) -> tuple[list[str], list]:
    where: list[str] = []
    params: list = []
    long_terms = [t for t in terms(query.q) if len(t) >= 3]
    short_terms = [t for t in terms(query.q) if len(t) < 3]
    found = [_term_ids(term, params) for term in long_terms]
    if found:
        # One list of ids for the whole query (every term must match), so the planner reads
        # the matches and sorts them instead of testing each proof against each term.
        where.append("p.id IN (" + " INTERSECT ".join(f"SELECT * FROM ({sql})" for sql in found) + ")")
    for term in short_terms:
        # One or two characters: a row filter while reading newest first (it stops at the
        # page), or the start of a word with accents folded ("zo" finds "Zoë").
        condition = (
            "(p.order_ref LIKE ? ESCAPE '\\' OR p.customer_name LIKE ? ESCAPE '\\'"
            " OR p.customer_email LIKE ? ESCAPE '\\' OR p.text LIKE ? ESCAPE '\\'"
        )
        params += [_like(term)] * 4
        folded = _folded_match(term)
        if folded:
            condition += (
                " OR p.id IN (SELECT rowid FROM proof_search_folded WHERE proof_search_folded MATCH ?)"
            )
            params.append(folded)
        where.append(condition + ")")
    if query.status:
        where.append("p.status = ?")
        params.append(query.status)
    if query.product:
        where.append("p.product = ?")
        params.append(query.product)
    if query.date_from:
        where.append("p.created_at >= ?")
        params.append(query.date_from.isoformat())
    if query.date_to:
        where.append("p.created_at < ?")
        # 9999-12-31 has no next day; "T99" sorts after every timestamp on it.
        params.append(
            (query.date_to + timedelta(days=1)).isoformat() if query.date_to < date.max else "9999-12-31T99"
        )
    return where, params


def search(db: sqlite_utils.Database, query: SearchQuery) -> ResultPage:
    where, params = _where(query)
    count_sql = (
        "SELECT count(*) FROM (SELECT 1 FROM proofs p"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" LIMIT {COUNT_CAP + 1})"
    )
    total = db.execute(count_sql, params).fetchone()[0]
    cursor = _decode_cursor(query.after) if query.after else None
    if cursor:
        where = [*where, "(p.created_at < ? OR (p.created_at = ? AND p.id < ?))"]
        params = [*params, cursor[0], cursor[0], cursor[1]]
    sql = (
        "SELECT p.id, p.public_id, p.order_ref, p.customer_name, p.customer_email, p.product, p.font,"
        " p.text, p.status, p.current_revision, p.source, p.created_at, p.updated_at, p.decided_at"
        " FROM proofs p"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY p.created_at DESC, p.id DESC LIMIT ?"
    )
    rows = [dict(r) for r in db.execute(sql, [*params, query.limit + 1])]
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        next_cursor = _encode_cursor(rows[-1]["created_at"], rows[-1]["id"])
    return ResultPage(
        rows=rows, next_cursor=next_cursor, total=min(total, COUNT_CAP), total_capped=total > COUNT_CAP
    )
