"""The scene cache: every (product version, width) the site draws, built once, kept within a
memory budget.

A scene (the product's studio picture without text, plus its lighting maps) is built once per
product version and output width and then shared by every render at that width. Building
one takes 0.1-1.5 s; using it a few milliseconds. So:

- the key is `product_cache_key(product)` (the product's id plus a hash of everything that
  shapes its picture) and the width: a changed product is a new key, never a stale picture.
  Photo-based or versioned products (issue 10) adopt the same function;
- single flight: threads missing the same key wait for the one build instead of each
  building it (a burst of first requests after a start costs one build, not eight);
- the budget is in bytes (`SCENE_CACHE_MB`, default 448 MB, env `PROOFMARK_SCENE_CACHE_MB`),
  measured from the scene's pixel buffers and maps; least recently used scenes go first.
  Every product at the widths the site serves (600, 900, 1000, 1600, 2400 px) fits;
- built scenes are also kept on disk (`configure(store_dir=...)`; the site uses
  `instance/scenes/`), named by key, width and a digest of the renderer's own source code:
  the second worker, and every restart, loads a scene in milliseconds instead of building
  it for seconds, and a changed drawing is a new file, never a stale picture. The files are
  written and read only by this process's own code (pickle), like the database next to them;
- after a build the C allocator is asked to give freed memory back to the system
  (`malloc_trim`, glibc only): building a scene allocates several times the scene's own size
  in temporaries, which glibc otherwise keeps, and a worker's RSS grew past 1 GB that way.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import hashlib
import json
import os
import pickle
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

DEFAULT_BUDGET_MB = 448


def product_cache_key(product) -> str:
    """The one key under which anything derived from a product's picture is cached:
    `<id>@<12 hex digits>`, the digest covering every field of the product (its view, size,
    finish, substrate, region, version or photo reference if it has one). Any change to the
    product gives a new key."""
    cached = _keys.get(id(product))
    if cached is not None and cached[0] is product:
        return cached[1]
    if dataclasses.is_dataclass(product):
        fields = dataclasses.asdict(product)
    else:  # a product type of another kind: its public attributes
        fields = {k: v for k, v in vars(product).items() if not k.startswith("_")}
    blob = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)
    key = f"{product.id}@{hashlib.sha256(blob.encode()).hexdigest()[:12]}"
    if len(_keys) > 4096:
        _keys.clear()
    _keys[id(product)] = (product, key)
    return key


_keys: dict[int, tuple[object, str]] = {}


def _code_digest() -> str:
    """A digest of the renderer's source: a scene stored by another version of the drawing
    code is never loaded."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if "production" in path.parts:
            continue
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


CODE_DIGEST = _code_digest()


def scene_bytes(scene) -> int:
    """Memory a scene holds: its picture, its precomputed layers and maps, its warps' arrays."""
    total = _image_bytes(scene.image)
    total += sum(_image_bytes(im) for im in getattr(scene, "layers", {}).values())
    total += sum(int(getattr(a, "nbytes", 0)) for a in getattr(scene, "maps", {}).values())
    for surf in getattr(scene, "surfaces", {}).values():
        warp = getattr(surf, "warp", None)
        if warp is not None:
            for value in vars(warp).values():
                if isinstance(value, np.ndarray):
                    total += value.nbytes
    return total


def _image_bytes(image) -> int:
    try:
        return image.width * image.height * len(image.getbands())
    except AttributeError:
        return 0


_libc = None


def trim_allocator() -> bool:
    """Give the C heap's free memory back to the system (glibc's malloc_trim). False where
    there is no glibc."""
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        try:
            lib = ctypes.CDLL(name) if name else None
            _libc = lib if lib is not None and hasattr(lib, "malloc_trim") else False
        except OSError:
            _libc = False
    if not _libc:
        return False
    _libc.malloc_trim(0)
    return True


# Allocations of at least this many bytes get their own mapping, returned to the system when
# freed. glibc raises its threshold (up to 32 MB) each time such a block is freed, after which a
# proof's 13 MB picture and its encoder's buffers come from the heap and stay in the worker's
# RSS; a fixed threshold stops that (bench-memory: see README).
MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


def tune_allocator() -> bool:
    """Fix glibc's mmap threshold (MMAP_THRESHOLD) unless MALLOC_MMAP_THRESHOLD_ is set.
    False where there is no glibc."""
    trim_allocator()
    if not _libc or not hasattr(_libc, "mallopt"):
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return True
    return bool(_libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


class _Flight:
    __slots__ = ("done", "scene", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.scene = None
        self.error: BaseException | None = None


class SceneCache:
    """LRU within a byte budget, with one build per key at a time."""

    def __init__(self, budget_bytes: int, store_dir: Path | None = None) -> None:
        self.budget = budget_bytes
        self.store_dir = store_dir
        self.loads = 0
        self._lock = threading.Lock()
        self._scenes: OrderedDict[tuple[str, int], tuple[object, int]] = OrderedDict()
        self._flights: dict[tuple[str, int], _Flight] = {}
        self.bytes = 0
        self.hits = self.misses = self.builds = self.evictions = 0
        self.build_seconds = 0.0

    def get(self, product, width: int, build: Callable[[object, int], object]):
        key = (product_cache_key(product), int(width))
        with self._lock:
            hit = self._scenes.get(key)
            if hit is not None:
                self._scenes.move_to_end(key)
                self.hits += 1
                return hit[0]
            self.misses += 1
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.scene
        try:
            t0 = time.perf_counter()
            built = self._load(key)
            fresh = built is None
            if fresh:
                built = build(product, width)
                self._store(key, built)
            elapsed = time.perf_counter() - t0
            size = scene_bytes(built)
            with self._lock:
                if fresh:
                    self.builds += 1
                    self.build_seconds += elapsed
                else:
                    self.loads += 1
                self._scenes[key] = (built, size)
                self.bytes += size
                evicted = 0
                while self.bytes > self.budget and len(self._scenes) > 1:
                    _, (_, freed) = self._scenes.popitem(last=False)
                    self.bytes -= freed
                    evicted += 1
                self.evictions += evicted
            flight.scene = built
            if fresh or evicted:
                # A build's temporaries, or a dropped scene: hand the freed heap back.
                trim_allocator()
            return built
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()

    def _path(self, key: tuple[str, int]) -> Path | None:
        if self.store_dir is None:
            return None
        name = f"{key[0].replace('@', '-')}-{key[1]}-{CODE_DIGEST}.pickle"
        return self.store_dir / name

    def _load(self, key: tuple[str, int]):
        path = self._path(key)
        if path is None:
            return None
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 - a damaged or old file is rebuilt, never fatal
            return None

    def _store(self, key: tuple[str, int], scene) -> None:
        path = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
            with open(tmp, "wb") as fh:
                pickle.dump(scene, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError:
            return

    def clear(self) -> None:
        with self._lock:
            self._scenes.clear()
            self.bytes = 0
        trim_allocator()

    def stats(self) -> dict:
        with self._lock:
            return {
                "scenes": len(self._scenes),
                "bytes": self.bytes,
                "budget_bytes": self.budget,
                "hits": self.hits,
                "misses": self.misses,
                "builds": self.builds,
                "loaded_from_disk": self.loads,
                "evictions": self.evictions,
                "build_seconds": round(self.build_seconds, 3),
            }

    def entries(self) -> list[tuple[str, int]]:
        with self._lock:
            return list(self._scenes)


def _budget_from_env() -> int:
    try:
        mb = float(os.environ.get("PROOFMARK_SCENE_CACHE_MB", DEFAULT_BUDGET_MB))
    except ValueError:
        mb = DEFAULT_BUDGET_MB
    return int(max(mb, 1) * 1024 * 1024)


CACHE = SceneCache(_budget_from_env())


def configure(budget_mb: float | None = None, store_dir: str | Path | None = None) -> None:
    """Set the budget (the site passes SCENE_CACHE_MB; scenes past it are dropped at the next
    build) and the folder where built scenes are kept (the site passes instance/scenes).
    Also fixes the allocator's mmap threshold (tune_allocator)."""
    tune_allocator()
    if budget_mb is not None:
        CACHE.budget = int(max(budget_mb, 1) * 1024 * 1024)
    if store_dir is not None:
        CACHE.store_dir = Path(store_dir)


def prepare(products: Iterable, widths: Iterable[int], scene: Callable[[object, int], object]) -> dict:
    """Build every product's scene at every width now (at a worker's start), largest width
    last. Returns what it took."""
    t0 = time.perf_counter()
    products = list(products)
    count = 0
    for width in sorted(set(int(w) for w in widths)):
        for product in products:
            scene(product, width)
            count += 1
    return {"scenes": count, "seconds": round(time.perf_counter() - t0, 2), **CACHE.stats()}
