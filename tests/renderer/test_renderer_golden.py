"""Golden images: each product's first sample, plus Hebrew and Arabic, at 600 px, compared
with a tolerance.

On a mismatch (or a missing golden) the rendered image is saved beside the golden as
`<name>.actual.png`, so a person can compare the two; a passing run removes it again.

Regenerate after an intended change with `.venv/bin/python -m proofmark_renderer goldens`
(all of them, or name some: `... goldens mug-0.png`), or `UPDATE_GOLDENS=1 .venv/bin/pytest
tests/renderer`, and look at the changed PNGs before committing them.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from proofmark_renderer import render
from proofmark_renderer.sheets import GOLDEN_DIR, GOLDEN_WIDTH, GOLDENS


def actual_path(golden: Path) -> Path:
    return golden.with_name(golden.name.removesuffix(".png") + ".actual.png")


def differences(got_png: bytes, golden: Path) -> list[str]:
    """Why the rendered PNG does not match the golden; empty when it does."""
    got = np.asarray(Image.open(io.BytesIO(got_png)).convert("RGB"), np.int16)
    want = np.asarray(Image.open(golden).convert("RGB"), np.int16)
    if got.shape != want.shape:
        return [f"size {got.shape[1]}x{got.shape[0]}, golden {want.shape[1]}x{want.shape[0]}"]
    diff = np.abs(got - want)
    problems = []
    # Tolerates FreeType/Pillow rounding differences; fails on any visible change.
    if diff.mean() >= 1.0:
        problems.append(f"mean difference {diff.mean():.2f} (limit 1.0)")
    changed = (diff.max(axis=2) > 40).mean()
    if changed >= 0.002:
        problems.append(f"{changed:.2%} of pixels changed by more than 40 (limit 0.2%)")
    return problems


def check_golden(name: str, got_png: bytes, directory: Path = GOLDEN_DIR) -> None:
    golden = directory / name
    actual = actual_path(golden)
    regenerate = f"`.venv/bin/python -m proofmark_renderer goldens {name}`"
    if not golden.exists():
        actual.write_bytes(got_png)
        pytest.fail(
            f"golden {golden} is missing; the rendered image is at {actual}.\n"
            f"Look at it, then run {regenerate}."
        )
    problems = differences(got_png, golden)
    if problems:
        actual.write_bytes(got_png)
        pytest.fail(
            f"{name} differs from its golden: {'; '.join(problems)}\n"
            f"  golden:   {golden}\n"
            f"  rendered: {actual}\n"
            f"Compare the two; if the change is intended, run {regenerate}."
        )
    actual.unlink(missing_ok=True)  # left by an earlier failure


@pytest.mark.parametrize("name", list(GOLDENS), ids=[n.removesuffix(".png") for n in GOLDENS])
def test_render_matches_golden(name):
    result = render(GOLDENS[name], GOLDEN_WIDTH, "png")
    if os.environ.get("UPDATE_GOLDENS"):
        (GOLDEN_DIR / name).write_bytes(result.image)
    check_golden(name, result.image)


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def test_a_mismatch_leaves_the_rendered_image_beside_the_golden(tmp_path):
    Image.new("RGB", (40, 30), (200, 200, 200)).save(tmp_path / "x-0.png")
    changed = Image.new("RGB", (40, 30), (200, 200, 200))
    changed.paste((20, 20, 20), (0, 0, 20, 30))
    with pytest.raises(pytest.fail.Exception) as failure:
        check_golden("x-0.png", _png(changed), tmp_path)
    actual = tmp_path / "x-0.actual.png"
    assert actual.exists() and np.asarray(Image.open(actual))[0, 0].tolist() == [20, 20, 20]
    assert str(tmp_path / "x-0.png") in str(failure.value) and str(actual) in str(failure.value)

    # Once it matches again, the stale rendering goes.
    check_golden("x-0.png", (tmp_path / "x-0.png").read_bytes(), tmp_path)
    assert not actual.exists()


def test_a_missing_golden_leaves_the_rendered_image(tmp_path):
    with pytest.raises(pytest.fail.Exception) as failure:
        check_golden("y-0.png", _png(Image.new("RGB", (8, 8))), tmp_path)
    assert (tmp_path / "y-0.actual.png").exists()
    assert str(tmp_path / "y-0.actual.png") in str(failure.value)
    assert not (tmp_path / "y-0.png").exists()


def test_every_golden_is_tested_and_none_is_stray():
    on_disk = {p.name for p in GOLDEN_DIR.glob("*.png") if not p.name.endswith(".actual.png")}
    assert on_disk == set(GOLDENS)
