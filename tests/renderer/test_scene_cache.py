"""The scene cache (issue 16): one build per key across threads, a byte budget, the product
key, scenes kept on disk, and the proof PNG encoder."""

from __future__ import annotations

import dataclasses
import io
import threading

import numpy as np
import pytest
from PIL import Image

from proofmark_renderer import catalog, render, scene_cache, scenes
from proofmark_renderer.compose import encode_png
from proofmark_renderer.samples import SAMPLES


class Picture:
    def __init__(self, px: int) -> None:
        self.image = Image.new("RGB", (px, px))


def test_threads_missing_the_same_scene_build_it_once():
    cache = scene_cache.SceneCache(64 * 2**20)
    product = catalog.product("mug")
    release = threading.Event()
    calls = []

    def build(p, width):
        calls.append(width)
        release.wait(30)
        return Picture(10)

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get(product, 600, build))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    while cache.stats()["misses"] < 8:  # every thread has asked and found no scene
        threading.Event().wait(0.01)
    release.set()
    for t in threads:
        t.join()
    assert calls == [600]
    assert len(results) == 8 and all(r is results[0] for r in results)
    assert cache.get(product, 600, build) is results[0] and calls == [600]


def test_a_failed_build_reaches_every_waiter_and_is_not_cached():
    cache = scene_cache.SceneCache(64 * 2**20)
    product = catalog.product("mug")

    def broken(p, width):
        raise RuntimeError("no scene")

    with pytest.raises(RuntimeError):
        cache.get(product, 600, broken)
    assert cache.get(product, 600, lambda p, w: Picture(4)).image.size == (4, 4)


def test_the_budget_is_in_bytes_least_recently_used_first():
    one = 100 * 100 * 3
    cache = scene_cache.SceneCache(3 * one)
    product = catalog.product("mug")
    for width in (1, 2, 3):
        cache.get(product, width, lambda p, w: Picture(100))
    cache.get(product, 1, lambda p, w: Picture(100))  # used again: kept
    cache.get(product, 4, lambda p, w: Picture(100))
    assert [w for _, w in cache.entries()] == [3, 1, 4]
    assert cache.stats()["bytes"] == 3 * one and cache.stats()["evictions"] == 1


def test_product_cache_key_changes_with_the_product():
    mug = catalog.product("mug")
    key = scene_cache.product_cache_key(mug)
    assert key.startswith("mug@") and key == scene_cache.product_cache_key(catalog.product("mug"))
    taller = dataclasses.replace(mug, height_mm=mug.height_mm + 1)
    assert scene_cache.product_cache_key(taller) not in (key, None)
    assert scene_cache.product_cache_key(taller).startswith("mug@")


def test_a_scene_loaded_from_disk_draws_the_same_picture(tmp_path):
    product = catalog.product("bar-necklace")
    design = SAMPLES["bar-necklace"][0]
    before_dir = scene_cache.CACHE.store_dir
    try:
        scene_cache.CACHE.store_dir = tmp_path
        scene_cache.CACHE.clear()
        built = render(design, 640).image
        assert any(tmp_path.glob(f"bar-necklace-*-640-{scene_cache.CODE_DIGEST}.pickle"))
        scene_cache.CACHE.clear()
        loads = scene_cache.CACHE.stats()["loaded_from_disk"]
        assert render(design, 640).image == built
        assert scene_cache.CACHE.stats()["loaded_from_disk"] == loads + 1
        assert scenes.scene(product, 640).image.size == (640, 480)
    finally:
        scene_cache.CACHE.store_dir = before_dir


def test_a_damaged_stored_scene_is_rebuilt(tmp_path):
    product = catalog.product("mug")
    before_dir = scene_cache.CACHE.store_dir
    try:
        scene_cache.CACHE.store_dir = tmp_path
        scene_cache.CACHE.clear()
        scenes.scene(product, 320)
        (stored,) = tmp_path.glob("mug-*-320-*.pickle")
        stored.write_bytes(b"not a scene")
        scene_cache.CACHE.clear()
        builds = scene_cache.CACHE.stats()["builds"]
        assert scenes.scene(product, 320).image.size == (320, 240)
        assert scene_cache.CACHE.stats()["builds"] == builds + 1
    finally:
        scene_cache.CACHE.store_dir = before_dir


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "LA"])
def test_proof_png_is_lossless(mode):
    noise = Image.effect_noise((97, 61), 80)
    im = Image.merge("RGB", (noise, noise.rotate(90), noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    im = im.convert(mode)
    back = Image.open(io.BytesIO(encode_png(im)))
    back.load()
    assert back.format == "PNG" and back.size == im.size
    assert np.array_equal(np.asarray(back), np.asarray(im.convert(back.mode)))


def test_the_proof_picture_is_kept_on_request_and_matches_the_png():
    design = SAMPLES["mug"][0]
    result = render(design, 400, "png", keep_picture=True)
    assert render(design, 400, "png").picture is None
    decoded = Image.open(io.BytesIO(result.image))
    assert np.array_equal(np.asarray(decoded), np.asarray(result.picture))
