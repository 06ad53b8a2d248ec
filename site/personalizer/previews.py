"""Preview images at content-addressed URLs: rendered once, cached, served with a long
`Cache-Control` and the content key as ETag.

The URL carries its own design (`/preview/<content_key>.jpg?w=1000&d=<base64url JSON>`),
so any worker can render it without shared state, and the key in the path must match the
design, width and format in the query: an address always shows the same picture.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import json
import os
import queue
import re
import threading
import urllib.parse
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, request, url_for

from proofmark.accesslog import LOGGED_PATH, redact
from proofmark_renderer import Design, render

bp = Blueprint("previews", __name__)

FORMATS = {"jpg": "jpeg", "webp": "webp", "png": "png"}
EXTENSIONS = {v: k for k, v in FORMATS.items()}
CONTENT_TYPES = {"jpeg": "image/jpeg", "webp": "image/webp", "png": "image/png"}
# A fixed set of widths keeps the cache from being filled with every size a caller can invent.
WIDTHS = (600, 1000, 1200, 1600)
MAX_DESIGN_PARAM = 4096  # characters of base64url; real designs are a few hundred
IMMUTABLE = "public, max-age=31536000, immutable"


class PreviewAddressError(ValueError):
    """A preview URL that does not describe a design; `str()` says why in plain words."""


# --- the design in the URL --------------------------------------------------------------


def encode_design(design: Design) -> str:
    raw = design.canonical_json().encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_design(param: str) -> Design:
    if not param:
        raise PreviewAddressError("The preview address has no design in it.")
    if len(param) > MAX_DESIGN_PARAM:
        raise PreviewAddressError("The design in the preview address is too long.")
    try:
        raw = base64.urlsafe_b64decode(param + "=" * (-len(param) % 4))
        data = json.loads(raw.decode())
        if not isinstance(data, dict):
            raise ValueError("not an object")
        design = Design.from_dict(data)
        # JSON may spell a lone surrogate (\ud800), which no key or image can be made from;
        # encoding raises UnicodeEncodeError (a ValueError) for it here.
        design.canonical_json().encode()
        return design
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, AttributeError) as exc:
        raise PreviewAddressError("The design in the preview address cannot be read.") from exc


def preview_url(
    design: Design,
    width: int,
    fmt: str = "jpeg",
    external: bool = False,
    area: bool = False,
    view: int = 0,
) -> str:
    """`area` adds `area=1`: the same preview with the personalization areas outlined (its
    own content key, so it is cached apart from the plain picture); `view` adds `v=<n>`, the
    product's view n (0, the first, is the proof's and carries no argument)."""
    key = design.content_key(width, fmt, area, view)
    extra = {"area": "1"} if area else {}
    if view:
        extra["v"] = str(int(view))
    return url_for(
        "previews.image",
        key=key,
        ext=EXTENSIONS[fmt],
        w=width,
        d=encode_design(design),
        _external=external,
        **extra,
    )


def view_of(args) -> int | None:
    """The product view a preview address asks for (`v`, default 0), or None if unreadable."""
    raw = args.get("v") or "0"
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 3 else None


def wants_area(args) -> bool:
    """Whether a query (or form) asks for the areas outlined: exactly `area=1`."""
    return args.get("area") == "1"


# --- cache ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    key: str
    data: bytes
    content_type: str


@dataclass(frozen=True)
class Answer:
    """A whole HTTP answer for one preview address, ready to send: what the server adapter
    (proofmark.serving) sends for a repeated request without a thread, Flask or parsing."""

    path: str
    query: str  # the query string (WSGI form) this answer was checked against (the design gives the key)
    headers: tuple[tuple[bytes, bytes], ...]  # ASGI form, Content-Type and Content-Length included
    body: bytes  # the cached image itself, not a copy
    logged: str  # the path and query as the access log shows them (design redacted)
    str_headers: list[tuple[str, str]] = field(default_factory=list)  # the same, RSGI form (str pairs)


class _MemoryCache:
    """Most recently used previews, bounded in bytes (per worker process), each with the
    ready answers for the addresses it was served at."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, Image] = OrderedDict()
        self._answers: dict[str, Answer] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Image | None:
        with self._lock:
            image = self._items.get(key)
            if image is not None:
                self._items.move_to_end(key)
            return image

    def answer(self, key: str) -> Answer | None:
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._items.move_to_end(key)
            return answer

    def remember(self, key: str, answer: Answer) -> None:
        """Keep a ready answer while its image is cached (one address per image: the last)."""
        with self._lock:
            if key in self._items:
                self._answers[key] = answer

    def put(self, image: Image, limit: int) -> None:
        with self._lock:
            if image.key in self._items:
                return
            self._items[image.key] = image
            self._bytes += len(image.data)
            while self._bytes > limit and self._items:
                old_key, old = self._items.popitem(last=False)
                self._answers.pop(old_key, None)
                self._bytes -= len(old.data)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._answers.clear()
            self._bytes = 0


_memory = _MemoryCache()
# One render per key at a time: the page's <img> and a prefetch asking for the same new
# design should not both pay for it.
_key_locks: dict[str, threading.Lock] = {}
_key_locks_guard = threading.Lock()
_writes = 0
PRUNE_EVERY = 200


def cache_dir() -> Path:
    return _cache_root(current_app)


def _cache_root(app: Flask) -> Path:
    return Path(app.instance_path) / app.config["IMAGE_DIR"] / "previews"


def _disk_file(root: Path | str, key: str, ext: str) -> str:
    """The file of a cached preview (a str: pathlib's joins cost more than this whole lookup)."""
    return f"{root}/{key[:2]}/{key}.{ext}"


def _read_file(path: str) -> bytes | None:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return None


_made_dirs: set[str] = set()


def _write_disk(app: Flask, root: Path | str, key: str, ext: str, data: bytes) -> None:
    """Write one preview into the disk cache: a temporary file renamed into place, so a
    reader (this worker's fast path or another's) sees the whole image or nothing."""
    global _writes
    path = _disk_file(root, key, ext)
    folder = path.rpartition("/")[0]
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        if folder not in _made_dirs:
            os.makedirs(folder, exist_ok=True)
            _made_dirs.add(folder)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        # A full or read-only disk costs a re-render later, not a broken preview now.
        app.logger.warning("preview cache: cannot write %s: %s", path, exc)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return
    _writes += 1
    if _writes % PRUNE_EVERY == 0:
        _prune(Path(root), app.config["PREVIEW_DISK_CACHE_MB"] * 1024 * 1024)


class _DiskWriter:
    """Writes rendered previews to the disk cache on one background thread, so the request
    that rendered a preview answers without waiting on file I/O (which also holds the GIL
    in short turns that the other threads' renders then wait for). The memory cache already
    holds the image, so this worker serves it meanwhile; another worker that misses it
    renders it once more at worst. A full queue is written inline (back-pressure)."""

    def __init__(self, depth: int = 256) -> None:
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    def submit(self, app: Flask, root: Path | str, key: str, ext: str, data: bytes) -> None:
        self._start()
        try:
            self.queue.put_nowait((app, root, key, ext, data))
        except queue.Full:
            _write_disk(app, root, key, ext, data)

    def flush(self) -> None:
        """Wait until every submitted preview is on disk."""
        if self._thread is not None:
            self.queue.join()

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._guard:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="preview-disk-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            try:
                _write_disk(*item)
            except Exception:  # noqa: BLE001 - a lost cache write costs a re-render, never the thread
                pass
            finally:
                self.queue.task_done()


_disk_writer = _DiskWriter()


def flush_disk_writes() -> None:
    _disk_writer.flush()


def prune(max_bytes: int) -> tuple[int, int]:
    """Delete the least recently written previews until the cache fits; (files, bytes) removed."""
    flush_disk_writes()
    return _prune(cache_dir(), max_bytes)


def _prune(root: Path, max_bytes: int) -> tuple[int, int]:
    if not root.is_dir():
        return 0, 0
    entries = []
    total = 0
    for path in root.glob("*/*.*"):
        try:
            st = path.stat()
        except OSError:
            continue
        entries.append((st.st_mtime, st.st_size, path))
        total += st.st_size
    removed = freed = 0
    for _, size, path in sorted(entries):
        if total <= max_bytes:
            break
        try:
            path.unlink()
        except OSError:
            continue
        total -= size
        removed += 1
        freed += size
    return removed, freed


def get_image(design: Design, width: int, fmt: str, area: bool = False, view: int = 0) -> Image:
    """The preview for a design: from memory, from disk, or rendered now (and cached)."""
    app = current_app._get_current_object()
    return _image(
        app,
        _cache_root(app),
        app.config["PREVIEW_MEMORY_CACHE_MB"] * 1024 * 1024,
        design.content_key(width, fmt, area, view),
        design,
        width,
        fmt,
        area,
        view,
    )


def _image(
    app: Flask,
    root: Path | str,
    limit: int,
    key: str,
    design: Design,
    width: int,
    fmt: str,
    area: bool,
    view: int,
    *,
    disk_read: bool = True,
) -> Image:
    """`get_image` for a key already computed from the design (the fast path has checked it),
    with the cache's place and size given rather than looked up in the app context.
    `disk_read=False`: the caller has just missed the disk cache, so a miss in memory
    renders without reading it again."""
    image = _memory.get(key)
    if image is not None:
        return image
    ext = EXTENSIONS[fmt]
    with _key_locks_guard:
        lock = _key_locks.setdefault(key, threading.Lock())
    try:
        with lock:
            image = _memory.get(key)
            if image is not None:
                return image
            data = _read_file(_disk_file(root, key, ext)) if disk_read else None
            if data is None:
                data = render(design, width=width, fmt=fmt, area=area, view=view).image
                _disk_writer.submit(app, root, key, ext, data)
            image = Image(key, data, CONTENT_TYPES[fmt])
            _memory.put(image, limit)
            return image
    finally:
        with _key_locks_guard:
            if not lock.locked():
                _key_locks.pop(key, None)


def clear_memory_cache() -> None:
    _memory.clear()


# --- the route ----------------------------------------------------------------------------


def allowed_widths(config=None) -> tuple[int, ...]:
    config = current_app.config if config is None else config
    return tuple(sorted({*WIDTHS, config["PREVIEW_WIDTH"], config["CONFIRM_PREVIEW_WIDTH"]}))


def _not_a_preview(message: str, status: int = 400) -> Response:
    response = Response(message + "\n", status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/preview/<key>.<ext>")
def image(key: str, ext: str):
    fmt = FORMATS.get(ext)
    if fmt is None:
        abort(404)
    etag = f'"{key}"'
    # The key names the content, so a client that has it needs nothing more.
    if etag in request.headers.get("If-None-Match", "") and _looks_like_key(key):
        response = Response(status=304)
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = IMMUTABLE
        return response
    try:
        width = int(request.args.get("w", ""))
    except ValueError:
        return _not_a_preview("The preview address needs a width (w).")
    if width not in allowed_widths():
        return _not_a_preview(f"Previews come in these widths: {', '.join(map(str, allowed_widths()))}.")
    try:
        design = decode_design(request.args.get("d", ""))
    except PreviewAddressError as exc:
        return _not_a_preview(str(exc))
    area = wants_area(request.args)
    view = view_of(request.args)
    if view is None:
        return _not_a_preview("The view in the preview address (v) must be a small whole number.")
    if design.content_key(width, fmt, area, view) != key:
        return _not_a_preview(
            "This preview address does not match its design: the key, the width, the format or "
            "the design was changed (or the renderer was updated; reload the page)."
        )
    img = get_image(design, width, fmt, area, view)
    if not img.data:
        return _not_a_preview("This design cannot be drawn.", status=422)
    response = Response(img.data, mimetype=img.content_type)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = IMMUTABLE
    return response


_KEY = re.compile(r"[0-9a-f]{16,64}")


def _looks_like_key(key: str) -> bool:
    return _KEY.fullmatch(key) is not None


# --- the fast path ------------------------------------------------------------------------


class CachedPreviewFastPath:
    """WSGI shortcut for the most frequent request of all: a preview this worker already
    holds in memory, or a browser revalidating one (304).

    A typing shopper's browser asks for each image once, but pages that show a design
    again (the confirmation step, the cart, a shop's thumbnail) ask for the same URLs over
    and over; answering those without Flask's routing, request context and hooks is most
    of the cost. The answer carries the same headers as the last full answer Flask gave
    for a preview (security headers included: they are learned, not repeated here), and
    the same checks: the design in the URL must still produce the key in the path. A
    preview another worker rendered is read from the shared disk cache.
    Everything else goes to Flask unchanged.

    Each checked 200 answer is also kept whole (`Answer`, with the cached image) so that
    `loop_answer` can send the next request for the same address straight from the server
    adapter's event loop: no thread, no WSGI environ, no query parsing.
    """

    _SKIP = frozenset({"content-length", "content-type", "etag", "date", "set-cookie"})

    def __init__(self, wsgi_app, cache_root: Path, memory_limit: int, app: Flask | None = None) -> None:
        self.wsgi_app = wsgi_app
        self.app = app  # given: a checked address not yet rendered is rendered here too
        self.cache_root = cache_root  # the disk cache, shared with the other workers
        self.memory_limit = memory_limit
        self.headers: list[tuple[str, str]] | None = None
        self._headers_304: tuple[tuple[bytes, bytes], ...] = ()
        self._str_headers_304: list[tuple[str, str]] = []

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/preview/") or environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi_app(environ, start_response)
        if self.headers is not None:
            answer = self._answer(path, environ)
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers)
                return [body]

        def learn(status, headers, exc_info=None):
            if status.startswith("200") and any(k.lower() == "etag" for k, _ in headers):
                self.headers = [(k, v) for k, v in headers if k.lower() not in self._SKIP]
                self._headers_304 = _asgi_headers(self.headers)
                self._str_headers_304 = [(k.lower(), v) for k, v in self.headers]
                self._remember(path, environ.get("QUERY_STRING", ""), headers)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, learn)

    def _answer(self, path: str, environ) -> tuple[str, list, bytes] | None:
        name = path[len("/preview/") :]
        key, _, ext = name.partition(".")
        fmt = FORMATS.get(ext)
        if fmt is None or not _looks_like_key(key):
            return None
        etag = f'"{key}"'
        if etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            return "304 NOT MODIFIED", [*self.headers, ("ETag", etag), ("Cache-Control", IMMUTABLE)], b""
        query = environ.get("QUERY_STRING", "")
        checked = _checked(key, fmt, query)
        if checked is None:
            return None  # Flask says what is wrong with it
        image = _memory.get(key)
        if image is None:
            # Rendered by another worker: it is on disk.
            data = _read_file(_disk_file(self.cache_root, key, ext))
            if data is not None:
                image = Image(key, data, CONTENT_TYPES[fmt])
                _memory.put(image, self.memory_limit)
            else:
                image = self._render(environ, key, fmt, *checked)
                if image is None:
                    return None
        headers, answer = self._ready(path, query, image)
        # The access log (proofmark.accesslog) writes the address as redacted here already.
        environ[LOGGED_PATH] = answer.logged
        return "200 OK", headers, image.data

    def _render(
        self, environ, key: str, fmt: str, design: Design, width: int, area: bool, view: int
    ) -> Image | None:
        """A checked address never rendered (neither in memory nor on disk): render it here,
        without Flask's request context and hooks (about 0.4-0.8 ms CPU of a 7-10 ms
        preview), after the same checks the site makes on every request (query length; demo
        mode serves loopback only) and the route's own (a width the site serves). None:
        Flask answers it (and says what is wrong)."""
        if self.app is None:
            return None
        config = self.app.config
        if len(environ.get("QUERY_STRING", "")) > int(config["MAX_QUERY_STRING_BYTES"]):
            return None
        if config.get("DEMO") and not _loopback(environ.get("REMOTE_ADDR")):
            return None
        if width not in allowed_widths(config):
            return None
        try:
            image = _image(
                self.app,
                self.cache_root,
                self.memory_limit,
                key,
                design,
                width,
                fmt,
                area,
                view,
                disk_read=False,
            )
        except Exception:  # noqa: BLE001 - Flask renders it again and answers the error properly
            return None
        return image if image.data else None

    def _remember(self, path: str, query: str, headers: list[tuple[str, str]]) -> None:
        """Keep the checked 200 answer Flask gave (while its image is in memory) for `loop_answer`."""
        key = path[len("/preview/") :].partition(".")[0]
        image = _memory.get(key)
        if image is None or not _looks_like_key(key):
            return
        answer = Answer(
            path=path,
            query=query,
            headers=_asgi_headers(headers),
            body=image.data,
            logged=redact(path, query),
            str_headers=[(k.lower(), v) for k, v in headers],
        )
        _memory.remember(key, answer)

    def _ready(self, path: str, query: str, image: Image) -> tuple[list[tuple[str, str]], Answer]:
        """The headers of a checked 200 answer of this fast path (the learned ones, then the
        image's own) and that answer kept whole for `loop_answer` (while its image is in
        memory). The learned part is encoded once, when learned, not per answer."""
        etag = f'"{image.key}"'
        length = str(len(image.data))
        own = (
            ("etag", etag),
            ("cache-control", IMMUTABLE),
            ("content-type", image.content_type),
            ("content-length", length),
        )
        headers = [
            *self.headers,
            ("ETag", etag),
            ("Cache-Control", IMMUTABLE),
            ("Content-Type", image.content_type),
            ("Content-Length", length),
        ]
        answer = Answer(
            path=path,
            query=query,
            headers=(*self._headers_304, *((k.encode("latin-1"), v.encode("latin-1")) for k, v in own)),
            body=image.data,
            logged=redact(path, query),
            str_headers=[*self._str_headers_304, *own],
        )
        _memory.remember(image.key, answer)
        return headers, answer

    def loop_answer(self, path: str, query: str, if_none_match: str | None) -> tuple[int, Answer] | None:
        """(200 or 304, the ready answer) for a GET of `path` with `query` (WSGI form: the
        raw bytes as latin-1): a preview address this worker has answered before, or a
        revalidation of any preview. None for everything else, which goes on to a thread and
        the WSGI app. The server adapter (proofmark.serving, ASGI or RSGI) calls it on the
        event loop, so it does only dictionary lookups and string comparisons (plus, once per
        address, the checks of `_stored`)."""
        if not path.startswith("/preview/") or not self._headers_304:
            return None
        key, _, ext = path[9:].partition(".")
        if ext not in FORMATS:
            return None
        answer = _memory.answer(key)
        if if_none_match is not None:
            if _looks_like_key(key) and f'"{key}"' in if_none_match:
                etag = f'"{key}"'
                logged = answer.logged if answer is not None and answer.query == query else None
                return 304, Answer(
                    path=path,
                    query=query,
                    headers=(
                        *self._headers_304,
                        (b"etag", etag.encode()),
                        (b"cache-control", IMMUTABLE.encode()),
                    ),
                    body=b"",
                    logged=logged or redact(path, query),
                    str_headers=[*self._str_headers_304, ("etag", etag), ("cache-control", IMMUTABLE)],
                )
            return None
        if answer is None or answer.query != query or answer.path != path:
            answer = self._stored(path, key, ext, query)
            if answer is None:
                return None
        return 200, answer

    def _stored(self, path: str, key: str, ext: str, query: str) -> Answer | None:
        """The answer for a preview held in memory under another address, or rendered by
        another worker (read from the shared disk cache: one small file, in the page cache),
        once the address is checked (about 0.1 ms); None when it is neither (to be rendered)."""
        if len(query) > 2 * MAX_DESIGN_PARAM or not _looks_like_key(key):
            return None
        fmt = FORMATS[ext]
        image = _memory.get(key)
        data = None
        if image is None:
            data = _read_file(_disk_file(self.cache_root, key, ext))
            if data is None:
                return None
        if _checked(key, fmt, query) is None:
            return None
        if image is None:
            image = Image(key, data, CONTENT_TYPES[fmt])
            _memory.put(image, self.memory_limit)
        return self._ready(path, query, image)[1]


def _checked(key: str, fmt: str, query_string: str) -> tuple[Design, int, bool, int] | None:
    """(design, width, area, view) when the address's query gives this content key."""
    query = urllib.parse.parse_qs(query_string)
    try:
        width = int(query.get("w", [""])[0])
        design = decode_design(query.get("d", [""])[0])
    except (ValueError, PreviewAddressError):
        return None
    area = query.get("area", [""])[0] == "1"
    view = view_of({"v": query.get("v", [""])[0]})
    if view is None or design.content_key(width, fmt, area, view) != key:
        return None
    return design, width, area, view


def _loopback(address: str | None) -> bool:
    if address in _LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


_LOOPBACK = frozenset({"127.0.0.1", "::1"})


def _asgi_headers(headers: list[tuple[str, str]]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers)


STAFF_EDITOR_WIDTH = 900  # proofmark.staff.editing.PREVIEW_WIDTH (the staff design editor)


def scene_widths(app: Flask) -> tuple[int, ...]:
    """Every width the site draws a product at: the preview widths, the staff editor's and
    the proof image's. The scene cache is prepared for all of them at a worker's start."""
    config = app.config
    return tuple(
        sorted(
            {
                *WIDTHS,
                STAFF_EDITOR_WIDTH,
                int(config["PREVIEW_WIDTH"]),
                int(config["CONFIRM_PREVIEW_WIDTH"]),
                int(config["PROOF_IMAGE_WIDTH"]),
            }
        )
    )


def prepare_scenes(app: Flask, *, first: tuple[int, ...] = (), background: bool = True):
    """Build (or load from instance/scenes) every product's scene at every width the site
    serves: the `first` widths now, the rest (and the glyph cache's fonts) on a background thread (a request needing a
    scene still being built waits for that one build; it never starts a second). Returns
    the thread, or None when all was done now."""
    from proofmark_renderer import catalog as renderer_catalog
    from proofmark_renderer import glyphs, scene_cache, scenes

    # Each product as shoppers first see it: in its default variant (its own scene).
    products = [p.with_variant(p.default_variant) for p in renderer_catalog.products()]
    scene_cache.prepare(products, first, scenes.scene)
    rest = [w for w in scene_widths(app) if w not in first]

    def work() -> None:
        # The glyph cache's fonts too: rewriting a font's character map takes up to 130 ms.
        glyphs.prepare(renderer_catalog.fonts())
        info = scene_cache.prepare(products, rest, scenes.scene)
        app.logger.info("scene cache prepared: %s", info)

    if not background:
        work()
        return None
    thread = threading.Thread(target=work, name="scene-prepare", daemon=True)
    thread.start()
    return thread


def init_app(app: Flask) -> None:
    """Put the fast path in front of the app (previews already rendered skip Flask) and
    size the scene cache (SCENE_CACHE_MB; built scenes kept in instance/scenes)."""
    from proofmark_renderer import scene_cache

    scene_cache.configure(
        app.config["SCENE_CACHE_MB"],
        Path(app.instance_path) / "scenes" if app.config["SCENE_STORE"] else None,
    )
    app.wsgi_app = CachedPreviewFastPath(
        app.wsgi_app,
        cache_root=Path(app.instance_path) / app.config["IMAGE_DIR"] / "previews",
        memory_limit=app.config["PREVIEW_MEMORY_CACHE_MB"] * 1024 * 1024,
        app=app,
    )
