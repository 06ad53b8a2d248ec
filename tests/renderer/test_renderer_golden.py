"""Golden images: each product's sample designs at 600 px, compared with a tolerance.

Regenerate after an intended change with `.venv/bin/python -m proofmark_renderer goldens`
(or `UPDATE_GOLDENS=1 .venv/bin/pytest tests/renderer`) and look at the changed PNGs
before committing them.
"""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

from proofmark_renderer import render
from proofmark_renderer.samples import SAMPLES
from proofmark_renderer.sheets import GOLDEN_DIR, GOLDEN_WIDTH, golden_name

# The first sample of each product: one golden per product and finish keeps the repo light.
CASES = [(pid, 0) for pid in SAMPLES]


@pytest.mark.parametrize(("product_id", "index"), CASES, ids=[f"{p}-{i}" for p, i in CASES])
def test_render_matches_golden(product_id, index):
    result = render(SAMPLES[product_id][index], GOLDEN_WIDTH, "png")
    path = GOLDEN_DIR / golden_name(product_id, index)
    if os.environ.get("UPDATE_GOLDENS"):
        path.write_bytes(result.image)
    if not path.exists():
        pytest.fail(f"{path} is missing: run `.venv/bin/python -m proofmark_renderer goldens` and look at it")
    got = np.asarray(Image.open(io.BytesIO(result.image)).convert("RGB"), np.int16)
    want = np.asarray(Image.open(path).convert("RGB"), np.int16)
    assert got.shape == want.shape
    diff = np.abs(got - want)
    # Tolerates FreeType/Pillow rounding differences; fails on any visible change.
    assert diff.mean() < 1.0, f"mean difference {diff.mean():.2f}"
    assert (diff.max(axis=2) > 40).mean() < 0.002, "too many pixels changed"
